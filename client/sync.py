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

This module also holds what ``audit`` and witness mode share with sync: the
named :class:`Check`, the witness policy and :func:`prove_consistent`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from client.fetch import Fetcher, FetchError
from client.state import PinnedLog, StateDir, StateError
from verifiable.errors import MalformedError, MutualogError, VerificationError
from verifiable.log.checkpoint import Checkpoint, SignedCheckpoint, open_checkpoint
from verifiable.log.merkle import EMPTY_ROOT, HashReader, consistency_proof_from, verify_consistency
from verifiable.log.note import Note
from verifiable.log.tiles import Fetch, TileCoord, TileHashReader

__all__ = [
    "Check",
    "InconsistentError",
    "MissingTileError",
    "SyncReport",
    "TileProofError",
    "consistency_check",
    "prove_consistent",
    "required_fetch",
    "sync_log",
    "witness_check",
]


@dataclass(frozen=True)
class Check:
    """One named check and its verdict; ``detail`` says what was found."""

    name: str
    ok: bool
    detail: str

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


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
) -> tuple[Check, str | None]:
    """The consistency step shared by ``sync`` and ``witness cosign``: the
    check to report and, when it failed, the kind of evidence (``shrank``,
    ``fork`` or ``bad-tiles``).  ``first`` describes a first checkpoint."""
    if old is None:
        return Check("consistency", True, first), None
    reader = TileHashReader(new.size, new.root_hash, required_fetch(fetch))
    try:
        return Check("consistency", True, prove_consistent(old, new, reader)), None
    except InconsistentError as e:
        kind = "shrank" if new.size < old.size else "fork"
        return Check("consistency", False, str(e)), kind
    except TileProofError as e:
        return Check("consistency", False, str(e)), "bad-tiles"


def witness_check(signed: SignedCheckpoint, pin: PinnedLog) -> Check:
    """K of the pinned witnesses must have cosigned ``signed`` (each line by
    a pinned witness was verified when the note was opened)."""
    names = sorted({c.name for c in signed.cosignatures})
    need, trusted = pin.witnesses_required, len(pin.witnesses)
    ok = len(names) >= need
    got = f"{len(names)} of {trusted} trusted witnesses cosigned" + (
        f" ({', '.join(names)})" if names else ""
    )
    return Check("witnesses", ok, f"{got}; {need} required")


@dataclass
class SyncReport:
    """What one sync found, and what it did about it."""

    origin: str
    url: str
    old_size: int | None = None
    new_size: int | None = None
    new_root: str = ""
    checks: list[Check] = field(default_factory=list)
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
            "checks": [c.to_json() for c in self.checks],
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
    old_note = state.load_checkpoint(pin.origin)
    old = (
        open_stored(old_note, pin, state.checkpoint_path(pin.origin)).checkpoint
        if old_note is not None
        else None
    )
    report.old_size = old.size if old else None
    if note is None:
        note = fetcher.checkpoint()
    parse_note(note, fetcher.url("checkpoint"))

    def fail(check: Check, kind: str) -> SyncReport:
        report.checks.append(check)
        files = {"new-checkpoint": note}
        if old_note is not None:
            files["old-checkpoint"] = old_note
        report.evidence = state.save_evidence(
            pin.origin,
            kind,
            now,
            files,
            {
                "kind": kind,
                "origin": pin.origin,
                "url": fetcher.url("checkpoint"),
                "time": now.isoformat(),
                "check": check.name,
                "detail": check.detail,
                "old_size": report.old_size,
                "new_size": report.new_size,
            },
        )
        return report

    try:
        signed = open_checkpoint(note, pin.verifier(), pin.origin, pin.witness_verifiers())
    except MutualogError as e:
        return fail(Check("signature", False, str(e)), "bad-checkpoint")
    new = signed.checkpoint
    report.new_size, report.new_root = new.size, new.root_hash.hex()
    report.checks.append(
        Check("signature", True, f"signed by the pinned key, size {new.size}, origin {new.origin}")
    )
    if pin.witnesses_required:
        check = witness_check(signed, pin)
        if not check.ok:
            return fail(check, "witnesses")
        report.checks.append(check)
    check, kind = consistency_check(
        old, new, fetcher.fetch, "the first checkpoint of this log: nothing earlier to prove"
    )
    if kind is not None:
        return fail(check, kind)
    report.checks.append(check)
    state.save_checkpoint(pin.origin, note)
    report.stored = True
    return report
