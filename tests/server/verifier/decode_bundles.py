"""Bundle and receipt cases for the decoding layer's equivalence tests.

* :func:`bundle_cases`: honest ``mutualog.bundle/v1`` bundles of the
  witnessed pool of :func:`decode_cases.honest_log`, as the server builds
  them (:mod:`verifiable.pool.bundle_builder`): deduction bundles of members
  of its closed periods and claim bundles of its claims.
* :func:`bundle_mutations`: changes of a bundle's JSON, one field or one
  byte at a time.
* :func:`open_cases`: bundles to open with the log's key: honest, with an
  entry's proof or bytes or index altered, a checkpoint signed by another
  key, or of another origin; a bundle without entry 0, and one of a log
  whose last rule change the rulebook refuses; and each honest bundle's
  panels' seeds and jurors proven, as they are and altered.
* :func:`receipt_cases` and :func:`receipt_mutations`: vote receipts
  (``mutualog.vote-receipt/v1``) of the log's sealed votes, as
  :class:`~verifiable.pool.receipt.VoteReceipt` writes them, and changes of
  their JSON and bytes.
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import cache
from typing import Any

from tests.server.verifier.decode_cases import (
    ORIGIN,
    SIGNER,
    TRICKY,
    Case,
    honest_log,
)
from verifiable.log.bodies import PoolRules, VoteRevealed, VoteSealed
from verifiable.log.bundle import merge_bundles
from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
from verifiable.log.entry import Entry, make_entry, parse_entry
from verifiable.log.merkle import hash_leaves, inclusion_proof, root_hash
from verifiable.log.note import Ed25519Signer
from verifiable.pool.bundle_builder import MemorySource, claim_bundle, deduction_bundle
from verifiable.pool.log_index import LogIndex
from verifiable.pool.receipt import VoteReceipt

__all__ = [
    "bundle_cases",
    "bundle_mutations",
    "open_cases",
    "receipt_cases",
    "receipt_mutations",
]

OTHER_KEY = Ed25519Signer(ORIGIN, bytes([9]) * 32)
OTHER_ORIGIN = Ed25519Signer("example.org/mutualog/another-log", bytes(range(32)))


@dataclass(frozen=True)
class _Log:
    entries: tuple[bytes, ...]
    decoded: tuple[Entry, ...]
    index: LogIndex
    source: MemorySource
    root: bytes

    def note(self, signer: Ed25519Signer = SIGNER, origin: str = ORIGIN) -> bytes:
        return sign_checkpoint(Checkpoint(origin, len(self.entries), self.root), signer)


@cache
def _log(refused_rules: bool = False) -> _Log:
    """The honest log; with ``refused_rules``, its last entry (a rule change)
    made one the rulebook refuses, effective before its own time."""
    entries = honest_log()
    if refused_rules:
        last = parse_entry(entries[-1])
        assert isinstance(last.body, PoolRules)
        body = replace(last.body, effective=last.time - timedelta(days=1))
        changed = make_entry(last.seq, last.prev, last.time, last.type, body)
        entries = (*entries[:-1], changed.to_bytes())
    decoded = tuple(parse_entry(d) for d in entries)
    index = LogIndex()
    for e in decoded:
        index.feed(e)
    root = root_hash(hash_leaves(entries))
    return _Log(entries, decoded, index, MemorySource(list(entries)), root)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _case(kind: str, data: bytes, mutation: str = "", **more: object) -> Case:
    return {"kind": kind, "data": _b64(data), "mutation": mutation, **more}


def bundle_cases(rng: random.Random, count: int) -> list[Case]:
    """``count`` honest bundles, half deduction bundles, half claim bundles;
    every fourth deduction bundle has claim bundles merged in, as ``fetch
    deduction`` merges the claims it samples."""
    log = _log()
    periods = [p for p, (seq, _) in log.index.closed.items() if log.index.paid.get(p)]
    out: list[Case] = []
    for i in range(count):
        if i % 2 == 0:
            period = periods[(i // 2) % len(periods)]
            roster = log.index.roster(period)
            claims = [c for c, _ in log.index.paid[period]]
            bundle = deduction_bundle(
                log.index,
                log.source,
                len(log.entries),
                log.note(),
                rng.choice(roster),
                period,
                roster,
                rng.sample(claims, min(2, len(claims))),
            )
            if i % 8 == 6:
                merged = [
                    claim_bundle(log.index, log.source, len(log.entries), log.note(), c)
                    for c in rng.sample(sorted(log.index.claims), 2)
                ]
                bundle = merge_bundles(bundle, *merged)
        else:
            claim = rng.choice(sorted(log.index.claims))
            bundle = claim_bundle(log.index, log.source, len(log.entries), log.note(), claim)
        out.append(_case("bundle", bundle.to_bytes()))
    return out


def _swap(items: list[Any], rng: random.Random) -> bool:
    if len(items) < 2:
        return False
    i = rng.randrange(len(items) - 1)
    items[i], items[i + 1] = items[i + 1], items[i]
    return True


def _bundle_field(rng: random.Random, obj: dict[str, Any]) -> str:
    """Change one field of a bundle's JSON in place; say which way."""
    choice = rng.randrange(14)
    entries, jurors = obj["entries"], obj["jurors"]
    entry = rng.choice(entries)
    if choice == 0:
        del obj[rng.choice(list(obj))]
        return "field dropped"
    if choice == 1:
        obj[rng.choice(["x", "Type", "deduction "])] = rng.choice(TRICKY)
        return "field added"
    if choice == 2:
        entry["index"] = rng.choice([-1, 1.0, True, "1", 2**63, 2**63 - 1, 2**53 + 1, None, 0])
        return "index"
    if choice == 3:
        entry["entry"] = rng.choice(
            [
                "",
                entry["entry"][:-1],
                entry["entry"] + "=",
                entry["entry"].replace("=", "A"),
                " " + entry["entry"],
            ]
        )
        return "entry base64"
    if choice == 4 and entry["proof"]:
        i = rng.randrange(len(entry["proof"]))
        entry["proof"][i] = rng.choice([entry["proof"][i].upper(), entry["proof"][i][:-2], 7, ""])
        return "proof hash"
    if choice == 5:
        return "entries unsorted" if _swap(entries, rng) else "none"
    if choice == 6:
        entries.insert(0, entries[0])
        return "entry repeated"
    if choice == 7 and jurors:
        juror = rng.choice(jurors)
        key = rng.choice(["pool", "index", "member"])
        juror[key] = rng.choice(["2024-02-30", "2024-1-01", -1, 1.5, "0" * 31, juror[key]])
        return "juror"
    if choice == 8:
        return "jurors unsorted" if _swap(jurors, rng) else "none"
    if choice == 9 and obj["deduction"] is not None:
        d = obj["deduction"]
        key = rng.choice(list(d))
        d[key] = rng.choice(
            [[["0" * 32, 0]], [["0" * 32, 2**53]], [["0" * 32, 5, 6]], -1, "2024-13-01", [], None]
        )
        return "deduction"
    if choice == 10 and obj["consistency"]:
        seed = rng.choice(obj["consistency"])
        seed["size"] = rng.choice([0, -1, 2**63, 1e3, seed["size"]])
        return "consistency"
    if choice == 11:
        obj["claims"] = rng.choice(
            [["A" * 32], ["0" * 32, "0" * 32], ["f" * 32, "0" * 32], [1], "x"]
        )
        return "claims"
    if choice == 12:
        obj["checkpoint"] = rng.choice(["", 1, None, obj["checkpoint"] + "x"])
        return "checkpoint"
    obj["type"] = rng.choice(["mutualog.bundle/v2", None, "mutualog.bundle/v1 "])
    return "type"


