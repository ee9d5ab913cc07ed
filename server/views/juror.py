"""Blueprint ``juror``: a juror's pages — the open panels, a claim's case
with its evidence while the panel votes, the vote form with its confirm
step, and the receipt of a sealed vote.

The pool (:mod:`server.pool_service`) checks and seals the vote; the forms
and the confirm step's seal are :mod:`server.juror_forms`.  A juror is a
member: an account that has not joined is refused (403), as is a member
not drawn on the claim's panel; a receipt is the voter's own (404 to
anyone else).  Errors are HTML pages (:mod:`server.web_errors`).

The landing page lists the open votes with the time left on the pool's
clock, and the receipt page prints the commands that check the receipt,
naming it as its download does (:mod:`server.presenters.juror`).
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
    url_for,
)
from flask_babel import gettext

from server.auth import member_required
from server.context import current_log
from server.juror_forms import CastForm, VoteForm, seal_vote_form, vote_form_matches
from server.log_texts import concern
from server.pool_app import current_pool
from server.pool_figures import current_figures
from server.pool_service import VoteRefusedError
from server.presenters.claim import ObjectionText, objection_texts
from server.presenters.criteria import approval_criteria
from server.presenters.juror import receipt_commands, receipt_filename, time_left
from server.presenters.refusals import refusal, rule_refusal
from server.private.errors import AlreadyVotedError
from server.private.evidence import list_evidence
from server.private.submissions import (
    AlreadySubmittedError,
    Submission,
    SubmissionKind,
    new_token,
)
from server.views.pages import Page, entry_body, signed_in_member
from server.web_errors import add_html_errors, keeps_input
from verifiable.errors import RuleViolation
from verifiable.log.bodies import Choice, VoteSealed
from verifiable.pool.state import Stage

__all__ = ["juror"]

juror = Blueprint("juror", __name__)
add_html_errors(juror)

_REFUSAL_STATUS = {"unknown_claim": 404, "not_juror": 403}


def _(text: str, **values: object) -> str:
    """``text`` in the page's language (Flask-Babel's ``gettext``, typed)."""
    return str(gettext(text, **values))


def _juror_id() -> str:
    return signed_in_member(_("Only members of the pool can be jurors: join the pool first."))


def _refuse_vote(e: VoteRefusedError) -> NoReturn:
    abort(_REFUSAL_STATUS.get(e.reason, 409), description=refusal(e))


def _vote_fields(form: VoteForm) -> tuple[str, int, str, str]:
    return (
        form.claim.data or "",
        int(form.round.data or 0),
        form.choice.data or "",
        form.reason.data or "",  # as the log will hold it (juror_forms)
    )


def _secret() -> str | bytes:
    secret = current_app.secret_key
    assert secret  # a signed-in session needs the key, so it is loaded
    return secret


@juror.get("/juror")
@member_required
def panels() -> Page:
    juror_id = _juror_id()
    pool = current_pool()
    now = pool.now()
    open_panels = [
        (
            view,
            pool.has_voted(view.id, view.round, juror_id),
            time_left(view.votes_until, now) if view.votes_until else "",
        )
        for view in pool.open_panels(juror_id)
    ]
    return render_template("juror/index.html", panels=open_panels, now=now)


def _case_page(juror_id: str, claim_id: str, form: VoteForm | None = None) -> Page:
    """The claim's case with the vote form: a fresh one, or ``form`` as it was
    sent and refused (400), with what the juror typed."""
    pool = current_pool()
    view = pool.claim(claim_id)
    if view is None or juror_id not in view.jurors:
        abort(403, description=_("You are not on a panel of this claim."))
    voted = pool.has_voted(view.id, view.round, juror_id)
    documents = list_evidence(current_log().engine, claim_id) if view.stage is Stage.VOTING else []
    left = time_left(view.votes_until, pool.now()) if view.votes_until else ""
    page = render_template(
        "juror/case.html",
        view=view,
        notice=pool.notice(claim_id),
        objections=_objections(claim_id),
        criteria=approval_criteria(view),
        form=form or VoteForm(data={"claim": view.id, "round": view.round}),
        voted=voted,
        documents=documents,
        left=left,
    )
    return page if form is None else (page, 400)


def _objections(claim_id: str) -> list[ObjectionText]:
    """The claim's objections and answers, as the public claim page shows
    them: the texts, never who wrote them."""
    found = current_figures().claim(claim_id)
    if found is None:
        return []
    record = found.record
    answers = [entry_body(seq) for seq in record.answers]
    return objection_texts([(seq, entry_body(seq)) for seq in record.objections], answers)


def _refused_form(juror_id: str, form: VoteForm) -> Page:
    """A vote form that did not validate (an expired page, a missing choice):
    the case page again with what was typed, if the claim is one the juror
    may still vote on; else the list of what was wrong.  Nothing is cast."""
    claim = form.claim.data or ""
    if not form.claim.errors and not form.round.errors:
        view = current_pool().claim(claim)
        if view is not None and juror_id in view.jurors and view.round == form.round.data:
            return _case_page(juror_id, claim, form)
    return render_template("juror/invalid.html", form=form), 400


@juror.get("/juror/claims/<claim_id>")
@member_required
def case(claim_id: str) -> Page:
    return _case_page(_juror_id(), claim_id)


@juror.post("/juror/vote")
@keeps_input
@member_required
def review() -> Page:
    juror_id = _juror_id()
    form = VoteForm()
    concern(form, current_pool().concerned(claim=form.claim.data or "", member=juror_id))
    if not form.validate_on_submit():
        return _refused_form(juror_id, form)
    claim, round_, choice, reason = _vote_fields(form)
    try:
        view = current_pool().check_can_vote(claim, round_, juror_id)
    except VoteRefusedError as e:
        _refuse_vote(e)
    token = seal_vote_form(_secret(), claim, round_, juror_id, choice, reason)
    cast_form = CastForm(data={"claim": claim, "round": round_, "choice": choice, "reason": reason})
    cast_form.token.data = token
    cast_form.submission.data = new_token()
    return render_template(
        "juror/confirm.html", view=view, form=cast_form, choice=choice, reason=reason
    )


@juror.post("/juror/vote/cast")
@keeps_input
@member_required
def cast() -> Page:
    juror_id = _juror_id()
    form = CastForm()
    concern(form, current_pool().concerned(claim=form.claim.data or "", member=juror_id))
    if not form.validate_on_submit():
        return _refused_form(juror_id, form)
    claim, round_, choice, reason = _vote_fields(form)
    if not vote_form_matches(
        _secret(), form.token.data or "", claim, round_, juror_id, choice, reason
    ):
        abort(
            400,
            description=_(
                "This vote does not match the one you reviewed: the form was changed "
                "after the confirm step. Nothing was recorded; open the claim and vote again."
            ),
        )
    submission = Submission(form.submission.data or "", SubmissionKind.VOTE, juror_id)
    try:
        current_pool().seal_vote(claim, round_, juror_id, Choice(choice), reason, submission)
    except AlreadySubmittedError as e:
        return _sealed_before(juror_id, e)
    except VoteRefusedError as e:
        _refuse_vote(e)
    except AlreadyVotedError:
        abort(
            409,
            description=_(
                "You have already voted on claim %(claim)s in round %(round)d.",
                claim=claim,
                round=round_,
            ),
        )
    except RuleViolation as e:
        abort(409, description=rule_refusal(e))
    flash(_("Your vote is sealed in the log. Download your receipt and keep it."), "success")
    return redirect(url_for("juror.receipt", claim_id=claim, round_=round_))


def _sealed_before(juror_id: str, e: AlreadySubmittedError) -> Page:
    """The answer to a vote cast twice: the first cast's receipt."""
    previous = e.previous
    if previous.submitter != juror_id:
        abort(409, description=_("This form was sent already; nothing was recorded."))
    sealed = entry_body(previous.seq)
    assert isinstance(sealed, VoteSealed)
    flash(
        _(
            "Your vote was already sealed in the log, in entry %(seq)d; it was not cast twice.",
            seq=previous.seq,
        ),
        "info",
    )
    return redirect(url_for("juror.receipt", claim_id=previous.claim, round_=sealed.round))


@juror.get("/juror/claims/<claim_id>/<round:round_>/receipt")
@member_required
def receipt(claim_id: str, round_: int) -> Page:
    sealed = current_pool().receipt(claim_id, round_, _juror_id())
    if sealed is None:
        abort(404, description=_("You have no sealed vote on this claim in this round."))
    log = current_log()
    filename = receipt_filename(claim_id, round_)
    commands = receipt_commands(
        log.origin, log.verifier().to_vkey(), log.settings.public_url, filename
    )
    return render_template(
        "juror/receipt.html", receipt=sealed, filename=filename, commands=commands
    )


@juror.get("/juror/claims/<claim_id>/<round:round_>/receipt.json")
@member_required
def receipt_file(claim_id: str, round_: int) -> Page:
    sealed = current_pool().receipt(claim_id, round_, _juror_id())
    if sealed is None:
        abort(404, description=_("You have no sealed vote on this claim in this round."))
    response = jsonify(sealed.to_json())
    filename = receipt_filename(claim_id, round_)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# The redacted copies' page images, the only evidence a juror is served.
from server.views import juror_documents  # noqa: E402, F401
