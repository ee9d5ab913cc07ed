"""Request limits kept in the database: sign-in, registration and reset.

Every limited request is a row of ``request_attempts`` (action, address,
username, time), not a counter in a process, so each limit holds however
many gunicorn workers and machines share the database.  An attempt is
recorded *before* its work (a password hash) is done, in the same locked
transaction that counts the earlier ones — and, when the work is a hash,
that takes one of the deployment's hashing slots
(:mod:`server.private.hash_slots`): parallel requests cannot all slip in
under a limit, and a refused one costs one short transaction, never a hash.

The limits (:class:`LimitPolicy`), each "at most N in any window":

* sign-in, per username *and* address (``login.throttled``), per address
  (any username), per username (any address) and for the whole server.
  A correct password deletes its attempt and the key's earlier ones, so
  for sign-ins the rows count failures: members sharing an address (a
  village behind one carrier address) spend the address's allowance only
  by mistyping;
* registration, per address and for the whole server (every registration
  counts: what is limited is creating accounts);
* redeeming a password-reset code, per address and for the whole server.

A refused attempt is not recorded, so the table never holds more than the
server-wide limits allow, and a flood is answered by one indexed count.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import cast

from sqlalchemy import ColumnElement, Connection, Engine, Table, delete, insert, select

from server.config import ConfigError
from server.models import RequestAttemptRow
from server.private._tx import private_transaction
from server.private.errors import LoginThrottledError, RequestLimitedError
from server.private.hash_slots import HashSlots

__all__ = [
    "DEFAULT_POLICY",
    "Action",
    "Admission",
    "Limit",
    "LimitPolicy",
    "RequestLimits",
    "Scope",
]

_attempts = cast(Table, RequestAttemptRow.__table__)

#: Column widths of request_attempts: longer input is cut, never refused, so
#: a hostile username cannot make the limit itself fail.
_KEY_LENGTH = 64


class Action(StrEnum):
    SIGNIN = "signin"
    REGISTER = "register"
    RESET = "reset"


class Scope(StrEnum):
    """What one limit counts attempts by."""

    KEY = "key"  # username and address together
    ADDRESS = "address"
    USERNAME = "username"
    SERVER = "server"


@dataclass(frozen=True)
class Limit:
    """At most ``most`` attempts in any ``window``."""

    most: int
    window: timedelta

    def __post_init__(self) -> None:
        if self.most < 1 or self.window <= timedelta(0):
            raise ConfigError(
                f"request limit: needs at least 1 attempt in a positive window, got "
                f"{self.most} in {self.window}"
            )


_MINUTES_15 = timedelta(minutes=15)
_HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class LimitPolicy:
    """Every limit, by action and scope (module docstring)."""

    limits: Mapping[Action, Mapping[Scope, Limit]] = field(
        default_factory=lambda: {
            Action.SIGNIN: {
                Scope.KEY: Limit(5, _MINUTES_15),
                Scope.ADDRESS: Limit(30, _MINUTES_15),
                Scope.USERNAME: Limit(20, _MINUTES_15),
                Scope.SERVER: Limit(1000, _MINUTES_15),
            },
            Action.REGISTER: {
                Scope.ADDRESS: Limit(5, _HOUR),
                Scope.SERVER: Limit(100, _HOUR),
            },
            Action.RESET: {
                Scope.ADDRESS: Limit(10, _MINUTES_15),
                Scope.SERVER: Limit(100, _MINUTES_15),
            },
        }
    )

    def of(self, action: Action) -> Mapping[Scope, Limit]:
        return self.limits.get(action, {})

    def longest(self, action: Action) -> timedelta:
        """The longest window of ``action``'s limits: older rows count for none."""
        return max((limit.window for limit in self.of(action).values()), default=_HOUR)


DEFAULT_POLICY = LimitPolicy()


@dataclass(frozen=True)
class Admission:
    """An attempt let in: its row, and the hashing slot it holds (if any)."""

    attempt_id: int
    action: Action
    username: str
    address: str
    lease: str | None


def _cut(text: str) -> str:
    return text[:_KEY_LENGTH]


