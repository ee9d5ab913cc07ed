"""The pool's stored state under several gunicorn workers appending at once,
and with workers killed (SIGKILL) mid-request, on SQLite and on PostgreSQL.

Six clients send real state-changing forms together — people joining,
objections to a noticed claim, claims filed, a juror's vote — to a server
of three workers.  Afterwards the stored state (``state_records``,
``state_counts``, ``state_head``; server/pool/state_store.py) must be the
state a fresh replay of the log gives (``state_store.check``), its head at
the log's size, and every request answered as accepted must have its entry
in the log exactly once (a request whose worker was killed under it: at
most once, docs/storage.md, "Acknowledged versus committed").

The crash test kills a random worker (gunicorn's master starts another)
again and again while the clients send, then runs ``mutualog-server state
rebuild`` under the same load, killed mid-rebuild every other time; the
log must also replay under the rules and pass ``mutualog audit``.  The
kills are drawn from a seed, printed; ``MUTUALOG_KILL_SEED`` repeats a run.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, make_url, select, text

from client.cli import main as client_main
from server.auth import accounts_service
from server.cli import main as server_main
from server.models import AccountRow, MemberDetailsRow
from server.pool import state_store
from server.pool.state_store import check, read_state_head
from server.pool_service import PoolService
from server.storage import LogStore
from tests.clock import FixedClock
from tests.server.identities import id_number, mobile
from tests.server.pool_helpers import (
    ORIGIN,
    PASSWORD,
    PDF,
    SEED,
    build_voting_pool,
    make_pool_app,
)
from tests.server.test_demo_serve import _forked_children
from tests.server.test_submissions import (
    _HIDDEN,
    WORKERS,
    Browser,
    Pool,
    _build,
    _multipart,
    _serve,
    _stop,
)
from verifiable.log.bodies import (
    AgeBand,
    Body,
    ClaimFiled,
    ClaimObjected,
    MemberJoined,
    VoteSealed,
)
from verifiable.log.entry import parse_entry
from verifiable.log.note import Ed25519Signer
from verifiable.pool.replay import replay

CLIENTS = 6
OPS_EACH = 8  # per client, in the test without kills
KILLS = 20  # worker kills per backend
REBUILDS = 4  # state rebuilds under load, every other one killed
JOINERS = 400  # accounts made for people to join with

T = TypeVar("T")


@dataclass(frozen=True)
class Sent:
    """A state-changing request and its answer: ``kind`` the entry type it
    appends, ``key`` what names that entry, ``status`` ``None`` when the
    connection broke (its worker was killed)."""

    kind: str
    key: str
    status: int | None


def _retried(step: Callable[[], T]) -> T:
    """``step`` again until no killed worker breaks it (reads and sign-ins)."""
    for _ in range(50):
        try:
            return step()
        except (OSError, http.client.HTTPException):
            time.sleep(0.1)
    return step()


def _answer(send: Callable[[], tuple[int, str]]) -> int | None:
    try:
        status, page = send()
    except (OSError, http.client.HTTPException):
        return None
    assert status < 500, page
    return status


class Clients:
    """The clients' requests, drawn from ``rng``'s seed; thread-safe."""

    def __init__(self, base: str, pool: Pool) -> None:
        self.base = base
        self.pool = pool
        self.sent: list[Sent] = []
        self._lock = threading.Lock()
        self._joiners = itertools.count()
        self._amounts = itertools.count(1)
        self._objections = itertools.count()

    def _next(self, counter: Iterator[int]) -> int:
        with self._lock:
            return next(counter)

    def _record(self, sent: Sent) -> None:
        with self._lock:
            self.sent.append(sent)

    def sign_in(self, username: str) -> Browser:
        """A browser signed in as ``username``, sending again while the
        server is busy checking other passwords (503) or a worker died."""
        browser = Browser(self.base)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            token = _retried(lambda: browser.hidden("/login"))["csrf_token"]
            fields = {"csrf_token": token, "username": username, "password": PASSWORD}
            try:
                status, page = browser.post("/login", fields)
            except (OSError, http.client.HTTPException):
                continue
            if status == 302:
                return browser
            assert status == 503, page
            time.sleep(0.1)
        pytest.fail(f"{username} could not sign in")

    def join(self) -> None:
        n = self._next(self._joiners)
        assert n < JOINERS, "more joins than accounts made for them"
        username = f"joiner{n}"
        browser = self.sign_in(username)
        token = _retried(lambda: browser.hidden("/join"))["csrf_token"]
        fields = {
            "csrf_token": token,
            "name": f"Joiner {n}",
            "id_number": id_number("joiner", n),
            "phone": mobile(n),
        }
        self._record(
            Sent("member.joined", username, _answer(lambda: browser.post("/join", fields)))
        )

    def object(self, browser: Browser) -> None:
        claim = self.pool.noticed
        fields = _retried(lambda: browser.hidden(f"/claims/{claim}"))
        text = f"Objection {self._next(self._objections)}: the dates do not match."
        form = {**fields, "claim": claim, "text": text}
        self._record(
            Sent("claim.objected", text, _answer(lambda: browser.post("/claims/object", form)))
        )

    def file_claim(self, browser: Browser) -> None:
        yuan = 100 + self._next(self._amounts)
        fields = _retried(lambda: browser.hidden("/claims/new"))
        form = {
            "csrf_token": fields["csrf_token"],
            "submission": fields["submission"],
            "category": "cancer",
            "amount": str(yuan),
            "diagnosed": datetime.now(UTC).date().isoformat(),
            "medical_consent": "y",
        }
        body, kind = _multipart(form, ("report.pdf", "application/pdf", PDF))
        status = _answer(lambda: browser.request("/claims/new", body, kind))
        self._record(Sent("claim.filed", str(yuan * 100), status))

    def vote(self) -> None:
        juror = self.sign_in(self.pool.juror)
        claim = self.pool.voting
        fields = _retried(lambda: juror.hidden(f"/juror/claims/{claim}"))
        review = {**fields, "round": "1", "choice": "approve", "reason": "Clear and dated."}
        try:
            status, confirm = juror.post("/juror/vote", review)
        except (OSError, http.client.HTTPException):
            self._record(Sent("vote.sealed", claim, None))
            return
        assert status == 200, confirm
        cast = dict(_HIDDEN.findall(confirm))
        self._record(
            Sent("vote.sealed", claim, _answer(lambda: juror.post("/juror/vote/cast", cast)))
        )

    def answered(self) -> int:
        """How many requests have had their answer (or broken) so far."""
        with self._lock:
            return len(self.sent)

    def run(self, rng: random.Random, more: Callable[[int], bool]) -> None:
        """Send requests, a join, objection or claim each, while ``more(done)``."""
        objector = self.sign_in(self.pool.objector)
        claimant = self.sign_in(self.pool.claimant)
        done = 0
        while more(done):
            kind = rng.choices(("join", "object", "claim"), weights=(3, 2, 1))[0]
            if kind == "join":
                self.join()
            elif kind == "object":
                self.object(objector)
            else:
                self.file_claim(claimant)
            done += 1

    def start(
        self, seed: int, more: Callable[[int], bool], vote: bool = False
    ) -> Callable[[], None]:
        """Start ``CLIENTS`` threads running :meth:`run` at once (one also
        votes); returns what waits for them and raises what failed in them."""
        start = threading.Barrier(CLIENTS)
        failures: list[BaseException] = []

        def client(n: int) -> None:
            try:
                start.wait()
                if vote and n == 0:
                    self.vote()
                self.run(random.Random(seed * 100 + n), more)
            except BaseException as e:  # re-raised in the test's thread
                failures.append(e)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()

        def finish() -> None:
            for thread in threads:
                thread.join()
            if failures:
                raise failures[0]

        return finish

    def together(self, seed: int, more: Callable[[int], bool], vote: bool = False) -> None:
        self.start(seed, more, vote)()


def _pool(engine: Engine, tmp_path: Path) -> Pool:
    """test_submissions' pool (a claim noticed, a panel voting, on the real
    clock) and ``JOINERS`` accounts not yet members."""
    pool = _build(engine, tmp_path)
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    app = make_pool_app(engine, tmp_path, clock)
    try:
        with app.app_context():
            accounts = accounts_service()
            for n in range(JOINERS):
                accounts.register(f"joiner{n}", PASSWORD, clock())
    finally:
        app.extensions["mutualog"].engine.dispose()
    return pool


def _key(body: object) -> tuple[str, str] | None:
    """The (kind, key) a :class:`Sent` names the entry of ``body`` by."""
    if isinstance(body, ClaimObjected):
        return body.TYPE, body.text
    if isinstance(body, ClaimFiled):
        return body.TYPE, str(body.amount)
    if isinstance(body, VoteSealed):
        return body.TYPE, body.claim
    return None


def _check_state_and_log(engine: Engine, sent: list[Sent], start: int) -> Counter[str]:
    """The stored state is the log's; each accepted request's entry is in
    the log once, each broken one's at most once.  Returns the types of the
    entries from ``start`` (the log's size before the requests)."""
    assert check(engine) is None
    store = LogStore(engine)
    size = store.size()
    with engine.connect() as conn:
        head = read_state_head(conn)
        joined = dict(
            conn.execute(
                select(AccountRow.username, MemberDetailsRow.member_id).join(
                    MemberDetailsRow, MemberDetailsRow.account_id == AccountRow.id
                )
            ).all()
        )
    assert head is not None and head.size == size
    entries = store.entries(0, size)
    replay(entries)  # the whole log replays under the pool's rules
    found: Counter[tuple[str, str]] = Counter()
    types: Counter[str] = Counter()
    members: set[str] = set()
    for seq, data in enumerate(entries[start:], start):
        body = parse_entry(data, seq=seq).body
        types[body.TYPE] += 1
        if isinstance(body, MemberJoined):
            members.add(body.member)
        named = _key(body)
        if named is not None:
            found[named] += 1
    for s in sent:
        if s.kind == "member.joined":
            member = joined.get(s.key)
            times = int(member in members) if member is not None else 0
        else:
            times = found[(s.kind, s.key)]
        assert times == 1 if s.status == 302 else times <= 1, (s, times)
    assert max(found.values(), default=1) == 1, found.most_common(3)
    return types


def _summary(sent: list[Sent], types: Counter[str]) -> str:
    by_status = Counter("broken" if s.status is None else str(s.status) for s in sent)
    return (
        f"requests {len(sent)} {dict(by_status)}; log {sum(types.values())} entries {dict(types)}"
    )


@pytest.mark.slow
def test_three_workers_appending_at_once_keep_the_state_the_logs(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    pool = _pool(engine, tmp_path)
    start = LogStore(engine).size()
    process, base = _serve(tmp_path, database_url)
    try:
        clients = Clients(base, pool)
        clients.together(1, lambda done: done < OPS_EACH, vote=True)
    finally:
        _stop(process)
    assert [s for s in clients.sent if s.status != 302] == []
    assert len(clients.sent) == CLIENTS * OPS_EACH + 1
    types = _check_state_and_log(engine, clients.sent, start)
    print(_summary(clients.sent, types))


# --- crashes ----------------------------------------------------------------------------


def _workers(master: int, at_least: int) -> list[int]:
    """gunicorn's live workers, once there are ``at_least`` of them."""
    deadline = time.monotonic() + 120
    while True:
        workers = sorted(_forked_children(master))
        if len(workers) >= at_least or time.monotonic() > deadline:
            return workers
        time.sleep(0.05)


def _sqlite_writer(database_url: str) -> int | None:
    """The process holding SQLite's WAL write lock (an exclusive POSIX lock
    on byte 120 of the ``-shm`` file, as ``/proc/locks`` lists it)."""
    try:
        inode = os.stat(f"{make_url(database_url).database}-shm").st_ino
    except OSError:
        return None
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        held = fields[1:4] == ["POSIX", "ADVISORY", "WRITE"] and fields[6] == "120"
        if held and fields[5].endswith(f":{inode}"):
            return int(fields[4])
    return None


def _postgresql_writer(engine: Engine, workers: list[int]) -> int | None:
    """The worker whose session holds the log's advisory lock: the session's
    client port, the socket bound to it, the worker holding that socket."""
    with engine.connect() as conn:
        port = conn.execute(
            text(
                "SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted LIMIT 1"
            )
        ).scalar()
    if port is None:
        return None
    inodes = {
        row.split()[9]
        for row in Path("/proc/net/tcp").read_text().splitlines()[1:]
        if row.split()[1] == f"0100007F:{port:04X}"
    }
    for pid in workers:
        try:
            links = {os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()}
        except OSError:
            continue
        if any(f"socket:[{inode}]" in links for inode in inodes):
            return pid
    return None


def _writer(engine: Engine, workers: list[int], rng: random.Random) -> int | None:
    """A worker caught inside an append (holding the write lock), waiting up
    to a few seconds for one."""
    deadline = time.monotonic() + rng.uniform(0, 5)
    url = engine.url.render_as_string(hide_password=False)
    while time.monotonic() < deadline:
        if engine.dialect.name == "sqlite":
            pid = _sqlite_writer(url)
        else:
            pid = _postgresql_writer(engine, workers)
        if pid in workers:
            return pid
        time.sleep(0.002)
    return None


def _serving(clients: Clients) -> None:
    """Until the server answers a request more (its new worker is up)."""
    before = clients.answered()
    deadline = time.monotonic() + 120
    while clients.answered() == before:
        assert time.monotonic() < deadline, "no request answered for two minutes"
        time.sleep(0.02)


def _kill_workers(
    master: int, clients: Clients, engine: Engine, rng: random.Random
) -> Counter[str]:
    """SIGKILL a worker ``KILLS`` times, each once the master has all its
    workers again and they answer: mostly one caught holding the write lock
    (mid-append), else a random one at a random moment.  Counts the kills
    of each sort."""
    kills: Counter[str] = Counter()
    for _ in range(KILLS):
        _workers(master, WORKERS)
        _serving(clients)
        workers = _workers(master, 1)
        victim = _writer(engine, workers, rng) if rng.random() < 0.75 else None
        if victim is not None:
            kills["mid-append"] += 1
        else:
            time.sleep(rng.uniform(0, 1.0))
            victim = rng.choice(workers)
            kills["random"] += 1
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
    return kills


def _rebuild(tmp_path: Path, database_url: str, rng: random.Random, kill: bool) -> str:
    """``mutualog-server state rebuild`` under load; with ``kill``, SIGKILLed
    once it has replayed the log in memory, a random moment into writing it."""
    command = Path(sys.executable).parent / "mutualog-server"
    argv = [str(command), "--instance", str(tmp_path / "instance")]
    argv += ["--database-url", database_url, "state", "rebuild"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stderr is not None
        if not kill:
            _out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
            return "done"
        proc.stderr.readline()  # "state: N of M entries": replayed, about to write
        time.sleep(rng.uniform(0, 0.05))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    return "killed" if proc.returncode == -signal.SIGKILL else "done before the kill"


def _audit(base: str, tmp_path: Path) -> int:
    key = Ed25519Signer(ORIGIN, SEED).verifier().to_vkey()
    return client_main(["--state", str(tmp_path / "client"), "audit", base, "--key", key])


@pytest.mark.slow
def test_workers_killed_mid_append_leave_the_state_the_logs(
    engine: Engine,
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed = int(os.environ.get("MUTUALOG_KILL_SEED") or random.SystemRandom().randrange(1 << 32))
    with capsys.disabled():
        print(f"\nkill seed {seed} (MUTUALOG_KILL_SEED={seed} repeats the draws)")
    rng = random.Random(seed)
    pool = _pool(engine, tmp_path)
    start = LogStore(engine).size()
    # A worker killed while it hashes a password holds its hashing slot
    # until the lease ends (server/private/hash_slots.py): a short one lets
    # the clients sign in again soon after such a kill.
    monkeypatch.setenv("MUTUALOG_HASH_LEASE", "2")
    process, base = _serve(tmp_path, database_url)
    try:
        clients = Clients(base, pool)
        loading = threading.Event()
        loading.set()
        finish = clients.start(seed, lambda _: loading.is_set(), vote=True)
        try:
            kills = _kill_workers(process.pid, clients, engine, rng)
            rebuilds = [_rebuild(tmp_path, database_url, rng, n % 2 == 0) for n in range(REBUILDS)]
        finally:
            loading.clear()
            finish()
        # A little more load without kills: whatever a killed rebuild left
        # behind is caught up by the next append.
        clients.together(seed + 1, lambda done: done < 2)
        assert _audit(base, tmp_path) == 0
    finally:
        _stop(process)
    instance = ["--instance", str(tmp_path / "instance"), "--database-url", database_url]
    assert server_main([*instance, "state", "check"]) == 0
    types = _check_state_and_log(engine, clients.sent, start)
    broken = sum(s.status is None for s in clients.sent)
    with capsys.disabled():
        print(f"seed {seed}: kills {dict(kills)}, rebuilds {rebuilds}")
        print(_summary(clients.sent, types))
    assert kills.total() == KILLS and broken > 0


# --- a rebuild under appends ------------------------------------------------------------


def test_an_append_after_a_rebuild_wrote_an_older_state_takes_the_state_up_again(
    engine: Engine,
    tmp_path: Path,
    clock: FixedClock,
    signer: Ed25519Signer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``state rebuild`` writes the state at the size it replayed, then
    catches up what was appended meanwhile.  A process whose last append
    (or page) left it at the log's newer size, appending between the two,
    must take the state up again from the rebuilt head row, not go on
    from what it holds: the records of the entries in between are not
    stored yet."""
    app = make_pool_app(engine, tmp_path, clock)
    try:
        build_voting_pool(app, clock)
        other = PoolService(engine, signer, clock)

        def joined(n: int) -> list[tuple[str, Body]]:
            body = MemberJoined(member=f"{n:032x}", age_band=AgeBand.FROM_18_TO_39)
            return [(body.TYPE, body)]

        replayed, caught_up = state_store._replayed_in_memory, state_store.catch_up

        def replayed_then_appended(*args: Any, **kwargs: Any) -> Any:
            found = replayed(*args, **kwargs)
            other.sequencer.append(joined(1))  # the log grows during the rebuild
            return found

        def appended_first(*args: Any, **kwargs: Any) -> Any:
            other.sequencer.append(joined(2))  # between the rebuild's commit and its catch-up
            return caught_up(*args, **kwargs)

        monkeypatch.setattr(state_store, "_replayed_in_memory", replayed_then_appended)
        monkeypatch.setattr(state_store, "catch_up", appended_first)
        size = state_store.rebuild(engine)
        monkeypatch.undo()
        assert size == LogStore(engine).size()
        assert check(engine) is None
        assert other.state().member(f"{1:032x}") is not None
    finally:
        app.extensions["mutualog"].engine.dispose()
