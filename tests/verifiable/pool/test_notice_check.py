"""The structured facts of a notice against the filing and the membership:
each fact the log can prove is checked at replay, under its own rule, and a
notice written before the facts existed replays as it always did."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from tests.verifiable.pool.pool_builder import SMALL_POOL_RULES, PoolBuilder
from verifiable.errors import RuleViolation
from verifiable.log.bodies import ClaimNoticed
from verifiable.log.notice_facts import HospitalGrade, NoticeFacts
from verifiable.pool.notice_check import notice_problem

REDACTED = bytes(range(32))


def _pool(amount: int = 1_000_000) -> tuple[PoolBuilder, str, ClaimNoticed]:
    """A claim by a member of 70 days, diagnosed two days before filing,
    and its honest notice with facts: 2 whole months of membership."""
    b = PoolBuilder(SMALL_POOL_RULES)
    jurors = b.jurors(12)
    assert jurors
    b.jury_pool()
    member = b.join()
    joined = b.now
    b.tick(days=70)
    diagnosed = b.now.date() - timedelta(days=2)
    claim = b.file(member, amount=amount, diagnosed=diagnosed)
    view = b.state.claim(claim)
    assert view is not None
    cap = view.rules.cap(view.band) or 0
    facts = NoticeFacts(
        diagnosed_month=f"{diagnosed.year:04d}-{diagnosed.month:02d}",
        months_member=(diagnosed.year - joined.year) * 12
        + diagnosed.month
        - joined.month
        - (diagnosed.day < joined.day),
        waiting_met=True,
        hospital_grade=HospitalGrade.TERTIARY_A,
        requested=amount,
        capped=min(amount, cap),
        place="east",
    )
    body = replace(
        b.notice_body(claim), facts=facts, summary="病历与诊断一致。", redacted=(REDACTED,)
    )
    return b, claim, body


def test_an_honest_notice_with_facts_replays() -> None:
    b, claim, body = _pool()
    assert body.facts is not None and body.facts.months_member == 2
    b.push(body)
    view = b.state.claim(claim)
    assert view is not None and view.stage.value == "noticed"


def test_a_notice_without_facts_replays_as_before() -> None:
    """Every notice written before notice facts v1 has none of the fields."""
    b, claim, body = _pool()
    old = replace(body, facts=None, summary=None, redacted=None)
    data = b.make(old)
    assert b"facts" not in data and b"redacted" not in data and b"summary" not in data
    b.feed(data)
    view = b.state.claim(claim)
    assert view is not None and view.stage.value == "noticed"


def _facts(body: ClaimNoticed, **changes: Any) -> ClaimNoticed:
    assert body.facts is not None
    return replace(body, facts=replace(body.facts, **changes))


CASES = [
    ("month", lambda n: _facts(n, diagnosed_month="2001-01"), "notice.diagnosed_month"),
    ("months", lambda n: _facts(n, months_member=7), "notice.months_member"),
    ("waiting", lambda n: _facts(n, waiting_met=False), "notice.waiting_met"),
    ("requested", lambda n: _facts(n, requested=999_999, capped=999_999), "notice.requested"),
    ("capped", lambda n: _facts(n, capped=500_000), "notice.capped"),
    ("redacted-count", lambda n: replace(n, redacted=(REDACTED, bytes(32))), "notice.redacted"),
]


@pytest.mark.parametrize(("name", "change", "rule"), CASES, ids=[c[0] for c in CASES])
def test_each_provable_fact_is_checked(name: str, change: object, rule: str) -> None:
    b, _claim, body = _pool()
    size = b.size
    assert callable(change)
    with pytest.raises(RuleViolation) as raised:
        b.feed(b.make(change(body)))
    assert raised.value.rule == rule, name
    assert b.size == size


def test_a_redacted_copy_is_not_the_original() -> None:
    b, claim, body = _pool()
    filed = hashlib.sha256(claim.encode()).digest()  # what PoolBuilder commits
    with pytest.raises(RuleViolation, match="original document's commitment") as raised:
        b.feed(b.make(replace(body, redacted=(filed,))))
    assert raised.value.rule == "notice.redacted"


def test_the_cap_holds_the_capped_amount() -> None:
    """A request above the band's cap: capped is the cap."""
    b, _claim, body = _pool(amount=50_000_000)
    assert body.facts is not None and body.facts.capped == 30_000_000
    b.push(body)


def test_without_the_joining_time_the_months_are_not_checked() -> None:
    _b, _claim, body = _pool()
    assert body.facts is not None
    wrong = _facts(body, months_member=40)
    year, month = body.facts.month
    problem = notice_problem(
        wrong,
        diagnosed=date(year, month, 1),
        requested=body.facts.requested,
        cap=30_000_000,
        evidence=(bytes(32),),
        joined=None,
    )
    assert problem is None
