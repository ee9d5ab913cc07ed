"""Blueprint ``web``: the pages members use — home, register, sign in and
out, and the member's dashboard — plus the stylesheet under ``/static``.

Views parse the form, call :mod:`server.private.accounts` through
:func:`server.auth.accounts_service`, and render.  Errors are HTML pages
(:mod:`server.web_errors`).
"""

from __future__ import annotations

from typing import NoReturn

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse
from wtforms import Field

from server.auth import (
    accounts_service,
    current_account,
    member_required,
    safe_next,
    sign_in,
    sign_out,
    utc_now,
)
from server.forms import LoginForm, RegisterForm, as_sentence
from server.juror_forms import CastForm, VoteForm, seal_vote_form, vote_form_matches
from server.pool_app import current_pool
from server.pool_service import VoteRefusedError
from server.private.accounts import Account, Role
from server.private.errors import (
    AlreadyVotedError,
    InvalidInputError,
    LoginRefusedError,
    LoginThrottledError,
    UsernameTakenError,
)
from server.web_errors import add_html_errors
from verifiable.bodies import Choice
from verifiable.errors import RuleViolation

__all__ = ["web"]

web = Blueprint("web", __name__, static_folder="../static", static_url_path="/static")
add_html_errors(web)

Page = str | tuple[str, int] | tuple[str, int, dict[str, str]] | BaseResponse


def _add_error(field: Field, message: str) -> None:
    field.errors = [*field.errors, message]


def _home_for(account: Account) -> str:
    return url_for("operator.index") if account.role is Role.OPERATOR else url_for("web.dashboard")


@web.get("/")
def index() -> Page:
    return render_template("index.html")


@web.route("/register", methods=["GET", "POST"])
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
        _add_error(form[e.field], as_sentence(e.message))
        return render_template("register.html", form=form), 400
    except UsernameTakenError:
        _add_error(form.username, "This username is taken. Choose another.")
        return render_template("register.html", form=form), 400
    sign_in(account)
    flash(f"Welcome, {account.username}. Your account is ready.", "success")
    return redirect(url_for("web.dashboard"))


@web.route("/login", methods=["GET", "POST"])
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
        return (
            render_template("login.html", form=form, refusal=as_sentence(str(e))),
            429,
            {"Retry-After": str(e.retry_after)},
        )
    except LoginRefusedError:
        return render_template("login.html", form=form, refusal="Wrong username or password."), 400
    sign_in(account)
    return redirect(safe_next(request.args.get("next")) or _home_for(account))


@web.post("/logout")
def logout() -> Page:
    # A POST, so CSRFProtect has checked its token: another site cannot
    # sign a member out.
    sign_out()
    flash("You are signed out.", "info")
    return redirect(url_for("web.index"))


@web.get("/dashboard")
@member_required
def dashboard() -> Page:
    return render_template("dashboard.html", account=current_account())


# --- jurors: open panels, the vote form with its confirm step, receipts ------------
# (Services: server.pool_service for the pool, server.juror_forms for the forms
# and the confirm step's seal; the views parse, call and render.)


def _juror_id() -> str:
    account = current_account()
    if account is None or account.member_id is None:
        abort(403, description="Only members of the pool can be jurors: join the pool first.")
    return account.member_id


_REFUSAL_STATUS = {"unknown_claim": 404, "not_juror": 403}


def _refuse_vote(e: VoteRefusedError) -> NoReturn:
    abort(_REFUSAL_STATUS.get(e.reason, 409), description=str(e))


@web.get("/juror")
@member_required
def juror_panels() -> Page:
    juror = _juror_id()
    pool = current_pool()
    panels = [
        (view, pool.has_voted(view.id, view.round, juror)) for view in pool.open_panels(juror)
    ]
    return render_template("juror/index.html", panels=panels, now=pool.now())


@web.get("/juror/claims/<claim_id>")
@member_required
def juror_case(claim_id: str) -> Page:
    juror = _juror_id()
    pool = current_pool()
    view = pool.claim(claim_id)
    if view is None or juror not in view.jurors:
        abort(403, description="You are not on a panel of this claim.")
    form = VoteForm(data={"claim": view.id, "round": view.round})
    voted = pool.has_voted(view.id, view.round, juror)
    return render_template(
        "juror/case.html", view=view, notice=pool.notice(claim_id), form=form, voted=voted
    )


@web.post("/juror/vote")
@member_required
def juror_review() -> Page:
    juror = _juror_id()
    form = VoteForm()
    if not form.validate_on_submit():
        return render_template("juror/invalid.html", form=form), 400
    claim, round_, choice, reason = _vote_fields(form)
    try:
        view = current_pool().check_can_vote(claim, round_, juror)
    except VoteRefusedError as e:
        _refuse_vote(e)
    token = seal_vote_form(_secret(), claim, round_, juror, choice, reason)
    cast = CastForm(data={"claim": claim, "round": round_, "choice": choice, "reason": reason})
    cast.token.data = token
    return render_template("juror/confirm.html", view=view, form=cast, choice=choice, reason=reason)


@web.post("/juror/vote/cast")
@member_required
def juror_cast() -> Page:
    juror = _juror_id()
    form = CastForm()
    if not form.validate_on_submit():
        return render_template("juror/invalid.html", form=form), 400
    claim, round_, choice, reason = _vote_fields(form)
    if not vote_form_matches(
        _secret(), form.token.data or "", claim, round_, juror, choice, reason
    ):
        abort(
            400,
            description="This vote does not match the one you reviewed: the form was changed "
            "after the confirm step. Nothing was recorded; open the claim and vote again.",
        )
    try:
        current_pool().seal_vote(claim, round_, juror, Choice(choice), reason)
    except VoteRefusedError as e:
        _refuse_vote(e)
    except AlreadyVotedError:
        abort(409, description=f"You have already voted on claim {claim} in round {round_}.")
    except RuleViolation as e:
        abort(409, description=f"The pool's rules refuse this vote: {e}")
    flash("Your vote is sealed in the log. Download your receipt and keep it.", "success")
    return redirect(url_for("web.juror_receipt", claim_id=claim, round_=round_))


@web.get("/juror/claims/<claim_id>/<int:round_>/receipt")
@member_required
def juror_receipt(claim_id: str, round_: int) -> Page:
    receipt = current_pool().receipt(claim_id, round_, _juror_id())
    if receipt is None:
        abort(404, description="You have no sealed vote on this claim in this round.")
    return render_template("juror/receipt.html", receipt=receipt)


@web.get("/juror/claims/<claim_id>/<int:round_>/receipt.json")
@member_required
def juror_receipt_file(claim_id: str, round_: int) -> Page:
    receipt = current_pool().receipt(claim_id, round_, _juror_id())
    if receipt is None:
        abort(404, description="You have no sealed vote on this claim in this round.")
    response = jsonify(receipt.to_json())
    filename = f"vote-receipt-{claim_id}-round-{round_}.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _vote_fields(form: VoteForm) -> tuple[str, int, str, str]:
    return (
        form.claim.data or "",
        int(form.round.data or 0),
        form.choice.data or "",
        (form.reason.data or "").strip(),
    )


def _secret() -> str | bytes:
    secret = current_app.secret_key
    assert secret  # a signed-in session needs the key, so it is loaded
    return secret
