"""The log's files kept up to date in a folder, for a static web server or a
CDN to serve: ``checkpoint``, hash tiles ``tile/<L>/<N>[.p/<W>]`` and entry
bundles ``tile/entries/<N>[.p/<W>]``, named as C2SP tlog-tiles names them
and holding exactly the bytes the read path serves (:func:`server.tiledata.read_tile`).

Tessera's way: the sequencer leaves files behind after each append and any
web server answers the read path from them.  :meth:`TileFiles.publish`
brings the folder up to the database's committed state: the server calls
it at start-up and ``mutualog-server tiles sync`` on demand.  After each
commit the sequencer calls :meth:`TileFiles.publish_after_commit`, which by
default only wakes the process's publisher thread and returns, so that the
append's request does not wait for the files' fsyncs; the thread publishes
up to the log's size at the time it runs, so a burst of appends costs one
publish.  ``MUTUALOG_TILE_PUBLISH=inline`` publishes in the append's
request instead.  :meth:`TileFiles.flush` waits for the thread.

Atomic for readers and safe after a crash (docs/storage.md, "The tile
directory"):

* every file is written to a temporary name in its own folder (a dot name
  no tile path has, so no location of the web server serves it), fsynced,
  renamed over its final name, and the folders are fsynced: a reader sees a
  whole old file or a whole new one, never part of one;
* tiles and bundles first, the checkpoint last, so the checkpoint never
  names a tree whose tiles are not all there;
* a full tile is written once and never replaced (its bytes never change);
* one publisher at a time, under an exclusive ``flock`` on ``.lock`` in the
  folder, and each reads the database only once it holds the lock: what it
  reads is at least what the previous holder read, so the checkpoint never
  goes back to a smaller tree, whichever worker's publisher runs last; the
  checkpoint file is replaced only by one of the same or a larger size,
  compared under the lock, which holds even for a publisher reading an
  older copy of the database.
"""

from __future__ import annotations

import atexit
import fcntl
import logging
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from server.config import ConfigError, Settings
from server.snapshot import CHECKPOINT_PATH
from server.storage import LogStore
from server.tiledata import gzipped_bundle, read_tile
from server.witnessing.store import served_checkpoint
from verifiable.errors import MalformedError, MutualogError
from verifiable.log.checkpoint import Checkpoint
from verifiable.log.note import Note
from verifiable.log.tiles import TILE_HEIGHT, TILE_WIDTH, TileCoord, new_bundles, new_tiles

__all__ = [
    "EXIT_FLUSH_SECONDS",
    "LOCK_NAME",
    "PUBLISH_MODES",
    "SIZE_NAME",
    "TEMP_PREFIX",
    "TILE_PUBLISH",
    "PublishError",
    "Published",
    "TileDirError",
    "TileFiles",
    "catch_up_files",
    "publish_in_background",
    "tile_files",
]

_log = logging.getLogger(__name__)

#: Temporary files start with this: no tile path has a part starting with a dot.
TEMP_PREFIX = ".tmp-"
LOCK_NAME = ".lock"
#: The tree size all of whose tiles are in the folder, written only while
#: it is ahead of the checkpoint file's (witnesses have not cosigned the newest).
SIZE_NAME = ".tiles-size"
#: The setting that says how the sequencer publishes after a commit.
TILE_PUBLISH = "MUTUALOG_TILE_PUBLISH"
#: Its values, the default first: by the process's publisher thread, or in
#: the append's own call (the request waits for the fsyncs).
PUBLISH_MODES = ("background", "inline")
#: How long a process leaving waits for its publisher to finish.
EXIT_FLUSH_SECONDS = 60.0


class TileDirError(MutualogError):
    """The tile folder holds a checkpoint that is not this log's, or one that
    cannot be read: it was not written here, and is not overwritten."""


class PublishError(MutualogError):
    """The files do not (yet) hold what was committed: a :meth:`TileFiles.flush`
    ran out of time, or the last publish failed (its reason chained).  The
    next append's publish, a restart or ``tiles sync`` catches them up."""


@dataclass(frozen=True)
class Published:
    """What a publish left: tiles of trees up to ``tiles_size``, the
    checkpoint of ``checkpoint_size`` (``None``: none served yet), and how
    many files it wrote."""

    tiles_size: int
    checkpoint_size: int | None
    written: int


