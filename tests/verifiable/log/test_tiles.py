"""Tests of verifiable.log.tiles: paths, tile and bundle contents, tile arithmetic,
and the committed tile vectors.  Authenticated reads are in test_tiles_reader.py."""

from __future__ import annotations

import base64
import itertools
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifiable.errors import MalformedError
from verifiable.log.merkle import Subtree, leaf_hash, node_hash
from verifiable.log.tiles import (
    ENTRY_BUNDLE_LEVEL,
    MAX_ENTRY_SIZE,
    TILE_WIDTH,
    TileCoord,
    TileSlice,
    build_bundles,
    build_tiles,
    bundle_for_index,
    bundles_for_size,
    decode_bundle,
    encode_bundle,
    format_index,
    hash_from_tile,
    new_bundles,
    new_tiles,
    parse_index,
    read_tile,
    tile_bytes,
    tile_for_subtree,
    tile_hashes,
    tile_subtrees,
    tiles_for_size,
    tiles_for_subtrees,
)

VECTORS = Path(__file__).parents[2] / "vectors"
MAX_U64 = (1 << 64) - 1


def _load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


PATHS = _load("tile-paths.json")
C2SP = PATHS["c2sp_tlog_tiles"]
SUMDB = PATHS["go_sumdb_tlog"]
GENERATED = _load("generated-cosignature-and-tiles.json")["tiles"]


def _width(partial: int) -> int:
    # tessera writes 0 for "full"; we carry the real width.
    return partial or TILE_WIDTH


# ---------------------------------------------------------------- path vectors


@pytest.mark.parametrize("case", C2SP["tile_path_cases"], ids=lambda c: c["path"])
def test_tile_path_vectors(case: dict[str, Any]) -> None:
    coord = TileCoord(case["level"], case["index"], _width(case["partial"]))
    assert coord.path() == case["path"]
    assert str(coord) == case["path"]
    parsed = TileCoord.from_path(case["path"])
    assert parsed == coord
    assert not parsed.is_entry_bundle
    assert parsed.is_partial == bool(case["partial"])


@pytest.mark.parametrize("case", C2SP["entries_path_cases"], ids=lambda c: c["path"])
def test_entry_bundle_path_vectors(case: dict[str, Any]) -> None:
    coord = TileCoord.entry_bundle(case["index"], _width(case["partial"]))
    assert coord.path() == case["path"]
    parsed = TileCoord.from_path(case["path"])
    assert parsed == coord
    assert parsed.is_entry_bundle
    assert parsed.level == ENTRY_BUNDLE_LEVEL


@pytest.mark.parametrize(
    "case",
    C2SP["entries_path_for_log_index_cases"],
    ids=lambda c: f"seq{c['seq']}-size{c['log_size']}",
)
def test_bundle_for_index_vectors(case: dict[str, Any]) -> None:
    assert bundle_for_index(case["seq"], case["log_size"]).path() == case["path"]


@pytest.mark.parametrize("case", C2SP["parse_ok"], ids=lambda c: f"tile/{c['level']}/{c['index']}")
def test_parse_ok_vectors(case: dict[str, Any]) -> None:
    path = f"tile/{case['level']}/{case['index']}"
    level, index, partial = case["want"]
    coord = TileCoord.from_path(path)
    assert coord == TileCoord(level, index, _width(partial))
    assert coord.path() == path


@pytest.mark.parametrize("case", C2SP["parse_err"], ids=lambda c: f"tile/{c[0]}/{c[1]}")
def test_parse_err_vectors(case: list[str]) -> None:
    path = f"tile/{case[0]}/{case[1]}"
    with pytest.raises(MalformedError, match=re.escape(f"tile path {path!r}: ")):
        TileCoord.from_path(path)


def test_spec_index_example() -> None:
    example = C2SP["c2sp_spec_example"]
    assert format_index(example["index"]) == example["encoded"]
    assert parse_index(example["encoded"]) == example["index"]


