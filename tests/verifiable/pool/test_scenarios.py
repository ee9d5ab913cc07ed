"""One named scenario per rule: an honest prefix, then the entry that breaks
the rule, and the violation it must raise.

Each case builds its prefix with :class:`tests.verifiable.pool.pool_builder.PoolBuilder`
(panels of 3, appeals of 7, 2-day windows, a 10-day waiting period) and
returns the bytes of the offending entry.  The test feeds it and checks the
exception type, the rule id, the ``seq`` and the message; then checks that
the refused entry left the state exactly as it was.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import Enum
from typing import Any

import pytest

from tests.verifiable.pool.pool_builder import SMALL_POOL_RULES, PoolBuilder
from verifiable.errors import MalformedError, MutualogError, RuleViolation
from verifiable.log.bodies import (
    AgeBand,
    Choice,
    ClaimAnswered,
    ClaimAppealed,
    ClaimDecided,
    ClaimFiled,
    ClaimObjected,
    ClaimPaid,
    JurorQualified,
    JurorRemoved,
    LeaveReason,
    MemberJoined,
    MemberLeft,
    OperatorOverride,
    Outcome,
    PanelDrawn,
    PeriodClosed,
    PoolRules,
    VerifierPublished,
    VoteSealed,
)
from verifiable.pool.roster import roster_root
from verifiable.pool.rules import moment
from verifiable.pool.sortition import draw_panel
from verifiable.pool.verifier_page import EMPTY_SHA256

Case = Callable[[PoolBuilder], bytes]


@dataclass
class World:
    jurors: list[str]
    member: str
    other: str


def world(b: PoolBuilder, jurors: int = 12) -> World:
    """Twelve jurors, a committed pool, two members past their waiting period."""
    ids = b.jurors(jurors)
    b.jury_pool()
    member, other = b.join(), b.join()
    b.tick(days=11)
    return World(ids, member, other)


def noticed(b: PoolBuilder, amount: int = 1_000_000) -> tuple[World, str]:
    w = world(b)
    claim = b.file(w.member, amount=amount)
    b.notice(claim)
    return w, claim


def drawn(b: PoolBuilder, amount: int = 1_000_000) -> tuple[World, str]:
    w, claim = noticed(b, amount)
    b.tick(days=3)
    b.panel(claim)
    return w, claim


def voted(b: PoolBuilder, approve: int, reject: int) -> tuple[World, str]:
    w, claim = drawn(b)
    b.vote_all(claim, approve, reject)
    return w, claim


def decided(b: PoolBuilder, approve: int, reject: int) -> tuple[World, str]:
    w, claim = voted(b, approve, reject)
    b.decide(claim)
    return w, claim


def approved(b: PoolBuilder, amount: int = 1_000_000) -> tuple[World, str]:
    w = world(b)
    return w, b.approved_claim(w.member, amount)


def ineligible(b: PoolBuilder) -> tuple[World, str, str]:
    """A member who files inside the waiting period, and the ineligible decision."""
    w = world(b)
    newcomer = b.join()
    b.tick(days=1)
    claim = b.file(newcomer)
    b.decide(claim)
    return w, newcomer, claim


def period_due(b: PoolBuilder) -> PeriodClosed:
    """A period with one paid claim whose moment has passed (the period
    before it closed); returns the honest close."""
    _, claim = approved(b)
    b.pay(claim)
    period = b.state.current_period
    assert period is not None
    b.at(moment(period) + timedelta(seconds=1))
    b.close()  # 2024-01-07, empty
    body = b.state.expected_period_close(b.now)
    assert body is not None and body.claims_count == 1
    return body


# -- the cases ----------------------------------------------------------


def rules_effective_past(b: PoolBuilder) -> bytes:
    body = PoolRules(effective=b.now - timedelta(days=1), rules={}, reason="Backdated.")
    return b.make(body)


def rules_effective_now(b: PoolBuilder) -> bytes:
    return b.make(PoolRules(effective=b.now, rules={"share.fee_rate_bp": 900}, reason="Now."))


def rules_out_of_order(b: PoolBuilder) -> bytes:
    b.change_rules({"share.fee_rate_bp": 700}, b.now + timedelta(days=10))
    body = PoolRules(effective=b.now + timedelta(days=5), rules={}, reason="Earlier.")
    return b.make(body)


def rules_unknown_name(b: PoolBuilder) -> bytes:
    body = PoolRules(effective=b.now + timedelta(days=1), rules={"share.fee_pct": 8}, reason="?")
    return b.make(body)


def rules_out_of_range(b: PoolBuilder) -> bytes:
    body = PoolRules(effective=b.now + timedelta(days=1), rules={"panel.size": 0}, reason="?")
    return b.make(body)


def time_goes_back(b: PoolBuilder) -> bytes:
    b.join()
    return b.make(
        MemberJoined(member=b.new_id(), age_band=AgeBand.FROM_18_TO_39),
        time=b.now - timedelta(seconds=1),
    )


def join_twice(b: PoolBuilder) -> bytes:
    member = b.join()
    return b.make(MemberJoined(member=member, age_band=AgeBand.FROM_40_TO_59))


def rejoin_after_leaving(b: PoolBuilder) -> bytes:
    member = b.join()
    b.leave(member)
    return b.make(MemberJoined(member=member, age_band=AgeBand.FROM_18_TO_39))


def join_band_closed(b: PoolBuilder) -> bytes:
    b.change_rules({"member.join_bands": ["18-39", "40-59"]}, b.now + timedelta(days=1))
    b.tick(days=2)
    return b.make(MemberJoined(member=b.new_id(), age_band=AgeBand.UNDER_18))


def leave_non_member(b: PoolBuilder) -> bytes:
    return b.make(MemberLeft(member=b.new_id(), reason=LeaveReason.VOLUNTARY, refund=0))


def leave_twice(b: PoolBuilder) -> bytes:
    member = b.join()
    b.leave(member)
    return b.make(MemberLeft(member=member, reason=LeaveReason.VOLUNTARY, refund=0))


def voluntary_leave_refunded(b: PoolBuilder) -> bytes:
    member = b.join()
    return b.make(MemberLeft(member=member, reason=LeaveReason.VOLUNTARY, refund=100))


def waiting_leave_wrong_refund(b: PoolBuilder) -> bytes:
    _, newcomer, _ = ineligible(b)
    return b.make(MemberLeft(member=newcomer, reason=LeaveReason.WAITING_PERIOD, refund=5))


def waiting_leave_without_claim(b: PoolBuilder) -> bytes:
    member = b.join()
    return b.make(MemberLeft(member=member, reason=LeaveReason.WAITING_PERIOD, refund=0))


def ending_member_leaves_voluntarily(b: PoolBuilder) -> bytes:
    _, newcomer, _ = ineligible(b)
    return b.make(MemberLeft(member=newcomer, reason=LeaveReason.VOLUNTARY, refund=0))


def qualify_non_member(b: PoolBuilder) -> bytes:
    return b.make(JurorQualified(member=b.new_id()))


def qualify_minor(b: PoolBuilder) -> bytes:
    return b.make(JurorQualified(member=b.join(AgeBand.UNDER_18)))


def qualify_unseasoned(b: PoolBuilder) -> bytes:
    b.change_rules({"juror.seasoning_days": 30}, b.now + timedelta(days=1))
    b.tick(days=2)
    return b.make(JurorQualified(member=b.join()))


def qualify_twice(b: PoolBuilder) -> bytes:
    (juror,) = b.jurors(1)
    return b.make(JurorQualified(member=juror))


def qualify_ending_member(b: PoolBuilder) -> bytes:
    _, newcomer, _ = ineligible(b)
    return b.make(JurorQualified(member=newcomer))


def remove_non_juror(b: PoolBuilder) -> bytes:
    return b.make(JurorRemoved(member=b.join(), reason="Never was one."))


def jury_pool_wrong_root(b: PoolBuilder) -> bytes:
    b.jurors(3)
    return b.make(replace(b.state.expected_jury_pool(b.now), root=bytes(32)))


def jury_pool_wrong_size(b: PoolBuilder) -> bytes:
    b.jurors(3)
    return b.make(replace(b.state.expected_jury_pool(b.now), size=4))


def jury_pool_wrong_period(b: PoolBuilder) -> bytes:
    b.jurors(3)
    return b.make(replace(b.state.expected_jury_pool(b.now), period=date(2024, 1, 21)))


def jury_pool_twice(b: PoolBuilder) -> bytes:
    b.jurors(3)
    b.jury_pool()
    b.jurors(1)
    return b.make(b.state.expected_jury_pool(b.now))


def _filed(b: PoolBuilder, w: World, **changes: Any) -> bytes:
    fields: dict[str, Any] = {
        "claim": b.new_id(),
        "member": w.member,
        "category": "cancer",
        "amount": 1_000_000,
        "diagnosed": b.now.date(),
        "evidence": (bytes(32),),
    }
    fields.update(changes)
    return b.make(ClaimFiled(**fields))


def claim_by_non_member(b: PoolBuilder) -> bytes:
    return _filed(b, world(b), member=b.new_id())


def claim_by_former_member(b: PoolBuilder) -> bytes:
    w = world(b)
    b.leave(w.member)
    return _filed(b, w)


def claim_by_ending_member(b: PoolBuilder) -> bytes:
    w, newcomer, _ = ineligible(b)
    return _filed(b, w, member=newcomer)


def claim_id_reused(b: PoolBuilder) -> bytes:
    w = world(b)
    claim = b.file(w.member)
    return _filed(b, w, claim=claim, member=w.other)


def claim_category_not_covered(b: PoolBuilder) -> bytes:
    return _filed(b, world(b), category="cosmetic")


def claim_diagnosed_in_future(b: PoolBuilder) -> bytes:
    return _filed(b, world(b), diagnosed=b.now.date() + timedelta(days=1))


def claim_past_filing_deadline(b: PoolBuilder) -> bytes:
    return _filed(b, world(b), diagnosed=b.now.date() - timedelta(days=181))


def claim_band_without_cover(b: PoolBuilder) -> bytes:
    w = world(b)
    minor = b.join(AgeBand.UNDER_18)
    change = {
        "member.join_bands": ["18-39", "40-59"],
        "cover.caps": [{"band": "18-39", "cap": 30_000_000}, {"band": "40-59", "cap": 10_000_000}],
    }
    b.change_rules(change, b.now + timedelta(days=1))
    b.tick(days=12)
    return _filed(b, w, member=minor)


def claim_band_repeats_the_joining_band(b: PoolBuilder) -> bytes:
    w = world(b)
    return _filed(b, w, age_band=AgeBand.FROM_18_TO_39)


def claim_band_younger_than_joining(b: PoolBuilder) -> bytes:
    w = world(b)
    return _filed(b, w, age_band=AgeBand.UNDER_18)


def notice_unknown_claim(b: PoolBuilder) -> bytes:
    w = world(b)
    claim = b.file(w.member)
    return b.make(replace(b.notice_body(claim), claim=b.new_id()))


def notice_twice(b: PoolBuilder) -> bytes:
    _, claim = noticed(b)
    return b.make(b.notice_body(claim))


def waiting_period_claim_towards_approval(b: PoolBuilder) -> bytes:
    world(b)
    newcomer = b.join()
    b.tick(days=2)
    claim = b.file(newcomer)
    return b.make(b.notice_body(claim))


def notice_over_cap(b: PoolBuilder) -> bytes:
    w = world(b)
    claim = b.file(w.member, amount=40_000_000)
    return b.make(b.notice_body(claim, amount=30_000_001))


def notice_over_requested(b: PoolBuilder) -> bytes:
    w = world(b)
    claim = b.file(w.member, amount=1_000_000)
    return b.make(b.notice_body(claim, amount=1_000_001))


def notice_wrong_band(b: PoolBuilder) -> bytes:
    w = world(b)
    claim = b.file(w.member)
    return b.make(replace(b.notice_body(claim), age_band=AgeBand.FROM_40_TO_59))


def notice_wrong_category(b: PoolBuilder) -> bytes:
    w = world(b)
    claim = b.file(w.member)
    return b.make(replace(b.notice_body(claim), category="stroke"))


def notice_wrong_window(b: PoolBuilder) -> bytes:
    w = world(b)
    claim = b.file(w.member)
    body = b.notice_body(claim)
    return b.make(replace(body, objections_until=body.objections_until - timedelta(hours=1)))


def objection_after_window(b: PoolBuilder) -> bytes:
    w, claim = noticed(b)
    b.tick(days=2, seconds=1)
    return b.make(ClaimObjected(claim=claim, member=w.other, text="Late."))


def objection_by_non_member(b: PoolBuilder) -> bytes:
    _, claim = noticed(b)
    return b.make(ClaimObjected(claim=claim, member=b.new_id(), text="Who am I?"))


def objection_by_claimant(b: PoolBuilder) -> bytes:
    w, claim = noticed(b)
    return b.make(ClaimObjected(claim=claim, member=w.member, text="Myself."))


def limit_objections(b: PoolBuilder, per_member: int = 1) -> None:
    """A rule change limiting objections, in force an hour on (a claim filed
    after it is judged under it)."""
    effective = b.now + timedelta(hours=1)
    rules = {"claim.objections_per_member": per_member}
    b.push(PoolRules(effective=effective, rules=rules, reason="One objection per member."))
    b.at(effective)


def objection_over_the_limit(b: PoolBuilder) -> bytes:
    limit_objections(b)
    w, claim = noticed(b)
    b.objection(claim, w.other)
    return b.make(ClaimObjected(claim=claim, member=w.other, text="Worded another way."))


def objection_before_notice(b: PoolBuilder) -> bytes:
    w = world(b)
    claim = b.file(w.member)
    return b.make(ClaimObjected(claim=claim, member=w.other, text="Too early."))


def answer_unknown_objection(b: PoolBuilder) -> bytes:
    _, claim = noticed(b)
    return b.make(ClaimAnswered(claim=claim, objection=3, text="To what?"))


def answer_twice(b: PoolBuilder) -> bytes:
    w, claim = noticed(b)
    objection = b.objection(claim, w.other)
    b.answer(claim, objection)
    return b.make(ClaimAnswered(claim=claim, objection=objection, text="Again."))


def _any_panel(b: PoolBuilder, w: World, claim: str, **changes: Any) -> PanelDrawn:
    fields: dict[str, Any] = {
        "claim": claim,
        "round": 1,
        "appeal": False,
        "pool_period": date(2024, 1, 7),
        "seed_size": b.size,
        "seed": b.replayer.root(),
        "jurors": tuple(w.jurors[:3]),
        "votes_until": b.now + timedelta(days=2),
    }
    fields.update(changes)
    return PanelDrawn(**fields)


def panel_during_objection_window(b: PoolBuilder) -> bytes:
    w, claim = noticed(b)
    b.tick(days=1)
    return b.make(_any_panel(b, w, claim))


def panel_with_unanswered_objection(b: PoolBuilder) -> bytes:
    w, claim = noticed(b)
    b.objection(claim, w.other)
    b.tick(days=3)
    return b.make(_any_panel(b, w, claim))


def panel_for_claim_not_noticed(b: PoolBuilder) -> bytes:
    w = world(b)
    claim = b.file(w.member)
    b.tick(days=3)
    return b.make(_any_panel(b, w, claim))


def _good_panel(b: PoolBuilder) -> tuple[World, str, PanelDrawn]:
    w, claim = noticed(b)
    b.tick(days=3)
    return w, claim, b.panel_body(claim)


def panel_wrong_seed_size(b: PoolBuilder) -> bytes:
    _, _, good = _good_panel(b)
    return b.make(replace(good, seed_size=good.seed_size - 1))


def panel_wrong_seed(b: PoolBuilder) -> bytes:
    _, _, good = _good_panel(b)
    return b.make(replace(good, seed=bytes(32)))


def panel_not_the_draw(b: PoolBuilder) -> bytes:
    _, _, good = _good_panel(b)
    return b.make(replace(good, jurors=good.jurors[::-1]))


def panel_with_unqualified_member(b: PoolBuilder) -> bytes:
    w, _, good = _good_panel(b)
    return b.make(replace(good, jurors=(w.other, *good.jurors[1:])))


def panel_with_claimant(b: PoolBuilder) -> bytes:
    w, _, good = _good_panel(b)
    return b.make(replace(good, jurors=(w.member, *good.jurors[1:])))


def panel_too_small(b: PoolBuilder) -> bytes:
    _, _, good = _good_panel(b)
    return b.make(replace(good, jurors=good.jurors[:2]))


def panel_wrong_round(b: PoolBuilder) -> bytes:
    _, _, good = _good_panel(b)
    return b.make(replace(good, round=2))


def panel_wrong_appeal_flag(b: PoolBuilder) -> bytes:
    _, _, good = _good_panel(b)
    return b.make(replace(good, appeal=True))


def panel_wrong_pool(b: PoolBuilder) -> bytes:
    _, _, good = _good_panel(b)
    return b.make(replace(good, pool_period=date(2024, 1, 21)))


def panel_wrong_window(b: PoolBuilder) -> bytes:
    _, _, good = _good_panel(b)
    return b.make(replace(good, votes_until=good.votes_until + timedelta(seconds=1)))


def panel_without_pool(b: PoolBuilder) -> bytes:
    jurors = b.jurors(5)
    member = b.join()
    b.tick(days=11)
    claim = b.file(member)
    b.notice(claim)
    b.tick(days=3)
    return b.make(_any_panel(b, World(jurors, member, member), claim))


def panel_pool_too_small(b: PoolBuilder) -> bytes:
    jurors = b.jurors(3)
    b.jury_pool()
    member = b.join()
    b.tick(days=11)
    claim = b.file(member)
    b.notice(claim)
    b.answer(claim, b.objection(claim, jurors[0]))
    b.tick(days=3)
    return b.make(_any_panel(b, World(jurors, member, member), claim))


def panel_under_rules_changed_after_filing(b: PoolBuilder) -> bytes:
    # The claim is judged under the rules of its filing (panels of 3): a
    # panel of 5 under the later rules is refused.
    w = world(b)
    claim = b.file(w.member)
    b.change_rules({"panel.size": 5}, b.now + timedelta(hours=1))
    b.tick(hours=2)
    b.notice(claim)
    b.tick(days=3)
    good = b.panel_body(claim)
    pool = b.state.members.pool
    assert pool is not None
    jurors = draw_panel(good.seed, claim, 1, False, pool.ids, 5, {w.member})
    return b.make(replace(good, jurors=jurors))


def vote_by_non_juror(b: PoolBuilder) -> bytes:
    w, claim = drawn(b)
    return b.make(replace(b.seal_body(claim, w.other)))


def vote_twice(b: PoolBuilder) -> bytes:
    _, claim = drawn(b)
    juror = b.panel_jurors(claim)[0]
    b.seal(claim, juror)
    return b.make(b.seal_body(claim, juror, Choice.REJECT))


def vote_after_window(b: PoolBuilder) -> bytes:
    _, claim = drawn(b)
    b.after_votes(claim)
    return b.make(b.seal_body(claim, b.panel_jurors(claim)[0]))


def vote_wrong_round(b: PoolBuilder) -> bytes:
    _, claim = drawn(b)
    return b.make(replace(b.seal_body(claim, b.panel_jurors(claim)[0]), round=2))


def vote_on_claim_not_voting(b: PoolBuilder) -> bytes:
    w, claim = noticed(b)
    return b.make(VoteSealed(claim=claim, round=1, juror=w.jurors[0], commitment=bytes(32)))


def reveal_before_window_closes(b: PoolBuilder) -> bytes:
    _, claim = drawn(b)
    juror = b.panel_jurors(claim)[0]
    b.seal(claim, juror)
    return b.make(b.reveal_body(claim, juror))


def reveal_without_seal(b: PoolBuilder) -> bytes:
    _, claim = drawn(b)
    first, second = b.panel_jurors(claim)[:2]
    b.seal(claim, first)
    b.after_votes(claim)
    return b.make(replace(b.reveal_body(claim, first), juror=second))


def reveal_twice(b: PoolBuilder) -> bytes:
    _, claim = voted(b, 2, 0)
    return b.make(b.reveal_body(claim, b.panel_jurors(claim)[0]))


def reveal_other_choice(b: PoolBuilder) -> bytes:
    _, claim = drawn(b)
    juror = b.panel_jurors(claim)[0]
    b.seal(claim, juror, Choice.APPROVE)
    b.after_votes(claim)
    return b.make(replace(b.reveal_body(claim, juror), choice=Choice.REJECT))


def reveal_other_salt(b: PoolBuilder) -> bytes:
    _, claim = drawn(b)
    juror = b.panel_jurors(claim)[0]
    b.seal(claim, juror)
    b.after_votes(claim)
    return b.make(replace(b.reveal_body(claim, juror), salt=bytes(32)))


def reveal_other_reason(b: PoolBuilder) -> bytes:
    _, claim = drawn(b)
    juror = b.panel_jurors(claim)[0]
    b.seal(claim, juror)
    b.after_votes(claim)
    return b.make(replace(b.reveal_body(claim, juror), reason="A better reason."))


def reveal_without_reason(b: PoolBuilder) -> bytes:
    _, claim = drawn(b)
    juror = b.panel_jurors(claim)[0]
    b.seal(claim, juror, reason="")
    b.after_votes(claim)
    return b.make(b.reveal_body(claim, juror))


def decision_against_tally(b: PoolBuilder) -> bytes:
    _, claim = voted(b, 3, 0)
    return b.make(replace(b.state.expected_decision(claim), approvals=2, rejections=1))


def decision_against_votes(b: PoolBuilder) -> bytes:
    _, claim = voted(b, 1, 2)
    good = b.state.expected_decision(claim)
    return b.make(replace(good, outcome=Outcome.APPROVED, amount=1_000_000))


def decision_ignores_missed_quorum(b: PoolBuilder) -> bytes:
    _, claim = voted(b, 0, 1)
    return b.make(replace(b.state.expected_decision(claim), outcome=Outcome.REJECTED))


def decision_inside_voting_window(b: PoolBuilder) -> bytes:
    _, claim = drawn(b)
    return b.make(ClaimDecided(claim, 1, 0, 0, Outcome.NO_QUORUM, 0))


def decision_wrong_amount(b: PoolBuilder) -> bytes:
    _, claim = voted(b, 3, 0)
    return b.make(replace(b.state.expected_decision(claim), amount=999_999))


def decision_over_cap_under_filing_rules(b: PoolBuilder) -> bytes:
    # The cap is raised after the claim was filed; the claim keeps its cap.
    w = world(b)
    claim = b.file(w.member, amount=40_000_000)
    caps = [
        {"band": "0-17", "cap": 30_000_000},
        {"band": "18-39", "cap": 50_000_000},
        {"band": "40-59", "cap": 10_000_000},
    ]
    b.change_rules({"cover.caps": caps}, b.now + timedelta(hours=1))
    b.tick(hours=2)
    b.notice(claim)
    b.tick(days=3)
    b.panel(claim)
    b.vote_all(claim, 3, 0)
    return b.make(replace(b.state.expected_decision(claim), amount=40_000_000))


def decision_wrong_round(b: PoolBuilder) -> bytes:
    _, claim = voted(b, 3, 0)
    return b.make(replace(b.state.expected_decision(claim), round=2))


def decision_without_panel(b: PoolBuilder) -> bytes:
    _, claim = noticed(b)
    return b.make(ClaimDecided(claim, 1, 0, 0, Outcome.NO_QUORUM, 0))


def decision_twice(b: PoolBuilder) -> bytes:
    _, claim = voted(b, 3, 0)
    good = b.decide(claim)
    return b.make(good)


def ineligible_claim_that_is_covered(b: PoolBuilder) -> bytes:
    w = world(b)
    claim = b.file(w.member)
    return b.make(ClaimDecided(claim, 0, 0, 0, Outcome.INELIGIBLE, 0))


def ineligible_after_notice(b: PoolBuilder) -> bytes:
    _, claim = noticed(b)
    return b.make(ClaimDecided(claim, 0, 0, 0, Outcome.INELIGIBLE, 0))


def quorum_failed_not_redrawn(b: PoolBuilder) -> bytes:
    _, claim = decided(b, 1, 0)
    return b.make(ClaimAppealed(claim=claim, reason="Skip the redraw."))


def redraw_with_wrong_seed_size(b: PoolBuilder) -> bytes:
    _, claim = decided(b, 1, 0)
    b.tick(hours=1)
    good = b.panel_body(claim)
    return b.make(replace(good, seed_size=good.seed_size + 1))


def second_appeal(b: PoolBuilder) -> bytes:
    _, claim = decided(b, 0, 3)
    b.appeal(claim)
    b.tick(hours=1)
    b.panel(claim)
    b.vote_all(claim, 0, 7)
    b.decide(claim)
    return b.make(ClaimAppealed(claim=claim, reason="Once more."))


def appeal_after_window(b: PoolBuilder) -> bytes:
    _, claim = decided(b, 0, 3)
    b.tick(days=7, seconds=1)
    return b.make(ClaimAppealed(claim=claim, reason="Late."))


def appeal_of_approved_claim(b: PoolBuilder) -> bytes:
    _, claim = approved(b)
    return b.make(ClaimAppealed(claim=claim, reason="More!"))


def appeal_panel_of_n(b: PoolBuilder) -> bytes:
    _, claim = decided(b, 0, 3)
    b.appeal(claim)
    b.tick(hours=1)
    good = b.panel_body(claim)
    return b.make(replace(good, jurors=good.jurors[:3]))


def payout_without_decision(b: PoolBuilder) -> bytes:
    _, claim = noticed(b)
    return b.make(ClaimPaid(claim=claim, amount=1_000_000, period=date(2024, 1, 21)))


def payout_of_rejected_claim(b: PoolBuilder) -> bytes:
    _, claim = decided(b, 0, 3)
    return b.make(ClaimPaid(claim=claim, amount=1_000_000, period=date(2024, 1, 21)))


def payout_twice(b: PoolBuilder) -> bytes:
    _, claim = approved(b)
    return b.make(b.pay(claim))


def payout_over_cap(b: PoolBuilder) -> bytes:
    _, claim = approved(b, amount=40_000_000)
    return b.make(ClaimPaid(claim=claim, amount=30_000_001, period=date(2024, 1, 21)))


def payout_over_requested(b: PoolBuilder) -> bytes:
    _, claim = approved(b, amount=1_000_000)
    return b.make(ClaimPaid(claim=claim, amount=1_000_001, period=date(2024, 1, 21)))


def payout_not_the_decided_amount(b: PoolBuilder) -> bytes:
    _, claim = approved(b, amount=1_000_000)
    return b.make(ClaimPaid(claim=claim, amount=999_999, period=date(2024, 1, 21)))


def payout_wrong_period(b: PoolBuilder) -> bytes:
    _, claim = approved(b)
    return b.make(ClaimPaid(claim=claim, amount=1_000_000, period=date(2024, 1, 7)))


def payout_unknown_claim(b: PoolBuilder) -> bytes:
    world(b)
    return b.make(ClaimPaid(claim=b.new_id(), amount=1, period=date(2024, 1, 21)))


def _empty_close(period: date) -> PeriodClosed:
    empty = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    return PeriodClosed(period, 0, 0, empty, 0, 800, 0, 0, 0, 14, 0, 0, empty, 14)


def close_before_moment(b: PoolBuilder) -> bytes:
    world(b)
    b.close()
    return b.make(_empty_close(date(2024, 1, 21)))


def close_out_of_order(b: PoolBuilder) -> bytes:
    world(b)
    b.at(moment(date(2024, 1, 21)))
    return b.make(_empty_close(date(2024, 1, 21)))


def _close_with(**changes: Any) -> Case:
    def case(b: PoolBuilder) -> bytes:
        return b.make(replace(period_due(b), **changes))

    return case


def _roster_ids(b: PoolBuilder) -> list[str]:
    return b.state.members.sorted_roster()


def roster_missing_member(b: PoolBuilder) -> bytes:
    good = period_due(b)
    ids = _roster_ids(b)[1:]
    root, size = roster_root(ids)
    return b.make(replace(good, roster_root=root, roster_size=size))


def roster_with_added_member(b: PoolBuilder) -> bytes:
    good = period_due(b)
    ids = sorted([*_roster_ids(b), "f" * 32])
    root, size = roster_root(ids)
    return b.make(replace(good, roster_root=root, roster_size=size))


def override_not_allowed(b: PoolBuilder) -> bytes:
    world(b)
    return b.make(OperatorOverride(action="member.ban", target="x", reason="No.", details={}))


def override_disallowed_by_rule_change(b: PoolBuilder) -> bytes:
    b.change_rules({"override.allowed": ["claim.withdraw"]}, b.now + timedelta(days=1))
    b.tick(days=1)
    return b.make(OperatorOverride(action="note", target="pool", reason="Hi.", details={}))


def withdraw_paid_claim(b: PoolBuilder) -> bytes:
    _, claim = approved(b)
    b.pay(claim)
    return b.make(
        OperatorOverride(action="claim.withdraw", target=claim, reason="Oops.", details={})
    )


def withdraw_unknown_claim(b: PoolBuilder) -> bytes:
    world(b)
    body = OperatorOverride(action="claim.withdraw", target="nothing", reason="?", details={})
    return b.make(body)


def page_hash_of_nothing(b: PoolBuilder) -> bytes:
    world(b)
    empty = VerifierPublished(sha256=EMPTY_SHA256, size=1, build="mutualog-0.1.0")
    return b.make(empty)


def page_hash_republished(b: PoolBuilder) -> bytes:
    world(b)
    published = b.publish_page()
    b.tick(days=1)
    return b.make(published)


def vote_on_withdrawn_claim(b: PoolBuilder) -> bytes:
    _, claim = drawn(b)
    juror = b.panel_jurors(claim)[0]
    body = b.seal_body(claim, juror)
    b.override("claim.withdraw", claim)
    return b.make(body)


V = RuleViolation

CASES: list[tuple[str, Case, type[MutualogError], str | None, str]] = [
    (
        "rule change with a past effective time",
        rules_effective_past,
        V,
        "rules.effective_future",
        "take effect after",
    ),
    (
        "rule change effective at its own time",
        rules_effective_now,
        V,
        "rules.effective_future",
        "take effect after",
    ),
    (
        "rule change before one already scheduled",
        rules_out_of_order,
        V,
        "rules.order",
        "already scheduled",
    ),
    (
        "rule change with an unknown rule",
        rules_unknown_name,
        MalformedError,
        None,
        "unknown rule.*share.fee_pct",
    ),
    (
        "rule change out of range",
        rules_out_of_range,
        MalformedError,
        None,
        r"panel\.size: expected an integer in \[1, 127\]",
    ),
    ("entry time going back", time_goes_back, V, "log.time_order", "never before the previous"),
    ("member id joining twice", join_twice, V, "member.unique", "already in the log"),
    (
        "member id reused after leaving",
        rejoin_after_leaving,
        V,
        "member.unique",
        "already in the log",
    ),
    (
        "age band closed by a rule change",
        join_band_closed,
        V,
        "member.age_band",
        "0-17 may not join",
    ),
    ("non-member leaving", leave_non_member, V, "member.active", "is not a member"),
    ("member leaving twice", leave_twice, V, "member.active", "has left"),
    (
        "voluntary leaver refunded",
        voluntary_leave_refunded,
        V,
        "member.refund",
        "expected 0, got 100",
    ),
    (
        "waiting-period leaver refunded wrongly",
        waiting_leave_wrong_refund,
        V,
        "member.refund",
        "expected 0, got 5",
    ),
    (
        "waiting-period leave without an ineligible claim",
        waiting_leave_without_claim,
        V,
        "member.waiting_period",
        "not waiting_period",
    ),
    (
        "ineligible claimant leaving voluntarily",
        ending_member_leaves_voluntarily,
        V,
        "member.waiting_period",
        "expected waiting_period",
    ),
    ("juror who is not a member", qualify_non_member, V, "juror.member", "is not a member"),
    ("juror not an adult", qualify_minor, V, "juror.age_band", "0-17 may not serve"),
    ("juror not seasoned", qualify_unseasoned, V, "juror.seasoning", "30 days of membership"),
    ("juror qualified twice", qualify_twice, V, "juror.once", "already a qualified juror"),
    (
        "juror leaving after an ineligible claim",
        qualify_ending_member,
        V,
        "juror.member",
        "good standing",
    ),
    ("removing a non-juror", remove_non_juror, V, "juror.removed", "not a qualified juror"),
    ("juror pool with a wrong root", jury_pool_wrong_root, V, "jury.root", "member-set root"),
    ("juror pool with a wrong size", jury_pool_wrong_size, V, "jury.size", "expected 3, got 4"),
    (
        "juror pool for another period",
        jury_pool_wrong_period,
        V,
        "jury.period",
        "expected 2024-01-07",
    ),
    ("second juror pool in a period", jury_pool_twice, V, "jury.once", "already has a juror pool"),
    ("claim by a non-member", claim_by_non_member, V, "claim.member", "is not a member"),
    ("claim by a former member", claim_by_former_member, V, "claim.member", "has left"),
    (
        "claim by a member leaving after an ineligible claim",
        claim_by_ending_member,
        V,
        "claim.member",
        "ineligible",
    ),
    ("claim id reused", claim_id_reused, V, "claim.unique", "already in the log"),
    (
        "claim for an illness not covered",
        claim_category_not_covered,
        V,
        "claim.category",
        "cosmetic is not covered",
    ),
    (
        "claim diagnosed in the future",
        claim_diagnosed_in_future,
        V,
        "claim.diagnosed",
        "after the filing",
    ),
    (
        "claim past the filing deadline",
        claim_past_filing_deadline,
        V,
        "claim.filing_deadline",
        "within 180 days",
    ),
    (
        "claim for a band whose cover ended",
        claim_band_without_cover,
        V,
        "claim.cover",
        "0-17 has no cover",
    ),
    (
        "claim naming the band the member joined in",
        claim_band_repeats_the_joining_band,
        V,
        "claim.age_band",
        "repeats the band",
    ),
    (
        "claim in a band younger than the joining band",
        claim_band_younger_than_joining,
        V,
        "claim.age_band",
        "cannot be younger",
    ),
    ("notice of an unknown claim", notice_unknown_claim, V, "claim.unknown", "never filed"),
    ("notice twice", notice_twice, V, "notice.state", "is noticed"),
    (
        "waiting-period claim sent towards approval",
        waiting_period_claim_towards_approval,
        V,
        "claim.waiting_period",
        "inside the 10-day waiting period",
    ),
    (
        "notice above the cap",
        notice_over_cap,
        V,
        "notice.amount",
        r"expected 1\.\.30000000, got 30000001",
    ),
    (
        "notice above the amount requested",
        notice_over_requested,
        V,
        "notice.amount",
        r"expected 1\.\.1000000, got 1000001",
    ),
    ("notice with another age band", notice_wrong_band, V, "notice.fields", "age band"),
    ("notice with another category", notice_wrong_category, V, "notice.fields", "category"),
    (
        "notice with a short objection window",
        notice_wrong_window,
        V,
        "notice.window",
        "2 days from the notice",
    ),
    ("objection outside the window", objection_after_window, V, "objection.window", "has closed"),
    (
        "objection by a non-member",
        objection_by_non_member,
        V,
        "objection.member",
        "is not a member",
    ),
    ("objection by the claimant", objection_by_claimant, V, "objection.member", "own claim"),
    ("objection before the notice", objection_before_notice, V, "objection.state", "is filed"),
    (
        "second objection by one member",
        objection_over_the_limit,
        V,
        "objection.limit",
        "at most 1 per member",
    ),
    (
        "answer to no objection",
        answer_unknown_objection,
        V,
        "answer.objection",
        "entry 3 is not an objection",
    ),
    ("objection answered twice", answer_twice, V, "answer.once", "already answered"),
    (
        "panel during the objection window",
        panel_during_objection_window,
        V,
        "panel.too_early",
        "objection window has ended",
    ),
    (
        "panel with an unanswered objection",
        panel_with_unanswered_objection,
        V,
        "panel.objections",
        "every objection is answered",
    ),
    ("panel for a claim not noticed", panel_for_claim_not_noticed, V, "panel.state", "is filed"),
    (
        "panel from the wrong seed size",
        panel_wrong_seed_size,
        V,
        "panel.seed_size",
        "size the rules fix",
    ),
    (
        "panel from a seed that is not the log root",
        panel_wrong_seed,
        V,
        "panel.seed",
        "not the log's root hash",
    ),
    (
        "panel not matching sortition",
        panel_not_the_draw,
        V,
        "panel.sortition",
        "not the sortition's draw",
    ),
    (
        "panel with a member who is not a juror",
        panel_with_unqualified_member,
        V,
        "panel.sortition",
        "position 0",
    ),
    ("claimant on their own panel", panel_with_claimant, V, "panel.claimant", "own panel"),
    ("panel of the wrong size", panel_too_small, V, "panel.size", "expected 3, got 2"),
    ("panel with the wrong round", panel_wrong_round, V, "panel.round", "expected 1, got 2"),
    (
        "first-instance panel marked appeal",
        panel_wrong_appeal_flag,
        V,
        "panel.appeal",
        "expected False, got True",
    ),
    ("panel from another juror pool", panel_wrong_pool, V, "panel.pool", "latest juror pool"),
    (
        "panel with a wrong voting window",
        panel_wrong_window,
        V,
        "panel.window",
        "2 days from the draw",
    ),
    ("panel with no juror pool committed", panel_without_pool, V, "panel.pool", "no juror pool"),
    (
        "panel from a pool with too few eligible jurors",
        panel_pool_too_small,
        V,
        "panel.pool_too_small",
        "too few eligible jurors",
    ),
    (
        "rule change altering a filed claim's panel",
        panel_under_rules_changed_after_filing,
        V,
        "panel.size",
        "rules of its filing",
    ),
    ("vote by a non-juror", vote_by_non_juror, V, "vote.panel_member", "not on the panel"),
    ("double vote", vote_twice, V, "vote.once", "already voted"),
    ("vote after the window", vote_after_window, V, "vote.window", "voting window has closed"),
    ("vote for another round", vote_wrong_round, V, "vote.round", "no panel voting in round 2"),
    ("vote on a claim with no panel", vote_on_claim_not_voting, V, "vote.round", "no panel voting"),
    ("vote on a withdrawn claim", vote_on_withdrawn_claim, V, "vote.round", "closed"),
    (
        "reveal before the window closes",
        reveal_before_window_closes,
        V,
        "vote.reveal_window",
        "after the voting window",
    ),
    (
        "reveal of a vote never sealed",
        reveal_without_seal,
        V,
        "vote.reveal_sealed",
        "sealed no vote",
    ),
    ("reveal twice", reveal_twice, V, "vote.reveal_once", "already revealed"),
    (
        "reveal not matching: other choice",
        reveal_other_choice,
        V,
        "vote.reveal_matches",
        "does not open",
    ),
    (
        "reveal not matching: other salt",
        reveal_other_salt,
        V,
        "vote.reveal_matches",
        "does not open",
    ),
    (
        "reveal not matching: other reason",
        reveal_other_reason,
        V,
        "vote.reveal_matches",
        "does not open",
    ),
    (
        "reveal without the reason the rules ask for",
        reveal_without_reason,
        V,
        "vote.reveal_reason",
        "ask every juror",
    ),
    (
        "decision against the tally",
        decision_against_tally,
        V,
        "decision.tally",
        "3 approve, 0 reject",
    ),
    (
        "decision against the votes",
        decision_against_votes,
        V,
        "decision.outcome",
        "expected rejected, got approved",
    ),
    (
        "decision ignoring a missed quorum",
        decision_ignores_missed_quorum,
        V,
        "decision.outcome",
        "expected no_quorum",
    ),
    (
        "decision inside the voting window",
        decision_inside_voting_window,
        V,
        "decision.window",
        "after the voting window",
    ),
    (
        "decision not at the notice's amount",
        decision_wrong_amount,
        V,
        "decision.amount",
        "expected 1000000, got 999999",
    ),
    (
        "decision above the cap of the claim's rules",
        decision_over_cap_under_filing_rules,
        V,
        "decision.cap",
        "at most 30000000, got 40000000",
    ),
    ("decision for another round", decision_wrong_round, V, "decision.round", "expected 1, got 2"),
    ("decision with no panel", decision_without_panel, V, "decision.state", "is noticed"),
    ("decision twice", decision_twice, V, "decision.state", "is approved"),
    (
        "ineligible decision for a covered claim",
        ineligible_claim_that_is_covered,
        V,
        "decision.ineligible",
        "not in waiting",
    ),
    (
        "ineligible decision after the notice",
        ineligible_after_notice,
        V,
        "decision.ineligible",
        "noticed",
    ),
    (
        "quorum-failed decision not redrawn",
        quorum_failed_not_redrawn,
        V,
        "panel.redraw",
        "missed quorum",
    ),
    (
        "redraw from the wrong seed size",
        redraw_with_wrong_seed_size,
        V,
        "panel.seed_size",
        "size the rules fix",
    ),
    ("appeal panel of n instead of 2n+1", appeal_panel_of_n, V, "panel.size", "expected 7, got 3"),
    ("second appeal", second_appeal, V, "appeal.once", "already been appealed"),
    ("appeal after the window", appeal_after_window, V, "appeal.window", "within 7 days"),
    ("appeal of an approved claim", appeal_of_approved_claim, V, "appeal.state", "is approved"),
    ("payout without a decision", payout_without_decision, V, "payout.decided", "is noticed"),
    ("payout of a rejected claim", payout_of_rejected_claim, V, "payout.decided", "is rejected"),
    ("double payout", payout_twice, V, "payout.once", "already paid"),
    ("payout over the cap", payout_over_cap, V, "payout.cap", "at most 30000000, got 30000001"),
    (
        "payout over the amount requested",
        payout_over_requested,
        V,
        "payout.requested",
        "at most 1000000, got 1000001",
    ),
    (
        "payout not the amount decided",
        payout_not_the_decided_amount,
        V,
        "payout.amount",
        "expected 1000000, got 999999",
    ),
    (
        "payout shared in the wrong period",
        payout_wrong_period,
        V,
        "payout.period",
        "expected 2024-01-21, got 2024-01-07",
    ),
    ("payout of an unknown claim", payout_unknown_claim, V, "claim.unknown", "never filed"),
    ("period closed before its moment", close_before_moment, V, "period.too_early", "00:00 UTC"),
    ("period closed out of order", close_out_of_order, V, "period.order", "expected 2024-01-07"),
    ("wrong share", _close_with(share=1), V, "period.share", "share is not"),
    ("wrong fee", _close_with(fee=80_001), V, "period.fee", "expected 80000, got 80001"),
    ("wrong fee rate", _close_with(fee_rate_bp=700), V, "period.fee", "expected 800, got 700"),
    ("wrong surplus carried in", _close_with(surplus_in=1), V, "period.surplus", "surplus_in"),
    ("wrong surplus carried out", _close_with(surplus_out=0), V, "period.surplus", "surplus_out"),
    ("member missing from the roster", roster_missing_member, V, "period.roster", "roster_size"),
    ("member added to the roster", roster_with_added_member, V, "period.roster", "roster_size"),
    (
        "roster root not the roster's",
        _close_with(roster_root=bytes(32)),
        V,
        "period.roster",
        "roster_root",
    ),
    ("wrong sharing count", _close_with(sharing=13), V, "period.sharing", "expected 14, got 13"),
    ("paid claims miscounted", _close_with(claims_count=2), V, "period.claims", "claims_count"),
    ("paid claims mis-totalled", _close_with(claims_total=1), V, "period.claims", "claims_total"),
    (
        "paid claims root not the list's",
        _close_with(claims_root=bytes(32)),
        V,
        "period.claims",
        "claims_root",
    ),
    ("wrong refunds", _close_with(refunds=1), V, "period.refunds", "expected 0, got 1"),
    ("wrong amount collected", _close_with(collected=1), V, "period.collected", "collected"),
    ("override the rules do not allow", override_not_allowed, V, "override.allowed", "member.ban"),
    (
        "override withdrawn from the rules",
        override_disallowed_by_rule_change,
        V,
        "override.allowed",
        "note",
    ),
    ("withdrawing a paid claim", withdraw_paid_claim, V, "override.target", "is paid"),
    ("withdrawing an unknown claim", withdraw_unknown_claim, V, "override.target", "unknown"),
    ("verifier page hash of no bytes", page_hash_of_nothing, V, "verifier.hash", "e3b0c442"),
    (
        "verifier page hash published again",
        page_hash_republished,
        V,
        "verifier.unchanged",
        "already the one published in entry",
    ),
]


def _freeze(value: object) -> object:
    """A comparable picture of the state, skipping caches and methods."""
    if isinstance(value, Enum | str | int | bytes | bool | date | type(None)):
        return value
    if isinstance(value, dict):
        return tuple((k, _freeze(v)) for k, v in value.items())
    if isinstance(value, set | frozenset):
        return frozenset(value)
    if isinstance(value, list | tuple) or type(value).__name__ == "deque":
        return tuple(_freeze(v) for v in value)  # type: ignore[attr-defined]
    if callable(value):
        return None
    if dataclasses.is_dataclass(value) and getattr(value, "__dataclass_params__").frozen:  # noqa: B009
        return value
    names = getattr(type(value), "__slots__", None) or vars(value)
    return (
        type(value).__name__,
        tuple(
            (n, _freeze(getattr(value, n)))
            for n in names
            if n not in ("_roster", "_sorted", "_joined")
        ),
    )


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert len({name for name, *_ in CASES}) == len(CASES)


@pytest.mark.parametrize(
    ("case", "error", "rule", "match"),
    [pytest.param(fn, err, rule, match, id=name) for name, fn, err, rule, match in CASES],
)
def test_scenario(case: Case, error: type[MutualogError], rule: str | None, match: str) -> None:
    b = PoolBuilder(SMALL_POOL_RULES)
    bad = case(b)
    size = b.size
    before = _freeze(copy.deepcopy(b.state))
    with pytest.raises(error, match=match) as raised:
        b.feed(bad)
    if rule is not None:
        assert isinstance(raised.value, RuleViolation)
        assert raised.value.rule == rule
        assert raised.value.seq == size
        assert f"entry {size}: rule {rule}: " in str(raised.value)
    assert b.size == size
    assert _freeze(b.state) == before


def test_a_claim_takes_the_band_of_the_age_at_diagnosis() -> None:
    """A member who joined at 17 and is diagnosed at 18: the filing names the
    older band, the claim is capped by it, and its notice must carry it."""
    b = PoolBuilder(SMALL_POOL_RULES)
    world(b)
    minor = b.join(AgeBand.UNDER_18)
    b.tick(days=11)
    claim = b.new_id()
    b.push(
        ClaimFiled(
            claim=claim,
            member=minor,
            category="cancer",
            amount=50_000_000,
            diagnosed=b.now.date(),
            evidence=(bytes(32),),
            age_band=AgeBand.FROM_40_TO_59,
        )
    )
    view = b.state.claim(claim)
    assert view is not None and view.band is AgeBand.FROM_40_TO_59
    assert b.notice_body(claim).amount == 10_000_000  # the 40-59 cap, not 0-17's
    with pytest.raises(RuleViolation, match="age band is not the claimant's"):
        b.feed(b.make(replace(b.notice_body(claim), age_band=AgeBand.UNDER_18)))
    b.notice(claim)
    # An entry without the field reads as it always did: the joining band.
    plain = b.file(minor)
    later = b.state.claim(plain)
    assert later is not None and later.band is AgeBand.UNDER_18
