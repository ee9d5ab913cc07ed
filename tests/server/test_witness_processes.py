"""Three real witness processes (``mutualog witness serve``), a real log
server (gunicorn, several workers) and the submitter (``mutualog-server
witness run``), all on loopback:

* appends flow and the checkpoints ``/checkpoint`` serves carry the
  witnesses' cosignatures;
* one witness killed mid-run: appends go on, ``/checkpoint`` follows the
  two others; restarted from an older copy of its state, it is caught up
  through the 409 path;
* a split view: a dishonest server shows history A to the witnesses and
  history B to a member; the witnesses refuse B and keep it as evidence,
  and the member's client, requiring 2 of 3, refuses B and reports the
  fork with both checkpoints kept.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from client.cli import main as client_main
from server.cli import main as server_main
from server.config import load_settings
from server.db import make_engine
from server.keys import load_log_signer
from server.witnessing.submit import Gatherer
from verifiable.log.checkpoint import open_checkpoint
from verifiable.log.cosignature import CosignatureSigner, CosignatureVerifier
from verifiable.log.note import Ed25519Verifier

pytestmark = pytest.mark.slow

ORIGIN = "example.org/mutualog/witnessed"
BIN = Path(sys.executable).parent
#: How long a test waits for the processes to get somewhere (not a timing
#: assertion: on a loaded machine the wait is long, on an idle one short).
PATIENCE = 180.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait(what: str, check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + PATIENCE
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.2)


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, b""


@dataclass
class WitnessProcess:
    name: str
    state: Path
    key: Path
    vkey: str
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier.from_vkey(self.vkey)

    def start(self) -> None:
        with open(self.log, "ab") as out:
            serve = ["witness", "serve", "--key", str(self.key), "--port", str(self.port)]
            self.process = subprocess.Popen(
                [str(BIN / "mutualog"), "--state", str(self.state), *serve, "--workers", "1"],
                stdout=out,
                stderr=out,
                # Its own process group: gunicorn's master and its worker die together.
                start_new_session=True,
            )
        _wait(f"witness {self.name} listening", self._listening)

    def _listening(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"witness {self.name} exited: {self.log.read_text()}")
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None:
            if sig == signal.SIGKILL and self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
            _stop(self.process, sig)
            self.process = None

    def evidence(self) -> list[dict[str, object]]:
        out = subprocess.run(
            [str(BIN / "mutualog"), "--state", str(self.state), "witness", "evidence", "--json"],
            capture_output=True,
            check=True,
        )
        items: list[dict[str, object]] = json.loads(out.stdout)
        return items


@dataclass
class Deployment:
    root: Path
    instance: Path
    env: dict[str, str]
    log_vkey: str
    witnesses: list[WitnessProcess] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    url: str = ""
    appended: int = 0

    def server(self, *args: str) -> int:
        return server_main(["--instance", str(self.instance), *args])

    def append(self, count: int) -> None:
        path = self.root / f"items-{self.appended}.jsonl"
        lines = [
            json.dumps(
                {"type": "member.joined", "body": {"member": f"{n:032x}", "age_band": "18-39"}}
            )
            for n in range(self.appended, self.appended + count)
        ]
        path.write_text("\n".join(lines) + "\n")
        assert self.server("append", str(path)) == 0
        self.appended += count

    def log(self) -> dict[str, Any]:
        status, body = _get(self.url + "/api/v1/log")
        assert status == 200, body
        result: dict[str, Any] = json.loads(body)
        return result

    def cosigned(self, name: str) -> int | None:
        for w in self.log()["witnesses"]:
            if w["name"] == name:
                size: int | None = w["last_cosigned_size"]
                return size
        raise AssertionError(name)

    def served(self) -> tuple[int, tuple[str, ...]]:
        """The size /checkpoint serves and who cosigned it (verified)."""
        status, note = _get(self.url + "/checkpoint")
        if status != 200:
            return -1, ()
        signed = open_checkpoint(
            note,
            Ed25519Verifier.from_vkey(self.log_vkey),
            ORIGIN,
            [w.verifier for w in self.witnesses],
        )
        return signed.checkpoint.size, tuple(sorted(c.name for c in signed.cosignatures))

    def start(self, argv: list[str], output: Path) -> subprocess.Popen[bytes]:
        with open(output, "ab") as out:
            process = subprocess.Popen(argv, env=self.env, cwd=self.root, stdout=out, stderr=out)
        self.processes.append(process)
        return process


def _witness(root: Path, index: int, log_vkey: str) -> WitnessProcess:
    name = f"w{index}.example"
    state = root / f"witness-{index}"
    key = root / f"witness-{index}.key"
    assert client_main(["--state", str(state), "witness", "keygen", name, "--out", str(key)]) == 0
    vkey = CosignatureSigner.from_private_key(key.read_text().strip()).verifier().to_vkey()
    assert client_main(["--state", str(state), "trust", ORIGIN, log_vkey]) == 0
    return WitnessProcess(name, state, key, vkey, _free_port(), root / f"witness-{index}.out")


def _deploy(tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    instance = tmp_path / "instance"
    # The commands run in-process read the database from the environment, as
    # the processes started here do.
    monkeypatch.setenv("MUTUALOG_DATABASE_URL", url)
    env = {**os.environ, "MUTUALOG_INSTANCE": str(instance)}
    assert server_main(["--instance", str(instance), "init", "--origin", ORIGIN]) == 0
    settings = load_settings({"MUTUALOG_INSTANCE": instance})
    d = Deployment(tmp_path, instance, env, load_log_signer(settings).verifier().to_vkey())
    try:
        yield d
    finally:
        for process in d.processes:
            _stop(process)
        for w in d.witnesses:
            w.stop()


@pytest.fixture
def deployment(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Deployment]:
    yield from _deploy(tmp_path, database_url, monkeypatch)


@pytest.fixture
def sqlite_deployment(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Deployment]:
    """On SQLite only: the split view copies the database file to fork it."""
    yield from _deploy(tmp_path, sqlite_url, monkeypatch)


def _now() -> datetime:
    return datetime.now(UTC)


def _serve(d: Deployment) -> None:
    port = _free_port()
    d.url = f"http://127.0.0.1:{port}"
    d.start(
        [str(BIN / "gunicorn"), "-w", "3", "-b", f"127.0.0.1:{port}", "server:create_app()"],
        d.root / "gunicorn.out",
    )
    _wait("the log server", lambda: _get(d.url + "/checkpoint/latest")[0] == 200)


def test_three_witnesses_cosign_a_running_log(deployment: Deployment) -> None:
    d = deployment
    for i in range(3):
        w = _witness(d.root, i, d.log_vkey)
        w.start()
        d.witnesses.append(w)
        assert d.server("witness", "add", w.name, w.url, w.vkey) == 0
    assert d.server("witness", "policy", "2") == 0
    _serve(d)
    submitter = d.root / "submitter.out"
    run = [str(BIN / "mutualog-server"), "witness", "run", "--interval", "0.2", "--timeout", "3"]
    d.start(run, submitter)
    names = tuple(w.name for w in d.witnesses)

    d.append(5)
    _wait("size 5 cosigned by all three", lambda: d.served() == (5, names))

    # A copy of w2's state as it is now (size 5), to restart it from later.
    w2 = d.witnesses[2]
    backup = d.root / "w2-backup.sqlite"
    with sqlite3.connect(w2.state / "witness.sqlite") as live, sqlite3.connect(backup) as copy:
        live.backup(copy)
    d.append(5)
    _wait("size 10 cosigned by all three", lambda: d.served() == (10, names))

    # w2 dies: appends go on, and /checkpoint follows the other two (2 of 3).
    w2.stop(signal.SIGKILL)
    d.append(5)
    _wait("size 15 cosigned by w0 and w1", lambda: d.served() == (15, names[:2]))
    assert d.cosigned(w2.name) == 10
    assert b"\n15\n" in _get(d.url + "/checkpoint/latest")[1]
    # The operator sees the error (the API lists the witnesses as they stand).
    assert {w["name"] for w in d.log()["witnesses"]} == set(names)

    # w2 comes back from its older copy (size 5): the submitter offers
    # "old 10", w2 answers 409 with 5, and the submission is resent from 5.
    for suffix in ("", "-wal", "-shm"):
        (w2.state / f"witness.sqlite{suffix}").unlink(missing_ok=True)
    shutil.copy(backup, w2.state / "witness.sqlite")
    w2.start()
    d.append(2)
    _wait("size 17 cosigned by all three", lambda: d.served() == (17, names))
    assert "holds size 5, not 10: resending" in submitter.read_text()
    assert d.log()["witnessed_size"] == 17


def _fork(d: Deployment, database_url: str) -> tuple[Path, str]:
    """History B: the same log key, a second database copied from the first."""
    fork = d.root / "fork"
    fork.mkdir()
    shutil.copy(d.instance / "log.key", fork / "log.key")
    fork_db = f"sqlite:///{fork / 'mutualog.db'}"
    source = make_engine(database_url)
    target = make_engine(fork_db)
    try:
        with source.connect() as a, target.connect() as b:
            a.connection.driver_connection.backup(b.connection.driver_connection)  # type: ignore[union-attr]
    finally:
        source.dispose()
        target.dispose()
    return fork, fork_db


def _gather(database_url: str, holder: str) -> list[str]:
    """One round of the submitter over the log at ``database_url``: each
    witness's outcome."""
    engine = make_engine(database_url)
    gatherer = Gatherer(engine, _now, timeout=5.0, holder=holder)
    try:
        return [f.result().status for f in gatherer.round(wait=True) or []]
    finally:
        gatherer.close()
        engine.dispose()


