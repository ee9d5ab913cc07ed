"""Benchmark ``mutualog audit`` of a signed snapshot.  Run by hand; not a test.

    python -m bench.client audit                        # 1,000,000 entries
    python -m bench.client audit --sizes 250000,500000,1000000

For each size, a pool history of that many entries is generated with
:class:`verifiable.testonly.simulate.Simulation` (the history of ``bench/replay.py``),
loaded into a fresh SQLite log under a checkpoint signed with a fresh
Ed25519 key, and written as a snapshot by the server's own
:func:`server.snapshot.write_snapshot` — the file an auditor downloads from
``/snapshot``.  Then a child process runs the auditor's whole check,
:func:`client.audit.audit_source` (signature, every tile hashed up to the
root, every entry canonical and chained, every rule replayed, money
conserved), and reports its CPU time, wall time and peak resident memory.

Each audit runs in its own process so that its peak memory is its own:
memory that stays flat as the log grows shows as the same peak at every
size.  Target: >= 30,000 entries/s on one core (CPU time, which is what one
core did even when the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 30_000
SEED = bytes(range(32))
ORIGIN = "bench.example/mutualog/audit"


def build_snapshot(entries: int, folder: Path) -> tuple[Path, str]:
    """A snapshot of a generated pool history; returns its path and the
    verifier key."""
    from bench.replay import config  # the same history
    from server.db import make_engine, upgrade
    from server.snapshot import write_snapshot
    from server.storage import LogStore
    from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
    from verifiable.log.merkle import CompactTree, hash_leaves
    from verifiable.log.note import Ed25519Signer
    from verifiable.testonly.simulate import Simulation

    signer = Ed25519Signer(ORIGIN, SEED)
    log = list(Simulation(random.Random(2024), config(entries)).run())
    tree = CompactTree()
    tree.extend(hash_leaves(log))
    note = sign_checkpoint(Checkpoint(ORIGIN, tree.size, tree.root()), signer)
    engine = make_engine(f"sqlite:///{folder / 'log.db'}")
    upgrade(engine)
    store = LogStore(engine)
    store.load(iter(log), note)
    path = folder / f"snapshot-{entries}.tar"
    with path.open("wb") as out:
        write_snapshot(store, out)
    engine.dispose()
    return path, signer.verifier().to_vkey()


def _peak_kib() -> int:
    """This process's peak resident memory.  ``/proc/self/status``'s VmHWM,
    not ``getrusage``: on Linux ``ru_maxrss`` survives ``exec``, so a child
    would report the parent's peak (here, the whole generated log)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _child(snapshot: str, vkey: str) -> None:
    from client.audit import audit_source
    from verifiable.log.note import Ed25519Verifier

    verifier = Ed25519Verifier.from_vkey(vkey)
    before = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    report = audit_source(Path(snapshot), verifier, ORIGIN)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(
        json.dumps(
            {
                "ok": report.ok and report.rules is not None and report.rules.status == "ok",
                "entries": report.entries,
                "cpu": cpu,
                "wall": wall,
                "peak_kib": _peak_kib(),
                "rules": report.rules.detail if report.rules else "",
            }
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000000", help="comma-separated entry counts")
    parser.add_argument("--child", nargs=2, metavar=("SNAPSHOT", "VKEY"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    from bench.replay import cpu_model

    print(f"python {platform.python_version()} on {cpu_model()}, {os.cpu_count()} CPUs")
    print(f"load average {os.getloadavg()[0]:.2f}")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            folder = Path(tmp) / str(size)
            folder.mkdir()
            t0 = time.perf_counter()
            snapshot, vkey = build_snapshot(size, folder)
            built = time.perf_counter() - t0
            mib = snapshot.stat().st_size / 2**20
            out = subprocess.run(
                [sys.executable, "-m", "bench.client_audit", "--child", str(snapshot), vkey],
                capture_output=True,
                text=True,
                check=False,
            )
            if out.returncode:
                print(out.stderr, file=sys.stderr)
                return 1
            r = json.loads(out.stdout.strip().splitlines()[-1])
            rate = r["entries"] / r["cpu"]
            failed |= not r["ok"] or rate < TARGET
            print(
                f"{r['entries']:>9,} entries ({mib:,.0f} MiB snapshot, built in {built:.0f} s): "
                f"audit {r['cpu']:.1f} s CPU, {r['wall']:.1f} s wall -> {rate:,.0f} entries/s "
                f"(CPU), peak RSS {r['peak_kib'] / 1024:,.0f} MiB, "
                f"{'VERIFIED' if r['ok'] else 'NOT VERIFIED'}; {r['rules']}"
            )
    print(f"target >= {TARGET:,} entries/s on one core: {'not met' if failed else 'met'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
