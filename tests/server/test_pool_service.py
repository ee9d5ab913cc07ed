"""The pool service: the rulebook kept in step with the stored log (replayed
at start, caught up incrementally, rebuilt after a failed batch), the
sequencer's validate hook refusing any entry that breaks a rule, and the
pool's operations — each refused one appending and storing nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from sqlalchemy import Engine

from server.auth import accounts_service
from server.pool_app import current_pool
from server.pool_service import PoolRefusedError, PoolService
from server.private.errors import AlreadyJoinedError, EvidenceError
from server.private.evidence import Upload
from server.private.members import MemberDetails
from tests.server.identities import id_number, mobile
from tests.server.pool_helpers import (
    PDF,
    VotingPool,
    add_members,
    build_voting_pool,
    make_pool_app,
    row_counts,
)
from tests.server.redaction_files import redact_all
from verifiable.errors import RuleViolation
from verifiable.log.bodies import (
    AgeBand,
    Choice,
    ClaimPaid,
    MemberJoined,
    Outcome,
)
from verifiable.log.note import Ed25519Signer
from verifiable.pool.replay import replay

if TYPE_CHECKING:
    from tests.clock import FixedClock


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MUTUALOG_SECRET_KEY", "MUTUALOG_SECURE_COOKIES"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    app = make_pool_app(engine, tmp_path, clock)
    with app.app_context():
        yield app
    app.extensions["mutualog"].engine.dispose()


@pytest.fixture
def voting(app: Flask, clock: FixedClock) -> VotingPool:
    return build_voting_pool(app, clock, members=12)


def test_a_second_service_replays_the_log_and_catches_up(
    app: Flask, voting: VotingPool, engine: Engine, signer: Ed25519Signer, clock: FixedClock
) -> None:
    pool = current_pool()
    other = PoolService(engine, signer, clock)
    assert other.state().size == pool.state().size == pool.store.size()
    added = add_members(pool, 1, "late", clock())
    (member,) = added
    # The other process's service sees the new member on its next read.
    assert other.state().member(member) is not None
    assert other.state().size == pool.store.size()
    # ...and appends after it, its hook catching up under the lock.
    other.qualify_juror(member)
    assert pool.state().member(member) is not None
    assert pool.state().juror_count == 13


def test_the_hook_refuses_an_entry_that_breaks_a_rule(
    app: Flask, voting: VotingPool, engine: Engine
) -> None:
    pool = current_pool()
    before = row_counts(engine)
    bad = ClaimPaid(claim=voting.claim, amount=1_000, period=pool.state().period_at(pool.now()))
    with pytest.raises(RuleViolation, match="payout"):
        pool.sequencer.append([(bad.TYPE, bad)])
    assert row_counts(engine) == before


def test_a_batch_refused_midway_leaves_the_state_in_step(
    app: Flask, voting: VotingPool, engine: Engine, clock: FixedClock
) -> None:
    pool = current_pool()
    before = row_counts(engine)
    size = pool.state().size
    fresh = MemberJoined(member="ab" * 16, age_band=AgeBand.FROM_18_TO_39)
    again = MemberJoined(member="ab" * 16, age_band=AgeBand.FROM_18_TO_39)
    with pytest.raises(RuleViolation):
        pool.sequencer.append([(fresh.TYPE, fresh), (again.TYPE, again)])
    assert row_counts(engine) == before
    assert pool.state().size == size
    assert pool.state().member("ab" * 16) is None
    pool.sequencer.append([(fresh.TYPE, fresh)])
    assert pool.state().member("ab" * 16) is not None


def test_refused_operations_append_and_store_nothing(
    app: Flask, voting: VotingPool, engine: Engine, clock: FixedClock
) -> None:
    pool = current_pool()
    while pool.state().due_periods:
        pool.close_period()
    before = row_counts(engine)
    member = voting.outsider
    upload = [Upload(PDF, "application/pdf", "a.pdf")]
    with pytest.raises(RuleViolation, match=r"claim\.category"):
        pool.file_claim(member, "sunburn", 100_000, clock().date(), upload)
    with pytest.raises(RuleViolation, match=r"claim\.(diagnosed|filing)"):
        pool.file_claim(member, "cancer", 100_000, clock().date().replace(year=2030), upload)
    with pytest.raises(EvidenceError, match="not a application/pdf file"):
        pool.file_claim(
            member, "cancer", 100_000, clock().date(), [Upload(b"x", "application/pdf")]
        )
    with pytest.raises(PoolRefusedError, match="only an active member"):
        pool.file_claim("cd" * 16, "cancer", 100_000, clock().date(), upload)
    with pytest.raises(PoolRefusedError, match="no claim"):
        pool.publish_notice("ef" * 16, "A notice.")
    with pytest.raises(PoolRefusedError, match="is open until"):
        pool.close_voting(voting.claim)
    with pytest.raises(PoolRefusedError, match="only an approved claim is paid"):
        pool.pay(voting.claim)
    with pytest.raises(RuleViolation, match="appeal"):
        pool.appeal(voting.claim, "Too early.")
    with pytest.raises(PoolRefusedError, match="no period is due"):
        pool.close_period()
    with pytest.raises(RuleViolation):
        pool.qualify_juror(voting.jurors[0])  # already a juror
    details = MemberDetails.parse("Someone", id_number("someone"), mobile(), clock().date())
    account = next(iter(voting.usernames.values()))
    joined = accounts_service().by_username(account)
    assert joined is not None
    with pytest.raises(AlreadyJoinedError):
        pool.join(joined.id, details)
    assert row_counts(engine) == before
    replay(pool.store.entries(0, pool.store.size()))


def test_the_whole_workflow_replays(
    app: Flask, voting: VotingPool, engine: Engine, clock: FixedClock
) -> None:
    pool = current_pool()
    claim = voting.claim
    # First panel: two reject, one approves; then the claimant appeals.
    for juror, choice in zip(
        voting.jurors, (Choice.REJECT, Choice.REJECT, Choice.APPROVE), strict=True
    ):
        receipt = pool.seal_vote(claim, 1, juror, choice, "Read the file.")
        assert receipt.leaf_index < receipt.tree_size
    clock.advance(days=3)
    assert pool.close_voting(claim).outcome is Outcome.REJECTED
    pool.appeal(claim, "The panel missed the second report.")
    clock.advance(hours=1)
    appeal = pool.draw_panel(claim)
    assert appeal.appeal and len(appeal.jurors) == 7
    assert not set(appeal.jurors) & {voting.claimant, *voting.jurors}
    for juror in appeal.jurors[:5]:
        pool.seal_vote(claim, appeal.round, juror, Choice.APPROVE, "The reports agree.")
    clock.advance(days=3)
    decision = pool.close_voting(claim)
    assert decision.outcome is Outcome.APPROVED and decision.amount == 5_000_000
    paid = pool.pay(claim)
    # An objection and its answer on a second claim, then a period close.
    second = pool.file_claim(
        voting.outsider, "stroke", 200_000, clock().date(), [Upload(PDF, "application/pdf")]
    )
    redact_all(pool, second)
    pool.publish_notice(second, "A member aged 18-39 asks for aid for stroke.")
    objection = pool.file_objection(second, voting.jurors[0], "The dates look wrong.")
    pool.answer(second, objection, "The hospital confirmed the dates.")
    clock.advance(days=20)
    closes = [pool.close_period()]
    while pool.state().due_periods:
        closes.append(pool.close_period())
    pool.override("note", "pool", "A scheduled maintenance window.")
    result = replay(pool.store.entries(0, pool.store.size()))
    state = pool.state()
    assert result.summary.entries == state.size
    assert result.summary.members == state.member_count
    assert result.state.claim(claim) == state.claim(claim)
    (closed,) = [c for c in closes if c.period == paid.period]
    assert (closed.claims_count, closed.claims_total) == (1, paid.amount)
    assert closed.share > 0
    assert result.summary.ledger == state.ledger
