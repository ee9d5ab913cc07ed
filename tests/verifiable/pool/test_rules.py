"""The rulebook: defaults, strict parsing, helpers, the calendar, the schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from verifiable.errors import MalformedError, RuleViolation
from verifiable.log.bodies import AgeBand, PoolRules
from verifiable.pool.rules import (
    DEFAULT_RULES,
    RULE_NAMES,
    BandCap,
    Rulebook,
    Rules,
    moment,
    next_notice,
)

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


def test_defaults_follow_the_plan() -> None:
    r = DEFAULT_RULES
    assert r.join_bands == (AgeBand.UNDER_18, AgeBand.FROM_18_TO_39, AgeBand.FROM_40_TO_59)
    assert r.waiting_days == 90
    assert r.cap(AgeBand.UNDER_18) == 30_000_000
    assert r.cap(AgeBand.FROM_18_TO_39) == 30_000_000
    assert r.cap(AgeBand.FROM_40_TO_59) == 10_000_000
    assert r.juror_bands == (AgeBand.FROM_18_TO_39, AgeBand.FROM_40_TO_59)
    assert r.panel_size == 31 and r.appeal_panel_size == 63
    assert r.quorum(31) == 16 and r.quorum(63) == 32
    assert r.notice_days == (7, 21) and r.deduction_days == (14, 28)
    assert r.fee_rate_bp == 800
    assert r.share_cap_per_claim == 0
    assert r.overrides_allowed == ("claim.withdraw", "note")


def test_to_json_names_every_rule_and_round_trips() -> None:
    as_json = DEFAULT_RULES.to_json()
    assert tuple(as_json) == RULE_NAMES
    assert Rules.from_json(as_json) == DEFAULT_RULES
    assert as_json["cover.caps"] == [
        {"band": "0-17", "cap": 30_000_000},
        {"band": "18-39", "cap": 30_000_000},
        {"band": "40-59", "cap": 10_000_000},
    ]


def test_partial_update_keeps_the_base() -> None:
    base = Rules.from_json({"panel.size": 5})
    changed = Rules.from_json({"share.fee_rate_bp": 600}, base=base)
    assert changed.panel_size == 5 and changed.fee_rate_bp == 600
    assert Rules.from_json({}) == DEFAULT_RULES


def test_tuples_from_a_frozen_body_are_accepted() -> None:
    body = PoolRules.from_json(
        {
            "effective": "2024-03-01T00:00:00Z",
            "rules": {"cover.caps": [{"band": "18-39", "cap": 5}], "member.join_bands": ["18-39"]},
            "reason": "r",
        },
        "body",
    )
    rules = Rules.from_json(body.rules)
    assert rules.caps == (BandCap(AgeBand.FROM_18_TO_39, 5),)
    assert rules.cap(AgeBand.FROM_40_TO_59) is None


def test_helpers() -> None:
    r = Rules.from_json({"vote.quorum_bp": 6_666, "vote.threshold_bp": 6_666})
    assert r.quorum(3) == 2
    assert r.approves(2, 3)  # 2/3 is more than 66.66 %
    assert not Rules.from_json({"vote.threshold_bp": 6_667}).approves(2, 3)
    assert Rules().approves(2, 3) and not Rules().approves(1, 2)
    assert Rules().fee(1_000_001) == 80_000  # rounded down
    assert Rules().fee(0) == 0


def test_windows_and_sizes() -> None:
    r = Rules.from_json(
        {
            "member.waiting_days": 10,
            "juror.seasoning_days": 30,
            "claim.objection_days": 2,
            "panel.voting_days": 4,
            "appeal.days": 5,
            "panel.size": 5,
        }
    )
    late = T0.replace(hour=23, minute=59)
    assert r.covered_from(late) == date(2024, 3, 11)  # whole days from the day joined
    assert r.seasoned_from(T0) == T0 + timedelta(days=30)
    assert r.objections_until(T0) == T0 + timedelta(days=2)
    assert r.votes_until(T0) == T0 + timedelta(days=4)
    assert r.appeal_until(T0) == T0 + timedelta(days=5)
    assert r.appeals and not Rules.from_json({"appeal.days": 0}).appeals
    assert (r.panel_size_for(False), r.panel_size_for(True)) == (5, 11)
    assert r.appeal_panel_size == 11


def test_capped_share() -> None:
    assert Rules().capped_share(12_345, 0) == 12_345  # no cap set
    capped = Rules.from_json({"share.cap_per_claim_fen": 100})
    assert capped.capped_share(12_345, 3) == 300
    assert capped.capped_share(250, 3) == 250
    assert capped.capped_share(250, 0) == 0


BAD: list[Any] = [
    ({"share.fee_pct": 8}, r"unknown rule\(s\) share\.fee_pct; known rules: "),
    ({"panel.size": 0}, r"panel\.size: expected an integer in \[1, 127\], got 0"),
    ({"panel.size": 128}, r"panel\.size: expected an integer in \[1, 127\], got 128"),
    ({"panel.size": "31"}, r"panel\.size: expected an integer"),
    ({"panel.size": True}, r"panel\.size: expected an integer, got true"),
    ({"member.waiting_days": -1}, r"member\.waiting_days: expected an integer in \[0, 3650\]"),
    ({"share.fee_rate_bp": 10_001}, r"share\.fee_rate_bp: expected an integer in \[0, 10000\]"),
    ({"vote.quorum_bp": 10_000}, r"vote\.quorum_bp: expected an integer in \[0, 9999\]"),
    ({"vote.reason_required": 1}, r"vote\.reason_required: expected true or false"),
    ({"member.join_bands": "18-39"}, r"member\.join_bands: expected a list"),
    ({"member.join_bands": ["18-39", "18-39"]}, r"member\.join_bands\[1\]: duplicate item"),
    ({"juror.bands": ["60-99"]}, r"juror\.bands\[0\]: expected one of 0-17, 18-39, 40-59"),
    ({"cover.caps": []}, r"cover\.caps: expected a list of 1 to 3 items, got 0"),
    ({"cover.caps": [7]}, r"cover\.caps\[0\]: expected an object, got 7"),
    ({"cover.caps": [{"band": "18-39"}]}, r"cover\.caps\[0\]: missing field\(s\) cap"),
    ({"cover.caps": [{"band": "18-39", "cap": 0}]}, r"cover\.caps\[0\]\.cap: expected an integer"),
    (
        {"cover.caps": [{"band": "18-39", "cap": 1}, {"band": "18-39", "cap": 2}]},
        r"cover\.caps band\[1\]: duplicate item 18-39",
    ),
    (
        {"cover.caps": [{"band": "18-39", "cap": 1}]},
        r"rules: cover\.caps: no cap for band 0-17, which may join",
    ),
    ({"cover.categories": []}, r"cover\.categories: at least one category"),
    ({"cover.categories": ["Cancer"]}, r"cover\.categories\[0\]: expected a lowercase token"),
    ({"cover.categories": ["a", "a"]}, r"cover\.categories\[1\]: duplicate item a"),
    (
        {"period.notice_days": [21, 7]},
        r"period\.notice_days\[1\]: days must be strictly increasing",
    ),
    ({"period.notice_days": [29]}, r"period\.notice_days\[0\]: expected an integer in \[1, 28\]"),
    ({"period.notice_days": []}, r"period\.notice_days: expected a list of 1 to 12 items"),
    ({"period.deduction_days": [14]}, r"period\.deduction_days: expected one per notice day"),
    ({"period.deduction_days": [7, 28]}, r"deduction day 7 is not after its notice day 7"),
    (
        {"override.allowed": ["claim withdraw"]},
        r"override\.allowed\[0\]: expected a lowercase token",
    ),
]


@pytest.mark.parametrize(("change", "match"), BAD, ids=[m for _, m in BAD])
def test_malformed_rules_are_refused(change: dict[str, Any], match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        Rules.from_json(change)


def test_direct_construction_checks_too() -> None:
    with pytest.raises(MalformedError, match=r"^cover\.categories: at least one"):
        Rules(categories=())


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (datetime(2024, 3, 1, tzinfo=UTC), date(2024, 3, 7)),
        (datetime(2024, 3, 6, 23, 59, 59, tzinfo=UTC), date(2024, 3, 7)),
        (datetime(2024, 3, 7, tzinfo=UTC), date(2024, 3, 21)),  # strictly after
        (datetime(2024, 3, 21, 0, 0, 1, tzinfo=UTC), date(2024, 4, 7)),
        (datetime(2024, 12, 25, tzinfo=UTC), date(2025, 1, 7)),
    ],
)
def test_next_notice(after: datetime, expected: date) -> None:
    assert next_notice(after, DEFAULT_RULES) == expected
    assert moment(expected) > after


def test_monthly_calendar() -> None:
    rules = Rules.from_json({"period.notice_days": [1], "period.deduction_days": [8]})
    assert next_notice(datetime(2024, 12, 1, tzinfo=UTC), rules) == date(2025, 1, 1)


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        (date(2024, 3, 7), date(2024, 3, 14)),
        (date(2024, 3, 21), date(2024, 3, 28)),
        (date(2024, 3, 10), date(2024, 3, 14)),  # a notice day of an earlier calendar
        (date(2024, 12, 25), date(2024, 12, 28)),
        (date(2024, 12, 28), date(2025, 1, 14)),
    ],
)
def test_deduction_date(period: date, expected: date) -> None:
    assert DEFAULT_RULES.deduction_date(period) == expected


def _rules_body(effective: datetime, **rules: Any) -> PoolRules:
    return PoolRules(effective=effective, rules=rules, reason="r")


def test_rulebook_schedule() -> None:
    book = Rulebook()
    assert book.in_force(T0) is None and book.latest is None
    genesis = book.propose(0, T0, _rules_body(T0, **{"panel.size": 5}))
    book.adopt(genesis)
    later = T0 + timedelta(days=10)
    change = book.propose(7, T0 + timedelta(days=1), _rules_body(later, **{"share.fee_rate_bp": 1}))
    book.adopt(change)
    assert change.rules.panel_size == 5 and change.rules.fee_rate_bp == 1
    assert book.in_force(T0 - timedelta(seconds=1)) is None
    assert book.in_force(T0) == genesis.rules
    assert book.in_force(later - timedelta(seconds=1)) == genesis.rules
    assert book.in_force(later) == change.rules
    assert book.changes == (genesis, change)
    book.unadopt()
    assert book.latest == genesis
    book.unadopt()
    assert book.latest is None


def test_genesis_must_be_entry_zero() -> None:
    with pytest.raises(RuleViolation, match=r"entry 3: rule rules\.genesis: .*expected seq 0"):
        Rulebook().propose(3, T0, _rules_body(T0))


def test_genesis_takes_effect_at_once() -> None:
    with pytest.raises(RuleViolation, match=r"rules\.genesis: the genesis rulebook takes effect"):
        Rulebook().propose(0, T0, _rules_body(T0 + timedelta(seconds=1)))


def test_changes_take_effect_later_and_in_order() -> None:
    book = Rulebook()
    book.adopt(book.propose(0, T0, _rules_body(T0)))
    with pytest.raises(RuleViolation, match=r"rules\.effective_future"):
        book.propose(1, T0, _rules_body(T0))
    book.adopt(book.propose(1, T0, _rules_body(T0 + timedelta(days=2))))
    with pytest.raises(RuleViolation, match=r"rules\.order: .*expected effective after"):
        book.propose(2, T0, _rules_body(T0 + timedelta(days=1)))


def test_a_bad_change_names_its_entry() -> None:
    book = Rulebook()
    book.adopt(book.propose(0, T0, _rules_body(T0)))
    with pytest.raises(MalformedError, match=r"^entry 4: body\.rules\.panel\.size: expected"):
        book.propose(4, T0, _rules_body(T0 + timedelta(days=1), **{"panel.size": -1}))
