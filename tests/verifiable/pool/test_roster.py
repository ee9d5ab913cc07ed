"""verifiable.pool.roster: member-set trees (roster, juror pool) and paid-claims lists.

Roots are checked against ``merkle.root_hash`` over the documented leaves and
against a recursive RFC 9162 MTH written here; the streaming builder is run
with a tiny chunk size too, so that chunk boundaries are exercised cheaply.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifiable.errors import MalformedError, VerificationError
from verifiable.log.merkle import EMPTY_ROOT, inclusion_proof, root_hash
from verifiable.pool import roster
from verifiable.pool.roster import (
    RosterSummary,
    check_member_ids,
    member_set_leaves,
    paid_claim_leaf,
    paid_claims_root,
    roster_inclusion_proof,
    roster_leaf,
    roster_root,
    roster_summary,
    roster_summary_proof,
    verify_roster_membership,
)

PAID_VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[2] / "vectors" / "sortition-panels.json").read_text("utf-8")
)["paid_claims"]


def _ids(n: int, label: str = "member") -> list[str]:
    return sorted(hashlib.sha256(f"{label} {i}".encode()).digest()[:16].hex() for i in range(n))


def _monotone(n: int) -> Iterator[str]:
    step = (1 << 128) // (n + 1)
    return (format(i * step, "032x") for i in range(1, n + 1))


def ref_mth(data: Sequence[bytes]) -> bytes:
    if not data:
        return hashlib.sha256(b"").digest()
    if len(data) == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1
    while k * 2 < len(data):
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(data[:k]) + ref_mth(data[k:])).digest()


@pytest.fixture
def tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 4 ids, so that a few dozen ids cross many chunk boundaries."""
    monkeypatch.setattr(roster, "_CHUNK_LEVEL", 2)
    monkeypatch.setattr(roster, "_CHUNK", 4)


# --- leaves and roots ------------------------------------------------------------------------


def test_roster_leaf() -> None:
    member = "0123456789abcdef" * 2
    assert roster_leaf(member) == hashlib.sha256(b"\x00" + member.encode("ascii")).digest()


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 100])
def test_roster_root_is_the_rfc_tree(n: int) -> None:
    ids = _ids(n)
    want = ref_mth([m.encode() for m in ids])
    assert roster_root(ids) == (want, n)
    assert roster_root(ids) == (root_hash([roster_leaf(m) for m in ids]), n)
    assert member_set_leaves(ids) == [roster_leaf(m) for m in ids]
    if n == 0:
        assert want == EMPTY_ROOT


@pytest.mark.parametrize("n", [2**14 - 1, 2**14, 2**14 + 1, 3 * 2**14 + 5])
def test_roster_root_across_real_chunk_boundaries(n: int) -> None:
    ids = list(_monotone(n))
    assert roster_root(iter(ids)) == (root_hash([roster_leaf(m) for m in ids]), n)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(min_value=0, max_value=70))
def test_roster_root_with_tiny_chunks(n: int) -> None:
    ids = _ids(n)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(roster, "_CHUNK_LEVEL", 2)
        mp.setattr(roster, "_CHUNK", 4)
        assert roster_root(x for x in ids) == (ref_mth([m.encode() for m in ids]), n)


def test_roster_root_streams_any_iterable() -> None:
    ids = _ids(50)
    want = roster_root(ids)
    assert roster_root(iter(ids)) == want
    assert roster_root(tuple(ids)) == want
    assert roster_root(m for m in ids) == want
    assert roster_root(ids, size_hint=50) == want


def test_roster_root_size_hint() -> None:
    with pytest.raises(MalformedError, match=r"roster: expected 51 ids \(size hint\), got 50"):
        roster_root(_ids(50), size_hint=51)
    with pytest.raises(MalformedError, match=r"roster: size hint -1 is not a count"):
        roster_root(_ids(5), size_hint=-1)
    with pytest.raises(MalformedError, match=r"roster: size hint True is not a count"):
        roster_root(_ids(5), size_hint=True)


# --- malformed rosters -----------------------------------------------------------------------


