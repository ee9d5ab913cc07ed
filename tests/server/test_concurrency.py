"""Eight writer processes appending at once, on SQLite and on PostgreSQL:
the database lock must make them take turns so that nothing is lost,
duplicated, skipped or forked."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from server.db import make_engine
from server.keys import create_key_file

WORKER = Path(__file__).with_name("append_worker.py")
ORIGIN = "example.org/mutualog/test"
SEED = bytes(range(32))
WORKERS = 8
PER_WORKER = 2000


@pytest.mark.slow
def test_eight_writers(
    database_url: str, tmp_path: Path, check_log: Callable[[Engine], list[bytes]]
) -> None:
    key = tmp_path / "log.key"
    create_key_file(key, ORIGIN, SEED)
    # All start on an unmigrated database: the migration must be safe too.
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(WORKER),
                database_url,
                str(key),
                ORIGIN,
                f"--worker={w}",
                f"--entries={PER_WORKER}",
                "--max-batch=100",
                f"--seed={w}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(WORKERS)
    ]
    outputs = [proc.communicate(timeout=600) for proc in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err

    engine = make_engine(database_url)
    try:
        entries = check_log(engine)
    finally:
        engine.dispose()
    assert len(entries) == WORKERS * PER_WORKER

    members = [json.loads(e)["body"]["member"] for e in entries]
    assert len(set(members)) == len(members), "an entry was appended twice"
    for w in range(WORKERS):
        mine = [int(m[16:], 16) for m in members if int(m[:8], 16) == w]
        # Each worker's entries are all there, in the order it appended them.
        assert mine == list(range(PER_WORKER)), f"worker {w}"

    # Every ack names the place its batch really has in the log.
    batches = 0
    for w, (out, _) in enumerate(outputs):
        lines = out.split("\n")
        assert lines[0] == "ready"
        for line in filter(None, lines[1:]):
            _, run, first, count, first_seq, size = line.split()
            ids = members[int(first_seq) : int(first_seq) + int(count)]
            assert ids == [f"{w:08x}{int(run):08x}{int(first) + i:016x}" for i in range(int(count))]
            assert int(size) >= int(first_seq) + int(count)
            batches += 1
    assert batches >= WORKERS
