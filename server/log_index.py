"""The index of the stored log: one :class:`verifiable.pool.log_index.LogIndex`
per database, read from the stored entries once and then only from where it
stopped, shared by the bundles (:mod:`server.bundles`), the closed periods'
rosters and members' deductions (:mod:`server.rosters`) and the public
figures (:mod:`server.pool_figures`).

The index is fed the stored entries, not the pool's replayed state, so a log
that breaks a rule is indexed as its entries say (its bundles are still
served, and the member's check tells); a stored entry that does not decode or
does not chain is a :class:`server.storage.StoredLogError`.

A closed period's roster is derived from the index once, sorted and
summarized (:func:`verifiable.pool.roster.roster_summary`) and kept
(:class:`PeriodRoster`): a closed period's roster never changes, and a
member's roster proof then costs one chunk of it, not a pass over all of it.
"""

from __future__ import annotations

import bisect
import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine

from server.storage import LogStore, StoredLogError
from verifiable.errors import MutualogError
from verifiable.log.bodies import PeriodClosed
from verifiable.log.fields import format_date
from verifiable.pool.log_index import LogIndex
from verifiable.pool.roster import RosterSummary, roster_summary

__all__ = [
    "CATCH_UP_CHUNK",
    "ROSTERS_KEPT",
    "ROSTER_SUMMARY_LEVEL",
    "NoSuchPeriodError",
    "PeriodRoster",
    "StoredLogIndex",
    "read_into",
    "stored_index",
]

_log = logging.getLogger(__name__)

CATCH_UP_CHUNK = 5_000
"""Entries read per query while catching up with the stored log."""

ROSTER_SUMMARY_LEVEL = 12
"""Chunks of 4,096 members: a roster proof hashes one chunk and one hash per chunk above it."""


class NoSuchPeriodError(MutualogError):
    """A period that has no ``period.closed`` entry in the log."""


ROSTERS_KEPT = 3
"""Closed periods whose rosters are kept in memory, the most recently asked for."""


@dataclass(frozen=True)
class PeriodRoster:
    """A closed period's roster as the log's joins and leaves give it: its
    sorted ids, their summary, and the ``period.closed`` entry (with its
    seq) it should match."""

    ids: list[str]
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
        i = bisect.bisect_left(self.ids, member)
        return i < len(self.ids) and self.ids[i] == member


def read_into(index: LogIndex, store: LogStore, size: int) -> None:
    """Feed ``index`` the stored entries from where it stopped up to ``size``."""
    while index.size < size:
        start = index.size
        chunk = store.entries(start, min(size, start + CATCH_UP_CHUNK))
        if not chunk:
            raise StoredLogError(f"index: the stored log has no entry {start}")
        for data in chunk:
            try:
                index.feed_bytes(data)
            except MutualogError as e:
                raise StoredLogError(
                    f"index: the stored log cannot be read at entry {index.size}: {e}"
                ) from e


class StoredLogIndex:
    """The :class:`LogIndex` of one database's log, and the rosters of the
    closed periods asked for.  Read the index only with :attr:`lock` held
    (:meth:`at` takes it): another thread may be feeding it."""

    def __init__(self, engine: Engine) -> None:
        # A weak reference: the registry below is keyed by the engine.
        self._engine = weakref.ref(engine)
        self.lock = threading.RLock()
        self.index = LogIndex()
        # Most recently used last; a million members' ids are ~100 MB, so
        # only the last few periods asked for are kept (members check the
        # latest period most): an older one is derived again when asked.
        self._rosters: OrderedDict[date, PeriodRoster] = OrderedDict()

    @property
    def store(self) -> LogStore:
        engine = self._engine()
        if engine is None:
            raise StoredLogError("index: its database is gone")
        return LogStore(engine)

    def catch_up(self, size: int | None = None) -> LogIndex:
        """The index, holding at least the first ``size`` entries (default:
        all those under the latest checkpoint)."""
        with self.lock:
            store = self.store
            latest = store.size()
            if latest < self.index.size:
                # The database holds another, shorter log (a test's, a restore).
                self.index, self._rosters = LogIndex(), OrderedDict()
            read_into(self.index, store, latest if size is None else size)
            return self.index

    @contextmanager
    def at(self, size: int | None = None) -> Iterator[LogIndex]:
        """The index caught up to ``size``, with :attr:`lock` held."""
        with self.lock:
            yield self.catch_up(size)

    def closed(self, period: date) -> tuple[int, PeriodClosed]:
        """The seq and body of the period's ``period.closed`` in the entries
        indexed so far."""
        with self.lock:
            found = self.index.closed.get(period)
        if found is None:
            raise NoSuchPeriodError(f"period {format_date(period)} has not closed")
        return found

    @property
    def kept(self) -> tuple[date, ...]:
        """The periods whose rosters are in memory, least recently asked for first."""
        with self.lock:
            return tuple(self._rosters)

    def roster(self, period: date) -> PeriodRoster:
        """The roster of ``period``, which must have closed in the entries
        indexed so far."""
        with self.lock:
            found = self._rosters.get(period)
            if found is not None:
                self._rosters.move_to_end(period)
                return found
            seq, closed = self.closed(period)
            ids = self.index.roster(period)
            found = PeriodRoster(ids, roster_summary(ids, ROSTER_SUMMARY_LEVEL), seq, closed)
            if not found.matches:
                _log.warning("index: %s", found.mismatch())
            self._rosters[period] = found
            while len(self._rosters) > ROSTERS_KEPT:
                self._rosters.popitem(last=False)
            return found


_indexes: weakref.WeakKeyDictionary[Engine, StoredLogIndex] = weakref.WeakKeyDictionary()
_indexes_lock = threading.Lock()


def stored_index(engine: Engine) -> StoredLogIndex:
    """The index of the log stored in ``engine``'s database, built on first use."""
    with _indexes_lock:
        held = _indexes.get(engine)
        if held is None:
            held = _indexes[engine] = StoredLogIndex(engine)
    return held
