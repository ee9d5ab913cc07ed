"""Does a log with three witnesses append as fast as one without?  Run by
hand; not a test.

    python -m bench.witness_append                    # 3 rounds of 20 s each way
    python -m bench.witness_append --seconds 10 --rounds 2 --batch 10

Makes a log instance on SQLite in a temporary folder
(``mutualog-server init``), three witnesses with their own keys and state
folders, each pinning the log and served by the production command
(``mutualog witness serve``, gunicorn) on a free loopback port, and adds
them to the log (``mutualog-server witness add``, policy 2 of 3).

Then, in rounds, the same append loop runs for ``--seconds``: the
sequencer's ``append`` of ``--batch`` ``member.joined`` entries at a time,
each append one locked transaction that builds, stores and signs a new
checkpoint, as a form posted to the server does.  The rounds alternate:
without the submitter, then with ``mutualog-server witness run --interval
0.2`` running beside it, which reads each new checkpoint, asks the three
witnesses to cosign it (with its consistency proof) and stores their
cosignatures in the same database.  Alternating keeps a drift of the
machine's load from favouring one side.

Printed: appends/s in each round, the median of each side, their ratio, and
how far the witnesses kept up (the size ``/checkpoint`` would serve at the
end of each witnessed round against the log's size).  The target: with the
witnesses, within 10% of the rate without them.  Every process is stopped
by its pid.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.machine import load, machine
from client.witness import create_witness_key
from server.config import load_settings
from server.db import make_engine
from server.keys import load_log_signer
from server.sequencer import Sequencer
from server.storage import LogStore
from server.witnessing.store import served_checkpoint
from verifiable.log.bodies import AgeBand, Body, MemberJoined

ORIGIN = "bench.example/witnessed-log"
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with {process.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"{what} did not listen within 60 s")


def _run(argv: list[str], env: dict[str, str]) -> None:
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)


class Bench:
    """The log instance, its witnesses and the processes started for them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.instance = root / "instance"
        self.url = f"sqlite:///{root / 'log.db'}"
        self.env = {
            **os.environ,
            "MUTUALOG_INSTANCE": str(self.instance),
            "MUTUALOG_DATABASE_URL": self.url,
        }
        self.processes: list[subprocess.Popen[bytes]] = []
        self.joined = 0

    def server(self, *args: str) -> None:
        _run([str(BIN / "mutualog-server"), "--instance", str(self.instance), *args], self.env)

    def start(self, argv: list[str], name: str) -> subprocess.Popen[bytes]:
        with open(self.root / f"{name}.out", "ab") as out:
            process = subprocess.Popen(
                argv, env=self.env, stdout=out, stderr=out, start_new_session=True
            )
        self.processes.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.remove(process)

    def stop_all(self) -> None:
        for process in list(self.processes):
            self.stop(process)

    def witnesses(self, count: int, log_vkey: str) -> None:
        """``count`` witnesses served on loopback and added to the log."""
        for i in range(count):
            name = f"w{i}.bench.example"
            state = self.root / f"witness-{i}"
            key = self.root / f"witness-{i}.key"
            vkey = create_witness_key(key, name, os.urandom(32))
            mutualog = str(BIN / "mutualog")
            _run([mutualog, "--state", str(state), "trust", ORIGIN, log_vkey], self.env)
            port = _free_port()
            serve = [mutualog, "--state", str(state), "witness", "serve", "--key", str(key)]
            process = self.start([*serve, "--port", str(port), "--workers", "1"], f"w{i}")
            _wait_listening(port, process, f"witness {name}")
            self.server("witness", "add", name, f"http://127.0.0.1:{port}", vkey)
        self.server("witness", "policy", "2")

    def bodies(self, count: int) -> list[tuple[str, Body]]:
        first, self.joined = self.joined, self.joined + count
        return [
            ("member.joined", MemberJoined(f"{n:032x}", AgeBand.FROM_18_TO_39))
            for n in range(first, first + count)
        ]


def append_for(sequencer: Sequencer, bench: Bench, seconds: float, batch: int) -> float:
    """Append batches for ``seconds``; appends per second."""
    done = 0
    start = time.perf_counter()
    until = start + seconds
    while time.perf_counter() < until:
        sequencer.append(bench.bodies(batch))
        done += 1
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="each round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds each way")
    parser.add_argument("--batch", type=int, default=1, help="entries an append")
    parser.add_argument("--witnesses", type=int, default=3)
    args = parser.parse_args()
    if args.seconds <= 0 or args.rounds < 1 or args.batch < 1 or args.witnesses < 1:
        parser.error("--seconds, --rounds, --batch and --witnesses must be positive")
    with tempfile.TemporaryDirectory(prefix="mutualog-bench-") as folder:
        bench = Bench(Path(folder))
        try:
            _measure(bench, args)
        finally:
            bench.stop_all()


def _measure(bench: Bench, args: argparse.Namespace) -> None:
    bench.server("init", "--origin", ORIGIN)
    settings = load_settings({"MUTUALOG_INSTANCE": bench.instance}, bench.env)
    signer = load_log_signer(settings)
    bench.witnesses(args.witnesses, signer.verifier().to_vkey())
    engine = make_engine(bench.url)
    sequencer = Sequencer(engine, signer, ORIGIN, lambda: datetime.now(UTC))
    store = LogStore(engine)
    sequencer.append(bench.bodies(args.batch))  # a first checkpoint, outside the clock
    submitter = [str(BIN / "mutualog-server"), "witness", "run", "--interval", "0.2"]
    alone: list[float] = []
    witnessed: list[float] = []
    print(f"command: python -m bench.witness_append {' '.join(sys.argv[1:])}")
    print(machine("at the start"))
    for r in range(args.rounds):
        rate = append_for(sequencer, bench, args.seconds, args.batch)
        alone.append(rate)
        print(f"round {r + 1} without witnesses: {rate:8.1f} appends/s", flush=True)
        process = bench.start(submitter, "submitter")
        time.sleep(1.0)  # its first round
        rate = append_for(sequencer, bench, args.seconds, args.batch)
        time.sleep(1.0)  # the last checkpoints' answers
        bench.stop(process)
        witnessed.append(rate)
        served = served_checkpoint(engine)
        kept = f"size {served.size} of {store.size()}" if served else "nothing cosigned"
        print(
            f"round {r + 1} with {args.witnesses} witnesses: {rate:8.1f} appends/s "
            f"(cosigned by 2 of them at the end: {kept})",
            flush=True,
        )
    a, w = statistics.median(alone), statistics.median(witnessed)
    print(
        f"median: {a:.1f} appends/s without, {w:.1f} with {args.witnesses} witnesses: "
        f"ratio {w / a:.3f} (target >= 0.90); {args.batch} entries an append; "
        f"load {load()} (at the end)"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
