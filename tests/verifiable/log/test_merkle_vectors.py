"""Published RFC 6962/9162 vectors against verifiable.log.merkle.

- ``rfc6962-hashes.json``: hasher cases, every root and node of the 8-leaf
  reference tree (transparency-dev/merkle ``testonly/constants.go``).
- ``transparency-dev-merkle/testdata/{inclusion,consistency}/**``: 196
  verifier cases, one test each, id = path relative to ``testdata``.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from verifiable.errors import MalformedError, VerificationError
from verifiable.log.merkle import (
    EMPTY_ROOT,
    CompactTree,
    LeafHashReader,
    Subtree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    root_hash_from,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).parents[2] / "vectors"
TESTDATA = VECTORS / "transparency-dev-merkle" / "testdata"

# Our contract is "every hash is 32 bytes" (as Go's x/mod/sumdb/tlog, whose Hash
# type is [32]byte).  This one file checks equal sizes with 12-byte "roots"
# ("don't care 2") and expects success; we reject the roots as malformed.
# It is the only deviation from the transparency-dev expectations.
CONTRACT_EXCEPTIONS = {
    "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json": MalformedError,
}


def _load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


RFC6962 = _load("rfc6962-hashes.json")
LEAF_INPUTS = [bytes.fromhex(x) for x in RFC6962["leaf_inputs_hex"]]
LEAVES = [leaf_hash(x) for x in LEAF_INPUTS]
ROOTS = [bytes.fromhex(x) for x in RFC6962["root_hashes_by_tree_size_hex"]]


def test_hasher_cases() -> None:
    cases = {case["desc"]: case for case in RFC6962["hasher_cases"]}
    assert len(cases) == 4
    assert EMPTY_ROOT.hex() == cases["empty tree root"]["want"]
    assert root_hash([]).hex() == cases["empty tree root"]["want"]
    assert leaf_hash(b"").hex() == cases["leaf hash of empty leaf (input hex '')"]["want"]
    case = cases["leaf hash of ASCII 'L123456'"]
    assert leaf_hash(case["leaf_ascii"].encode()).hex() == case["want"]
    (case,) = (c for c in cases.values() if "left_ascii" in c)
    got = node_hash(case["left_ascii"].encode(), case["right_ascii"].encode())
    assert got.hex() == case["want"]


@pytest.mark.parametrize("size", range(len(ROOTS)))
def test_reference_roots(size: int) -> None:
    assert len(ROOTS) == 9
    assert root_hash(LEAVES[:size]) == ROOTS[size]
    assert root_hash_from(LeafHashReader(LEAVES), size) == ROOTS[size]
    tree = CompactTree()
    tree.extend(LEAVES[:size])
    assert tree.root() == ROOTS[size]


def test_reference_node_hashes_are_the_complete_subtrees() -> None:
    levels = [[bytes.fromhex(h) for h in level] for level in RFC6962["node_hashes_by_level_hex"]]
    assert [len(level) for level in levels] == [8, 4, 2, 1]
    reader = LeafHashReader(LEAVES)
    for level, hashes in enumerate(levels):
        subtrees = [Subtree(level, index) for index in range(len(hashes))]
        assert reader.read_hashes(subtrees) == hashes
    tree = CompactTree()
    emitted = {(s.level, s.index): s.hash for s in tree.extend(LEAVES)}
    expected = {(lv, i): h for lv, hashes in enumerate(levels) for i, h in enumerate(hashes)}
    assert emitted == expected


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _case_ids(kind: str) -> list[str]:
    return sorted(p.relative_to(TESTDATA).as_posix() for p in (TESTDATA / kind).rglob("*.json"))


INCLUSION_CASES = _case_ids("inclusion")
CONSISTENCY_CASES = _case_ids("consistency")


def test_all_vector_files_are_collected() -> None:
    assert len(INCLUSION_CASES) == 98
    assert len(CONSISTENCY_CASES) == 98
    assert set(CONTRACT_EXCEPTIONS) <= set(CONSISTENCY_CASES)


def _expect(rel: str, want_err: bool) -> type[Exception] | tuple[type[Exception], ...] | None:
    if rel in CONTRACT_EXCEPTIONS:
        assert not want_err, "a listed contract exception must be a wantErr=false file"
        return CONTRACT_EXCEPTIONS[rel]
    return (MalformedError, VerificationError) if want_err else None


@pytest.mark.parametrize("rel", INCLUSION_CASES)
def test_inclusion_vector(rel: str) -> None:
    case = json.loads((TESTDATA / rel).read_text(encoding="utf-8"))
    proof = [_b64(p) for p in case["proof"] or []]
    leaf, root = _b64(case["leafHash"]), _b64(case["root"])
    index, size = case["leafIdx"], case["treeSize"]
    expected = _expect(rel, case["wantErr"])
    if expected is None:
        verify_inclusion(leaf, index, size, proof, root)
        # Happy paths are over the reference leaves: we must also generate them.
        if size <= len(LEAVES) and LEAVES[index] == leaf and ROOTS[size] == root:
            assert inclusion_proof(LEAVES, index, size) == proof
    else:
        with pytest.raises(expected, match=r"^inclusion proof for leaf -?\d+ in tree of size"):
            verify_inclusion(leaf, index, size, proof, root)


@pytest.mark.parametrize("rel", CONSISTENCY_CASES)
def test_consistency_vector(rel: str) -> None:
    case = json.loads((TESTDATA / rel).read_text(encoding="utf-8"))
    proof = [_b64(p) for p in case["proof"] or []]
    old, new = case["size1"], case["size2"]
    root1, root2 = _b64(case["root1"]), _b64(case["root2"])
    expected = _expect(rel, case["wantErr"])
    if expected is None:
        verify_consistency(old, new, proof, root1, root2)
        if new <= len(LEAVES) and (ROOTS[old], ROOTS[new]) == (root1, root2):
            assert consistency_proof(LEAVES, old, new) == proof
    else:
        with pytest.raises(expected, match=r"^consistency proof from size \d+ to size \d+"):
            verify_consistency(old, new, proof, root1, root2)


def test_contract_exception_is_only_about_hash_length() -> None:
    # The same check with real 32-byte roots passes, so the listed exception
    # rejects the 12-byte roots, not the equal-size rule.
    verify_consistency(1, 1, [], ROOTS[1], ROOTS[1])
    with pytest.raises(MalformedError, match=r"old root is 12 bytes, expected 32"):
        verify_consistency(1, 1, [], b"don't care 2", b"don't care 2")
