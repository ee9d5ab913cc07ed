"""The tamper suite's other half: no false alarm on the honest demo log, for
the auditor, the member who syncs, the juror and the member's checks.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.client.harness import Mutualog, Servers
from tests.client.tamper.forgeries import period_index
from tests.client.tamper.honest import ORIGIN, SYNCED_BEHIND, Demo, Synced, json_report
from tests.client.tamper.lies import Shop
from tests.client.tampering import at, check_roster, find_all
from verifiable.log.bodies import PeriodClosed


def test_the_honest_demo_log_audits_clean(
    demo: Demo, mutualog: Mutualog, request: pytest.FixtureRequest
) -> None:
    request.getfixturevalue("offline")
    for snapshot in (demo.before_vote, demo.snapshot):
        result = mutualog("audit", snapshot, "--key", demo.instance.vkey, "--json")
        assert result.code == 0, result.out
        report = json_report(result)
        assert report["verified"] and report["rules"]["status"] == "ok"


def test_the_honest_demo_log_syncs_clean(
    demo: Demo, earlier: Synced, servers: Servers, mutualog: Mutualog
) -> None:
    served = servers.serve(demo.instance)
    try:
        assert mutualog("trust", ORIGIN, demo.instance.vkey).code == 0
        first = mutualog("sync", earlier.served.url)
        assert first.code == 0, first.out
        grown = mutualog("sync", served.url)
        assert grown.code == 0, grown.out
        assert (
            f"size {len(demo.log.entries) - SYNCED_BEHIND} -> {len(demo.log.entries)}" in grown.out
        )
        again = mutualog("sync", served.url)
        assert again.code == 0 and "the same tree" in again.out
        audited = mutualog("audit", served.url)  # pinned: also consistent with the sync
        assert audited.code == 0, audited.out
    finally:
        servers.stop(served)


def test_the_honest_juror_receipt_verifies(
    demo: Demo, mutualog: Mutualog, request: pytest.FixtureRequest
) -> None:
    request.getfixturevalue("offline")
    offline = mutualog("verify-receipt", demo.receipt, "--key", demo.instance.vkey)
    assert offline.code == 0, offline.out
    result = mutualog(
        "verify-receipt",
        demo.receipt,
        "--key",
        demo.instance.vkey,
        "--log",
        demo.snapshot,
        "--json",
    )
    assert result.code == 0, result.out
    assert {c["name"]: c["status"] for c in json_report(result)["checks"]} == {
        "checkpoint": "ok",
        "sealed entry": "ok",
        "inclusion": "ok",
        "commitment": "ok",
        "log checkpoint": "ok",
        "log entries": "ok",
        "consistency": "ok",
        "reveal": "ok",
        "tally": "ok",
    }


def test_the_honest_demo_log_verifies_for_members_and_claims(
    shop: Shop, tmp_path: Path, mutualog: Mutualog, request: pytest.FixtureRequest
) -> None:
    """What the member kinds run, on the honest log: members at both ends of
    the roster in three periods, every paid claim of each sampled, and one
    claim of each stage a history ends in, all verify."""
    e = shop.demo.log.decoded
    closes = find_all(e, PeriodClosed, lambda b: b.claims_count > 0)
    deductions: list[tuple[str, date]] = []
    for i in sorted({closes[0], period_index(e), closes[-1]}):
        ids = check_roster(e, i)
        deductions += [
            (ids[0], at(e, i, PeriodClosed).period),
            (ids[-1], at(e, i, PeriodClosed).period),
        ]
    last: dict[str, str] = {}
    for x in e:
        claim = getattr(x.body, "claim", None)
        if isinstance(claim, str) and x.type.startswith(("claim.", "panel.", "vote.")):
            last[claim] = x.type
    claims = sorted({*{t: c for c, t in last.items()}.values(), shop.demo.claim})
    assert len(claims) >= 4
    assert mutualog("trust", ORIGIN, shop.demo.instance.vkey).code == 0
    for n, (member, period) in enumerate(deductions):
        args = ("--member", member, "--period", period, "--sample", 64, "-o", tmp_path / f"d{n}")
        assert mutualog("fetch", "deduction", shop.honest.url, *args).code == 0
    for claim in claims:
        assert mutualog("fetch", "claim", claim, shop.honest.url, "-o", tmp_path / claim).code == 0
    request.getfixturevalue("offline")
    for n, (member, period) in enumerate(deductions):
        given = ("--member", member, "--period", period, "--bundle", tmp_path / f"d{n}", "--json")
        result = mutualog("verify-deduction", *given)
        assert result.code == 0, [c for c in json_report(result)["checks"] if not c["ok"]]
        report = json_report(result)
        assert report["sample"], (member, period)
        assert all(c["ok"] for c in report["checks"])
    for claim in claims:
        result = mutualog("verify-claim", claim, "--bundle", tmp_path / claim, "--json")
        assert result.code == 0, [c for c in json_report(result)["checks"] if not c["ok"]]
