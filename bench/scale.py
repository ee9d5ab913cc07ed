"""Issue 14's figures at scale: a generated pool of N members served by
gunicorn with 4 workers on PostgreSQL.  Run by hand; not a test.

    python -m bench.scale --members 100000,1000000 --keep DIR
    python -m bench.scale --members 100000,1000000 --reuse DIR   # measure again

Each size's pool is built once (``mutualog-server generate --members N``,
then ``state rebuild``) into a PostgreSQL cluster kept in the data folder
(bench/scale_setup.py describes its layout), and every run measures a fresh
copy of it, so a run can be repeated on the same pool: ``--keep DIR``
builds what DIR lacks and keeps it, ``--reuse DIR`` is the same on a folder
built before; with neither, the folder is temporary.  The code measured is
the tree the bench runs from (to measure a commit:
``git archive COMMIT | tar -x -C TREE``, then run from TREE with
``PYTHONPATH=TREE``).  On the copy, a demo clock starts a minute after the
generated history's last entry (dated 2024), so that the votes still open
then can be cast; founders and jurors get accounts.  Per size:

* the start: seconds from launching ``gunicorn -w 4`` until every worker
  has answered ``/pool`` 200 (the access log names the worker's pid; the
  bench asks from four clients at once until all four pids are in it),
  and the CPU seconds the workers had used by then;
* the latency, p50 and p99 (nearest rank), of what a member or juror
  does, ``--requests`` times from one client, then as many from
  ``--clients`` at once: ``/pool``; a founder's statement of the last
  closed period; that period's deduction bundle; a join (the join form
  posted by a new account, registered and signed in untimed); a claim
  filed (the claim form with a scan, posted by a founder); a vote (the
  cast of a vote the juror has reviewed).  Each write is its own person's;
* the memory: each worker's RSS (``VmRSS``) after the measured requests;
* the audit: ``mutualog audit`` of the served log from its URL with a
  fresh trust state, in a child process: its peak RSS (``ru_maxrss``),
  wall and CPU time, entries/s.

Then a table per size, and for each figure its value at 100,000,000
members on the least-squares line over the sizes measured.  Progress
lines go to stderr.
"""

from __future__ import annotations

import argparse
import itertools
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import cast

from bench.load import (
    Answer,
    Client,
    Server,
    StepFailedError,
    forms,
    free_port,
    member_address,
    png,
    tool,
)
from bench.machine import machine
from bench.scale_setup import (
    Cast,
    Cluster,
    build,
    give_accounts,
    run_copy,
    say,
    server_env,
    start_cluster,
    stop_cluster,
)

# --- the server -----------------------------------------------------------------------------


@dataclass
class Started:
    server: Server
    workers: list[int]
    start_s: float
    start_cpu_s: float


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return sorted(int(p) for p in out.stdout.split())


def _cpu_s(pid: int) -> float:
    """User plus system CPU seconds of a process so far (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _answered(access_log: Path) -> set[int]:
    """The workers (by pid) that have answered ``/pool`` 200, from the
    access log's lines ``PID PATH STATUS``."""
    seen = set()
    for line in access_log.read_text(errors="replace").splitlines():
        pid, path, status = [*line.split(), "", "", ""][:3]
        if path == "/pool" and status == "200":
            seen.add(int(pid.strip("<>")))
    return seen


def start_gunicorn(env: dict[str, str], workers: int, folder: Path, limit: float) -> Started:
    """``gunicorn --preload -w WORKERS 'server:create_app()'`` (the deployment
    docs/operations.md gives) on a free loopback port,
    timed until every worker has answered ``/pool``.  bench/load.py's
    start_gunicorn waits for the first answer only; which worker answered
    is in the access log (``%(p)s``), so this asks from as many clients at
    once as there are workers until each pid is in it."""
    port = free_port()
    access = folder / "access.log"
    access.write_text("")
    command = [tool("gunicorn"), "--preload", "-w", str(workers), "-b", f"127.0.0.1:{port}"]
    command += ["--timeout", "600", "--access-logfile", str(access)]
    command += ["--access-logformat", "%(p)s %(U)s %(s)s", "server:create_app()"]
    began = time.monotonic()
    with (folder / "gunicorn.log").open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(port, process)
    pids: list[int] = []
    with ThreadPoolExecutor(workers) as pool:
        while time.monotonic() - began < limit:
            if process.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {folder / 'gunicorn.log'}")
            pids = _children(process.pid)
            if len(pids) == workers and _answered(access) >= set(pids):
                start = time.monotonic() - began
                cpu = sum(_cpu_s(p) for p in pids)
                return Started(server, pids, start, cpu)
            list(pool.map(lambda _: _status(Client(port).get, "/pool"), range(workers)))
            time.sleep(0.05)
    server.stop()
    raise SystemExit(f"gunicorn's {workers} workers did not all answer within {limit:.0f} s")


