"""Tests of authenticated tile reads: TileHashReader, and mirror_tiles
(verifiable.log.tiledlog) built on it.

The reference tree is computed here level by level from the leaves, without
the tiles module, and served lazily as tiles for any size, so a tree of every
size up to 70,000 costs nothing to set up.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifiable.errors import MalformedError, VerificationError
from verifiable.log.merkle import (
    EMPTY_ROOT,
    Subtree,
    consistency_proof,
    consistency_proof_from,
    inclusion_proof,
    inclusion_proof_from,
    leaf_hash,
    node_hash,
    root_hash_from,
    verify_consistency,
    verify_inclusion,
)
from verifiable.log.tiledlog import mirror_tiles
from verifiable.log.tiles import (
    TileCoord,
    TileHashReader,
    build_bundles,
    build_tiles,
    bundles_for_size,
    encode_bundle,
    tiles_for_size,
)

BIG = 70_000
MAX_U64 = (1 << 64) - 1


def _decomposition(size: int) -> list[Subtree]:
    """RFC 9162's complete subtrees of [0, size), left to right (own reference)."""
    out = []
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            out.append(Subtree(level, (size >> level) - 1))
    return out


def _fold(hashes: list[bytes]) -> bytes:
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


@dataclass(repr=False)
class Reference:
    """Every complete-subtree hash of a 70,000-leaf tree: levels[l][i] = Subtree(l, i)."""

    entries: list[bytes]
    levels: list[list[bytes]]

    def __repr__(self) -> str:
        return f"Reference({len(self.entries)} entries)"

    def subtree(self, s: Subtree) -> bytes:
        return self.levels[s.level][s.index]

    def root(self, size: int) -> bytes:
        if size == 0:
            return EMPTY_ROOT
        return _fold([self.subtree(s) for s in _decomposition(size)])


@pytest.fixture(scope="module")
def ref() -> Reference:
    entries = [b"entry %d" % i for i in range(BIG)]
    levels = [[leaf_hash(e) for e in entries]]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
    return Reference(entries, levels)


@dataclass
class Server:
    """Serves exactly the tiles and bundles tlog-tiles prescribes for one tree size.

    ``replace`` overrides what a path serves (``None``: a 404).  ``log`` records
    every fetch.
    """

    ref: Reference
    size: int
    replace: dict[TileCoord, bytes | None] = field(default_factory=dict)
    log: list[TileCoord] = field(default_factory=list)

    def honest(self, coord: TileCoord) -> bytes | None:
        level = 0 if coord.is_entry_bundle else coord.level
        count = self.size >> (8 * level)
        start = coord.index * 256
        if coord.width != min(256, count - start) or start >= count:
            return None
        if coord.is_entry_bundle:
            return encode_bundle(self.ref.entries[start : start + coord.width])
        return b"".join(self.ref.levels[8 * level][start : start + coord.width])

    def fetch(self, coord: TileCoord) -> bytes | None:
        self.log.append(coord)
        if coord in self.replace:
            return self.replace[coord]
        return self.honest(coord)

    def reader(self, **kwargs: Any) -> TileHashReader:
        return TileHashReader(self.size, self.ref.root(self.size), self.fetch, **kwargs)

    def mirror(self, **kwargs: Any) -> Iterator[bytes]:
        return mirror_tiles(self.size, self.ref.root(self.size), self.fetch, **kwargs)

    def tampered(self, coord: TileCoord, change: Callable[[bytes], bytes | None]) -> None:
        data = self.honest(coord)
        assert data is not None, coord
        self.replace[coord] = change(data)


def _flip(offset: int, bit: int = 0) -> Callable[[bytes], bytes]:
    def change(data: bytes) -> bytes:
        out = bytearray(data)
        out[offset] ^= 1 << bit
        return bytes(out)

    return change


