"""Key files of the instance folder: made once, mode 0600, read back.

The private store keeps its keys in files of the instance folder, apart
from the database, so that a copy of the database (a dump, a backup, a
stolen disk image of the database server) carries none of them.  Each file
holds one or more 32-byte keys, in hex, one a line.

A missing file is made by whichever process asks first: written to a
temporary name and linked into place, so that two workers starting
together both end up reading the one key that won.  A file is replaced
(:func:`replace_key_file`) only by the command that rotates its keys:
written beside it and renamed over it, so a reader sees the old file or
the new one, never half of either.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from verifiable.errors import MutualogError

__all__ = ["KEY_SIZE", "instance_keys", "new_key", "read_keys", "replace_key_file"]

KEY_SIZE = 32


def new_key() -> bytes:
    """A fresh key from the operating system's CSPRNG."""
    return secrets.token_bytes(KEY_SIZE)


def read_keys(path: Path, error: type[MutualogError], what: str) -> list[bytes]:
    """The keys in ``path``, first line first; ``error`` (naming ``what``
    and the file, never a key) if it cannot be read or holds anything else."""
    try:
        text = path.read_bytes()[: 1 << 16]
    except OSError as e:
        raise error(f"{what} {path} cannot be read: {e.strerror}") from None
    keys = []
    try:
        for line in text.decode("ascii").splitlines():
            if line.strip():
                keys.append(bytes.fromhex(line.strip()))
    except (UnicodeDecodeError, ValueError):
        keys = []
    if not keys or any(len(key) != KEY_SIZE for key in keys):
        raise error(f"{what} {path} is not {KEY_SIZE} bytes in hex, one key a line")
    return keys


def _write_new(path: Path, keys: Sequence[bytes]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, "".join(key.hex() + "\n" for key in keys).encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)


def instance_keys(instance: Path, name: str, error: type[MutualogError], what: str) -> list[bytes]:
    """The keys in ``instance``/``name``, made (one fresh key) if there is none."""
    path = instance / name
    if path.exists():
        return read_keys(path, error, what)
    temporary = instance / f".{name}.{secrets.token_hex(8)}"
    try:
        _write_new(temporary, [new_key()])
        # link() refuses an existing name: the first process's key wins,
        # complete, and every other one reads it.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    except OSError as e:
        raise error(f"cannot create {what} {path}: {e.strerror}") from None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()
    return read_keys(path, error, what)


def replace_key_file(
    path: Path, keys: Sequence[bytes], error: type[MutualogError], what: str
) -> None:
    """Put ``keys`` in ``path`` in place of what it held, atomically."""
    temporary = path.parent / f".{path.name}.{secrets.token_hex(8)}"
    try:
        _write_new(temporary, keys)
        os.replace(temporary, path)
        # The rename itself must survive a crash before the old keys are
        # thrown away by the caller's next step.
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as e:
        raise error(f"cannot write {what} {path}: {e.strerror}") from None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()
