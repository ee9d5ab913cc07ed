"""Period rosters and members' deductions derived from the stored log
(server.rosters), checked against the rulebook's own roster at each period's
moment and against the roots the ``period.closed`` entries commit to."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, update

from server.bundles import build_deduction_bundle
from server.context import current_log
from server.log_index import stored_index
from server.models import StateRecordRow
from server.pool_app import current_pool
from server.pool_figures import current_figures
from server.pool_service import PoolService
from server.rosters import (
    Deduction,
    NoSuchPeriodError,
    log_index,
    member_deductions,
    period_roster,
)
from server.storage import LogStore, StoredLogError
from tests.clock import FixedClock
from tests.server.pool_helpers import RULES, add_members, make_pool_app
from verifiable.log.bodies import MemberJoined, MemberLeft, PeriodClosed
from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
from verifiable.log.entry import parse_entry
from verifiable.log.merkle import CompactTree, hash_leaves
from verifiable.log.note import Ed25519Signer
from verifiable.pool.index_records import ROSTERS
from verifiable.pool.replay import Replayer
from verifiable.pool.roster import roster_root, roster_summary
from verifiable.pool.rules import moment
from verifiable.testonly.simulate import SimConfig, Simulation

JAN_7 = date(2026, 1, 7)
JAN_21 = date(2026, 1, 21)
FEB_7 = date(2026, 2, 7)
# A short waiting period, so claims are paid and shares charged early on.
SIM_RULES: dict[str, object] = {
    "juror.seasoning_days": 0,
    "member.waiting_days": 14,
    "panel.size": 5,
}


@pytest.fixture
def app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    app = make_pool_app(engine, tmp_path, clock)
    yield app
    app.extensions["mutualog"].engine.dispose()


def _at(clock: FixedClock, when: datetime) -> None:
    clock.now = when


def _expected_rosters(entries: list[bytes]) -> dict[date, list[str]]:
    """The roster of every period closed in ``entries``, as the rulebook fixes
    it: the active members just before the first entry at or after the
    period's moment."""
    replayer = Replayer()
    state = replayer.state
    rosters: dict[date, list[str]] = {}
    for data in entries:
        time = parse_entry(data, seq=replayer.size).time
        period = state.current_period
        crossing = period is not None and time >= moment(period)
        before = state.members.sorted_roster() if crossing else []
        replayer.feed(data)
        if crossing:
            for new in (*state.due_periods, *(c.period for c in state.closed_periods)):
                rosters.setdefault(new, before)
    closed = {c.period for c in state.closed_periods}
    return {p: ids for p, ids in rosters.items() if p in closed}


def test_rosters_follow_joins_and_leaves_at_the_period_boundaries(
    app: Flask, clock: FixedClock
) -> None:
    with app.app_context():
        pool = current_pool()
        pool.start(RULES)
        first = list(add_members(pool, 3, "early", clock()))
        # One second before the moment: in the roster; at the moment: not.
        _at(clock, moment(JAN_7) - timedelta(seconds=1))
        (just_before,) = add_members(pool, 1, "late", clock())
        _at(clock, moment(JAN_7))
        (at_moment,) = add_members(pool, 1, "moment", clock())
        pool.close_period()
        assert period_roster(pool, JAN_7) == sorted([*first, just_before])

        clock.advance(days=3)
        pool.leave(first[0])
        # Left one second before the next moment: out; at the moment: still in.
        _at(clock, moment(JAN_21) - timedelta(seconds=1))
        pool.leave(first[1])
        _at(clock, moment(JAN_21))
        pool.leave(first[2])
        pool.close_period()
        want_21 = sorted([first[2], just_before, at_moment])
        assert period_roster(pool, JAN_21) == want_21
        # The first roster did not move as the log grew.
        assert period_roster(pool, JAN_7) == sorted([*first, just_before])

        for period in (JAN_7, JAN_21):
            closed = next(c for c in pool.state().closed_periods if c.period == period)
            ids = period_roster(pool, period)
            assert roster_root(ids) == (closed.roster_root, closed.roster_size)

        # A member who left has the deductions of the periods they shared in.
        seqs = {c.period: s for s, c in _closes(pool)}
        assert member_deductions(pool, first[0]) == [Deduction(JAN_7, 0, seqs[JAN_7])]
        assert member_deductions(pool, first[2]) == [
            Deduction(JAN_7, 0, seqs[JAN_7]),
            Deduction(JAN_21, 0, seqs[JAN_21]),
        ]
        assert member_deductions(pool, at_moment) == [Deduction(JAN_21, 0, seqs[JAN_21])]
        assert member_deductions(pool, "0" * 32) == []


def _closes(pool: PoolService) -> list[tuple[int, PeriodClosed]]:
    entries = pool.store.entries(0, pool.store.size())
    out = []
    for seq, data in enumerate(entries):
        body = parse_entry(data, seq=seq).body
        if isinstance(body, PeriodClosed):
            out.append((seq, body))
    return out


def test_a_period_not_closed_has_no_roster(app: Flask, clock: FixedClock) -> None:
    with app.app_context():
        pool = current_pool()
        pool.start(RULES)
        add_members(pool, 2, "first", clock())
        with pytest.raises(NoSuchPeriodError, match="period 2026-01-07 has not closed"):
            period_roster(pool, JAN_7)
        _at(clock, moment(JAN_7))
        # Due but not closed yet.
        add_members(pool, 1, "second", clock())
        with pytest.raises(NoSuchPeriodError, match="2026-01-07"):
            period_roster(pool, JAN_7)
        pool.close_period()
        assert len(period_roster(pool, JAN_7)) == 2


