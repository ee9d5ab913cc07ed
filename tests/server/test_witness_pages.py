"""What the pages say about the witnesses: the operator's section (both
languages), and the witness policy in the trust command of /verify and the
member's dashboard."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine

from server.auth import accounts_service
from server.pool_app import current_pool
from server.presenters.commands import verify_commands
from server.private.accounts import Role
from server.witnessing.store import add_witness, record_answer, set_required, store_cosignature
from server.witnessing.views import trusted_witnesses
from tests.clock import FixedClock
from tests.server.pool_helpers import (
    PASSWORD,
    RULES,
    add_members,
    make_pool_app,
    sign_in,
    text_of,
)
from verifiable.log.cosignature import CosignatureSigner
from verifiable.log.note import Note

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
SIGNERS = [CosignatureSigner(f"w{i}.example", bytes([0x50 + i]) * 32) for i in range(3)]


@pytest.fixture
def app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    app = make_pool_app(engine, tmp_path, clock)
    with app.app_context():
        pool = current_pool()
        pool.start(RULES)
        add_members(pool, 2, "member", clock())
        accounts_service().register("operator", PASSWORD, clock(), Role.OPERATOR)
    yield app
    app.extensions["mutualog"].engine.dispose()


def _witnesses(engine: Engine, required: int) -> None:
    for i, s in enumerate(SIGNERS):
        add_witness(engine, s.name, f"http://127.0.0.1:{7380 + i}", s.verifier().to_vkey(), NOW)
    set_required(engine, required, NOW)


def test_without_witnesses_the_trust_command_is_as_before(app: Flask) -> None:
    page = text_of(app.test_client().get("/verify"))
    assert "mutualog trust example.org/mutualog/test " in page
    assert "--witness" not in page
    operator = text_of(sign_in(app, "operator").get("/operator/"))
    assert "No witnesses are configured" in operator


def test_the_trust_command_pins_the_witness_policy(app: Flask, engine: Engine) -> None:
    _witnesses(engine, 2)
    expected = (
        " ".join(f"--witness {s.name} {s.verifier().to_vkey()}" for s in SIGNERS)
        + " --witnesses-required 2"
    )
    assert expected in text_of(app.test_client().get("/verify"))
    # The dashboard shows the same command (with a deduction to check), built the same way.
    commands = verify_commands("o", "k", "http://x", *trusted_witnesses(engine))
    assert commands.trust == "mutualog trust o k " + expected
    # A policy of 0 hands out no witness: the log serves unwitnessed checkpoints then.
    set_required(engine, 0, NOW)
    assert "--witness" not in text_of(app.test_client().get("/verify"))


def test_the_operator_sees_each_witness_state(app: Flask, engine: Engine) -> None:
    _witnesses(engine, 2)
    with app.app_context():
        store = current_pool().store
        note = store.latest_checkpoint()
        size = store.size()
    assert note is not None
    text = Note.from_bytes(note).text
    for s in SIGNERS[:2]:
        store_cosignature(engine, size, s.cosign(text, int(NOW.timestamp())), NOW)
    record_answer(engine, "w2.example", NOW, known_size=None, error="witness w2.example: HTTP 500")
    client = sign_in(app, "operator")
    page = text_of(client.get("/operator/"))
    assert "cosigned by at least 2 of the 3 witnesses" in page
    assert f"Witnessed up to the newest checkpoint ({size} entries)" in page
    assert f"size {size}" in page and "never" in page
    words = " ".join(re.sub(r"<[^>]+>", "", page).split())
    assert "Not answering as it should: witness w2.example: HTTP 500" in words
    chinese = text_of(client.get("/operator/", headers={"Accept-Language": "zh-CN"}))
    assert "见证方" in chinese and "未正常回应" in chinese and "Witnessed up to" not in chinese
