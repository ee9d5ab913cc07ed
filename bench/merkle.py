"""Benchmark verifiable.log.merkle side by side with pymerkle.  Run by hand; not a test.

    python bench/merkle.py                 # 1,000,000 leaves
    python bench/merkle.py --leaves 200000
    python bench/merkle.py --quick         # 100,000 leaves, fewer proofs

(a) root of N leaves from raw entries (leaf hashing + tree hash), against
    pymerkle's InmemoryTree appending the same entries (it builds a node per
    hash, so it is measured on at most 100,000 entries); target >= 1,000,000
    leaves/s.
(b) inclusion-proof verification in an N-leaf tree; target >= 50,000 proofs/s;
    pymerkle's verifier on its own (smaller) tree, and ours on the same size.
(c) proof generation from stored complete-subtree hashes (a level-by-level
    array of hashes, the shape tiles have): hash reads and read calls per
    proof, against the O(log n) bound, and proofs/s.
(d) CompactTree appends in batches of 256, as a sequencer would.

Timings are the best of a few runs (the machine may be shared); the load
average is printed so the figures can be judged.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from pymerkle import InmemoryTree
from pymerkle import verify_inclusion as pymerkle_verify_inclusion

from verifiable.log.merkle import (
    CompactTree,
    Subtree,
    consistency_proof_from,
    hash_leaves,
    inclusion_proof_from,
    root_hash,
    root_hash_from,
    verify_consistency,
    verify_inclusion,
)

T = TypeVar("T")

ROOT_TARGET = 1_000_000  # leaves/s
VERIFY_TARGET = 50_000  # proofs/s
PYMERKLE_MAX = 100_000  # entries: its node-per-hash tree is slow and large beyond this


def entries(count: int) -> list[bytes]:
    """Entries shaped like the log's canonical JSON (about 200 bytes each)."""
    return [
        b'{"body":{"member":"%032x"},"prev":"%064x","seq":%d,'
        b'"time":"2025-01-01T00:00:00Z","type":"member.joined","v":1}' % (i * 7919, i * 104729, i)
        for i in range(count)
    ]


def best_of(repeat: int, func: Callable[[], T]) -> tuple[float, T]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    assert result is not None
    return best, result


class StoredHashes:
    """Complete-subtree hashes kept level by level in contiguous buffers, as
    tiles keep them; counts every read."""

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        sha = hashlib.sha256
        level = b"".join(leaf_hashes)
        self.levels = [level]
        while len(level) >= 64:
            view = memoryview(level)
            level = b"".join(
                sha(b"\x01" + view[i : i + 64]).digest() for i in range(0, len(level) - 63, 64)
            )
            self.levels.append(level)
        self.calls = 0
        self.reads = 0

    def read_hashes(self, subtrees: Sequence[Subtree]) -> list[bytes]:
        self.calls += 1
        self.reads += len(subtrees)
        levels = self.levels
        out = []
        for level, index in subtrees:
            buf = levels[level]
            off = index * 32
            if off + 32 > len(buf):
                raise LookupError(f"subtree {level}/{index} is not stored")
            out.append(buf[off : off + 32])
        return out


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>12,.0f}/s"


@dataclass
class _Run:
    """One run's settings, and what section (a) computes for the others."""

    n: int
    proofs: int
    repeat: int
    pm_n: int
    rng: random.Random
    leaves: list[bytes] = field(default_factory=list)
    root: bytes = b""
    pm_tree: InmemoryTree | None = None

    @property
    def depth(self) -> int:
        return (self.n - 1).bit_length()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--leaves", type=int, default=1_000_000, help="tree size N")
    parser.add_argument("--quick", action="store_true", help="100,000 leaves, fewer proofs")
    args = parser.parse_args(argv)
    n = 100_000 if args.quick and args.leaves == 1_000_000 else args.leaves
    proofs = 5_000 if args.quick else 20_000
    repeat = 2 if args.quick else 3
    run = _Run(n, proofs, repeat, min(n, PYMERKLE_MAX), random.Random(9162))

    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"N = {n:,} leaves; pymerkle on {run.pm_n:,}; {proofs:,} proofs per measurement\n")
    _roots(run)
    store = StoredHashes(run.leaves)
    assert root_hash_from(store, n) == run.root
    _verification(run, store)
    _generation(run, store)
    _appends(run)
    print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


