"""The redacted copies' page images for a claim's jurors, on the ``juror``
blueprint (registered by importing this module from
:mod:`server.views.juror`).

A juror is served these PNGs and nothing else of the evidence: the files
as filed are never a juror's to download.  Only the drawn jurors of the
claim's current panel, while it votes, may read them (403 otherwise).
"""

from __future__ import annotations

from flask import abort
from flask_babel import gettext
from werkzeug.wrappers.response import Response as BaseResponse

from server.auth import member_required
from server.pool_app import current_pool
from server.views.juror import _juror_id, juror
from server.views.redacted_pages import copies_context, page_response
from verifiable.pool.state import Stage

__all__ = ["redacted_page"]

juror.context_processor(copies_context)


@juror.get("/juror/claims/<claim_id>/redacted/<document:number>/<page:page>.png")
@member_required
def redacted_page(claim_id: str, number: int, page: int) -> BaseResponse:
    juror_id = _juror_id()
    view = current_pool().claim(claim_id)
    if view is None or juror_id not in view.jurors or view.stage is not Stage.VOTING:
        abort(
            403,
            description=str(
                gettext(
                    "Only the drawn jurors of this claim's panel may read its evidence, "
                    "while the panel votes."
                )
            ),
        )
    return page_response(claim_id, number, page)
