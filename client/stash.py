"""The entry bundles an audit of a remote log has proven, kept on disk
(``audit-entries.bin`` in the state folder) so that a resumed audit replays
the rules from them instead of downloading the log again
(:mod:`client.audit`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from verifiable.errors import MalformedError

__all__ = ["EntryStash"]


class EntryStash:
    """The entry bundles of the full level-0 tiles proven so far, in order,
    each as a 4-byte big-endian length and the bundle's bytes.

    A cache, never a source of trust: before a resumed audit replays from
    it, the bundles it holds are hashed and must make the root of the
    prefix the resume point proved again.
    """

    _LENGTH = 4

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO | None = None

    def start(self) -> None:
        """Begin an empty stash."""
        self.close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("wb")

    def read(self, tiles: int) -> Iterator[bytes]:
        """The first ``tiles`` bundles; raises :class:`OSError`, or
        :class:`MalformedError` if the file ends before them."""
        with self.path.open("rb") as file:
            for t in range(tiles):
                head = file.read(self._LENGTH)
                length = int.from_bytes(head, "big")
                data = file.read(length) if len(head) == self._LENGTH else b""
                if len(head) != self._LENGTH or len(data) != length:
                    raise MalformedError(f"{self.path}: ends in bundle {t} of {tiles}")
                yield data

    def keep_first(self, tiles: int) -> None:
        """Drop what follows the first ``tiles`` bundles, and append after them."""
        self.close()
        file = self.path.open("r+b")
        for _ in range(tiles):
            length = int.from_bytes(file.read(self._LENGTH), "big")
            file.seek(length, os.SEEK_CUR)
        file.truncate()
        self._file = file

    def add(self, data: bytes) -> None:
        """Keep ``data``; raises :class:`OSError` if it cannot be written."""
        if self._file is not None:
            self._file.write(len(data).to_bytes(self._LENGTH, "big") + data)

    def sync(self) -> None:
        """On disk before the resume point that counts on it is saved."""
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
