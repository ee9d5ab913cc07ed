"""Sign-in for the web pages: Flask-Login over :mod:`server.private.accounts`.

:func:`init_auth` builds the accounts service from the application's
settings and wires Flask-Login to it.  Views reach the service through
:func:`accounts_service` and the time through :func:`utc_now` (a settable
clock, so tests and the demo can move time), and guard themselves with
:func:`member_required` or :func:`operator_required`.

Settings (``create_app`` mapping):

``MUTUALOG_ARGON2``
    :class:`argon2.Parameters` for new hashes (default: RFC 9106 low-memory).
``MUTUALOG_LOGIN_MAX_FAILURES`` / ``MUTUALOG_LOGIN_WINDOW``
    The sign-in limit: failures per username and address, and the window in
    seconds (default 5 in 900).
``MUTUALOG_CLOCK``
    A callable returning the current aware ``datetime`` (default: the system
    clock, or in a demo instance the demo's clock kept in the database).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

from argon2 import Parameters
from flask import Flask, abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import (  # type: ignore[import-untyped]
    LoginManager,
    current_user,
    login_user,
    logout_user,
)
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from server.config import ConfigError
from server.demo_clock import InstanceClock
from server.private.accounts import Account, Accounts, Role
from server.private.passwords import DEFAULT_PARAMETERS, Passwords
from server.private.throttle import LoginThrottle, ThrottlePolicy

__all__ = [
    "AUTH_EXTENSION",
    "AuthContext",
    "WebUser",
    "accounts_service",
    "current_account",
    "init_auth",
    "member_required",
    "operator_required",
    "safe_next",
    "sign_in",
    "sign_out",
    "utc_now",
]

AUTH_EXTENSION = "mutualog_auth"

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class AuthContext:
    accounts: Accounts
    clock: Callable[[], datetime]


class WebUser:
    """The signed-in account, as Flask-Login wants it (the four members of
    its user protocol, written out: its ``UserMixin`` is untyped)."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, account: Account) -> None:
        self.account = account

    def get_id(self) -> str:
        return str(self.account.id)


def _context() -> AuthContext:
    context: AuthContext = current_app.extensions[AUTH_EXTENSION]
    return context


def accounts_service() -> Accounts:
    """The :class:`Accounts` service of the application handling this request."""
    return _context().accounts


def utc_now() -> datetime:
    """The application's clock: an aware ``datetime``."""
    now = _context().clock()
    if now.utcoffset() is None:
        raise ConfigError(f"MUTUALOG_CLOCK returned {now.isoformat()}, without a time zone")
    return now


def current_account() -> Account | None:
    """The signed-in account, or ``None`` for an anonymous visitor."""
    user = current_user._get_current_object()
    return user.account if isinstance(user, WebUser) else None


def sign_in(account: Account) -> None:
    """Start a signed-in session for ``account``.

    The session is emptied first, so nothing planted in it before sign-in
    survives into the signed-in one.  It is a browser session (gone when
    the browser closes), not a "permanent" one: Flask-Login's strong
    protection only drops a replayed cookie from a non-permanent session.
    The server still refuses the cookie ``MUTUALOG_SESSION_HOURS`` after
    it was last written (Flask checks the signature's age on every request).
    """
    session.clear()
    login_user(WebUser(account))


def sign_out() -> None:
    logout_user()
    session.clear()


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else ``None``: a sign-in
    link must not send the visitor to another site afterwards."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 0x20 for c in target):
        return None
    return target


def _unauthorized() -> Response:
    flash(_("Please sign in to see that page."), "info")
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("signin.login", next=target))


def _require(role: Role, refusal: object) -> Callable[[Callable[P, R]], Callable[P, R | Response]]:
    def decorator(view: Callable[P, R]) -> Callable[P, R | Response]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R | Response:
            account = current_account()
            if account is None:
                return _unauthorized()
            if account.role is not role:
                abort(403, description=str(refusal))
            return view(*args, **kwargs)

        return guarded

    return decorator


member_required = _require(
    Role.MEMBER, _l("This page is for members. Operators work from the operator pages.")
)
"""Let the view run for a signed-in member; send anyone else to sign in
(anonymous) or refuse with 403 (an operator)."""

operator_required = _require(Role.OPERATOR, _l("This page is for the pool's operators only."))
"""Let the view run for a signed-in operator; send anyone else to sign in
(anonymous) or refuse with 403 (a member)."""


def _int_setting(app: Flask, name: str, default: int) -> int:
    value = app.config.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigError(f"{name}: expected an integer, got {value!r}")
    return value


def _viewer() -> dict[str, Account | None]:
    # Every template shows who is signed in; an error page must render even
    # when the database (which holds the account) is what failed.
    try:
        return {"viewer": current_account()}
    except SQLAlchemyError:
        return {"viewer": None}


def init_auth(app: Flask, engine: Engine) -> Callable[[], datetime]:
    """Build the accounts service and wire Flask-Login to it; returns the
    application's clock."""
    parameters = app.config.get("MUTUALOG_ARGON2", DEFAULT_PARAMETERS)
    if not isinstance(parameters, Parameters):
        raise ConfigError("MUTUALOG_ARGON2: expected argon2.Parameters")
    policy = ThrottlePolicy(
        max_failures=_int_setting(app, "MUTUALOG_LOGIN_MAX_FAILURES", 5),
        window=timedelta(seconds=_int_setting(app, "MUTUALOG_LOGIN_WINDOW", 900)),
    )
    # No clock configured: the machine's, or in a demo instance the demo's
    # clock that every process reads from the database (server.demo_clock).
    clock: Callable[[], datetime] = app.config.get("MUTUALOG_CLOCK") or InstanceClock(engine)
    if not callable(clock):
        raise ConfigError("MUTUALOG_CLOCK: expected a callable returning an aware datetime")
    accounts = Accounts(engine, Passwords(parameters), LoginThrottle(engine, policy))
    app.extensions[AUTH_EXTENSION] = AuthContext(accounts=accounts, clock=clock)

    manager = LoginManager()
    # "strong": a session cookie replayed from another address or browser
    # is dropped, not honoured.
    manager.session_protection = "strong"
    manager.unauthorized_handler(_unauthorized)

    def load_user(user_id: str) -> WebUser | None:
        if not user_id.isdecimal():
            return None
        account = accounts.get(int(user_id))
        return None if account is None else WebUser(account)

    manager.user_loader(load_user)
    manager.init_app(app)
    app.context_processor(_viewer)
    return clock