def _sample_subtrees(size: int, rng: random.Random, count: int) -> list[Subtree]:
    picks = list(_decomposition(size))
    for _ in range(count):
        level = rng.randrange(size.bit_length())
        picks.append(Subtree(level, rng.randrange(size >> level)))
    rng.shuffle(picks)
    return picks


# ---------------------------------------------------------------- honest reads


def test_server_matches_build_tiles(ref: Reference) -> None:
    for size in [1, 255, 256, 257, 600, 65536, 65537]:
        server = Server(ref, size)
        built = {
            **build_tiles(ref.levels[0][:size]),
            **build_bundles(ref.entries[:size]),
        }
        assert set(built) == set(tiles_for_size(size)) | set(bundles_for_size(size))
        assert all(server.honest(coord) == data for coord, data in built.items())


def test_reader_every_size_up_to_600(ref: Reference) -> None:
    for size in range(1, 601):
        rng = random.Random(size)
        subtrees = _sample_subtrees(size, rng, 12)
        reader = Server(ref, size).reader()
        assert reader.read_hashes(subtrees) == [ref.subtree(s) for s in subtrees], size
        assert (reader.size, reader.root) == (size, ref.root(size))


@pytest.mark.parametrize("size", [65535, 65536, 65537, BIG])
def test_reader_large_sizes(ref: Reference, size: int) -> None:
    rng = random.Random(size)
    subtrees = _sample_subtrees(size, rng, 300)
    subtrees += [Subtree(level, 0) for level in range(size.bit_length())]
    reader = Server(ref, size).reader()
    assert reader.read_hashes(subtrees) == [ref.subtree(s) for s in subtrees]


