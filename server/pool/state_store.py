"""The pool's state in the database, written in the append's transaction.

The rules are :class:`verifiable.pool.state.PoolState`, one implementation
for the server, the client's audit and the tests; it keeps its records
through a :class:`verifiable.pool.store.StateStore`.  Here that store is
three tables (docs/storage.md, "The pool's state"):

* ``state_records``: one row per record, by kind and key, its value the
  record's codec bytes (:mod:`verifiable.pool.store_codecs`);
* ``state_counts``: how many records of each kind;
* ``state_head``: one row, the log the records reflect (its size, last leaf
  hash and compact range) and the state's small part
  (:func:`verifiable.pool.state_head.head_bytes`).

Every write happens inside the sequencer's write transaction, on its
connection (:meth:`DbStateStore.bound`): the records of a batch's entries
and the head row commit with the entries or not at all, so the stored state
always reflects exactly the stored log up to ``state_head.size``.  A
process takes the state up by reading the head row (:func:`take_up`): no
replay, and nothing of the pool's size in memory.

A log that grew without its state (a bulk load, a restore, an instance
from before migration 0012) is caught up by :func:`catch_up`, under the
write lock, a chunk of entries per transaction; :func:`rebuild` starts
over from entry 0 and :func:`check` recomputes the state from the log in
memory and names the first record that differs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Engine, Table, bindparam, delete, insert, select, update

from server.db import read_connection, write_transaction
from server.models import StateCountRow, StateHeadRow, StateRecordRow
from server.storage import LogStore, StoredLogError, _read_head
from verifiable.errors import MutualogError
from verifiable.log.entry import GENESIS_PREV, ChainHead
from verifiable.pool.log_index import LogIndex
from verifiable.pool.replay import Replayer
from verifiable.pool.state import PoolState
from verifiable.pool.state_head import HEAD_FORMAT, head_bytes, head_format, resume
from verifiable.pool.store import Change, Kind, MemoryStore

__all__ = [
    "CATCH_UP_CHUNK",
    "DbStateStore",
    "StateHead",
    "catch_up",
    "check",
    "other_form_stored",
    "read_state_head",
    "rebuild",
    "stored_entries",
    "take_up",
    "write_state_head",
]

V = TypeVar("V")

CATCH_UP_CHUNK = 5_000
"""Entries read per query, and applied per transaction, while catching up."""

_records = cast(Table, StateRecordRow.__table__)
_counts = cast(Table, StateCountRow.__table__)
_head = cast(Table, StateHeadRow.__table__)

SCAN_PAGE = 20_000
"""At most this many records read per query of a scan (a scan pages by
key, so a long one holds no cursor open between the state's other reads
and writes)."""

SCAN_FIRST_PAGE = 1_000
"""Records read by a scan's first query."""

_GET = select(_records.c.value).where(
    _records.c.kind == bindparam("k"), _records.c.key == bindparam("key")
)
_HAS = select(_records.c.kind).where(
    _records.c.kind == bindparam("k"), _records.c.key == bindparam("key")
)
_COUNT = select(_counts.c.n).where(_counts.c.kind == bindparam("k"))
_PAGE = (
    select(_records.c.key, _records.c.value)
    .where(_records.c.kind == bindparam("k"), _records.c.key > bindparam("after"))
    .order_by(_records.c.key)
    .limit(bindparam("n"))
)
_PAGE_FROM = (
    select(_records.c.key, _records.c.value)
    .where(_records.c.kind == bindparam("k"), _records.c.key >= bindparam("after"))
    .order_by(_records.c.key)
    .limit(bindparam("n"))
)
_DELETE = delete(_records).where(
    _records.c.kind == bindparam("k"), _records.c.key == bindparam("key")
)
_INSERT = insert(_records).values(kind=bindparam("k"), key=bindparam("key"), value=bindparam("v"))
_ADD_COUNT = (
    update(_counts).where(_counts.c.kind == bindparam("k")).values(n=_counts.c.n + bindparam("d"))
)
_NEW_COUNT = insert(_counts).values(kind=bindparam("k"), n=bindparam("d"))


