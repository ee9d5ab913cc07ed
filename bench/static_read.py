"""The log's read path as deployed against nginx alone, with one load
generator, in one run.  Run by hand; not a test.

    python -m bench.static_read                       # 100,000 entries, 3 rounds of 10 s
    python -m bench.static_read --entries 1000000 --seconds 20

Builds a log of N ``member.joined`` entries in a temporary SQLite instance
(bench/http_latency.py's builder), brings its tile folder up to date with
``mutualog-server tiles sync`` and writes ``mutualog-server export-tiles``
into another folder.  Then starts, on free loopback ports:

* **deployed**: ``gunicorn -w W 'server:create_app()'`` with
  ``MUTUALOG_TILE_DIR``, behind nginx running docs/deploy/nginx-mutualog.conf
  (its ports and folders changed, nothing else), which serves the
  checkpoint, tiles and bundles from the tile folder;
* **nginx alone**: the same nginx binary and worker count serving the
  export-tiles folder as plain static files (``root`` and the same
  ``open_file_cache``, nothing else; no ``.gz`` files, so its bundles go
  out uncompressed);
* **Flask alone**: the same gunicorn, its read path (server/views/tiles.py)
  asked directly.

The load generator is wrk (Debian's ``wrk``), one thread and C
connections, each request a GET of a path drawn at random from the log's
read path as a client walks it: the checkpoint, full and partial hash tiles
and entry bundles, with ``Accept-Encoding: gzip``.  The three targets take
turns for R rounds of S seconds each; the table gives each round's
requests/s and p99, and the ratio deployed / nginx alone (target at least
0.8).  Before measuring, each path's body from the deployed site is checked
against nginx alone's.  Every server is stopped by its pid at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.http_latency import ORIGIN, build_log, free_port
from bench.load import Server
from bench.machine import machine
from server.cli import main as server_main
from server.snapshot import snapshot_order

NGINX = Path("/usr/sbin/nginx")
SITE = Path(__file__).resolve().parents[1] / "docs" / "deploy" / "nginx-mutualog.conf"
TARGET = 0.8
_LUA = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
math.randomseed(1)
wrk.headers["Accept-Encoding"] = "gzip"
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
"""


def get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return int(r.status), bytes(r.read())
    except urllib.error.HTTPError as e:
        return int(e.code), b""


