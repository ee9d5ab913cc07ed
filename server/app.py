"""The Flask application factory (flaskr's shape: nothing is built at import).

``create_app(config)`` resolves the settings (:mod:`server.config`), opens a
SQLAlchemy engine (which connects lazily), registers the blueprints — ``tiles``
for the C2SP tlog-tiles read path and the snapshot, ``api`` for JSON under
``/api/v1``, ``signin``, ``member``, ``notices``, ``juror`` and ``operator`` for the pages
— and the error
handlers: JSON everywhere, HTML for the pages.  Sign-in, sessions, CSRF and
the security headers are set up by :mod:`server.auth` and
:mod:`server.security`; the pages' two languages by :mod:`server.i18n`; the
unread count in every member's header by :mod:`server.notifications`.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from server.auth import init_auth
from server.config import load_settings
from server.context import EXTENSION, LogContext
from server.db import make_engine
from server.errors import register_error_handlers
from server.i18n import init_app as init_i18n
from server.notifications import init_notifications
from server.pool_app import init_pool
from server.private.key_check import refuse_lost_keys
from server.private.sealing import Sealer
from server.proxies import init_proxies
from server.security import init_security
from server.tilefiles import catch_up_files
from server.views import member_redacted  # noqa: F401  (its routes join ``member``)
from server.views.api import api
from server.views.bundle_api import bundle_api
from server.views.juror import juror
from server.views.member import member
from server.views.notices import notices
from server.views.operator import operator
from server.views.params import URL_CONVERTERS
from server.views.pool_api import pool_api
from server.views.public import public
from server.views.signin import signin
from server.views.tiles import tiles
from server.views.verifier import verifier
from server.web_errors import register_unrouted_errors

__all__ = ["create_app"]


def create_app(config: Mapping[str, object] | None = None) -> Flask:
    """Build the application.

    ``config`` overrides the environment: ``MUTUALOG_INSTANCE``,
    ``MUTUALOG_DATABASE_URL``, ``MUTUALOG_ORIGIN``, ``MUTUALOG_KEY_FILE``, the
    sign-in, session and cookie settings of :mod:`server.auth` and
    :mod:`server.security`, and any Flask setting (``TESTING``...).
    """
    settings = load_settings(config)
    # No app-wide static route: only the signin blueprint's stylesheet folder.
    app = Flask(__name__, instance_path=str(settings.instance), static_folder=None)
    # Every resource has one path: '//' is not quietly redirected to '/'.
    app.url_map.merge_slashes = False
    if config:
        app.config.from_mapping(config)
    # The private store's data key comes from the instance folder, read
    # (or made) when first needed.
    engine = make_engine(settings.database_url, Sealer(settings.instance))
    # An old instance whose key file was lost must not start with a new one.
    try:
        refuse_lost_keys(engine, settings.instance)
        catch_up_files(settings, engine, app.logger)
    finally:
        # The check's connections closed: a later refusal at start-up
        # leaves none open, and workers forked after this get their own.
        engine.dispose()
    context = LogContext(settings, engine)
    app.extensions[EXTENSION] = context
    clock = init_auth(app, context.engine)
    init_security(app, context.engine, clock)
    # The client's address behind the reverse proxies in front (per-address limits).
    init_proxies(app)
    init_pool(app, context, clock)

    # Both languages, money, dates and the log's codes in words (server.i18n).
    init_i18n(app)
    init_notifications(app)
    # Path parts that are integers, bounded by their declarations.
    app.url_map.converters.update(URL_CONVERTERS)
    app.register_blueprint(tiles)
    app.register_blueprint(api)
    app.register_blueprint(pool_api)
    app.register_blueprint(bundle_api)
    app.register_blueprint(signin)
    app.register_blueprint(member)
    app.register_blueprint(notices)
    app.register_blueprint(juror)
    app.register_blueprint(operator)
    app.register_blueprint(public)
    app.register_blueprint(verifier)
    register_error_handlers(app)
    register_unrouted_errors(app)
    return app