def _refusal(action: Action, scope: Scope, wait: int) -> RequestLimitedError:
    minutes = math.ceil(wait / 60)
    later = f"try again in {minutes} minute{'s' if minutes != 1 else ''}"
    if action is Action.SIGNIN and scope is Scope.KEY:
        return LoginThrottledError(
            f"too many failed sign-ins for this username from your address: {later}", wait
        )
    if scope is Scope.USERNAME:
        return RequestLimitedError(
            f"too many failed sign-ins for this username: {later}", wait, "limit.username"
        )
    if scope is Scope.ADDRESS:
        return RequestLimitedError(
            f"too many attempts from your address: {later}", wait, "limit.address"
        )
    return RequestLimitedError(
        f"the server is receiving too many of these requests: {later}", wait, "limit.server"
    )


class RequestLimits:
    """Counts attempts in ``engine`` under ``policy``."""

    def __init__(self, engine: Engine, policy: LimitPolicy = DEFAULT_POLICY) -> None:
        self._engine = engine
        self.policy = policy

    def _where(
        self, action: Action, scope: Scope, username: str, address: str
    ) -> Iterator[ColumnElement[bool]]:
        yield _attempts.c.action == action.value
        if scope in (Scope.KEY, Scope.USERNAME):
            yield _attempts.c.username == username
        if scope in (Scope.KEY, Scope.ADDRESS):
            yield _attempts.c.address == address

    def _check(
        self, conn: Connection, action: Action, username: str, address: str, now: datetime
    ) -> None:
        for scope, limit in self.policy.of(action).items():
            # The most-th newest attempt in the window, if there are that many:
            # one row read, whatever the count.
            oldest = conn.scalar(
                select(_attempts.c.at)
                .where(*self._where(action, scope, username, address))
                .where(_attempts.c.at > now - limit.window)
                .order_by(_attempts.c.at.desc())
                .offset(limit.most - 1)
                .limit(1)
            )
            if oldest is not None:
                # That attempt must leave the window before one more fits.
                wait = max(1, math.ceil((oldest + limit.window - now).total_seconds()))
                raise _refusal(action, scope, wait)

    def admit(
        self,
        action: Action,
        address: str,
        username: str,
        now: datetime,
        slots: HashSlots | None = None,
    ) -> Admission:
        """Record an attempt and, given ``slots``, take a hashing slot for it.

        Raises :class:`RequestLimitedError` (a :class:`LoginThrottledError`
        for the sign-in's username-and-address limit) or, when every slot is
        taken, :class:`HashBusyError` — in both cases recording nothing.
        """
        username, address = _cut(username.lower()), _cut(address)
        with private_transaction(self._engine) as conn:
            conn.execute(
                delete(_attempts).where(
                    _attempts.c.action == action.value,
                    _attempts.c.at <= now - self.policy.longest(action),
                )
            )
            self._check(conn, action, username, address, now)
            lease = None if slots is None else slots.take(conn, now)
            attempt_id = conn.execute(
                insert(_attempts)
                .values(action=action.value, address=address, username=username, at=now)
                .returning(_attempts.c.id)
            ).scalar_one()
        return Admission(attempt_id, action, username, address, lease)

    def finish(
        self, admission: Admission, slots: HashSlots | None = None, *, succeeded: bool
    ) -> None:
        """Give back the attempt's slot; a successful sign-in also forgets
        the key's failures (a correct password resets the count)."""
        if admission.lease is None and not (succeeded and admission.action is Action.SIGNIN):
            return
        with private_transaction(self._engine) as conn:
            if admission.lease is not None and slots is not None:
                slots.give_back(conn, admission.lease)
            if succeeded and admission.action is Action.SIGNIN:
                conn.execute(
                    delete(_attempts).where(
                        *self._where(
                            Action.SIGNIN, Scope.KEY, admission.username, admission.address
                        )
                    )
                )

    def failures(self, username: str, address: str, now: datetime) -> int:
        """How many failed sign-ins the username and address have in the
        window of their limit ending at ``now``."""
        window = self.policy.of(Action.SIGNIN)[Scope.KEY].window
        with self._engine.connect() as conn:
            return len(
                conn.scalars(
                    select(_attempts.c.id)
                    .where(
                        *self._where(
                            Action.SIGNIN, Scope.KEY, _cut(username.lower()), _cut(address)
                        )
                    )
                    .where(_attempts.c.at > now - window)
                ).all()
            )
