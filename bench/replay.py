"""Benchmark a full replay of a generated pool history.  Run by hand; not a test.

    python bench/replay.py                    # 1,000,000 entries
    python bench/replay.py --entries 100000
    python bench/replay.py --profile          # cProfile of the replay, top 25

The history comes from :class:`verifiable.testonly.simulate.Simulation` (seeded, so
every run replays the same bytes): members joining and leaving, jurors
qualifying, a juror pool every period, claims filed, noticed, objected to and
answered, panels of 31 drawn by sortition (appeals of 63), votes sealed and
revealed, decisions, redraws, appeals, payouts, refunds and period closes.
The default rules apply except ``juror.seasoning_days`` = 0, so that the
founding jurors can sit at once.

The timed part is ``verifiable.pool.replay.replay(log)`` over the list of entry
bytes already in memory: canonical decoding, the hash chain, every rule, the
compact Merkle tree and its roots for the panel seeds.  Target: >= 50,000
entries/s on one core.  The machine may be shared: the load average is
printed, the replay is timed ``--runs`` times, and both the wall-clock and
the CPU-time rates are reported (best of the runs); the verdict uses CPU time,
which is what one core did, since on a shared machine the wall clock also
counts the time the process waited for a core.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import time
from collections import Counter

from verifiable.pool.replay import replay
from verifiable.testonly.simulate import SimConfig, Simulation

TARGET = 50_000


def cpu_model() -> str:
    """The CPU's model name, as ``lscpu`` gives it."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown"
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def config(entries: int) -> SimConfig:
    """A pool that grows from 20,000 members by about 150 a day, with about
    25 claims a day."""
    return SimConfig(
        days=100_000,
        max_entries=entries,
        initial_members=20_000,
        initial_jurors=2_000,
        joins_per_day=20_000,
        leaves_per_day=5_000,
        jurors_per_day=1_000,
        juror_removals_per_day=100,
        claims_per_day=2_500,
        notes_per_day=10,
        rules={"juror.seasoning_days": 0},
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)

    print(f"python {platform.python_version()} on {cpu_model()}, {os.cpu_count()} CPUs")
    t0 = time.perf_counter()
    sim = Simulation(random.Random(args.seed), config(args.entries))
    log = list(sim.run())
    gen = time.perf_counter() - t0
    size = sum(len(d) for d in log)
    print(f"generated {len(log):,} entries ({size / 1e6:.0f} MB) in {gen:.1f} s")
    kinds = Counter({k: v for k, v in sim.stats.items() if "." in k and k[0].islower()})
    for kind in sorted(k for k in kinds if not k.startswith(("decided.", "outcome."))):
        print(f"  {kind:18} {kinds[kind]:>9,}")
    outcomes = ", ".join(
        f"{k.split('.', 1)[1]} {v:,}" for k, v in sorted(kinds.items()) if k.startswith("decided.")
    )
    print(f"  decisions: {outcomes}")

    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        replay(log)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return 0

    best = best_cpu = float("inf")
    result = None
    for run in range(args.runs):
        load = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        result = replay(log)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        best, best_cpu = min(best, elapsed), min(best_cpu, cpu)
        print(
            f"run {run + 1}: replayed {len(log):,} entries in {elapsed:.2f} s wall, "
            f"{cpu:.2f} s CPU = {len(log) / elapsed:,.0f} entries/s "
            f"({len(log) / cpu:,.0f}/s of CPU; load average {load:.2f})"
        )
    assert result is not None
    s = result.summary
    print(
        f"pool: {s.members:,} members ({s.members_left:,} left), {s.jurors:,} jurors, "
        f"{s.claims:,} claims, {s.periods_closed} periods closed; "
        f"aid {s.ledger.aid:,} fen, fees {s.ledger.fees:,}, refunds {s.ledger.refunds:,}, "
        f"surplus {s.ledger.surplus:,}"
    )
    rate, cpu_rate = len(log) / best, len(log) / best_cpu
    verdict = "meets" if cpu_rate >= TARGET else "MISSES"
    print(
        f"best: {rate:,.0f} entries/s wall clock, {cpu_rate:,.0f} entries/s of CPU time "
        f"on one core; {verdict} the target of {TARGET:,}/s on one core"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
