"""C2SP signed-note (https://c2sp.org/signed-note): notes, keys, Ed25519 signatures.

A signed note is a UTF-8 text ending in a newline, a blank line, then one or
more lines ``— <key name> base64(key ID || signature)``.  This module parses and
writes that format, the verifier-key string ``<name>+<hex key ID>+base64(type ||
public key)``, the ``PRIVATE+KEY+<name>+<hex key ID>+base64(type || seed)``
private-key string of golang.org/x/mod/sumdb/note, and Ed25519 signatures
(signature type 0x01).  Other signature types (the witness cosignatures of
:mod:`verifiable.log.cosignature`) plug in through the :class:`Verifier` and
:class:`Signer` protocols.

Where the spec leaves room, parsing is strict so that every accepted note has
exactly one encoding (``Note.from_bytes(b).to_bytes() == b``):

* base64 must be canonical (no non-zero padding bits, padding present),
  and key IDs in key strings must be 8 lowercase hex digits;
* a note may carry at most :data:`MAX_SIGNATURES` signatures (the spec requires
  accepting at least 16; golang.org/x/mod stops at 100);
* no two signature lines may share a key name and key ID (golang.org/x/mod
  drops such repeats instead; rejecting them keeps a k-of-n count honest);
* the text must contain something besides newlines.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Protocol, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from verifiable.errors import MalformedError, VerificationError
from verifiable.log.ed25519_points import weak_public_key

__all__ = [
    "ALG_ED25519",
    "ALG_ED25519_COSIGNATURE",
    "MAX_SIGNATURES",
    "Ed25519Signer",
    "Ed25519SignerBase",
    "Ed25519Verifier",
    "Ed25519VerifierBase",
    "Note",
    "NoteSignature",
    "OpenedNote",
    "PrivateKey",
    "Signer",
    "VerifiedSignature",
    "Verifier",
    "VerifierKey",
    "check_key_name",
    "check_note_text",
    "compute_key_id",
    "decode_base64",
    "encode_base64",
    "generate_key",
    "open_note",
    "sign_note",
]

ALG_ED25519 = 0x01
"""Signature type of plain Ed25519 note signatures (signed-note §Ed25519)."""

ALG_ED25519_COSIGNATURE = 0x04
"""Signature type of timestamped Ed25519 witness cosignatures (tlog-cosignature)."""

MAX_SIGNATURES = 100
"""Most signature lines a note may carry; golang.org/x/mod uses the same cap."""

_KNOWN_ALGORITHMS = {ALG_ED25519: "Ed25519", ALG_ED25519_COSIGNATURE: "Ed25519 cosignature/v1"}
_ED25519_KEY_SIZE = 32
_ED25519_SIGNATURE_SIZE = 64
_KEY_ID_SIZE = 4
_EM_DASH_PREFIX = "\u2014 "
_PRIVATE_PREFIX = "PRIVATE+KEY+"

_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_KEY_ID_HEX = re.compile(r"[0-9a-f]{8}")
_FORBIDDEN_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
# A str from Python code (never one decoded from bytes) may hold lone
# surrogates, which have no UTF-8 encoding.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


# --- small shared helpers ------------------------------------------------------


def encode_base64(data: bytes) -> str:
    """Standard base64 (RFC 4648 §4) with padding, as every C2SP format uses."""
    return base64.b64encode(data).decode("ascii")


def decode_base64(text: str, what: str) -> bytes:
    """Decode canonical standard base64 or raise :class:`MalformedError`.

    Canonical means the one string :func:`encode_base64` would produce; without
    this a signature could be re-encoded (flipping padding bits) and still be
    accepted, and notes would not round-trip byte for byte.  ``what`` names the
    field in the error; the input itself is never echoed, as it may be a secret.
    """
    if not _BASE64.fullmatch(text):
        raise MalformedError(f"{what}: not standard padded base64 ({len(text)} characters)")
    # The pattern admits only well-formed padded base64, so this cannot fail.
    raw = base64.b64decode(text, validate=True)
    if encode_base64(raw) != text:
        raise MalformedError(f"{what}: non-canonical base64 (non-zero padding bits)")
    return raw


def check_key_name(name: str, what: str = "key name") -> None:
    """Raise :class:`MalformedError` unless ``name`` is a valid key name.

    signed-note: non-empty, no Unicode spaces, no ``+``.  Control characters
    are refused too, since a note may not contain them and so such a key could
    never sign anything.
    """
    if not name:
        raise MalformedError(f"{what}: empty")
    for i, ch in enumerate(name):
        if ch.isspace() or ch == "+" or ord(ch) < 0x20 or _SURROGATE.match(ch):
            raise MalformedError(
                f"{what} {name!r}: character {i} is U+{ord(ch):04X}; "
                "names may not contain spaces, control characters, surrogates or '+'"
            )


def compute_key_id(name: str, algorithm: int, public_key: bytes) -> int:
    """The recommended key ID: SHA-256(name || 0x0A || type || public key)[:4]."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([algorithm]) + public_key).digest()
    return int.from_bytes(digest[:_KEY_ID_SIZE], "big")


