"""Median HTTP latency of inclusion proofs from a running server.  Run by
hand; not a test.

    python bench/http_latency.py                      # 1,000,000 entries
    python bench/http_latency.py --entries 100000     # a quicker run
    python bench/http_latency.py --database-url postgresql+psycopg://...

Builds a log of N ``member.joined`` entries in a temporary instance with the
sequencer (batches of 10,000, as an operator's bulk append would), starts
the production command — ``gunicorn -w W -b 127.0.0.1:PORT
'server:create_app()'`` — on a free loopback port, then sends R sequential
requests from this process, each on a new connection (gunicorn's sync
workers close the connection after each response):

* ``GET /api/v1/proof/inclusion?index=I&size=N`` for random I — the target is
  a median under 5 ms;
* ``GET /api/v1/proof/inclusion?leaf_hash=H&size=N`` (one more index lookup);
* ``GET /tile/0/<random full tile>`` and ``GET /checkpoint``, for scale.

Only loopback traffic; the request loop is bounded; the server is stopped by
its pid at the end.  Latency is measured at the client: connect, request,
full response.

    python -m bench.http_latency --appends 300 --entries 10000 [--backend postgresql]

instead measures the append with ``MUTUALOG_TILE_DIR`` set: after the log
is built, ``--rounds`` rounds of ``--appends`` one-entry appends, one after
another (``Sequencer.append``, which every append of the pool's and the
API's makes), each round once with the files published inline and once in
the background (the order alternating), in one tile folder on the disk of
the temporary instance.  Printed per mode: the appends' p50, p90, p99 and
max, the process's CPU per append (the publisher thread's included), the
publishes run and the flush's wait at the end.  ``--backend postgresql``
starts a throwaway cluster (bench/load.py's).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import logging
import os
import platform
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from bench.load import start_postgres, stop_postgres
from bench.machine import machine as machine_line
from server.db import make_engine, upgrade
from server.keys import create_key_file, load_signer
from server.sequencer import Sequencer
from server.storage import LogStore
from server.tilefiles import TileFiles
from verifiable.log.bodies import AgeBand, Body, MemberJoined
from verifiable.log.tiles import TileCoord

TARGET_MS = 5.0
ORIGIN = "bench.example/mutualog/http"
BATCH = 10_000


def build_log(url: str, key: Path, entries: int) -> float:
    """Append ``entries`` entries; return entries per second."""
    create_key_file(key, ORIGIN, hashlib.sha256(b"bench key").digest())
    engine = make_engine(url)
    upgrade(engine)
    sequencer = Sequencer(engine, load_signer(key), ORIGIN, lambda: datetime.now(UTC))
    start = time.perf_counter()
    for first in range(0, entries, BATCH):
        items: list[tuple[str, Body]] = [
            ("member.joined", MemberJoined(member=f"{i:032x}", age_band=AgeBand.FROM_18_TO_39))
            for i in range(first, min(entries, first + BATCH))
        ]
        sequencer.append(items)
        done = first + len(items)
        if done % 100_000 == 0 or done == entries:
            print(f"  appended {done:,}", file=sys.stderr)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return entries / elapsed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_until_up(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with status {process.returncode}")
        try:
            if get(port, "/checkpoint")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within 60 s")


def measure(port: int, paths: Callable[[], str], count: int) -> list[float]:
    times = []
    for _ in range(count):
        path = paths()
        start = time.perf_counter()
        status, _ = get(port, path)
        times.append((time.perf_counter() - start) * 1000)
        if status != 200:
            raise SystemExit(f"GET {path}: status {status}")
    return times


def summary(name: str, times: list[float]) -> str:
    ordered = sorted(times)

    def p(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return (
        f"{name:<34} n={len(times):<6} median {statistics.median(times):6.2f} ms   "
        f"p90 {p(0.90):6.2f}   p99 {p(0.99):6.2f}   max {ordered[-1]:6.2f}"
    )


def p99(times: list[float]) -> float:
    """The 99th percentile, as :func:`summary` prints it."""
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores; "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}; load {load}"
    )


class _Publishes(logging.Handler):
    """Counts the publishes server.tilefiles logs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += "files written" in record.getMessage()


def append_turn(
    sequencer: Sequencer, files: TileFiles, engine: Engine, appends: int, start: int
) -> tuple[list[float], float, float]:
    """``appends`` one-entry appends; their latencies (ms), the CPU per
    append (ms, the flush included) and the flush's wait at the end (ms)."""
    files.publish(engine)  # caught up before the clock starts
    cpu = time.process_time()
    times = []
    for i in range(start, start + appends):
        item: list[tuple[str, Body]] = [
            ("member.joined", MemberJoined(member=f"{i:032x}", age_band=AgeBand.FROM_18_TO_39))
        ]
        t0 = time.perf_counter()
        sequencer.append(item)
        times.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    files.flush(600)
    waited = (time.perf_counter() - t0) * 1000
    return times, (time.process_time() - cpu) * 1000 / appends, waited


