"""Server start and memory against the pool's size (issue 14's table).

Serves an instance built by ``mutualog-server demo --members N --no-serve``
with ``mutualog-server serve`` (one process, as in the issue), and reports

* the start: seconds from launching ``serve`` to the first ``/pool``
  answered 200, and the CPU seconds the server had used by then (the
  figure to compare on a loaded machine);
* the memory: each process's RSS after a few pages (``/pool``,
  ``/pool/claims``, ``/pool/rules``, ``/log``) and one deduction bundle,
  each fetched twice.

``--pythonpath`` serves another tree of the code (an older commit
unpacked with ``git archive``), to measure before and after on one
database::

    python -m bench.state_start --instance /tmp/demo50k
    python -m bench.state_start --instance /tmp/demo50k --pythonpath /tmp/before
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

PAGES = ("/pool", "/pool/claims", "/pool/rules", "/log")


def _sample(db: Path) -> tuple[str, str]:
    """A founding member and the last closed period, read from the log."""
    with sqlite3.connect(db) as conn:
        member = period = None
        for (data,) in conn.execute("SELECT data FROM entries ORDER BY seq LIMIT 5000"):
            entry = json.loads(data)
            if entry["type"] == "member.joined":
                member = entry["body"]["member"]
                break
        rows = conn.execute("SELECT data FROM entries ORDER BY seq DESC LIMIT 200000")
        for (data,) in rows:
            entry = json.loads(data)
            if entry["type"] == "period.closed":
                period = entry["body"]["period"]
                break
    if member is None or period is None:
        raise SystemExit("the log has no member.joined or no period.closed")
    return member, period


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=300) as response:
            response.read()
            return int(response.status)
    except OSError:
        return 0


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _cpu_s(pid: int) -> float:
    """User plus system CPU seconds of a process so far (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _family(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [pid] + [int(p) for p in out.stdout.split()]


def measure(instance: Path, port: int, pythonpath: str | None) -> dict[str, object]:
    env = dict(os.environ, PYTHONPATH=pythonpath or "")
    argv = ["--instance", str(instance), "serve", "--port", str(port)]
    code = f"from server.cli import main; main({argv!r})"
    base = f"http://127.0.0.1:{port}"
    member, period = _sample(instance / "mutualog.db")
    started = time.monotonic()
    # The code served is the tree on the path: not the working directory's.
    cwd = pythonpath or str(Path(__file__).resolve().parent.parent)
    server = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=cwd)
    try:
        while _get(base + "/pool") != 200:
            if server.poll() is not None:
                raise SystemExit("serve exited")
            time.sleep(0.05)
        start = time.monotonic() - started
        start_cpu = _cpu_s(server.pid)
        bundle = f"/api/v1/bundles/deduction?member={member}&period={period}"
        statuses = {path: _get(base + path) for path in (*PAGES, bundle) for _ in range(2)}
        rss = {pid: _rss_kib(pid) for pid in _family(server.pid)}
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "start_s": round(start, 2),
        "start_cpu_s": round(start_cpu, 2),
        "rss_mib": {str(pid): round(kib / 1024, 1) for pid, kib in rss.items()},
        "statuses": statuses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instance", type=Path, required=True)
    parser.add_argument("--port", type=int, default=8731)
    parser.add_argument("--pythonpath", default=None)
    args = parser.parse_args()
    print(json.dumps(measure(args.instance, args.port, args.pythonpath), indent=1))


if __name__ == "__main__":
    main()
