"""Members' identities and the hook that joins an account to the pool.

The log knows a member only by a pseudonymous id: 16 random bytes in hex,
drawn here from the operating system's CSPRNG, so the id says nothing about
the person and cannot be recomputed from anything about them.  Name, ID
number and phone stay in ``member_details``, linked to the id and the
account, until erased; sealed there under the instance's data key
(:mod:`server.private.sealing`), each bound to the member id.

An ID number is a mainland resident ID number and a phone a mainland
mobile number, both checked and kept in their normal form
(:mod:`server.private.identity`); the birth date in the ID number gives the
member's age band, which nobody chooses.  One person holds one membership
at a time: the keyed hash of the ID number (:mod:`server.private.identity_key`)
goes into ``member_identities``, whose primary key refuses a second active
membership even when two joins race on two server processes; the row goes
when the member leaves (:func:`release_identity`) or is erased.

:func:`join_pool` is the one way in; the caller supplies the function that
appends the ``member.joined`` entry (the rulebook decides its body: the age
band, the rules in force), so this module never builds a public entry.
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from sqlalchemy import Connection, Engine, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from server.models import AccountRow, MemberDetailsRow, MemberIdentityRow
from server.private._tx import private_transaction
from server.private.erasure import (
    Erasure,
    ErasureKind,
    check_reason,
    record_erasure,
    scrub_freed,
)
from server.private.errors import (
    AlreadyJoinedError,
    AlreadyMemberError,
    InvalidInputError,
    UnknownAccountError,
    UnknownRecordError,
)
from server.private.identity import parse_id_number, parse_mobile
from server.private.identity_key import identity_hash
from server.private.sealing import Sealer, sealer_of

__all__ = [
    "MemberDetails",
    "erase_member_details",
    "join_pool",
    "member_details",
    "new_member_id",
    "release_identity",
    "sealed_details",
]

_details = cast(Table, MemberDetailsRow.__table__)
_accounts = cast(Table, AccountRow.__table__)
_identities = cast(Table, MemberIdentityRow.__table__)

MAX_NAME = 200

#: The sealed columns of ``member_details`` (:mod:`server.private.sealing`),
#: each bound to its row's member id.
DETAIL_COLUMNS = ("name", "id_number", "phone")


def new_member_id() -> str:
    """A fresh pseudonymous member id: 32 lowercase hex characters."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class MemberDetails:
    """What identifies a member in the real world; never logged.

    Built through :meth:`parse`, which checks each field and names the one
    that is wrong; ``id_number`` and ``phone`` are in their normal forms.
    """

    name: str
    id_number: str
    phone: str

    @property
    def born(self) -> date | None:
        """The birth date the ID number carries; ``None`` for an ID number
        stored before they were checked (a member who joined before
        migration 0008), whose band stays the one they joined in."""
        digits = self.id_number[6:14]
        if len(self.id_number) != 18 or not digits.isdigit():
            return None
        try:
            return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        except ValueError:
            return None

    @classmethod
    def parse(cls, name: str, id_number: str, phone: str, today: date) -> MemberDetails:
        """The details checked as of ``today`` (a birth date after it is refused)."""
        name = unicodedata.normalize("NFC", name.strip())
        if not name or len(name) > MAX_NAME:
            raise InvalidInputError(
                "name", f"a name has 1 to {MAX_NAME} characters", "name.length", most=MAX_NAME
            )
        if any(unicodedata.category(c).startswith("C") for c in name):
            raise InvalidInputError(
                "name", "a name may not contain control characters", "name.control"
            )
        checked = parse_id_number(id_number, today)
        return cls(name=name, id_number=checked.text, phone=parse_mobile(phone))


def sealed_details(sealer: Sealer, member_id: str, details: MemberDetails) -> dict[str, bytes]:
    """The member's name, ID number and phone as ``member_details`` stores them."""
    return {
        column: sealer.seal_text(_details.name, column, member_id, getattr(details, column))
        for column in DETAIL_COLUMNS
    }


def _refuse_taken(conn: Connection, id_hash: bytes, has_left: Callable[[str], bool]) -> None:
    """Refuse (:class:`AlreadyMemberError`) an ID number an active member or
    a join in progress holds.  A row left behind by a member the log says
    has left (a crash between the ``member.left`` append and its release)
    is released here instead."""
    holder = conn.execute(
        select(_identities.c.member_id, _details.c.joined_seq)
        .join(_details, _details.c.member_id == _identities.c.member_id)
        .where(_identities.c.id_hash == id_hash)
    ).one_or_none()
    if holder is None:
        return
    if holder.joined_seq is not None and has_left(holder.member_id):
        conn.execute(delete(_identities).where(_identities.c.id_hash == id_hash))
        return
    raise AlreadyMemberError(
        "a member of the pool already has this ID number: one person holds one membership",
        "identity.taken",
    )


