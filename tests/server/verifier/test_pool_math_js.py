"""The pool's math in the verifier's JavaScript (``rules.js``, ``periods.js``,
``roster.js``, ``sortition.js``, ``votes.js``, ``witnessed.js``) and
``verifiable/pool/`` agree, verdict for verdict and value for value, on
generated cases: real rulebooks and single-rule mutations, schedules of
changes around their effective times, and the accessors, the calendar and
the formulas at their rounding and calendar boundaries.

The quick tests run a few hundred cases; the slow ones (``-m slow``)
thousands.  Seeds are fixed, so a failure reproduces.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from tests.server.verifier.pool_math_cases import (
    big_cases,
    draw_cases,
    figure_cases,
    python_outcome,
    roster_cases,
)
from tests.server.verifier.pool_math_page import run_pool_math
from tests.server.verifier.rules_cases import python_rules_outcome, rulebook_cases
from tests.server.verifier.vote_cases import python_outcome as vote_outcome
from tests.server.verifier.vote_cases import reveal_cases, witnessed_cases

if TYPE_CHECKING:
    from playwright.sync_api import Page

Case = dict[str, Any]
Outcome = Callable[[Case], Case]


def _agree(page: Page, cases: list[Case], python: Outcome) -> Counter[tuple[str, str]]:
    """Assert both sides agree on every case; count (mutation, verdict)."""
    got = run_pool_math(page, cases)
    seen: Counter[tuple[str, str]] = Counter()
    for case, js in zip(cases, got, strict=True):
        py = python(case)
        assert js == py, f"JavaScript {js} but Python {py} for {case}"
        seen[case["mutation"] or "honest", py["verdict"]] += 1
    return seen


def test_rulebooks_agree(verifier_page: Page) -> None:
    seen = _agree(verifier_page, rulebook_cases(random.Random(1510), 300), python_rules_outcome)
    assert seen["honest", "ok"] > 100
    assert sum(n for (m, v), n in seen.items() if m != "honest" and v == "malformed") > 30
    for rule in ("genesis seq", "effective at its time", "effective at last"):
        assert seen[rule, "verification"], rule


@pytest.mark.slow
def test_thousands_of_rulebooks_agree(verifier_page: Page) -> None:
    seen = _agree(verifier_page, rulebook_cases(random.Random(2718), 3000), python_rules_outcome)
    assert seen["honest", "ok"] > 1000


def _pool_math(rng: random.Random, count: int) -> list[Case]:
    return roster_cases(rng, count) + figure_cases(rng, count) + draw_cases(rng, count)


def test_rosters_figures_and_draws_agree(verifier_page: Page) -> None:
    seen = _agree(verifier_page, _pool_math(random.Random(1515), 60), python_outcome)
    assert seen["honest", "ok"] > 200
    assert seen["proof byte", "verification"] and seen["bad amount", "malformed"]
    assert seen["too few", "verification"] and seen["off by one fen", "verification"]


@pytest.mark.slow
def test_thousands_of_rosters_figures_and_draws_agree(verifier_page: Page) -> None:
    rng = random.Random(5151)
    seen = _agree(verifier_page, _pool_math(rng, 1000) + big_cases(rng), python_outcome)
    assert seen["honest", "ok"] > 3000


def _votes(rng: random.Random, count: int) -> list[Case]:
    return reveal_cases(rng, count) + witnessed_cases(rng, count)


def test_votes_and_witnessed_draws_agree(verifier_page: Page) -> None:
    seen = _agree(verifier_page, _votes(random.Random(1516), 150), vote_outcome)
    assert seen["honest", "ok"] > 140
    assert seen["salt", "verification"] and seen["refused", "malformed"]
    assert seen["order", "verification"] and seen["signature", "verification"]


@pytest.mark.slow
def test_thousands_of_votes_and_witnessed_draws_agree(verifier_page: Page) -> None:
    seen = _agree(verifier_page, _votes(random.Random(6151), 1500), vote_outcome)
    assert seen["honest", "ok"] > 1400
