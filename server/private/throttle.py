"""Rate-limited sign-in: failed attempts counted per username and address.

The count lives in the database (``login_attempts``), not in a process, so
the limit holds however many gunicorn workers and machines share it.  An
attempt is recorded *before* its password is checked, in the same locked
transaction that counts the earlier ones: parallel guesses cannot all slip
in under the limit.  A successful sign-in deletes the key's rows (the count
resets); a failed one leaves its row to expire with the window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Engine, Table, delete, insert, select

from server.config import ConfigError
from server.models import LoginAttemptRow
from server.private._tx import private_transaction
from server.private.errors import LoginThrottledError

__all__ = ["DEFAULT_POLICY", "LoginThrottle", "ThrottlePolicy"]

_attempts = cast(Table, LoginAttemptRow.__table__)

#: Column widths of login_attempts: longer input is cut, never refused, so
#: a hostile username cannot make the throttle itself fail.
_KEY_LENGTH = 64


@dataclass(frozen=True)
class ThrottlePolicy:
    """At most ``max_failures`` failed sign-ins per username and address in
    any ``window``."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.max_failures < 1 or self.window <= timedelta(0):
            raise ConfigError(
                f"login throttle: needs at least 1 failure in a positive window, got "
                f"{self.max_failures} in {self.window}"
            )


DEFAULT_POLICY = ThrottlePolicy()


class LoginThrottle:
    """Counts sign-in attempts in ``engine`` under ``policy``."""

    def __init__(self, engine: Engine, policy: ThrottlePolicy = DEFAULT_POLICY) -> None:
        self._engine = engine
        self.policy = policy

    def begin_attempt(self, username: str, address: str, now: datetime) -> None:
        """Record an attempt, or raise :class:`LoginThrottledError` without
        recording it if the key already has ``max_failures`` in the window.

        The attempt counts as a failure until :meth:`succeeded` clears it.
        """
        username, address = username[:_KEY_LENGTH], address[:_KEY_LENGTH]
        cutoff = now - self.policy.window
        with private_transaction(self._engine) as conn:
            conn.execute(delete(_attempts).where(_attempts.c.at <= cutoff))
            times = list(
                conn.scalars(
                    select(_attempts.c.at)
                    .where(_attempts.c.username == username, _attempts.c.address == address)
                    .order_by(_attempts.c.at.desc())
                    .limit(self.policy.max_failures)
                )
            )
            if len(times) >= self.policy.max_failures:
                # The oldest of the newest max_failures must leave the window
                # before one more attempt fits.
                free_at: datetime = times[-1] + self.policy.window
                wait = max(1, math.ceil((free_at - now).total_seconds()))
                minutes = math.ceil(wait / 60)
                raise LoginThrottledError(
                    f"too many failed sign-ins for this username from your address: "
                    f"try again in {minutes} minute{'s' if minutes != 1 else ''}",
                    retry_after=wait,
                )
            conn.execute(insert(_attempts).values(username=username, address=address, at=now))

    def succeeded(self, username: str, address: str) -> None:
        """Forget the key's failures: a correct password resets the count."""
        username, address = username[:_KEY_LENGTH], address[:_KEY_LENGTH]
        with private_transaction(self._engine) as conn:
            conn.execute(
                delete(_attempts).where(
                    _attempts.c.username == username, _attempts.c.address == address
                )
            )

    def failures(self, username: str, address: str, now: datetime) -> int:
        """How many failures the key has in the window ending at ``now``."""
        username, address = username[:_KEY_LENGTH], address[:_KEY_LENGTH]
        with self._engine.connect() as conn:
            return len(
                conn.scalars(
                    select(_attempts.c.id).where(
                        _attempts.c.username == username,
                        _attempts.c.address == address,
                        _attempts.c.at > now - self.policy.window,
                    )
                ).all()
            )
