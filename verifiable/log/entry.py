"""The log entry envelope (format v1), its canonical encoding and its hash chain.

An entry is a UTF-8 JSON object in RFC 8785 (JSON Canonicalization Scheme)
canonical form, at most 65,535 bytes (entry bundles frame entries with a
16-bit length), with exactly the members ``v``, ``seq``, ``prev``, ``time``,
``type`` and ``body``.  ``prev`` is the RFC 9162 §2.1.1 leaf hash
``SHA-256(0x00 || entry)`` of entry ``seq - 1`` (32 zero bytes for entry 0), so
the entries form a hash chain as well as the leaves of the Merkle tree: replay
can check order and completeness one entry at a time with constant memory.

Decoding is strict: the bytes are parsed, re-encoded with ``rfc8785`` and must
come back identical, so every entry has exactly one encoding and
``Entry.to_bytes()`` returns the very bytes that were hashed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, NoReturn

import rfc8785

from verifiable.errors import MalformedError, VerificationError
from verifiable.log.bodies import BODY_TYPES, Body, parse_body
from verifiable.log.fields import (
    MAX_SAFE_INT,
    JSONValue,
    describe,
    format_time,
    read_hash,
    read_int,
    read_object,
    read_time,
)
from verifiable.log.merkle import leaf_hash

__all__ = [
    "FORMAT_VERSION",
    "GENESIS_PREV",
    "MAX_ENTRY_SIZE",
    "ChainHead",
    "ChainVerifier",
    "Entry",
    "check_chain",
    "entry_leaf_hash",
    "load_strict_json",
    "make_entry",
    "parse_entry",
]

FORMAT_VERSION = 1
MAX_ENTRY_SIZE = 65_535
GENESIS_PREV = bytes(32)
"""The ``prev`` of entry 0."""

_ENVELOPE = ("v", "seq", "prev", "time", "type", "body")

_dumps = json.JSONEncoder(
    ensure_ascii=False, check_circular=False, allow_nan=False, sort_keys=True, separators=(",", ":")
).encode


@dataclass(frozen=True)
class Entry:
    """One decoded log entry.  Build with :func:`parse_entry` or
    :func:`make_entry`, which check every field; ``prev`` is the raw 32-byte
    leaf hash and ``time`` an aware UTC ``datetime`` in whole seconds."""

    v: int
    seq: int
    prev: bytes
    time: datetime
    type: str
    body: Body

    def to_json(self) -> dict[str, JSONValue]:
        """The entry as plain JSON values."""
        return {
            "v": self.v,
            "seq": self.seq,
            "prev": self.prev.hex(),
            "time": format_time(self.time),
            "type": self.type,
            "body": self.body.to_json(),
        }

    def to_bytes(self) -> bytes:
        """The RFC 8785 canonical encoding: the bytes the log stores and hashes."""
        return self._canonical

    # Computed once: the sequencer, the store and the tree all need the bytes,
    # and an entry is immutable.  (cached_property writes the instance dict
    # directly, so it works on a frozen dataclass.)
    @cached_property
    def _canonical(self) -> bytes:
        return _encode(self.to_json(), f"entry {self.seq}")

    def leaf_hash(self) -> bytes:
        """The RFC 9162 leaf hash of this entry, the next entry's ``prev``."""
        return leaf_hash(self.to_bytes())


def entry_leaf_hash(entry_bytes: bytes) -> bytes:
    """``SHA-256(0x00 || entry_bytes)``: the Merkle leaf and the chain link."""
    return leaf_hash(entry_bytes)


def _plain(obj: object) -> bool:
    """Whether ``obj`` is JSON that :func:`json.dumps` encodes exactly as RFC 8785:
    strings, integers in the safe range, booleans, ``None``, lists, and
    objects with ASCII string keys (no floats, no subclasses, no tuples).

    On these the two agree byte for byte: the same escapes (``\\"``,
    ``\\\\``, ``\\b\\f\\n\\r\\t``, other controls as lowercase ``\\u00xx``,
    everything else as UTF-8), plain decimal integers, and keys sorted by
    code point, which is UTF-16 order for ASCII.  Anything else takes the
    ``rfc8785`` path, which the tests use as the oracle.
    """
    t = type(obj)
    if t is str or t is bool or obj is None:
        return True
    if t is int:
        return -MAX_SAFE_INT <= obj <= MAX_SAFE_INT  # type: ignore[operator]
    if t is dict:
        for k, v in obj.items():  # type: ignore[attr-defined]
            if type(k) is not str or not k.isascii() or (type(v) is not str and not _plain(v)):
                return False
        return True
    if t is list:
        return all(type(v) is str or _plain(v) for v in obj)  # type: ignore[attr-defined]
    return False


