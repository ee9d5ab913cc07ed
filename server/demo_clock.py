"""The demo's clock, kept in the database.

A demo's history is dated months ago and its windows last days, so an
operator trying the demo could never draw a panel, close a vote or close a
period in real time.  In a demo instance the pool's time is the machine's
time plus an offset stored in the ``demo_clock`` table (migration 0003):
every server process (several gunicorn workers, the command line) reads the
same row, so all of them see the same time, and the operator's control
(``POST /operator/demo/clock``) moves every one of them at once.

The row's presence is what makes an instance a demo:
``mutualog-server demo`` writes it, nothing else does.  Anywhere else the
control is not shown and :func:`advance_demo_clock` refuses.

The clock only moves forward: an advance adds a positive number of seconds
to the offset, under the log's write lock, so it waits for an append in
progress.  The log's entries keep their order whatever the clocks say —
the sequencer never dates an entry before the previous one
(:mod:`server.sequencer`) — and with a clock that never goes back, the
times it gives are the demo's times.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Engine, Table, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from server.db import read_connection, write_transaction
from server.models import DemoClockRow
from verifiable.errors import MutualogError
from verifiable.pool.rules import moment, next_notice
from verifiable.pool.state import PoolState, Stage

__all__ = [
    "MAX_ADVANCE",
    "Deadline",
    "DemoClockError",
    "InstanceClock",
    "advance_demo_clock",
    "demo_offset",
    "next_deadline",
    "start_demo_clock",
]

_table = cast(Table, DemoClockRow.__table__)

#: The largest single step: a year, more than any window of the rules.
MAX_ADVANCE = timedelta(days=366)
#: How far past a deadline "to the next deadline" goes: the window is then
#: over (the pool refuses to act at its very second).
PAST_DEADLINE = timedelta(minutes=1)


class DemoClockError(MutualogError):
    """The demo clock cannot move: the instance is not a demo, or the step
    is not forward."""


def _system_now() -> datetime:
    return datetime.now(UTC)


def demo_offset(engine: Engine) -> timedelta | None:
    """How far the demo's time is from the machine's; ``None`` if the
    instance is not a demo."""
    with read_connection(engine) as conn:
        seconds = conn.execute(select(_table.c.offset_seconds).where(_table.c.id == 1)).scalar()
    return None if seconds is None else timedelta(seconds=int(seconds))


def start_demo_clock(
    engine: Engine, start: datetime, real: Callable[[], datetime] = _system_now
) -> None:
    """Make the instance a demo whose time is ``start`` now, moving on with
    real time.  Refused if it already is one (the clock never goes back)."""
    offset = int((start - real()).total_seconds())
    with write_transaction(engine) as conn:
        if conn.execute(select(_table.c.id)).first() is not None:
            raise DemoClockError("this instance already has a demo clock")
        conn.execute(insert(_table).values(id=1, offset_seconds=offset, updated=real()))


def advance_demo_clock(
    engine: Engine, by: timedelta, real: Callable[[], datetime] = _system_now
) -> datetime:
    """Move the demo's time forward by ``by`` (whole seconds, at least one,
    at most :data:`MAX_ADVANCE`); returns the new time."""
    seconds = int(by.total_seconds())
    if seconds < 1 or by > MAX_ADVANCE:
        raise DemoClockError(
            f"the demo clock moves forward by 1 second to {MAX_ADVANCE.days} days, "
            f"not {by.total_seconds():g} seconds"
        )
    with write_transaction(engine) as conn:
        offset = conn.execute(select(_table.c.offset_seconds).where(_table.c.id == 1)).scalar()
        if offset is None:
            raise DemoClockError("this instance is not a demo: its clock is the real one")
        offset = int(offset) + seconds
        now = real()
        conn.execute(
            update(_table).where(_table.c.id == 1).values(offset_seconds=offset, updated=now)
        )
    return now + timedelta(seconds=offset)


class InstanceClock:
    """The application's clock when none is configured: the machine's, or
    in a demo instance the demo's, read from the database at every call.

    Whether the instance is a demo is asked once, at the first call (not
    when the application is built: the engine connects lazily), and kept;
    a failed read is not kept, so an unreachable database at the first
    request does not make a demo real.
    """

    def __init__(self, engine: Engine, real: Callable[[], datetime] = _system_now) -> None:
        self._engine = engine
        self._real = real
        self._demo: bool | None = None
        self._lock = threading.Lock()

    def is_demo(self) -> bool:
        if self._demo is None and _in_memory(self._engine):
            # One shared connection: a read inside a write transaction
            # would end it.  A demo is always built in a file or a server.
            self._demo = False
        if self._demo is None:
            with self._lock:
                if self._demo is None:
                    try:
                        self._demo = demo_offset(self._engine) is not None
                    except SQLAlchemyError:
                        return False
        return self._demo

    def __call__(self) -> datetime:
        now = self._real()
        if not self.is_demo():
            return now
        offset = demo_offset(self._engine)
        return now if offset is None else now + offset


def _in_memory(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")


@dataclass(frozen=True)
class Deadline:
    """The next moment something becomes possible: ``kind`` is
    ``objections`` (a panel can be drawn), ``voting`` (voting can be
    closed) or ``period`` (a period can be closed); ``claim`` for the
    first two."""

    at: datetime
    kind: str
    claim: str | None = None

    @property
    def target(self) -> datetime:
        """Where "to the next deadline" moves the clock: just past it."""
        return self.at + PAST_DEADLINE


def next_deadline(state: PoolState, now: datetime) -> Deadline | None:
    """The first window that ends, or period that begins, after ``now``."""
    found: list[Deadline] = []
    for view in state.claims():
        if view.stage is Stage.NOTICED and view.objections_until and view.objections_until > now:
            found.append(Deadline(view.objections_until, "objections", view.id))
        if view.stage is Stage.VOTING and view.votes_until and view.votes_until > now:
            found.append(Deadline(view.votes_until, "voting", view.id))
    rules = state.rules_at(now)
    if rules is not None:
        found.append(Deadline(moment(next_notice(now, rules)), "period"))
    return min(found, key=lambda d: d.at) if found else None
