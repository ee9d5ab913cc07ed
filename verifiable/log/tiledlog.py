"""A whole log read through its C2SP tlog-tiles and checked end to end.

This is the one place that walks a log's tiles: the signed checkpoint
(C2SP tlog-checkpoint in a signed-note), every hash tile against the
checkpoint's root (C2SP tlog-tiles, RFC 9162 §2.1, through
:class:`~verifiable.log.tiles.TileHashReader`), every entry against its
level-0 tile, and every entry's canonical form and hash chain
(:mod:`verifiable.log.entry`).  The server's restore
(:mod:`server.snapshot`), the client's audit (:mod:`client.audit`) and
``verify-receipt --log`` all read a log through it, so a log that one
accepts the others accept too.

:class:`LogCursor` is the walk: left to right over the level-0 tiles, each
verified once against the root (one tile kept per level, so memory does not
grow with the log), each entry bundle against its tile, each entry handed
with its leaf hash to an ``EntryCheck`` (canonical form and chain, or a
caller's own stricter check, such as a pool replay).  It can start from a
:class:`LogPosition`, a proven prefix ending at a tile boundary, so that an
interrupted audit resumes; the caller proves first that the checkpoint
extends that prefix (RFC 9162 §2.1.4), through the cursor's own ``reader``.

I/O enters as ``fetch``: a callable from a tile coordinate to the bytes served
at that path, or ``None`` when nothing is there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from verifiable.errors import MalformedError, VerificationError
from verifiable.log.checkpoint import SignedCheckpoint, open_checkpoint
from verifiable.log.entry import GENESIS_PREV, Entry, parse_entry
from verifiable.log.merkle import EMPTY_ROOT, HASH_SIZE, CompactTree, Subtree, leaf_hash, root_hash
from verifiable.log.note import Verifier
from verifiable.log.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    Fetch,
    TileCoord,
    TileHashReader,
    decode_bundle,
    tile_hashes,
)

__all__ = [
    "EntryCheck",
    "LogCursor",
    "LogPosition",
    "ProvenTile",
    "TiledLog",
    "VerifiedEntry",
    "bundle_entries",
    "check_canonical",
    "mirror_tiles",
    "open_tiled_log",
    "prefix_root",
]

EntryCheck = Callable[[bytes, int, bytes, bytes], object]
"""``check(entry, seq, prev, leaf)``: accept entry ``seq`` of the log, whose
``prev`` must be ``prev`` and whose leaf hash (already proven against its
tile) is ``leaf``, or raise :class:`~verifiable.errors.MalformedError` /
:class:`~verifiable.errors.VerificationError`."""

OnVerified = Callable[[TileCoord, bytes], None]


def check_canonical(entry: bytes, seq: int, prev: bytes, leaf: bytes) -> Entry:
    """The log-level :data:`EntryCheck`: the entry is canonical, of the
    current format, and chained (``seq``, ``prev``)."""
    return parse_entry(entry, seq=seq, prev=prev)


@dataclass(frozen=True)
class LogPosition:
    """A proven prefix of a log, where a walk can resume: its first ``size``
    entries (a multiple of 256: a level-0 tile boundary), ``head`` the leaf
    hash of the last of them, and ``compact_range`` the hashes of the
    prefix's complete subtrees, largest first, each a level-8 or higher
    subtree read from authenticated tiles."""

    size: int
    head: bytes
    compact_range: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if type(self.size) is not int or self.size < 0 or self.size % TILE_WIDTH:
            raise MalformedError(f"log position {self.size!r}: not a multiple of {TILE_WIDTH}")
        if not isinstance(self.head, bytes) or len(self.head) != HASH_SIZE:
            raise MalformedError(f"log position {self.size}: chain head is not {HASH_SIZE} bytes")
        if self.size == 0 and self.head != GENESIS_PREV:
            raise VerificationError(
                f"log position 0: an empty log's head is {GENESIS_PREV.hex()}, "
                f"got {self.head.hex()}"
            )
        self.tiles()  # checks the compact range's length and hashes

    def tiles(self) -> CompactTree:
        """The compact tree over the prefix's full level-0 tiles (one leaf
        per tile, each the tile's level-8 subtree hash)."""
        return CompactTree.from_compact_range(self.size >> TILE_HEIGHT, self.compact_range)

    def root(self) -> bytes:
        """The RFC 9162 root of the prefix."""
        return self.tiles().root()


@dataclass(frozen=True)
class ProvenTile:
    """A level-0 tile whose every entry is proven: ``bundle`` is the entry
    bundle's bytes as fetched, ``entries`` its entries, ``leaves`` their leaf
    hashes (the tile's hashes; shared with the reader, not to be changed)."""

    index: int
    bundle: bytes
    entries: list[bytes]
    leaves: list[bytes]

    @property
    def width(self) -> int:
        return len(self.entries)

    @property
    def first(self) -> int:
        """The log index of the tile's first entry."""
        return self.index << TILE_HEIGHT


