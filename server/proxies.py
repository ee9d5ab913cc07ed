"""The client's address behind trusted reverse proxies.

The request limits count sign-ins and registrations per address
(:mod:`server.private.throttle`).  Behind the reverse proxy that
docs/operations.md puts in front of gunicorn, every request comes from the
proxy's own address, so without this one member's failed guesses would
count against every member.  ``MUTUALOG_PROXIES`` says how many proxies
stand in front (default 0): with N > 0 the address is taken from the N-th
``X-Forwarded-For`` value from the right, which the nearest of those
proxies wrote (werkzeug's ``ProxyFix``), and the scheme from
``X-Forwarded-Proto`` likewise.  With 0 the headers are ignored, since a
client can send any ``X-Forwarded-For`` it likes.  The host is never taken
from a header: the pages' links come from ``MUTUALOG_PUBLIC_URL``.
"""

from __future__ import annotations

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from server.config import ConfigError

__all__ = ["MAX_PROXIES", "PROXIES", "init_proxies", "trusted_proxies"]

PROXIES = "MUTUALOG_PROXIES"
#: More hops than any real deployment has; beyond it the value is a mistake.
MAX_PROXIES = 5


def trusted_proxies(app: Flask) -> int:
    """``MUTUALOG_PROXIES`` from the app's mapping, else the environment;
    raises :class:`~server.config.ConfigError` for anything but 0 to 5."""
    value = app.config.get(PROXIES)
    if value is None:
        value = os.environ.get(PROXIES) or "0"
    try:
        count = int(str(value).strip())
    except ValueError:
        count = -1
    if isinstance(value, bool) or not 0 <= count <= MAX_PROXIES:
        raise ConfigError(
            f"{PROXIES}: expected the number of reverse proxies in front, 0 to {MAX_PROXIES}, "
            f"got {value!r}"
        )
    return count


def init_proxies(app: Flask) -> None:
    """Take the client's address and scheme from the trusted proxies' headers."""
    count = trusted_proxies(app)
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]
