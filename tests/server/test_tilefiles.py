"""The log's files kept in a folder (server.tilefiles): the bytes the read
path serves, written after each append (by the publisher thread, or
inline), never going back, caught up after a crash, and nothing written
when the option is off."""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import logging
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect

from server import create_app
from server.cli import main
from server.config import ConfigError, load_settings
from server.db import make_engine, upgrade
from server.keys import create_key_file
from server.pool_app import current_pool
from server.sequencer import Sequencer
from server.snapshot import CHECKPOINT_PATH, export_tiles, snapshot_order
from server.storage import LogStore
from server.tilefiles import (
    LOCK_NAME,
    SIZE_NAME,
    TEMP_PREFIX,
    PublishError,
    TileDirError,
    TileFiles,
    publish_in_background,
    tile_files,
)
from server.witnessing.store import (
    add_witness,
    served_checkpoint,
    set_required,
    store_cosignature,
)
from tests.clock import FixedClock
from tests.server.pool_helpers import RULES, add_members, make_pool_app
from tests.server.test_crash import ORIGIN, SEED, WORKER, _run_and_kill
from tests.server.tile_dir_check import check_tile_dir, checkpoint_size
from verifiable.log.bodies import MemberJoined
from verifiable.log.cosignature import CosignatureSigner
from verifiable.log.note import Ed25519Signer, Ed25519Verifier, Note

Items = list[tuple[str, MemberJoined]]
NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def files_of(directory: Path) -> dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in directory.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }


def wait_for_checkpoint(folder: Path, size: int) -> None:
    """Wait until the checkpoint file says ``size``: what a reader of the
    folder does when the publishers are other processes' threads."""
    deadline = time.monotonic() + 120
    path = folder / CHECKPOINT_PATH
    while time.monotonic() < deadline:
        with contextlib.suppress(FileNotFoundError):
            if checkpoint_size(path.read_bytes()) >= size:
                return
        time.sleep(0.05)
    raise AssertionError(f"{path}: no checkpoint of {size} within 120 s")


def test_off_by_default(tmp_path: Path) -> None:
    assert load_settings({"MUTUALOG_INSTANCE": tmp_path}, environ={}).tile_dir is None
    settings = load_settings({"MUTUALOG_TILE_DIR": "tiles"}, environ={})
    assert settings.tile_dir == Path("tiles").absolute()


def test_the_publish_setting(tmp_path: Path) -> None:
    settings = load_settings({"MUTUALOG_TILE_DIR": "tiles"}, environ={})
    files = tile_files(settings, environ={})
    assert files is not None and files.background and publish_in_background({})
    files = tile_files(settings, environ={"MUTUALOG_TILE_PUBLISH": "inline"})
    assert files is not None and not files.background
    assert publish_in_background({"MUTUALOG_TILE_PUBLISH": "background"})
    with pytest.raises(ConfigError, match="MUTUALOG_TILE_PUBLISH: expected one of"):
        tile_files(settings, environ={"MUTUALOG_TILE_PUBLISH": "later"})


@pytest.mark.parametrize("background", [True, False], ids=["background", "inline"])
def test_each_append_leaves_the_files_the_read_path_serves(
    background: bool,
    engine: Engine,
    signer: Ed25519Signer,
    verifier: Ed25519Verifier,
    clock: FixedClock,
    members: Callable[..., Items],
    tmp_path: Path,
) -> None:
    folder = tmp_path / "tiles"
    files = TileFiles(folder, background=background)
    sequencer = Sequencer(engine, signer, signer.name, clock, files=files)
    sequencer.ensure_checkpoint()
    files.flush()
    assert checkpoint_size((folder / CHECKPOINT_PATH).read_bytes()) == 0
    n = 0
    # Batches that fill tiles exactly, cross them, and grow a level-1 tile.
    for count in (1, 254, 1, 300, 256, 700, 3):
        sequencer.append(members(count, n))
        n += count
        files.flush()
        assert check_tile_dir(folder, engine) == n
    assert (folder / "tile/0/001").is_file() and (folder / "tile/1/000.p/5").is_file()
    # A partial tile of an older tree stays, as the read path still serves it.
    assert (folder / "tile/entries/000.p/255").is_file()
    # The same bytes as export-tiles writes for the tree, bundles' .gz aside.
    exported = tmp_path / "exported"
    export_tiles(LogStore(engine), exported, verifier, verifier.name)
    mine = files_of(folder)
    for name, data in files_of(exported).items():
        assert mine[name] == data, name
    assert gzip.decompress(mine["tile/entries/000.gz"]) == mine["tile/entries/000"]
    assert not any(p.name.startswith(TEMP_PREFIX) for p in folder.rglob("*"))


