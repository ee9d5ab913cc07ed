"""verifiable.pool.receipt_check.check_against_bundle: a vote receipt against
the log through the claim's bundle, on the bundle tests' simulated pool (the
tamper kinds, with a real server, are in tests/client/tamper/test_receipt_bundle.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.server.verifier.pool_cases import SimLog, receipts, simulated
from tests.server.verifier.receipt_bundle_cases import sealed_receipt
from verifiable.findings import Status
from verifiable.log.bundle import Bundle
from verifiable.log.note import Ed25519Signer
from verifiable.pool.bundle_builder import claim_bundle
from verifiable.pool.receipt import VoteReceipt
from verifiable.pool.receipt_check import ReceiptReport, check_against_bundle

NAMES = [
    "checkpoint",
    "sealed entry",
    "inclusion",
    "commitment",
    "log checkpoint",
    "log entries",
    "consistency",
    "reveal",
    "tally",
]


def _log_and_receipt() -> tuple[SimLog, VoteReceipt]:
    log = simulated()
    return log, sealed_receipt(log, receipts(log)[0])


def _bundle(log: SimLog, receipt: VoteReceipt, since: int | None = None, claim: str = "") -> Bundle:
    return claim_bundle(
        log.index, log.source(), len(log.entries), log.note(), claim or receipt.claim, since
    )


def _check(log: SimLog, receipt: VoteReceipt, bundle: Bundle) -> ReceiptReport:
    return check_against_bundle(receipt, log.signer.verifier(), log.origin, bundle)


def _found(report: ReceiptReport, name: str) -> tuple[Status, str]:
    found = {c.name: c for c in report.checks}[name]
    return found.status, found.detail


def test_an_honest_receipt_verifies_with_the_proof_from_its_size() -> None:
    log, receipt = _log_and_receipt()
    report = _check(log, receipt, _bundle(log, receipt, since=receipt.tree_size))
    assert [c.name for c in report.checks] == NAMES
    assert report.verdict == "verified", report.checks
    assert "consistency proof" in _found(report, "consistency")[1]


def test_without_the_proof_consistency_waits() -> None:
    log, receipt = _log_and_receipt()
    report = _check(log, receipt, _bundle(log, receipt))
    assert _found(report, "consistency") == (
        Status.PENDING,
        f"the bundle holds no consistency proof from the receipt's size {receipt.tree_size}: "
        f"fetch the claim's bundle with since={receipt.tree_size}",
    )
    assert report.verdict == "incomplete"


def test_a_bundle_older_than_the_receipt_waits() -> None:
    log, receipt = _log_and_receipt()
    later = replace(receipt, tree_size=len(log.entries) + 1)
    report = _check(log, later, _bundle(log, receipt))
    status, detail = _found(report, "consistency")
    assert status is Status.PENDING and "fetch a newer bundle" in detail


def test_a_consistency_proof_that_fails_is_a_fork() -> None:
    log, receipt = _log_and_receipt()
    bundle = _bundle(log, receipt, since=receipt.tree_size)
    proofs = [
        replace(p, proof=(bytes(32), *p.proof[1:])) if p.size == receipt.tree_size else p
        for p in bundle.consistency
    ]
    report = _check(log, receipt, replace(bundle, consistency=tuple(proofs)))
    status, detail = _found(report, "consistency")
    assert status is Status.FAIL and detail.endswith("the log forked")


def test_another_claims_bundle_is_refused() -> None:
    log, receipt = _log_and_receipt()
    other = next(c for c in sorted(log.index.claims) if c != receipt.claim)
    report = _check(log, receipt, _bundle(log, receipt, claim=other))
    status, detail = _found(report, "log entries")
    assert status is Status.FAIL and f"not the receipt's claim {receipt.claim}" in detail
    assert [c.name for c in report.checks][-1] == "log entries"


def test_a_bundle_under_another_key_fails_its_checkpoint() -> None:
    log, receipt = _log_and_receipt()
    other = Ed25519Signer(log.origin, bytes(range(1, 33))).verifier()
    bundle = _bundle(log, receipt, since=receipt.tree_size)
    report = check_against_bundle(receipt, other, log.origin, bundle)
    assert _found(report, "log checkpoint")[0] is Status.FAIL
    assert _found(report, "checkpoint")[0] is Status.FAIL


def test_an_entry_not_proven_fails_log_entries() -> None:
    log, receipt = _log_and_receipt()
    bundle = _bundle(log, receipt, since=receipt.tree_size)
    first = bundle.entries[0]
    entries = (replace(first, proof=(bytes(32), *first.proof[1:])), *bundle.entries[1:])
    report = _check(log, receipt, replace(bundle, entries=entries))
    status, detail = _found(report, "log entries")
    assert status is Status.FAIL and f"entry {first.index} is not proven" in detail


@pytest.mark.parametrize("entry_changed", [False, True], ids=["same-entry", "other-entry"])
def test_without_a_signed_checkpoint_the_entry_itself_is_compared(entry_changed: bool) -> None:
    log, receipt = _log_and_receipt()
    bundle = _bundle(log, receipt, since=receipt.tree_size)
    unsigned = replace(receipt, checkpoint=receipt.checkpoint.replace(b"\n", b"\n ", 1))
    if entry_changed:
        unsigned = replace(unsigned, entry=unsigned.entry.replace(b"{", b"{ ", 1))
    report = _check(log, unsigned, bundle)
    status, detail = _found(report, "consistency")
    if entry_changed:
        assert status is Status.FAIL and "differs from the receipt's entry" in detail
    else:
        assert status is Status.OK and "byte-identical" in detail
