"""HTML error pages for the pages, in plain words in both languages; JSON
stays for the rest.

:mod:`server.errors` answers every error with JSON.  Here the page
blueprints (``signin``, ``member``, ``juror``, ``operator``, ``public``...)
get their own handlers (Flask tries a blueprint's handlers before the
application's), so a page's error is a page.  A URL that matches no route
belongs to no blueprint: it gets a page only if the client asks for HTML
before JSON (a browser) and the path is not under the API or the read
path; any other client keeps the JSON answer.

**A refused form keeps what was typed.**  ``CSRFProtect`` refuses a form
whose security token is missing, forged or expired (the page was open too
long) before its view runs.  For a view marked :func:`keeps_input`, the
handler then runs the view once more with the refused token taken out of
the form: the view's form fails its own token check, so the view changes
nothing and shows the form again with the typed values, and ``form_errors``
(templates/_forms.html) says in plain words what happened and which files
must be chosen again (a browser never sends a file input back).  Any other
view gets the error page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, current_app, g, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError  # type: ignore[import-untyped]
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import BadRequest, HTTPException, MethodNotAllowed, NotFound
from wtforms import Form

from server.errors import ApiError, http_error_response, keep_error_headers
from server.pool.errors import PoolUnavailableError
from server.private.sealing import SealingError
from server.security import STATELESS_PATHS

__all__ = [
    "CSRF_MESSAGE",
    "add_html_errors",
    "files_to_choose_again",
    "keeps_input",
    "register_unrouted_errors",
]

_log = logging.getLogger(__name__)

_TITLES = {
    400: _l("The request could not be accepted"),
    403: _l("Not allowed"),
    404: _l("Page not found"),
    405: _l("This action is not available here"),
    413: _l("Upload too large"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong"),
    503: _l("Temporarily unavailable"),
}

#: What each status means in plain words, where the view said nothing more
#: specific than Werkzeug's own English description.
_PLAIN = {
    400: _l("The page sent something the server could not read. Go back and try again."),
    403: _l("Your account may not open this page."),
    404: _l(
        "There is no page at this address. Check the address, or start again from the home page."
    ),
    405: _l("This address does not accept that kind of request. Go back and use the page's form."),
    413: _l("What you sent is larger than the server accepts. Choose smaller files and try again."),
    429: _l("Too many attempts in a short time. Wait a little, then try again."),
}

CSRF_MESSAGE = _l(
    "This form could not be accepted: its security token (CSRF token) is missing, invalid "
    "or expired, usually because the page was open too long. Go back, reload the page and "
    "submit the form again."
)

#: Set on a view by :func:`keeps_input`; read through ``functools.wraps``.
_KEEPS_INPUT = "_mutualog_keeps_input"
#: Set in ``g`` while a refused form's view runs again.
_REFUSED = "_mutualog_csrf_refused"
_FILE_FIELDS = ("FileField", "MultipleFileField")

V = TypeVar("V", bound=Callable[..., Any])


def keeps_input(view: V) -> V:
    """Mark ``view`` as one whose form comes back with the typed values when
    its security token is refused.  The view must change nothing before its
    form has validated (``validate_on_submit``), as every form view here does."""
    setattr(view, _KEEPS_INPUT, True)
    return view


def files_to_choose_again(form: Form) -> list[str]:
    """The labels of ``form``'s file fields whose files were sent with a
    refused form: the page cannot keep them, so the visitor chooses again."""
    if not g.get(_REFUSED):
        return []
    labels = []
    for field in form:
        if field.type in _FILE_FIELDS and any(
            upload.filename for upload in request.files.getlist(field.name)
        ):
            labels.append(str(field.label.text))
    return labels


def _page(status: int, message: str) -> Response:
    title = _TITLES.get(status, _l("Error"))
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
    # A view's own description says more; Werkzeug's default is English jargon.
    own = e.description and e.description != type(e).description
    message = str(e.description) if own else str(_PLAIN.get(status, e.name))
    return keep_error_headers(e, _page(status, message), ("allow", "retry-after"))


def _csrf(e: BadRequest) -> Response:
    _log.info("form refused: %s", e.description)
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or not getattr(view, _KEEPS_INPUT, False):
        return _page(400, str(CSRF_MESSAGE))
    # Without the refused token the form's own check fails, whatever it is,
    # so the view cannot act; it shows its form again with what was typed.
    form = request.form.copy()
    form.pop("csrf_token", None)
    request.__dict__["form"] = ImmutableMultiDict(form)
    setattr(g, _REFUSED, True)
    early = _rest_of_before_request()
    if early is not None:
        return early
    response = current_app.make_response(current_app.ensure_sync(view)(**(request.view_args or {})))
    if response.status_code < 400 and not _to_sign_in(response):
        _log.error("%s acted on a refused form", request.endpoint)
        return _page(400, str(CSRF_MESSAGE))
    return response


def _rest_of_before_request() -> Response | None:
    """Run the ``before_request`` hooks that the refusal cut short (those
    after CSRFProtect's, and the blueprints' own, such as a guard of who may
    open the pages), as Flask would have; their answer if one gives one."""
    hooks = current_app.before_request_funcs
    app_hooks = hooks.get(None, [])
    names = [getattr(hook, "__name__", "") for hook in app_hooks]
    if "csrf_protect" not in names:
        # Not knowing which hooks ran, run no view: the plain refusal.
        return _page(400, str(CSRF_MESSAGE))
    after = app_hooks[names.index("csrf_protect") + 1 :]
    for name in reversed(request.blueprints):
        after = [*after, *hooks.get(name, [])]
    for hook in after:
        answer = current_app.ensure_sync(hook)()
        if answer is not None:
            return current_app.make_response(answer)
    return None


def _to_sign_in(response: Response) -> bool:
    # The session ended with the token: the view sends the visitor to sign in.
    return response.status_code in (302, 303) and (response.location or "").startswith("/login")


def _api_error(e: ApiError) -> Response:
    return _page(e.status, e.message)


def _pool_unavailable(e: PoolUnavailableError) -> Response:
    return _page(503, str(e))


def _database(e: SQLAlchemyError) -> Response:
    _log.error("database error while serving a page: %s", e)
    return _page(503, _("The pool's database is not available right now. Try again shortly."))


def _sealing(e: SealingError) -> Response:
    # The data key is missing or wrong: to a visitor, the database is not
    # available; the reason goes to the server's log.
    _log.error("private store while serving a page: %s", e)
    return _page(503, _("The pool's database is not available right now. Try again shortly."))


def _unexpected(e: Exception) -> Response:
    _log.exception("unhandled error while serving a page", exc_info=e)
    return _page(500, _("The server could not complete this request. Nothing was changed."))


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
    SealingError: _sealing,
    SQLAlchemyError: _database,
    Exception: _unexpected,
}


def add_html_errors(blueprint: Blueprint) -> None:
    """Give ``blueprint``'s pages HTML error pages; call before it is registered."""
    for error, handler in _PAGE_HANDLERS.items():
        blueprint.register_error_handler(error, handler)


def register_unrouted_errors(app: Flask) -> None:
    """Content negotiation for URLs that match no route (404, 405), and the
    helper with which forms name the files to choose again."""
    app.register_error_handler(NotFound, _unrouted)
    app.register_error_handler(MethodNotAllowed, _unrouted)
    app.add_template_global(files_to_choose_again)
