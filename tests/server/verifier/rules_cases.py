"""Generated rulebooks for the equivalence tests of ``rules.js``, and what
``verifiable/pool/rules.py`` says of each.

A case is a schedule of ``pool.rules`` entries (``seq``, ``time``,
``effective`` as POSIX seconds, ``rules`` as the body holds them) and the
probes to ask of every rulebook it adopts: the accessors (quorum, approval,
fee, capped share, deduction day, cover, windows, caps) on inputs around
their rounding and calendar boundaries, the next notice date after times
around notice moments, and which change is in force at times around each
effective time.  The rule sets are the simulator's and the demo's, the
defaults, and single-rule mutations of each: values in range, at its ends,
past them, of the wrong type, unknown names, witness keys good and bad; the
schedules move effective times onto, before and after the entry's own time
and the last change's.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from server.demo import DEMO_RULES
from verifiable.errors import MalformedError, RuleViolation, VerificationError
from verifiable.log.bodies import AgeBand, PoolRules
from verifiable.log.cosignature import CosignatureSigner
from verifiable.log.fields import format_date, read_shape
from verifiable.log.note import Ed25519Signer
from verifiable.pool.rules import DEFAULT_RULES, Rulebook, Rules, moment, next_notice

__all__ = ["normal", "python_rules_outcome", "rulebook_cases"]

Case = dict[str, Any]

#: The simulator's rule sets (tests/verifiable/testonly) and the demo's.
REAL_RULES: list[dict[str, object]] = [
    {},
    dict(DEMO_RULES),
    {
        "juror.seasoning_days": 0,
        "member.waiting_days": 10,
        "panel.size": 5,
        "panel.max_rounds": 2,
        "claim.objection_days": 2,
        "panel.voting_days": 2,
    },
    {"juror.seasoning_days": 0, "member.waiting_days": 10, "panel.size": 5},
    {"member.waiting_days": 20},
    {
        "period.notice_days": [1, 10, 20, 27],
        "period.deduction_days": [5, 15, 25, 28],
    },
]


def _witness(i: int) -> CosignatureSigner:
    return CosignatureSigner(f"witness{i}.example/w", bytes([i + 1]) * 32)


def _vkeys(rng: random.Random) -> list[str]:
    return [_witness(i).verifier().to_vkey() for i in rng.sample(range(6), rng.randint(0, 4))]


def normal(value: object) -> object:
    """A value in the JSON the page gives back: integers and times as
    decimal strings, bytes as hex, dates as YYYY-MM-DD."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, datetime):
        return str(int(value.timestamp()))
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, list | tuple):
        return [normal(v) for v in value]
    if isinstance(value, dict):
        return {k: normal(v) for k, v in value.items()}
    raise TypeError(f"no normal form for {type(value).__name__}")


# --- mutations of a rule set ----------------------------------------------------

