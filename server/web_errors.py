"""HTML error pages for the pages; JSON stays for the rest.

:mod:`server.errors` answers every error with JSON.  Here the page
blueprints (``signin``, ``member``, ``juror``, ``operator``, ``public``) get
their own handlers (Flask tries a blueprint's handlers before the
application's), so a page's error is a page.  A URL that matches no route
belongs to no blueprint: it gets a page only if the client asks for HTML
before JSON (a browser) and the path is not under the API or the read
path; any other client keeps the JSON answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError  # type: ignore[import-untyped]
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import BadRequest, HTTPException, MethodNotAllowed, NotFound

from server.errors import ApiError, http_error_response, keep_error_headers
from server.pool.errors import PoolUnavailableError
from server.security import STATELESS_PATHS

__all__ = ["CSRF_MESSAGE", "add_html_errors", "register_unrouted_errors"]

_log = logging.getLogger(__name__)

_TITLES = {
    400: "The request could not be accepted",
    403: "Not allowed",
    404: "Page not found",
    405: "Method not allowed",
    413: "Upload too large",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}

CSRF_MESSAGE = (
    "This form could not be accepted: its security token (CSRF token) is missing, "
    "invalid or expired. Go back, reload the page and submit the form again."
)


def _page(status: int, message: str) -> Response:
    title = _TITLES.get(status, "Error")
    response = Response(
        render_template("error.html", status=status, title=title, message=message),
        status=status,
        content_type="text/html; charset=utf-8",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _http(e: HTTPException) -> Response:
    status = e.code or 500
    if status >= 500:
        return _unexpected(e)
    return keep_error_headers(e, _page(status, e.description or e.name), ("allow", "retry-after"))


def _csrf(e: BadRequest) -> Response:
    _log.info("form refused: %s", e.description)
    return _page(400, CSRF_MESSAGE)


def _api_error(e: ApiError) -> Response:
    return _page(e.status, e.message)


def _pool_unavailable(e: PoolUnavailableError) -> Response:
    return _page(503, str(e))


def _database(e: SQLAlchemyError) -> Response:
    _log.error("database error while serving a page: %s", e)
    return _page(503, "The pool's database is not available right now. Try again shortly.")


def _unexpected(e: Exception) -> Response:
    _log.exception("unhandled error while serving a page", exc_info=e)
    return _page(500, "The server could not complete this request. Nothing was changed.")


def _wants_page() -> bool:
    if request.path.startswith(STATELESS_PATHS) or request.path.startswith("/api"):
        return False
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def _unrouted(e: NotFound | MethodNotAllowed) -> Response:
    return _http(e) if _wants_page() else http_error_response(e)


_PAGE_HANDLERS: dict[type[Exception], Callable[[Any], Response]] = {
    CSRFError: _csrf,
    HTTPException: _http,
    # Flask looks up handlers by status code first, on the blueprint and then
    # the application, before it looks by class: without these two the
    # application's handler for unrouted paths would answer a view's own
    # 404 or 405 with JSON.
    NotFound: _http,
    MethodNotAllowed: _http,
    ApiError: _api_error,
    PoolUnavailableError: _pool_unavailable,
    SQLAlchemyError: _database,
    Exception: _unexpected,
}


def add_html_errors(blueprint: Blueprint) -> None:
    """Give ``blueprint``'s pages HTML error pages; call before it is registered."""
    for error, handler in _PAGE_HANDLERS.items():
        blueprint.register_error_handler(error, handler)


def register_unrouted_errors(app: Flask) -> None:
    """Content negotiation for URLs that match no route (404, 405)."""
    app.register_error_handler(NotFound, _unrouted)
    app.register_error_handler(MethodNotAllowed, _unrouted)
