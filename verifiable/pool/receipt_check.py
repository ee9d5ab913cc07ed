"""The juror's check of a vote receipt: the sealed vote is in the log, its
reveal matches, and the tally counted it (what ``verify-receipt`` reports).

The receipt (:class:`~verifiable.pool.receipt.VoteReceipt`) carries the vote's
opening (claim, round, juror, choice, reason, salt), the ``vote.sealed`` entry
bytes, its leaf index, an inclusion proof and the signed checkpoint the proof
is against.

:func:`check_offline`, from the receipt and the log's key alone: the
checkpoint is signed by the log key (C2SP tlog-checkpoint); the entry is a
canonical ``vote.sealed`` entry at its index for the receipt's claim, round
and juror; its leaf hash is proven at that index under the checkpoint's root
(RFC 9162 §2.1.3); and its commitment is the one the opening gives
(:func:`verifiable.pool.votes.vote_commitment`).

:func:`check_against_log`, with the log read in full through
:mod:`verifiable.log.tiledlog` (I/O comes in as ``fetch``): the receipt's
checkpoint is a prefix of the log's (the log's first ``tree_size`` leaves hash
to its root) and the entry at the index is byte-identical; the
``vote.revealed`` of the juror opens the sealed commitment with the receipt's
choice, reason and salt; and the round's ``claim.decided`` counts exactly the
round's reveals before it, this juror's among them.

Each check is a :class:`~verifiable.findings.Finding` whose status is ``ok``,
``FAIL`` (evidence), ``pending`` (not decidable yet: the votes are not
revealed, or the log read is older than the receipt) or ``skip`` (not run
because an earlier check failed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from verifiable.errors import MalformedError, MutualogError, RuleViolation
from verifiable.findings import Finding, Status
from verifiable.log.bodies import Choice, ClaimDecided, VoteRevealed, VoteSealed
from verifiable.log.bundle import Bundle
from verifiable.log.checkpoint import Checkpoint, open_checkpoint
from verifiable.log.entry import parse_entry
from verifiable.log.merkle import leaf_hash, root_hash, verify_inclusion
from verifiable.log.note import Verifier
from verifiable.log.tiledlog import open_tiled_log
from verifiable.log.tiles import Fetch
from verifiable.pool.proven import ProvenBundle, open_bundle
from verifiable.pool.receipt import VoteReceipt
from verifiable.pool.votes import check_reveal, vote_commitment

__all__ = ["ReceiptReport", "check_against_bundle", "check_against_log", "check_offline"]

OK, FAIL, PENDING, SKIP = Status.OK, Status.FAIL, Status.PENDING, Status.SKIP


@dataclass
class ReceiptReport:
    """The findings of one receipt, in the order they were checked."""

    receipt: VoteReceipt
    origin: str
    checks: list[Finding] = field(default_factory=list)
    log: str | None = None

    def add(self, name: str, status: Status, detail: str) -> bool:
        self.checks.append(Finding(name, status, detail))
        return status is OK

    @property
    def failed(self) -> bool:
        return any(c.failed for c in self.checks)

    @property
    def pending(self) -> bool:
        return any(c.status is PENDING for c in self.checks)

    @property
    def verdict(self) -> str:
        if self.failed:
            return "failed"
        return "incomplete" if self.pending else "verified"

    def to_json(self) -> dict[str, object]:
        r = self.receipt
        return {
            "origin": self.origin,
            "claim": r.claim,
            "round": r.round,
            "juror": r.juror,
            "leaf_index": r.leaf_index,
            "log": self.log,
            "verdict": self.verdict,
            "checks": [c.to_json("status") for c in self.checks],
        }


# --- the offline checks -----------------------------------------------------------


@dataclass
class _Offline:
    checkpoint: Checkpoint | None = None
    sealed: VoteSealed | None = None


def _opening(r: VoteReceipt) -> str:
    return f"juror {r.juror} on claim {r.claim} round {r.round}"


def check_offline(receipt: VoteReceipt, verifier: Verifier, origin: str) -> ReceiptReport:
    """The checks that need only the receipt and the log's key."""
    report = ReceiptReport(receipt, origin)
    _offline(report, verifier, origin)
    return report


def _offline(report: ReceiptReport, verifier: Verifier, origin: str) -> _Offline:
    out = _Offline()
    out.checkpoint = _checkpoint(report, verifier, origin)
    out.sealed = _sealed_entry(report)
    _inclusion(report, out.checkpoint)
    _commitment(report, out.sealed)
    return out


