"""Benchmark inclusion proofs served from the stored log, one query per
proof against batched queries, on SQLite and PostgreSQL.  Run by hand; not a
test.

    python -m bench.proofs                       # 1,000,000 entries, both backends
    python -m bench.proofs --entries 200000 --no-postgresql
    python -m bench.proofs --threads 1 4 16

The log is a generated pool's founders (verifiable.testonly.bulk), stored by
server.bulkload.  For each backend and each thread count T, T threads share
one LogStore and ask for ``--proofs`` inclusion proofs in all, of uniformly
random indexes at the log's size, as a threaded server's requests would:

- before: ``LogStore(engine, batched=False)``, one query per proof (the
  code before batching);
- after: ``LogStore(engine, batched=True)``, proofs asked for at the same time
  share a query (server.hashbatch); the default on PostgreSQL.

The two run alternately, ``--rounds`` times each, in the same process; the
best round of each is reported, with the ratio after/before.  Every proof of
a sample is checked against the other path and RFC 9162 verification.
PostgreSQL without --postgresql-url is bench/log.py's throwaway cluster,
over TCP on 127.0.0.1.  Target: 10,000 proofs/s on PostgreSQL.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine

from bench.machine import load, machine
from server.bulkload import load_generated
from server.db import make_engine, upgrade
from server.storage import LogStore
from verifiable.log.merkle import verify_inclusion
from verifiable.log.note import Ed25519Signer
from verifiable.testonly.books import SimConfig
from verifiable.testonly.bulk import BulkSimulation

TARGET = 10_000
ORIGIN = "localhost/mutualog/bench-proofs"


def build(engine: Engine, entries: int) -> tuple[int, list[bytes]]:
    """A log of about ``entries`` entries; its size and leaf hashes."""
    upgrade(engine)
    config = SimConfig(initial_members=entries - 32, initial_jurors=30, days=1)
    signer = Ed25519Signer(ORIGIN, bytes(32))
    loaded = load_generated(engine, BulkSimulation(random.Random(1), config).run(), signer, ORIGIN)
    store = LogStore(engine, batched=False)
    return loaded.size, store.level_hashes(0, 0, loaded.size)


def run(store: LogStore, size: int, threads: int, proofs: int, seed: int) -> float:
    """Proofs/s of ``threads`` threads asking ``proofs`` proofs in all."""
    each = proofs // threads
    plans = [[random.Random(seed + t).randrange(size) for _ in range(each)] for t in range(threads)]
    start = threading.Barrier(threads + 1)

    def work(plan: list[int]) -> None:
        start.wait()
        for index in plan:
            store.inclusion_proof(index, size)

    workers = [threading.Thread(target=work, args=(plan,)) for plan in plans]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    return each * threads / (time.perf_counter() - began)


def check(before: LogStore, after: LogStore, size: int, leaves: list[bytes]) -> None:
    root = before.root_hash(size)
    rng = random.Random(7)
    for _ in range(300):
        n = rng.randrange(1, size + 1)
        index = rng.randrange(n)
        proof = after.inclusion_proof(index, n)
        assert proof == before.inclusion_proof(index, n), (index, n)
        verify_inclusion(leaves[index], index, n, proof, before.root_hash(n))
    assert after.root_hash(size) == root


def measure(name: str, engine: Engine, args: argparse.Namespace) -> list[str]:
    began = time.perf_counter()
    size, leaves = build(engine, args.entries)
    print(f"== {name}: {size:,} entries stored in {time.perf_counter() - began:,.1f} s")
    before, after = LogStore(engine, batched=False), LogStore(engine, batched=True)
    check(before, after, size, leaves)
    lines = []
    for threads in args.threads:
        best = {"before": 0.0, "after": 0.0}
        for round_ in range(args.rounds):
            for label, store in (("before", before), ("after", after)):
                rate = run(store, size, threads, args.proofs, seed=round_ * 1000)
                best[label] = max(best[label], rate)
                print(
                    f"   {threads:>3} threads, {label:<6} {rate:>10,.0f} proofs/s  (load {load()})"
                )
        ratio = best["after"] / best["before"]
        line = (
            f"{name:<10} {threads:>3} threads: before {best['before']:>8,.0f}/s, "
            f"after {best['after']:>8,.0f}/s, ratio {ratio:.2f}"
        )
        if name == "PostgreSQL":
            line += f"; target {TARGET:,}/s: {'met' if best['after'] >= TARGET else 'NOT met'}"
        lines.append(line)
    return lines


@contextmanager
def postgresql(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    from bench.log import throwaway_postgresql

    with throwaway_postgresql() as made:
        yield made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--proofs", type=int, default=20_000)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-postgresql", action="store_true")
    parser.add_argument("--postgresql-url", help="an empty database")
    args = parser.parse_args()
    print(machine("start"))
    summary: list[str] = []
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="mutualog-proofs-") as folder:
            engine = make_engine(f"sqlite:///{Path(folder) / 'log.db'}")
            summary += measure("SQLite", engine, args)
            engine.dispose()
    if not args.no_postgresql:
        with postgresql(args.postgresql_url) as url:
            engine = make_engine(url)
            summary += measure("PostgreSQL", engine, args)
            engine.dispose()
    print(machine("end"))
    print("\n".join(summary))


if __name__ == "__main__":
    main()
