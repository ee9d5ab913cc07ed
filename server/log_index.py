"""The index of the stored log (:class:`verifiable.pool.log_index.LogIndex`),
as the database keeps it.

The index's records live in ``state_records`` beside the pool's state and
are written by the same replayer, in the append's transaction
(:mod:`server.pool.state_store`): a process reads the few records a page or
a bundle needs and holds none, whatever the pool's size.  The bundles
(:mod:`server.bundles`), the closed periods' rosters and members' deductions
(:mod:`server.rosters`), the public figures (:mod:`server.pool_figures`) and
the members' notices read it through :func:`stored_index`.

The index is fed the stored entries, not the pool's replayed state, so the
bundles built from it show the log as its entries say, and the member's
check tells.  A stored log that grew without its index (a bulk load, a
restore) is caught up the way the state is, by the state's catch-up.

A closed period's roster was summarized when its ``period.closed`` was
written (:func:`verifiable.pool.roster.roster_summary`): a member's roster
proof reads that summary and one chunk of members (:class:`PeriodRoster`),
for any period, old or new.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import overload

from sqlalchemy import Engine

from server.db import read_connection
from server.pool.state_store import DbStateStore, catch_up, read_state_head, stored_entries
from server.storage import LogStore, StoredLogError
from verifiable.errors import MutualogError
from verifiable.log.bodies import PeriodClosed
from verifiable.log.entry import GENESIS_PREV
from verifiable.log.fields import format_date
from verifiable.pool.log_index import LogIndex
from verifiable.pool.roster import RosterSummary

__all__ = [
    "NoSuchPeriodError",
    "PeriodRoster",
    "StoredLogIndex",
    "stored_index",
]

_log = logging.getLogger(__name__)


class NoSuchPeriodError(MutualogError):
    """A period that has no ``period.closed`` entry in the log."""


class _RosterIds(Sequence[str]):
    """A closed period's roster by position, read a chunk at a time: what a
    roster proof slices (:func:`verifiable.pool.bundle_builder.deduction_bundle`)
    without the whole roster in memory."""

    def __init__(self, index: LogIndex, period: date, summary: RosterSummary) -> None:
        self._index, self._period, self._summary = index, period, summary
        # The last chunk read: a proof asks whether the member is on the
        # roster, then for the same chunk again.
        self._last: tuple[int, list[str]] | None = None

    def __len__(self) -> int:
        return self._summary.size

    def _chunk(self, n: int) -> list[str]:
        last = self._last
        if last is not None and last[0] == n:
            return last[1]
        chunk = self._index.roster_chunk(self._period, n)
        self._last = (n, chunk)
        return chunk

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[str]: ...

    def __getitem__(self, i: int | slice) -> str | Sequence[str]:
        level = self._summary.level
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step != 1:
                raise ValueError("a roster is read by ranges")
            out: list[str] = []
            n = start >> level
            while start + len(out) < stop:
                chunk = self._chunk(n)
                base = n << level
                out.extend(chunk[max(0, start - base) : stop - base])
                n += 1
            return out
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._chunk(i >> level)[i & ((1 << level) - 1)]

    def __iter__(self) -> Iterator[str]:
        for n in range(-(-len(self) >> self._summary.level)):
            yield from self._chunk(n)


@dataclass(frozen=True)
class PeriodRoster:
    """A closed period's roster as the log's joins and leaves give it: its
    summary, its ids by position (read a chunk at a time), and the
    ``period.closed`` entry (with its seq) it should match."""

    ids: Sequence[str]
    summary: RosterSummary
    seq: int
    closed: PeriodClosed

    @property
    def matches(self) -> bool:
        """Whether the roster hashes to what its ``period.closed`` commits to."""
        closed = self.closed
        return (self.summary.root, self.summary.size) == (closed.roster_root, closed.roster_size)

    def mismatch(self) -> str:
        summary, closed = self.summary, self.closed
        return (
            f"the roster of period {format_date(closed.period)} derived from the log has "
            f"{summary.size} members and root {summary.root.hex()}; entry {self.seq} commits "
            f"to {closed.roster_size} and {closed.roster_root.hex()}"
        )

    def holds(self, member: str) -> bool:
        summary = self.summary
        if summary.size == 0 or member < summary.firsts[0]:
            return False
        start, _ = summary.chunk_range(summary.chunk_of(member))
        chunk = self.ids[start : start + (1 << summary.level)]
        return member in chunk


class StoredLogIndex:
    """The :class:`LogIndex` of one database's log.  :attr:`lock` is kept
    for the callers that read several records as one answer; the records
    themselves are read from the database, each as committed."""

    def __init__(self, engine: Engine) -> None:
        # A weak reference: the registry below is keyed by the engine.
        self._engine = weakref.ref(engine)
        self.lock = threading.RLock()
        # The index of a stored log the rules refuse, read from its entries
        # into memory: only such a log has one (see catch_up).
        self._read: LogIndex | None = None

    @property
    def engine(self) -> Engine:
        engine = self._engine()
        if engine is None:
            raise StoredLogError("index: its database is gone")
        return engine

    @property
    def store(self) -> LogStore:
        return LogStore(self.engine)

    @property
    def index(self) -> LogIndex:
        """The index as stored now (no catching up)."""
        engine = self.engine
        with read_connection(engine) as conn:
            head = read_state_head(conn)
        if head is None:
            return LogIndex(DbStateStore(engine), 0, GENESIS_PREV)
        return LogIndex(DbStateStore(engine), head.size, head.leaf_hash)

    def catch_up(self, size: int | None = None) -> LogIndex:
        """The index, holding at least the first ``size`` entries (default:
        all those under the latest checkpoint)."""
        store = self.store
        target = store.size() if size is None else size
        # Read after the size: the state's head row is written with the
        # entries, so only a log that grew without its state is behind it,
        # and an append racing this read never sends it to the catch-up.
        index = self.index
        if index.size >= target:
            return index
        try:
            # The log grew without its state and index: the state's
            # catch-up feeds both, under the write lock.
            catch_up(self.engine, DbStateStore(self.engine))
        except MutualogError as e:
            # A stored log the rules refuse has no state past the entry
            # that broke them, and so no stored index.  Its bundles are
            # still served as its entries say, and the member's check
            # tells: the index is read from the entries into memory, which
            # only such a log costs.
            _log.warning("index: read from the entries, as the state is not: %s", e)
            return self._from_entries(store, target)
        return self.index

    def _from_entries(self, store: LogStore, size: int) -> LogIndex:
        with self.lock:
            read = self._read
            if read is None or read.size > store.size():
                read = self._read = LogIndex()
            for data in stored_entries(store, read.size, size, "index"):
                try:
                    read.feed_bytes(data)
                except MutualogError as e:
                    raise StoredLogError(
                        f"index: the stored log cannot be read at entry {read.size}: {e}"
                    ) from e
            return read

    def _current(self) -> LogIndex:
        """The index the last catch-up gave: the stored one, or the one read
        from the entries of a log the rules refuse."""
        stored = self.index
        read = self._read
        return read if read is not None and read.size > stored.size else stored

    @contextmanager
    def at(self, size: int | None = None) -> Iterator[LogIndex]:
        """The index caught up to ``size``, with :attr:`lock` held."""
        with self.lock:
            yield self.catch_up(size)

    def closed(self, period: date) -> tuple[int, PeriodClosed]:
        """The seq and body of the period's ``period.closed``."""
        found = self._current().closed.get(period)
        if found is None:
            raise NoSuchPeriodError(f"period {format_date(period)} has not closed")
        return found

    def roster(self, period: date) -> PeriodRoster:
        """The roster of ``period``, which must have closed."""
        index = self._current()
        found = index.closed.get(period)
        summary = index.rosters.get(period)
        if found is None or summary is None:
            raise NoSuchPeriodError(f"period {format_date(period)} has not closed")
        seq, closed = found
        roster = PeriodRoster(_RosterIds(index, period, summary), summary, seq, closed)
        if not roster.matches:
            _log.warning("index: %s", roster.mismatch())
        return roster


_indexes: weakref.WeakKeyDictionary[Engine, StoredLogIndex] = weakref.WeakKeyDictionary()
_indexes_lock = threading.Lock()


def stored_index(engine: Engine) -> StoredLogIndex:
    """The index of the log stored in ``engine``'s database."""
    with _indexes_lock:
        held = _indexes.get(engine)
        if held is None:
            held = _indexes[engine] = StoredLogIndex(engine)
    return held
