"""The audit's pool state on disk, and the point an interrupted audit resumes from.

The rules replay of an audit (:class:`verifiable.pool.replay.Replayer`)
keeps the pool's records through a :class:`verifiable.pool.store.StateStore`.
With a state folder the audit gives it :class:`SqliteStore`: one SQLite file
per log, ``logs/<origin>/audit-state.sqlite``, whose table ``records`` holds
one row per record, found by kind and key through a unique index, its value
the kind's codec bytes (:mod:`verifiable.pool.store_codecs`).  Rows are
appended in the order records appear and only the small index is kept in
key order: new members' random ids then cost the index's pages, not the
table's.  What the replay reads most stays in memory: the writes not yet
saved and a cache of records read or saved, emptied when it passes
:data:`CACHE_RECORDS`; a Bloom filter of the file's keys spares a read for
a key it does not hold (docs/client.md, "Memory").

The saved point.  At each level-0 tile boundary the audit marks the store
(:meth:`SqliteStore.mark`) with where the walk is: the checkpoint it checks,
the :class:`~verifiable.log.tiledlog.LogPosition` (entries proven, chain
head, compact range) and the state's small part
(:func:`verifiable.pool.state_head.head_bytes`).  :meth:`SqliteStore.save`
writes the records changed up to the last mark and that point in one
transaction, so what is on disk is always a whole state at one tile
boundary: a crash or a SIGKILL loses at most the work since the last save,
and an interruption the audit sees (Ctrl-C, SIGTERM) saves first.

A damaged file never resumes an audit.  Each row carries a CRC-32 of its
kind, key and value, the saved row each kind's count and a SHA-256 sealing
the row; :func:`load` checks them against the whole table before a resume
and starts afresh, saying why, when anything differs or SQLite finds the
file malformed.  This guards against a damaged disk or a stray edit, not
against someone able to write the state folder, who could as well change
the pin.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from client.state import AuditProgress, StateError
from verifiable.log.merkle import HASH_SIZE
from verifiable.pool.store import Change, Kind

__all__ = ["CACHE_RECORDS", "STATE_FORMAT", "SavedPoint", "SqliteStore", "load", "open_fresh"]

V = TypeVar("V")

STATE_FORMAT = 1
"""The version of the file's layout; a file of another is started afresh."""

CACHE_RECORDS = 250_000
"""Records kept decoded in memory besides the unsaved writes (two
generations of half as many each: a record read again soon stays)."""

PAGE_CACHE_KIB = 64 * 1024
"""SQLite's own cache of the file's pages: the key index of a million
records (about 50 MiB) stays in it, so a save's inserts read no page back."""

PAGE_SIZE = 16384
"""Bytes of a page of a new file.  A save's keys are new members' random
ids, spread over the whole index: with pages four times SQLite's default
there are a quarter as many to write to the log and copy back at each save
(about a fifth less CPU a row inserted, measured at a million rows)."""

WAL_PAGES = 4096
"""Pages of write-ahead log between checkpoints (64 MiB): a save rewrites
most of the index, so a checkpoint after each would copy it all back each
time; with a few saves between checkpoints a page is copied once for them."""

SCAN_PAGE = 2_000
"""Rows read per query of a scan, paged by key."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    crc INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS records_by_key ON records (kind, key);
CREATE TABLE IF NOT EXISTS saved (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    format INTEGER NOT NULL,
    checkpoint BLOB NOT NULL,
    size INTEGER NOT NULL,
    chain_head BLOB NOT NULL,
    compact_range BLOB NOT NULL,
    head BLOB NOT NULL,
    counts BLOB NOT NULL,
    seal BLOB NOT NULL
);
"""

BLOOM_BITS = 16
"""Bits of the key filter per key it is sized for."""


def _crc(name: str, key: str, raw: bytes) -> int:
    return zlib.crc32(raw, zlib.crc32(f"{name}\0{key}\0".encode()))


