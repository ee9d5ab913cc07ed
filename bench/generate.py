"""Benchmark the generator of large honest pools: ``mutualog-server generate``
into a new instance.  Run by hand; not a test.

    python -m bench.generate                          # 10,000,000 members, SQLite
    python -m bench.generate --members 1000000 --postgresql
    python -m bench.generate --instance DIR           # keep the instance for other benches
    python -m bench.generate --database-url postgresql+psycopg://user@host/db   # empty database

Reports the wall and CPU time of the whole command (generating the entries,
hashing, the inserts, the index and the signed checkpoint), entries/s,
the process's peak memory and the database's size on disk.  Without
--database-url, PostgreSQL is a throwaway cluster (bench/log.py's) with its
default settings, over TCP on 127.0.0.1, removed at the end.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from bench.machine import machine
from server.cli import main
from server.db import make_engine


@contextmanager
def _database(args: argparse.Namespace, instance: Path) -> Iterator[str]:
    if args.database_url:
        yield args.database_url
    elif args.postgresql:
        from bench.log import throwaway_postgresql

        with throwaway_postgresql() as url:
            yield url
    else:
        yield f"sqlite:///{instance / 'mutualog.db'}"


def _size_on_disk(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if url.startswith("sqlite"):
                pages = conn.execute(text("PRAGMA page_count")).scalar_one()
                size = conn.execute(text("PRAGMA page_size")).scalar_one()
                return int(pages) * int(size)
            return int(
                conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
            )
    finally:
        engine.dispose()


def main_bench() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--database-url")
    parser.add_argument("--instance", type=Path, help="keep the instance in this new folder")
    args = parser.parse_args()
    keep = args.instance is not None
    instance = args.instance or Path(tempfile.mkdtemp(prefix="mutualog-generate-"))
    print("command: python -m bench.generate " + " ".join(sys.argv[1:]))
    print(machine("before"))
    try:
        with _database(args, instance) as url:
            backend = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
            wall, cpu = time.perf_counter(), time.process_time()
            argv = ["--instance", str(instance), "--database-url", url, "generate"]
            argv += ["--members", str(args.members), "--days", str(args.days)]
            code = main([*argv, "--seed", str(args.seed)])
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if code:
                raise SystemExit(code)
            size = _size_on_disk(url)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(machine("after"))
            print(
                f"{backend}: {args.members:,} members in {wall:,.1f} s wall, {cpu:,.1f} s CPU "
                f"(this process; the database server's not counted); peak RSS {peak:,.0f} MiB; "
                f"database {size / 2**30:,.2f} GiB"
            )
    finally:
        if not keep:
            shutil.rmtree(instance, ignore_errors=True)
        else:
            print(f"instance kept in {instance}")


if __name__ == "__main__":
    main_bench()
