"""Accounts: who may sign in to the web pages, and as what.

An account has a username, an argon2 password hash, a role (``member`` or
``operator``) and, for a member who has joined the pool, the pseudonymous
member id under which the log knows them (:mod:`server.private.members`
sets it).  The username never enters the log; the member id is the only
link between an account and the log, and only this table holds it.

The rules, shared by the web forms and ``mutualog-server create-operator``:

* a username is 3 to 32 characters of ``a-z 0-9 _ . -``, starting with a
  letter or digit, compared case-insensitively (stored lower-case);
* a password is 10 to 256 characters (NIST SP 800-63B: length, not
  composition rules) and may not be the username.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Engine, Table, insert, select, update
from sqlalchemy.exc import IntegrityError

from server.models import AccountRow
from server.private._tx import private_transaction
from server.private.errors import (
    InvalidInputError,
    LoginRefusedError,
    UnknownAccountError,
    UsernameTakenError,
)
from server.private.passwords import Passwords
from server.private.throttle import LoginThrottle

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
MIN_PASSWORD = 10
MAX_PASSWORD = 256
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


def check_password(password: str, username: str) -> None:
    """``None``, or :class:`InvalidInputError` saying which rule ``password`` breaks."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInputError(
            "password",
            f"a password needs at least {MIN_PASSWORD} characters",
            "password.short",
            least=MIN_PASSWORD,
        )
    if len(password) > MAX_PASSWORD:
        raise InvalidInputError(
            "password",
            f"a password may have at most {MAX_PASSWORD} characters",
            "password.long",
            most=MAX_PASSWORD,
        )
    if password.strip().lower() == username.lower():
        raise InvalidInputError(
            "password", "the password may not be the username", "password.is_username"
        )


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
    """Registration, sign-in and look-ups over the ``accounts`` table."""

    def __init__(self, engine: Engine, passwords: Passwords, throttle: LoginThrottle) -> None:
        self._engine = engine
        self.passwords = passwords
        self.throttle = throttle

    def register(
        self, username: str, password: str, now: datetime, role: Role = Role.MEMBER
    ) -> Account:
        """Create an account; :class:`InvalidInputError` for a username or
        password that breaks the rules, :class:`UsernameTakenError` for a
        username in use (in any letter case)."""
        name = normalize_username(username)
        check_password(password, name)
        hashed = self.passwords.hash(password)
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

        Raises :class:`LoginThrottledError` (before checking anything) when
        the username and ``address`` have used up their failures, and
        :class:`LoginRefusedError` — the same for an unknown username as for
        a wrong password, and taking as long — otherwise.  A correct
        password resets the failure count, and a hash made with other
        argon2 parameters than the current ones is replaced.
        """
        key = username.lower()
        self.throttle.begin_attempt(key, address, now)
        with self._engine.connect() as conn:
            row = conn.execute(
                select(*_COLUMNS, _accounts.c.password_hash).where(_accounts.c.username == key)
            ).one_or_none()
        if row is None or len(password) > MAX_PASSWORD:
            self.passwords.waste_time(password[:MAX_PASSWORD])
            raise LoginRefusedError("wrong username or password", "login.refused")
        if not self.passwords.verify(row.password_hash, password):
            raise LoginRefusedError("wrong username or password", "login.refused")
        self.throttle.succeeded(key, address)
        if self.passwords.needs_rehash(row.password_hash):
            self._set_hash(row.id, self.passwords.hash(password))
        return _account(row)

    def set_password(self, account_id: int, password: str) -> None:
        """Replace an account's password (rules as at registration)."""
        account = self.get(account_id)
        if account is None:
            raise UnknownAccountError(f"no account with id {account_id}")
        check_password(password, account.username)
        self._set_hash(account_id, self.passwords.hash(password))

    def _set_hash(self, account_id: int, hashed: str) -> None:
        with private_transaction(self._engine) as conn:
            conn.execute(
                update(_accounts).where(_accounts.c.id == account_id).values(password_hash=hashed)
            )

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
