"""Generated cases for ``votes.js`` and ``witnessed.js``, and what
``verifiable/pool/votes.py`` and ``verifiable/pool/witnessed.py`` say of each.

* ``reveal``: a sealed vote and its reveal, honest (reasons in Chinese, with
  characters outside the Basic Multilingual Plane, quotes, backslashes, line
  feeds, U+2028, U+FEFF, exactly 500 characters) and changed: another choice,
  reason, salt byte, round, juror or claim, a commitment byte, a reason with
  a refused character or of 501 characters, a salt of 31 bytes, round 0.
* ``witnessed``: a draw's checkpoint cosigned by K of the rules' N
  witnesses, with the consistency proof to the log before the draw, honest
  and changed: a checkpoint where none is wanted or none where one is, one
  cosignature too few, an unknown witness, two out of order, a signature
  byte or a timestamp changed, a size below the seed size or past the log,
  a root or proof that is not the log's.
"""

from __future__ import annotations

import random
from typing import Any

from tests.server.verifier.rules_cases import normal
from verifiable.errors import MalformedError, RuleViolation, VerificationError
from verifiable.log.bodies import Choice, SeedCheckpoint, VoteRevealed, VoteSealed
from verifiable.log.checkpoint import Checkpoint
from verifiable.log.cosignature import Cosignature, CosignatureSigner
from verifiable.log.merkle import consistency_proof, root_hash
from verifiable.pool.rules import Rules
from verifiable.pool.votes import check_reveal, vote_commitment
from verifiable.pool.witnessed import check_witnessed

__all__ = ["python_outcome", "reveal_cases", "witnessed_cases"]

Case = dict[str, Any]

_REASON_PIECES = [
    "互助",
    "病历",
    "ok",
    " ",
    '"',
    "\\",
    "\n",
    "\u2028",
    "\ufeff",
    "\U0001f600",
    "é",
    "</",
]
_REFUSED = ["\x00", "\t", "\r", "\x7f", "\x85", "\u202e", "\u2066"]


def _id(rng: random.Random) -> str:
    return rng.randbytes(16).hex()


def _reason(rng: random.Random) -> str:
    if rng.random() < 0.05:
        return rng.choice(["", "\U0001f600" * 500, "a" * 500])
    return "".join(rng.choice(_REASON_PIECES) for _ in range(rng.randint(0, 12)))


def _spoil_reveal(rng: random.Random, sealed: Case, revealed: Case) -> str:
    kind = rng.choice(
        [
            "choice",
            "reason",
            "salt",
            "round",
            "juror",
            "claim",
            "commitment",
            "refused",
            "long",
            "short salt",
            "round 0",
        ]
    )
    if kind == "choice":
        revealed["choice"] = "reject" if revealed["choice"] == "approve" else "approve"
    elif kind == "reason":
        revealed["reason"] += "."
    elif kind in ("salt", "commitment"):
        who = revealed if kind == "salt" else sealed
        raw = bytearray.fromhex(who[kind])
        raw[rng.randrange(32)] ^= 1 << rng.randrange(8)
        who[kind] = raw.hex()
    elif kind == "round":
        revealed["round"] += 1
    elif kind in ("juror", "claim"):
        revealed[kind] = _id(rng)
    elif kind == "refused":
        r = revealed["reason"]
        i = rng.randint(0, len(r))
        revealed["reason"] = r[:i] + rng.choice(_REFUSED) + r[i:]
    elif kind == "long":
        revealed["reason"] = "\U0001f600" * 501
    elif kind == "short salt":
        revealed["salt"] = revealed["salt"][:-2]
    else:
        revealed["round"] = sealed["round"] = 0
    return kind


def reveal_cases(rng: random.Random, count: int) -> list[Case]:
    """Sealed votes and their reveals, honest and changed."""
    out: list[Case] = []
    for n in range(count):
        claim, juror, salt = _id(rng), _id(rng), rng.randbytes(32)
        round_, choice, reason = (
            rng.choice([1, 2, 3, 2**53 - 1]),
            rng.choice(list(Choice)),
            _reason(rng),
        )
        commitment = vote_commitment(claim, round_, juror, choice, reason, salt)
        sealed = {"claim": claim, "round": round_, "juror": juror, "commitment": commitment.hex()}
        revealed = {
            "claim": claim,
            "round": round_,
            "juror": juror,
            "choice": choice.value,
            "reason": reason,
            "salt": salt.hex(),
        }
        mutation = _spoil_reveal(rng, sealed, revealed) if n % 2 else ""
        out.append({"kind": "reveal", "sealed": sealed, "revealed": revealed, "mutation": mutation})
    return out


# --- the witnessed draw ---------------------------------------------------------------

_WITNESSES = [CosignatureSigner(f"witness{i}.example/w", bytes([i + 7]) * 32) for i in range(5)]
_ORIGIN = "example.com/pool"


def _cosignature_json(c: Cosignature) -> Case:
    return {
        "name": c.name,
        "key_id": c.key_id,
        "timestamp": str(c.timestamp),
        "signature": c.signature.hex(),
    }


