"""The bundle format: strict parsing, round trips, merging (verifiable.log.bundle)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.verifiable.pool.bundle_pool import pool
from verifiable.errors import MalformedError
from verifiable.log.bundle import MAX_BUNDLE_BYTES, merge_bundles, parse_bundle


def _json() -> dict[str, Any]:
    return json.loads(pool().deduction().to_bytes())


def test_round_trip() -> None:
    bundle = pool().deduction()
    assert parse_bundle(bundle.to_bytes()) == bundle
    assert parse_bundle(bundle.to_bytes()).to_bytes() == bundle.to_bytes()


def _set(path: tuple[object, ...], value: object) -> dict[str, Any]:
    obj = _json()
    target: Any = obj
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return obj


def _drop(path: tuple[object, ...]) -> dict[str, Any]:
    obj = _json()
    target: Any = obj
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return obj


BAD = [
    ("type", _set(("type",), "mutualog.bundle/v2"), "bundle.type"),
    ("extra field", _set(("extra",), 1), "unknown field 'extra'"),
    ("missing field", _drop(("claims",)), "missing field 'claims'"),
    ("entries not a list", _set(("entries",), {}), "bundle.entries: expected a list"),
    ("negative index", _set(("entries", 0, "index"), -1), r"entries\[0\]\.index"),
    ("bool index", _set(("entries", 0, "index"), True), r"entries\[0\]\.index"),
    ("float index", _set(("entries", 0, "index"), 1.0), r"entries\[0\]\.index"),
    ("unsorted entries", _set(("entries", 1, "index"), 0), r"entries\[1\]: not sorted"),
    ("bad base64", _set(("entries", 0, "entry"), "!!!!"), "not base64"),
    ("non-canonical base64", _set(("entries", 0, "entry"), "eyJ="), "canonical base64"),
    ("empty entry", _set(("entries", 0, "entry"), ""), "bytes, expected 1"),
    ("upper-case hex", _set(("entries", 0, "proof", 0), "A" * 64), "lowercase hex"),
    ("short hash", _set(("entries", 0, "proof", 0), "ab"), "lowercase hex"),
    ("long proof", _set(("entries", 0, "proof"), ["00" * 32] * 65), "at most 64"),
    ("seed size 0", _set(("consistency",), [{"size": 0, "proof": []}]), r"consistency\[0\]"),
    ("bad member", _set(("deduction", "member"), "XYZ"), "deduction.member"),
    ("bad period", _set(("deduction", "period"), "2024-02-30"), "not a calendar date"),
    ("paid amount 0", _set(("deduction", "paid", 0, 1), 0), r"paid\[0\]\[1\]"),
    ("paid pair", _set(("deduction", "paid", 0), ["a"]), r"paid\[0\]"),
    ("claims unsorted", _set(("claims",), ["b" * 32, "a" * 32]), r"claims\[1\]"),
    ("checkpoint empty", _set(("checkpoint",), ""), "bundle.checkpoint"),
    (
        "juror pool date",
        _set(("jurors",), [{"pool": "x", "index": 0, "member": "a" * 32, "proof": []}]),
        r"jurors\[0\]\.pool",
    ),
]


@pytest.mark.parametrize(("obj", "match"), [(o, m) for _, o, m in BAD], ids=[i for i, _, _ in BAD])
def test_refuses(obj: dict[str, Any], match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        parse_bundle(json.dumps(obj).encode())


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"\xff", "not JSON"),
        (b"[]", "expected an object"),
        (b'{"a": NaN}', "not a JSON number"),
        (b"[" * 100_000, "not JSON"),
        (b" " * (MAX_BUNDLE_BYTES + 1), "at most"),
        (b'{"type": ' + b"1" * 5000 + b"}", "not JSON"),
        (
            b'{"type": "mutualog.bundle/v1", "checkpoint": "\\ud800", "entries": [], '
            b'"consistency": [], "jurors": [], "deduction": null, "claims": []}',
            "lone surrogate",
        ),
    ],
    ids=["not utf-8", "a list", "NaN", "deep nesting", "too big", "huge integer", "surrogate"],
)
def test_refuses_bytes(data: bytes, match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        parse_bundle(data)


def test_entry_bytes_are_exact() -> None:
    bundle = pool().deduction()
    first = bundle.entries[0]
    assert base64.b64decode(_json()["entries"][0]["entry"]) == first.data == pool().entries[0]


def test_merge() -> None:
    p = pool()
    deduction = p.deduction(sample=0)
    claim = next(iter(p.index.claims))
    merged = merge_bundles(deduction, p.claim(claim))
    assert merged.claims == (claim,)
    assert merged.deduction == deduction.deduction
    indices = [e.index for e in merged.entries]
    assert indices == sorted(set(indices))
    assert set(indices) >= {e.index for e in deduction.entries}
    assert parse_bundle(merged.to_bytes()) == merged


def test_merge_refuses_other_checkpoints() -> None:
    p = pool()
    other = parse_bundle(json.dumps(_set(("checkpoint",), "x\n")).encode())
    with pytest.raises(MalformedError, match="different checkpoints"):
        merge_bundles(p.deduction(), other)
