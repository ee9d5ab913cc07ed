"""The databases of bench/scale.py: a PostgreSQL cluster kept in a data
folder, each size's pool generated into it once (``mutualog-server
generate``, then ``state rebuild``), a fresh copy of it for each run, and
the accounts the run's members and jurors sign in with.

Layout of the data folder: ``pg/`` (the cluster; as root it runs as the
``postgres`` user), ``instance-N/`` (each size's instance folder: its log
key, its private keys, and the marks ``scale-generated`` and
``scale-built``), database ``mN`` (the size's pool, never written after it
is built) and ``mN_run`` (the copy a run measures on, dropped at its end).
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import cast

from sqlalchemy import Table, update

from bench.load import free_port, tool
from server.models import AccountRow
from server.private._tx import private_transaction
from server.private.accounts import Accounts, Role
from server.private.passwords import Passwords
from server.private.throttle import RequestLimits
from server.storage import LogStore
from verifiable.log.entry import parse_entry
from verifiable.pool.state import PoolState, Stage
from verifiable.pool.views import ClaimView

#: The marks an instance's folder gets once its log is generated, and once
#: the pool's state is built from it.
GENERATED, BUILT = "scale-generated", "scale-built"


def say(text: str) -> None:
    """A progress line, on stderr with the time, for runs of hours."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# --- the cluster, kept in the data folder --------------------------------------------------


@dataclass
class Cluster:
    folder: Path
    pid: int
    port: int
    user: str
    #: Started here, so stopped here; a cluster found running is left running.
    owned: bool = True

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"


