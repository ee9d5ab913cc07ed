"""The state's store: the in-memory store, the write buffer that makes an
apply all-or-nothing, and the codecs a store of bytes keeps records with
(a whole simulated log replayed through them gives the same state)."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from typing import Any

import pytest

from tests.verifiable.pool.pool_builder import PoolBuilder
from verifiable.errors import MalformedError, RuleViolation
from verifiable.log.bodies import AgeBand, MemberJoined
from verifiable.pool.claims import CLAIMS
from verifiable.pool.members import MEMBERS
from verifiable.pool.replay import Replayer, summarize
from verifiable.pool.state import PoolState
from verifiable.pool.state_head import head_bytes, resume
from verifiable.pool.store import (
    Change,
    Codec,
    Kind,
    MemoryStore,
    StoredSequence,
    WriteBuffer,
    seq_key,
)
from verifiable.pool.store_codecs import TEXT
from verifiable.testonly.simulate import SimConfig, simulate

NUMBERS: Kind[int] = Kind("n", Codec(lambda n: str(n).encode(), lambda b: int(b)))
LISTS: Kind[list[int]] = Kind(
    "l", Codec(lambda v: repr(v).encode(), lambda b: list(map(int, b[1:-1].split(b",")))), list
)


class CodecStore:
    """A store that keeps every record as its codec's bytes, as a database
    does: every read decodes, every write encodes."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, bytes]] = {}
        self.kinds: dict[str, Kind[Any]] = {}

    def get(self, kind: Kind[Any], key: str) -> Any:
        raw = self.data.get(kind.name, {}).get(key)
        return None if raw is None else kind.codec.decode(raw)

    def has(self, kind: Kind[Any], key: str) -> bool:
        return key in self.data.get(kind.name, {})

    def count(self, kind: Kind[Any]) -> int:
        return len(self.data.get(kind.name, {}))

    def scan(self, kind: Kind[Any], start: str = "") -> Iterator[tuple[str, Any]]:
        d = self.data.get(kind.name, {})
        return ((k, kind.codec.decode(d[k])) for k in sorted(d) if k >= start)

    def write(self, changes: Sequence[Change], counts: Mapping[str, int]) -> None:
        before = {name: len(d) for name, d in self.data.items()}
        for kind, key, value in changes:
            self.kinds[kind.name] = kind
            d = self.data.setdefault(kind.name, {})
            if value is None:
                d.pop(key, None)
            else:
                raw = kind.codec.encode(value)
                assert kind.codec.encode(kind.codec.decode(raw)) == raw, kind
                d[key] = raw
        for name, d in self.data.items():
            assert len(d) - before.get(name, 0) == counts.get(name, 0), name


def test_memory_store_scans_in_key_order_as_keys_come_and_go() -> None:
    store = MemoryStore()
    buffer = WriteBuffer(store)
    rng = random.Random(3)
    alive: set[str] = set()
    for _ in range(40):
        buffer.begin()
        for _ in range(rng.randrange(1, 20)):
            key = f"k{rng.randrange(200):03d}"
            if key in alive and rng.random() < 0.4:
                buffer.delete(NUMBERS, key)
                alive.discard(key)
            else:
                buffer.put(NUMBERS, key, int(key[1:]))
                alive.add(key)
        assert [k for k, _ in buffer.scan(NUMBERS)] == sorted(alive)
        buffer.commit()
        assert [k for k, _ in store.scan(NUMBERS)] == sorted(alive)
        assert store.count(NUMBERS) == buffer.count(NUMBERS) == len(alive)


def test_a_rollback_leaves_the_store_as_it_was() -> None:
    store = MemoryStore()
    buffer = WriteBuffer(store)
    buffer.begin()
    buffer.put(NUMBERS, "a", 1)
    buffer.put(LISTS, "x", [1, 2])
    buffer.commit()
    buffer.begin()
    buffer.put(NUMBERS, "b", 2)
    buffer.delete(NUMBERS, "a")
    working = buffer.get(LISTS, "x")
    assert working is not None
    working.append(3)  # a working copy: the store's record is untouched
    assert store.get(LISTS, "x") == [1, 2]
    assert buffer.count(NUMBERS) == 1 and not buffer.has(NUMBERS, "a")
    buffer.rollback()
    assert dict(store.scan(NUMBERS)) == {"a": 1}
    assert buffer.get(LISTS, "x") == [1, 2] and store.count(NUMBERS) == 1