def _member_sync_json(d: Deployment, member: Path, url: str) -> tuple[int, dict[str, Any]]:
    """``mutualog sync URL --json`` as a member runs it: exit code and report."""
    report_path = d.root / "sync.json"
    argv = ["--state", str(member), "sync", url, "--json"]
    with open(report_path, "w") as out:
        result = subprocess.run(
            [str(BIN / "mutualog"), *argv], stdout=out, stderr=subprocess.PIPE, check=False
        )
    return result.returncode, json.loads(report_path.read_text())


def test_a_split_view_is_refused_and_reported(
    sqlite_deployment: Deployment, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = sqlite_deployment
    for i in range(3):
        w = _witness(d.root, i, d.log_vkey)
        w.start()
        d.witnesses.append(w)
        assert d.server("witness", "add", w.name, w.url, w.vkey) == 0
    assert d.server("witness", "policy", "2") == 0
    d.append(3)
    fork, fork_db = _fork(d, sqlite_url)
    d.append(2)  # history A: size 5
    _gather(sqlite_url, "honest")
    _serve(d)
    names = tuple(w.name for w in d.witnesses)
    assert d.served() == (5, names)

    # The member pins the log with its witness policy and follows A.
    member = d.root / "member"
    trust = ["--state", str(member), "trust", ORIGIN, d.log_vkey]
    for w in d.witnesses:
        trust += ["--witness", w.name, w.vkey]
    assert client_main([*trust, "--witnesses-required", "2"]) == 0
    assert client_main(["--state", str(member), "sync", d.url]) == 0

    # The dishonest server grows B and asks the witnesses to cosign it: they refuse.
    env = {**d.env, "MUTUALOG_INSTANCE": str(fork), "MUTUALOG_DATABASE_URL": fork_db}
    b = Deployment(d.root, fork, env, d.log_vkey)
    b.processes = d.processes  # stopped with the deployment's
    monkeypatch.setenv("MUTUALOG_DATABASE_URL", fork_db)
    b.appended = 1000  # other members than A's: another history
    b.append(5)  # history B: size 8, sharing A's first 3 entries
    assert set(_gather(fork_db, "dishonest")) == {"failed"}
    for w in d.witnesses:
        kept = w.evidence()
        assert kept and all(item["origin"] == ORIGIN for item in kept)

    # It serves B to the member, without cosignatures (no witness will give them).
    assert b.server("witness", "policy", "0") == 0
    b.witnesses = d.witnesses
    _serve(b)
    code, report = _member_sync_json(d, member, b.url)
    assert code == 1, report
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["witnesses"]["ok"] is False
    assert "0 of 3 trusted witnesses cosigned" in checks["witnesses"]["detail"]
    assert checks["consistency"]["ok"] is False
    assert "forked" in checks["consistency"]["detail"]
    assert report["stored"] is False and report["old_size"] == 5 and report["new_size"] == 8
    evidence = Path(report["evidence"])
    old = (evidence / "old-checkpoint").read_bytes()
    new = (evidence / "new-checkpoint").read_bytes()
    assert b"\n5\n" in old and old.count("—".encode()) == 4  # the log's and three cosignatures
    assert b"\n8\n" in new
