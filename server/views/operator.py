"""Blueprint ``operator``: the operator's pages under ``/operator``.

Every route of the blueprint is for operators only: the check runs before
any of its views (a ``before_request`` hook), so a view added later cannot
forget it.  Anonymous visitors are sent to sign in; members get 403.

The pages are the review queue (``/operator/``), a claim's case file with
its actions, the rule-change, override and erasure forms; the actions that
publish a text (a notice, an answer, an override, an erasure) show it as
the log will hold it before publishing it (:mod:`server.views.operator_publish`).  Each action
calls one method of :class:`server.pool_service.PoolService` — the same the
``mutualog-server pool`` commands call — and on success returns to the
review queue with a message naming the entry appended.  A refused action
shows its page again with the reason: 400 for a form that does not
validate, 409 for what the pool's state refuses (the claim is no longer at
that stage, a window is still open), so a form posted twice appends once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from werkzeug.wrappers import Response as BaseResponse

from server import i18n
from server.auth import AUTH_EXTENSION, AuthContext, current_account, operator_required
from server.context import current_log
from server.demo_clock import (
    DemoClockError,
    InstanceClock,
    advance_demo_clock,
    next_deadline,
)
from server.errors import NotFoundError, ServiceUnavailableError
from server.operator_forms import (
    AnswerForm,
    ClaimActionForm,
    ClosePeriodForm,
    ConfirmPayForm,
    DemoClockForm,
    NoticeForm,
    RulesForm,
)
from server.pool_app import current_pool
from server.pool_service import (
    CaseFile,
    PoolInputError,
    PoolRefusedError,
    PoolService,
    PoolUnavailableError,
)
from server.presenters.operator import period_closed, said
from server.presenters.refusals import refusal
from server.rule_text import parse_effective, read_rule_changes
from server.views.pages import document_response
from server.web_errors import add_html_errors, keeps_input
from server.witnessing.views import witness_panel
from verifiable.errors import MalformedError, MutualogError, RuleViolation
from verifiable.log.bodies import (
    ClaimDecided,
    ClaimPaid,
    PanelDrawn,
    PeriodClosed,
)
from verifiable.log.fields import read_date
from verifiable.pool.state import ClaimView, Stage

__all__ = ["operator"]

operator = Blueprint("operator", __name__, url_prefix="/operator")
add_html_errors(operator)

Page = str | tuple[str, int] | BaseResponse
ClaimDone = PanelDrawn | ClaimDecided | ClaimPaid

#: The demo clock's steps; "deadline" is computed from the pool's state.
_STEPS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


def _(text: str, **values: object) -> str:
    """``text`` in the page's language (Flask-Babel's ``gettext``, typed)."""
    return str(gettext(text, **values))


@operator.before_request
@operator_required
def _operators_only() -> None:
    return None


def _status(e: MutualogError) -> int:
    # The input itself was bad (400), or the pool's state refused it (409).
    if isinstance(e, PoolInputError):
        return 400
    return 409 if isinstance(e, PoolRefusedError | RuleViolation) else 400


def _refusal(e: MutualogError) -> str:
    return refusal(e)


def _account_id() -> int:
    account = current_account()
    assert account is not None  # _operators_only let the request in
    return account.id


def _done(message: str) -> BaseResponse:
    flash(message, "success")
    return redirect(url_for("operator.index"))


def _demo_clock() -> InstanceClock | None:
    """The application's clock if it is a demo's (kept in the database), else ``None``."""
    context: AuthContext = current_app.extensions[AUTH_EXTENSION]
    clock = context.clock
    return clock if isinstance(clock, InstanceClock) and clock.is_demo() else None


# --- the review queue ----------------------------------------------------------------


@operator.get("/")
def index() -> Page:
    account = current_account()
    demo = _demo_page() if _demo_clock() is not None else None
    witnesses = witness_panel(current_log().engine)
    try:
        queue = current_pool().review_queue()
    except (ServiceUnavailableError, PoolUnavailableError) as e:
        return render_template(
            "operator/index.html",
            account=account,
            unavailable=str(e),
            demo=demo,
            witnesses=witnesses,
        )
    close = None
    if queue.due_periods:
        close = ClosePeriodForm(data={"period": queue.due_periods[0].isoformat()})
    return render_template(
        "operator/index.html",
        account=account,
        queue=queue,
        close=close,
        demo=demo,
        witnesses=witnesses,
    )


def _period_form() -> tuple[ClosePeriodForm, str]:
    """The posted period form and its period, else 400."""
    form = ClosePeriodForm()
    if not form.validate_on_submit():
        abort(400, description=_("The period to close is missing or not a date."))
    try:
        read_date(form.period.data, "period")
    except MalformedError:
        abort(400, description=_("The period to close is not a calendar date."))
    return form, form.period.data or ""


def _period_due(period: str) -> PeriodClosed:
    """What closing ``period`` now appends, else 409 saying why not — in the
    page's language, at both steps (the pool checks again when appending)."""
    pool = current_pool()
    state = pool.state()
    body = state.expected_period_close(pool.now()) if state.started else None
    if body is None or body.period.isoformat() != period:
        closed = any(c.period.isoformat() == period for c in state.closed_periods)
        if closed:
            reason = _("Period %(period)s is already closed.", period=period)
        elif body is None:
            reason = _("No period is due to close yet.")
        else:
            reason = _(
                "Period %(period)s is not the next period due; the next period due is %(next)s.",
                period=period,
                next=body.period.isoformat(),
            )
        abort(409, description=reason)
    return body


