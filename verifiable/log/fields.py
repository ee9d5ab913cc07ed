"""The field vocabulary of log entries: small strict readers for JSON values.

Each reader takes a value already decoded from RFC 8785 canonical JSON
(``int``, ``str``, ``bool``, ``list``, ``dict``) and the path it was found at
(``"entry 7: body.evidence[2]"``), and returns a typed Python value or raises
:class:`~verifiable.errors.MalformedError` naming the path, what was expected
and what was found.  A :class:`Codec` pairs a reader with the writer that turns
the typed value back into JSON, so that ``encode(decode(x)) == x`` holds field by
field; the entry bodies in :mod:`verifiable.log.bodies` are built from codecs.

Times follow RFC 3339 in one fixed form only, ``YYYY-MM-DDTHH:MM:SSZ`` (UTC,
whole seconds, no leap second ``:60``), and dates are ``YYYY-MM-DD``; one form
per value keeps the encoding canonical.
"""

from __future__ import annotations

import functools
import json
import json.encoder
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Generic, TypeAlias, TypeVar

from verifiable.errors import MalformedError

__all__ = [
    "BOOL",
    "CLAIM_ID",
    "COUNT",
    "DATE",
    "FEN",
    "HASH",
    "JSON_SHAPE",
    "MAX_SAFE_INT",
    "MEMBER_ID",
    "POSITIVE_COUNT",
    "POSITIVE_FEN",
    "SIGNED_FEN",
    "TIME",
    "TOKEN",
    "Codec",
    "JSONValue",
    "ShapeValue",
    "describe",
    "enum_codec",
    "format_date",
    "format_time",
    "int_codec",
    "list_codec",
    "read_bool",
    "read_date",
    "read_enum",
    "read_fen",
    "read_hash",
    "read_id",
    "read_int",
    "read_list",
    "read_object",
    "read_shape",
    "read_signed_fen",
    "read_text",
    "read_time",
    "read_token",
    "shape_to_json",
    "sorted_json",
    "sorted_json_text",
    "text_codec",
]

JSONValue: TypeAlias = "int | str | bool | list[JSONValue] | dict[str, JSONValue] | None"
"""A value of the JSON subset entries use (no floats)."""

ShapeValue: TypeAlias = "int | str | bool | tuple[ShapeValue, ...] | Mapping[str, ShapeValue]"
"""A frozen free-form value (rules, override details): lists become tuples and
objects read-only mappings, so a frozen body really cannot change."""

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)

MAX_SAFE_INT = 2**53 - 1
"""The largest integer JSON carries exactly (RFC 8785 §3.2.2.3, I-JSON); ``rfc8785``
refuses anything larger, and so do we, in every integer field including money."""

_HEX_ID = re.compile(r"[0-9a-f]{32}")
# [0-9] rather than \d: \d also matches non-ASCII digits such as "٣".
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")
_TOKEN = re.compile(r"[a-z][a-z0-9_.-]{0,31}")
_SHAPE_KEY = re.compile(r"[a-z][a-z0-9_.]*")
_SHAPE_MAX_DEPTH = 4