def _key_id_hex(key_id: int) -> str:
    return f"{key_id:08x}"


def _parse_key_id(text: str, what: str) -> int:
    if not _KEY_ID_HEX.fullmatch(text):
        # Not echoed: in a garbled private-key string this field may hold key data.
        raise MalformedError(
            f"{what}: key ID field is not 8 lowercase hex digits ({len(text)} characters)"
        )
    return int(text, 16)


def _check_algorithm(algorithm: int, key: bytes, what: str) -> None:
    if algorithm not in _KNOWN_ALGORITHMS:
        raise MalformedError(
            f"{what}: unknown signature type 0x{algorithm:02x}, expected one of "
            + ", ".join(f"0x{a:02x}" for a in sorted(_KNOWN_ALGORITHMS))
        )
    if len(key) != _ED25519_KEY_SIZE:
        raise MalformedError(
            f"{what}: {_KNOWN_ALGORITHMS[algorithm]} key is {len(key)} bytes, "
            f"expected {_ED25519_KEY_SIZE}"
        )


def _ed25519_public_key(seed: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


# --- key strings ----------------------------------------------------------------


@dataclass(frozen=True)
class VerifierKey:
    """A verifier key: ``<name>+<hex key ID>+base64(type || public key)``.

    Only the Ed25519 types this project uses (0x01 note signatures, 0x04
    cosignatures) are accepted; the key ID in the string must be the one the
    spec recommends, since the key IDs of both types are defined that way.
    """

    name: str
    algorithm: int
    public_key: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name, "verifier key name")
        _check_algorithm(self.algorithm, self.public_key, f"verifier key {self.name}")
        # A key under which a chosen text "verifies" is refused before any signature.
        if (weak := weak_public_key(self.public_key)) is not None:
            raise MalformedError(
                f"verifier key {self.name}: not a usable Ed25519 public key: {weak}"
            )

    @property
    def key_id(self) -> int:
        return compute_key_id(self.name, self.algorithm, self.public_key)

    @classmethod
    def from_text(cls, text: str) -> VerifierKey:
        name, sep1, rest = text.partition("+")
        key_id_text, sep2, key_b64 = rest.partition("+")
        if not sep1 or not sep2:
            raise MalformedError(
                "verifier key: expected <name>+<hex key ID>+<base64 key>, "
                f"found {text.count('+')} '+' separators"
            )
        check_key_name(name, "verifier key name")
        key_id = _parse_key_id(key_id_text, f"verifier key {name}")
        raw = decode_base64(key_b64, f"verifier key {name}")
        if not raw:
            raise MalformedError(f"verifier key {name}: key data is empty")
        computed = compute_key_id(name, raw[0], raw[1:])
        if computed != key_id:
            raise MalformedError(
                f"verifier key {name}: key ID {_key_id_hex(key_id)} does not match the key, "
                f"computed {_key_id_hex(computed)}"
            )
        return cls(name, raw[0], raw[1:])

    def to_text(self) -> str:
        data = bytes([self.algorithm]) + self.public_key
        return f"{self.name}+{_key_id_hex(self.key_id)}+{encode_base64(data)}"