def _as_postgres(argv: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def start_cluster(folder: Path) -> Cluster:
    """Start the cluster in ``folder``, creating it the first time."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise SystemExit("PostgreSQL's initdb not found under /usr/lib/postgresql")
    bindir = Path(found[-1]).parent
    user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    data = folder / "data"
    running = _running(data)
    if running is not None:
        return Cluster(folder, running[0], running[1], user, owned=False)
    if not (data / "PG_VERSION").exists():
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            owner = pwd.getpwnam(user)
            os.chown(folder, owner.pw_uid, owner.pw_gid)
        initdb = [str(bindir / "initdb"), "-D", str(data), "-U", user, "--auth=trust"]
        initdb += ["--encoding=UTF8", "--no-locale"]
        subprocess.run(_as_postgres(initdb), cwd=folder, check=True, capture_output=True)
    port = free_port()
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=100"
    start = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log")]
    subprocess.run(
        _as_postgres([*start, "-o", options, "-w", "-t", "120", "start"]),
        cwd=folder,
        check=True,
        capture_output=True,
    )
    pid = int((data / "postmaster.pid").read_text().split("\n", 1)[0])
    return Cluster(folder, pid, port, user)


def _running(data: Path) -> tuple[int, int] | None:
    """The pid and port of the postmaster running on ``data`` (another run
    of the bench building a larger size), if any."""
    try:
        lines = (data / "postmaster.pid").read_text().split("\n")
        pid, port = int(lines[0]), int(lines[3])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return None
    return pid, port


def stop_cluster(cluster: Cluster) -> None:
    """PostgreSQL's fast shutdown (SIGINT), by the postmaster's pid."""
    if not cluster.owned:
        return
    try:
        os.kill(cluster.pid, signal.SIGINT)
        for _ in range(1200):
            os.kill(cluster.pid, 0)
            time.sleep(0.05)
        os.kill(cluster.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _database(cluster: Cluster, name: str) -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(cluster.url("postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            query = text("SELECT 1 FROM pg_database WHERE datname = :name")
            if conn.execute(query, {"name": name}).first() is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return cluster.url(name)


# --- building a size once -------------------------------------------------------------------


def server_env(instance: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUTUALOG_")}
    return env | {
        "MUTUALOG_INSTANCE": str(instance),
        "MUTUALOG_DATABASE_URL": url,
        "MUTUALOG_SECURE_COOKIES": "false",
    }


def build(cluster: Cluster, data: Path, members: int) -> tuple[Path, str]:
    """The instance of ``members`` members: generated and its state built
    the first time, as it is afterwards."""
    instance = data / f"instance-{members}"
    url = _database(cluster, f"m{members}")
    if (instance / BUILT).exists():
        say(f"{members:,} members: reusing {instance}")
        return instance, url
    env = server_env(instance, url)
    server = [tool("mutualog-server")]
    began = time.perf_counter()
    if not (instance / GENERATED).exists():
        say(f"{members:,} members: generating (10,000,000 members take 20 minutes or more)")
        subprocess.run([*server, "generate", "--members", str(members)], env=env, check=True)
        (instance / GENERATED).write_text(f"generated in {time.perf_counter() - began:.0f} s\n")
    # The state tables are the code's own: after a change of their records,
    # deleting the BUILT mark builds them again from the log kept.
    say(f"{members:,} members: building the state tables from the log")
    subprocess.run([*server, "state", "rebuild"], env=env, check=True, stderr=subprocess.DEVNULL)
    (instance / BUILT).write_text(f"built in {time.perf_counter() - began:.0f} s\n")
    say(f"{members:,} members: built in {time.perf_counter() - began:,.0f} s")
    return instance, url


def run_copy(cluster: Cluster, members: int, drop_only: bool = False) -> str:
    """A fresh copy of the built database to measure on: the measured joins,
    claims and votes, and the clock the bench sets, never reach the built
    one, so every run starts from the same pool."""
    from sqlalchemy import create_engine, text

    admin = create_engine(cluster.url("postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "m{members}_run" WITH (FORCE)'))
            if not drop_only:
                conn.execute(text(f'CREATE DATABASE "m{members}_run" TEMPLATE "m{members}"'))
    finally:
        admin.dispose()
    return cluster.url(f"m{members}_run")


# --- who the bench plays --------------------------------------------------------------------


@dataclass
class Cast:
    """Accounts given to generated members (one password for all): founders
    with no claim or panel, who file the claims and read their statement of
    the last closed period; the seats (username, claim) of jurors of claims
    open for voting."""

    password: str
    founders: list[str]
    founder_ids: list[str]
    seats: list[tuple[str, str]]
    period: str
    today: str


class _OneHash(Passwords):
    """Accounts made for the bench share one password: hashed once, not
    once for each of hundreds of accounts."""

    def __init__(self, hashed: str) -> None:
        super().__init__()
        self._hashed = hashed

    def hash(self, password: str) -> str:
        return self._hashed


def _founders(store: LogStore, state: PoolState, busy: set[str], count: int) -> list[str]:
    """Active founders in log order, with no claim, panel or ending."""
    found: list[str] = []
    start, size = 1, store.size()
    while len(found) < count and start < size:
        for data in store.entries(start, min(start + 5000, size)):
            entry = json.loads(data)
            member = entry["body"].get("member") if entry["type"] == "member.joined" else None
            view = state.member(member) if member else None
            if view is not None and not (view.juror or view.ending or member in busy):
                found.append(str(member))
        start += 5000
    return found[:count]


def _voted(store: LogStore, claims: list[ClaimView]) -> set[tuple[str, str, int]]:
    """(juror, claim, round) of the votes sealed already, read from the
    log since the first of ``claims`` was filed."""
    ids = {c.id for c in claims}
    found = set()
    start, size = min((c.filed_seq for c in claims), default=store.size()), store.size()
    for first in range(start, size, 20000):
        for data in store.entries(first, min(first + 20000, size)):
            if b'"vote.sealed"' in data:
                body = json.loads(data)["body"]
                if body["claim"] in ids:
                    found.add((str(body["juror"]), str(body["claim"]), int(body["round"])))
    return found


def _last_closed(store: LogStore) -> str:
    stop = store.size()
    while stop > 0:
        for data in reversed(store.entries(max(0, stop - 20000), stop)):
            entry = json.loads(data)
            if entry["type"] == "period.closed":
                return str(entry["body"]["period"])
        stop -= 20000
    raise SystemExit("the generated log has no closed period")


def give_accounts(instance: Path, url: str, claims: int, votes: int) -> Cast:
    """Make the copy a pool that goes on from its last entry (a demo clock a
    minute after it: the generated history is dated 2024, and the votes
    still open then are the ones to cast), and give accounts to the
    founders and jurors the bench plays, as bench/load.py gives them."""
    from server.app import create_app
    from server.context import current_log
    from server.demo_clock import start_demo_clock
    from server.pool_app import current_pool

    app = create_app(server_env(instance, url))
    password = secrets.token_urlsafe(16)
    with app.app_context():
        engine, store = current_log().engine, current_log().store
        size = store.size()
        last = parse_entry(store.entries(size - 1, size)[0], seq=size - 1).time
        start_demo_clock(engine, last + timedelta(minutes=1))
        state = current_pool().state()
        claims_now = list(state.claims())
        busy = {c.member for c in claims_now} | {j for c in claims_now for j in c.jurors}
        founders = _founders(store, state, busy, claims)
        # A day of margin: the run takes minutes of the demo's time.
        open_ = [c for c in claims_now if c.stage is Stage.VOTING and c.votes_until]
        open_ = [c for c in open_ if (c.votes_until or last) > last + timedelta(days=1)]
        voted = _voted(store, open_)
        seats = [(j, c.id) for c in open_ for j in c.jurors if (j, c.id, c.round) not in voted]
        seats = seats[:votes]
        period = _last_closed(store)
        accounts = Accounts(engine, _OneHash(Passwords().hash(password)), RequestLimits(engine))
        table = cast(Table, AccountRow.__table__)
        names: dict[str, str] = {}
        for member_id in [*founders, *(j for j, _ in seats)]:
            if member_id not in names:
                names[member_id] = username = f"scale{len(names)}"
                account = accounts.register(username, password, last, role=Role.MEMBER)
                with private_transaction(engine) as conn:
                    link = update(table).where(table.c.id == account.id)
                    conn.execute(link.values(member_id=member_id))
        engine.dispose()
    return Cast(
        password,
        [names[f] for f in founders],
        founders,
        [(names[j], c) for j, c in seats],
        period,
        last.date().isoformat(),
    )
