"""Blueprint ``member``: a member's pages — the dashboard, joining and
leaving the pool, filing a claim and following it, objecting to a notice,
appealing a rejection, and downloading one's own evidence.

Views parse the form, call the pool (:mod:`server.pool_service`) or the
private store, and render what the presenters (:mod:`server.presenters`)
build.  Errors are HTML pages (:mod:`server.web_errors`): a refusal that
depends on who asks is 403 (404 where even saying the thing exists would
say too much), one that depends on the pool's state is 409, and bad input
re-shows the form with its errors and 400 (413 for a document that is too
large).  A refused request appends nothing and stores nothing.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from server import i18n
from server.auth import current_account, member_required
from server.charts import bar_chart
from server.context import current_log
from server.errors import BadParameterError
from server.log_texts import concern
from server.member_forms import (
    AppealForm,
    ClaimForm,
    JoinForm,
    LeaveForm,
    ObjectionForm,
    evidence_refusal,
)
from server.pool_app import current_pool
from server.pool_figures import current_figures
from server.pool_service import PoolInputError, PoolRefusedError, PoolService
from server.presenters.claim import (
    ObjectionText,
    claim_actions,
    claim_steps,
    objection_texts,
)
from server.presenters.commands import deduction_commands, deduction_rows, verify_commands
from server.presenters.member import next_deduction, over_cap, page_count, shares_points, statement
from server.presenters.refusals import refusal
from server.private.consents import ConsentKind, attach_claim, consent_given
from server.private.errors import AlreadyJoinedError, AlreadyMemberError, InvalidInputError
from server.private.evidence import EvidenceDocument, list_evidence
from server.private.identity import china_date
from server.private.submissions import AlreadySubmittedError, Submission, SubmissionKind
from server.rosters import log_index, member_deductions
from server.views.pages import (
    Page,
    add_error,
    document_response,
    entry_body,
    refuse_rule,
    signed_in_member,
)
from server.views.params import parse_size, query_args
from server.web_errors import add_html_errors, keeps_input
from server.witnessing.views import trusted_witnesses
from verifiable.errors import RuleViolation
from verifiable.log.bodies import LeaveReason
from verifiable.pool.rules import moment
from verifiable.pool.state import ClaimView, MemberView, Stage

__all__ = ["member"]

member = Blueprint("member", __name__)
add_html_errors(member)


@member.get("/dashboard")
@member_required
def dashboard() -> Page:
    account = current_account()
    assert account is not None
    member_id = account.member_id
    pool = current_pool()
    if member_id is None:
        return render_template("dashboard.html", account=account, member=None, left=False)
    state = pool.state()
    log = current_log()
    log_url = current_log().settings.public_url
    view = state.member(member_id)
    deductions = member_deductions(pool, member_id)
    closed = state.closed_periods
    upcoming = None
    if view is not None:
        last = closed[-1] if closed else None
        upcoming = next_deduction(
            state.due_periods, state.current_period, state.rules_at, last, view.joined
        )
    return render_template(
        "dashboard.html",
        account=account,
        member=view,
        left=state.has_left(member_id),
        deductions=deduction_rows(deductions, log_url, member_id),
        chart=bar_chart(
            "paid-chart",
            _("What I paid, per period"),
            shares_points(deductions, i18n.date, i18n.yuan),
            (_("Period"), _("My share")),
            _("Nothing paid yet."),
        ),
        total=sum(d.share for d in deductions),
        upcoming=upcoming,
        claims=_own_claims(pool, member_id),
        setup=verify_commands(
            log.origin, log.verifier().to_vkey(), log_url, *trusted_witnesses(log.engine)
        ),
    )


def _own_claims(pool: PoolService, member_id: str) -> list[ClaimView]:
    """The member's claims in filing order, found through the map of who
    filed what (not by walking every claim of the pool)."""
    with log_index(pool).at() as index:
        filed = index.member_claims(member_id).filed
    state = pool.state()
    return [view for view in (state.claim(c) for c in filed) if view is not None]


# --- a period's statement -------------------------------------------------------------

_PERIOD = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _period(text: str) -> date:
    """A period named in a path (its notice date, ``YYYY-MM-DD``); 400 otherwise."""
    try:
        if _PERIOD.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise BadParameterError(_("A period is named by its date, like 2026-01-07."))


def _page_number() -> int:
    """The ``?page=N`` of a statement (from 1), the only query it takes;
    400 in the page's language otherwise."""
    try:
        page = parse_size("page", query_args(("page",)).get("page", "1"))
    except BadParameterError as e:
        raise BadParameterError(
            _("This page takes one query, the page number: ?page=2, for example.")
        ) from e
    if page == 0:
        raise BadParameterError(_("Pages are numbered from 1."))
    return page