def _checkpoint(report: ReceiptReport, verifier: Verifier, origin: str) -> Checkpoint | None:
    r = report.receipt
    try:
        cp = open_checkpoint(r.checkpoint, verifier, origin).checkpoint
    except MutualogError as e:
        report.add("checkpoint", FAIL, f"the receipt's checkpoint does not verify: {e}")
        return None
    if cp.size != r.tree_size:
        report.add(
            "checkpoint",
            FAIL,
            f"signed by {verifier.name}, but of size {cp.size} while the receipt's "
            f"tree_size is {r.tree_size}",
        )
        return None
    report.add(
        "checkpoint",
        OK,
        f"signed by {verifier.name}: size {cp.size}, root {cp.root_hash.hex()}",
    )
    return cp


def _sealed_entry(report: ReceiptReport) -> VoteSealed | None:
    r = report.receipt
    try:
        entry = parse_entry(r.entry, seq=r.leaf_index)
        body = entry.body
        if not isinstance(body, VoteSealed):
            raise MalformedError(f"entry {entry.seq}: a {entry.type} entry, not vote.sealed")
        mine = (r.claim, r.round, r.juror)
        theirs = (body.claim, body.round, body.juror)
        if theirs != mine:
            raise MalformedError(
                f"entry {entry.seq}: seals the vote of juror {body.juror} on claim "
                f"{body.claim} round {body.round}, not the receipt's {_opening(r)}"
            )
    except MutualogError as e:
        report.add("sealed entry", FAIL, str(e))
        return None
    report.add(
        "sealed entry",
        OK,
        f"entry {r.leaf_index} is a canonical vote.sealed of {_opening(r)}",
    )
    return body


def _inclusion(report: ReceiptReport, checkpoint: Checkpoint | None) -> None:
    r = report.receipt
    if checkpoint is None:
        report.add("inclusion", SKIP, "no verified checkpoint to prove the entry against")
        return
    try:
        verify_inclusion(
            leaf_hash(r.entry),
            r.leaf_index,
            checkpoint.size,
            r.inclusion_proof,
            checkpoint.root_hash,
        )
    except MutualogError as e:
        report.add("inclusion", FAIL, f"the inclusion proof does not verify: {e}")
        return
    report.add(
        "inclusion",
        OK,
        f"leaf {r.leaf_index} is in the checkpoint's tree of size {checkpoint.size}",
    )


def _commitment(report: ReceiptReport, sealed: VoteSealed | None) -> None:
    r = report.receipt
    if sealed is None:
        report.add("commitment", SKIP, "no sealed entry to compare the opening with")
        return
    try:
        computed = vote_commitment(r.claim, r.round, r.juror, r.choice, r.reason, r.salt)
    except MutualogError as e:
        report.add("commitment", FAIL, f"the receipt's opening is not a valid vote: {e}")
        return
    if computed != sealed.commitment:
        report.add(
            "commitment",
            FAIL,
            f"the opening ({r.choice.value}, reason {r.reason!r}, salt {r.salt.hex()}) gives "
            f"commitment {computed.hex()}; the sealed entry holds "
            f"{sealed.commitment.hex()}",
        )
    elif computed != r.commitment:
        report.add(
            "commitment",
            FAIL,
            f"the opening gives the sealed commitment {computed.hex()}, but the receipt "
            f"states {r.commitment.hex()}",
        )
    else:
        report.add(
            "commitment",
            OK,
            f"the opening ({r.choice.value}) gives the sealed commitment {computed.hex()}",
        )


# --- the checks against the log -------------------------------------------------------


@dataclass
class _Read:
    """What the log read holds for the receipt."""

    leaves: list[bytes] = field(default_factory=list)
    at_index: bytes | None = None
    reveals: list[tuple[int, VoteRevealed]] = field(default_factory=list)
    decision: tuple[int, ClaimDecided] | None = None

    def take(self, r: VoteReceipt, index: int, body: object) -> None:
        """Note the round's reveals up to its decision, from entries read in
        log order (the whole log, or the claim's proven entries of a bundle)."""
        if self.decision is not None:
            return
        if isinstance(body, VoteRevealed) and (body.claim, body.round) == (r.claim, r.round):
            self.reveals.append((index, body))
        elif isinstance(body, ClaimDecided) and (body.claim, body.round) == (r.claim, r.round):
            self.decision = (index, body)


