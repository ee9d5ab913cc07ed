"""How many password hashes the whole deployment computes at once.

An argon2id hash with the default parameters takes 64 MiB and most of a
core for a fraction of a second.  Limits on attempts per address and per
username bound how many guesses get *in*; they do not bound how many are
hashed *at the same moment*: sixteen sign-ins arriving together on two
workers are sixteen hashes, which stall every other request of the
machine.  So a hash needs a slot, and there are ``size`` slots
(``MUTUALOG_HASH_SLOTS``) for the whole deployment, across every worker
and machine.

A slot is a row of ``hash_leases``, taken in the same locked transaction
that admits the attempt (:meth:`server.private.throttle.RequestLimits.admit`)
and deleted when the hash is done.  Each row carries an expiry (the lease,
``MUTUALOG_HASH_LEASE`` seconds): a worker killed in the middle of a hash
frees its slot when the lease runs out instead of holding it for ever.
When every slot is taken the request is refused at once with
:class:`HashBusyError`, having hashed nothing; waiting for a slot would
hold a worker, which is what the bound is there to prevent.

Why the database and not a semaphore per process: a semaphore sized
"slots ÷ workers" holds only while the worker count is known and equal
everywhere, and cannot see another machine; a row per hash is exact for
any number of processes, and costs one write in a transaction the attempt
needed anyway (docs/security.md).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Table, delete, func, insert, select

from server.config import ConfigError
from server.models import HashLeaseRow
from server.private.errors import HashBusyError

__all__ = ["DEFAULT_LEASE", "DEFAULT_SLOTS", "HashSlots"]

_leases = cast(Table, HashLeaseRow.__table__)

#: Two hashes at once: on a two-core machine, the rest of the server keeps a core.
DEFAULT_SLOTS = 2
#: Far longer than a hash takes (a fraction of a second), short enough that a
#: killed worker's slot comes back soon.
DEFAULT_LEASE = timedelta(seconds=30)
#: What a refused request is told to wait: a hash is over well within it.
_RETRY_AFTER = 1


class HashSlots:
    """At most ``size`` hashes in flight across the deployment."""

    def __init__(self, size: int = DEFAULT_SLOTS, lease: timedelta = DEFAULT_LEASE) -> None:
        if size < 1 or lease <= timedelta(0):
            raise ConfigError(
                f"hash slots: needs at least 1 slot and a positive lease, got {size} and {lease}"
            )
        self.size = size
        self.lease = lease

    def take(self, conn: Connection, now: datetime) -> str:
        """A slot's token, or :class:`HashBusyError`; ``conn`` is a private
        write transaction (the lock makes count-then-insert atomic)."""
        conn.execute(delete(_leases).where(_leases.c.expires <= now))
        held = conn.scalar(select(func.count()).select_from(_leases)) or 0
        if held >= self.size:
            raise HashBusyError(
                f"all {self.size} password-hashing slots are in use: try again in a moment",
                _RETRY_AFTER,
            )
        token = secrets.token_hex(16)
        conn.execute(insert(_leases).values(token=token, expires=now + self.lease))
        return token

    def give_back(self, conn: Connection, token: str) -> None:
        conn.execute(delete(_leases).where(_leases.c.token == token))

    def held(self, conn: Connection, now: datetime) -> int:
        """How many slots are taken at ``now``."""
        return int(
            conn.scalar(select(func.count()).select_from(_leases).where(_leases.c.expires > now))
            or 0
        )
