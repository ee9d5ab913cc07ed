"""The state one application's views share: settings, engine, storage, log key.

Views reach it through :func:`current_log`.  The log key is read on first use
(:func:`server.keys.load_log_signer`, which checks it against the configured
origin) and only its public half is kept: serving never needs the private
key.
"""

from __future__ import annotations

import threading

from flask import current_app
from sqlalchemy import Engine

from server.config import ConfigError, Settings
from server.errors import ServiceUnavailableError
from server.keys import load_log_signer
from server.storage import LogStore
from verifiable.log.note import Ed25519Verifier

__all__ = ["EXTENSION", "LogContext", "current_log"]

EXTENSION = "mutualog"


class LogContext:
    """What the views of one application share: settings, engine, storage and
    the log's verifier."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.store = LogStore(engine)
        self._verifier: Ed25519Verifier | None = None
        self._lock = threading.Lock()

    def verifier(self) -> Ed25519Verifier:
        """The log's public key, read from the key file once it exists."""
        if self._verifier is None:
            with self._lock:
                if self._verifier is None:
                    try:
                        self._verifier = load_log_signer(self.settings).verifier()
                    except ConfigError as e:
                        current_app.logger.error("%s", e)
                        raise ServiceUnavailableError(
                            "the log is not set up (no usable log key); see the server log"
                        ) from e
        return self._verifier

    @property
    def origin(self) -> str:
        return self.verifier().name


def current_log() -> LogContext:
    """The :class:`LogContext` of the application handling this request."""
    context: LogContext = current_app.extensions[EXTENSION]
    return context
