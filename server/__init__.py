"""The mutualog server: the Flask application, storage and the log sequencer.

``create_app`` is the application factory (``gunicorn 'server:create_app()'``);
``mutualog-server`` (:mod:`server.cli`) sets up and operates an instance.
"""

from server.app import create_app

__all__ = ["create_app"]
