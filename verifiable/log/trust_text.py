"""What to trust, as a text an auditor publishes: a log and its witness policy.

A member's phone or a client pins a log by its origin and verifier key and,
to be safe from a log that shows each member its own view, by K of N
witnesses that must cosign every checkpoint.  The client keeps that in
``trust.json``; this is the same in a small text, short enough for a QR
code, that an auditor prints (``mutualog export-trust``), the pool's public
log page shows, and the verifier page reads when it is pasted or scanned::

    mutualog trust v1
    origin <the log's origin line>
    log <the log's verifier key>
    witness <a witness's cosignature verifier key>      (0 or more)
    required <K>

The first line names the format and its version; a text of another version
is refused, not guessed at.  Every line is ``<word> <value>``, in this order,
separated by LF, the last one optionally followed by one LF (a phone's
text field or a QR code may drop it).  Nothing else is accepted: no blank
line, no CR, no comment, no word twice except ``witness``, no space around a
value.  Keys are read as :mod:`verifiable.log.note` reads them, weak keys
refused; the log's key has the note type (0x01), a witness's the
cosignature type (0x04), and no two witnesses share a name.  ``required``
is a decimal of ASCII digits without a leading zero, at most the number of
witnesses: 0 pins no witness policy at all (the checks then say so).

So that one policy has one text, :meth:`TrustText.to_text` writes exactly
what :meth:`TrustText.from_text` accepts, with the final LF.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from verifiable.errors import MalformedError
from verifiable.log.cosignature import CosignatureVerifier
from verifiable.log.note import MAX_SIGNATURES, Ed25519Verifier

__all__ = ["HEADER", "MAX_WITNESSES", "TrustText"]

HEADER = "mutualog trust v1"
"""The first line: the format and its version."""

MAX_WITNESSES = MAX_SIGNATURES - 1
"""Most witnesses a text may name: a note carries at most
:data:`~verifiable.log.note.MAX_SIGNATURES` lines, the log's among them."""

_UNENCODABLE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,8}")


def _check_origin(origin: str) -> None:
    if not origin:
        raise MalformedError("trust text: origin is empty")
    bad = _UNENCODABLE.search(origin)
    if bad:
        raise MalformedError(
            f"trust text: origin contains control character or surrogate "
            f"U+{ord(bad.group()):04X} at character {bad.start()}"
        )
    if origin[0] == " " or origin[-1] == " ":
        raise MalformedError("trust text: origin begins or ends with a space")


@dataclass(frozen=True)
class TrustText:
    """A log (``origin``, ``log_key``) and its witness policy: ``required``
    of ``witnesses`` (cosignature verifier key strings) must cosign."""

    origin: str
    log_key: str
    witnesses: tuple[str, ...] = ()
    required: int = 0

    def __post_init__(self) -> None:
        _check_origin(self.origin)
        Ed25519Verifier.from_vkey(self.log_key)
        if len(self.witnesses) > MAX_WITNESSES:
            raise MalformedError(
                f"trust text: {len(self.witnesses)} witnesses, at most {MAX_WITNESSES}"
            )
        names = [CosignatureVerifier.from_vkey(w).name for w in self.witnesses]
        if len(set(names)) != len(names):
            raise MalformedError(f"trust text: a witness name appears twice in {names}")
        if isinstance(self.required, bool) or not isinstance(self.required, int):
            raise MalformedError(f"trust text: required {self.required!r} is not an integer")
        if not 0 <= self.required <= len(self.witnesses):
            raise MalformedError(
                f"trust text: {self.required} witnesses required, "
                f"but {len(self.witnesses)} are named"
            )

    @property
    def log_name(self) -> str:
        """The log key's name (a pool's log names its key after its origin)."""
        return Ed25519Verifier.from_vkey(self.log_key).name

    @classmethod
    def from_text(cls, text: str) -> TrustText:
        """Read a trust text, or raise :class:`MalformedError` saying which
        line is off and how."""
        body = text[:-1] if text.endswith("\n") else text
        lines = body.split("\n")
        if lines[0] != HEADER:
            raise MalformedError(f"trust text: line 1 is {lines[0]!r:.60}, expected {HEADER!r}")
        if len(lines) < 4:
            raise MalformedError(
                f"trust text: {len(lines)} lines, expected at least 4 "
                "(header, origin, log, required)"
            )
        if len(lines) > 4 + MAX_WITNESSES:
            raise MalformedError(f"trust text: {len(lines)} lines, at most {4 + MAX_WITNESSES}")
        origin = _value(lines, 1, "origin")
        log_key = _value(lines, 2, "log")
        witnesses = tuple(_value(lines, i, "witness") for i in range(3, len(lines) - 1))
        required_text = _value(lines, len(lines) - 1, "required")
        if not _DECIMAL.fullmatch(required_text):
            raise MalformedError(
                f"trust text: line {len(lines)}: required {required_text!r:.30} is not "
                "a decimal number without leading zeros"
            )
        return cls(origin, log_key, witnesses, int(required_text))

    def to_text(self) -> str:
        lines = [HEADER, f"origin {self.origin}", f"log {self.log_key}"]
        lines += [f"witness {w}" for w in self.witnesses]
        lines.append(f"required {self.required}")
        return "\n".join(lines) + "\n"


def _value(lines: list[str], index: int, word: str) -> str:
    """The value of line ``index`` (from 0), which must be ``<word> <value>``."""
    line = lines[index]
    found, space, value = line.partition(" ")
    if found != word or not space:
        raise MalformedError(
            f"trust text: line {index + 1} is {line!r:.60}, expected '{word} <value>'"
        )
    if "\r" in value:
        raise MalformedError(f"trust text: line {index + 1} has a carriage return")
    return value
