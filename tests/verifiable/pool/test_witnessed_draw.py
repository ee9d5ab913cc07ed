"""The witnessed draw: a panel seeded by a checkpoint its rules' witnesses cosigned.

Honest histories with K-of-N witnesses replay; every change to a witnessed
``panel.drawn`` — a cosignature dropped, by an unknown key, out of order,
not verifying, a checkpoint older than the claim's readiness or not the
log's, a seed that does not follow, the checkpoint missing or present
against the rules — is refused naming its rule; a rulebook with K = 0
keeps the draw exactly as it was.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.verifiable.pool.pool_builder import SMALL_POOL_RULES, PoolBuilder
from verifiable.errors import MalformedError, RuleViolation
from verifiable.log.bodies import PanelDrawn, PoolRules, SeedCheckpoint
from verifiable.log.cosignature import MAX_TIMESTAMP, Cosignature, CosignatureSigner
from verifiable.log.entry import Entry, parse_entry
from verifiable.log.fields import read_shape
from verifiable.log.merkle import consistency_proof, hash_leaves, root_hash
from verifiable.log.note import Ed25519Signer
from verifiable.pool.replay import replay
from verifiable.pool.rules import DEFAULT_RULES, Rules
from verifiable.pool.sortition import witnessed_seed
from verifiable.testonly.simulate import SimConfig, Simulation
from verifiable.testonly.witnesses import cosigned_seed_checkpoint

WITNESSES = tuple(CosignatureSigner(f"witness.example/w{i}", bytes([i]) * 32) for i in range(3))
STRANGER = CosignatureSigner("witness.example/w9", bytes([9]) * 32)
ORIGIN = "mutualog.example/simulation"


def _vkeys(signers: tuple[CosignatureSigner, ...]) -> list[str]:
    return [s.verifier().to_vkey() for s in signers]


def _rules(k: int, n: int = 3) -> dict[str, Any]:
    return {
        "juror.seasoning_days": 0,
        "member.waiting_days": 10,
        "panel.size": 5,
        "claim.objection_days": 2,
        "panel.voting_days": 2,
        "draw.witnesses": _vkeys(WITNESSES[:n]),
        "draw.witnesses_required": k,
    }


def _config(days: int, k: int, n: int = 3) -> SimConfig:
    return SimConfig(
        days=days,
        initial_members=40,
        initial_jurors=40,
        joins_per_day=150,
        leaves_per_day=40,
        jurors_per_day=60,
        claims_per_day=90,
        rules=_rules(k, n),
    )


@cache
def _history(seed: int, days: int, k: int, held: int = 3) -> tuple[bytes, ...]:
    sim = Simulation(random.Random(seed), _config(days, k), witnesses=WITNESSES[:held])
    return tuple(sim.run())


def _panels(log: tuple[bytes, ...]) -> list[int]:
    return [i for i, d in enumerate(log) if b'"type":"panel.drawn"' in d]


def _with_body(log: tuple[bytes, ...], i: int, body: PanelDrawn) -> list[bytes]:
    """The log up to entry ``i``, whose body is replaced (chained as before)."""
    old = parse_entry(log[i], seq=i)
    return [*log[:i], replace(old, body=body).to_bytes()]


def _refused(entries: list[bytes]) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        replay(entries)
    return caught.value


def _panel(log: tuple[bytes, ...], i: int) -> PanelDrawn:
    body = parse_entry(log[i], seq=i).body
    assert isinstance(body, PanelDrawn) and body.witnessed is not None
    return body


def _reseeded(body: PanelDrawn, witnessed: SeedCheckpoint) -> PanelDrawn:
    """``body`` with ``witnessed`` and the seed it gives: only the witness
    rules, not the seed, can then catch it (the jurors are left as they were,
    which the sortition check would catch later)."""
    seed = witnessed_seed(witnessed.checkpoint.root_hash, witnessed.cosignatures)
    return replace(body, witnessed=witnessed, seed=seed)


# -- honest histories -----------------------------------------------------------


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 3))
def test_witnessed_histories_replay(seed: int, k: int) -> None:
    log = _history(seed, 40, k)
    assert _panels(log)
    replay(log)
    for i in _panels(log)[:5]:
        body = _panel(log, i)
        assert len(body.witnessed.cosignatures) == k  # type: ignore[union-attr]
        assert body.seed_size <= body.witnessed.checkpoint.size <= i  # type: ignore[union-attr]


def test_k_of_n_takes_the_witnesses_in_the_rules_order() -> None:
    log = _history(5, 30, 1, held=3)
    body = _panel(log, _panels(log)[0])
    assert body.witnessed is not None
    assert [c.name for c in body.witnessed.cosignatures] == [WITNESSES[0].name]


def test_k_zero_keeps_the_draw_of_the_log_s_root() -> None:
    """A rulebook that names witnesses but requires none draws as before:
    each seed is the log's root at the seed size, with no checkpoint."""
    log = _history(8, 30, 0)
    replay(log)
    leaves = hash_leaves(log)
    assert _panels(log)
    for i in _panels(log):
        body = parse_entry(log[i], seq=i).body
        assert isinstance(body, PanelDrawn) and body.witnessed is None
        assert body.seed == root_hash(leaves[: body.seed_size])
    assert b'"witnessed"' not in b"".join(log)


