"""Password hashing with argon2id (RFC 9106), through argon2-cffi.

The parameters default to RFC 9106's second recommended option ("low
memory": t=3, m=64 MiB, p=4), argon2-cffi's own default.  A stored hash
carries its parameters, so a hash made under older ones still verifies, and
:meth:`Passwords.needs_rehash` tells the sign-in to store a new one.
"""

from __future__ import annotations

import secrets
import threading

from argon2 import Parameters, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.profiles import RFC_9106_LOW_MEMORY

from server.private.errors import PrivateStoreError

__all__ = ["DEFAULT_PARAMETERS", "Passwords", "StoredHashError"]

DEFAULT_PARAMETERS = RFC_9106_LOW_MEMORY


class StoredHashError(PrivateStoreError):
    """A stored password hash that is not an argon2 hash (a damaged row)."""


class Passwords:
    """Hashes and checks passwords with one set of argon2 parameters."""

    def __init__(self, parameters: Parameters = DEFAULT_PARAMETERS) -> None:
        self._parameters = parameters
        self._hasher = PasswordHasher.from_parameters(parameters)
        self._dummy: str | None = None
        self._lock = threading.Lock()

    @property
    def parameters(self) -> Parameters:
        return self._parameters

    def hash(self, password: str) -> str:
        """The PHC string ``$argon2id$v=19$m=...,t=...,p=...$salt$hash``."""
        return self._hasher.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        """Whether ``password`` matches ``stored``; :class:`StoredHashError`
        if ``stored`` is not an argon2 hash at all."""
        try:
            return self._hasher.verify(stored, password)
        except VerifyMismatchError:
            return False
        except InvalidHashError as e:
            raise StoredHashError("a stored password hash is not an argon2 hash") from e
        except VerificationError:
            return False

    def needs_rehash(self, stored: str) -> bool:
        """Whether ``stored`` was made with other parameters than ours."""
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError as e:
            raise StoredHashError("a stored password hash is not an argon2 hash") from e

    def waste_time(self, password: str) -> None:
        """Spend what a verification costs, for a username with no account,
        so that the answer's timing does not tell which usernames exist."""
        if self._dummy is None:
            with self._lock:
                if self._dummy is None:
                    self._dummy = self.hash(secrets.token_urlsafe(16))
        self.verify(self._dummy, password)
