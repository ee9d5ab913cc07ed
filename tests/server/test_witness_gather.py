"""The submitter (server.witnessing.submit) against C2SP tlog-witness
witnesses in threads, and what the read path then serves: /checkpoint
under the witness policy, /checkpoint/latest, /api/v1/log's witnesses."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine

from server import create_app
from server.keys import create_key_file
from server.sequencer import Sequencer
from server.witnessing.store import (
    add_witness,
    cosigned_checkpoint,
    list_witnesses,
    record_answer,
    set_required,
)
from server.witnessing.submit import Gatherer, Outcome, _post
from tests.server.witness_double import WitnessDouble
from verifiable.log.bodies import AgeBand, Body, MemberJoined
from verifiable.log.checkpoint import open_checkpoint
from verifiable.log.cosignature import CosignatureSigner, CosignatureVerifier
from verifiable.log.note import Ed25519Signer

NOW = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)


def _items(start: int, count: int) -> list[tuple[str, Body]]:
    return [
        ("member.joined", MemberJoined(member=f"{i:032x}", age_band=AgeBand.FROM_18_TO_39))
        for i in range(start, start + count)
    ]


@dataclass
class Setup:
    engine: Engine
    sequencer: Sequencer
    signer: Ed25519Signer
    witnesses: list[WitnessDouble]
    gatherer: Gatherer
    client: FlaskClient

    def grow(self, count: int) -> None:
        head = self.client.get("/api/v1/log").get_json()["size"]
        self.sequencer.append(_items(head, count))

    def round(self) -> dict[str, Outcome]:
        futures = self.gatherer.round(wait=True)
        assert futures is not None
        return {o.witness: o for o in (f.result() for f in futures)}

    def keys(self) -> dict[str, CosignatureVerifier]:
        return {w.signer.name: w.signer.verifier() for w in self.witnesses}


@pytest.fixture
def setup(
    tmp_path: Path, database_url: str, engine: Engine, signer: Ed25519Signer
) -> Iterator[Setup]:
    create_key_file(tmp_path / "log.key", signer.name, signer.seed)
    sequencer = Sequencer(engine, signer, signer.name, lambda: NOW)
    sequencer.ensure_checkpoint()
    doubles = []
    for i in range(3):
        cosigner = CosignatureSigner(f"w{i}.example", bytes([0x40 + i]) * 32)
        double = WitnessDouble(cosigner, signer.verifier(), timestamp=int(NOW.timestamp()))
        add_witness(engine, cosigner.name, double.url, cosigner.verifier().to_vkey(), NOW)
        doubles.append(double)
    app = create_app(
        {"MUTUALOG_INSTANCE": tmp_path, "MUTUALOG_DATABASE_URL": database_url, "TESTING": True}
    )
    gatherer = Gatherer(engine, lambda: NOW, timeout=2.0, holder="test")
    yield Setup(engine, sequencer, signer, doubles, gatherer, app.test_client())
    gatherer.close()
    for double in doubles:
        double.close()
    app.extensions["mutualog"].engine.dispose()


def test_checkpoints_gather_cosignatures_and_checkpoint_serves_them(setup: Setup) -> None:
    setup.grow(5)
    outcomes = setup.round()
    assert {o.status for o in outcomes.values()} == {"cosigned"}
    assert [w.requests for w in setup.witnesses] == [[0], [0], [0]]
    set_required(setup.engine, 2, NOW)
    response = setup.client.get("/checkpoint")
    assert response.status_code == 200
    verifiers = [w.signer.verifier() for w in setup.witnesses]
    signed = open_checkpoint(response.data, setup.signer.verifier(), setup.signer.name, verifiers)
    assert signed.checkpoint.size == 5
    assert sorted(c.name for c in signed.cosignatures) == ["w0.example", "w1.example", "w2.example"]
    # The next checkpoint goes with a consistency proof from the size each witness holds.
    setup.grow(7)
    assert setup.client.get("/checkpoint").data == response.data
    latest = setup.client.get("/checkpoint/latest")
    assert open_checkpoint(latest.data, setup.signer.verifier(), setup.signer.name)
    assert b"\n12\n" in latest.data
    assert {o.status for o in setup.round().values()} == {"cosigned"}
    assert [w.requests for w in setup.witnesses] == [[0, 5]] * 3
    assert b"\n12\n" in setup.client.get("/checkpoint").data
    # A round with nothing new sends nothing.
    assert {o.status for o in setup.round().values()} == {"held"}
    assert [len(w.requests) for w in setup.witnesses] == [2, 2, 2]
    log = setup.client.get("/api/v1/log").get_json()
    assert log["witnesses_required"] == 2 and log["witnessed_size"] == 12
    assert [(w["name"], w["last_cosigned_size"]) for w in log["witnesses"]] == [
        ("w0.example", 12),
        ("w1.example", 12),
        ("w2.example", 12),
    ]
    assert log["witnesses"][0]["verifier_key"] == verifiers[0].to_vkey()
    assert log["witnesses"][0]["url"] == setup.witnesses[0].url


def test_checkpoint_is_404_until_the_policy_is_met(setup: Setup) -> None:
    setup.grow(3)
    set_required(setup.engine, 1, NOW)
    response = setup.client.get("/checkpoint")
    assert response.status_code == 404
    assert "/checkpoint/latest" in response.get_json()["message"]
    assert setup.client.get("/checkpoint/latest").status_code == 200
    assert setup.client.get("/api/v1/log").get_json()["witnessed_size"] is None


def test_a_witness_that_holds_another_size_is_caught_up_through_409(setup: Setup) -> None:
    setup.grow(4)
    setup.round()
    setup.grow(4)
    # w1 holds size 4, but the server believes 2 (as after a lost answer):
    # the 409 names 4, and the submission is resent from there.
    w1 = setup.witnesses[1]
    record_answer(setup.engine, w1.signer.name, NOW, known_size=2, error=None)
    outcomes = setup.round()
    assert outcomes["w1.example"].status == "cosigned"
    assert w1.requests == [0, 2, 4]
    assert next(w for w in list_witnesses(setup.engine) if w.name == "w1.example").known_size == 8


@pytest.mark.parametrize(
    ("mode", "detail"),
    [
        ("wrong-key", "cosignature"),
        ("future", "ahead of this server's clock"),
        ("error", "HTTP 500"),
    ],
)
def test_a_bad_answer_stores_nothing_and_is_recorded(setup: Setup, mode: str, detail: str) -> None:
    setup.grow(3)
    setup.witnesses[0].mode = mode
    outcomes = setup.round()
    assert outcomes["w0.example"].status == "failed"
    assert detail in outcomes["w0.example"].detail
    assert outcomes["w1.example"].status == "cosigned"
    found = cosigned_checkpoint(setup.engine, setup.keys(), 2)
    assert found is not None and found.cosigners == ("w1.example", "w2.example")
    w0 = list_witnesses(setup.engine)[0]
    assert w0.last_cosigned is None and w0.last_error is not None and detail in w0.last_error


def test_a_dead_witness_costs_nothing_already_gathered(setup: Setup) -> None:
    setup.grow(3)
    setup.round()
    set_required(setup.engine, 3, NOW)
    setup.witnesses[2].close()
    setup.grow(3)
    outcomes = setup.round()
    assert outcomes["w2.example"].status == "failed"
    assert "w2.example at http://127.0.0.1" in outcomes["w2.example"].detail
    # 3 of 3 still holds for size 3, so that is what /checkpoint serves.
    assert b"\n3\n" in setup.client.get("/checkpoint").data
    set_required(setup.engine, 2, NOW)
    assert b"\n6\n" in setup.client.get("/checkpoint").data


def test_one_submitter_at_a_time(setup: Setup) -> None:
    other = Gatherer(setup.engine, lambda: NOW, holder="other")
    try:
        setup.grow(2)
        assert setup.gatherer.round(wait=True) is not None
        assert other.round(wait=True) is None
    finally:
        other.close()


def test_an_unreachable_port_is_refused_quickly() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens there now: the connection is refused, not timed out.
    with pytest.raises(OSError):
        _post(f"http://127.0.0.1:{port}", b"old 0\n\n", 2.0)
