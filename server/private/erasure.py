"""The record of erasures: what private data was deleted, why and when.

Erasing never touches the log: its commitments stay, and with the salt and
the document gone they no longer reveal anything.  What the log does get is
an entry saying that the erasure happened; the caller appends it and stores
its seq here with :func:`set_erasure_seq`, so that every erasure is public
and none is silent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, insert, select, update

from server.models import ErasureRow
from server.private._tx import private_transaction
from server.private.errors import InvalidInputError, UnknownRecordError

__all__ = [
    "MAX_REASON",
    "Erasure",
    "ErasureKind",
    "check_reason",
    "erasures",
    "record_erasure",
    "scrub_freed",
    "set_erasure_seq",
]

_erasures = cast(Table, ErasureRow.__table__)

MAX_REASON = 500


class ErasureKind(StrEnum):
    MEMBER = "member"  # a member's name, ID number and phone
    EVIDENCE = "evidence"  # a claim's documents and their salts


@dataclass(frozen=True)
class Erasure:
    id: int
    kind: ErasureKind
    subject: str
    detail: str
    reason: str
    requested_by: int | None
    at: datetime
    log_seq: int | None


def _erasure(row: Any) -> Erasure:
    return Erasure(
        id=row.id,
        kind=ErasureKind(row.kind),
        subject=row.subject,
        detail=row.detail,
        reason=row.reason,
        requested_by=row.requested_by,
        at=row.at,
        log_seq=row.log_seq,
    )


def check_reason(reason: str) -> str:
    """A reason, stripped: 1 to 500 characters."""
    text = reason.strip()
    if not text or len(text) > MAX_REASON:
        raise InvalidInputError(
            "reason",
            f"an erasure needs a reason of 1 to {MAX_REASON} characters",
            "erasure.reason_length",
            most=MAX_REASON,
        )
    return text


def record_erasure(
    conn: Connection,
    kind: ErasureKind,
    subject: str,
    detail: str,
    reason: str,
    requested_by: int | None,
    now: datetime,
) -> Erasure:
    """Insert the record on ``conn``, inside the transaction that erases."""
    row = conn.execute(
        insert(_erasures)
        .values(
            kind=kind.value,
            subject=subject,
            detail=detail,
            reason=reason,
            requested_by=requested_by,
            at=now,
        )
        .returning(*_erasures.c)
    ).one()
    return _erasure(row)


def scrub_freed(engine: Engine) -> bool:
    """After an erasure on SQLite: copy the write-ahead log into the
    database file and truncate it, so that the pages as they were before
    the erasure (sealed values included) are gone from the WAL as well as
    from the file (where ``secure_delete``, :mod:`server.db`, zeroed them).
    ``False`` if a reader held the WAL and it could not be truncated now;
    SQLite then overwrites those frames as it reuses the WAL.  Nothing to
    do on PostgreSQL, whose old row versions go at VACUUM (docs/privacy.md).
    """
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect() as conn:
        busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").scalar()
        conn.commit()
    return not busy


def set_erasure_seq(engine: Engine, erasure_id: int, seq: int) -> None:
    """Record the seq of the log entry that announced erasure ``erasure_id``."""
    with private_transaction(engine) as conn:
        done = conn.execute(
            update(_erasures).where(_erasures.c.id == erasure_id).values(log_seq=seq)
        ).rowcount
    if not done:
        raise UnknownRecordError(f"no erasure with id {erasure_id}")


def erasures(engine: Engine, subject: str | None = None) -> list[Erasure]:
    """Every erasure, oldest first; only those of ``subject`` if given."""
    query = select(*_erasures.c).order_by(_erasures.c.id)
    if subject is not None:
        query = query.where(_erasures.c.subject == subject)
    with engine.connect() as conn:
        return [_erasure(row) for row in conn.execute(query)]
