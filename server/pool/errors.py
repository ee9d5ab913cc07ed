"""The pool service's refusals, and the error of a log that does not replay.

docs/pool-service.md says which page status and command exit each one
gives.  Each refusal carries, beside its English message (which the
``pool`` commands print), a stable ``code`` from :data:`CODES` and the
``params`` its sentence names, so that a page can say it in the
visitor's language (:mod:`server.presenters.refusals`) without the service
knowing any.
"""

from __future__ import annotations

from collections.abc import Mapping

from verifiable.errors import MutualogError

__all__ = [
    "CODES",
    "PoolInputError",
    "PoolRefusedError",
    "PoolUnavailableError",
    "VoteRefusedError",
]

#: Every refusal's code and the names of its parameters.  A refusal
#: raised without a code (``""``) is shown in its English words.
CODES: Mapping[str, tuple[str, ...]] = {
    # claims
    "claim.unknown": ("claim",),
    "claim.member_only": (),
    "claim.age": ("age",),
    "notice.not_filed": ("claim", "stage"),
    "notice.waiting_period": ("claim",),
    "notice.amount_range": ("cap", "amount"),
    "notice.redacted_missing": ("claim", "documents"),
    "redacted.not_filed": ("claim", "stage"),
    "redacted.number": ("claim", "count", "number"),
    "redacted.erased": ("claim", "number"),
    "answer.not_objection": ("seq", "claim"),
    "answer.already": ("seq",),
    "ineligible.not_filed": ("claim", "stage"),
    "ineligible.covered": ("claim", "stage"),
    "draw.wrong_stage": ("claim", "stage"),
    "draw.unanswered": ("claim", "seqs"),
    "draw.too_early": ("claim", "until"),
    "draw.awaiting_witnesses": ("claim",),
    "pay.not_approved": ("claim", "stage"),
    # input the log cannot hold, in the words of the field's check
    "input.malformed": ("detail",),
    # a text holding a private identifier (server/log_texts.py, PrivateDataError)
    "text.private_id_number": ("field", "position"),
    "text.private_phone": ("field", "position"),
    "text.private_name": ("field", "position"),
    "text.private_member_id_number": ("field", "position"),
    "text.private_member_phone": ("field", "position"),
    # members and erasures
    "join.band_closed": ("band",),
    "join.age": ("age",),
    "member.not_active": ("member",),
    "member.unknown": ("member",),
    "erase.member_none": ("member",),
    "erase.member_done": ("member", "seq"),
    "erase.evidence_none": ("claim",),
    "erase.evidence_done": ("claim", "seq"),
    "erase.reason_shape": ("most", "detail"),
    "erase.reason_personal": (),
    # the pool's course
    "pool.started": (),
    "period.none_due": (),
    "period.closed_none_due": ("period",),
    "period.already_closed": ("period", "next"),
    "period.not_next": ("period", "next"),
    "rules.no_zone": (),
    "rules.not_future": ("effective", "now"),
    "rules.not_after_latest": ("effective", "latest"),
    "rules.no_change": (),
    "rules.not_object": ("label",),
    "rules.bad_effective": ("value",),
    "override.repeated": ("seq",),
    "override.not_allowed": ("action", "allowed"),
    # votes
    "vote.unknown_claim": ("claim",),
    "vote.not_juror": ("claim",),
    "vote.wrong_round": ("claim", "current", "round"),
    "vote.already_voted": ("claim", "round"),
    "vote.window_closed": ("claim", "until"),
    "close.not_voting": ("claim",),
    "close.too_early": ("claim", "until"),
}


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
    the message is for the person who asked, ``code`` (one of
    :data:`CODES`, or ``""``) and ``params`` say it for a page."""

    def __init__(self, message: str, code: str = "", **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params: Mapping[str, object] = params


class PoolInputError(PoolRefusedError):
    """A refusal of the input itself, whatever the pool's state: a field
    the log cannot hold, an amount out of range, a reason that would
    publish personal data, a rule change that does not parse."""


class VoteRefusedError(PoolRefusedError):
    """A vote refused; ``reason`` is one of ``not_juror``, ``already_voted``,
    ``window_closed``, ``wrong_round``, ``unknown_claim``."""

    def __init__(self, reason: str, message: str, **params: object) -> None:
        super().__init__(message, f"vote.{reason}", **params)
        self.reason = reason
