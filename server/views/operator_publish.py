"""The operator's pages that publish a text to the permanent log — a claim's
notice, an answer to an objection, an override, an erasure — each in two
steps, as a juror's vote is (:mod:`server.views.juror`).

1. The form posts to its first step (``operator.notice``,
   ``operator.answer``, ``operator.override``, ``operator.erase``): the
   text is taken as the log will hold it (:func:`server.log_texts.log_text`:
   normalised, the log's rules, then the private-data guard, with the
   members the text concerns, read from the private store), and the page
   shows it exactly so, with the other fields of the entry, and a button
   that publishes it.  Nothing is appended.
2. The confirm step (``operator.notice_confirmed`` ...) takes the same
   fields again, checks them again the same way, and calls the pool, which
   checks them a last time before appending.  Its "Change it" button goes
   back to the form with the text as it was.

Part of the ``operator`` blueprint (:mod:`server.views.operator`), whose
before-request hook lets only operators in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import render_template, request, url_for
from flask_babel import gettext

from server import i18n
from server.log_texts import concern
from server.notice_words import fact_rows
from server.operator_forms import AnswerForm, ErasureForm, NoticeForm, OverrideForm
from server.pool.notice_facts import NoticeDetails
from server.pool_app import current_pool
from server.presenters.operator import said
from server.views.operator import (
    Page,
    _account_id,
    _case,
    _claim_form,
    _claim_page,
    _done,
    _refusal,
    _status,
    operator,
)
from server.web_errors import keeps_input
from verifiable.errors import MutualogError
from verifiable.log.bodies import ErasedKind
from verifiable.log.notice_facts import HospitalGrade

__all__: list[str] = []


def _(text: str, **values: object) -> str:
    """``text`` in the page's language (Flask-Babel's ``gettext``, typed)."""
    return str(gettext(text, **values))


def _editing() -> bool:
    """Whether the confirm step's "Change it" button sent the form."""
    return "edit" in request.form


def _preview(
    heading: str,
    confirm: str,
    rows: Sequence[tuple[str, str, bool]],
    text: tuple[str, str],
    hidden: Sequence[tuple[str, str]],
    extra: Sequence[tuple[str, str, str]] = (),
) -> Page:
    """The preview: ``rows`` (label, value as logged, whether it is a code:
    an id, an action), the text as the log will hold it, any ``extra``
    texts (field name, label, text as logged: a notice's summary), and the
    form that publishes them to ``confirm``."""
    return render_template(
        "operator/preview.html",
        heading=heading,
        confirm=confirm,
        rows=rows,
        text_name=text[0],
        text=text[1],
        hidden=hidden,
        extra_texts=extra,
    )


# --- a claim's notice and answers ----------------------------------------------------


def _notice_form(first: bool) -> tuple[NoticeForm, str, Page | None]:
    """The posted notice form, its claim, and the page to answer instead
    (refused, or the editing page again) if there is one."""
    form = NoticeForm()
    concern(form, current_pool().concerned(claim=form.claim.data or ""))
    form, claim_id, refused = _claim_form(form, _("The notice was not published."))
    if refused is not None:
        return form, claim_id, refused
    if not first and _editing():
        return form, claim_id, _claim_page(claim_id, notice=form)
    view = _case(claim_id).claim
    # The pool refuses more than the request within the cap too, in fen; the
    # field says it in yuan, next to what was typed.
    limit = min(view.requested, view.rules.cap(view.band) or view.requested)
    if form.amount.fen is not None and form.amount.fen > limit:
        message = _(
            "At most %(amount)s: the amount requested, within the plan's cap.",
            amount=i18n.yuan(limit),
        )
        form.amount.errors = [message]
        return (
            form,
            claim_id,
            _claim_page(claim_id, 400, _("The notice was not published."), notice=form),
        )
    return form, claim_id, None


