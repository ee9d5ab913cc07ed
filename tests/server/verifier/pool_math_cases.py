"""Generated cases for the pool's formulas and trees in the verifier's
JavaScript (``periods.js``, ``roster.js``, ``sortition.js``), and what
``verifiable/pool/`` says of each.

Cases are plain JSON: bytes in hex, values that may pass 2^53 (draw values,
counters, pool sizes of the draw's arithmetic) as decimal strings.  Each has
a ``mutation``: ``""`` for an honest case, else the change made to it.

* ``roster``: member-set roots of rosters of 0 to a few hundred ids (sizes
  around powers of two), and lists that are not sorted, repeat an id or hold
  something that is not an id; a size hint right or wrong.
* ``membership``: an honest inclusion proof of a member in a roster, and the
  proof with a byte, an index, a size, a member or a hash changed.
* ``paid``: paid-claims roots; a claim listed twice, amounts of 0, below 0,
  past 2^53 - 1, of the wrong type.
* ``figures``: a period's figures at the rounding boundaries of the share
  (a need one below, at and one above a multiple of the roster), of the fee,
  of the cap per claim, with a surplus or a deficit carried in, an empty
  roster, and sums that pass 2^53.
* ``ledger``: totals over closed periods, conserved or off by one fen.
* ``draw``, ``candidates``, ``value``, ``accept``, ``seed``, ``jury``: the
  panel draw with skip lists (the claimant, objectors, earlier jurors), pools
  of 1 to a few hundred, panels the pool can and cannot fill; the first
  indices of the stream; draw values at counters up to 2^64 - 1; rejection
  at the bound; witnessed seeds; juror pool roots.
"""

from __future__ import annotations

import random
from dataclasses import fields
from datetime import date
from typing import Any

from tests.server.verifier.rules_cases import normal
from verifiable.errors import MalformedError, RuleViolation, VerificationError
from verifiable.log.cosignature import Cosignature
from verifiable.pool.periods import Ledger, PeriodFigures, check_conservation, period_figures
from verifiable.pool.roster import (
    paid_claims_root,
    roster_inclusion_proof,
    roster_root,
    verify_roster_membership,
)
from verifiable.pool.rules import Rules
from verifiable.pool.sortition import (
    accept_index,
    candidate_indices,
    draw_panel,
    draw_value,
    juror_pool_root,
    rejection_bound,
    witnessed_seed,
)

__all__ = [
    "draw_cases",
    "figure_cases",
    "python_outcome",
    "roster_cases",
]

Case = dict[str, Any]
MAX = 2**53 - 1


def _id(rng: random.Random) -> str:
    return rng.randbytes(16).hex()


def _ids(rng: random.Random, n: int) -> list[str]:
    return sorted({_id(rng) for _ in range(n)})


def _size(rng: random.Random, top: int) -> int:
    p = 1 << rng.randint(0, top.bit_length() - 1)
    return max(0, rng.choice([p - 1, p, p + 1, rng.randint(0, top)]))


def _spoil_ids(rng: random.Random, ids: list[str]) -> tuple[list[object], str]:
    out: list[object] = list(ids)
    kind = rng.choice(["swap", "duplicate", "upper", "short", "number"])
    if kind == "swap" and len(out) > 1:
        i = rng.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    elif kind == "duplicate" and out:
        i = rng.randrange(len(out))
        out.insert(i, out[i])
    elif kind == "upper" and out:
        out[rng.randrange(len(out))] = "F" + str(out[0])[1:]
    elif kind == "short" and out:
        out[rng.randrange(len(out))] = str(out[0])[:-1]
    else:
        out.insert(rng.randint(0, len(out)), 7)
    return out, kind


def roster_cases(rng: random.Random, count: int) -> list[Case]:
    """Roster roots, membership proofs and paid-claims roots, honest and spoilt."""
    cases: list[Case] = []
    for n in range(count):
        ids = _ids(rng, _size(rng, 300))
        hint = (
            len(ids)
            if rng.random() < 0.7
            else rng.choice([None, len(ids) + 1, max(len(ids) - 1, 0)])
        )
        case: Case = {"kind": "roster", "ids": ids, "hint": hint, "mutation": ""}
        if hint not in (None, len(ids)):
            case["mutation"] = "hint"
        if n % 4 == 3:
            case["ids"], case["mutation"] = _spoil_ids(rng, ids)
        cases.append(case)
        if ids:
            cases += _membership(rng, ids)
        cases.append(_paid(rng))
    return cases


