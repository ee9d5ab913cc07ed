"""C2SP tlog-tiles: tile paths, entry bundles, tile arithmetic and authenticated reads.

Implements the read-path encoding of https://c2sp.org/tlog-tiles with tile
height 8: a full tile holds 256 consecutive hashes of one tree level
(levels 0, 8, 16, ... of the RFC 9162 tree), a partial tile the 1 to 255
hashes at the right edge, and an entry bundle the entries whose leaf hashes
make up the level-0 tile with the same index.

Three layers, each usable on its own:

* coordinates and their paths (:class:`TileCoord`, ``tile/<L>/<N>[.p/<W>]``
  and ``tile/entries/<N>[.p/<W>]``), parsed strictly so that every tile has
  exactly one path;
* contents: tile bytes <-> hashes, entry bundles <-> entries;
* arithmetic and authentication: which tiles a tree of a given size has,
  which tile holds a given complete subtree, and :class:`TileHashReader`,
  which accepts a tile only once it has been proven to hash up to a
  checkpoint's root, in the manner of Go's
  ``golang.org/x/mod/sumdb/tlog.TileHashReader``.

Walking a whole log, tile by tile and entry by entry, is
:mod:`verifiable.log.tiledlog`'s, built on :class:`TileHashReader`.

No I/O happens here: tiles arrive through a ``fetch`` callable supplied by
the caller, which returns the tile's bytes or ``None`` when the tile does not
exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from verifiable.errors import MalformedError, VerificationError
from verifiable.log.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    MAX_SIZE,
    HashReader,
    Subtree,
    node_hash,
    root_subtrees,
)

__all__ = [
    "ENTRY_BUNDLE_LEVEL",
    "MAX_ENTRY_SIZE",
    "MAX_TILE_LEVEL",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "Fetch",
    "TileCoord",
    "TileHashReader",
    "TileSlice",
    "build_bundles",
    "build_tiles",
    "bundle_for_index",
    "bundles_for_size",
    "decode_bundle",
    "encode_bundle",
    "format_index",
    "hash_from_tile",
    "new_bundles",
    "new_tiles",
    "parse_index",
    "read_tile",
    "tile_bytes",
    "tile_for_subtree",
    "tile_hashes",
    "tile_subtrees",
    "tiles_for_size",
    "tiles_for_subtrees",
]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_TILE_LEVEL = 63
ENTRY_BUNDLE_LEVEL = -1
"""The ``level`` of a :class:`TileCoord` naming an entry bundle (Go's ``L = -1``)."""
MAX_ENTRY_SIZE = 0xFFFF

_MASK = TILE_WIDTH - 1
# 2**64 - 1 has 20 decimal digits, so a tile index never needs more than 7 groups.
_MAX_INDEX_GROUPS = 7


# ---------------------------------------------------------------- coordinates


@dataclass(frozen=True, order=True)
class TileCoord:
    """One tile or entry bundle: ``level`` (0..63, or ``ENTRY_BUNDLE_LEVEL``),
    ``index`` within the level, and ``width`` (256 for a full tile, 1..255 for
    a partial one).

    Hash tile ``(L, N, W)`` holds the hashes of the complete subtrees at tree
    level ``8*L`` with indexes ``256*N`` to ``256*N + W - 1``.
    """

    level: int
    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        for name in ("level", "index", "width"):
            value = getattr(self, name)
            if type(value) is not int:
                raise MalformedError(f"tile coordinate: {name} must be an int, got {value!r}")
        if not ENTRY_BUNDLE_LEVEL <= self.level <= MAX_TILE_LEVEL:
            raise MalformedError(
                f"tile coordinate: level {self.level} outside 0..{MAX_TILE_LEVEL} "
                f"(or {ENTRY_BUNDLE_LEVEL} for an entry bundle)"
            )
        if not 0 <= self.index <= MAX_SIZE:
            raise MalformedError(f"tile coordinate: index {self.index} outside 0..2**64-1")
        if not 1 <= self.width <= TILE_WIDTH:
            raise MalformedError(f"tile coordinate: width {self.width} outside 1..{TILE_WIDTH}")

    @classmethod
    def entry_bundle(cls, index: int, width: int = TILE_WIDTH) -> TileCoord:
        return cls(ENTRY_BUNDLE_LEVEL, index, width)

    @property
    def is_entry_bundle(self) -> bool:
        return self.level == ENTRY_BUNDLE_LEVEL

    @property
    def is_partial(self) -> bool:
        return self.width < TILE_WIDTH

    def path(self) -> str:
        """The path below the log's prefix, e.g. ``tile/1/x001/x234/067.p/89``."""
        level = "entries" if self.is_entry_bundle else str(self.level)
        suffix = f".p/{self.width}" if self.is_partial else ""
        return f"tile/{level}/{format_index(self.index)}{suffix}"

    def __str__(self) -> str:
        return self.path()

    @classmethod
    def from_path(cls, path: str) -> TileCoord:
        """Parse a path; every tile has one path, so anything :meth:`path` would
        not produce is rejected."""
        where = f"tile path {path!r}"
        if not path.isascii():
            raise MalformedError(f"{where}: not ASCII")
        if path.endswith("/"):
            raise MalformedError(f"{where}: trailing slash")
        parts = path.split("/", 2)
        if len(parts) != 3 or parts[0] != "tile":
            raise MalformedError(f"{where}: expected 'tile/<level>/<index>' or 'tile/entries/...'")
        _, level_text, rest = parts
        if level_text == "entries":
            level = ENTRY_BUNDLE_LEVEL
        else:
            level = _parse_small_decimal(level_text, "level", where)
            if level > MAX_TILE_LEVEL:
                raise MalformedError(f"{where}: level {level} outside 0..{MAX_TILE_LEVEL}")
        index_text, dot_p, width_text = rest.partition(".p/")
        width = TILE_WIDTH
        if dot_p:
            width = _parse_small_decimal(width_text, "width", where)
            if not 1 <= width < TILE_WIDTH:
                raise MalformedError(f"{where}: partial width {width} outside 1..{TILE_WIDTH - 1}")
        return cls(level, _parse_index(index_text, where), width)


Fetch: TypeAlias = Callable[[TileCoord], bytes | None]
"""Returns the bytes served at a tile's path, or ``None`` if there is none."""


def _parse_small_decimal(text: str, what: str, where: str) -> int:
    # Checked by hand because int() also takes '+1', ' 1', '1_0' and non-ASCII digits.
    if not text or len(text) > 3 or not all("0" <= c <= "9" for c in text):
        raise MalformedError(f"{where}: {what} {text!r} is not a decimal number of 1-3 digits")
    if len(text) > 1 and text[0] == "0":
        raise MalformedError(f"{where}: {what} {text!r} has a leading zero")
    return int(text)


def format_index(index: int) -> str:
    """Encode a tile index in 3-digit path elements, all but the last prefixed
    with ``x``: 1234067 -> ``x001/x234/067``."""
    if type(index) is not int or not 0 <= index <= MAX_SIZE:
        raise MalformedError(f"tile index {index!r} outside 0..2**64-1")
    groups = [f"{index % 1000:03d}"]
    while index >= 1000:
        index //= 1000
        groups.append(f"x{index % 1000:03d}")
    return "/".join(reversed(groups))


def parse_index(text: str) -> int:
    """Inverse of :func:`format_index`, rejecting every non-canonical form."""
    return _parse_index(text, f"tile index {text!r}")


def _parse_index(text: str, where: str) -> int:
    elements = text.split("/")
    if len(elements) > _MAX_INDEX_GROUPS:
        raise MalformedError(
            f"{where}: index has {len(elements)} path elements, at most "
            f"{_MAX_INDEX_GROUPS} fit an index below 2**64"
        )
    value = 0
    for position, element in enumerate(elements):
        last = position == len(elements) - 1
        digits = element if last else element.removeprefix("x")
        if not last and digits == element:
            raise MalformedError(f"{where}: index element {element!r} must start with 'x'")
        if len(digits) != 3 or not all("0" <= c <= "9" for c in digits):
            expected = "3 digits" if last else "'x' and 3 digits"
            raise MalformedError(f"{where}: index element {element!r} is not {expected}")
        value = value * 1000 + int(digits)
    if value > MAX_SIZE:
        raise MalformedError(f"{where}: index {value} is not below 2**64")
    if format_index(value) != text:
        raise MalformedError(
            f"{where}: index {value} is not canonically encoded, expected {format_index(value)!r}"
        )
    return value


# ---------------------------------------------------------------- contents


def tile_hashes(data: bytes, width: int | None = None) -> list[bytes]:
    """Split tile bytes into its 32-byte hashes (1 to 256 of them, exactly
    ``width`` if given)."""
    return _decode_tile(data, width, "tile")


def _decode_tile(data: bytes, width: int | None, where: str) -> list[bytes]:
    count, extra = divmod(len(data), HASH_SIZE)
    if width is not None and len(data) != width * HASH_SIZE:
        raise MalformedError(
            f"{where}: {len(data)} bytes, expected {width * HASH_SIZE} ({width} hashes)"
        )
    if extra or not 1 <= count <= TILE_WIDTH:
        raise MalformedError(
            f"{where}: {len(data)} bytes is not 1 to {TILE_WIDTH} hashes of {HASH_SIZE} bytes"
        )
    return [bytes(data[i : i + HASH_SIZE]) for i in range(0, len(data), HASH_SIZE)]


def tile_bytes(hashes: Sequence[bytes]) -> bytes:
    """Concatenate 1 to 256 hashes of one level into tile bytes."""
    if not 1 <= len(hashes) <= TILE_WIDTH:
        raise MalformedError(f"tile: {len(hashes)} hashes, expected 1 to {TILE_WIDTH}")
    for i, h in enumerate(hashes):
        if len(h) != HASH_SIZE:
            raise MalformedError(f"tile: hash {i} is {len(h)} bytes, expected {HASH_SIZE}")
    return b"".join(hashes)


def encode_bundle(entries: Sequence[bytes]) -> bytes:
    """Encode 1 to 256 entries, each preceded by its big-endian uint16 length.

    Empty entries are allowed: RFC 9162 leaves may be empty and tlog-tiles
    sets no minimum (whether an entry may be empty is the entry format's rule).
    """
    if not 1 <= len(entries) <= TILE_WIDTH:
        raise MalformedError(f"entry bundle: {len(entries)} entries, expected 1 to {TILE_WIDTH}")
    out = bytearray()
    for i, entry in enumerate(entries):
        if len(entry) > MAX_ENTRY_SIZE:
            raise MalformedError(
                f"entry bundle: entry {i} is {len(entry)} bytes, over the {MAX_ENTRY_SIZE} "
                "a uint16 length prefix can express"
            )
        out += len(entry).to_bytes(2, "big")
        out += entry
    return bytes(out)


def decode_bundle(
    data: bytes, count: int | None = None, *, where: str = "entry bundle"
) -> list[bytes]:
    """Decode an entry bundle; with ``count``, it must hold exactly that many
    entries (the width its path names).  Errors begin with ``where`` (a
    reader of a whole log gives the bundle's path)."""
    return _decode_bundle(data, count, where)


def _decode_bundle(data: bytes, count: int | None, where: str) -> list[bytes]:
    if count is not None and not 1 <= count <= TILE_WIDTH:
        raise MalformedError(f"{where}: expected count {count} outside 1..{TILE_WIDTH}")
    limit = TILE_WIDTH if count is None else count
    entries: list[bytes] = []
    pos, end = 0, len(data)
    while pos < end:
        if len(entries) == limit:
            raise MalformedError(
                f"{where}: {end - pos} trailing bytes after {limit} entries (byte offset {pos})"
            )
        if end - pos < 2:
            raise MalformedError(
                f"{where}: entry {len(entries)} at byte offset {pos}: truncated length prefix"
            )
        length = int.from_bytes(data[pos : pos + 2], "big")
        if end - pos - 2 < length:
            raise MalformedError(
                f"{where}: entry {len(entries)} at byte offset {pos}: length {length}, "
                f"only {end - pos - 2} bytes remain"
            )
        entries.append(bytes(data[pos + 2 : pos + 2 + length]))
        pos += 2 + length
    if count is not None and len(entries) != count:
        raise MalformedError(f"{where}: {len(entries)} entries, expected {count}")
    if not entries:
        raise MalformedError(f"{where}: empty, a bundle holds 1 to {TILE_WIDTH} entries")
    return entries


# ---------------------------------------------------------------- arithmetic


@dataclass(frozen=True)
class TileSlice:
    """Where a complete subtree's hash comes from: the hashes
    ``tile[start:end]`` (a power of two of them) hashed together."""

    tile: TileCoord
    start: int
    end: int


def _check_size(size: int, what: str = "tree size") -> None:
    if type(size) is not int or not 0 <= size <= MAX_SIZE:
        raise MalformedError(f"{what} {size!r} outside 0..2**64-1")


def _width_at(level: int, index: int, size: int) -> int:
    """Width of hash tile (level, index) in a tree of ``size``; 0 if absent."""
    count = size >> (TILE_HEIGHT * level)
    return max(0, min(TILE_WIDTH, count - (index << TILE_HEIGHT)))


def _locate(subtree: Subtree) -> tuple[int, int, int, int]:
    """(tile level, tile index, start, end) of a subtree's hashes, ignoring size."""
    level, index = subtree
    if type(level) is not int or type(index) is not int or level < 0 or index < 0:
        raise MalformedError(f"subtree (level {level!r}, index {index!r}) is not valid")
    tile_level, rise = divmod(level, TILE_HEIGHT)
    first = index << rise
    tile_index = first >> TILE_HEIGHT
    start = first & _MASK
    return tile_level, tile_index, start, start + (1 << rise)


def tile_for_subtree(subtree: Subtree, size: int) -> TileSlice:
    """The tile, at its width in a tree of ``size``, holding what the hash of
    ``subtree`` is computed from.

    A subtree at level ``l`` lives in tile level ``l // 8``; when ``l % 8`` is
    not 0 its hash is rebuilt from ``2**(l % 8)`` adjacent hashes of that tile.
    """
    _check_size(size)
    tile_level, tile_index, start, end = _locate(subtree)
    if (subtree.index + 1) << subtree.level > size:
        raise MalformedError(
            f"subtree (level {subtree.level}, index {subtree.index}) covers leaves "
            f"[{subtree.index << subtree.level}, {(subtree.index + 1) << subtree.level}), "
            f"outside the tree of size {size}"
        )
    width = _width_at(tile_level, tile_index, size)
    return TileSlice(TileCoord(tile_level, tile_index, width), start, end)


def tiles_for_subtrees(subtrees: Sequence[Subtree], size: int) -> list[TileCoord]:
    """The distinct tiles holding the given subtrees' hashes, in first-use
    order (their authenticating parents are not included)."""
    return list(dict.fromkeys(tile_for_subtree(s, size).tile for s in subtrees))


def tile_subtrees(tile: TileCoord) -> list[Subtree]:
    """The subtrees whose hashes a hash tile holds, in order."""
    if tile.is_entry_bundle:
        raise MalformedError(f"{tile}: an entry bundle holds entries, not subtree hashes")
    first = tile.index << TILE_HEIGHT
    return [Subtree(TILE_HEIGHT * tile.level, first + i) for i in range(tile.width)]


def hash_from_tile(tile: TileCoord, data: bytes, subtree: Subtree) -> bytes:
    """The hash of ``subtree`` computed from the bytes of ``tile``."""
    if tile.is_entry_bundle:
        raise MalformedError(f"{tile}: an entry bundle holds entries, not subtree hashes")
    hashes = _decode_tile(data, tile.width, str(tile))
    tile_level, tile_index, start, end = _locate(subtree)
    if (tile_level, tile_index) != (tile.level, tile.index) or end > tile.width:
        raise MalformedError(
            f"subtree (level {subtree.level}, index {subtree.index}) is not in {tile}: "
            f"it needs hashes {start}..{end - 1} of tile {tile_level}/{tile_index}"
        )
    return _perfect_root(hashes[start:end])


def _perfect_root(hashes: Sequence[bytes]) -> bytes:
    """Root over a power-of-two run of same-level hashes."""
    level = list(hashes)
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def new_tiles(old_size: int, new_size: int) -> Iterator[TileCoord]:
    """Hash tiles a tree of ``new_size`` has that one of ``old_size`` lacks:
    newly full tiles and the new partial tile of each level, level by level."""
    _check_growth(old_size, new_size)
    return _new_tiles(old_size, new_size, hash_tiles=True)


def new_bundles(old_size: int, new_size: int) -> Iterator[TileCoord]:
    """Entry bundles a tree of ``new_size`` has that one of ``old_size`` lacks."""
    _check_growth(old_size, new_size)
    return _new_tiles(old_size, new_size, hash_tiles=False)


def tiles_for_size(size: int) -> Iterator[TileCoord]:
    """Every hash tile of a tree of ``size``, level by level, full then partial."""
    return new_tiles(0, size)


def bundles_for_size(size: int) -> Iterator[TileCoord]:
    """Every entry bundle of a tree of ``size``, in order."""
    return new_bundles(0, size)


def _check_growth(old_size: int, new_size: int) -> None:
    _check_size(old_size, "old tree size")
    _check_size(new_size, "new tree size")
    if old_size > new_size:
        raise MalformedError(f"tree cannot shrink from size {old_size} to {new_size}")


def _new_tiles(old_size: int, new_size: int, *, hash_tiles: bool) -> Iterator[TileCoord]:
    level = 0
    while new_count := new_size >> (TILE_HEIGHT * level):
        old_count = old_size >> (TILE_HEIGHT * level)
        name = level if hash_tiles else ENTRY_BUNDLE_LEVEL
        for n in range(old_count >> TILE_HEIGHT, new_count >> TILE_HEIGHT):
            yield TileCoord(name, n)
        if new_count & _MASK and new_count != old_count:
            yield TileCoord(name, new_count >> TILE_HEIGHT, new_count & _MASK)
        if not hash_tiles:
            return
        level += 1


def bundle_for_index(index: int, size: int) -> TileCoord:
    """The entry bundle, at its width in a tree of ``size``, holding entry ``index``."""
    _check_size(size)
    if type(index) is not int or not 0 <= index < size:
        raise MalformedError(f"log index {index!r} is not in a tree of size {size}")
    tile_index = index >> TILE_HEIGHT
    return TileCoord.entry_bundle(tile_index, _width_at(0, tile_index, size))


# ---------------------------------------------------------------- building


def build_tiles(leaf_hashes: Sequence[bytes]) -> dict[TileCoord, bytes]:
    """Every hash tile of the tree with these leaf hashes (for tests and
    small exports; it holds all of them in memory)."""
    level_hashes = list(leaf_hashes)
    for i, h in enumerate(level_hashes):
        if len(h) != HASH_SIZE:
            raise MalformedError(f"leaf hash {i} is {len(h)} bytes, expected {HASH_SIZE}")
    tiles: dict[TileCoord, bytes] = {}
    level = 0
    while level_hashes:
        above: list[bytes] = []
        for n, start in enumerate(range(0, len(level_hashes), TILE_WIDTH)):
            chunk = level_hashes[start : start + TILE_WIDTH]
            tiles[TileCoord(level, n, len(chunk))] = b"".join(chunk)
            if len(chunk) == TILE_WIDTH:
                above.append(_perfect_root(chunk))
        level_hashes = above
        level += 1
    return tiles


def build_bundles(entries: Sequence[bytes]) -> dict[TileCoord, bytes]:
    """Every entry bundle of a log holding these entries."""
    return {
        TileCoord.entry_bundle(n, len(chunk)): encode_bundle(chunk)
        for n, chunk in enumerate(
            entries[start : start + TILE_WIDTH] for start in range(0, len(entries), TILE_WIDTH)
        )
    }


def read_tile(reader: HashReader, tile: TileCoord) -> bytes:
    """The bytes of a hash tile, built from a source of subtree hashes (the
    server's storage), as Go's ``tlog.ReadTileData`` does."""
    subtrees = tile_subtrees(tile)
    hashes = reader.read_hashes(subtrees)
    if len(hashes) != len(subtrees):
        raise MalformedError(f"{tile}: reader returned {len(hashes)} hashes for {len(subtrees)}")
    return tile_bytes(hashes)


# ---------------------------------------------------------------- authentication


class _TileVerifier:
    """Fetches tiles and accepts each only once proven against the root.

    The partial tiles (at most one per level) together hold the tree's root
    subtrees, so they are checked together by recomputing the root; a full
    tile is checked by hashing it and comparing with its parent tile's entry,
    the parent being checked first.  Every full tile has a parent (its own
    hash is at level 8*(L+1)), and the chain ends at a partial tile.
    """

    def __init__(
        self,
        size: int,
        root: bytes,
        fetch: Fetch,
        on_verified: Callable[[TileCoord, bytes], None] | None,
        *,
        one_per_level: bool,
    ) -> None:
        _check_size(size)
        if not isinstance(root, bytes) or len(root) != HASH_SIZE:
            raise MalformedError(f"tree root must be {HASH_SIZE} bytes, got {root!r}")
        self.size = size
        self.root = root
        self._fetch = fetch
        self._on_verified = on_verified
        self._one_per_level = one_per_level
        self._partial: dict[TileCoord, list[bytes]] | None = None
        self._full: dict[TileCoord, list[bytes]] = {}

    def forget_full_tiles(self) -> None:
        self._full.clear()

    def fetch_raw(self, tile: TileCoord) -> bytes:
        data = self._fetch(tile)
        if data is None:
            raise MalformedError(f"{tile}: missing, but a tree of size {self.size} has it")
        return bytes(data)

    def hashes(self, tile: TileCoord) -> list[bytes]:
        if tile.is_partial:
            return self._partial_tiles()[tile]
        cached = self._full.get(tile)
        if cached is not None:
            return cached
        parent_level, parent_index = tile.level + 1, tile.index >> TILE_HEIGHT
        parent = TileCoord(
            parent_level, parent_index, _width_at(parent_level, parent_index, self.size)
        )
        # Walk up first so that a lie is reported at the highest tile telling it.
        expected = self.hashes(parent)[tile.index & _MASK]
        data = self.fetch_raw(tile)
        hashes = _decode_tile(data, tile.width, str(tile))
        got = _perfect_root(hashes)
        if got != expected:
            raise VerificationError(
                f"{tile}: tile hashes to {got.hex()}, but {parent} holds "
                f"{expected.hex()} at position {tile.index & _MASK} (tree of size {self.size})"
            )
        if self._one_per_level:
            for old in [t for t in self._full if t.level == tile.level]:
                del self._full[old]
        self._full[tile] = hashes
        if self._on_verified is not None:
            self._on_verified(tile, data)
        return hashes

    def _partial_tiles(self) -> dict[TileCoord, list[bytes]]:
        if self._partial is not None:
            return self._partial
        raw: dict[TileCoord, bytes] = {}
        hashes: dict[TileCoord, list[bytes]] = {}
        level = 0
        while count := self.size >> (TILE_HEIGHT * level):
            if count & _MASK:
                tile = TileCoord(level, count >> TILE_HEIGHT, count & _MASK)
                raw[tile] = self.fetch_raw(tile)
                hashes[tile] = _decode_tile(raw[tile], tile.width, str(tile))
            level += 1
        got = EMPTY_ROOT
        for n, subtree in enumerate(reversed(root_subtrees(self.size))):
            where = tile_for_subtree(subtree, self.size)
            h = _perfect_root(hashes[where.tile][where.start : where.end])
            got = h if n == 0 else node_hash(h, got)
        if got != self.root:
            raise VerificationError(
                f"tree of size {self.size}: partial tiles {', '.join(map(str, hashes))} "
                f"hash to root {got.hex()}, checkpoint root {self.root.hex()}"
            )
        self._partial = hashes
        if self._on_verified is not None:
            for tile, data in raw.items():
                self._on_verified(tile, data)
        return hashes


class TileHashReader:
    """A :class:`~verifiable.log.merkle.HashReader` over the tiles of a tree of
    ``size`` whose checkpoint root is ``root``.

    Every hash it returns comes from a tile already proven to hash up to
    ``root``; a tile that does not raises :class:`VerificationError` naming its
    path, a tile of the wrong length or a missing one :class:`MalformedError`.
    Verified tiles are kept for later calls when ``cache`` is true (the
    partial tiles on the root's path are always kept: there are at most eight);
    with ``one_per_level`` as well, only the last full tile verified at each
    level is kept: memory of one tile per level for a reader that walks the
    tree from left to right (an audit), which then verifies each tile once.
    ``on_verified(tile, data)`` is told of each tile once it is proven, so a
    caller may persist it (Go's ``TileReader.SaveTiles``).
    """

    def __init__(
        self,
        size: int,
        root: bytes,
        fetch: Fetch,
        *,
        cache: bool = True,
        one_per_level: bool = False,
        on_verified: Callable[[TileCoord, bytes], None] | None = None,
    ) -> None:
        self._verifier = _TileVerifier(size, root, fetch, on_verified, one_per_level=one_per_level)
        self._cache = cache

    @property
    def size(self) -> int:
        return self._verifier.size

    @property
    def root(self) -> bytes:
        return self._verifier.root

    def read_tile_hashes(self, tile: TileCoord) -> list[bytes]:
        """Every hash of the hash tile ``tile`` (at its width in this tree),
        once the tile is proven to hash up to the root: what a walk over the
        level-0 tiles compares each entry bundle with."""
        try:
            return self._verifier.hashes(tile)
        finally:
            if not self._cache:
                self._verifier.forget_full_tiles()

    def read_hashes(self, subtrees: Sequence[Subtree]) -> list[bytes]:
        """The hash of each subtree, in order, each authenticated against the root."""
        try:
            out = []
            for subtree in subtrees:
                where = tile_for_subtree(subtree, self.size)
                hashes = self._verifier.hashes(where.tile)
                out.append(_perfect_root(hashes[where.start : where.end]))
            return out
        finally:
            if not self._cache:
                self._verifier.forget_full_tiles()
