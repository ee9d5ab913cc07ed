"""A generated pool loaded by the bulk path is a log like any other: every
stored hash and the signed checkpoint recompute from the entries alone, the
sequencer extends it, and a load into a log that exists, or of nothing,
stores nothing."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from server import bulkload
from server.bulkload import load_generated
from server.cli import main
from server.config import load_settings
from server.db import make_engine
from server.keys import load_log_signer
from server.sequencer import Sequencer
from server.storage import LoadError, LogNotEmptyError, LogStore
from tests.clock import FixedClock
from verifiable.log.bodies import MemberJoined
from verifiable.log.checkpoint import open_checkpoint
from verifiable.log.merkle import CompactTree, leaf_hash
from verifiable.log.note import Ed25519Signer
from verifiable.testonly.bulk import BulkSimulation, large_pool_config

# The conftest's signer is for this origin.
ORIGIN = "example.org/mutualog/test"
Items = list[tuple[str, MemberJoined]]


def _pool(members: int) -> list[bytes]:
    return list(BulkSimulation(random.Random(9), large_pool_config(members)).run())


def test_a_generated_pool_loads_and_recomputes(
    engine: Engine,
    signer: Ed25519Signer,
    check_log: Callable[[Engine], list[bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Small commits, so that the load crosses several transactions.
    monkeypatch.setattr(bulkload, "COMMIT_EVERY", 700)
    monkeypatch.setattr(bulkload, "_CHUNK", 300)
    entries = _pool(2_000)
    stored: list[int] = []
    loaded = load_generated(engine, iter(entries), signer, ORIGIN, stored.append)
    tree = CompactTree()
    tree.extend([leaf_hash(data) for data in entries])
    assert (loaded.size, loaded.root_hash) == (len(entries), tree.root())
    assert stored[-1] == len(entries) and len(stored) > 2
    assert check_log(engine) == entries  # every hash, the chain, the checkpoint
    store = LogStore(engine)
    assert store.latest_checkpoint() == loaded.checkpoint_note
    assert store.root_hash(len(entries)) == tree.root()
    assert store.find_leaf(leaf_hash(entries[1234])) == 1234  # the index is back


def test_the_sequencer_extends_a_generated_log(
    engine: Engine,
    signer: Ed25519Signer,
    clock: FixedClock,
    members: Callable[..., Items],
    check_log: Callable[[Engine], list[bytes]],
) -> None:
    entries = _pool(300)
    load_generated(engine, iter(entries), signer, ORIGIN)
    clock.advance(days=3650)  # past the generated history
    Sequencer(engine, signer, ORIGIN, clock).append(members(5))
    assert len(check_log(engine)) == len(entries) + 5


def test_refuses_a_database_with_a_log_and_an_empty_load(
    engine: Engine, signer: Ed25519Signer, check_log: Callable[[Engine], list[bytes]]
) -> None:
    with pytest.raises(LoadError, match="no entries offered"):
        load_generated(engine, iter(()), signer, ORIGIN)
    assert LogStore(engine).size() == 0
    entries = _pool(300)
    load_generated(engine, iter(entries), signer, ORIGIN)
    with pytest.raises(LogNotEmptyError, match="already holds a log"):
        load_generated(engine, iter(entries), signer, ORIGIN)
    assert check_log(engine) == entries


def test_the_generate_command_builds_a_servable_instance(
    tmp_path: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    instance = tmp_path / "instance"
    args = ["--instance", str(instance), "--database-url", sqlite_url]
    assert main([*args, "generate", "--members", "400", "--days", "40"]) == 0
    out = capsys.readouterr().out
    assert "generated " in out and " joins" in out
    engine = make_engine(sqlite_url)
    try:
        store = LogStore(engine)
        note = store.latest_checkpoint()
        assert note is not None and store.size() > 400
        verifier = load_log_signer(load_settings({"MUTUALOG_INSTANCE": instance})).verifier()
        opened = open_checkpoint(note, verifier, verifier.name)
        assert opened.checkpoint.size == store.size()
    finally:
        engine.dispose()
    # A second run refuses: the log exists.
    assert main([*args, "generate", "--members", "400"]) == 2
    assert "already holds a log" in capsys.readouterr().err