class UniformServer:
    """A tree whose leaf hashes are all equal, served lazily for any size.

    Every complete subtree at level k then has the same hash, so trees of up
    to 2**64 - 1 leaves cost nothing, and the width and level arithmetic of
    the reader is exercised where no real tree could be built.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.level_hash = [leaf_hash(b"same")]
        for _ in range(64):
            self.level_hash.append(node_hash(self.level_hash[-1], self.level_hash[-1]))
        self.root = _fold([self.level_hash[s.level] for s in _decomposition(size)])
        self.log: list[TileCoord] = []

    def fetch(self, coord: TileCoord) -> bytes | None:
        self.log.append(coord)
        count = self.size >> (8 * coord.level)
        start = coord.index * 256
        if coord.is_entry_bundle or start >= count or coord.width != min(256, count - start):
            return None
        return self.level_hash[8 * coord.level] * coord.width


@pytest.mark.parametrize("size", [2**24 - 1, 2**24, 2**24 + 1, 2**40 + 12345, MAX_U64], ids=hex)
def test_reader_huge_sizes(size: int) -> None:
    server = UniformServer(size)
    reader = TileHashReader(size, server.root, server.fetch)
    rng = random.Random(size)
    subtrees = _sample_subtrees(size, rng, 100)
    assert reader.read_hashes(subtrees) == [server.level_hash[s.level] for s in subtrees]
    assert len(set(server.log)) == len(server.log)


# ---------------------------------------------------------------- merkle proofs through tiles


@settings(max_examples=100, deadline=None)
@given(st.integers(1, BIG), st.data())
def test_inclusion_proofs_through_tiles(ref: Reference, size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1))
    server = Server(ref, size)
    proof = inclusion_proof_from(server.reader(), index, size)
    verify_inclusion(ref.levels[0][index], index, size, proof, ref.root(size))
    assert root_hash_from(server.reader(), size) == ref.root(size)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, BIG), st.data())
def test_consistency_proofs_through_tiles(ref: Reference, new: int, data: st.DataObject) -> None:
    old = data.draw(st.integers(1, new))
    proof = consistency_proof_from(Server(ref, new).reader(), old, new)
    verify_consistency(old, new, proof, ref.root(old), ref.root(new))


def test_proofs_through_tiles_equal_proofs_from_leaves(ref: Reference) -> None:
    leaves = ref.levels[0][:1000]
    for size, index, old in [(1000, 0, 1), (1000, 999, 999), (777, 512, 256), (513, 300, 512)]:
        reader = Server(ref, size).reader()
        assert inclusion_proof_from(reader, index, size) == inclusion_proof(leaves, index, size)
        assert consistency_proof_from(reader, old, size) == consistency_proof(leaves, old, size)


# ---------------------------------------------------------------- fetching and caching


def _coords(*paths: str) -> list[TileCoord]:
    return [TileCoord.from_path(p) for p in paths]


PARTIALS_70000 = _coords("tile/0/273.p/112", "tile/1/001.p/17", "tile/2/000.p/1")


def test_reader_fetches_only_the_path_and_caches(ref: Reference) -> None:
    server = Server(ref, BIG)
    verified: list[TileCoord] = []
    reader = server.reader(on_verified=lambda coord, data: verified.append(coord))
    assert reader.read_hashes([Subtree(0, 5)]) == [ref.levels[0][5]]
    assert server.log == [*PARTIALS_70000, *_coords("tile/1/000", "tile/0/000")]
    assert verified == server.log
    server.log.clear()
    assert reader.read_hashes([Subtree(0, 6), Subtree(16, 0), Subtree(3, 10)]) == [
        ref.levels[0][6],
        ref.levels[16][0],
        ref.levels[3][10],
    ]
    assert server.log == []


def test_reader_without_cache_refetches_full_tiles(ref: Reference) -> None:
    server = Server(ref, BIG)
    reader = server.reader(cache=False)
    reader.read_hashes([Subtree(0, 5), Subtree(0, 6)])
    assert server.log == [*PARTIALS_70000, *_coords("tile/1/000", "tile/0/000")]
    server.log.clear()
    reader.read_hashes([Subtree(0, 7)])
    assert server.log == _coords("tile/1/000", "tile/0/000")


def test_reader_one_per_level_walks_left_to_right_fetching_each_tile_once(
    ref: Reference,
) -> None:
    # BIG (70,000) has 273 full level-0 tiles under one full level-1 tile
    # and a partial one: an audit's walk.
    server = Server(ref, BIG)
    reader = server.reader(one_per_level=True)
    full = BIG // 256
    for t in range(full):
        assert reader.read_hashes([Subtree(8, t)]) == [ref.levels[8][t]]
    # Each tile read once: tile/1/000 for the first 256, then the partial
    # tile/1/001.p/17 on the root's path, and the partials above them.
    assert len(server.log) == len(set(server.log))
    assert TileCoord(1, 0) in server.log and TileCoord(1, 1, 17) in server.log
    # Only the last tile of each level is kept: going back to an earlier
    # one fetches and verifies it again.
    server.log.clear()
    assert reader.read_hashes([Subtree(0, 5), Subtree(0, 6)]) == ref.levels[0][5:7]
    assert reader.read_hashes([Subtree(0, 300)]) == [ref.levels[0][300]]
    assert reader.read_hashes([Subtree(0, 7)]) == [ref.levels[0][7]]
    assert server.log == _coords("tile/0/000", "tile/0/001", "tile/0/000")
    # A tampered upper tile is still caught, the first time it is read.
    server.tampered(TileCoord(1, 0), _flip(0))
    fresh = server.reader(one_per_level=True)
    with pytest.raises(VerificationError, match="tile/1/000"):
        fresh.read_hashes([Subtree(8, 0)])


def test_reader_empty_tree_reads_nothing(ref: Reference) -> None:
    server = Server(ref, 0)
    assert server.reader().read_hashes([]) == []
    assert server.log == []
    with pytest.raises(MalformedError, match="outside the tree of size 0"):
        server.reader().read_hashes([Subtree(0, 0)])


# ---------------------------------------------------------------- lying tiles


def _read_through(tile: TileCoord) -> Subtree:
    """A subtree whose read needs ``tile``."""
    return Subtree(8 * tile.level, tile.index * 256)


def _lie_pattern(server: Server, tile: TileCoord) -> str:
    if tile.is_partial:
        # The partial tiles are checked together against the root: which one
        # lies is unknowable, so all are named.
        return (
            rf"^tree of size {server.size}: partial tiles .*{re.escape(str(tile))}.* hash to root"
        )
    return rf"^{re.escape(str(tile))}: tile hashes to [0-9a-f]{{64}}, but tile/"


def test_every_hash_of_every_tile_is_checked(ref: Reference) -> None:
    size = 600
    rng = random.Random(600)
    for tile in tiles_for_size(size):
        for slot in range(tile.width):
            server = Server(ref, size)
            server.tampered(tile, _flip(slot * 32 + rng.randrange(32), rng.randrange(8)))
            with pytest.raises(VerificationError, match=_lie_pattern(server, tile)):
                server.reader().read_hashes([_read_through(tile)])


TILES_70000 = _coords(
    "tile/0/000",
    "tile/0/137",
    "tile/0/272",
    "tile/0/273.p/112",
    "tile/1/000",
    "tile/1/001.p/17",
    "tile/2/000.p/1",
)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(TILES_70000), st.integers(0, 8191), st.integers(0, 7))
def test_any_changed_byte_is_rejected(
    ref: Reference, tile: TileCoord, offset: int, bit: int
) -> None:
    server = Server(ref, BIG)
    server.tampered(tile, _flip(offset % (tile.width * 32), bit))
    leaf = Subtree(0, (tile.index * 256) << (8 * tile.level))
    with pytest.raises(VerificationError, match=_lie_pattern(server, tile)):
        server.reader().read_hashes([leaf])


@pytest.mark.parametrize(
    ("path", "change", "message"),
    [
        pytest.param(
            "tile/0/001", lambda d: d[:-1], "tile/0/001: 8191 bytes, expected 8192", id="short"
        ),
        pytest.param(
            "tile/0/001", lambda d: d + d[:32], "tile/0/001: 8224 bytes, expected 8192", id="long"
        ),
        pytest.param(
            "tile/0/002.p/88",
            lambda d: d[:-32],
            r"tile/0/002.p/88: 2784 bytes, expected 2816 \(88 hashes\)",
            id="partial-short",
        ),
        pytest.param(
            "tile/1/000.p/2", lambda d: b"", "tile/1/000.p/2: 0 bytes, expected 64", id="empty"
        ),
        pytest.param(
            "tile/0/001",
            lambda d: None,
            "tile/0/001: missing, but a tree of size 600 has it",
            id="missing",
        ),
        pytest.param(
            "tile/1/000.p/2",
            lambda d: None,
            "tile/1/000.p/2: missing, but a tree of size 600 has it",
            id="missing-partial",
        ),
    ],
)
def test_reader_malformed_tiles(
    ref: Reference, path: str, change: Callable[[bytes], bytes | None], message: str
) -> None:
    server = Server(ref, 600)
    server.tampered(TileCoord.from_path(path), change)
    with pytest.raises(MalformedError, match=message):
        server.reader().read_hashes([Subtree(0, 300)])


def test_reader_rejects_wrong_root(ref: Reference) -> None:
    server = Server(ref, 600)
    reader = TileHashReader(600, ref.root(599), server.fetch)
    with pytest.raises(
        VerificationError,
        match=(
            "tree of size 600: partial tiles tile/0/002.p/88, tile/1/000.p/2 hash to root "
            f"{ref.root(600).hex()}, checkpoint root {ref.root(599).hex()}"
        ),
    ):
        reader.read_hashes([Subtree(0, 0)])


@pytest.mark.parametrize(
    ("size", "root", "message"),
    [
        pytest.param(-1, b"\x00" * 32, "tree size -1 outside", id="negative-size"),
        pytest.param(1 << 64, b"\x00" * 32, "tree size 18446744073709551616 outside", id="2**64"),
        pytest.param(5, b"\x00" * 31, "tree root must be 32 bytes", id="short-root"),
        pytest.param(5, "00" * 32, "tree root must be 32 bytes", id="hex-root"),
    ],
)
def test_reader_and_mirror_reject_arguments(size: int, root: Any, message: str) -> None:
    with pytest.raises(MalformedError, match=message):
        TileHashReader(size, root, lambda c: None)
    with pytest.raises(MalformedError, match=message):
        mirror_tiles(size, root, lambda c: None)  # raises before iteration


def test_reader_rejects_subtree_outside_tree(ref: Reference) -> None:
    with pytest.raises(MalformedError, match=r"covers leaves \[512, 1024\), outside the tree"):
        Server(ref, 600).reader().read_hashes([Subtree(9, 1)])


# ---------------------------------------------------------------- mirroring


@pytest.mark.parametrize("size", [1, 8, 255, 256, 257, 600, 65535, 65536, 65537, BIG])
def test_mirror_honest(ref: Reference, size: int) -> None:
    server = Server(ref, size)
    verified: dict[TileCoord, bytes] = {}

    def keep(coord: TileCoord, data: bytes) -> None:
        assert coord not in verified
        verified[coord] = data

    assert list(server.mirror(on_verified=keep)) == ref.entries[:size]
    everything = set(tiles_for_size(size)) | set(bundles_for_size(size))
    # Every tile and bundle fetched exactly once, and each reported once proven.
    assert sorted(server.log) == sorted(everything)
    assert verified == {coord: server.honest(coord) for coord in everything}


def test_mirror_empty_tree(ref: Reference) -> None:
    server = Server(ref, 0)
    assert list(server.mirror()) == []
    assert server.log == []
    with pytest.raises(VerificationError, match=f"empty tree: root {'00' * 32}, expected"):
        list(mirror_tiles(0, b"\x00" * 32, server.fetch))


def test_mirror_streams(ref: Reference) -> None:
    server = Server(ref, BIG)
    entries = server.mirror()
    assert next(entries) == ref.entries[0]
    # Only the root's partial tiles and the path to the first bundle so far.
    assert server.log == [
        *PARTIALS_70000,
        *_coords("tile/1/000", "tile/0/000", "tile/entries/000"),
    ]


def _mirror_until_error(server: Server) -> list[bytes]:
    got: list[bytes] = []
    for entry in server.mirror():
        got.append(entry)
    return got


def _with_bundle(server: Server, index: int, change: Callable[[list[bytes]], list[bytes]]) -> None:
    width = min(256, server.size - index * 256)
    start = index * 256
    entries = change(list(server.ref.entries[start : start + width]))
    server.replace[TileCoord.entry_bundle(index, width)] = encode_bundle(entries)


def test_mirror_rejects_changed_entry(ref: Reference) -> None:
    server = Server(ref, 600)
    _with_bundle(server, 1, lambda es: [*es[:7], b"entry 263!", *es[8:]])
    got: list[bytes] = []
    with pytest.raises(
        VerificationError,
        match=(
            "^tile/entries/001: entry 7 \\(log index 263\\) has leaf hash "
            f"{leaf_hash(b'entry 263!').hex()}, tile/0/1 holds {ref.levels[0][263].hex()}$"
        ),
    ):
        got.extend(server.mirror())
    # What was yielded before the failure is the proven first bundle, nothing more.
    assert got == ref.entries[:256]


def test_mirror_rejects_reordered_entries(ref: Reference) -> None:
    server = Server(ref, 600)
    _with_bundle(server, 0, lambda es: [*es[:3], es[4], es[3], *es[5:]])
    with pytest.raises(VerificationError, match=r"^tile/entries/000: entry 3 \(log index 3\)"):
        list(server.mirror())


def test_mirror_rejects_dropped_entry(ref: Reference) -> None:
    server = Server(ref, 600)
    _with_bundle(server, 1, lambda es: es[:100] + es[101:])
    with pytest.raises(
        MalformedError, match=r"^tile/entries/001: entry bundle: 255 entries, expected 256$"
    ):
        list(server.mirror())


def test_mirror_rejects_extra_entry(ref: Reference) -> None:
    server = Server(ref, 600)
    _with_bundle(server, 2, lambda es: [*es, b"entry 600"])
    with pytest.raises(
        MalformedError,
        match=r"^tile/entries/002.p/88: entry bundle: 11 trailing bytes after 88 entries",
    ):
        list(server.mirror())


def test_mirror_rejects_truncated_bundle(ref: Reference) -> None:
    server = Server(ref, 600)
    server.tampered(TileCoord.entry_bundle(0), lambda d: d[:-3])
    with pytest.raises(
        MalformedError, match=r"^tile/entries/000: entry bundle: entry 255 at byte offset \d+"
    ):
        list(server.mirror())


@pytest.mark.parametrize(
    ("size", "path"),
    [
        pytest.param(600, "tile/0/001", id="full-level0"),
        pytest.param(600, "tile/0/002.p/88", id="partial-level0"),
        pytest.param(600, "tile/1/000.p/2", id="partial-level1"),
        pytest.param(BIG, "tile/0/272", id="last-full-level0"),
        pytest.param(BIG, "tile/1/000", id="full-level1"),
        pytest.param(BIG, "tile/2/000.p/1", id="partial-level2"),
    ],
)
def test_mirror_rejects_changed_tile_byte(ref: Reference, size: int, path: str) -> None:
    server = Server(ref, size)
    tile = TileCoord.from_path(path)
    server.tampered(tile, _flip(tile.width * 32 - 5, 3))
    pattern = _lie_pattern(server, tile)
    if tile.level == 0 and not tile.is_partial:
        # The walk checks a full level-0 tile against its hash itself, in the
        # audit's words.
        pattern = (
            rf"^{re.escape(str(tile))}: tile hashes to [0-9a-f]{{64}}, "
            rf"but the tree of size {size} holds [0-9a-f]{{64}} for it$"
        )
    with pytest.raises(VerificationError, match=pattern):
        list(server.mirror())


@pytest.mark.parametrize(
    ("path", "message"),
    [
        pytest.param(
            "tile/0/001",
            r"^tile/0/001: tile: 8187 bytes, expected 8192 \(256 hashes\)$",
            id="full-level0",
        ),
        pytest.param(
            "tile/0/002.p/88",
            r"^tile/0/002\.p/88: 8187 bytes, expected 2816 \(88 hashes\)$",
            id="partial-level0",
        ),
    ],
)
def test_mirror_rejects_malformed_level0_tile(ref: Reference, path: str, message: str) -> None:
    server = Server(ref, 600)
    server.replace[TileCoord.from_path(path)] = bytes(8187)
    with pytest.raises(MalformedError, match=message):
        list(server.mirror())


@pytest.mark.parametrize(
    "path", ["tile/0/001", "tile/1/000.p/2", "tile/entries/001", "tile/entries/002.p/88"]
)
def test_mirror_rejects_missing_tile(ref: Reference, path: str) -> None:
    server = Server(ref, 600)
    server.replace[TileCoord.from_path(path)] = None
    with pytest.raises(
        MalformedError, match=f"^{re.escape(path)}: missing, but a tree of size 600 has it$"
    ):
        list(server.mirror())


def test_mirror_rejects_a_different_log(ref: Reference) -> None:
    # A self-consistent log with one entry changed, checked against the real root.
    entries = list(ref.entries[:600])
    entries[42] = b"rewritten history"
    other = {**build_tiles([leaf_hash(e) for e in entries]), **build_bundles(entries)}
    with pytest.raises(VerificationError, match=r"^tree of size 600: partial tiles"):
        list(mirror_tiles(600, ref.root(600), other.get))
