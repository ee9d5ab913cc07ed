"""LogStore on SQLite and PostgreSQL: reads, proofs, tiles, bulk loading, and
the schema the migrations build."""

from __future__ import annotations

import random
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, event, inspect, select
from sqlalchemy.exc import DBAPIError

from server.db import (
    current_revision,
    make_engine,
    raw_read_connection,
    upgrade,
    write_transaction,
)
from server.models import Base, CheckpointRow, EntryRow, SubtreeHashRow
from server.sequencer import Sequencer
from server.storage import (
    LoadError,
    LogNotEmptyError,
    LogStore,
    NotInLogError,
)
from verifiable.errors import MalformedError
from verifiable.log import tiles
from verifiable.log.merkle import (
    EMPTY_ROOT,
    Subtree,
    consistency_proof,
    hash_leaves,
    inclusion_proof,
    inclusion_proof_subtrees,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from verifiable.log.note import Ed25519Signer

ORIGIN = "example.org/mutualog/test"
SIZE = 700  # two full level-0 tiles and a partial one; levels up to 9
LATER = datetime(2027, 1, 1, tzinfo=UTC)


@pytest.fixture
def filled(
    sequencer: Sequencer, engine: Engine, members: Callable[..., Any]
) -> tuple[LogStore, list[bytes]]:
    """A log of SIZE entries appended in random batches, and its entries."""
    rng = random.Random(3)
    size = 0
    while size < SIZE:
        n = min(SIZE - size, rng.randrange(1, 120))
        sequencer.append(members(n, size))
        size += n
    store = LogStore(engine)
    return store, store.entries(0, SIZE)


# --- schema -----------------------------------------------------------------------


def test_upgrade_is_idempotent_and_matches_the_models(engine: Engine) -> None:
    upgrade(engine)
    assert current_revision(engine) is not None
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    names = set(inspect(engine).get_table_names())
    assert {"entries", "subtree_hashes", "checkpoints", "alembic_version"} <= names


def test_fresh_database_has_no_schema(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert LogStore(engine).size() == 0
    finally:
        engine.dispose()


def test_sqlite_pragmas(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    names = ("journal_mode", "synchronous", "foreign_keys", "busy_timeout", "secure_delete")
    try:
        with engine.connect() as conn:
            pragmas = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in names}
            tuning = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("cache_size", "wal_autocheckpoint")
            }
    finally:
        engine.dispose()
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 2,  # FULL: a commit is on disk before append returns
        "foreign_keys": 1,
        "busy_timeout": 60000,
        "secure_delete": 1,  # erased content zeroed, not left in free pages
    }
    assert tuning == {"cache_size": -32768, "wal_autocheckpoint": 10000}


def test_write_lock_serializes_writers(engine: Engine) -> None:
    """A second writer waits until the first commits: BEGIN IMMEDIATE on
    SQLite, the advisory lock on PostgreSQL."""
    events: list[str] = []
    first_has_lock = threading.Event()

    def first() -> None:
        with write_transaction(engine):
            events.append("first locked")
            first_has_lock.set()
            time.sleep(0.5)
            events.append("first commits")

    def second() -> None:
        first_has_lock.wait(10)
        with write_transaction(engine):
            events.append("second locked")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert events == ["first locked", "first commits", "second locked"]


def test_reads_leave_pooled_connections_transactional(engine: Engine) -> None:
    # Reads run in autocommit; a write on the same pooled connection must not,
    # or PostgreSQL's transaction-scoped lock would end with its statement.
    store = LogStore(engine)
    for _ in range(3):
        store.size()
        store.read_hashes([])
        # The proof path runs on the driver's connection, in autocommit for
        # the one statement, also when it fails.
        store.root_hash(0)
        with pytest.raises(NotInLogError):
            store.inclusion_proof(0, 5)
    with write_transaction(engine) as conn:
        if engine.dialect.name == "postgresql":
            assert conn.connection.dbapi_connection.autocommit is False  # type: ignore[union-attr]
            held = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                "AND pid = pg_backend_pid()"
            ).scalar()
            assert held == 1
        else:
            assert conn.connection.dbapi_connection.in_transaction  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("mysql://u@h/db", "backend 'mysql' is not supported"),
        ("postgresql+psycopg2://u@h/db", "backend 'postgresql\\+psycopg2' is not supported"),
        ("not a url", "cannot be parsed"),
    ],
)
def test_unsupported_database_urls(url: str, match: str) -> None:
    from server.db import DatabaseURLError

    with pytest.raises(DatabaseURLError, match=match):
        make_engine(url)


