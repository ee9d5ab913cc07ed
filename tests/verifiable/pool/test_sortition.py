"""verifiable.pool.sortition: the juror pool root and the panel draw.

The reference sampler and Merkle root below are written from the text of
docs/format.md (section 5) alone (struct packing, a plain while loop, the RFC's
recursive tree hash) and never call the production code; the recorded vectors
in tests/vectors/sortition-panels.json are checked against both.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import struct
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, overload

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifiable.errors import MalformedError, RuleViolation
from verifiable.log.merkle import EMPTY_ROOT
from verifiable.pool.sortition import (
    DOMAIN,
    VALUE_SPACE,
    accept_index,
    candidate_indices,
    draw_input,
    draw_panel,
    draw_value,
    juror_pool_root,
    rejection_bound,
)

VECTORS = Path(__file__).parents[2] / "vectors"
VECTOR_FILE = VECTORS / "sortition-panels.json"
DATA: dict[str, Any] = json.loads(VECTOR_FILE.read_text("utf-8"))
POOLS: dict[str, list[str]] = {name: pool["ids"] for name, pool in DATA["pools"].items()}

SEED = hashlib.sha256(b"test seed").digest()
CLAIM = "c1a1" * 8


def _id(label: str) -> str:
    return hashlib.sha256(label.encode()).digest()[:16].hex()


def _pool(n: int, label: str = "pool") -> list[str]:
    return sorted(_id(f"{label} {i}") for i in range(n))


POOL_40 = _pool(40)
POOL_200 = _pool(200)


# --- the reference, from docs/format.md (section 5) only --------------------------------------


def ref_value(seed: bytes, claim: str, round_: int, appeal: bool, counter: int) -> int:
    """'the first 8 bytes of SHA-256(those 102 bytes), read as a big-endian
    unsigned 64-bit integer'."""
    data = b"mutualog/sortition/v1" + seed + claim.encode("ascii")
    data += struct.pack(">QBQ", round_, 1 if appeal else 0, counter)
    assert len(data) == 102
    (value,) = struct.unpack(">Q", hashlib.sha256(data).digest()[:8])
    return int(value)


