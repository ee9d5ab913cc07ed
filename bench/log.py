"""Benchmark the log's storage and sequencer, side by side with pymerkle's
SqliteTree.  Run by hand; not a test.

    python bench/log.py                      # 1,000,000 entries, SQLite and PostgreSQL
    python bench/log.py --entries 200000
    python bench/log.py --quick              # 100,000 entries, fewer proofs
    python bench/log.py --no-postgresql      # SQLite only
    python bench/log.py --postgresql-url postgresql+psycopg://user@host/db   # an empty database

PostgreSQL: without --postgresql-url a throwaway cluster is started with the
Debian binaries (/usr/lib/postgresql/*/bin; as the postgres user when run as
root) in a temporary folder, with its default durability settings, and
removed at the end.

For each backend:

(a) Sequencer.append of member.joined bodies in batches (default 1,000)
    until the log holds N entries: entries/s end to end, each batch one
    locked transaction that builds, stores and signs.  Also the share of
    that time spent building entries (verifiable.log.entry.make_entry and the
    canonical encoding, pure CPU, measured on its own), and the rate of the
    rest (lock, head, tree, inserts, signing, commit).  Target: >= 20,000
    entries/s on SQLite.
(b) LogStore.load of the same N entries (bulk restore: hashing and inserts
    only, one transaction).
(c) inclusion proofs at size N from LogStore.inclusion_proof, random
    indexes, each proof one query: proofs/s.  Target: >= 10,000 proofs/s.

pymerkle's SqliteTree as the peer: append_entries of the same entry bytes in
the same batches, then prove_inclusion at its size.  Its proofs recompute
subtrees from leaves (it caches subroots as it goes), about 28 proofs/s at
200,000 entries, so it is measured at a smaller size (--pymerkle-entries,
default 100,000) and the size is printed beside every figure.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import platform
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pymerkle import SqliteTree
from sqlalchemy import Engine, create_engine, text

from server.db import make_engine, upgrade
from server.sequencer import Sequencer
from server.storage import LogStore
from verifiable.log.bodies import AgeBand, MemberJoined
from verifiable.log.checkpoint import Checkpoint
from verifiable.log.entry import GENESIS_PREV, make_entry
from verifiable.log.merkle import verify_inclusion
from verifiable.log.note import Ed25519Signer, Note

ORIGIN = "example.org/mutualog/bench"
APPEND_TARGET = 20_000
PROOF_TARGET = 10_000
Items = list[tuple[str, MemberJoined]]


def rate(count: int, seconds: float, unit: str = "/s") -> str:
    return f"{count / seconds:>12,.0f}{unit}"


def bodies(start: int, count: int) -> Items:
    return [
        ("member.joined", MemberJoined(member=f"{n:032x}", age_band=AgeBand.FROM_18_TO_39))
        for n in range(start, start + count)
    ]


def verdict(value: float, target: float) -> str:
    return "met" if value >= target else "NOT met"


def machine() -> str:
    model = "unknown CPU"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        found = re.search(r"^Model name:\s*(.+)$", out, re.M)
        if found:
            model = found.group(1).strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return (
        f"python {platform.python_version()}, {os.cpu_count()} CPUs (nproc), {model}, "
        f"{platform.system()} {platform.release()}"
    )


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- a throwaway PostgreSQL cluster ------------------------------------------------


@contextmanager
def throwaway_postgresql() -> Iterator[str]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise SystemExit("PostgreSQL binaries not found; use --postgresql-url or --no-postgresql")
    bindir = Path(found[-1]).parent
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    user = "postgres" if as_root else pwd.getpwuid(os.geteuid()).pw_name
    folder = Path(tempfile.mkdtemp(prefix="mutualog-bench-pg-"))
    if as_root:
        pw = pwd.getpwnam("postgres")
        os.chown(folder, pw.pw_uid, pw.pw_gid)
    data = folder / "data"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def run(argv: list[str]) -> None:
        subprocess.run([*prefix, *argv], cwd=folder, check=True, capture_output=True)

    run([str(bindir / "initdb"), "-D", str(data), "-U", user, "--auth=trust"])
    run(
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(folder / "log"),
            "-o",
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1",
            "-w",
            "start",
        ]
    )
    pid = int((data / "postmaster.pid").read_text().split("\n", 1)[0])
    admin = create_engine(
        f"postgresql+psycopg://{user}@127.0.0.1:{port}/postgres", isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE bench"))
    admin.dispose()
    try:
        yield f"postgresql+psycopg://{user}@127.0.0.1:{port}/bench"
    finally:
        os.kill(pid, signal.SIGINT)
        for _ in range(600):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        shutil.rmtree(folder, ignore_errors=True)


# --- measurements ----------------------------------------------------------------


def build_cost(sample: int) -> float:
    """Seconds per entry spent in make_entry and to_bytes alone (pure CPU)."""
    items = bodies(10**9, sample)
    time0 = datetime(2026, 1, 1, tzinfo=UTC)
    prev = GENESIS_PREV
    start = time.perf_counter()
    for seq, (type_, body) in enumerate(items):
        data = make_entry(seq, prev, time0, type_, body).to_bytes()
        prev = hashlib.sha256(b"\x00" + data).digest()
    return (time.perf_counter() - start) / sample


def fill(engine: Engine, n: int, batch: int, signer: Ed25519Signer) -> float:
    sequencer = Sequencer(engine, signer, ORIGIN, lambda: datetime.now(UTC))
    total = 0.0
    done = 0
    step = max(n // 10, batch)
    while done < n:
        items = bodies(done, min(batch, n - done))
        start = time.perf_counter()
        sequencer.append(items)
        total += time.perf_counter() - start
        done += len(items)
        if done % step < batch:
            print(f"      {done:>11,} entries, {done / total:>9,.0f} entries/s so far", flush=True)
    return total


def prove(
    store: LogStore, n: int, proofs: int, root: bytes, entries_sample: dict[int, bytes]
) -> float:
    rng = random.Random(1)
    indexes = [rng.randrange(n) for _ in range(proofs)]
    start = time.perf_counter()
    for index in indexes:
        store.inclusion_proof(index, n)
    elapsed = time.perf_counter() - start
    # Spot-check that what was timed is right.
    for index, data in entries_sample.items():
        leaf = hashlib.sha256(b"\x00" + data).digest()
        verify_inclusion(leaf, index, n, store.inclusion_proof(index, n), root)
    return elapsed


def bench_backend(
    name: str, url: str, n: int, batch: int, proofs: int, per_entry_build: float
) -> dict[str, float]:
    signer = Ed25519Signer(ORIGIN, bytes(range(32)))
    engine = make_engine(url)
    upgrade(engine)
    print(f"\n== {name}: {n:,} entries, batches of {batch:,}  (load {load_average()})")
    t_append = fill(engine, n, batch, signer)
    store = LogStore(engine)
    note = store.latest_checkpoint()
    assert note is not None
    checkpoint = Checkpoint.from_text(Note.from_bytes(note).text)
    assert checkpoint.size == n
    build = per_entry_build * n
    print(f"(a) Sequencer.append        {rate(n, t_append)}  ({t_append:.1f} s)")
    print(
        f"    of which make_entry + encoding ~{build:.1f} s ({100 * build / t_append:.0f}%); "
        f"the rest alone {rate(n, max(t_append - build, 1e-9))}"
    )
    print(f"    target {APPEND_TARGET:,}/s: {verdict(n / t_append, APPEND_TARGET)}")

    sample_idx = random.Random(2).sample(range(n), 20)
    sample = {i: store.entry(i) or b"" for i in sample_idx}
    t_proofs = prove(store, n, proofs, checkpoint.root_hash, sample)
    print(f"(c) inclusion proofs at N   {rate(proofs, t_proofs)}  ({proofs:,} random indexes)")
    print(f"    target {PROOF_TARGET:,}/s: {verdict(proofs / t_proofs, PROOF_TARGET)}")

    # (b) last, into a second empty database, from the entries just written.
    entries_iter = (
        e for start in range(0, n, 10_000) for e in store.entries(start, start + 10_000)
    )
    target_url = url + "_load" if name == "PostgreSQL" else url.replace(".db", "-load.db")
    if name == "PostgreSQL":
        admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {target_url.rsplit('/', 1)[1]}"))
        admin.dispose()
    target = make_engine(target_url)
    upgrade(target)
    start = time.perf_counter()
    LogStore(target).load(entries_iter, note)
    t_load = time.perf_counter() - start
    print(f"(b) LogStore.load (restore) {rate(n, t_load)}  ({t_load:.1f} s, reads included)")
    target.dispose()
    engine.dispose()
    return {"append": n / t_append, "proofs": proofs / t_proofs, "load": n / t_load}


def bench_pymerkle(folder: Path, n: int, batch: int, proofs: int) -> dict[str, float]:
    print(f"\n== pymerkle SqliteTree: {n:,} entries, batches of {batch:,}  (load {load_average()})")
    # The same bytes our log stores: canonical entries of the same bodies.
    entries = []
    prev = GENESIS_PREV
    time0 = datetime(2026, 1, 1, tzinfo=UTC)
    for seq, (type_, body) in enumerate(bodies(0, n)):
        data = make_entry(seq, prev, time0, type_, body).to_bytes()
        entries.append(data)
        prev = hashlib.sha256(b"\x00" + data).digest()
    tree = SqliteTree(str(folder / "pymerkle.db"))
    start = time.perf_counter()
    for i in range(0, n, batch):
        tree.append_entries(entries[i : i + batch])
    t_append = time.perf_counter() - start
    print(f"    append_entries          {rate(n, t_append)}  (bytes given; no entry building,")
    print("                             no signing: compare with (a)'s 'rest alone')")
    rng = random.Random(1)
    indexes = [rng.randrange(1, n + 1) for _ in range(proofs)]
    start = time.perf_counter()
    for index in indexes:
        tree.prove_inclusion(index, n)
    t_proofs = time.perf_counter() - start
    print(f"    prove_inclusion at {n:,} {rate(proofs, t_proofs)}  ({proofs:,} random indexes)")
    tree.close()
    return {"append": n / t_append, "proofs": proofs / t_proofs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--proofs", type=int, default=20_000)
    parser.add_argument("--pymerkle-entries", type=int, default=100_000)
    parser.add_argument("--pymerkle-proofs", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="100,000 entries, fewer proofs")
    parser.add_argument("--no-postgresql", action="store_true")
    parser.add_argument("--postgresql-url", help="an empty PostgreSQL database to use")
    args = parser.parse_args(argv)
    if args.quick:
        args.entries = min(args.entries, 100_000)
        args.proofs = min(args.proofs, 5_000)
        args.pymerkle_entries = min(args.pymerkle_entries, 20_000)
        args.pymerkle_proofs = min(args.pymerkle_proofs, 100)

    print(f"command: python bench/log.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    print(machine())
    per_entry = build_cost(20_000)
    print(
        f"make_entry + to_bytes alone: {per_entry * 1e6:.1f} us/entry "
        f"(a ceiling of {1 / per_entry:,.0f} entries/s on one core)"
    )
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="mutualog-bench-") as tmp:
        folder = Path(tmp)
        results["SQLite"] = bench_backend(
            "SQLite",
            f"sqlite:///{folder / 'log.db'}",
            args.entries,
            args.batch,
            args.proofs,
            per_entry,
        )
        if not args.no_postgresql:
            run: Callable[[str], dict[str, float]] = lambda url: bench_backend(  # noqa: E731
                "PostgreSQL", url, args.entries, args.batch, args.proofs, per_entry
            )
            if args.postgresql_url:
                results["PostgreSQL"] = run(args.postgresql_url)
            else:
                with throwaway_postgresql() as url:
                    results["PostgreSQL"] = run(url)
        results["pymerkle"] = bench_pymerkle(
            folder, args.pymerkle_entries, args.batch, args.pymerkle_proofs
        )

    print(f"\nsummary (load {load_average()})")
    print(f"    {'':<12}{'append/s':>14}{'proofs/s':>14}{'load/s':>14}")
    for name, r in results.items():
        load = f"{r['load']:>14,.0f}" if "load" in r else f"{'-':>14}"
        size = (
            f"  (at {args.pymerkle_entries:,})"
            if name == "pymerkle"
            else f"  (at {args.entries:,})"
        )
        print(f"    {name:<12}{r['append']:>14,.0f}{r['proofs']:>14,.0f}{load}{size}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