@operator.post("/actions/notice")
@keeps_input
def notice() -> Page:
    """The first step: the notice as the log will hold it, to confirm."""
    form, claim_id, page = _notice_form(first=True)
    if page is not None:
        return page
    view = _case(claim_id).claim
    # Left empty, the aid is the amount requested within the cap (the pool's default).
    most = min(view.requested, view.rules.cap(view.band) or view.requested)
    amount = form.amount.fen if form.amount.fen is not None else most
    rows = [(_("Claim"), claim_id, True), (_("Aid proposed"), i18n.yuan(amount), False)]
    details = _notice_details(form)
    extra: list[tuple[str, str, str]] = []
    try:
        # Refused here already, not only at the confirm step, while a
        # document has no redacted copy for the panel.
        current_pool().redacted_for_notice(claim_id)
        if details is not None:
            facts = current_pool().notice_facts(claim_id, details)
            rows += [(label, value, False) for _id, label, value in fact_rows(facts)]
            extra.append(("summary", _("Investigation summary"), details.summary))
    except MutualogError as e:
        return _claim_page(claim_id, _status(e), _refusal(e), notice=form)
    return _preview(
        _("Publish this notice?"),
        url_for("operator.notice_confirmed"),
        rows,
        ("text", form.text.data or ""),
        [
            ("claim", claim_id),
            ("amount", form.amount.data or ""),
            ("grade", form.grade.data or ""),
            ("province", form.province.data or ""),
        ],
        extra,
    )


def _notice_details(form: NoticeForm) -> NoticeDetails | None:
    """The structured facts the operator gave (the form checked they come
    whole), or ``None``."""
    if not form.grade.data:
        return None
    return NoticeDetails(
        HospitalGrade(form.grade.data), form.province.data or "", form.summary.data or ""
    )


@operator.post("/actions/notice/confirm")
@keeps_input
def notice_confirmed() -> Page:
    """The second step: publish the notice confirmed."""
    form, claim_id, page = _notice_form(first=False)
    if page is not None:
        return page
    try:
        body = current_pool().publish_notice(
            claim_id, form.text.data or "", form.amount.fen, _notice_details(form)
        )
    except MutualogError as e:
        return _claim_page(claim_id, _status(e), _refusal(e), notice=form)
    return _done(said(claim_id, body))


def _answer_form(first: bool) -> tuple[AnswerForm, str, Page | None]:
    form = AnswerForm()
    objection = form.objection.data or ""
    concerned = current_pool().concerned(
        claim=form.claim.data or "", objection=int(objection) if objection.isdigit() else None
    )
    concern(form, concerned)
    form, claim_id, refused = _claim_form(form, _("The answer was not published."))
    if refused is None and not first and _editing():
        refused = _claim_page(claim_id, answer=form)
    return form, claim_id, refused


@operator.post("/actions/answer")
@keeps_input
def answer() -> Page:
    """The first step: the answer as the log will hold it, to confirm."""
    form, claim_id, page = _answer_form(first=True)
    if page is not None:
        return page
    objection = form.objection.data or ""
    return _preview(
        _("Publish this answer?"),
        url_for("operator.answer_confirmed"),
        [(_("Claim"), claim_id, True), (_("Objection (entry)"), objection, False)],
        ("text", form.text.data or ""),
        [("claim", claim_id), ("objection", objection)],
    )


@operator.post("/actions/answer/confirm")
@keeps_input
def answer_confirmed() -> Page:
    """The second step: publish the answer confirmed."""
    form, claim_id, page = _answer_form(first=False)
    if page is not None:
        return page
    objection = int(form.objection.data or 0)
    try:
        seq = current_pool().answer(claim_id, objection, form.text.data or "")
    except MutualogError as e:
        return _claim_page(claim_id, _status(e), _refusal(e), answer=form)
    return _done(
        _(
            "Objection %(objection)d to claim %(claim)s answered in entry %(seq)d.",
            objection=objection,
            claim=claim_id,
            seq=seq,
        )
    )


# --- overrides and erasures ---------------------------------------------------------


