"""The member's pages against a static file server serving the same bytes.
Run by hand; not a test.

    python bench/pages.py                                  # builds a 1,000,000-member demo
    python bench/pages.py --members 10000                  # a quicker run
    python bench/pages.py --instance DIR --password PW     # a demo built before

Builds the demo (``mutualog-server demo --members N --no-serve``) in a
temporary instance, unless ``--instance`` names one built before with the
demo member's password; serves it with the production command,
``gunicorn -w W -b 127.0.0.1:PORT 'server:create_app()'``, on a free
loopback port; signs in as the demo's member; and fetches three pages:

* ``/pool``, the public overview (its charts are inline SVG);
* ``/dashboard``, the member's own, with the chart of what they paid;
* the statement of the member's latest period (``/dashboard/periods/DATE``).

Each page's bytes are saved to a folder with the stylesheet and the script
they link, and that folder is served by a static file server in the same
run: nginx (``/usr/sbin/nginx``) when it is installed, and Python's
``http.server`` (threaded) always, for scale.  The same load generator
measures each target in turn: sequential GETs from this process, each on a
new connection (gunicorn's sync workers close the connection after each
response), the clock running from connect to the last byte.  After a
warm-up that is not counted, ``--requests`` requests per target, or fewer
when ``--seconds`` runs out first.  Only loopback traffic; every server is
stopped by its pid at the end.

Printed: p50 and p99 per target, each page's p50 as a ratio to nginx's for
the same bytes (target: within 3x, and under 20 ms), and each page's size
with its stylesheet and its SVG (target: under 60 KB).
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

NGINX = Path("/usr/sbin/nginx")
TARGET_RATIO = 3.0
TARGET_MS = 20.0
TARGET_KB = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(port: int, path: str, cookie: str = "") -> tuple[int, bytes]:
    # A worker's first page of a large pool replays the whole log first.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def tool(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def machine() -> str:
    cpu = platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{platform.system()} {platform.release()}, {cpu}, nproc {os.cpu_count()}; "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}; load {load}"
    )


def build(instance: Path, members: int) -> str:
    """Build the demo; the member's password."""
    print(f"building a demo of {members:,} members...", file=sys.stderr)
    start = time.perf_counter()
    command = [tool("mutualog-server"), "--instance", str(instance), "demo"]
    done = subprocess.run(
        [*command, "--members", str(members), "--no-serve"],
        capture_output=True,
        text=True,
        check=True,
    )
    print(f"built the demo in {time.perf_counter() - start:.0f} s: {done.stdout.splitlines()[0]}")
    found = re.search(r"username member\s+password (\S+)", done.stdout)
    assert found, done.stdout
    return found.group(1)


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()


def wait_until_up(server: Server, path: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} exited with status {server.process.returncode}")
        try:
            if get(server.port, path)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{server.name} did not answer within 120 s")


