"""Benchmark the audit with the pool's state in memory against the audit with
it on disk, back to back.  Run by hand; not a test.

    python -m bench.audit_disk                          # 100,000 and 1,000,000 members
    python -m bench.audit_disk --members 100000 --rounds 3

For each size, a pool of that many members is generated with
:class:`verifiable.testonly.bulk.BulkSimulation` and written as a folder of
exported tiles under a checkpoint signed with a fresh key.  Then child
processes audit it in turn, alternating: ``memory`` is
:func:`client.audit.audit_source` (no state folder: the records in a
:class:`~verifiable.pool.store.MemoryStore`), ``disk`` is
:func:`client.audit.audit_log` with a fresh state folder (the records in
:class:`client.audit_store.SqliteStore`, saved as an interrupted audit
would resume from them).  Each child reports its CPU and wall time, entries/s
and peak resident memory; the ratio is disk's entries/s over memory's, per
round, by wall time (the disk's waits count) and by CPU time (what one core
did, steadier on a shared machine).  Target: >= 0.8 (median of the wall
ratios).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.machine import machine

TARGET = 0.8
SEED = bytes(range(32))
ORIGIN = "bench.example/mutualog/audit-disk"


def build_folder(members: int, folder: Path) -> tuple[int, str]:
    """A folder of exported tiles of a generated pool; its entries and key."""
    from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
    from verifiable.log.merkle import hash_leaves, root_hash
    from verifiable.log.note import Ed25519Signer
    from verifiable.log.tiles import build_bundles, build_tiles
    from verifiable.testonly.bulk import BulkSimulation, large_pool_config

    log = list(BulkSimulation(random.Random(2026), large_pool_config(members)).run())
    leaves = hash_leaves(log)
    files = {**build_tiles(leaves), **build_bundles(log)}
    for coord, data in files.items():
        path = folder / coord.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    signer = Ed25519Signer(ORIGIN, SEED)
    note = sign_checkpoint(Checkpoint(ORIGIN, len(log), root_hash(leaves)), signer)
    (folder / "checkpoint").write_bytes(note)
    return len(log), signer.verifier().to_vkey()


def _peak_kib() -> int:
    """Peak resident memory (VmHWM: ``ru_maxrss`` survives ``exec``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _child(mode: str, folder: str, vkey: str, state: str) -> None:
    from client.audit import audit_log, audit_source
    from client.sources import open_source
    from client.state import StateDir
    from verifiable.log.note import Ed25519Verifier

    verifier = Ed25519Verifier.from_vkey(vkey)
    before = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    if mode == "memory":
        report = audit_source(Path(folder), verifier, ORIGIN)
    else:
        source = open_source(folder)
        try:
            report = audit_log(source, verifier, ORIGIN, state=StateDir(Path(state)))
        finally:
            source.close()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    ok = report.ok and report.rules is not None and report.rules.status == "ok"
    summary = report.rules.to_json().get("summary") if report.rules else None
    print(json.dumps({"ok": ok, "entries": report.entries, "cpu": cpu, "wall": wall,
                      "peak_kib": _peak_kib(), "summary": summary}))  # fmt: skip


def _run(mode: str, folder: Path, vkey: str, state: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.audit_disk", "--child", mode, str(folder), vkey, str(state)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        raise SystemExit(f"{mode} audit failed:\n{out.stderr}")
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _line(mode: str, r: dict[str, object]) -> str:
    entries, wall, cpu = int(str(r["entries"])), float(str(r["wall"])), float(str(r["cpu"]))
    return (
        f"  {mode:<6} {wall:7.1f} s wall, {cpu:7.1f} s CPU -> {entries / wall:8,.0f} entries/s "
        f"(wall), peak RSS {int(str(r['peak_kib'])) / 1024:7,.0f} MiB, "
        f"{'VERIFIED' if r['ok'] else 'NOT VERIFIED'}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--members", default="100000,1000000", help="comma-separated sizes")
    parser.add_argument("--rounds", type=int, default=2, help="memory/disk pairs per size")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0
    print(machine("at the start"))
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for members in (int(m) for m in args.members.split(",")):
            folder = Path(tmp) / f"log-{members}"
            t0 = time.perf_counter()
            entries, vkey = build_folder(members, folder)
            print(f"{members:,} members: {entries:,} entries, built in "
                  f"{time.perf_counter() - t0:.0f} s")  # fmt: skip
            ratios = []
            for n in range(args.rounds):
                state = Path(tmp) / f"state-{members}-{n}"
                memory = _run("memory", folder, vkey, state)
                disk = _run("disk", folder, vkey, state)
                if memory["summary"] != disk["summary"] or not (memory["ok"] and disk["ok"]):
                    print("  the two audits disagree", file=sys.stderr)
                    return 1
                ratio = float(str(memory["wall"])) / float(str(disk["wall"]))
                cpu = float(str(memory["cpu"])) / float(str(disk["cpu"]))
                ratios.append(ratio)
                print(_line("memory", memory))
                print(_line("disk", disk))
                print(f"  round {n + 1}: disk/memory entries/s {ratio:.2f} (wall), {cpu:.2f} (CPU)")
            median = statistics.median(ratios)
            failed |= median < TARGET
            print(f"  median ratio {median:.2f} (target >= {TARGET})")
    print(machine("at the end"))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
