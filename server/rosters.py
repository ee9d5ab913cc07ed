"""Each closed period's roster and each member's deductions, from the log.

:class:`verifiable.pool.state.PoolState` keeps only the pool's live state (the
active members, the periods not yet closed), so a past period's roster is
not in it.  It comes from the stored log's index (:mod:`server.log_index`),
which keeps when each member joined and left and, for each closed period,
the summary of its roster made when the period closed: a period's roster is
fixed when the first entry at or after its *moment* (00:00 UTC on its notice
day, :func:`verifiable.pool.rules.moment`) is applied, before that entry's
own rule (:meth:`verifiable.pool.periods.Periods.cross`), so it holds exactly
the members whose ``member.joined`` is timed before the moment and whose
``member.left``, if any, is not.

A roster is checked here against the ``roster_root`` and ``roster_size`` its
``period.closed`` entry commits to: the member's pages show only a roster
the log vouches for.  Nothing of it is held in memory: a member's proof
reads the summary and one chunk of members from the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from server.log_index import NoSuchPeriodError, StoredLogIndex, stored_index
from server.pool_service import PoolService
from server.storage import StoredLogError
from verifiable.pool.rules import moment

__all__ = [
    "Deduction",
    "NoSuchPeriodError",
    "log_index",
    "member_deductions",
    "period_roster",
]


@dataclass(frozen=True)
class Deduction:
    """The share a member paid in one closed period; ``seq`` is the
    ``period.closed`` entry's."""

    period: date
    share: int
    seq: int


def log_index(pool: PoolService) -> StoredLogIndex:
    """The index of ``pool``'s stored log."""
    return stored_index(pool.engine)


def member_deductions(pool: PoolService, member_id: str) -> list[Deduction]:
    """The share ``member_id`` paid in each closed period whose roster held
    them, oldest first."""
    with log_index(pool).at() as index:
        span = index.members.get(member_id)
        if span is None:
            return []
        return [
            Deduction(body.period, body.share, seq)
            for seq, body in index.closes()
            if span.sharing(moment(body.period))
        ]


def period_roster(pool: PoolService, period: date) -> list[str]:
    """The sorted member ids of the roster that ``period``'s ``period.closed``
    entry commits to; :class:`NoSuchPeriodError` if it has not closed, and
    :class:`server.storage.StoredLogError` if the log's joins and leaves do
    not give the roster it commits to."""
    held = log_index(pool)
    held.catch_up()
    roster = held.roster(period)
    if not roster.matches:
        raise StoredLogError(f"index: {roster.mismatch()}")
    return list(roster.ids)
