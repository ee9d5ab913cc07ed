"""Errors of the private store, one tree under :class:`PrivateStoreError`.

Split where callers branch: input a person can correct
(:class:`InvalidInputError` and its :class:`EvidenceError`), a conflict with what is
stored (:class:`UsernameTakenError`, :class:`AlreadyJoinedError`,
:class:`AlreadyMemberError`, :class:`AlreadyVotedError`), and a refused sign-in
(:class:`LoginRefusedError`, :class:`RequestLimitedError` and its
:class:`LoginThrottledError`, :class:`HashBusyError`, :class:`ResetCodeError`).

Each error carries, beside its English message, a stable ``code`` from
:data:`CODES` and the ``params`` its sentence names, so that a page says it
in the visitor's language (:mod:`server.presenters.refusals`); an error
without a code (``""``) is shown in its English words.
"""

from __future__ import annotations

from collections.abc import Mapping

from verifiable.errors import MutualogError

__all__ = [
    "CODES",
    "AlreadyJoinedError",
    "AlreadyMemberError",
    "AlreadyVotedError",
    "EvidenceError",
    "HashBusyError",
    "InvalidInputError",
    "LoginRefusedError",
    "LoginThrottledError",
    "PrivateStoreError",
    "RequestLimitedError",
    "ResetCodeError",
    "UnknownAccountError",
    "UnknownRecordError",
    "UsernameTakenError",
]


#: Every code an error of the private store carries, and the names of its
#: parameters.
CODES: Mapping[str, tuple[str, ...]] = {
    "username.length": ("least", "most", "length"),
    "username.chars": (),
    "password.short": ("least",),
    "password.long": ("most",),
    "password.is_username": (),
    "name.length": ("most",),
    "name.control": (),
    "id_number.length": ("length",),
    "id_number.chars": (),
    "id_number.region": (),
    "id_number.birth_date": (),
    "id_number.birth_range": (),
    "id_number.check": (),
    "phone.mobile": (),
    "erasure.reason_length": ("most",),
    "evidence.malformed": ("detail",),
    "evidence.type": ("n", "kind", "allowed"),
    "evidence.empty": ("n",),
    "evidence.too_large": ("n", "size", "most"),
    "evidence.not_type": ("n", "kind"),
    "evidence.name_long": ("n", "most"),
    "evidence.none": (),
    "evidence.too_many": ("most", "count"),
    "account.username_taken": ("username",),
    "account.already_joined": (),
    "identity.taken": (),
    "juror.already_voted": ("claim", "round"),
    "login.refused": (),
    "login.throttled": ("minutes",),
    "password.common": (),
    "password.few_characters": ("least",),
    "password.sequence": (),
    "limit.address": ("minutes",),
    "limit.username": ("minutes",),
    "limit.server": ("minutes",),
    "hash.busy": (),
    "reset.invalid": (),
}


class PrivateStoreError(MutualogError):
    """Base class of the private store's errors; ``code`` (one of
    :data:`CODES`, or ``""``) and ``params`` say it for a page."""

    def __init__(self, message: str, code: str = "", **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params: Mapping[str, object] = params


class InvalidInputError(PrivateStoreError):
    """Input a person can correct — a username, password, personal detail,
    reason or document that breaks the rules; ``field`` names the form
    field it belongs to."""

    def __init__(self, field: str, message: str, code: str = "", **params: object) -> None:
        super().__init__(message, code, **params)
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


class AlreadyMemberError(PrivateStoreError):
    """A join with an ID number that an active member of the pool, or a
    join in progress, already holds: one membership per person."""


class AlreadyVotedError(PrivateStoreError):
    """A juror's second vote in the same round of the same claim."""


class EvidenceError(InvalidInputError):
    """An evidence document that cannot be accepted (empty, too large, a
    type not allowed, or content that is not what its type says)."""

    def __init__(self, message: str, code: str = "", **params: object) -> None:
        super().__init__("evidence", message, code, **params)


class LoginRefusedError(PrivateStoreError):
    """Wrong username or password; deliberately not saying which."""


class RequestLimitedError(PrivateStoreError):
    """An attempt over one of the request limits kept in the database (per
    address, per username, for the whole server); ``retry_after`` is the
    number of whole seconds until one more is allowed, and the code names
    the limit (``limit.address``, ``limit.username``, ``limit.server``)."""

    def __init__(self, message: str, retry_after: int, code: str = "limit.server") -> None:
        minutes = max(1, -(-retry_after // 60))
        super().__init__(message, code, minutes=minutes)
        self.retry_after = retry_after


class LoginThrottledError(RequestLimitedError):
    """Too many failed sign-ins for this username from this address;
    ``retry_after`` is the number of whole seconds until one more is allowed."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, retry_after, "login.throttled")


class HashBusyError(PrivateStoreError):
    """Every password-hashing slot of the deployment is taken: nothing was
    hashed; ``retry_after`` seconds is a fair wait."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, "hash.busy")
        self.retry_after = retry_after


class ResetCodeError(PrivateStoreError):
    """A password-reset code that is wrong, expired or already used (one
    refusal for all three: it does not say which)."""