@dataclass(frozen=True)
class PrivateKey:
    """A private key string ``PRIVATE+KEY+<name>+<hex key ID>+base64(type || seed)``.

    This is golang.org/x/mod/sumdb/note's signer-key encoding (type 0x01) and,
    with type 0x04, the one transparency-dev/formats reads for witnesses.  The
    key ID is that of the *public* key, so parsing derives the public key and
    checks it.  The seed never appears in ``repr`` or in error messages.
    """

    name: str
    algorithm: int
    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        check_key_name(self.name, "private key name")
        _check_algorithm(self.algorithm, self.seed, f"private key {self.name}")

    @property
    def public_key(self) -> bytes:
        return _ed25519_public_key(self.seed)

    @property
    def key_id(self) -> int:
        return compute_key_id(self.name, self.algorithm, self.public_key)

    def verifier_key(self) -> VerifierKey:
        return VerifierKey(self.name, self.algorithm, self.public_key)

    @classmethod
    def from_text(cls, text: str) -> PrivateKey:
        if not text.startswith(_PRIVATE_PREFIX):
            raise MalformedError("private key: does not start with 'PRIVATE+KEY+'")
        name, sep1, rest = text[len(_PRIVATE_PREFIX) :].partition("+")
        key_id_text, sep2, key_b64 = rest.partition("+")
        if not sep1 or not sep2:
            raise MalformedError(
                "private key: expected PRIVATE+KEY+<name>+<hex key ID>+<base64 seed>"
            )
        # Until the string has parsed, no field of it is echoed: in a garbled
        # string any of them may hold part of the seed.
        try:
            check_key_name(name, "private key name")
        except MalformedError:
            raise MalformedError(
                "private key: the name field is not a valid key name "
                "(empty, or has spaces, control characters or '+')"
            ) from None
        key_id = _parse_key_id(key_id_text, "private key")
        raw = decode_base64(key_b64, "private key")
        if not raw:
            raise MalformedError("private key: key data is empty")
        key = cls(name, raw[0], raw[1:])
        if key.key_id != key_id:
            raise MalformedError(
                f"private key {name}: key ID {_key_id_hex(key_id)} does not match the "
                f"derived public key, computed {_key_id_hex(key.key_id)}"
            )
        return key

    def to_text(self) -> str:
        data = bytes([self.algorithm]) + self.seed
        return f"{_PRIVATE_PREFIX}{self.name}+{_key_id_hex(self.key_id)}+{encode_base64(data)}"


# --- signers and verifiers -----------------------------------------------------------


class Verifier(Protocol):
    """One known public key: its name, key ID, and a check of a signature.

    ``verify`` receives the note text and the signature bytes that follow the
    key ID, returns ``None`` if the signature is valid and raises
    :class:`VerificationError` (saying why) if not.
    """

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def verify(self, text: bytes, signature: bytes) -> None: ...


