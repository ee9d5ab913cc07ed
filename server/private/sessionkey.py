"""Secrets that every process of a deployment must share.

Flask signs the session cookie, and Flask-WTF its CSRF tokens, with the
application's secret key.  Every gunicorn worker on every machine must use
the same one, or a form rendered by one worker is refused by the next.  A
deployment should set it (``MUTUALOG_SECRET_KEY``); when it does not, the
first process that needs one draws 32 random bytes and stores them here,
and every other process reads the same row.  The cost of that convenience:
whoever can read the database can forge sessions, which is why
docs/security.md asks production to set the key.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import cast

from sqlalchemy import Engine, Table, insert, select

from server.models import ServerSecretRow
from server.private._tx import private_transaction

__all__ = ["SESSION_KEY", "shared_secret"]

_secrets = cast(Table, ServerSecretRow.__table__)

SESSION_KEY = "session"
_SIZE = 32


def shared_secret(engine: Engine, name: str, now: datetime) -> bytes:
    """The secret called ``name``, made (once, by whichever process asks
    first) if it does not exist yet."""
    with engine.connect() as conn:
        value = conn.scalar(select(_secrets.c.value).where(_secrets.c.name == name))
    if value is not None:
        return bytes(value)
    with private_transaction(engine) as conn:
        # Under the lock: a process that lost the race reads the winner's.
        value = conn.scalar(select(_secrets.c.value).where(_secrets.c.name == name))
        if value is None:
            value = secrets.token_bytes(_SIZE)
            conn.execute(insert(_secrets).values(name=name, value=value, created=now))
    return bytes(value)
