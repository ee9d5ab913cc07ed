"""The pool service of one application: built on first use, kept per process.

:func:`init_pool` registers a holder on the application; :func:`current_pool`
returns its :class:`server.pool_service.PoolService`, built the first time it
is asked for (reading the log key with :func:`server.keys.load_log_signer`,
as the read path does, then replaying the stored log) and then kept, so each
worker process replays the log once and afterwards only catches up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from functools import partial

from flask import Flask, current_app

from server.config import ConfigError
from server.context import LogContext
from server.errors import ServiceUnavailableError
from server.keys import load_log_signer
from server.pool_service import PoolService
from server.private.identity_key import identity_key
from server.tilefiles import tile_files

__all__ = ["POOL_EXTENSION", "PoolHolder", "current_pool", "init_pool"]

POOL_EXTENSION = "mutualog_pool"


class PoolHolder:
    """Builds the application's :class:`PoolService` once, when first needed."""

    def __init__(self, context: LogContext, clock: Callable[[], datetime]) -> None:
        self._context = context
        self._clock = clock
        self._service: PoolService | None = None
        self._lock = threading.Lock()

    def service(self) -> PoolService:
        if self._service is None:
            with self._lock:
                if self._service is None:
                    self._service = self._build()
        return self._service

    def _build(self) -> PoolService:
        # The key must be the configured origin's, as on the read path: the
        # pool signs the checkpoints the read path serves.
        settings = self._context.settings
        signer = load_log_signer(settings)
        service = PoolService(
            self._context.engine,
            signer,
            self._clock,
            partial(identity_key, settings.instance),
            tile_files(settings),
        )
        service.state()  # take the stored state up now (caught up with the log if behind)
        return service


def init_pool(app: Flask, context: LogContext, clock: Callable[[], datetime]) -> None:
    app.extensions[POOL_EXTENSION] = PoolHolder(context, clock)


def current_pool() -> PoolService:
    """The pool service of the application handling this request."""
    holder: PoolHolder = current_app.extensions[POOL_EXTENSION]
    try:
        return holder.service()
    except ConfigError as e:
        current_app.logger.error("%s", e)
        raise ServiceUnavailableError(
            "the pool is not set up (no usable log key); see the server log"
        ) from e
