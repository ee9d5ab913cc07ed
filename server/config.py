"""The server's settings: where the instance lives, which database, which log.

Settings come from three places, the first that has a value winning:

1. the mapping given to :func:`server.create_app` (tests, embedding code);
2. environment variables ``MUTUALOG_INSTANCE``, ``MUTUALOG_DATABASE_URL``,
   ``MUTUALOG_ORIGIN`` and ``MUTUALOG_KEY_FILE``;
3. defaults that need nothing else: the instance folder ``./instance``, a
   SQLite file inside it, the log key ``log.key`` inside it.

There is no default origin: the origin is the log's permanent name, signed
into every checkpoint, so it is chosen once at ``mutualog-server init`` and
afterwards read from the key file (a log key's name is its origin).  Setting
``MUTUALOG_ORIGIN`` later only adds a check that the key agrees.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from verifiable.errors import MalformedError, MutualogError
from verifiable.log.note import check_key_name

__all__ = [
    "DATABASE_URL",
    "DEFAULT_DATABASE_FILE",
    "DEFAULT_INSTANCE",
    "DEFAULT_KEY_FILE",
    "INSTANCE",
    "KEY_FILE",
    "ORIGIN",
    "ConfigError",
    "Settings",
    "load_settings",
]

INSTANCE = "MUTUALOG_INSTANCE"
DATABASE_URL = "MUTUALOG_DATABASE_URL"
ORIGIN = "MUTUALOG_ORIGIN"
KEY_FILE = "MUTUALOG_KEY_FILE"

DEFAULT_INSTANCE = "instance"
DEFAULT_DATABASE_FILE = "mutualog.db"
DEFAULT_KEY_FILE = "log.key"


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
    return Settings(instance=instance, database_url=database_url, key_file=key_file, origin=origin)
