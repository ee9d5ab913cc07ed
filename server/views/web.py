"""Blueprint ``web``: the pages members use — home, register, sign in and
out, the member's dashboard, joining and leaving the pool, filing a claim
and following it, objecting to a notice, appealing a rejection, and the
jurors' pages — plus the stylesheet under ``/static``.

Views parse the form, call the pool (:mod:`server.pool_service`) or the
private store, and render.  Errors are HTML pages (:mod:`server.web_errors`):
a refusal that depends on who asks is 403 (404 where even saying the thing
exists would say too much), one that depends on the pool's state is 409,
and bad input re-shows the form with its errors and 400 (413 for a document
that is too large).  A refused request appends nothing and stores nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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
from server.context import current_log
from server.forms import LoginForm, RegisterForm, as_sentence
from server.juror_forms import CastForm, VoteForm, seal_vote_form, vote_form_matches
from server.member_forms import (
    AppealForm,
    ClaimForm,
    JoinForm,
    LeaveForm,
    ObjectionForm,
)
from server.pool_app import current_pool
from server.pool_figures import current_figures, yuan
from server.pool_service import PoolRefusedError, PoolService, VoteRefusedError
from server.private.accounts import Account, Role
from server.private.errors import (
    AlreadyJoinedError,
    AlreadyVotedError,
    InvalidInputError,
    LoginRefusedError,
    LoginThrottledError,
    UsernameTakenError,
)
from server.private.evidence import (
    ALLOWED_TYPES,
    MAX_DOCUMENT_SIZE,
    EvidenceDocument,
    Upload,
    list_evidence,
)
from server.rosters import member_deductions
from server.web_errors import add_html_errors
from verifiable.errors import RuleViolation
from verifiable.log.bodies import AgeBand, Body, Choice, ClaimAnswered, ClaimObjected, LeaveReason
from verifiable.log.entry import parse_entry
from verifiable.pool.log_index import ClaimRecord
from verifiable.pool.state import ClaimView, MemberView, Stage

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
    account = current_account()
    assert account is not None
    member_id = account.member_id
    pool = current_pool()
    if member_id is None:
        return render_template("dashboard.html", account=account, member=None, left=False)
    state = pool.state()
    log = current_log()
    claims = [c for c in state.claims() if c.member == member_id]
    return render_template(
        "dashboard.html",
        account=account,
        member=state.member(member_id),
        left=state.has_left(member_id),
        deductions=member_deductions(pool, member_id),
        claims=claims,
        origin=log.origin,
        vkey=log.verifier().to_vkey(),
        log_url=request.host_url.rstrip("/"),
    )


# --- members: join, leave, file a claim, follow it, object, appeal ----------------


def _member_id() -> str:
    """The signed-in account's member id; 403 for an account that has not joined."""
    account = current_account()
    if account is None or account.member_id is None:
        abort(403, description="Only members of the pool can do this: join the pool first.")
    return account.member_id


def _active_member() -> tuple[str, MemberView]:
    """The signed-in member, who must still be in the pool (409 after leaving)."""
    member_id = _member_id()
    view = current_pool().state().member(member_id)
    if view is None:
        abort(409, description="You have left the pool: your membership has ended.")
    return member_id, view


def _refuse_rule(e: RuleViolation) -> NoReturn:
    abort(409, description=f"The pool's rules refuse this: {e}. Nothing was recorded.")


