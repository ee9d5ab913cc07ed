"""Signed-in sessions, recorded on the server.

The session cookie is signed, not secret, and a signed cookie cannot be
taken back: before this table, a cookie copied before sign-out opened the
dashboard until its signature aged out.  Now each sign-in draws a random
session id, the cookie carries it, and this table keeps its SHA-256 (a
stolen database does not hand out live cookies), whose it is, when it
began, when it was last seen, and whether it was revoked.  Every request
that asks who is signed in checks the row (:mod:`server.auth`): a revoked,
expired or unknown id is an anonymous visitor.

A session is revoked at sign-out, and every session of an account when its
password changes or is reset (:func:`revoke_account`).  Rows older than the
session lifetime are pruned at each sign-in.  ``last_seen`` is written at
most once a minute per session, so reading pages does not turn into a
database write per request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Engine, Table, delete, insert, select, update

from server.models import WebSessionRow
from server.private._tx import private_transaction

__all__ = ["Sessions", "revoke_account"]

_sessions = cast(Table, WebSessionRow.__table__)

#: How stale ``last_seen`` may get before a request writes it again.
_TOUCH_EVERY = timedelta(minutes=1)


def _digest(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).digest()


def revoke_account(conn: Connection, account_id: int, now: datetime) -> int:
    """Revoke every live session of ``account_id`` inside ``conn``'s
    transaction (with the password change that calls for it); how many."""
    result = conn.execute(
        update(_sessions)
        .where(_sessions.c.account_id == account_id, _sessions.c.revoked.is_(None))
        .values(revoked=now)
    )
    return result.rowcount


@dataclass(frozen=True)
class Sessions:
    """The ``web_sessions`` table of ``engine``; a session lives ``lifetime``."""

    engine: Engine
    lifetime: timedelta

    def start(self, account_id: int, now: datetime) -> str:
        """A new session of ``account_id``: the id its cookie carries."""
        session_id = secrets.token_urlsafe(32)
        with private_transaction(self.engine) as conn:
            conn.execute(delete(_sessions).where(_sessions.c.created <= now - self.lifetime))
            conn.execute(
                insert(_sessions).values(
                    id_hash=_digest(session_id),
                    account_id=account_id,
                    created=now,
                    last_seen=now,
                    revoked=None,
                )
            )
        return session_id

    def check(self, session_id: str, account_id: int, now: datetime) -> bool:
        """Whether ``session_id`` is a live session of ``account_id``."""
        digest = _digest(session_id)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(_sessions.c.account_id, _sessions.c.created, _sessions.c.last_seen).where(
                    _sessions.c.id_hash == digest, _sessions.c.revoked.is_(None)
                )
            ).one_or_none()
        if row is None or row.account_id != account_id or row.created <= now - self.lifetime:
            return False
        if now - row.last_seen >= _TOUCH_EVERY:
            with private_transaction(self.engine) as conn:
                conn.execute(
                    update(_sessions).where(_sessions.c.id_hash == digest).values(last_seen=now)
                )
        return True

    def revoke(self, session_id: str, now: datetime) -> None:
        with private_transaction(self.engine) as conn:
            conn.execute(
                update(_sessions)
                .where(_sessions.c.id_hash == _digest(session_id), _sessions.c.revoked.is_(None))
                .values(revoked=now)
            )

    def revoke_all(self, account_id: int, now: datetime) -> int:
        with private_transaction(self.engine) as conn:
            return revoke_account(conn, account_id, now)

    def live(self, account_id: int, now: datetime) -> int:
        """How many live sessions ``account_id`` has."""
        with self.engine.connect() as conn:
            return len(
                conn.scalars(
                    select(_sessions.c.id_hash).where(
                        _sessions.c.account_id == account_id,
                        _sessions.c.revoked.is_(None),
                        _sessions.c.created > now - self.lifetime,
                    )
                ).all()
            )