# Bidirectional embeddings, overrides and isolates reorder what a reader sees
# (CVE-2021-42574, "Trojan Source"): U+202A-202E and U+2066-2069.  A public
# notice must read the same in every viewer, so they are refused along with
# the C0/C1 control characters and lone surrogates.
# Unicode category Cc is exactly U+0000-001F and U+007F-009F, and Cs exactly
# U+D800-DFFF (both fixed by the Unicode stability policy), so one regex
# search finds the first refused character; tests compare it with
# unicodedata over every code point.
_TEXT_REFUSED = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
_LINE_REFUSED = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def describe(value: object) -> str:
    """A short printable form of a JSON value for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        shown = json.dumps(value[:40] + ("…" if len(value) > 40 else ""), ensure_ascii=False)
        # A lone surrogate would make the message itself unprintable.
        return f"string {shown.encode('utf-8', 'backslashreplace').decode('utf-8')}"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


def _fail(where: str, expected: str, value: object) -> MalformedError:
    return MalformedError(f"{where}: expected {expected}, got {describe(value)}")


def read_object(value: object, where: str, names: Collection[str]) -> Mapping[str, object]:
    """A JSON object with exactly the keys ``names``: none missing, none unknown."""
    if not isinstance(value, dict):
        raise _fail(where, "an object", value)
    if len(value) == len(names):
        # The common case, checked without building lists: every name present
        # and no more keys than names means no unknown key either.
        for name in names:
            if name not in value:
                break
        else:
            return value
    missing = [n for n in names if n not in value]
    if missing:
        raise MalformedError(f"{where}: missing field(s) {', '.join(sorted(missing))}")
    # Every name is present but the counts differ: there are unknown keys.
    unknown = sorted(json.dumps(k) for k in value if k not in names)
    raise MalformedError(f"{where}: unknown field(s) {', '.join(unknown)}")


def read_int(value: object, where: str, *, low: int = 0, high: int = MAX_SAFE_INT) -> int:
    """An integer in ``[low, high]``; ``true``/``false`` are not integers."""
    # bool is a subclass of int in Python but not a number in JSON.
    if not isinstance(value, int) or isinstance(value, bool):
        raise _fail(where, "an integer", value)
    if not low <= value <= high:
        raise MalformedError(f"{where}: expected an integer in [{low}, {high}], got {value}")
    return value


def read_fen(value: object, where: str, *, positive: bool = False) -> int:
    """Money: whole fen, ``0 <= x <= 2**53 - 1`` (``> 0`` if ``positive``)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise _fail(where, "an amount in integer fen", value)
    low = 1 if positive else 0
    if not low <= value <= MAX_SAFE_INT:
        raise MalformedError(
            f"{where}: expected an amount in fen in [{low}, {MAX_SAFE_INT}], got {value}"
        )
    return value


def read_signed_fen(value: object, where: str) -> int:
    """A balance that may be a deficit: whole fen, ``|x| <= 2**53 - 1``."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise _fail(where, "an amount in integer fen", value)
    if not -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
        raise MalformedError(
            f"{where}: expected an amount in fen in [{-MAX_SAFE_INT}, {MAX_SAFE_INT}], got {value}"
        )
    return value


def read_bool(value: object, where: str) -> bool:
    """``true`` or ``false``."""
    if not isinstance(value, bool):
        raise _fail(where, "true or false", value)
    return value


def read_id(value: object, where: str) -> str:
    """A member or claim id: 32 lowercase hex characters (16 random bytes)."""
    if not isinstance(value, str) or not _HEX_ID.fullmatch(value):
        raise _fail(where, "an id of 32 lowercase hex characters", value)
    return value


def read_hash(value: object, where: str) -> bytes:
    """A hash, commitment, salt or root: 64 lowercase hex characters, 32 bytes."""
    if isinstance(value, str) and len(value) == 64:
        # fromhex also takes upper case and spaces; the round trip does not.
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raw = b""
        if len(raw) == 32 and raw.hex() == value:
            return raw
    raise _fail(where, "64 lowercase hex characters", value)


def read_date(value: object, where: str) -> date:
    """A calendar date ``YYYY-MM-DD``."""
    match = _DATE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise _fail(where, "a date YYYY-MM-DD", value)
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError as e:
        raise MalformedError(f"{where}: {value!r} is not a calendar date ({e})") from e


def format_date(value: date) -> str:
    """The one encoding of a date; ``strftime("%Y")`` would not pad years < 1000."""
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def read_time(value: object, where: str) -> datetime:
    """An RFC 3339 UTC time in the fixed form ``YYYY-MM-DDTHH:MM:SSZ``."""
    match = _TIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise _fail(where, "a time YYYY-MM-DDTHH:MM:SSZ", value)
    try:
        # The pattern has fixed the form; fromisoformat (C) reads it and
        # refuses impossible dates and :60 the same way datetime() does.
        return datetime.fromisoformat(value)  # type: ignore[arg-type]
    except ValueError:
        pass
    try:
        year, month, day, hour, minute, second = (int(g) for g in match.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as e:
        raise MalformedError(f"{where}: {value!r} is not a calendar time ({e})") from e


def format_time(value: datetime) -> str:
    """The one encoding of a time; only aware UTC times in whole seconds have one."""
    if value.utcoffset() != timedelta(0) or value.microsecond:
        raise MalformedError(
            f"time {value.isoformat()} must be UTC in whole seconds to have a canonical form"
        )
    return f"{format_date(value.date())}T{value.hour:02d}:{value.minute:02d}:{value.second:02d}Z"


def read_token(value: object, where: str) -> str:
    """A short lowercase token: ``[a-z][a-z0-9_.-]``, at most 32 characters."""
    if not isinstance(value, str) or not _TOKEN.fullmatch(value):
        raise _fail(where, "a lowercase token [a-z][a-z0-9_.-]{0,31}", value)
    return value


def read_text(
    value: object, where: str, *, max_len: int, min_len: int = 1, multiline: bool = True
) -> str:
    """Free text of ``min_len..max_len`` characters (code points).

    Control characters are refused (a line feed is allowed if ``multiline``),
    and so are the bidirectional overrides that make text read differently
    from what it says.
    """
    if not isinstance(value, str):
        raise _fail(where, "a text", value)
    if not min_len <= len(value) <= max_len:
        raise MalformedError(
            f"{where}: expected a text of {min_len} to {max_len} characters, got {len(value)}"
        )
    bad = (_TEXT_REFUSED if multiline else _LINE_REFUSED).search(value)
    if bad is not None:
        raise MalformedError(
            f"{where}: control character U+{ord(bad.group()):04X} at position {bad.start()} "
            "is not allowed"
        )
    return value


def read_enum(value: object, where: str, enum: type[E]) -> E:
    """One of the string values of ``enum``."""
    if isinstance(value, str):
        members: Mapping[str, E] = _members(enum)
        member = members.get(value)
        if member is not None:
            return member
    choices = ", ".join(m.value for m in enum)
    raise _fail(where, f"one of {choices}", value)


@functools.cache
def _members(enum: type[E]) -> Mapping[str, E]:
    """An enum's members by value (a plain lookup, faster than ``enum(value)``)."""
    return MappingProxyType({m.value: m for m in enum})