def _bundle_bytes(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    text = data.decode()
    choice = rng.randrange(7)
    if choice == 0:
        i = rng.randrange(len(data))
        return "invalid utf-8", data[:i] + rng.choice([b"\xff", b"\xed\xa0\x80", b"\xc3"]) + data[
            i + 1 :
        ]
    if choice == 1:
        return "bom", b"\xef\xbb\xbf" + data
    if choice == 2:
        return "truncated", data[: rng.randrange(len(data))]
    if choice == 3:
        return "indented", json.dumps(json.loads(text), indent=rng.choice([1, 2])).encode()
    if choice == 4:
        return "constant", text.replace('"claims":', '"claims":NaN,"x":', 1).encode()
    if choice == 5:
        return "duplicate key", text.replace(
            '{"checkpoint":', '{"claims":[],"checkpoint":', 1
        ).encode()
    return "escaped", text.replace('"mutualog.bundle/v1"', '"mutualog.bundle\\/v\\u0031"').encode()


def bundle_mutations(rng: random.Random, case: Case, count: int = 30) -> list[Case]:
    """``count`` single changes of an honest bundle case."""
    data = base64.b64decode(case["data"])
    out: list[Case] = []
    for _ in range(count):
        if rng.randrange(3):
            obj = json.loads(data)
            label = _bundle_field(rng, obj)
            changed = json.dumps(
                obj, sort_keys=rng.randrange(2) == 0, separators=(",", ":")
            ).encode()
        else:
            label, changed = _bundle_bytes(rng, data)
        out.append(_case("bundle", changed, label))
    return out


# --- opening bundles ---------------------------------------------------------------------


def _open(data: bytes, mutation: str, vkey: str = "", origin: str = ORIGIN) -> Case:
    return _case("open", data, mutation, vkey=vkey or SIGNER.verifier().to_vkey(), origin=origin)


def _digit_changed(rng: random.Random, data: bytes) -> bytes:
    digits = [i for i, b in enumerate(data) if 0x30 <= b <= 0x39]
    i = rng.choice(digits)
    return data[:i] + bytes([0x30 + (data[i] - 0x2F) % 10]) + data[i + 1 :]


def open_cases(rng: random.Random, honest: list[Case]) -> list[Case]:
    """Each honest bundle opened as it is, and altered in each way."""
    log = _log()
    out: list[Case] = []
    for case in honest:
        data = base64.b64decode(case["data"])
        out.append(_open(data, ""))
        obj = json.loads(data)
        out.append(_open(data, "origin", origin="example.org/mutualog/another-log"))
        out.append(
            _open(
                json.dumps({**obj, "checkpoint": log.note(OTHER_KEY).decode()}).encode(),
                "other key",
            )
        )
        other = log.note(OTHER_ORIGIN, OTHER_ORIGIN.name)
        out.append(
            _open(json.dumps({**obj, "checkpoint": other.decode()}).encode(), "other origin")
        )
        first = json.loads(data)
        first["entries"] = first["entries"][1:]
        out.append(_open(json.dumps(first).encode(), "entry 0 dropped"))
        for label in ("proof", "bytes", "index", "non-canonical bytes", "proof dropped"):
            changed = json.loads(data)
            entry = rng.choice([e for e in changed["entries"] if e["proof"]])
            raw = base64.b64decode(entry["entry"])
            if label == "proof":
                i = rng.randrange(len(entry["proof"]))
                entry["proof"][i] = entry["proof"][i][::-1]
            elif label == "bytes":
                entry["entry"] = _b64(_digit_changed(rng, raw))
            elif label == "index":
                entry["index"] += 1
                changed["entries"].sort(key=lambda e: e["index"])
                if len({e["index"] for e in changed["entries"]}) != len(changed["entries"]):
                    continue
            elif label == "non-canonical bytes":
                entry["entry"] = _b64(b" " + raw)
            else:
                entry["proof"].pop()
            out.append(_open(json.dumps(changed).encode(), label))
    for case in honest:
        for flip, shift in ((0, 0), (1, 0), (0, 1)):
            vkey = SIGNER.verifier().to_vkey()
            out.append(
                {
                    **case,
                    "kind": "seeds",
                    "flip": flip,
                    "shift": shift,
                    "vkey": vkey,
                    "origin": ORIGIN,
                }
            )
    refused = _log(refused_rules=True)
    claim = rng.choice(sorted(refused.index.claims))
    bundle = claim_bundle(
        refused.index, refused.source, len(refused.entries), refused.note(), claim
    )
    out.append(_open(bundle.to_bytes(), "rule change refused"))
    return out


# --- receipts ------------------------------------------------------------------------------


def receipt_cases(rng: random.Random, count: int) -> list[Case]:
    """Receipts of ``count`` sealed votes of the log, in a few JSON layouts."""
    log = _log()
    leaves = hash_leaves(log.entries)
    reveals = {
        (e.body.claim, e.body.round, e.body.juror): e.body
        for e in log.decoded
        if isinstance(e.body, VoteRevealed)
    }
    sealed = [e for e in log.decoded if isinstance(e.body, VoteSealed)]
    out: list[Case] = []
    note = log.note()
    for e in rng.sample(sealed, count):
        body = e.body
        assert isinstance(body, VoteSealed)
        reveal = reveals.get((body.claim, body.round, body.juror))
        if reveal is None:
            continue
        receipt = VoteReceipt(
            claim=body.claim,
            round=body.round,
            juror=body.juror,
            choice=reveal.choice,
            reason=reveal.reason or rng.choice(["", "证据充分", "\U0001f600 ok"]),
            salt=reveal.salt,
            commitment=body.commitment,
            leaf_index=e.seq,
            entry=log.entries[e.seq],
            tree_size=len(log.entries),
            inclusion_proof=tuple(inclusion_proof(leaves, e.seq, len(leaves))),
            checkpoint=note,
        )
        layout = rng.choice([{"indent": 2}, {"separators": (",", ":")}, {"ensure_ascii": False}])
        out.append(_case("receipt", json.dumps(receipt.to_json(), **layout).encode()))  # type: ignore[arg-type]
    return out


_RECEIPT_VALUES: tuple[object, ...] = (
    *TRICKY,
    1.0,
    float("nan"),
    2**64,
    2**63 - 1,
    -(2**70),
    "AB" * 32,
    " ab" * 32,
    "ab " * 32,
    "a b" * 16,
    "ab" * 31,
    "\x0bab" * 32,
    "\ud800",
    "approve ",
)


def _receipt_bytes(rng: random.Random, text: str) -> tuple[str, bytes]:
    data = text.encode()
    choice = rng.randrange(7)
    if choice == 0:
        i = rng.randrange(len(data))
        return "invalid utf-8", data[:i] + rng.choice([b"\xff", b"\xc3", b"\xf8\x80"]) + data[
            i + 1 :
        ]
    if choice == 1:
        return "bom", b"\xef\xbb\xbf" + data
    if choice == 2:
        return "utf-16", text.encode(
            rng.choice(["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-be"])
        )
    if choice == 3:
        return "truncated", data[: rng.randrange(len(data))]
    if choice == 4:
        return "duplicate key", text.replace("{", '{"round": "1", ', 1).encode()
    if choice == 5:
        return "surrogate escape", text.replace(
            '"reason": "', '"reason": "\\ud83d\\ude00\\udc00', 1
        ).encode()
    # Python reads it with "surrogatepass": a lone surrogate in the text.
    return "encoded surrogate", data.replace(b'"reason": "', b'"reason": "\xed\xa0\x80', 1)


def receipt_mutations(rng: random.Random, case: Case, count: int = 24) -> list[Case]:
    """``count`` single changes of an honest receipt case."""
    data = base64.b64decode(case["data"])
    out: list[Case] = []
    for _ in range(count):
        obj = json.loads(data)
        choice = rng.randrange(5)
        if choice == 0:
            del obj[rng.choice(list(obj))]
            label = "field dropped"
        elif choice == 1:
            obj[rng.choice(["x", "Type", "proof"])] = rng.choice(_RECEIPT_VALUES)
            label = "field added"
        elif choice == 2:
            obj[rng.choice(list(obj))] = rng.choice(_RECEIPT_VALUES)
            label = "value"
        elif choice == 3 and obj["inclusion_proof"]:
            proof = obj["inclusion_proof"]
            proof[rng.randrange(len(proof))] = rng.choice(_RECEIPT_VALUES)
            label = "proof item"
        else:
            label, changed = _receipt_bytes(rng, json.dumps(obj, ensure_ascii=False))
            out.append(_case("receipt", changed, label))
            continue
        out.append(
            _case(
                "receipt",
                json.dumps(obj, ensure_ascii=rng.randrange(2) == 0).encode(
                    "utf-8", "surrogatepass"
                ),
                label,
            )
        )
    return out
