"""The server's witnessed draw: with K witnesses in the rules in force, a
panel is seeded by the newest checkpoint K of them cosigned, and until one
new enough is gathered the draw waits — the claim stays ready, nothing is
appended, and the operator's page says why."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from sqlalchemy import Engine

from server.auth import accounts_service
from server.pool_app import current_pool
from server.pool_service import PoolRefusedError, PoolService
from server.private.accounts import Role
from server.private.evidence import Upload
from server.storage import LogStore
from server.witnessing.store import store_cosignature
from tests.server.pool_helpers import PDF, RULES, add_members, make_pool_app, sign_in, text_of
from tests.server.redaction_files import redact_all
from verifiable.log.bodies import PanelDrawn
from verifiable.log.cosignature import CosignatureSigner
from verifiable.log.note import Note
from verifiable.pool.replay import replay
from verifiable.pool.sortition import witnessed_seed

if TYPE_CHECKING:
    from tests.clock import FixedClock

WITNESSES = tuple(CosignatureSigner(f"witness.example/w{i}", bytes([7 + i]) * 32) for i in range(2))


@pytest.fixture
def app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    app = make_pool_app(engine, tmp_path, clock)
    with app.app_context():
        yield app
    app.extensions["mutualog"].engine.dispose()


def _ready_claim(
    pool: PoolService, clock: FixedClock, k: int, in_window: Callable[[], object] | None = None
) -> str:
    """A pool whose rules want ``k`` of two witnesses, and a claim whose
    objection window is over; ``in_window`` runs while it is open, before
    one more entry is appended in it."""
    rules = {
        **RULES,
        "draw.witnesses": [w.verifier().to_vkey() for w in WITNESSES],
        "draw.witnesses_required": k,
    }
    pool.start(rules)
    members = add_members(pool, 6, "member", clock())
    for member in members:
        pool.qualify_juror(member)
    pool.commit_jury_pool()
    clock.advance(days=11)
    claimant = next(iter(members))
    upload = Upload(PDF, "application/pdf", "a.pdf")
    claim = pool.file_claim(claimant, "cancer", 5_000_000, clock().date(), [upload])
    redact_all(pool, claim)
    pool.publish_notice(claim, "A member aged 18-39 asks for aid for cancer.")
    if in_window is not None:
        in_window()
        add_members(pool, 1, "window", clock())
    clock.advance(days=3)
    return claim


def _cosign(engine: Engine, signers: tuple[CosignatureSigner, ...]) -> int:
    """``signers`` cosign the log's latest checkpoint, as the gathering does."""
    note = LogStore(engine).latest_checkpoint()
    assert note is not None
    text = Note.from_bytes(note).text
    size = int(text.split("\n")[1])
    now = datetime.now(UTC)
    for signer in signers:
        store_cosignature(engine, size, signer.cosign(text, int(now.timestamp())), now)
    return size


def test_the_draw_waits_for_the_witnesses_then_uses_their_checkpoint(
    app: Flask, clock: FixedClock
) -> None:
    pool = current_pool()
    claim = _ready_claim(pool, clock, 2)
    size = pool.state().size
    assert pool.awaiting_witnesses(claim)
    with pytest.raises(PoolRefusedError) as refused:
        pool.draw_panel(claim)
    assert refused.value.code == "draw.awaiting_witnesses"
    assert pool.state().size == size  # nothing appended; the claim stays ready
    _cosign(pool.engine, WITNESSES[:1])  # one of the two required: still waiting
    assert pool.awaiting_witnesses(claim)
    cosigned = _cosign(pool.engine, WITNESSES[1:])
    assert not pool.awaiting_witnesses(claim)
    body = pool.draw_panel(claim)
    assert body.witnessed is not None
    assert body.witnessed.checkpoint.size == cosigned
    assert [c.name for c in body.witnessed.cosignatures] == [w.name for w in WITNESSES]
    assert body.seed == witnessed_seed(
        body.witnessed.checkpoint.root_hash, body.witnessed.cosignatures
    )
    entries = LogStore(pool.engine).entries(0, pool.state().size)
    replay(entries)


def test_a_checkpoint_older_than_the_log_is_proven_to_it(app: Flask, clock: FixedClock) -> None:
    """Entries appended after the cosigned checkpoint: the draw carries the
    consistency proof from it to the log, and the replay checks it."""
    pool = current_pool()
    claim = _ready_claim(pool, clock, 1)
    _cosign(pool.engine, WITNESSES[:1])
    add_members(pool, 2, "late", clock())
    body = pool.draw_panel(claim)
    assert isinstance(body, PanelDrawn) and body.witnessed is not None
    assert body.witnessed.checkpoint.size < pool.state().size - 1
    assert body.witnessed.proof
    replay(LogStore(pool.engine).entries(0, pool.state().size))


def test_a_checkpoint_from_before_the_claim_was_ready_does_not_seed(
    app: Flask, clock: FixedClock
) -> None:
    """A checkpoint cosigned during the objection window, the log grown since
    and the claim made ready by an entry after the window: the old
    checkpoint cannot seed the draw, a new one can."""
    pool = current_pool()
    claim = _ready_claim(pool, clock, 1, in_window=lambda: _cosign(pool.engine, WITNESSES[:1]))
    add_members(pool, 1, "after", clock())  # the first entry after the window
    assert pool.awaiting_witnesses(claim)
    with pytest.raises(PoolRefusedError):
        pool.draw_panel(claim)
    _cosign(pool.engine, WITNESSES[:1])
    assert pool.draw_panel(claim).witnessed is not None


def test_the_operator_page_says_the_draw_waits(app: Flask, clock: FixedClock) -> None:
    pool = current_pool()
    claim = _ready_claim(pool, clock, 1)
    accounts_service().register("boss", "correct horse battery", clock(), role=Role.OPERATOR)
    client = sign_in(app, "boss")
    page = text_of(client.get(f"/operator/claims/{claim}", headers={"Accept-Language": "en"}))
    assert "Waiting for the witnesses" in page
    _cosign(pool.engine, WITNESSES[:1])
    page = text_of(client.get(f"/operator/claims/{claim}", headers={"Accept-Language": "en"}))
    assert "Waiting for the witnesses" not in page