def ref_panel(
    seed: bytes,
    claim: str,
    round_: int,
    appeal: bool,
    pool: Sequence[str],
    size: int,
    excluded: Collection[str],
) -> list[str] | None:
    """The panel, or None for panel.pool_too_small."""
    n = len(pool)
    eligible = n - sum(1 for x in set(excluded) if x in pool)
    if eligible < size:
        return None
    limit = (2**64 // n) * n  # the largest multiple of n that is at most 2^64
    chosen: list[str] = []
    drawn: set[int] = set()
    c = 0
    while len(chosen) < size:
        v = ref_value(seed, claim, round_, appeal, c)
        c = c + 1
        if v >= limit:
            continue
        i = v % n
        if i in drawn:
            continue
        drawn.add(i)
        if pool[i] in excluded:
            continue
        chosen.append(pool[i])
    return chosen


def ref_mth(data: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH, recursively, as the RFC states it."""
    if not data:
        return hashlib.sha256(b"").digest()
    if len(data) == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1
    while k * 2 < len(data):
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(data[:k]) + ref_mth(data[k:])).digest()


def ref_pool_root(ids: Sequence[str]) -> bytes:
    return ref_mth([i.encode("ascii") for i in ids])


# --- recorded vectors -----------------------------------------------------------------------


def _load_generator() -> ModuleType:
    path = VECTORS / "generate_sortition.py"
    spec = importlib.util.spec_from_file_location("generate_sortition", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_vector_file_regenerates_byte_for_byte() -> None:
    assert _load_generator().generate() == VECTOR_FILE.read_bytes()


@pytest.mark.parametrize("name", sorted(DATA["pools"]))
def test_vector_pool_roots(name: str) -> None:
    pool = DATA["pools"][name]
    assert len(pool["ids"]) == pool["size"]
    assert ref_pool_root(pool["ids"]).hex() == pool["root"]
    assert juror_pool_root(pool["ids"]).hex() == pool["root"]
    n = pool["size"]
    assert int(pool["rejection_bound"], 16) == 2**64 - 2**64 % n


def _case_args(case: dict[str, Any]) -> tuple[bytes, str, int, bool]:
    return bytes.fromhex(case["seed"]), case["claim"], case["round"], case["appeal"]


@pytest.mark.parametrize("case", DATA["panels"], ids=[c["name"] for c in DATA["panels"]])
def test_vector_panels_by_the_reference(case: dict[str, Any]) -> None:
    """The second, independent check: recorded panels recomputed from the doc."""
    seed, claim, round_, appeal = _case_args(case)
    pool = POOLS[case["pool"]]
    panel = ref_panel(seed, claim, round_, appeal, pool, case["size"], set(case["excluded"]))
    if "error" in case:
        assert case["error"] == "panel.pool_too_small"
        assert panel is None
    else:
        assert panel == case["panel"]
    for step in case["trace"]:
        value = ref_value(seed, claim, round_, appeal, step["counter"])
        assert f"{value:016x}" == step["value"]
        data = bytes.fromhex(step["input"])
        assert hashlib.sha256(data).digest()[:8].hex() == step["value"]
        n = len(pool)
        expected_index = value % n if value < 2**64 - 2**64 % n else None
        assert step["index"] == expected_index


@pytest.mark.parametrize("case", DATA["panels"], ids=[c["name"] for c in DATA["panels"]])
def test_vector_panels_by_the_production_sampler(case: dict[str, Any]) -> None:
    seed, claim, round_, appeal = _case_args(case)
    pool = POOLS[case["pool"]]
    args = (seed, claim, round_, appeal, pool, case["size"], case["excluded"])
    if "error" in case:
        with pytest.raises(RuleViolation, match=r"rule panel\.pool_too_small: .*only 8 of the 12"):
            draw_panel(*args)
    else:
        assert list(draw_panel(*args)) == case["panel"]
    for step in case["trace"]:
        assert draw_input(seed, claim, round_, appeal, step["counter"]).hex() == step["input"]


def test_vectors_cover_the_documented_cases() -> None:
    names = {c["name"] for c in DATA["panels"]}
    assert {"single", "small", "panel-31", "appeal-63", "pool-too-small"} <= names
    by_name = {c["name"]: c for c in DATA["panels"]}
    assert len(by_name["appeal-63"]["panel"]) == 63
    assert by_name["redraw-round-2"]["round"] == 2
    # "every-eligible" draws every eligible id: a permutation of them.
    every = by_name["every-eligible"]
    eligible = [i for i in POOLS["p12"] if i not in every["excluded"]]
    assert sorted(every["panel"]) == eligible


@settings(max_examples=60, deadline=None)
@given(
    seed=st.binary(min_size=32, max_size=32),
    n=st.integers(min_value=1, max_value=60),
    size=st.integers(min_value=1, max_value=12),
    round_=st.integers(min_value=1, max_value=2**53 - 1),
    appeal=st.booleans(),
    excluded_at=st.sets(st.integers(min_value=0, max_value=70), max_size=8),
)
def test_production_matches_the_reference(
    seed: bytes, n: int, size: int, round_: int, appeal: bool, excluded_at: set[int]
) -> None:
    pool = _pool(n, "hypothesis")
    excluded = {pool[i] if i < n else _id(f"outsider {i}") for i in excluded_at}
    want = ref_panel(seed, CLAIM, round_, appeal, pool, size, excluded)
    if want is None:
        with pytest.raises(RuleViolation, match=r"panel\.pool_too_small"):
            draw_panel(seed, CLAIM, round_, appeal, pool, size, excluded)
    else:
        assert list(draw_panel(seed, CLAIM, round_, appeal, pool, size, excluded)) == want


# --- the draw stream ------------------------------------------------------------------------


def test_draw_input_layout() -> None:
    data = draw_input(SEED, CLAIM, 7, True, 258)
    assert len(data) == 102
    assert data[:21] == DOMAIN == b"mutualog/sortition/v1"
    assert data[21:53] == SEED
    assert data[53:85] == CLAIM.encode()
    assert data[85:93] == (7).to_bytes(8, "big")
    assert data[93:94] == b"\x01"
    assert data[94:] == bytes([0, 0, 0, 0, 0, 0, 1, 2])
    assert draw_input(SEED, CLAIM, 7, False, 258)[93:94] == b"\x00"
    assert draw_value(SEED, CLAIM, 7, True, 258) == ref_value(SEED, CLAIM, 7, True, 258)


def test_every_input_changes_the_panel() -> None:
    base = draw_panel(SEED, CLAIM, 1, False, POOL_200, 31, ())
    flipped = bytes([SEED[0] ^ 1]) + SEED[1:]
    variants = [
        draw_panel(flipped, CLAIM, 1, False, POOL_200, 31, ()),
        draw_panel(SEED, "c1a2" * 8, 1, False, POOL_200, 31, ()),
        draw_panel(SEED, CLAIM, 2, False, POOL_200, 31, ()),
        draw_panel(SEED, CLAIM, 1, True, POOL_200, 31, ()),
    ]
    for panel in variants:
        assert panel != base
    assert draw_panel(SEED, CLAIM, 1, False, POOL_200, 31, ()) == base  # deterministic


def test_order_is_draw_order_and_prefix_stable() -> None:
    # A bigger panel with the same inputs extends the smaller one.
    small = draw_panel(SEED, CLAIM, 1, False, POOL_200, 10, ())
    big = draw_panel(SEED, CLAIM, 1, False, POOL_200, 31, ())
    assert big[:10] == small
    assert list(big) != sorted(big)


def test_candidate_indices_yield_every_index_once_then_stop() -> None:
    indices = list(candidate_indices(SEED, CLAIM, 1, False, 50))
    assert sorted(indices) == list(range(50))
    assert list(candidate_indices(SEED, CLAIM, 1, False, 0)) == []
    assert list(candidate_indices(SEED, CLAIM, 1, False, 1)) == [0]


# --- rejection sampling ---------------------------------------------------------------------


def test_rejection_bound() -> None:
    assert rejection_bound(1) == VALUE_SPACE
    assert rejection_bound(2) == VALUE_SPACE
    assert rejection_bound(3) == VALUE_SPACE - 1
    assert rejection_bound(900_000) == VALUE_SPACE - VALUE_SPACE % 900_000
    assert rejection_bound(3 << 61) == 3 << 62
    for n in (1, 3, 7, 31, 900_000, (1 << 63) + 1, VALUE_SPACE - 1):
        bound = rejection_bound(n)
        assert bound % n == 0
        assert VALUE_SPACE - n < bound <= VALUE_SPACE


def test_accept_index_rejects_exactly_the_zone() -> None:
    n = 3 << 61  # the zone [3 * 2**62, 2**64) is a quarter of all values
    bound = 3 << 62
    assert accept_index(0, n) == 0
    assert accept_index(n + 5, n) == 5
    assert accept_index(bound - 1, n) == n - 1
    assert accept_index(bound, n) is None
    assert accept_index(VALUE_SPACE - 1, n) is None
    # n = 3: one value in 2**64 is rejected, the very last.
    assert accept_index(VALUE_SPACE - 2, 3) == (VALUE_SPACE - 2) % 3
    assert accept_index(VALUE_SPACE - 1, 3) is None
    # Without rejection, VALUE_SPACE - 1 would select index 0 once more than
    # the others: the modulo bias the bound removes.
    assert (VALUE_SPACE - 1) % 3 == 0


class _HugePool(Sequence[str]):
    """Ids ``format(i, "032x")`` for i < n, without storing them."""

    def __init__(self, n: int) -> None:
        self._n = n

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[str]: ...
    def __getitem__(self, i: int | slice) -> str | Sequence[str]:
        if isinstance(i, slice):
            raise NotImplementedError
        if not 0 <= i < self._n:
            raise IndexError(i)
        return format(i, "032x")

    def __contains__(self, x: object) -> bool:
        return isinstance(x, str) and len(x) == 32 and int(x, 16) < self._n

    def __iter__(self) -> Iterator[str]:
        raise NotImplementedError


def test_rejection_sampling_really_rejects_in_draw_panel() -> None:
    # A pool of 3 * 2**61 makes the rejected zone a quarter of the value
    # space; search seeds for one whose first value falls in it.
    n = 3 << 61
    pool = _HugePool(n)
    bound = rejection_bound(n)
    for i in range(200):
        seed = hashlib.sha256(b"rejection %d" % i).digest()
        if draw_value(seed, CLAIM, 1, False, 0) >= bound:
            break
    else:  # pragma: no cover - probability 0.75**200
        pytest.fail("no seed with a rejected first value")
    first = draw_value(seed, CLAIM, 1, False, 0)
    second = draw_value(seed, CLAIM, 1, False, 1)
    assert first >= bound
    assert second < bound  # (true for this seed; checked, not assumed)
    panel = draw_panel(seed, CLAIM, 1, False, pool, 1, ())
    assert panel == (format(second % n, "032x"),)
    assert panel != (format(first % n, "032x"),)  # what a biased `value % n` would pick
    assert panel[0] == (ref_panel(seed, CLAIM, 1, False, pool, 1, ()) or [""])[0]
    assert next(candidate_indices(seed, CLAIM, 1, False, n)) == second % n


def test_excluded_lookup_in_a_huge_pool_is_by_bisection() -> None:
    # Excluding ids of a pool far too big to scan still works: the count of
    # eligible jurors is found by bisection.
    pool = _HugePool(3 << 61)
    panel = draw_panel(SEED, CLAIM, 1, False, pool, 3, {pool[0], "f" * 32})
    assert len(set(panel)) == 3


# --- statistics and invariants --------------------------------------------------------------


def _chi_square(counts: Counter[str], keys: Sequence[str], expected: float) -> float:
    return sum((counts[k] - expected) ** 2 / expected for k in keys)


def test_every_member_is_chosen_equally_often() -> None:
    # 4,000 panels of 5 from 40: 500 expected picks each, 39 degrees of
    # freedom (mean 39, sd 8.8).  The seeds are fixed, so this never flakes;
    # the bound is loose enough that any honest sampler passes and a biased
    # one (say one member twice as likely) does not.
    picks: Counter[str] = Counter()
    firsts: Counter[str] = Counter()
    for i in range(4_000):
        panel = draw_panel(SEED, _id(f"claim {i}"), 1, False, POOL_40, 5, ())
        assert len(set(panel)) == 5
        picks.update(panel)
        firsts[panel[0]] += 1
    assert set(picks) == set(POOL_40)
    assert _chi_square(picks, POOL_40, 500) < 100
    assert _chi_square(firsts, POOL_40, 100) < 100
    assert max(picks.values()) < 600 and min(picks.values()) > 400


def test_excluded_are_never_chosen_and_the_rest_equally() -> None:
    excluded = set(POOL_40[::4])  # 10 excluded, 30 eligible
    eligible = [m for m in POOL_40 if m not in excluded]
    picks: Counter[str] = Counter()
    for i in range(3_000):
        panel = draw_panel(SEED, _id(f"claim {i}"), 2, True, POOL_40, 5, excluded)
        assert len(set(panel)) == 5
        assert not excluded & set(panel)
        picks.update(panel)
    assert set(picks) == set(eligible)
    assert _chi_square(picks, eligible, 500) < 90  # 29 degrees of freedom


@settings(max_examples=40, deadline=None)
@given(
    seed=st.binary(min_size=32, max_size=32),
    n=st.integers(min_value=1, max_value=80),
    data=st.data(),
)
def test_no_duplicates_no_excluded(seed: bytes, n: int, data: st.DataObject) -> None:
    pool = _pool(n, "invariants")
    excluded = set(data.draw(st.lists(st.sampled_from(pool), max_size=n - 1)))
    size = data.draw(st.integers(min_value=1, max_value=n - len(excluded)))
    panel = draw_panel(seed, CLAIM, 1, False, pool, size, excluded)
    assert len(panel) == size == len(set(panel))
    assert set(panel) <= set(pool) - excluded


# --- pool too small ---------------------------------------------------------------------------


def test_pool_too_small() -> None:
    with pytest.raises(RuleViolation, match=r"panel of 31 .* only 30 of the 30 jurors") as e:
        draw_panel(SEED, CLAIM, 1, False, _pool(30), 31, ())
    assert e.value.rule == "panel.pool_too_small"
    assert e.value.actual == 30
    assert e.value.expected == "at least 31 eligible jurors"
    with pytest.raises(RuleViolation, match=r"appeal panel of 63 .* only 58 of the 60"):
        draw_panel(SEED, CLAIM, 1, True, _pool(60), 63, _pool(60)[:2])
    with pytest.raises(RuleViolation, match=r"only 0 of the 0 jurors"):
        draw_panel(SEED, CLAIM, 1, False, [], 1, ())


def test_exactly_enough_eligible_and_outsiders_do_not_count() -> None:
    pool = _pool(33)
    outsiders = {_id("not a juror 1"), _id("not a juror 2")}
    panel = draw_panel(SEED, CLAIM, 1, False, pool, 31, {pool[0], pool[1], *outsiders})
    assert sorted(panel) == pool[2:]


def test_unsorted_pool_still_ends() -> None:
    # The contract is a sorted pool; a caller that breaks it gets the
    # violation late (after every index is drawn) rather than a hang.
    pool = ["c" * 32, "a" * 32, "b" * 32]
    with pytest.raises(RuleViolation, match=r"only 2 of the 3 jurors"):
        draw_panel(SEED, CLAIM, 1, False, pool, 3, {"a" * 32})


# --- the juror pool root ------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 8, 40, 200])
def test_juror_pool_root_is_the_rfc_tree(n: int) -> None:
    pool = _pool(n)
    assert juror_pool_root(pool) == ref_pool_root(pool)
    if n == 0:
        assert juror_pool_root(pool) == EMPTY_ROOT


@pytest.mark.parametrize(
    ("pool", "match"),
    [
        (["b" * 32, "a" * 32], r"juror pool: id 1 is out of order: a+ after b+"),
        (["a" * 32, "a" * 32], r"juror pool: id 1 is duplicate"),
        (["A" * 32], r"juror pool: id 0: expected an id of 32 lowercase hex characters"),
        (["a" * 31], r"juror pool: id 0: expected an id"),
        (["a" * 32, 5], r"juror pool: id 1: expected an id .* got int"),
        (["é" * 32], r"juror pool: id 0: expected an id"),
        ("a" * 32, r"juror pool: expected a sequence of ids, got str"),
    ],
    ids=["unsorted", "duplicate", "uppercase", "short", "not-str", "non-ascii", "str"],
)
def test_juror_pool_root_refuses(pool: Any, match: str) -> None:
    with pytest.raises(MalformedError, match=match):
        juror_pool_root(pool)


# --- malformed arguments ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"seed": b"\x00" * 31}, r"seed is 31 bytes, expected 32"),
        ({"seed": "00" * 32}, r"seed is str, expected 32 bytes"),
        ({"claim": "C" * 32}, r"claim 'C+' is not an id"),
        ({"claim": 5}, r"claim 5 is not an id"),
        ({"round": 0}, r"round 0 is not an integer 1\.\."),
        ({"round": True}, r"round True is not an integer"),
        ({"round": 2**53}, r"round 9007199254740992 is not an integer"),
        ({"appeal": 1}, r"appeal 1 is not a bool"),
        ({"size": 0}, r"panel size 0 is not a positive integer"),
        ({"size": 2.0}, r"panel size 2\.0 is not a positive integer"),
        ({"pool": "a" * 32}, r"pool is str, expected a sequence"),
        ({"pool": {"a" * 32}}, r"pool is set, expected a sequence"),
        ({"excluded": "a" * 32}, r"excluded is a single string, expected a collection"),
        ({"excluded": {"a" * 32, 7}}, r"excluded holds a value that is not an id string"),
    ],
    ids=lambda v: str(v)[:30] if isinstance(v, dict) else "",
)
def test_draw_panel_refuses_malformed_arguments(kwargs: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {
        "seed": SEED,
        "claim": CLAIM,
        "round": 1,
        "appeal": False,
        "pool": POOL_40,
        "size": 3,
        "excluded": (),
    }
    args.update(kwargs)
    with pytest.raises(MalformedError, match=match):
        draw_panel(**args)


def test_stream_helpers_refuse_malformed_arguments() -> None:
    with pytest.raises(MalformedError, match=r"counter -1 is not a uint64"):
        draw_input(SEED, CLAIM, 1, False, -1)
    with pytest.raises(MalformedError, match=r"counter 18446744073709551616 is not a uint64"):
        draw_value(SEED, CLAIM, 1, False, VALUE_SPACE)
    with pytest.raises(MalformedError, match=r"seed is 0 bytes"):
        draw_input(b"", CLAIM, 1, False, 0)
    with pytest.raises(MalformedError, match=r"pool size 0 is not in 1\.\.2\*\*64-1"):
        rejection_bound(0)
    with pytest.raises(MalformedError, match=r"pool size True is not in"):
        rejection_bound(True)
    with pytest.raises(MalformedError, match=r"draw value -1 is not a uint64"):
        accept_index(-1, 3)
    with pytest.raises(MalformedError, match=r"draw value 18446744073709551616 is not a uint64"):
        accept_index(VALUE_SPACE, 3)
    with pytest.raises(MalformedError, match=r"pool size -1 is not in 0\.\.2\*\*64-1"):
        candidate_indices(SEED, CLAIM, 1, False, -1)
    with pytest.raises(MalformedError, match=r"round 0 is not an integer"):
        candidate_indices(SEED, CLAIM, 0, False, 5)