@web.route("/join", methods=["GET", "POST"])
@member_required
def join() -> Page:
    account = current_account()
    assert account is not None
    if account.member_id is not None:
        if request.method == "GET":
            flash("You are already a member of the pool.", "info")
            return redirect(url_for("web.dashboard"))
        abort(
            403,
            description=f"You have already joined the pool, as member {account.member_id}. "
            "An account joins once; nothing was changed.",
        )
    form = JoinForm()
    if not form.validate_on_submit():
        return render_template("member/join.html", form=form), 400 if form.is_submitted() else 200
    band = AgeBand(form.age_band.data)
    try:
        member_id = current_pool().join(account.id, form.details(), band)
    except AlreadyJoinedError:
        abort(403, description="This account has already joined the pool; nothing was changed.")
    except PoolRefusedError as e:
        _add_error(form.age_band, as_sentence(str(e)))
        return render_template("member/join.html", form=form), 400
    except RuleViolation as e:
        _refuse_rule(e)
    flash(
        f"Welcome to the pool. Your pseudonymous member id is {member_id}: the public log "
        "knows you only by it.",
        "success",
    )
    return redirect(url_for("web.dashboard"))


@web.route("/leave", methods=["GET", "POST"])
@member_required
def leave() -> Page:
    member_id, member = _active_member()
    form = LeaveForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("member/leave.html", form=form, member=member), status
    reason = LeaveReason.WAITING_PERIOD if member.ending else LeaveReason.VOLUNTARY
    try:
        left = current_pool().leave(member_id, reason)
    except PoolRefusedError:
        abort(409, description="You have left the pool already; nothing was changed.")
    except RuleViolation as e:
        _refuse_rule(e)
    refund = f" Your past shares, {yuan(left.refund)}, are refunded." if left.refund else ""
    flash(f"You have left the pool.{refund}", "success")
    return redirect(url_for("web.dashboard"))


def _claim_form() -> tuple[ClaimForm, MemberView, str]:
    member_id, member = _active_member()
    pool = current_pool()
    rules = pool.state().rules_at(pool.now())
    assert rules is not None  # a member exists, so the pool has started
    form = ClaimForm(rules.categories, pool.now().date())
    return form, member, member_id


def _render_claim_form(form: ClaimForm, member: MemberView, status: int) -> Page:
    pool = current_pool()
    rules = pool.state().rules_at(pool.now())
    assert rules is not None
    cap = rules.cap(member.band)
    return render_template("member/claim_new.html", form=form, member=member, cap=cap), status


@web.route("/claims/new", methods=["GET", "POST"])
@member_required
def claim_new() -> Page:
    form, member, member_id = _claim_form()
    if member.ending:
        abort(
            409,
            description="A claim of yours was decided ineligible (illness inside the waiting "
            "period): your membership is ending, and you may only leave the pool.",
        )
    if not form.validate_on_submit():
        return _render_claim_form(form, member, 400 if form.is_submitted() else 200)
    pool = current_pool()
    now = pool.now()
    rules = pool.state().rules_at(now)
    assert rules is not None and form.diagnosed.data is not None
    diagnosed = form.diagnosed.data
    cap = rules.cap(member.band)
    if cap is None or form.fen > cap:
        most = "no cover" if cap is None else f"at most {yuan(cap)}"
        _add_error(form.amount, f"The plan gives {most} for your age band ({member.band.value}).")
        return _render_claim_form(form, member, 400)
    if (now.date() - diagnosed).days > rules.filing_days:
        _add_error(
            form.diagnosed,
            f"A claim is filed within {rules.filing_days} days of the diagnosis.",
        )
        return _render_claim_form(form, member, 400)
    for earlier in pool.state().claims():
        if earlier.member == member_id and _same_claim(earlier, form, diagnosed):
            abort(
                409,
                description=f"You have already filed this claim (claim {earlier.id}); it was "
                "not filed again. Follow it from your dashboard.",
            )
    uploads = []
    for n, upload in enumerate(form.evidence.data, start=1):
        content = upload.stream.read(MAX_DOCUMENT_SIZE + 1)
        if len(content) > MAX_DOCUMENT_SIZE:
            _add_error(
                form.evidence,
                f"Document {n} is larger than {MAX_DOCUMENT_SIZE // (1024 * 1024)} MiB.",
            )
            return _render_claim_form(form, member, 413)
        uploads.append(Upload(content, upload.mimetype or "", upload.filename or None))
    try:
        claim_id = pool.file_claim(
            member_id, form.category.data or "", form.fen, diagnosed, uploads
        )
    except InvalidInputError as e:
        _add_error(form.evidence, as_sentence(e.message))
        return _render_claim_form(form, member, 400)
    except PoolRefusedError as e:
        abort(409, description=as_sentence(str(e)))
    except RuleViolation as e:
        _refuse_rule(e)
    flash(
        f"Your claim {claim_id} is filed. The operator reviews it and publishes a redacted "
        "notice; follow it below.",
        "success",
    )
    return redirect(url_for("web.dashboard"))


