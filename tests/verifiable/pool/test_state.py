"""The pool state machine: the honest paths, the period arithmetic worked by
hand, refunds, redraws, appeals, overrides and the helpers a server uses."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from tests.verifiable.pool.pool_builder import START, PoolBuilder
from verifiable.errors import MalformedError, RuleViolation
from verifiable.log.bodies import (
    AgeBand,
    Choice,
    ClaimDecided,
    LeaveReason,
    MemberJoined,
    Outcome,
)
from verifiable.log.entry import GENESIS_PREV, make_entry
from verifiable.pool.periods import Ledger, check_conservation, period_figures
from verifiable.pool.replay import Replayer
from verifiable.pool.roster import paid_claims_root, roster_root
from verifiable.pool.rules import Rules, moment
from verifiable.pool.state import PoolState, Stage

EMPTY = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def _world(b: PoolBuilder, n: int = 12) -> tuple[list[str], str, str]:
    jurors = b.jurors(n)
    b.jury_pool()
    member, other = b.join(), b.join()
    b.tick(days=11)
    return jurors, member, other


def _next_moment(b: PoolBuilder) -> None:
    period = b.state.period_at(b.now)
    b.at(moment(period) + timedelta(seconds=1))


def test_the_log_begins_with_the_rulebook() -> None:
    body = MemberJoined(member="0" * 32, age_band=AgeBand.FROM_18_TO_39)
    entry = make_entry(0, GENESIS_PREV, START, "member.joined", body)
    with pytest.raises(RuleViolation, match=r"entry 0: rule rules\.genesis: .*got member\.joined"):
        Replayer().feed(entry.to_bytes())


def test_entries_apply_in_order() -> None:
    b = PoolBuilder()
    entry = make_entry(
        5, GENESIS_PREV, START, "member.joined", MemberJoined("0" * 32, AgeBand.FROM_18_TO_39)
    )
    with pytest.raises(RuleViolation, match=r"entry 5: rule log\.seq: .*expected 1, got 5"):
        b.state.apply(entry)


def test_period_figures_worked_by_hand() -> None:
    b = PoolBuilder()
    jurors, member, _ = _world(b)
    claim = b.approved_claim(member, amount=1_000_000)
    b.pay(claim)
    _next_moment(b)
    first = b.close()  # 2024-01-07: nothing paid, nobody charged
    assert (first.period, first.claims_count, first.share, first.sharing) == (
        date(2024, 1, 7),
        0,
        0,
        14,
    )
    roster = sorted([*jurors, member, _])
    assert first.roster_root == roster_root(roster)[0]
    second = b.close()  # 2024-01-21
    # aid 1,000,000; fee floor(8 %) = 80,000; 14 members share 1,080,000:
    # ceil(1,080,000 / 14) = 77,143 each, 1,080,002 collected, 2 fen carried.
    assert second.period == date(2024, 1, 21)
    assert (second.claims_count, second.claims_total) == (1, 1_000_000)
    assert second.claims_root == paid_claims_root([(claim, 1_000_000)])
    assert (second.fee, second.fee_rate_bp, second.refunds) == (80_000, 800, 0)
    assert (second.sharing, second.share, second.collected) == (14, 77_143, 1_080_002)
    assert (second.surplus_in, second.surplus_out) == (0, 2)
    _next_moment(b)
    third = b.close()  # 2024-02-07: nothing to share; the surplus stays
    assert (third.share, third.collected, third.surplus_in, third.surplus_out) == (0, 0, 2, 2)
    ledger = b.state.ledger
    assert ledger == Ledger(collected=1_080_002, aid=1_000_000, fees=80_000, refunds=0, surplus=2)
    assert b.state.closed_periods == (first, second, third)


def test_refund_after_an_ineligible_claim() -> None:
    b = PoolBuilder()
    _, member, _ = _world(b)  # 2024-01-12
    newcomer = b.join()  # waiting until 2024-01-22
    claim = b.approved_claim(member)
    b.pay(claim)
    _next_moment(b)  # 2024-01-21
    b.close()
    paid = b.close()  # the newcomer shares 2024-01-21
    assert paid.sharing == 15 and paid.share == 72_000
    assert b.state.refund_due(newcomer) == 72_000
    sick = b.file(newcomer, diagnosed=date(2024, 1, 15))
    view = b.state.claim(sick)
    assert view is not None and view.stage is Stage.FILED
    decision = b.decide(sick)
    assert decision == ClaimDecided(sick, 0, 0, 0, Outcome.INELIGIBLE, 0)
    member_view = b.state.member(newcomer)
    assert member_view is not None and member_view.ending
    left = b.leave(newcomer, LeaveReason.WAITING_PERIOD)
    assert left.refund == 72_000
    assert b.state.has_left(newcomer) and b.state.member(newcomer) is None
    _next_moment(b)
    refunded = b.close()  # 2024-02-07: the refund is shared by the 14 left
    assert refunded.refunds == 72_000 and refunded.sharing == 14
    # need = 72,000 - 0 surplus in: ceil(72,000 / 14) = 5,143, 72,002 collected
    assert (refunded.share, refunded.collected, refunded.surplus_out) == (5_143, 72_002, 2)
    check_conservation(b.state.ledger)
    assert b.state.ledger.refunds == 72_000


def test_period_figures_with_a_cap_carry_a_deficit() -> None:
    rules = Rules.from_json({"share.cap_per_claim_fen": 10})
    f = period_figures(date(2024, 1, 7), [("a" * 32, 1_000_000)], 0, 0, EMPTY, 14, rules)
    assert (f.share, f.collected) == (10, 140)
    assert f.surplus_out == 140 - 1_080_000
    g = period_figures(date(2024, 1, 21), [], 0, f.surplus_out, EMPTY, 14, rules)
    assert (g.share, g.surplus_out) == (0, f.surplus_out)  # no claims, nothing may be charged
    h = period_figures(date(2024, 1, 21), [("b" * 32, 100)], 0, f.surplus_out, EMPTY, 14, Rules())
    assert h.share == -(-(100 + 8 + 1_079_860) // 14)
    for x in (f, g, h):
        assert x.surplus_in + x.collected == x.claims_total + x.fee + x.refunds + x.surplus_out


def test_nobody_to_share_carries_a_deficit() -> None:
    f = period_figures(date(2024, 1, 7), [("a" * 32, 500)], 0, 0, EMPTY, 0, Rules())
    assert (f.share, f.collected, f.surplus_out) == (0, 0, -540)


def test_money_identity_is_checked() -> None:
    check_conservation(Ledger(collected=10, aid=5, fees=1, refunds=1, surplus=3))
    with pytest.raises(RuleViolation, match=r"rule money\.conserved: .*expected 10, got 11"):
        check_conservation(Ledger(collected=11, aid=5, fees=1, refunds=1, surplus=3), seq=9)


def test_missed_quorum_is_redrawn_from_fresh_jurors() -> None:
    b = PoolBuilder()
    _, member, _ = _world(b, 16)
    claim = b.file(member)
    b.notice(claim)
    b.tick(days=3)
    first = b.panel(claim)
    b.vote_all(claim, 1, 0)  # quorum is 2 of 3
    assert b.decide(claim).outcome is Outcome.NO_QUORUM
    view = b.state.claim(claim)
    assert view is not None and view.stage is Stage.REDRAW
    b.tick(hours=1)
    second = b.panel(claim)
    assert second.round == 2 and not set(first.jurors) & set(second.jurors)
    assert second.seed_size == b.size - 1  # fixed by the entry after the decision
    b.vote_all(claim, 0, 1)
    assert b.decide(claim).outcome is Outcome.NO_QUORUM
    view = b.state.claim(claim)
    assert view is not None and view.stage is Stage.REJECTED  # max_rounds 2: final
    b.appeal(claim)
    b.tick(hours=1)
    third = b.panel(claim)
    assert third.appeal and third.round == 3 and len(third.jurors) == 7
    b.vote_all(claim, 5, 2)
    assert b.decide(claim).outcome is Outcome.APPROVED
    b.pay(claim)
    view = b.state.claim(claim)
    assert view is not None and view.stage is Stage.PAID and view.paid_period == date(2024, 2, 7)


def test_objectors_and_lapsed_jurors_are_not_drawn() -> None:
    b = PoolBuilder()
    jurors, member, _ = _world(b, 20)
    claim = b.file(member)
    b.notice(claim)
    b.answer(claim, b.objection(claim, jurors[0]))
    b.remove_juror(jurors[1])
    b.leave(jurors[2])
    b.tick(days=3)
    pool = b.state.members.pool
    assert pool is not None and {jurors[1], jurors[2]} <= pool.lapsed
    for rnd in range(3):
        panel = b.panel(claim)
        assert not {jurors[0], jurors[1], jurors[2], member} & set(panel.jurors)
        if rnd < 2:
            b.vote_all(claim, 0, 0) if rnd == 0 else b.vote_all(claim, 0, 3)
            b.decide(claim)
            if rnd == 1:
                b.appeal(claim)
            b.tick(hours=1)


def test_requalified_juror_is_drawable_again() -> None:
    b = PoolBuilder()
    jurors, _, _ = _world(b)
    b.remove_juror(jurors[0])
    b.qualify(jurors[0])
    pool = b.state.members.pool
    assert pool is not None and jurors[0] not in pool.lapsed


def test_withdrawal_is_audited() -> None:
    b = PoolBuilder()
    _, member, _ = _world(b)
    claim = b.file(member)
    b.notice(claim)
    b.override("claim.withdraw", claim, "The claimant withdrew.")
    b.override("note", "pool", "Office closed on Monday.")
    view = b.state.claim(claim)
    assert view is not None and view.stage is Stage.CLOSED
    assert [(o.action, o.target, o.reason) for o in b.state.overrides] == [
        ("claim.withdraw", claim, "The claimant withdrew."),
        ("note", "pool", "Office closed on Monday."),
    ]
    b.tick(days=3)  # the window's end passes without fixing a seed for it
    b.join()
    view = b.state.claim(claim)
    assert view is not None and view.stage is Stage.CLOSED


def test_default_rules_panel_of_31() -> None:
    b = PoolBuilder({"juror.seasoning_days": 0})
    b.jurors(70)
    b.jury_pool()
    member = b.join(AgeBand.FROM_40_TO_59)
    b.tick(days=91)
    claim = b.file(member, amount=12_000_000)
    notice = b.notice(claim)
    assert notice.amount == 10_000_000  # the 40-59 cap
    b.tick(days=3)
    assert len(b.panel(claim).jurors) == 31
    b.vote_all(claim, 15, 0)  # 15 < quorum 16
    assert b.decide(claim).outcome is Outcome.NO_QUORUM
    b.tick(hours=1)
    b.panel(claim)
    b.vote_all(claim, 9, 7)
    decision = b.decide(claim)
    assert (decision.outcome, decision.amount) == (Outcome.APPROVED, 10_000_000)


def test_views_and_counts() -> None:
    b = PoolBuilder()
    jurors, member, other = _world(b)
    assert b.state.started and b.state.size == len(b.entries)
    assert b.state.member_count == 14 and b.state.juror_count == 12
    view = b.state.member(jurors[0])
    assert view is not None and view.juror and view.band is AgeBand.FROM_18_TO_39
    assert b.state.member("0" * 32) is None and b.state.claim("0" * 32) is None
    claim = b.file(member)
    b.notice(claim)
    b.objection(claim, other)
    b.tick(days=3)
    claims = list(b.state.claims())
    assert [c.id for c in claims] == [claim] and claims[0].objections == 1
    rules = b.state.rules_at(b.now)
    assert rules is not None and rules.panel_size == 3
    assert b.state.rules_at(START - timedelta(seconds=1)) is None
    assert len(b.state.rule_changes) == 1
    assert b.state.current_period == date(2024, 1, 21)
    assert b.state.due_periods == (date(2024, 1, 7),)
    assert b.state.time is not None


def test_an_empty_state() -> None:
    state = PoolState()
    assert not state.started and state.size == 0 and state.time is None
    assert state.claim("0" * 32) is None and list(state.claims()) == []
    assert state.current_period is None and state.due_periods == ()
    assert state.closed_periods == () and state.ledger == Ledger()
    assert state.refund_due("0" * 32) == 0


def test_helper_errors() -> None:
    b = PoolBuilder()
    _, member, _ = _world(b)
    claim = b.file(member)
    with pytest.raises(RuleViolation, match=r"rule decision\.state: .*is filed"):
        b.state.expected_decision(claim)
    b.close()
    with pytest.raises(RuleViolation, match=r"rule period\.too_early: no period is due"):
        b.state.period_figures(b.now)
    assert b.state.expected_period_close(b.now) is None
    with pytest.raises(RuleViolation, match=r"rule log\.time_order"):
        b.state.period_at(b.now - timedelta(days=1))
    b.notice(claim)
    b.tick(days=3)
    with pytest.raises(RuleViolation, match=r"rule panel\.seed: .*pass log_root_at"):
        b.state.expected_panel(claim, b.now, None)
    assert b.state.period_figures(moment(date(2024, 1, 21))).period == date(2024, 1, 21)


def test_a_refused_entry_changes_nothing_and_the_next_is_accepted() -> None:
    b = PoolBuilder()
    _, member, _ = _world(b)
    claim = b.file(member)
    b.notice(claim)
    b.tick(days=3)
    good = b.panel_body(claim)
    with pytest.raises(RuleViolation, match=r"panel\.seed_size"):
        b.feed(b.make(replace(good, seed_size=1)))
    assert b.panel(claim) == good


def test_votes_reveal_only_what_was_sealed() -> None:
    b = PoolBuilder()
    _, member, _ = _world(b)
    claim = b.file(member)
    b.notice(claim)
    b.tick(days=3)
    jurors = b.panel(claim).jurors
    b.seal(claim, jurors[0], Choice.REJECT, 'Línea 1\nline 2 "quoted" \\ ok')
    b.after_votes(claim)
    b.push(b.reveal_body(claim, jurors[0]))
    view = b.state.claim(claim)
    assert view is not None and (view.sealed, view.revealed) == (1, 1)


def test_the_roster_is_the_member_set_root_of_the_active_members() -> None:
    state = PoolBuilder().state
    assert state.members.roster() == (EMPTY, 0)
    b = PoolBuilder()
    ids = [b.join() for _ in range(9)]
    b.leave(ids[3])
    b.leave(ids[7])
    expected = roster_root(sorted(set(ids) - {ids[3], ids[7]}))
    assert b.state.members.roster() == expected
    assert b.state.members.roster() == expected  # cached
    ids.append(b.join())
    assert b.state.members.roster() == roster_root(sorted(set(ids) - {ids[3], ids[7]}))


def test_a_reveal_built_by_hand_with_a_lone_surrogate_is_refused() -> None:
    # Decoding refuses such a reason; a body built in code reaches the rules.
    b = PoolBuilder()
    _, member, _ = _world(b)
    claim = b.file(member)
    b.notice(claim)
    b.tick(days=3)
    juror = b.panel(claim).jurors[0]
    b.seal(claim, juror)
    b.after_votes(claim)
    bad = replace(b.reveal_body(claim, juror), reason="a\ud800")
    with pytest.raises(MalformedError, match=r"vote\.reason: control character U\+D800"):
        b.state.apply_body(b.size, b.now, bad, b.replayer.root_at)