def test_a_crash_before_the_publish_is_caught_up_at_start(
    engine: Engine,
    signer: Ed25519Signer,
    clock: FixedClock,
    members: Callable[..., Items],
    database_url: str,
    tmp_path: Path,
) -> None:
    folder = tmp_path / "tiles"
    files = TileFiles(folder)
    with_files = Sequencer(engine, signer, signer.name, clock, files=files)
    with_files.append(members(300))
    files.flush()
    # Commits whose publish never ran (the writer died in between), and a
    # temporary file a killed publisher left.
    Sequencer(engine, signer, signer.name, clock).append(members(500, 300))
    (folder / "tile/0" / f"{TEMP_PREFIX}x").write_bytes(b"half a tile")
    assert check_tile_dir(folder, engine) == 300
    instance = tmp_path / "instance"
    create_key_file(instance / "log.key", signer.name, SEED)
    config = {
        "MUTUALOG_INSTANCE": instance,
        "MUTUALOG_DATABASE_URL": database_url,
        "MUTUALOG_TILE_DIR": folder,
        "TESTING": True,
    }
    create_app(config)  # the start-up step
    assert check_tile_dir(folder, engine) == 800
    # The command removes the leftovers too.
    Sequencer(engine, signer, signer.name, clock).append(members(10, 800))
    argv = ["--instance", str(instance), "--database-url", database_url, "tiles", "sync"]
    assert main([*argv, "--dir", str(folder)]) == 0
    assert check_tile_dir(folder, engine) == 810
    assert not any(p.name.startswith(TEMP_PREFIX) for p in folder.rglob("*"))


def test_a_folder_without_a_checkpoint_is_rebuilt_and_damage_repaired(
    engine: Engine,
    signer: Ed25519Signer,
    clock: FixedClock,
    members: Callable[..., Items],
    tmp_path: Path,
) -> None:
    folder = tmp_path / "tiles"
    files = TileFiles(folder)
    Sequencer(engine, signer, signer.name, clock).append(members(600))
    (folder / "tile/0").mkdir(parents=True)
    (folder / "tile/0/001").write_bytes(b"not this log's tile")
    # Without a checkpoint or size file nothing here is trusted.
    assert files.publish(engine).tiles_size == 600
    assert check_tile_dir(folder, engine) == 600
    # The checkpoint file says the size: no size file, and nothing to redo.
    assert not (folder / SIZE_NAME).exists()
    assert files.publish(engine).written == 0


def test_a_folder_of_another_log_is_refused(
    engine: Engine,
    signer: Ed25519Signer,
    clock: FixedClock,
    members: Callable[..., Items],
    tmp_path: Path,
) -> None:
    folder = tmp_path / "tiles"
    folder.mkdir()
    other = Ed25519Signer("example.org/other", bytes(32))
    Sequencer(engine, signer, signer.name, clock).append(members(3))
    note = LogStore(engine).latest_checkpoint()
    assert note is not None
    (folder / CHECKPOINT_PATH).write_bytes(note.replace(signer.name.encode(), other.name.encode()))
    with pytest.raises(TileDirError, match="not of this log"):
        TileFiles(folder).publish(engine)
    (folder / CHECKPOINT_PATH).write_bytes(b"garbage\n")
    with pytest.raises(TileDirError, match="not a checkpoint"):
        TileFiles(folder).publish(engine)


