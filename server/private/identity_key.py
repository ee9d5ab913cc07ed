"""The key of the identity hash, kept in the instance folder, and the hash.

One membership per person is enforced by the database: each active
member's ID number is stored a second time as a keyed hash
(HMAC-SHA256 of the ID number's normal form) under a unique constraint
(table ``member_identities``, migration 0008).  The hash is keyed so that
a copy of the database alone cannot be searched for a given ID number by
hashing the few hundred million possible ones; the key lives in a file of
the instance folder (``identity-hash.key``), apart from the database, so
a database dump or backup does not carry it.

The file is created on first use, mode 0600, by whichever process asks
first: written to a temporary name and linked into place, so that two
workers starting together both end up reading the one key that won.  It
holds the 32-byte key in hex on one line.  It is never replaced: a new key
would make every stored hash unmatchable, and a second membership of the
same person possible; losing it is repaired by computing the hashes again
from the stored ID numbers under a new key (docs/privacy.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from verifiable.errors import MutualogError

__all__ = [
    "IDENTITY_KEY_FILE",
    "IdentityKeyError",
    "identity_hash",
    "identity_key",
]

IDENTITY_KEY_FILE = "identity-hash.key"
_SIZE = 32


class IdentityKeyError(MutualogError):
    """The identity hash's key file cannot be created, read or parsed."""


def identity_hash(key: bytes, id_number: str) -> bytes:
    """HMAC-SHA256 under ``key`` of an ID number in its normal form
    (:func:`server.private.identity.parse_id_number`)."""
    return hmac.new(key, id_number.encode("ascii"), hashlib.sha256).digest()


def _read(path: Path) -> bytes:
    try:
        text = path.read_bytes()[: 4 * _SIZE]
    except OSError as e:
        raise IdentityKeyError(f"identity key {path} cannot be read: {e.strerror}") from None
    try:
        key = bytes.fromhex(text.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        raise IdentityKeyError(f"identity key {path} is not {_SIZE} bytes in hex") from None
    if len(key) != _SIZE:
        raise IdentityKeyError(f"identity key {path} is not {_SIZE} bytes in hex")
    return key


def identity_key(instance: Path) -> bytes:
    """The key in ``instance``/``identity-hash.key``, made if there is none."""
    path = instance / IDENTITY_KEY_FILE
    if path.exists():
        return _read(path)
    temporary = instance / f".{IDENTITY_KEY_FILE}.{secrets.token_hex(8)}"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, (secrets.token_bytes(_SIZE).hex() + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        # link() refuses an existing name: the first process's key wins,
        # complete, and every other one reads it.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    except OSError as e:
        raise IdentityKeyError(f"cannot create identity key {path}: {e.strerror}") from None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()
    return _read(path)
