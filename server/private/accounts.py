"""Accounts: who may sign in to the web pages, and as what.

An account has a username, an argon2 password hash, a role (``member`` or
``operator``) and, for a member who has joined the pool, the pseudonymous
member id under which the log knows them (:mod:`server.private.members`
sets it).  The username never enters the log; the member id is the only
link between an account and the log, and only this table holds it.

The rules, shared by the web forms and ``mutualog-server create-operator``:

* a username is 3 to 32 characters of ``a-z 0-9 _ . -``, starting with a
  letter or digit, compared case-insensitively (stored lower-case);
* a password follows :mod:`server.private.password_policy` (10 to 256
  characters, not the username, not a common password).

Every password hash a request causes (sign-in, registration from the web,
a password change or reset) is admitted first by the request limits and
takes one of the deployment's hashing slots (:mod:`server.private.throttle`,
:mod:`server.private.hash_slots`), so neither a flood of guesses nor one of
registrations can make the server hash without bound.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, insert, select, update
from sqlalchemy.exc import IntegrityError

from server.models import AccountRow
from server.private._tx import private_transaction
from server.private.errors import (
    InvalidInputError,
    LoginRefusedError,
    UnknownAccountError,
    UsernameTakenError,
)
from server.private.hash_slots import HashSlots
from server.private.password_policy import MAX_PASSWORD, MIN_PASSWORD, check_password
from server.private.passwords import Passwords
from server.private.resets import IssuedReset, issue_reset, live_reset, spend_reset
from server.private.sessions import revoke_account
from server.private.throttle import Action, Admission, RequestLimits

__all__ = [
    "MAX_PASSWORD",
    "MAX_USERNAME",
    "MIN_PASSWORD",
    "MIN_USERNAME",
    "Account",
    "Accounts",
    "Role",
    "check_password",
    "normalize_username",
]

_accounts = cast(Table, AccountRow.__table__)

MIN_USERNAME = 3
MAX_USERNAME = 32
_USERNAME = re.compile(r"[a-z0-9][a-z0-9_.-]*")


class Role(StrEnum):
    MEMBER = "member"
    OPERATOR = "operator"


@dataclass(frozen=True)
class Account:
    """An account as the rest of the server sees it: never the hash."""

    id: int
    username: str
    role: Role
    member_id: str | None
    created: datetime


def normalize_username(text: str) -> str:
    """``text`` lower-cased, or :class:`InvalidInputError` saying which rule it breaks."""
    name = text.lower()
    if not MIN_USERNAME <= len(name) <= MAX_USERNAME:
        raise InvalidInputError(
            "username",
            f"a username has {MIN_USERNAME} to {MAX_USERNAME} characters, this one has {len(name)}",
            "username.length",
            least=MIN_USERNAME,
            most=MAX_USERNAME,
            length=len(name),
        )
    if not _USERNAME.fullmatch(name):
        raise InvalidInputError(
            "username",
            "a username may use only letters a-z, digits, '_', '.' and '-', "
            "and must start with a letter or digit",
            "username.chars",
        )
    return name


def _account(row: Any) -> Account:
    return Account(
        id=row.id,
        username=row.username,
        role=Role(row.role),
        member_id=row.member_id,
        created=row.created,
    )


_COLUMNS = (
    _accounts.c.id,
    _accounts.c.username,
    _accounts.c.role,
    _accounts.c.member_id,
    _accounts.c.created,
)


class Accounts:
    """Registration, sign-in, password changes and resets over the
    ``accounts`` table, each hash admitted by ``limits`` and ``slots``."""

    def __init__(
        self,
        engine: Engine,
        passwords: Passwords,
        limits: RequestLimits,
        slots: HashSlots | None = None,
    ) -> None:
        self._engine = engine
        self.passwords = passwords
        self.limits = limits
        self.slots = slots or HashSlots()

    def _admit(self, action: Action, address: str, username: str, now: datetime) -> Admission:
        return self.limits.admit(action, address, username, now, self.slots)

    def _finish(self, admission: Admission, *, succeeded: bool) -> None:
        self.limits.finish(admission, self.slots, succeeded=succeeded)

    def register(
        self,
        username: str,
        password: str,
        now: datetime,
        role: Role = Role.MEMBER,
        address: str | None = None,
    ) -> Account:
        """Create an account; :class:`InvalidInputError` for a username or
        password that breaks the rules, :class:`UsernameTakenError` for a
        username in use (in any letter case).

        From the web (``address`` given) the registration is limited per
        address and for the server, and its hash takes a slot; a taken
        username costs the same hash as a free one, so the answer's timing
        does not tell them apart either.
        """
        name = normalize_username(username)
        check_password(password, name)
        if address is None:
            hashed = self.passwords.hash(password)
        else:
            admission = self._admit(Action.REGISTER, address, name, now)
            try:
                hashed = self.passwords.hash(password)
            finally:
                self._finish(admission, succeeded=True)
        taken = UsernameTakenError(
            f"the username {name!r} is already taken", "account.username_taken", username=name
        )
        try:
            with private_transaction(self._engine) as conn:
                if conn.scalar(select(_accounts.c.id).where(_accounts.c.username == name)):
                    raise taken
                row = conn.execute(
                    insert(_accounts)
                    .values(username=name, password_hash=hashed, role=role.value, created=now)
                    .returning(*_COLUMNS)
                ).one()
        except IntegrityError as e:
            # Only reachable if the lock were bypassed; the constraint still holds.
            raise taken from e
        return _account(row)

    def authenticate(self, username: str, password: str, address: str, now: datetime) -> Account:
        """The account ``username`` names if ``password`` is its password.

        Raises :class:`RequestLimitedError` (its :class:`LoginThrottledError`
        for this username and address) or :class:`HashBusyError` before
        checking anything, and :class:`LoginRefusedError` — the same for an
        unknown username as for a wrong password, and costing the same
        hash — otherwise.  A correct password resets the failure count, and
        a hash made with other argon2 parameters than the current ones is
        replaced.
        """
        admission = self._admit(Action.SIGNIN, address, username, now)
        succeeded = False
        try:
            account, stored = self._verify(username, password)
            if self.passwords.needs_rehash(stored):
                self._set_hash(account.id, self.passwords.hash(password))
            succeeded = True
        finally:
            self._finish(admission, succeeded=succeeded)
        return account

    def _verify(self, username: str, password: str) -> tuple[Account, str]:
        """The account and its stored hash, or :class:`LoginRefusedError`;
        one argon2 verification either way (the caller holds a slot)."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(*_COLUMNS, _accounts.c.password_hash).where(
                    _accounts.c.username == username.lower()
                )
            ).one_or_none()
        if row is None or len(password) > MAX_PASSWORD:
            self.passwords.waste_time(password[:MAX_PASSWORD])
            raise LoginRefusedError("wrong username or password", "login.refused")
        if not self.passwords.verify(row.password_hash, password):
            raise LoginRefusedError("wrong username or password", "login.refused")
        return _account(row), row.password_hash

    def change_password(
        self, account_id: int, current: str, new: str, address: str, now: datetime
    ) -> Account:
        """Replace the password of ``account_id`` after checking ``current``
        (a wrong one counts as a failed sign-in), and revoke every session
        of the account; the caller starts a new one for the browser that
        asked."""
        account = self.get(account_id)
        if account is None:
            raise UnknownAccountError(f"no account with id {account_id}")
        check_password(new, account.username)
        admission = self._admit(Action.SIGNIN, address, account.username, now)
        succeeded = False
        try:
            self._verify(account.username, current)
            hashed = self.passwords.hash(new)
            with private_transaction(self._engine) as conn:
                self._store_hash(conn, account_id, hashed)
                revoke_account(conn, account_id, now)
            succeeded = True
        finally:
            self._finish(admission, succeeded=succeeded)
        return account

    def issue_reset(self, username: str, now: datetime, valid: timedelta) -> IssuedReset:
        """A one-time reset code for the account ``username`` names."""
        account = self.by_username(username)
        if account is None:
            raise UnknownAccountError(f"no account is called {username.lower()!r}")
        return issue_reset(self._engine, account.id, now, valid)

    def redeem_reset(self, code: str, new: str, address: str, now: datetime) -> Account:
        """Set a new password with a live reset ``code`` (spent, once), and
        revoke every session of the account; :class:`ResetCodeError` for a
        wrong, expired or used code."""
        admission = self._admit(Action.RESET, address, "", now)
        try:
            account = self.get(live_reset(self._engine, code, now))
            if account is None:
                raise UnknownAccountError("the reset code's account is gone")
            check_password(new, account.username)
            hashed = self.passwords.hash(new)
            with private_transaction(self._engine) as conn:
                spend_reset(conn, code, account.id, now)
                self._store_hash(conn, account.id, hashed)
                revoke_account(conn, account.id, now)
        finally:
            self._finish(admission, succeeded=True)
        return account

    def set_password(self, account_id: int, password: str) -> None:
        """Replace an account's password (rules as at registration)."""
        account = self.get(account_id)
        if account is None:
            raise UnknownAccountError(f"no account with id {account_id}")
        check_password(password, account.username)
        self._set_hash(account_id, self.passwords.hash(password))

    @staticmethod
    def _store_hash(conn: Connection, account_id: int, hashed: str) -> None:
        conn.execute(
            update(_accounts).where(_accounts.c.id == account_id).values(password_hash=hashed)
        )

    def _set_hash(self, account_id: int, hashed: str) -> None:
        with private_transaction(self._engine) as conn:
            self._store_hash(conn, account_id, hashed)

    def get(self, account_id: int) -> Account | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(*_COLUMNS).where(_accounts.c.id == account_id)).one_or_none()
        return None if row is None else _account(row)

    def by_username(self, username: str) -> Account | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(*_COLUMNS).where(_accounts.c.username == username.lower())
            ).one_or_none()
        return None if row is None else _account(row)

    def by_member(self, member_id: str) -> Account | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(*_COLUMNS).where(_accounts.c.member_id == member_id)
            ).one_or_none()
        return None if row is None else _account(row)
