"""Blueprint ``operator``: the operator's pages under ``/operator``.

Every route of the blueprint is for operators only: the check runs before
any of its views (a ``before_request`` hook), so a view added later cannot
forget it.  Anonymous visitors are sent to sign in; members get 403.

The pages are the review queue (``/operator/``), a claim's case file with
its actions, the rule-change, override and erasure forms.  Each action
calls one method of :class:`server.pool_service.PoolService` — the same the
``mutualog-server pool`` commands call — and on success returns to the
review queue with a message naming the entry appended.  A refused action
shows its page again with the reason: 400 for a form that does not
validate, 409 for what the pool's state refuses (the claim is no longer at
that stage, a window is still open), so a form posted twice appends once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from server.auth import current_account, operator_required
from server.errors import NotFoundError, ServiceUnavailableError
from server.forms import as_sentence
from server.operator_forms import (
    AnswerForm,
    ClaimActionForm,
    ClosePeriodForm,
    ErasureForm,
    NoticeForm,
    OverrideForm,
    RulesForm,
)
from server.pool.outcomes import Description, describe, describe_answer, render
from server.pool_app import current_pool
from server.pool_service import (
    CaseFile,
    PoolInputError,
    PoolRefusedError,
    PoolService,
    PoolUnavailableError,
)
from server.rule_text import parse_effective, read_rule_changes
from server.web_errors import add_html_errors
from verifiable.errors import MalformedError, MutualogError, RuleViolation
from verifiable.log.bodies import ClaimDecided, ClaimPaid, ErasedKind, PanelDrawn
from verifiable.log.fields import read_date

__all__ = ["operator"]

operator = Blueprint("operator", __name__, url_prefix="/operator")
add_html_errors(operator)

Page = str | tuple[str, int] | BaseResponse
ClaimDone = PanelDrawn | ClaimDecided | ClaimPaid


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
    return as_sentence(str(e))


def _account_id() -> int:
    account = current_account()
    assert account is not None  # _operators_only let the request in
    return account.id


def _done(message: str) -> BaseResponse:
    flash(message, "success")
    return redirect(url_for("operator.index"))


def _did(description: Description) -> BaseResponse:
    # Fen grouped and times to the minute: a sentence for a person.
    return _done(as_sentence(render(description, "{:,} fen", "%Y-%m-%d %H:%M UTC")))


# --- the review queue ----------------------------------------------------------------


@operator.get("/")
def index() -> Page:
    account = current_account()
    try:
        queue = current_pool().review_queue()
    except (ServiceUnavailableError, PoolUnavailableError) as e:
        return render_template("operator/index.html", account=account, unavailable=str(e))
    close = None
    if queue.due_periods:
        close = ClosePeriodForm(data={"period": queue.due_periods[0].isoformat()})
    return render_template("operator/index.html", account=account, queue=queue, close=close)


@operator.post("/period/close")
def close_period() -> Page:
    form = ClosePeriodForm()
    if not form.validate_on_submit():
        abort(400, description="The period to close is missing or not a date.")
    try:
        period = read_date(form.period.data, "period")
        body = current_pool().close_period(period)
    except MalformedError:
        abort(400, description="The period to close is not a calendar date.")
    except MutualogError as e:
        abort(_status(e), description=_refusal(e))
    return _done(
        f"Period {body.period.isoformat()} closed: {body.sharing:,} members share "
        f"{body.claims_count} claims, {body.share:,} fen each."
    )


# --- a claim's case file and its actions ------------------------------------------------


def _case(claim_id: str) -> CaseFile:
    case = current_pool().case_file(claim_id)
    if case is None:
        # An ApiError, not abort(404): the application's own 404 handler
        # (for unrouted URLs) would answer JSON to a client without Accept.
        raise NotFoundError(f"There is no claim {claim_id[:64]}.")
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
    )
    return page if status == 200 else (page, status)


@operator.get("/claims/<claim_id>")
def claim(claim_id: str) -> Page:
    return _claim_page(claim_id)


@operator.get("/claims/<claim_id>/evidence/<int:position>")
def evidence(claim_id: str, position: int) -> Page:
    stored = current_pool().evidence_document(claim_id, position)
    if stored is None:
        raise NotFoundError("There is no such document, or it was erased.")
    extension = stored.document.content_type.rsplit("/", 1)[1]
    name = f"claim-{claim_id}-document-{position}.{extension}"
    response = Response(stored.content, mimetype=stored.document.content_type)
    # Always a download, under a name of ours: never rendered in the
    # operator's session, never a file name the claimant chose.
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


F = TypeVar("F", bound=ClaimActionForm)


def _claim_form(form: F, what: str) -> tuple[F, str, Page | None]:
    """The posted form, its claim, and the refusal page if it does not validate."""
    claim_id = form.claim.data or ""
    if form.validate_on_submit():
        _case(claim_id)
        return form, claim_id, None
    if form.claim.errors:
        # The claim is a hidden field: with no claim there is no page to show.
        abort(400, description=" ".join([f"{what} Nothing was changed.", *form.claim.errors]))
    # The objection is a hidden field too: its error goes with the refusal.
    hidden = form.objection.errors if isinstance(form, AnswerForm) else []
    refusal = " ".join([what, *hidden])
    notice = form if isinstance(form, NoticeForm) else None
    answer = form if isinstance(form, AnswerForm) else None
    return form, claim_id, _claim_page(claim_id, 400, refusal, notice=notice, answer=answer)


def _act(what: str, action: Callable[[str], ClaimDone]) -> Page:
    """Run a claim's one-button action after its form's checks."""
    _, claim_id, refused = _claim_form(ClaimActionForm(), what)
    if refused is not None:
        return refused
    try:
        body = action(claim_id)
    except MutualogError as e:
        return _claim_page(claim_id, _status(e), _refusal(e))
    return _did(describe(claim_id, body))


@operator.post("/actions/notice")
def notice() -> Page:
    form, claim_id, refused = _claim_form(NoticeForm(), "The notice was not published.")
    if refused is not None:
        return refused
    try:
        body = current_pool().publish_notice(claim_id, form.text.data or "", form.amount.data)
    except MutualogError as e:
        return _claim_page(claim_id, _status(e), _refusal(e), notice=form)
    return _did(describe(claim_id, body))


@operator.post("/actions/answer")
def answer() -> Page:
    form, claim_id, refused = _claim_form(AnswerForm(), "The answer was not published.")
    if refused is not None:
        return refused
    objection = int(form.objection.data or 0)
    try:
        seq = current_pool().answer(claim_id, objection, form.text.data or "")
    except MutualogError as e:
        return _claim_page(claim_id, _status(e), _refusal(e), answer=form)
    return _did(describe_answer(claim_id, objection, seq))


def _one_button(path: str, what: str, action: Callable[[PoolService, str], ClaimDone]) -> None:
    """Register ``POST /operator/actions/<path>``, endpoint ``operator.<path>``
    (dashes as underscores): a claim's one-button action."""

    def view() -> Page:
        return _act(what, lambda claim_id: action(current_pool(), claim_id))

    operator.add_url_rule(f"/actions/{path}", path.replace("-", "_"), view, methods=["POST"])


