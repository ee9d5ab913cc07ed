"""Snapshots: the whole log as one tar, the same tree as static files, and
restoring a database from a snapshot after verifying all of it.

A snapshot is a POSIX ustar archive whose members are named exactly as the
C2SP tlog-tiles paths they would be served at: ``checkpoint``, then every hash
tile ``tile/<L>/<N>[.p/<W>]`` and entry bundle ``tile/entries/<N>[.p/<W>]`` of
the checkpoint's tree.  Its bytes depend on nothing but the log: every member
is a regular file with mode 0644, uid and gid 0, no user or group names,
mtime 0; there are no directory members; the archive ends with the two zero
blocks of ustar and is padded to a multiple of 10240 bytes, as tar does.

Members come in the order a verifier needs them, so a snapshot can be
checked in one pass holding one tile per tree level (:func:`snapshot_order`):

1. ``checkpoint``;
2. the partial hash tiles, level 0 upwards (together they hash to the root);
3. the full tiles, depth first: each after the tile above it (which holds its
   hash), and each full level-0 tile followed by its entry bundle;
4. the partial entry bundle, if the tree has one.

This is the order in which :class:`verifiable.log.tiledlog.LogCursor`, the
one walk over a log's tiles (the client's audit reads a log through it too),
asks for them, and restore verifies with it: fed from the archive, it accepts
each member only once it is proven against the checkpoint's root, so a
tampered, reordered, truncated or padded snapshot is refused at the first
member that is wrong.
"""

from __future__ import annotations

import os
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Engine

from server.storage import LogStore
from server.tiledata import read_tile
from verifiable.errors import MalformedError, MutualogError, VerificationError
from verifiable.log.checkpoint import Checkpoint, SignedCheckpoint, open_checkpoint
from verifiable.log.entry import MAX_ENTRY_SIZE
from verifiable.log.merkle import HASH_SIZE
from verifiable.log.note import Note, Verifier
from verifiable.log.tiledlog import open_tiled_log
from verifiable.log.tiles import TILE_HEIGHT, TILE_WIDTH, TileCoord

__all__ = [
    "CHECKPOINT_PATH",
    "DatabaseNotEmptyError",
    "ExportError",
    "SnapshotError",
    "SnapshotPlan",
    "SnapshotRejectedError",
    "export_tiles",
    "plan_snapshot",
    "restore",
    "snapshot_chunks",
    "snapshot_name",
    "snapshot_order",
    "verify_snapshot",
    "write_snapshot",
]

CHECKPOINT_PATH = "checkpoint"

_BLOCK = 512
_RECORD = 20 * _BLOCK
# A checkpoint note with the most signatures verifiable accepts is a few KiB.
_MAX_NOTE = 64 * 1024


class SnapshotError(MutualogError):
    """Base class of the snapshot module's errors."""


class SnapshotRejectedError(SnapshotError):
    """A snapshot that fails a check: its message says which member and why."""


class DatabaseNotEmptyError(SnapshotError):
    """A restore into a database that already holds a log."""


class ExportError(SnapshotError):
    """An export into a folder it must not write (it holds a newer or a
    foreign checkpoint)."""


# --- order -------------------------------------------------------------------------


def snapshot_order(size: int) -> Iterator[TileCoord]:
    """Every hash tile and entry bundle of a tree of ``size``, in snapshot order
    (see the module docstring); ``checkpoint`` comes before all of them."""
    if size == 0:
        return
    level = 0
    while count := size >> (TILE_HEIGHT * level):
        if count % TILE_WIDTH:
            yield TileCoord(level, count >> TILE_HEIGHT, count % TILE_WIDTH)
        level += 1
    top = level - 1
    for n in range(size >> TILE_HEIGHT):
        # Tile (L, M) spans level-0 tiles M * 256**L to (M + 1) * 256**L - 1:
        # it comes right before the first of them, after its own parent.
        for tile_level in range(top, 0, -1):
            shift = TILE_HEIGHT * tile_level
            index = n >> shift
            if index << shift == n and (index + 1) << TILE_HEIGHT <= size >> shift:
                yield TileCoord(tile_level, index)
        yield TileCoord(0, n)
        yield TileCoord.entry_bundle(n)
    if size % TILE_WIDTH:
        yield TileCoord.entry_bundle(size >> TILE_HEIGHT, size % TILE_WIDTH)


# --- writing -----------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotPlan:
    """The checkpoint a snapshot is taken at: its note and what it says."""

    note: bytes
    checkpoint: Checkpoint


