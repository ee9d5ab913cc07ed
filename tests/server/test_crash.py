"""kill -9 a writer at random moments, over and over, on SQLite and on
PostgreSQL: after every kill the log must verify, keep every acknowledged
append, and let the next writer continue it."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from queue import Empty, Queue
from typing import IO, Protocol

import pytest
from sqlalchemy import Engine, inspect

from server.db import make_engine
from server.keys import create_key_file
from server.storage import LogStore

WORKER = Path(__file__).with_name("append_worker.py")
ORIGIN = "example.org/mutualog/test"
SEED = bytes(range(32))
KILLS = 50
MAX_BATCH = 40


def _reader(stream: IO[str], lines: Queue[str]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))


def _run_and_kill(
    url: str, key: Path, run: int, rng: random.Random, stderr: Path, extra: Sequence[str] = ()
) -> list[tuple[int, int, int, int]]:
    """Start a writer (with ``extra`` arguments), SIGKILL it at a random
    moment, return its acks as (first n, count, first seq, size)."""
    argv = [
        sys.executable,
        str(WORKER),
        url,
        str(key),
        ORIGIN,
        "--worker=1",
        f"--run={run}",
        f"--max-batch={MAX_BATCH}",
        f"--seed={run}",
        *extra,
    ]
    lines: Queue[str] = Queue()
    with (
        stderr.open("w") as err,
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, text=True) as proc,
    ):
        assert proc.stdout is not None
        # A thread drains stdout so the writer never blocks on a full pipe.
        thread = threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True)
        thread.start()
        # Mostly kill mid-append; now and then while it is still starting up.
        if rng.random() < 0.9:
            try:
                ready = lines.get(timeout=120)
            except Empty:
                ready = ""
            assert ready == "ready", stderr.read_text()
            time.sleep(rng.uniform(0, 0.3))
        else:
            time.sleep(rng.uniform(0, 0.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        thread.join(timeout=60)
    # Died of the kill, not of an error of its own.
    assert proc.returncode == -signal.SIGKILL, stderr.read_text()
    acks = []
    while not lines.empty():
        line = lines.get_nowait()
        if line.startswith("ack "):
            _, _run, first_n, count, first_seq, size = line.split()
            acks.append((int(first_n), int(count), int(first_seq), int(size)))
    return acks


class _Checker(Protocol):
    def check(self) -> list[bytes]: ...


def _log_after_kill(engine: Engine, checker: _Checker) -> list[bytes]:
    """The verified log, or no entries if the writers never got as far as the
    schema or a first append."""
    if not inspect(engine).has_table("checkpoints"):
        return []
    if LogStore(engine).latest_checkpoint() is None and not LogStore(engine).entries(0, 1):
        return []
    return checker.check()


@pytest.mark.slow
def test_kill_9_at_random_moments(
    database_url: str,
    tmp_path: Path,
    log_checker: Callable[[Engine], _Checker],
    check_log: Callable[[Engine], list[bytes]],
) -> None:
    key = tmp_path / "log.key"
    create_key_file(key, ORIGIN, SEED)
    rng = random.Random(20260101)
    engine = make_engine(database_url)
    checker = log_checker(engine)
    acked_total = 0
    try:
        for run in range(KILLS):
            acks = _run_and_kill(database_url, key, run, rng, tmp_path / "stderr.txt")
            entries = _log_after_kill(engine, checker)
            members = [json.loads(e)["body"]["member"] for e in entries]
            # Every acknowledged append is in the log, where its ack said.
            for first_n, count, first_seq, size in acks:
                assert size <= len(entries)
                assert members[first_seq : first_seq + count] == [
                    member_id(run, first_n + k) for k in range(count)
                ]
            acked = acks[-1][0] + acks[-1][1] if acks else 0
            acked_total += acked
            # This run's entries are its first n, in order, at the end of the
            # log.  n may exceed what was acked: the kill can land after a
            # commit but before the ack line is written, and the sequencer
            # cannot know that the client died, so that batch stays.  The
            # worker acks each batch before it starts the next, so at most one
            # such batch (at most MAX_BATCH entries) per kill.
            mine = [i for i, m in enumerate(members) if m[8:16] == f"{run:08x}"]
            assert [members[i] for i in mine] == [member_id(run, n) for n in range(len(mine))]
            assert mine == list(range(len(entries) - len(mine), len(entries)))
            assert 0 <= len(mine) - acked <= MAX_BATCH
        # Once more from scratch, in case the incremental checks missed a change.
        final = check_log(engine)
    finally:
        engine.dispose()
    assert len(final) >= acked_total
    # The loop only tests something if the writers got to write.
    assert acked_total > 0


def member_id(run: int, n: int) -> str:
    return f"{1:08x}{run:08x}{n:016x}"
