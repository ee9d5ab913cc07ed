"""Blueprint ``signin``: the front door — the home page, registering,
signing in and out — and the pages' stylesheet under ``/static``.

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

from server.auth import accounts_service, current_account, safe_next, sign_in, sign_out, utc_now
from server.forms import LoginForm, RegisterForm
from server.i18n import LANG_COOKIE, LOCALES
from server.presenters.refusals import refusal
from server.private.accounts import Account, Role
from server.private.errors import (
    InvalidInputError,
    LoginRefusedError,
    LoginThrottledError,
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
        account = accounts_service().register(
            form.username.data or "", form.password.data or "", utc_now()
        )
    except InvalidInputError as e:
        # The form's validators run the same rules first; this is a backstop.
        add_error(form[e.field], refusal(e))
        return render_template("register.html", form=form), 400
    except UsernameTakenError:
        add_error(form.username, _("This username is taken. Choose another."))
        return render_template("register.html", form=form), 400
    sign_in(account)
    flash(_("Welcome, %(name)s. Your account is ready.", name=account.username), "success")
    return redirect(url_for("member.dashboard"))


@signin.route("/login", methods=["GET", "POST"])
@keeps_input
def login() -> Page:
    account = current_account()
    if account is not None:
        return redirect(_home_for(account))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("login.html", form=form), 400 if form.is_submitted() else 200
    address = request.remote_addr or "unknown"
    try:
        account = accounts_service().authenticate(
            form.username.data or "", form.password.data or "", address, utc_now()
        )
    except LoginThrottledError as e:
        minutes = max(1, -(-e.retry_after // 60))
        refusal = ngettext(
            "Too many failed sign-ins for this username from your address: "
            "try again in %(num)d minute.",
            "Too many failed sign-ins for this username from your address: "
            "try again in %(num)d minutes.",
            minutes,
        )
        return (
            render_template("login.html", form=form, refusal=refusal),
            429,
            {"Retry-After": str(e.retry_after)},
        )
    except LoginRefusedError:
        refusal = _("Wrong username or password.")
        return render_template("login.html", form=form, refusal=refusal), 400
    sign_in(account)
    return redirect(safe_next(request.args.get("next")) or _home_for(account))


@signin.post("/logout")
def logout() -> Page:
    # A POST, so CSRFProtect has checked its token: another site cannot
    # sign a member out.
    sign_out()
    flash(_("You are signed out."), "info")
    return redirect(url_for("signin.index"))