def _bad_rosters() -> list[Any]:
    ids = _ids(12)
    swapped = [*ids[:6], ids[7], ids[6], *ids[8:]]
    return [
        pytest.param(swapped, r"roster: id 7 is out of order: \w+ after \w+", id="swapped"),
        pytest.param(
            [*ids[:5], ids[4], *ids[5:]], r"roster: id 5 is duplicate: (\w+) after \1", id="dup"
        ),
        pytest.param(ids[::-1], r"roster: id 1 is out of order", id="reversed"),
        pytest.param([*ids[:3], ids[3].upper()], r"roster: id 3: expected an id", id="upper"),
        pytest.param([*ids[:3], ids[3][:-1]], r"roster: id 3: expected an id", id="short"),
        pytest.param([*ids[:3], ids[3] + "0"], r"roster: id 3: expected an id", id="long"),
        pytest.param([*ids[:3], 7], r"roster: id 3: expected an id .* got int", id="int"),
        pytest.param([*ids[:3], b"a" * 32], r"roster: id 3: .* got bytes", id="bytes"),
        pytest.param([*ids[:3], "g" * 32], r"roster: id 3: expected an id", id="non-hex"),
        pytest.param([*ids[:3], "é" * 32], r"roster: id 3: expected an id", id="non-ascii"),
        # Right lengths in total, wrong one by one: the fast check must not
        # pass an id of 31 characters next to one of 33.
        pytest.param(["a" * 31, "b" * 33], r"roster: id 0: expected an id", id="31+33"),
    ]


@pytest.mark.parametrize(("ids", "match"), _bad_rosters())
def test_roster_root_refuses(ids: list[Any], match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        roster_root(ids)


@pytest.mark.parametrize(("ids", "match"), _bad_rosters())
def test_roster_root_refuses_with_tiny_chunks(
    tiny_chunks: None, ids: list[Any], match: str
) -> None:
    with pytest.raises(MalformedError, match=match):
        roster_root(iter(ids))


def test_order_is_checked_across_chunks(tiny_chunks: None) -> None:
    ids = _ids(9)
    # ids 3 and 4 straddle the boundary between the first two chunks.
    with pytest.raises(MalformedError, match=r"roster: id 4 is out of order"):
        roster_root([*ids[:3], ids[4], ids[3], *ids[5:]])
    with pytest.raises(MalformedError, match=r"roster: id 4 is duplicate"):
        roster_root([*ids[:4], ids[3], *ids[5:]])
    with pytest.raises(MalformedError, match=r"member set: id 4 is duplicate"):
        check_member_ids([*ids[:4], ids[3], *ids[5:]])


def test_refuses_a_single_string() -> None:
    with pytest.raises(MalformedError, match=r"roster: expected an iterable of ids, got a single"):
        roster_root("a" * 32)
    with pytest.raises(MalformedError, match=r"member set: expected a sequence of ids, got str"):
        check_member_ids("a" * 32)
    with pytest.raises(MalformedError, match=r"member set: expected a sequence of ids, got set"):
        member_set_leaves({"a" * 32})  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["A" * 32, "a" * 31, 5, None], ids=repr)
def test_roster_leaf_refuses(bad: Any) -> None:
    with pytest.raises(MalformedError, match=r"roster leaf: expected an id of 32 lowercase hex"):
        roster_leaf(bad)


# --- inclusion proofs ------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 37, 64])
def test_every_member_proves_membership(n: int) -> None:
    ids = _ids(n)
    root, size = roster_root(ids)
    for i, member in enumerate(ids):
        index, proof = roster_inclusion_proof(ids, member)
        assert index == i
        verify_roster_membership(member, index, size, proof, root)


def test_proof_of_a_non_member_is_refused() -> None:
    ids = _ids(10)
    outsider = "f" * 32
    with pytest.raises(VerificationError, match=rf"member {outsider} is not among the 10 members"):
        roster_inclusion_proof(ids, outsider)
    with pytest.raises(VerificationError, match=r"is not among the 0 members"):
        roster_inclusion_proof([], outsider)
    with pytest.raises(MalformedError, match=r"roster inclusion proof: expected an id"):
        roster_inclusion_proof(ids, "F" * 32)
    with pytest.raises(MalformedError, match=r"roster inclusion proof: id 1 is out of order"):
        roster_inclusion_proof(ids[::-1], ids[0])


