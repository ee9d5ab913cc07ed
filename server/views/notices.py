"""Blueprint ``notices``: a member's notifications page — what waits for
them (a juror summons with its deadline, their claims' progress, each new
deduction), marking them read, and the optional e-mail address the same
notices are mailed to (:mod:`server.notifications`, :mod:`server.mail`).

Errors are HTML pages (:mod:`server.web_errors`); an account that has not
joined the pool is refused (403): it has no notices.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from server.auth import current_account, member_required, utc_now
from server.context import current_log
from server.i18n import locale_code
from server.member_forms import EmailForm, ReadForm
from server.notifications import (
    NOTICES_SHOWN,
    NoticeKind,
    current_notices,
    mark_read,
    set_email,
)
from server.pool_app import current_pool
from server.views.pages import Page, signed_in_member
from server.views.params import NOTICE_SEQ
from server.web_errors import add_html_errors, keeps_input
from verifiable.pool.rules import moment

__all__ = ["notices"]

notices = Blueprint("notices", __name__)
add_html_errors(notices)

_REFUSAL = "Only members of the pool have notices: join the pool first."


def _page(email_form: EmailForm | None = None, status: int = 200) -> Page:
    signed_in_member(_(_REFUSAL))
    found = current_notices()
    assert found is not None  # a member
    all_notices, settings = found
    shown = all_notices[:NOTICES_SHOWN]
    state = current_pool().state()
    deducted: dict[date, date] = {}
    for n in shown:
        if n.kind is NoticeKind.DEDUCTION and n.period is not None:
            rules = state.rules_at(moment(n.period))
            if rules is not None:
                deducted[n.period] = rules.deduction_date(n.period)
    form = email_form or EmailForm(data={"email": settings.email or ""})
    return (
        render_template(
            "member/notifications.html",
            notices=shown,
            total=len(all_notices),
            read_through=settings.read_through,
            deducted=deducted,
            now=current_pool().now(),
            read_form=ReadForm(data={"through": str(shown[0].seq)}) if shown else None,
            email_form=form,
            email=settings.email,
        ),
        status,
    )


@notices.get("/notifications")
@member_required
def index() -> Page:
    return _page()


@notices.post("/notifications/read")
@member_required
def read() -> Page:
    signed_in_member(_(_REFUSAL))
    form = ReadForm()
    if not form.validate_on_submit():
        return _page(status=400)
    account = current_account()
    assert account is not None
    # The form checks the digits; the declaration bounds the number.
    through = NOTICE_SEQ.parse(form.through.data or "")
    mark_read(current_log().engine, account.id, through, utc_now())
    flash(_("Your notices are marked as read."), "success")
    return redirect(url_for("notices.index"))


@notices.post("/notifications/email")
@member_required
@keeps_input
def email() -> Page:
    signed_in_member(_(_REFUSAL))
    form = EmailForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    account = current_account()
    assert account is not None
    address = form.email.data or None
    engine = current_log().engine
    size = current_pool().store.size()
    set_email(engine, account.id, address, locale_code(), size, utc_now())
    if address:
        flash(_("Your notices will also be sent to %(email)s.", email=address), "success")
    else:
        flash(_("No notices will be sent by e-mail."), "success")
    return redirect(url_for("notices.index"))