def _same_claim(earlier: ClaimView, form: ClaimForm, diagnosed: object) -> bool:
    # A form sent twice (a double click, a reload) carries the same claim;
    # the log has only the filed figures to tell, not the documents' bytes.
    claim = current_figures().claim(earlier.id)
    filed = _entry_body(claim.record.filed_seq) if claim is not None else None
    return (
        earlier.category == form.category.data
        and earlier.requested == form.fen
        and getattr(filed, "diagnosed", None) == diagnosed
    )


def _entry_body(seq: int) -> Body:
    data = current_pool().store.entry(seq)
    if data is None:
        abort(404, description=f"The log has no entry {seq}.")
    return parse_entry(data, seq=seq).body


@dataclass(frozen=True)
class Step:
    """One step of a claim's life as its status page shows it."""

    label: str
    state: str  # "done", "current" or "pending"
    detail: str
    seqs: tuple[int, ...] = ()


def _steps(view: ClaimView, record: ClaimRecord, now: datetime) -> list[Step]:
    notice, paid = record.notice, record.paid
    steps = [
        Step(
            "Filed",
            "done",
            f"{yuan(view.requested)} requested for {view.category.replace('_', ' ')}, "
            f"{record.documents} document{'s' if record.documents != 1 else ''} committed.",
            (record.filed_seq,),
        )
    ]
    if view.waiting:
        steps.append(
            Step("Notice", "done", "No notice: the illness began inside the waiting period.")
        )
    elif notice is None:
        steps.append(Step("Notice", "current", "The operator reviews the claim and writes it."))
    else:
        steps.append(
            Step("Notice", "done", f"Published; aid proposed {yuan(notice.amount)}.", (notice.seq,))
        )
    if notice is not None:
        open_ = now <= notice.objections_until and view.stage is Stage.NOTICED
        until = notice.objections_until.strftime("%Y-%m-%d %H:%M UTC")
        count = len(record.objections)
        steps.append(
            Step(
                "Objections",
                "current" if open_ else "done",
                f"{count} objection{'s' if count != 1 else ''}, {len(record.answers)} answered; "
                + (f"open until {until}." if open_ else f"closed {until}."),
                (*record.objections, *record.answers),
            )
        )
    else:
        steps.append(Step("Objections", "pending", "Members may object once the notice is out."))
    for panel in record.panels:
        kind = "Appeal panel" if panel.appeal else "Panel"
        steps.append(
            Step(
                f"{kind}, round {panel.round}",
                "done",
                f"{len(panel.jurors)} jurors drawn; voting until "
                f"{panel.votes_until.strftime('%Y-%m-%d %H:%M UTC')}; {len(panel.sealed)} votes "
                f"sealed, {len(panel.revealed)} revealed.",
                (panel.seq,),
            )
        )
    if not record.panels:
        steps.append(Step("Panel and vote", "pending", "Jurors are drawn after the notice."))
    elif view.stage is Stage.VOTING:
        steps.append(
            Step("Vote", "current", "The panel is voting; votes stay sealed until the close.")
        )
    for decision in record.decisions:
        tally = f"{decision.approvals} approve, {decision.rejections} reject"
        amount = f"; aid {yuan(decision.amount)}" if decision.amount else ""
        steps.append(
            Step(
                "Decision",
                "done",
                f"{decision.outcome.value.replace('_', ' ')} ({tally}){amount}.",
                (decision.seq,),
            )
        )
    if not record.decisions:
        steps.append(Step("Decision", "pending", "The revealed votes decide."))
    for seq in record.appeals:
        steps.append(Step("Appeal", "done", "The claimant appealed the rejection.", (seq,)))
    if paid is not None:
        steps.append(
            Step(
                "Payout",
                "done",
                f"{yuan(paid.amount)} paid, shared in the period of {paid.period.isoformat()}.",
                (paid.seq,),
            )
        )
    elif view.stage is Stage.APPROVED:
        steps.append(Step("Payout", "current", "Approved: the operator pays it."))
    else:
        steps.append(Step("Payout", "pending", "Only an approved claim is paid."))
    if record.withdrawn_seq is not None:
        steps.append(Step("Withdrawn", "done", "Closed by the operator.", (record.withdrawn_seq,)))
    return steps