def _size_of(note: bytes, where: Path) -> tuple[str, int]:
    try:
        checkpoint = Checkpoint.from_text(Note.from_bytes(note).text)
    except MalformedError as e:
        raise TileDirError(f"{where}: not a checkpoint ({e}); empty the folder") from e
    return checkpoint.origin, checkpoint.size


def _partial_tiles(size: int) -> Iterator[TileCoord]:
    """The partial tiles and bundle of a tree of ``size`` (its full ones are
    full in every larger tree too)."""
    level = 0
    while count := size >> (TILE_HEIGHT * level):
        if count % TILE_WIDTH:
            yield TileCoord(level, count >> TILE_HEIGHT, count % TILE_WIDTH)
            if level == 0:
                yield TileCoord.entry_bundle(count >> TILE_HEIGHT, count % TILE_WIDTH)
        level += 1


class TileFiles:
    """The log's files in ``directory`` (made if missing).

    With ``background`` (the default), :meth:`publish_after_commit` hands
    the publish to a daemon thread of this object, started at the first
    call in each process; without it, it publishes before returning.
    """

    def __init__(self, directory: Path, *, background: bool = True) -> None:
        self.directory = directory
        self.background = background
        self._publisher: _Publisher | None = None
        self._starting = threading.Lock()

    def __repr__(self) -> str:
        mode = PUBLISH_MODES[0] if self.background else PUBLISH_MODES[1]
        return f"TileFiles({str(self.directory)!r}, {mode})"

    def publish(self, engine: Engine, *, clean: bool = False) -> Published:
        """Bring the folder up to the committed log in ``engine``: every tile
        and bundle of the newest tree, the partial ones of the served
        checkpoint's tree, then the checkpoint ``/checkpoint`` serves.

        With ``clean``, first removes the temporary files a killed
        publisher left.  Raises :class:`TileDirError` for a folder holding
        another log's checkpoint; ``OSError`` and database errors pass through, leaving
        the folder as consistent as before (a later publish finishes it).
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._locked():
            if clean:
                self._remove_temporary()
            return self._publish(LogStore(engine), engine)

    def _remove_temporary(self) -> None:
        """Remove what killed publishers left: under the lock no temporary
        file is anyone's work in progress.  (A walk of the whole folder,
        so only on demand; such files are never served meanwhile.)"""
        for folder, _, names in os.walk(self.directory):
            for name in names:
                if name.startswith(TEMP_PREFIX):
                    (Path(folder) / name).unlink(missing_ok=True)

    def publish_after_commit(self, engine: Engine) -> None:
        """:meth:`publish` after a commit that stands whatever happens here
        (an append, a cosignature): in the background, the publisher thread
        is woken and this returns at once; inline, it publishes now.  A
        failure is logged, not raised; the files stay as they were, whole
        and consistent, until the next publish catches up."""
        if self.background:
            self._running_publisher().wake(engine)
        else:
            self._publish_logged(engine)

    def flush(self, timeout: float | None = None) -> None:
        """Wait until the files hold every commit whose
        :meth:`publish_after_commit` came before this call (at once when
        nothing is pending, or inline).  Raises :class:`PublishError` if
        ``timeout`` seconds pass first, or if the publish that covered them
        failed."""
        publisher = self._publisher
        if publisher is not None and publisher.pid == os.getpid():
            publisher.wait(timeout)

    def _running_publisher(self) -> _Publisher:
        with self._starting:
            publisher = self._publisher
            # A thread does not survive a fork: a worker forked from a
            # process that had one starts its own.
            if publisher is None or publisher.pid != os.getpid():
                self._publisher = publisher = _Publisher(self)
                atexit.register(self._flush_at_exit)
            return publisher

    def _flush_at_exit(self) -> None:
        try:
            self.flush(EXIT_FLUSH_SECONDS)
        except PublishError as e:
            # The database has the commits; the next start catches up.
            _log.error("%s", e)

    def _publish_logged(self, engine: Engine) -> Exception | None:
        """:meth:`publish`, its failure logged with its reason and returned."""
        try:
            published = self.publish(engine)
        except (OSError, SQLAlchemyError, MutualogError) as e:
            _log.error("log files in %s not brought up to date: %s", self.directory, e)
            return e
        _log.debug(
            "log files in %s: tiles of tree size %d, checkpoint of %s, %d files written",
            self.directory,
            published.tiles_size,
            published.checkpoint_size,
            published.written,
        )
        return None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.directory / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _publish(self, store: LogStore, engine: Engine) -> Published:
        # The served checkpoint before the newest: an append between the two
        # reads can only make the newest larger, so tiles cover what is served.
        served = served_checkpoint(engine)
        latest = store.latest_checkpoint()
        origin, on_disk = self._checkpoint_on_disk()
        if latest is None:
            return Published(0, on_disk, 0)
        latest_origin, size = _size_of(latest, self.directory / CHECKPOINT_PATH)
        if origin is not None and origin != latest_origin:
            raise TileDirError(
                f"{self.directory / CHECKPOINT_PATH} is a checkpoint of {origin!r}, "
                f"not of this log ({latest_origin!r}); empty the folder"
            )
        done = self._tiles_size(on_disk)
        writer = _Writer(self.directory)
        if done is None or done > size:
            # Nothing known here (a first publish, or files of an older run):
            # full tiles already present are compared rather than trusted.
            coords = [*new_tiles(0, size), *new_bundles(0, size)]
            writer.write_tiles(store, coords, size, check_full=True)
        elif done < size:
            coords = [*new_tiles(done, size), *new_bundles(done, size)]
            writer.write_tiles(store, coords, size, check_full=False)
        if served is not None and served.size < size:
            writer.write_tiles(store, list(_partial_tiles(served.size)), served.size)
        writer.sync_folders()
        if done != size and (served is None or served.size < size):
            # Only while the checkpoint file will not say it: one file fewer
            # to write and fsync in the usual case.
            writer.write(self.directory / SIZE_NAME, f"{size}\n".encode())
        published = on_disk
        if served is not None and (on_disk is None or served.size >= on_disk):
            path = self.directory / CHECKPOINT_PATH
            if on_disk != served.size or path.read_bytes() != served.note:
                writer.write(path, served.note)
            published = served.size
        writer.sync_folders()
        return Published(size, published, writer.written)

    def _checkpoint_on_disk(self) -> tuple[str | None, int | None]:
        path = self.directory / CHECKPOINT_PATH
        try:
            note = path.read_bytes()
        except FileNotFoundError:
            return None, None
        return _size_of(note, path)

    def _tiles_size(self, on_disk: int | None) -> int | None:
        """The tree size whose tiles are all here: the larger of the size
        file's and the checkpoint's; ``None`` if neither is known."""
        try:
            text = (self.directory / SIZE_NAME).read_text("ascii").strip()
        except (FileNotFoundError, UnicodeDecodeError):
            return on_disk
        if not text.isdigit():
            return on_disk
        return int(text) if on_disk is None else max(int(text), on_disk)


class _Publisher:
    """The thread that publishes one :class:`TileFiles` in the background.

    Woken after each commit, it publishes the log as committed when it runs
    (:meth:`TileFiles.publish` reads the database under the folder's lock),
    so every commit woken for before the publish started is in it, and the
    wakes that arrive while it runs cost one more publish, not one each.
    A publish that fails is logged; the next wake publishes again, and
    catches up everything since the files' last publish.
    """

    def __init__(self, files: TileFiles) -> None:
        self.pid = os.getpid()
        self._files = files
        self._changed = threading.Condition()
        self._engine: Engine | None = None
        self._asked = 0  # wakes so far
        self._done = 0  # wakes covered by a finished publish
        self._error: Exception | None = None  # the last publish's failure
        self._thread = threading.Thread(
            target=self._run, name=f"tile publisher {files.directory}", daemon=True
        )
        self._thread.start()

    def wake(self, engine: Engine) -> None:
        with self._changed:
            self._engine = engine
            self._asked += 1
            self._changed.notify_all()

    def wait(self, timeout: float | None) -> None:
        with self._changed:
            target = self._asked
            if not self._changed.wait_for(lambda: self._done >= target, timeout):
                raise PublishError(
                    f"log files in {self._files.directory} not published within {timeout} s "
                    f"({target - self._done} commits waiting)"
                )
            if self._error is not None:
                raise PublishError(
                    f"log files in {self._files.directory}: the last publish failed: {self._error}"
                ) from self._error

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._done < self._asked)
                asked, engine = self._asked, self._engine
            assert engine is not None, "a wake gives the engine"
            try:
                error = self._files._publish_logged(engine)
            except Exception as e:  # a bug: logged with its trace; the thread must live on
                _log.exception("log files in %s: publish failed", self._files.directory)
                error = e
            with self._changed:
                self._done, self._error = asked, error
                self._changed.notify_all()


class _Writer:
    """Writes files atomically, and remembers which folders to fsync."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._folders: set[Path] = set()
        self.written = 0

    def write_tiles(
        self, store: LogStore, coords: list[TileCoord], size: int, *, check_full: bool = False
    ) -> None:
        for coord in coords:
            path = self._root / coord.path()
            if not coord.is_partial and path.exists() and not check_full:
                continue  # written whole before, and a full tile never changes
            data = read_tile(store, coord, size)
            if data is None:
                raise MutualogError(f"{coord}: missing from storage at tree size {size}")
            packed = gzipped_bundle(data) if coord.is_entry_bundle else None
            gz = path.with_name(path.name + ".gz")
            if check_full and not coord.is_partial and _same(path, data, gz, packed):
                continue
            if packed is not None:
                # Before the bundle itself: nginx's gzip_static finds it beside it.
                self.write(gz, packed)
            self.write(path, data)

    def write(self, path: Path, data: bytes) -> None:
        folder = path.parent
        if folder not in self._folders and not folder.is_dir():
            made = [p for p in (folder, *folder.parents) if not p.exists()]
            folder.mkdir(parents=True, exist_ok=True)
            # A folder made here is an entry in its parent's: fsynced too.
            self._folders.update(p.parent for p in made)
        fd, temp = tempfile.mkstemp(dir=folder, prefix=TEMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(temp, 0o644)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        self._folders.add(folder)
        self.written += 1

    def sync_folders(self) -> None:
        """fsync every folder written in, so the renames are on disk before
        anything that depends on them (the checkpoint) is renamed."""
        for folder in sorted(self._folders, key=lambda p: -len(p.parts)):
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        self._folders.clear()


def _same(path: Path, data: bytes, gz: Path, packed: bytes | None) -> bool:
    """Whether a tile file (and its ``.gz``, if it has one) holds these bytes."""
    try:
        return path.read_bytes() == data and (packed is None or gz.read_bytes() == packed)
    except FileNotFoundError:
        return False


def publish_in_background(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``MUTUALOG_TILE_PUBLISH`` in ``environ`` (default
    ``os.environ``) says ``background`` (the default) rather than ``inline``."""
    text = (os.environ if environ is None else environ).get(TILE_PUBLISH, "").strip()
    if text and text not in PUBLISH_MODES:
        raise ConfigError(f"{TILE_PUBLISH}: expected one of {PUBLISH_MODES}, got {text[:40]!r}")
    return text != "inline"


def tile_files(settings: Settings, environ: Mapping[str, str] | None = None) -> TileFiles | None:
    """The instance's tile folder, published as ``MUTUALOG_TILE_PUBLISH`` in
    ``environ`` says, or ``None`` when ``MUTUALOG_TILE_DIR`` is not set."""
    if settings.tile_dir is None:
        return None
    return TileFiles(settings.tile_dir, background=publish_in_background(environ))


def catch_up_files(settings: Settings, engine: Engine, log: logging.Logger) -> None:
    """The start-up step: bring the tile folder, if there is one, up to the
    database, which a crash between a commit and its files' publish (in
    the background, any commit since the thread's last publish) left ahead
    of it; inline, whatever the publish setting.  A database not reachable
    yet is left alone (the next append publishes); a folder of another log
    stops the start."""
    files = tile_files(settings)
    if files is None:
        return
    try:
        files.publish(engine)
    except (OSError, SQLAlchemyError) as e:
        log.error("log files in %s not brought up to date: %s", files.directory, e)
