"""An audit killed mid-run (SIGKILL, in a child process) and run again
resumes from its saved state and ends with the verdict and the pool's state
an uninterrupted audit ends with; a saved file changed on disk is refused or
harmless, never the cause of a wrong VERIFIED."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import client.audit
from client.audit import audit_log
from client.audit_store import saved_position
from client.sources import open_source
from client.state import StateDir
from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
from verifiable.log.merkle import hash_leaves, root_hash
from verifiable.log.note import Ed25519Signer, Ed25519Verifier
from verifiable.log.tiles import build_bundles, build_tiles
from verifiable.pool.claims import CLAIMS, FILED
from verifiable.pool.members import GONE, JURORS, LAPSED, MEMBERS, POOL_IDS
from verifiable.pool.periods import CLOSED
from verifiable.pool.records import ERASURES, OVERRIDES
from verifiable.pool.replay import replay
from verifiable.pool.state import PoolState
from verifiable.pool.state_head import head_bytes
from verifiable.pool.store import Kind
from verifiable.pool.verifier_page import PAGES
from verifiable.testonly.bulk import BulkSimulation, large_pool_config

pytestmark = pytest.mark.usefixtures("offline")

ORIGIN = "example.org/mutualog/resume"
KINDS: list[Kind[Any]] = [
    MEMBERS,
    GONE,
    JURORS,
    POOL_IDS,
    LAPSED,
    CLAIMS,
    FILED,
    CLOSED,
    OVERRIDES,
    ERASURES,
    PAGES,
]

# The child audits with every tile saved and a pause after each, so that a
# kill lands at a chosen point.
CHILD = """
import sys, time
import client.audit as a
a.SAVE_FROM_RECORDS = 0
a.SAVE_EVERY_TILES = 1
mark = a._Audit._mark
def slow(self):
    mark(self)
    time.sleep(0.02)
a._Audit._mark = slow
from client.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _state_of(pool: PoolState) -> tuple[bytes, dict[str, list[tuple[str, bytes]]]]:
    """Everything a state holds, as bytes: its small part and every record."""
    records = {
        kind.name: [(key, kind.codec.encode(value)) for key, value in pool._buffer.scan(kind)]
        for kind in KINDS
    }
    return head_bytes(pool), records


@pytest.fixture(scope="module")
def pool_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Any]:
    folder = tmp_path_factory.mktemp("resume-log")
    log = list(BulkSimulation(random.Random(14), large_pool_config(3000, days=90)).run())
    leaves = hash_leaves(log)
    for coord, data in {**build_tiles(leaves), **build_bundles(log)}.items():
        (folder / coord.path()).parent.mkdir(parents=True, exist_ok=True)
        (folder / coord.path()).write_bytes(data)
    signer = Ed25519Signer(ORIGIN, bytes(range(32)))
    note = sign_checkpoint(Checkpoint(ORIGIN, len(log), root_hash(leaves)), signer)
    (folder / "checkpoint").write_bytes(note)
    expected = replay(log)
    assert expected.summary.claims and expected.summary.periods_closed
    return folder, signer.verifier().to_vkey(), _state_of(expected.state)


def _audit(folder: Path, vkey: str, state: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """An audit in this process; its report and the state it ended with."""
    seen: list[Any] = []
    finish = client.audit._Audit.finish

    def keep(audit: Any) -> None:
        if audit.replayer is not None:
            seen.append(_state_of(audit.replayer.state))
        finish(audit)

    monkeypatch.setattr(client.audit._Audit, "finish", keep)
    source = open_source(str(folder))
    try:
        report = audit_log(source, Ed25519Verifier.from_vkey(vkey), ORIGIN, state=StateDir(state))
    finally:
        source.close()
    monkeypatch.undo()
    return report, seen[-1] if seen else None


def _kill_at(folder: Path, vkey: str, state: Path, entries: int) -> int:
    """Run an audit in a child process and SIGKILL it once it has saved at
    least ``entries`` entries; the position saved."""
    path = StateDir(state).audit_state_path(ORIGIN)
    env = {**os.environ, "MUTUALOG_STATE": str(state)}
    argv = [sys.executable, "-c", CHILD, "audit", str(folder), "--key", vkey, "--json"]
    child = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while (saved_position(path) or 0) < entries:
            assert child.poll() is None, "the audit ended before it was killed"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    position = saved_position(path)
    assert position is not None and position >= entries
    return position


@pytest.fixture(scope="module")
def uninterrupted(pool_log: tuple[Path, str, Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder, vkey, _ = pool_log
    with pytest.MonkeyPatch.context() as m:
        report, final = _audit(folder, vkey, tmp_path_factory.mktemp("state"), m)
    assert report.ok and report.resumed_from == 0
    return report, final


@pytest.mark.parametrize("entries", [256, 1280, 2560])
def test_a_killed_audit_resumes_to_the_same_verdict_and_state(
    pool_log: tuple[Path, str, Any],
    uninterrupted: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    entries: int,
) -> None:
    folder, vkey, expected = pool_log
    position = _kill_at(folder, vkey, tmp_path, entries)
    report, final = _audit(folder, vkey, tmp_path, monkeypatch)
    assert report.ok and report.resumed_from == position
    assert report.checks[1].name == "resume point" and report.checks[1].ok
    reference, reference_state = uninterrupted
    assert report.rules.to_json() == reference.rules.to_json()
    assert final == reference_state == expected
    assert not StateDir(tmp_path).audit_state_path(ORIGIN).exists()


@pytest.mark.parametrize("seed", range(6))
def test_a_byte_changed_in_the_saved_file_never_gives_a_wrong_verdict(
    pool_log: tuple[Path, str, Any],
    uninterrupted: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    seed: int,
) -> None:
    folder, vkey, expected = pool_log
    _kill_at(folder, vkey, tmp_path, 1280)
    path = StateDir(tmp_path).audit_state_path(ORIGIN)
    # Fold the write-ahead log into the file, then change one byte of it.
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    rng = random.Random(seed)
    # Half the seeds hit a record's bytes, the others anywhere.
    at = data.index(b'","18-39","') + rng.randrange(40) if seed % 2 else rng.randrange(len(data))
    data[at] ^= 1 << rng.randrange(8)
    path.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    report, final = _audit(folder, vkey, tmp_path, monkeypatch)
    reference, _ = uninterrupted
    # Either the change is found and the audit starts afresh, or it touched
    # nothing the state holds: the same verdict and state either way.
    assert report.ok
    assert report.rules.to_json() == reference.rules.to_json()
    assert final == expected
    if seed % 2:
        assert report.resumed_from == 0
        assert any("does not match its checksum); started afresh" in n for n in report.notes)


def test_sigterm_saves_before_the_audit_stops(
    pool_log: tuple[Path, str, Any], tmp_path: Path
) -> None:
    folder, vkey, _ = pool_log
    path = StateDir(tmp_path).audit_state_path(ORIGIN)
    env = {**os.environ, "MUTUALOG_STATE": str(tmp_path)}
    # Saves only when interrupted: the default below SAVE_FROM_RECORDS.
    child_code = CHILD.replace("a.SAVE_FROM_RECORDS = 0\n", "").replace("0.02", "0.2")
    argv = [sys.executable, "-c", child_code, "audit", str(folder), "--key", vkey]
    child = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not path.exists():
        assert child.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)
    time.sleep(0.3)
    assert saved_position(path) is None  # nothing saved yet
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 2 and b"interrupted" in err
    position = saved_position(path)
    assert position is not None and position > 0
    assert f"entries 0..{position - 1} are proven and saved".encode() in err
