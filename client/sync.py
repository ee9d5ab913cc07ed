"""A member's ``sync``: follow a pinned log one checkpoint at a time.

Each sync fetches the log's current checkpoint and accepts it only if

1. it is signed by the pinned log key, for the pinned origin (C2SP
   tlog-checkpoint, signed-note);
2. at least K of the pinned witnesses cosigned it (C2SP tlog-cosignature),
   K being the policy pinned with the log; and
3. its tree extends the last checkpoint this client accepted: RFC 9162
   §2.1.4 consistency, with the proof built here from the log's tiles, each
   tile authenticated against the *new* checkpoint's root before use
   (:class:`verifiable.log.tiles.TileHashReader`), and checked against the *old*
   root (:func:`verifiable.log.merkle.verify_consistency`).  Nothing the server
   says is taken on its word.

A checkpoint that fails any of these is evidence: both checkpoints, the old
one and the one that failed, are kept in the evidence folder, and the stored
checkpoint stays what it was.  A checkpoint that cannot be checked at all
(unreachable server, a note that does not parse, a tile the log does not
serve) is "cannot verify", not evidence.

The checks are pure and live in the core: the signatures in
:func:`verifiable.log.checkpoint.open_checkpoint`, the witness policy in
:class:`verifiable.log.witness_policy.WitnessPolicy` (built from the pinned
state), the consistency proof in :mod:`verifiable.log.merkle`.  This module
holds what ``audit`` and witness mode share with sync: how a fetched
checkpoint is compared with the last accepted one and kept as evidence when
it fails (:func:`fetch_candidate`), each check reported as a
:class:`~verifiable.findings.Finding`, and :func:`prove_consistent`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from client.fetch import Fetcher, FetchError
from client.state import PinnedLog, StateDir, StateError
from verifiable.errors import MalformedError, MutualogError, VerificationError
from verifiable.findings import Finding
from verifiable.log.checkpoint import Checkpoint, SignedCheckpoint, open_checkpoint
from verifiable.log.merkle import EMPTY_ROOT, HashReader, consistency_proof_from, verify_consistency
from verifiable.log.note import Note
from verifiable.log.tiles import Fetch, TileCoord, TileHashReader
from verifiable.log.witness_policy import WitnessPolicy

__all__ = [
    "Candidate",
    "InconsistentError",
    "MissingTileError",
    "SyncReport",
    "TileProofError",
    "consistency_check",
    "fetch_candidate",
    "prove_consistent",
    "required_fetch",
    "sync_log",
    "witness_check",
]


class InconsistentError(VerificationError):
    """Two signed checkpoints of one log whose trees are not one history:
    the log forked (or rewrote itself)."""


class TileProofError(VerificationError):
    """A tile the log served that is not part of the tree its own checkpoint signs."""


class MissingTileError(FetchError):
    """A tile the checkpoint's tree must have that the log does not serve."""


def required_fetch(fetch: Fetch) -> Fetch:
    """``fetch``, with a tile the server does not have raised as
    :class:`MissingTileError` (so sync reports "cannot verify")."""

    def wrapped(tile: TileCoord) -> bytes:
        data = fetch(tile)
        if data is None:
            raise MissingTileError(f"{tile}: the log does not serve it")
        return data

    return wrapped