def test_spec_tree_70000() -> None:
    case = C2SP["c2sp_spec_tree_70000"]
    tiles = list(tiles_for_size(70000))
    assert [t.path() for t in tiles if t.is_partial] == case["partial_tiles"]
    assert case["full_level1"] in [t.path() for t in tiles if t.level == 1]
    assert sum(1 for t in tiles if t.level == 0 and not t.is_partial) == 273
    assert [t.path() for t in tiles if t.level > 0] == [
        "tile/1/000",
        "tile/1/001.p/17",
        "tile/2/000.p/1",
    ]


def _sumdb_index_text(path: str) -> str:
    # tile/<H>/<L>/<N>[.p/<W>]: the N part is encoded as in C2SP.
    return path.split("/", 3)[3].partition(".p/")[0]


@pytest.mark.parametrize(
    "case", [c for c in SUMDB["cases"] if c["tile"] is not None], ids=lambda c: c["path"]
)
def test_sumdb_index_encoding_cross_check(case: dict[str, Any]) -> None:
    text = _sumdb_index_text(case["path"])
    index = case["tile"][2]
    assert parse_index(text) == index
    assert format_index(index) == text


@pytest.mark.parametrize(
    "case", [c for c in SUMDB["cases"] if c["tile"] is None], ids=lambda c: c["path"]
)
def test_sumdb_index_rejects_cross_check(case: dict[str, Any]) -> None:
    text = _sumdb_index_text(case["path"])
    with pytest.raises(MalformedError, match="must start with 'x'"):
        parse_index(text)


# ---------------------------------------------------------------- path parser


