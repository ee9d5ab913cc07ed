"""An independent implementation, pymerkle 7, agrees with verifiable.log.merkle.

pymerkle's ``InmemoryTree(algorithm="sha256")`` with its default (security on)
prefixes leaves with 0x00 and nodes with 0x01 and splits like RFC 9162; the
first test pins that against the RFC 6962 reference roots before anything
else relies on it.

Proof formats: a pymerkle inclusion proof's ``path`` is the leaf hash followed
by the RFC 9162 audit path, so ``path[1:]`` is our proof.  Its consistency
proof is not RFC 9162's (it descends to the first leaf past the old size and
marks the hashes of the old tree with a ``subset`` mask), so there we check
the other direction only: pymerkle's own verifier accepts its proofs against
the roots *we* compute.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from pymerkle import InmemoryTree
from pymerkle import verify_consistency as pymerkle_verify_consistency
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

VECTORS = Path(__file__).parents[2] / "vectors"
SMALL = 2_000
LARGE = 100_000


class StoredReader:
    """Complete-subtree hashes as a CompactTree reported them (what storage keeps)."""

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        tree = CompactTree()
        self.stored = {(s.level, s.index): s.hash for s in tree.extend(leaf_hashes)}

    def read_hashes(self, subtrees: Sequence[Subtree]) -> list[bytes]:
        return [self.stored[(s.level, s.index)] for s in subtrees]


def _pymerkle_tree(entries: list[bytes]) -> InmemoryTree:
    tree = InmemoryTree(algorithm="sha256")
    assert tree.security, "leaf/node domain separation must be on"
    tree.append_entries(entries)
    return tree


@dataclass(frozen=True)
class Large:
    leaves: list[bytes]
    theirs: InmemoryTree
    reader: StoredReader


@pytest.fixture(scope="module")
def large() -> Large:
    entries = [b'{"seq":%d,"type":"member.joined"}' % i for i in range(LARGE)]
    leaves = hash_leaves(entries)
    return Large(leaves, _pymerkle_tree(entries), StoredReader(leaves))


def test_pymerkle_is_rfc9162_on_the_reference_tree() -> None:
    vectors = json.loads((VECTORS / "rfc6962-hashes.json").read_text(encoding="utf-8"))
    inputs = [bytes.fromhex(x) for x in vectors["leaf_inputs_hex"]]
    roots = vectors["root_hashes_by_tree_size_hex"]
    tree = _pymerkle_tree(inputs)
    assert [tree.get_root(n).hex() for n in range(len(roots))] == roots
    assert [tree.get_leaf(i + 1) for i in range(len(inputs))] == hash_leaves(inputs)


def test_same_root_for_every_size_to_2000() -> None:
    entries = [b"entry %d" % i for i in range(SMALL)]
    theirs = _pymerkle_tree(entries)
    leaves = hash_leaves(entries)
    reader = StoredReader(leaves)
    ours = CompactTree()
    for size, leaf in enumerate(leaves, start=1):
        ours.append(leaf)
        expected = theirs.get_root(size)
        assert ours.root() == expected, size
        assert root_hash_from(reader, size) == expected, size
    assert root_hash(leaves) == theirs.get_root()


def test_same_root_at_random_sizes_to_100000(
    large: Large,
) -> None:
    leaves, theirs = large.leaves, large.theirs
    rng = random.Random(9162)
    sizes = [LARGE, 2**16, 2**16 + 1, *(rng.randrange(1, LARGE) for _ in range(5))]
    for size in sizes:
        assert root_hash(leaves[:size]) == theirs.get_root(size), size


def test_our_proofs_verify_against_pymerkle_roots(
    large: Large,
) -> None:
    leaves, theirs, reader = large.leaves, large.theirs, large.reader
    rng = random.Random(6962)
    for _ in range(40):
        size = rng.randrange(1, LARGE + 1)
        index = rng.randrange(size)
        old = rng.randrange(1, size + 1)
        root = theirs.get_root(size)
        verify_inclusion(
            leaves[index], index, size, inclusion_proof_from(reader, index, size), root
        )
        proof = consistency_proof_from(reader, old, size)
        verify_consistency(old, size, proof, theirs.get_root(old), root)


def test_pymerkle_inclusion_proofs_are_ours(
    large: Large,
) -> None:
    leaves, theirs, reader = large.leaves, large.theirs, large.reader
    rng = random.Random(1)
    cases = [(0, 1), (0, LARGE), (LARGE - 1, LARGE)]
    cases += [
        (i, s) for s in (rng.randrange(1, LARGE + 1) for _ in range(40)) for i in [rng.randrange(s)]
    ]
    for index, size in cases:
        theirs_proof = theirs.prove_inclusion(index + 1, size)  # pymerkle counts from 1
        assert theirs_proof.path[0] == leaves[index]
        path = theirs_proof.path[1:]
        verify_inclusion(leaves[index], index, size, path, root_hash_from(reader, size))
        assert path == inclusion_proof_from(reader, index, size)


def test_pymerkle_consistency_proofs_accept_our_roots(
    large: Large,
) -> None:
    leaves, theirs, reader = large.leaves, large.theirs, large.reader
    rng = random.Random(2)
    for _ in range(40):
        size = rng.randrange(1, LARGE + 1)
        old = rng.randrange(1, size + 1)
        proof = theirs.prove_consistency(old, size)
        pymerkle_verify_consistency(
            root_hash_from(reader, old), root_hash_from(reader, size), proof
        )
        inclusion = theirs.prove_inclusion(old, size)
        pymerkle_verify_inclusion(leaves[old - 1], root_hash_from(reader, size), inclusion)