class DbStateStore:
    """A :class:`~verifiable.pool.store.StateStore` in the database.

    Inside :meth:`bound` (the append's transaction) every read and write
    goes through that connection, in the thread that bound it; elsewhere
    each read takes a connection of its own and sees what is committed.
    Writes outside :meth:`bound` are refused."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._local = threading.local()

    @contextmanager
    def bound(self, conn: Connection) -> Iterator[None]:
        """Read and write through ``conn`` in this thread until the block ends."""
        previous = getattr(self._local, "conn", None)
        self._local.conn = conn
        try:
            yield
        finally:
            self._local.conn = previous

    def _conn(self) -> Connection | None:
        conn: Connection | None = getattr(self._local, "conn", None)
        return conn

    def _one(self, stmt: Any, params: Mapping[str, Any]) -> Any:
        conn = self._conn()
        if conn is not None:
            return conn.execute(stmt, params).scalar()
        with read_connection(self._engine) as c:
            return c.execute(stmt, params).scalar()

    def get(self, kind: Kind[V], key: str) -> V | None:
        raw = self._one(_GET, {"k": kind.name, "key": key.encode()})
        return None if raw is None else kind.codec.decode(bytes(raw))

    def has(self, kind: Kind[Any], key: str) -> bool:
        return self._one(_HAS, {"k": kind.name, "key": key.encode()}) is not None

    def count(self, kind: Kind[Any]) -> int:
        n = self._one(_COUNT, {"k": kind.name})
        return 0 if n is None else int(n)

    def scan(self, kind: Kind[V], start: str = "") -> Iterator[tuple[str, V]]:
        after = start.encode()
        decode = kind.codec.decode
        # The first page takes ``start`` itself; the others go on after the
        # last key read.  Pages grow, so that a short read (one chunk of a
        # roster) costs one query and a long one few.
        stmt, n = _PAGE_FROM, SCAN_FIRST_PAGE
        while True:
            params = {"k": kind.name, "after": after, "n": n}
            conn = self._conn()
            if conn is not None:
                rows = conn.execute(stmt, params).all()
            else:
                with read_connection(self._engine) as c:
                    rows = c.execute(stmt, params).all()
            for key, value in rows:
                yield bytes(key).decode(), decode(bytes(value))
            if len(rows) < n:
                return
            after = bytes(rows[-1][0])
            stmt, n = _PAGE, min(n * 2, SCAN_PAGE)

    def kind_names(self) -> set[str]:
        """The kinds with a record stored."""
        with read_connection(self._engine) as conn:
            return {str(n) for n in conn.execute(select(_records.c.kind).distinct()).scalars()}

    def write(self, changes: Sequence[Change], counts: Mapping[str, int]) -> None:
        conn = self._conn()
        if conn is None:
            raise StoredLogError("state: written outside the append's transaction")
        keys = [{"k": kind.name, "key": key.encode()} for kind, key, _ in changes]
        conn.execute(_DELETE, keys)
        rows = [
            {"k": kind.name, "key": key.encode(), "v": kind.codec.encode(value)}
            for kind, key, value in changes
            if value is not None
        ]
        if rows:
            conn.execute(_INSERT, rows)
        for name, d in counts.items():
            if conn.execute(_ADD_COUNT, {"k": name, "d": d}).rowcount == 0:
                conn.execute(_NEW_COUNT, {"k": name, "d": d})


@dataclass(frozen=True)
class StateHead:
    """The head row: the log the stored state reflects, and its small part."""

    size: int
    leaf_hash: bytes
    compact_range: tuple[bytes, ...]
    head: bytes


def read_state_head(conn: Connection) -> StateHead | None:
    """The head row, or ``None`` when no state is stored — or a state of
    another form (:data:`verifiable.pool.state_head.HEAD_FORMAT`), which is
    then rebuilt as if there were none: one written before the log's index
    joined it, say."""
    row = conn.execute(select(_head).where(_head.c.id == 1)).first()
    if row is None or head_format(bytes(row.head)) != HEAD_FORMAT:
        return None
    packed = bytes(row.compact_range)
    hashes = tuple(packed[i : i + 32] for i in range(0, len(packed), 32))
    return StateHead(int(row.size), bytes(row.leaf_hash), hashes, bytes(row.head))


def other_form_stored(conn: Connection) -> bool:
    """Whether a head row is stored that :func:`read_state_head` does not
    take (a state of another form, waiting for its rebuild)."""
    row = conn.execute(select(_head.c.id).where(_head.c.id == 1)).first()
    return row is not None and read_state_head(conn) is None


def write_state_head(conn: Connection, replayer: Replayer) -> None:
    """Record that the stored state is ``replayer``'s (its records written
    through a store bound to ``conn``)."""
    values = {
        "size": replayer.size,
        "leaf_hash": replayer.head.head,
        "compact_range": b"".join(replayer.compact_range),
        "head": head_bytes(replayer.state),
    }
    if conn.execute(update(_head).where(_head.c.id == 1).values(**values)).rowcount == 0:
        conn.execute(insert(_head).values(id=1, **values))


def take_up(store: DbStateStore, head: StateHead | None) -> Replayer:
    """The replayer of the stored state whose head row is ``head`` (an empty
    state when there is none)."""
    if head is None:
        replayer = Replayer.taken_up(PoolState(store), ChainHead(0, GENESIS_PREV), ())
        replayer.index = LogIndex(store)
        return replayer
    state = resume(store, head.head)
    replayer = Replayer.taken_up(state, ChainHead(head.size, head.leaf_hash), head.compact_range)
    replayer.index = LogIndex(store, head.size, head.leaf_hash)
    return replayer


def _clear(conn: Connection) -> None:
    conn.execute(delete(_records))
    conn.execute(delete(_counts))
    conn.execute(delete(_head))


def feed_stored(
    engine: Engine, conn: Connection, replayer: Replayer, stop: int, chunk: int = CATCH_UP_CHUNK
) -> None:
    """Feed ``replayer`` the stored entries up to ``stop`` (its store bound
    to ``conn`` by the caller)."""
    for data in stored_entries(LogStore(engine), replayer.size, stop, "state", chunk):
        replayer.feed_bytes(data)


def stored_entries(
    log: LogStore, start: int, stop: int, what: str, chunk: int = CATCH_UP_CHUNK
) -> Iterator[bytes]:
    """The stored entries ``start`` to ``stop - 1``, read ``chunk`` at a
    time; a gap is :class:`StoredLogError`, named for ``what`` reads."""
    while start < stop:
        entries = log.entries(start, min(stop, start + chunk))
        if not entries:
            raise StoredLogError(f"{what}: the stored log has no entry {start} below size {stop}")
        yield from entries
        start += len(entries)


def catch_up(
    engine: Engine,
    store: DbStateStore,
    *,
    chunk: int = CATCH_UP_CHUNK,
    progress: Callable[[int, int], None] | None = None,
) -> Replayer:
    """Bring the stored state up to the stored log, ``chunk`` entries per
    transaction under the write lock; returns the replayer at the log's
    size.  With no state stored at all, it is built as :func:`rebuild`
    does.  Raises :class:`StoredLogError` if the stored state does not
    belong to the stored log (it is then rebuilt with :func:`rebuild`)."""
    with read_connection(engine) as conn:
        if read_state_head(conn) is None:
            rebuild(engine, chunk=chunk, progress=progress)
    while True:
        with write_transaction(engine) as conn, store.bound(conn):
            log_head = _read_head(conn)
            head = read_state_head(conn)
            replayer = take_up(store, head)
            if replayer.size > log_head.size:
                raise StoredLogError(
                    f"state: the stored state reflects {replayer.size} entries, the log holds "
                    f"{log_head.size}: rebuild it (mutualog-server state rebuild)"
                )
            if replayer.size == log_head.size:
                if replayer.head.head != log_head.leaf_hash:
                    raise StoredLogError(
                        f"state: the stored state is not of this log (last leaf at size "
                        f"{log_head.size}: {replayer.head.head.hex()}, the log's "
                        f"{log_head.leaf_hash.hex()}): rebuild it (mutualog-server state rebuild)"
                    )
                return replayer
            feed_stored(engine, conn, replayer, min(log_head.size, replayer.size + chunk), chunk)
            write_state_head(conn, replayer)
        if progress is not None:
            progress(replayer.size, log_head.size)


def rebuild(
    engine: Engine,
    *,
    chunk: int = CATCH_UP_CHUNK,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Empty the state tables and build them again from the stored log;
    returns the size they reflect.

    The log is replayed in memory (a :class:`MemoryStore`: the rules at the
    audit's speed, the memory of the whole state for the time of the
    command) and the records are written in one transaction, under the
    write lock, with whatever was appended meanwhile applied after them."""
    replayer, memory = _replayed_in_memory(engine, progress)
    with write_transaction(engine) as conn:
        if _read_head(conn).size < replayer.size:
            raise StoredLogError("state: the stored log shrank while the state was rebuilt")
        _clear(conn)
        for kind in memory.kinds():
            rows = (
                {"k": kind.name, "key": k.encode(), "v": kind.codec.encode(v)}
                for k, v in memory.scan(kind)
            )
            for batch in _batches(rows, BULK_ROWS):
                conn.execute(_INSERT, batch)
            conn.execute(_NEW_COUNT, {"k": kind.name, "d": memory.count(kind)})
        write_state_head(conn, replayer)
    return catch_up(engine, DbStateStore(engine), chunk=chunk).size


