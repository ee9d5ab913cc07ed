"""HTTP errors and the one handler that renders every error as JSON.

Every error response of the application has the body
``{"error": <short code>, "message": <text>}``: the code is stable and meant
for programs (``bad_parameter``, ``not_found``, ``method_not_allowed``...),
the message is for people and says what was wrong with the request.  Nothing
else leaves the server: an unexpected exception is logged with its traceback
and answered with a bare ``internal_error``.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from flask import Flask, Response, jsonify
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from server.pool.errors import PoolUnavailableError
from server.private.sealing import SealingError
from server.storage import NotInLogError
from verifiable.errors import MalformedError

__all__ = [
    "ApiError",
    "BadParameterError",
    "NotFoundError",
    "ServiceUnavailableError",
    "error_response",
    "http_error_response",
    "keep_error_headers",
    "register_error_handlers",
]

_log = logging.getLogger(__name__)

# Messages echo request text; a hostile request may send megabytes of it.
_MAX_MESSAGE = 500


class ApiError(Exception):
    """An error with its HTTP status and short code; raise it from a view."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadParameterError(ApiError):
    """A query or path parameter that is missing, malformed or out of range."""

    status = 400
    code = "bad_parameter"


class NotFoundError(ApiError):
    """A well-formed request for something the log does not have."""

    status = 404
    code = "not_found"


class ServiceUnavailableError(ApiError):
    """The instance is not set up (no key, no schema) or the database is down."""

    status = 503
    code = "unavailable"


def error_response(status: int, code: str, message: str) -> Response:
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE] + "..."
    response = jsonify(error=code, message=message)
    response.status_code = status
    # An error is about this moment (the log may grow past a 404); never cache it.
    response.headers["Cache-Control"] = "no-store"
    return response


def _code_for(e: HTTPException) -> str:
    name = e.name or "error"
    return "_".join(name.lower().replace("'", "").split())


def _handle_api_error(e: ApiError) -> Response:
    return error_response(e.status, e.code, e.message)


def _handle_malformed(e: MalformedError) -> Response:
    # verifiable checks its arguments too; if a view forgot a check, the
    # request was still bad, not the server.
    return error_response(400, "bad_parameter", str(e))


def keep_error_headers(
    e: HTTPException, response: Response, names: Collection[str] = ("allow",)
) -> Response:
    """``response`` with the headers of ``e`` named in ``names`` (lowercase):
    the methods a 405 allows, the wait a 429 asks for."""
    for name, value in e.get_headers():
        if name.lower() in names:
            response.headers[name] = value
    return response


def http_error_response(e: HTTPException) -> Response:
    """The JSON answer to an HTTP error raised by Flask, Werkzeug or a view."""
    status = e.code or 500
    if status >= 500:
        return _handle_unexpected(e)
    return keep_error_headers(e, error_response(status, _code_for(e), e.description or e.name))


def _handle_pool_unavailable(e: PoolUnavailableError) -> Response:
    # The stored log breaks the pool's rules: nothing derived from it is
    # served, and the message names the rule.
    return error_response(503, "unavailable", str(e))


def _handle_not_in_log(e: NotInLogError) -> Response:
    # Views check sizes first; this covers whatever storage finds past the log.
    return error_response(404, "not_found", str(e))


def _handle_database(e: SQLAlchemyError) -> Response:
    # No schema yet, a database that is down or locked: the server's trouble,
    # and likely passing; the details (SQL, parameters, URL) stay in its log.
    _log.error("database error while serving a request: %s", e)
    return error_response(503, "unavailable", "the log's database is not available")


def _handle_sealing(e: SealingError) -> Response:
    # A missing or wrong data key, or a sealed value that does not open: the
    # deployment's trouble, never shown as garbage; the reason is logged.
    _log.error("private store: %s", e)
    return error_response(503, "unavailable", "the pool's private data cannot be opened")


def _handle_unexpected(e: Exception) -> Response:
    _log.exception("unhandled error while serving a request", exc_info=e)
    return error_response(500, "internal_error", "internal server error")


def register_error_handlers(app: Flask) -> None:
    """Route every exception a request can raise to a JSON error response.

    Registered on the application, not a blueprint, because routing errors
    (404 for an unknown path, 405 for a wrong method) happen before any
    blueprint is chosen.
    """
    app.register_error_handler(ApiError, _handle_api_error)
    app.register_error_handler(MalformedError, _handle_malformed)
    app.register_error_handler(NotInLogError, _handle_not_in_log)
    app.register_error_handler(PoolUnavailableError, _handle_pool_unavailable)
    app.register_error_handler(SealingError, _handle_sealing)
    app.register_error_handler(HTTPException, http_error_response)
    app.register_error_handler(OperationalError, _handle_database)
    app.register_error_handler(ProgrammingError, _handle_database)
    app.register_error_handler(Exception, _handle_unexpected)