# No null and no float: a pool.rules body holding one is refused as it is
# decoded, before the rulebook reads it.
_ODD = [True, False, "7", "", [], {}, -1, 0, 1, 2**53 - 1, 2**53 // 3, "18-39", "x"]


def _candidates(rng: random.Random, name: str) -> list[object]:
    bands = [b.value for b in AgeBand]
    if name.endswith("bands"):
        return [
            rng.sample(bands, rng.randint(0, 3)),
            ["18-39", "18-39"],
            ["18-40"],
            [*bands, "0-17"],
        ]
    if name == "cover.caps":
        caps = [{"band": b, "cap": rng.choice([1, 10**6, 2**53 - 1])} for b in bands]
        return [
            caps,
            caps[1:],
            caps[:1],
            [{"band": "18-39", "cap": 0}],
            [{"band": "18-39"}],
            [{"band": "18-39", "cap": 5, "x": 1}],
            [caps[0], caps[0]],
            ["18-39"],
            [],
        ]
    if name in ("cover.categories", "override.allowed"):
        return [["a"], [], ["cancer", "cancer"], ["Cancer"], ["a" * 32], ["a" * 33], ["x-1.y_z"]]
    if name.endswith("_days") and name.startswith("period."):
        return [
            [7],
            [1, 28],
            [7, 21],
            [21, 7],
            [0],
            [29],
            [1, 2, 3],
            list(range(1, 13)),
            list(range(1, 14)),
        ]
    if name == "draw.witnesses":
        key = _witness(0).verifier().to_vkey()
        plain = Ed25519Signer("witness0.example/w", bytes(32)).verifier().to_vkey()
        return [_vkeys(rng), [key, key], [plain], [key[:-2] + "AA"], ["x"], [7], [key] * 17]
    return [
        rng.randint(-2, 130),
        rng.randint(0, 12_000),
        rng.choice([0, 1, 3, 28, 90, 365, 3650, 3651]),
    ]


def mutate(rng: random.Random, rules: dict[str, object]) -> tuple[dict[str, object], str]:
    """One change to ``rules``: a rule set to another value, or an unknown name."""
    out = dict(rules)
    if rng.random() < 0.05:
        out["panel.sizes"] = 3
        return out, "unknown rule"
    name = rng.choice(sorted(Rules.from_json({}).to_json()))
    pool = _candidates(rng, name) + _ODD
    out[name] = rng.choice(pool)
    if name == "draw.witnesses" and rng.random() < 0.5:
        out["draw.witnesses_required"] = rng.randint(0, 5)
    return out, name


# --- schedules ------------------------------------------------------------------


def _time(rng: random.Random) -> int:
    start = datetime(rng.choice([1970, 2000, 2024, 2025, 2027, 2099]), 1, 1, tzinfo=UTC)
    return int(start.timestamp()) + rng.randint(0, 3 * 366 * 86400)


def _around(t: int) -> list[int]:
    return [t - 1, t, t + 1]


def _moments(rng: random.Random, start: int, count: int) -> list[int]:
    """Times on and around notice-day moments and month ends after ``start``."""
    out: list[int] = []
    day = datetime.fromtimestamp(start, UTC).date()
    for _ in range(count):
        d = day + timedelta(days=rng.randint(0, 400))
        d = d.replace(day=rng.choice([1, 7, 14, 20, 21, 28, d.day]))
        t = int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())
        out += _around(t)
    out += [_time(rng) for _ in range(3)]
    return out


def _dates(rng: random.Random) -> list[str]:
    fixed = [
        "2024-02-29",
        "2023-02-28",
        "2025-12-31",
        "2025-12-28",
        "2100-02-28",
        "2000-02-29",
        "2025-01-07",
    ]
    more = [date(rng.randint(1971, 2200), rng.randint(1, 12), rng.randint(1, 28)) for _ in range(4)]
    return fixed + [format_date(d) for d in more]