def _simulated(engine: Engine, signer: Ed25519Signer, config: SimConfig) -> list[bytes]:
    entries = list(Simulation(random.Random(7), config).run())
    tree = CompactTree()
    tree.extend(hash_leaves(entries))
    note = sign_checkpoint(Checkpoint(signer.name, tree.size, tree.root()), signer)
    LogStore(engine).load(iter(entries), note)
    return entries


def _pool(engine: Engine, signer: Ed25519Signer, entries: list[bytes]) -> PoolService:
    last = parse_entry(entries[-1], seq=len(entries) - 1).time
    return PoolService(engine, signer, FixedClock(last))


def test_every_simulated_roster_and_deduction_matches_the_log(
    engine: Engine, signer: Ed25519Signer
) -> None:
    config = SimConfig(
        start=datetime(2024, 1, 1, tzinfo=UTC),
        days=75,
        initial_members=40,
        joins_per_day=800,
        leaves_per_day=400,
        claims_per_day=300,
        rules=SIM_RULES,
    )
    entries = _simulated(engine, signer, config)
    pool = _pool(engine, signer, entries)
    state = pool.state()
    expected = _expected_rosters(entries)
    closed = state.closed_periods
    assert len(closed) >= 4 and set(expected) == {c.period for c in closed}
    assert any(c.share > 0 for c in closed)
    for body in closed:
        ids = period_roster(pool, body.period)
        assert ids == expected[body.period]
        assert roster_root(ids) == (body.roster_root, body.roster_size)
    # Each roster was summarized once, when its period closed, and is read
    # back from the database: nothing of it is held by the process.
    stored = log_index(pool).index.rosters
    for body in closed:
        summary = stored[body.period]
        assert (summary.root, summary.size) == (body.roster_root, body.roster_size)

    everyone = {
        b.member
        for b in (parse_entry(d, seq=n).body for n, d in enumerate(entries))
        if isinstance(b, MemberJoined | MemberLeft)
    }
    for member in sorted(everyone):
        got = member_deductions(pool, member)
        want = [(c.period, c.share) for c in closed if member in expected[c.period]]
        assert [(d.period, d.share) for d in got] == want
        # The rulebook's own sum for a member still in the pool.
        if state.member(member) is not None:
            assert sum(d.share for d in got) == state.refund_due(member)


def test_the_index_catches_up_as_the_log_grows(app: Flask, clock: FixedClock) -> None:
    with app.app_context():
        pool = current_pool()
        pool.start(RULES)
        members = list(add_members(pool, 2, "alpha", clock()))
        _at(clock, moment(JAN_7))
        pool.close_period()
        assert member_deductions(pool, members[0]) == [Deduction(JAN_7, 0, 3)]
        index = log_index(pool)
        assert log_index(pool) is index
        # More entries, and one more period, after the index was built.
        (late,) = add_members(pool, 1, "beta", clock())
        _at(clock, moment(JAN_21))
        pool.close_period()
        _at(clock, moment(FEB_7))
        pool.close_period()
        assert [d.period for d in member_deductions(pool, late)] == [JAN_21, FEB_7]
        assert period_roster(pool, FEB_7) == sorted([*members, late])


def test_a_roster_that_does_not_match_its_entry_is_refused(
    engine: Engine, signer: Ed25519Signer
) -> None:
    # A simulated log whose stored roster is made to miss a member: it no
    # longer matches the committed root, and that is an error, not a
    # silently wrong roster.
    entries = _simulated(engine, signer, SimConfig(days=20, initial_members=10, rules=SIM_RULES))
    pool = _pool(engine, signer, entries)
    index = log_index(pool).catch_up()
    first = pool.state().closed_periods[0]
    short = roster_summary(index.roster(first.period)[1:])
    with engine.begin() as conn:
        conn.execute(
            update(StateRecordRow.__table__)
            .where(StateRecordRow.kind == ROSTERS.name)
            .where(StateRecordRow.key == first.period.isoformat().encode())
            .values(value=ROSTERS.codec.encode(short))
        )
    with pytest.raises(StoredLogError, match=f"roster of period {first.period.isoformat()}"):
        period_roster(pool, first.period)


def test_a_demo_sized_pool(engine: Engine, signer: Ed25519Signer) -> None:
    config = SimConfig(
        start=datetime(2024, 1, 1, tzinfo=UTC),
        days=110,
        initial_members=13_000,
        initial_jurors=1_300,
        joins_per_day=4_000,
        leaves_per_day=400,
        jurors_per_day=500,
        claims_per_day=100,
        rules=SIM_RULES,
    )
    entries = _simulated(engine, signer, config)
    pool = _pool(engine, signer, entries)
    closed = pool.state().closed_periods
    assert len(closed) >= 7
    for body in closed:
        assert len(period_roster(pool, body.period)) == body.roster_size
    member = period_roster(pool, closed[-1].period)[0]
    assert len(member_deductions(pool, member)) >= 1


def test_one_index_serves_the_rosters_the_bundles_and_the_figures(
    app: Flask, clock: FixedClock
) -> None:
    with app.app_context():
        pool = current_pool()
        pool.start(RULES)
        members = list(add_members(pool, 2, "alpha", clock()))
        _at(clock, moment(JAN_7))
        pool.close_period()
        held = log_index(pool)
        engine = current_log().engine
        assert stored_index(engine) is held
        figures = current_figures()
        assert held.index.size == figures.size == pool.store.size()
        bundle = build_deduction_bundle(engine, None, members[0], JAN_7, [])
        assert bundle.deduction is not None and bundle.deduction.member == members[0]
        assert list(held.roster(JAN_7).ids) == period_roster(pool, JAN_7) == sorted(members)
