"""How many claims share each combination a notice publishes (docs/privacy.md,
"The notice's facts").  Run by hand; seconds, not a benchmark.

    python bench/notice_kanon.py                  # the demo, 1,000,000 and 100,000,000 members
    python bench/notice_kanon.py --members 1000000 --seed 7

A notice adds two things to what the log already says of a claim: the
hospital's grade and its place.  The age band, the illness category and the
date of diagnosis were public before (``claim.filed``), the month being the
part a neighbour or a colleague is likely to know.  For each pool this prints,
for four combinations, how the claims fall into classes of claims sharing one
combination (a class of 1 singles its claimant out):

    public       band, category, month of diagnosis (already in the log)
    province     + grade + the province, uncoarsened (what the rule prevents)
    published    + grade and place as the notice publishes them (the rule)
    place only   + the place as published, the grade left out

A simulated pool's claims are drawn from stated assumptions, each an input
here, none a measurement: members by band 10% under 18, 60% 18-39, 30% 40-59;
claims a year per member by band 0.01%, 0.03%, 0.12% (about 0.055% overall,
near the 0.05-0.07% a year the largest real plan reported); categories with
cancer the most common (70%); diagnosis months uniform over one year; the
hospital's province by population (the 2020 census,
``verifiable.log.notice_facts.PROVINCE_POPULATION``) and its grade by
``verifiable.log.notice_facts.GRADE_SHARES``.  Each claim's place and grade
are coarsened as the server does it at its notice, against the claims of
its band, category and month filed before it (filings arrive in the order
of diagnosis plus up to 20 days).
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from server.demo import demo_config
from verifiable.log.bodies import AgeBand, ClaimFiled, ClaimNoticed
from verifiable.log.entry import parse_entry
from verifiable.log.notice_facts import (
    GRADE_SHARES,
    NOTICE_K,
    PROVINCE_POPULATION,
    HospitalGrade,
    coarsened,
)
from verifiable.pool.rules import DEFAULT_RULES
from verifiable.testonly.notice_facts import NoticeFactsHook, draw_grade, draw_province
from verifiable.testonly.simulate import Simulation

BANDS = {AgeBand.UNDER_18: (10, 1), AgeBand.FROM_18_TO_39: (60, 3), AgeBand.FROM_40_TO_59: (30, 12)}
"""Per band: per hundred members, claims a year per 10,000 members."""

CATEGORY_SHARES = {
    "cancer": 70,
    "heart_attack": 8,
    "stroke": 9,
    "organ_transplant": 1,
    "kidney_failure": 4,
    "coronary_bypass": 2,
    "other_serious": 6,
}
"""Per hundred claims."""

COMBINATIONS = ("public", "province", "published", "place only")


@dataclass(frozen=True)
class Claim:
    band: AgeBand
    category: str
    month: str
    grade: HospitalGrade
    province: str
    shown_grade: HospitalGrade | None
    place: str | None

    def key(self, combination: str) -> tuple[object, ...]:
        public = (self.band, self.category, self.month)
        return {
            "public": public,
            "province": (*public, self.grade, self.province),
            "published": (*public, self.shown_grade, self.place),
            "place only": (*public, self.place),
        }[combination]


def pool_claims(members: int, seed: int) -> list[Claim]:
    """One year of a simulated pool's claims, each coarsened at its notice."""
    rng = random.Random(seed)
    drawn: list[tuple[date, date, AgeBand, str]] = []
    start = date(2026, 1, 1)
    categories = list(CATEGORY_SHARES)
    weights = [CATEGORY_SHARES[c] for c in categories]
    for band, (per_hundred, per_10k) in BANDS.items():
        expected = members * per_hundred / 100 * per_10k / 10_000
        count = round(rng.gauss(expected, expected**0.5)) if expected > 0 else 0
        for _ in range(max(count, 0)):
            diagnosed = start + timedelta(days=rng.randrange(365))
            filed = diagnosed + timedelta(days=rng.randrange(21))
            drawn.append((filed, diagnosed, band, rng.choices(categories, weights)[0]))
    drawn.sort(key=lambda c: c[0])
    sharing: Counter[tuple[AgeBand, str, str]] = Counter()
    provinces, grades = list(PROVINCE_POPULATION), list(GRADE_SHARES)
    people = [PROVINCE_POPULATION[c] for c in provinces]
    shares = [GRADE_SHARES[g] for g in grades]
    out = []
    for _, diagnosed, band, category in drawn:
        month = f"{diagnosed.year:04d}-{diagnosed.month:02d}"
        sharing[band, category, month] += 1
        province = rng.choices(provinces, weights=people)[0]
        grade = rng.choices(grades, weights=shares)[0]
        place, shown = coarsened(province, grade, sharing[band, category, month])
        out.append(Claim(band, category, month, grade, province, shown, place))
    return out


def demo_claims(members: int, seed: int) -> list[Claim]:
    """The notices of a demo pool (the demo's configuration, without its
    witness), with the province each was drawn before coarsening."""
    hook = NoticeFactsHook()
    sim = Simulation(random.Random(seed), demo_config(members), amend=hook)
    filed: dict[str, ClaimFiled] = {}
    out = []
    for data in sim.run():
        body = parse_entry(data).body
        if isinstance(body, ClaimFiled):
            filed[body.claim] = body
        elif isinstance(body, ClaimNoticed) and body.facts is not None:
            facts = body.facts
            # The hook's own draws for the claim, before coarsening.
            province, grade = draw_province(body.claim), draw_grade(body.claim)
            out.append(
                Claim(
                    body.age_band,
                    body.category,
                    facts.diagnosed_month,
                    grade,
                    province,
                    facts.hospital_grade,
                    facts.place,
                )
            )
    return out


def classes(claims: Sequence[Claim], combination: str) -> Counter[str]:
    """How many claims sit in a class of 1, of 2-4, and of 5 or more."""
    sizes = Counter(c.key(combination) for c in claims)
    out: Counter[str] = Counter()
    for claim in claims:
        size = sizes[claim.key(combination)]
        out["1" if size == 1 else "2-4" if size < NOTICE_K else f"{NOTICE_K}+"] += 1
    return out


def report(name: str, claims: Sequence[Claim]) -> Iterable[str]:
    places = Counter(
        "province" if c.place and c.place.isdigit() else "region" if c.place else "withheld"
        for c in claims
    )
    grades = sum(1 for c in claims if c.shown_grade is not None)
    yield (
        f"\n{name}: {len(claims)} claims; places published: "
        + ", ".join(f"{k} {places[k]}" for k in ("province", "region", "withheld"))
        + f"; grades published: {grades}"
    )
    yield f"| combination | claims alone (1) | in classes of 2-4 | of {NOTICE_K} or more |"
    yield "|---|---|---|---|"
    for combination in COMBINATIONS:
        c = classes(claims, combination)
        total = max(len(claims), 1)
        cells = [f"{c[k]} ({100 * c[k] // total}%)" for k in ("1", "2-4", f"{NOTICE_K}+")]
        yield f"| {combination} | " + " | ".join(cells) + " |"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, action="append")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--demo-members", type=int, default=1000)
    args = parser.parse_args(argv)
    assert set(CATEGORY_SHARES) == set(DEFAULT_RULES.categories)
    lines = list(
        report(f"demo ({args.demo_members} members)", demo_claims(args.demo_members, args.seed))
    )
    for members in args.members or (1_000_000, 100_000_000):
        lines += report(f"{members:,} members, one year", pool_claims(members, args.seed))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