def read_list(
    value: object,
    where: str,
    item: Callable[[object, str], T],
    *,
    min_len: int = 0,
    max_len: int,
    unique: bool = False,
) -> tuple[T, ...]:
    """A list of ``min_len..max_len`` items, each read by ``item`` at ``where[i]``."""
    if not isinstance(value, list):
        raise _fail(where, "a list", value)
    if not min_len <= len(value) <= max_len:
        raise MalformedError(
            f"{where}: expected a list of {min_len} to {max_len} items, got {len(value)}"
        )
    items = tuple(item(v, f"{where}[{i}]") for i, v in enumerate(value))
    if unique:
        first: dict[object, int] = {}
        for i, v in enumerate(items):
            if v in first:
                shown = v.hex() if isinstance(v, bytes) else str(v)
                raise MalformedError(f"{where}[{i}]: duplicate item {shown} (also at [{first[v]}])")
            first[v] = i
    return items


def read_shape(value: object, where: str) -> Mapping[str, ShapeValue]:
    """A free-form object such as a rulebook: keys ``[a-z][a-z0-9_.]*``, values
    integers, strings, booleans, or lists and objects of those, at most four
    containers deep counting the object itself; no ``null`` (a missing key says
    it better) and no floats."""
    return _read_shape_object(value, where, 0)


def _read_shape_object(value: object, where: str, depth: int) -> Mapping[str, ShapeValue]:
    if not isinstance(value, dict):
        raise _fail(where, "an object", value)
    out: dict[str, ShapeValue] = {}
    for key, v in value.items():
        if not _SHAPE_KEY.fullmatch(key):
            raise MalformedError(f"{where}: key {key!r} does not match [a-z][a-z0-9_.]*")
        out[key] = _read_shape_value(v, f'{where}["{key}"]', depth + 1)
    return MappingProxyType(out)


def _read_shape_value(value: object, where: str, depth: int) -> ShapeValue:
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return read_int(value, where, low=-MAX_SAFE_INT)
    if isinstance(value, list | dict) and depth >= _SHAPE_MAX_DEPTH:
        raise MalformedError(f"{where}: nested deeper than {_SHAPE_MAX_DEPTH} levels")
    if isinstance(value, list):
        return tuple(_read_shape_value(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value))
    if isinstance(value, dict):
        return _read_shape_object(value, where, depth)
    raise _fail(where, "an integer, string, boolean, list or object", value)


