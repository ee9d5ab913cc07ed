"""Fixtures for the server's tests: databases on both backends, keys, clocks.

Any test under tests/server/ may use them:

``database_url``
    The URL of a fresh, empty, *unmigrated* database; parametrized over
    ``sqlite`` (a file in the test's tmp folder) and ``postgresql`` (a new
    database in the session's throwaway cluster), with those ids, so
    ``-k sqlite`` or ``-k postgresql`` picks one backend.
``engine``
    ``server.db.make_engine(database_url, Sealer(tmp_path / "instance"))``
    migrated to head; disposed after the test.  Parametrized with ``database_url``.
``sqlite_url`` / ``postgresql_url``
    One backend only, for tests that are about that backend.
``postgres_server``
    The session's PostgreSQL cluster (:class:`PostgresServer`): started on
    first use with ``initdb`` and ``pg_ctl`` into a temporary folder, on a
    free port of 127.0.0.1 with its unix socket in that folder (as the
    ``postgres`` user when the tests run as root, as CI does), and stopped
    by its pid at the end of the session.  ``new_database()`` returns the
    URL of a new empty database.  Without PostgreSQL installed the
    PostgreSQL cases are skipped locally and fail when ``CI=true``.
``signer`` / ``verifier``
    The log key (``ORIGIN``, a fixed seed) and its verifier.
``clock``
    A :class:`tests.clock.FixedClock` at 2026-01-01T00:00:00Z, advanced by hand.
``sequencer``
    A :class:`server.sequencer.Sequencer` on ``engine`` with the above.
The pages' default language is pinned to English (``MUTUALOG_DEFAULT_LOCALE``)
for every app a test builds, in-process or as a server.

``check_log`` / ``log_checker``
    ``check_log(engine)`` recomputes the whole log from its entries and
    asserts that everything stored agrees (see :class:`LogChecker`); returns
    the entries.  ``log_checker(engine)`` gives a checker to call repeatedly
    on a growing log.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, create_engine, select, text

from server.db import make_engine, upgrade
from server.models import CheckpointRow, EntryRow, SubtreeHashRow
from server.private.sealing import Sealer
from server.sequencer import Sequencer
from tests.clock import FixedClock
from verifiable.log.bodies import AgeBand, MemberJoined
from verifiable.log.checkpoint import open_checkpoint
from verifiable.log.entry import ChainVerifier
from verifiable.log.merkle import CompactTree, hash_leaves
from verifiable.log.note import Ed25519Signer, Ed25519Verifier

ORIGIN = "example.org/mutualog/test"
SEED = bytes(range(32))

# The pages default to Chinese for the members; the tests read English unless
# they ask for a language (a ``lang`` cookie or Accept-Language).  Set before
# any app is built, and inherited by the servers the tests start.
os.environ.setdefault("MUTUALOG_DEFAULT_LOCALE", "en")


# --- PostgreSQL -----------------------------------------------------------------


def _postgres_bin() -> Path | None:
    """The newest PostgreSQL server binaries: Debian keeps them off PATH."""
    override = os.environ.get("MUTUALOG_PG_BIN")
    if override:
        return Path(override)
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(re.sub(r"\D", "", Path(p).parent.parent.name) or 0),
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    """A running throwaway cluster, reachable over TCP on 127.0.0.1."""

    port: int
    folder: Path
    pid: int
    user: str = "postgres"
    bindir: Path | None = None
    _counter: Iterator[int] = field(default_factory=itertools.count)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def dump(self, url: str) -> bytes:
        """``pg_dump`` of the database at ``url``: what a backup would hold."""
        assert self.bindir is not None
        name = url.rsplit("/", 1)[1]
        argv = [str(self.bindir / "pg_dump"), "-h", "127.0.0.1", "-p", str(self.port)]
        argv += ["-U", self.user, "--no-password", name]
        return subprocess.run(argv, check=True, capture_output=True, timeout=300).stdout

    def _admin(self) -> Engine:
        return create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")

    def new_database(self) -> str:
        name = f"test_{os.getpid()}_{next(self._counter)}"
        admin = self._admin()
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        admin = self._admin()
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()


def _as_postgres(argv: list[str], as_root: bool) -> list[str]:
    # initdb and postgres refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *argv] if as_root else argv


def _start_postgres(bindir: Path) -> PostgresServer:
    as_root = os.geteuid() == 0
    folder = Path(tempfile.mkdtemp(prefix="mutualog-pg-"))
    user = "postgres"
    if as_root:
        pw = pwd.getpwnam("postgres")
        os.chown(folder, pw.pw_uid, pw.pw_gid)
    else:
        user = pwd.getpwuid(os.geteuid()).pw_name
    data = folder / "data"
    subprocess.run(
        _as_postgres(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                user,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            ],
            as_root,
        ),
        cwd=folder,
        check=True,
        capture_output=True,
        text=True,
    )
    last_error = ""
    for _attempt in range(5):
        port = _free_port()
        # fsync off: the cluster is thrown away, and the tests kill clients,
        # never the server, so durability against power loss is not tested
        # here; it only costs time.
        options = (
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        result = subprocess.run(
            _as_postgres(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(folder / "server.log"),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
                as_root,
            ),
            cwd=folder,
            capture_output=True,
            text=True,
        )
        if result.returncode == 0:
            pid = int((data / "postmaster.pid").read_text().split("\n", 1)[0])
            return PostgresServer(port=port, folder=folder, pid=pid, user=user, bindir=bindir)
        log = folder / "server.log"
        last_error = result.stderr + (log.read_text()[-2000:] if log.exists() else "")
    shutil.rmtree(folder, ignore_errors=True)
    raise RuntimeError(f"PostgreSQL did not start: {last_error}")


def _stop_postgres(server: PostgresServer) -> None:
    # SIGINT is PostgreSQL's "fast shutdown": roll back sessions, stop.
    try:
        os.kill(server.pid, signal.SIGINT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            os.kill(server.pid, 0)
            time.sleep(0.05)
        os.kill(server.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    shutil.rmtree(server.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir = _postgres_bin()
    if bindir is None or not (bindir / "initdb").exists():
        message = (
            "PostgreSQL server binaries not found (apt-get install -y postgresql, "
            "or set MUTUALOG_PG_BIN)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    server = _start_postgres(bindir)
    try:
        yield server
    finally:
        _stop_postgres(server)


# --- databases ------------------------------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'log.db'}"


@pytest.fixture
def postgresql_url(postgres_server: PostgresServer) -> Iterator[str]:
    url = postgres_server.new_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    # getfixturevalue keeps a SQLite-only selection from starting PostgreSQL.
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def engine(database_url: str, tmp_path: Path) -> Iterator[Engine]:
    # The private store's data key in the instance folder the pool apps of
    # tests/server/pool_helpers.py use, so both open what either sealed.
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    engine = make_engine(database_url, Sealer(instance))
    upgrade(engine)
    yield engine
    engine.dispose()


# --- keys, clock, sequencer -------------------------------------------------------


@pytest.fixture
def signer() -> Ed25519Signer:
    return Ed25519Signer(ORIGIN, SEED)


@pytest.fixture
def verifier(signer: Ed25519Signer) -> Ed25519Verifier:
    return signer.verifier()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def pool_app(
    engine: Engine, tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    """A pool's application on ``engine`` (no settings from the environment),
    inside its application context."""
    from tests.server.pool_helpers import make_pool_app

    for name in ("MUTUALOG_SECRET_KEY", "MUTUALOG_SECURE_COOKIES", "MUTUALOG_INSTANCE"):
        monkeypatch.delenv(name, raising=False)
    app = make_pool_app(engine, tmp_path, clock)
    with app.app_context():
        yield app
    app.extensions["mutualog"].engine.dispose()


@pytest.fixture
def sequencer(engine: Engine, signer: Ed25519Signer, clock: FixedClock) -> Sequencer:
    return Sequencer(engine, signer, ORIGIN, clock)


Items = list[tuple[str, MemberJoined]]


@pytest.fixture
def members() -> Callable[..., Items]:
    """``members(count, start=0)``: that many member.joined items, the member
    id of item ``n`` being ``n`` in 32 hex digits."""

    def make(count: int, start: int = 0) -> Items:
        return [
            ("member.joined", MemberJoined(member=f"{n:032x}", age_band=AgeBand.FROM_18_TO_39))
            for n in range(start, start + count)
        ]

    return make


# --- whole-log check --------------------------------------------------------------


class LogChecker:
    """Recomputes a stored log from its entries alone and compares storage
    with it: ``seq`` contiguous from 0, the hash chain, each ``leaf_hash``,
    ``subtree_hashes`` holding exactly the complete subtrees of levels 1 and
    up with the right hashes, and every checkpoint signed by the log key, for
    a size the log has reached, with that size's root, the latest at the
    log's size.

    Each :meth:`check` is a full comparison, but the entries already checked
    (found byte for byte unchanged) are not parsed again, so checking a
    growing log over and over stays cheap.
    """

    def __init__(self, engine: Engine, verifier: Ed25519Verifier) -> None:
        self._engine = engine
        self._verifier = verifier
        self._entries: list[bytes] = []
        self._leaves: list[bytes] = []
        self._chain = ChainVerifier()
        self._tree = CompactTree()
        self._roots = {0: self._tree.root()}
        self._nodes: dict[tuple[int, int], bytes] = {}
        self._opened: set[tuple[int, bytes]] = set()

    def check(self) -> list[bytes]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(EntryRow.seq, EntryRow.data, EntryRow.leaf_hash).order_by(EntryRow.seq)
            ).all()
            nodes = {
                (level, idx): bytes(h)
                for level, idx, h in conn.execute(
                    select(SubtreeHashRow.level, SubtreeHashRow.idx, SubtreeHashRow.hash)
                )
            }
            checkpoints = [
                (size, bytes(note))
                for size, note in conn.execute(
                    select(CheckpointRow.size, CheckpointRow.note).order_by(CheckpointRow.size)
                )
            ]
        assert [r.seq for r in rows] == list(range(len(rows))), "seq is not contiguous from 0"
        entries = [bytes(r.data) for r in rows]
        done = len(self._entries)
        assert entries[:done] == self._entries, "an entry already checked has changed"
        for data in entries[done:]:
            self._chain.feed(data)
            self._entries.append(data)
        new_leaves = hash_leaves(entries[done:])
        self._leaves += new_leaves
        assert [bytes(r.leaf_hash) for r in rows] == self._leaves, "stored leaf hashes differ"
        for h in new_leaves:
            for s in self._tree.append(h):
                if s.level:
                    self._nodes[(s.level, s.index)] = s.hash
            self._roots[self._tree.size] = self._tree.root()
        assert nodes == self._nodes, "stored subtree hashes differ from a recomputation"
        assert checkpoints, "no checkpoint"
        for size, note in checkpoints:
            assert size in self._roots, f"checkpoint of size {size} is ahead of the entries"
            if (size, note) in self._opened:
                continue
            cp = open_checkpoint(note, self._verifier, ORIGIN).checkpoint
            assert cp.size == size
            assert cp.root_hash == self._roots[size], f"checkpoint of size {size}: wrong root"
            self._opened.add((size, note))
        assert checkpoints[-1][0] == len(rows), "the latest checkpoint is not the log's size"
        return list(self._entries)


@pytest.fixture
def check_log(verifier: Ed25519Verifier) -> Callable[[Engine], list[bytes]]:
    return lambda engine: LogChecker(engine, verifier).check()


@pytest.fixture
def log_checker(verifier: Ed25519Verifier) -> Callable[[Engine], LogChecker]:
    """``log_checker(engine)``: a :class:`LogChecker` to call again and again."""
    return lambda engine: LogChecker(engine, verifier)
