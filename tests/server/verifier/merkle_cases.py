"""Generated Merkle cases for the equivalence tests: honest inclusion and
consistency proofs over random trees, the same at sizes up to 2^64 - 1, and
single-field mutations of each.

Every case is in the JSON shape of :mod:`verifier_harness` and carries a
``mutation`` key: ``""`` for an honest case, else what was changed.  Changing
only a tree size can leave a proof that still verifies (RFC 9162 proofs bind
a size only through their shape; the checkpoint's signature binds size and
root), so size mutations are marked ``"size"`` and the tests hold them to
agreement, not to refusal.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from verifiable.log.merkle import (
    CompactTree,
    Subtree,
    consistency_proof,
    consistency_proof_from,
    inclusion_proof,
    inclusion_proof_from,
    node_hash,
    root_hash_from,
)

__all__ = ["big_tree_cases", "consistency_cases", "inclusion_cases", "mutations"]

Case = dict[str, Any]
MAX_SIZE = (1 << 64) - 1


def _leaves(rng: random.Random, count: int) -> tuple[list[bytes], list[str]]:
    """``count`` random leaf hashes and the root of every prefix (index = size)."""
    leaves = [rng.randbytes(32) for _ in range(count)]
    tree = CompactTree()
    roots = [tree.root().hex()]
    for leaf in leaves:
        tree.append(leaf)
        roots.append(tree.root().hex())
    return leaves, roots


def inclusion_cases(rng: random.Random, count: int, max_size: int) -> list[Case]:
    """Honest inclusion proofs, sizes 1..max_size."""
    leaves, roots = _leaves(rng, max_size)
    out = []
    for _ in range(count):
        size = rng.randint(1, max_size)
        index = rng.randrange(size)
        proof = inclusion_proof(leaves, index, size)
        out.append(
            {
                "kind": "inclusion",
                "leaf": leaves[index].hex(),
                "index": str(index),
                "size": str(size),
                "proof": [p.hex() for p in proof],
                "root": roots[size],
                "mutation": "",
            }
        )
    return out


def consistency_cases(rng: random.Random, count: int, max_size: int) -> list[Case]:
    """Honest consistency proofs, 1 <= old <= new <= max_size."""
    leaves, roots = _leaves(rng, max_size)
    out = []
    for _ in range(count):
        new = rng.randint(1, max_size)
        old = new if rng.random() < 0.05 else rng.randint(1, new)
        proof = consistency_proof(leaves, old, new)
        out.append(
            {
                "kind": "consistency",
                "old": str(old),
                "new": str(new),
                "proof": [p.hex() for p in proof],
                "old_root": roots[old],
                "new_root": roots[new],
                "mutation": "",
            }
        )
    return out


class _EqualLeaves:
    """A tree whose leaves are all one hash: a complete subtree's hash depends
    on its level only, so proofs and roots at any size up to 2^64 - 1 cost
    64 hashes, and are honest."""

    def __init__(self, leaf: bytes) -> None:
        self.levels = [leaf]
        for _ in range(64):
            self.levels.append(node_hash(self.levels[-1], self.levels[-1]))

    def read_hashes(self, subtrees: Sequence[Subtree]) -> list[bytes]:
        return [self.levels[s.level] for s in subtrees]


def _big(rng: random.Random) -> int:
    return max(1, rng.getrandbits(rng.randint(1, 64)))


def big_tree_cases(rng: random.Random, count: int) -> list[Case]:
    """Honest proofs in trees of up to 2^64 - 1 leaves, and sizes past it."""
    tree = _EqualLeaves(rng.randbytes(32))
    out: list[Case] = []
    for _ in range(count):
        size = _big(rng)
        index = rng.randrange(size)
        out.append(
            {
                "kind": "inclusion",
                "leaf": tree.levels[0].hex(),
                "index": str(index),
                "size": str(size),
                "proof": [p.hex() for p in inclusion_proof_from(tree, index, size)],
                "root": root_hash_from(tree, size).hex(),
                "mutation": "",
            }
        )
        old, new = sorted((_big(rng), _big(rng)))
        out.append(
            {
                "kind": "consistency",
                "old": str(old),
                "new": str(new),
                "proof": [p.hex() for p in consistency_proof_from(tree, old, new)],
                "old_root": root_hash_from(tree, old).hex(),
                "new_root": root_hash_from(tree, new).hex(),
                "mutation": "",
            }
        )
    top = {**out[0], "size": str(MAX_SIZE + 1), "mutation": "size past 2^64 - 1"}
    return [*out, top, {**out[1], "new": str(MAX_SIZE + 1), "mutation": "size past 2^64 - 1"}]


# --- mutations ------------------------------------------------------------------


def _flip(rng: random.Random, hex_hash: str) -> str:
    raw = bytearray.fromhex(hex_hash)
    raw[rng.randrange(len(raw))] ^= rng.randint(1, 255)
    return raw.hex()


def _hash_fields(case: Case) -> list[str]:
    if case["kind"] == "inclusion":
        return ["leaf", "root"]
    return ["old_root", "new_root"]


def _size_fields(case: Case) -> list[str]:
    if case["kind"] == "inclusion":
        return ["index", "size"]
    return ["old", "new"]


def mutations(rng: random.Random, case: Case, equal_leaves: bool = False) -> list[Case]:
    """Single-field changes of an honest case: a byte of each hash and of one
    proof element flipped, each size or index moved by one, a proof element
    dropped or added, a hash cut short.

    In a tree of equal leaves (:func:`big_tree_cases`) moving the index keeps
    a valid proof, so there the index is marked a size change too.
    """
    out = [{**case, f: _flip(rng, case[f]), "mutation": f"{f} byte"} for f in _hash_fields(case)]
    proof = case["proof"]
    for f in _size_fields(case):
        for delta in (-1, 1):
            kind = "size" if f != "index" or equal_leaves else "index"
            out.append({**case, f: str(int(case[f]) + delta), "mutation": kind})
    if proof:
        i = rng.randrange(len(proof))
        flipped = [*proof[:i], _flip(rng, proof[i]), *proof[i + 1 :]]
        out.append({**case, "proof": flipped, "mutation": "proof byte"})
        out.append({**case, "proof": proof[:i] + proof[i + 1 :], "mutation": "proof dropped"})
    i = rng.randint(0, len(proof))
    added = [*proof[:i], rng.randbytes(32).hex(), *proof[i:]]
    out.append({**case, "proof": added, "mutation": "proof added"})
    field = _hash_fields(case)[0]
    out.append({**case, field: case[field][:-2], "mutation": "hash cut short"})
    return out