# -- every change refused, naming its rule --------------------------------------

Tamper = Callable[[PanelDrawn, tuple[bytes, ...], int], PanelDrawn]


def _drop(body: PanelDrawn, log: tuple[bytes, ...], i: int) -> PanelDrawn:
    w = body.witnessed
    assert w is not None
    return _reseeded(body, replace(w, cosignatures=w.cosignatures[1:]))


def _unknown(body: PanelDrawn, log: tuple[bytes, ...], i: int) -> PanelDrawn:
    w = body.witnessed
    assert w is not None
    stranger = STRANGER.cosign(w.text, w.cosignatures[0].timestamp)
    return _reseeded(body, replace(w, cosignatures=(stranger, *w.cosignatures[1:])))


def _bad_signature(body: PanelDrawn, log: tuple[bytes, ...], i: int) -> PanelDrawn:
    w = body.witnessed
    assert w is not None
    first = w.cosignatures[0]
    flipped = bytes([first.signature[0] ^ 1]) + first.signature[1:]
    forged = replace(first, signature=flipped)
    return _reseeded(body, replace(w, cosignatures=(forged, *w.cosignatures[1:])))


def _other_timestamp(body: PanelDrawn, log: tuple[bytes, ...], i: int) -> PanelDrawn:
    """A timestamp changed under the same signature: it no longer verifies."""
    w = body.witnessed
    assert w is not None
    first = w.cosignatures[0]
    moved = replace(first, timestamp=first.timestamp + 1)
    return _reseeded(body, replace(w, cosignatures=(moved, *w.cosignatures[1:])))


def _swapped(body: PanelDrawn, log: tuple[bytes, ...], i: int) -> PanelDrawn:
    w = body.witnessed
    assert w is not None
    return _reseeded(body, replace(w, cosignatures=tuple(reversed(w.cosignatures))))


def _seed_not_following(body: PanelDrawn, log: tuple[bytes, ...], i: int) -> PanelDrawn:
    return replace(body, seed=bytes(32))


def _seed_the_root(body: PanelDrawn, log: tuple[bytes, ...], i: int) -> PanelDrawn:
    """The seed of an unwitnessed draw (the checkpoint's root) under rules
    that want a witnessed one."""
    assert body.witnessed is not None
    return replace(body, seed=body.witnessed.checkpoint.root_hash)


def _no_checkpoint(body: PanelDrawn, log: tuple[bytes, ...], i: int) -> PanelDrawn:
    return replace(body, witnessed=None)


def _recosigned(
    body: PanelDrawn, size: int, root: bytes, proof: list[bytes], log: tuple[bytes, ...]
) -> PanelDrawn:
    rules = Rules.from_json(_rules(2))
    time = parse_entry(log[size - 1], seq=size - 1).time + timedelta(seconds=1)
    w = cosigned_seed_checkpoint(ORIGIN, size, root, WITNESSES, rules, time, proof)
    return _reseeded(body, w)


def _too_old(body: PanelDrawn, log: tuple[bytes, ...], i: int) -> PanelDrawn:
    """A checkpoint of the log, cosigned, but from before the claim was ready."""
    size = body.seed_size - 1
    leaves = hash_leaves(log[:i])
    root = root_hash(leaves[:size])
    return _recosigned(body, size, root, consistency_proof(leaves, size, i), log)


def _not_the_log_s(body: PanelDrawn, log: tuple[bytes, ...], i: int) -> PanelDrawn:
    """A checkpoint at the right size, cosigned, of another history."""
    assert body.witnessed is not None
    size = body.witnessed.checkpoint.size
    return _recosigned(body, size, bytes(32), list(body.witnessed.proof), log)


