"""Bringing stored rows to the data key: the work of ``mutualog-server
private upgrade`` and ``private rotate-key`` (:mod:`server.private_cli`).

:data:`SEALED_TABLES` lists every sealed column of the private store and
what its values are bound to.  :func:`reseal` walks each table in batches
of :data:`BATCH` rows by primary key, one private transaction a batch,
and leaves every value sealed under the current key: a value stored
before sealing (an instance older than migration 0010) is sealed, one
under an older key opened and sealed again, one already under the current
key left alone.  So a run that is interrupted is finished by running it
again, and a run with nothing to do writes nothing.

:func:`fill_identity_hashes` stores the keyed hash of the ID number of each
active member who joined before migration 0008 and has none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Column, Connection, Engine, Table, func, insert, select, update

from server.models import EvidenceRow, MemberDetailsRow, MemberIdentityRow, RedactedCopyRow
from server.private._tx import private_transaction
from server.private.errors import InvalidInputError
from server.private.identity import parse_id_number
from server.private.identity_key import identity_hash
from server.private.members import DETAIL_COLUMNS
from server.private.sealing import Sealer, is_sealed, sealed_key_id

__all__ = [
    "BATCH",
    "SEALED_TABLES",
    "Fill",
    "SealedTable",
    "census",
    "fill_identity_hashes",
    "reseal",
]

#: Rows per transaction: small enough that a server keeps serving between
#: batches, large enough that the work is not dominated by commits.
BATCH = 200

_details = cast(Table, MemberDetailsRow.__table__)
_evidence = cast(Table, EvidenceRow.__table__)
_identities = cast(Table, MemberIdentityRow.__table__)
_copies = cast(Table, RedactedCopyRow.__table__)


@dataclass(frozen=True)
class SealedTable:
    """A table's sealed ``columns``, paged by ``order`` (its primary key),
    each value bound to the row's ``key_column`` (in hex if binary)."""

    table: Table
    order: Column[Any]
    columns: tuple[str, ...]
    key_column: str

    def row_key(self, row: Any) -> str:
        value = getattr(row, self.key_column)
        return bytes(value).hex() if isinstance(value, bytes | memoryview) else str(value)

    def selected(self) -> list[Column[Any]]:
        """The columns to read: the key, the row's sealing key, the sealed ones."""
        names = dict.fromkeys((self.order.name, self.key_column, *self.columns))
        return [self.table.c[name] for name in names]


#: Every sealed column of the private store.  Evidence and its redacted
#: copies are bound to their commitments
#: (:func:`server.private.evidence.store_evidence`,
#: :func:`server.private.redacted.store_redacted`), a member's details to the
#: member id (:func:`server.private.members.sealed_details`).
SEALED_TABLES = (
    SealedTable(_details, _details.c.member_id, DETAIL_COLUMNS, "member_id"),
    SealedTable(_evidence, _evidence.c.id, ("content", "filename"), "commitment"),
    SealedTable(_copies, _copies.c.id, ("pages",), "commitment"),
)

#: ``progress(table, rows_done)`` after each batch.
Progress = Callable[[str, int], None]


def _quiet(_table: str, _done: int) -> None:
    pass


def _as_bytes(value: bytes | str) -> bytes:
    # A text value left by an older schema reads back as str on SQLite.
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


#: How much of a stored value tells what it is: the header and the key id.
_HEAD = 7


def _head(column: Column[Any]) -> Any:
    # substr() counts bytes of a BLOB (SQLite) and of a bytea (PostgreSQL):
    # a batch reads a few bytes of each value, not megabytes of documents.
    return func.substr(column, 1, _HEAD).label(f"{column.name}__head")


def _stale(head: bytes | str | None, current: bytes) -> bool:
    """Whether a value beginning ``head`` is not sealed under ``current``."""
    return head is not None and sealed_key_id(_as_bytes(head)) != current


def _reseal_value(
    conn: Connection, sealer: Sealer, spec: SealedTable, row: Any, column: str
) -> str:
    """Seal one value under the current key in place; what it was."""
    table, name, key = spec.table, spec.table.name, spec.row_key(row)
    where = spec.order == getattr(row, spec.order.name)
    # In the batch's own transaction: the value is still the one whose head was read.
    value = _as_bytes(cast(bytes | str, conn.scalar(select(table.c[column]).where(where))))
    was = "sealed" if not is_sealed(value) else "resealed"
    opened = sealer.open(name, column, key, value)
    conn.execute(
        update(table).where(where).values({column: sealer.seal(name, column, key, opened)})
    )
    return was