def _witnessed(rng: random.Random) -> Case:
    leaves = [rng.randbytes(32) for _ in range(rng.randint(2, 40))]
    seq = len(leaves)
    size = rng.randint(1, seq)
    seed_size = rng.randint(1, size)
    names = rng.sample(range(len(_WITNESSES)), rng.randint(1, 4))
    k = rng.randint(1, len(names))
    checkpoint = Checkpoint(_ORIGIN, size, root_hash(leaves[:size]))
    text = checkpoint.to_text()
    signers = [_WITNESSES[i] for i in sorted(rng.sample(names, k), key=names.index)]
    timestamp = rng.choice([0, 1_700_000_000, 2**63 - 1])
    cosignatures = [_cosignature_json(s.cosign(text, timestamp)) for s in signers]
    return {
        "kind": "witnessed",
        "seq": seq,
        "seed_size": seed_size,
        "rules": {
            "draw.witnesses": [_WITNESSES[i].verifier().to_vkey() for i in names],
            "draw.witnesses_required": k,
        },
        "witnessed": {
            "checkpoint": {
                "origin": _ORIGIN,
                "size": str(size),
                "root_hash": checkpoint.root_hash.hex(),
            },
            "cosignatures": cosignatures,
            "proof": [p.hex() for p in consistency_proof(leaves, size, seq)],
            "text": text,
        },
        "root": root_hash(leaves).hex(),
        "mutation": "",
    }


def _flip(text: str, rng: random.Random) -> str:
    raw = bytearray.fromhex(text)
    raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
    return raw.hex()


def _spoil_witnessed(rng: random.Random, case: Case) -> str:
    w, rules = case["witnessed"], case["rules"]
    cos = w["cosignatures"]
    kinds = [
        "unwanted",
        "missing",
        "count",
        "unknown",
        "signature",
        "timestamp",
        "small",
        "large",
        "root",
        "proof",
    ]
    kinds += ["order"] if len(cos) > 1 else []
    if case["root"] is None:
        kinds.remove("root")
    kind = rng.choice(kinds)
    if kind == "unwanted":
        rules["draw.witnesses_required"] = 0
    elif kind == "missing":
        case["witnessed"] = None
    elif kind == "count":
        cos.pop()
    elif kind == "unknown":
        other = CosignatureSigner("stranger.example/w", rng.randbytes(32))
        cos[rng.randrange(len(cos))] = _cosignature_json(other.cosign(w["text"], 5))
    elif kind == "signature":
        c = cos[rng.randrange(len(cos))]
        c["signature"] = _flip(c["signature"], rng)
    elif kind == "timestamp":
        c = cos[rng.randrange(len(cos))]
        c["timestamp"] = str(int(c["timestamp"]) ^ 1)
    elif kind == "small":
        case["seed_size"] = int(w["checkpoint"]["size"]) + 1
    elif kind == "large":
        case["seq"] = int(w["checkpoint"]["size"]) - 1
    elif kind == "root":
        case["root"] = _flip(case["root"], rng)
    elif kind == "proof" and w["proof"]:
        w["proof"][0] = _flip(w["proof"][0], rng)
    elif kind == "order":
        cos[0], cos[1] = cos[1], cos[0]
    return kind


def witnessed_cases(rng: random.Random, count: int) -> list[Case]:
    """Witnessed checkpoints of draws, honest and changed; half with the log's roots."""
    out: list[Case] = []
    for n in range(count):
        case = _witnessed(rng)
        if rng.random() < 0.5:
            case["root"] = None
        if n % 2:
            case["mutation"] = _spoil_witnessed(rng, case)
            if case["root"] is None and case["mutation"] == "proof":
                case["mutation"] = "proof unchecked"
        out.append(case)
    out.append(dict(_witnessed(rng), rules={}, witnessed=None))  # no witnesses, none given
    return out


# --- the Python side ------------------------------------------------------------------


def _python_witnessed(c: Case) -> object:
    rules = Rules.from_json(c["rules"])
    w = c["witnessed"]
    seed = None
    if w is not None:
        cp = w["checkpoint"]
        checkpoint = Checkpoint(cp["origin"], int(cp["size"]), bytes.fromhex(cp["root_hash"]))
        cosignatures = tuple(
            Cosignature(x["name"], x["key_id"], int(x["timestamp"]), bytes.fromhex(x["signature"]))
            for x in w["cosignatures"]
        )
        seed = SeedCheckpoint(checkpoint, cosignatures, tuple(bytes.fromhex(p) for p in w["proof"]))
    root = c["root"]
    root_at = None if root is None else (lambda _seq: bytes.fromhex(root))
    return check_witnessed(c["seq"], seed, c["seed_size"], rules, root_at)


def _python_reveal(c: Case) -> object:
    s, r = c["sealed"], c["revealed"]
    sealed = VoteSealed(s["claim"], s["round"], s["juror"], bytes.fromhex(s["commitment"]))
    salt = bytes.fromhex(r["salt"])
    revealed = VoteRevealed(r["claim"], r["round"], r["juror"], r["choice"], r["reason"], salt)
    check_reveal(sealed, revealed, seq=7)
    return vote_commitment(r["claim"], r["round"], r["juror"], r["choice"], r["reason"], salt)


def python_outcome(case: Case) -> Case:
    """What ``verifiable/pool/`` says of ``case``: ``{verdict, value}``, the
    value being the rule's id on a rule violation."""
    run = _python_reveal if case["kind"] == "reveal" else _python_witnessed
    try:
        value = run(case)
    except RuleViolation as e:
        return {"verdict": "verification", "value": e.rule}
    except MalformedError:
        return {"verdict": "malformed", "value": None}
    except VerificationError:
        return {"verdict": "verification", "value": None}
    return {"verdict": "ok", "value": normal(value)}