@pytest.mark.parametrize(
    ("path", "message"),
    [
        pytest.param("", "expected 'tile/<level>/<index>'", id="empty"),
        pytest.param("tile", "expected 'tile/<level>/<index>'", id="only-tile"),
        pytest.param("tile/0", "expected 'tile/<level>/<index>'", id="no-index"),
        pytest.param("/tile/0/000", "expected 'tile/<level>/<index>'", id="leading-slash"),
        pytest.param("tiles/0/000", "expected 'tile/<level>/<index>'", id="wrong-prefix"),
        pytest.param("tile//000", r"level '' is not a decimal", id="empty-level"),
        pytest.param("tile/00/000", "level '00' has a leading zero", id="level-00"),
        pytest.param("tile/01/000", "level '01' has a leading zero", id="level-01"),
        pytest.param("tile/64/000", "level 64 outside 0..63", id="level-64"),
        pytest.param("tile/100/000", "level 100 outside 0..63", id="level-100"),
        pytest.param("tile/1000/000", "level '1000' is not a decimal", id="level-4-digits"),
        pytest.param("tile/-1/000", "level '-1' is not a decimal", id="level-minus-1"),
        pytest.param("tile/+1/000", "level '\\+1' is not a decimal", id="level-plus"),
        pytest.param("tile/ 1/000", "level ' 1' is not a decimal", id="level-space"),
        pytest.param("tile/1_0/000", "level '1_0' is not a decimal", id="level-underscore"),
        pytest.param("tile/data/000", "level 'data' is not a decimal", id="sumdb-data"),
        pytest.param("tile/Entries/000", "level 'Entries' is not", id="entries-case"),
        pytest.param("tile/\u0661/000", "not ASCII", id="arabic-indic-digit-level"),
        pytest.param("tile/0/\uff10\uff10\uff10", "not ASCII", id="fullwidth-digits"),
        pytest.param("tile/0/000/", "trailing slash", id="trailing-slash"),
        pytest.param("tile/0/000.p/8/", "trailing slash", id="trailing-slash-p"),
        pytest.param("tile/0/00", "index element '00' is not 3 digits", id="index-2-digits"),
        pytest.param("tile/0/0000", "index element '0000' is not 3", id="index-4-digits"),
        pytest.param("tile/0/x001", "index element 'x001' is not 3 digits", id="x-on-last"),
        pytest.param("tile/0/001/002", "index element '001' must start with 'x'", id="missing-x"),
        pytest.param("tile/0/X001/002", "index element 'X001' must start with 'x'", id="upper-x"),
        pytest.param("tile/0/x01/002", "index element 'x01' is not 'x' and 3", id="x-2-digits"),
        pytest.param("tile/0/xx01/002", "index element 'xx01' is not 'x' and 3", id="double-x"),
        pytest.param("tile/0/x000/001", "not canonically encoded, expected '001'", id="x000"),
        pytest.param(
            "tile/0/x000/x000/000", "not canonically encoded, expected '000'", id="x000-x000"
        ),
        pytest.param("tile/0/-01", "index element '-01' is not 3 digits", id="negative"),
        pytest.param(
            "tile/0/x018/x446/x744/x073/x709/x551/616", "is not below 2\\*\\*64", id="2**64"
        ),
        pytest.param(
            "tile/0/x001/x000/x000/x000/x000/x000/x000/000",
            "8 path elements, at most 7",
            id="8-elements",
        ),
        pytest.param("tile/0/000.p/0", "partial width 0 outside 1..255", id="width-0"),
        pytest.param("tile/0/000.p/256", "partial width 256 outside 1..255", id="width-256"),
        pytest.param("tile/0/000.p/999", "partial width 999 outside 1..255", id="width-999"),
        pytest.param("tile/0/000.p/08", "width '08' has a leading zero", id="width-08"),
        pytest.param("tile/0/000.p/+8", r"width '\+8' is not a decimal", id="width-plus"),
        pytest.param("tile/0/000.p/", "trailing slash", id="width-empty"),
        pytest.param("tile/0/000.p", "index element '000.p' is not 3", id="p-no-width"),
        pytest.param("tile/0/000.P/8", "index element '000.P' must start with 'x'", id="upper-P"),
        pytest.param("tile/0/000.p/1.p/2", "width '1.p/2' is not a decimal", id="two-p"),
        pytest.param("tile/0/000\n", "index element '000\\\\n' is not 3", id="newline"),
        pytest.param("tile/entries/000.p/0", "partial width 0 outside", id="entries-width-0"),
        pytest.param("tile/entries/x001/.p/1", "index element '' is not 3", id="entries-bad-p"),
        pytest.param("tile/entries/1", "index element '1' is not 3 digits", id="entries-short"),
    ],
)
def test_parse_rejects(path: str, message: str) -> None:
    with pytest.raises(MalformedError, match=re.escape(f"tile path {path!r}: ") + ".*" + message):
        TileCoord.from_path(path)


def test_parse_accepts_extremes() -> None:
    top = TileCoord.from_path("tile/63/x018/x446/x744/x073/x709/x551/615.p/255")
    assert top == TileCoord(63, MAX_U64, 255)
    assert TileCoord.from_path("tile/entries/000") == TileCoord.entry_bundle(0)


coords = st.builds(
    TileCoord,
    level=st.integers(ENTRY_BUNDLE_LEVEL, 63),
    index=st.one_of(st.integers(0, 10**7), st.integers(0, MAX_U64)),
    width=st.integers(1, TILE_WIDTH),
)


@settings(max_examples=300, deadline=None)
@given(coords)
def test_path_round_trip(coord: TileCoord) -> None:
    path = coord.path()
    assert TileCoord.from_path(path) == coord
    assert TileCoord.from_path(path).path() == path
    assert parse_index(format_index(coord.index)) == coord.index


@st.composite
def _mutated_paths(draw: st.DrawFn) -> str:
    """A valid path with one character inserted, deleted or replaced."""
    path = draw(coords).path()
    pos = draw(st.integers(0, len(path)))
    char = draw(st.sampled_from("x0159/.p\u0661 "))
    return draw(
        st.sampled_from(
            [
                path[:pos] + char + path[pos:],
                path[:pos] + path[pos + 1 :],
                path[:pos] + char + path[pos + 1 :],
            ]
        )
    )