class _Keys:
    """A Bloom filter of the keys in the file (two probes, :data:`BLOOM_BITS`
    bits per key), so that looking up a key the file does not hold — every
    new member's — seldom reads it.  Built afresh by each process (it uses
    Python's salted ``hash``, cached on each key's string), larger as it
    fills."""

    __slots__ = ("bits", "capacity", "m", "n")

    def __init__(self, capacity: int) -> None:
        self.capacity, self.n = capacity, 0
        self.m = capacity * BLOOM_BITS
        self.bits = bytearray(self.m // 8 + 1)

    def add(self, name: str, key: str) -> None:
        h, m, bits = hash(key) ^ hash(name), self.m, self.bits
        a, b = h % m, (h >> 32) % m
        bits[a >> 3] |= 1 << (a & 7)
        bits[b >> 3] |= 1 << (b & 7)
        self.n += 1


_MISS = object()


@dataclass(frozen=True)
class SavedPoint:
    """Where a saved audit stands: the walk's position and the state's small
    part (its records are in the store)."""

    progress: AuditProgress
    head: bytes


def _seal(point: SavedPoint, counts: bytes) -> bytes:
    p = point.progress
    h = hashlib.sha256()
    for part in (
        str(STATE_FORMAT).encode(),
        p.checkpoint,
        str(p.position).encode(),
        p.chain_head,
        b"".join(p.compact_range),
        point.head,
        counts,
    ):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.digest()


class SqliteStore:
    """A :class:`~verifiable.pool.store.StateStore` in an SQLite file.

    Reads look first in ``_mem``, per kind the records in memory: every
    write not yet saved and the records read or saved since the cache was
    last emptied (``None`` for a record known absent).  Writes also go to
    ``_pending`` (since the last :meth:`mark`) or, once marked, ``_ready``,
    which :meth:`save` writes."""

    def __init__(self, conn: sqlite3.Connection, cache_records: int = CACHE_RECORDS) -> None:
        self._conn = conn
        self._limit = cache_records
        self._kinds: dict[str, Kind[Any]] = {}
        self._mem: dict[str, dict[str, Any]] = {}
        self._pending: dict[str, dict[str, Any]] = {}
        self._ready: dict[str, dict[str, Any]] = {}
        self._pending_counts: dict[str, int] = {}
        self._ready_counts: dict[str, int] = {}
        self._counts: dict[str, int] = {}
        self._keys = _Keys(1 << 16)
        self._point: SavedPoint | None = None
        # Whether _mem holds every record: from a new, empty file until the
        # cache is first emptied.  Scans then need not read the file.
        self._complete = False
        self.saves = 0

    # -- reading -----------------------------------------------------------------

    def _load(self, kind: Kind[Any], key: str) -> Any:
        name = kind.name
        keys = self._keys
        h, m, bits = hash(key) ^ hash(name), keys.m, keys.bits
        a, b = h % m, (h >> 32) % m
        if not (bits[a >> 3] >> (a & 7) & 1 and bits[b >> 3] >> (b & 7) & 1):
            # Not in the file, nor in memory: a new member's id, looked up as
            # a member and as a past one at each join.  Not cached: asking
            # the filter again costs less than the room in the cache.
            return None
        value = None
        row = self._conn.execute(
            "SELECT value FROM records WHERE kind = ? AND key = ?", (name, key)
        ).fetchone()
        if row is not None:
            value = kind.codec.decode(bytes(row[0]))
        d = self._mem.get(name)
        if d is None:
            d = self._mem[name] = {}
            self._kinds[name] = kind
        d[key] = value
        return value

    def get(self, kind: Kind[V], key: str) -> V | None:
        d = self._mem.get(kind.name)
        if d is not None:
            value = d.get(key, _MISS)
            if value is not _MISS:
                found: V | None = value
                return found
        loaded: V | None = self._load(kind, key)
        return loaded

    def has(self, kind: Kind[Any], key: str) -> bool:
        d = self._mem.get(kind.name)
        if d is not None:
            value = d.get(key, _MISS)
            if value is not _MISS:
                return value is not None
        return self._load(kind, key) is not None

    def count(self, kind: Kind[Any]) -> int:
        name = kind.name
        return (
            self._counts.get(name, 0)
            + self._ready_counts.get(name, 0)
            + self._pending_counts.get(name, 0)
        )

    def scan(self, kind: Kind[V], start: str = "") -> Iterator[tuple[str, V]]:
        # The rules never scan from a key; the log's index does, and an
        # audit does not keep one: a filter is enough here.
        found: Iterator[tuple[str, V]]
        if self._complete:
            d = self._mem.get(kind.name, {})
            found = ((key, d[key]) for key in sorted(d) if d[key] is not None)
        else:
            found = self._merged(kind)
        return found if not start else ((k, v) for k, v in found if k >= start)

    def _merged(self, kind: Kind[V]) -> Iterator[tuple[str, V]]:
        name = kind.name
        overlay = dict(self._ready.get(name, {}))
        overlay.update(self._pending.get(name, {}))
        if not overlay:
            # The roster at a period's close: nothing unsaved to merge.
            yield from self._rows(kind)
            return
        mine = sorted(overlay)
        i, n = 0, len(mine)
        for key, value in self._rows(kind):
            while i < n and mine[i] < key:
                held = overlay[mine[i]]
                if held is not None:
                    yield mine[i], held
                i += 1
            if i < n and mine[i] == key:
                held = overlay[key]
                i += 1
                if held is not None:
                    yield key, held
                continue
            yield key, value
        for key in mine[i:]:
            held = overlay[key]
            if held is not None:
                yield key, held

    def _rows(self, kind: Kind[V]) -> Iterator[tuple[str, V]]:
        decode = kind.codec.decode
        after = ""
        while True:
            rows = self._conn.execute(
                "SELECT key, value FROM records WHERE kind = ? AND key > ? ORDER BY key LIMIT ?",
                (kind.name, after, SCAN_PAGE),
            ).fetchall()
            yield from ((key, decode(value)) for key, value in rows)
            if len(rows) < SCAN_PAGE:
                return
            after = rows[-1][0]

    # -- writing -----------------------------------------------------------------

    def write(self, changes: Sequence[Change], counts: Mapping[str, int]) -> None:
        mem, pending, kinds = self._mem, self._pending, self._kinds
        for kind, key, value in changes:
            name = kind.name
            d = pending.get(name)
            if d is None:
                d = pending[name] = {}
                kinds[name] = kind
            d[key] = value
            m = mem.get(name)
            if m is None:
                m = mem[name] = {}
            m[key] = value
        mine = self._pending_counts
        for name, n in counts.items():
            mine[name] = mine.get(name, 0) + n

    def mark(self, point: SavedPoint) -> None:
        """The writes so far make the state at ``point``: the next
        :meth:`save` writes them with it."""
        self._point = None  # an interrupted mark leaves nothing to save
        ready = self._ready
        for name, d in self._pending.items():
            r = ready.get(name)
            if r is None:
                ready[name] = d
            else:
                r.update(d)
        counts = self._ready_counts
        for name, n in self._pending_counts.items():
            counts[name] = counts.get(name, 0) + n
        self._pending, self._pending_counts = {}, {}
        self._point = point

    @property
    def records(self) -> int:
        """How many records the state holds."""
        return (
            sum(self._counts.values())
            + sum(self._ready_counts.values())
            + sum(self._pending_counts.values())
        )

    @property
    def marked(self) -> SavedPoint | None:
        """The point the next :meth:`save` saves, if any."""
        return self._point

    def save(self) -> SavedPoint | None:
        """Write the changes up to the last :meth:`mark` and its point, in
        one transaction; the point saved, or ``None`` when there is none."""
        point = self._point
        if point is None:
            return None
        counts = dict(self._counts)
        for name, n in self._ready_counts.items():
            counts[name] = counts.get(name, 0) + n
        puts: list[tuple[str, str, bytes, int]] = []
        gone: list[tuple[str, str]] = []
        crc32 = zlib.crc32
        keys = self._keys
        bits, m = keys.bits, keys.m
        # In key order (kinds by name, keys within each): SQLite then dirties
        # each page of the index once.
        for name, d in sorted(self._ready.items()):
            encode = self._kinds[name].codec.encode
            hn = hash(name)
            # _crc and _Keys.add, inlined: a save at a million members does
            # each as many times.  The filter may take a key before the
            # transaction is done: one it does not end up holding costs a read.
            for key in sorted(d):
                value = d[key]
                if value is None:
                    gone.append((name, key))
                else:
                    raw = encode(value)
                    puts.append((name, key, raw, crc32(raw, crc32(f"{name}\0{key}\0".encode()))))
                    h = hash(key) ^ hn
                    a, b = h % m, (h >> 32) % m
                    bits[a >> 3] |= 1 << (a & 7)
                    bits[b >> 3] |= 1 << (b & 7)
        keys.n += len(puts)
        counts_raw = json.dumps(sorted(counts.items()), separators=(",", ":")).encode()
        p = point.progress
        try:
            with self._conn as conn:
                conn.executemany("DELETE FROM records WHERE kind = ? AND key = ?", gone)
                conn.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)", puts)
                conn.execute(
                    "INSERT OR REPLACE INTO saved VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        STATE_FORMAT,
                        p.checkpoint,
                        p.position,
                        p.chain_head,
                        b"".join(p.compact_range),
                        point.head,
                        counts_raw,
                        _seal(point, counts_raw),
                    ),
                )
        except sqlite3.Error as e:
            raise StateError(f"audit state: cannot save: {e}") from e
        self._counts = counts
        self._ready, self._ready_counts = {}, {}
        if keys.n > keys.capacity:
            # Four times as large: each growth reads every key in the file.
            self._refilter(keys.n * 4)
        if sum(len(d) for d in self._mem.values()) > self._limit:
            # Empty the cache; what is not saved yet stays.
            self._mem = {name: dict(d) for name, d in self._pending.items()}
            self._complete = False
        self.saves += 1
        return point

    def _refilter(self, capacity: int) -> None:
        keys = _Keys(capacity)
        for name, key in self._conn.execute("SELECT kind, key FROM records"):
            keys.add(name, key)
        self._keys = keys

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._conn.close()


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.isolation_level = "DEFERRED"
    conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # a new file's; an old one keeps its own
    # The audit is the file's only user; a crash loses at most the last
    # save (WAL with synchronous=NORMAL never leaves a half-written one).
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
    conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_PAGES}")
    conn.executescript(_SCHEMA)
    return conn