@member.get("/dashboard/periods/<period>")
@member_required
def period_statement(period: str) -> Page:
    member_id = _member_id()
    day, page = _period(period), _page_number()
    pool = current_pool()
    url = current_log().settings.public_url
    # One member's rows only: the period's entry, whether its roster holds
    # them (their join and leave times), and fifty of its paid claims.
    with log_index(pool).at() as index:
        found = index.closed.get(day)
        if found is None or not index.sharing(member_id, moment(day)):
            abort(
                404,
                description=_(
                    "You have no statement for the period of %(period)s: either it has not "
                    "closed yet or you did not share in it.",
                    period=day.isoformat(),
                ),
            )
        seq, closed = found
        paid = index.paid.get(day) or ()
        pages = page_count(len(paid))
        if page > pages:
            abort(
                404,
                description=_(
                    "There is no page %(page)d: this statement has %(pages)d.",
                    page=page,
                    pages=pages,
                ),
            )
        rules = pool.state().rules_at(moment(day))
        assert rules is not None  # the period closed, so the pool had rules
        shown = statement(seq, closed, paid, rules, deduction_commands(url, member_id, day), page)
    return render_template("member/statement.html", statement=shown, member_id=member_id)


# --- joining and leaving -------------------------------------------------------------


def _member_id() -> str:
    return signed_in_member(_("Only members of the pool can do this: join the pool first."))


def _active_member() -> tuple[str, MemberView]:
    """The signed-in member, who must still be in the pool (409 after leaving)."""
    member_id = _member_id()
    view = current_pool().state().member(member_id)
    if view is None:
        abort(409, description=_("You have left the pool: your membership has ended."))
    return member_id, view


def _consent(kind: ConsentKind, wording: str, at: datetime) -> AbstractContextManager[int]:
    account = current_account()
    assert account is not None
    return consent_given(current_log().engine, account.id, kind, wording, i18n.locale_code(), at)


@member.route("/join", methods=["GET", "POST"])
@member_required
@keeps_input
def join() -> Page:
    account = current_account()
    assert account is not None
    if account.member_id is not None:
        if request.method == "GET":
            flash(_("You are already a member of the pool."), "info")
            return redirect(url_for("member.dashboard"))
        abort(
            403,
            description=_(
                "You have already joined the pool, as member %(member)s. An account joins "
                "once; nothing was changed.",
                member=account.member_id,
            ),
        )
    pool = current_pool()
    form = JoinForm(china_date(pool.now()))
    if not form.validate_on_submit():
        return render_template("member/join.html", form=form), 400 if form.is_submitted() else 200
    guardian = str(form.guardian.label.text)
    try:
        with (
            _consent(ConsentKind.GUARDIAN, guardian, pool.now())
            if form.under_14()
            else nullcontext()
        ):
            member_id = pool.join(account.id, form.details())
    except AlreadyJoinedError:
        abort(403, description=_("This account has already joined the pool; nothing was changed."))
    except (AlreadyMemberError, PoolRefusedError) as e:  # a taken ID number, an age not covered
        add_error(form.id_number, refusal(e))
        return render_template("member/join.html", form=form), 400
    except RuleViolation as e:
        refuse_rule(e)
    joined = pool.state().member(member_id)
    band = i18n.age_band(joined.band.value) if joined is not None else ""
    flash(
        _(
            "Welcome to the pool, in the age band %(band)s, which the birth date in your ID "
            "number gives. Your pseudonymous member id is %(member)s: the public log knows "
            "you only by it.",
            band=band,
            member=member_id,
        ),
        "success",
    )
    return redirect(url_for("member.dashboard"))