@settings(max_examples=500, deadline=None)
@given(st.one_of(_mutated_paths(), st.text(alphabet="tile/entrx0123456789.p\u0661", max_size=40)))
def test_parser_rejects_or_round_trips(text: str) -> None:
    # Every tile has exactly one path: whatever parses must print back as itself.
    try:
        coord = TileCoord.from_path(text)
    except MalformedError:
        return
    assert coord.path() == text


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**12), st.integers(1, 10**12))
def test_bundle_for_index_matches_arithmetic(index: int, extra: int) -> None:
    size = index + extra
    coord = bundle_for_index(index, size)
    assert coord.is_entry_bundle
    assert coord.index == index // 256
    full = (coord.index + 1) * 256 <= size
    assert coord.width == (256 if full else size - coord.index * 256)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"level": 64, "index": 0}, "level 64 outside 0..63", id="level-64"),
        pytest.param({"level": -2, "index": 0}, "level -2 outside", id="level-minus-2"),
        pytest.param({"level": 0, "index": -1}, "index -1 outside", id="index-negative"),
        pytest.param(
            {"level": 0, "index": 1 << 64}, "index 18446744073709551616", id="index-2**64"
        ),
        pytest.param({"level": 0, "index": 0, "width": 0}, "width 0 outside 1..256", id="width-0"),
        pytest.param({"level": 0, "index": 0, "width": 257}, "width 257 outside", id="width-257"),
        pytest.param({"level": True, "index": 0}, "level must be an int, got True", id="bool"),
        pytest.param({"level": 0, "index": "1"}, "index must be an int, got '1'", id="str"),
    ],
)
def test_coord_rejects(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(MalformedError, match=f"tile coordinate: {message}"):
        TileCoord(**kwargs)


@pytest.mark.parametrize("bad", [-1, 1 << 64, True], ids=["negative", "2**64", "bool"])
def test_format_index_rejects(bad: int) -> None:
    with pytest.raises(MalformedError, match=re.escape(f"tile index {bad!r} outside")):
        format_index(bad)


def test_parse_index_rejects() -> None:
    with pytest.raises(MalformedError, match=r"tile index 'x001': index element 'x001'"):
        parse_index("x001")


# ---------------------------------------------------------------- generated tile vectors


def test_generated_bundle_vector() -> None:
    entries = [bytes.fromhex(h) for h in GENERATED["leaf_inputs_hex"]]
    data = base64.b64decode(GENERATED["entry_bundle_b64"])
    coord = TileCoord.from_path(GENERATED["entry_bundle_path"])
    assert coord == bundle_for_index(0, GENERATED["tree_size"])
    assert decode_bundle(data, count=coord.width) == entries
    assert decode_bundle(data) == entries
    assert encode_bundle(entries) == data
    assert build_bundles(entries) == {coord: data}


def test_generated_level0_tile_vector() -> None:
    entries = [bytes.fromhex(h) for h in GENERATED["leaf_inputs_hex"]]
    data = base64.b64decode(GENERATED["level0_tile_b64"])
    assert len(data) == GENERATED["level0_tile_len"]
    coord = TileCoord.from_path(GENERATED["level0_tile_path"])
    assert coord == TileCoord(0, 0, 8)
    hashes = tile_hashes(data, width=coord.width)
    assert hashes == [leaf_hash(e) for e in entries]
    assert tile_bytes(hashes) == data
    assert build_tiles(hashes) == {coord: data}
    root = hash_from_tile(coord, data, Subtree(3, 0))
    assert root.hex() == GENERATED["root_hex"]


def test_generated_vector_sumdb_path_has_same_index() -> None:
    sumdb = GENERATED["sumdb_equivalent_hash_tile_path"]
    assert parse_index(_sumdb_index_text(sumdb)) == 0
    assert sumdb.endswith(".p/8")


# ---------------------------------------------------------------- bundles


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=TILE_WIDTH))
def test_bundle_round_trip(entries: list[bytes]) -> None:
    data = encode_bundle(entries)
    assert decode_bundle(data) == entries
    assert decode_bundle(data, count=len(entries)) == entries
    assert encode_bundle(decode_bundle(data)) == data


