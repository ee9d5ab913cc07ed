"""Blueprint ``operator``: the operator's pages under ``/operator``.

Every route of the blueprint is for operators only: the check runs before
any of its views (a ``before_request`` hook), so a view added later cannot
forget it.  Anonymous visitors are sent to sign in; members get 403.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from werkzeug.wrappers import Response as BaseResponse

from server.auth import current_account, operator_required
from server.web_errors import add_html_errors

__all__ = ["operator"]

operator = Blueprint("operator", __name__, url_prefix="/operator")
add_html_errors(operator)


@operator.before_request
@operator_required
def _operators_only() -> None:
    return None


@operator.get("/")
def index() -> str | BaseResponse:
    return render_template("operator/index.html", account=current_account())
