"""The log's storage: entries, complete-subtree hashes and checkpoints in SQL.

Every complete subtree of the RFC 9162 tree is stored once, when the append
that completes it commits: level 0 (the leaf hashes) as ``entries.leaf_hash``,
levels 1 and up in ``subtree_hashes``.  Whatever :mod:`verifiable.log.merkle`
plans, a proof (RFC 9162 §2.1.3, §2.1.4) or a root is then one query of
O(log n) rows (:meth:`LogStore.read_hashes`), and a C2SP tlog-tiles tile at
level L is one range query at tree level 8L (:meth:`LogStore.level_hashes`).
docs/storage.md gives the reasons and the crash-safety argument.

Reads need no lock: rows are only ever added, each append in one
transaction, so any snapshot a reader sees is a whole log up to the
checkpoint it holds.  Writes go through :func:`server.db.write_transaction`;
the sequencer uses the ``_`` helpers here on its locked connection.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from itertools import islice
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, func, insert, select

from server.db import is_sqlite, raw_read_connection, read_connection, write_transaction
from server.hashbatch import HashBatcher
from server.models import CheckpointRow, EntryRow, SubtreeHashRow
from verifiable.errors import MalformedError, MutualogError, VerificationError
from verifiable.log.checkpoint import Checkpoint
from verifiable.log.entry import GENESIS_PREV, MAX_ENTRY_SIZE, parse_entry
from verifiable.log.merkle import (
    CompactTree,
    Subtree,
    SubtreeHash,
    consistency_proof_from,
    inclusion_proof_from,
    root_hash_from,
    root_subtrees,
)
from verifiable.log.note import Note

__all__ = [
    "LoadError",
    "LogHead",
    "LogNotEmptyError",
    "LogStore",
    "NotInLogError",
    "StorageError",
    "StoredLogError",
]

_entries = cast(Table, EntryRow.__table__)
_subtrees = cast(Table, SubtreeHashRow.__table__)
_checkpoints = cast(Table, CheckpointRow.__table__)

#: Rows per INSERT batch when loading a whole log.
LOAD_CHUNK = 10_000


class StorageError(MutualogError):
    """Base class of the storage layer's errors."""


class NotInLogError(StorageError):
    """A request about an index or tree size the log has not reached."""


class StoredLogError(StorageError):
    """The database holds something a log written by this code never holds
    (a gap in ``seq``, a checkpoint that disagrees with the entries)."""


class LogNotEmptyError(StorageError):
    """A bulk load into a database that already holds a log."""


class LoadError(VerificationError):
    """Entries offered for a bulk load that do not match their checkpoint."""


@dataclass(frozen=True)
class LogHead:
    """The end of the log as the sequencer extends it.

    ``leaf_hash`` is the last entry's leaf hash (the next entry's ``prev``;
    ``GENESIS_PREV`` for an empty log), ``time`` the last entry's time
    (``None`` for an empty log) and ``compact_range`` the hashes of
    ``root_subtrees(size)``, from which the tree continues.
    """

    size: int
    leaf_hash: bytes
    time: datetime | None
    compact_range: tuple[bytes, ...]

    def tree(self) -> CompactTree:
        return CompactTree.from_compact_range(self.size, self.compact_range)


# --- queries on a connection (shared by LogStore and the sequencer) ------------

_SIZE_QUERY = select(func.max(_checkpoints.c.size))
_LATEST_CHECKPOINT = select(_checkpoints.c.note).order_by(_checkpoints.c.size.desc()).limit(1)
_LAST_ENTRY = (
    select(_entries.c.seq, _entries.c.data, _entries.c.leaf_hash)
    .order_by(_entries.c.seq.desc())
    .limit(1)
)


@lru_cache(maxsize=1024)
def _sqlite_hashes_sql(leaves: int, nodes: int) -> str:
    """The one SQLite query reading ``leaves`` leaf hashes and ``nodes``
    higher subtree hashes, as ``(level, idx, hash)`` rows.

    The node keys are an OR of point lookups, which SQLite answers with one
    primary-key search per term; a row-value IN ("(level, idx) IN (VALUES
    ...)") it answers with a full scan.  Built once per shape.
    """
    parts = []
    if leaves:
        keys = ", ".join(["?"] * leaves)
        parts.append(f"SELECT 0, seq, leaf_hash FROM entries WHERE seq IN ({keys})")
    if nodes:
        keys = " OR ".join(["(level = ? AND idx = ?)"] * nodes)
        parts.append(f"SELECT level, idx, hash FROM subtree_hashes WHERE {keys}")
    return " UNION ALL ".join(parts)