@pytest.mark.parametrize("background", [True, False], ids=["background", "inline"])
def test_a_failed_publish_does_not_fail_the_append_and_the_next_catches_up(
    background: bool,
    engine: Engine,
    signer: Ed25519Signer,
    clock: FixedClock,
    members: Callable[..., Items],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_bytes(b"")
    files = TileFiles(blocked, background=background)
    sequencer = Sequencer(engine, signer, signer.name, clock, files=files)
    assert sequencer.append(members(2)).size == 2
    if background:
        with pytest.raises(PublishError, match=r"the last publish failed: .*File exists"):
            files.flush()
    assert "not brought up to date: [Errno 17] File exists" in caplog.text
    # Nothing is lost: the next append's publish writes both appends' files.
    blocked.unlink()
    sequencer.append(members(1, 2))
    files.flush()
    assert check_tile_dir(blocked, engine) == 3


@pytest.mark.slow
def test_several_writers_never_take_the_checkpoint_back(database_url: str, tmp_path: Path) -> None:
    """Four processes append at once, each publishing after its commits;
    a reader polling the checkpoint file sees its size only grow, and each
    size it saw has all its tiles there."""
    key = tmp_path / "log.key"
    create_key_file(key, ORIGIN, SEED)
    folder = tmp_path / "tiles"
    argv = [sys.executable, str(WORKER), database_url, str(key), ORIGIN, f"--tile-dir={folder}"]
    seen: list[int] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            with contextlib.suppress(FileNotFoundError):
                seen.append(checkpoint_size((folder / CHECKPOINT_PATH).read_bytes()))
            time.sleep(0.001)

    reader = threading.Thread(target=poll)
    reader.start()
    env = os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    try:
        procs = [
            subprocess.Popen(
                [*argv, f"--worker={w}", "--entries=600", "--max-batch=60", f"--seed={w}"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for w in range(4)
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, err
    finally:
        stop.set()
        reader.join()
    assert seen and seen == sorted(seen), "the checkpoint file went back"
    engine = make_engine(database_url)
    try:
        assert check_tile_dir(folder, engine) == 2400
    finally:
        engine.dispose()


def test_the_pools_appends_publish_the_files(
    engine: Engine, tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool service's sequencer is given the instance's folder: a pool
    started and joined through it leaves the files of every append."""
    folder = tmp_path / "tiles"
    monkeypatch.setenv("MUTUALOG_TILE_DIR", str(folder))
    app = make_pool_app(engine, tmp_path, clock)
    try:
        with app.app_context():
            pool = current_pool()
            pool.start(RULES)
            add_members(pool, 3, "member", clock())
        size = LogStore(engine).size()
        assert size >= 4
        wait_for_checkpoint(folder, size)
        assert check_tile_dir(folder, engine) == size
    finally:
        app.extensions["mutualog"].engine.dispose()


def test_the_checkpoint_file_is_what_checkpoint_serves_under_a_witness_policy(
    engine: Engine,
    signer: Ed25519Signer,
    clock: FixedClock,
    members: Callable[..., Items],
    tmp_path: Path,
) -> None:
    folder = tmp_path / "tiles"
    files = TileFiles(folder)
    witness = CosignatureSigner("witness.example", bytes([7]) * 32)
    add_witness(engine, witness.name, "http://127.0.0.1:7380", witness.verifier().to_vkey(), NOW)
    set_required(engine, 1, NOW)
    sequencer = Sequencer(engine, signer, signer.name, clock, files=files)
    sequencer.append(members(300))
    files.flush()
    # Nothing cosigned: no checkpoint file (nginx hands /checkpoint to the
    # application, which says why), but the tiles are there already.
    assert check_tile_dir(folder, engine) is None
    note = LogStore(engine).latest_checkpoint()
    assert note is not None
    cosignature = witness.cosign(Note.from_bytes(note).text, 1_800_000_000)
    store_cosignature(engine, 300, cosignature, NOW)
    sequencer.append(members(10, 300))
    files.flush()
    served = served_checkpoint(engine)
    assert served is not None and served.size == 300
    assert (folder / CHECKPOINT_PATH).read_bytes() == served.note  # with its cosignature
    assert check_tile_dir(folder, engine) == 300
    assert (folder / "tile/0/001.p/44").is_file() and (folder / "tile/0/001.p/54").is_file()


@pytest.mark.slow
def test_kill_9_mid_append_leaves_no_wrong_file(database_url: str, tmp_path: Path) -> None:
    """A writer publishing after each append, killed at random moments 25
    times: after each kill every file in the folder is a tile of the log
    (or a dot-named temporary no tile path names), the checkpoint file's
    tiles are all there and its size never went back; a sync then brings
    the folder to the database's size."""
    key = tmp_path / "log.key"
    create_key_file(key, ORIGIN, SEED)
    folder = tmp_path / "tiles"
    rng = random.Random(20261207)
    engine = make_engine(database_url)
    sizes: list[int] = []
    leftovers = 0
    try:
        for run in range(25):
            _run_and_kill(
                database_url, key, run, rng, tmp_path / "stderr.txt", [f"--tile-dir={folder}"]
            )
            if not inspect(engine).has_table("checkpoints"):
                continue
            sizes.append(check_tile_dir(folder, engine) or 0)
            assert sizes == sorted(sizes), "the checkpoint file went back"
            leftovers += any(p.name.startswith(TEMP_PREFIX) for p in folder.rglob("*"))
        size = LogStore(engine).size()
        assert size > 0 and sizes[-1] <= size
        TileFiles(folder).publish(engine, clean=True)
        assert check_tile_dir(folder, engine) == size
        assert not any(p.name.startswith(TEMP_PREFIX) for p in folder.rglob("*"))
    finally:
        engine.dispose()
    print(f"{len(sizes)} kills checked, {leftovers} left a temporary file")


@contextlib.contextmanager
def holding_the_lock(folder: Path) -> Iterator[None]:
    """The folder's publishing lock, held as a publisher in another process would."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def assert_files_are_flasks(folder: Path, engine: Engine, signer: Ed25519Signer) -> int:
    """Every file in the folder has the bytes the application serves for its
    path (a ``.gz``, once unpacked), and every tile of the checkpoint's tree
    is there; the checkpoint's size."""
    instance = folder.parent / "instance"
    if not (instance / "log.key").exists():
        create_key_file(instance / "log.key", signer.name, SEED)
    url = engine.url.render_as_string(hide_password=False)
    app = create_app({"MUTUALOG_INSTANCE": instance, "MUTUALOG_DATABASE_URL": url, "TESTING": True})
    flask = app.test_client()
    try:
        files = files_of(folder)
        size = checkpoint_size(files[CHECKPOINT_PATH])
        for coord in snapshot_order(size):
            assert coord.path() in files, coord.path()
        for name, data in files.items():
            plain = name.removesuffix(".gz")
            answer = flask.get(f"/{plain}", headers={"Accept-Encoding": "identity"})
            assert answer.status_code == 200, name
            assert (gzip.decompress(data) if name != plain else data) == answer.data, name
        return size
    finally:
        app.extensions["mutualog"].engine.dispose()


def test_appends_return_at_once_and_a_burst_is_published_together(
    engine: Engine,
    signer: Ed25519Signer,
    clock: FixedClock,
    members: Callable[..., Items],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Four threads of two sequencers, each with its own publisher, append
    one entry at a time while the folder's lock is held elsewhere: every
    append returns, nothing is written; once the lock is let go and the
    publishers flushed, the files are the application's, and the burst of
    40 appends cost each publisher at most two publishes."""
    caplog.set_level(logging.DEBUG, logger="server.tilefiles")
    folder = tmp_path / "tiles"
    files = [TileFiles(folder), TileFiles(folder)]
    sequencers = [Sequencer(engine, signer, signer.name, clock, files=f) for f in files]
    sequencers[0].append(members(250))
    files[0].flush()
    before = (folder / CHECKPOINT_PATH).read_bytes()
    caplog.clear()

    def burst(worker: int) -> None:
        for i in range(10):
            sequencers[worker % 2].append(members(1, 1000 * (worker + 1) + i))

    with holding_the_lock(folder):
        threads = [threading.Thread(target=burst, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert LogStore(engine).size() == 290
        assert (folder / CHECKPOINT_PATH).read_bytes() == before
        with pytest.raises(PublishError, match=r"not published within 0.1 s \(\d+ commits"):
            files[0].flush(0.1)
    for f in files:
        f.flush()
    assert assert_files_are_flasks(folder, engine, signer) == 290
    assert check_tile_dir(folder, engine) == 290
    publishes = [r for r in caplog.records if "files written" in r.getMessage()]
    assert 1 <= len(publishes) <= 4


def _copy_sqlite(source: Engine, target: Path) -> Engine:
    """A copy of a SQLite log as it is now: an older log of the same origin later."""
    database = source.url.database
    assert database is not None
    with sqlite3.connect(database) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    copy = make_engine(f"sqlite:///{target}")
    upgrade(copy)
    return copy


@pytest.mark.parametrize("background", [True, False], ids=["background", "inline"])
def test_a_publisher_never_takes_the_checkpoint_back(
    background: bool,
    signer: Ed25519Signer,
    clock: FixedClock,
    members: Callable[..., Items],
    tmp_path: Path,
) -> None:
    """A publisher that reads a smaller log than the folder's checkpoint (an
    older copy of the database) leaves the checkpoint file as it is: sizes
    are compared under the lock, so the newest checkpoint stays."""
    engine = make_engine(f"sqlite:///{tmp_path / 'log.db'}")
    upgrade(engine)
    old = None
    try:
        folder = tmp_path / "tiles"
        files = TileFiles(folder, background=background)
        sequencer = Sequencer(engine, signer, signer.name, clock, files=files)
        sequencer.append(members(5))
        old = _copy_sqlite(engine, tmp_path / "old.db")
        sequencer.append(members(295, 5))
        files.flush()
        newest = (folder / CHECKPOINT_PATH).read_bytes()
        assert checkpoint_size(newest) == 300
        stale = TileFiles(folder, background=background)
        for _ in range(3):
            stale.publish_after_commit(old)
            stale.flush()
            assert (folder / CHECKPOINT_PATH).read_bytes() == newest
        assert stale.publish(old).checkpoint_size == 300
        assert check_tile_dir(folder, engine) == 300
        # And the newer log publishes on top as before.
        sequencer.append(members(1, 300))
        files.flush()
        assert check_tile_dir(folder, engine) == 301
    finally:
        engine.dispose()
        if old is not None:
            old.dispose()


def test_a_forked_process_starts_its_own_publisher(
    engine: Engine,
    signer: Ed25519Signer,
    clock: FixedClock,
    members: Callable[..., Items],
    tmp_path: Path,
) -> None:
    """A thread does not survive a fork (a gunicorn worker forked from a
    master that appended): the child's appends start a publisher of its own."""
    folder = tmp_path / "tiles"
    files = TileFiles(folder)
    sequencer = Sequencer(engine, signer, signer.name, clock, files=files)
    sequencer.append(members(3))
    files.flush()
    pid = os.fork()
    if pid == 0:  # the child: no pytest here, only an exit status
        code = 1
        try:
            engine.dispose(close=False)  # the parent's connections stay the parent's
            sequencer.append(members(2, 3))
            files.flush(60)
            code = 0 if checkpoint_size((folder / CHECKPOINT_PATH).read_bytes()) == 5 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert check_tile_dir(folder, engine) == 5
