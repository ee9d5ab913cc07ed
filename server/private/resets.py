"""One-time password resets, issued by the operator.

A member who forgot their password asks the operator, who runs
``mutualog-server reset-password USERNAME``: it prints a code and when it
expires.  The member opens ``/reset``, types the code and a new password,
and the code is spent.  Issuing a code voids the account's earlier unused
ones.  Only the code's SHA-256 is stored: the code is 100 random bits, so
a fast hash is enough (no one can try 2^100 codes), and a copy of the
database does not hold a usable code.

Redeeming (the new password hashed, the code spent, every session of the
account revoked) is :meth:`server.private.accounts.Accounts.redeem_reset`;
this module issues codes and finds the account a live code belongs to.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Engine, Table, insert, select, update

from server.models import PasswordResetRow
from server.private._tx import private_transaction
from server.private.errors import ResetCodeError

__all__ = [
    "DEFAULT_VALIDITY",
    "IssuedReset",
    "code_digest",
    "issue_reset",
    "live_reset",
    "spend_reset",
]

_resets = cast(Table, PasswordResetRow.__table__)

DEFAULT_VALIDITY = timedelta(hours=24)
#: 20 base32 letters, 100 bits, shown in groups of four for reading aloud.
_CODE_BYTES = 13
_CODE_LETTERS = 20


@dataclass(frozen=True)
class IssuedReset:
    code: str
    expires: datetime


def _normalize(code: str) -> str:
    """The code as issued, from what a person typed: case, spaces and
    dashes do not matter."""
    return "".join(c for c in code.upper() if c.isalnum())


def code_digest(code: str) -> bytes:
    return hashlib.sha256(_normalize(code).encode("ascii", "replace")).digest()


def issue_reset(
    engine: Engine, account_id: int, now: datetime, valid: timedelta = DEFAULT_VALIDITY
) -> IssuedReset:
    """A new one-time code for ``account_id``, valid for ``valid``; the
    account's earlier unused codes are spent."""
    letters = base64.b32encode(secrets.token_bytes(_CODE_BYTES)).decode()[:_CODE_LETTERS]
    code = "-".join(letters[i : i + 4] for i in range(0, _CODE_LETTERS, 4))
    expires = now + valid
    with private_transaction(engine) as conn:
        conn.execute(
            update(_resets)
            .where(_resets.c.account_id == account_id, _resets.c.used.is_(None))
            .values(used=now)
        )
        conn.execute(
            insert(_resets).values(
                code_hash=code_digest(code),
                account_id=account_id,
                created=now,
                expires=expires,
                used=None,
            )
        )
    return IssuedReset(code, expires)


def _refused() -> ResetCodeError:
    return ResetCodeError(
        "this reset code is not valid: it is wrong, expired or already used", "reset.invalid"
    )


def live_reset(engine: Engine, code: str, now: datetime) -> int:
    """The account a live (unused, unexpired) ``code`` belongs to, or
    :class:`ResetCodeError`."""
    with engine.connect() as conn:
        account_id = conn.scalar(
            select(_resets.c.account_id).where(
                _resets.c.code_hash == code_digest(code),
                _resets.c.used.is_(None),
                _resets.c.expires > now,
            )
        )
    if account_id is None:
        raise _refused()
    return int(account_id)


def spend_reset(conn: Connection, code: str, account_id: int, now: datetime) -> None:
    """Mark ``code`` used inside ``conn``'s transaction, or
    :class:`ResetCodeError` if another request spent it first."""
    spent = conn.execute(
        update(_resets)
        .where(
            _resets.c.code_hash == code_digest(code),
            _resets.c.account_id == account_id,
            _resets.c.used.is_(None),
            _resets.c.expires > now,
        )
        .values(used=now)
    )
    if spent.rowcount != 1:
        raise _refused()
