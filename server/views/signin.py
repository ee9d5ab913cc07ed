"""Blueprint ``signin``: the front door — the home page, registering,
signing in and out, changing one's password and setting a new one with the
operator's reset code — and the pages' stylesheet under ``/static``.

Registration does not say whether a username was free: a taken name and a
free one get the same answer (sent to sign in, with the same notice) after
the same work, so the form cannot be used to list accounts.  Every request
that hashes a password may be refused before hashing: ``429`` with
``Retry-After`` over a request limit, ``503`` with ``Retry-After`` when
every hashing slot of the deployment is busy (:mod:`server.private.throttle`).

The home page belongs here because it is where a visitor chooses between
creating an account and signing in; like every page with a session it is
``no-store`` (:mod:`server.security`).  A signed-in visitor who opens the
register or sign-in form is sent home: the member's dashboard, or the
operator's review queue.  Errors are HTML pages (:mod:`server.web_errors`).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from wtforms import Form

from server.auth import (
    account_required,
    accounts_service,
    current_account,
    safe_next,
    sign_in,
    sign_out,
    utc_now,
)
from server.forms import LoginForm, PasswordChangeForm, RegisterForm, ResetForm, password_refusal
from server.i18n import LANG_COOKIE, LOCALES
from server.presenters.refusals import refusal
from server.private.accounts import Account, Role
from server.private.errors import (
    HashBusyError,
    InvalidInputError,
    LoginRefusedError,
    RequestLimitedError,
    ResetCodeError,
    UsernameTakenError,
)
from server.views.pages import Page, add_error
from server.web_errors import add_html_errors, keeps_input

__all__ = ["signin"]

signin = Blueprint("signin", __name__, static_folder="../static", static_url_path="/static")
add_html_errors(signin)


def _home_for(account: Account) -> str:
    """Where ``account`` starts: the review queue or the member's dashboard."""
    if account.role is Role.OPERATOR:
        return url_for("operator.index")
    return url_for("member.dashboard")


@signin.get("/")
def index() -> Page:
    return render_template("index.html")


#: How long the language switch is remembered: a year, renewed at each switch.
_LANG_SECONDS = 365 * 24 * 3600


@signin.get("/lang/<code>")
def language(code: str) -> Page:
    """The language switch of every page's header: remember ``code`` in a
    cookie and go back to the page (``next``, a path on this site only).
    A plain link, so it works without script; it only sets a preference."""
    if code not in LOCALES:
        abort(404)
    response = redirect(safe_next(request.args.get("next")) or url_for("signin.index"))
    response.set_cookie(
        LANG_COOKIE,
        code,
        max_age=_LANG_SECONDS,
        path="/",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Lax",
    )
    return response


def _address() -> str:
    return request.remote_addr or "unknown"


