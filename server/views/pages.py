"""What the sign-in, member and juror blueprints share: the type of a
page's answer, a field's added error, the signed-in member's id, an
entry's body, and the download of a claim's evidence document."""

from __future__ import annotations

from typing import NoReturn

from flask import abort, current_app
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse
from wtforms import Field

from server.auth import current_account
from server.pool_app import current_pool
from server.presenters.refusals import rule_refusal
from server.private.evidence import ALLOWED_TYPES
from verifiable.errors import RuleViolation
from verifiable.log.bodies import Body
from verifiable.log.entry import parse_entry

__all__ = [
    "Page",
    "add_error",
    "document_response",
    "entry_body",
    "refuse_rule",
    "signed_in_member",
]

Page = str | tuple[str, int] | tuple[str, int, dict[str, str]] | BaseResponse


def add_error(field: Field, message: str) -> None:
    """Show ``message`` under ``field`` when its form is shown again."""
    field.errors = [*field.errors, message]


def signed_in_member(refusal: str) -> str:
    """The signed-in account's member id; 403 with ``refusal`` for an
    account that has not joined the pool."""
    account = current_account()
    if account is None or account.member_id is None:
        abort(403, description=refusal)
    return account.member_id


def refuse_rule(e: RuleViolation) -> NoReturn:
    """409: the rulebook refused the entry, so nothing was appended."""
    abort(409, description=rule_refusal(e))


def entry_body(seq: int) -> Body:
    """The body of the log's entry ``seq``; 404 if the log has none."""
    data = current_pool().store.entry(seq)
    if data is None:
        abort(404, description=f"The log has no entry {seq}.")
    return parse_entry(data, seq=seq).body


def document_response(claim_id: str, number: int) -> BaseResponse:
    """A claim's evidence document ``number`` (from 1, as every page numbers
    them) as a download the browser never renders; 404 if it does not exist
    or was erased.  Every role's evidence route answers with this, so the
    member, the juror and the operator get the same headers.  The caller has
    checked who asks."""
    stored = current_pool().evidence_document(claim_id, number - 1)
    if stored is None:
        abort(404, description=_("There is no such document, or it was erased."))
    kind = stored.document.content_type
    if kind not in ALLOWED_TYPES:
        kind = "application/octet-stream"
    extension = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}.get(kind, "bin")
    response = current_app.response_class(stored.content, mimetype=kind)
    # A generated name: the uploaded one may carry personal details or
    # characters a header must not hold.
    name = f"claim-{claim_id}-document-{number}.{extension}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
