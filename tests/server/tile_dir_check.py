"""Checks a tile folder (server.tilefiles) against the database: used by the
unit, crash and nginx tests."""

from __future__ import annotations

import gzip
from pathlib import Path

from sqlalchemy import Engine

from server.snapshot import CHECKPOINT_PATH, snapshot_order
from server.storage import LogStore
from server.tiledata import read_tile
from server.tilefiles import LOCK_NAME, SIZE_NAME, TEMP_PREFIX
from verifiable.log.checkpoint import Checkpoint
from verifiable.log.note import Note
from verifiable.log.tiles import TileCoord


def checkpoint_size(note: bytes) -> int:
    return Checkpoint.from_text(Note.from_bytes(note).text).size


def check_tile_dir(directory: Path, engine: Engine) -> int | None:
    """Fail unless every file under ``directory`` is right: each tile and
    bundle (and ``.gz``) holds the bytes the database gives for its path,
    the checkpoint is one the log signed, every tile of its tree is there,
    and nothing else is but dot files no tile path can name.  Returns the
    checkpoint's size (``None`` if there is no checkpoint file)."""
    store = LogStore(engine)
    size = store.size()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        name = path.relative_to(directory).as_posix()
        if path.name.startswith(TEMP_PREFIX) or name in (LOCK_NAME, SIZE_NAME):
            assert path.name.startswith("."), name  # unservable: no tile path part has a dot
            continue
        data = path.read_bytes()
        if name == CHECKPOINT_PATH:
            # The log's note of that size, with any witnesses' lines after it.
            signed = store.checkpoint(checkpoint_size(data))
            assert signed is not None and data.startswith(signed), "checkpoint not the log's"
            continue
        if name.endswith(".gz"):
            plain = directory / name[: -len(".gz")]
            assert gzip.decompress(data) == read_tile(
                store, TileCoord.from_path(name[: -len(".gz")]), size
            ), name
            assert not plain.exists() or gzip.decompress(data) == plain.read_bytes(), name
            continue
        assert data == read_tile(store, TileCoord.from_path(name), size), f"{name} is wrong"
    checkpoint = directory / CHECKPOINT_PATH
    if not checkpoint.exists():
        return None
    published = checkpoint_size(checkpoint.read_bytes())
    missing = [c.path() for c in snapshot_order(published) if not (directory / c.path()).is_file()]
    assert not missing, f"checkpoint of {published} without {missing[:5]}"
    return published
