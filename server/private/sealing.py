"""The private store's encryption at rest: the data key and sealing.

Names, ID numbers, phones, evidence documents and their file names are
stored sealed: AES-256-GCM under the data key, a key file of the instance
folder (``private-data.key``, mode 0600, made on first use like
``identity-hash.key`` by :mod:`server.private.key_files`), so that the
database file, a dump or a backup alone reveals none of them.

A sealed value is

    00 53 01 | key id (4) | nonce (12) | ciphertext and tag (16)

The leading NUL tells it from a value stored before sealing (no name, ID
number, phone, document or file name the store accepts starts with one),
which is returned as it is until ``mutualog-server private upgrade`` seals
it.  The key id (the first 4 bytes of a SHA-256 of the key) tells which
key sealed a value, so a rotation can find what is still under an old
key.  Each nonce is 96 random bits: at the store's size (millions of
values per key at most) a repeat is out of reach, and a rotation starts
a fresh key anyway.

The associated data is the header and ``table``, ``column`` and the row's
key, so a sealed value copied into another row, column or table does not
open (:class:`SealedDataError`), nor does one whose header was altered.

The key reaches the store with the engine: :func:`server.db.make_engine`
takes a :class:`Sealer` and :func:`sealer_of` finds it again from any
engine or connection, so each application, command and test has its own.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, Engine

from server.db import SEALER_OPTION
from server.private.key_files import instance_keys, read_keys
from verifiable.errors import MutualogError

__all__ = [
    "PRIVATE_KEY_FILE",
    "SealedDataError",
    "Sealer",
    "SealingError",
    "SealingKeyError",
    "is_sealed",
    "key_id",
    "sealed_header",
    "sealed_key_id",
    "sealer_of",
]

PRIVATE_KEY_FILE = "private-data.key"
_WHAT = "private-data key"
_HEADER = b"\x00S\x01"
_KEY_ID = 4
_NONCE = 12
_TAG = 16
_PREFIX = len(_HEADER) + _KEY_ID + _NONCE
_CONTEXT = b"mutualog/private/v1\x00"


class SealingError(MutualogError):
    """Base class of the errors of encryption at rest."""


class SealingKeyError(SealingError):
    """The data key file cannot be made, read or parsed, holds no key for a
    stored value's key id (a wrong key file), or the database was opened
    without a key."""


class SealedDataError(SealingError):
    """A sealed value does not open under its key: altered, truncated, or
    moved from another row, column or table."""


def key_id(key: bytes) -> bytes:
    """The 4-byte id a key's sealed values carry."""
    return hashlib.sha256(b"mutualog/private-data-key-id\x00" + key).digest()[:_KEY_ID]


def sealed_header() -> bytes:
    """The bytes every sealed value begins with (what SQL can look for)."""
    return _HEADER


def is_sealed(value: bytes) -> bool:
    """Whether ``value`` is a sealed value (rather than one stored before sealing)."""
    return value[: len(_HEADER)] == _HEADER


def sealed_key_id(value: bytes) -> bytes | None:
    """The key id of a sealed value; ``None`` for one stored before sealing."""
    if not is_sealed(value):
        return None
    return value[len(_HEADER) : len(_HEADER) + _KEY_ID]


class Sealer:
    """Seals and opens the private store's values under the keys of
    ``instance``/``private-data.key`` (the first line the current key).

    The file is read on first use (made then if missing) and read again
    whenever it changed, so a running server follows a rotation.
    """

    def __init__(self, instance: Path) -> None:
        self.instance = instance
        self.path = instance / PRIVATE_KEY_FILE
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._keys: dict[bytes, AESGCM] = {}
        self._current = b""

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            info = os.stat(self.path)
        except OSError:
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    def _refresh(self) -> None:
        stamp = self._stat()
        if stamp is not None and stamp == self._stamp:
            return
        with self._lock:
            keys = instance_keys(self.instance, PRIVATE_KEY_FILE, SealingKeyError, _WHAT)
            self._keys = {key_id(key): AESGCM(key) for key in keys}
            self._current = key_id(keys[0])
            # The stamp from before the read (once the file exists): a file
            # replaced during the read differs from it and is read again.
            self._stamp = stamp if stamp is not None else self._stat()

    def current_key_id(self) -> bytes:
        """The id of the key new values are sealed under."""
        self._refresh()
        return self._current

    def key_ids(self) -> list[bytes]:
        """The ids of every key the file holds, the current one first."""
        self._refresh()
        return [self._current] + [k for k in self._keys if k != self._current]

    def keys_on_file(self) -> list[bytes]:
        """The keys of the file as it is now (for the rotation)."""
        return read_keys(self.path, SealingKeyError, _WHAT)

    def seal(self, table: str, column: str, row: str, data: bytes) -> bytes:
        """``data`` sealed for ``table``.``column`` of the row keyed ``row``."""
        self._refresh()
        header = _HEADER + self._current
        nonce = os.urandom(_NONCE)
        sealed = self._keys[self._current].encrypt(nonce, data, _aad(header, table, column, row))
        return header + nonce + sealed

    def open(self, table: str, column: str, row: str, value: bytes) -> bytes:
        """What :meth:`seal` sealed; a value stored before sealing as it is."""
        value = bytes(value)
        if not is_sealed(value):
            return value
        where = f"{table}.{column} of row {row}"
        if len(value) < _PREFIX + _TAG:
            raise SealedDataError(f"the sealed value in {where} is truncated")
        kid = value[len(_HEADER) : len(_HEADER) + _KEY_ID]
        self._refresh()
        cipher = self._keys.get(kid)
        if cipher is None:
            raise SealingKeyError(
                f"{where} is sealed under key id {kid.hex()}, which {self.path} does not hold "
                "(a wrong or replaced key file)"
            )
        header, nonce = value[: len(_HEADER) + _KEY_ID], value[len(_HEADER) + _KEY_ID : _PREFIX]
        try:
            return cipher.decrypt(nonce, value[_PREFIX:], _aad(header, table, column, row))
        except InvalidTag:
            raise SealedDataError(
                f"the sealed value in {where} does not open: altered, or moved from another row"
            ) from None

    def seal_text(self, table: str, column: str, row: str, text: str) -> bytes:
        return self.seal(table, column, row, text.encode("utf-8"))

    def open_text(self, table: str, column: str, row: str, value: bytes | str) -> str:
        # A value stored before migration 0010 may come back as text.
        if isinstance(value, str):
            return value
        return self.open(table, column, row, value).decode("utf-8")


def _aad(header: bytes, table: str, column: str, row: str) -> bytes:
    parts: Sequence[str] = (table, column, row)
    return header + _CONTEXT + b"\x00".join(p.encode("utf-8") for p in parts)


def sealer_of(bind: Engine | Connection) -> Sealer:
    """The :class:`Sealer` the engine was made with (:func:`server.db.make_engine`)."""
    sealer = bind.get_execution_options().get(SEALER_OPTION)
    if not isinstance(sealer, Sealer):
        raise SealingKeyError(
            "the database was opened without the private-data key: the private store "
            "can neither seal nor open names, ID numbers, phones or documents"
        )
    return sealer
