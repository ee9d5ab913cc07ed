"""Blueprint ``pool_api``: the pool's public figures as JSON under ``/api/v1/pool``
(documented in :mod:`server.openapi_pool` and docs/api.md).

Every figure is the rulebook's, at the size of the latest checkpoint
(``size`` in each answer), with the ``seq`` of the entries it comes from, so
a client can fetch them (``/api/v1/entries/<seq>``) and prove them
(``/api/v1/proof/inclusion``).  Money is integer fen.  Parameters are parsed
as strictly as in :mod:`server.views.api`; every refusal is a JSON error.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from server.errors import BadParameterError, NotFoundError
from server.pool_figures import current_figures
from server.views.params import LIMIT, OFFSET, POOL_CLAIM, query_args

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "pool_api"]

pool_api = Blueprint("pool_api", __name__, url_prefix="/api/v1/pool")

DEFAULT_LIMIT = 100
MAX_LIMIT = LIMIT.maximum
# The figures change with every append: cached as briefly as the checkpoint.
_CACHE = "public, max-age=5"


def _json(body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.headers["Cache-Control"] = _CACHE
    return response


@pool_api.get("")
def overview() -> Response:
    query_args(())
    return _json(current_figures().overview().to_json())


@pool_api.get("/periods")
def periods() -> Response:
    query_args(())
    figures = current_figures()
    return _json({"size": figures.size, "periods": [p.to_json() for p in figures.periods()]})


@pool_api.get("/claims")
def claims() -> Response:
    query = query_args(("offset", "limit"))
    offset = OFFSET.parse(query.get("offset", "0"))
    limit = LIMIT.parse(query.get("limit", str(DEFAULT_LIMIT)))
    figures = current_figures()
    total = figures.claim_count()
    if offset > total:
        raise BadParameterError(f"offset {offset} is past the {total} claims")
    return _json(
        {
            "size": figures.size,
            "total": total,
            "offset": offset,
            "limit": limit,
            "claims": [c.summary_json() for c in figures.claims(offset, limit)],
        }
    )


@pool_api.get("/claims/<claim_id>")
def claim(claim_id: str) -> Response:
    query_args(())
    POOL_CLAIM.parse(claim_id)
    figures = current_figures()
    found = figures.claim(claim_id)
    if found is None:
        raise NotFoundError(f"claim {claim_id}: the log has no such claim")
    return _json({"size": figures.size, **found.to_json()})