def _probe(rng: random.Random) -> Case:
    big = 2**53 - 1
    return {
        "panels": [1, 2, 3, 4, 5, 31, 63, 64, 127, 255, rng.randint(1, 10**6)],
        "votes": [[a, v] for v in (0, 1, 2, 3, 4, 10, 31, 255) for a in {0, v // 2, v // 2 + 1, v}],
        "aids": [0, 1, 124, 125, 9_999, 10_000, 12_500, rng.randint(0, 10**9), big, big - 7],
        "shares": [[s, c] for s in (0, 1, 9_999, big) for c in (0, 1, 3)],
        "dates": _dates(rng),
        "times": _moments(rng, _time(rng), 4),
        "bands": [b.value for b in AgeBand],
        "earlier": [0, 1, 2, 99, 100],
    }


def _schedule(rng: random.Random, sets: list[dict[str, object]]) -> list[Case]:
    entries: list[Case] = []
    seq, time = 0, _time(rng)
    for i, rules in enumerate(sets):
        if i == 0:
            effective = time
        else:
            seq += rng.randint(1, 1000)
            time = max(time, effective) + rng.randint(-86400, 90 * 86400)
            effective = time + rng.choice([1, 86400, rng.randint(2, 60 * 86400)])
            if rng.random() < 0.25:
                # In force from exactly a period's moment (the default calendar's).
                effective = int(moment(next_notice(_at(time), DEFAULT_RULES)).timestamp())
        entries.append({"seq": seq, "time": time, "effective": effective, "rules": rules})
    return entries


def _bend(rng: random.Random, entries: list[Case]) -> str:
    """Move one schedule time onto or past a boundary the rulebook guards."""
    i = rng.randrange(len(entries))
    e = entries[i]
    if i == 0:
        kind = rng.choice(["genesis seq", "genesis effective"])
        if kind == "genesis seq":
            e["seq"] = rng.choice([1, 5])
        else:
            e["effective"] = e["time"] + rng.choice([-1, 1, 86400])
        return kind
    before = entries[i - 1]["effective"]
    kind = rng.choice(
        ["effective at its time", "effective before its time", "effective at last", "before last"]
    )
    e["effective"] = {
        "effective at its time": e["time"],
        "effective before its time": e["time"] - 1,
        "effective at last": before,
        "before last": before - 1,
    }[kind]
    if kind in ("effective at last", "before last"):
        e["time"] = min(e["time"], e["effective"] - 1)
    return kind


def rulebook_cases(rng: random.Random, count: int) -> list[Case]:
    """``count`` schedules of one to four rulebooks: real, mutated, bent."""
    cases: list[Case] = []
    for n in range(count):
        sets = [dict(rng.choice(REAL_RULES)) for _ in range(rng.randint(1, 4))]
        mutation = ""
        if n % 3 == 1:
            i = rng.randrange(len(sets))
            sets[i], mutation = mutate(rng, sets[i])
        if rng.random() < 0.3:
            sets[-1] = {**sets[-1], "draw.witnesses": _vkeys(rng)}
            sets[-1]["draw.witnesses_required"] = rng.randint(0, len(sets[-1]["draw.witnesses"]))  # type: ignore[arg-type]
        entries = _schedule(rng, sets)
        if n % 5 == 2:
            mutation = _bend(rng, entries)
        times = [t for e in entries for t in _around(e["effective"])] + [entries[0]["time"] - 86400]
        probe = _probe(rng)
        probe["times"] = probe["times"] + [t for e in entries for t in _around(e["time"])]
        cases.append(
            {
                "kind": "rulebook",
                "entries": entries,
                "times": times,
                "probe": probe,
                "mutation": mutation,
            }
        )
    return cases


# --- the Python side -------------------------------------------------------------


def _at(t: int) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _probe_rules(rules: Rules, p: Case) -> dict[str, object]:
    times = [_at(t) for t in p["times"]]
    return {
        "json": rules.to_json(),
        "quorum": [rules.quorum(n) for n in p["panels"]],
        "approves": [rules.approves(a, v) for a, v in p["votes"]],
        "fee": [rules.fee(a) for a in p["aids"]],
        "capped": [rules.capped_share(s, c) for s, c in p["shares"]],
        "deduction": [rules.deduction_date(date.fromisoformat(d)) for d in p["dates"]],
        "cap": [rules.cap(AgeBand(b)) for b in p["bands"]],
        "objection_allowed": [rules.objection_allowed(n) for n in p["earlier"]],
        "windows": [
            [
                rules.covered_from(t),
                rules.seasoned_from(t),
                rules.objections_until(t),
                rules.votes_until(t),
                rules.appeal_until(t),
                next_notice(t, rules),
            ]
            for t in times
        ],
        "panel": [
            rules.appeals,
            rules.appeal_panel_size,
            rules.panel_size_for(False),
            rules.panel_size_for(True),
        ],
    }


def _rulebook(case: Case) -> object:
    book = Rulebook()
    for e in case["entries"]:
        body = PoolRules(
            effective=_at(e["effective"]), rules=read_shape(e["rules"], "rules"), reason="r"
        )
        book.adopt(book.propose(e["seq"], _at(e["time"]), body))
    changes = book.changes
    in_force = []
    for t in case["times"]:
        rules = book.in_force(_at(t))
        in_force.append(next((i for i, c in enumerate(changes) if c.rules is rules), -1))
    return {
        "in_force": in_force,
        "changes": [[c.seq, c.effective, _probe_rules(c.rules, case["probe"])] for c in changes],
    }


def python_rules_outcome(case: Case) -> Case:
    """What ``verifiable/pool/rules.py`` says of ``case``: ``{verdict, value}``,
    the value being the rule's id on a rule violation."""
    try:
        value = _rulebook(case)
    except RuleViolation as e:
        return {"verdict": "verification", "value": e.rule}
    except MalformedError:
        return {"verdict": "malformed", "value": None}
    except VerificationError:
        return {"verdict": "verification", "value": None}
    return {"verdict": "ok", "value": normal(value)}
