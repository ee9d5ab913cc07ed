"""Cases for the equivalence of the verifier's decoding layer (entry.js,
bundle.js, proven.js, receipt.js) with ``verifiable/``.

* :func:`honest_log`: a simulated pool whose rules name a witness for the
  draw (so panels carry a witnessed checkpoint), followed by entries made
  to hold what a simulation does not write (an erasure of each kind, a
  notice with its facts, a filing with its band, nested override details,
  texts at their length limits in characters outside the Basic
  Multilingual Plane, the calendar's first and last years); every entry
  type of ``BODY_TYPES`` is there.
* :func:`entry_mutations`: single-byte and single-field changes of an
  entry's bytes.
* :func:`python_outcome`: what ``verifiable/`` says of a case, in the shape
  ``decode_runner.js`` gives: ``{"name", "verdict", "value"}`` with the
  value in a plain JSON form (bytes as ``"hex:..."``, integers past
  2^53 - 1 as ``"int:..."``, times in POSIX seconds, dates as written).

Bundles and receipts are in :mod:`tests.server.verifier.decode_bundles`.
"""

from __future__ import annotations

import base64
import json
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import fields, is_dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import cache, partial
from typing import Any

import rfc8785

from tests.verifiable.pool.witnessed_pool import WITNESS, witnessed_config
from verifiable.errors import MalformedError, MutualogError, VerificationError
from verifiable.findings import Finding, Findings, Status
from verifiable.log.bodies import (
    AgeBand,
    Body,
    ClaimFiled,
    ClaimNoticed,
    DataErased,
    ErasedKind,
    JuryPool,
    OperatorOverride,
    PanelDrawn,
    PeriodClosed,
    PoolRules,
    SeedCheckpoint,
    VerifierPublished,
)
from verifiable.log.bundle import parse_bundle
from verifiable.log.entry import ChainHead, ChainVerifier, Entry, make_entry, parse_entry
from verifiable.log.fields import MAX_SAFE_INT, format_date, format_time, read_date
from verifiable.log.merkle import leaf_hash
from verifiable.log.note import Ed25519Signer, Ed25519Verifier
from verifiable.log.notice_facts import HospitalGrade, NoticeFacts
from verifiable.pool.proven import open_bundle, rulebook_of
from verifiable.pool.receipt import parse_receipt
from verifiable.testonly.simulate import Simulation

__all__ = [
    "ORIGIN",
    "SIGNER",
    "Case",
    "entry_case",
    "entry_mutations",
    "honest_log",
    "plain",
    "python_outcome",
]

Case = dict[str, Any]

ORIGIN = "example.org/mutualog/decode-test"
SIGNER = Ed25519Signer(ORIGIN, bytes(range(32)))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@cache
def honest_log(days: int = 30) -> tuple[bytes, ...]:
    """A witnessed pool's log of ``days`` days and the extra entries."""
    sim = Simulation(
        random.Random(4), witnessed_config(days, 40, 30), witnesses=[WITNESS], origin=ORIGIN
    )
    entries = list(sim.run())
    decoded = [parse_entry(d) for d in entries]
    last = decoded[-1].time
    for body in _extra_bodies(decoded):
        last += timedelta(seconds=1)
        entry = make_entry(len(entries), leaf_hash(entries[-1]), last, body.TYPE, body)
        entries.append(entry.to_bytes())
    return tuple(entries)


def _first(decoded: list[Entry], kind: type[Body]) -> Any:
    return next(e.body for e in decoded if isinstance(e.body, kind))


def _extra_bodies(decoded: list[Entry]) -> list[Body]:
    filed: ClaimFiled = _first(decoded, ClaimFiled)
    noticed: ClaimNoticed = _first(decoded, ClaimNoticed)
    closed: PeriodClosed = _first(decoded, PeriodClosed)
    rules: PoolRules = _first(decoded, PoolRules)
    emoji = "\U0001f600"
    facts = NoticeFacts("2024-02", 14, True, HospitalGrade.TERTIARY_A, 500_000, 300_000, "44")
    return [
        replace(filed, age_band=AgeBand.FROM_40_TO_59, diagnosed=date(1, 1, 1)),
        replace(noticed, facts=facts, summary="调查摘要\n第二行", redacted=filed.evidence),
        replace(noticed, facts=replace(facts, place="southwest", hospital_grade=None)),
        replace(noticed, facts=replace(facts, place=None), text=emoji * 2000),
        replace(noticed, text="\u2028\ufeff\u00a0\u0301x\n" * 300),
        DataErased(ErasedKind.MEMBER, filed.member, 0, "在成员的请求下删除"),
        DataErased(ErasedKind.EVIDENCE, filed.claim, 32, "r" * 500),
        OperatorOverride(
            "fix.data-1",
            emoji * 200,
            "why",
            {"a": -MAX_SAFE_INT, "b": (True, "x", (1, (2,))), "c": {"d": {"e": 1}}, "z.y_1": ""},
        ),
        replace(closed, period=date(9999, 12, 31), surplus_in=-MAX_SAFE_INT, share=MAX_SAFE_INT),
        VerifierPublished(bytes(range(32)), 123_456, "v1.2.3-rc.1"),
        VerifierPublished(bytes(32), MAX_SAFE_INT, "a"),
        replace(rules, effective=datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), reason="变更"),
    ]


