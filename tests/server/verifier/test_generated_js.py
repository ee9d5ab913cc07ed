"""The verifier's JavaScript and ``verifiable/`` agree, verdict for verdict,
on generated honest cases and on single-field mutations of each.

* Merkle: inclusion and consistency proofs in random trees of 1..N leaves,
  and in trees of up to 2^64 - 1 leaves (:mod:`merkle_cases`); every
  mutation but a bare size change is refused by both.
* Notes and checkpoints: signed by one or two keys, cosigned by up to two
  witnesses, with texts and key names that trip naive ports
  (:mod:`note_cases`); every mutation is refused by both.

The quick test runs a few hundred cases; the slow one (``-m slow``) runs
thousands.  The seed is fixed, so a failure reproduces.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

from tests.server.verifier.merkle_cases import (
    big_tree_cases,
    consistency_cases,
    inclusion_cases,
    mutations,
)
from tests.server.verifier.note_cases import (
    checkpoint_cases,
    ed25519_edge_cases,
    key_name_cases,
    note_cases,
    note_mutations,
    witness_cases,
)
from tests.server.verifier.verifier_harness import python_outcome, run_in_page

if TYPE_CHECKING:
    from playwright.sync_api import Page

Case = dict[str, Any]

#: Changes that may leave a valid case, held to agreement only: a bare tree
#: size (see merkle_cases), a key name with an odd character, a witness
#: policy and a clock, and the signatures Ed25519 libraries disagree on.
AGREEMENT_ONLY = {"size", "odd key name", "policy", "ed25519 edge"}


def _merkle(rng: random.Random, count: int, max_size: int) -> list[Case]:
    honest = inclusion_cases(rng, count, max_size) + consistency_cases(rng, count, max_size)
    big = big_tree_cases(rng, max(count // 10, 10))
    out = list(honest) + big
    for case in honest:
        out += mutations(rng, case)
    for case in big:
        if not case["mutation"]:
            out += mutations(rng, case, equal_leaves=True)
    return out


def _notes(rng: random.Random, count: int) -> list[Case]:
    honest = note_cases(rng, count) + checkpoint_cases(rng, count)
    out = honest + key_name_cases(rng) + ed25519_edge_cases(rng)
    for case in honest:
        out += note_mutations(rng, case)
        if case["kind"] == "checkpoint":
            out += witness_cases(rng, case)
    return out


def _agree(page: Page, cases: list[Case]) -> Counter[tuple[str, str]]:
    """Assert both sides agree on every case and that honest cases pass and
    mutations (but those of AGREEMENT_ONLY) are refused; count the verdicts."""
    got = run_in_page(page, [{k: v for k, v in c.items() if k != "mutation"} for c in cases])
    seen: Counter[tuple[str, str]] = Counter()
    for case, js in zip(cases, got, strict=True):
        py = python_outcome(case)
        assert js == py, f"JavaScript {js} but Python {py} for {case}"
        mutation = case["mutation"]
        if mutation == "":
            assert py["verdict"] == "ok", f"an honest case is refused: {py} for {case}"
        elif mutation not in AGREEMENT_ONLY:
            assert py["verdict"] != "ok", f"mutation {mutation} accepted: {case}"
        seen[mutation or "honest", py["verdict"]] += 1
    return seen


def test_generated_merkle_cases_agree(verifier_page: Page) -> None:
    seen = _agree(verifier_page, _merkle(random.Random(9162), 40, 70))
    assert seen["honest", "ok"] == 100
    assert seen["proof byte", "verification"] and seen["proof dropped", "malformed"]


def test_generated_notes_agree(verifier_page: Page) -> None:
    seen = _agree(verifier_page, _notes(random.Random(2014), 20))
    assert seen["honest", "ok"] == 40
    assert seen["signature byte", "verification"] and seen["line repeated", "malformed"]
    # A signature under 32 random bytes is refused, never taken for a
    # browser without Ed25519: by the signature check under a curve point,
    # as a key that is no point before any signature otherwise.
    assert seen["forged", "verification"] + seen["forged", "malformed"] == 20
    assert seen["forged", "verification"] and seen["forged", "malformed"]
    # Enough witnesses, too few, one from the future, a bad policy, none.
    assert seen["policy", "ok"] and seen["policy", "verification"]
    assert seen["policy", "malformed"]
    # Python's str.isspace and JavaScript's \s differ; both sides follow Python.
    assert seen["odd key name", "ok"] and seen["odd key name", "malformed"]


@pytest.mark.slow
def test_thousands_of_merkle_cases_agree(verifier_page: Page) -> None:
    seen = _agree(verifier_page, _merkle(random.Random(6962), 2000, 1100))
    assert seen["honest", "ok"] == 4400
    assert sum(seen.values()) > 40_000


@pytest.mark.slow
def test_hundreds_of_notes_and_checkpoints_agree(verifier_page: Page) -> None:
    seen = _agree(verifier_page, _notes(random.Random(8032), 300))
    assert seen["honest", "ok"] == 600
    assert sum(seen.values()) > 5000