def bundle_entries(bundle: TileCoord, data: bytes) -> list[bytes]:
    """The entries of ``bundle``: exactly its width of them; errors name its
    path (``tile/entries/001: entry bundle: 255 entries, expected 256``)."""
    # The wording is the audit's, whose --json output is a stable interface.
    return decode_bundle(data, bundle.width, where=f"{bundle}: entry bundle")


def prefix_root(bundles: Iterable[bytes]) -> bytes:
    """The RFC 9162 root of the tree whose leaves are the entries of these
    full entry bundles, in order (bundle 0 first): what re-read entries of a
    :class:`LogPosition`'s prefix must hash to before they are used."""
    tree = CompactTree()
    for t, data in enumerate(bundles):
        entries = bundle_entries(TileCoord.entry_bundle(t), data)
        tree.append(root_hash([leaf_hash(e) for e in entries]))
    return tree.root()


class LogCursor:
    """A walk over the log of ``size`` entries whose checkpoint root is
    ``root``: :meth:`tiles` yields each level-0 tile once all its entries are
    proven (see the module docstring).

    ``check`` is run on every entry, in order, right after its leaf hash is
    compared with its tile; ``None`` checks the tiles and leaf hashes only.
    ``on_verified(coord, data)`` is told of each hash tile and entry bundle
    once proven.  :attr:`reader` reads hashes from the tiles already proven
    (a consistency proof before a resume, say).  Errors
    (:class:`~verifiable.errors.MalformedError`,
    :class:`~verifiable.errors.VerificationError`) name the tile or bundle
    and surface while iterating, at the first that fails; :attr:`proven`
    then counts the entries proven before it.
    """

    def __init__(
        self,
        size: int,
        root: bytes,
        fetch: Fetch,
        *,
        check: EntryCheck | None = check_canonical,
        on_verified: OnVerified | None = None,
    ) -> None:
        # One verified tile per level: walking left to right, each tile above
        # level 0 is fetched and verified once, and memory stays one tile per
        # level however long the log.
        self.reader = TileHashReader(size, root, fetch, one_per_level=True, on_verified=on_verified)
        self._fetch = fetch
        self._check = check
        self._on_verified = on_verified
        self._seq = 0
        self._head = GENESIS_PREV
        self._boundary_head = GENESIS_PREV
        self._tiles = CompactTree()

    @property
    def size(self) -> int:
        return self.reader.size

    @property
    def root(self) -> bytes:
        return self.reader.root

    @property
    def proven(self) -> int:
        """How many entries, from the first, are proven so far."""
        return self._seq

    @property
    def position(self) -> LogPosition:
        """The last tile boundary reached: where a later walk may resume."""
        size = self._tiles.size << TILE_HEIGHT
        return LogPosition(size, self._boundary_head, tuple(self._tiles.compact_range()))

    def seek(self, position: LogPosition) -> None:
        """Start after ``position``'s prefix, which the caller has proven to
        be a prefix of this log (its entries are not read again)."""
        if position.size > self.size:
            raise MalformedError(
                f"log position {position.size} is beyond the tree of size {self.size}"
            )
        self._tiles = position.tiles()
        self._seq = position.size
        self._head = self._boundary_head = position.head

    def fetch_bundle(self, bundle: TileCoord) -> bytes:
        """The bytes served for ``bundle``, not yet proven: :meth:`tiles`
        proves them, and so must any other caller (:func:`prefix_root`)."""
        return self._required(bundle)

    def _required(self, coord: TileCoord) -> bytes:
        data = self._fetch(coord)
        if data is None:
            raise MalformedError(f"{coord}: missing, but a tree of size {self.size} has it")
        return data

    def tiles(self) -> Iterator[ProvenTile]:
        """Each level-0 tile from the cursor's position on, proven."""
        size = self.size
        if size == 0 and self.root != EMPTY_ROOT:
            raise VerificationError(
                f"empty tree: root {self.root.hex()}, expected {EMPTY_ROOT.hex()}"
            )
        last = (size + TILE_WIDTH - 1) >> TILE_HEIGHT
        for t in range(self._seq >> TILE_HEIGHT, last):
            yield self._prove(t, min(TILE_WIDTH, size - (t << TILE_HEIGHT)))

    def _level0(self, tile: TileCoord) -> tuple[list[bytes], bytes | None]:
        """The hashes of level-0 ``tile`` proven against the root, and the
        tile's own hash if it is full (a level-8 subtree of the log)."""
        if tile.is_partial:
            # Proven with the other partial tiles, against the root itself.
            return self.reader.read_tile_hashes(tile), None
        # The tile's hash, read from its proven parent; then the tile must
        # hash to it.  Checked here rather than by the reader so that a
        # failure is worded as the audit has always worded it: the audit's
        # --json output is a stable interface.
        (expected,) = self.reader.read_hashes([Subtree(TILE_HEIGHT, tile.index)])
        data = self._required(tile)
        try:
            hashes = tile_hashes(data, TILE_WIDTH)
        except MalformedError as e:
            raise MalformedError(f"{tile}: {e}") from e
        # 256 hashes make a perfect tree, whose RFC 9162 root is the tile's hash.
        got = root_hash(hashes)
        if got != expected:
            raise VerificationError(
                f"{tile}: tile hashes to {got.hex()}, but the tree of size {self.size} "
                f"holds {expected.hex()} for it"
            )
        if self._on_verified is not None:
            self._on_verified(tile, data)
        return hashes, got

    def _prove(self, t: int, width: int) -> ProvenTile:
        hashes, tile_root = self._level0(TileCoord(0, t, width))
        bundle = TileCoord.entry_bundle(t, width)
        data = self.fetch_bundle(bundle)
        entries = bundle_entries(bundle, data)
        check = self._check
        seq, head = self._seq, self._head
        try:
            # The hot loop of an audit: locals only, and the leaf hash handed
            # to the check so that it is computed once.
            for i, (entry, expected) in enumerate(zip(entries, hashes, strict=True)):
                got = leaf_hash(entry)
                if got != expected:
                    # The level-0 tile as tile/0/<t>, its index in decimal (not
                    # its path): the audit's wording, a stable interface.
                    raise VerificationError(
                        f"{bundle}: entry {i} (log index {seq}) has leaf hash {got.hex()}, "
                        f"tile/0/{t} holds {expected.hex()}"
                    )
                if check is not None:
                    check(entry, seq, head, got)
                seq += 1
                head = got
        finally:
            self._seq, self._head = seq, head
        if tile_root is not None:
            self._tiles.append(tile_root)
            self._boundary_head = head
        if self._on_verified is not None:
            self._on_verified(bundle, data)
        return ProvenTile(t, data, entries, hashes)