def test_postgresql_url_means_psycopg3() -> None:
    engine = make_engine("postgresql://user:secret@127.0.0.1:1/db")
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


def test_in_memory_sqlite_is_one_database(
    members: Callable[..., Any], signer: Ed25519Signer
) -> None:
    engine = make_engine("sqlite://")
    upgrade(engine)
    Sequencer(engine, signer, ORIGIN, lambda: LATER).append(members(3))
    assert LogStore(engine).size() == 3
    engine.dispose()


# --- an empty log -----------------------------------------------------------------


def test_empty_log(engine: Engine) -> None:
    store = LogStore(engine)
    assert store.size() == 0
    assert store.latest_checkpoint() is None
    assert store.entries(0, 10) == []
    assert store.entry(0) is None
    assert store.level_hashes(0, 0, 256) == []
    assert store.find_leaf(bytes(32)) is None
    assert store.root_hash(0) == EMPTY_ROOT
    with pytest.raises(NotInLogError, match="tree size 1 is beyond the log's size 0"):
        store.inclusion_proof(0, 1)
    with pytest.raises(NotInLogError, match="is not in the log of size 0"):
        store.read_hashes([Subtree(0, 0)])
    assert store.read_hashes([]) == []


# --- reads ------------------------------------------------------------------------


def test_entries_and_leaves(filled: tuple[LogStore, list[bytes]]) -> None:
    store, entries = filled
    assert len(entries) == SIZE
    assert store.size() == SIZE
    assert store.entries(10, 20) == entries[10:20]
    assert store.entries(SIZE - 5, SIZE + 100) == entries[-5:]
    assert store.entries(5, 5) == []
    assert store.entry(0) == entries[0]
    assert store.entry(SIZE - 1) == entries[-1]
    assert store.entry(SIZE) is None
    leaves = hash_leaves(entries)
    for i in (0, 1, 255, 256, SIZE - 1):
        assert store.find_leaf(leaves[i]) == i
    assert store.find_leaf(bytes(32)) is None
    assert store.checkpoint(SIZE) == store.latest_checkpoint()
    assert store.checkpoint(SIZE + 1) is None