TAMPERS: list[tuple[str, Tamper, str]] = [
    ("missing-cosignature", _drop, "panel.witness_count"),
    ("unknown-key", _unknown, "panel.witness_unknown"),
    ("bad-signature", _bad_signature, "panel.witness_signature"),
    ("timestamp-changed", _other_timestamp, "panel.witness_signature"),
    ("out-of-order", _swapped, "panel.witness_order"),
    ("seed-not-following", _seed_not_following, "panel.seed"),
    ("seed-the-root", _seed_the_root, "panel.seed"),
    ("no-checkpoint", _no_checkpoint, "panel.witnessed"),
    ("checkpoint-too-old", _too_old, "panel.witness_size"),
    ("checkpoint-not-the-log-s", _not_the_log_s, "panel.witness_root"),
]


@pytest.mark.parametrize(("name", "tamper", "rule"), TAMPERS, ids=[t[0] for t in TAMPERS])
def test_every_change_to_a_witnessed_draw_is_refused(name: str, tamper: Tamper, rule: str) -> None:
    log = _history(3, 30, 2)
    i = _panels(log)[0]
    forged = _with_body(log, i, tamper(_panel(log, i), log, i))
    error = _refused(forged)
    assert (error.rule, error.seq) == (rule, i), error


def test_a_witnessed_checkpoint_under_rules_without_witnesses_is_refused() -> None:
    log = _history(3, 30, 2)
    i = _panels(log)[0]
    witnessed = _panel(log, i).witnessed
    plain = _history(3, 30, 0)
    j = _panels(plain)[0]
    body = parse_entry(plain[j], seq=j).body
    assert isinstance(body, PanelDrawn)
    error = _refused(_with_body(plain, j, replace(body, witnessed=witnessed)))
    assert (error.rule, error.seq) == ("panel.witnessed", j)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), k=st.integers(1, 3))
def test_any_byte_of_a_cosignature_changed_is_refused(data: st.DataObject, k: int) -> None:
    log = _history(11, 30, k)
    i = data.draw(st.sampled_from(_panels(log)[:8]), label="panel")
    body = _panel(log, i)
    assert body.witnessed is not None
    which = data.draw(st.integers(0, k - 1), label="cosignature")
    c = body.witnessed.cosignatures[which]
    raw = c.timestamp.to_bytes(8, "big") + c.signature
    at = data.draw(st.integers(0, len(raw) - 1), label="byte")
    bit = data.draw(st.integers(0, 7), label="bit")
    changed = bytearray(raw)
    changed[at] ^= 1 << bit
    timestamp = int.from_bytes(changed[:8], "big")
    if timestamp > MAX_TIMESTAMP:
        return  # no cosignature line can carry it: the decoder refuses it
    forged = Cosignature(c.name, c.key_id, timestamp, bytes(changed[8:]))
    cosignatures = list(body.witnessed.cosignatures)
    cosignatures[which] = forged
    tampered = _reseeded(body, replace(body.witnessed, cosignatures=tuple(cosignatures)))
    error = _refused(_with_body(log, i, tampered))
    assert (error.rule, error.seq) == ("panel.witness_signature", i)


# -- the body and the rules -----------------------------------------------------


def test_a_witnessed_draw_reads_back_and_an_old_one_still_reads() -> None:
    log = _history(3, 30, 2)
    i = _panels(log)[0]
    entry = parse_entry(log[i], seq=i)
    assert Entry.to_bytes(entry) == log[i]
    old = _history(3, 30, 0)
    j = _panels(old)[0]
    assert b'"witnessed"' not in old[j]
    assert parse_entry(old[j], seq=j).to_bytes() == old[j]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda w: {**w, "checkpoint": w["checkpoint"].replace("\n", "\n\n", 1)}, "empty"),
        (lambda w: {**w, "cosignatures": []}, "1 to 16 items"),
        (lambda w: {**w, "cosignatures": w["cosignatures"] * 2}, "duplicate"),
        (lambda w: {**w, "cosignatures": [w["cosignatures"][0] + "A"]}, "cosignatures[0]"),
        (lambda w: {**w, "proof": ["00"]}, "proof[0]"),
        (lambda w: {k: v for k, v in w.items() if k != "proof"}, "missing field(s) proof"),
        (lambda w: {**w, "extra": 1}, "unknown field(s)"),
    ],
)
def test_a_malformed_witnessed_checkpoint_does_not_decode(
    mutate: Callable[[dict[str, Any]], dict[str, Any]], message: str
) -> None:
    log = _history(3, 30, 2)
    i = _panels(log)[0]
    obj = json.loads(log[i])
    obj["body"]["witnessed"] = mutate(obj["body"]["witnessed"])
    with pytest.raises(MalformedError, match=re.escape(message)):
        PanelDrawn.from_json(obj["body"], "body")


