"""Blueprint ``verifier``: ``GET /verifier``, the page on which a member
checks a deduction, a claim or a vote receipt in the phone's browser.

The response is exactly :func:`server.verifier.build.page_bytes`, the bytes
``mutualog-server verifier build`` writes and the log publishes the hash
of, whatever the request: the member and period to check come in the query
and are read by the page's script, never written into the page.  Its
Content-Security-Policy (:func:`server.verifier.build.csp`) allows only the
page's own inline script and style, by their SHA-256, and requests to this
origin only; the other security headers are :mod:`server.security`'s.
"""

from __future__ import annotations

from flask import Blueprint, Response

from server.verifier.build import csp, page_bytes

__all__ = ["verifier"]

verifier = Blueprint("verifier", __name__)

# The same bytes for everyone until the server is upgraded: cacheable, and
# checked again after a few minutes so a new version reaches phones soon.
_CACHE = "public, max-age=300"


@verifier.get("/verifier")
def page() -> Response:
    response = Response(page_bytes(), content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = csp()
    response.headers["Cache-Control"] = _CACHE
    return response
