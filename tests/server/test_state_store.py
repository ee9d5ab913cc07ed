"""The pool's state in the database: written in each append's transaction,
taken up by a new process from its head row without a replay, caught up
with a log that grew without it, rebuilt, and checked against the log
(``mutualog-server state check`` naming the first difference)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from sqlalchemy import Engine, text

from server.cli import main
from server.pool.state_store import check, other_form_stored, read_state_head, rebuild
from server.pool_app import current_pool
from server.pool_service import PoolService
from server.storage import LogStore
from tests.server.pool_helpers import VotingPool, add_members, build_voting_pool
from verifiable.errors import RuleViolation
from verifiable.log.bodies import AgeBand, MemberJoined
from verifiable.log.note import Ed25519Signer
from verifiable.pool.replay import ReplayResult, replay, summarize

if TYPE_CHECKING:
    from tests.clock import FixedClock


@pytest.fixture
def app(pool_app: Flask) -> Flask:
    return pool_app


@pytest.fixture
def voting(app: Flask, clock: FixedClock) -> VotingPool:
    return build_voting_pool(app, clock, members=9)


def _replayed(engine: Engine) -> ReplayResult:
    store = LogStore(engine)
    return replay(store.entries(0, store.size()))


def _head_size(engine: Engine) -> int | None:
    with engine.connect() as conn:
        head = read_state_head(conn)
    return None if head is None else head.size


def test_each_append_writes_the_state_and_it_is_the_logs(
    app: Flask, voting: VotingPool, engine: Engine
) -> None:
    pool = current_pool()
    assert _head_size(engine) == pool.store.size()
    fresh = _replayed(engine)
    state = pool.state()
    assert summarize(state) == fresh.summary
    assert list(state.claims()) == list(fresh.state.claims())
    assert state.members.roster() == fresh.state.members.roster()
    assert check(engine) is None


def test_a_new_process_takes_the_state_up_without_replaying(
    app: Flask,
    voting: VotingPool,
    engine: Engine,
    signer: Ed25519Signer,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pool = current_pool()
    expected = summarize(pool.state())

    def no_replay(self: LogStore, start: int, stop: int) -> list[bytes]:
        raise AssertionError(f"entries {start}..{stop} read: a replay")

    monkeypatch.setattr(LogStore, "entries", no_replay)
    other = PoolService(engine, signer, clock)
    assert summarize(other.state()) == expected
    # It appends after the first process's appends, reading only rows.
    (member,) = add_members(pool, 1, "late", clock())
    other.qualify_juror(member)
    assert pool.state().member(member) is not None
    assert pool.state().juror_count == expected.jurors + 1


def test_a_refused_batch_leaves_the_stored_state_as_it_was(
    app: Flask, voting: VotingPool, engine: Engine
) -> None:
    pool = current_pool()

    def rows() -> list[tuple[object, ...]]:
        with engine.connect() as conn:
            return [
                tuple(r)
                for t in ("state_records", "state_counts", "state_head")
                for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY 1, 2"))
            ]

    before = rows()
    fresh = MemberJoined(member="ab" * 16, age_band=AgeBand.FROM_18_TO_39)
    with pytest.raises(RuleViolation, match=r"member\.unique"):
        pool.sequencer.append([(fresh.TYPE, fresh), (fresh.TYPE, fresh)])
    assert rows() == before
    assert pool.state().member("ab" * 16) is None
    pool.sequencer.append([(fresh.TYPE, fresh)])
    assert pool.state().member("ab" * 16) is not None
    assert check(engine) is None


def test_a_log_without_its_state_is_caught_up_then_rebuilt(
    app: Flask, voting: VotingPool, engine: Engine, signer: Ed25519Signer, clock: FixedClock
) -> None:
    # An instance upgraded past migration 0012: the log, no state.
    with engine.begin() as conn:
        for table in ("state_records", "state_counts", "state_head"):
            conn.execute(text(f"DELETE FROM {table}"))
    assert check(engine) is not None
    size = LogStore(engine).size()
    other = PoolService(engine, signer, clock)
    assert other.state().size == size == _head_size(engine)
    assert check(engine) is None
    assert rebuild(engine, chunk=7) == size
    assert check(engine) is None
    assert summarize(other.state()) == _replayed(engine).summary


def test_check_names_the_first_difference(
    app: Flask, voting: VotingPool, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    instance = tmp_path / "instance"
    args = ["--instance", str(instance), "--database-url", database_url, "state"]
    assert main([*args, "check"]) == 0
    with engine.begin() as conn:
        conn.execute(
            text("DELETE FROM state_records WHERE kind = 'member' AND key = :k"),
            {"k": voting.outsider.encode()},
        )
    found = check(engine)
    assert found == f"member {voting.outsider}: missing from the stored state"
    assert main([*args, "check"]) == 1
    assert main([*args, "rebuild"]) == 0
    assert main([*args, "check"]) == 0


def test_a_state_of_another_form_is_rebuilt_not_taken_up(
    app: Flask, voting: VotingPool, engine: Engine, signer: Ed25519Signer, clock: FixedClock
) -> None:
    # A state written before the log's index joined it: its head says
    # format 1 and no index record is stored.  A new process rebuilds it on
    # its first read, and the pages then have the index.
    size = LogStore(engine).size()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM state_records WHERE kind LIKE 'ix.%'"))
        conn.execute(text("DELETE FROM state_counts WHERE kind LIKE 'ix.%'"))
        head = conn.execute(text("SELECT head FROM state_head")).scalar_one()
        old = bytes(head).replace(b'"format":2', b'"format":1')
        conn.execute(text("UPDATE state_head SET head = :h"), {"h": old})
        assert other_form_stored(conn)
    assert check(engine) is not None
    other = PoolService(engine, signer, clock)
    assert other.state().size == size == _head_size(engine)
    assert check(engine) is None
    with engine.connect() as conn:
        assert not other_form_stored(conn)
        kinds = {r[0] for r in conn.execute(text("SELECT DISTINCT kind FROM state_records"))}
    assert "ix.claim" in kinds