BULK_ROWS = 10_000
"""Rows per statement when a rebuild writes the records."""


def _batches(rows: Iterator[dict[str, Any]], n: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == n:
            yield batch
            batch = []
    if batch:
        yield batch


def _replayed_in_memory(
    engine: Engine, progress: Callable[[int, int], None] | None = None
) -> tuple[Replayer, MemoryStore]:
    """The stored log replayed into a :class:`MemoryStore`."""
    memory = MemoryStore()
    replayer = Replayer.taken_up(PoolState(memory), ChainHead(0, GENESIS_PREV), ())
    replayer.index = LogIndex(memory)
    log = LogStore(engine)
    size = log.size()
    for start in range(0, size, CATCH_UP_CHUNK):
        for data in log.entries(start, min(size, start + CATCH_UP_CHUNK)):
            replayer.feed_bytes(data)
        if progress is not None:
            progress(replayer.size, size)
    return replayer, memory


def check(engine: Engine, attempts: int = 3) -> str | None:
    """Recompute the state from the stored log, in memory, and compare it
    with the stored state: ``None`` if they are the same, else the first
    difference, named.  Appends may go on meanwhile: a difference found
    while the stored state moved on is looked for again, ``attempts`` times
    in all."""
    found: str | None = None
    for _ in range(attempts):
        with read_connection(engine) as conn:
            head = read_state_head(conn)
        if head is None:
            return "no state is stored (mutualog-server state rebuild builds it)"
        found = _difference(engine, head)
        if found is None:
            return None
        with read_connection(engine) as conn:
            if read_state_head(conn) == head:
                return found
    return found


def _difference(engine: Engine, head: StateHead) -> str | None:
    try:
        fresh, memory = _replayed_in_memory(engine)
    except MutualogError as e:
        return f"the stored log does not replay: {e}"
    if fresh.size < head.size:
        return f"the log holds {fresh.size} entries, the stored state reflects {head.size}"
    if fresh.size > head.size:
        return f"the stored state reflects {head.size} of the log's {fresh.size} entries"
    if fresh.head.head != head.leaf_hash:
        return f"head: the stored state's last leaf hash {head.leaf_hash.hex()} is not the log's"
    if fresh.compact_range != head.compact_range:
        return "head: the stored state's compact range is not the log's"
    if head_bytes(fresh.state) != head.head:
        return "head: the state's small part differs (rulebook, periods, seeds or juror pool)"
    return _first_record_difference(memory, DbStateStore(engine))


def _first_record_difference(memory: MemoryStore, store: DbStateStore) -> str | None:
    """The first kind and key whose record differs, in kind and key order."""
    kinds = memory.kinds()
    for name in sorted(store.kind_names() - {kind.name for kind in kinds}):
        return f"{name}: stored, but the log makes no such record"
    for kind in kinds:
        name = kind.name
        mine = ((k, kind.codec.encode(v)) for k, v in memory.scan(kind))
        theirs = ((k, kind.codec.encode(v)) for k, v in store.scan(kind))
        for a, b in _zip_longest(mine, theirs):
            if a is None:
                assert b is not None
                return f"{name} {b[0]}: stored, but not in the state the log gives"
            if b is None:
                return f"{name} {a[0]}: missing from the stored state"
            if a[0] != b[0]:
                if b[0] < a[0]:
                    return f"{name} {b[0]}: stored, but not in the state the log gives"
                return f"{name} {a[0]}: missing from the stored state"
            if a[1] != b[1]:
                return f"{name} {a[0]}: stored {b[1]!r}, the log gives {a[1]!r}"
        if memory.count(kind) != store.count(kind):
            return f"{name}: counted {store.count(kind)}, the log gives {memory.count(kind)}"
    return None


def _zip_longest(
    a: Iterator[tuple[str, bytes]], b: Iterator[tuple[str, bytes]]
) -> Iterator[tuple[tuple[str, bytes] | None, tuple[str, bytes] | None]]:
    sentinel = None
    while True:
        x, y = next(a, sentinel), next(b, sentinel)
        if x is None and y is None:
            return
        yield x, y