def prove_consistent(old: Checkpoint, new: Checkpoint, reader: HashReader) -> str:
    """Prove that ``new``'s tree extends ``old``'s, with the consistency proof
    read through ``reader`` (which must authenticate against ``new``'s root);
    return a one-line description of what was proven.

    Raises :class:`InconsistentError` when the trees differ,
    :class:`TileProofError` when the reader's tiles do not match ``new``.
    """
    where = f"size {old.size} -> {new.size}"
    if new.size < old.size:
        raise InconsistentError(
            f"the log shrank: size {new.size} after size {old.size} "
            f"(old root {old.root_hash.hex()}, new root {new.root_hash.hex()})"
        )
    if old.size == 0:
        if old.root_hash != EMPTY_ROOT:
            raise InconsistentError(
                f"the earlier checkpoint of size 0 has root {old.root_hash.hex()}, "
                f"not the empty tree's {EMPTY_ROOT.hex()}"
            )
        return f"{where}: every tree extends the empty one"
    proof: list[bytes] = []
    if old.size < new.size:
        try:
            proof = consistency_proof_from(reader, old.size, new.size)
        except (MalformedError, VerificationError) as e:
            raise TileProofError(
                f"consistency proof {where}: the log's tiles do not match its checkpoint: {e}"
            ) from e
    try:
        verify_consistency(old.size, new.size, proof, old.root_hash, new.root_hash)
    except (MalformedError, VerificationError) as e:
        raise InconsistentError(f"the log forked: {e}") from e
    if old.size == new.size:
        return f"{where}: the same tree (root {new.root_hash.hex()})"
    return f"{where}: proven with {len(proof)} hashes from the log's tiles"


def consistency_check(
    old: Checkpoint | None, new: Checkpoint, fetch: Fetch, first: str
) -> tuple[Finding, str | None]:
    """The consistency step shared by ``sync`` and ``witness cosign``: the
    finding to report and, when it failed, the kind of evidence (``shrank``,
    ``fork`` or ``bad-tiles``).  ``first`` describes a first checkpoint."""
    if old is None:
        return Finding.passed("consistency", first), None
    reader = TileHashReader(new.size, new.root_hash, required_fetch(fetch))
    try:
        return Finding.passed("consistency", prove_consistent(old, new, reader)), None
    except InconsistentError as e:
        kind = "shrank" if new.size < old.size else "fork"
        return Finding.failure("consistency", str(e)), kind
    except TileProofError as e:
        return Finding.failure("consistency", str(e)), "bad-tiles"


def witness_check(signed: SignedCheckpoint, policy: WitnessPolicy, now: int) -> Finding:
    """The finding ``witnesses``: whether ``signed`` meets the pinned
    witness policy (:meth:`PinnedLog.witness_policy
    <client.state.PinnedLog.witness_policy>`; a log pinned without one has
    no such check), none of its cosignatures dated after ``now``."""
    try:
        return Finding.passed("witnesses", policy.verify(signed, now=now))
    except VerificationError as e:
        return Finding.failure("witnesses", str(e))


@dataclass
class SyncReport:
    """What one sync found, and what it did about it."""

    origin: str
    url: str
    old_size: int | None = None
    new_size: int | None = None
    new_root: str = ""
    checks: list[Finding] = field(default_factory=list)
    stored: bool = False
    evidence: Path | None = None
    transfer: dict[str, int] | None = None

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def to_json(self) -> dict[str, object]:
        return {
            "origin": self.origin,
            "url": self.url,
            "old_size": self.old_size,
            "new_size": self.new_size,
            "new_root": self.new_root,
            "verified": self.ok,
            "stored": self.stored,
            "evidence": str(self.evidence) if self.evidence else None,
            "checks": [c.to_json("verdict") for c in self.checks],
            "transfer": dict(self.transfer) if self.transfer is not None else None,
        }


def open_stored(note: bytes, pin: PinnedLog, path: Path) -> SignedCheckpoint:
    """A checkpoint this client stored earlier, re-opened with the pinned key;
    one that no longer opens means the state folder was damaged."""
    try:
        return open_checkpoint(note, pin.verifier(), pin.origin)
    except MutualogError as e:
        raise StateError(f"{path}: corrupt state file: the stored checkpoint: {e}") from e


def parse_note(note: bytes, source: str) -> None:
    """Refuse, as "cannot verify", a checkpoint that is not even a signed note."""
    try:
        Note.from_bytes(note)
    except MalformedError as e:
        raise FetchError(f"{source}: the checkpoint is not a signed note: {e}") from e