# PostgreSQL takes the keys as arrays, so the text never changes and psycopg
# prepares it once per connection: no parsing or planning per proof.
_POSTGRESQL_HASHES_SQL = (
    "SELECT 0::smallint, seq, leaf_hash FROM entries WHERE seq = ANY(%s::bigint[]) "
    "UNION ALL "
    "SELECT s.level, s.idx, s.hash FROM subtree_hashes s "
    "JOIN unnest(%s::smallint[], %s::bigint[]) AS k(level, idx) "
    "ON s.level = k.level AND s.idx = k.idx"
)


def _size(conn: Connection) -> int:
    size = conn.execute(_SIZE_QUERY).scalar()
    return 0 if size is None else int(size)


def _latest_checkpoint(conn: Connection) -> bytes | None:
    note = conn.execute(_LATEST_CHECKPOINT).scalar()
    return None if note is None else bytes(note)


_RAW_SIZE_SQL = "SELECT max(size) FROM checkpoints"


def _fetch_hashes(conn: Connection, subtrees: Sequence[Subtree]) -> dict[tuple[int, int], bytes]:
    """The stored hashes of those of ``subtrees`` the log has, in one query,
    keyed by ``(level, index)`` (a :class:`Subtree` finds its own)."""
    # Straight to the driver's cursor: SQLAlchemy's per-execute bookkeeping
    # costs about as much as the query on this hot path, and a read needs
    # none of it (no events, no result processing; both drivers return
    # BLOB and BYTEA as bytes).
    return _fetch_hashes_raw(conn.connection, is_sqlite(conn), subtrees)


def _fetch_hashes_raw(
    dbapi_conn: Any, sqlite: bool, subtrees: Sequence[Subtree]
) -> dict[tuple[int, int], bytes]:
    """:func:`_fetch_hashes` on a driver connection."""
    if sqlite:
        leaves: list[int] = []
        nodes: list[int] = []
        for key in subtrees:
            if key[0]:
                nodes.extend(key)
            else:
                leaves.append(key[1])
        sql = _sqlite_hashes_sql(len(leaves), len(nodes) >> 1)
        cursor = dbapi_conn.execute(sql, (*leaves, *nodes))
        rows = cursor.fetchall()
    else:
        leaves = [index for level, index in subtrees if not level]
        levels = [level for level, _ in subtrees if level]
        indexes = [index for level, index in subtrees if level]
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(_POSTGRESQL_HASHES_SQL, (leaves, levels, indexes))
            rows = cursor.fetchall()
        finally:
            cursor.close()
    return {(row[0], row[1]): row[2] for row in rows}


def _raw_size(dbapi_conn: Any) -> int:
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute(_RAW_SIZE_SQL)
        row = cursor.fetchone()
    finally:
        cursor.close()
    return 0 if row is None or row[0] is None else int(row[0])


def _read_hashes(conn: Connection, subtrees: Sequence[Subtree]) -> list[bytes]:
    if not subtrees:
        return []
    found = _fetch_hashes(conn, subtrees)
    try:
        return [found[key] for key in subtrees]
    except KeyError:
        missing = next(Subtree(*key) for key in subtrees if key not in found)
        raise NotInLogError(
            f"subtree at level {missing.level}, index {missing.index} (leaves "
            f"{missing.start}..{missing.end - 1}) is not in the log of size {_size(conn)}"
        ) from None


def _read_head(conn: Connection) -> LogHead:
    """The head of the log, cross-checked: the entries end where the latest
    checkpoint says.  Call inside the write lock to extend the log."""
    size = _size(conn)
    last = conn.execute(_LAST_ENTRY).first()
    last_seq = -1 if last is None else int(last.seq)
    if last_seq != size - 1:
        raise StoredLogError(
            f"stored log: the latest checkpoint has size {size}, but the last entry is "
            f"{'missing' if last is None else f'seq {last_seq}'}"
        )
    if last is None:
        return LogHead(0, GENESIS_PREV, None, ())
    entry = parse_entry(bytes(last.data), seq=last_seq)
    hashes = _read_hashes(conn, root_subtrees(size))
    return LogHead(size, bytes(last.leaf_hash), entry.time, tuple(hashes))


