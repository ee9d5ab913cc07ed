# ruff: noqa: RUF001 -- the summaries are in Chinese, with its punctuation
"""Structured facts for simulated notices: the demo's notices carry them
(notice facts v1), through the simulation's ``amend`` hook.

:class:`NoticeFactsHook` watches the bodies a simulation appends (when each
member joined, what each claim says) and gives each ``claim.noticed`` the
facts the log fixes, a hospital grade and province drawn for the claim, the
province coarsened by the one rule
(:func:`verifiable.log.notice_facts.coarsened`), and a plain summary in
Chinese.  Its draws come from the claim id (a hash of it and of what is
drawn), not from the simulation's generator, so the rest of a history is
drawn as it would be without it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime

from verifiable.log.bodies import AgeBand, Body, ClaimFiled, ClaimNoticed, MemberJoined
from verifiable.log.notice_facts import (
    GRADE_SHARES,
    PROVINCE_POPULATION,
    HospitalGrade,
    NoticeFacts,
    coarsened,
    months_between,
)

__all__ = ["SUMMARIES", "NoticeFactsHook", "draw_grade", "draw_province", "notice_text"]

SUMMARIES = (
    "已核对出院记录与病理报告，诊断与申请一致。",
    "已向治疗医院核实住院与诊断情况，材料齐全。",
    "诊断证明、检查报告与费用清单相互吻合，未发现疑点。",
    "确诊日期在等待期之后，病历记载与申请的疾病类别一致。",
)
"""The demo's investigation summaries: plain, naming no one."""

#: The demo's notices speak Chinese, as its members do: the words of the
#: pages' catalog for each age band and illness category.
_BANDS_ZH = {"0-17": "18 岁以下", "18-39": "18–39 岁", "40-59": "40–59 岁"}
_CATEGORIES_ZH = {
    "cancer": "恶性肿瘤（癌症）",
    "heart_attack": "急性心肌梗死",
    "stroke": "脑中风",
    "organ_transplant": "重大器官移植",
    "kidney_failure": "肾衰竭",
    "coronary_bypass": "冠状动脉搭桥手术",
    "other_serious": "其他重大疾病",
}


def notice_text(band: AgeBand, category: str) -> str:
    """The demo's one-line notice of a claim, in Chinese."""
    words = _CATEGORIES_ZH.get(category, category)
    return f"一位{_BANDS_ZH[band.value]}的会员因{words}申请互助。"


def _draw(claim: str, what: str, weights: Sequence[int]) -> int:
    """An index into ``weights`` drawn with them, from claim ``claim``'s id
    and ``what`` is drawn: the same for the same claim, every time."""
    digest = hashlib.sha256(f"{claim}/{what}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") % sum(weights)
    for index, weight in enumerate(weights):
        if point < weight:
            return index
        point -= weight
    raise AssertionError("unreachable: point < sum(weights)")


def draw_province(claim: str) -> str:
    """Claim ``claim``'s hospital's province, weighted by population."""
    codes = list(PROVINCE_POPULATION)
    return codes[_draw(claim, "province", [PROVINCE_POPULATION[c] for c in codes])]


def draw_grade(claim: str) -> HospitalGrade:
    """Claim ``claim``'s hospital's grade, weighted by :data:`GRADE_SHARES`."""
    grades = list(GRADE_SHARES)
    return grades[_draw(claim, "grade", [GRADE_SHARES[g] for g in grades])]


class NoticeFactsHook:
    """An ``amend`` hook of :class:`verifiable.testonly.simulate.Simulation`."""

    def __init__(self) -> None:
        self._joined: dict[str, tuple[datetime, AgeBand]] = {}
        self._filed: dict[str, tuple[ClaimFiled, datetime, AgeBand]] = {}
        self._sharing: Counter[tuple[AgeBand, str, int, int]] = Counter()

    def __call__(self, when: datetime, body: Body) -> Body:
        if isinstance(body, MemberJoined):
            self._joined[body.member] = (when, body.age_band)
        elif isinstance(body, ClaimFiled):
            joined, band = self._joined[body.member]
            band = body.age_band or band
            self._filed[body.claim] = (body, joined, band)
            self._sharing[_cell(band, body.category, body.diagnosed)] += 1
        elif isinstance(body, ClaimNoticed) and body.facts is None:
            return self._noticed(body)
        return body

    def _noticed(self, body: ClaimNoticed) -> ClaimNoticed:
        filed, joined, band = self._filed[body.claim]
        province, grade = draw_province(body.claim), draw_grade(body.claim)
        sharing = self._sharing[_cell(band, filed.category, filed.diagnosed)]
        place, shown = coarsened(province, grade, sharing)
        facts = NoticeFacts(
            diagnosed_month=f"{filed.diagnosed.year:04d}-{filed.diagnosed.month:02d}",
            months_member=months_between(joined.date(), filed.diagnosed),
            waiting_met=True,
            hospital_grade=shown,
            requested=filed.amount,
            # The simulation proposes the request within the cap.
            capped=body.amount,
            place=place,
        )
        summary = SUMMARIES[_draw(body.claim, "summary", [1] * len(SUMMARIES))]
        text = notice_text(band, filed.category)
        return replace(body, text=text, facts=facts, summary=summary)


def _cell(band: AgeBand, category: str, diagnosed: date) -> tuple[AgeBand, str, int, int]:
    return band, category, diagnosed.year, diagnosed.month
