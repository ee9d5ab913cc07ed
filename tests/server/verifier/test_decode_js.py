"""The verifier's decoding layer in JavaScript (findings.js, fields.js,
bodies.js, entry.js, bundle.js, proven.js, receipt.js) and ``verifiable/``
agree, value for value and refusal for refusal.

* Entries: every entry of a witnessed pool's log, with the entries a
  simulation does not write (:func:`decode_cases.honest_log`), decodes to
  the same values, every entry type of ``BODY_TYPES`` among them; single-byte
  and single-field mutations (a digit, a key's name, white space, a
  non-canonical number, key order, a field dropped or added, an invalid
  UTF-8 byte, a value out of range or of the wrong type) are refused with
  the same error class by both, or accepted by both with the same values;
  entries at the wrong place in the chain are refused alike.
* Bundles: honest deduction and claim bundles parse to the same structure,
  mutations of their JSON are refused alike, and opening them gives the
  same findings (name and status) as Python's, honest or with an entry's
  proof or bytes altered, a checkpoint signed by another key or of
  another origin (:mod:`decode_bundles`); the rulebook read from them,
  with entry 0 missing or a rule change refused, gives the same finding
  ``rules``; panels' seeds and jurors proven on demand, as they are or
  altered, give the same answers.
* Receipts: honest vote receipts parse alike and their mutations are
  refused alike.
* Findings: collected alike (first failure wins, first-seen order).
* Dates: fields.js's date helpers over the whole calendar Python allows.

The quick tests run a few hundred cases each; the ones marked ``slow`` run
thousands.  Seeds are fixed, so a failure reproduces.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from tests.server.verifier.decode_bundles import (
    bundle_cases,
    bundle_mutations,
    open_cases,
    receipt_cases,
    receipt_mutations,
)
from tests.server.verifier.decode_cases import (
    Case,
    entry_case,
    entry_mutations,
    honest_log,
    python_outcome,
)
from tests.server.verifier.verifier_harness import JS_DIR
from verifiable.log.bodies import BODY_TYPES
from verifiable.log.entry import parse_entry
from verifiable.log.fields import format_date
from verifiable.log.merkle import leaf_hash

if TYPE_CHECKING:
    from playwright.sync_api import Page

RUNNER = JS_DIR.parents[2] / "tests" / "server" / "verifier" / "decode_runner.js"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def decode_page(verifier_page: Page) -> Iterator[Page]:
    """The verifier's page with decode_runner.js loaded as ``__decode``
    (from a blob, its imports pointed at the page's origin)."""
    origin = verifier_page.evaluate("location.origin")
    source = RUNNER.read_text().replace('from "/js/', f'from "{origin}/js/')
    verifier_page.evaluate(
        """async (source) => {
            const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
            globalThis.__decode = await import(url);
        }""",
        source,
    )
    yield verifier_page


def _run(page: Page, cases: list[Case]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for start in range(0, len(cases), 2000):
        batch = [
            {k: v for k, v in c.items() if k != "mutation"} for c in cases[start : start + 2000]
        ]
        out += json.loads(page.evaluate("(cases) => globalThis.__decode.run(cases)", batch))
    return out


def _agree(page: Page, cases: list[Case]) -> Counter[tuple[str, str]]:
    """Assert that both sides give the same verdict and value on every case;
    count the verdicts by mutation."""
    seen: Counter[tuple[str, str]] = Counter()
    for case, js in zip(cases, _run(page, cases), strict=True):
        py = python_outcome(case)
        assert js == py, f"JavaScript {js} but Python {py} for {case}"
        seen[(case.get("mutation", ""), py["verdict"])] += 1
    return seen


def _log_cases(days: int) -> list[Case]:
    log = honest_log(days)
    prevs = [bytes(32), *(leaf_hash(d) for d in log[:-1])]
    return [entry_case(d, seq=str(i), prev=prevs[i].hex()) for i, d in enumerate(log)]


# --- entries -------------------------------------------------------------------------


def test_every_body_type_is_covered(decode_page: Page) -> None:
    types = {parse_entry(d).type for d in honest_log()}
    assert types == set(BODY_TYPES)
    js = decode_page.evaluate(
        "import(`${location.origin}/js/bodies.js`).then((m) => [...m.BODY_TYPES])"
    )
    assert sorted(js) == sorted(BODY_TYPES)


def test_honest_entries_decode_alike(decode_page: Page) -> None:
    cases = _log_cases(30)
    seen = _agree(decode_page, cases)
    assert seen == Counter({("", "ok"): len(cases)})


def test_entries_out_of_place_refused_alike(decode_page: Page) -> None:
    log = honest_log()
    rng = random.Random(3)
    cases: list[Case] = []
    for i in rng.sample(range(1, len(log)), 40):
        prev = leaf_hash(log[i - 1]).hex()
        cases.append(entry_case(log[i], "wrong seq", seq=str(i + 1), prev=prev))
        cases.append(entry_case(log[i], "wrong prev", seq=str(i), prev=leaf_hash(log[i]).hex()))
        cases.append(entry_case(log[i], "seq past 2^53", seq=str(2**63 - 1)))
        cases.append(entry_case(log[i], "no place"))
    cases.append(
        {"kind": "chain", "entries": [c["data"] for c in _log_cases(30)[:60]], "mutation": "chain"}
    )
    skipped = [c["data"] for c in _log_cases(30)[:20]]
    del skipped[7]
    cases.append({"kind": "chain", "entries": skipped, "mutation": "chain gap"})
    start = {"size": 5, "head": leaf_hash(log[4]).hex()}
    cases.append(
        {
            "kind": "chain",
            "entries": [c["data"] for c in _log_cases(30)[5:9]],
            "start": start,
            "mutation": "chain",
        }
    )
    seen = _agree(decode_page, cases)
    assert seen[("wrong seq", "verification")] == 40
    assert seen[("wrong prev", "verification")] == 40
    assert seen[("chain", "ok")] == 2
    assert seen[("chain gap", "verification")] == 1


def _mutated(seed: int, count: int) -> list[Case]:
    rng = random.Random(seed)
    log = honest_log()
    cases: list[Case] = []
    for i in sorted(rng.sample(range(len(log)), count)):
        cases += entry_mutations(rng, log[i])
    # The entries made to hold what a simulation does not write.
    for data in log[-12:]:
        cases += entry_mutations(rng, data)
    return cases


def test_entry_mutations_agree(decode_page: Page) -> None:
    seen = _agree(decode_page, _mutated(1, 20))
    refused = sum(n for (m, v), n in seen.items() if v != "ok")
    assert refused > 300
    for label in (
        "key renamed",
        "whitespace",
        "non-canonical number",
        "invalid utf-8",
        "key order",
    ):
        assert seen[(label, "ok")] == 0, label


@pytest.mark.slow
def test_entry_mutations_agree_many(decode_page: Page) -> None:
    _agree(decode_page, _log_cases(60))
    seen = _agree(decode_page, _mutated(2, 400))
    assert sum(seen.values()) > 5000


# --- bundles and receipts -------------------------------------------------------------


def test_bundles_parse_alike(decode_page: Page) -> None:
    rng = random.Random(5)
    honest = bundle_cases(rng, 8)
    seen = _agree(decode_page, honest)
    assert seen == Counter({("", "ok"): len(honest)})
    mutated = [m for case in honest for m in bundle_mutations(rng, case)]
    seen = _agree(decode_page, mutated)
    assert sum(n for (_, v), n in seen.items() if v == "malformed") > 100


@pytest.mark.slow
def test_bundles_parse_alike_many(decode_page: Page) -> None:
    rng = random.Random(6)
    honest = bundle_cases(rng, 20)
    _agree(decode_page, honest + [m for case in honest for m in bundle_mutations(rng, case, 40)])


def test_open_bundle_findings_alike(decode_page: Page) -> None:
    rng = random.Random(7)
    cases = open_cases(rng, bundle_cases(rng, 4))
    _agree(decode_page, cases)
    proofs: set[str] = set()
    for case in cases:
        if case["kind"] == "seeds":
            # A witnessed panel's seed is not the log's root at seed_size:
            # its witnessed checkpoint's root is.
            proofs.update(v for v, _ in python_outcome(case)["value"])
            continue
        findings = python_outcome(case)["value"]["findings"]
        failed = [name for name, status in findings if status != "ok"]
        if not case["mutation"]:
            assert [name for name, _ in findings] == ["checkpoint", "inclusion"] and not failed
            assert python_outcome(case)["value"]["rules"] == [[["rules", "ok"]], 2]
        elif case["mutation"] in ("rule change refused", "entry 0 dropped"):
            assert not failed
            assert python_outcome(case)["value"]["rules"] == [[["rules", "FAIL"]], None]
        elif case["mutation"] in ("origin", "other key", "other origin"):
            assert failed == ["checkpoint"], case["mutation"]
        else:
            assert failed == ["inclusion"], case["mutation"]
    assert proofs == {"ok", "verification", "mutualog"}


def test_receipts_parse_alike(decode_page: Page) -> None:
    rng = random.Random(8)
    honest = receipt_cases(rng, 10)
    seen = _agree(decode_page, honest)
    assert seen == Counter({("", "ok"): len(honest)})
    mutated = [m for case in honest for m in receipt_mutations(rng, case)]
    seen = _agree(decode_page, mutated)
    assert sum(n for (_, v), n in seen.items() if v == "malformed") > 100


@pytest.mark.slow
def test_receipts_parse_alike_many(decode_page: Page) -> None:
    rng = random.Random(9)
    honest = receipt_cases(rng, 100)
    _agree(decode_page, honest + [m for case in honest for m in receipt_mutations(rng, case)])


# --- findings ---------------------------------------------------------------------------


def test_findings_collect_alike(decode_page: Page) -> None:
    rng = random.Random(10)
    cases: list[Case] = []
    for _ in range(200):
        ops: list[list[Any]] = []
        for _ in range(rng.randrange(1, 12)):
            name = rng.choice(["a", "b", "c", "d"])
            op = rng.choice(["ok", "fail", "extend"])
            if op == "extend":
                statuses = ["ok", "FAIL", "pending", "skip"]
                ops.append(
                    ["extend", [[rng.choice("abcd"), rng.choice(statuses)] for _ in range(3)]]
                )
            else:
                ops.append([op, name, f"detail {len(ops)}"])
        cases.append({"kind": "findings", "ops": ops})
    _agree(decode_page, cases)


def test_date_helpers_alike(decode_page: Page) -> None:
    """dateDays, daysDate, formatDate, formatTime and timeDate against
    Python's date and datetime, over the whole calendar Python allows."""
    rng = random.Random(11)
    first, last = date(1, 1, 1).toordinal(), date(9999, 12, 31).toordinal()
    ordinals = [first, last, date(1970, 1, 1).toordinal(), date(2000, 2, 29).toordinal()]
    ordinals += [rng.randint(first, last) for _ in range(300)]
    dates = [format_date(date.fromordinal(o)) for o in ordinals]
    low = (datetime(1, 1, 1, tzinfo=UTC) - EPOCH) // timedelta(seconds=1)
    high = (datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC) - EPOCH) // timedelta(seconds=1)
    times = [low, high, 0, -1, 86399, 86400, *(rng.randint(low, high) for _ in range(300))]
    texts = ["2024-02-29", "2023-02-29", "0000-01-01", "9999-12-31", "2024-04-31", "2024-13-01"]
    texts += [
        "2024-00-10",
        "1900-02-29",
        "2000-02-29",
        "2024-1-01",
        "\uff12\uff10\uff12\uff14-01-01",
    ]
    case = {"kind": "dates", "dates": dates, "times": times, "texts": texts}
    _agree(decode_page, [case])