def test_bundle_allows_boundary_entries() -> None:
    entries = [b"", b"x" * MAX_ENTRY_SIZE]
    data = encode_bundle(entries)
    assert data[:2] == b"\x00\x00"
    assert data[2:4] == b"\xff\xff"
    assert decode_bundle(data, count=2) == entries


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        pytest.param([], "0 entries, expected 1 to 256", id="no-entries"),
        pytest.param([b"a"] * 257, "257 entries, expected 1 to 256", id="257-entries"),
        pytest.param(
            [b"ok", b"x" * (MAX_ENTRY_SIZE + 1)],
            "entry 1 is 65536 bytes, over the 65535",
            id="entry-too-big",
        ),
    ],
)
def test_encode_bundle_rejects(entries: list[bytes], message: str) -> None:
    with pytest.raises(MalformedError, match=f"entry bundle: {message}"):
        encode_bundle(entries)


@pytest.mark.parametrize(
    ("data", "count", "message"),
    [
        pytest.param(b"", None, "empty, a bundle holds 1 to 256 entries", id="empty"),
        pytest.param(b"", 1, "0 entries, expected 1", id="empty-with-count"),
        pytest.param(
            b"\x00", None, "entry 0 at byte offset 0: truncated length prefix", id="half-prefix"
        ),
        pytest.param(
            b"\x00\x01a\x00",
            None,
            "entry 1 at byte offset 3: truncated length prefix",
            id="second-half-prefix",
        ),
        pytest.param(
            b"\x00\x05abc",
            None,
            "entry 0 at byte offset 0: length 5, only 3 bytes remain",
            id="truncated-entry",
        ),
        pytest.param(
            b"\x00\x01a\x00\x01b", 1, "3 trailing bytes after 1 entries", id="trailing-entry"
        ),
        pytest.param(b"\x00\x01a\x00", 1, "1 trailing bytes after 1 entries", id="trailing-byte"),
        pytest.param(b"\x00\x01a", 2, "1 entries, expected 2", id="too-few"),
        pytest.param(b"\x00\x00" * 257, None, "2 trailing bytes after 256 entries", id="257"),
        pytest.param(b"\x00\x00", 0, "expected count 0 outside 1..256", id="count-0"),
        pytest.param(b"\x00\x00", 257, "expected count 257 outside 1..256", id="count-257"),
    ],
)
def test_decode_bundle_rejects(data: bytes, count: int | None, message: str) -> None:
    with pytest.raises(MalformedError, match=f"entry bundle: {message}"):
        decode_bundle(data, count)


# ---------------------------------------------------------------- tile contents


@settings(max_examples=50, deadline=None)
@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=TILE_WIDTH))
def test_tile_round_trip(hashes: list[bytes]) -> None:
    data = tile_bytes(hashes)
    assert tile_hashes(data) == hashes
    assert tile_hashes(data, width=len(hashes)) == hashes


@pytest.mark.parametrize(
    ("data", "width", "message"),
    [
        pytest.param(b"", None, "0 bytes is not 1 to 256 hashes", id="empty"),
        pytest.param(b"\x00" * 33, None, "33 bytes is not 1 to 256 hashes", id="33-bytes"),
        pytest.param(b"\x00" * 32 * 257, None, "8224 bytes is not 1 to 256", id="257-hashes"),
        pytest.param(b"\x00" * 64, 3, "64 bytes, expected 96 \\(3 hashes\\)", id="short"),
        pytest.param(b"\x00" * 128, 3, "128 bytes, expected 96 \\(3 hashes\\)", id="long"),
    ],
)
def test_tile_hashes_rejects(data: bytes, width: int | None, message: str) -> None:
    with pytest.raises(MalformedError, match=f"tile: {message}"):
        tile_hashes(data, width)


