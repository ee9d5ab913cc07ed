"""The write transaction of the private store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

from server.db import write_transaction

__all__ = ["PRIVATE_LOCK", "private_transaction"]

#: pg_advisory_xact_lock key of private writes: distinct from the
#: sequencer's, so a sign-in never waits for an append.
PRIVATE_LOCK = 0x6D75_7475_7072_6976  # "mutuapriv"


@contextmanager
def private_transaction(engine: Engine) -> Iterator[Connection]:
    """A write transaction for the private tables.

    Read-then-write sequences here (count failures then record one, check a
    username then insert it) must not interleave: SQLite's ``BEGIN
    IMMEDIATE`` and PostgreSQL's advisory lock serialize them.
    """
    with write_transaction(engine, PRIVATE_LOCK) as conn:
        yield conn