@dataclass(frozen=True)
class ObjectionText:
    seq: int
    member: str
    text: str
    answer: str | None


def _objections(view: ClaimView) -> list[ObjectionText]:
    answers: dict[int, str] = {}
    figures = current_figures().claim(view.id)
    for seq in figures.record.answers if figures is not None else ():
        body = _entry_body(seq)
        if isinstance(body, ClaimAnswered):
            answers[body.objection] = body.text
    out = []
    for seq in view.objection_seqs:
        body = _entry_body(seq)
        if isinstance(body, ClaimObjected):
            out.append(ObjectionText(seq, body.member, body.text, answers.get(seq)))
    return out


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
        abort(404, description=f"There is no claim {claim_id}.")
    view, now = figures.view, pool.now()
    member_id = account.member_id
    mine = member_id is not None and view.member == member_id
    active = member_id is not None and pool.state().member(member_id) is not None
    notice = figures.record.notice
    can_object = (
        active
        and not mine
        and view.stage is Stage.NOTICED
        and notice is not None
        and now <= notice.objections_until
    )
    can_appeal = mine and view.stage is Stage.REJECTED and not view.appeal
    documents: list[EvidenceDocument] = (
        list_evidence(current_log().engine, claim_id) if mine else []
    )
    return (
        render_template(
            "member/claim.html",
            view=view,
            record=figures.record,
            steps=_steps(view, figures.record, now),
            objections=_objections(view),
            mine=mine,
            documents=documents,
            objection_form=(objection or ObjectionForm(data={"claim": claim_id}))
            if can_object
            else None,
            appeal_form=(appeal or AppealForm(data={"claim": claim_id})) if can_appeal else None,
        ),
        status,
    )


@web.get("/claims/<claim_id>")
@member_required
def claim_status(claim_id: str) -> Page:
    return _claim_page(claim_id)


def _refused_claim_form(form: ObjectionForm | AppealForm) -> Page | None:
    """The claim page again (400) for a claim form that does not validate;
    a form that names no valid claim is a bare 400."""
    if form.validate_on_submit():
        return None
    if form.claim.errors:
        abort(400, description="This form does not name a valid claim; nothing was recorded.")
    if isinstance(form, ObjectionForm):
        return _claim_page(form.claim.data or "", objection=form, status=400)
    return _claim_page(form.claim.data or "", appeal=form, status=400)


def _posted_claim(pool: PoolService, claim_id: str) -> ClaimView:
    view = pool.claim(claim_id)
    if view is None:
        abort(404, description=f"There is no claim {claim_id}.")
    return view


