"""What the client's tests work with: real log server instances, the
servers that serve them, and runs of the client.

:class:`LogInstance` is one ``mutualog-server`` instance folder (``init``,
``append``, ``restore``, ``snapshot``, ``export-tiles``; run through the
server's ``main`` in this process, which is the same code as the console
script).  :class:`Servers` starts ``mutualog-server serve`` and
``python -m http.server`` as subprocesses on free ports of 127.0.0.1, waits
until they answer, and stops each by its pid.  :class:`Result` is one run of
the client.  The fixtures that hand these out (``make_log``, ``servers``,
``served_log``, ``mutualog``) are in ``tests/client/conftest.py``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

__all__ = [
    "ORIGIN",
    "SERVED_SIZE",
    "LogInstance",
    "MakeLog",
    "Mutualog",
    "Result",
    "Served",
    "Servers",
    "free_port",
    "member_lines",
    "server_main",
]

ORIGIN = "example.org/mutualog/test"
SERVED_SIZE = 600


def member_lines(tag: str, count: int) -> bytes:
    """``count`` member.joined lines for ``mutualog-server append``; ``tag``
    makes the member ids (and so the entries) differ between logs."""
    out = []
    for i in range(count):
        member = hashlib.sha256(f"{tag}-{i}".encode()).hexdigest()[:32]
        body = {"member": member, "age_band": "18-39"}
        out.append(json.dumps({"type": "member.joined", "body": body}))
    return ("\n".join(out) + "\n").encode()


def server_main(argv: list[str]) -> int:
    # Imported on first use: the offline tests need no server code at all.
    from server.cli import main

    return main(argv)


@dataclass
class LogInstance:
    """One ``mutualog-server`` instance folder."""

    folder: Path
    vkey: str
    origin: str = ORIGIN
    _batches: int = 0

    def server(self, *args: str) -> str:
        """Run ``mutualog-server --instance FOLDER ARGS``; its stdout."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = server_main(["--instance", str(self.folder), *args])
        assert code == 0, f"mutualog-server {' '.join(args)}: exit {code}: {err.getvalue()}"
        return out.getvalue()

    def begin_pool(self) -> None:
        """Append the pool's genesis rulebook (the default rules), in force
        from its own time, now: what every pool's log begins with, and what
        an audit requires of a log holding pool entries (``rules.genesis``)."""
        # Imported on first use, as server_main is.
        from server.config import load_settings
        from server.db import make_engine
        from server.keys import load_log_signer
        from server.sequencer import Sequencer
        from verifiable.log.bodies import PoolRules

        now = datetime.now(UTC).replace(microsecond=0)
        settings = load_settings({"MUTUALOG_INSTANCE": self.folder})
        engine = make_engine(settings.database_url)
        try:
            signer = load_log_signer(settings)
            rules = PoolRules(effective=now, rules={}, reason="The default rulebook.")
            Sequencer(engine, signer, signer.name, lambda: now).append([("pool.rules", rules)])
        finally:
            engine.dispose()

    def append(self, count: int, tag: str | None = None) -> None:
        self._batches += 1
        path = self.folder / f"batch-{self._batches}.jsonl"
        path.write_bytes(member_lines(tag or f"{self.folder.name}-{self._batches}", count))
        self.server("append", str(path))

    def snapshot(self, path: Path) -> Path:
        self.server("snapshot", str(path))
        return path

    def export(self, folder: Path) -> Path:
        self.server("export-tiles", str(folder))
        return folder


MakeLog = Callable[..., LogInstance]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class Servers:
    folder: Path
    running: list[Served] = field(default_factory=list)

    def _start(self, argv: list[str], port: int, name: str) -> Served:
        log = self.folder / f"{name}-{port}-{len(self.running)}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("MUTUALOG_")}
        with open(log, "wb") as out:
            process = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
        served = Served(f"http://127.0.0.1:{port}/", port, process, log)
        self.running.append(served)
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise AssertionError(f"{name} exited: {log.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(served.url + "checkpoint", timeout=2):
                    return served
            except urllib.error.HTTPError:
                return served  # it answers; what it answers is the test's business
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"{name} did not answer: {log.read_text()}") from None
                time.sleep(0.05)

    @staticmethod
    def free_port() -> int:
        """A port nothing listens on (now)."""
        return free_port()

    def serve(self, log: LogInstance, port: int | None = None) -> Served:
        """``mutualog-server --instance ... serve`` on 127.0.0.1."""
        port = port or free_port()
        code = "import sys; from server.cli import main; sys.exit(main(sys.argv[1:]))"
        argv = [sys.executable, "-c", code, "--instance", str(log.folder), "serve"]
        argv += ["--host", "127.0.0.1", "--port", str(port)]
        return self._start(argv, port, "serve")

    def static(self, folder: Path, port: int | None = None) -> Served:
        """``python -m http.server`` serving ``folder`` on 127.0.0.1."""
        port = port or free_port()
        argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
        argv += ["--directory", str(folder)]
        return self._start(argv, port, "static")

    def stop(self, served: Served) -> None:
        if served.process.poll() is None:
            os.kill(served.process.pid, signal.SIGTERM)
            try:
                served.process.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(served.process.pid, signal.SIGKILL)
                served.process.wait(10)
        if served in self.running:
            self.running.remove(served)


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


Mutualog = Callable[..., Result]
