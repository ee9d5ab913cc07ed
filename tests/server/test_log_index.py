"""server.log_index: the log's index kept in the database beside the pool's
state, read by a process record by record (never by reading the log), and
checked with the state by ``state check``."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from sqlalchemy import Engine, text

from server.bundles import build_claim_bundle, build_deduction_bundle
from server.log_index import StoredLogIndex
from server.notifications import notices_by_member
from server.pool.state_store import check
from server.pool_app import current_pool
from server.pool_figures import PublicFigures
from server.storage import LogStore
from tests.server.pool_helpers import VotingPool, build_voting_pool
from verifiable.pool.rules import moment

if TYPE_CHECKING:
    from tests.clock import FixedClock


@pytest.fixture
def app(pool_app: Flask) -> Flask:
    return pool_app


@pytest.fixture
def closed(app: Flask, clock: FixedClock) -> tuple[VotingPool, date]:
    """A pool with a claim before its panel and one closed period."""
    voting = build_voting_pool(app, clock, members=9)
    pool = current_pool()
    period = pool.state().current_period
    assert period is not None
    clock.now = moment(period)
    pool.close_period()
    (done,) = pool.state().closed_periods
    return voting, done.period


def _kinds(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {r[0] for r in conn.execute(text("SELECT DISTINCT kind FROM state_records"))}


def test_the_index_is_written_with_the_state_and_checked_with_it(
    closed: tuple[VotingPool, date], engine: Engine
) -> None:
    kinds = _kinds(engine)
    assert {"ix.claim", "ix.member", "ix.closed", "ix.roster", "ix.member_claims"} <= kinds
    assert check(engine) is None


def test_a_process_reads_the_index_without_reading_the_log(
    closed: tuple[VotingPool, date], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    voting, period = closed
    pool = current_pool()
    state = pool.state()

    def no_scan(self: LogStore, start: int, stop: int) -> list[bytes]:
        raise AssertionError(f"entries {start}..{stop} read: the log scanned")

    monkeypatch.setattr(LogStore, "entries", no_scan)
    held = StoredLogIndex(engine)  # as a new process has it: nothing but the engine
    index = held.catch_up()
    assert index.size == LogStore(engine).size()
    roster = held.roster(period)
    assert roster.matches and roster.holds(voting.claimant)
    assert not roster.holds("f" * 32)
    assert list(roster.ids) == sorted(roster.ids) and len(list(roster.ids)) == roster.summary.size
    bundle = build_deduction_bundle(engine, None, voting.claimant, period, [])
    assert bundle.deduction is not None and bundle.deduction.member == voting.claimant
    assert build_claim_bundle(engine, None, voting.claim).claims == (voting.claim,)
    (juror, *_) = voting.jurors
    summons = [n for n in notices_by_member(index, (juror,))[juror] if n.claim == voting.claim]
    assert [n.kind.value for n in summons] == ["summons"]
    assert index.member_claims(voting.claimant).filed == (voting.claim,)
    figures = PublicFigures(state, held).overview()
    assert figures.claims == 1 and figures.periods_closed == 1


def test_a_stored_count_is_what_the_pages_show_and_check_finds_it_wrong(
    closed: tuple[VotingPool, date], engine: Engine
) -> None:
    # The figures come from the stored records, not from a walk of the
    # claims: a record changed behind the server's back shows, and the
    # check against a replay names it.
    pool = current_pool()
    held = StoredLogIndex(engine)
    before = dict(PublicFigures(pool.state(), held).overview().cases)
    assert before.get("withdrawn", 0) == 0
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO state_records (kind, key, value) VALUES ('ix.count', :k, :v)"),
            {"k": b"case:withdrawn", "v": b"7"},
        )
    after = dict(PublicFigures(pool.state(), held).overview().cases)
    assert after["withdrawn"] == 7
    found = check(engine)
    assert found is not None and found.startswith("ix.count case:withdrawn")