def mirror_tiles(
    size: int,
    root: bytes,
    fetch: Fetch,
    *,
    on_verified: OnVerified | None = None,
) -> Iterator[bytes]:
    """Read every tile and entry bundle of a tree of ``size`` and yield its
    entries in order, each only after it is proven to be in the tree with
    ``root`` (tiles and leaf hashes; the entries' content is not parsed).

    Every hash tile of the tree is fetched and checked exactly once, and
    memory holds one tile per level, whatever the size.  ``on_verified`` is
    told of each tile and bundle once proven.  Errors surface during
    iteration; bad arguments raise at once.
    """
    cursor = LogCursor(size, root, fetch, check=None, on_verified=on_verified)
    return (entry for tile in cursor.tiles() for entry in tile.entries)


@dataclass(frozen=True)
class VerifiedEntry:
    """An entry proven to be at ``index`` in the checkpoint's tree and in the chain."""

    index: int
    data: bytes
    entry: Entry


@dataclass(frozen=True)
class TiledLog:
    """A log whose checkpoint verified; :meth:`cursor` and :meth:`entries`
    check the rest."""

    checkpoint: SignedCheckpoint
    fetch: Fetch

    @property
    def size(self) -> int:
        return self.checkpoint.checkpoint.size

    def cursor(
        self,
        *,
        check: EntryCheck | None = check_canonical,
        on_verified: OnVerified | None = None,
    ) -> LogCursor:
        """A :class:`LogCursor` over this log, at its first entry."""
        cp = self.checkpoint.checkpoint
        return LogCursor(cp.size, cp.root_hash, self.fetch, check=check, on_verified=on_verified)

    def entries(self, on_verified: OnVerified | None = None) -> Iterator[VerifiedEntry]:
        """Every entry in order, each yielded only once its tile path to the
        root, its leaf hash and its chain link are proven (a tile's entries
        once all of them are).  Errors surface while iterating, at the first
        entry or tile that fails."""
        parsed: list[Entry] = []

        def check(entry: bytes, seq: int, prev: bytes, leaf: bytes) -> None:
            parsed.append(parse_entry(entry, seq=seq, prev=prev))

        for tile in self.cursor(check=check, on_verified=on_verified).tiles():
            for i, (data, entry) in enumerate(zip(tile.entries, parsed, strict=True)):
                yield VerifiedEntry(tile.first + i, data, entry)
            parsed.clear()


def open_tiled_log(
    note_bytes: bytes,
    log_verifier: Verifier,
    origin: str,
    fetch: Fetch,
    witnesses: Sequence[Verifier] = (),
) -> TiledLog:
    """Open the log's checkpoint note (signature, origin, any witness lines)
    and return the log, ready to be read and checked entry by entry."""
    return TiledLog(open_checkpoint(note_bytes, log_verifier, origin, witnesses), fetch)