def _membership(rng: random.Random, ids: list[str]) -> list[Case]:
    member = rng.choice(ids)
    index, proof = roster_inclusion_proof(ids, member)
    root, size = roster_root(ids)
    honest: Case = {
        "kind": "membership",
        "member": member,
        "index": index,
        "size": size,
        "proof": [p.hex() for p in proof],
        "root": root.hex(),
        "mutation": "",
    }
    spoilt = dict(honest)
    kind = rng.choice(["proof byte", "index", "size", "member", "root", "drop", "bad id"])
    if kind == "proof byte" and proof:
        i = rng.randrange(len(proof))
        raw = bytearray(proof[i])
        raw[rng.randrange(32)] ^= 1 << rng.randrange(8)
        spoilt["proof"] = [*honest["proof"][:i], raw.hex(), *honest["proof"][i + 1 :]]
    elif kind == "index":
        spoilt["index"] = (index + rng.choice([1, -1])) % (size + 1)
    elif kind == "size":
        spoilt["size"] = size + rng.choice([1, -1, size])
    elif kind == "member" and len(ids) > 1:
        spoilt["member"] = next(i for i in ids if i != member)
    elif kind == "root":
        spoilt["root"] = root.hex()[:-2] + ("00" if root.hex()[-2:] != "00" else "01")
    elif kind == "drop" and proof:
        spoilt["proof"] = honest["proof"][:-1]
    else:
        spoilt["member"] = member[:-1] + "g"
    spoilt["mutation"] = kind
    return [honest, spoilt]


def _paid_list(rng: random.Random, n: int, big: bool = False) -> list[list[object]]:
    amounts = [
        rng.choice([MAX, MAX - 1, 2**52]) if big else rng.randint(1, 10**8) for _ in range(n)
    ]
    return [[_id(rng), a] for a in amounts]


def _paid(rng: random.Random) -> Case:
    paid: list[list[object]] = _paid_list(rng, _size(rng, 40))
    case: Case = {"kind": "paid", "paid": paid, "mutation": ""}
    if paid and rng.random() < 0.4:
        kind = rng.choice(["twice", "zero", "negative", "too big", "bool", "bad id", "float"])
        i = rng.randrange(len(paid))
        bad = {"zero": 0, "negative": -5, "too big": MAX + 1, "bool": True, "float": 1.5}
        if kind == "twice":
            paid.insert(i, [paid[i][0], 3])
        elif kind == "bad id":
            paid[i] = [str(paid[i][0]).upper(), paid[i][1]]
        else:
            paid[i] = [paid[i][0], bad[kind]]
        case["mutation"] = kind
    return case


# --- figures ------------------------------------------------------------------------


def _figures(rng: random.Random) -> Case:
    rules: dict[str, object] = {"share.fee_rate_bp": rng.choice([0, 1, 800, 9_999, 10_000])}
    if rng.random() < 0.3:
        rules["share.cap_per_claim_fen"] = rng.choice([1, 100, 5_000, MAX])
    big = rng.random() < 0.1
    paid = _paid_list(rng, rng.choice([0, 1, 2, 3, rng.randint(4, 30)]), big)
    size = rng.choice([0, 1, 2, 3, 7, 64, 1000, rng.randint(1, 10**6)] + ([MAX] if big else []))
    aid = sum(int(a) for _, a in paid)  # type: ignore[call-overload]
    fee = aid * int(rules["share.fee_rate_bp"]) // 10_000  # type: ignore[call-overload]
    refunds = rng.choice([0, 0, 1, rng.randint(0, 10**7)])
    # A surplus that puts the need one below, at or one above a multiple of
    # the roster, or anywhere, a deficit included.
    target = rng.randint(0, 5) * max(size, 1) + rng.choice([-1, 0, 1])
    surplus = rng.choice([aid + fee + refunds - target, rng.randint(-(10**9), 10**9), 0])
    surplus = max(-MAX, min(MAX, surplus))
    root = rng.randbytes(32).hex()
    period = date(rng.randint(2000, 2100), rng.randint(1, 12), rng.choice([7, 21, 28]))
    return {
        "kind": "figures",
        "period": period.isoformat(),
        "paid": paid,
        "refunds": refunds,
        "surplus_in": surplus,
        "roster_root": root,
        "roster_size": size,
        "rules": rules,
        "mutation": "",
    }


