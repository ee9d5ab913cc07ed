"""The witness under concurrent and replayed requests: several gunicorn
workers, one database, and the old-size check and the update in one
transaction, so that exactly one of competing checkpoints is cosigned, the
others kept as evidence, and nothing is ever rolled back."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.client.witness_helpers import (
    Answer,
    SimLog,
    WitnessProcess,
    held_rows,
    make_witness,
    post,
)
from verifiable.log.merkle import leaf_hash, root_hash

if TYPE_CHECKING:
    from tests.client.harness import Mutualog


def _branch(log: SimLog, tag: str, count: int) -> SimLog:
    """``log`` grown by ``count`` leaves of its own: a history of its own."""
    extra = [leaf_hash(f"{tag}-{i}".encode()) for i in range(count)]
    return SimLog(log.origin, log.signer, log.leaves + extra)


def _all_at_once(port: int, requests: list[bytes]) -> list[Answer]:
    """Send every request from its own thread, released together."""
    barrier = threading.Barrier(len(requests))
    answers: list[Answer | None] = [None] * len(requests)

    def send(i: int) -> None:
        barrier.wait()
        answers[i] = post(port, requests[i])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(a is not None for a in answers)
    return [a for a in answers if a is not None]


@pytest.fixture
def witness(tmp_path: Path) -> Iterator[tuple[SimLog, WitnessProcess]]:
    """A witness of three workers holding a log of 8 leaves."""
    log = SimLog.make("example.org/contested", b"contested")
    log.grow(8)
    state, key, _ = make_witness(tmp_path, log)
    process = WitnessProcess(state, key, workers=3).start()
    assert post(process.port, log.request(0)).status == 200
    yield log, process
    process.stop()


def test_of_competing_forks_exactly_one_is_cosigned(
    witness: tuple[SimLog, WitnessProcess], mutualog: Mutualog
) -> None:
    log, process = witness
    a, b = _branch(log, "a", 4), _branch(log, "b", 4)
    requests = [a.request(8), b.request(8)] * 6
    answers = _all_at_once(process.port, requests)
    won = [i for i, answer in enumerate(answers) if answer.status == 200]
    assert len(won) == 1
    winner, loser = (a, b) if won[0] % 2 == 0 else (b, a)
    for i, answer in enumerate(answers):
        if i != won[0]:
            assert (answer.status, answer.content_type, answer.body) == (
                409,
                "text/x.tlog.size",
                b"12\n",
            )
    ((_, _, size, root, _, _),) = held_rows(process.state)
    assert (size, root) == (12, root_hash(winner.leaves))

    # Every request for the other tree of size 12 is a fork, kept with both checkpoints.
    result = mutualog("--state", process.state, "witness", "evidence", "--json")
    kept = json.loads(result.out)
    assert len(kept) == 6 and {e["kind"] for e in kept} == {"fork"}
    for item in kept:
        assert base64.b64decode(item["submitted_base64"]) == loser.request(8)
        assert item["held_size"] == 12
        assert item["held_checkpoint"].startswith(winner.checkpoint().decode())
    human = mutualog("--state", process.state, "witness", "evidence")
    assert human.code == 0 and human.out.count(" fork ") == 6


def test_concurrent_growth_and_replays_never_roll_back(
    witness: tuple[SimLog, WitnessProcess],
) -> None:
    log, process = witness
    first = log.request(0, 8)
    log.grow(40)
    # All from size 8: the first to take the lock wins, whichever size.
    requests = [log.request(8, size) for size in (12, 20, 30, 48)] * 3 + [first] * 3
    answers = _all_at_once(process.port, requests)
    won = [requests[i] for i, a in enumerate(answers) if a.status == 200]
    assert len(won) == 1
    held = held_rows(process.state)[0][2]
    assert isinstance(held, int) and held in (12, 20, 30, 48)
    assert won != [first]
    # Each refusal names the size held when its turn came: 8, or the winner's.
    refused = {(a.status, a.body) for a in answers if a.status != 200}
    assert refused <= {(409, b"8\n"), (409, f"{held}\n".encode())}

    # Replaying every request, old or new, changes nothing.
    for request in requests:
        assert post(process.port, request).status == 409
    assert held_rows(process.state)[0][2] == held

    # The log goes on from there, one worker after another.
    old = held
    for size in (49, 50, 64, 100):
        log.grow(size - len(log.leaves))
        assert post(process.port, log.request(old)).status == 200
        old = size
    assert held_rows(process.state)[0][2] == 100


def test_a_witness_never_answers_before_it_stored(
    witness: tuple[SimLog, WitnessProcess],
) -> None:
    """Stopped right after an answer, the witness restarts holding what it
    answered for (the commit precedes the answer)."""
    log, process = witness
    log.grow(4)
    answer = post(process.port, log.request(8))
    assert answer.status == 200
    process.stop()
    restarted = WitnessProcess(process.state, process.key, workers=1).start()
    try:
        assert post(restarted.port, log.request(8)).body == b"12\n"
        assert held_rows(process.state)[0][4] == log.checkpoint() + answer.body
    finally:
        restarted.stop()
