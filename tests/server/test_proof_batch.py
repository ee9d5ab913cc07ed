"""Batched proof reads (server/hashbatch.py) give the same proofs as one
query per proof, on both backends, from many threads at once; a failing
query fails every waiter and leaves none hanging; nothing is kept between
queries, so a store over a database whose log is replaced serves the new
log's hashes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import pytest
from sqlalchemy import Engine, delete

from server.hashbatch import HashBatcher
from server.models import CheckpointRow, EntryRow, SubtreeHashRow
from server.sequencer import Sequencer
from server.storage import LogStore, NotInLogError
from verifiable.log.bodies import AgeBand, MemberJoined
from verifiable.log.merkle import Subtree, verify_consistency, verify_inclusion

Items = list[tuple[str, MemberJoined]]


def _grow(sequencer: Sequencer, members: Callable[..., Items], sizes: list[int]) -> None:
    done = 0
    for size in sizes:
        sequencer.append(members(size - done, start=done))
        done = size


def test_batched_proofs_equal_single_query_proofs(
    engine: Engine, sequencer: Sequencer, members: Callable[..., Items]
) -> None:
    _grow(sequencer, members, [1, 2, 3, 7, 64, 65, 200, 257])
    single, batched = LogStore(engine, batched=False), LogStore(engine, batched=True)
    leaves = single.level_hashes(0, 0, 257)
    for size in [*range(1, 70), 127, 128, 129, 200, 255, 256, 257]:
        root = single.root_hash(size)
        assert batched.root_hash(size) == root
        for index in range(0, size, 1 if size < 40 else 7):
            proof = batched.inclusion_proof(index, size)
            assert proof == single.inclusion_proof(index, size)
            verify_inclusion(leaves[index], index, size, proof, root)
            leaf, proof = batched.leaf_and_inclusion_proof(index, size)
            assert (leaf, proof) == single.leaf_and_inclusion_proof(index, size)
            assert leaf == leaves[index]
        for old in range(1, size + 1, 1 if size < 40 else 11):
            proof = batched.consistency_proof(old, size)
            assert proof == single.consistency_proof(old, size)
            verify_consistency(old, size, proof, single.root_hash(old), root)


@pytest.mark.parametrize("batched", [False, True], ids=["single", "batched"])
def test_sizes_beyond_the_log_are_refused_alike(
    engine: Engine, sequencer: Sequencer, members: Callable[..., Items], batched: bool
) -> None:
    _grow(sequencer, members, [5])
    store = LogStore(engine, batched=batched)
    with pytest.raises(NotInLogError, match="inclusion proof for leaf 0: tree size 6 is beyond"):
        store.leaf_and_inclusion_proof(0, 6)
    with pytest.raises(NotInLogError, match="consistency proof from size 6: tree size 6 is"):
        store.consistency_proof(6, 6)
    with pytest.raises(NotInLogError, match="root hash: tree size 9 is beyond the log's size 5"):
        store.root_hash(9)
    leaf, proof = store.leaf_and_inclusion_proof(0, 1)  # a proof that reads nothing
    assert proof == [] and leaf == store.level_hashes(0, 0, 1)[0]


def test_many_threads_share_queries_and_get_their_own_proofs(
    engine: Engine, sequencer: Sequencer, members: Callable[..., Items]
) -> None:
    _grow(sequencer, members, [300])
    single, batched = LogStore(engine, batched=False), LogStore(engine, batched=True)
    expected = {(i, s): single.inclusion_proof(i, s) for s in (150, 300) for i in range(0, s, 3)}
    calls = 0
    fetch_now = batched._fetch_now

    def slow_fetch(keys: Sequence[Subtree]) -> dict[tuple[int, int], bytes]:
        nonlocal calls
        calls += 1
        time.sleep(0.002)  # a round trip, during which others queue up
        return fetch_now(keys)

    batched._batcher = HashBatcher(slow_fetch)
    wrong: list[tuple[int, int]] = []
    work = sorted(expected)

    def worker(part: list[tuple[int, int]]) -> None:
        for index, size in part:
            if batched.inclusion_proof(index, size) != expected[index, size]:
                wrong.append((index, size))

    threads = [threading.Thread(target=worker, args=(work[t::8],)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not wrong
    assert calls < len(work) / 2  # most queries served several proofs


def test_a_failing_query_fails_every_waiter() -> None:
    gate = threading.Event()
    calls = 0

    def fetch_many(keys: Sequence[Subtree]) -> dict[tuple[int, int], bytes]:
        nonlocal calls
        calls += 1
        gate.wait(5)
        raise RuntimeError(f"database gone ({len(keys)} keys)")

    batcher = HashBatcher(fetch_many)
    errors: list[str] = []

    def ask(index: int) -> None:
        try:
            batcher.fetch([Subtree(0, index)])
        except RuntimeError as e:
            errors.append(str(e))

    first = threading.Thread(target=ask, args=(0,))
    first.start()
    while not calls:
        time.sleep(0.001)
    others = [threading.Thread(target=ask, args=(i,)) for i in range(1, 6)]
    for thread in others:
        thread.start()
    time.sleep(0.05)  # they queue behind the running query
    gate.set()
    for thread in [first, *others]:
        thread.join(timeout=10)
        assert not thread.is_alive()
    assert len(errors) == 6 and calls == 2
    assert "database gone (5 keys)" in errors  # the five waiters shared one query


def test_a_replaced_log_is_served_as_it_now_is(
    engine: Engine, sequencer: Sequencer, members: Callable[..., Items]
) -> None:
    # As after a restore into the same database: the store keeps no hash
    # between queries, so the old log's hashes are never served.
    _grow(sequencer, members, [40])
    store = LogStore(engine, batched=True)
    old = [store.inclusion_proof(i, 40) for i in range(40)]
    old_root = store.root_hash(40)
    with engine.begin() as conn:
        for table in (CheckpointRow, SubtreeHashRow, EntryRow):
            conn.execute(delete(table))
    other = [
        ("member.joined", MemberJoined(member=f"{n + 7:032x}", age_band=AgeBand.FROM_40_TO_59))
        for n in range(40)
    ]
    sequencer.append(other)
    fresh = LogStore(engine, batched=False)
    assert store.root_hash(40) == fresh.root_hash(40) != old_root
    new = [store.inclusion_proof(i, 40) for i in range(40)]
    assert new == [fresh.inclusion_proof(i, 40) for i in range(40)]
    assert new != old
