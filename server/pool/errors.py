"""The pool service's refusals, and the error of a log that does not replay.

docs/pool-service.md says which page status and command exit each one
gives.
"""

from __future__ import annotations

from verifiable.errors import MutualogError

__all__ = ["PoolInputError", "PoolRefusedError", "PoolUnavailableError", "VoteRefusedError"]


class PoolUnavailableError(Exception):
    """The stored log does not replay (a rule broken, an entry unreadable):
    the pool cannot serve its state.

    Outside :class:`~verifiable.errors.MutualogError` on purpose: callers
    catch that tree as a refusal of what was asked (409, exit 2), and this
    is no refusal but a pool that cannot serve at all.  The service knows
    no HTTP: the error handlers (:mod:`server.errors`,
    :mod:`server.web_errors`) answer it 503 ``unavailable``."""


class PoolRefusedError(MutualogError):
    """An operation the pool refuses before anything is appended or stored;
    the message is for the person who asked."""


class PoolInputError(PoolRefusedError):
    """A refusal of the input itself, whatever the pool's state: a field
    the log cannot hold, an amount out of range, a reason that would
    publish personal data, a rule change that does not parse."""


class VoteRefusedError(PoolRefusedError):
    """A vote refused; ``reason`` is one of ``not_juror``, ``already_voted``,
    ``window_closed``, ``wrong_round``, ``unknown_claim``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