@operator.post("/period/close")
def close_period() -> Page:
    """The first step: what closing the period will append, to confirm."""
    form, period = _period_form()
    body = _period_due(period)
    return render_template("operator/confirm_period.html", form=form, body=body)


@operator.post("/period/close/confirm")
def close_period_confirmed() -> Page:
    """The second step: close the period confirmed."""
    _form, period = _period_form()
    _period_due(period)
    try:
        body = current_pool().close_period(read_date(period, "period"))
    except MutualogError as e:
        abort(_status(e), description=_refusal(e))
    return _done(period_closed(body))


# --- the demo's clock ---------------------------------------------------------------


def _demo_page() -> dict[str, object]:
    """What the demo card of the review queue shows: the pool's time, the
    next deadline and the form that moves the clock."""
    pool = current_pool()
    now = pool.now()
    return {"now": now, "next": next_deadline(pool.state(), now), "form": DemoClockForm()}


@operator.post("/demo/clock")
def demo_clock() -> Page:
    """Move the demo's clock forward: an hour, a day, or just past the next
    deadline.  Refused (403, nothing changed) anywhere but in a demo."""
    if _demo_clock() is None:
        abort(
            403,
            description=_(
                "This instance is not a demo: the pool's clock is the real time and "
                "cannot be moved. Nothing was changed."
            ),
        )
    form = DemoClockForm()
    if not form.validate_on_submit():
        abort(400, description=_("Choose how far to move the clock. Nothing was changed."))
    pool = current_pool()
    now = pool.now()
    by = _STEPS.get(form.step.data or "")
    if by is None:
        deadline = next_deadline(pool.state(), now)
        if deadline is None:
            abort(409, description=_("No deadline is ahead. Nothing was changed."))
        by = deadline.target - now
    try:
        advance_demo_clock(pool.engine, by)
    except DemoClockError as e:
        abort(409, description=_refusal(e))
    return _done(_("The pool's clock is now %(time)s.", time=i18n.datetime(pool.now())))


# --- a claim's case file and its actions ------------------------------------------------


def _case(claim_id: str) -> CaseFile:
    case = current_pool().case_file(claim_id)
    if case is None:
        # An ApiError, not abort(404): the application's own 404 handler
        # (for unrouted URLs) would answer JSON to a client without Accept.
        raise NotFoundError(_("There is no claim %(claim)s.", claim=claim_id[:64]))
    return case


def _claim_page(
    claim_id: str,
    status: int = 200,
    refusal: str | None = None,
    notice: NoticeForm | None = None,
    answer: AnswerForm | None = None,
) -> Page:
    case = _case(claim_id)
    fields = {"claim": claim_id}
    page = render_template(
        "operator/claim.html",
        case=case,
        view=case.claim,
        notice_form=notice or NoticeForm(formdata=None, data=fields),
        answer_form=answer or AnswerForm(formdata=None, data=fields),
        action_form=ClaimActionForm(formdata=None, data=fields),
        refusal=refusal,
        awaiting_witnesses=case.drawable and current_pool().awaiting_witnesses(claim_id),
    )
    return page if status == 200 else (page, status)


@operator.get("/claims/<claim_id>")
def claim(claim_id: str) -> Page:
    return _claim_page(claim_id)


@operator.get("/claims/<claim_id>/evidence/<document:number>")
def evidence(claim_id: str, number: int) -> Page:
    return document_response(claim_id, number)


F = TypeVar("F", bound=ClaimActionForm)