class Signer(Protocol):
    """One private key: its name, key ID, and a signature over a note text."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def sign(self, text: bytes) -> bytes: ...


@dataclass(frozen=True)
class Ed25519VerifierBase:
    """An Ed25519 public key of one signature type (``ALGORITHM``): what the
    note verifier and the witness cosignature verifier share.  A subclass
    sets the type and checks a signature."""

    ALGORITHM: ClassVar[int]
    KEY_KIND: ClassVar[str] = "verifier key"
    """How errors name a key string of the wrong type."""

    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        VerifierKey(self.name, self.ALGORITHM, self.public_key)

    @property
    def key_id(self) -> int:
        return compute_key_id(self.name, self.ALGORITHM, self.public_key)

    @classmethod
    def from_vkey(cls, vkey: str) -> Self:
        key = VerifierKey.from_text(vkey)
        _check_type(key.algorithm, cls.ALGORITHM, f"{cls.KEY_KIND} {key.name}")
        return cls(key.name, key.public_key)

    def to_vkey(self) -> str:
        return VerifierKey(self.name, self.ALGORITHM, self.public_key).to_text()


@dataclass(frozen=True)
class Ed25519SignerBase:
    """An Ed25519 private key of one signature type (``ALGORITHM``), made from
    a 32-byte seed: what the note signer and the witness cosigner share."""

    ALGORITHM: ClassVar[int]

    name: str
    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        PrivateKey(self.name, self.ALGORITHM, self.seed)

    @property
    def public_key(self) -> bytes:
        return _ed25519_public_key(self.seed)

    @property
    def key_id(self) -> int:
        return compute_key_id(self.name, self.ALGORITHM, self.public_key)

    @classmethod
    def from_private_key(cls, text: str) -> Self:
        """Read ``PRIVATE+KEY+<name>+<hex key ID>+base64(type || seed)``."""
        key = PrivateKey.from_text(text)
        _check_type(key.algorithm, cls.ALGORITHM, f"private key {key.name}")
        return cls(key.name, key.seed)

    def to_private_key(self) -> str:
        return PrivateKey(self.name, self.ALGORITHM, self.seed).to_text()

    def _sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


def _check_type(algorithm: int, expected: int, what: str) -> None:
    if algorithm != expected:
        raise MalformedError(
            f"{what}: signature type 0x{algorithm:02x}, "
            f"expected 0x{expected:02x} ({_KNOWN_ALGORITHMS[expected]})"
        )


@dataclass(frozen=True)
class Ed25519Verifier(Ed25519VerifierBase):
    """An Ed25519 (type 0x01) note verifier."""

    ALGORITHM = ALG_ED25519

    def verify(self, text: bytes, signature: bytes) -> None:
        if len(signature) != _ED25519_SIGNATURE_SIZE:
            raise VerificationError(
                f"Ed25519 signature is {len(signature)} bytes, expected {_ED25519_SIGNATURE_SIZE}"
            )
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, text)
        except InvalidSignature as e:
            raise VerificationError("Ed25519 signature does not verify") from e


@dataclass(frozen=True)
class Ed25519Signer(Ed25519SignerBase):
    """An Ed25519 (type 0x01) note signer, made from a 32-byte seed."""

    ALGORITHM = ALG_ED25519

    def verifier(self) -> Ed25519Verifier:
        return Ed25519Verifier(self.name, self.public_key)

    def sign(self, text: bytes) -> bytes:
        return self._sign(text)


def generate_key(name: str, seed: bytes) -> tuple[str, str]:
    """Make an Ed25519 key pair from 32 random bytes the caller supplies.

    Returns ``(private key string, verifier key string)``, as
    golang.org/x/mod's ``note.GenerateKey`` does.
    """
    signer = Ed25519Signer(name, seed)
    return signer.to_private_key(), signer.verifier().to_vkey()


# --- notes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, key ID and the signature bytes after the ID."""

    name: str
    key_id: int
    signature: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name, "signature key name")
        if not 0 <= self.key_id < 1 << 32:
            raise MalformedError(f"signature by {self.name}: key ID {self.key_id} is not a uint32")
        if not self.signature:
            raise MalformedError(
                f"signature by {self.name}+{_key_id_hex(self.key_id)}: no signature bytes "
                "after the key ID (at least 5 bytes in all)"
            )

    @property
    def key(self) -> str:
        """``name+hexid``, how errors and logs name the signing key."""
        return f"{self.name}+{_key_id_hex(self.key_id)}"

    @classmethod
    def from_line(cls, line: str) -> NoteSignature:
        """Parse ``— <name> <base64>``, without the line's final newline."""
        if not line.startswith(_EM_DASH_PREFIX):
            raise MalformedError(
                "signature line does not start with an em dash (U+2014) and a space"
            )
        name, sep, b64 = line[len(_EM_DASH_PREFIX) :].partition(" ")
        if not sep:
            raise MalformedError(f"signature line for {name!r}: no space before the signature")
        check_key_name(name, "signature key name")
        raw = decode_base64(b64, f"signature by {name}")
        if len(raw) <= _KEY_ID_SIZE:
            raise MalformedError(
                f"signature by {name}: {len(raw)} bytes, expected at least "
                f"{_KEY_ID_SIZE + 1} (4-byte key ID and the signature)"
            )
        return cls(name, int.from_bytes(raw[:_KEY_ID_SIZE], "big"), raw[_KEY_ID_SIZE:])

    def to_line(self) -> str:
        """``— <name> <base64>``, without a final newline."""
        raw = self.key_id.to_bytes(_KEY_ID_SIZE, "big") + self.signature
        return f"{_EM_DASH_PREFIX}{self.name} {encode_base64(raw)}"


