"""The suite's one fake clock.

The server and the pool service take their clock as an argument (a callable
returning an aware ``datetime``), so a test hands them a :class:`FixedClock`
and moves time by hand: a vote window closes, a period ends, a rate limit
resets, all without sleeping.  The demo's clock is product code (the demo's
history is dated; its offset is kept in the database, ``server/demo_clock.py``)
and stays there.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["START", "FixedClock"]

START = datetime(2026, 1, 1, tzinfo=UTC)


class FixedClock:
    """A clock that stands still until told to move (any time zone)."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