@dataclass(frozen=True)
class Candidate:
    """A log's checkpoint, fetched to be accepted after the one accepted
    before it (by ``sync``, or by a witness before it cosigns)."""

    pin: PinnedLog
    url: str
    """Where the checkpoint was fetched from."""
    note: bytes
    old_note: bytes | None
    """The checkpoint accepted before, as it was stored; ``None`` the first time."""
    old: Checkpoint | None

    def keep_evidence(
        self,
        state: StateDir,
        now: datetime,
        folder: str,
        old_name: str,
        finding: Finding,
        description: dict[str, object],
    ) -> Path:
        """Keep both checkpoints (the old one as ``old_name``) and what
        failed in a new evidence folder named for ``folder``; return it."""
        files = {"new-checkpoint": self.note}
        if self.old_note is not None:
            files[old_name] = self.old_note
        return state.save_evidence(
            self.pin.origin,
            folder,
            now,
            files,
            {
                "origin": self.pin.origin,
                "url": self.url,
                "time": now.isoformat(),
                "check": finding.name,
                "detail": finding.detail,
                **description,
            },
        )


def fetch_candidate(
    pin: PinnedLog,
    fetcher: Fetcher,
    old_note: bytes | None,
    old_path: Path,
    note: bytes | None = None,
) -> Candidate:
    """Re-open the checkpoint accepted before (``old_note``, stored at
    ``old_path``), then fetch the log's current one (unless ``note`` was
    fetched already) and refuse, as "cannot verify", one that is not a
    signed note.  Raises :class:`~client.state.StateError` or
    :class:`~client.fetch.FetchError`."""
    old = open_stored(old_note, pin, old_path).checkpoint if old_note is not None else None
    if note is None:
        note = fetcher.checkpoint()
    url = fetcher.url("checkpoint")
    parse_note(note, url)
    return Candidate(pin, url, note, old_note, old)


def sync_log(
    pin: PinnedLog,
    state: StateDir,
    fetcher: Fetcher,
    now: datetime,
    *,
    note: bytes | None = None,
) -> SyncReport:
    """Fetch (unless ``note`` was fetched already), check and store the
    log's current checkpoint (see the module docstring).  Raises
    :class:`~client.fetch.FetchError` or :class:`~client.state.StateError`
    when it cannot verify; every check that runs lands in the report."""
    report = SyncReport(origin=pin.origin, url=fetcher.label)
    path = state.checkpoint_path(pin.origin)
    found = fetch_candidate(pin, fetcher, state.load_checkpoint(pin.origin), path, note)
    report.old_size = found.old.size if found.old else None

    def fail(check: Finding, kind: str) -> SyncReport:
        report.checks.append(check)
        sizes = {"old_size": report.old_size, "new_size": report.new_size}
        report.evidence = found.keep_evidence(
            state, now, kind, "old-checkpoint", check, {"kind": kind, **sizes}
        )
        return report

    def fail_witnesses(check: Finding, old: Checkpoint | None, new: Checkpoint) -> SyncReport:
        # A checkpoint the witnesses did not cosign may also fork from the
        # one accepted before: a split view.  Say so, keeping both.
        try:
            forked, kind = consistency_check(old, new, fetcher.fetch, "")
        except FetchError:
            kind = None
        if kind is None:
            return fail(check, "witnesses")
        report.checks.append(check)
        return fail(forked, kind)

    try:
        signed = open_checkpoint(found.note, pin.verifier(), pin.origin, pin.witness_verifiers())
    except MutualogError as e:
        return fail(Finding.failure("signature", str(e)), "bad-checkpoint")
    new = signed.checkpoint
    report.new_size, report.new_root = new.size, new.root_hash.hex()
    report.checks.append(
        Finding.passed(
            "signature", f"signed by the pinned key, size {new.size}, origin {new.origin}"
        )
    )
    policy = pin.witness_policy()
    if policy is not None:
        check = witness_check(signed, policy, int(now.timestamp()))
        if not check.ok:
            return fail_witnesses(check, found.old, new)
        report.checks.append(check)
    check, kind = consistency_check(
        found.old, new, fetcher.fetch, "the first checkpoint of this log: nothing earlier to prove"
    )
    if kind is not None:
        return fail(check, kind)
    report.checks.append(check)
    state.save_checkpoint(pin.origin, found.note)
    report.stored = True
    return report
