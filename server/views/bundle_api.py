"""Blueprint ``bundle_api``: verification bundles under ``/api/v1/bundles``.

* ``GET /api/v1/bundles/deduction?member=ID&period=YYYY-MM-DD[&size=N][&sample=ID,ID...]``
* ``GET /api/v1/bundles/claim/<ID>[?size=N][&since=M]``

A bundle (``mutualog.bundle/v1``, :mod:`verifiable.log.bundle`) holds what the
client's ``verify-deduction`` or ``verify-claim`` needs, proven against the
signed checkpoint at ``size`` (default: the latest); a claim's bundle with
``since`` also holds the consistency proof from size ``since`` (a juror's
receipt's checkpoint), which ``verify-receipt --bundle`` and the page need.  Parameters are parsed
as strictly as the rest of the API (:mod:`server.views.params`); a refusal is
a JSON error, 400 for a malformed parameter, 404 for something the log does
not have at that size and 503 for a stored log that cannot be read.  Bundles
are built from the stored entries alone (:mod:`server.bundles`), not from
the pool's replayed state, so they are served even for a log that breaks the
pool's rules.  A bundle at a given size never changes, so it is cacheable
for good; gzip is used when the client accepts it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import Blueprint, Response, current_app

from server.bundles import (
    BundleNotFoundError,
    BundleUnavailableError,
    build_claim_bundle,
    build_deduction_bundle,
)
from server.context import current_log
from server.errors import BadParameterError, NotFoundError, ServiceUnavailableError
from server.views.params import (
    BUNDLE_SINCE,
    BUNDLE_SIZE,
    CLAIM,
    MAX_SAMPLE,
    MEMBER,
    PERIOD,
    SAMPLE,
    query_args,
    required,
)
from server.views.tiles import compress
from verifiable.log.bundle import MAX_CLAIMS, Bundle

__all__ = ["MAX_SAMPLE", "bundle_api"]

bundle_api = Blueprint("bundle_api", __name__, url_prefix="/api/v1/bundles")

_FOREVER = "public, max-age=31536000, immutable"
_LATEST = "public, max-age=5"
assert MAX_SAMPLE <= MAX_CLAIMS


def _date(text: str) -> date:
    try:
        return date.fromisoformat(PERIOD.parse(text))
    except ValueError:
        # A pattern cannot tell 2024-02-30 from a date: the calendar does.
        raise BadParameterError(PERIOD.refusal_of(text)) from None


def _sample(text: str) -> list[str]:
    claims = SAMPLE.parse(text).split(",") if text else []
    if len(set(claims)) != len(claims):
        raise BadParameterError("sample: a claim is listed twice")
    return claims


def _respond(build: Callable[[], Bundle], fixed: bool) -> Response:
    """The bundle ``build`` gives, cacheable for good if its size was ``fixed``
    by the request; its refusals as API errors."""
    try:
        data = build().to_bytes()
    except BundleNotFoundError as e:
        raise NotFoundError(str(e)) from e
    except BundleUnavailableError as e:
        current_app.logger.error("bundle: %s", e)
        raise ServiceUnavailableError(str(e)) from e
    response = Response(data, content_type="application/json")
    response.headers["Cache-Control"] = _FOREVER if fixed else _LATEST
    compress(response, data)
    return response


@bundle_api.get("/deduction")
def deduction() -> Response:
    query = query_args(("member", "period", "size", "sample"))
    member = MEMBER.parse(required(query, "member"))
    period = _date(required(query, "period"))
    size = BUNDLE_SIZE.parse(query["size"]) if "size" in query else None
    sample = _sample(query.get("sample", ""))
    return _respond(
        lambda: build_deduction_bundle(current_log().engine, size, member, period, sample),
        size is not None,
    )


@bundle_api.get("/claim/<claim_text>")
def claim(claim_text: str) -> Response:
    query = query_args(("size", "since"))
    claim_id = CLAIM.parse(claim_text)
    size = BUNDLE_SIZE.parse(query["size"]) if "size" in query else None
    since = BUNDLE_SINCE.parse(query["since"]) if "since" in query else None
    return _respond(
        lambda: build_claim_bundle(current_log().engine, size, claim_id, since), size is not None
    )
