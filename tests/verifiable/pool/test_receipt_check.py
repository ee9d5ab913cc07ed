"""verifiable.pool.receipt_check: the offline checks of a vote receipt, on a
receipt built here (the end-to-end cases, with a log, are in
tests/client/test_receipt.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from verifiable.findings import Status
from verifiable.log.bodies import Choice, MemberJoined, VoteSealed
from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
from verifiable.log.entry import GENESIS_PREV, make_entry
from verifiable.log.merkle import inclusion_proof, leaf_hash, root_hash
from verifiable.log.note import Ed25519Signer
from verifiable.pool.receipt import VoteReceipt
from verifiable.pool.receipt_check import check_offline
from verifiable.pool.votes import vote_commitment

ORIGIN = "example.org/mutualog/receipt"
SIGNER = Ed25519Signer(ORIGIN, bytes(range(32)))
CLAIM, JUROR, OTHER = "c" * 32, "a" * 32, "b" * 32
REASON = "the records agree"
SALT = bytes(range(100, 132))
TIME = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def _receipt() -> VoteReceipt:
    commitment = vote_commitment(CLAIM, 1, JUROR, Choice.APPROVE, REASON, SALT)
    first = make_entry(0, GENESIS_PREV, TIME, "member.joined", _joined())
    sealed = make_entry(
        1, first.leaf_hash(), TIME, "vote.sealed", VoteSealed(CLAIM, 1, JUROR, commitment)
    )
    other = make_entry(
        2, sealed.leaf_hash(), TIME, "vote.sealed", VoteSealed(CLAIM, 1, OTHER, bytes(32))
    )
    leaves = [leaf_hash(e.to_bytes()) for e in (first, sealed, other)]
    note = sign_checkpoint(Checkpoint(ORIGIN, 3, root_hash(leaves)), SIGNER)
    return VoteReceipt(
        claim=CLAIM,
        round=1,
        juror=JUROR,
        choice=Choice.APPROVE,
        reason=REASON,
        salt=SALT,
        commitment=commitment,
        leaf_index=1,
        entry=sealed.to_bytes(),
        tree_size=3,
        inclusion_proof=tuple(inclusion_proof(leaves, 1, 3)),
        checkpoint=note,
    )


def _joined() -> MemberJoined:
    return MemberJoined.from_json({"member": JUROR, "age_band": "18-39"}, "member.joined")


RECEIPT = _receipt()
OFFLINE = ["checkpoint", "sealed entry", "inclusion", "commitment"]


def _statuses(receipt: VoteReceipt) -> dict[str, Status]:
    report = check_offline(receipt, SIGNER.verifier(), ORIGIN)
    assert [c.name for c in report.checks] == OFFLINE
    return {c.name: c.status for c in report.checks}


def test_an_honest_receipt_passes_every_offline_check() -> None:
    report = check_offline(RECEIPT, SIGNER.verifier(), ORIGIN)
    assert [(c.name, c.status) for c in report.checks] == [(n, Status.OK) for n in OFFLINE]
    assert report.verdict == "verified" and not report.failed and not report.pending
    assert report.to_json()["checks"] == [
        {"name": c.name, "status": "ok", "detail": c.detail} for c in report.checks
    ]
    assert list(report.to_json()) == [
        "origin", "claim", "round", "juror", "leaf_index", "log", "verdict", "checks"
    ]  # fmt: skip


@pytest.mark.parametrize("hash_index", [0, 1])
@pytest.mark.parametrize("bit", [0, 7, 255])
def test_a_flipped_bit_in_the_inclusion_proof_fails_inclusion(hash_index: int, bit: int) -> None:
    proof = list(RECEIPT.inclusion_proof)
    damaged = bytearray(proof[hash_index])
    damaged[bit // 8] ^= 1 << (bit % 8)
    proof[hash_index] = bytes(damaged)
    statuses = _statuses(replace(RECEIPT, inclusion_proof=tuple(proof)))
    assert statuses["inclusion"] is Status.FAIL
    assert statuses["commitment"] is Status.OK


@pytest.mark.parametrize(
    ("change", "failed", "skipped"),
    [
        ({"leaf_index": 2}, {"sealed entry", "inclusion"}, {"commitment"}),
        ({"tree_size": 4}, {"checkpoint"}, {"inclusion"}),
        ({"juror": OTHER}, {"sealed entry"}, {"commitment"}),
        ({"choice": Choice.REJECT}, {"commitment"}, set()),
        ({"salt": bytes(32)}, {"commitment"}, set()),
        ({"commitment": bytes(32)}, {"commitment"}, set()),
        (
            {"checkpoint": RECEIPT.checkpoint.replace(b"\n3\n", b"\n4\n")},
            {"checkpoint"},
            {"inclusion"},
        ),
    ],
    ids=["index", "tree size", "juror", "choice", "salt", "stated commitment", "checkpoint"],
)
def test_a_receipt_that_lies_fails_the_check_that_covers_it(
    change: dict[str, object], failed: set[str], skipped: set[str]
) -> None:
    statuses = _statuses(replace(RECEIPT, **change))  # type: ignore[arg-type]
    assert {n for n, s in statuses.items() if s is Status.FAIL} == failed
    assert {n for n, s in statuses.items() if s is Status.SKIP} == skipped


def test_another_key_fails_the_checkpoint_and_skips_inclusion() -> None:
    other = Ed25519Signer(ORIGIN, bytes(32)).verifier()
    report = check_offline(RECEIPT, other, ORIGIN)
    by_name = {c.name: c for c in report.checks}
    assert by_name["checkpoint"].failed
    assert "does not verify" in by_name["checkpoint"].detail
    assert by_name["inclusion"].status is Status.SKIP
    assert report.verdict == "failed"
