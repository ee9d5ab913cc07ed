"""The member's checks in the verifier's JavaScript (``verify.js``) and in
``verifiable/`` agree, verdict for verdict and finding for finding.

On honest deduction bundles (many members and periods of a simulated pool,
with sampled claims), claim bundles (a pool with plain seeds and a pool
whose seeds are witnessed) and vote receipts, both verify.  On single-field
mutations of each (:mod:`pool_cases`: an entry re-signed under the log key
with one field changed, a proof element, the member, the period, the paid
list, the roster index or proof, a juror leaf, a seed proof, the checkpoint,
a receipt's field; a receipt checked with the claim's bundle
(:mod:`receipt_bundle_cases`), and the juror's lies in it; a notice
given the facts the log fixes, then each misstated), both give the same
verdict and the same findings ``(name, status)``, in order.  The seed is
fixed, so a failure reproduces; ``-m slow`` runs thousands of cases.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from tests.server.verifier.pool_cases import (
    SimLog,
    bundle_mutations,
    flipped_key,
    honest_cases,
    notice_fact_cases,
    python_verdict,
    receipt_mutations,
    receipts,
    rules_mutations,
    run_cases,
    simulated,
    witnessed,
)
from tests.server.verifier.receipt_bundle_cases import (
    receipt_bundle_cases,
    sealed_receipt,
    with_bundle,
)
from verifiable.log.checkpoint import Checkpoint
from verifiable.log.note import Note
from verifiable.log.notice_facts import months_between

if TYPE_CHECKING:
    from playwright.sync_api import Page

Case = dict[str, Any]


def _shown(case: Case) -> dict[str, Any]:
    """The case without its file, for a failure's message."""
    return {k: v for k, v in case["args"].items() if not k.endswith("Text")} | {"fn": case["fn"]}


def _agree(page: Page, cases: list[Case]) -> Counter[tuple[str, str]]:
    """Assert that the page and Python agree on every case; count
    (command, verdict)."""
    got = run_cases(page, cases)
    seen: Counter[tuple[str, str]] = Counter()
    for case, js in zip(cases, got, strict=True):
        py = python_verdict(case)
        assert js == py, f"JavaScript {js} but Python {py} for {_shown(case)}"
        seen[(case["fn"], py["verdict"])] += 1
    return seen


def _mutated(log: SimLog, rng: random.Random, honest: int, per_case: int) -> list[Case]:
    out: list[Case] = []
    for case in honest_cases(log, rng, honest):
        if case["fn"] == "verifyReceipt":
            continue
        out += bundle_mutations(case, rng)
        out += rules_mutations(log, case, rng, per_case)
        out.append(flipped_key(log)(case))
    for receipt in rng.sample(receipts(log), honest):
        out += receipt_mutations(log, receipt, rng)
        out += receipt_bundle_cases(log, receipt, rng)
    return out


def _with_bundles(log: SimLog, rng: random.Random, count: int) -> list[Case]:
    """Receipts as handed out at the seal, with the claim's bundle."""
    return [with_bundle(log, sealed_receipt(log, r)) for r in rng.sample(receipts(log), count)]


def test_honest_cases_verify_in_both(verifier_page: Page) -> None:
    rng = random.Random(1)
    cases = honest_cases(simulated(), rng, 16) + honest_cases(witnessed(), rng, 6)
    cases += _with_bundles(simulated(), rng, 6) + _with_bundles(witnessed(), rng, 2)
    seen = _agree(verifier_page, cases)
    verified = sum(n for (_, verdict), n in seen.items() if verdict == "VERIFIED")
    assert len(cases) >= 60 and verified == len(cases), seen
    assert {fn for fn, _ in seen} == {"verifyDeduction", "verifyClaim", "verifyReceipt"}


def test_mutations_agree(verifier_page: Page) -> None:
    rng = random.Random(2)
    cases = _mutated(simulated(), rng, 4, 4) + _mutated(witnessed(), rng, 2, 4)
    cases += notice_fact_cases(simulated(), rng, 3)
    seen = _agree(verifier_page, cases)
    failed = sum(n for (_, verdict), n in seen.items() if verdict == "FAILED")
    assert len(cases) >= 200 and failed >= len(cases) * 3 // 4, seen


@pytest.mark.slow
def test_many_honest_cases_and_mutations_agree(verifier_page: Page) -> None:
    rng = random.Random(3)
    cases = honest_cases(simulated(), rng, 80) + honest_cases(witnessed(), rng, 20)
    cases += _mutated(simulated(), rng, 30, 8) + _mutated(witnessed(), rng, 10, 8)
    cases += notice_fact_cases(simulated(), rng, 15)
    seen = _agree(verifier_page, cases)
    assert len(cases) >= 2000, seen


def test_the_bundle_checkpoint_is_given_back_and_bad_files_stop_before_any_check(
    verifier_page: Page,
) -> None:
    """What the page compares with its stored checkpoint (the client's
    ``synced``), and the client's exit 2 for a file that is not a bundle or
    a receipt, or a key that cannot be read."""
    log = simulated()
    case = honest_cases(log, random.Random(4), 1)[0]
    cp = Checkpoint.from_text(Note.from_bytes(log.note()).text)
    got = verifier_page.evaluate(
        """async (args) => {
          const verify = await import('/js/verify.js');
          const r = await verify.verifyDeduction(args);
          const {toHex} = await import('/js/encoding.js');
          const c = r.checkpoint;
          return [r.verdict, r.exit, c.origin, String(c.size), toHex(c.rootHash), r.share !== null];
        }""",
        case["args"],
    )
    assert got == ["VERIFIED", 0, cp.origin, str(cp.size), cp.root_hash.hex(), True]
    stopped = [
        {**case, "args": {**case["args"], "bundleText": "{}"}},
        {**case, "args": {**case["args"], "verifierKey": "not a key"}},
        {**case, "args": {**case["args"], "member": "A" * 32}},
        {**case, "args": {**case["args"], "period": "2025-02-30"}},
        {
            "fn": "verifyReceipt",
            "args": {"receiptText": "[]", "verifierKey": log.vkey, "origin": ""},
        },
    ]
    for c in stopped:
        assert python_verdict(c) == {"verdict": "PENDING", "findings": []}
    got = verifier_page.evaluate(
        """async (cases) => {
          const verify = await import('/js/verify.js');
          const out = [];
          for (const c of cases) {
            const r = await verify[c.fn](c.args);
            out.push([r.verdict, r.exit, r.findings.length, r.error !== ""]);
          }
          return out;
        }""",
        stopped,
    )
    assert got == [["PENDING", 2, 0, True]] * len(stopped)


def test_months_between_agrees_around_month_ends(verifier_page: Page) -> None:
    """notice_facts.js's monthsBetween, which a notice's months of
    membership are checked with, on dates around every month's end."""
    rng = random.Random(5)
    days = [date(2023, 1, 1) + timedelta(days=n) for n in range(0, 800, 3)]
    firsts = [date(y, m, 1) for y in (2023, 2024, 2025) for m in range(1, 13)]
    days += [d - timedelta(days=1) for d in firsts]
    pairs = [(rng.choice(days), rng.choice(days)) for _ in range(400)]
    got = verifier_page.evaluate(
        """async (pairs) => {
          const {monthsBetween} = await import('/js/notice_facts.js');
          return pairs.map(([a, b]) => monthsBetween(a, b));
        }""",
        [[a.isoformat(), b.isoformat()] for a, b in pairs],
    )
    assert got == [months_between(a, b) for a, b in pairs]