@member.route("/leave", methods=["GET", "POST"])
@member_required
def leave() -> Page:
    member_id, view = _active_member()
    form = LeaveForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("member/leave.html", form=form, member=view), status
    reason = LeaveReason.WAITING_PERIOD if view.ending else LeaveReason.VOLUNTARY
    try:
        left = current_pool().leave(member_id, reason)
    except PoolRefusedError:
        abort(409, description=_("You have left the pool already; nothing was changed."))
    except RuleViolation as e:
        refuse_rule(e)
    if left.refund:
        flash(
            _(
                "You have left the pool. Your past shares, %(amount)s, are refunded.",
                amount=i18n.yuan(left.refund),
            ),
            "success",
        )
    else:
        flash(_("You have left the pool."), "success")
    return redirect(url_for("member.dashboard"))


# --- filing a claim --------------------------------------------------------------------


def _claim_form() -> tuple[ClaimForm, MemberView, str]:
    member_id, view = _active_member()
    pool = current_pool()
    rules = pool.state().rules_at(pool.now())
    assert rules is not None  # a member exists, so the pool has started
    form = ClaimForm(rules.categories, pool.now().date())
    return form, view, member_id


def _render_claim_form(form: ClaimForm, view: MemberView, member_id: str, status: int) -> Page:
    try:  # the cap of the band a diagnosis today carries, not the joining band's
        band, cap = current_pool().claim_cap(member_id, current_pool().now().date())
    except PoolInputError:
        band, cap = view.band, None
    return render_template("member/claim_new.html", form=form, cap=cap, band=band), status


@member.route("/claims/new", methods=["GET", "POST"])
@member_required
@keeps_input
def claim_new() -> Page:
    form, view, member_id = _claim_form()
    if view.ending:
        abort(
            409,
            description=_(
                "A claim of yours was decided ineligible (illness inside the waiting period): "
                "your membership is ending, and you may only leave the pool."
            ),
        )
    if not form.validate_on_submit():
        return _render_claim_form(form, view, member_id, 400 if form.is_submitted() else 200)
    pool = current_pool()
    now = pool.now()
    rules = pool.state().rules_at(now)
    assert rules is not None and form.diagnosed.data is not None
    diagnosed = form.diagnosed.data
    try:
        # The band on the date of diagnosis sets the cap (docs/privacy.md).
        band = pool.claim_band(member_id, diagnosed)
    except PoolInputError as e:
        add_error(form.diagnosed, refusal(e))
        return _render_claim_form(form, view, member_id, 400)
    over = over_cap(rules.cap(band), band, form.fen)
    if over is not None:
        add_error(form.amount, over)
        return _render_claim_form(form, view, member_id, 400)
    if (now.date() - diagnosed).days > rules.filing_days:
        add_error(
            form.diagnosed,
            _("A claim is filed within %(days)d days of the diagnosis.", days=rules.filing_days),
        )
        return _render_claim_form(form, view, member_id, 400)
    uploads = form.uploads()
    if uploads is None:
        return _render_claim_form(form, view, member_id, 413)
    submission = Submission(form.submission.data or "", SubmissionKind.CLAIM, member_id)
    try:
        # Given before the documents are processed, so recorded first (docs/privacy.md).
        with _consent(ConsentKind.MEDICAL, str(form.medical_consent.label.text), now) as given:
            claim_id = pool.file_claim(
                member_id, form.category.data or "", form.fen, diagnosed, uploads, submission
            )
            attach_claim(current_log().engine, given, claim_id)
    except AlreadySubmittedError as e:
        return _sent_before(
            member_id,
            e,
            _(
                "You have already filed this claim, as claim %(claim)s; it was not filed "
                "again. Follow it below.",
                claim=e.previous.claim,
            ),
        )
    except InvalidInputError as e:
        add_error(form.evidence, evidence_refusal(e.message))
        return _render_claim_form(form, view, member_id, 400)
    except PoolRefusedError as e:
        abort(409, description=refusal(e))
    except RuleViolation as e:
        refuse_rule(e)
    flash(
        _(
            "Your claim %(claim)s is filed. The operator reviews it and publishes a redacted "
            "notice; follow it below.",
            claim=claim_id,
        ),
        "success",
    )
    return redirect(url_for("member.dashboard"))


