"""C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the log's signed tree head.

A checkpoint is the text of a signed note (:mod:`verifiable.log.note`)::

    <origin>
    <tree size, decimal, no leading zeros>
    <root hash, standard base64 of 32 bytes>
    [extension lines, each non-empty]

signed by the log's key and, optionally, cosigned by witnesses
(:mod:`verifiable.log.cosignature`).  The tree size is capped at 2^63 - 1, as the
Go and Rust implementations cap it, so that every size we accept they accept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from verifiable.errors import MalformedError, VerificationError
from verifiable.log.cosignature import (
    Cosignature,
    CosignatureSigner,
    verified_cosignatures,
)
from verifiable.log.note import (
    Note,
    NoteSignature,
    OpenedNote,
    Signer,
    Verifier,
    decode_base64,
    encode_base64,
    open_note,
    sign_note,
)

__all__ = [
    "HASH_SIZE",
    "MAX_TREE_SIZE",
    "Checkpoint",
    "SignedCheckpoint",
    "add_cosignatures",
    "cosign_checkpoint",
    "open_checkpoint",
    "sign_checkpoint",
]

HASH_SIZE = 32
MAX_TREE_SIZE = (1 << 63) - 1

_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")
# Surrogates only reach here from Python code; they have no UTF-8 encoding.
_UNENCODABLE = re.compile(r"[\x00-\x1f\ud800-\udfff]")


def _check_line(line: str, what: str) -> None:
    if not line:
        raise MalformedError(f"checkpoint: {what} is empty")
    bad = _UNENCODABLE.search(line)
    if bad:
        raise MalformedError(
            f"checkpoint: {what} contains control character or surrogate "
            f"U+{ord(bad.group()):04X} at character {bad.start()}"
        )


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: origin, size, RFC 9162 root hash, optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "origin line")
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise MalformedError(f"checkpoint: tree size {self.size!r} is not an integer")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise MalformedError(f"checkpoint: tree size {self.size} is outside 0..2^63-1")
        if not isinstance(self.root_hash, bytes):
            raise MalformedError(
                f"checkpoint: root hash is {type(self.root_hash).__name__}, expected bytes"
            )
        if len(self.root_hash) != HASH_SIZE:
            raise MalformedError(
                f"checkpoint: root hash is {len(self.root_hash)} bytes, expected {HASH_SIZE}"
            )
        for number, line in enumerate(self.extensions, start=4):
            _check_line(line, f"extension line {number}")

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        if not text.endswith("\n"):
            raise MalformedError("checkpoint: text does not end in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedError(
                f"checkpoint: {len(lines)} lines, expected at least 3 (origin, size, root hash)"
            )
        for number, line in enumerate(lines, start=1):
            if not line:
                raise MalformedError(f"checkpoint: line {number} is empty")
        origin, size_text, root_text, *extensions = lines
        if not _SIZE.fullmatch(size_text):
            shown = size_text if len(size_text) <= 40 else size_text[:40] + "..."
            raise MalformedError(
                f"checkpoint: tree size {shown!r} is not a decimal integer without leading "
                "zeros of at most 19 digits"
            )
        size = int(size_text)
        if size > MAX_TREE_SIZE:
            raise MalformedError(f"checkpoint: tree size {size} exceeds 2^63-1")
        root_hash = decode_base64(root_text, "checkpoint: root hash")
        return cls(origin, size, root_hash, tuple(extensions))

    def to_text(self) -> str:
        lines = [self.origin, str(self.size), encode_base64(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def from_bytes(cls, data: bytes) -> Checkpoint:
        try:
            return cls.from_text(data.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise MalformedError(f"checkpoint: not valid UTF-8 at byte {e.start}") from e

    def to_bytes(self) -> bytes:
        return self.to_text().encode("utf-8")


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint whose log signature verified, with the cosignatures that did."""

    checkpoint: Checkpoint
    note: OpenedNote
    cosignatures: tuple[Cosignature, ...]

    def to_bytes(self) -> bytes:
        """The signed note exactly as it was opened."""
        return self.note.note.to_bytes()


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> bytes:
    """The checkpoint as a note signed by the log's key."""
    return sign_note(checkpoint.to_text(), [signer])


def open_checkpoint(
    note_bytes: bytes,
    log_verifier: Verifier,
    origin: str,
    witnesses: Sequence[Verifier] = (),
    *,
    key_name_is_origin: bool = True,
) -> SignedCheckpoint:
    """Open a checkpoint note from the log ``origin`` signed by ``log_verifier``.

    ``witnesses`` are the trusted cosigners: each of their lines present must
    verify (a bad one fails the whole note), and the ones that did are in
    :attr:`SignedCheckpoint.cosignatures`; how many are enough is a
    :class:`~verifiable.log.witness_policy.WitnessPolicy`.  With
    ``key_name_is_origin`` (the default) the log's key name must equal the
    origin, as tlog-checkpoint recommends; set it false for a log whose key
    is named otherwise.
    """
    opened = open_note(note_bytes, [log_verifier, *witnesses])
    if not opened.is_signed_by(log_verifier):
        signers = ", ".join(v.signature.key for v in opened.verified)
        raise VerificationError(
            f"checkpoint: no signature by the log key {log_verifier.name}+"
            f"{log_verifier.key_id:08x} (verified signatures only by {signers})"
        )
    # Read the text only now: an unverified note's text means nothing.
    checkpoint = Checkpoint.from_text(opened.text)
    if checkpoint.origin != origin:
        raise VerificationError(f"checkpoint: origin {checkpoint.origin!r}, expected {origin!r}")
    if key_name_is_origin and log_verifier.name != checkpoint.origin:
        raise VerificationError(
            f"checkpoint: log key name {log_verifier.name!r} differs from the origin "
            f"{checkpoint.origin!r}"
        )
    return SignedCheckpoint(checkpoint, opened, verified_cosignatures(opened))


def add_cosignatures(
    note_bytes: bytes, cosignatures: Iterable[Cosignature | NoteSignature]
) -> bytes:
    """Append cosignature lines to a signed checkpoint note.

    Nothing is verified here; a line from a key that already signed replaces
    the old one.  The note text must be a checkpoint.
    """
    note = Note.from_bytes(note_bytes)
    Checkpoint.from_text(note.text)
    lines = [c.to_note_signature() if isinstance(c, Cosignature) else c for c in cosignatures]
    return note.add_signatures(lines).to_bytes()


def cosign_checkpoint(note_bytes: bytes, cosigner: CosignatureSigner, timestamp: int) -> bytes:
    """Add ``cosigner``'s cosignature at ``timestamp`` to a signed checkpoint note.

    Only for a witness that has already opened the note with the log's key
    and checked consistency with the last checkpoint it cosigned.
    """
    note = Note.from_bytes(note_bytes)
    Checkpoint.from_text(note.text)
    return note.add_signatures(
        [cosigner.cosign(note.text, timestamp).to_note_signature()]
    ).to_bytes()
