"""Errors of the private store, one tree under :class:`PrivateStoreError`.

Split where callers branch: input a person can correct
(:class:`InvalidInputError` and its :class:`EvidenceError`), a conflict with what is
stored (:class:`UsernameTakenError`, :class:`AlreadyJoinedError`,
:class:`AlreadyVotedError`), and a refused sign-in
(:class:`LoginRefusedError`, :class:`LoginThrottledError`).
"""

from __future__ import annotations

from verifiable.errors import MutualogError

__all__ = [
    "AlreadyJoinedError",
    "AlreadyVotedError",
    "EvidenceError",
    "InvalidInputError",
    "LoginRefusedError",
    "LoginThrottledError",
    "PrivateStoreError",
    "UnknownAccountError",
    "UnknownRecordError",
    "UsernameTakenError",
]


class PrivateStoreError(MutualogError):
    """Base class of the private store's errors."""


class InvalidInputError(PrivateStoreError):
    """Input a person can correct — a username, password, personal detail,
    reason or document that breaks the rules; ``field`` names the form
    field it belongs to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class UsernameTakenError(PrivateStoreError):
    """A registration for a username that already has an account."""


class UnknownAccountError(PrivateStoreError):
    """An account id that no account has."""


class UnknownRecordError(PrivateStoreError):
    """A member, claim or vote the private store has no row for."""


class AlreadyJoinedError(PrivateStoreError):
    """An account that has joined the pool, or is joining it now, joining again."""


class AlreadyVotedError(PrivateStoreError):
    """A juror's second vote in the same round of the same claim."""


class EvidenceError(InvalidInputError):
    """An evidence document that cannot be accepted (empty, too large, a
    type not allowed, or content that is not what its type says)."""

    def __init__(self, message: str) -> None:
        super().__init__("evidence", message)


class LoginRefusedError(PrivateStoreError):
    """Wrong username or password; deliberately not saying which."""


class LoginThrottledError(PrivateStoreError):
    """Too many failed sign-ins for this username from this address;
    ``retry_after`` is the number of whole seconds until one more is allowed."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
