"""The demo's own witness, run as a real service while the demo serves.

:func:`start_demo_witness` gives the demo what a production log has: an
independent ``mutualog witness serve`` process holding the demo witness's
key (the key the demo's rulebook names for the draw,
:data:`server.demo.DEMO_WITNESS`), registered with the log at the URL it
listens on, and the log's submitter (``mutualog-server witness run``)
sending it every new checkpoint.  So the checkpoints members fetch carry its
cosignature, and the panels the operator draws are seeded by checkpoints it
cosigned.  Both are separate processes started from their commands (the
server never imports the client), stopped by :meth:`DemoWitness.stop`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from server.witnessing.store import add_witness, list_witnesses, remove_witness, set_required
from verifiable.errors import MutualogError
from verifiable.log.cosignature import CosignatureSigner

__all__ = ["DemoWitness", "DemoWitnessError", "start_demo_witness"]

#: Seconds to wait for the witness to listen.
_START_TIMEOUT = 30.0


class DemoWitnessError(MutualogError):
    """The demo's witness could not be started (its command missing or failing)."""


@dataclass
class DemoWitness:
    """The running witness and submitter processes."""

    url: str
    processes: list[subprocess.Popen[bytes]]

    def stop(self) -> None:
        """Stop both processes (each by its own id) and wait for them."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _command(name: str) -> str:
    # The commands installed beside this interpreter, else on PATH.
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise DemoWitnessError(f"the {name} command is not installed")
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DemoWitnessError(f"the demo witness exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise DemoWitnessError(f"the demo witness did not listen on port {port}")


def _register(engine: Engine, name: str, url: str, vkey: str) -> None:
    """The witness at ``url``, required by ``/checkpoint`` (re-registered if
    the demo registered it elsewhere)."""
    now = datetime.now(UTC)
    known = {w.name: w for w in list_witnesses(engine)}
    if name in known and known[name].url != url:
        set_required(engine, 0, now)
        remove_witness(engine, name)
    if name not in known or known[name].url != url:
        add_witness(engine, name, url, vkey, now)
    set_required(engine, 1, now)


def start_demo_witness(
    instance: Path, engine: Engine, database_url: str, witness: CosignatureSigner, log_vkey: str
) -> DemoWitness:
    """Start the demo witness and the log's submitter for the log of
    ``instance`` (signed by ``log_vkey``, in ``database_url``)."""
    key_file = instance / "demo-witness.key"
    key_file.touch(mode=0o600, exist_ok=True)
    key_file.write_text(witness.to_private_key() + "\n", encoding="ascii")
    state = instance / "demo-witness"
    origin = log_vkey.split("+", 1)[0]
    client, server = _command("mutualog"), _command("mutualog-server")
    env = {**os.environ, "MUTUALOG_DATABASE_URL": database_url}
    pinned = subprocess.run(
        [client, "--state", str(state), "trust", origin, log_vkey, "--pool"],
        capture_output=True,
        env=env,
        check=False,
    )
    if pinned.returncode != 0:
        raise DemoWitnessError(
            f"mutualog trust: {pinned.stderr.decode('utf-8', 'replace').strip()}"
        )
    port = _free_port()
    serve = [client, "--state", str(state), "witness", "serve", "--key", str(key_file)]
    serve += ["--port", str(port), "--workers", "1"]
    processes = [subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL)]
    try:
        _wait_listening(port, processes[0])
        url = f"http://127.0.0.1:{port}"
        _register(engine, witness.name, url, witness.verifier().to_vkey())
        run = [server, "--instance", str(instance), "witness", "run", "--interval", "1"]
        processes.append(subprocess.Popen(run, env=env, stdout=subprocess.DEVNULL))
    except BaseException:
        DemoWitness("", processes).stop()
        raise
    return DemoWitness(url, processes)
