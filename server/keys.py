"""The log's Ed25519 signing key on disk.

The key file holds one line: the signed-note private key string of
golang.org/x/mod/sumdb/note (``PRIVATE+KEY+<name>+<hex key id>+base64(0x01 ||
seed)``), so standard tools can use it.  It is created with mode 0600 and
never overwritten.  Nothing here puts key material in a message: errors name
the file and what is wrong with it, never its content.

:func:`load_log_signer` is the one way the server loads its log's key — for
the read path's verifier, the pool service and the commands alike: the file
the settings name, checked against the configured origin.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from server.config import ConfigError, Settings
from verifiable.errors import MalformedError, MutualogError
from verifiable.log.note import Ed25519Signer, generate_key

__all__ = [
    "KeyFileError",
    "KeyFileExistsError",
    "create_key_file",
    "load_log_signer",
    "load_signer",
]

#: A private key string is about 100 characters; reading more is pointless.
_MAX_KEY_FILE = 4096


class KeyFileError(MutualogError):
    """A key file that cannot be created, read or parsed."""


class KeyFileExistsError(KeyFileError):
    """Creating a key file where one already exists (it is never replaced)."""


def create_key_file(path: Path, name: str, seed: bytes) -> str:
    """Write a new private key made from the 32-byte ``seed`` to ``path``
    (mode 0600) and return its verifier key string.

    Refuses (:class:`KeyFileExistsError`) if anything exists at ``path``:
    replacing a log's key would orphan every checkpoint it signed.
    """
    try:
        private, verifier = generate_key(name, seed)
    except MalformedError as e:
        # e names the key name or the seed length, never the seed.
        raise KeyFileError(f"cannot make a key for {path}: {e}") from e
    try:
        # O_EXCL makes "does not exist yet" and "create" one step, so two
        # racing inits cannot both write.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        raise KeyFileExistsError(
            f"key file {path} already exists; refusing to overwrite a log's key"
        ) from None
    except OSError as e:
        raise KeyFileError(f"cannot create key file {path}: {e.strerror}") from None
    try:
        # The mode given to open is filtered by the umask, which can only
        # narrow it; set it exactly anyway.
        os.fchmod(fd, 0o600)
        os.write(fd, (private + "\n").encode("ascii"))
        os.fsync(fd)
    except OSError as e:
        os.close(fd)
        os.unlink(path)
        raise KeyFileError(f"cannot write key file {path}: {e.strerror}") from None
    os.close(fd)
    _fsync_dir(path.parent)
    return verifier


def _fsync_dir(directory: Path) -> None:
    # Makes the new file's directory entry durable; some filesystems cannot.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_signer(path: Path) -> Ed25519Signer:
    """The signer for the private key in ``path``.

    Raises :class:`KeyFileError` for a missing, unreadable or malformed file;
    the message says which, without quoting the file.
    """
    try:
        with open(path, "rb") as f:
            raw = f.read(_MAX_KEY_FILE + 1)
    except FileNotFoundError:
        raise KeyFileError(f"key file {path} does not exist") from None
    except IsADirectoryError:
        raise KeyFileError(f"key file {path} is a directory") from None
    except OSError as e:
        reason = "permission denied" if e.errno == errno.EACCES else e.strerror
        raise KeyFileError(f"key file {path} cannot be read: {reason}") from None
    if len(raw) > _MAX_KEY_FILE:
        raise KeyFileError(
            f"key file {path} is larger than {_MAX_KEY_FILE} bytes; not a private key"
        )
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise KeyFileError(f"key file {path} is not ASCII text; not a private key") from None
    # One trailing newline is how the file is written (and how editors leave
    # it); any other whitespace is damage.
    if text.endswith("\n"):
        text = text[:-1]
    try:
        return Ed25519Signer.from_private_key(text)
    except MalformedError as e:
        # verifiable's key messages never quote the seed; the chain is
        # dropped anyway so no traceback can carry the text.
        raise KeyFileError(f"key file {path} does not hold a valid private key: {e}") from None


def load_log_signer(settings: Settings) -> Ed25519Signer:
    """The signer of the instance's log key (``settings.key_file``), checked
    against the configured origin if one is set.

    Raises :class:`~server.config.ConfigError` saying why the instance has no
    usable key: none yet, one that cannot be read (the
    :func:`load_signer` reason), or one named for another origin — a key
    signs for the origin it is named for, so serving or appending with it
    under another would sign checkpoints clients do not expect.
    """
    path = settings.key_file
    if not path.exists():
        raise ConfigError(
            f"no log key at {path}: the file does not exist; run 'mutualog-server init' first"
        )
    try:
        signer = load_signer(path)
    except (MutualogError, OSError) as e:
        raise ConfigError(f"cannot read the log key {path}: {e}") from e
    if settings.origin is not None and settings.origin != signer.name:
        raise ConfigError(
            f"the configured origin {settings.origin!r} differs from the log key's name "
            f"{signer.name!r} (a log key is named for its origin)"
        )
    return signer