def test_every_mutation_fails() -> None:
    ids = _ids(37)
    root, size = roster_root(ids)
    member = ids[20]
    index, proof = roster_inclusion_proof(ids, member)
    failures = 0

    def fails(m: str, i: int, s: int, p: list[bytes], r: bytes) -> None:
        nonlocal failures
        with pytest.raises((VerificationError, MalformedError)):
            verify_roster_membership(m, i, s, p, r)
        failures += 1

    for k, element in enumerate(proof):
        for bit in range(256):
            flipped = bytearray(element)
            flipped[bit // 8] ^= 1 << (bit % 8)
            fails(member, index, size, [*proof[:k], bytes(flipped), *proof[k + 1 :]], root)
    for bit in range(256):
        flipped = bytearray(root)
        flipped[bit // 8] ^= 1 << (bit % 8)
        fails(member, index, size, proof, bytes(flipped))
    for bad_index in {0, index - 1, index + 1, index ^ 1, size - 1, size}:
        if bad_index != index:
            fails(member, bad_index, size, proof, root)
    for bad_size in (0, index, index + 1, 32, 65, size * 2):
        fails(member, index, bad_size, proof, root)
    # A size whose tree gives the leaf the same path shape yields the same
    # root: RFC 9162 proofs do not authenticate the size by themselves.  The
    # size a member checks against is the period.closed entry's roster_size,
    # which the log itself authenticates.
    verify_roster_membership(member, index, size - 1, proof, root)
    verify_roster_membership(member, index, size + 1, proof, root)
    for other in (ids[19], ids[21], "0" * 32):
        fails(other, index, size, proof, root)
    fails(member, index, size, proof[:-1], root)
    fails(member, index, size, [*proof, proof[0]], root)
    assert failures > 256 * len(proof)


def test_membership_failure_says_who() -> None:
    ids = _ids(8)
    root, size = roster_root(ids)
    index, proof = roster_inclusion_proof(ids, ids[3])
    with pytest.raises(VerificationError, match=rf"roster membership of {ids[4]}: .*computed root"):
        verify_roster_membership(ids[4], index, size, proof, root)
    with pytest.raises(MalformedError, match=r"proof length is 2, expected 3"):
        verify_roster_membership(ids[3], index, size, proof[:2], root)
    with pytest.raises(MalformedError, match=r"roster leaf: expected an id"):
        verify_roster_membership("x", index, size, proof, root)


# --- proofs from a summary ------------------------------------------------------------------


def _chunk_ids(summary: RosterSummary, ids: list[str], member: str) -> list[str]:
    start, end = summary.chunk_range(summary.chunk_of(member))
    return ids[start:end]


def test_summary_proofs_equal_full_tree_proofs() -> None:
    for n in range(1, 41):
        ids = _ids(n, "summary")
        leaves = [roster_leaf(m) for m in ids]
        root = root_hash(leaves)
        for level in range(4):
            summary = roster_summary(ids, level=level)
            assert (summary.root, summary.size, summary.level) == (root, n, level)
            assert list(summary.firsts) == ids[:: 1 << level]
            for i, member in enumerate(ids):
                got = roster_summary_proof(summary, _chunk_ids(summary, ids, member), member)
                assert got == (i, inclusion_proof(leaves, i, n)), (n, level, i)


def test_summary_at_a_realistic_level() -> None:
    ids = list(_monotone(10_000))
    summary = roster_summary(iter(ids), level=12, size_hint=10_000)
    assert (summary.root, summary.size) == roster_root(ids)
    assert len(summary.chunk_hashes) == 2 and len(summary.tail) == (10_000 - 8_192).bit_count()
    for i in (0, 4_095, 4_096, 8_191, 8_192, 9_999):
        index, proof = roster_summary_proof(summary, _chunk_ids(summary, ids, ids[i]), ids[i])
        assert index == i
        verify_roster_membership(ids[i], index, summary.size, proof, summary.root)


def test_empty_summary() -> None:
    summary = roster_summary([], level=3)
    assert summary == RosterSummary(EMPTY_ROOT, 0, 3, (), (), ())
    with pytest.raises(VerificationError, match=r"member f+ is not among the 0 members"):
        summary.chunk_of("f" * 32)


def test_summary_proof_refuses_wrong_chunks() -> None:
    ids = _ids(20, "summary")
    summary = roster_summary(ids, level=2)
    member = ids[9]  # chunk 2: members 8..11
    good = ids[8:12]
    with pytest.raises(
        MalformedError, match=r"chunk 2 holds members 8\.\.11, expected 4 ids, got 3"
    ):
        roster_summary_proof(summary, good[:3], member)
    with pytest.raises(MalformedError, match=r"roster summary proof: id 9 is out of order"):
        roster_summary_proof(summary, [good[1], good[0], *good[2:]], member)
    with pytest.raises(VerificationError, match=r"ids given for chunk 2 .* do not hash"):
        roster_summary_proof(summary, [good[0], good[1], good[2], "f" * 32], member)
    # The next chunk's ids (also sorted, right length) are refused by their hash.
    with pytest.raises(VerificationError, match=r"ids given for chunk 2 \(members 8\.\.11\)"):
        roster_summary_proof(summary, ids[12:16], member)
    outsider = format(int(ids[9], 16) + 1, "032x")
    with pytest.raises(VerificationError, match=rf"member {outsider} is not among the 20"):
        roster_summary_proof(summary, good, outsider)
    with pytest.raises(VerificationError, match=r"member 0+ is not among the 20 members"):
        summary.chunk_of("0" * 32)
    with pytest.raises(MalformedError, match=r"roster summary: expected an id"):
        summary.chunk_of("Z" * 32)


def test_summary_with_altered_hashes_is_caught() -> None:
    ids = _ids(20, "summary")
    summary = roster_summary(ids, level=2)
    hashes = list(summary.chunk_hashes)
    hashes[0] = bytes(32)  # another chunk than the member's
    altered = dataclasses.replace(summary, chunk_hashes=tuple(hashes))
    with pytest.raises(VerificationError, match=r"the summary is not self-consistent: .*computed"):
        roster_summary_proof(altered, ids[16:20], ids[17])


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"root": b"x"}, r"roster summary: root is not a 32-byte hash"),
        ({"size": -1}, r"roster summary: size -1 is not a count"),
        ({"level": 25}, r"roster summary: level 25 is not in 0\.\.24"),
        ({"size": 21}, r"21 members at level 2 need .* = \(6, 5, 1\), got \(5, 5, 0\)"),
        ({"tail": (bytes(32),)}, r"20 members at level 2 need .* = \(5, 5, 0\), got \(5, 5, 1\)"),
    ],
    ids=["root", "size", "level", "counts", "tail"],
)
def test_summary_refuses_inconsistent_fields(change: dict[str, Any], match: str) -> None:
    summary = roster_summary(_ids(20, "summary"), level=2)
    with pytest.raises(MalformedError, match=match):
        dataclasses.replace(summary, **change)


