"""Replay: whole logs, the incremental replayer, the fast decoder (checked
against ``parse_entry``) and the fast vote commitment (checked against
``vote_commitment``)."""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.verifiable.pool.pool_builder import PoolBuilder
from verifiable.errors import MalformedError, MutualogError, RuleViolation, VerificationError
from verifiable.log.bodies import BODY_TYPES, Choice, VoteRevealed
from verifiable.log.entry import GENESIS_PREV, Entry, parse_entry
from verifiable.log.fields import read_text, sorted_json
from verifiable.log.merkle import hash_leaves, root_hash
from verifiable.pool.panels import _commitment
from verifiable.pool.replay import Replayer, decode_entry, replay
from verifiable.pool.votes import vote_commitment
from verifiable.testonly.simulate import SimConfig, simulate

SMALL = SimConfig(
    days=50,
    initial_members=40,
    initial_jurors=30,
    rules={
        "juror.seasoning_days": 0,
        "member.waiting_days": 10,
        "panel.size": 5,
        "panel.max_rounds": 2,
        "claim.objection_days": 2,
        "panel.voting_days": 2,
    },
)


@cache
def history() -> tuple[bytes, ...]:
    return tuple(simulate(random.Random(7), SMALL))


def test_replay_a_simulated_log() -> None:
    log = history()
    result = replay(log)
    assert result.head.size == len(log) == result.state.size
    assert result.root == root_hash(hash_leaves(log))
    s = result.summary
    assert s.entries == len(log)
    assert s.claims == sum(n for _, n in s.claims_by_stage) > 10
    assert s.periods_closed >= 3 and s.ledger.aid > 0
    assert s.ledger.collected == s.ledger.aid + s.ledger.fees + s.ledger.refunds + s.ledger.surplus
    assert {o.action for o in s.overrides} <= {"note", "claim.withdraw"}


def test_replay_takes_decoded_entries_too() -> None:
    log = history()[:300]
    entries = [parse_entry(data) for data in log]
    assert replay(entries).root == replay(log).root


def test_a_failed_entry_leaves_the_replayer_as_it_was() -> None:
    log = history()
    replayer = Replayer()
    for data in log[:200]:
        replayer.feed(data)
    head, root = replayer.head, replayer.root()
    with pytest.raises(VerificationError, match=r"entry 201: seq: expected 200, got 201"):
        replayer.feed(log[201])
    with pytest.raises(VerificationError, match=r"entry 199: seq: expected 200, got 199"):
        replayer.feed(log[199])
    obj = json.loads(log[200])
    obj["prev"] = "00" * 32
    with pytest.raises(VerificationError, match=r"entry 200: prev: chain broken, expected leaf"):
        replayer.feed(rfc8785.dumps(obj))
    with pytest.raises(MalformedError, match=r"not in RFC 8785 canonical form"):
        replayer.feed(log[200] + b" ")
    assert (replayer.head, replayer.root(), replayer.size) == (head, root, 200)
    replayer.feed(log[200])
    assert replayer.size == 201


def test_feed_bytes_with_or_without_the_leaf_hash_equals_feed() -> None:
    log = history()
    by_entry, by_bytes, with_leaf = Replayer(), Replayer(), Replayer()
    for data in log:
        by_entry.feed(data)
        by_bytes.feed_bytes(data)
        with_leaf.feed_bytes(data, hash_leaves([data])[0])
    states = {(r.head, r.root(), r.size, r.state.size) for r in (by_entry, by_bytes, with_leaf)}
    assert len(states) == 1
    assert with_leaf.result().summary == by_entry.result().summary
    # A refused entry leaves it as it was, as feed does.
    head, root = with_leaf.head, with_leaf.root()
    with pytest.raises(VerificationError, match=r"seq: expected"):
        with_leaf.feed_bytes(log[0], hash_leaves([log[0]])[0])
    assert (with_leaf.head, with_leaf.root(), with_leaf.size) == (head, root, len(log))