def start_gunicorn(instance: Path, workers: int, log: Path) -> Server:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUTUALOG_")}
    env |= {"MUTUALOG_INSTANCE": str(instance), "MUTUALOG_SECURE_COOKIES": "false"}
    # --timeout: a worker's first page replays the whole log, minutes for a
    # million members; gunicorn's default 30 s would kill it midway.
    command = [tool("gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--timeout", "1800"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "server:create_app()"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(f"gunicorn -w {workers}", port, process)
    wait_until_up(server, "/login")
    return server


def start_nginx(root: Path, folder: Path) -> Server:
    port = free_port()
    conf = folder / "nginx.conf"
    conf.write_text(
        f"""daemon off;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "nginx-error.log"};
events {{ worker_connections 256; }}
http {{
  access_log off;
  types {{ text/html html; text/css css; text/javascript js; image/svg+xml svg; }}
  client_body_temp_path {folder}; proxy_temp_path {folder}; fastcgi_temp_path {folder};
  uwsgi_temp_path {folder}; scgi_temp_path {folder};
  server {{ listen 127.0.0.1:{port}; root {root}; }}
}}
"""
    )
    command = [str(NGINX), "-c", str(conf), "-e", str(folder / "nginx-error.log")]
    if os.geteuid() == 0:
        command += ["-g", "user root;"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Server("nginx", port, process)
    wait_until_up(server, "/pool.html")
    return server


def start_http_server(root: Path) -> Server:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "http.server", "-b", "127.0.0.1", "-d", str(root), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Server("python http.server", port, process)
    wait_until_up(server, "/pool.html")
    return server


def sign_in(port: int, password: str) -> str:
    """The demo member's session cookie, through the sign-in form."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/login")
        response = conn.getresponse()
        page = response.read().decode()
        cookie = response.getheader("Set-Cookie", "").split(";")[0]
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert found, "no CSRF token on /login"
        body = f"csrf_token={found.group(1)}&username=member&password={password}"
        headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        conn.request("POST", "/login", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        assert response.status == 302, f"sign-in answered {response.status}"
        return response.getheader("Set-Cookie", "").split(";")[0]
    finally:
        conn.close()


def measure(port: int, path: str, cookie: str, count: int, seconds: float) -> list[float]:
    times: list[float] = []
    deadline = time.monotonic() + seconds
    while len(times) < count and time.monotonic() < deadline:
        start = time.perf_counter()
        status, _ = get(port, path, cookie)
        times.append((time.perf_counter() - start) * 1000)
        if status != 200:
            raise SystemExit(f"GET {path}: status {status}")
    return times


def pct(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


Pages = dict[str, tuple[str, str]]
Sizes = dict[str, tuple[int, int, int, int]]
Results = dict[tuple[str, str], list[float]]


def member_pages(app: Server, password: str, log: Path) -> Pages:
    """name -> (path, cookie): /pool, the member's dashboard, and the
    statement of their latest period."""
    cookie = sign_in(app.port, password)
    status, dashboard = get(app.port, "/dashboard", cookie)
    if status != 200:
        raise SystemExit(
            f"/dashboard answered {status}:\n{log.read_text(errors='replace')[-3000:]}"
        )
    periods = re.findall(r'href="(/dashboard/periods/[0-9-]+)"', dashboard.decode())
    assert periods, "the member has no statement"
    return {
        "pool": ("/pool", ""),
        "dashboard": ("/dashboard", cookie),
        "statement": (max(periods), cookie),
    }


def save(app: Server, pages: Pages, root: Path) -> Sizes:
    """Each page's bytes as ``root/NAME.html``, with the files it links;
    name -> (HTML, inline SVG, stylesheet and icon, script) in bytes."""
    (root / "static").mkdir(parents=True)
    sizes = {}
    for name, (path, who) in pages.items():
        status, body = get(app.port, path, who)
        assert status == 200, f"{path} answered {status}"
        (root / f"{name}.html").write_bytes(body)
        html = body.decode()
        svg = sum(len(s) for s in re.findall(r"<svg.*?</svg>", html, re.DOTALL))
        css = js = 0
        for link in re.findall(r'(?:href|src)="(/static/[^"]+)"', html):
            status, data = get(app.port, link)
            (root / link.lstrip("/")).write_bytes(data)
            if link.endswith((".css", ".svg")):
                css += len(data)
            elif link.endswith(".js"):
                js += len(data)
        sizes[name] = (len(body), svg, css, js)
    return sizes


def run(app: Server, statics: list[Server], pages: Pages, count: int, seconds: float) -> Results:
    """Each page from the app, then its saved bytes from each static server."""
    results = {}
    for name, (path, who) in pages.items():
        targets = [(app, path, who)] + [(s, f"/{name}.html", "") for s in statics]
        for server, target, cookie in targets:
            measure(server.port, target, cookie, 50, 10)  # warm-up, not counted
            results[(name, server.name)] = measure(server.port, target, cookie, count, seconds)
    return results


def report(app: Server, statics: list[Server], sizes: Sizes, results: Results) -> None:
    base = statics[0].name
    print(f"load at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"sequential GETs, a new connection each; ratios to {base} for the same bytes")
    print(f"{'page':<10} {'server':<20} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'p50 ratio':>10}")
    for name in sizes:
        reference = statistics.median(results[(name, base)])
        for server in [app, *statics]:
            times = results[(name, server.name)]
            p50 = statistics.median(times)
            print(
                f"{name:<10} {server.name:<20} {len(times):>5} {p50:>8.2f} "
                f"{pct(times, 0.99):>8.2f} {p50 / reference:>9.1f}x"
            )
    print("page sizes (bytes): HTML, of which inline SVG; + stylesheet and icon; + script")
    for name, (html, svg, css, js) in sizes.items():
        total = html + css + js
        verdict = "under" if total < TARGET_KB * 1024 else "OVER"
        print(
            f"{name:<10} HTML {html:>7,}  SVG {svg:>6,}  CSS+icon {css:>6,}  JS {js:>5,}  "
            f"total {total / 1024:5.1f} KB ({verdict} {TARGET_KB} KB)"
        )
    for name in sizes:
        p50 = statistics.median(results[(name, app.name)])
        ratio = p50 / statistics.median(results[(name, base)])
        ok = ratio <= TARGET_RATIO and p50 < TARGET_MS
        print(
            f"{name}: p50 {p50:.2f} ms, {ratio:.1f}x {base}: "
            f"{'meets' if ok else 'MISSES'} (within {TARGET_RATIO:.0f}x, under {TARGET_MS:.0f} ms)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--instance", type=Path, help="a demo instance built before")
    parser.add_argument("--password", help="the demo member's password (with --instance)")
    parser.add_argument("--requests", type=int, default=1000, help="per target")
    parser.add_argument("--seconds", type=float, default=60.0, help="at most, per target")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args()
    if not 1 <= args.requests <= 20_000 or not 1 <= args.seconds <= 600:
        parser.error("--requests: 1 to 20,000; --seconds: 1 to 600")
    if (args.instance is None) != (args.password is None):
        parser.error("--instance and --password go together")

    print(f"command: python bench/{Path(__file__).name} {' '.join(sys.argv[1:])}")
    print(f"machine: {machine()}")
    work = Path(tempfile.mkdtemp(prefix="mutualog-pages-"))
    servers: list[Server] = []
    try:
        instance, password = args.instance, args.password
        if instance is None:
            instance = work / "instance"
            password = build(instance, args.members)
        app = start_gunicorn(instance, args.workers, work / "gunicorn.log")
        servers.append(app)
        pages = member_pages(app, password, work / "gunicorn.log")
        sizes = save(app, pages, work / "static")
        statics = [start_http_server(work / "static")]
        if NGINX.exists():
            statics.insert(0, start_nginx(work / "static", work))
        servers += statics
        results = run(app, statics, pages, args.requests, args.seconds)
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    report(app, statics, sizes, results)


if __name__ == "__main__":
    main()