def test_roster_summary_refuses() -> None:
    with pytest.raises(MalformedError, match=r"roster: summary level -1 is not in 0\.\.24"):
        roster_summary(_ids(4), level=-1)
    with pytest.raises(MalformedError, match=r"roster: expected 5 ids \(size hint\), got 4"):
        roster_summary(_ids(4), size_hint=5)
    with pytest.raises(MalformedError, match=r"roster: id 1 is duplicate"):
        roster_summary([_ids(1)[0]] * 2)


# --- paid claims -----------------------------------------------------------------------------


@pytest.mark.parametrize("vector", PAID_VECTORS, ids=[v["name"] for v in PAID_VECTORS])
def test_paid_claims_vectors(vector: dict[str, Any]) -> None:
    paid = [(claim, amount) for claim, amount in vector["paid"]]
    assert paid_claims_root(paid).hex() == vector["root"]
    data = [claim.encode("ascii") + amount.to_bytes(8, "big") for claim, amount in paid]
    assert ref_mth(data).hex() == vector["root"]


def test_paid_claim_leaf_layout() -> None:
    claim = "ab" * 16
    leaf = paid_claim_leaf(claim, 0x0102030405)
    data = claim.encode("ascii") + bytes([0, 0, 0, 1, 2, 3, 4, 5])
    assert len(data) == roster.PAID_LEAF_LENGTH == 40
    assert leaf == hashlib.sha256(b"\x00" + data).digest()
    assert paid_claim_leaf(claim, 2**53 - 1) != paid_claim_leaf(claim, 2**53 - 2)


def test_paid_claims_root_is_ordered_and_complete() -> None:
    paid = [(c, 1000 * (i + 1)) for i, c in enumerate(_ids(20, "claim"))]
    root = paid_claims_root(paid)
    assert root == root_hash([paid_claim_leaf(c, a) for c, a in paid])
    assert paid_claims_root(paid[::-1]) != root  # log order matters
    assert paid_claims_root(paid[:-1]) != root  # a missing claim changes it
    changed = [*paid[:5], (paid[5][0], paid[5][1] + 1), *paid[6:]]
    assert paid_claims_root(changed) != root  # and so does one fen
    assert paid_claims_root([]) == EMPTY_ROOT


@pytest.mark.parametrize(
    ("paid", "match"),
    [
        ([("ab" * 16, 5), ("ab" * 16, 5)], r"paid claims: item 1: claim (ab)+ is listed twice"),
        ([("ab" * 16, 0)], r"paid claim leaf: claim (ab)+: amount 0 is not a positive integer"),
        ([("ab" * 16, -3)], r"amount -3 is not a positive integer of fen"),
        ([("ab" * 16, 2**53)], r"amount 9007199254740992 is not a positive integer"),
        ([("ab" * 16, True)], r"amount True is not a positive integer"),
        ([("ab" * 16, 1.5)], r"amount 1\.5 is not a positive integer"),
        ([("AB" * 16, 5)], r"paid claim leaf: expected an id of 32 lowercase hex"),
        ([["ab" * 16, 5]], r"paid claims: item 0 is not a \(claim, amount\) pair"),
        ([("ab" * 16, 5, 6)], r"paid claims: item 0 is not a \(claim, amount\) pair"),
    ],
    ids=["twice", "zero", "negative", "too-big", "bool", "float", "bad-id", "list", "triple"],
)
def test_paid_claims_root_refuses(paid: Any, match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        paid_claims_root(paid)