def test_root_at_only_answers_the_current_size() -> None:
    replayer = Replayer()
    replayer.feed(history()[0])
    assert replayer.root_at(1) == root_hash(hash_leaves(history()[:1]))
    with pytest.raises(VerificationError, match=r"root at size 0 is asked for at size 1"):
        replayer.root_at(0)


def _rechain(entries: list[dict[str, Any]]) -> list[bytes]:
    out: list[bytes] = []
    prev = GENESIS_PREV
    for obj in entries:
        obj["prev"] = prev.hex()
        data = rfc8785.dumps(obj)
        out.append(data)
        prev = Entry.leaf_hash(parse_entry(data))
    return out


def test_seeds_bind_panels_to_the_log() -> None:
    # Editing an early notice's text (a field no rule reads) and re-chaining
    # changes every later root, so the panels' seeds no longer match; with
    # check_seeds=False the recorded seeds are taken as given and it replays.
    objs = [json.loads(d) for d in history()]
    first = next(i for i, o in enumerate(objs) if o["type"] == "claim.noticed")
    objs[first]["body"]["text"] = "Edited."
    edited = _rechain(objs)
    with pytest.raises(RuleViolation, match=r"rule panel\.seed: "):
        replay(edited)
    replay(edited, check_seeds=False)


def _outcome(f: Callable[[], Entry]) -> object:
    try:
        return f()
    except MutualogError as e:
        return (type(e), str(e))


def _same_as_parse_entry(data: bytes, seq: int, prev: bytes) -> None:
    fast = _outcome(lambda: decode_entry(data, seq, prev))
    slow = _outcome(lambda: parse_entry(data, seq=seq, prev=prev))
    assert fast == slow


def test_decode_entry_equals_parse_entry_on_a_log() -> None:
    prev = GENESIS_PREV
    for seq, data in enumerate(history()[:500]):
        entry = decode_entry(data, seq, prev)
        assert entry == parse_entry(data, seq=seq, prev=prev)
        prev = entry.leaf_hash()


NOT_CANONICAL = [
    lambda d: d.replace(b'":', b'": ', 1),
    lambda d: d.replace(b'"v":1', b'"v":1.0'),
    lambda d: d.replace(b'"v":1', b'"v":1e0'),
    lambda d: d.replace(b'"v":1', b'"v":NaN'),
    lambda d: d.replace(b'"v":1', b'"v":true'),
    lambda d: d.replace(b'"v":1', b'"v":2'),
    lambda d: d.replace(b'"v":1', b'"v":-0'),
    lambda d: d.replace(b'"v":1', b'"v":9007199254740993'),
    lambda d: d.replace(b'"v":1}', b'"v":1,"v":1}'),
    lambda d: d.replace(b'"v":1}', b'"v":1,"w":1}'),
    lambda d: d.replace(b'"type"', b'"t\\u0079pe"'),
    lambda d: b"\xef\xbb\xbf" + d,
    lambda d: d + b"\n",
    lambda d: d[:-1],
    lambda d: d.replace(b"member.joined", b"member.jo\xc3\xaffned"),
    lambda d: d.replace(b'"seq":', b'"seq":0', 1),
    lambda d: d.replace(b'"age_band":"', b'"age_band":"\xe2\x80\xa8', 1),
    lambda d: d.replace(b'{"age_band"', b'{"\xf0\x9f\x98\x80":1,"age_band"', 1),
    lambda d: d.replace(b'{"age_band"', b'{"\xee\x80\x80":1,"\xf0\x9f\x98\x80":1,"age_band"', 1),
    lambda d: d.replace(b"0", b"\\u0030", 1),
    lambda d: b"[" + d + b"]",
    lambda d: b"x" * 65_536,
    lambda d: b"\xff" + d,
]


