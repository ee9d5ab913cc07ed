"""Members' identities and the hook that joins an account to the pool.

The log knows a member only by a pseudonymous id: 16 random bytes in hex,
drawn here from the operating system's CSPRNG, so the id says nothing about
the person and cannot be recomputed from anything about them.  Name, ID
number and phone stay in ``member_details``, linked to the id and the
account, until erased.

:func:`join_pool` is the one way in; the caller supplies the function that
appends the ``member.joined`` entry (the rulebook decides its body: the age
band, the rules in force), so this module never builds a public entry.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Engine, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from server.models import AccountRow, MemberDetailsRow
from server.private._tx import private_transaction
from server.private.erasure import Erasure, ErasureKind, check_reason, record_erasure
from server.private.errors import (
    AlreadyJoinedError,
    InvalidInputError,
    UnknownAccountError,
    UnknownRecordError,
)

__all__ = [
    "MemberDetails",
    "erase_member_details",
    "join_pool",
    "member_details",
    "new_member_id",
]

_details = cast(Table, MemberDetailsRow.__table__)
_accounts = cast(Table, AccountRow.__table__)

_ID_NUMBER = re.compile(r"[0-9A-Za-z-]{4,64}")
_PHONE = re.compile(r"\+?[0-9][0-9 ()-]{2,30}")
MAX_NAME = 200


def new_member_id() -> str:
    """A fresh pseudonymous member id: 32 lowercase hex characters."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class MemberDetails:
    """What identifies a member in the real world; never logged.

    Built through :meth:`parse`, which checks each field and names the one
    that is wrong.
    """

    name: str
    id_number: str
    phone: str

    @classmethod
    def parse(cls, name: str, id_number: str, phone: str) -> MemberDetails:
        name = unicodedata.normalize("NFC", name.strip())
        if not name or len(name) > MAX_NAME:
            raise InvalidInputError(
                "name", f"a name has 1 to {MAX_NAME} characters", "name.length", most=MAX_NAME
            )
        if any(unicodedata.category(c).startswith("C") for c in name):
            raise InvalidInputError(
                "name", "a name may not contain control characters", "name.control"
            )
        id_number = id_number.strip()
        if not _ID_NUMBER.fullmatch(id_number):
            raise InvalidInputError(
                "id_number", "an ID number has 4 to 64 letters, digits or '-'", "id_number.shape"
            )
        phone = phone.strip()
        if not _PHONE.fullmatch(phone):
            raise InvalidInputError(
                "phone",
                "a phone number has digits, spaces, '-', '(' ')' and an optional '+'",
                "phone.shape",
            )
        return cls(name=name, id_number=id_number, phone=phone)


def join_pool(
    engine: Engine,
    account_id: int,
    details: MemberDetails,
    append_joined: Callable[[str], int],
    now: datetime,
) -> str:
    """Make account ``account_id`` a member; returns the new member id.

    ``append_joined(member_id)`` must append the ``member.joined`` entry for
    that id and return its seq (or raise to refuse: the rulebook's verdict).

    1. In one private transaction: refuse (:class:`AlreadyJoinedError`) an
       account that has a member id or a join in progress, then store the
       details under a fresh id; the unique ``account_id`` column holds off
       a parallel second join.
    2. ``append_joined`` — outside that transaction, in the sequencer's own.
    3. Record the seq and set the account's member id.  If step 2 raised,
       the details are deleted instead and the error propagates.
    """
    member_id = new_member_id()
    try:
        with private_transaction(engine) as conn:
            row = conn.execute(
                select(_accounts.c.member_id).where(_accounts.c.id == account_id)
            ).one_or_none()
            if row is None:
                raise UnknownAccountError(f"no account with id {account_id}")
            pending = conn.scalar(
                select(_details.c.member_id).where(_details.c.account_id == account_id)
            )
            if row.member_id is not None or pending is not None:
                raise AlreadyJoinedError(
                    f"account {account_id} has already joined the pool", "account.already_joined"
                )
            conn.execute(
                insert(_details).values(
                    member_id=member_id,
                    account_id=account_id,
                    name=details.name,
                    id_number=details.id_number,
                    phone=details.phone,
                    created=now,
                )
            )
    except IntegrityError as e:
        raise AlreadyJoinedError(
            f"account {account_id} has already joined the pool", "account.already_joined"
        ) from e
    try:
        seq = append_joined(member_id)
    except BaseException:
        with private_transaction(engine) as conn:
            conn.execute(delete(_details).where(_details.c.member_id == member_id))
        raise
    with private_transaction(engine) as conn:
        conn.execute(
            update(_details).where(_details.c.member_id == member_id).values(joined_seq=seq)
        )
        conn.execute(
            update(_accounts).where(_accounts.c.id == account_id).values(member_id=member_id)
        )
    return member_id


def member_details(engine: Engine, member_id: str) -> MemberDetails | None:
    """The member's details, or ``None`` if there are none (never stored, or erased)."""
    with engine.connect() as conn:
        row = conn.execute(
            select(_details.c.name, _details.c.id_number, _details.c.phone).where(
                _details.c.member_id == member_id
            )
        ).one_or_none()
    if row is None:
        return None
    return MemberDetails(name=row.name, id_number=row.id_number, phone=row.phone)


def erase_member_details(
    engine: Engine, member_id: str, reason: str, requested_by: int | None, now: datetime
) -> Erasure:
    """Delete the member's name, ID number and phone and record why.

    The member id, the account and the log stay; the returned
    :class:`Erasure` is for the caller to log (then
    :func:`server.private.erasure.set_erasure_seq`).
    """
    reason = check_reason(reason)
    with private_transaction(engine) as conn:
        gone = conn.execute(delete(_details).where(_details.c.member_id == member_id)).rowcount
        if not gone:
            raise UnknownRecordError(f"no private details stored for member {member_id}")
        return record_erasure(
            conn,
            ErasureKind.MEMBER,
            member_id,
            "name, ID number and phone",
            reason,
            requested_by,
            now,
        )