def check_against_log(
    receipt: VoteReceipt,
    verifier: Verifier,
    origin: str,
    note: bytes,
    fetch: Fetch,
    label: str,
) -> ReceiptReport:
    """The offline checks, then the log read from ``note`` and ``fetch``
    (``label`` names it in the report).

    Raises what ``fetch`` raises when the log cannot be read at all."""
    report = ReceiptReport(receipt, origin, log=label)
    offline = _offline(report, verifier, origin)
    r = report.receipt
    try:
        log = open_tiled_log(note, verifier, origin, fetch)
    except MutualogError as e:
        report.add("log checkpoint", FAIL, f"{label}: the checkpoint does not verify: {e}")
        return report
    size = log.size
    report.add("log checkpoint", OK, f"{label}: signed by {verifier.name}, size {size}")

    read = _Read()
    try:
        for item in log.entries():
            if item.index < r.tree_size:
                read.leaves.append(leaf_hash(item.data))
            if item.index == r.leaf_index:
                read.at_index = item.data
            read.take(r, item.index, item.entry.body)
    except MutualogError as e:
        report.add("log entries", FAIL, f"{label}: {e}")
        return report
    report.add("log entries", OK, f"{size} entries: every tile, leaf and chain link proven")

    _consistency(report, offline, read, size)
    _round(report, offline, read, size)
    return report


def _round(report: ReceiptReport, offline: _Offline, read: _Read, size: int) -> None:
    """The checks ``reveal`` and ``tally`` on what was read, from the log or
    from a claim's bundle alike."""
    if offline.sealed is None:
        report.add("reveal", SKIP, "no valid sealed entry to match a reveal against")
        report.add("tally", SKIP, "no valid sealed entry")
        return
    revealed = _reveal(report, offline.sealed, read, size)
    _tally(report, read, revealed)


def _consistency(report: ReceiptReport, offline: _Offline, read: _Read, size: int) -> None:
    r = report.receipt
    if size < r.tree_size:
        report.add(
            "consistency",
            PENDING,
            f"the log read has {size} entries, fewer than the receipt's checkpoint "
            f"({r.tree_size}): read a newer copy of the log",
        )
        return
    problems = []
    if offline.checkpoint is not None:
        prefix = root_hash(read.leaves)
        if prefix != offline.checkpoint.root_hash:
            problems.append(
                f"the log's first {r.tree_size} entries hash to {prefix.hex()}, the receipt's "
                f"checkpoint holds {offline.checkpoint.root_hash.hex()}: the log forked"
            )
    if read.at_index is None:
        problems.append(f"the log has no entry {r.leaf_index}")
    elif read.at_index != r.entry:
        problems.append(f"entry {r.leaf_index} in the log differs from the receipt's entry")
    if problems:
        report.add("consistency", FAIL, "; ".join(problems))
        return
    proven = (
        f"the receipt's checkpoint (size {r.tree_size}) is a prefix of the log (size {size}); "
        if offline.checkpoint is not None
        else ""
    )
    report.add(
        "consistency",
        OK,
        f"{proven}entry {r.leaf_index} is byte-identical to the receipt's",
    )


def _reveal(
    report: ReceiptReport, sealed: VoteSealed, read: _Read, size: int
) -> VoteRevealed | None:
    r = report.receipt
    mine = [(seq, body) for seq, body in read.reveals if body.juror == r.juror]
    if not mine:
        if read.decision is None:
            report.add(
                "reveal",
                PENDING,
                f"no vote.revealed of {_opening(r)} in the log's {size} entries yet "
                "(the round's voting is not closed)",
            )
        else:
            report.add(
                "reveal",
                FAIL,
                f"claim {r.claim} round {r.round} was decided at entry {read.decision[0]} "
                f"without a vote.revealed of juror {r.juror}: the sealed vote was dropped",
            )
        return None
    seq, body = mine[0]
    try:
        check_reveal(sealed, body, seq=seq)
    except RuleViolation as e:
        report.add("reveal", FAIL, str(e))
        return None
    except MutualogError as e:
        report.add("reveal", FAIL, f"entry {seq}: the reveal is not a valid vote: {e}")
        return None
    expected = (r.choice, r.reason, r.salt)
    if (body.choice, body.reason, body.salt) != expected:
        report.add(
            "reveal",
            FAIL,
            f"entry {seq} reveals ({body.choice.value}, reason {body.reason!r}, salt "
            f"{body.salt.hex()}); the receipt holds ({r.choice.value}, reason "
            f"{r.reason!r}, salt {r.salt.hex()})",
        )
        return None
    report.add(
        "reveal",
        OK,
        f"entry {seq} reveals {r.choice.value}, opening the sealed commitment as the receipt does",
    )
    return body