@pytest.mark.parametrize(
    ("hashes", "message"),
    [
        pytest.param([], "0 hashes, expected 1 to 256", id="empty"),
        pytest.param([b"\x00" * 32] * 257, "257 hashes, expected 1 to 256", id="257"),
        pytest.param([b"\x00" * 32, b"\x00" * 31], "hash 1 is 31 bytes, expected 32", id="short"),
    ],
)
def test_tile_bytes_rejects(hashes: list[bytes], message: str) -> None:
    with pytest.raises(MalformedError, match=f"tile: {message}"):
        tile_bytes(hashes)


# ---------------------------------------------------------------- arithmetic


def _leaf_hashes(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


@pytest.mark.parametrize(
    ("size", "paths"),
    [
        pytest.param(0, [], id="0"),
        pytest.param(1, ["tile/0/000.p/1"], id="1"),
        pytest.param(255, ["tile/0/000.p/255"], id="255"),
        pytest.param(256, ["tile/0/000", "tile/1/000.p/1"], id="256"),
        pytest.param(257, ["tile/0/000", "tile/0/001.p/1", "tile/1/000.p/1"], id="257"),
        pytest.param(
            65536,
            [f"tile/0/{n:03d}" for n in range(256)] + ["tile/1/000", "tile/2/000.p/1"],
            id="65536",
        ),
    ],
)
def test_tiles_for_size_examples(size: int, paths: list[str]) -> None:
    assert [t.path() for t in tiles_for_size(size)] == paths


def test_tiles_for_size_matches_build_tiles() -> None:
    leaves = _leaf_hashes(1100)
    for size in [*range(0, 600), 767, 768, 769, 1023, 1024, 1025, 1100]:
        assert list(tiles_for_size(size)) == list(build_tiles(leaves[:size]))
        assert list(bundles_for_size(size)) == [
            TileCoord.entry_bundle(t.index, t.width) for t in tiles_for_size(size) if t.level == 0
        ]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 300_000), st.integers(0, 300_000))
def test_new_tiles_is_set_difference(a: int, b: int) -> None:
    old, new = min(a, b), max(a, b)
    added = list(new_tiles(old, new))
    assert len(added) == len(set(added))
    assert set(added) == set(tiles_for_size(new)) - set(tiles_for_size(old))
    assert set(new_bundles(old, new)) == set(bundles_for_size(new)) - set(bundles_for_size(old))


def test_tiles_for_huge_size() -> None:
    # Both functions are lazy: a log of 2**64 - 1 entries has 2**56 level-0 tiles.
    assert list(new_tiles(MAX_U64 - 1, MAX_U64)) == [TileCoord(0, MAX_U64 >> 8, 255)]
    assert list(itertools.islice(tiles_for_size(MAX_U64), 2)) == [TileCoord(0, 0), TileCoord(0, 1)]
    assert tile_for_subtree(Subtree(63, 0), MAX_U64) == TileSlice(TileCoord(7, 0, 255), 0, 128)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param(5, 4, "tree cannot shrink from size 5 to 4", id="shrink"),
        pytest.param(-1, 4, "old tree size -1 outside", id="negative-old"),
        pytest.param(0, 1 << 64, "new tree size 18446744073709551616 outside", id="2**64"),
    ],
)
def test_new_tiles_rejects(old: int, new: int, message: str) -> None:
    with pytest.raises(MalformedError, match=message):
        new_tiles(old, new)
    with pytest.raises(MalformedError, match=message):
        new_bundles(old, new)


@pytest.mark.parametrize(
    ("index", "size", "message"),
    [
        pytest.param(5, 5, "log index 5 is not in a tree of size 5", id="at-size"),
        pytest.param(-1, 5, "log index -1 is not in a tree of size 5", id="negative"),
        pytest.param(0, -5, "tree size -5 outside", id="negative-size"),
    ],
)
def test_bundle_for_index_rejects(index: int, size: int, message: str) -> None:
    with pytest.raises(MalformedError, match=message):
        bundle_for_index(index, size)


