"""Serving a redacted copy's page images, the same way to every role.

A page image is a PNG the server drew from pixels alone
(:mod:`server.redaction`); it is served inline (an ``<img>`` on a phone
shows it where a PDF would not open) or, with ``?download=1``, as an
attachment under a generated name.  The claimant also gets the copy's
opening (:func:`opening_response`): the salt and the pages, as JSON, which
``mutualog verify-claim --redacted`` checks against the log's notice.  Who may ask
is the caller's to check.  The context processor gives templates
``redacted_copies(claim_id)``: the copies by document position.
"""

from __future__ import annotations

import base64

from flask import abort, current_app, jsonify, request
from flask_babel import gettext
from werkzeug.wrappers.response import Response as BaseResponse

from server.pool_app import current_pool
from server.private.redacted import RedactedCopy, RedactedPages, list_redacted

__all__ = ["copies_context", "opening_response", "page_response", "redacted_or_404"]


def _(text: str, **values: object) -> str:
    return str(gettext(text, **values))


def copies_context() -> dict[str, object]:
    """``redacted_copies(claim_id)`` for a blueprint's templates."""

    def redacted_copies(claim_id: str) -> dict[int, RedactedCopy]:
        return list_redacted(current_pool().engine, claim_id)

    return {"redacted_copies": redacted_copies}


def redacted_or_404(claim_id: str, number: int) -> RedactedPages:
    """The copy of document ``number`` (from 1); 404 if there is none."""
    found = current_pool().redacted_pages(claim_id, number)
    if found is None:
        abort(404, description=_("There is no redacted copy of this document, or it was erased."))
    return found


def _private(response: BaseResponse) -> BaseResponse:
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def page_response(claim_id: str, number: int, page: int) -> BaseResponse:
    """Page ``page`` (from 1) of document ``number``'s copy as a PNG."""
    copy = redacted_or_404(claim_id, number)
    if not 1 <= page <= len(copy.pages):
        abort(404, description=_("There is no such page."))
    response = current_app.response_class(copy.pages[page - 1], mimetype="image/png")
    name = f"claim-{claim_id}-document-{number}-page-{page}.png"
    disposition = "attachment" if request.args.get("download") == "1" else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{name}"'
    return _private(response)


def opening_response(claim_id: str, number: int) -> BaseResponse:
    """What opens the copy's commitment: the salt and the page images."""
    copy = redacted_or_404(claim_id, number)
    response = jsonify(
        {
            "claim": claim_id,
            "document": number,
            "commitment": copy.copy.commitment.hex(),
            "salt": copy.salt.hex(),
            "pages": [base64.b64encode(p).decode("ascii") for p in copy.pages],
        }
    )
    name = f"claim-{claim_id}-document-{number}-redacted.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return _private(response)