def _tally(report: ReceiptReport, read: _Read, revealed: VoteRevealed | None) -> None:
    r = report.receipt
    if read.decision is None:
        report.add(
            "tally",
            PENDING,
            f"no claim.decided for claim {r.claim} round {r.round} in the log yet",
        )
        return
    seq, body = read.decision
    if revealed is None:
        report.add("tally", SKIP, "the juror's reveal did not check: nothing to count")
        return
    reveals = read.reveals
    approvals = sum(1 for _, v in reveals if v.choice is Choice.APPROVE)
    rejections = len(reveals) - approvals
    got = (body.approvals, body.rejections)
    if got != (approvals, rejections):
        report.add(
            "tally",
            FAIL,
            f"entry {seq} decides with {body.approvals} approve, {body.rejections} reject; "
            f"the round's {len(reveals)} reveals give {approvals} approve, "
            f"{rejections} reject",
        )
        return
    report.add(
        "tally",
        OK,
        f"entry {seq} ({body.outcome.value}) counts {approvals} approve, {rejections} reject: "
        f"the round's {len(reveals)} reveals, this juror's {r.choice.value} among them",
    )


# --- the checks against a claim's bundle -------------------------------------------------


def check_against_bundle(
    receipt: VoteReceipt, verifier: Verifier, origin: str, bundle: Bundle
) -> ReceiptReport:
    """The offline checks, then the claim's ``bundle`` (``mutualog fetch claim
    --since SIZE``, the page's fetch) in place of the whole log: the same
    checks ``log checkpoint``, ``consistency``, ``reveal`` and ``tally`` as
    :func:`check_against_log`, read from the claim's proven entries."""
    report = ReceiptReport(receipt, origin, log="bundle")
    offline = _offline(report, verifier, origin)
    r = report.receipt
    proven, opened = open_bundle(bundle, verifier, origin)
    if proven is None:
        report.add(
            "log checkpoint", FAIL, f"bundle: the checkpoint does not verify: {opened[0].detail}"
        )
        return report
    size = proven.checkpoint.size
    report.add("log checkpoint", OK, f"bundle: signed by {verifier.name}, size {size}")
    unproven = [f.detail for f in opened if f.failed]
    if unproven:
        report.add("log entries", FAIL, f"bundle: {'; '.join(unproven)}")
        return report
    if r.claim not in bundle.claims:
        report.add(
            "log entries",
            FAIL,
            f"the bundle is for claims {', '.join(bundle.claims) or 'none'}, not the "
            f"receipt's claim {r.claim}",
        )
        return report
    report.add("log entries", OK, f"{len(proven.entries)} entries of the claim, each proven")
    read = _Read()
    for index in sorted(proven.entries):
        read.take(r, index, proven.entries[index].body)
    _bundle_consistency(report, offline, proven)
    _round(report, offline, read, size)
    return report


def _bundle_consistency(report: ReceiptReport, offline: _Offline, proven: ProvenBundle) -> None:
    """The receipt's checkpoint is a prefix of the bundle's, by an RFC 9162
    §2.1.4 consistency proof from the receipt's size.  With the receipt's
    inclusion proof under its checkpoint, that proof also puts the receipt's
    entry at its index in the bundle's tree, and it sees a fork that kept the
    entry, which an inclusion proof of the entry alone would not: so the one
    proof is what a bundle must carry (the bundle API's ``since``)."""
    r = report.receipt
    size = proven.checkpoint.size
    if size < r.tree_size:
        report.add(
            "consistency",
            PENDING,
            f"the bundle's checkpoint has size {size}, less than the receipt's "
            f"({r.tree_size}): fetch a newer bundle",
        )
        return
    held = proven.entries.get(r.leaf_index)
    if held is not None and held.to_bytes() != r.entry:
        report.add(
            "consistency",
            FAIL,
            f"entry {r.leaf_index} in the bundle differs from the receipt's entry: the log forked",
        )
        return
    if offline.checkpoint is None:
        if held is None:
            report.add("consistency", FAIL, f"the bundle has no entry {r.leaf_index}")
        else:
            report.add(
                "consistency", OK, f"entry {r.leaf_index} is byte-identical to the receipt's"
            )
        return
    if size > r.tree_size and r.tree_size not in {s.size for s in proven.bundle.consistency}:
        report.add(
            "consistency",
            PENDING,
            f"the bundle holds no consistency proof from the receipt's size {r.tree_size}: "
            f"fetch the claim's bundle with since={r.tree_size}",
        )
        return
    try:
        how = proven.prove_seed(r.tree_size, offline.checkpoint.root_hash)
    except MutualogError as e:
        report.add(
            "consistency",
            FAIL,
            f"the receipt's checkpoint (size {r.tree_size}) is not a prefix of the bundle's "
            f"(size {size}): {e}: the log forked",
        )
        return
    report.add(
        "consistency",
        OK,
        f"the receipt's checkpoint (size {r.tree_size}) is a prefix of the log (size {size}), "
        f"by the {how}; entry {r.leaf_index} is the receipt's",
    )
