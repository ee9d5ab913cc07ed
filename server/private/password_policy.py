"""What a password must be: long enough, and not one that is guessed first.

NIST SP 800-63B §5.1.1.2: a length bound, no composition rules, and a
check against values "commonly used, expected, or compromised".  The rules,
shared by the web forms, the password change and reset, and
``mutualog-server create-operator``:

* 10 to 256 characters (``password.short``, ``password.long``);
* not the username (``password.is_username``);
* at least 5 different characters (``password.few_characters``: ten spaces,
  ``aaaaaaaaaa``, ``ababababab``);
* not one run of consecutive characters up or down (``password.sequence``:
  ``abcdefghij``, ``9876543210``);
* not among the 20,000 most common passwords, compared lower-cased, as
  typed and with the digits and symbols at its end taken off
  (``password.common``: ``1234567890``, ``password12``, ``woaini1314``,
  ``qwertyuiop``, ``Sunshine1987!``).

The list is the one Django ships (``common-passwords.txt.gz``, BSD-3-Clause;
compiled by Royce Williams from leaked password corpora, lower-cased and
de-duplicated); docs/dependencies.md says why a list and not zxcvbn.  It
is read once per process, on first use (~20,000 short strings).
"""

from __future__ import annotations

import gzip
import itertools
import re
import threading
from pathlib import Path

from server.private.errors import InvalidInputError

__all__ = [
    "COMMON_PASSWORDS",
    "MAX_PASSWORD",
    "MIN_DISTINCT",
    "MIN_PASSWORD",
    "check_password",
    "is_common",
]

MIN_PASSWORD = 10
MAX_PASSWORD = 256
MIN_DISTINCT = 5
COMMON_PASSWORDS = Path(__file__).with_name("common-passwords.txt.gz")

#: What people add to a common word to pass a length rule: digits and symbols.
_TAIL = re.compile(r"[\d\W_]+$")
#: A tail longer than a year and two symbols is no longer the common word's.
_MAX_TAIL = 6
#: A stem shorter than this is too short to call the password common.
_MIN_STEM = 4

_lock = threading.Lock()
_common: frozenset[str] | None = None


def _common_passwords() -> frozenset[str]:
    global _common
    if _common is None:
        with _lock:
            if _common is None:
                with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as f:
                    _common = frozenset(line.strip() for line in f if line.strip())
    return _common


def is_common(password: str) -> bool:
    """Whether ``password`` is, or is a common one with a short tail of
    digits and symbols added."""
    common = _common_passwords()
    text = password.strip().lower()
    if text in common or "".join(text.split()) in common:
        return True
    stem = _TAIL.sub("", text)
    return len(stem) >= _MIN_STEM and len(text) - len(stem) <= _MAX_TAIL and stem in common


def _is_sequence(password: str) -> bool:
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(password)}
    return steps in ({1}, {-1})


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
    if len(set(password)) < MIN_DISTINCT:
        raise InvalidInputError(
            "password",
            f"a password needs at least {MIN_DISTINCT} different characters",
            "password.few_characters",
            least=MIN_DISTINCT,
        )
    if _is_sequence(password):
        raise InvalidInputError(
            "password",
            "a password may not be one run of consecutive characters",
            "password.sequence",
        )
    if is_common(password):
        raise InvalidInputError(
            "password",
            "this password is among the most common ones, which are guessed first",
            "password.common",
        )