@pytest.mark.parametrize(
    ("subtree", "size", "expected"),
    [
        pytest.param(Subtree(0, 5), 8, TileSlice(TileCoord(0, 0, 8), 5, 6), id="leaf"),
        pytest.param(Subtree(3, 0), 8, TileSlice(TileCoord(0, 0, 8), 0, 8), id="level3"),
        pytest.param(Subtree(7, 1), 300, TileSlice(TileCoord(0, 0), 128, 256), id="level7"),
        pytest.param(Subtree(8, 0), 300, TileSlice(TileCoord(1, 0, 1), 0, 1), id="level8"),
        pytest.param(
            Subtree(12, 16), 70000, TileSlice(TileCoord(1, 1, 17), 0, 16), id="level12-spec"
        ),
        pytest.param(Subtree(16, 0), 70000, TileSlice(TileCoord(2, 0, 1), 0, 1), id="level16-spec"),
        pytest.param(
            Subtree(4, 4372), 70000, TileSlice(TileCoord(0, 273, 112), 64, 80), id="level4-spec"
        ),
    ],
)
def test_tile_for_subtree_examples(subtree: Subtree, size: int, expected: TileSlice) -> None:
    assert tile_for_subtree(subtree, size) == expected


@settings(max_examples=300, deadline=None)
@given(st.integers(1, MAX_U64), st.data())
def test_tile_for_subtree_covers_the_subtree(size: int, data: st.DataObject) -> None:
    level = data.draw(st.integers(0, size.bit_length() - 1))
    index = data.draw(st.integers(0, (size >> level) - 1))
    where = tile_for_subtree(Subtree(level, index), size)
    tile = where.tile
    # The tile's hashes [start, end) are the level-8L subtrees that make up the subtree.
    covered = tile_subtrees(tile)[where.start : where.end]
    assert covered[0].start == index << level
    assert covered[-1].end == (index + 1) << level
    assert tile.level == level // 8
    assert (tile.index * 256 + tile.width) << (8 * tile.level) <= size
    assert tile.is_partial == ((tile.index + 1) * 256 << (8 * tile.level) > size)


@pytest.mark.parametrize(
    ("subtree", "size", "message"),
    [
        pytest.param(
            Subtree(0, 8), 8, r"covers leaves \[8, 9\), outside the tree of size 8", id="leaf"
        ),
        pytest.param(Subtree(3, 1), 12, r"covers leaves \[8, 16\), outside", id="subtree"),
        pytest.param(Subtree(-1, 0), 12, r"subtree \(level -1, index 0\) is not valid", id="neg"),
        pytest.param(Subtree(0, -1), 12, r"subtree \(level 0, index -1\) is not valid", id="neg-i"),
        pytest.param(Subtree(0, 0), 1 << 64, "tree size 18446744073709551616 outside", id="size"),
    ],
)
def test_tile_for_subtree_rejects(subtree: Subtree, size: int, message: str) -> None:
    with pytest.raises(MalformedError, match=message):
        tile_for_subtree(subtree, size)


def test_tiles_for_subtrees_dedupes_in_order() -> None:
    subtrees = [Subtree(0, 300), Subtree(0, 5), Subtree(0, 301), Subtree(8, 0), Subtree(1, 2)]
    assert tiles_for_subtrees(subtrees, 600) == [
        TileCoord(0, 1),
        TileCoord(0, 0),
        TileCoord(1, 0, 2),
    ]


def test_hash_from_tile_matches_build() -> None:
    leaves = _leaf_hashes(600)
    tiles = build_tiles(leaves)
    level8 = tile_hashes(tiles[TileCoord(1, 0, 2)])
    tile1 = TileCoord(0, 1)
    halves = [hash_from_tile(tile1, tiles[tile1], Subtree(7, i)) for i in (2, 3)]
    assert node_hash(*halves) == level8[1] == _mth(leaves[256:512])
    partial = TileCoord(0, 2, 88)
    assert hash_from_tile(partial, tiles[partial], Subtree(0, 515)) == leaves[515]
    assert hash_from_tile(partial, tiles[partial], Subtree(6, 8)) == _mth(leaves[512:576])
    assert hash_from_tile(TileCoord(1, 0, 2), tiles[TileCoord(1, 0, 2)], Subtree(9, 0)) == (
        _mth(leaves[:512])
    )