def _sent_before(member_id: str, e: AlreadySubmittedError, said: str) -> Page:
    """The answer to a form sent twice (a double click, a reload, a replay):
    where the first send led, saying so; nothing was appended again.  A
    token another member used says nothing of what it filed."""
    if e.previous.submitter != member_id:
        abort(409, description=_("This form was sent already; nothing was recorded."))
    flash(said, "info")
    return redirect(url_for("member.dashboard"))


# --- following a claim: its page, objections, appeals, evidence ----------------------


def _objections(view: ClaimView) -> list[ObjectionText]:
    figures = current_figures().claim(view.id)
    answers = [entry_body(seq) for seq in (figures.record.answers if figures is not None else ())]
    return objection_texts([(seq, entry_body(seq)) for seq in view.objection_seqs], answers)


def _claim_page(
    claim_id: str,
    objection: ObjectionForm | None = None,
    appeal: AppealForm | None = None,
    status: int = 200,
) -> Page:
    account = current_account()
    assert account is not None
    pool = current_pool()
    figures = current_figures().claim(claim_id)
    if figures is None:
        abort(404, description=_("There is no claim %(claim)s.", claim=claim_id))
    view, record, now = figures.view, figures.record, pool.now()
    member_id = account.member_id
    active = member_id is not None and pool.state().member(member_id) is not None
    actions = claim_actions(view, record, member_id, active, now)
    documents: list[EvidenceDocument] = (
        list_evidence(current_log().engine, claim_id) if actions.mine else []
    )
    # A form is built only where the page shows it: in a POST, a FlaskForm
    # reads the request's fields.  None once the member has made the
    # objections the claim's rules allow (claim.objections_per_member).
    objections = _objections(view)
    made = sum(1 for o in objections if o.member == member_id)
    objection_form = None
    if actions.can_object and view.rules.objection_allowed(made):
        objection_form = objection or ObjectionForm(data={"claim": claim_id})
    appeal_form = None
    if actions.can_appeal:
        appeal_form = appeal or AppealForm(data={"claim": claim_id})
    steps = claim_steps(view, record, now)
    return (
        render_template(
            "member/claim.html",
            view=view,
            record=record,
            steps=steps,
            times=current_figures().entry_times(s.seqs[0] for s in steps if s.seqs),
            objections=objections,
            mine=actions.mine,
            documents=documents,
            objection_form=objection_form,
            objected_enough=actions.can_object and objection_form is None,
            appeal_form=appeal_form,
        ),
        status,
    )


@member.get("/claims/<claim_id>")
@member_required
def claim_status(claim_id: str) -> Page:
    return _claim_page(claim_id)


def _refused_claim_form(form: ObjectionForm | AppealForm) -> Page | None:
    """The claim page again (400) for a claim form that does not validate;
    a form that names no valid claim is a bare 400."""
    if form.validate_on_submit():
        return None
    if form.claim.errors:
        abort(400, description=_("This form does not name a valid claim; nothing was recorded."))
    if isinstance(form, ObjectionForm):
        return _claim_page(form.claim.data or "", objection=form, status=400)
    return _claim_page(form.claim.data or "", appeal=form, status=400)