def _ledger(rng: random.Random) -> Case:
    closed: list[dict[str, int]] = []
    surplus = 0
    for _ in range(rng.randint(1, 5)):
        aid, fee, refunds = rng.randint(0, 10**6), rng.randint(0, 10**4), rng.randint(0, 10**4)
        collected = rng.randint(0, 2 * 10**6)
        surplus = surplus + collected - aid - fee - refunds
        closed.append(
            {
                "collected": collected,
                "claims_total": aid,
                "fee": fee,
                "refunds": refunds,
                "surplus_out": surplus,
            }
        )
    mutation = ""
    if rng.random() < 0.4:
        closed[rng.randrange(len(closed))]["collected"] += rng.choice([1, -1])
        mutation = "off by one fen"
    return {"kind": "ledger", "closed": closed, "mutation": mutation}


def figure_cases(rng: random.Random, count: int) -> list[Case]:
    """Period figures around their boundaries, and ledgers conserved or not."""
    out = [_figures(rng) for _ in range(count)]
    for case in out[: count // 5]:
        spoilt = dict(case, paid=[*case["paid"], [_id(rng), rng.choice([0, -1, MAX + 1])]])
        out.append(dict(spoilt, mutation="bad amount"))
    return out + [_ledger(rng) for _ in range(count // 2)]


# --- the draw -----------------------------------------------------------------------


def _draw(rng: random.Random) -> Case:
    pool = _ids(rng, _size(rng, 300) or 1)
    claim = _id(rng)
    excluded: list[str] = rng.sample(pool, min(len(pool), rng.choice([0, 1, 2, 5, 20])))
    excluded += [_id(rng) for _ in range(rng.randint(0, 3))]  # not in the pool
    eligible = len(pool) - len(set(excluded) & set(pool))
    size = rng.choice([1, 3, 5, 31, 63, eligible, eligible + 1, max(eligible - 1, 1)])
    case: Case = {
        "kind": "draw",
        "seed": rng.randbytes(32).hex(),
        "claim": claim,
        "round": rng.choice([1, 2, 3, MAX]),
        "appeal": rng.random() < 0.3,
        "pool": pool,
        "size": max(size, 1),
        "excluded": excluded,
        "mutation": "" if size <= eligible else "too few",
    }
    if rng.random() < 0.15:
        key, value = rng.choice(
            [
                ("seed", rng.randbytes(31).hex()),
                ("claim", claim.upper()),
                ("round", 0),
                ("round", MAX + 1),
                ("appeal", 1),
                ("size", 0),
                ("excluded", [7]),
            ]
        )
        case[key] = value
        case["mutation"] = f"bad {key}"
    return case


def draw_cases(rng: random.Random, count: int) -> list[Case]:
    """Panels, index streams, draw values, rejection, seeds and pool roots."""
    out: list[Case] = []
    for _ in range(count):
        out.append(_draw(rng))
        seed, claim = rng.randbytes(32).hex(), _id(rng)
        pool_size = rng.choice([0, 1, 2, 3, 255, 256, 257, rng.randint(1, 10**6), MAX])
        out.append(
            {
                "kind": "candidates",
                "seed": seed,
                "claim": claim,
                "round": rng.randint(1, 4),
                "appeal": rng.random() < 0.5,
                "pool_size": pool_size,
                "take": min(pool_size, rng.choice([1, 5, 40])),
                "mutation": "",
            }
        )
        counters = [0, 1, rng.randint(0, 2**64 - 1), 2**64 - 1, 2**64, -1]
        out.append(
            {
                "kind": "value",
                "seed": seed,
                "claim": claim,
                "round": rng.randint(1, 4),
                "appeal": rng.random() < 0.5,
                "counters": [str(c) for c in counters],
                "mutation": "",
            }
        )
        out.append(_accept(rng))
        out.append(_seed(rng))
    return [*out, {"kind": "jury", "ids": _ids(rng, _size(rng, 200)), "mutation": ""}]


def _accept(rng: random.Random) -> Case:
    n = rng.choice([1, 2, 3, 7, 255, 2**32 + 1, 2**63 + 1, 2**64 - 1, rng.randint(1, 2**64 - 1)])
    bound = rejection_bound(n)
    values = [0, bound - 1, bound, 2**64 - 1, rng.randint(0, 2**64 - 1), 2**64]
    sizes = [n, 0, 2**64]
    return {
        "kind": "accept",
        "values": [str(v) for v in values],
        "sizes": [str(s) for s in sizes],
        "mutation": "",
    }


def _seed(rng: random.Random) -> Case:
    cosignatures = [
        {
            "key_id": rng.randint(0, 2**32 - 1),
            "timestamp": str(rng.choice([0, rng.randint(0, 2**63 - 1), 2**63 - 1])),
            "signature": rng.randbytes(64).hex(),
        }
        for _ in range(rng.randint(0, 4))
    ]
    short = rng.random() < 0.2
    root = rng.randbytes(31 if short else 32).hex()
    mutation = "short root" if short else ""
    return {"kind": "seed", "root": root, "cosignatures": cosignatures, "mutation": mutation}


# --- the Python side ------------------------------------------------------------------


def _b(text: str) -> bytes | str:
    try:
        return bytes.fromhex(text) if len(text) % 2 == 0 else text
    except ValueError:
        return text


def _run(c: Case) -> object:
    kind = c["kind"]
    if kind == "roster":
        return roster_root(c["ids"], c["hint"])
    if kind == "membership":
        proof = [bytes.fromhex(p) for p in c["proof"]]
        verify_roster_membership(
            c["member"], c["index"], c["size"], proof, bytes.fromhex(c["root"])
        )
        return None
    if kind == "paid":
        return paid_claims_root([tuple(p) for p in c["paid"]])
    if kind == "figures":
        return _python_figures(c)
    if kind == "ledger":
        ledger = Ledger()
        for body in c["closed"]:
            ledger = Ledger(
                ledger.collected + body["collected"],
                ledger.aid + body["claims_total"],
                ledger.fees + body["fee"],
                ledger.refunds + body["refunds"],
                body["surplus_out"],
            )
        check_conservation(ledger)
        return [ledger.collected, ledger.aid, ledger.fees, ledger.refunds, ledger.surplus]
    return _python_draw(c)


def _python_figures(c: Case) -> object:
    rules = Rules.from_json(c["rules"])
    paid = [(str(p[0]), p[1]) for p in c["paid"]]
    figures = period_figures(
        date.fromisoformat(c["period"]),
        paid,
        c["refunds"],
        c["surplus_in"],
        bytes.fromhex(c["roster_root"]),
        c["roster_size"],
        rules,
    )
    return {f.name: getattr(figures, f.name) for f in fields(PeriodFigures)}


def _python_draw(c: Case) -> object:
    kind = c["kind"]
    if kind == "draw":
        seed = _b(c["seed"])
        args = (seed, c["claim"], c["round"], c["appeal"], c["pool"], c["size"], c["excluded"])
        return draw_panel(*args)  # type: ignore[arg-type]
    if kind == "candidates":
        stream = candidate_indices(
            bytes.fromhex(c["seed"]), c["claim"], c["round"], c["appeal"], c["pool_size"]
        )
        return [next(stream) for _ in range(c["take"])]
    if kind == "value":
        seed = bytes.fromhex(c["seed"])
        return [
            _refusal(draw_value, seed, c["claim"], c["round"], c["appeal"], int(n))
            for n in c["counters"]
        ]
    if kind == "accept":
        return [[_refusal(accept_index, int(v), int(s)) for v in c["values"]] for s in c["sizes"]]
    if kind == "seed":
        cosignatures = [
            Cosignature("w", x["key_id"], int(x["timestamp"]), bytes.fromhex(x["signature"]))
            for x in c["cosignatures"]
        ]
        return witnessed_seed(_b(c["root"]), cosignatures)  # type: ignore[arg-type]
    if kind == "jury":
        return juror_pool_root(c["ids"])
    raise ValueError(f"no case kind {kind}")


def _refusal(f: Any, *args: object) -> object:
    """A value, or the refusal's class in its place, for lists of probes."""
    try:
        return f(*args)
    except MalformedError:
        return "malformed"


def python_outcome(case: Case) -> Case:
    """What ``verifiable/pool/`` says of ``case``: ``{verdict, value}``, the
    value being the rule's id on a rule violation."""
    try:
        value = _run(case)
    except RuleViolation as e:
        return {"verdict": "verification", "value": e.rule}
    except MalformedError:
        return {"verdict": "malformed", "value": None}
    except VerificationError:
        return {"verdict": "verification", "value": None}
    return {"verdict": "ok", "value": normal(value)}


def big_cases(rng: random.Random) -> list[Case]:
    """Large rosters and pools: a roster of 2^15 + 1 ids and a proof in it,
    a panel of 255 from a pool of 10,000 with a hundred skips."""
    ids = _ids(rng, (1 << 15) + 1)
    pool = ids[:10_000]
    excluded = rng.sample(pool, 100)
    draw = {
        "kind": "draw",
        "seed": rng.randbytes(32).hex(),
        "claim": _id(rng),
        "round": 1,
        "appeal": True,
        "pool": pool,
        "size": 255,
        "excluded": excluded,
        "mutation": "",
    }
    roster: Case = {"kind": "roster", "ids": ids, "hint": len(ids), "mutation": ""}
    return [roster, *_membership(rng, ids), draw, {"kind": "jury", "ids": pool, "mutation": ""}]
