"""Tiles and entry bundles of the log at a given tree size, read from storage.

The HTTP read path, the snapshot and the static export all serve the same
bytes through :func:`read_tile`, so a tile fetched over HTTP, found in a
snapshot or in an exported folder is byte for byte the same.
"""

from __future__ import annotations

import gzip

from server.storage import LogStore
from verifiable.log.tiles import TILE_HEIGHT, TILE_WIDTH, TileCoord, encode_bundle, tile_bytes

__all__ = [
    "GZIP_MIN",
    "StorageInconsistencyError",
    "available_width",
    "gzipped_bundle",
    "read_tile",
]

#: Below this many bytes an entry bundle gains nothing from compression.
GZIP_MIN = 512


class StorageInconsistencyError(RuntimeError):
    """Storage returned fewer rows than a tree of its own size must have: a
    bug or a damaged database, never the client's fault."""


def available_width(tile: TileCoord, size: int) -> int:
    """How many hashes (or entries) the tile at ``tile``'s level and index
    holds in a tree of ``size``: 0 if it does not exist yet, 256 if full."""
    level = 0 if tile.is_entry_bundle else tile.level
    count = size >> (TILE_HEIGHT * level)
    return max(0, min(TILE_WIDTH, count - (tile.index << TILE_HEIGHT)))


def read_tile(store: LogStore, tile: TileCoord, size: int) -> bytes | None:
    """The bytes served at ``tile.path()`` for a tree of ``size``, or ``None``.

    A partial tile narrower than what the tree now has is served too: it is
    the same prefix it was when the tree had that width, and tlog-tiles lets
    a log keep serving partial tiles (clients that verified an older
    checkpoint fetch them).  A tile wider than the tree has does not exist.
    """
    if tile.width > available_width(tile, size):
        return None
    start = tile.index << TILE_HEIGHT
    stop = start + tile.width
    if tile.is_entry_bundle:
        entries = store.entries(start, stop)
        _check_count(tile, len(entries))
        return encode_bundle(entries)
    hashes = store.level_hashes(TILE_HEIGHT * tile.level, start, stop)
    _check_count(tile, len(hashes))
    return tile_bytes(hashes)


def gzipped_bundle(data: bytes) -> bytes | None:
    """The gzip encoding of an entry bundle served to clients that accept
    it (tlog-tiles: SHOULD), or ``None`` for a bundle too small to gain.
    ``mtime`` 0: the same bundle always compresses to the same bytes, so
    the tile folder's ``.gz`` file and the read path's answer are one."""
    if len(data) < GZIP_MIN:
        return None
    return gzip.compress(data, compresslevel=6, mtime=0)


def _check_count(tile: TileCoord, got: int) -> None:
    if got != tile.width:
        raise StorageInconsistencyError(
            f"{tile}: storage returned {got} rows, expected {tile.width}"
        )
