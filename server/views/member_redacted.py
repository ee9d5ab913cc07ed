"""A claimant's view of the redacted copies of their own claim's evidence,
on the ``member`` blueprint (registered by importing this module from
:mod:`server.app`, as :mod:`server.views.member` is at its size limit):
the page images the panel is shown, and each copy's opening (salt and
pages, JSON) for ``mutualog verify-claim --redacted`` to check against the
commitment in the claim's notice.  404 to anyone but the
claimant, as for the documents themselves.
"""

from __future__ import annotations

from flask import abort
from flask_babel import gettext
from werkzeug.wrappers.response import Response as BaseResponse

from server.auth import current_account, member_required
from server.pool_app import current_pool
from server.views.member import member
from server.views.redacted_pages import copies_context, opening_response, page_response

__all__ = ["claim_redacted_opening", "claim_redacted_page"]

member.context_processor(copies_context)


def _claimant_only(claim_id: str) -> None:
    account = current_account()
    view = current_pool().claim(claim_id)
    # 404 for anyone but the claimant: the answer must not say whose claim it is.
    if view is None or account is None or account.member_id != view.member:
        abort(404, description=str(gettext("You have no claim with this document.")))


@member.get("/claims/<claim_id>/redacted/<document:number>/<page:page>.png")
@member_required
def claim_redacted_page(claim_id: str, number: int, page: int) -> BaseResponse:
    _claimant_only(claim_id)
    return page_response(claim_id, number, page)


@member.get("/claims/<claim_id>/redacted/<document:number>.json")
@member_required
def claim_redacted_opening(claim_id: str, number: int) -> BaseResponse:
    _claimant_only(claim_id)
    return opening_response(claim_id, number)
