"""Verification bundles: everything one check needs, fetched once, proven offline.

A bundle (``mutualog.bundle/v1``, docs/client.md, "Bundles") is untrusted
data.  Everything in it is proven against the signed checkpoint it carries,
which the client in turn compares with the checkpoint it synced:

* ``entries``: log entries (their exact bytes, base64) at their indices,
  each with its RFC 9162 §2.1.3 inclusion proof in the checkpoint's tree;
* ``consistency``: for each panel seed, an RFC 9162 §2.1.4 consistency proof
  from the seed's tree size to the checkpoint's, which proves the seed is the
  log's root at that size;
* ``jurors``: juror-pool leaves (docs/format.md, section 5) with their
  inclusion proofs in the pool committed by a ``jury.pool`` entry, at the
  indices a panel draw visits;
* ``deduction`` (a member's period): the member's roster inclusion proof and
  the period's full list of paid claims;
* ``claims``: the claims whose whole history the bundle holds.

Parsing here is strict (exact keys, canonical hex and base64, sorted and
distinct items, size caps) and raises :class:`MalformedError`; whether the
contents prove anything is :mod:`verifiable.pool.proven`'s question.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from verifiable.errors import MalformedError
from verifiable.log.fields import format_date

__all__ = [
    "BUNDLE_TYPE",
    "MAX_BUNDLE_BYTES",
    "MAX_BUNDLE_ENTRIES",
    "Bundle",
    "BundleEntry",
    "Deduction",
    "JurorLeaf",
    "SeedProof",
    "merge_bundles",
    "parse_bundle",
]

BUNDLE_TYPE = "mutualog.bundle/v1"
MAX_BUNDLE_BYTES = 32 << 20
"""A bundle for a period of 3,000 claims is about 0.5 MB; this bounds a hostile one."""
MAX_BUNDLE_ENTRIES = 100_000
MAX_PAID = 1_000_000
MAX_JURORS = 100_000
MAX_CLAIMS = 1_000
MAX_PROOF = 64
MAX_ENTRY_BYTES = 65_535
_MAX_INT = (1 << 63) - 1

_ID = re.compile(r"[0-9a-f]{32}")
_HASH = re.compile(r"[0-9a-f]{64}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class BundleEntry:
    """A log entry's bytes at ``index`` and its inclusion proof."""

    index: int
    data: bytes
    proof: tuple[bytes, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "index": self.index,
            "entry": base64.b64encode(self.data).decode("ascii"),
            "proof": [h.hex() for h in self.proof],
        }


@dataclass(frozen=True)
class SeedProof:
    """A consistency proof from the tree of ``size`` leaves to the checkpoint's."""

    size: int
    proof: tuple[bytes, ...]

    def to_json(self) -> dict[str, object]:
        return {"size": self.size, "proof": [h.hex() for h in self.proof]}


@dataclass(frozen=True)
class JurorLeaf:
    """Juror ``member`` at ``index`` of the juror pool of ``pool`` (a period)."""

    pool: date
    index: int
    member: str
    proof: tuple[bytes, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "pool": format_date(self.pool),
            "index": self.index,
            "member": self.member,
            "proof": [h.hex() for h in self.proof],
        }


@dataclass(frozen=True)
class Deduction:
    """A member's period: the roster proof and the period's paid claims."""

    member: str
    period: date
    roster_index: int
    roster_proof: tuple[bytes, ...]
    paid: tuple[tuple[str, int], ...]

    def to_json(self) -> dict[str, object]:
        return {
            "member": self.member,
            "period": format_date(self.period),
            "roster_index": self.roster_index,
            "roster_proof": [h.hex() for h in self.roster_proof],
            "paid": [[claim, amount] for claim, amount in self.paid],
        }


@dataclass(frozen=True)
class Bundle:
    """A parsed bundle; every list sorted and distinct by its key."""

    checkpoint: bytes
    entries: tuple[BundleEntry, ...]
    consistency: tuple[SeedProof, ...] = ()
    jurors: tuple[JurorLeaf, ...] = ()
    deduction: Deduction | None = None
    claims: tuple[str, ...] = ()
    _by_index: dict[int, BundleEntry] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self._by_index.update((e.index, e) for e in self.entries)

    def entry(self, index: int) -> BundleEntry | None:
        """The bundled entry at ``index``, if any."""
        return self._by_index.get(index)

    def to_json(self) -> dict[str, object]:
        return {
            "type": BUNDLE_TYPE,
            "checkpoint": self.checkpoint.decode("utf-8"),
            "entries": [e.to_json() for e in self.entries],
            "consistency": [p.to_json() for p in self.consistency],
            "jurors": [j.to_json() for j in self.jurors],
            "deduction": self.deduction.to_json() if self.deduction else None,
            "claims": list(self.claims),
        }

    def to_bytes(self) -> bytes:
        """Compact JSON with sorted keys; :func:`parse_bundle` reads it back."""
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":")).encode("utf-8")


