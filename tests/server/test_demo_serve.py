"""The demo serves as production does: gunicorn with several worker
processes, the accounts printed first, the commands on its pages naming
the demo's own URL whatever Host a request gives, and it stops cleanly —
workers included — on Ctrl-C (SIGINT) and on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

MEMBERS = 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _forked_children(pid: int) -> set[int]:
    """The live processes whose parent is ``pid`` and that run its command
    line: its forks (gunicorn's workers), not the programs it starts."""
    parent = Path(f"/proc/{pid}/cmdline").read_bytes()
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[1]) == pid and cmdline == parent:
            found.add(int(entry.name))
    return found


def _get(url: str, host: str | None = None) -> bytes:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        body: bytes = response.read()
    return body


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_the_demo_serves_with_gunicorn_workers_and_stops_cleanly(
    tmp_path: Path, stop: signal.Signals
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = Path(sys.executable).parent / "mutualog-server"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUTUALOG_")}
    argv = [str(command), "--instance", str(tmp_path / "demo"), "demo"]
    process = subprocess.Popen(
        [*argv, "--members", str(MEMBERS), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        checkpoint = b""
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and process.poll() is None:
            try:
                checkpoint = _get(f"{url}/checkpoint")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        assert checkpoint.startswith(b"localhost/mutualog/demo\n"), process.poll()
        # gunicorn forks its workers one after another: the first may answer
        # before the second is up.
        workers = _forked_children(process.pid)
        until = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < until:
            time.sleep(0.2)
            workers = _forked_children(process.pid)
        assert len(workers) >= 2, workers
        page = _get(f"{url}/verify", host="evil.example").decode()
        assert "evil.example" not in page
        assert f"mutualog sync {url}</code>" in page
        process.send_signal(stop)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers), err
    # The accounts come first, as the README shows them.
    roles = re.findall(r"^  (operator|member) +username (\S+) +password (\S+)", out, re.M)
    assert [r[0] for r in roles] == ["operator", "member", "member"], out
    assert "WARNING: This is a development server" not in err
