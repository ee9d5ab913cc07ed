"""The structured facts of a public notice (``claim.noticed``'s optional
``facts``, format v1, notice facts v1; docs/format.md).

What a member needs to judge a claim at a glance, in fields rather than
prose: the month of the diagnosis, how long the claimant had been a member
then and whether the waiting period was met, the grade of the hospital and
where it is, the amount requested and the amount the cap allows.  The log
can never be erased, so every field is coarse: a month rather than a day,
a province or a region (never a hospital's name or city), or no place
(nor grade) at all where they would single out too few claimants
(:func:`coarsened`; docs/privacy.md, "The notice's facts").

This module reads and writes the object and knows the places; whether the
facts agree with the filing is the rulebook's check
(:mod:`verifiable.pool.notice_check`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from types import MappingProxyType

from verifiable.errors import MalformedError
from verifiable.log.fields import (
    Codec,
    JSONValue,
    describe,
    read_bool,
    read_enum,
    read_fen,
    read_int,
    read_object,
)

__all__ = [
    "FACTS",
    "GRADE_SHARES",
    "NOTICE_K",
    "PROVINCE_POPULATION",
    "PROVINCE_REGION",
    "HospitalGrade",
    "NoticeFacts",
    "Region",
    "coarsened",
    "expected_sharing",
    "months_between",
    "place_region",
]


class HospitalGrade(StrEnum):
    """The grade of the treating hospital under the national grading of
    hospitals (医院等级): level three, first class (三级甲等) apart, since
    most serious illness is treated there."""

    TERTIARY_A = "tertiary-a"  # 三级甲等
    TERTIARY = "tertiary"  # 三级, other classes
    SECONDARY = "secondary"  # 二级
    PRIMARY = "primary"  # 一级
    UNRATED = "unrated"  # 未定级


class Region(StrEnum):
    """The seven geographic regions of the mainland, coarser than a province."""

    NORTH = "north"  # 华北
    NORTHEAST = "northeast"  # 东北
    EAST = "east"  # 华东
    CENTRAL = "central"  # 华中
    SOUTH = "south"  # 华南
    SOUTHWEST = "southwest"  # 西南
    NORTHWEST = "northwest"  # 西北


_N, _NE, _E, _C, _S, _SW, _NW = tuple(Region)

PROVINCE_REGION: Mapping[str, Region] = MappingProxyType(
    {
        # GB/T 2260 two-digit codes of the 31 mainland provincial divisions.
        **dict.fromkeys(("11", "12", "13", "14", "15"), _N),
        **dict.fromkeys(("21", "22", "23"), _NE),
        **dict.fromkeys(("31", "32", "33", "34", "35", "36", "37"), _E),
        **dict.fromkeys(("41", "42", "43"), _C),
        **dict.fromkeys(("44", "45", "46"), _S),
        **dict.fromkeys(("50", "51", "52", "53", "54"), _SW),
        **dict.fromkeys(("61", "62", "63", "64", "65"), _NW),
    }
)
"""Each province's code and its region."""

_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")
_REQUIRED = (
    "diagnosed_month",
    "months_member",
    "waiting_met",
    "requested",
    "capped",
)
_MAX_MONTHS = 12 * 100


def place_region(place: str) -> Region:
    """The region of ``place``, a province code or a region's token."""
    return PROVINCE_REGION[place] if place in PROVINCE_REGION else Region(place)


def months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end`` (0 if ``end`` is earlier): a
    month is complete on the same day of the month, or on the month's last
    day where it has no such day (31 January to 28 February is one)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day and not _last_day(end):
        months -= 1
    return max(months, 0)


def _last_day(d: date) -> bool:
    return (d + timedelta(days=1)).month != d.month


PROVINCE_POPULATION: Mapping[str, int] = MappingProxyType(
    {
        # Residents by province in ten thousands, from the seventh national
        # census (2020), bulletin no. 3 of the National Bureau of Statistics.
        "11": 2189, "12": 1387, "13": 7461, "14": 3492, "15": 2405,
        "21": 4259, "22": 2407, "23": 3185,
        "31": 2487, "32": 8475, "33": 6457, "34": 6103, "35": 4154, "36": 4519, "37": 10153,
        "41": 9937, "42": 5775, "43": 6644,
        "44": 12601, "45": 5013, "46": 1008,
        "50": 3205, "51": 8367, "52": 3856, "53": 4721, "54": 365,
        "61": 3953, "62": 2502, "63": 592, "64": 720, "65": 2585,
    }
)  # fmt: skip
"""Each province's population, the weights of :func:`coarsened`."""

NOTICE_K = 5
"""The fewest claims a published place may be expected to stand for
(docs/privacy.md, "The notice's facts", says why 5)."""

_TOTAL = sum(PROVINCE_POPULATION.values())


