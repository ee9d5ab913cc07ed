"""verifiable.log.merkle: behaviour, properties, mutations and every error path.

The reference functions below transcribe RFC 9162 §2.1.1, §2.1.3.1 and
§2.1.4.1 recursively, as the RFC states them, so the iterative, planned and
reader-backed code in the module is checked against something independent.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifiable.errors import MalformedError, VerificationError
from verifiable.log.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    MAX_SIZE,
    CompactTree,
    LeafHashReader,
    Subtree,
    SubtreeHash,
    consistency_proof,
    consistency_proof_from,
    consistency_proof_subtrees,
    hash_leaves,
    inclusion_proof,
    inclusion_proof_from,
    inclusion_proof_subtrees,
    leaf_hash,
    node_hash,
    range_subtrees,
    root_from_inclusion_proof,
    root_hash,
    root_hash_from,
    root_subtrees,
    verify_consistency,
    verify_inclusion,
)

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

MAX_LEAVES = 300
LEAVES = [leaf_hash(b"entry %d" % i) for i in range(MAX_LEAVES)]


# --- RFC 9162 §2.1, transcribed recursively --------------------------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: Sequence[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return d[0]
    k = _k(n)
    return node_hash(ref_mth(d[:k]), ref_mth(d[k:]))


def ref_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


class CountingReader:
    """A HashReader over stored complete-subtree hashes that counts its use."""

    def __init__(self, stored: dict[tuple[int, int], bytes]) -> None:
        self.stored = stored
        self.calls: list[list[Subtree]] = []

    def read_hashes(self, subtrees: Sequence[Subtree]) -> list[bytes]:
        self.calls.append(list(subtrees))
        return [self.stored[(s.level, s.index)] for s in subtrees]


class SyntheticReader:
    """Answers any subtree with a made-up hash: for counting reads at any size."""

    def __init__(self) -> None:
        self.calls: list[list[Subtree]] = []

    def read_hashes(self, subtrees: Sequence[Subtree]) -> list[bytes]:
        self.calls.append(list(subtrees))
        return [hashlib.sha256(b"%d/%d" % s).digest() for s in subtrees]


def _stored(leaves: Sequence[bytes]) -> dict[tuple[int, int], bytes]:
    tree = CompactTree()
    return {(s.level, s.index): s.hash for s in tree.extend(leaves)}


STORED = _stored(LEAVES)


# --- hashing and roots -----------------------------------------------------


def test_hashes_are_domain_separated() -> None:
    assert HASH_SIZE == 32
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert hash_leaves([b"x", b""]) == [leaf_hash(b"x"), leaf_hash(b"")]
    assert hash_leaves(iter([b"y"])) == [leaf_hash(b"y")]


def test_roots_match_reference_for_every_small_size() -> None:
    for size in range(MAX_LEAVES + 1):
        expected = ref_mth(LEAVES[:size])
        assert root_hash(LEAVES[:size]) == expected
        assert root_hash(tuple(LEAVES[:size])) == expected
        assert root_hash_from(CountingReader(STORED), size) == expected


def test_subtree_ranges() -> None:
    assert Subtree(3, 2).start == 16
    assert Subtree(3, 2).end == 24
    assert SubtreeHash(1, 4, b"h").subtree == Subtree(1, 4)
    assert root_subtrees(0) == []
    assert root_subtrees(13) == [Subtree(3, 0), Subtree(2, 2), Subtree(0, 12)]
    assert range_subtrees(8, 15) == [Subtree(2, 2), Subtree(1, 6), Subtree(0, 14)]
    assert range_subtrees(5, 5) == []


# --- proofs against the reference -----------------------------------------


def test_proofs_match_reference_exhaustively_for_small_trees() -> None:
    for size in range(1, 70):
        d = LEAVES[:size]
        for index in range(size):
            assert inclusion_proof(LEAVES, index, size) == ref_path(index, d)
        for old in range(1, size + 1):
            assert consistency_proof(LEAVES, old, size) == ref_subproof(old, d, True)


@SETTINGS
@given(st.data())
def test_generated_proofs_verify_and_match_reference(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, MAX_LEAVES), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    old = data.draw(st.integers(1, size), label="old")
    d = LEAVES[:size]
    root = root_hash(d)

    proof = inclusion_proof(LEAVES, index, size)
    assert proof == ref_path(index, d)
    verify_inclusion(LEAVES[index], index, size, proof, root)
    assert root_from_inclusion_proof(LEAVES[index], index, size, proof) == root

    cproof = consistency_proof(LEAVES, old, size)
    assert cproof == ref_subproof(old, d, True)
    verify_consistency(old, size, cproof, root_hash(LEAVES[:old]), root)


@SETTINGS
@given(st.data())
def test_reader_backed_generation_equals_list_based(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, MAX_LEAVES), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    old = data.draw(st.integers(1, size), label="old")

    reader = CountingReader(STORED)
    assert inclusion_proof_from(reader, index, size) == inclusion_proof(LEAVES, index, size)
    assert reader.calls == ([inclusion_proof_subtrees(index, size)] if size > 1 else [])

    reader = CountingReader(STORED)
    got = consistency_proof_from(reader, old, size)
    assert got == consistency_proof(LEAVES, old, size)
    assert reader.calls == ([consistency_proof_subtrees(old, size)] if old < size else [])

    reader = CountingReader(STORED)
    assert root_hash_from(reader, size) == root_hash(LEAVES[:size])
    assert reader.calls == [root_subtrees(size)]


def _ceil_log2(size: int) -> int:
    # Exact for any size; math.log2 rounds above 2**53.
    return (size - 1).bit_length()


def _log_bound(size: int) -> int:
    return 2 * _ceil_log2(size) + 2 if size > 1 else 0


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_reader_backed_proofs_make_one_read_of_log_many_subtrees(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, MAX_SIZE), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    old = data.draw(st.integers(1, size), label="old")

    reader = SyntheticReader()
    proof = inclusion_proof_from(reader, index, size)
    assert len(reader.calls) == (1 if proof else 0)
    assert sum(map(len, reader.calls)) <= _log_bound(size)
    assert len(proof) <= _ceil_log2(size)

    reader = SyntheticReader()
    cproof = consistency_proof_from(reader, old, size)
    assert len(reader.calls) == (1 if cproof else 0)
    assert sum(map(len, reader.calls)) <= _log_bound(size)

    reader = SyntheticReader()
    root_hash_from(reader, size)
    assert len(reader.calls) == 1
    assert len(reader.calls[0]) == size.bit_count()


def test_read_bound_at_the_edges() -> None:
    for size in (2, 3, 2**20 + 1, 2**32 - 1, MAX_SIZE):
        for index in {0, size // 2, size - 2, size - 1}:
            assert len(inclusion_proof_subtrees(index, size)) <= _log_bound(size)
        for old in {1, size // 2, size - 1, size}:
            assert len(consistency_proof_subtrees(old, size)) <= _log_bound(size)


def test_proof_subtrees_cover_the_proof_elements() -> None:
    # Leaf 5 of 7: siblings are leaf 4, leaf 6 (incomplete right side = one
    # leaf) and leaves 0..3.
    assert inclusion_proof_subtrees(5, 7) == [Subtree(0, 4), Subtree(0, 6), Subtree(2, 0)]
    # Leaf 0 of 7: leaf 1, leaves 2..3, then leaves 4..6 = [4,6) + [6].
    assert inclusion_proof_subtrees(0, 7) == [
        Subtree(0, 1),
        Subtree(1, 1),
        Subtree(1, 2),
        Subtree(0, 6),
    ]
    assert consistency_proof_subtrees(4, 8) == [Subtree(2, 1)]
    assert consistency_proof_subtrees(3, 7) == [
        Subtree(0, 2),
        Subtree(0, 3),
        Subtree(1, 0),
        Subtree(1, 2),
        Subtree(0, 6),
    ]
    assert consistency_proof_subtrees(5, 5) == []
    assert inclusion_proof_subtrees(0, 1) == []


# --- CompactTree ----------------------------------------------------------


def _all_complete_subtrees(size: int) -> list[tuple[int, int]]:
    out = []
    for level in range(size.bit_length()):
        out += [(level, index) for index in range(size >> level)]
    return sorted(out)


@SETTINGS
@given(st.lists(st.integers(0, 40), min_size=1, max_size=12))
def test_compact_tree_matches_recomputation(batches: list[int]) -> None:
    tree = CompactTree()
    emitted: list[SubtreeHash] = []
    size = 0
    for batch in batches:
        batch = min(batch, MAX_LEAVES - size)
        new = LEAVES[size : size + batch]
        if batch == 1:
            emitted += tree.append(new[0])
        else:
            emitted += tree.extend(new)
        size += batch
        assert tree.size == size
        assert tree.root() == ref_mth(LEAVES[:size])
        assert tree.compact_range() == LeafHashReader(LEAVES).read_hashes(root_subtrees(size))
    # Every complete subtree is reported exactly once, with the right hash,
    # and no subtree before all of its children.
    assert sorted((s.level, s.index) for s in emitted) == _all_complete_subtrees(size)
    reader = LeafHashReader(LEAVES)
    assert [s.hash for s in emitted] == reader.read_hashes([s.subtree for s in emitted])
    seen: set[tuple[int, int]] = set()
    for s in emitted:
        if s.level:
            assert {(s.level - 1, 2 * s.index), (s.level - 1, 2 * s.index + 1)} <= seen
        seen.add((s.level, s.index))


def test_compact_tree_append_reports_completed_parents() -> None:
    tree = CompactTree()
    assert tree.root() == EMPTY_ROOT
    assert tree.append(LEAVES[0]) == [SubtreeHash(0, 0, LEAVES[0])]
    tree.extend(LEAVES[1:3])
    got = tree.append(LEAVES[3])
    assert [(s.level, s.index) for s in got] == [(0, 3), (1, 1), (2, 0)]
    assert got[-1].hash == root_hash(LEAVES[:4])
    assert tree.extend([]) == []


@SETTINGS
@given(st.integers(0, MAX_LEAVES - 1), st.integers(1, 60))
def test_restored_compact_tree_continues_identically(size: int, more: int) -> None:
    more = min(more, MAX_LEAVES - size)
    original = CompactTree()
    original.extend(LEAVES[:size])
    restored = CompactTree.from_compact_range(size, original.compact_range())
    assert restored.size == size
    assert restored.root() == original.root()
    for leaf in LEAVES[size : size + more]:
        assert restored.append(leaf) == original.append(leaf)
        assert restored.root() == original.root()
    assert restored.compact_range() == original.compact_range()


def test_restore_from_hashes_read_off_storage() -> None:
    size = 77
    hashes = CountingReader(STORED).read_hashes(root_subtrees(size))
    tree = CompactTree.from_compact_range(size, tuple(hashes))
    assert tree.root() == root_hash(LEAVES[:size])


# --- mutations: no altered input verifies unless RFC 9162 itself accepts it --
#
# The reference verifiers below follow the step lists of RFC 9162 §2.1.3.2
# and §2.1.4.2 literally (fn/sn right shifts), independent of the bit
# arithmetic in verifiable.log.merkle.  A proof binds the tree size only through
# the root: leaf 0 of 7 has the same three right-hand siblings as leaf 0 of 6
# or 8, so the RFC algorithm accepts (leaf, 0, 6, proof, root of 7) as well;
# no verifier can tell, because the root is consistent with some 6-leaf tree.
# Sizes are authenticated by the signed checkpoint that carries the root.  So
# the rule tested is: every mutation the RFC rejects, we reject with
# MalformedError or VerificationError; and the only mutations the RFC accepts
# are size changes that leave the proof's shape unchanged.


def rfc_verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    if not 0 <= index < size <= MAX_SIZE:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def rfc_verify_consistency(
    first: int, second: int, path: Sequence[bytes], first_hash: bytes, second_hash: bytes
) -> bool:
    if not 0 < first <= second <= MAX_SIZE:
        return False
    if first == second:
        return not path and first_hash == second_hash
    if not path:
        return False
    path = list(path)
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_hash and sr == second_hash and sn == 0


def _outcome(func: Callable[..., None], *args: Any) -> bool:
    try:
        func(*args)
    except (MalformedError, VerificationError):
        return False
    return True


def _bit_flips(value: bytes) -> list[bytes]:
    out = []
    for bit in range(len(value) * 8):
        flipped = bytearray(value)
        flipped[bit // 8] ^= 1 << (bit % 8)
        out.append(bytes(flipped))
    return out


def _int_flips(value: int) -> list[int]:
    # One bit past MAX_SIZE too, so out-of-range values are covered.
    return [value ^ (1 << bit) for bit in range(65)]


def _list_edits(proof: list[bytes]) -> list[list[bytes]]:
    extra = hashlib.sha256(b"extra").digest()
    edits = [proof[:i] + proof[i + 1 :] for i in range(len(proof))]
    edits += [[*proof[:i], extra, *proof[i:]] for i in range(len(proof) + 1)]
    edits += [[*proof[:i], proof[i], *proof[i:]] for i in range(len(proof))]
    return edits


def _element_flips(proof: list[bytes]) -> list[list[bytes]]:
    return [
        [*proof[:i], flipped, *proof[i + 1 :]]
        for i, element in enumerate(proof)
        for flipped in _bit_flips(element)
    ]


MUTATION_SETTINGS = settings(max_examples=15, deadline=None)


@MUTATION_SETTINGS
@given(st.data())
def test_inclusion_mutations_fail(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, MAX_LEAVES), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    leaf, root = LEAVES[index], root_hash(LEAVES[:size])
    proof = inclusion_proof(LEAVES, index, size)
    assert _outcome(verify_inclusion, leaf, index, size, proof, root)
    assert rfc_verify_inclusion(leaf, index, size, proof, root)

    never = [(leaf, index, size, p, root) for p in _element_flips(proof) + _list_edits(proof)]
    never += [(leaf, index, size, proof, r) for r in _bit_flips(root)]
    never += [(lf, index, size, proof, root) for lf in _bit_flips(leaf)]
    never += [(leaf, i, size, proof, root) for i in _int_flips(index)]
    for args in never:
        assert not rfc_verify_inclusion(*args)
        assert not _outcome(verify_inclusion, *args), args
    for other in _int_flips(size):
        args = (leaf, index, other, proof, root)
        assert _outcome(verify_inclusion, *args) == rfc_verify_inclusion(*args), args


@MUTATION_SETTINGS
@given(st.data())
def test_consistency_mutations_fail(data: st.DataObject) -> None:
    new = data.draw(st.integers(1, MAX_LEAVES), label="new")
    old = data.draw(st.integers(1, new), label="old")
    old_root, new_root = root_hash(LEAVES[:old]), root_hash(LEAVES[:new])
    proof = consistency_proof(LEAVES, old, new)
    assert _outcome(verify_consistency, old, new, proof, old_root, new_root)
    assert rfc_verify_consistency(old, new, proof, old_root, new_root)

    never = [(old, new, p, old_root, new_root) for p in _element_flips(proof)]
    never += [(old, new, p, old_root, new_root) for p in _list_edits(proof)]
    never += [(old, new, proof, r, new_root) for r in _bit_flips(old_root)]
    never += [(old, new, proof, old_root, r) for r in _bit_flips(new_root)]
    never += [(o, new, proof, old_root, new_root) for o in _int_flips(old)]
    for args in never:
        assert not rfc_verify_consistency(*args)
        assert not _outcome(verify_consistency, *args), args
    for other in _int_flips(new):
        args = (old, other, proof, old_root, new_root)
        assert _outcome(verify_consistency, *args) == rfc_verify_consistency(*args), args


def test_proofs_bind_the_size_only_through_the_root() -> None:
    # The documented limit above, pinned: these are RFC 9162 behaviour, not ours.
    root7 = root_hash(LEAVES[:7])
    proof = inclusion_proof(LEAVES, 0, 7)
    for size in (5, 6, 7, 8):
        verify_inclusion(LEAVES[0], 0, size, proof, root7)
        assert rfc_verify_inclusion(LEAVES[0], 0, size, proof, root7)
    with pytest.raises(MalformedError, match="proof length is 3, expected 2"):
        verify_inclusion(LEAVES[0], 0, 4, proof, root7)
    # A consistency proof from 1 is the inclusion proof of leaf 0: same limit.
    assert consistency_proof(LEAVES, 1, 7) == proof
    verify_consistency(1, 6, proof, LEAVES[0], root7)


def test_rfc_reference_verifiers_agree_with_ours_exhaustively() -> None:
    for size in range(1, 40):
        root = root_hash(LEAVES[:size])
        for index in range(size):
            proof = inclusion_proof(LEAVES, index, size)
            assert rfc_verify_inclusion(LEAVES[index], index, size, proof, root)
        for old in range(1, size + 1):
            proof = consistency_proof(LEAVES, old, size)
            assert rfc_verify_consistency(old, size, proof, root_hash(LEAVES[:old]), root)
            # Sizes the proof might be replayed against: the two agree on all.
            for other in range(1, 40):
                args = (old, other, proof, root_hash(LEAVES[:old]), root)
                assert _outcome(verify_consistency, *args) == rfc_verify_consistency(*args)
                args = (other, size, proof, root_hash(LEAVES[:old]), root)
                assert _outcome(verify_consistency, *args) == rfc_verify_consistency(*args)


def test_swapped_roots_fail() -> None:
    proof = consistency_proof(LEAVES, 3, 9)
    with pytest.raises(VerificationError, match="computed old root"):
        verify_consistency(3, 9, proof, root_hash(LEAVES[:9]), root_hash(LEAVES[:3]))


# --- every error path -----------------------------------------------------

H = LEAVES[0]
ROOT7 = root_hash(LEAVES[:7])
PROOF_2_OF_7 = inclusion_proof(LEAVES, 2, 7)
ROOT3 = root_hash(LEAVES[:3])
PROOF_3_TO_7 = consistency_proof(LEAVES, 3, 7)
WRONG = hashlib.sha256(b"wrong").digest()
INC = "inclusion proof for leaf"


def _incl(**kw: Any) -> Callable[[], object]:
    args: dict[str, Any] = {
        "leaf_hash": LEAVES[2],
        "index": 2,
        "size": 7,
        "proof": PROOF_2_OF_7,
        "root": ROOT7,
    }
    args.update(kw)
    return lambda: verify_inclusion(**args)


def _cons(**kw: Any) -> Callable[[], object]:
    args: dict[str, Any] = {
        "old_size": 3,
        "new_size": 7,
        "proof": PROOF_3_TO_7,
        "old_root": ROOT3,
        "new_root": ROOT7,
    }
    args.update(kw)
    return lambda: verify_consistency(**args)


class ShortReader:
    def read_hashes(self, subtrees: Sequence[Subtree]) -> list[bytes]:
        return [H]


class TupleReader:
    def read_hashes(self, subtrees: Sequence[Subtree]) -> Any:
        return tuple(H for _ in subtrees)


class BadHashReader:
    def read_hashes(self, subtrees: Sequence[Subtree]) -> list[bytes]:
        return [H[:31] for _ in subtrees]


FULL = [H] * 64
# Deliberately ill-typed arguments, as callers outside mypy could pass them.
NOT_BYTES: Any = "x"
H_ANY: Any = H

ERROR_CASES: list[tuple[str, Callable[[], object], type[Exception], str]] = [
    # verify_inclusion
    ("incl-index-eq-size", _incl(index=7), MalformedError,
     f"{INC} 7 in tree of size 7: leaf index 7 is not below tree size 7"),
    ("incl-index-gt-size", _incl(index=9), MalformedError, "leaf index 9 is not below tree size 7"),
    ("incl-size-zero", _incl(index=0, size=0), MalformedError, "a tree of size 0 has no leaves"),
    ("incl-index-negative", _incl(index=-1), MalformedError,
     f"index -1 is outside 0..{MAX_SIZE}"),
    ("incl-size-negative", _incl(size=-7), MalformedError, "size -7 is outside"),
    ("incl-size-too-big", _incl(size=MAX_SIZE + 1), MalformedError,
     f"size {MAX_SIZE + 1} is outside 0..{MAX_SIZE}"),
    ("incl-index-bool", _incl(index=True), MalformedError, "index is bool, expected int"),
    ("incl-size-str", _incl(size="7"), MalformedError, "size is str, expected int"),
    ("incl-leaf-short", _incl(leaf_hash=H[:31]), MalformedError,
     "leaf hash is 31 bytes, expected 32"),
    ("incl-leaf-str", _incl(leaf_hash=H.hex()), MalformedError,
     "leaf hash is str, expected 32 bytes"),
    ("incl-root-long", _incl(root=ROOT7 + b"\x00"), MalformedError,
     "root is 33 bytes, expected 32"),
    ("incl-root-none", _incl(root=None), MalformedError, "root is NoneType, expected 32 bytes"),
    ("incl-proof-short", _incl(proof=PROOF_2_OF_7[:-1]), MalformedError,
     "proof length is 2, expected 3"),
    ("incl-proof-long", _incl(proof=[*PROOF_2_OF_7, H]), MalformedError,
     "proof length is 4, expected 3"),
    ("incl-proof-elem-short", _incl(proof=[PROOF_2_OF_7[0], H[:31], H]), MalformedError,
     "proof hash 1 is 31 bytes, expected 32"),
    ("incl-proof-elem-str", _incl(proof=[PROOF_2_OF_7[0], H, "x" * 32]), MalformedError,
     "proof hash 2 is str, expected 32 bytes"),
    ("incl-proof-bytes", _incl(proof=b"".join(PROOF_2_OF_7)), MalformedError,
     "hashes given as bytes, expected a sequence of hashes"),
    ("incl-proof-none", _incl(proof=None), MalformedError, "hashes given as NoneType"),
    ("incl-wrong-root", _incl(root=WRONG), VerificationError,
     f"{INC} 2 in tree of size 7: computed root {ROOT7.hex()}, expected {WRONG.hex()}"),
    ("incl-wrong-leaf", _incl(leaf_hash=LEAVES[3]), VerificationError,
     f"computed root [0-9a-f]{{64}}, expected {ROOT7.hex()}"),
    ("incl-wrong-index", _incl(index=3), VerificationError, f"expected {ROOT7.hex()}"),
    ("root-from-proof-bad-index",
     lambda: root_from_inclusion_proof(H, 1, 1, []), MalformedError,
     "leaf index 1 is not below tree size 1"),
    # verify_consistency
    ("cons-old-zero", _cons(old_size=0), MalformedError,
     "consistency proof from size 0 to size 7: old size must be at least 1"),
    ("cons-both-zero", _cons(old_size=0, new_size=0, proof=[]), MalformedError,
     "old size must be at least 1"),
    ("cons-old-gt-new", _cons(old_size=8), MalformedError, "old size 8 exceeds new size 7"),
    ("cons-old-negative", _cons(old_size=-3), MalformedError, "old size -3 is outside"),
    ("cons-new-too-big", _cons(new_size=MAX_SIZE + 1), MalformedError, "new size 1844"),
    ("cons-new-float", _cons(new_size=7.0), MalformedError, "new size is float, expected int"),
    ("cons-old-root-short", _cons(old_root=ROOT3[:1]), MalformedError,
     "old root is 1 bytes, expected 32"),
    ("cons-new-root-bytearray", _cons(new_root=bytearray(ROOT7)), MalformedError,
     "new root is bytearray, expected 32 bytes"),
    ("cons-proof-short", _cons(proof=PROOF_3_TO_7[1:]), MalformedError,
     "proof length is 3, expected 4"),
    ("cons-proof-long", _cons(proof=[*PROOF_3_TO_7, H]), MalformedError,
     "proof length is 5, expected 4"),
    ("cons-proof-empty", _cons(proof=[]), MalformedError, "proof length is 0, expected 4"),
    ("cons-proof-elem-long", _cons(proof=[*PROOF_3_TO_7[:4], H + H]), MalformedError,
     "proof hash 4 is 64 bytes, expected 32"),
    ("cons-proof-str", _cons(proof="abc"), MalformedError, "hashes given as str"),
    ("cons-equal-nonempty-proof", _cons(old_size=7, proof=[H]), MalformedError,
     "proof length is 1, expected 0 for equal sizes"),
    ("cons-equal-roots-differ", _cons(old_size=7, proof=[]), VerificationError,
     f"roots differ for equal sizes: old root {ROOT3.hex()}, new root {ROOT7.hex()}"),
    ("cons-wrong-old-root", _cons(old_root=WRONG), VerificationError,
     f"consistency proof from size 3 to size 7: computed old root {ROOT3.hex()}, "
     f"expected {WRONG.hex()}"),
    ("cons-wrong-new-root", _cons(new_root=WRONG), VerificationError,
     f"computed new root {ROOT7.hex()}, expected {WRONG.hex()}"),
    ("cons-pow2-wrong-old-root",
     lambda: verify_consistency(4, 7, consistency_proof(LEAVES, 4, 7), WRONG, ROOT7),
     VerificationError, "computed new root [0-9a-f]{64}, expected"),
    # generation
    ("gen-incl-short-list", lambda: inclusion_proof(LEAVES[:4], 1, 5), MalformedError,
     "inclusion proof for leaf 1 in tree of size 5: the leaf hash list has length 4"),
    ("gen-incl-index", lambda: inclusion_proof(LEAVES, 5, 5), MalformedError,
     "leaf index 5 is not below tree size 5"),
    ("gen-incl-bad-leaf", lambda: inclusion_proof([H, H[:31], H], 0, 3), MalformedError,
     "leaf hash 1 is 31 bytes, expected 32"),
    ("gen-cons-old-zero", lambda: consistency_proof(LEAVES, 0, 5), MalformedError,
     "old size must be at least 1"),
    ("gen-cons-old-gt-new", lambda: consistency_proof(LEAVES, 6, 5), MalformedError,
     "old size 6 exceeds new size 5"),
    ("gen-cons-short-list", lambda: consistency_proof(LEAVES[:4], 2, 5), MalformedError,
     "consistency proof from size 2 to size 5: the leaf hash list has length 4"),
    ("gen-incl-subtrees-size0", lambda: inclusion_proof_subtrees(0, 0), MalformedError,
     "a tree of size 0 has no leaves"),
    ("gen-cons-subtrees-old0", lambda: consistency_proof_subtrees(0, 3), MalformedError,
     "old size must be at least 1"),
    ("root-hash-bad-leaf", lambda: root_hash([H, H, NOT_BYTES]), MalformedError,
     "root hash: leaf hash 2 is str, expected 32 bytes"),
    ("root-subtrees-negative", lambda: root_subtrees(-1), MalformedError,
     "root subtrees: size -1 is outside"),
    ("range-misaligned", lambda: range_subtrees(1, 3), MalformedError,
     "leaf range [1, 3) is not aligned to a subtree of the tree"),
    ("range-negative-start", lambda: range_subtrees(-2, 0), MalformedError,
     "leaf range [-2, 0) is not aligned"),
    ("range-reversed", lambda: range_subtrees(4, 2), MalformedError,
     "leaf range [4, 2) is not aligned"),
    ("leaf-reader-out-of-range", lambda: LeafHashReader(LEAVES[:4]).read_hashes([Subtree(1, 2)]),
     MalformedError, "subtree at level 1, index 2 (leaves 4..5) is outside the 4 leaves"),
    ("leaf-reader-negative", lambda: LeafHashReader(LEAVES[:4]).read_hashes([Subtree(0, -1)]),
     MalformedError, "subtree at level 0, index -1"),
    ("reader-short-answer", lambda: inclusion_proof_from(ShortReader(), 0, 7), MalformedError,
     f"{INC} 0 in tree of size 7: hash reader returned a list of 1 for a batch of 4 subtrees"),
    ("reader-tuple-answer", lambda: root_hash_from(TupleReader(), 3), MalformedError,
     "root of tree of size 3: hash reader returned tuple for a batch of 2 subtrees"),
    ("reader-bad-hash", lambda: consistency_proof_from(BadHashReader(), 3, 7), MalformedError,
     "consistency proof from size 3 to size 7: read hash 0 is 31 bytes, expected 32"),
    # CompactTree
    ("compact-wrong-count", lambda: CompactTree.from_compact_range(3, [H]), MalformedError,
     "compact range of tree of size 3: length is 1, expected 2"),
    ("compact-bad-hash", lambda: CompactTree.from_compact_range(3, [H, H[:5]]), MalformedError,
     "compact range of tree of size 3: hash 1 is 5 bytes, expected 32"),
    ("compact-negative-size", lambda: CompactTree.from_compact_range(-1, []), MalformedError,
     "compact range of tree of size -1: size -1 is outside"),
    ("compact-bytes", lambda: CompactTree.from_compact_range(1, H_ANY), MalformedError,
     "hashes given as bytes"),
    ("append-bad-hash", lambda: CompactTree().append(H[:31]), MalformedError,
     "append at index 0: leaf hash is 31 bytes, expected 32"),
    ("extend-bad-hash", lambda: CompactTree().extend([H, b""]), MalformedError,
     "append at index 0: leaf hash 1 is 0 bytes, expected 32"),
    ("append-full", lambda: CompactTree.from_compact_range(MAX_SIZE, FULL).append(H),
     MalformedError, f"append at index {MAX_SIZE}: tree is full"),
    ("extend-overflow", lambda: CompactTree.from_compact_range(MAX_SIZE - 1, FULL[:63]).extend(
        [H, H]), MalformedError, f"2 more leaves would exceed {MAX_SIZE}"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [pytest.param(call, error, message, id=name) for name, call, error, message in ERROR_CASES],
)
def test_error_paths(call: Callable[[], object], error: type[Exception], message: str) -> None:
    # Regexes above use [0-9a-f]{64} for hashes the case does not pin down;
    # everything else in a message is literal.
    pattern = message if "[0-9a-f]" in message else re.escape(message)
    with pytest.raises(error, match=pattern) as info:
        call()
    # Exactly the requested class: a VerificationError case must not be a
    # MalformedError and the other way round.
    assert type(info.value) is error
