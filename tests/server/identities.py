"""Valid synthetic identities for tests that join members: resident ID
numbers (GB 11643-1999) with a chosen birth date, and mobile numbers."""

from __future__ import annotations

import zlib
from datetime import date, timedelta

from server.private.identity import make_id_number

__all__ = ["ADULT_BORN", "id_number", "mobile"]

#: A birth date in the 18-39 band for every clock the tests use (2025-2027).
ADULT_BORN = date(1990, 3, 7)


def id_number(label: str, n: int = 0, born: date | None = None) -> str:
    """A valid ID number, different for each ``(label, n)``: born on
    ``born`` (by default ``n`` days after :data:`ADULT_BORN`), its serial
    taken from ``label``."""
    day = born if born is not None else ADULT_BORN + timedelta(days=n)
    serial = (zlib.crc32(label.encode()) + (n if born is not None else 0)) % 1000
    return make_id_number("110105", day, serial)


def mobile(n: int = 0) -> str:
    """A valid mainland mobile number, as people write it."""
    return f"+86 138 {n % 10000:04d} {n // 10000 % 10000:04d}"
