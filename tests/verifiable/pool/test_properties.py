"""Property tests over honest pool histories from the independent simulator.

1. Replay accepts every honest history, whatever the seed and configuration
   (rule changes, a per-claim share cap that carries deficits, panels of
   several sizes).
2. Money is conserved to the fen in every period and over the whole life of
   the pool.
3. Every single-field mutation of an honest history that changes a
   rule-relevant value is rejected.  A mutation edits one body field of one
   entry, the log is re-chained (every later ``prev`` recomputed), and the
   result replayed with ``check_seeds=False`` — so a mutation cannot be
   caught merely because re-chaining changed the log's roots and with them
   the seeds; it must break a rule of its own.

Fields excluded by construction, because no rule reads them (changing them
is genuinely irrelevant): free texts — ``pool.rules.reason``,
``claim.noticed.text``, ``claim.objected.text``, ``claim.answered.text``,
``claim.appealed.reason``, ``juror.removed.reason``,
``operator.override.reason``, ``operator.override.details`` and the
``target`` of a ``note`` override; and ``claim.filed.evidence`` (opaque
salted commitments).  Fields whose change matters only in context are
mutated only where it matters, as the mutator says: a member id or age band
only if a later entry or a period's roster depends on it, a requested amount
only if the claim is noticed, a vote commitment only if it is revealed, a
rule only if a period closes under it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import fields
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifiable.errors import MalformedError, RuleViolation
from verifiable.log.bodies import BODY_TYPES
from verifiable.log.entry import GENESIS_PREV, entry_leaf_hash
from verifiable.log.fields import format_date, format_time, read_date, read_time
from verifiable.pool.replay import replay
from verifiable.testonly.simulate import SimConfig, Simulation

BASE_RULES = {
    "juror.seasoning_days": 0,
    "member.waiting_days": 10,
    "panel.size": 5,
    "panel.max_rounds": 2,
    "claim.objection_days": 2,
    "panel.voting_days": 2,
}


def _config(days: int, variant: int) -> SimConfig:
    rules: dict[str, Any] = dict(BASE_RULES)
    changes: tuple[tuple[int, dict[str, Any]], ...] = ()
    if variant == 1:
        changes = ((days // 2, {"share.fee_rate_bp": 650, "panel.size": 3}),)
    elif variant == 2:
        rules["share.cap_per_claim_fen"] = 10_000
    elif variant == 3:
        rules["panel.size"] = 7
        changes = ((days // 3, {"period.notice_days": [1, 15], "period.deduction_days": [8, 22]}),)
    return SimConfig(
        days=days,
        initial_members=40,
        initial_jurors=40,
        joins_per_day=150,
        leaves_per_day=40,
        jurors_per_day=60,
        claims_per_day=90,
        rules=rules,
        rule_changes=changes,
    )


@cache
def _history(seed: int, days: int, variant: int) -> tuple[bytes, ...]:
    return tuple(Simulation(random.Random(seed), _config(days, variant)).run())


def _check_money(log: tuple[bytes, ...]) -> None:
    result = replay(log)
    periods = result.state.closed_periods
    surplus = collected = spent = 0
    for p in periods:
        assert p.surplus_in == surplus
        assert p.surplus_in + p.collected == p.claims_total + p.fee + p.refunds + p.surplus_out
        assert p.collected == p.share * p.sharing and p.sharing == p.roster_size
        assert p.fee == p.claims_total * p.fee_rate_bp // 10_000
        need = p.claims_total + p.fee + p.refunds - p.surplus_in
        if need > 0 and p.sharing and p.share * p.sharing < need:
            assert p.surplus_out < 0  # only a capped share leaves a deficit
        surplus = p.surplus_out
        collected += p.collected
        spent += p.claims_total + p.fee + p.refunds
        assert collected == spent + surplus
    ledger = result.summary.ledger
    assert (ledger.collected, ledger.surplus) == (collected, surplus)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), days=st.integers(30, 75), variant=st.integers(0, 3))
def test_honest_histories_replay_and_conserve_money(seed: int, days: int, variant: int) -> None:
    _check_money(_history(seed, days, variant))


def test_the_histories_cover_the_pool_s_life() -> None:
    sim = Simulation(random.Random(3), _config(90, 1))
    log = tuple(sim.run())
    _check_money(log)
    for kind in (
        "claim.objected",
        "claim.appealed",
        "member.left",
        "juror.removed",
        "operator.override",
        "pool.rules",
        "decided.approved",
        "decided.rejected",
        "decided.no_quorum",
        "decided.approved.appeal",
        "outcome.ineligible",
        "outcome.withdrawn",
        "outcome.paid",
    ):
        assert sim.stats[kind] > 0, kind


# -- mutations ------------------------------------------------------------

Obj = dict[str, Any]
Mutator = Callable[[list[Obj], int, Obj], Any]
NEW_ID = "5eed" * 8


def _later(objs: list[Obj], i: int) -> list[Obj]:
    return objs[i + 1 :]


def _mentioned_later(objs: list[Obj], i: int, value: str) -> bool:
    return any(value in json.dumps(o["body"]) for o in _later(objs, i))


def _closes_later(objs: list[Obj], i: int) -> bool:
    return any(o["type"] == "period.closed" for o in _later(objs, i))


def _flip(h: str) -> str:
    return ("1" if h[0] == "0" else "0") + h[1:]


def _day(value: str, days: int = 1) -> str:
    return format_date(read_date(value, "d") + timedelta(days=days))


def _second(value: str, seconds: int = 1) -> str:
    return format_time(read_time(value, "t") + timedelta(seconds=seconds))


def _always(value: Callable[[Any], Any], name: str) -> Mutator:
    return lambda objs, i, body: value(body[name])


def _id_if_used(name: str) -> Mutator:
    def mutate(objs: list[Obj], i: int, body: Obj) -> Any:
        if _mentioned_later(objs, i, body[name]) or _closes_later(objs, i):
            return NEW_ID
        return None

    return mutate


def _other_band(band: str) -> str:
    return "40-59" if band == "18-39" else "18-39"


def _joined_band(objs: list[Obj], i: int, body: Obj) -> Any:
    member = body["member"]
    later = _later(objs, i)
    if any(o["type"] == "juror.qualified" and o["body"]["member"] == member for o in later):
        return "0-17"
    claims = {
        o["body"]["claim"]
        for o in later
        if o["type"] == "claim.filed" and o["body"]["member"] == member
    }
    if any(o["type"] == "claim.noticed" and o["body"]["claim"] in claims for o in later):
        return _other_band(body["age_band"])
    return None


def _if_noticed(value: Any) -> Mutator:
    def mutate(objs: list[Obj], i: int, body: Obj) -> Any:
        later = _later(objs, i)
        if any(o["type"] == "claim.noticed" and o["body"]["claim"] == body["claim"] for o in later):
            return value
        return None

    return mutate


def _revealed_commitment(objs: list[Obj], i: int, body: Obj) -> Any:
    key = (body["claim"], body["round"], body["juror"])
    for o in _later(objs, i):
        b = o["body"]
        if o["type"] == "vote.revealed" and (b["claim"], b["round"], b["juror"]) == key:
            return _flip(body["commitment"])
    return None


def _rules_field(objs: list[Obj], i: int, body: Obj) -> Any:
    if not _closes_later(objs, i):
        return None
    rate = body["rules"].get("share.fee_rate_bp", 800)
    return {**body["rules"], "share.fee_rate_bp": rate + 1}


def _effective(objs: list[Obj], i: int, body: Obj) -> Any:
    own = objs[i]["time"]
    return _second(own) if i == 0 else own


def _override_target(objs: list[Obj], i: int, body: Obj) -> Any:
    return NEW_ID if body["action"] == "claim.withdraw" else None


def _other_outcome(value: str) -> str:
    return {"approved": "rejected", "rejected": "approved", "no_quorum": "rejected"}.get(
        value, "rejected"
    )


def _plus(name: str) -> Mutator:
    return _always(lambda v: v + 1, name)


def _hash(name: str) -> Mutator:
    return _always(_flip, name)


MUTATORS: dict[str, dict[str, Mutator]] = {
    "pool.rules": {"effective": _effective, "rules": _rules_field},
    "member.joined": {"member": _id_if_used("member"), "age_band": _joined_band},
    "member.left": {
        "member": _always(lambda v: NEW_ID, "member"),
        "reason": _always(
            lambda v: "voluntary" if v == "waiting_period" else "waiting_period", "reason"
        ),
        "refund": _plus("refund"),
    },
    "claim.filed": {
        "claim": _id_if_used("claim"),
        "member": _always(lambda v: NEW_ID, "member"),
        "category": _always(lambda v: "cosmetic", "category"),
        "amount": _if_noticed(1),
        "diagnosed": lambda objs, i, body: format_date(
            read_time(objs[i]["time"], "t").date() + timedelta(days=1)
        ),
    },
    "claim.noticed": {
        "claim": _always(lambda v: NEW_ID, "claim"),
        "amount": _plus("amount"),
        "age_band": _always(_other_band, "age_band"),
        "category": _always(lambda v: "stroke" if v != "stroke" else "cancer", "category"),
        "objections_until": _always(_second, "objections_until"),
    },
    "claim.objected": {
        "claim": _always(lambda v: NEW_ID, "claim"),
        "member": _always(lambda v: NEW_ID, "member"),
    },
    "claim.answered": {
        "claim": _always(lambda v: NEW_ID, "claim"),
        "objection": _plus("objection"),
    },
    "claim.appealed": {"claim": _always(lambda v: NEW_ID, "claim")},
    "juror.qualified": {"member": _always(lambda v: NEW_ID, "member")},
    "juror.removed": {"member": _always(lambda v: NEW_ID, "member")},
    "jury.pool": {
        "period": _always(_day, "period"),
        "root": _hash("root"),
        "size": _plus("size"),
    },
    "panel.drawn": {
        "claim": _always(lambda v: NEW_ID, "claim"),
        "round": _plus("round"),
        "appeal": _always(lambda v: not v, "appeal"),
        "pool_period": _always(_day, "pool_period"),
        "seed_size": _plus("seed_size"),
        "seed": _hash("seed"),
        "jurors": _always(lambda v: [NEW_ID, *v[1:]], "jurors"),
        "votes_until": _always(_second, "votes_until"),
    },
    "vote.sealed": {
        "claim": _always(lambda v: NEW_ID, "claim"),
        "round": _plus("round"),
        "juror": _always(lambda v: NEW_ID, "juror"),
        "commitment": _revealed_commitment,
    },
    "vote.revealed": {
        "claim": _always(lambda v: NEW_ID, "claim"),
        "round": _plus("round"),
        "juror": _always(lambda v: NEW_ID, "juror"),
        "choice": _always(lambda v: "reject" if v == "approve" else "approve", "choice"),
        "reason": _always(lambda v: v + "!", "reason"),
        "salt": _hash("salt"),
    },
    "claim.decided": {
        "claim": _always(lambda v: NEW_ID, "claim"),
        "round": _plus("round"),
        "approvals": _plus("approvals"),
        "rejections": _plus("rejections"),
        "outcome": _always(_other_outcome, "outcome"),
        "amount": _plus("amount"),
    },
    "claim.paid": {
        "claim": _always(lambda v: NEW_ID, "claim"),
        "amount": _plus("amount"),
        "period": _always(_day, "period"),
    },
    "period.closed": {
        "period": _always(_day, "period"),
        **{
            name: _plus(name)
            for name in (
                "claims_count",
                "claims_total",
                "fee",
                "fee_rate_bp",
                "refunds",
                "surplus_in",
                "surplus_out",
                "sharing",
                "share",
                "collected",
                "roster_size",
            )
        },
        "claims_root": _hash("claims_root"),
        "roster_root": _hash("roster_root"),
    },
    "operator.override": {
        "action": _always(lambda v: "bogus.action", "action"),
        "target": _override_target,
    },
}

EXCLUDED = {
    "pool.rules": {"reason"},
    # Simulated filings never name a band (their members stay in the band
    # they joined in); test_scenarios.py names one (rule claim.age_band).
    "claim.filed": {"evidence", "age_band"},
    # Simulated notices carry no facts, summary or redacted copies;
    # test_notice_check.py breaks each rule of them.
    "claim.noticed": {"text", "facts", "summary", "redacted"},
    "claim.objected": {"text"},
    "claim.answered": {"text"},
    "claim.appealed": {"reason"},
    "juror.removed": {"reason"},
    # These histories' rules name no witnesses; test_witnessed_draw.py
    # mutates the witnessed checkpoint of histories whose rules do.
    "panel.drawn": {"witnessed"},
    "operator.override": {"reason", "details"},
    # Simulated logs erase nothing; test_erasure_entry.py mutates data.erased.
    "data.erased": {"kind", "subject", "documents", "reason"},
    # Simulated logs publish no page; test_verifier_page.py breaks its rules.
    "verifier.published": {"sha256", "size", "build"},
}


def test_every_body_field_is_mutated_or_excluded() -> None:
    for type_, cls in BODY_TYPES.items():
        names = {f.name for f in fields(cls)}
        assert set(MUTATORS.get(type_, {})) | EXCLUDED.get(type_, set()) == names, type_
        assert not set(MUTATORS.get(type_, {})) & EXCLUDED.get(type_, set())


def _mutated(log: tuple[bytes, ...], i: int, name: str) -> list[bytes] | None:
    objs = [json.loads(d) for d in log]
    body = objs[i]["body"]
    value = MUTATORS[objs[i]["type"]][name](objs, i, body)
    if value is None or value == body[name]:
        return None
    body[name] = value
    out: list[bytes] = list(log[:i])
    prev = entry_leaf_hash(log[i - 1]) if i else GENESIS_PREV
    for obj in objs[i:]:
        obj["prev"] = prev.hex()
        data = rfc8785.dumps(obj)
        out.append(data)
        prev = entry_leaf_hash(data)
    return out


def _assert_rejected(log: tuple[bytes, ...], i: int, name: str) -> bool:
    mutated = _mutated(log, i, name)
    if mutated is None:
        return False
    try:
        replay(mutated, check_seeds=False)
    except (RuleViolation, MalformedError) as e:
        if isinstance(e, RuleViolation):
            assert e.seq is not None and e.seq >= i
        return True
    raise AssertionError(f"mutating {name} of entry {i} ({json.loads(log[i])['type']}) passed")


def test_every_kind_of_mutation_is_rejected() -> None:
    log = _history(12, 60, 0)
    types = [json.loads(d)["type"] for d in log]
    done: set[tuple[str, str]] = set()
    for type_, mutators in MUTATORS.items():
        at = [i for i, t in enumerate(types) if t == type_]
        for name in mutators:
            # The first and last entries of the type, then any applicable one.
            for i in (*at[:3], *at[-3:], *at):
                if _assert_rejected(log, i, name):
                    done.add((type_, name))
                    break
    assert done == {(t, n) for t, mutators in MUTATORS.items() for n in mutators}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), seed=st.integers(0, 3), variant=st.integers(0, 3))
def test_random_single_field_mutations_are_rejected(
    data: st.DataObject, seed: int, variant: int
) -> None:
    log = _history(seed, 45, variant)
    i = data.draw(st.integers(0, len(log) - 1), label="entry")
    type_ = json.loads(log[i])["type"]
    name = data.draw(st.sampled_from(sorted(MUTATORS[type_])), label="field")
    _assert_rejected(log, i, name)


def test_mutation_helpers() -> None:
    assert _day("2024-01-31") == "2024-02-01"
    assert _second("2024-01-01T00:00:59Z") == "2024-01-01T00:01:00Z"
    assert _flip("0a") == "1a" and _flip("ab") == "0b"
    assert date(2024, 1, 1) < datetime(2024, 1, 2).date()
