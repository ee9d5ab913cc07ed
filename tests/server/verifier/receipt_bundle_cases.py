"""Vote receipts checked with the claim's bundle (``verifyReceipt`` with
``bundleText``, ``verify-receipt --bundle``), for the equivalence tests.

A receipt is handed out when the vote is sealed, so the honest case is the
receipt at the size just after its ``vote.sealed`` entry, and the claim's
bundle at the full size with the consistency proof from the receipt's size
(``since``).  The variations: the bundle without that proof or at the
receipt's own size (pending), a bundle or receipt field changed, and the
juror kinds of the tamper suite done to a simulated log (the round's
decision miscounted, the juror's reveal altered, the reveal withheld).
"""

from __future__ import annotations

import random
from dataclasses import replace

from tests.server.verifier.pool_cases import (
    Case,
    SimLog,
    bundle_mutations,
    receipt_case,
    receipt_mutations,
)
from verifiable.log.bodies import Choice, ClaimDecided, VoteRevealed
from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
from verifiable.log.merkle import hash_leaves, inclusion_proof, root_hash
from verifiable.pool.bundle_builder import claim_bundle
from verifiable.pool.receipt import VoteReceipt

__all__ = ["receipt_bundle_cases", "sealed_receipt", "with_bundle"]


def _note(log: SimLog, size: int) -> bytes:
    root = root_hash(hash_leaves(log.entries[:size]))
    return sign_checkpoint(Checkpoint(log.origin, size, root), log.signer)


def sealed_receipt(log: SimLog, receipt: VoteReceipt) -> VoteReceipt:
    """``receipt`` as handed out when the vote was sealed: at the size just
    after its entry."""
    size = receipt.leaf_index + 1
    leaves = hash_leaves(log.entries[:size])
    return replace(
        receipt,
        tree_size=size,
        inclusion_proof=tuple(inclusion_proof(leaves, receipt.leaf_index, size)),
        checkpoint=_note(log, size),
    )


def with_bundle(
    log: SimLog, receipt: VoteReceipt, size: int | None = None, since: bool = True
) -> Case:
    """The receipt's case with the claim's bundle of ``log`` at ``size``
    (default: the full log), with the proof from the receipt's size."""
    size = len(log.entries) if size is None else size
    bundle = claim_bundle(
        log.index,
        log.source(),
        size,
        _note(log, size),
        receipt.claim,
        receipt.tree_size if since else None,
    )
    case = receipt_case(log, receipt)
    case["args"]["bundleText"] = bundle.to_bytes().decode("utf-8")
    return case


def _juror_lies(log: SimLog, receipt: VoteReceipt) -> list[Case]:
    """The tamper suite's juror kinds, done to the simulated log."""
    r = receipt
    out: list[Case] = []
    reveal = next(
        e
        for e in log.decoded
        if isinstance(e.body, VoteRevealed) and (e.body.claim, e.body.juror) == (r.claim, r.juror)
    )
    assert isinstance(reveal.body, VoteRevealed)
    other = Choice.REJECT if reveal.body.choice is Choice.APPROVE else Choice.APPROVE
    out.append(with_bundle(log.forged(reveal.seq, replace(reveal.body, choice=other)), r))
    decided = [
        e
        for e in log.decoded
        if isinstance(e.body, ClaimDecided) and (e.body.claim, e.body.round) == (r.claim, r.round)
    ]
    if decided:
        body = decided[0].body
        assert isinstance(body, ClaimDecided)
        miscounted = replace(body, approvals=body.approvals + 1)
        out.append(with_bundle(log.forged(decided[0].seq, miscounted), r))
    # The reveal withheld: the entry the bundle would hold in its place is
    # another claim's, so the round shows no reveal of the juror.
    withheld = claim_bundle(
        log.index, log.source(), len(log.entries), log.note(), r.claim, r.tree_size
    )
    kept = tuple(e for e in withheld.entries if e.index != reveal.seq)
    case = receipt_case(log, r)
    case["args"]["bundleText"] = replace(withheld, entries=kept).to_bytes().decode("utf-8")
    out.append(case)
    return out


def receipt_bundle_cases(log: SimLog, receipt: VoteReceipt, rng: random.Random) -> list[Case]:
    """Variations of the honest receipt-with-bundle case of ``receipt``."""
    early = sealed_receipt(log, receipt)
    honest = with_bundle(log, early)
    text = honest["args"]["bundleText"]
    out = [
        with_bundle(log, early, since=False),
        with_bundle(log, early, size=early.tree_size),
        *bundle_mutations(honest, rng),
        *_juror_lies(log, early),
    ]
    for case in receipt_mutations(log, early, rng):
        case["args"]["bundleText"] = text
        out.append(case)
    return out