def check_note_text(text: str) -> None:
    """Raise :class:`MalformedError` unless ``text`` can be the text of a note."""
    if not text.endswith("\n"):
        raise MalformedError("note text does not end in a newline")
    if not text.strip("\n"):
        raise MalformedError("note text is empty (only newlines)")
    bad = _FORBIDDEN_CONTROL.search(text) or _SURROGATE.search(text)
    if bad:
        raise MalformedError(
            f"note text: character U+{ord(bad.group()):04X} at character {bad.start()} "
            "is a control character or a surrogate"
        )


@dataclass(frozen=True)
class Note:
    """A parsed signed note: its text and signature lines, nothing verified yet."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def __post_init__(self) -> None:
        check_note_text(self.text)
        if not self.signatures:
            raise MalformedError("note has no signature lines")
        if len(self.signatures) > MAX_SIGNATURES:
            raise MalformedError(
                f"note has {len(self.signatures)} signatures, at most {MAX_SIGNATURES} accepted"
            )
        first_line: dict[tuple[str, int], int] = {}
        for i, sig in enumerate(self.signatures, start=1):
            seen = first_line.setdefault((sig.name, sig.key_id), i)
            if seen != i:
                raise MalformedError(
                    f"note: signature lines {seen} and {i} are both by key {sig.key}; "
                    "a key signs a note once"
                )

    @classmethod
    def from_bytes(cls, message: bytes) -> Note:
        try:
            decoded = message.decode("utf-8")
        except UnicodeDecodeError as e:
            raise MalformedError(f"note: not valid UTF-8 at byte {e.start}") from e
        bad = _FORBIDDEN_CONTROL.search(decoded)
        if bad:
            raise MalformedError(
                f"note: control character U+{ord(bad.group()):04X} at character {bad.start()}"
            )
        # The text may itself hold blank lines; signature lines never do, so
        # the last blank line is the separator.
        split = decoded.rfind("\n\n")
        if split < 0:
            raise MalformedError("note: no blank line before a signature block")
        text, block = decoded[: split + 1], decoded[split + 2 :]
        if not block:
            raise MalformedError("note: no signature lines after the last blank line")
        if not block.endswith("\n"):
            raise MalformedError("note: signature block does not end in a newline")
        lines = block[:-1].split("\n")
        # Count before parsing so a flood of lines costs no base64 work.
        if len(lines) > MAX_SIGNATURES:
            raise MalformedError(
                f"note has {len(lines)} signature lines, at most {MAX_SIGNATURES} accepted"
            )
        signatures = []
        for number, line in enumerate(lines, start=1):
            try:
                signatures.append(NoteSignature.from_line(line))
            except MalformedError as e:
                raise MalformedError(f"note: signature line {number}: {e}") from e
        return cls(text, tuple(signatures))

    def to_bytes(self) -> bytes:
        lines = "".join(sig.to_line() + "\n" for sig in self.signatures)
        return (self.text + "\n" + lines).encode("utf-8")

    def add_signatures(self, signatures: Iterable[NoteSignature]) -> Note:
        """This note with ``signatures`` appended.

        An existing signature by the same key (name and key ID) is dropped, so
        a witness that cosigns again replaces its older cosignature, as
        golang.org/x/mod's ``note.Sign`` replaces a re-signing key's line.
        """
        new = tuple(signatures)
        replaced = {(sig.name, sig.key_id) for sig in new}
        kept = tuple(s for s in self.signatures if (s.name, s.key_id) not in replaced)
        return Note(self.text, kept + new)


@dataclass(frozen=True)
class VerifiedSignature:
    """A signature line together with the known key that verified it."""

    signature: NoteSignature
    verifier: Verifier


@dataclass(frozen=True)
class OpenedNote:
    """A note whose known signatures all verified, at least one of them."""

    note: Note
    verified: tuple[VerifiedSignature, ...]
    unverified: tuple[NoteSignature, ...]

    @property
    def text(self) -> str:
        return self.note.text

    @property
    def verifiers(self) -> tuple[Verifier, ...]:
        """The known keys that signed, in signature-line order."""
        return tuple(v.verifier for v in self.verified)

    def is_signed_by(self, verifier: Verifier) -> bool:
        """Whether ``verifier`` (this very key, not just its name and ID) signed."""
        return any(v.verifier is verifier or v.verifier == verifier for v in self.verified)


def _index_verifiers(verifiers: Iterable[Verifier]) -> dict[tuple[str, int], Verifier]:
    index: dict[tuple[str, int], Verifier] = {}
    for v in verifiers:
        slot = (v.name, v.key_id)
        known = index.setdefault(slot, v)
        if known is not v and known != v:
            raise MalformedError(
                f"verifiers: two different keys share the name {v.name!r} and key ID "
                f"{_key_id_hex(v.key_id)}"
            )
    return index


def _few(keys: list[str], limit: int = 5) -> str:
    # A hostile note may carry 100 long names; an error message needs a few.
    shown = ", ".join(keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def open_note(message: bytes, verifiers: Iterable[Verifier]) -> OpenedNote:
    """Parse a signed note and check it against known keys.

    Signatures by unknown keys (no verifier with that name *and* key ID) are
    kept in ``unverified`` and otherwise ignored.  Every signature by a known
    key must verify, and at least one must be present; otherwise
    :class:`VerificationError`.  Syntax errors raise :class:`MalformedError`.
    """
    note = Note.from_bytes(message)
    index = _index_verifiers(verifiers)
    text = note.text.encode("utf-8")
    verified: list[VerifiedSignature] = []
    unverified: list[NoteSignature] = []
    for sig in note.signatures:
        verifier = index.get((sig.name, sig.key_id))
        if verifier is None:
            unverified.append(sig)
            continue
        try:
            verifier.verify(text, sig.signature)
        except VerificationError as e:
            raise VerificationError(
                f"note: signature by known key {sig.key} is invalid: {e}"
            ) from e
        verified.append(VerifiedSignature(sig, verifier))
    if not verified:
        found = _few([s.key for s in unverified])
        known = _few([f"{n}+{_key_id_hex(k)}" for n, k in index]) or "none"
        raise VerificationError(
            f"note: no signature by a known key (signed by {found}; known keys: {known})"
        )
    return OpenedNote(note, tuple(verified), tuple(unverified))


def sign_note(text: str, signers: Sequence[Signer]) -> bytes:
    """Sign ``text`` with each signer, in order, and return the encoded note."""
    check_note_text(text)
    data = text.encode("utf-8")
    signatures = tuple(NoteSignature(s.name, s.key_id, s.sign(data)) for s in signers)
    return Note(text, signatures).to_bytes()
