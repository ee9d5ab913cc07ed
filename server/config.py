"""The server's settings: where the instance lives, which database, which log.

Settings come from three places, the first that has a value winning:

1. the mapping given to :func:`server.create_app` (tests, embedding code);
2. environment variables ``MUTUALOG_INSTANCE``, ``MUTUALOG_DATABASE_URL``,
   ``MUTUALOG_ORIGIN``, ``MUTUALOG_KEY_FILE`` and ``MUTUALOG_PUBLIC_URL``;
3. defaults that need nothing else: the instance folder ``./instance``, a
   SQLite file inside it, the log key ``log.key`` inside it, the public URL
   ``http://127.0.0.1:8000`` (``mutualog-server serve`` on loopback).

The public URL is where people reach the server: the pages write it into
the commands they tell people to run (``mutualog sync URL``...).  It is a
setting, never the request's ``Host`` header, which whoever sends the
request chooses.

There is no default origin: the origin is the log's permanent name, signed
into every checkpoint, so it is chosen once at ``mutualog-server init`` and
afterwards read from the key file (a log key's name is its origin).  Setting
``MUTUALOG_ORIGIN`` later only adds a check that the key agrees.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from verifiable.errors import MalformedError, MutualogError
from verifiable.log.note import check_key_name

__all__ = [
    "DATABASE_URL",
    "DEFAULT_DATABASE_FILE",
    "DEFAULT_INSTANCE",
    "DEFAULT_KEY_FILE",
    "DEFAULT_PUBLIC_URL",
    "INSTANCE",
    "KEY_FILE",
    "ORIGIN",
    "PUBLIC_URL",
    "TILE_DIR",
    "ConfigError",
    "Settings",
    "load_settings",
]

INSTANCE = "MUTUALOG_INSTANCE"
DATABASE_URL = "MUTUALOG_DATABASE_URL"
ORIGIN = "MUTUALOG_ORIGIN"
KEY_FILE = "MUTUALOG_KEY_FILE"
PUBLIC_URL = "MUTUALOG_PUBLIC_URL"
#: A folder the sequencer keeps the log's files in, for a web server to
#: serve (server.tilefiles); unset, no files are written.
TILE_DIR = "MUTUALOG_TILE_DIR"

DEFAULT_INSTANCE = "instance"
DEFAULT_DATABASE_FILE = "mutualog.db"
DEFAULT_KEY_FILE = "log.key"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"

# A host name or an IPv4 address, or an IPv6 address in brackets; an optional port.
_HOST = re.compile(
    r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)(:[0-9]{1,5})?"
)
_PATH = re.compile(r"(/[A-Za-z0-9._~-]+)*")


class ConfigError(MutualogError):
    """A setting that is missing or cannot be used."""


@dataclass(frozen=True)
class Settings:
    """Resolved settings; paths are absolute so that a later ``chdir`` (a
    daemonizing server, a test) cannot move the instance."""

    instance: Path
    database_url: str
    key_file: Path
    origin: str | None
    public_url: str = DEFAULT_PUBLIC_URL
    tile_dir: Path | None = None

    def require_origin(self) -> str:
        if self.origin is None:
            raise ConfigError(
                f"no origin: set {ORIGIN} (the log's name, e.g. example.org/mutualog/pool-1)"
            )
        return self.origin


def _pick(name: str, overrides: Mapping[str, object], environ: Mapping[str, str]) -> str | None:
    if name in overrides and overrides[name] is not None:
        value = overrides[name]
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        if not isinstance(value, str):
            raise ConfigError(f"{name}: expected a string or path, got {type(value).__name__}")
    else:
        value = environ.get(name)
    # An empty variable (MUTUALOG_ORIGIN= in a unit file) means "unset", not "".
    return value or None


def check_public_url(text: str) -> str:
    """``scheme://host[:port][/path]`` with scheme http or https and no
    user, query or fragment, without a trailing slash; :class:`ConfigError`
    otherwise.  The pages print it in shell commands, so it is kept to
    characters no shell reads specially."""
    url = text.rstrip("/")
    parts = urlsplit(url)
    if (
        parts.scheme not in ("http", "https")
        or not _HOST.fullmatch(parts.netloc)
        or not _PATH.fullmatch(parts.path)
        or parts.query
        or parts.fragment
        or "?" in url
        or "#" in url
    ):
        raise ConfigError(
            f"{PUBLIC_URL}: expected http(s)://host[:port][/path] (where people reach the "
            f"server), got {text[:100]!r}"
        )
    return url


def load_settings(
    overrides: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve the settings from ``overrides``, then ``environ`` (default
    ``os.environ``), then the defaults."""
    overrides = overrides or {}
    environ = os.environ if environ is None else environ
    instance = Path(_pick(INSTANCE, overrides, environ) or DEFAULT_INSTANCE).absolute()
    key_text = _pick(KEY_FILE, overrides, environ)
    key_file = Path(key_text).absolute() if key_text else instance / DEFAULT_KEY_FILE
    database_url = _pick(DATABASE_URL, overrides, environ)
    if database_url is None:
        database_url = f"sqlite:///{instance / DEFAULT_DATABASE_FILE}"
    origin = _pick(ORIGIN, overrides, environ)
    if origin is not None:
        try:
            check_key_name(origin, f"{ORIGIN}")
        except MalformedError as e:
            raise ConfigError(f"{e} (the origin is also the log key's name)") from e
    public_url = check_public_url(_pick(PUBLIC_URL, overrides, environ) or DEFAULT_PUBLIC_URL)
    tile_text = _pick(TILE_DIR, overrides, environ)
    return Settings(
        instance=instance,
        database_url=database_url,
        key_file=key_file,
        origin=origin,
        public_url=public_url,
        tile_dir=Path(tile_text).absolute() if tile_text else None,
    )
