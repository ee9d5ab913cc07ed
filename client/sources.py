"""Where a log's checkpoint, tiles and entry bundles come from, besides its
URL (:class:`client.fetch.HttpFetcher`): a snapshot tar and a folder of
exported tiles, both laid out as the C2SP tlog-tiles HTTP paths.

Each is a :class:`client.fetch.Fetcher`; what it returns is checked by
:mod:`verifiable.log.tiledlog`, never trusted here.
"""

from __future__ import annotations

import tarfile
from abc import ABC, abstractmethod
from pathlib import Path

from client.fetch import Fetcher, HttpFetcher, is_url
from verifiable.log.tiles import TileCoord

__all__ = ["DirectorySource", "SourceError", "TarSource", "open_source"]

CHECKPOINT_PATH = "checkpoint"


class SourceError(Exception):
    """The source cannot be read at all (missing, unreadable, not a tar)."""


class _LocalFiles(ABC):
    """What a tar and a folder answer alike: local files, read again at no
    cost and not counted."""

    label: str

    @property
    def remote(self) -> bool:
        return False

    @property
    def stats(self) -> None:
        return None

    def url(self, path: str) -> str:
        return f"{self.label}: {path}"

    def get(self, path: str, limit: int) -> bytes | None:
        data = self._read(path)
        if data is not None and len(data) > limit:
            raise SourceError(
                f"{self.url(path)}: {len(data)} bytes, more than the {limit} expected"
            )
        return data

    @abstractmethod
    def _read(self, relative: str) -> bytes | None:
        """The file at ``relative``, ``None`` if there is none."""

    def fetch(self, tile: TileCoord) -> bytes | None:
        # TileCoord.path() is built from integers, so it cannot climb out of a folder.
        return self._read(tile.path())


class TarSource(_LocalFiles):
    """A snapshot tar.  Members are indexed once; each is read on demand, so
    memory grows with the number of files, not their size."""

    def __init__(self, path: Path) -> None:
        self.label = str(path)
        try:
            self._length = path.stat().st_size
            self._tar = tarfile.open(path, mode="r:")  # noqa: SIM115 -- closed by close()
        except (OSError, tarfile.TarError) as e:
            raise SourceError(f"{path}: not a readable snapshot tar: {e}") from e
        try:
            members = self._index()
        except (OSError, tarfile.TarError) as e:
            self._tar.close()
            raise SourceError(f"{path}: not a readable snapshot tar: {e}") from e
        self._members: dict[str, tarfile.TarInfo] = {}
        for member in members:
            problem = (
                "is not a regular file"
                if not member.isfile()
                else "appears twice"
                if member.name in self._members
                else None
            )
            if problem:
                self._tar.close()
                raise SourceError(f"{path}: member {member.name!r} {problem}")
            self._members[member.name] = member

    def _index(self) -> list[tarfile.TarInfo]:
        """The members, in order.  A tar cut short after its first member
        keeps the members whose headers were read: the last one's data may
        be cut (see :meth:`_read`), and the ones after it are missing, which
        the verifier reports against the signed checkpoint by path."""
        members: list[tarfile.TarInfo] = []
        while True:
            try:
                member = self._tar.next()
            except tarfile.ReadError:
                if not members:
                    raise
                return members
            if member is None:
                return members
            members.append(member)

    def listing(self) -> frozenset[str]:
        """Every member's name: a snapshot holds the log's files and nothing else."""
        return frozenset(self._members)

    def _read(self, name: str) -> bytes | None:
        member = self._members.get(name)
        if member is None:
            return None
        if member.offset_data + member.size > self._length:
            return self._read_cut(member)
        handle = self._tar.extractfile(member)
        if handle is None:
            return None
        try:
            with handle:
                return handle.read()
        except (OSError, tarfile.TarError) as e:
            raise SourceError(f"member {name!r}: cannot be read: {e}") from e

    def _read_cut(self, member: tarfile.TarInfo) -> bytes:
        """The part of a member's data that a cut-short tar still holds: the
        verifier refuses it against the checkpoint, naming its path."""
        raw = self._tar.fileobj
        if raw is None:
            return b""
        try:
            raw.seek(member.offset_data)
            return raw.read(max(0, self._length - member.offset_data))
        except OSError as e:
            raise SourceError(f"member {member.name!r}: cannot be read: {e}") from e

    def checkpoint(self) -> bytes:
        data = self._read(CHECKPOINT_PATH)
        if data is None:
            raise SourceError("the snapshot has no checkpoint")
        return data

    def close(self) -> None:
        self._tar.close()


class DirectorySource(_LocalFiles):
    """A folder of exported tiles (what ``mutualog-server export-tiles`` writes)."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise SourceError(f"{root}: not a folder")
        self.label = str(root)
        self._root = root

    def _read(self, relative: str) -> bytes | None:
        path = self._root / relative
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise SourceError(f"{path}: cannot be read: {e}") from e

    def checkpoint(self) -> bytes:
        data = self._read(CHECKPOINT_PATH)
        if data is None:
            raise SourceError(f"{self._root}: no checkpoint file")
        return data

    def listing(self) -> None:
        # An export keeps an older checkpoint's partial tiles (tlog-tiles allows it).
        return None

    def close(self) -> None:
        pass


def open_source(where: str | Path) -> Fetcher:
    """A log's URL (``http://`` or ``https://``), a tar file or an exported folder."""
    if isinstance(where, str) and is_url(where):
        return HttpFetcher(where)
    path = Path(where)
    if path.is_dir():
        return DirectorySource(path)
    if not path.exists():
        raise SourceError(f"{path}: no such file or folder")
    return TarSource(path)