def _limited_message(e: RequestLimitedError) -> str:
    minutes = max(1, -(-e.retry_after // 60))
    if e.code == "login.throttled":
        message = ngettext(
            "Too many failed sign-ins for this username from your address: "
            "try again in %(num)d minute.",
            "Too many failed sign-ins for this username from your address: "
            "try again in %(num)d minutes.",
            minutes,
        )
    elif e.code == "limit.username":
        message = ngettext(
            "Too many failed sign-ins for this username: try again in %(num)d minute.",
            "Too many failed sign-ins for this username: try again in %(num)d minutes.",
            minutes,
        )
    elif e.code == "limit.address":
        message = ngettext(
            "Too many attempts from your address: try again in %(num)d minute.",
            "Too many attempts from your address: try again in %(num)d minutes.",
            minutes,
        )
    else:
        message = ngettext(
            "The server is receiving too many of these requests: try again in %(num)d minute.",
            "The server is receiving too many of these requests: try again in %(num)d minutes.",
            minutes,
        )
    return str(message)


def _held_back(template: str, form: Form, e: RequestLimitedError | HashBusyError) -> Page:
    """The form again, refused before any password was hashed: ``429`` over
    a request limit, ``503`` while every hashing slot is busy."""
    if isinstance(e, HashBusyError):
        status = 503
        message = _(
            "The server is busy checking other passwords, so nothing was checked or "
            "changed. Try again in a moment."
        )
    else:
        status = 429
        message = _limited_message(e)
    page = render_template(template, form=form, refusal=message)
    return page, status, {"Retry-After": str(e.retry_after)}


@signin.route("/register", methods=["GET", "POST"])
@keeps_input
def register() -> Page:
    account = current_account()
    if account is not None:
        return redirect(_home_for(account))
    form = RegisterForm()
    if not form.validate_on_submit():
        return render_template("register.html", form=form), 400 if form.is_submitted() else 200
    try:
        accounts_service().register(
            form.username.data or "", form.password.data or "", utc_now(), address=_address()
        )
    except InvalidInputError as e:
        # The form's validators run the same rules first; this is a backstop.
        add_error(form[e.field], refusal(e))
        return render_template("register.html", form=form), 400
    except (RequestLimitedError, HashBusyError) as e:
        return _held_back("register.html", form, e)
    except UsernameTakenError:
        # Answered exactly as a new account is: the answer must not tell
        # whether a username exists.
        pass
    flash(
        _(
            "If the username %(name)s was free, it is now yours: sign in with it and your "
            "password. If the sign-in fails, the username belongs to someone else: "
            "register again with another.",
            name=(form.username.data or "").lower(),
        ),
        "info",
    )
    return redirect(url_for("signin.login"))


@signin.route("/login", methods=["GET", "POST"])
@keeps_input
def login() -> Page:
    account = current_account()
    if account is not None:
        return redirect(_home_for(account))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("login.html", form=form), 400 if form.is_submitted() else 200
    try:
        account = accounts_service().authenticate(
            form.username.data or "", form.password.data or "", _address(), utc_now()
        )
    except (RequestLimitedError, HashBusyError) as e:
        return _held_back("login.html", form, e)
    except LoginRefusedError:
        message = _("Wrong username or password.")
        return render_template("login.html", form=form, refusal=message), 400
    sign_in(account)
    return redirect(safe_next(request.args.get("next")) or _home_for(account))


@signin.route("/account/password", methods=["GET", "POST"])
@account_required
@keeps_input
def password() -> Page:
    """A signed-in member's or operator's own password, the current one
    required; every other session of the account ends."""
    account = current_account()
    assert account is not None  # account_required
    form = PasswordChangeForm()
    form.username = account.username
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("account/password.html", form=form), status
    try:
        accounts_service().change_password(
            account.id, form.current.data or "", form.new.data or "", _address(), utc_now()
        )
    except (RequestLimitedError, HashBusyError) as e:
        return _held_back("account/password.html", form, e)
    except LoginRefusedError:
        add_error(form.current, _("This is not your current password."))
        return render_template("account/password.html", form=form), 400
    except InvalidInputError as e:
        add_error(form.new, password_refusal(e))
        return render_template("account/password.html", form=form), 400
    # Every session of the account was revoked with the change: this
    # browser goes on in a new one.
    sign_in(account)
    flash(_("Your password is changed. Every other session of your account has ended."), "success")
    return redirect(_home_for(account))


@signin.route("/reset", methods=["GET", "POST"])
@keeps_input
def reset() -> Page:
    """A new password with the one-time code the operator issued
    (``mutualog-server reset-password``)."""
    form = ResetForm()
    if not form.validate_on_submit():
        return render_template("account/reset.html", form=form), 400 if form.is_submitted() else 200
    try:
        accounts_service().redeem_reset(
            form.code.data or "", form.new.data or "", _address(), utc_now()
        )
    except (RequestLimitedError, HashBusyError) as e:
        return _held_back("account/reset.html", form, e)
    except ResetCodeError:
        add_error(
            form.code,
            _(
                "This code is not valid: it is wrong, has expired or was already used. "
                "Ask the operator for a new one."
            ),
        )
        return render_template("account/reset.html", form=form), 400
    except InvalidInputError as e:
        add_error(form.new, password_refusal(e))
        return render_template("account/reset.html", form=form), 400
    if current_account() is not None:
        sign_out()
    flash(_("Your new password is set. Sign in with it."), "success")
    return redirect(url_for("signin.login"))


@signin.post("/logout")
def logout() -> Page:
    # A POST, so CSRFProtect has checked its token: another site cannot
    # sign a member out.
    sign_out()
    flash(_("You are signed out."), "info")
    return redirect(url_for("signin.index"))