def shape_to_json(value: ShapeValue) -> JSONValue:
    """Thaw a value made by :func:`read_shape` back into plain JSON."""
    if isinstance(value, tuple):
        return [shape_to_json(v) for v in value]
    if isinstance(value, Mapping):
        return {k: shape_to_json(v) for k, v in value.items()}
    return value


def _sorted_json_encoder() -> Callable[[object], str]:
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython has the C encoder
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode
    encode = make(None, None, json.encoder.encode_basestring, None, ":", ",", True, False, False)
    return lambda obj: "".join(encode(obj, 0))


_encode_sorted = _sorted_json_encoder()


def sorted_json_text(value: object) -> str:
    """:func:`sorted_json` before its UTF-8 encoding."""
    return _encode_sorted(value)


def sorted_json(value: JSONValue | Mapping[str, object]) -> bytes:
    """``json.dumps(value, ensure_ascii=False, separators=(",", ":"),
    sort_keys=True)`` as UTF-8, with the standard library's C encoder built
    once instead of per call.

    It equals the RFC 8785 encoding (``rfc8785.dumps``) for every value an
    entry can hold once its fields are read: object keys in ASCII (so code
    point order is UTF-16 order), integers within ±(2**53 - 1), strings
    without lone surrogates (``UnicodeEncodeError`` otherwise), no floats.
    Both escape only ``"``, ``\\`` and U+0000-001F, the latter as
    ``\\b \\t \\n \\f \\r`` or lowercase ``\\u00xx``.  Replay uses it for
    the canonical-form check of entries it has otherwise read, and for vote
    commitments; tests compare it with ``rfc8785`` on generated values.
    """
    return _encode_sorted(value).encode("utf-8")


@dataclass(frozen=True)
class Codec(Generic[T]):
    """How one field is read from JSON (``decode(value, where)``) and written
    back (``encode``)."""

    decode: Callable[[object, str], T]
    encode: Callable[[T], JSONValue]


def _same(value: T) -> T:
    return value


def _hex(value: bytes) -> str:
    return value.hex()


def _thaw_object(value: Mapping[str, ShapeValue]) -> JSONValue:
    return {k: shape_to_json(v) for k, v in value.items()}


def int_codec(low: int = 0, high: int = MAX_SAFE_INT) -> Codec[int]:
    """An integer field bounded to ``[low, high]``."""
    return Codec(lambda v, w: read_int(v, w, low=low, high=high), _same)


def text_codec(max_len: int, *, min_len: int = 1, multiline: bool = True) -> Codec[str]:
    """A free-text field; see :func:`read_text`."""
    return Codec(
        lambda v, w: read_text(v, w, max_len=max_len, min_len=min_len, multiline=multiline),
        _same,
    )


def enum_codec(enum: type[E]) -> Codec[E]:
    """A field holding one value of ``enum``, written as its plain string."""
    return Codec(lambda v, w: read_enum(v, w, enum), lambda e: str(e.value))


def list_codec(
    item: Codec[T], *, min_len: int = 0, max_len: int, unique: bool = False
) -> Codec[tuple[T, ...]]:
    """A list field whose items use ``item``."""

    def encode(values: Iterable[T]) -> JSONValue:
        return [item.encode(v) for v in values]

    return Codec(
        lambda v, w: read_list(v, w, item.decode, min_len=min_len, max_len=max_len, unique=unique),
        encode,
    )


MEMBER_ID: Codec[str] = Codec(read_id, _same)
CLAIM_ID: Codec[str] = MEMBER_ID
HASH: Codec[bytes] = Codec(read_hash, _hex)
FEN: Codec[int] = Codec(read_fen, _same)
POSITIVE_FEN: Codec[int] = Codec(lambda v, w: read_fen(v, w, positive=True), _same)
SIGNED_FEN: Codec[int] = Codec(read_signed_fen, _same)
COUNT: Codec[int] = int_codec()
POSITIVE_COUNT: Codec[int] = int_codec(1)
BOOL: Codec[bool] = Codec(read_bool, _same)
DATE: Codec[date] = Codec(read_date, format_date)
TIME: Codec[datetime] = Codec(read_time, format_time)
TOKEN: Codec[str] = Codec(read_token, _same)
JSON_SHAPE: Codec[Mapping[str, ShapeValue]] = Codec(read_shape, _thaw_object)
