"""Alembic migrations of the log schema; run with :func:`server.db.upgrade`."""
