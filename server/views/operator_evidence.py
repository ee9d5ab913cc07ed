"""The operator's redacted copies of a claim's evidence, on the ``operator``
blueprint (registered by importing this module from
:mod:`server.views.operator`): upload a copy of each document, see its page
images exactly as the panel will, before publishing the notice that
commits to them.

A refused copy (one still holding an identifier of the claimant, one too
large to draw) shows the claim's page again with the reason in the page's
language; nothing is stored (400).  A claim already noticed refuses a new
copy (409): its notice commits to the copies it has.
"""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired  # type: ignore[import-untyped]
from werkzeug.wrappers.response import Response as BaseResponse
from wtforms import HiddenField, IntegerField
from wtforms.validators import InputRequired, NumberRange

from server.forms import FlaskForm
from server.pool_app import current_pool
from server.pool_service import PoolInputError, PoolRefusedError
from server.presenters.redaction import redaction_refusal
from server.presenters.refusals import refusal
from server.private.errors import EvidenceError
from server.private.evidence import MAX_DOCUMENT_SIZE, MAX_DOCUMENTS, Upload
from server.redaction import RedactionError
from server.views.operator import Page, _claim_page, operator
from server.views.redacted_pages import copies_context, page_response

__all__ = ["RedactedForm"]


def _(text: str, **values: object) -> str:
    return str(gettext(text, **values))


class RedactedForm(FlaskForm):
    """A redacted copy of document ``document`` (from 1) of ``claim``."""

    claim = HiddenField(validators=[InputRequired()])
    document = IntegerField(validators=[InputRequired(), NumberRange(1, MAX_DOCUMENTS)])
    copy = FileField(
        _l("Redacted copy (PDF, PNG or JPEG)"),
        validators=[FileRequired(_l("Choose the redacted copy's file."))],
    )


operator.context_processor(copies_context)
operator.context_processor(lambda: {"redacted_form": RedactedForm})


@operator.post("/redacted")
def upload_redacted() -> Page:
    form = RedactedForm()
    claim_id = form.claim.data or ""
    if not form.validate_on_submit():
        if form.claim.errors:
            abort(400, description=_("The form names no claim. Nothing was stored."))
        problems = [str(e) for f in form for e in f.errors]
        return _claim_page(claim_id, 400, " ".join([*problems, _("Nothing was stored.")]))
    number = int(form.document.data or 0)
    file = form.copy.data
    content = file.stream.read(MAX_DOCUMENT_SIZE + 1)
    upload = Upload(content, file.mimetype or "", None)
    try:
        current_pool().upload_redacted(claim_id, number, upload)
    except RedactionError as e:
        return _claim_page(claim_id, 400, redaction_refusal(e))
    except EvidenceError as e:
        return _claim_page(claim_id, 400, refusal(e))
    except (PoolInputError, PoolRefusedError) as e:
        return _claim_page(claim_id, 400 if isinstance(e, PoolInputError) else 409, refusal(e))
    flash(
        _(
            "The redacted copy of document %(n)d is stored: check its page images below, "
            "exactly what the panel will see.",
            n=number,
        ),
        "success",
    )
    return redirect(url_for("operator.claim", claim_id=claim_id, _anchor="redacted"))


@operator.get("/claims/<claim_id>/redacted/<document:number>/<page:page>.png")
def redacted_page(claim_id: str, number: int, page: int) -> BaseResponse:
    return page_response(claim_id, number, page)