def remove(path: Path) -> None:
    """Remove the state file and SQLite's files beside it."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        except OSError as e:
            raise StateError(f"{path}{suffix}: cannot remove: {e.strerror or e}") from e


def open_fresh(path: Path, cache_records: int = CACHE_RECORDS) -> SqliteStore:
    """An empty store in a new file at ``path`` (an old one is removed)."""
    remove(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        store = SqliteStore(_connect(path), cache_records)
    except (OSError, sqlite3.Error) as e:
        raise StateError(f"{path}: cannot create the audit state: {e}") from e
    store._complete = True
    return store


def _point_of(row: Sequence[Any]) -> SavedPoint:
    _, checkpoint, size, chain_head, packed, head = row[:6]
    packed = bytes(packed)
    if len(packed) % HASH_SIZE or len(chain_head) != HASH_SIZE or size <= 0 or size % 256:
        raise ValueError("the saved position's hashes or size are malformed")
    hashes = tuple(packed[i : i + HASH_SIZE] for i in range(0, len(packed), HASH_SIZE))
    progress = AuditProgress(bytes(checkpoint), size, bytes(chain_head), hashes, True)
    return SavedPoint(progress, bytes(head))


def _check(conn: sqlite3.Connection) -> tuple[SavedPoint, dict[str, int], _Keys] | None:
    """The saved point, the counts and a filter of the keys, once every
    record is found to match them; ``None`` when nothing is saved."""
    row = conn.execute("SELECT * FROM saved WHERE id = 1").fetchone()
    if row is None:
        return None
    if row[1] != STATE_FORMAT:
        raise ValueError(f"format {row[1]!r}, expected {STATE_FORMAT}")
    point = _point_of(row[1:])
    counts_raw, seal = bytes(row[7]), bytes(row[8])
    if _seal(point, counts_raw) != seal:
        raise ValueError("the saved point does not match its seal")
    expected = {str(name): int(n) for name, n in json.loads(counts_raw)}
    keys = _Keys(max(sum(expected.values()) * 2, 1 << 16))
    counts: dict[str, int] = {}
    for name, key, value, crc in conn.execute("SELECT kind, key, value, crc FROM records"):
        if _crc(name, key, bytes(value)) != crc:
            raise ValueError(f"the record {name} {key!r:.80} does not match its checksum")
        counts[name] = counts.get(name, 0) + 1
        keys.add(name, key)
    if counts != {k: n for k, n in expected.items() if n}:
        raise ValueError("the records' counts differ from the saved counts")
    return point, expected, keys


def load(path: Path, cache_records: int = CACHE_RECORDS) -> tuple[SqliteStore, SavedPoint] | str:
    """The store and saved point at ``path``, every record checked; else why
    the file cannot be used (``""`` when there is none)."""
    if not path.exists():
        return ""
    conn: sqlite3.Connection | None = None
    try:
        conn = _connect(path)
        checked = _check(conn)
    except (sqlite3.Error, ValueError, TypeError) as e:
        if conn is not None:
            conn.close()
        return f"saved audit state not usable ({e})"
    if checked is None:
        conn.close()
        return ""
    point, counts, keys = checked
    store = SqliteStore(conn, cache_records)
    store._counts, store._keys = counts, keys
    return store, point


def saved_position(path: Path) -> int | None:
    """The entries a saved audit state has proven, read without checking it
    (for a message), or ``None``."""
    if not path.exists():
        return None
    try:
        uri = f"{path.absolute().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
            row = conn.execute("SELECT size FROM saved WHERE id = 1").fetchone()
    except sqlite3.Error:
        return None
    return None if row is None else int(row[0])
