"""What waits for a member: their notices, read from the log when asked.

A member's notices are the log's entries about them: a summons to a jury
(a ``panel.drawn`` naming them, with its voting deadline), the progress of
their own claims (``claim.noticed``, ``panel.drawn``, ``claim.decided``,
``claim.paid``), and each deduction (a ``period.closed`` whose roster holds
them).  They are derived at request time from the stored log's index
(:mod:`server.log_index`), not stored when entries are appended: a period's
close concerns every member (a million rows written inside the append's
transaction), while deriving one member's notices reads only the claims and
the closed periods, never the members (docs/members.md, "Notices").

What is stored, privately and per member (:class:`server.models.MemberNoticesRow`),
is what cannot be derived: how far the member has read (``read_through``,
the seq of the newest entry read; every notice is keyed by the seq of the
entry that brought it, and seqs only grow, so one number says which are
unread), the optional e-mail address with its language, and how far the
notices were mailed (``mailed_through``; :mod:`server.mail`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from flask import Flask, g
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from server.auth import current_account
from server.context import current_log
from server.db import read_connection
from server.log_index import stored_index
from server.models import AccountRow, MemberNoticesRow
from server.private._tx import private_transaction
from verifiable.errors import MutualogError
from verifiable.pool.log_index import ClaimRecord, LogIndex
from verifiable.pool.rules import moment

__all__ = [
    "MAX_EMAIL",
    "NOTICES_SHOWN",
    "InvalidEmailError",
    "Notice",
    "NoticeKind",
    "NoticeSettings",
    "Recipient",
    "check_email",
    "current_notices",
    "init_notifications",
    "mark_mailed",
    "mark_read",
    "member_notices",
    "notice_settings",
    "notices_by_member",
    "notification_context",
    "recipients",
    "set_email",
    "unread",
]

MAX_EMAIL = 254
"""The longest address SMTP carries (RFC 5321's path limit less its brackets)."""
NOTICES_SHOWN = 100
"""The newest notices the notifications page lists."""

_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


class InvalidEmailError(MutualogError):
    """An e-mail address that cannot be used (its form, or its length)."""


def check_email(text: str) -> str:
    """``text`` as an address to mail (spaces around it dropped), or
    :class:`InvalidEmailError` saying why not.  The form only: whether it
    reaches anyone is the member's to know."""
    address = text.strip()
    if len(address) > MAX_EMAIL:
        raise InvalidEmailError(f"an e-mail address has at most {MAX_EMAIL} characters")
    if not _EMAIL.fullmatch(address) or ".." in address:
        raise InvalidEmailError("an e-mail address looks like name@example.com")
    return address


class NoticeKind(StrEnum):
    SUMMONS = "summons"  # drawn on a claim's panel: vote before the deadline
    NOTICED = "noticed"  # my claim's public notice is out
    PANEL = "panel"  # a panel was drawn for my claim
    DECIDED = "decided"  # my claim was decided
    PAID = "paid"  # my claim was paid
    DEDUCTION = "deduction"  # a period I shared in closed


@dataclass(frozen=True)
class Notice:
    """One notice, keyed by the seq of the entry that brought it."""

    seq: int
    kind: NoticeKind
    claim: str | None = None
    period: date | None = None
    deadline: datetime | None = None
    """A summons's end of voting; a notice's end of the objection window."""
    amount: int | None = None
    """Fen: the aid noticed, decided or paid; the share deducted."""
    outcome: str | None = None
    round: int | None = None
    appeal: bool = False


def _claim_notices(record: ClaimRecord) -> list[Notice]:
    """The progress of a claim, as its claimant's notices."""
    claim = record.id
    out = []
    notice = record.notice
    if notice is not None:
        out.append(
            Notice(
                notice.seq,
                NoticeKind.NOTICED,
                claim,
                deadline=notice.objections_until,
                amount=notice.amount,
            )
        )
    for panel in record.panels:
        out.append(
            Notice(
                panel.seq,
                NoticeKind.PANEL,
                claim,
                deadline=panel.votes_until,
                round=panel.round,
                appeal=panel.appeal,
            )
        )
    for decision in record.decisions:
        out.append(
            Notice(
                decision.seq,
                NoticeKind.DECIDED,
                claim,
                amount=decision.amount,
                outcome=decision.outcome.value,
                round=decision.round,
            )
        )
    if record.paid is not None:
        paid = record.paid
        out.append(Notice(paid.seq, NoticeKind.PAID, claim, paid.period, amount=paid.amount))
    return out


def notices_by_member(index: LogIndex, members: Collection[str]) -> dict[str, list[Notice]]:
    """The notices of each of ``members``, newest first: their claims and
    panels (the index keeps which each member filed and sat on) and the
    closed periods — nothing over the pool's members or claims."""
    found: dict[str, list[Notice]] = {m: [] for m in members}
    records = index.claims
    for member, notices in found.items():
        mine = index.member_claims(member)
        for claim in mine.filed:
            notices.extend(_claim_notices(records[claim]))
        for claim, n in mine.summoned:
            panel = records[claim].panels[n]
            notices.append(
                Notice(
                    panel.seq,
                    NoticeKind.SUMMONS,
                    claim,
                    deadline=panel.votes_until,
                    round=panel.round,
                    appeal=panel.appeal,
                )
            )
    spans = {m: index.members.get(m) for m in found}
    for seq, closed in index.closes():
        at = moment(closed.period)
        for member, notices in found.items():
            span = spans[member]
            if span is not None and span.sharing(at):
                notices.append(
                    Notice(seq, NoticeKind.DEDUCTION, period=closed.period, amount=closed.share)
                )
    for notices in found.values():
        notices.sort(key=lambda n: n.seq, reverse=True)
    return found


def member_notices(index: LogIndex, member: str) -> list[Notice]:
    """``member``'s notices, newest first."""
    return notices_by_member(index, (member,))[member]


def unread(notices: list[Notice], read_through: int) -> list[Notice]:
    """The notices brought by entries after ``read_through``."""
    return [n for n in notices if n.seq > read_through]


# --- what is stored: how far read and mailed, and where to mail --------------------------


@dataclass(frozen=True)
class NoticeSettings:
    """A member's stored notice settings; the defaults before any is stored."""

    email: str | None = None
    locale: str = "zh_CN"
    read_through: int = -1
    mailed_through: int = -1


def notice_settings(engine: Engine, account_id: int) -> NoticeSettings:
    with read_connection(engine) as conn:
        row = conn.execute(
            select(MemberNoticesRow.__table__).where(MemberNoticesRow.account_id == account_id)
        ).first()
    if row is None:
        return NoticeSettings()
    return NoticeSettings(row.email, row.locale, row.read_through, row.mailed_through)


def _store(
    engine: Engine,
    account_id: int,
    now: datetime,
    change: Callable[[NoticeSettings], NoticeSettings],
) -> NoticeSettings:
    row_is = MemberNoticesRow.account_id == account_id
    with private_transaction(engine) as conn:
        row = conn.execute(select(MemberNoticesRow.__table__).where(row_is)).first()
        old = (
            NoticeSettings(row.email, row.locale, row.read_through, row.mailed_through)
            if row is not None
            else NoticeSettings()
        )
        new = change(old)
        values = {
            "email": new.email,
            "locale": new.locale,
            "read_through": new.read_through,
            "mailed_through": new.mailed_through,
            "updated": now,
        }
        if row is None:
            conn.execute(insert(MemberNoticesRow).values(account_id=account_id, **values))
        else:
            conn.execute(update(MemberNoticesRow).where(row_is).values(**values))
    return new


def mark_read(engine: Engine, account_id: int, through: int, now: datetime) -> NoticeSettings:
    """Every notice up to entry ``through`` is read (never moves back)."""

    def change(old: NoticeSettings) -> NoticeSettings:
        return NoticeSettings(
            old.email, old.locale, max(old.read_through, through), old.mailed_through
        )

    return _store(engine, account_id, now, change)


def set_email(
    engine: Engine, account_id: int, email: str | None, locale: str, size: int, now: datetime
) -> NoticeSettings:
    """Mail the member's notices to ``email`` (``None``: mail none) in
    ``locale``.  A new address gets only notices of entries from now on
    (the log's ``size``): the past is on the notifications page."""

    def change(old: NoticeSettings) -> NoticeSettings:
        mailed = old.mailed_through if email == old.email else max(old.mailed_through, size - 1)
        return NoticeSettings(email, locale, old.read_through, mailed)

    return _store(engine, account_id, now, change)


def mark_mailed(engine: Engine, account_id: int, through: int, now: datetime) -> None:
    """The notices up to entry ``through`` were mailed: never again."""

    def change(old: NoticeSettings) -> NoticeSettings:
        mailed = max(old.mailed_through, through)
        return NoticeSettings(old.email, old.locale, old.read_through, mailed)

    _store(engine, account_id, now, change)


@dataclass(frozen=True)
class Recipient:
    """A member whose notices are mailed."""

    account_id: int
    member_id: str
    email: str
    locale: str
    mailed_through: int = field(default=-1)


def recipients(engine: Engine) -> list[Recipient]:
    """Every member with an e-mail address, in account order."""
    query = (
        select(
            MemberNoticesRow.account_id,
            AccountRow.member_id,
            MemberNoticesRow.email,
            MemberNoticesRow.locale,
            MemberNoticesRow.mailed_through,
        )
        .join(AccountRow, AccountRow.id == MemberNoticesRow.account_id)
        .where(MemberNoticesRow.email.is_not(None), AccountRow.member_id.is_not(None))
        .order_by(MemberNoticesRow.account_id)
    )
    with read_connection(engine) as conn:
        rows = conn.execute(query).all()
    return [Recipient(r[0], r[1] or "", r[2] or "", r[3], r[4]) for r in rows]


# --- in a request: the signed-in member's notices and the header's count ------------------

_CACHE = "_mutualog_notices"


def current_notices() -> tuple[list[Notice], NoticeSettings] | None:
    """The signed-in member's notices (newest first) and settings, once per
    request; ``None`` for anyone who is not a member of the pool."""
    if _CACHE in g:
        cached: tuple[list[Notice], NoticeSettings] | None = g.get(_CACHE)
        return cached
    account = current_account()
    found = None
    if account is not None and account.member_id is not None:
        engine = current_log().engine
        held = stored_index(engine)
        with held.at() as index:
            member = account.member_id
            notices = notices_by_member(index, (member,))[member]
        found = (notices, notice_settings(engine, account.id))
    setattr(g, _CACHE, found)
    return found


def notification_context() -> dict[str, object]:
    """``notification_count`` for every template: the signed-in member's
    unread notices (0 for anyone else, and on an error page whose cause
    is the database or the log)."""
    try:
        found = current_notices()
    except (SQLAlchemyError, MutualogError):
        found = None
    if found is None:
        return {"notification_count": 0}
    notices, settings = found
    return {"notification_count": len(unread(notices, settings.read_through))}


def init_notifications(app: Flask) -> None:
    """Give every template the unread count."""
    app.context_processor(notification_context)
