"""A writer process for the concurrency and crash tests (run as a script).

    python append_worker.py URL KEY_FILE ORIGIN --worker W [--run R]
        [--entries N] [--max-batch B] [--seed S] [--tile-dir DIR]

Migrates the database (concurrent starts must be safe), then appends
member.joined entries in random batch sizes 1..B until N are appended
(forever if N is 0), publishing the log's files into DIR after each
append if given.  The member id of the worker's n-th entry in run R is
``W`` (8 hex digits), ``R`` (8) and ``n`` (16), so every entry of every
worker and every run is unique and can be traced back to its ack.

Prints ``ready`` once migrated, then after each *committed* append one line

    ack <run> <first n> <count> <first seq> <size>

flushed before the next append starts: a line printed is an append the log
must keep, whatever happens to this process afterwards.
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import UTC, datetime
from pathlib import Path

from server.db import make_engine, upgrade
from server.keys import load_signer
from server.sequencer import Sequencer
from server.tilefiles import TileFiles
from verifiable.log.bodies import AgeBand, MemberJoined


def member_id(worker: int, run: int, n: int) -> str:
    return f"{worker:08x}{run:08x}{n:016x}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("key", type=Path)
    parser.add_argument("origin")
    parser.add_argument("--worker", type=int, required=True)
    parser.add_argument("--run", type=int, default=0)
    parser.add_argument("--entries", type=int, default=0)
    parser.add_argument("--max-batch", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tile-dir", type=Path)
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    engine = make_engine(args.url)
    upgrade(engine)
    files = None if args.tile_dir is None else TileFiles(args.tile_dir)
    sequencer = Sequencer(
        engine, load_signer(args.key), args.origin, lambda: datetime.now(UTC), files=files
    )
    print("ready", flush=True)
    n = 0
    while args.entries == 0 or n < args.entries:
        count = rng.randint(1, args.max_batch)
        if args.entries:
            count = min(count, args.entries - n)
        items = [
            (
                "member.joined",
                MemberJoined(
                    member=member_id(args.worker, args.run, n + i),
                    age_band=AgeBand.FROM_18_TO_39,
                ),
            )
            for i in range(count)
        ]
        result = sequencer.append(items)
        sys.stdout.write(f"ack {args.run} {n} {count} {result.first_seq} {result.size}\n")
        sys.stdout.flush()
        n += count
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