def expected_sharing(place: str, claims: int) -> float:
    """How many of ``claims`` claims (of one age band and category,
    diagnosed in one month) are expected in ``place``, a province code or a
    region, going by population."""
    if place in PROVINCE_POPULATION:
        people = PROVINCE_POPULATION[place]
    else:
        region = Region(place)
        people = sum(
            n for code, n in PROVINCE_POPULATION.items() if PROVINCE_REGION[code] is region
        )
    return claims * people / _TOTAL


GRADE_SHARES: Mapping[HospitalGrade, int] = MappingProxyType(
    {
        HospitalGrade.TERTIARY_A: 60,
        HospitalGrade.TERTIARY: 15,
        HospitalGrade.SECONDARY: 20,
        HospitalGrade.PRIMARY: 3,
        HospitalGrade.UNRATED: 2,
    }
)
"""Per hundred serious-illness claims, the grade of the treating hospital:
most in grade-A tertiary hospitals.  An assumption of the rule, stated in
docs/privacy.md, not a published figure; it only makes the rule withhold a
rare grade sooner than a common one."""


def coarsened(
    province: str, grade: HospitalGrade, claims: int, k: int = NOTICE_K
) -> tuple[str | None, HospitalGrade | None]:
    """The place and grade a notice publishes for a hospital of ``grade`` in
    ``province``, given ``claims``, the number of claims in the log of the
    notice's age band and category diagnosed in its month (this one
    included): the first of (province, grade), (region, grade), (no place,
    grade), (no place, no grade) whose expected share of those claims, by
    population and by :data:`GRADE_SHARES`, is at least ``k``; the last
    where none is.  It reads only what the log shows and fixed weights, so
    anyone can recompute it."""
    region = PROVINCE_REGION[province].value
    share = GRADE_SHARES[grade] / sum(GRADE_SHARES.values())
    for place in (province, region):
        if expected_sharing(place, claims) * share >= k:
            return place, grade
    return (None, grade) if claims * share >= k else (None, None)


@dataclass(frozen=True)
class NoticeFacts:
    """The facts of a notice.  Money in fen; ``place`` is a province code,
    a region's token, or ``None`` (withheld); ``hospital_grade`` is
    ``None`` where it is withheld too."""

    diagnosed_month: str
    months_member: int
    waiting_met: bool
    hospital_grade: HospitalGrade | None
    requested: int
    capped: int
    place: str | None = None

    @property
    def month(self) -> tuple[int, int]:
        """``diagnosed_month`` as (year, month)."""
        return int(self.diagnosed_month[:4]), int(self.diagnosed_month[5:])

    @classmethod
    def from_json(cls, value: object, where: str) -> NoticeFacts:
        place: object = None
        grade: HospitalGrade | None = None
        if isinstance(value, dict) and ("place" in value or "hospital_grade" in value):
            place = value.get("place")
            if "hospital_grade" in value:
                grade = read_enum(value["hospital_grade"], f"{where}.hospital_grade", HospitalGrade)
            value = {k: v for k, v in value.items() if k not in ("place", "hospital_grade")}
        raw = read_object(value, where, _REQUIRED)
        month = raw["diagnosed_month"]
        if not isinstance(month, str) or not _MONTH.fullmatch(month):
            raise MalformedError(f"{where}.diagnosed_month: expected a month YYYY-MM")
        if place is not None and (
            not isinstance(place, str) or (place not in PROVINCE_REGION and place not in _REGIONS)
        ):
            raise MalformedError(
                f"{where}.place: expected a GB/T 2260 province code or a region, "
                f"got {describe(place)}"
            )
        facts = cls(
            diagnosed_month=month,
            months_member=read_int(
                raw["months_member"], f"{where}.months_member", high=_MAX_MONTHS
            ),
            waiting_met=read_bool(raw["waiting_met"], f"{where}.waiting_met"),
            hospital_grade=grade,
            requested=read_fen(raw["requested"], f"{where}.requested", positive=True),
            capped=read_fen(raw["capped"], f"{where}.capped", positive=True),
            place=place,
        )
        if facts.capped > facts.requested:
            raise MalformedError(
                f"{where}.capped: at most the amount requested ({facts.requested}), "
                f"got {facts.capped}"
            )
        return facts

    def to_json(self) -> JSONValue:
        out: dict[str, JSONValue] = {
            "diagnosed_month": self.diagnosed_month,
            "months_member": self.months_member,
            "waiting_met": self.waiting_met,
            "requested": self.requested,
            "capped": self.capped,
        }
        if self.place is not None:
            out["place"] = self.place
        if self.hospital_grade is not None:
            out["hospital_grade"] = self.hospital_grade.value
        return out


_REGIONS = frozenset(r.value for r in Region)

FACTS: Codec[NoticeFacts] = Codec(NoticeFacts.from_json, NoticeFacts.to_json)