def _encode(obj: JSONValue, label: str) -> bytes:
    """RFC 8785 canonical bytes of ``obj``, or :class:`MalformedError`."""
    if _plain(obj):
        # C encoder: a quarter of rfc8785's time.  A lone surrogate in a
        # string fails the UTF-8 encode and falls through to rfc8785, which
        # reports it.
        try:
            return _dumps(obj).encode("utf-8")
        except UnicodeEncodeError:
            pass
    try:
        return rfc8785.dumps(obj)
    except rfc8785.IntegerDomainError as e:
        raise MalformedError(
            f"{label}: integer outside the JSON safe range ±{MAX_SAFE_INT}: {e}"
        ) from e
    except rfc8785.CanonicalizationError as e:
        # Lone surrogates ("\ud800"), non-string keys, unsupported types.
        raise MalformedError(f"{label}: cannot be encoded as RFC 8785 JSON: {e}") from e


def _no_float(literal: str) -> NoReturn:
    shown = literal if len(literal) <= 40 else literal[:40] + "…"
    raise MalformedError(
        f"number {shown} has a fraction or exponent: floats are not allowed in entries"
    )


def _no_constant(literal: str) -> NoReturn:
    raise MalformedError(f"{literal} is not JSON and floats are not allowed in entries")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise MalformedError(f"duplicate key {json.dumps(key)}")
        obj[key] = value
    return obj