def _reseal_table(
    engine: Engine, sealer: Sealer, spec: SealedTable, counts: Counter[str], progress: Progress
) -> None:
    order = spec.order
    keys = dict.fromkeys((order, spec.table.c[spec.key_column]))
    heads = [_head(spec.table.c[column]) for column in spec.columns]
    after: Any = None
    done = 0
    while True:
        with private_transaction(engine) as conn:
            current = sealer.current_key_id()
            query = select(*keys, *heads).order_by(order).limit(BATCH)
            if after is not None:
                query = query.where(order > after)
            rows = conn.execute(query).all()
            for row in rows:
                for column in spec.columns:
                    if _stale(getattr(row, f"{column}__head"), current):
                        counts[_reseal_value(conn, sealer, spec, row, column)] += 1
        if not rows:
            return
        after = getattr(rows[-1], order.name)
        done += len(rows)
        progress(spec.table.name, done)


def reseal(engine: Engine, sealer: Sealer, progress: Progress = _quiet) -> Counter[str]:
    """Seal every stored value under the current key; counts of values
    ``sealed`` (were plaintext) and ``resealed`` (were under another key)."""
    counts: Counter[str] = Counter()
    for spec in SEALED_TABLES:
        _reseal_table(engine, sealer, spec, counts, progress)
    return counts


def census(engine: Engine) -> Counter[str]:
    """How many stored values are plaintext (``"plaintext"``) and how many
    under each key id (its hex), over every sealed column."""
    counts: Counter[str] = Counter()
    with engine.connect() as conn:
        for spec in SEALED_TABLES:
            for column in spec.columns:
                head = _head(spec.table.c[column])
                rows = conn.execute(
                    select(head, func.count())
                    .where(spec.table.c[column].is_not(None))
                    .group_by(head)
                ).all()
                for value, count in rows:
                    kid = sealed_key_id(_as_bytes(value))
                    counts["plaintext" if kid is None else kid.hex()] += count
    return counts


@dataclass
class Fill:
    """What :func:`fill_identity_hashes` did: hashes ``filled``, and the
    members whose ID number another active member's hash already holds
    (``(member, holder)``), left without one for the operator to resolve."""

    filled: int = 0
    conflicts: list[tuple[str, str]] = field(default_factory=list)


def _normal_id_number(text: str, today: date) -> str:
    try:
        return parse_id_number(text, today).text
    except InvalidInputError:
        # Stored before ID numbers were checked: hashed as stored, so the
        # same text joining again still meets it.
        return text.strip().upper()


def fill_identity_hashes(
    engine: Engine,
    sealer: Sealer,
    id_key: bytes,
    has_left: Callable[[str], bool],
    now: datetime,
    progress: Progress = _quiet,
) -> Fill:
    """Store the keyed hash of each joined, active member's ID number that
    has none (members who joined before migration 0008)."""
    fill = Fill()
    after = ""
    done = 0
    while True:
        with private_transaction(engine) as conn:
            rows = conn.execute(
                select(_details.c.member_id, _details.c.id_number)
                .outerjoin(_identities, _identities.c.member_id == _details.c.member_id)
                .where(
                    _identities.c.member_id.is_(None),
                    _details.c.joined_seq.is_not(None),
                    _details.c.member_id > after,
                )
                .order_by(_details.c.member_id)
                .limit(BATCH)
            ).all()
            for row in rows:
                if has_left(row.member_id):
                    continue
                text = sealer.open_text(_details.name, "id_number", row.member_id, row.id_number)
                id_hash = identity_hash(id_key, _normal_id_number(text, now.date()))
                holder = conn.scalar(
                    select(_identities.c.member_id).where(_identities.c.id_hash == id_hash)
                )
                if holder is not None:
                    fill.conflicts.append((row.member_id, holder))
                    continue
                conn.execute(
                    insert(_identities).values(
                        id_hash=id_hash, member_id=row.member_id, created=now
                    )
                )
                fill.filled += 1
        if not rows:
            return fill
        after = rows[-1].member_id
        done += len(rows)
        progress(_identities.name, done)