def append_latency(url: str, instance: Path, args: argparse.Namespace) -> None:
    """The appends' latency with the files published inline and in the background."""
    counter = _Publishes()
    logger = logging.getLogger("server.tilefiles")
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    engine = make_engine(url)
    signer = load_signer(instance / "log.key")
    times: dict[str, list[float]] = {"inline": [], "background": []}
    cpu: dict[str, list[float]] = {"inline": [], "background": []}
    flushes: dict[str, list[float]] = {"inline": [], "background": []}
    publishes = dict.fromkeys(times, 0)
    folder = instance / "tiles"
    start = args.entries
    try:
        for r in range(args.rounds):
            for mode in ("inline", "background")[:: 1 if r % 2 == 0 else -1]:
                files = TileFiles(folder, background=mode == "background")
                sequencer = Sequencer(
                    engine, signer, ORIGIN, lambda: datetime.now(UTC), files=files
                )
                before = counter.count
                t, c, w = append_turn(sequencer, files, engine, args.appends, start)
                publishes[mode] += counter.count - before
                times[mode] += t
                cpu[mode].append(c)
                flushes[mode].append(w)
                start += args.appends
    finally:
        engine.dispose()
    print(
        f"{args.rounds} rounds of {args.appends} one-entry appends each way, "
        f"from size {args.entries:,}"
    )
    for mode in times:
        print(summary(f"append, files {mode}", times[mode]))
        print(
            f"  {mode}: CPU {statistics.median(cpu[mode]):.2f} ms an append (median of rounds); "
            f"{publishes[mode]} publishes for {len(times[mode])} appends; flush at the end "
            f"{max(flushes[mode]):.1f} ms at most"
        )
    ratio = p99(times["background"]) / p99(times["inline"])
    print(f"p99 background / inline: {ratio:.2f}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--database-url", help="default: a SQLite file in a temporary instance folder"
    )
    parser.add_argument("--appends", type=int, help="measure this many appends a round instead")
    parser.add_argument("--rounds", type=int, default=3, help="with --appends")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    if not 1 <= args.requests <= 100_000:
        parser.error("--requests must be 1 to 100,000")
    if args.entries < 256:
        parser.error("--entries must be at least 256")
    return args


def main() -> None:
    args = parse_args()
    if args.appends is not None:
        appends_main(args)
        return

    instance = Path(tempfile.mkdtemp(prefix="mutualog-bench-"))
    url = args.database_url or f"sqlite:///{instance / 'mutualog.db'}"
    print(f"command: python bench/{Path(__file__).name} {' '.join(sys.argv[1:])}")
    print(f"machine: {machine()}")
    print(f"database: {url.split('@')[-1] if '@' in url else url.split(':')[0]}")
    print(f"building a log of {args.entries:,} entries...", file=sys.stderr)
    rate = build_log(url, instance / "log.key", args.entries)
    print(f"built {args.entries:,} entries with the sequencer at {rate:,.0f} entries/s")

    engine = make_engine(url)
    store = LogStore(engine)
    size = store.size()
    rng = random.Random(1)
    sample = rng.sample(range(size), min(size, 2000))
    leaf_hashes = [store.level_hashes(0, i, i + 1)[0].hex() for i in sample]
    engine.dispose()

    port = free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [str(gunicorn), "-w", str(args.workers), "-b", f"127.0.0.1:{port}"]
    command.append("server:create_app()")
    env = {**os.environ, "MUTUALOG_INSTANCE": str(instance), "MUTUALOG_DATABASE_URL": url}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until_up(port, process)
        print(f"server: gunicorn -w {args.workers} -b 127.0.0.1:<port> 'server:create_app()'")
        measure(
            port, lambda: f"/api/v1/proof/inclusion?index={rng.randrange(size)}&size={size}", 200
        )
        by_index = measure(
            port,
            lambda: f"/api/v1/proof/inclusion?index={rng.randrange(size)}&size={size}",
            args.requests,
        )
        by_hash = measure(
            port,
            lambda: f"/api/v1/proof/inclusion?leaf_hash={rng.choice(leaf_hashes)}&size={size}",
            args.requests,
        )
        full_tiles = size // 256
        tiles = measure(
            port, lambda: "/" + TileCoord(0, rng.randrange(full_tiles)).path(), args.requests // 4
        )
        checkpoint = measure(port, lambda: "/checkpoint", args.requests // 4)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()
        if args.database_url is None:
            shutil.rmtree(instance, ignore_errors=True)

    print(f"tree size {size:,}; {args.requests} sequential requests each, new connection each")
    print(summary("inclusion proof by index", by_index))
    print(summary("inclusion proof by leaf hash", by_hash))
    print(summary("full level-0 tile (8 KiB)", tiles))
    print(summary("checkpoint", checkpoint))
    median = statistics.median(by_index)
    verdict = "meets" if median < TARGET_MS else "MISSES"
    print(f"median inclusion-proof latency {median:.2f} ms {verdict} the {TARGET_MS:.0f} ms target")


def appends_main(args: argparse.Namespace) -> None:
    """``--appends``: the log built, then :func:`append_latency`."""
    instance = Path(tempfile.mkdtemp(prefix="mutualog-bench-"))
    pg = start_postgres() if args.backend == "postgresql" and not args.database_url else None
    url = args.database_url or (pg.url if pg else f"sqlite:///{instance / 'mutualog.db'}")
    print(f"command: python -m bench.http_latency {' '.join(sys.argv[1:])}")
    print(machine_line("at the start"))
    print(f"database: {url.split('@')[-1] if '@' in url else url.split(':')[0]}")
    try:
        build_log(url, instance / "log.key", args.entries)
        append_latency(url, instance, args)
        print(machine_line("at the end"))
    finally:
        if pg is not None:
            stop_postgres(pg)
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