def _roots(run: _Run) -> None:
    """(a) The root from raw entries, ours and pymerkle's."""
    n, repeat, pm_n = run.n, run.repeat, run.pm_n
    data = entries(n)
    size = sum(map(len, data)) / n
    t_leaves, leaves = best_of(repeat, lambda: hash_leaves(data))
    t_tree, root = best_of(repeat, lambda: root_hash(leaves))
    run.leaves, run.root = leaves, root
    t_total, _ = best_of(repeat, lambda: root_hash(hash_leaves(data)))
    pm_data = data[:pm_n]
    data.clear()  # the entries are not needed again; free the memory early
    t_pm, pm_tree = best_of(1, lambda: InmemoryTree.init_from_entries(pm_data))
    run.pm_tree = pm_tree
    assert pm_tree.get_root() == root_hash(leaves[:pm_n]), "pymerkle disagrees on the root"
    ours_a = n / t_total
    pm_a = pm_n / t_pm
    print(f"(a) root from raw entries ({size:.0f}-byte entries, as canonical JSON log entries)")
    print(f"    leaf hashing only      {rate(n, t_leaves)}  ({t_leaves:.3f} s)")
    print(f"    tree from leaf hashes  {rate(n, t_tree)}  ({t_tree:.3f} s)")
    print(f"    ours, entries -> root  {rate(n, t_total)}  ({t_total:.3f} s for {n:,})")
    print(f"    pymerkle append        {rate(pm_n, t_pm)}  ({t_pm:.3f} s for {pm_n:,})")
    print(f"    ratio ours/pymerkle    {ours_a / pm_a:>12.1f}x")
    verdict = "meets" if ours_a >= ROOT_TARGET else "BELOW"
    print(f"    target {ROOT_TARGET:,} leaves/s: {verdict}\n")


def _verification(run: _Run, store: StoredHashes) -> None:
    """(b) Inclusion-proof verification, ours and pymerkle's."""
    n, proofs, repeat, pm_n, rng = run.n, run.proofs, run.repeat, run.pm_n, run.rng
    leaves, root, pm_tree = run.leaves, run.root, run.pm_tree
    assert pm_tree is not None

    def sample(size: int, count: int) -> list[tuple[int, list[bytes]]]:
        out = []
        for _ in range(count):
            index = rng.randrange(size)
            out.append((index, inclusion_proof_from(store, index, size)))
        return out

    def verify_all(size: int, batch: list[tuple[int, list[bytes]]], root: bytes) -> int:
        for index, proof in batch:
            verify_inclusion(leaves[index], index, size, proof, root)
        return len(batch)

    batch = sample(n, proofs)
    t_ver, _ = best_of(repeat, lambda: verify_all(n, batch, root))
    pm_root = root_hash(leaves[:pm_n])
    if pm_n == n:
        t_ver_pm_size = t_ver
    else:
        batch_pm_size = sample(pm_n, proofs)
        t_ver_pm_size, _ = best_of(repeat, lambda: verify_all(pm_n, batch_pm_size, pm_root))
    pm_count = min(proofs, 5_000)
    pm_proofs = []
    for _ in range(pm_count):
        index = rng.randrange(pm_n)
        pm_proofs.append((leaves[index], pm_tree.prove_inclusion(index + 1)))

    def pm_verify_all() -> int:
        for leaf, proof in pm_proofs:
            pymerkle_verify_inclusion(leaf, pm_root, proof)
        return len(pm_proofs)

    t_pm_ver, _ = best_of(repeat, pm_verify_all)
    ours_b = proofs / t_ver
    ours_b_pm = proofs / t_ver_pm_size
    pm_b = pm_count / t_pm_ver
    depth = run.depth
    print(f"(b) inclusion-proof verification (proofs of ~{depth} hashes at N)")
    print(f"    ours at N={n:<11,}      {rate(proofs, t_ver)}")
    if pm_n != n:
        print(f"    ours at N={pm_n:<11,}      {rate(proofs, t_ver_pm_size)}")
    print(f"    pymerkle at N={pm_n:<11,}  {rate(pm_count, t_pm_ver)}")
    print(f"    ratio ours/pymerkle (same N) {ours_b_pm / pm_b:>6.1f}x")
    verdict = "meets" if ours_b >= VERIFY_TARGET else "BELOW"
    print(f"    target {VERIFY_TARGET:,} proofs/s at N: {verdict}\n")