def join_pool(
    engine: Engine,
    account_id: int,
    details: MemberDetails,
    append_joined: Callable[[str], int],
    now: datetime,
    id_key: bytes,
    has_left: Callable[[str], bool],
) -> str:
    """Make account ``account_id`` a member; returns the new member id.

    ``append_joined(member_id)`` must append the ``member.joined`` entry for
    that id and return its seq (or raise to refuse: the rulebook's verdict).
    ``id_key`` keys the hash of the ID number; ``has_left(member_id)`` says
    whether the log has that member's ``member.left``.

    1. In one private transaction: refuse (:class:`AlreadyJoinedError`) an
       account that has a member id or a join in progress, and
       (:class:`AlreadyMemberError`) an ID number an active member holds;
       then store the details and the ID number's keyed hash under a fresh
       id.  The unique ``account_id`` column and the ``id_hash`` primary key
       hold off a parallel second join that got past the checks.
    2. ``append_joined`` — outside that transaction, in the sequencer's own.
    3. Record the seq and set the account's member id.  If step 2 raised,
       the details and the hash are deleted instead and the error propagates.
    """
    member_id = new_member_id()
    id_hash = identity_hash(id_key, details.id_number)
    sealed = sealed_details(sealer_of(engine), member_id, details)
    try:
        with private_transaction(engine) as conn:
            _check_account(conn, account_id)
            _refuse_taken(conn, id_hash, has_left)
            conn.execute(
                insert(_details).values(
                    member_id=member_id,
                    account_id=account_id,
                    created=now,
                    **sealed,
                )
            )
            conn.execute(
                insert(_identities).values(id_hash=id_hash, member_id=member_id, created=now)
            )
    except IntegrityError as e:
        raise _which_conflict(engine, account_id) from e
    try:
        seq = append_joined(member_id)
    except BaseException:
        with private_transaction(engine) as conn:
            conn.execute(delete(_identities).where(_identities.c.member_id == member_id))
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


def _check_account(conn: Connection, account_id: int) -> None:
    """Refuse an unknown account, and one that has joined or is joining."""
    row = conn.execute(
        select(_accounts.c.member_id).where(_accounts.c.id == account_id)
    ).one_or_none()
    if row is None:
        raise UnknownAccountError(f"no account with id {account_id}")
    pending = conn.scalar(select(_details.c.member_id).where(_details.c.account_id == account_id))
    if row.member_id is not None or pending is not None:
        raise AlreadyJoinedError(
            f"account {account_id} has already joined the pool", "account.already_joined"
        )


def _which_conflict(engine: Engine, account_id: int) -> AlreadyJoinedError | AlreadyMemberError:
    """The refusal a unique key's conflict stands for: the account's own
    join if it has one, else the ID number held by someone else."""
    with engine.connect() as conn:
        mine = conn.scalar(select(_details.c.member_id).where(_details.c.account_id == account_id))
    if mine is not None:
        return AlreadyJoinedError(
            f"account {account_id} has already joined the pool", "account.already_joined"
        )
    return AlreadyMemberError(
        "a member of the pool already has this ID number: one person holds one membership",
        "identity.taken",
    )


def release_identity(engine: Engine, member_id: str) -> bool:
    """Delete the keyed hash of a member who left, so the person may join
    again; ``False`` if there was none (already released, or erased)."""
    with private_transaction(engine) as conn:
        gone = conn.execute(delete(_identities).where(_identities.c.member_id == member_id))
    return bool(gone.rowcount)


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
    sealer = sealer_of(engine)
    name, id_number, phone = (
        sealer.open_text(_details.name, column, member_id, row[n])
        for n, column in enumerate(DETAIL_COLUMNS)
    )
    return MemberDetails(name=name, id_number=id_number, phone=phone)


def erase_member_details(
    engine: Engine, member_id: str, reason: str, requested_by: int | None, now: datetime
) -> Erasure:
    """Delete the member's name, ID number, phone and the ID number's keyed
    hash, and record why.

    The member id, the account and the log stay; the returned
    :class:`Erasure` is for the caller to log (then
    :func:`server.private.erasure.set_erasure_seq`).
    """
    reason = check_reason(reason)
    with private_transaction(engine) as conn:
        # The keyed hash first: its row refers to the details' row.
        conn.execute(delete(_identities).where(_identities.c.member_id == member_id))
        gone = conn.execute(delete(_details).where(_details.c.member_id == member_id)).rowcount
        if not gone:
            raise UnknownRecordError(f"no private details stored for member {member_id}")
        erasure = record_erasure(
            conn,
            ErasureKind.MEMBER,
            member_id,
            "name, ID number and phone",
            reason,
            requested_by,
            now,
        )
    scrub_freed(engine)
    return erasure