def _posted_claim(pool: PoolService, claim_id: str) -> ClaimView:
    view = pool.claim(claim_id)
    if view is None:
        abort(404, description=_("There is no claim %(claim)s.", claim=claim_id))
    return view


@member.post("/claims/object")
@member_required
def claim_object() -> Page:
    form = ObjectionForm()
    claim_id = form.claim.data or ""
    author = getattr(current_account(), "member_id", None)
    concern(form, current_pool().concerned(claim=claim_id, member=author))
    refused = _refused_claim_form(form)
    if refused is not None:
        return refused
    member_id, _view = _active_member()
    pool = current_pool()
    view = _posted_claim(pool, claim_id)
    if view.member == member_id:
        abort(403, description=_("You cannot object to your own claim."))
    until = view.objections_until
    if view.stage is not Stage.NOTICED or until is None or pool.now() > until:
        if until is None:
            refusal = _(
                "Claim %(claim)s is not open to objections now. Nothing was recorded.",
                claim=claim_id,
            )
        else:
            refusal = _(
                "Claim %(claim)s is not open to objections now. It closed at %(when)s. "
                "Nothing was recorded.",
                claim=claim_id,
                when=i18n.datetime(until),
            )
        abort(409, description=refusal)
    submission = Submission(form.submission.data or "", SubmissionKind.OBJECTION, member_id)
    try:
        seq = pool.file_objection(claim_id, member_id, form.text.data or "", submission)
    except AlreadySubmittedError as e:
        return _sent_before(
            member_id,
            e,
            _(
                "Your objection is already in the log, entry %(seq)d; it was not recorded again.",
                seq=e.previous.seq,
            ),
        )
    except RuleViolation as e:
        refuse_rule(e)
    flash(
        _(
            "Your objection to claim %(claim)s is in the log, entry %(seq)d.",
            claim=claim_id,
            seq=seq,
        ),
        "success",
    )
    return redirect(url_for("member.dashboard"))


@member.post("/claims/appeal")
@member_required
def claim_appeal() -> Page:
    form = AppealForm()
    claim_id = form.claim.data or ""
    concern(form, current_pool().concerned(claim=claim_id))
    refused = _refused_claim_form(form)
    if refused is not None:
        return refused
    member_id = _member_id()
    pool = current_pool()
    view = _posted_claim(pool, claim_id)
    if view.member != member_id:
        abort(403, description=_("Only the claimant may appeal a decision on a claim."))
    if view.stage is not Stage.REJECTED or view.appeal:
        appealed = view.appeal or view.stage is Stage.APPEALED
        if appealed:
            refusal = _(
                "Only a rejected claim can be appealed, once; it has been appealed once "
                "already. Nothing was recorded."
            )
        else:
            refusal = _(
                "Only a rejected claim can be appealed, once; it is %(stage)s. "
                "Nothing was recorded.",
                stage=i18n.stage(view.stage.value),
            )
        abort(409, description=refusal)
    try:
        pool.appeal(claim_id, form.reason.data or "")
    except PoolRefusedError as e:
        abort(409, description=refusal(e))
    except RuleViolation as e:
        refuse_rule(e)
    flash(
        _(
            "Your appeal of claim %(claim)s is in the log. A new, larger panel will be drawn.",
            claim=claim_id,
        ),
        "success",
    )
    return redirect(url_for("member.dashboard"))


@member.get("/claims/<claim_id>/evidence/<document:number>")
@member_required
def claim_evidence(claim_id: str, number: int) -> Page:
    account = current_account()
    view = current_pool().claim(claim_id)
    # 404 for anyone but the claimant: the answer must not say whose claim it is.
    if view is None or account is None or account.member_id != view.member:
        abort(404, description=_("You have no claim with this document."))
    return document_response(claim_id, number)
