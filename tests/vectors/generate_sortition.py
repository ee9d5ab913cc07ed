"""Generate tests/vectors/sortition-panels.json from fixed inputs.

    python tests/vectors/generate_sortition.py           # rewrite the file
    python tests/vectors/generate_sortition.py --check   # exit 1 if it differs

The vectors follow docs/format.md (section 5): member-set (juror pool) roots,
panel draws with a trace of their first draw values, the ``pool_too_small``
case, vote commitments and a paid-claims root.  Every input is derived from
fixed labels with SHA-256, so the file is the same on every run and machine;
tests/verifiable/test_sortition.py regenerates it and compares bytes, and
recomputes the panels with its own reference sampler written from the doc.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from verifiable.errors import RuleViolation
from verifiable.log.bodies import Choice
from verifiable.pool.roster import paid_claims_root
from verifiable.pool.sortition import (
    accept_index,
    draw_input,
    draw_panel,
    draw_value,
    juror_pool_root,
    rejection_bound,
)
from verifiable.pool.votes import canonical_vote, vote_commitment

OUTPUT = Path(__file__).with_name("sortition-panels.json")
TRACE_LENGTH = 8


def _h(label: str) -> bytes:
    return hashlib.sha256(label.encode("utf-8")).digest()


def _id(label: str) -> str:
    """A 32-hex-character id derived from ``label``."""
    return _h(label)[:16].hex()


def _pool(name: str, size: int) -> list[str]:
    return sorted(_id(f"mutualog test pool {name} member {i}") for i in range(size))


POOLS: dict[str, list[str]] = {
    "p1": _pool("p1", 1),
    "p7": _pool("p7", 7),
    "p12": _pool("p12", 12),
    "p200": _pool("p200", 200),
}


def _case(
    name: str,
    pool: str,
    size: int,
    *,
    round: int = 1,
    appeal: bool = False,
    excluded: list[str] | None = None,
) -> dict[str, Any]:
    seed = _h(f"mutualog test seed {name}")
    claim = _id(f"mutualog test claim {name}")
    excluded = sorted(excluded or [])
    ids = POOLS[pool]
    case: dict[str, Any] = {
        "name": name,
        "seed": seed.hex(),
        "claim": claim,
        "round": round,
        "appeal": appeal,
        "pool": pool,
        "size": size,
        "excluded": excluded,
    }
    trace = []
    for counter in range(TRACE_LENGTH):
        value = draw_value(seed, claim, round, appeal, counter)
        index = accept_index(value, len(ids))
        trace.append(
            {
                "counter": counter,
                "input": draw_input(seed, claim, round, appeal, counter).hex(),
                "value": f"{value:016x}",
                "index": index,
            }
        )
    case["trace"] = trace
    try:
        case["panel"] = list(draw_panel(seed, claim, round, appeal, ids, size, excluded))
    except RuleViolation as e:
        case["error"] = e.rule
    return case


def _cases() -> list[dict[str, Any]]:
    p7, p12, p200 = POOLS["p7"], POOLS["p12"], POOLS["p200"]
    panel_31 = _case("panel-31", "p200", 31, excluded=[_id("claimant not a juror"), *p200[5:7]])
    return [
        _case("single", "p1", 1),
        _case("small", "p7", 3, excluded=[p7[2]]),
        panel_31,
        _case(
            "redraw-round-2",
            "p200",
            31,
            round=2,
            excluded=[_id("claimant not a juror"), *p200[5:7], *panel_31["panel"]],
        ),
        _case("appeal-63", "p200", 63, appeal=True, excluded=[p200[0]]),
        _case("every-eligible", "p12", 9, excluded=[p12[1], p12[4], p12[11]]),
        _case("pool-too-small", "p12", 9, excluded=[p12[0], p12[3], p12[7], p12[10]]),
    ]


def _votes() -> list[dict[str, Any]]:
    rows = [
        ("approve-with-reason", 1, Choice.APPROVE, "Diagnosis and dates match the notice."),
        ("reject-empty-reason", 2, Choice.REJECT, ""),
        ("unicode-reason", 1, Choice.APPROVE, "病历与公示一致\uff1b金额在保额内。"),
    ]
    out = []
    for name, round, choice, reason in rows:
        claim = _id(f"mutualog test vote claim {name}")
        juror = _id(f"mutualog test vote juror {name}")
        salt = _h(f"mutualog test vote salt {name}")
        out.append(
            {
                "name": name,
                "claim": claim,
                "round": round,
                "juror": juror,
                "choice": choice.value,
                "reason": reason,
                "salt": salt.hex(),
                "canonical_vote": canonical_vote(claim, round, juror, choice, reason).decode(),
                "commitment": vote_commitment(claim, round, juror, choice, reason, salt).hex(),
            }
        )
    return out


def _paid_claims() -> list[dict[str, Any]]:
    lists = {
        "empty": [],
        "three": [
            (_id("mutualog test paid claim 1"), 30_000_000),
            (_id("mutualog test paid claim 2"), 1),
            (_id("mutualog test paid claim 3"), 9_999_999_999),
        ],
    }
    return [
        {
            "name": name,
            "paid": [[claim, amount] for claim, amount in paid],
            "root": paid_claims_root(paid).hex(),
        }
        for name, paid in lists.items()
    ]


def generate() -> bytes:
    """The vector file's bytes."""
    data = {
        "description": (
            "Generated by tests/vectors/generate_sortition.py from fixed labels; the "
            "layouts are specified in docs/format.md (section 5). Pools are member-set "
            "trees (root = RFC 9162 MTH, leaf hash SHA-256(0x00 || id ASCII)); a trace "
            "lists the first draw inputs, values (uint64, hex) and accepted indices "
            "(null = rejected); a case has either 'panel' (draw order) or 'error'."
        ),
        "pools": {
            name: {
                "size": len(ids),
                "root": juror_pool_root(ids).hex(),
                "rejection_bound": f"{rejection_bound(len(ids)):x}",
                "ids": ids,
            }
            for name, ids in POOLS.items()
        },
        "panels": _cases(),
        "vote_commitments": _votes(),
        "paid_claims": _paid_claims(),
    }
    return (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    data = generate()
    if args.check:
        same = OUTPUT.exists() and OUTPUT.read_bytes() == data
        print(f"{OUTPUT.name}: {'up to date' if same else 'DIFFERS'}")
        return 0 if same else 1
    OUTPUT.write_bytes(data)
    print(f"wrote {OUTPUT.name} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