# -- parsing --------------------------------------------------------------


def _keys(obj: object, keys: tuple[str, ...], where: str) -> Mapping[str, Any]:
    if not isinstance(obj, dict):
        raise MalformedError(f"{where}: expected an object, got {type(obj).__name__}")
    missing = [k for k in keys if k not in obj]
    if missing:
        raise MalformedError(f"{where}: missing field {missing[0]!r}")
    extra = sorted(k for k in obj if k not in keys)
    if extra:
        raise MalformedError(f"{where}: unknown field {extra[0]!r}")
    return obj


def _int(value: object, where: str, low: int = 0, high: int = _MAX_INT) -> int:
    if type(value) is not int or not low <= value <= high:
        raise MalformedError(f"{where}: expected an integer in [{low}, {high}], got {value!r}")
    return value


def _list(value: object, where: str, cap: int) -> list[Any]:
    if not isinstance(value, list):
        raise MalformedError(f"{where}: expected a list, got {type(value).__name__}")
    if len(value) > cap:
        raise MalformedError(f"{where}: {len(value)} items, at most {cap} allowed")
    return value


def _hash(value: object, where: str) -> bytes:
    if not isinstance(value, str) or not _HASH.fullmatch(value):
        raise MalformedError(f"{where}: expected 64 lowercase hex digits, got {value!r:.80}")
    return bytes.fromhex(value)


def _proof(value: object, where: str) -> tuple[bytes, ...]:
    items = _list(value, where, MAX_PROOF)
    return tuple(_hash(h, f"{where}[{i}]") for i, h in enumerate(items))


