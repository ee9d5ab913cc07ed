"""The demo's notice facts: each notice of a simulated history gets facts
the rulebook accepts, drawn from the claim id alone."""

from __future__ import annotations

import random
from collections import Counter

from verifiable.log.bodies import ClaimNoticed
from verifiable.log.entry import parse_entry
from verifiable.log.notice_facts import PROVINCE_POPULATION, HospitalGrade
from verifiable.pool.replay import replay
from verifiable.testonly.books import SimConfig
from verifiable.testonly.notice_facts import SUMMARIES, NoticeFactsHook, draw_grade, draw_province
from verifiable.testonly.simulate import Simulation


def test_every_notice_gets_facts_the_rulebook_accepts() -> None:
    config = SimConfig(
        days=40,
        initial_members=300,
        initial_jurors=100,
        claims_per_day=300,
        rules={"juror.seasoning_days": 0, "member.waiting_days": 10, "panel.size": 5},
    )
    entries = list(Simulation(random.Random(5), config, amend=NoticeFactsHook()).run())
    replay(entries)  # raises on any rule a notice's facts break
    notices = [b for b in (parse_entry(e).body for e in entries) if isinstance(b, ClaimNoticed)]
    assert notices
    for notice in notices:
        assert notice.facts is not None and notice.facts.waiting_met
        assert notice.summary in SUMMARIES


def test_the_draws_are_the_claims_own_and_weighted() -> None:
    claims = [f"{n:032x}" for n in range(4000)]
    assert [draw_province(c) for c in claims[:50]] == [draw_province(c) for c in claims[:50]]
    provinces = Counter(draw_province(c) for c in claims)
    grades = Counter(draw_grade(c) for c in claims)
    # Guangdong (8.9% of the people) far more often than Tibet (0.3%).
    assert provinces["44"] > 10 * provinces["54"]
    assert set(provinces) <= set(PROVINCE_POPULATION)
    assert grades.most_common(1)[0][0] is HospitalGrade.TERTIARY_A