def load_strict_json(data: bytes, label: str) -> JSONValue:
    """Decode UTF-8 JSON the way the log reads it: no duplicate keys at any
    depth, no fractions or exponents, no NaN or Infinity.  Anything else is a
    :class:`MalformedError` that starts with ``label``."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise MalformedError(f"{label}: not UTF-8: invalid byte at offset {e.start}") from e
    try:
        value: JSONValue = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_float=_no_float,
            parse_constant=_no_constant,
        )
    except MalformedError as e:
        raise MalformedError(f"{label}: {e}") from e
    except json.JSONDecodeError as e:
        raise MalformedError(f"{label}: not JSON: {e}") from e
    except RecursionError as e:
        raise MalformedError(f"{label}: not JSON: nested too deeply") from e
    except ValueError as e:
        # int() refuses literals of more than 4300 digits.
        raise MalformedError(f"{label}: not JSON: {e}") from e
    return value


def _decode_canonical(data: bytes, label: str) -> object:
    """Decode RFC 8785 JSON, refusing anything with another encoding."""
    obj = load_strict_json(data, label)
    canonical = _encode(obj, label)
    if canonical != data:
        at = next(
            (i for i, (a, b) in enumerate(zip(canonical, data, strict=False)) if a != b),
            min(len(canonical), len(data)),
        )
        raise MalformedError(
            f"{label}: not in RFC 8785 canonical form: first difference at byte {at}, "
            f"expected {canonical[at : at + 16]!r}, got {data[at : at + 16]!r}"
        )
    return obj


def parse_entry(data: bytes, *, seq: int | None = None, prev: bytes | None = None) -> Entry:
    """Decode and check one entry.

    With ``seq`` and ``prev`` (the leaf hash of the previous entry), also
    check its place in the chain.  Raises :class:`MalformedError` for bytes
    that are not a v1 entry in canonical form and :class:`VerificationError`
    for an entry at the wrong place.
    """
    label = "entry" if seq is None else f"entry {seq}"
    if len(data) > MAX_ENTRY_SIZE:
        raise MalformedError(f"{label}: {len(data)} bytes, more than the {MAX_ENTRY_SIZE} allowed")
    obj = _decode_canonical(data, label)
    fields = read_object(obj, label, _ENVELOPE)
    version = read_int(fields["v"], f"{label}: v")
    if version != FORMAT_VERSION:
        raise MalformedError(f"{label}: v: unsupported format version {version}, expected 1")
    got_seq = read_int(fields["seq"], f"{label}: seq")
    label = f"entry {got_seq}"
    got_prev = read_hash(fields["prev"], f"{label}: prev")
    time = read_time(fields["time"], f"{label}: time")
    type_ = fields["type"]
    if not isinstance(type_, str) or type_ not in BODY_TYPES:
        known = ", ".join(sorted(BODY_TYPES))
        raise MalformedError(f"{label}: type: expected one of {known}, got {describe(type_)}")
    body = parse_body(type_, fields["body"], f"{label}: body")
    entry = Entry(v=version, seq=got_seq, prev=got_prev, time=time, type=type_, body=body)
    _check_place(entry, seq, prev)
    return entry


def _check_place(entry: Entry, seq: int | None, prev: bytes | None) -> None:
    label = f"entry {entry.seq}"
    if seq is not None and entry.seq != seq:
        raise VerificationError(f"{label}: seq: expected {seq}, got {entry.seq}")
    if entry.seq == 0 and entry.prev != GENESIS_PREV:
        raise VerificationError(
            f"{label}: prev: the first entry links to {GENESIS_PREV.hex()}, got {entry.prev.hex()}"
        )
    if prev is not None and entry.prev != prev:
        raise VerificationError(
            f"{label}: prev: chain broken, expected leaf hash {prev.hex()} of entry "
            f"{entry.seq - 1}, got {entry.prev.hex()}"
        )


def make_entry(seq: int, prev: bytes, time: datetime, type: str, body: Body) -> Entry:
    """Build the next entry for the sequencer.

    ``time`` must be an aware UTC ``datetime`` in whole seconds (the sequencer
    truncates its clock: ``now.replace(microsecond=0)``).  The body is read
    back through its strict codecs and the entry encoded once, so whatever
    this returns, every reader accepts.
    """
    read_int(seq, f"entry {seq}: seq")
    if BODY_TYPES.get(type) is not body.__class__:
        raise MalformedError(
            f"entry {seq}: type {type!r} does not match body {body.__class__.__name__}"
        )
    if len(prev) != 32:
        raise MalformedError(f"entry {seq}: prev: expected 32 bytes, got {len(prev)}")
    if time.utcoffset() != timedelta(0) or time.microsecond:
        raise MalformedError(
            f"entry {seq}: time: expected UTC in whole seconds, got {time.isoformat()}"
        )
    draft = Entry(v=FORMAT_VERSION, seq=seq, prev=prev, time=time, type=type, body=body)
    # A body built in code bypassed from_json: read its JSON back through the
    # strict codecs, so nothing reaches the log that a reader would refuse.
    where = f"entry {seq}: body"
    body_json = body.to_json()
    if parse_body(type, body_json, where) != body:
        raise MalformedError(f"{where}: does not survive a round trip through its JSON form")
    # The envelope as Entry.to_json builds it, reusing the body's JSON: the
    # bytes are encoded once, here, and cached for to_bytes.
    data = _encode(
        {
            "v": FORMAT_VERSION,
            "seq": seq,
            "prev": prev.hex(),
            "time": format_time(time),
            "type": type,
            "body": body_json,
        },
        f"entry {seq}",
    )
    draft.__dict__["_canonical"] = data
    if len(data) > MAX_ENTRY_SIZE:
        raise MalformedError(
            f"entry {seq}: {len(data)} bytes, more than the {MAX_ENTRY_SIZE} allowed"
        )
    _check_place(draft, seq, prev)
    return draft


@dataclass(frozen=True)
class ChainHead:
    """Where a chain ends: ``size`` entries, the last with leaf hash ``head``
    (``GENESIS_PREV`` for an empty log)."""

    size: int
    head: bytes


class ChainVerifier:
    """Checks entries one at a time, in order, holding only the chain head.

    Start at 0 for a whole log, or at a trusted ``ChainHead`` to continue
    from an earlier audit.
    """

    def __init__(self, start: ChainHead | None = None) -> None:
        start = start or ChainHead(0, GENESIS_PREV)
        if start.size < 0 or len(start.head) != 32:
            raise MalformedError(
                f"chain start: expected size >= 0 and a 32-byte head, "
                f"got size {start.size} and {len(start.head)} bytes"
            )
        if start.size == 0 and start.head != GENESIS_PREV:
            raise VerificationError(
                f"chain start: an empty log's head is {GENESIS_PREV.hex()}, got {start.head.hex()}"
            )
        self._size = start.size
        self._head = start.head

    @property
    def state(self) -> ChainHead:
        """The entries checked so far and the leaf hash of the last."""
        return ChainHead(self._size, self._head)

    def feed(self, data: bytes) -> Entry:
        """Check the next entry and advance; the state is unchanged on error."""
        entry = parse_entry(data, seq=self._size, prev=self._head)
        self._head = leaf_hash(data)
        self._size += 1
        return entry


def check_chain(entries: Iterable[bytes], start: ChainHead | None = None) -> ChainHead:
    """Check a run of entries (from the beginning, or after ``start``) and
    return where the chain ends."""
    verifier = ChainVerifier(start)
    for data in entries:
        verifier.feed(data)
    return verifier.state