def _status(call: Callable[[str], Answer], path: str) -> int:
    try:
        return call(path)[0]
    except OSError:
        return 0


# --- the operations, timed ------------------------------------------------------------------

#: Each operation and the status a member expects: a form posted redirects.
OPERATIONS = {"join": 302, "claim": 302, "vote": 302, "pool": 200, "statement": 200, "bundle": 200}
WRITES = ("join", "claim", "vote")
_address_lock = threading.Lock()


class SkipError(Exception):
    """The item cannot be measured (a juror who has voted already): the next one is taken."""


def _client(port: int) -> Client:
    with _address_lock:  # one address per member; the generator is not thread-safe
        return Client(port, member_address())


def _patient(client: Client, page: str, values: dict[str, str]) -> int:
    """Post the form of ``page``; a post the server turns away for now (429,
    503: its bound on password hashing at once) is sent again after a
    pause, as a member would.  The status of the last try."""
    status = 0
    for _attempt in range(30):
        status = client.post(client.form(page, page), values)[0]
        if status not in (429, 503):
            break
        time.sleep(1.0)
    return status


def _signed_in(port: int, username: str, password: str) -> Client:
    client = _client(port)
    status = _patient(client, "/login", {"username": username, "password": password})
    if status != 302:
        raise SystemExit(f"{username}: sign-in answered {status}")
    return client


def _timed(call: Callable[[], Answer]) -> tuple[float, int]:
    began = time.perf_counter()
    status = call()[0]
    return (time.perf_counter() - began) * 1000, status


def _id_number(n: int) -> str:
    """A valid ID number of its own for join ``n`` (GB 11643, ISO 7064 MOD 11-2)."""
    born = date(1970, 1, 1) + timedelta(days=n % 15000)
    first17 = f"110105{born:%Y%m%d}{(n // 15000) % 1000:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


def join(port: int, n: int, run: str) -> tuple[float, int]:
    """Register (not timed), then the join form posted (timed)."""
    client = _client(port)
    username, password = f"joiner{run}{n}", secrets.token_urlsafe(16)
    values = {"username": username, "password": password, "confirm": password}
    if (status := _patient(client, "/register", values)) != 302:
        raise SkipError(f"register {username}: {status}")
    # Registering does not sign in.
    signin = {"username": username, "password": password}
    if (status := _patient(client, "/login", signin)) != 302:
        raise SkipError(f"{username}: sign-in answered {status}")
    form = client.form("/join", "/join")
    values = {"name": "王小明", "id_number": _id_number(n), "phone": "138 0013 8000"}
    return _timed(lambda: client.post(form, values))


def claim(port: int, username: str, password: str, today: str) -> tuple[float, int]:
    """A founder signs in (not timed) and files a claim with a scan (timed)."""
    client = _signed_in(port, username, password)
    form = client.form("/claims/new", "/claims/new")
    values = {"amount": "1000", "diagnosed": today, "medical_consent": "y"}
    values["category"] = form.choices.get("category", [""])[0]
    scan = png()
    return _timed(lambda: client.post(form, values, {"evidence": scan}))


def vote(port: int, username: str, password: str, claim_id: str) -> tuple[float, int]:
    """A juror signs in and reviews the vote (not timed), then casts it (timed)."""
    client = _signed_in(port, username, password)
    found = forms(client.get(f"/juror/claims/{claim_id}")[1], "/juror/vote")
    if not found:
        raise SkipError(f"{username} has voted on {claim_id} already")
    values = {"reason": "The discharge summary matches the notice."}
    values["choice"] = found[0].choices.get("choice", ["approve"])[0]
    status, page, _ = client.post(found[0], values)
    confirm = forms(page, "/juror/vote/cast")
    if status != 200 or not confirm:
        raise SkipError(f"{username}: the vote's review answered {status}")
    return _timed(lambda: client.post(confirm[0], {}))