# --- the plain form of decoded values ------------------------------------------


def plain(value: object) -> Any:
    """``value`` as decode_runner.js's ``plain`` writes the JavaScript value."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, int):
        return value if abs(value) <= MAX_SAFE_INT else f"int:{value}"
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return f"hex:{value.hex()}"
    if isinstance(value, datetime):
        return (value - _EPOCH) // timedelta(seconds=1)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if is_dataclass(value):
        out = {
            f.name: plain(getattr(value, f.name))
            for f in fields(value)
            if not f.name.startswith("_")
        }
        if isinstance(value, SeedCheckpoint):
            out["text"] = value.text
        return out
    raise TypeError(f"no plain form for {type(value).__name__}")


def _entry_value(entry: Entry) -> dict[str, Any]:
    return {
        "v": entry.v,
        "seq": entry.seq,
        "prev": plain(entry.prev),
        "time": plain(entry.time),
        "type": entry.type,
        "body": plain(entry.body),
        "leaf": plain(entry.leaf_hash()),
    }


# --- what verifiable/ says -----------------------------------------------------


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


def _entry(c: Case) -> object:
    seq = int(c["seq"]) if "seq" in c else None
    prev = bytes.fromhex(c["prev"]) if "prev" in c else None
    return _entry_value(parse_entry(_b64(c["data"]), seq=seq, prev=prev))


def _chain(c: Case) -> object:
    start = c.get("start")
    head = ChainHead(start["size"], bytes.fromhex(start["head"])) if start else None
    chain = ChainVerifier(head)
    for data in c["entries"]:
        chain.feed(_b64(data))
    return plain(chain.state)


def _bundle(c: Case) -> object:
    return plain(parse_bundle(_b64(c["data"])))


def _open(c: Case) -> object:
    bundle = parse_bundle(_b64(c["data"]))
    proven, findings = open_bundle(bundle, Ed25519Verifier.from_vkey(c["vkey"]), c["origin"])
    rules = None
    if proven is not None:
        f = Findings()
        book = rulebook_of(proven, f)
        rules = [
            [[x.name, x.status.value] for x in f.result()],
            None if book is None else len(book.changes),
        ]
    return {
        "findings": [[f.name, f.status.value] for f in findings],
        "entries": None if proven is None else list(proven.entries),
        "checkpoint": None if proven is None else plain(proven.checkpoint),
        "rules": rules,
    }


def _attempt(prove: Callable[[], object]) -> list[object]:
    try:
        return ["ok", plain(prove())]
    except MalformedError:
        return ["malformed", None]
    except VerificationError:
        return ["verification", None]
    except MutualogError:
        return ["mutualog", None]


def _seeds(c: Case) -> object:
    bundle = parse_bundle(_b64(c["data"]))
    proven, _ = open_bundle(bundle, Ed25519Verifier.from_vkey(c["vkey"]), c["origin"])
    assert proven is not None
    out: list[object] = []
    for e in proven.of_type("panel.drawn"):
        body = e.body
        assert isinstance(body, PanelDrawn)
        seed = bytes([body.seed[0] ^ c["flip"]]) + body.seed[1:]
        out.append(_attempt(partial(proven.prove_seed, body.seed_size, seed)))
        w = body.witnessed
        if w is not None:
            cp = w.checkpoint
            out.append(_attempt(partial(proven.prove_seed, cp.size, cp.root_hash)))
    pools = [p.body for p in proven.of_type("jury.pool")]
    for j in bundle.jurors:
        pool = next((p for p in pools if isinstance(p, JuryPool) and p.period == j.pool), None)
        if pool is not None:
            out.append(_attempt(partial(proven.juror, pool, j.index + c["shift"])))
    return out


def _receipt(c: Case) -> object:
    return plain(parse_receipt(_b64(c["data"])))


def _dates(c: Case) -> object:
    epoch = date(1970, 1, 1)
    days = []
    for s in c["dates"]:
        n = (date.fromisoformat(s) - epoch).days
        days.append([n, format_date(epoch + timedelta(days=n)), s, s])
    times = []
    for n in c["times"]:
        t = _EPOCH + timedelta(seconds=n)
        times.append([format_time(t), format_date(t.date()), n])
    read = []
    for s in c["texts"]:
        try:
            read.append(format_date(read_date(s, "date")))
        except MalformedError:
            read.append("malformed")
    return {"days": days, "times": times, "read": read}


def _findings(c: Case) -> object:
    f = Findings()
    for op, *args in c["ops"]:
        if op == "extend":
            f.extend(Finding(name, Status(status), "") for name, status in args[0])
        else:
            getattr(f, op)(*args)
    return [[x.name, x.status.value] for x in f.result()]


_PYTHON: dict[str, Callable[[Case], object]] = {
    "entry": _entry,
    "chain": _chain,
    "bundle": _bundle,
    "open": _open,
    "receipt": _receipt,
    "seeds": _seeds,
    "findings": _findings,
    "dates": _dates,
}


def python_outcome(case: Case) -> dict[str, Any]:
    """What ``verifiable/`` says of ``case``, as decode_runner.js says it."""
    kind = case["kind"]
    try:
        value = _PYTHON[kind](case)
    except MalformedError:
        return {"name": kind, "verdict": "malformed", "value": None}
    except VerificationError:
        return {"name": kind, "verdict": "verification", "value": None}
    return {"name": kind, "verdict": "ok", "value": value}


# --- entries and their mutations ---------------------------------------------------


def entry_case(data: bytes, mutation: str = "", **place: object) -> Case:
    """A case decoding ``data``; ``place`` may give ``seq`` (decimal text)
    and ``prev`` (hex)."""
    return {"kind": "entry", "data": base64.b64encode(data).decode(), "mutation": mutation, **place}


_KEY = re.compile(rb'"([a-z_]+)":')
_NUMBER = re.compile(rb"(?<=[:,\[])-?[0-9]+(?=[,\]}])")
_STRING_CHAR = re.compile(rb'(?<=")[a-z0-9](?=[^"]*")')

#: Values that a field may be set to: wrong types, bounds and forms.
TRICKY: tuple[object, ...] = (
    -1,
    0,
    1,
    255,
    256,
    10_000,
    10_001,
    MAX_SAFE_INT,
    -MAX_SAFE_INT,
    MAX_SAFE_INT + 1,
    True,
    None,
    "",
    "x",
    [],
    {},
    "a" * 2001,
    "\U0001f600" * 2001,
    "\u202e",
    "\x7f",
    "line\nbreak",
    "0-17",
    "approve",
    "member",
    "no_quorum",
    "A" * 64,
    "0" * 63,
    "0" * 64,
    "0" * 32,
    "f" * 33,
    "2024-02-29",
    "2023-02-29",
    "0000-01-01",
    "2024-1-01",
    "2024-01-01T00:00:00Z",
    "2024-01-01T24:00:00Z",
    "2024-01-01T23:59:60Z",
    "2024-01-01T00:00:00+00:00",
    "2024-01-01t00:00:00Z",
    "٢٠٢٤-01-01",
    "2024-02",
    "44",
    "tertiary-a",
    ["0" * 64],
    {"a": 1},
    {"A": 1},
    {"a": [[[1]]]},
    {"a": {"b": {"c": {"d": 1}}}},
)


def _dumps(obj: Any) -> bytes:
    try:
        return rfc8785.dumps(obj)
    except rfc8785.CanonicalizationError:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _paths(obj: object, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path] if path else []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*path, i))
    return out


def _set(obj: Any, path: tuple[Any, ...], value: object) -> None:
    for p in path[:-1]:
        obj = obj[p]
    obj[path[-1]] = value


def _drop(obj: Any, path: tuple[Any, ...]) -> None:
    for p in path[:-1]:
        obj = obj[p]
    del obj[path[-1]]


def _swap_keys(obj: Any, rng: random.Random) -> bytes | None:
    """The object's JSON with two adjacent keys of one object swapped."""
    objects = [p for p in [(), *_paths(obj)] if isinstance(_get(obj, p), dict)]
    objects = [p for p in objects if len(_get(obj, p)) >= 2]
    if not objects:
        return None
    target = rng.choice(objects)
    keys = list(_get(obj, target))
    i = rng.randrange(len(keys) - 1)
    keys[i], keys[i + 1] = keys[i + 1], keys[i]
    reordered = {k: _get(obj, target)[k] for k in keys}
    if target:
        _set(obj, target, reordered)
    else:
        obj = reordered
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _get(obj: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        obj = obj[p]
    return obj


def _byte_mutations(rng: random.Random, data: bytes) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    digits = [i for i, b in enumerate(data) if 0x30 <= b <= 0x39]
    i = rng.choice(digits)
    out.append(
        (
            "digit",
            data[:i] + bytes([0x30 + (data[i] - 0x30 + rng.randrange(1, 10)) % 10]) + data[i + 1 :],
        )
    )
    keys = list(_KEY.finditer(data))
    k = rng.choice(keys)
    name = k.group(1)
    renamed = name[:-1] + (b"x" if name[-1:] != b"x" else b"y")
    out.append(("key renamed", data[: k.start(1)] + renamed + data[k.end(1) :]))
    seps = [i for i, b in enumerate(data) if b in b",:[]{}"]
    i = rng.choice(seps) + 1
    space = rng.choice([b" ", b"\n", b"\t", b"\r"])
    out.append(("whitespace", data[:i] + space + data[i:]))
    out.append(("whitespace", rng.choice([b" " + data, data + b"\n", b"\xef\xbb\xbf" + data])))
    numbers = list(_NUMBER.finditer(data))
    n = rng.choice(numbers)
    literal = n.group()
    form = rng.choice(
        [
            literal + b".0",
            literal + b"e0",
            literal + b"E+0",
            b"0" + literal,
            b"-0" if literal == b"0" else literal + b"0" * 20,
        ]
    )
    out.append(("non-canonical number", data[: n.start()] + form + data[n.end() :]))
    i = rng.randrange(len(data))
    bad = rng.choice(
        [b"\xff", b"\x80", b"\xc0\x80", b"\xed\xa0\x80", b"\xe4\xb8", b"\xf4\x90\x80\x80"]
    )
    out.append(("invalid utf-8", data[:i] + bad + data[i + 1 :]))
    chars = list(_STRING_CHAR.finditer(data))
    if chars:
        c = rng.choice(chars)
        escaped = rng.choice([b"\\u%04x" % c.group()[0], b"\\u%04X" % c.group()[0]])
        out.append(("escape", data[: c.start()] + escaped + data[c.end() :]))
    out.append(("truncated", data[: rng.randrange(len(data))]))
    return out


def _field_mutations(rng: random.Random, data: bytes) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    obj = json.loads(data)
    paths = _paths(obj)
    swapped = _swap_keys(json.loads(data), rng)
    if swapped is not None:
        out.append(("key order", swapped))
    dropped = json.loads(data)
    _drop(dropped, rng.choice([p for p in paths if isinstance(p[-1], str)]))
    out.append(("field dropped", _dumps(dropped)))
    added = json.loads(data)
    where = rng.choice([(), ("body",)])
    name = rng.choice(["x", "age_band", "facts", "witnessed", "summary", "place", "hospital_grade"])
    _set(added, (*where, name), rng.choice(TRICKY))
    out.append(("field added", _dumps(added)))
    for _ in range(3):
        changed = json.loads(data)
        _set(changed, rng.choice(paths), rng.choice(TRICKY))
        out.append(("value", _dumps(changed)))
    envelope = json.loads(data)
    field, value = rng.choice(
        [("v", 2), ("v", 0), ("seq", -1), ("seq", MAX_SAFE_INT), ("prev", "0" * 64),
         ("prev", "F" * 64), ("type", "claim.unknown"), ("type", "Pool.rules"),
         ("time", "2024-02-30T00:00:00Z")]
    )  # fmt: skip
    envelope[field] = value
    out.append(("envelope", _dumps(envelope)))
    return out


def entry_mutations(rng: random.Random, data: bytes) -> list[Case]:
    """Single-byte and single-field changes of an entry's bytes."""
    changes = _byte_mutations(rng, data) + _field_mutations(rng, data)
    return [entry_case(changed, label) for label, changed in changes if changed != data]
