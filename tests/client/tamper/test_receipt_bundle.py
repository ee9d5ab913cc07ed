"""The tamper suite's juror kinds, caught by ``mutualog verify-receipt
--bundle`` from the claim's bundle (``?since=`` the receipt's tree size) with
the same failing check as ``--log``; honest receipts verify alike.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.app import create_app
from tests.client.harness import LogInstance, Mutualog
from tests.client.tamper.honest import Demo, forge_instance, json_report
from tests.client.tamper.test_receipt_kinds import JUROR_KINDS, JurorKind
from tests.client.tampering import publish

_LOG_CHECKS = ("log checkpoint", "consistency", "reveal", "tally")


def served_bundle(instance: LogInstance, path: Path, claim: str, since: int | None) -> Path:
    """The claim's bundle as the server's bundle API serves it, saved at ``path``."""
    app = create_app(
        {"MUTUALOG_INSTANCE": instance.folder, "MUTUALOG_SECURE_COOKIES": False, "TESTING": True}
    )
    try:
        query = "" if since is None else f"?since={since}"
        response = app.test_client().get(f"/api/v1/bundles/claim/{claim}{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        path.write_bytes(response.get_data())
    finally:
        app.extensions["mutualog"].engine.dispose()
    return path


def _tree_size(demo: Demo) -> int:
    size: int = json.loads(demo.receipt.read_text())["tree_size"]
    return size


def _verify(mutualog: Mutualog, demo: Demo, how: str, source: Path) -> dict[str, dict[str, str]]:
    result = mutualog(
        "verify-receipt", demo.receipt, "--key", demo.instance.vkey, how, source, "--json"
    )
    checks = {c["name"]: c for c in json_report(result)["checks"]}
    checks["exit"] = {"status": str(result.code)}
    return checks


def _same(by_log: dict[str, dict[str, str]], by_bundle: dict[str, dict[str, str]]) -> None:
    for name in (*_LOG_CHECKS, "exit"):
        assert by_bundle[name]["status"] == by_log[name]["status"], (name, by_log, by_bundle)


@pytest.mark.parametrize("kind", JUROR_KINDS, ids=lambda k: k.id)
def test_the_claims_bundle_catches_what_was_done_to_a_vote(
    kind: JurorKind,
    demo: Demo,
    tmp_path: Path,
    mutualog: Mutualog,
    request: pytest.FixtureRequest,
) -> None:
    forged = forge_instance(demo, tmp_path, kind.forge(demo))
    bundle = served_bundle(forged, tmp_path / "claim.json", demo.claim, _tree_size(demo))
    snapshot = forged.snapshot(tmp_path / "forged.tar")
    request.getfixturevalue("offline")
    by_bundle = _verify(mutualog, demo, "--bundle", bundle)
    assert by_bundle["exit"]["status"] == "1"
    assert by_bundle[kind.check]["status"] == "FAIL", by_bundle
    assert kind.detail in by_bundle[kind.check]["detail"]
    for name in ("checkpoint", "sealed entry", "inclusion", "commitment", "log checkpoint"):
        assert by_bundle[name]["status"] == "ok"
    _same(_verify(mutualog, demo, "--log", snapshot), by_bundle)


def test_an_honest_receipt_verifies_from_the_claims_bundle(
    demo: Demo, tmp_path: Path, mutualog: Mutualog
) -> None:
    bundle = served_bundle(demo.instance, tmp_path / "claim.json", demo.claim, _tree_size(demo))
    by_bundle = _verify(mutualog, demo, "--bundle", bundle)
    assert all(by_bundle[name]["status"] == "ok" for name in _LOG_CHECKS), by_bundle
    _same(_verify(mutualog, demo, "--log", demo.snapshot), by_bundle)


def test_while_voting_the_bundle_leaves_the_receipt_pending_as_the_log_does(
    demo: Demo, tmp_path: Path, mutualog: Mutualog
) -> None:
    """The log as it was when the receipt was handed out: nothing revealed yet."""
    entries = demo.log.entries[: _tree_size(demo)]
    log = publish(tmp_path / "voting", demo.log.key_file, entries, demo.log.signer)
    bundle = served_bundle(log, tmp_path / "claim.json", demo.claim, None)
    by_bundle = _verify(mutualog, demo, "--bundle", bundle)
    assert (by_bundle["reveal"]["status"], by_bundle["tally"]["status"]) == ("pending",) * 2
    _same(_verify(mutualog, demo, "--log", log.snapshot(tmp_path / "voting.tar")), by_bundle)


def test_a_bundle_without_the_proof_from_the_receipt_leaves_it_pending(
    demo: Demo, tmp_path: Path, mutualog: Mutualog
) -> None:
    bundle = served_bundle(demo.instance, tmp_path / "claim.json", demo.claim, None)
    checks = _verify(mutualog, demo, "--bundle", bundle)
    assert checks["consistency"]["status"] == "pending", checks
    assert f"since={_tree_size(demo)}" in checks["consistency"]["detail"]
    assert checks["exit"]["status"] == "2"