@web.post("/claims/object")
@member_required
def claim_object() -> Page:
    form = ObjectionForm()
    claim_id = form.claim.data or ""
    refused = _refused_claim_form(form)
    if refused is not None:
        return refused
    member_id, _ = _active_member()
    pool = current_pool()
    view = _posted_claim(pool, claim_id)
    if view.member == member_id:
        abort(403, description="You cannot object to your own claim.")
    until = view.objections_until
    if view.stage is not Stage.NOTICED or until is None or pool.now() > until:
        when = f" It closed at {until.strftime('%Y-%m-%d %H:%M UTC')}." if until else ""
        abort(
            409,
            description=f"Claim {claim_id} is not open to objections now.{when} "
            "Nothing was recorded.",
        )
    text = form.text.data or ""
    for earlier in _objections(view):
        if earlier.member == member_id and earlier.text == text:
            abort(
                409,
                description=f"You have already made this objection (log entry {earlier.seq}); "
                "it was not recorded again.",
            )
    try:
        seq = pool.file_objection(claim_id, member_id, text)
    except RuleViolation as e:
        _refuse_rule(e)
    flash(f"Your objection to claim {claim_id} is in the log, entry {seq}.", "success")
    return redirect(url_for("web.dashboard"))


@web.post("/claims/appeal")
@member_required
def claim_appeal() -> Page:
    form = AppealForm()
    claim_id = form.claim.data or ""
    refused = _refused_claim_form(form)
    if refused is not None:
        return refused
    member_id = _member_id()
    pool = current_pool()
    view = _posted_claim(pool, claim_id)
    if view.member != member_id:
        abort(403, description="Only the claimant may appeal a decision on a claim.")
    if view.stage is not Stage.REJECTED or view.appeal:
        appealed = view.appeal or view.stage is Stage.APPEALED
        why = "it has been appealed once already" if appealed else f"it is {view.stage.value}"
        abort(
            409,
            description=f"Only a rejected claim can be appealed, once; {why}. "
            "Nothing was recorded.",
        )
    try:
        pool.appeal(claim_id, form.reason.data or "")
    except PoolRefusedError as e:
        abort(409, description=as_sentence(str(e)))
    except RuleViolation as e:
        _refuse_rule(e)
    flash(
        f"Your appeal of claim {claim_id} is in the log. A new, larger panel will be drawn.",
        "success",
    )
    return redirect(url_for("web.dashboard"))


def _document_response(claim_id: str, position: int) -> BaseResponse:
    stored = current_pool().evidence_document(claim_id, position)
    if stored is None:
        abort(404, description="There is no such document, or it was erased.")
    kind = stored.document.content_type
    if kind not in ALLOWED_TYPES:
        kind = "application/octet-stream"
    extension = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}.get(kind, "bin")
    response = current_app.response_class(stored.content, mimetype=kind)
    # A generated name: the uploaded one may carry personal details or
    # characters a header must not hold.
    name = f"claim-{claim_id}-document-{position + 1}.{extension}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@web.get("/claims/<claim_id>/evidence/<int:position>")
@member_required
def claim_evidence(claim_id: str, position: int) -> Page:
    account = current_account()
    view = current_pool().claim(claim_id)
    # 404 for anyone but the claimant: the answer must not say whose claim it is.
    if view is None or account is None or account.member_id != view.member:
        abort(404, description="You have no claim with this document.")
    return _document_response(claim_id, position)


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
    documents = list_evidence(current_log().engine, claim_id) if view.stage is Stage.VOTING else []
    return render_template(
        "juror/case.html",
        view=view,
        notice=pool.notice(claim_id),
        form=form,
        voted=voted,
        documents=documents,
    )


@web.get("/juror/claims/<claim_id>/evidence/<int:position>")
@member_required
def juror_evidence(claim_id: str, position: int) -> Page:
    juror = _juror_id()
    view = current_pool().claim(claim_id)
    if view is None or juror not in view.jurors or view.stage is not Stage.VOTING:
        abort(
            403,
            description="Only the drawn jurors of this claim's panel may read its evidence, "
            "while the panel votes.",
        )
    return _document_response(claim_id, position)


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
