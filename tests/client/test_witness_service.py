"""``mutualog witness serve``: a real witness process (gunicorn, several
workers) on a free port of 127.0.0.1, answering C2SP tlog-witness
``POST /add-checkpoint`` as the spec says, and never rolling back."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from client.witness import create_witness_key
from tests.client.witness_helpers import (
    WITNESS,
    SimLog,
    WitnessProcess,
    body,
    check_cosignature,
    held_rows,
    make_witness,
    post,
)
from verifiable.log.checkpoint import Checkpoint
from verifiable.log.merkle import leaf_hash
from verifiable.log.note import Ed25519Signer, Note, NoteSignature, sign_note

if TYPE_CHECKING:
    pass


@pytest.fixture
def witness_for(tmp_path: Path) -> Iterator[Callable[..., WitnessProcess]]:
    """``witness_for(*logs, workers=2, extra=())``: a running witness pinning ``logs``."""
    started: list[WitnessProcess] = []

    def start(*logs: SimLog, workers: int = 2, extra: tuple[str, ...] = ()) -> WitnessProcess:
        folder = tmp_path / f"w{len(started)}"
        state, key, _ = make_witness(folder, *logs)
        process = WitnessProcess(state, key, extra, workers)
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.stop()


def test_serve_cosigns_a_chain_of_checkpoints(
    witness_for: Callable[..., WitnessProcess], tmp_path: Path
) -> None:
    log = SimLog.make("example.org/chain", b"chain")
    witness = witness_for(log)
    vkey = create_witness_key(
        tmp_path / "again", WITNESS, hashlib.sha256(WITNESS.encode()).digest()
    )
    old, last_time = 0, 0
    for grow in (1, 1, 6, 9, 240, 1, 0):
        log.grow(grow)
        answer = post(witness.port, log.request(old))
        assert (answer.status, answer.content_type) == (200, "text/plain; charset=utf-8")
        timestamp = check_cosignature(answer.body, log.checkpoint(), vkey)
        assert timestamp >= last_time
        old, last_time = len(log.leaves), timestamp
        ((origin, who, size, root, note, stored_time),) = held_rows(witness.state)
        assert (origin, who, size, root) == (log.origin, witness_who(vkey), old, root)
        # What is stored is the checkpoint with this very cosignature appended.
        assert note == log.checkpoint() + answer.body and stored_time == timestamp
    assert "cosigning 1 log(s)" in witness.log_text()


def witness_who(vkey: str) -> str:
    name, key_id, _ = vkey.split("+", 2)
    return f"{name}+{key_id}"


# --- every refusal of the spec, and nothing stored -----------------------------------


TABLE_LOG = SimLog.make("example.org/table", b"table")
TABLE_LOG.grow(10)
OTHER_KEY = Ed25519Signer(TABLE_LOG.origin, hashlib.sha256(b"impostor").digest())


@dataclass(frozen=True)
class Case:
    request: Callable[[SimLog], bytes]
    status: int
    method: str = "POST"
    path: str = "/add-checkpoint"


def _grown(log: SimLog, count: int = 10) -> SimLog:
    return SimLog(log.origin, log.signer, log.leaves + [leaf_hash(b"%d" % i) for i in range(count)])


def _fork(log: SimLog, keep: int, count: int) -> SimLog:
    return SimLog(
        log.origin, log.signer, log.leaves[:keep] + [leaf_hash(b"x%d" % i) for i in range(count)]
    )


def _bad_checkpoint_text(log: SimLog) -> bytes:
    note = sign_note(f"{log.origin}\n020\n{'A' * 43}=\n", [log.signer])
    return body(10, [], note)


def _tampered(log: SimLog) -> bytes:
    grown = _grown(log)
    note = Note.from_bytes(grown.checkpoint())
    (line,) = note.signatures
    flipped = line.signature[:-1] + bytes([line.signature[-1] ^ 1])
    tampered = Note(note.text, (NoteSignature(line.name, line.key_id, flipped),))
    return body(10, grown.proof(10), tampered.to_bytes())


CASES = {
    "get": Case(lambda log: b"", 405, method="GET"),
    "put": Case(lambda log: _grown(log).request(10), 405, method="PUT"),
    "other-path": Case(lambda log: _grown(log).request(10), 404, path="/checkpoint"),
    "empty": Case(lambda log: b"", 400),
    "no-empty-line": Case(lambda log: b"old 10\n" + _grown(log).checkpoint(), 400),
    "old-leading-zero": Case(lambda log: body("010", [], log.checkpoint()), 400),
    "old-negative": Case(lambda log: body("-1", [], log.checkpoint()), 400),
    "old-not-a-number": Case(lambda log: body("ten", [], log.checkpoint()), 400),
    "old-two-spaces": Case(lambda log: body(" 10", [], log.checkpoint()), 400),
    "old-missing": Case(lambda log: b"10\n\n" + log.checkpoint(), 400),
    "crlf": Case(lambda log: _grown(log).request(10).replace(b"\n", b"\r\n", 1), 400),
    "proof-not-base64": Case(
        lambda log: body(10, [], _grown(log).checkpoint()).replace(
            b"old 10\n", b"old 10\nnot base64!\n"
        ),
        400,
    ),
    "proof-hash-short": Case(lambda log: body(10, [bytes(31)], _grown(log).checkpoint()), 400),
    "proof-64-lines": Case(lambda log: body(10, [bytes(32)] * 64, _grown(log).checkpoint()), 400),
    "proof-non-ascii": Case(
        lambda log: body(10, [], _grown(log).checkpoint()).replace(
            b"old 10\n", "old 10\n\u00e9\n".encode()
        ),
        400,
    ),
    "checkpoint-unsigned": Case(
        lambda log: body(10, [], Checkpoint(log.origin, 20, bytes(32)).to_bytes() + b"\n"), 400
    ),
    "checkpoint-bad-size": Case(_bad_checkpoint_text, 400),
    "checkpoint-trailing-bytes": Case(lambda log: _grown(log).request(10) + b"extra", 400),
    "unknown-origin": Case(lambda log: SimLog.make("example.org/unknown", b"u").request(0), 404),
    "other-key": Case(
        lambda log: body(10, _grown(log).proof(10), _grown(log).checkpoint(signer=OTHER_KEY)), 403
    ),
    "bad-signature": Case(_tampered, 403),
    "old-above-size": Case(lambda log: body(30, [], _grown(log).checkpoint()), 400),
    "old-behind": Case(lambda log: _grown(log).request(5), 409),
    "old-ahead": Case(lambda log: body(15, _grown(log).proof(15), _grown(log).checkpoint()), 409),
    "old-zero": Case(lambda log: body(0, [], _grown(log).checkpoint()), 409),
    "proof-of-another-tree": Case(
        lambda log: body(10, _fork(log, 4, 16).proof(10), _grown(log).checkpoint()), 422
    ),
    "proof-too-short": Case(
        lambda log: body(10, _grown(log).proof(10)[:-1], _grown(log).checkpoint()), 422
    ),
    "proof-for-equal-sizes": Case(lambda log: body(10, [bytes(32)], log.checkpoint()), 422),
    "fork-of-equal-size": Case(lambda log: body(10, [], _fork(log, 5, 5).checkpoint()), 409),
    "too-large": Case(lambda log: _grown(log).request(10) + b"\n" * 70_000, 413),
}


@pytest.fixture(scope="module")
def table_witness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WitnessProcess]:
    state, key, _ = make_witness(tmp_path_factory.mktemp("table"), TABLE_LOG)
    witness = WitnessProcess(state, key).start()
    assert post(witness.port, TABLE_LOG.request(0)).status == 200
    yield witness
    witness.stop()


@pytest.mark.parametrize("name", list(CASES))
def test_every_refusal_of_the_spec_changes_nothing(
    table_witness: WitnessProcess, name: str
) -> None:
    case = CASES[name]
    before = held_rows(table_witness.state)
    answer = post(table_witness.port, case.request(TABLE_LOG), case.path, case.method)
    assert answer.status == case.status, answer.body
    assert held_rows(table_witness.state) == before
    assert before[0][2] == 10
    if case.status == 409:
        # The spec: the size held, a newline, as text/x.tlog.size.
        assert (answer.content_type, answer.body) == ("text/x.tlog.size", b"10\n")
    else:
        assert answer.content_type == "text/plain; charset=utf-8"
        assert answer.body.endswith(b"\n") and len(answer.body) > 1
    if case.status == 405:
        assert answer.headers["allow"] == "POST"


def test_after_every_refusal_the_honest_checkpoint_is_cosigned(
    witness_for: Callable[..., WitnessProcess],
) -> None:
    log = SimLog(TABLE_LOG.origin, TABLE_LOG.signer, list(TABLE_LOG.leaves))
    witness = witness_for(log)
    assert post(witness.port, log.request(0)).status == 200
    statuses = {post(witness.port, c.request(log), c.path, c.method).status for c in CASES.values()}
    assert statuses == {400, 403, 404, 405, 409, 413, 422}
    assert held_rows(witness.state)[0][2] == 10
    grown = _grown(log, 3)
    assert post(witness.port, grown.request(10)).status == 200
    assert held_rows(witness.state)[0][2] == 13