def plan_snapshot(store: LogStore) -> SnapshotPlan | None:
    """Fix the snapshot's tree at the latest checkpoint (``None`` if the log
    has none).  Later appends do not change what the plan's snapshot holds:
    tiles of a tree size never change."""
    note = store.latest_checkpoint()
    if note is None:
        return None
    return SnapshotPlan(note, Checkpoint.from_text(Note.from_bytes(note).text))


def snapshot_name(plan: SnapshotPlan) -> str:
    return f"mutualog-{plan.checkpoint.size}.tar"


def _member(name: str, data: bytes) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    header = info.tobuf(tarfile.USTAR_FORMAT, "utf-8", "strict")
    return header + data + bytes(-len(data) % _BLOCK)


def snapshot_chunks(store: LogStore, plan: SnapshotPlan) -> Iterator[bytes]:
    """The snapshot's bytes, one member per chunk: memory holds one member (at
    most one entry bundle) whatever the size of the log."""
    size = plan.checkpoint.size
    written = 0
    chunk = _member(CHECKPOINT_PATH, plan.note)
    written += len(chunk)
    yield chunk
    for coord in snapshot_order(size):
        data = read_tile(store, coord, size)
        if data is None:
            raise SnapshotError(f"{coord}: missing from storage at tree size {size}")
        chunk = _member(coord.path(), data)
        written += len(chunk)
        yield chunk
    end = 2 * _BLOCK
    yield bytes(end + (-(written + end) % _RECORD))


def write_snapshot(store: LogStore, out: BinaryIO) -> Checkpoint:
    """Write a snapshot of the latest checkpoint to ``out``; return the checkpoint."""
    plan = plan_snapshot(store)
    if plan is None:
        raise SnapshotError("the log has no checkpoint yet: there is nothing to snapshot")
    for chunk in snapshot_chunks(store, plan):
        out.write(chunk)
    return plan.checkpoint


# --- static export -----------------------------------------------------------------


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _published_size(directory: Path, verifier: Verifier, origin: str) -> int:
    """The size of the checkpoint already in ``directory`` (0 if none)."""
    path = directory / CHECKPOINT_PATH
    try:
        note = path.read_bytes()
    except FileNotFoundError:
        return 0
    try:
        return open_checkpoint(note, verifier, origin).checkpoint.size
    except (MalformedError, VerificationError) as e:
        raise ExportError(
            f"{path} is not a checkpoint of this log ({e}); export into an empty folder"
        ) from e


def export_tiles(store: LogStore, directory: Path, verifier: Verifier, origin: str) -> Checkpoint:
    """Write the checkpoint and every tile and entry bundle of the latest tree
    into ``directory`` as files named by their paths, for any static web
    server, CDN or object store.

    Incremental: full tiles and bundles already there (from an earlier export
    of this log, whose checkpoint ``verifier`` opens) are kept, since they
    never change; the rest is written to a temporary name and renamed, and
    the checkpoint goes last, so a reader of the folder never sees a
    checkpoint whose tiles are not all there.  An older checkpoint's partial
    tiles are left in place (tlog-tiles allows it).  Refuses to replace a
    newer checkpoint (the published log would go back) or a foreign one.
    """
    plan = plan_snapshot(store)
    if plan is None:
        raise SnapshotError("the log has no checkpoint yet: there is nothing to export")
    size = plan.checkpoint.size
    published = _published_size(directory, verifier, origin)
    if published > size:
        raise ExportError(
            f"{directory / CHECKPOINT_PATH} has size {published}, newer than the log's {size}"
        )
    for coord in snapshot_order(size):
        path = directory / coord.path()
        # A full tile written by an earlier export of this log is final.
        if not coord.is_partial and path.is_file():
            continue
        data = read_tile(store, coord, size)
        if data is None:
            raise SnapshotError(f"{coord}: missing from storage at tree size {size}")
        _write_atomically(path, data)
    _write_atomically(directory / CHECKPOINT_PATH, plan.note)
    return plan.checkpoint


# --- reading and restoring -----------------------------------------------------------


def _max_member_size(coord: TileCoord) -> int:
    if coord.is_entry_bundle:
        return coord.width * (2 + MAX_ENTRY_SIZE)
    return coord.width * HASH_SIZE