def wait_for(server: Server, what: str, log: Path) -> Server:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"{what} exited:\n{log.read_text(errors='replace')[-2000:]}")
        try:
            if get(server.port, "/checkpoint")[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{what} did not answer within 60 s")


def start_nginx(folder: Path, site: str, workers: int) -> Server:
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = folder / "nginx.conf"
    conf.write_text(
        f"""daemon off;
worker_processes {workers};
pid {folder / "nginx.pid"};
error_log {folder / "error.log"};
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {folder}; proxy_temp_path {folder}; fastcgi_temp_path {folder};
  uwsgi_temp_path {folder}; scgi_temp_path {folder};
{site.replace("@PORT@", str(port))}
}}
"""
    )
    command = [str(NGINX), "-c", str(conf), "-e", str(folder / "error.log")]
    if os.geteuid() == 0:
        command += ["-g", "user root;"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return wait_for(Server(port, process), "nginx", folder / "error.log")


def deployed_site(upstream: int, tiles: Path, cache: Path) -> str:
    """docs/deploy/nginx-mutualog.conf with its ports and folders changed."""
    site = SITE.read_text()
    for old, new in (
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};"),
        ("listen 80;", "listen 127.0.0.1:@PORT@;"),
        ("/var/cache/nginx/mutualog", str(cache)),
        ("root /var/lib/mutualog/tiles;", f"root {tiles};"),
    ):
        if old not in site:
            raise SystemExit(f"{SITE}: no {old!r} to replace")
        site = site.replace(old, new)
    return site


def static_site(folder: Path) -> str:
    """Plain static files, with the deployed site's descriptor cache, so
    that the ratio measures what the deployment adds (its locations,
    try_files, gzip_static, headers), not a tuning the baseline lacks."""
    return f"""server {{
    listen 127.0.0.1:@PORT@;
    root {folder};
    open_file_cache max=10000 inactive=60s;
    open_file_cache_valid 60s;
    types {{ }}
    default_type application/octet-stream;
}}"""


def wrk(port: int, script: Path, seconds: int, connections: int) -> tuple[float, float]:
    """Requests/s and p99 in ms."""
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if rate is None or p99 is None or errors is not None:
        raise SystemExit(f"wrk:\n{out}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99[2]]
    return float(rate[1]), float(p99[1]) * scale


def read_paths(size: int) -> list[str]:
    """Every path of the tree's read path, the checkpoint weighted as a
    client fetches it (once per sync, before its tiles)."""
    tiles = [f"/{c.path()}" for c in snapshot_order(size)]
    return tiles + ["/checkpoint"] * max(1, len(tiles) // 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--nginx-workers", type=int, default=1)
    args = parser.parse_args()
    if shutil.which("wrk") is None or not NGINX.exists():
        raise SystemExit("needs wrk and nginx: apt-get install -y wrk nginx")

    work = Path(tempfile.mkdtemp(prefix="static-read-"))
    running: list[Server] = []
    try:
        instance, tiles, export = work / "instance", work / "tiles", work / "export"
        instance.mkdir()
        url = f"sqlite:///{instance / 'mutualog.db'}"
        print(f"building {args.entries:,} entries", file=sys.stderr)
        build_log(url, instance / "log.key", args.entries)
        base = ["--instance", str(instance), "--database-url", url]
        assert server_main([*base, "tiles", "sync", "--dir", str(tiles)]) == 0
        assert server_main([*base, "export-tiles", str(export)]) == 0

        env = {k: v for k, v in os.environ.items() if not k.startswith("MUTUALOG_")}
        env |= {"MUTUALOG_INSTANCE": str(instance), "MUTUALOG_DATABASE_URL": url}
        env |= {"MUTUALOG_TILE_DIR": str(tiles), "MUTUALOG_ORIGIN": ORIGIN}
        gunicorn = Path(sys.executable).parent / "gunicorn"
        port = free_port()
        log = work / "gunicorn.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    str(gunicorn),
                    "-w",
                    str(args.workers),
                    "-b",
                    f"127.0.0.1:{port}",
                    "server:create_app()",
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        flask = wait_for(Server(port, process), "gunicorn", log)
        running.append(flask)
        site = deployed_site(flask.port, tiles, work / "cache")
        deployed = start_nginx(work / "deployed", site, args.nginx_workers)
        running.append(deployed)
        alone = start_nginx(work / "alone", static_site(export), args.nginx_workers)
        running.append(alone)

        paths = read_paths(args.entries)
        for path in sorted(set(paths)):
            if get(deployed.port, path) != get(alone.port, path):
                raise SystemExit(f"{path}: the deployed site and nginx alone differ")
        script = work / "paths.lua"
        (work / "paths.txt").write_text("\n".join(paths) + "\n")
        script.write_text(_LUA % (work / "paths.txt"))

        targets = {"deployed": deployed, "nginx alone": alone, "Flask alone": flask}
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in targets}
        for _ in range(args.rounds):
            for name, server in targets.items():
                results[name].append(wrk(server.port, script, args.seconds, args.connections))
        report(args, results)
    finally:
        for server in reversed(running):
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


def report(args: argparse.Namespace, results: dict[str, list[tuple[float, float]]]) -> None:
    print(machine("after the run"))
    print(
        f"log of {args.entries:,} entries; wrk -t1 -c{args.connections}, {args.seconds} s a "
        f"round, {args.rounds} rounds in turn; gunicorn -w {args.workers}, nginx "
        f"worker_processes {args.nginx_workers}"
    )
    print(f"{'target':<12} {'requests/s by round':<30} {'median':>9} {'p99 ms (median)':>16}")
    medians = {}
    for name, rounds in results.items():
        rates = [r for r, _ in rounds]
        medians[name] = statistics.median(rates)
        shown = " ".join(f"{r:,.0f}" for r in rates)
        p99 = statistics.median(p for _, p in rounds)
        print(f"{name:<12} {shown:<30} {medians[name]:>9,.0f} {p99:>16.2f}")
    ratios = [
        d / a for (d, _), (a, _) in zip(results["deployed"], results["nginx alone"], strict=True)
    ]
    ratio = medians["deployed"] / medians["nginx alone"]
    verdict = "meets" if ratio >= TARGET else "misses"
    print(
        f"deployed / nginx alone: {ratio:.2f} (by round {', '.join(f'{r:.2f}' for r in ratios)}); "
        f"target {TARGET}: {verdict}"
    )
    print(f"Flask alone / nginx alone: {medians['Flask alone'] / medians['nginx alone']:.3f}")


if __name__ == "__main__":
    main()