@pytest.mark.parametrize(
    ("tile", "data", "subtree", "message"),
    [
        pytest.param(
            TileCoord.entry_bundle(0, 1),
            b"\x00" * 32,
            Subtree(0, 0),
            "tile/entries/000.p/1: an entry bundle holds entries",
            id="bundle",
        ),
        pytest.param(
            TileCoord(0, 0, 2),
            b"\x00" * 32,
            Subtree(0, 0),
            r"tile/0/000.p/2: 32 bytes, expected 64 \(2 hashes\)",
            id="short",
        ),
        pytest.param(
            TileCoord(0, 0, 2),
            b"\x00" * 64,
            Subtree(0, 2),
            r"subtree \(level 0, index 2\) is not in tile/0/000.p/2: it needs hashes 2..2 "
            "of tile 0/0",
            id="beyond-width",
        ),
        pytest.param(
            TileCoord(0, 0),
            b"\x00" * 8192,
            Subtree(8, 0),
            r"subtree \(level 8, index 0\) is not in tile/0/000: it needs hashes 0..0 of tile 1/0",
            id="wrong-level",
        ),
        pytest.param(
            TileCoord(0, 1),
            b"\x00" * 8192,
            Subtree(0, 3),
            r"subtree \(level 0, index 3\) is not in tile/0/001",
            id="wrong-index",
        ),
    ],
)
def test_hash_from_tile_rejects(
    tile: TileCoord, data: bytes, subtree: Subtree, message: str
) -> None:
    with pytest.raises(MalformedError, match=message):
        hash_from_tile(tile, data, subtree)


def test_tile_subtrees_rejects_bundle() -> None:
    with pytest.raises(MalformedError, match="tile/entries/000: an entry bundle holds entries"):
        tile_subtrees(TileCoord.entry_bundle(0))


def test_build_tiles_rejects_bad_leaf() -> None:
    with pytest.raises(MalformedError, match="leaf hash 1 is 3 bytes, expected 32"):
        build_tiles([b"\x00" * 32, b"abc"])


def _mth(hashes: list[bytes]) -> bytes:
    """RFC 9162 MTH over leaf hashes, straight from the definition."""
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return node_hash(_mth(hashes[:k]), _mth(hashes[k:]))


class _LevelReader:
    """A HashReader computing each subtree from its leaves (no tiles involved)."""

    def __init__(self, leaves: list[bytes], short: bool = False) -> None:
        self._leaves = leaves
        self._short = short

    def read_hashes(self, subtrees: Sequence[Subtree]) -> list[bytes]:
        out = [_mth(self._leaves[s.start : s.end]) for s in subtrees]
        return out[:-1] if self._short else out


def test_read_tile_matches_build_tiles() -> None:
    leaves = _leaf_hashes(70000)
    tiles = build_tiles(leaves)
    reader = _LevelReader(leaves)
    for coord in [TileCoord(0, 5), TileCoord(0, 273, 112), TileCoord(1, 1, 17), TileCoord(2, 0, 1)]:
        assert read_tile(reader, coord) == tiles[coord]


def test_read_tile_rejects() -> None:
    leaves = _leaf_hashes(10)
    with pytest.raises(
        MalformedError, match=re.escape("tile/0/000.p/10: reader returned 9 hashes for 10")
    ):
        read_tile(_LevelReader(leaves, short=True), TileCoord(0, 0, 10))
    with pytest.raises(MalformedError, match="an entry bundle holds entries"):
        read_tile(_LevelReader(leaves), TileCoord.entry_bundle(0, 10))