@pytest.mark.parametrize("mutate", NOT_CANONICAL)
def test_decode_entry_errors_equal_parse_entry(mutate: Callable[[bytes], bytes]) -> None:
    log = history()
    joined = next(i for i, d in enumerate(log) if b'"member.joined"' in d)
    prev = parse_entry(log[joined - 1]).leaf_hash()
    data = mutate(log[joined])
    _same_as_parse_entry(data, joined, prev)
    with pytest.raises(MutualogError):
        decode_entry(data, joined, prev)


def test_decode_entry_refuses_lone_surrogates_like_parse_entry() -> None:
    data = history()[1].replace(b'"age_band":"18-39"', b'"age_band":"\\ud800"')
    _same_as_parse_entry(data, 1, parse_entry(history()[0]).leaf_hash())


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_decode_entry_equals_parse_entry_on_mutated_bytes(data: st.DataObject) -> None:
    log = history()
    seq = data.draw(st.integers(1, min(len(log), 800) - 1), label="seq")
    prev = parse_entry(log[seq - 1]).leaf_hash()
    raw = bytearray(log[seq])
    op = data.draw(st.sampled_from(["flip", "insert", "delete", "replace"]), label="op")
    at = data.draw(st.integers(0, len(raw) - 1), label="at")
    if op == "flip":
        raw[at] ^= 1 << data.draw(st.integers(0, 7))
    elif op == "insert":
        raw[at:at] = data.draw(st.sampled_from([b" ", b"0", b'"', b"\\", b"1", b"\xc3\xa9"]))
    elif op == "delete":
        del raw[at]
    else:
        raw[at] = data.draw(st.integers(0x20, 0x7E))
    _same_as_parse_entry(bytes(raw), seq, prev)


def _valid_reason(text: str) -> bool:
    try:
        read_text(text, "r", max_len=500, min_len=0)
    except MalformedError:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(
    reason=st.text(max_size=60).filter(_valid_reason),
    choice=st.sampled_from(Choice),
    round_=st.integers(1, 2**53 - 1),
    salt=st.binary(min_size=32, max_size=32),
)
def test_fast_commitment_is_vote_commitment(
    reason: str, choice: Choice, round_: int, salt: bytes
) -> None:
    claim, juror = "ab" * 16, "cd" * 16
    body = VoteRevealed(
        claim=claim, round=round_, juror=juror, choice=choice, reason=reason, salt=salt
    )
    assert _commitment(body) == vote_commitment(claim, round_, juror, choice, reason, salt)


def test_a_builder_log_replays_from_its_bytes() -> None:
    b = PoolBuilder()
    b.jurors(12)
    b.jury_pool()
    member = b.join()
    b.tick(days=11)
    claim = b.approved_claim(member)
    b.pay(claim)
    b.tick(days=10)
    b.close()
    result = replay(b.entries)
    assert result.root == b.replayer.root() and result.head == b.replayer.head
    assert result.summary.ledger.aid == 0  # the claim is shared in a later period
    assert result.summary.claims_by_stage == (("paid", 1),)


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.text(alphabet=st.characters(exclude_categories=["Cs"])),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(alphabet=st.characters(max_codepoint=127)), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_sorted_json_is_rfc8785_for_entry_values(value: Any) -> None:
    assert sorted_json(value) == rfc8785.dumps(value)


def test_the_replayer_s_tree_is_the_log_s() -> None:
    replayer = Replayer()
    for data in history()[:77]:
        replayer.feed(data)
    tree = replayer.tree()
    assert tree.size == 77 and tree.root() == root_hash(hash_leaves(history()[:77]))


def test_every_entry_type_has_a_handler() -> None:
    state = replay(history()[:1]).state
    assert set(state._handlers) == set(BODY_TYPES)


def test_a_simulation_can_stop_at_a_number_of_entries() -> None:
    config = dataclasses.replace(SMALL, max_entries=123)
    log = simulate(random.Random(7), config)
    assert len(log) == 123 and tuple(log) == history()[:123]
    replay(log)


def test_the_builder_refuses_to_close_too_early() -> None:
    b = PoolBuilder()
    with pytest.raises(RuleViolation, match=r"rule period\.too_early: no period is due"):
        b.close()