_one_button("draw", "The panel was not drawn.", PoolService.draw_panel)
_one_button("close-voting", "Voting was not closed.", PoolService.close_voting)
_one_button("pay", "The claim was not paid.", PoolService.pay)
_one_button("ineligible", "The claim was not decided.", PoolService.decide_ineligible)


# --- rules, overrides, erasure --------------------------------------------------------


@operator.route("/rules", methods=["GET", "POST"])
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
    return _done(f"Rule change logged, in force from {body.effective:%Y-%m-%d %H:%M} UTC.")


@operator.route("/override", methods=["GET", "POST"])
def override() -> Page:
    form = OverrideForm()
    if not form.validate_on_submit():
        page = render_template("operator/override.html", form=form)
        return (page, 400) if form.is_submitted() else page
    try:
        seq = current_pool().override(
            form.action.data or "", form.target.data or "", form.reason.data or ""
        )
    except MutualogError as e:
        page = render_template("operator/override.html", form=form, refusal=_refusal(e))
        return page, _status(e)
    return _done(f"Override {form.action.data} logged in entry {seq}.")


@operator.route("/erase", methods=["GET", "POST"])
def erase() -> Page:
    form = ErasureForm()
    if not form.validate_on_submit():
        page = render_template("operator/erase.html", form=form)
        return (page, 400) if form.is_submitted() else page
    pool = current_pool()
    subject, reason = form.subject.data or "", form.reason.data or ""
    try:
        if form.kind.data == ErasedKind.MEMBER.value:
            pool.erase_member(subject, reason, _account_id())
        else:
            pool.erase_evidence(subject, reason, _account_id())
    except MutualogError as e:
        page = render_template("operator/erase.html", form=form, refusal=_refusal(e))
        return page, _status(e)
    return _done(f"The {form.kind.data} data of {subject} is erased; the log records it.")