def _generation(run: _Run, store: StoredHashes) -> None:
    """(c) Proof generation from stored subtree hashes: what it reads."""
    n, proofs, rng, root, depth = run.n, run.proofs, run.rng, run.root, run.depth
    bound = 2 * depth + 2
    store.calls = store.reads = 0
    worst = 0

    def gen_inclusion() -> int:
        nonlocal worst
        for _ in range(proofs):
            before = store.reads
            inclusion_proof_from(store, rng.randrange(n), n)
            worst = max(worst, store.reads - before)
        return proofs

    t_gen, _ = best_of(1, gen_inclusion)
    calls, reads = store.calls, store.reads
    print(f"(c) proof generation from stored subtree hashes at N={n:,}")
    print(f"    inclusion: {rate(proofs, t_gen)}; {calls / proofs:.2f} read calls/proof,")
    print(f"      {reads / proofs:.1f} hashes read/proof (max {worst}); log2 N = {depth},")
    print(f"      bound 2*ceil(log2 N)+2 = {bound}; reading every leaf would be {n:,}")

    store.calls = store.reads = 0
    worst = 0
    pairs = [(rng.randrange(1, n + 1), n) for _ in range(proofs)]

    def gen_consistency() -> int:
        nonlocal worst
        for old, new in pairs:
            before = store.reads
            consistency_proof_from(store, old, new)
            worst = max(worst, store.reads - before)
        return proofs

    t_cgen, _ = best_of(1, gen_consistency)
    calls, reads = store.calls, store.reads
    print(f"    consistency: {rate(proofs, t_cgen)}; {calls / proofs:.2f} read calls/proof,")
    print(f"      {reads / proofs:.1f} hashes read/proof (max {worst})")
    old, new = pairs[0]
    verify_consistency(
        old, new, consistency_proof_from(store, old, new), root_hash_from(store, old), root
    )
    # Leaf 0 of a 2**k - 1 tree is the worst case: every proof element but
    # the last is complete, and the last (leaves 2**(k-1)..) splits into k-1.
    print("    hashes read for leaf 0 of a 2**k - 1 leaf tree (worst case) as N grows:")
    for k in sorted({*range(4, n.bit_length(), 4), n.bit_length() - 1}):
        store.calls = store.reads = 0
        proof = inclusion_proof_from(store, 0, (1 << k) - 1)
        print(
            f"      N={(1 << k) - 1:>13,}: {store.reads:>3} hashes in {store.calls} call "
            f"for a {len(proof)}-hash proof (bound {2 * k + 2})"
        )
    print()


def _appends(run: _Run) -> None:
    """(d) CompactTree appends in batches of 256 leaf hashes."""
    n, repeat, leaves, root = run.n, run.repeat, run.leaves, run.root

    def sequence() -> int:
        tree = CompactTree()
        persisted = 0
        for start in range(0, n, 256):
            persisted += len(tree.extend(leaves[start : start + 256]))
        assert tree.root() == root
        return persisted

    t_seq, persisted = best_of(repeat, sequence)
    print("(d) CompactTree appends, batches of 256 leaf hashes")
    print(f"    {rate(n, t_seq)}; {persisted:,} subtree hashes reported for storage")


if __name__ == "__main__":
    sys.exit(main())
