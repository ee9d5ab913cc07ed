"""Mainland identities: resident ID numbers, mobile numbers, and the age
band a birth date gives on a day.

An ID number is checked as GB 11643-1999 defines it: 18 characters, 17
digits and a check character (``0``-``9`` or ``X``), the check character
being ISO 7064 MOD 11-2 of the first 17; digits 7-14 are the birth date,
which must be a real date, not before 1900 and not after the day of the
check.  The first six digits are the region of first registration; only
their first digit is checked (1-9), because the region table changes with
every redistricting and a stale copy would refuse real people.  Input is
taken as people type it: full-width digits and letters are read
through NFKC, a lower-case ``x`` is upper-cased, spaces are dropped.

A mobile number is checked as the mainland numbering plan gives it: after
spaces, dashes, dots and parentheses are removed and an optional ``+86`` or
``0086`` prefix, ``1``, then ``3``-``9``, then nine digits.

The age band is never chosen by a member: :func:`age_band_on` derives it
from the birth date, on the day that matters (the day of joining, the day
of a diagnosis).  Ages are counted in whole years on the Chinese calendar
day: the day a person turns 18 they are in the 18-39 band.

Every refusal is an :class:`~server.private.errors.InvalidInputError` with
its field, a stable code and the parameters a page needs to say it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from server.private.errors import InvalidInputError
from verifiable.log.bodies import AgeBand

__all__ = [
    "CHINA",
    "EARLIEST_BIRTH",
    "IdNumber",
    "age_band_on",
    "age_on",
    "check_character",
    "china_date",
    "make_id_number",
    "parse_id_number",
    "parse_mobile",
]

#: China's civil time (no daylight saving since 1991): birthdays and the
#: day of joining are dates there, whatever the server's zone.
CHINA = timezone(timedelta(hours=8))
#: GB 11643 numbers carry the full year; nobody born before this is a member.
EARLIEST_BIRTH = date(1900, 1, 1)
#: The youngest member: 30 days old (the plan covers from 30 days of age).
YOUNGEST_DAYS = 30

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_SEPARATORS = re.compile(r"[\s\-.()]")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
#: The bands by the age (in whole years) at which each begins, oldest first.
_BANDS = ((40, AgeBand.FROM_40_TO_59), (18, AgeBand.FROM_18_TO_39), (0, AgeBand.UNDER_18))
_OLDEST = 59


def china_date(moment: datetime) -> date:
    """The calendar day in China at the aware ``moment``."""
    return moment.astimezone(CHINA).date()


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of 17 digits (GB 11643-1999)."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def make_id_number(region: str, born: date, serial: int) -> str:
    """A well-formed ID number: a six-digit ``region``, ``born``, a
    three-digit ``serial`` (odd for a man, even for a woman) and the check
    character.  For synthetic identities (the demo, tests)."""
    first17 = f"{region}{born:%Y%m%d}{serial:03d}"
    return first17 + check_character(first17)


@dataclass(frozen=True)
class IdNumber:
    """A checked resident ID number, in its one normal form (18 ASCII
    characters, an upper-case ``X``), and the birth date it carries."""

    text: str
    born: date


def parse_id_number(text: str, today: date) -> IdNumber:
    """The ID number in ``text`` checked as of ``today``; refuses with the
    first rule it breaks, in the order a person would correct them."""
    normal = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()
    if len(normal) != 18:
        raise InvalidInputError(
            "id_number",
            f"an ID number has 18 characters, not {len(normal)}",
            "id_number.length",
            length=len(normal),
        )
    if not _ID_SHAPE.fullmatch(normal):
        raise InvalidInputError(
            "id_number",
            "an ID number has 17 digits and then a digit or X",
            "id_number.chars",
        )
    if normal[0] == "0":
        raise InvalidInputError(
            "id_number",
            "an ID number begins with a region code from 1 to 9",
            "id_number.region",
        )
    try:
        born = date(int(normal[6:10]), int(normal[10:12]), int(normal[12:14]))
    except ValueError:
        raise InvalidInputError(
            "id_number",
            f"characters 7 to 14 of an ID number are the birth date; {normal[6:14]} is no real "
            "date",
            "id_number.birth_date",
        ) from None
    if born < EARLIEST_BIRTH or born > today:
        raise InvalidInputError(
            "id_number",
            f"the birth date in an ID number is from 1900 to today, not {born.isoformat()}",
            "id_number.birth_range",
        )
    if normal[17] != check_character(normal[:17]):
        raise InvalidInputError(
            "id_number",
            "the last character of this ID number does not match the others: check each digit",
            "id_number.check",
        )
    return IdNumber(text=normal, born=born)


def parse_mobile(text: str) -> str:
    """A mainland mobile number in ``text``, as its 11 digits."""
    normal = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    for prefix in ("+86", "0086"):
        if normal.startswith(prefix):
            normal = normal[len(prefix) :]
            break
    if not _MOBILE.fullmatch(normal):
        raise InvalidInputError(
            "phone",
            "a mobile number is 11 digits: 1, then 3 to 9, then nine digits "
            "(+86 in front is allowed)",
            "phone.mobile",
        )
    return normal


def age_on(born: date, day: date) -> int:
    """Whole years from ``born`` to ``day`` (someone born on 29 February
    turns a year older on 1 March in a common year)."""
    years = day.year - born.year
    if (day.month, day.day) < (born.month, born.day):
        years -= 1
    return years


def age_band_on(born: date, day: date) -> AgeBand | None:
    """The band of someone born on ``born``, on ``day``: ``None`` before 30
    days of age and from 60 years, when no band covers them."""
    if (day - born).days < YOUNGEST_DAYS:
        return None
    age = age_on(born, day)
    if age > _OLDEST:
        return None
    return next(band for least, band in _BANDS if age >= least)
