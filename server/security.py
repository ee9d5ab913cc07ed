"""Cookies, CSRF, the session key and the security headers of every response.

* **Session cookie**: ``HttpOnly``, ``SameSite=Lax``, ``Secure`` unless
  ``MUTUALOG_SECURE_COOKIES`` is false (plain-http development only); when
  secure it is named ``__Host-mutualog``, a prefix browsers accept only
  from https, for the whole host, on path ``/``.  It is a browser-session
  cookie, and its signature is refused ``MUTUALOG_SESSION_HOURS`` (default
  12) after it was last written, so a signed-in session ends within 12
  hours of sign-in, whatever the browser keeps.
* **Sessions only where pages need them**: the C2SP read path, the JSON API
  and static files never read or set a cookie, so they stay cacheable by
  anyone (no ``Vary: Cookie``) and need no database to answer.
* **CSRF**: Flask-WTF's ``CSRFProtect`` checks every POST, PUT, PATCH and
  DELETE of the application, with tokens valid as long as the session.
  Nothing is exempt: the API and the read path answer only GET and HEAD,
  which carry no token and change nothing, so an exemption would protect
  nothing and would silently leave any write
  route added there later unprotected.
* **Session key**: ``SECRET_KEY`` (mapping) or ``MUTUALOG_SECRET_KEY``
  (environment); without either, one shared through the database
  (:mod:`server.private.sessionkey`), read on first need.
* **Headers** on every response: a Content-Security-Policy allowing only
  this origin and no inline script or style, frame denial, ``nosniff``,
  ``Referrer-Policy: same-origin``; pages that may show private data are
  ``Cache-Control: no-store``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect  # type: ignore[import-untyped]
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import Engine

from server.config import ConfigError
from server.private.sessionkey import SESSION_KEY, shared_secret

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "SECRET_KEY_ENV",
    "SECURE_COOKIES_ENV",
    "SECURITY_HEADERS",
    "SESSION_BLUEPRINTS",
    "SESSION_HOURS",
    "STATELESS_PATHS",
    "init_security",
]

SECURE_COOKIES_ENV = "MUTUALOG_SECURE_COOKIES"
SECRET_KEY_ENV = "MUTUALOG_SECRET_KEY"
SESSION_HOURS = "MUTUALOG_SESSION_HOURS"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}

#: Blueprints whose pages have sessions, forms and private content.
SESSION_BLUEPRINTS = frozenset({"signin", "member", "juror", "operator"})

#: Paths that never have a session (chosen by path: the session is opened
#: before Flask matches the URL to a blueprint).
STATELESS_PATHS = ("/api/", "/tile/", "/checkpoint", "/snapshot", "/static/")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _secure_cookies(app: Flask) -> bool:
    value = app.config.get(SECURE_COOKIES_ENV)
    if value is None:
        value = os.environ.get(SECURE_COOKIES_ENV) or "true"
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{SECURE_COOKIES_ENV}: expected true or false, got {value!r}")


class _PageSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, opened only for pages, with the key
    fetched on first need."""

    def __init__(self, load_key: Callable[[Flask], None]) -> None:
        self._load_key = load_key

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        self._load_key(app)
        return super().get_signing_serializer(app)

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(STATELESS_PATHS):
            return None  # Flask substitutes its read-only null session.
        if not app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            # A first visit: nothing to verify, so no key (and no database) yet.
            return self.session_class()
        return super().open_session(app, request)


def _is_page(req: Request) -> bool:
    return req.blueprint in SESSION_BLUEPRINTS and not req.path.startswith(STATELESS_PATHS)


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if _is_page(request) and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response


def init_security(app: Flask, engine: Engine, clock: Callable[[], datetime]) -> None:
    """Configure cookies, sessions, CSRF and headers on ``app``."""
    secure = _secure_cookies(app)
    app.config.update(
        SESSION_COOKIE_NAME="__Host-mutualog" if secure else "mutualog",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/",
        SESSION_COOKIE_DOMAIN=None,
    )
    hours = app.config.get(SESSION_HOURS, 12)
    if not isinstance(hours, int) or isinstance(hours, bool) or hours < 1:
        raise ConfigError(f"{SESSION_HOURS}: expected a whole number of hours, got {hours!r}")
    # Flask checks every session cookie's signature against this age, permanent
    # or not; its default is a month, long for a session that can pay claims.
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=hours)
    # A form's token lives as long as the session it belongs to, not
    # Flask-WTF's one hour: a member gathering documents for a claim should
    # not lose the form (a refused form keeps its text: server.web_errors).
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", hours * 3600)
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        # The largest request a page sends: a claim's evidence uploads.
        app.config["MAX_CONTENT_LENGTH"] = 64 * 1024 * 1024
    if not app.secret_key:
        app.secret_key = os.environ.get(SECRET_KEY_ENV) or None

    lock = threading.Lock()

    def load_key(app: Flask) -> None:
        if app.secret_key:
            return
        with lock:
            if not app.secret_key:
                app.secret_key = shared_secret(engine, SESSION_KEY, clock())

    def key_before_csrf() -> None:
        # A page's forms need the key for their CSRF token even on a first
        # visit, and checking a write's token needs it wherever the route
        # is.  An unrouted request is answered 404/405 without either.
        if request.endpoint and (
            _is_page(request) or request.method in app.config["WTF_CSRF_METHODS"]
        ):
            load_key(app)

    app.config.setdefault("WTF_CSRF_METHODS", ["POST", "PUT", "PATCH", "DELETE"])
    app.session_interface = _PageSessions(load_key)
    # Before CSRFProtect's own hook, which needs the key to check a token.
    app.before_request(key_before_csrf)
    CSRFProtect(app)
    app.after_request(_security_headers)
