"""Witness mode: cosign a log's checkpoint once it is proven consistent with
the last one this witness cosigned (C2SP tlog-cosignature).

A witness is what stops a log from showing different histories to
different people: it cosigns only a checkpoint whose tree extends the one it
cosigned before, so two members who each require its cosignature see the
same log.  The witness keeps, per log and per witness key, the last
checkpoint it cosigned (in the database of :mod:`client.witness_store`,
which ``witness serve`` shares); a checkpoint that shrinks or forks from it
is refused and kept as evidence, as ``sync`` keeps it, and in the database.

The witness key file holds one line, ``PRIVATE+KEY+<name>+<hex key id>+
base64(0x04 || seed)``, the format transparency-dev/formats reads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from client.fetch import Fetcher
from client.state import PinnedLog, StateDir
from client.sync import consistency_check, fetch_candidate
from client.witness_request import Held
from client.witness_store import WitnessStore, WitnessStoreError, witness_id
from verifiable.errors import MalformedError, MutualogError
from verifiable.findings import Finding
from verifiable.log.checkpoint import cosign_checkpoint, open_checkpoint
from verifiable.log.cosignature import CosignatureSigner

__all__ = ["CosignReport", "WitnessKeyError", "cosign", "create_witness_key", "load_witness_key"]

_MAX_KEY_FILE = 4096


class WitnessKeyError(MutualogError):
    """A witness key file that cannot be created, read or parsed."""


def create_witness_key(path: Path, name: str, seed: bytes) -> str:
    """Write a new witness key made from the 32-byte ``seed`` to ``path``
    (mode 0600, never over an existing file); return its verifier key."""
    try:
        signer = CosignatureSigner(name, seed)
    except MalformedError as e:
        raise WitnessKeyError(f"witness name {name!r}: {e}") from e
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # O_EXCL: an existing key is never replaced, not even by a race.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        raise WitnessKeyError(f"{path} already exists; refusing to overwrite a key") from None
    except OSError as e:
        raise WitnessKeyError(f"cannot create {path}: {e.strerror or e}") from None
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (signer.to_private_key() + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return signer.verifier().to_vkey()


def load_witness_key(path: Path) -> CosignatureSigner:
    """Read a witness key file; errors name the file, never its content."""
    try:
        with open(path, "rb") as f:
            data = f.read(_MAX_KEY_FILE + 1)
    except OSError as e:
        raise WitnessKeyError(f"{path}: cannot read the witness key: {e.strerror or e}") from e
    if len(data) > _MAX_KEY_FILE:
        raise WitnessKeyError(f"{path}: not a witness key file (over {_MAX_KEY_FILE} bytes)")
    try:
        text = data.decode("ascii").strip()
        return CosignatureSigner.from_private_key(text)
    except (UnicodeDecodeError, MalformedError) as e:
        # MalformedError from the key parser never quotes the seed.
        reason = str(e) if isinstance(e, MalformedError) else "not ASCII"
        raise WitnessKeyError(f"{path}: not a witness key file: {reason}") from None


@dataclass
class CosignReport:
    origin: str
    url: str
    checks: list[Finding] = field(default_factory=list)
    note: bytes | None = None
    """The cosigned note, when every check passed."""
    evidence: Path | None = None

    @property
    def ok(self) -> bool:
        return self.note is not None


def cosign(
    pin: PinnedLog,
    state: StateDir,
    fetcher: Fetcher,
    signer: CosignatureSigner,
    timestamp: int,
    now: datetime,
    *,
    note: bytes | None = None,
) -> CosignReport:
    """Fetch the log's checkpoint, check it against the log key and against
    the last checkpoint ``signer`` cosigned, and cosign it at ``timestamp``.

    The last checkpoint cosigned is the one ``witness serve`` holds too
    (:class:`~client.witness_store.WitnessStore`), so the two never cosign
    two histories.  Raises :class:`~client.fetch.FetchError`,
    :class:`~client.state.StateError` or
    :class:`~client.witness_store.WitnessStoreError` when it cannot verify.
    """
    report = CosignReport(origin=pin.origin, url=fetcher.label)
    store = WitnessStore.of(state)
    wid = witness_id(signer.name, signer.key_id)
    held = store.held(pin.origin, wid)
    # Before the database, the last checkpoint cosigned was kept in a file.
    legacy = state.load_cosigned(pin.origin, signer.name, signer.key_id) if held is None else None
    old_note = held.note if held is not None else legacy
    found = fetch_candidate(pin, fetcher, old_note, store.path, note)

    def refuse(check: Finding, kind: str) -> CosignReport:
        report.checks.append(check)
        report.evidence = found.keep_evidence(
            state,
            now,
            f"witness-{kind}",
            "last-cosigned-checkpoint",
            check,
            {"kind": kind, "witness": wid},
        )
        store.keep_evidence(pin.origin, wid, timestamp, kind, check.detail, found.note)
        return report

    try:
        # Other witnesses' lines are ignored: a witness vouches only for
        # what it checked itself.
        signed = open_checkpoint(
            found.note, pin.verifier(), pin.origin, key_name_is_origin=pin.key_name_is_origin
        )
    except MutualogError as e:
        return refuse(Finding.failure("signature", str(e)), "bad-checkpoint")
    new = signed.checkpoint
    report.checks.append(Finding.passed("signature", f"signed by the pinned key, size {new.size}"))
    check, kind = consistency_check(
        found.old, new, fetcher.fetch, "the first checkpoint this witness cosigns for this log"
    )
    if kind is not None:
        return refuse(check, kind)
    report.checks.append(check)
    # Never earlier than the last cosignature: it would contradict it.
    timestamp = max(timestamp, held.timestamp if held is not None else 0)
    cosigned = cosign_checkpoint(found.note, signer, timestamp)
    checked = (found.old.size, found.old.root_hash) if found.old is not None else None

    def store_it(now_held: Held | None) -> tuple[Held, None]:
        now = (now_held.size, now_held.root) if now_held is not None else None
        if now != checked:
            raise WitnessStoreError(
                f"{store.path}: the witness cosigned another checkpoint of {pin.origin} "
                "while this one was checked; run the command again"
            )
        return Held(new.size, new.root_hash, cosigned, timestamp), None

    store.advance(pin.origin, wid, store_it, received=timestamp, submitted=found.note)
    report.note = cosigned
    return report