def test_tiles_equal_a_recomputation(filled: tuple[LogStore, list[bytes]]) -> None:
    store, entries = filled
    expected = tiles.build_tiles(hash_leaves(entries))
    for tile in tiles.tiles_for_size(SIZE):
        # Through the HashReader, as the read path may use it ...
        assert tiles.read_tile(store, tile) == expected[tile], tile
        # ... and as one range query at tree level 8L.
        first = tile.index * tiles.TILE_WIDTH
        got = store.level_hashes(tiles.TILE_HEIGHT * tile.level, first, first + tile.width)
        assert b"".join(got) == expected[tile], tile
    assert store.level_hashes(8, 0, 256) == store.level_hashes(8, 0, 2)
    assert store.level_hashes(1, 0, 1000) == [
        node for node in store.read_hashes([Subtree(1, i) for i in range(SIZE // 2)])
    ]


def test_inclusion_proofs(filled: tuple[LogStore, list[bytes]]) -> None:
    store, entries = filled
    leaves = hash_leaves(entries)
    rng = random.Random(5)
    sizes = {1, 2, 3, 255, 256, 257, 512, SIZE - 1, SIZE, *rng.sample(range(1, SIZE), 10)}
    for size in sizes:
        root = root_hash(leaves[:size])
        for index in {0, size - 1, size // 2, rng.randrange(size)}:
            proof = store.inclusion_proof(index, size)
            assert proof == inclusion_proof(leaves, index, size)
            verify_inclusion(leaves[index], index, size, proof, root)
        assert store.root_hash(size) == root


def test_consistency_proofs(filled: tuple[LogStore, list[bytes]]) -> None:
    store, entries = filled
    leaves = hash_leaves(entries)
    rng = random.Random(6)
    pairs = {(1, 1), (1, SIZE), (256, 512), (SIZE, SIZE), (255, 257)}
    pairs |= {tuple(sorted(rng.sample(range(1, SIZE + 1), 2))) for _ in range(20)}  # type: ignore[misc]
    for old, new in pairs:
        proof = store.consistency_proof(old, new)
        assert proof == consistency_proof(leaves, old, new)
        verify_consistency(old, new, proof, root_hash(leaves[:old]), root_hash(leaves[:new]))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda s: s.inclusion_proof(SIZE, SIZE), MalformedError, "not below tree size"),
        (lambda s: s.inclusion_proof(-1, 5), MalformedError, "outside"),
        (lambda s: s.inclusion_proof(True, 5), MalformedError, "is bool"),
        (lambda s: s.inclusion_proof(0, SIZE + 1), NotInLogError, f"beyond the log's size {SIZE}"),
        (lambda s: s.inclusion_proof(SIZE, SIZE + 1), NotInLogError, "beyond"),
        (lambda s: s.inclusion_proof(0, 2**64), MalformedError, "outside"),
        (lambda s: s.consistency_proof(0, 5), MalformedError, "old size must be at least 1"),
        (lambda s: s.consistency_proof(6, 5), MalformedError, "exceeds new size"),
        (lambda s: s.consistency_proof(5, SIZE + 1), NotInLogError, "beyond"),
        (lambda s: s.consistency_proof(SIZE + 1, SIZE + 1), NotInLogError, "beyond"),
        (lambda s: s.root_hash(SIZE + 1), NotInLogError, "beyond"),
        (lambda s: s.entries(-1, 3), MalformedError, "not 0 <= start <= stop"),
        (lambda s: s.entries(5, 2), MalformedError, "not 0 <= start <= stop"),
        (lambda s: s.entry(-1), MalformedError, "not a non-negative integer"),
        (lambda s: s.level_hashes(64, 0, 1), MalformedError, "not in 0..63"),
        (lambda s: s.level_hashes(0, 3, 1), MalformedError, "not 0 <= start <= stop"),
        (lambda s: s.find_leaf(b"short"), MalformedError, "expected 32 bytes"),
        (lambda s: s.read_hashes([Subtree(2, SIZE)]), NotInLogError, "level 2, index 700"),
    ],
)
def test_bad_requests(
    filled: tuple[LogStore, list[bytes]],
    call: Callable[[LogStore], object],
    error: type[Exception],
    match: str,
) -> None:
    store, _ = filled
    with pytest.raises(error, match=match):
        call(store)


def test_a_proof_is_one_query_of_log_n_rows(
    sqlite_url: str, signer: Ed25519Signer, members: Callable[..., Any]
) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    Sequencer(engine, signer, ORIGIN, lambda: LATER).append(members(SIZE))
    statements: list[str] = []

    @event.listens_for(engine, "connect")
    def trace(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # Sees the driver-level queries that bypass SQLAlchemy's events.
        dbapi_connection.set_trace_callback(statements.append)

    engine.dispose()  # reconnect with tracing on
    store = LogStore(engine)
    try:
        for index in (0, 300, SIZE - 1):
            statements.clear()
            store.inclusion_proof(index, SIZE)
            assert len(statements) == 1, statements
            assert statements[0].startswith("SELECT")
            # One key per planned subtree plus leaf SIZE - 1, the size guard.
            planned = inclusion_proof_subtrees(index, SIZE)
            leaves = re.search(r"seq IN \(([^)]*)\)", statements[0])
            keys = statements[0].count("idx = ") + (len(leaves[1].split(",")) if leaves else 0)
            assert keys == len(planned) + 1
    finally:
        engine.dispose()


# --- bulk load --------------------------------------------------------------------


def _rows(engine: Engine) -> tuple[list[Any], ...]:
    entries = select(EntryRow.seq, EntryRow.data, EntryRow.leaf_hash).order_by(EntryRow.seq)
    nodes = select(SubtreeHashRow.level, SubtreeHashRow.idx, SubtreeHashRow.hash).order_by(
        SubtreeHashRow.level, SubtreeHashRow.idx
    )
    checkpoints = select(CheckpointRow.size, CheckpointRow.note).order_by(CheckpointRow.size)
    with engine.connect() as conn:
        return tuple(
            [tuple(row) for row in conn.execute(query)] for query in (entries, nodes, checkpoints)
        )


@pytest.fixture
def target(engine: Engine, tmp_path: Any, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A second, empty, migrated database on the same backend as ``engine``."""
    if engine.dialect.name == "sqlite":
        url = f"sqlite:///{tmp_path / 'target.db'}"
    else:
        url = request.getfixturevalue("postgres_server").new_database()
    target = make_engine(url)
    upgrade(target)
    yield target
    target.dispose()


def test_load_rebuilds_the_same_log(
    filled: tuple[LogStore, list[bytes]],
    engine: Engine,
    target: Engine,
    signer: Ed25519Signer,
    members: Callable[..., Any],
    check_log: Callable[[Engine], list[bytes]],
) -> None:
    store, entries = filled
    note = store.latest_checkpoint()
    assert note is not None
    LogStore(target).load(iter(entries), note)
    assert check_log(target) == entries
    entries_rows, nodes_rows, checkpoint_rows = _rows(target)
    source_rows = _rows(engine)
    assert entries_rows == source_rows[0]
    assert nodes_rows == source_rows[1]
    assert checkpoint_rows == [source_rows[2][-1]]
    # And the sequencer goes on from there.
    result = Sequencer(target, signer, ORIGIN, lambda: LATER).append(members(2, SIZE))
    assert result.first_seq == SIZE
    check_log(target)


def test_load_refuses_a_log_that_exists(
    filled: tuple[LogStore, list[bytes]], engine: Engine
) -> None:
    store, entries = filled
    note = store.latest_checkpoint()
    assert note is not None
    before = _rows(engine)
    with pytest.raises(LogNotEmptyError, match=f"already holds a log of size {SIZE}"):
        store.load(entries, note)
    assert _rows(engine) == before


def test_load_refuses_a_database_with_only_a_checkpoint(
    engine: Engine, signer: Ed25519Signer
) -> None:
    note = Sequencer(engine, signer, ORIGIN, lambda: LATER).ensure_checkpoint()
    with pytest.raises(LogNotEmptyError):
        LogStore(engine).load([], note)


def _tamper(entries: list[bytes]) -> list[bytes]:
    out = list(entries)
    out[123] = out[123].replace(b"member", b"Member")
    return out


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (
            lambda e: e[:-1],
            LoadError,
            f"{SIZE - 1} entries offered, the checkpoint has size {SIZE}",
        ),
        (lambda e: [*e, e[0]], LoadError, f"more than the checkpoint's {SIZE} entries"),
        (_tamper, LoadError, "the entries hash to root [0-9a-f]{64}, the checkpoint has"),
        (lambda e: [*e[:-1], b"x" * 70000], LoadError, "entry 699 is 70000 bytes"),
    ],
    ids=["too-few", "too-many", "tampered", "oversized"],
)
def test_load_refuses_entries_that_do_not_match(
    filled: tuple[LogStore, list[bytes]],
    target: Engine,
    change: Callable[[list[bytes]], list[bytes]],
    error: type[Exception],
    match: str,
) -> None:
    store, entries = filled
    note = store.latest_checkpoint()
    assert note is not None
    with pytest.raises(error, match=match):
        LogStore(target).load(change(entries), note)
    assert _rows(target) == ([], [], [])


def test_load_refuses_a_malformed_note(target: Engine) -> None:
    with pytest.raises(MalformedError, match="load: checkpoint note: note: no blank line"):
        LogStore(target).load([], b"origin\n0\nroot\n")
    assert _rows(target) == ([], [], [])


def test_raw_reads_raise_sqlalchemy_errors(engine: Engine) -> None:
    # The proof path skips SQLAlchemy's Connection, not its error types: the
    # web layer maps OperationalError and friends, never a driver's own.
    with pytest.raises(DBAPIError), raw_read_connection(engine) as conn:
        conn.execute("SELECT no_such_column FROM entries")
    assert LogStore(engine).root_hash(0) == EMPTY_ROOT
    with write_transaction(engine) as conn:
        if engine.dialect.name == "postgresql":
            assert conn.connection.dbapi_connection.autocommit is False  # type: ignore[union-attr]
