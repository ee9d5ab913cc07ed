"""``mutualog fetch claim`` and ``verify-claim`` end to end against the demo
pool served by a real server; verifying runs with every socket blocked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.client.demo_pool import DemoPool, demo_pool
from tests.client.harness import Mutualog, Servers


@pytest.fixture
def demo(tmp_path_factory: pytest.TempPathFactory, servers: Servers) -> DemoPool:
    return demo_pool(tmp_path_factory.getbasetemp(), servers)


def _fetch(demo: DemoPool, mutualog: Mutualog, claim: str, out: Path | None = None) -> None:
    assert mutualog("trust", demo.log.origin, demo.log.vkey).code == 0
    extra = ("-o", str(out)) if out else ()
    result = mutualog("fetch", "claim", claim, *extra, demo.url)
    assert result.code == 0, result.err


def test_every_kind_of_claim_verifies_offline(
    demo: DemoPool, mutualog: Mutualog, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # One claim of each stage the demo reaches, plus every claim with a redraw.
    chosen: dict[str, str] = {}
    for claim, record in demo.index.claims.items():
        last = demo.decoded[record.seqs[-1]].type
        chosen.setdefault(last, claim)
    chosen.update({f"panels-{c}": c for c, r in demo.index.claims.items() if len(r.panels) > 1})
    for claim in chosen.values():
        _fetch(demo, mutualog, claim, tmp_path / f"{claim}.json")
    request.getfixturevalue("offline")
    for claim in chosen.values():
        result = mutualog("verify-claim", claim, "--bundle", tmp_path / f"{claim}.json", "--json")
        report = json.loads(result.out)
        assert result.code == 0, [c for c in report["checks"] if not c["ok"]]
        assert report["verified"] and report["claim"] == claim
        assert report["command"] == "verify-claim" and report["stage"]


def test_default_location_and_human_output(
    demo: DemoPool, mutualog: Mutualog, state: Path, request: pytest.FixtureRequest
) -> None:
    claim = demo.paid_claim()
    _fetch(demo, mutualog, claim)
    assert len(list(state.glob(f"logs/*/bundles/claim-{claim}.json"))) == 1
    request.getfixturevalue("offline")
    result = mutualog("verify-claim", claim)
    assert result.code == 0, result.out
    for name in (
        "checkpoint",
        "synced",
        "claim filed",
        "notice",
        "seed",
        "sortition",
        "votes",
        "decision",
        "payout",
        "stage",
    ):
        assert f"[ok  ] {name}:" in result.out
    assert "claim is paid" in result.out or "is paid" in result.out


def test_tampered_and_missing_bundles(
    demo: DemoPool, mutualog: Mutualog, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    claim = demo.paid_claim()
    out = tmp_path / "claim.json"
    _fetch(demo, mutualog, claim, out)
    request.getfixturevalue("offline")
    obj = json.loads(out.read_bytes())
    obj["jurors"][0]["member"] = "f" * 32
    out.write_text(json.dumps(obj))
    result = mutualog("verify-claim", claim, "--bundle", out)
    assert result.code == 1 and "[FAIL] sortition:" in result.out
    result = mutualog("verify-claim", "0" * 32, "--bundle", out)
    assert result.code == 1 and "[FAIL] claim filed:" in result.out
    result = mutualog("verify-claim", claim, "--bundle", tmp_path / "none.json")
    assert result.code == 2 and "cannot be read" in result.err
    result = mutualog("verify-claim", "not-an-id")
    assert result.code == 2
    result = mutualog("verify-claim", "a" * 32)
    assert result.code == 2 and "no bundle in the state folder" in result.err


def test_fetch_errors_exit_2(demo: DemoPool, mutualog: Mutualog, servers: Servers) -> None:
    assert mutualog("trust", demo.log.origin, demo.log.vkey).code == 0
    result = mutualog("fetch", "claim", "0" * 32, demo.url)
    assert result.code == 2 and "404" in result.err
    port = servers.free_port()
    result = mutualog("fetch", "claim", "0" * 32, f"http://127.0.0.1:{port}/")
    assert result.code == 2
