"""Reading and writing a notice's facts, and the places they name."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from verifiable.errors import MalformedError
from verifiable.log.bodies import ClaimNoticed, parse_body
from verifiable.log.notice_facts import (
    PROVINCE_POPULATION,
    PROVINCE_REGION,
    HospitalGrade,
    NoticeFacts,
    Region,
    coarsened,
    expected_sharing,
    months_between,
    place_region,
)

FACTS: dict[str, Any] = {
    "diagnosed_month": "2026-03",
    "months_member": 14,
    "waiting_met": True,
    "hospital_grade": "tertiary-a",
    "requested": 30_000_000,
    "capped": 30_000_000,
    "place": "51",
}
NOTICE: dict[str, Any] = {
    "claim": "0" * 32,
    "text": "一位会员申请互助金。",
    "amount": 30_000_000,
    "age_band": "18-39",
    "category": "cancer",
    "objections_until": "2026-04-09T00:00:00Z",
}


def _notice(**extra: object) -> ClaimNoticed:
    body = parse_body("claim.noticed", {**NOTICE, **extra}, "body")
    assert isinstance(body, ClaimNoticed)
    return body


def test_a_notice_with_every_new_field_round_trips() -> None:
    extra = {"facts": FACTS, "summary": "住院病历与诊断一致。", "redacted": ["ab" * 32]}
    body = _notice(**extra)
    assert body.facts == NoticeFacts(
        "2026-03", 14, True, HospitalGrade.TERTIARY_A, 30_000_000, 30_000_000, "51"
    )
    assert body.facts.month == (2026, 3)
    assert body.to_json() == {**NOTICE, **extra}


def test_an_old_notice_reads_with_none_of_them() -> None:
    body = _notice()
    assert (body.facts, body.summary, body.redacted) == (None, None, None)
    assert body.to_json() == NOTICE


@pytest.mark.parametrize("place", [None, "east", "11", "65"])
def test_a_place_may_be_a_province_a_region_or_withheld(place: str | None) -> None:
    facts = {k: v for k, v in FACTS.items() if k != "place"}
    if place is not None:
        facts["place"] = place
    body = _notice(facts=facts)
    assert body.facts is not None and body.facts.place == place
    assert body.to_json()["facts"] == facts


BAD = [
    ({"place": "71"}, r"body\.facts\.place: expected a GB/T 2260 province code or a region"),
    ({"place": "Chengdu"}, r"body\.facts\.place"),
    ({"place": 51}, r"body\.facts\.place"),
    ({"diagnosed_month": "2026-13"}, r"body\.facts\.diagnosed_month: expected a month"),
    ({"diagnosed_month": "2026-03-01"}, r"body\.facts\.diagnosed_month"),
    ({"months_member": -1}, r"body\.facts\.months_member"),
    ({"waiting_met": "yes"}, r"body\.facts\.waiting_met"),
    ({"hospital_grade": "famous"}, r"body\.facts\.hospital_grade"),
    ({"requested": 0}, r"body\.facts\.requested"),
    ({"capped": 30_000_001}, r"body\.facts\.capped: at most the amount requested"),
    ({"city": "Chengdu"}, r"body\.facts: unknown field"),
]


@pytest.mark.parametrize(("change", "match"), BAD)
def test_malformed_facts_are_refused(change: dict[str, object], match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        _notice(facts={**FACTS, **change})


def test_a_missing_fact_is_refused() -> None:
    facts = {k: v for k, v in FACTS.items() if k != "capped"}
    with pytest.raises(MalformedError, match=r"body\.facts: missing field\(s\) capped"):
        _notice(facts=facts)


@pytest.mark.parametrize(
    ("redacted", "match"),
    [
        ([], "expected a list of 1 to 32"),
        (["ab" * 32, "ab" * 32], "duplicate"),
        (["xy"], r"redacted\[0\]"),
    ],
)
def test_malformed_redacted_lists_are_refused(redacted: list[str], match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        _notice(redacted=redacted)


def test_an_empty_summary_is_refused() -> None:
    with pytest.raises(MalformedError, match=r"body\.summary"):
        _notice(summary="")


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2025, 1, 15), date(2025, 3, 14), 1),
        (date(2025, 1, 15), date(2025, 3, 15), 2),
        (date(2025, 1, 31), date(2025, 2, 28), 1),  # February has no 31st
        (date(2024, 1, 31), date(2024, 2, 28), 0),  # ... but a 29th in 2024
        (date(2024, 12, 20), date(2025, 12, 19), 11),
        (date(2025, 5, 1), date(2025, 4, 1), 0),
    ],
)
def test_months_between(start: date, end: date, months: int) -> None:
    assert months_between(start, end) == months


def test_every_mainland_province_has_a_region() -> None:
    assert len(PROVINCE_REGION) == 31
    assert set(PROVINCE_REGION.values()) == set(Region)
    assert place_region("44") is Region.SOUTH and place_region("south") is Region.SOUTH


def test_coarsening_goes_province_region_none() -> None:
    """Guangdong holds 8.9% of the population, the south region 13.2%;
    a grade-A tertiary hospital 60% of the claims, a primary one 3%."""
    a, primary = HospitalGrade.TERTIARY_A, HospitalGrade.PRIMARY
    assert coarsened("44", a, 100) == ("44", a)  # 5.4 expected in Guangdong
    assert coarsened("44", a, 80) == ("south", a)  # 4.3 there, 6.3 in the region
    assert coarsened("44", a, 30) == (None, a)  # 2.4 in the region, 18 in all
    assert coarsened("44", primary, 100) == (None, None)  # 3 in all
    assert coarsened("54", a, 2000) == ("southwest", a)  # Tibet: 3.1 of 2000
    assert coarsened("54", a, 2000, k=1) == ("54", a)


def test_a_withheld_grade_is_left_out() -> None:
    facts = {k: v for k, v in FACTS.items() if k not in ("place", "hospital_grade")}
    body = _notice(facts=facts)
    assert body.facts is not None and body.facts.hospital_grade is None
    assert body.to_json()["facts"] == facts


def test_expected_sharing_sums_to_the_claims() -> None:
    regions = sum(expected_sharing(r.value, 700) for r in Region)
    provinces = sum(expected_sharing(code, 700) for code in PROVINCE_POPULATION)
    assert round(regions, 6) == round(provinces, 6) == 700