def _page_form(form: OverrideForm | ErasureForm, template: str, first: bool) -> Page | None:
    """The form's own page again if the form does not validate (400) or the
    confirm step's "Change it" sent it; else ``None``."""
    if not form.validate_on_submit():
        page = render_template(template, form=form)
        return (page, 400) if form.is_submitted() else page
    if not first and _editing():
        return render_template(template, form=form)
    return None


def _override_form(first: bool) -> tuple[OverrideForm, Page | None]:
    form = OverrideForm()
    if form.is_submitted():  # a GET only shows the form
        concern(form, current_pool().concerned(target=(form.target.data or "").strip()))
    return form, _page_form(form, "operator/override.html", first)


@operator.route("/override", methods=["GET", "POST"])
@keeps_input
def override() -> Page:
    """The form, and its first step: the override as the log will hold it."""
    form, page = _override_form(first=True)
    if page is not None:
        return page
    action, target = form.action.data or "", form.target.data or ""
    return _preview(
        _("Log this override?"),
        url_for("operator.override_confirmed"),
        [(_("Action"), action, True), (_("Target"), target, True)],
        ("reason", form.reason.data or ""),
        [("action", action), ("target", target)],
    )


@operator.post("/override/confirm")
@keeps_input
def override_confirmed() -> Page:
    """The second step: log the override confirmed."""
    form, page = _override_form(first=False)
    if page is not None:
        return page
    try:
        seq = current_pool().override(
            form.action.data or "", form.target.data or "", form.reason.data or ""
        )
    except MutualogError as e:
        page = render_template("operator/override.html", form=form, refusal=_refusal(e))
        return page, _status(e)
    return _done(
        _("Override %(action)s logged in entry %(seq)d.", action=form.action.data, seq=seq)
    )


def _erasure_form(first: bool) -> tuple[ErasureForm, Page | None]:
    form = ErasureForm()
    if form.is_submitted():  # a GET only shows the form
        subject = (form.subject.data or "").strip()
        member = form.kind.data == ErasedKind.MEMBER.value
        pool = current_pool()
        concern(form, pool.concerned(member=subject) if member else pool.concerned(claim=subject))
    return form, _page_form(form, "operator/erase.html", first)


_KINDS: dict[str, Callable[[], str]] = {
    ErasedKind.MEMBER.value: lambda: _("A member's name, ID number and phone"),
    ErasedKind.EVIDENCE.value: lambda: _("A claim's evidence documents"),
}


@operator.route("/erase", methods=["GET", "POST"])
@keeps_input
def erase() -> Page:
    """The form, and its first step: the erasure's entry as the log will hold it."""
    form, page = _erasure_form(first=True)
    if page is not None:
        return page
    kind, subject = form.kind.data or "", form.subject.data or ""
    return _preview(
        _("Erase and log this?"),
        url_for("operator.erase_confirmed"),
        [(_("What to erase"), _KINDS[kind](), False), (_("Member id or claim id"), subject, True)],
        ("reason", form.reason.data or ""),
        [("kind", kind), ("subject", subject)],
    )


@operator.post("/erase/confirm")
@keeps_input
def erase_confirmed() -> Page:
    """The second step: erase, and log the erasure confirmed."""
    form, page = _erasure_form(first=False)
    if page is not None:
        return page
    pool = current_pool()
    subject, reason = form.subject.data or "", form.reason.data or ""
    member = form.kind.data == ErasedKind.MEMBER.value
    try:
        if member:
            pool.erase_member(subject, reason, _account_id())
        else:
            pool.erase_evidence(subject, reason, _account_id())
    except MutualogError as e:
        page = render_template("operator/erase.html", form=form, refusal=_refusal(e))
        return page, _status(e)
    if member:
        return _done(
            _("The personal data of member %(id)s is erased; the log records it.", id=subject)
        )
    return _done(_("The evidence of claim %(id)s is erased; the log records it.", id=subject))