def test_the_rules_read_and_write_the_witnesses() -> None:
    rules = Rules.from_json(_rules(2))
    assert [w.name for w in rules.witnesses] == [w.name for w in WITNESSES]
    assert rules.witnesses_required == 2
    assert Rules.from_json(rules.to_json()) == rules
    assert DEFAULT_RULES.witnesses == () and DEFAULT_RULES.witnesses_required == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"draw.witnesses_required": 1}, "1 of 0 draw.witnesses required"),
        ({"draw.witnesses": ["not a key"]}, r"draw\.witnesses\[0\]"),
        ({"draw.witnesses": [Ed25519Signer("log", bytes(32)).verifier().to_vkey()]}, "0x01"),
        ({"draw.witnesses": _vkeys(WITNESSES[:1]) * 2}, "duplicate"),
        ({"draw.witnesses": [1]}, "expected a verifier key string"),
        ({"draw.witnesses": _vkeys(WITNESSES[:1]), "draw.witnesses_required": 2}, "2 of 1"),
    ],
)
def test_bad_witness_rules_are_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(MalformedError, match=message):
        Rules.from_json(change)


# -- the draw the state expects ------------------------------------------------


def _builder() -> tuple[PoolBuilder, str]:
    rules = {**SMALL_POOL_RULES, **{k: v for k, v in _rules(2).items() if k.startswith("draw.")}}
    b = PoolBuilder(rules)
    b.jurors(12)
    b.jury_pool()
    member = b.join()
    b.tick(days=11)
    claim = b.file(member)
    b.notice(claim)
    b.tick(days=3)
    return b, claim


def _checkpoint(b: PoolBuilder, size: int) -> SeedCheckpoint:
    leaves = hash_leaves(b.entries)
    rules = b.state.rulebook.in_force(b.now)
    assert rules is not None
    proof = consistency_proof(leaves, size, len(leaves)) if size < len(leaves) else []
    root = root_hash(leaves[:size])
    return cosigned_seed_checkpoint(ORIGIN, size, root, WITNESSES, rules, b.now, proof)


def test_the_state_draws_from_a_checkpoint_older_than_the_log() -> None:
    """The seed size is fixed by the first entry after the window; the
    checkpoint may be of any size from there to the log's size, with the
    consistency proof to it."""
    b, claim = _builder()
    b.join()  # fixes the seed size: the first entry after the window
    ready = b.size - 1
    b.join()
    b.join()
    with pytest.raises(RuleViolation, match=r"panel\.witnessed"):
        b.panel_body(claim)
    for size in (ready, ready + 1, b.size):
        body = b.state.expected_panel(claim, b.now, b.replayer.root_at, _checkpoint(b, size))
        assert body.witnessed is not None and body.witnessed.checkpoint.size == size
        assert body.seed == witnessed_seed(
            body.witnessed.checkpoint.root_hash, body.witnessed.cosignatures
        )
    b.push(body)
    assert replay(b.entries).state.claim(claim) is not None


def test_the_state_refuses_a_checkpoint_from_before_the_claim_was_ready() -> None:
    b, claim = _builder()
    b.join()
    ready = b.size - 1
    with pytest.raises(RuleViolation, match=r"panel\.witness_size"):
        b.state.expected_panel(claim, b.now, b.replayer.root_at, _checkpoint(b, ready - 1))


def test_a_rule_change_to_witnesses_applies_to_draws_after_it() -> None:
    """The witnesses of a draw are those of the rules in force at the draw,
    whatever the rules of the claim's filing (a witness that has gone can be
    replaced for claims already filed)."""
    b = PoolBuilder(SMALL_POOL_RULES)
    b.jurors(12)
    b.jury_pool()
    member = b.join()
    b.tick(days=11)
    claim = b.file(member)
    b.notice(claim)
    draw = {k: v for k, v in _rules(1).items() if k.startswith("draw.")}
    b.push(
        PoolRules(
            effective=b.now + timedelta(days=1), rules=read_shape(draw, "r"), reason="Witnesses."
        )
    )
    b.tick(days=3)
    b.join()
    with pytest.raises(RuleViolation, match=r"panel\.witnessed"):
        b.panel_body(claim)
    b.push(b.state.expected_panel(claim, b.now, b.replayer.root_at, _checkpoint(b, b.size)))