def _id(value: object, where: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise MalformedError(
            f"{where}: expected an id of 32 lowercase hex digits, got {value!r:.80}"
        )
    return value


def _date(value: object, where: str) -> date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise MalformedError(f"{where}: expected a date YYYY-MM-DD, got {value!r:.40}")
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise MalformedError(f"{where}: {value!r} is not a calendar date") from e


def _increasing(keys: Sequence[object], where: str) -> None:
    for i in range(1, len(keys)):
        if not keys[i - 1] < keys[i]:  # type: ignore[operator]
            raise MalformedError(f"{where}[{i}]: not sorted after item {i - 1}, or a duplicate")


def _entry(obj: object, where: str) -> BundleEntry:
    o = _keys(obj, ("index", "entry", "proof"), where)
    text = o["entry"]
    if not isinstance(text, str):
        raise MalformedError(f"{where}.entry: expected base64 text")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise MalformedError(f"{where}.entry: not base64: {e}") from e
    if base64.b64encode(data).decode("ascii") != text:
        raise MalformedError(f"{where}.entry: not canonical base64")
    if not 0 < len(data) <= MAX_ENTRY_BYTES:
        raise MalformedError(f"{where}.entry: {len(data)} bytes, expected 1 to {MAX_ENTRY_BYTES}")
    return BundleEntry(
        _int(o["index"], f"{where}.index"), data, _proof(o["proof"], f"{where}.proof")
    )


def _deduction(obj: object, where: str) -> Deduction:
    o = _keys(obj, ("member", "period", "roster_index", "roster_proof", "paid"), where)
    paid: list[tuple[str, int]] = []
    for i, item in enumerate(_list(o["paid"], f"{where}.paid", MAX_PAID)):
        w = f"{where}.paid[{i}]"
        if not isinstance(item, list) or len(item) != 2:
            raise MalformedError(f"{w}: expected [claim id, amount in fen]")
        paid.append((_id(item[0], f"{w}[0]"), _int(item[1], f"{w}[1]", 1, (1 << 53) - 1)))
    return Deduction(
        member=_id(o["member"], f"{where}.member"),
        period=_date(o["period"], f"{where}.period"),
        roster_index=_int(o["roster_index"], f"{where}.roster_index"),
        roster_proof=_proof(o["roster_proof"], f"{where}.roster_proof"),
        paid=tuple(paid),
    )


def parse_bundle(data: bytes) -> Bundle:
    """Read a bundle, refusing anything off with :class:`MalformedError`."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise MalformedError(f"bundle: {len(data)} bytes, at most {MAX_BUNDLE_BYTES} allowed")
    try:
        obj = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, RecursionError) as e:
        raise MalformedError(f"bundle: not JSON: {e}") from e
    except ValueError as e:  # JSONDecodeError, or an integer of more than 4,300 digits
        raise MalformedError(f"bundle: not JSON: {e}"[:200]) from e
    keys = ("type", "checkpoint", "entries", "consistency", "jurors", "deduction", "claims")
    o = _keys(obj, keys, "bundle")
    if o["type"] != BUNDLE_TYPE:
        raise MalformedError(f"bundle.type: expected {BUNDLE_TYPE!r}, got {o['type']!r:.60}")
    if not isinstance(o["checkpoint"], str) or not o["checkpoint"]:
        raise MalformedError("bundle.checkpoint: expected the checkpoint note as text")
    try:  # JSON's \ud800 escapes decode to a lone surrogate, which no UTF-8 note holds
        o["checkpoint"].encode("utf-8")
    except UnicodeEncodeError as e:
        raise MalformedError("bundle.checkpoint: not text (a lone surrogate)") from e
    entries = [
        _entry(e, f"bundle.entries[{i}]")
        for i, e in enumerate(_list(o["entries"], "bundle.entries", MAX_BUNDLE_ENTRIES))
    ]
    _increasing([e.index for e in entries], "bundle.entries")
    seeds = []
    for i, p in enumerate(_list(o["consistency"], "bundle.consistency", MAX_BUNDLE_ENTRIES)):
        w = f"bundle.consistency[{i}]"
        p = _keys(p, ("size", "proof"), w)
        seeds.append(SeedProof(_int(p["size"], f"{w}.size", 1), _proof(p["proof"], f"{w}.proof")))
    _increasing([s.size for s in seeds], "bundle.consistency")
    jurors = []
    for i, j in enumerate(_list(o["jurors"], "bundle.jurors", MAX_JURORS)):
        w = f"bundle.jurors[{i}]"
        j = _keys(j, ("pool", "index", "member", "proof"), w)
        jurors.append(
            JurorLeaf(
                _date(j["pool"], f"{w}.pool"),
                _int(j["index"], f"{w}.index"),
                _id(j["member"], f"{w}.member"),
                _proof(j["proof"], f"{w}.proof"),
            )
        )
    _increasing([(j.pool, j.index) for j in jurors], "bundle.jurors")
    deduction = None if o["deduction"] is None else _deduction(o["deduction"], "bundle.deduction")
    claims = [
        _id(c, f"bundle.claims[{i}]")
        for i, c in enumerate(_list(o["claims"], "bundle.claims", MAX_CLAIMS))
    ]
    _increasing(claims, "bundle.claims")
    return Bundle(
        checkpoint=o["checkpoint"].encode("utf-8"),
        entries=tuple(entries),
        consistency=tuple(seeds),
        jurors=tuple(jurors),
        deduction=deduction,
        claims=tuple(claims),
    )


def _no_constant(literal: str) -> object:
    raise MalformedError(f"bundle: {literal} is not a JSON number")


def merge_bundles(base: Bundle, *others: Bundle) -> Bundle:
    """``base`` with the entries, proofs and claims of ``others`` added; all
    must be at the same checkpoint.  The result keeps ``base``'s deduction."""
    entries = {e.index: e for e in base.entries}
    seeds = {s.size: s for s in base.consistency}
    jurors = {(j.pool, j.index): j for j in base.jurors}
    claims = set(base.claims)
    for other in others:
        if other.checkpoint != base.checkpoint:
            raise MalformedError("bundles at different checkpoints cannot be merged")
        entries.update((e.index, e) for e in other.entries)
        seeds.update((s.size, s) for s in other.consistency)
        jurors.update(((j.pool, j.index), j) for j in other.jurors)
        claims.update(other.claims)
    return replace(
        base,
        entries=tuple(entries[i] for i in sorted(entries)),
        consistency=tuple(seeds[s] for s in sorted(seeds)),
        jurors=tuple(jurors[k] for k in sorted(jurors)),
        claims=tuple(sorted(claims)),
    )
