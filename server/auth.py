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
``MUTUALOG_LOGIN_PER_ADDRESS`` / ``..._PER_USERNAME`` / ``..._PER_SERVER``
    Failed sign-ins per address, per username and for the whole server in
    the same window (default 30, 20, 1000).
``MUTUALOG_REGISTER_PER_ADDRESS`` / ``MUTUALOG_REGISTER_PER_SERVER`` / ``MUTUALOG_REGISTER_WINDOW``
    Registrations per address and for the server, and their window in
    seconds (default 5 and 100 in 3600).
``MUTUALOG_HASH_SLOTS`` / ``MUTUALOG_HASH_LEASE``
    Password hashes in flight at once across the deployment, and the
    seconds a slot is held at most (default 2 and 30).

Each of these integer settings is read from the mapping given to
``create_app``, else from the environment (gunicorn's workers have only
that), else its default.
``MUTUALOG_CLOCK``
    A callable returning the current aware ``datetime`` (default: the system
    clock, or in a demo instance the demo's clock kept in the database).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
from server.private.hash_slots import DEFAULT_LEASE, DEFAULT_SLOTS, HashSlots
from server.private.passwords import DEFAULT_PARAMETERS, Passwords
from server.private.sessions import Sessions
from server.private.throttle import DEFAULT_POLICY, Action, Limit, LimitPolicy, RequestLimits, Scope

__all__ = [
    "AUTH_EXTENSION",
    "AuthContext",
    "WebUser",
    "account_required",
    "accounts_service",
    "current_account",
    "init_auth",
    "member_required",
    "operator_required",
    "safe_next",
    "sessions_service",
    "sign_in",
    "sign_out",
    "utc_now",
]

AUTH_EXTENSION = "mutualog_auth"
#: The key of the server-side session id in Flask's session (server.private.sessions).
_SESSION_ID = "sid"

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class AuthContext:
    accounts: Accounts
    sessions: Sessions
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


def sessions_service() -> Sessions:
    """The server-side sessions of the application handling this request."""
    return _context().sessions


def _session_now() -> datetime:
    # A session's age is real time, as its cookie's signature age is, never
    # the pool's clock: moving a demo's clock on by a week must not sign
    # everyone out.
    return datetime.now(UTC)


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
    it was last written (Flask checks the signature's age on every request),
    and the session is recorded on the server (:mod:`server.private.sessions`),
    so signing out or a password change ends it whatever the cookie says.
    """
    session.clear()
    session[_SESSION_ID] = sessions_service().start(account.id, _session_now())
    login_user(WebUser(account))


def sign_out() -> None:
    """End the session here and on the server: a copy of the cookie taken
    before is refused from now on."""
    session_id = session.get(_SESSION_ID)
    if isinstance(session_id, str):
        sessions_service().revoke(session_id, _session_now())
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


def account_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Let the view run for any signed-in account (a member's or an
    operator's own settings); send an anonymous visitor to sign in."""

    @functools.wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if current_account() is None:
            return _unauthorized()
        return view(*args, **kwargs)

    return guarded


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
    value = app.config.get(name)
    if value is None:
        text = os.environ.get(name, "").strip()
        if not text:
            return default
        if not text.isdecimal():
            raise ConfigError(f"{name}: expected a whole number, got {text!r}")
        value = int(text)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigError(f"{name}: expected an integer, got {value!r}")
    return value


def _limit_policy(app: Flask) -> LimitPolicy:
    def limit(name: str, action: Action, scope: Scope, window: timedelta) -> Limit:
        return Limit(_int_setting(app, name, DEFAULT_POLICY.of(action)[scope].most), window)

    signin = DEFAULT_POLICY.of(Action.SIGNIN)[Scope.KEY].window
    signin = timedelta(
        seconds=_int_setting(app, "MUTUALOG_LOGIN_WINDOW", int(signin.total_seconds()))
    )
    register = DEFAULT_POLICY.of(Action.REGISTER)[Scope.ADDRESS].window
    register = timedelta(
        seconds=_int_setting(app, "MUTUALOG_REGISTER_WINDOW", int(register.total_seconds()))
    )
    return LimitPolicy(
        {
            Action.SIGNIN: {
                Scope.KEY: limit("MUTUALOG_LOGIN_MAX_FAILURES", Action.SIGNIN, Scope.KEY, signin),
                Scope.ADDRESS: limit(
                    "MUTUALOG_LOGIN_PER_ADDRESS", Action.SIGNIN, Scope.ADDRESS, signin
                ),
                Scope.USERNAME: limit(
                    "MUTUALOG_LOGIN_PER_USERNAME", Action.SIGNIN, Scope.USERNAME, signin
                ),
                Scope.SERVER: limit(
                    "MUTUALOG_LOGIN_PER_SERVER", Action.SIGNIN, Scope.SERVER, signin
                ),
            },
            Action.REGISTER: {
                Scope.ADDRESS: limit(
                    "MUTUALOG_REGISTER_PER_ADDRESS", Action.REGISTER, Scope.ADDRESS, register
                ),
                Scope.SERVER: limit(
                    "MUTUALOG_REGISTER_PER_SERVER", Action.REGISTER, Scope.SERVER, register
                ),
            },
            Action.RESET: DEFAULT_POLICY.of(Action.RESET),
        }
    )


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
    policy = _limit_policy(app)
    slots = HashSlots(
        _int_setting(app, "MUTUALOG_HASH_SLOTS", DEFAULT_SLOTS),
        timedelta(
            seconds=_int_setting(app, "MUTUALOG_HASH_LEASE", int(DEFAULT_LEASE.total_seconds()))
        ),
    )
    # No clock configured: the machine's, or in a demo instance the demo's
    # clock that every process reads from the database (server.demo_clock).
    clock: Callable[[], datetime] = app.config.get("MUTUALOG_CLOCK") or InstanceClock(engine)
    if not callable(clock):
        raise ConfigError("MUTUALOG_CLOCK: expected a callable returning an aware datetime")
    accounts = Accounts(engine, Passwords(parameters), RequestLimits(engine, policy), slots)
    # The session's lifetime is the cookie's (server.security reads the same setting).
    hours = app.config.get("MUTUALOG_SESSION_HOURS", 12)
    lifetime = timedelta(hours=hours if isinstance(hours, int) and hours >= 1 else 12)
    sessions = Sessions(engine, lifetime)
    app.extensions[AUTH_EXTENSION] = AuthContext(accounts=accounts, sessions=sessions, clock=clock)

    manager = LoginManager()
    # "strong": a session cookie replayed from another address or browser
    # is dropped, not honoured.
    manager.session_protection = "strong"
    manager.unauthorized_handler(_unauthorized)

    def load_user(user_id: str) -> WebUser | None:
        # Called on every request that asks who is signed in: the cookie's
        # session must still be live on the server (not signed out, not
        # ended by a password change), not merely carry a valid signature.
        session_id = session.get(_SESSION_ID)
        if not user_id.isdecimal() or not isinstance(session_id, str):
            return None
        if not sessions.check(session_id, int(user_id), _session_now()):
            return None
        account = accounts.get(int(user_id))
        return None if account is None else WebUser(account)

    manager.user_loader(load_user)
    manager.init_app(app)
    app.context_processor(_viewer)
    return clock