def _insert(
    conn: Connection,
    first_seq: int,
    entries: Sequence[bytes],
    leaf_hashes: Sequence[bytes],
    subtree_hashes: Iterable[SubtreeHash],
) -> None:
    """Store entries from ``first_seq`` on and the complete subtrees they
    finish (level 0 comes from ``leaf_hashes`` and is skipped here)."""
    rows = list(zip(range(first_seq, first_seq + len(entries)), entries, leaf_hashes, strict=True))
    nodes = [(s.level, s.index, s.hash) for s in subtree_hashes if s.level]
    # Straight to the driver, positional tuples: building a dict per row and
    # running SQLAlchemy's parameter processing on it took about a quarter of
    # an append's storage time, for columns that need no conversion.
    cursor = conn.connection.cursor()
    try:
        if is_sqlite(conn):
            cursor.executemany("INSERT INTO entries (seq, data, leaf_hash) VALUES (?, ?, ?)", rows)
            cursor.executemany(
                "INSERT INTO subtree_hashes (level, idx, hash) VALUES (?, ?, ?)", nodes
            )
        else:
            # COPY streams the rows in one go instead of one bind and execute
            # per row; appends got about a fifth faster end to end.
            _copy(cursor, "COPY entries (seq, data, leaf_hash) FROM STDIN", rows)
            _copy(cursor, "COPY subtree_hashes (level, idx, hash) FROM STDIN", nodes)
    finally:
        cursor.close()


def _copy(cursor: Any, statement: str, rows: Sequence[tuple[int, int | bytes, bytes]]) -> None:
    if rows:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)


def _insert_checkpoint(conn: Connection, size: int, note: bytes) -> None:
    conn.execute(insert(_checkpoints), [{"size": size, "note": note}])


def _chunks(items: Iterable[bytes], n: int) -> Iterator[list[bytes]]:
    it = iter(items)
    while chunk := list(islice(it, n)):
        yield chunk


def _check_range(start: object, stop: object, what: str) -> tuple[int, int]:
    if type(start) is not int or type(stop) is not int or not 0 <= start <= stop:
        raise MalformedError(f"{what}: range [{start!r}, {stop!r}) is not 0 <= start <= stop")
    return start, stop


