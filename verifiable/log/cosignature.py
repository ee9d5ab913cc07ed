"""C2SP tlog-cosignature (https://c2sp.org/tlog-cosignature): Ed25519 ``cosignature/v1``.

A witness cosigns a checkpoint by adding one signed-note line to it.  The key
ID is SHA-256(name || 0x0A || 0x04 || 32-byte public key)[:4]; the signature
bytes after the key ID are an 8-byte big-endian POSIX timestamp followed by a
64-byte Ed25519 signature over::

    cosignature/v1
    time <timestamp in decimal>
    <the whole checkpoint note text, final newline included>

Only the Ed25519 type is implemented; ML-DSA-44 cosignatures (type 0x06) are
signatures by unknown keys to this module and are ignored like any other.
The time is always an argument: nothing here reads a clock.  A cosignature
dated after the verifier's "now" (more than :data:`MAX_CLOCK_SKEW` seconds
ahead) is refused by :func:`check_not_future`: the spec lets verifiers
reject them, and a witness that signs the future can make a stale view look
fresh.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from verifiable.errors import MalformedError, VerificationError
from verifiable.log.note import (
    ALG_ED25519_COSIGNATURE,
    Ed25519SignerBase,
    Ed25519VerifierBase,
    NoteSignature,
    OpenedNote,
    check_key_name,
    check_note_text,
)

__all__ = [
    "COSIGNATURE_SIZE",
    "MAX_CLOCK_SKEW",
    "MAX_TIMESTAMP",
    "Cosignature",
    "CosignatureSigner",
    "CosignatureVerifier",
    "check_not_future",
    "cosigned_message",
    "generate_cosignature_key",
    "verified_cosignatures",
]

MAX_TIMESTAMP = (1 << 63) - 1
"""The spec caps the timestamp at 2^63 - 1 although it is encoded in 64 bits."""

MAX_CLOCK_SKEW = 60
"""Seconds a cosignature may be dated ahead of the verifier's clock: two
honest clocks differ by that much, a signature of the future by more."""

_TIMESTAMP_SIZE = 8
_ED25519_SIGNATURE_SIZE = 64
COSIGNATURE_SIZE = _TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE
"""Bytes after the key ID in an Ed25519 cosignature: timestamp and signature."""


def _check_timestamp(timestamp: int, what: str) -> None:
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise MalformedError(f"{what}: timestamp {timestamp!r} is not an integer")
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise MalformedError(f"{what}: timestamp {timestamp} is outside 0..2^63-1")


def cosigned_message(text: str, timestamp: int) -> bytes:
    """The bytes an Ed25519 cosignature signs: header, time line, note text."""
    _check_timestamp(timestamp, "cosigned message")
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


@dataclass(frozen=True)
class Cosignature:
    """A parsed Ed25519 cosignature line: who, when, and the 64-byte signature."""

    name: str
    key_id: int
    timestamp: int
    signature: bytes

    def __post_init__(self) -> None:
        where = f"cosignature by {self.name}"
        check_key_name(self.name, "cosignature key name")
        if not 0 <= self.key_id < 1 << 32:
            raise MalformedError(f"{where}: key ID {self.key_id} is not a uint32")
        _check_timestamp(self.timestamp, where)
        if len(self.signature) != _ED25519_SIGNATURE_SIZE:
            raise MalformedError(
                f"{where}: Ed25519 signature is {len(self.signature)} bytes, "
                f"expected {_ED25519_SIGNATURE_SIZE}"
            )

    @classmethod
    def from_note_signature(cls, sig: NoteSignature) -> Cosignature:
        raw = sig.signature
        if len(raw) != COSIGNATURE_SIZE:
            raise MalformedError(
                f"cosignature by {sig.key}: {len(raw)} bytes after the key ID, expected "
                f"{COSIGNATURE_SIZE} (8-byte timestamp and 64-byte Ed25519 signature)"
            )
        timestamp = int.from_bytes(raw[:_TIMESTAMP_SIZE], "big")
        return cls(sig.name, sig.key_id, timestamp, raw[_TIMESTAMP_SIZE:])

    def to_note_signature(self) -> NoteSignature:
        raw = self.timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + self.signature
        return NoteSignature(self.name, self.key_id, raw)

    @classmethod
    def from_line(cls, line: str) -> Cosignature:
        """Parse ``— <name> <base64>`` (no final newline)."""
        return cls.from_note_signature(NoteSignature.from_line(line))

    def to_line(self) -> str:
        return self.to_note_signature().to_line()


@dataclass(frozen=True)
class CosignatureVerifier(Ed25519VerifierBase):
    """A witness's Ed25519 cosignature/v1 key; a :class:`~verifiable.log.note.Verifier`.

    Given to :func:`verifiable.log.note.open_note` beside the log's key, it checks
    the witness's line; :func:`verified_cosignatures` then reads the timestamps.
    """

    ALGORITHM = ALG_ED25519_COSIGNATURE
    KEY_KIND = "witness key"

    def verify(self, text: bytes, signature: bytes) -> None:
        if len(signature) != COSIGNATURE_SIZE:
            raise VerificationError(
                f"cosignature is {len(signature)} bytes after the key ID, expected "
                f"{COSIGNATURE_SIZE} (8-byte timestamp and 64-byte Ed25519 signature)"
            )
        timestamp = int.from_bytes(signature[:_TIMESTAMP_SIZE], "big")
        if timestamp > MAX_TIMESTAMP:
            raise VerificationError(f"cosignature timestamp {timestamp} exceeds 2^63-1")
        message = b"cosignature/v1\ntime %d\n" % timestamp + text
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(
                signature[_TIMESTAMP_SIZE:], message
            )
        except InvalidSignature as e:
            raise VerificationError(
                f"Ed25519 cosignature with timestamp {timestamp} does not verify"
            ) from e


@dataclass(frozen=True)
class CosignatureSigner(Ed25519SignerBase):
    """A witness's Ed25519 cosignature/v1 private key, made from a 32-byte seed;
    its private-key string is ``PRIVATE+KEY+<name>+<hex key ID>+base64(0x04 || seed)``."""

    ALGORITHM = ALG_ED25519_COSIGNATURE

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.name, self.public_key)

    def cosign(self, text: str, timestamp: int) -> Cosignature:
        """Cosign a checkpoint's note text as of ``timestamp`` (POSIX seconds).

        The caller must first have checked the checkpoint is consistent with
        every earlier one it cosigned: that check is the whole point.
        """
        check_note_text(text)
        signature = self._sign(cosigned_message(text, timestamp))
        return Cosignature(self.name, self.key_id, timestamp, signature)


def generate_cosignature_key(name: str, seed: bytes) -> tuple[str, str]:
    """A witness key pair from 32 random bytes the caller supplies.

    Returns ``(private key string, verifier key string)``, both with
    signature type 0x04.
    """
    signer = CosignatureSigner(name, seed)
    return signer.to_private_key(), signer.verifier().to_vkey()


def verified_cosignatures(opened: OpenedNote) -> tuple[Cosignature, ...]:
    """The cosignatures in ``opened`` that a :class:`CosignatureVerifier` verified."""
    return tuple(
        Cosignature.from_note_signature(v.signature)
        for v in opened.verified
        if isinstance(v.verifier, CosignatureVerifier)
    )


def check_not_future(
    cosignatures: Iterable[Cosignature], now: int, *, skew: int = MAX_CLOCK_SKEW
) -> None:
    """Raise :class:`VerificationError` for the first cosignature dated more
    than ``skew`` seconds after ``now`` (POSIX seconds, the caller's clock)."""
    for c in cosignatures:
        if c.timestamp > now + skew:
            raise VerificationError(
                f"cosignature by {c.name}+{c.key_id:08x}: timestamp {c.timestamp} is "
                f"{c.timestamp - now} s in the future (now {now}, {skew} s of clock skew allowed)"
            )
