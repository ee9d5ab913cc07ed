"""Serving a built application with gunicorn from inside a command.

The demo serves the way production does (``gunicorn -w N
'server:create_app()'``, docs/operations.md): several pre-forked worker
processes, each with its own database connections, all reading and
appending through the same database.  The application is built once in the
command's process (the demo has just replayed its log into it) and handed to
the workers by ``fork``; each worker then drops the connections it
inherited, as SQLAlchemy requires of a forked process.

:func:`serve` returns when gunicorn stops: on Ctrl-C (SIGINT) or SIGTERM,
after the workers have finished the requests they hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

from server.context import EXTENSION, LogContext

__all__ = ["DEFAULT_WORKERS", "bind_address", "serve", "served_url"]

DEFAULT_WORKERS = 2
# A worker's first request replays the log if the app was not built yet;
# the demo's is, but a slow disk should not get a worker killed.
_TIMEOUT = 120
# Ctrl-C should stop the demo at once, not after gunicorn's default 30 s.
_GRACEFUL = 5


def bind_address(host: str, port: int) -> str:
    """gunicorn's ``bind`` for ``host`` and ``port`` (an IPv6 address in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def served_url(host: str, port: int) -> str:
    """The URL a browser on this machine reaches ``host:port`` at (a
    server bound to every address is reached on loopback): the public URL
    of ``serve`` and ``demo`` when ``MUTUALOG_PUBLIC_URL`` is not set."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://{bind_address(host, port)}"


class _Gunicorn(BaseApplication):  # type: ignore[misc]  # gunicorn has no type hints
    def __init__(self, app: Flask, options: Mapping[str, Any]) -> None:
        self._app = app
        self._options = dict(options)
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self._app


def serve(app: Flask, host: str, port: int, workers: int = DEFAULT_WORKERS) -> None:
    """Serve ``app`` on ``host:port`` with ``workers`` gunicorn workers
    until SIGINT or SIGTERM."""
    context: LogContext = app.extensions[EXTENSION]

    def post_fork(_arbiter: object, _worker: object) -> None:
        # The parent's pooled connections must not be shared with a child.
        context.engine.dispose(close=False)

    # Nothing should hold a connection across the fork either.
    context.engine.dispose()
    options = {
        "bind": bind_address(host, port),
        "workers": workers,
        "preload_app": True,
        "post_fork": post_fork,
        "timeout": _TIMEOUT,
        "graceful_timeout": _GRACEFUL,
        "loglevel": "warning",
        "accesslog": None,
    }
    try:
        _Gunicorn(app, options).run()
    except SystemExit as e:
        # gunicorn's arbiter leaves by sys.exit: 0 after a requested stop.
        if e.code not in (0, None):
            raise