def _claim_form(form: F, what: str) -> tuple[F, str, Page | None]:
    """The posted form, its claim, and the refusal page if it does not validate."""
    claim_id = form.claim.data or ""
    if form.validate_on_submit():
        _case(claim_id)
        return form, claim_id, None
    if form.claim.errors:
        # The claim is a hidden field: with no claim there is no page to show.
        nothing = _("%(what)s Nothing was changed.", what=what)
        abort(400, description=" ".join([nothing, *map(str, form.claim.errors)]))
    # The objection and the amount confirmed are hidden fields too: their
    # errors go with the refusal.
    hidden: list[str] = []
    if isinstance(form, AnswerForm):
        hidden = list(form.objection.errors)
    if isinstance(form, ConfirmPayForm):
        hidden = list(form.amount.errors)
    refusal = " ".join([what, *map(str, hidden)])
    notice = form if isinstance(form, NoticeForm) else None
    answer = form if isinstance(form, AnswerForm) else None
    return form, claim_id, _claim_page(claim_id, 400, refusal, notice=notice, answer=answer)


def _act(what: str, action: Callable[[str], ClaimDone]) -> Page:
    """Run a claim's one-button action after its form's checks."""
    _form, claim_id, refused = _claim_form(ClaimActionForm(), what)
    if refused is not None:
        return refused
    try:
        body = action(claim_id)
    except MutualogError as e:
        return _claim_page(claim_id, _status(e), _refusal(e))
    return _done(said(claim_id, body))


def _one_button(
    path: str, what: LazyString, action: Callable[[PoolService, str], ClaimDone]
) -> None:
    """Register ``POST /operator/actions/<path>``, endpoint ``operator.<path>``
    (dashes as underscores): a claim's one-button action."""

    def view() -> Page:
        return _act(str(what), lambda claim_id: action(current_pool(), claim_id))

    operator.add_url_rule(f"/actions/{path}", path.replace("-", "_"), view, methods=["POST"])


_one_button("draw", _l("The panel was not drawn."), PoolService.draw_panel)
_one_button("close-voting", _l("Voting was not closed."), PoolService.close_voting)
_one_button("ineligible", _l("The claim was not decided."), PoolService.decide_ineligible)


def _unpaid(claim_id: str) -> ClaimView | Page:
    """The claim if it can be paid now, else its page refusing (409)."""
    view = _case(claim_id).claim
    if view.stage is Stage.APPROVED:
        return view
    refusal = _(
        "Claim %(claim)s is %(stage)s: only an approved claim is paid.",
        claim=claim_id,
        stage=i18n.stage(view.stage.value),
    )
    return _claim_page(claim_id, 409, refusal)


@operator.post("/actions/pay")
def pay() -> Page:
    """The first step of paying: what will be paid, to whom, to confirm."""
    _form, claim_id, refused = _claim_form(ClaimActionForm(), _("The claim was not paid."))
    if refused is not None:
        return refused
    view = _unpaid(claim_id)
    if not isinstance(view, ClaimView):
        return view
    pool = current_pool()
    form = ConfirmPayForm(formdata=None, data={"claim": claim_id, "amount": str(view.amount)})
    period = pool.state().period_at(pool.now())
    return render_template("operator/confirm_pay.html", view=view, form=form, period=period)


@operator.post("/actions/pay/confirm")
def pay_confirmed() -> Page:
    """The second step: pay exactly the amount confirmed."""
    form, claim_id, refused = _claim_form(ConfirmPayForm(), _("The claim was not paid."))
    if refused is not None:
        return refused
    view = _unpaid(claim_id)
    if not isinstance(view, ClaimView):
        return view
    if str(view.amount) != form.amount.data:
        refusal = _(
            "The amount confirmed is not the aid decided for claim %(claim)s "
            "(%(amount)s): the claim was not paid. Look at it again.",
            claim=claim_id,
            amount=i18n.yuan(view.amount),
        )
        return _claim_page(claim_id, 409, refusal)
    try:
        body = current_pool().pay(claim_id)
    except MutualogError as e:
        return _claim_page(claim_id, _status(e), _refusal(e))
    return _done(said(claim_id, body))


# --- rules, overrides, erasure --------------------------------------------------------


@operator.route("/rules", methods=["GET", "POST"])
@keeps_input
def rules() -> Page:
    form = RulesForm()
    pool = current_pool()
    if not form.validate_on_submit():
        page = render_template("operator/rules.html", form=form, state=pool.state())
        return (page, 400) if form.is_submitted() else page
    try:
        changes = read_rule_changes(form.changes.data or "", "rules")
        effective = parse_effective(form.effective.data or "")
        body = pool.change_rules(changes, effective, form.reason.data or "")
    except MutualogError as e:
        page = render_template(
            "operator/rules.html", form=form, state=pool.state(), refusal=_refusal(e)
        )
        return page, _status(e)
    return _done(
        _("Rule change logged, in force from %(time)s.", time=i18n.datetime(body.effective))
    )


# The pages that publish a text (a notice, an answer, an override, an erasure),
# each with its preview, and the redacted copies of a claim's evidence with
# their page images: registered on this blueprint by importing them.
from server.views import operator_evidence, operator_publish  # noqa: E402, F401