class LogStore:
    """Read access to a stored log, and bulk loading of an empty one.

    Safe to share between threads; each call checks out its own connection.
    Proofs and roots read their hashes through a :class:`HashBatcher` when
    ``batched`` (the default on PostgreSQL, where the round trip is the cost;
    SQLite answers in-process, and its threads read in parallel), so the
    proofs threads ask for at the same time share one query.
    """

    def __init__(self, engine: Engine, *, batched: bool | None = None) -> None:
        self._engine = engine
        self._sqlite = is_sqlite(engine)
        if batched is None:
            batched = not self._sqlite
        self._batcher = HashBatcher(self._fetch_now) if batched else None

    def _fetch_now(self, subtrees: Sequence[Subtree]) -> dict[tuple[int, int], bytes]:
        with raw_read_connection(self._engine) as conn:
            return _fetch_hashes_raw(conn, self._sqlite, subtrees)

    def _fetch(self, subtrees: Sequence[Subtree]) -> dict[tuple[int, int], bytes]:
        """The stored hashes of ``subtrees`` in one query, shared with other
        threads' when batched."""
        if self._batcher is not None:
            return self._batcher.fetch(subtrees)
        return self._fetch_now(subtrees)

    def _raw_size(self) -> int:
        with raw_read_connection(self._engine) as conn:
            return _raw_size(conn)

    def size(self) -> int:
        """Size of the latest checkpoint (0 for a log with none)."""
        with read_connection(self._engine) as conn:
            return _size(conn)

    def latest_checkpoint(self) -> bytes | None:
        """The latest signed checkpoint note, or ``None`` before the first."""
        with read_connection(self._engine) as conn:
            return _latest_checkpoint(conn)

    def checkpoint(self, size: int) -> bytes | None:
        """The signed checkpoint note the sequencer produced at ``size``, if any."""
        with read_connection(self._engine) as conn:
            note = conn.execute(
                select(_checkpoints.c.note).where(_checkpoints.c.size == size)
            ).scalar()
        return None if note is None else bytes(note)

    def entries(self, start: int, stop: int) -> list[bytes]:
        """The stored entries with ``start <= seq < stop``, in order (fewer
        than ``stop - start`` where the log ends first)."""
        start, stop = _check_range(start, stop, "entries")
        query = (
            select(_entries.c.data)
            .where(_entries.c.seq >= start, _entries.c.seq < stop)
            .order_by(_entries.c.seq)
        )
        with read_connection(self._engine) as conn:
            return [bytes(data) for data in conn.execute(query).scalars()]

    def entry(self, index: int) -> bytes | None:
        """Entry ``index``, or ``None`` if the log has not reached it."""
        if type(index) is not int or index < 0:
            raise MalformedError(f"entry index {index!r} is not a non-negative integer")
        with read_connection(self._engine) as conn:
            data = conn.execute(select(_entries.c.data).where(_entries.c.seq == index)).scalar()
        return None if data is None else bytes(data)

    def level_hashes(self, level: int, start: int, stop: int) -> list[bytes]:
        """Hashes of the complete subtrees ``(level, i)`` for ``start <= i < stop``
        that exist, in order: the content of the tile at tile level
        ``level // 8`` when ``level`` is a multiple of 8."""
        if type(level) is not int or not 0 <= level <= 63:
            raise MalformedError(f"subtree level {level!r} is not in 0..63")
        start, stop = _check_range(start, stop, f"level {level} hashes")
        query: Any
        if level == 0:
            query = (
                select(_entries.c.leaf_hash)
                .where(_entries.c.seq >= start, _entries.c.seq < stop)
                .order_by(_entries.c.seq)
            )
        else:
            query = (
                select(_subtrees.c.hash)
                .where(
                    _subtrees.c.level == level,
                    _subtrees.c.idx >= start,
                    _subtrees.c.idx < stop,
                )
                .order_by(_subtrees.c.idx)
            )
        with read_connection(self._engine) as conn:
            return [bytes(h) for h in conn.execute(query).scalars()]

    def read_hashes(self, subtrees: Sequence[Subtree]) -> list[bytes]:
        """:class:`verifiable.log.merkle.HashReader`: the hash of each complete
        subtree, in order, in one query.  Raises :class:`NotInLogError` for a
        subtree the log has not completed."""
        with read_connection(self._engine) as conn:
            return _read_hashes(conn, subtrees)

    def find_leaf(self, leaf_hash: bytes) -> int | None:
        """The index of the entry with this leaf hash, or ``None``."""
        if type(leaf_hash) is not bytes or len(leaf_hash) != 32:
            raise MalformedError("leaf hash: expected 32 bytes")
        query = select(func.min(_entries.c.seq)).where(_entries.c.leaf_hash == leaf_hash)
        with read_connection(self._engine) as conn:
            seq = conn.execute(query).scalar()
        return None if seq is None else int(seq)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 §2.1.3.1 inclusion proof of entry ``index`` in the tree of
        ``size`` entries; ``size`` may be any size up to the log's.

        Raises :class:`MalformedError` for arguments no tree allows and
        :class:`NotInLogError` for a ``size`` beyond the log."""
        # The hot read path: one statement, on the driver's connection.
        reader = _SizedReader(self, size, "inclusion proof for leaf ", index)
        proof = inclusion_proof_from(reader, index, size)
        reader.check_size()
        return proof

    def leaf_and_inclusion_proof(self, index: int, size: int) -> tuple[bytes, list[bytes]]:
        """Entry ``index``'s leaf hash and :meth:`inclusion_proof`, read in
        the same query (the API's answer in one round trip)."""
        reader = _SizedReader(self, size, "inclusion proof for leaf ", index)
        if type(index) is int and 0 <= index < size:
            reader.also(Subtree(0, index))
        proof = inclusion_proof_from(reader, index, size)
        reader.check_size()
        return reader.extra(), proof

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        """RFC 9162 §2.1.4.1 consistency proof between tree sizes ``old`` and
        ``new`` (``0 < old <= new``; :class:`NotInLogError` past the log)."""
        reader = _SizedReader(self, new, "consistency proof from size ", old)
        proof = consistency_proof_from(reader, old, new)
        reader.check_size()
        return proof

    def root_hash(self, size: int) -> bytes:
        """RFC 9162 tree hash of the first ``size`` entries."""
        reader = _SizedReader(self, size, "root hash", "")
        root = root_hash_from(reader, size)
        reader.check_size()
        return root

    def load(self, entries: Iterable[bytes], checkpoint_note: bytes) -> None:
        """Bulk-load a whole verified log into an empty database, in one
        transaction: nothing is written unless all of it is.

        The caller verifies the checkpoint's signature and the entries' chain
        (restore does); this checks that the entries are exactly the tree the
        checkpoint names (their count and root), so a mismatched load cannot
        leave the database serving tiles that contradict its checkpoint.
        Raises :class:`LogNotEmptyError` if the database holds any entry or
        checkpoint, :class:`LoadError` on a mismatch.
        """
        try:
            checkpoint = Checkpoint.from_text(Note.from_bytes(checkpoint_note).text)
        except MalformedError as e:
            raise MalformedError(f"load: checkpoint note: {e}") from e
        with write_transaction(self._engine) as conn:
            has_entry = conn.execute(select(_entries.c.seq).limit(1)).first() is not None
            has_checkpoint = _latest_checkpoint(conn) is not None
            if has_entry or has_checkpoint:
                raise LogNotEmptyError(
                    f"load: the database already holds a log of size {_size(conn)}; "
                    "restore only into an empty database"
                )
            tree = CompactTree()
            for chunk in _chunks(entries, LOAD_CHUNK):
                seq = tree.size
                if seq + len(chunk) > checkpoint.size:
                    raise LoadError(
                        f"load: more than the checkpoint's {checkpoint.size} entries offered"
                    )
                for i, data in enumerate(chunk):
                    if len(data) > MAX_ENTRY_SIZE:
                        raise LoadError(
                            f"load: entry {seq + i} is {len(data)} bytes, "
                            f"more than the {MAX_ENTRY_SIZE} allowed"
                        )
                sha = hashlib.sha256
                leaf_hashes = [sha(b"\x00" + data).digest() for data in chunk]
                _insert(conn, seq, chunk, leaf_hashes, tree.extend(leaf_hashes))
            if tree.size != checkpoint.size:
                raise LoadError(
                    f"load: {tree.size} entries offered, the checkpoint has size {checkpoint.size}"
                )
            if tree.root() != checkpoint.root_hash:
                raise LoadError(
                    f"load: the entries hash to root {tree.root().hex()}, "
                    f"the checkpoint has {checkpoint.root_hash.hex()}"
                )
            _insert_checkpoint(conn, checkpoint.size, checkpoint_note)


class _SizedReader:
    """A HashReader for a result about the tree of ``size`` entries, reading
    through ``store``'s one-query fetch.

    Each read also fetches leaf ``size - 1``, which is stored exactly when the
    log has reached ``size`` (entries and their checkpoint commit together):
    the check that the size is not beyond the log rides on the proof's own
    query instead of costing another.  ``what`` and ``detail`` make up the
    name of the result in errors (joined only when one is raised).
    """

    __slots__ = ("_checked", "_detail", "_extra", "_found_extra", "_size", "_store", "_what")

    def __init__(self, store: LogStore, size: int, what: str, detail: object) -> None:
        self._store = store
        self._size = size
        self._what = what
        self._detail = detail
        self._checked = False
        self._extra: Subtree | None = None
        self._found_extra: bytes | None = None

    def also(self, key: Subtree | None) -> None:
        """Read ``key`` too, in the first read (:meth:`extra` returns it)."""
        self._extra = key

    def extra(self) -> bytes:
        """The hash of the key given to :meth:`also`, read with the result."""
        if self._found_extra is None:
            # The result needed no read (a tree of one leaf): read it alone.
            assert self._extra is not None
            self.read_hashes([])
        assert self._found_extra is not None
        return self._found_extra

    def _where(self) -> str:
        return f"{self._what}{self._detail}"

    def _beyond(self) -> NotInLogError:
        return NotInLogError(
            f"{self._where()}: tree size {self._size} is beyond the log's size "
            f"{self._store._raw_size()}"
        )

    def read_hashes(self, subtrees: Sequence[Subtree]) -> list[bytes]:
        guard = Subtree(0, self._size - 1)
        extra = self._extra
        keys = [*subtrees, guard] if extra is None else [*subtrees, guard, extra]
        found = self._store._fetch(keys)
        self._checked = True
        if guard not in found:
            raise self._beyond()
        try:
            if extra is not None:
                self._found_extra = found[extra]
                self._extra = None
            return [found[key] for key in subtrees]
        except KeyError:
            missing = next(key for key in keys if key not in found)
            raise StoredLogError(
                f"{self._where()}: stored log has leaf {self._size - 1} but lacks the "
                f"subtree at level {missing[0]}, index {missing[1]}"
            ) from None

    def check_size(self) -> None:
        """For results that needed no read (an empty proof, the empty root)."""
        if not self._checked and type(self._size) is int and self._size > self._store._raw_size():
            raise self._beyond()