class _Reader:
    """Reads a snapshot's members one by one, in order, refusing any that is
    not the one expected next."""

    def __init__(self, tar: tarfile.TarFile, label: str) -> None:
        self._label = label
        self._tar = tar

    def next(self, expected: str, limit: int) -> bytes:
        member = self._tar.next()
        if member is None:
            raise SnapshotRejectedError(f"{self._label}: ends before member {expected!r}")
        if member.name != expected:
            raise SnapshotRejectedError(
                f"{self._label}: member {member.name!r} where {expected!r} was expected"
            )
        if not member.isreg():
            raise SnapshotRejectedError(f"{self._label}: member {expected!r} is not a regular file")
        if member.size > limit:
            raise SnapshotRejectedError(
                f"{self._label}: member {expected!r} is {member.size} bytes, at most {limit} fit"
            )
        extracted = self._tar.extractfile(member)
        if extracted is None:
            raise SnapshotRejectedError(f"{self._label}: member {expected!r} has no data")
        data = extracted.read()
        if len(data) != member.size:
            raise SnapshotRejectedError(f"{self._label}: member {expected!r} is truncated")
        return data

    def end(self) -> None:
        member = self._tar.next()
        if member is not None:
            raise SnapshotRejectedError(
                f"{self._label}: unexpected member {member.name!r} after the last tile"
            )


@contextmanager
def _open_stream(path: Path) -> Iterator[tarfile.TarFile]:
    with open(path, "rb") as f:
        try:
            # "r|": a stream, read strictly forwards, never seeking or
            # indexing.  Closed by the with below; opened apart from it so
            # that only opening errors are reported as "not a tar".
            tar = tarfile.open(fileobj=f, mode="r|")  # noqa: SIM115
        except (tarfile.TarError, EOFError) as e:
            raise SnapshotRejectedError(f"{path}: not a readable tar archive: {e}") from e
        with tar:
            yield tar


def _read_verified(
    tar: tarfile.TarFile, label: str, verifier: Verifier, origin: str, *, check_entries: bool
) -> tuple[SignedCheckpoint, Iterator[bytes]]:
    """Open a snapshot stream: the verified checkpoint, and an iterator of the
    entries, each yielded only once proven in the checkpoint's tree (and,
    with ``check_entries``, parsed strictly and chained).  The iterator
    raises :class:`SnapshotRejectedError` when anything is wrong, and checks on
    exhaustion that nothing follows the last member."""
    reader = _Reader(tar, label)

    def fetch(coord: TileCoord) -> bytes:
        return reader.next(coord.path(), _max_member_size(coord))

    try:
        log = open_tiled_log(reader.next(CHECKPOINT_PATH, _MAX_NOTE), verifier, origin, fetch)
    except (tarfile.TarError, EOFError) as e:
        raise SnapshotRejectedError(f"{label}: not a readable tar archive: {e}") from e
    except (MalformedError, VerificationError) as e:
        raise SnapshotRejectedError(f"{label}: member 'checkpoint': {e}") from e

    def entries() -> Iterator[bytes]:
        try:
            # The second pass of a restore checks the tiles and leaf hashes
            # again, not the entries' content: the first pass did.
            cursor = log.cursor() if check_entries else log.cursor(check=None)
            for tile in cursor.tiles():
                yield from tile.entries
            reader.end()
        except (tarfile.TarError, EOFError) as e:
            raise SnapshotRejectedError(f"{label}: damaged tar archive: {e}") from e
        except (MalformedError, VerificationError) as e:
            raise SnapshotRejectedError(f"{label}: {e}") from e

    return log.checkpoint, entries()


def verify_snapshot(path: Path, verifier: Verifier, origin: str) -> SignedCheckpoint:
    """Check a snapshot file completely — the checkpoint's signature and
    origin, every tile against the root, every bundle against its level-0
    tile, every entry with the strict parser and the hash chain, and that
    nothing is missing or extra — and return its checkpoint.  Raises
    :class:`SnapshotRejectedError` with the reason."""
    with _open_stream(path) as tar:
        signed, entries = _read_verified(tar, str(path), verifier, origin, check_entries=True)
        for _ in entries:
            pass
    return signed


def restore(path: Path, engine: Engine, verifier: Verifier, origin: str) -> Checkpoint:
    """Load the log in the snapshot at ``path`` into the empty database of
    ``engine``, after verifying all of it (:func:`verify_snapshot`).

    Two passes: the first verifies everything and writes nothing; the
    second loads in one transaction while checking every tile and leaf hash
    again against the same signed root, so a file changed between the passes
    is refused too and the load rolls back.  Raises :class:`DatabaseNotEmptyError`
    or :class:`SnapshotRejectedError`; either way the database is unchanged.
    """
    store = LogStore(engine)
    if store.latest_checkpoint() is not None or store.entries(0, 1):
        raise DatabaseNotEmptyError(
            f"the database already holds a log of size {store.size()}; "
            "restore only into an empty database"
        )
    signed = verify_snapshot(path, verifier, origin)
    with _open_stream(path) as tar:
        again, entries = _read_verified(tar, str(path), verifier, origin, check_entries=False)
        if again.to_bytes() != signed.to_bytes():
            raise SnapshotRejectedError(f"{path}: the checkpoint changed while restoring")
        store.load(entries, signed.to_bytes())
    return signed.checkpoint