def test_a_working_copy_is_written_back_at_commit() -> None:
    store = MemoryStore()
    buffer = WriteBuffer(store)
    buffer.begin()
    buffer.put(LISTS, "x", [1])
    buffer.commit()
    buffer.begin()
    working = buffer.get(LISTS, "x")
    assert working is not None and buffer.get(LISTS, "x") is working
    working.append(2)
    buffer.commit()
    assert store.get(LISTS, "x") == [1, 2] and store.count(LISTS) == 1


def test_writes_happen_only_inside_an_apply() -> None:
    buffer = WriteBuffer(MemoryStore())
    with pytest.raises(AssertionError, match="only inside an apply"):
        buffer.put(NUMBERS, "a", 1)


def test_a_stored_sequence_reads_one_position_at_a_time() -> None:
    buffer = WriteBuffer(MemoryStore())
    kind: Kind[str] = Kind("seq", TEXT)
    buffer.begin()
    ids = StoredSequence(buffer, kind, 0).replace(["a", "b", "c"])
    shorter = ids.replace(["z"])
    buffer.commit()
    assert list(shorter) == ["z"] and len(shorter) == 1
    assert shorter[0] == shorter[-1] == "z" and list(shorter[0:1]) == ["z"]
    assert buffer.count(kind) == 1 and seq_key(12) == "000000000000012"
    with pytest.raises(IndexError):
        shorter[1]


SIM = SimConfig(
    days=60,
    initial_members=60,
    initial_jurors=40,
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
def _history() -> tuple[bytes, ...]:
    return tuple(simulate(random.Random(11), SIM))


def _picture(state: PoolState) -> tuple[object, ...]:
    return (
        summarize(state),
        list(state.claims()),
        [state.member(m) for m in state.members.active],
        list(state.members.gone),
        list(state.members.jurors),
        state.members.roster(),
        state.closed_periods,
        dict(state.erasures),
        state.due_periods,
        state.pages.published,
    )


def test_a_store_of_bytes_replays_to_the_same_state() -> None:
    log = _history()
    plain = Replayer()
    coded = Replayer()
    store = CodecStore()
    coded.state = PoolState(store)
    for i, data in enumerate(log):
        plain.feed_bytes(data)
        coded.feed_bytes(data)
        if i % 97 == 0 or i == len(log) - 1:
            assert _picture(coded.state) == _picture(plain.state)
    assert {MEMBERS.name, CLAIMS.name, "gone", "juror", "pool", "closed"} <= set(store.kinds)
    assert summarize(coded.state).claims > 10


def test_a_refused_entry_writes_nothing_to_the_store() -> None:
    b = PoolBuilder()
    b.jurors(3)
    member = b.join()
    replayer = Replayer()
    store = CodecStore()
    replayer.state = PoolState(store)
    for data in b.entries:
        replayer.feed_bytes(data)
    before = {name: dict(d) for name, d in store.data.items()}
    again = b.make(MemberJoined(member=member, age_band=AgeBand.FROM_18_TO_39))
    with pytest.raises(RuleViolation, match=r"member\.unique"):
        replayer.feed(again)
    assert store.data == before and replayer.state.member_count == 4


def test_a_state_taken_up_from_its_store_and_head_goes_on_the_same() -> None:
    log = _history()
    plain = Replayer()
    coded = Replayer()
    store = CodecStore()
    coded.state = PoolState(store)
    for i, data in enumerate(log):
        plain.feed_bytes(data)
        coded.feed_bytes(data)
        if i % 41 == 0:
            head = head_bytes(coded.state)
            coded.state = resume(store, head)
            assert head_bytes(coded.state) == head
            assert _picture(coded.state) == _picture(plain.state)
    assert _picture(coded.state) == _picture(plain.state)
    assert coded.state.rule_changes == plain.state.rule_changes


def test_a_head_of_another_format_is_refused() -> None:
    with pytest.raises(MalformedError, match="head format 1, expected 2"):
        resume(MemoryStore(), b'{"format":1}')


def test_the_verifier_pages_published_are_records_taken_up_with_the_state() -> None:
    b = PoolBuilder()
    b.publish_page(b"<!doctype html>one")
    b.publish_page(b"<!doctype html>two")
    store = CodecStore()
    replayer = Replayer()
    replayer.state = PoolState(store)
    for data in b.entries:
        replayer.feed_bytes(data)
    taken = resume(store, head_bytes(replayer.state))
    assert taken.pages.published == b.state.pages.published
    assert taken.pages.latest == b.state.pages.latest is not None
    assert store.kinds["page"].name == "page"
