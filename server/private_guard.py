"""Private identifiers in a text bound for the public log.

The log is public and can never be erased, so no text of the pool — an
operator's notice, answer or reason, a member's objection or appeal, a
juror's reason — may carry a person's identifiers into it.
:func:`find_private` looks for them in a text the log's rules already
accepted (:mod:`server.log_texts` calls it, last, on every such text):

(a) any string shaped like a mainland resident ID number (GB 11643-1999:
    17 digits and a check character, ``0``-``9`` or ``X``, whose digits
    7-14 are a real calendar date and whose last character is the
    ISO 7064 MOD 11-2 check of the first 17), or like one of the
    15-digit numbers of the first generation (GB 11643-1989), still
    valid on many old records: a mainland province's code, then six
    digits, then a real date of the 1900s as ``YYMMDD``, then three
    digits (they carry no check character, so the date and the province
    are what keep an ordinary 15-digit number clear);
(b) any mainland mobile number: ``1``, then ``3``-``9``, then nine digits,
    maybe after ``+86`` or ``0086``;
(c) the name, ID number and phone of each member the text concerns (the
    claimant, the objector, the member erased ...), as the private store
    holds them.

Each is looked for after folding both the text and the identifiers the
same way, so that spelling does not hide them:

* each character's compatibility decomposition (NFKD: full-width digits
  and letters, U+FF10-FF19 and U+FF21-FF5A, become ASCII ones, as under
  NFKC) and case folding;
* separators dropped: white space, dashes, dots, parentheses, brackets,
  slashes, underscores and invisible format characters, so
  ``138 1234-5678``, ``(138)12345678`` and ``何 霞 明`` are found.

What is found must stand alone: a match that starts or ends with an ASCII
letter or digit is only taken if the character beside it is not one (or a
separator was dropped in between).  So a 32- or 64-hex id of the log, a
base64 hash or a word never hides a match inside it, while Chinese text
right before a number (``身份证110101…``) is a boundary, as is any
punctuation.  The price: ``tel13812345678``, written without a separator,
is not taken for a phone.  A dropped separator counts as a boundary, so
numbers written with spaces between their groups are joined: an amount
written ``13 800 000 000`` reads as a phone number (write ``13,800,000,000``).

Pure: no database, no request.  The position found is the index, in the
text as given, of the identifier's first character; the identifier itself
is never returned, so a refusal cannot repeat it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from server.private.identity import check_character
from verifiable.log.notice_facts import PROVINCE_REGION

__all__ = [
    "MIN_NAME",
    "MIN_NUMBER",
    "Found",
    "IdentifierKind",
    "PrivateIdentity",
    "find_private",
    "id_number_valid",
    "is_separator",
    "member_needles",
    "old_id_number_valid",
]

#: Folded names shorter than this are not looked for (one character would
#: refuse every text holding it).
MIN_NAME = 2
#: Nor are folded ID numbers and phones of the private store shorter than this.
MIN_NUMBER = 5

# Dropped when folding; a dropped separator is also a boundary.
_SEPARATORS = frozenset(
    "-.()[]{}/\\_"
    "\u00b7\u2022\u2027\u30fb"  # middle dots, bullet, hyphenation point, katakana dot
    "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63"  # hyphens, dashes, minus
)
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9x]")  # folded: X is x
_OLD_ID_SHAPE = re.compile(r"[1-8][0-9]{14}")
_PHONE_SHAPE = re.compile(r"1[3-9][0-9]{9}")
_PHONE_PREFIXES = ("+86", "0086")


class IdentifierKind(StrEnum):
    """What was found; a refusal names it, never the identifier."""

    ID_NUMBER = "id_number"
    """A string shaped like a mainland ID number (anyone's)."""
    PHONE = "phone"
    """A mainland mobile number (anyone's)."""
    NAME = "name"
    """The name of a member the text concerns."""
    MEMBER_ID_NUMBER = "member_id_number"
    """The ID number of a member the text concerns, as stored."""
    MEMBER_PHONE = "member_phone"
    """The phone number of a member the text concerns, as stored."""


@dataclass(frozen=True)
class PrivateIdentity:
    """A member's identifiers as the private store holds them."""

    name: str
    id_number: str
    phone: str


@dataclass(frozen=True, order=True)
class Found:
    """A private identifier at ``position`` (from 0) of the text."""

    position: int
    kind: IdentifierKind


@dataclass(frozen=True)
class _Folded:
    """A text folded: ``chars``; for each, ``origin``, the index of the
    character of the text it comes from; ``gap[k]``, whether a separator
    was dropped just before ``chars[k]`` (``k == len(chars)``: at the end)."""

    chars: str
    origin: tuple[int, ...]
    gap: tuple[bool, ...]


def is_separator(c: str) -> bool:
    """Whether folding drops ``c`` (and counts it as a boundary)."""
    return c.isspace() or c in _SEPARATORS or unicodedata.category(c) == "Cf"


def _fold(text: str) -> _Folded:
    chars: list[str] = []
    origin: list[int] = []
    gap: list[bool] = []
    dropped = False
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKD", ch).casefold():
            if is_separator(c):
                dropped = True
                continue
            chars.append(c)
            origin.append(i)
            gap.append(dropped)
            dropped = False
    gap.append(dropped)
    return _Folded("".join(chars), tuple(origin), tuple(gap))


def _folded(value: str) -> str:
    return _fold(value).chars


def _ascii_alnum(c: str) -> bool:
    return c.isascii() and c.isalnum()


def _after_prefix(f: _Folded, start: int) -> bool:
    """Whether ``chars[start:]`` follows a country prefix that stands alone."""
    for prefix in _PHONE_PREFIXES:
        at = start - len(prefix)
        if at >= 0 and f.chars.startswith(prefix, at) and (prefix[0] == "+" or _left(f, at)):
            return True
    return False


def _left(f: _Folded, start: int) -> bool:
    """Whether a match may start at ``start``: a boundary before it."""
    if start == 0 or f.gap[start] or not _ascii_alnum(f.chars[start]):
        return True
    return not _ascii_alnum(f.chars[start - 1])


def _right(f: _Folded, end: int) -> bool:
    """Whether a match may end before ``end``: a boundary after it."""
    if end == len(f.chars) or f.gap[end] or not _ascii_alnum(f.chars[end - 1]):
        return True
    return not _ascii_alnum(f.chars[end])


def _stands_alone(f: _Folded, start: int, end: int, phone: bool = False) -> bool:
    left = _left(f, start) or (phone and _after_prefix(f, start))
    return left and _right(f, end)


def id_number_valid(number: str) -> bool:
    """Whether ``number`` (18 characters, folded: a final ``x`` for X) is a
    mainland ID number by GB 11643-1999: a real birth date in characters
    7-14 (from 1800) and the MOD 11-2 check character last."""
    if not _ID_SHAPE.fullmatch(number):
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if born.year < 1800:
        return False
    # The one computation of the check character (folded: x for X).
    return check_character(number[:17]).lower() == number[17]


def old_id_number_valid(number: str) -> bool:
    """Whether ``number`` (15 digits) is shaped like a first-generation
    mainland ID number (GB 11643-1989): the code of a mainland province
    first, and characters 7-12 a real date of the 1900s (``YYMMDD``)."""
    if not _OLD_ID_SHAPE.fullmatch(number) or number[:2] not in PROVINCE_REGION:
        return False
    try:
        date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    except ValueError:
        return False
    return True


def _valid(kind: IdentifierKind, pattern: re.Pattern[str], number: str) -> bool:
    if kind is IdentifierKind.PHONE:
        return True
    return id_number_valid(number) if pattern is _ID_SHAPE else old_id_number_valid(number)


def _shapes(f: _Folded) -> Iterator[Found]:
    for pattern, kind in (
        (_ID_SHAPE, IdentifierKind.ID_NUMBER),
        (_OLD_ID_SHAPE, IdentifierKind.ID_NUMBER),
        (_PHONE_SHAPE, IdentifierKind.PHONE),
    ):
        phone = kind is IdentifierKind.PHONE
        # Every start, not only non-overlapping matches: "1" + a phone is
        # still a phone once the boundary is found one character on.
        for start in range(len(f.chars)):
            m = pattern.match(f.chars, start)
            if m is None or not _stands_alone(f, start, m.end(), phone):
                continue
            if _valid(kind, pattern, m.group()):
                yield Found(f.origin[start], kind)


def _occurrences(f: _Folded, needle: str, kind: IdentifierKind, phone: bool) -> Iterator[Found]:
    start = f.chars.find(needle)
    while start >= 0:
        if _stands_alone(f, start, start + len(needle), phone):
            yield Found(f.origin[start], kind)
        start = f.chars.find(needle, start + 1)


def _without_prefix(phone: str) -> str:
    for prefix in _PHONE_PREFIXES:
        if phone.startswith(prefix) and len(phone) > len(prefix):
            return phone[len(prefix) :]
    return phone


def _needles(concerned: Iterable[PrivateIdentity]) -> Iterator[tuple[str, IdentifierKind, bool]]:
    for who in concerned:
        values = (
            (_folded(who.name), IdentifierKind.NAME, MIN_NAME, False),
            (_folded(who.id_number), IdentifierKind.MEMBER_ID_NUMBER, MIN_NUMBER, False),
            (_without_prefix(_folded(who.phone)), IdentifierKind.MEMBER_PHONE, MIN_NUMBER, True),
        )
        for needle, kind, least, phone in values:
            if len(needle) >= least:
                yield needle, kind, phone


def member_needles(concerned: Iterable[PrivateIdentity]) -> list[str]:
    """The identifiers of the members ``concerned`` as :func:`find_private`
    looks for them (folded, without separators): for a caller that must
    find candidates in a large text fast before asking :func:`find_private`
    about each (a file's bytes, :mod:`server.redaction`)."""
    return [needle for needle, _, _ in _needles(concerned)]


def _members(f: _Folded, concerned: Iterable[PrivateIdentity]) -> Iterator[Found]:
    for needle, kind, phone in _needles(concerned):
        yield from _occurrences(f, needle, kind, phone)


def find_private(
    text: str, concerned: Sequence[PrivateIdentity] = (), *, shapes: bool = True
) -> Found | None:
    """The first private identifier in ``text`` (by position; at one
    position, in the order of :class:`IdentifierKind`), or ``None``:
    shapes of ID numbers and mobile numbers (unless ``shapes`` is false:
    a file's raw bytes, whose drawing coordinates can look like numbers,
    are searched for the members' own identifiers only), and the
    identifiers of the members ``concerned``."""
    f = _fold(text)
    order = list(IdentifierKind)
    found = [*_members(f, concerned)]
    if shapes:
        found.extend(_shapes(f))
    if not found:
        return None
    return min(found, key=lambda x: (x.position, order.index(x.kind)))