@dataclass
class Timings:
    """Milliseconds by (operation, clients); requests answered otherwise
    than a member expects; why items were skipped."""

    ms: dict[tuple[str, int], list[float]] = field(default_factory=dict)
    errors: dict[tuple[str, int], int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def drive(
    timings: Timings,
    name: str,
    queue: Iterator[object],
    wanted: int,
    clients: int,
    do: Callable[[object], tuple[float, int]],
) -> None:
    """``wanted`` timed requests of ``do`` over the items of ``queue`` (each
    used once) from ``clients`` threads; a skipped item gives its turn to
    the next."""
    lock = threading.Lock()
    taken, skipped = [0], [0]
    times = timings.ms.setdefault((name, clients), [])

    def one_client() -> None:
        while True:
            with lock:
                # Skips are bounded: a refusal of every item must not loop forever.
                more = taken[0] < wanted and skipped[0] < wanted
                item = next(queue, None) if more else None
                taken[0] += item is not None
            if item is None:
                return
            try:
                ms, status = do(item)
            except (SkipError, StepFailedError, OSError) as e:
                with lock:
                    taken[0] -= 1
                    skipped[0] += 1
                    if skipped[0] <= 3:
                        timings.notes.append(f"{name}: {e}")
                continue
            with lock:
                times.append(ms)
                if status != OPERATIONS[name]:
                    key = (name, clients)
                    timings.errors[key] = timings.errors.get(key, 0) + 1
                    if timings.errors[key] <= 2:
                        timings.notes.append(f"{name} x{clients}: answered {status}")

    threads = [threading.Thread(target=one_client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if len(times) < wanted:
        timings.notes.append(f"{name} x{clients}: {len(times)} of {wanted} (too few items)")


def measure_requests(port: int, people: Cast, requests: int, clients: int) -> Timings:
    """Every operation, ``requests`` times one after another, then as many
    again from ``clients`` clients at once: reads first, then writes.  Each
    write takes a person of its own: a new joiner, a founder, a juror's seat."""
    timings = Timings()
    readers = [_signed_in(port, u, people.password) for u in people.founders[:clients]]
    bundle = f"/api/v1/bundles/deduction?member={people.founder_ids[0]}&period={people.period}"
    statement = f"/dashboard/periods/{people.period}"
    run, password = secrets.token_hex(2), people.password
    joiners: Iterator[object] = itertools.count()
    claimants: Iterator[object] = iter(people.founders)
    seats: Iterator[object] = iter(people.seats)

    def read(path: str) -> Callable[[object], tuple[float, int]]:
        return lambda _: _timed(lambda: Client(port).get(path))

    def read_statement(n: object) -> tuple[float, int]:
        return _timed(lambda: readers[int(str(n)) % len(readers)].get(statement))

    def cast_vote(seat: object) -> tuple[float, int]:
        username, claim_id = cast(tuple[str, str], seat)
        return vote(port, username, password, claim_id)

    for mode in (1, clients):
        say(f"  {mode} client(s) at once: {requests} of each operation")
        steps: list[tuple[str, Iterator[object], Callable[[object], tuple[float, int]]]] = [
            ("pool", iter(range(requests)), read("/pool")),
            ("statement", iter(range(requests)), read_statement),
            ("bundle", iter(range(requests)), read(bundle)),
            ("join", joiners, lambda n: join(port, int(str(n)), run)),
            ("claim", claimants, lambda u: claim(port, str(u), password, people.today)),
            ("vote", seats, cast_vote),
        ]
        for name, queue, do in steps:
            drive(timings, name, queue, requests, mode, do)
    return timings


# --- the audit ------------------------------------------------------------------------------


@dataclass
class Audit:
    entries: int
    wall_s: float
    cpu_s: float
    peak_mib: float
    ok: bool


def audit(port: int, instance: Path, url: str, folder: Path) -> Audit:
    """``mutualog audit`` of the served log from its URL, with a fresh
    trust-state folder, in a child process whose own peak RSS
    (``ru_maxrss``) and CPU the kernel reports when it ends."""
    from server.config import load_settings
    from server.keys import load_log_signer

    verifier = load_log_signer(load_settings(server_env(instance, url))).verifier()
    state = folder / "audit-state"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUTUALOG_")}
    env["MUTUALOG_STATE"] = str(state)
    command = [tool("mutualog"), "audit", f"http://127.0.0.1:{port}", "--json"]
    command += ["--key", verifier.to_vkey(), "--origin", verifier.name]
    size = int(Client(port).get("/checkpoint")[1].split(b"\n")[1])
    began = time.perf_counter()
    with (folder / "audit.json").open("wb") as out:
        child = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.DEVNULL)
        _pid, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - began
    child.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return Audit(size, wall, cpu, usage.ru_maxrss / 1024, child.returncode == 0)


# --- one size -------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile ``q`` (0..1) of ``values``; 0 for none."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))]


def figures(
    started: Started, rss: list[float], timings: Timings, audited: Audit, clients: int
) -> dict[str, float]:
    """One size's figures by name, as the table and the fit read them."""
    out = {
        "start s": started.start_s,
        "start CPU s (all workers)": started.start_cpu_s,
        "RSS per worker MiB (largest)": max(rss),
    }
    for name in OPERATIONS:
        for mode in (1, clients):
            times = timings.ms.get((name, mode), [])
            out[f"{name} p50 ms x{mode}"] = percentile(times, 0.5)
            out[f"{name} p99 ms x{mode}"] = percentile(times, 0.99)
    out["audit peak RSS MiB"] = audited.peak_mib
    out["audit entries/s"] = audited.entries / max(audited.wall_s, 1e-9)
    out["audit entries/s of CPU"] = audited.entries / max(audited.cpu_s, 1e-9)
    return out


def measure_size(
    cluster: Cluster, data: Path, members: int, requests: int, clients: int
) -> dict[str, float]:
    instance, _ = build(cluster, data, members)
    say(f"{members:,} members: copying the database to measure on")
    url = run_copy(cluster, members)
    folder = data / f"run-{members}"
    folder.mkdir(exist_ok=True)
    try:
        say(f"{members:,} members: accounts for {2 * requests} founders and the jurors")
        people = give_accounts(instance, url, 2 * requests, 2 * requests)
        say(f"{members:,} members: starting gunicorn -w 4; load {os.getloadavg()[0]:.2f}")
        # The bench registers and signs in hundreds of accounts in minutes from
        # one machine: the per-server bounds against floods are raised for it.
        env = server_env(instance, url) | {
            "MUTUALOG_REGISTER_PER_SERVER": "1000000",
            "MUTUALOG_LOGIN_PER_SERVER": "1000000",
        }
        started = start_gunicorn(env, 4, folder, 1800)
        try:
            say(f"{members:,} members: all workers answered in {started.start_s:.1f} s")
            timings = measure_requests(started.server.port, people, requests, clients)
            rss = [rss_mib(p) for p in started.workers]
            say(f"{members:,} members: the audit")
            audited = audit(started.server.port, instance, url, folder)
        finally:
            started.server.stop()
    finally:
        run_copy(cluster, members, drop_only=True)
    result = figures(started, rss, timings, audited, clients)
    print(table(members, result, rss, timings, audited, clients), flush=True)
    return result


# --- the report -----------------------------------------------------------------------------

TARGET_START_S = 2.0
TARGET_RSS_MIB = 200.0
TARGET_WRITE_P99_MS = 50.0
TARGET_AUDIT_MIB_AT_10M = 1024.0
EXTRAPOLATE_TO = 100_000_000


def verdict(value: float, target: float) -> str:
    return f"{'meets' if value <= target else 'MISSES'} (target <= {target:g})"


def table(
    members: int,
    result: dict[str, float],
    rss: list[float],
    timings: Timings,
    audited: Audit,
    clients: int,
) -> str:
    """One size's figures as the bench prints them."""
    lines = [
        f"\n== {members:,} members, {audited.entries:,} entries; gunicorn -w 4 on PostgreSQL",
        f"start: {result['start s']:.2f} s wall until every worker answered /pool, "
        f"{result['start CPU s (all workers)']:.2f} s CPU of the workers: "
        + verdict(result["start s"], TARGET_START_S),
        "RSS per worker after the requests: "
        + ", ".join(f"{m:.0f}" for m in rss)
        + " MiB: "
        + verdict(max(rss), TARGET_RSS_MIB),
        f"{'operation':<10} {'clients':>7} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}",
    ]
    worst = 0.0
    for name in OPERATIONS:
        for mode in (1, clients):
            n = len(timings.ms.get((name, mode), []))
            p50, p99 = result[f"{name} p50 ms x{mode}"], result[f"{name} p99 ms x{mode}"]
            errors = timings.errors.get((name, mode), 0)
            lines.append(f"{name:<10} {mode:>7} {n:>5} {p50:>8.1f} {p99:>8.1f} {errors:>6}")
            worst = max(worst, p99) if name in WRITES else worst
    lines.append(f"writes (join, claim, vote), worst p99 {worst:.1f} ms: "
                 + verdict(worst, TARGET_WRITE_P99_MS))  # fmt: skip
    lines.append(
        f"audit: {audited.entries:,} entries in {audited.wall_s:.1f} s wall, "
        f"{audited.cpu_s:.1f} s CPU: {result['audit entries/s']:,.0f} entries/s "
        f"({result['audit entries/s of CPU']:,.0f} a CPU second); "
        f"peak RSS {audited.peak_mib:,.0f} MiB; {'VERIFIED' if audited.ok else 'NOT VERIFIED'}"
    )
    lines += [f"note: {n}" for n in timings.notes[:10]]
    return "\n".join(lines)


def fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """The least-squares line through the points: (intercept, slope)."""
    if len(xs) != len(ys) or len(set(xs)) < 2:
        raise ValueError("a line needs points at two sizes at least")
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    slope /= sum((x - mx) ** 2 for x in xs)
    return my - slope * mx, slope


def extrapolation(results: dict[int, dict[str, float]], at: int = EXTRAPOLATE_TO) -> list[str]:
    """For each figure, its value at ``at`` members on the line fitted to
    the sizes measured, and the line's slope per million members."""
    sizes = sorted(results)
    if len(sizes) < 2:
        return [f"extrapolation to {at:,} members: needs two sizes at least"]
    lines = [f"\nextrapolated to {at:,} members (least squares over {len(sizes)} sizes: "
             + ", ".join(f"{s:,}" for s in sizes) + ")"]  # fmt: skip
    for name in results[sizes[0]]:
        intercept, slope = fit([float(s) for s in sizes], [results[s][name] for s in sizes])
        value = intercept + slope * at
        # A figure that fell between the sizes (noise, or a cost that does
        # not grow) has no growth to extrapolate: its line would go below 0.
        shown = f"{value:>14,.1f}" if value >= 0 else f"{'(falls)':>14}"
        lines.append(f"  {name:<30} {shown}   ({slope * 1e6:+,.3f} per million members)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--members", default="100000,1000000", help="comma-separated sizes")
    parser.add_argument("--requests", type=int, default=100, help="of each operation, each mode")
    parser.add_argument("--clients", type=int, default=8, help="clients at once, second mode")
    folders = parser.add_mutually_exclusive_group()
    folders.add_argument("--keep", type=Path, help="build into this folder and keep it")
    folders.add_argument("--reuse", type=Path, help="measure the databases built there before")
    args = parser.parse_args(argv)
    sizes = [int(m) for m in args.members.split(",")]
    print("command: python -m bench.scale " + " ".join(argv if argv is not None else sys.argv[1:]))
    print(machine("at the start"), flush=True)
    data = args.keep or args.reuse or Path(tempfile.mkdtemp(prefix="mutualog-scale-"))
    cluster = start_cluster(data / "pg")
    results: dict[int, dict[str, float]] = {}
    try:
        for members in sizes:
            results[members] = measure_size(cluster, data, members, args.requests, args.clients)
    finally:
        stop_cluster(cluster)
        if not (args.keep or args.reuse):
            shutil.rmtree(data, ignore_errors=True)
    print("\n".join(extrapolation(results)))
    top = max(results)
    if top >= 10_000_000:
        peak = results[top]["audit peak RSS MiB"]
        print(f"audit at {top:,} members: " + verdict(peak, TARGET_AUDIT_MIB_AT_10M))
    print(machine("at the end"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
