"""A pool too large to found one member a second before its first notice
(the demo's million members) still replays: its founders share seconds,
and its juror pool is committed in the period it is for."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from verifiable.log.entry import parse_entry
from verifiable.pool.replay import replay
from verifiable.testonly.simulate import SimConfig, simulate


def test_founders_who_do_not_fit_a_second_apart_share_seconds() -> None:
    # An hour before the first notice (2024-01-07): room for 3,540 founders
    # a second apart, and there are 5,500.
    start = datetime(2024, 1, 6, 23, 0, tzinfo=UTC)
    config = SimConfig(start=start, days=2, initial_members=5_000, initial_jurors=500)
    entries = simulate(random.Random(7), config)
    # The rulebook, the founders' joins (the founding jurors are seasoned by
    # fiat, with no entry of their own), then the juror pool.
    founding = [parse_entry(data, seq=seq) for seq, data in enumerate(entries[:5_002])]
    assert founding[-1].type == "jury.pool"
    assert founding[-1].time < datetime(2024, 1, 7, tzinfo=UTC)
    assert len({e.time for e in founding[1:-1]}) < 5_000  # shared seconds
    replay(entries)
