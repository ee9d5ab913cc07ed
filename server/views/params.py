"""Strict parsing of request parameters, shared by the JSON API and the pages.

Every integer the server takes from a request — a query parameter, a path
part, a form field — is declared once here as an :class:`Integer` with its
bounds.  The same declaration parses the request (:meth:`Integer.parse`,
the URL converters of :data:`URL_CONVERTERS`) and describes it in the
OpenAPI document (:meth:`Integer.parameter`), so the document cannot allow
what the server refuses.  No bound is above :data:`MAX_STORED`, the largest
integer a database column holds: a larger one would reach the database and
fail there instead of being refused here.

Numbers are decimal ASCII digits without sign, spaces or leading zeros; a
query parameter that is unknown or given twice is refused.  Every refusal is
:class:`server.errors.BadParameterError` (400), which the API answers as JSON
and the pages as an HTML page; a path part out of range does not match its
route (404).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, ClassVar

from flask import request
from werkzeug.routing import BaseConverter, ValidationError

from server.errors import BadParameterError
from server.private.evidence import MAX_DOCUMENTS
from server.redaction import MAX_PAGES

__all__ = [
    "BUNDLE_SINCE",
    "BUNDLE_SIZE",
    "CLAIM",
    "CONSISTENCY_NEW",
    "CONSISTENCY_OLD",
    "DECLARED",
    "DOCUMENT",
    "ENTRY_INDEX",
    "INCLUSION_SIZE",
    "LEAF_HASH",
    "LIMIT",
    "MAX_ROUND",
    "MAX_SAMPLE",
    "MAX_STORED",
    "MEMBER",
    "NOTICE_SEQ",
    "OFFSET",
    "PAGE",
    "PERIOD",
    "POOL_CLAIM",
    "ROUND",
    "SAMPLE",
    "URL_CONVERTERS",
    "Integer",
    "IntegerConverter",
    "Pattern",
    "parse_size",
    "query_args",
    "required",
]

MAX_STORED = 2**63 - 1
"""The largest integer SQLite's INTEGER and PostgreSQL's bigint hold."""

MAX_ROUND = 1000
"""More rounds than any rulebook allows (``panel.max_rounds`` is at most 10,
each appeal adds a few): a larger round names nothing."""

_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")


def _shown(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


@dataclass(frozen=True)
class Integer:
    """One integer parameter: its name, its bounds and what it means."""

    name: str
    minimum: int
    maximum: int
    description: str

    def __post_init__(self) -> None:
        assert 0 <= self.minimum <= self.maximum <= MAX_STORED, self

    def refusal(self, text: str) -> str:
        return (
            f"{self.name}: expected a decimal integer from {self.minimum} to {self.maximum} "
            f"without sign, spaces or leading zeros, got {_shown(text)!r}"
        )

    def parse(self, text: str) -> int:
        """``text`` as an integer within the bounds; :class:`BadParameterError` otherwise."""
        # str.isdigit and int() accept '+1', ' 1', '1_0' and non-ASCII digits.
        if not _DECIMAL.fullmatch(text) or not self.minimum <= int(text) <= self.maximum:
            raise BadParameterError(self.refusal(text))
        return int(text)

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}

    def parameter(self, where: str = "query", *, required: bool = False) -> dict[str, Any]:
        """The OpenAPI parameter object of this integer."""
        return {
            "name": self.name,
            "in": where,
            "required": required or where == "path",
            "description": (
                f"{self.description} A decimal integer from {self.minimum} to {self.maximum}, "
                "without sign, spaces or leading zeros."
            ),
            "schema": self.schema(),
        }


ENTRY_INDEX = Integer("index", 0, MAX_STORED, "The entry's index (its seq).")
INCLUSION_SIZE = Integer("size", 1, MAX_STORED, "The tree size to prove inclusion in.")
CONSISTENCY_OLD = Integer("old", 1, MAX_STORED, "The older tree size.")
CONSISTENCY_NEW = Integer("new", 1, MAX_STORED, "The newer tree size, at most the log's size.")
BUNDLE_SIZE = Integer(
    "size",
    1,
    MAX_STORED,
    "The tree size of a checkpoint the log signed (the client's synced size); "
    "default: the latest checkpoint.",
)
BUNDLE_SINCE = Integer(
    "since",
    1,
    MAX_STORED,
    "A smaller tree size (a vote receipt's checkpoint) to include a consistency proof from.",
)
OFFSET = Integer("offset", 0, MAX_STORED, "Claims to skip (default 0); at most the claims' number.")
LIMIT = Integer("limit", 1, 1000, "Claims to return (default 100).")
DOCUMENT = Integer("document", 1, MAX_DOCUMENTS, "A claim's evidence document, from 1.")
PAGE = Integer("page", 1, MAX_PAGES, "A page of a redacted copy, from 1.")
ROUND = Integer("round", 1, MAX_ROUND, "A claim's panel round, from 1.")
NOTICE_SEQ = Integer("through", 0, MAX_STORED, "The newest log entry the page showed.")

DECLARED: tuple[Integer, ...] = (
    ENTRY_INDEX,
    INCLUSION_SIZE,
    CONSISTENCY_OLD,
    CONSISTENCY_NEW,
    BUNDLE_SIZE,
    BUNDLE_SINCE,
    OFFSET,
    LIMIT,
    DOCUMENT,
    PAGE,
    ROUND,
    NOTICE_SEQ,
)
"""Every integer the server reads from a request."""


@dataclass(frozen=True)
class Pattern:
    """One text parameter: its name, the regular expression it must match
    whole, and what it means."""

    name: str
    pattern: str
    description: str
    refusal: str
    format: str | None = None

    def parse(self, text: str) -> str:
        """``text`` if it matches; :class:`BadParameterError` otherwise."""
        if re.fullmatch(self.pattern, text) is None:
            raise BadParameterError(self.refusal_of(text))
        return text

    def refusal_of(self, text: str) -> str:
        return f"{self.name}: {self.refusal}, got {_shown(text)!r}"

    def parameter(self, where: str = "query", *, required: bool = False) -> dict[str, Any]:
        """The OpenAPI parameter object of this text."""
        return {
            "name": self.name,
            "in": where,
            "required": required or where == "path",
            "description": self.description,
            "schema": self.schema(),
        }

    def schema(self) -> dict[str, Any]:
        schema = {"type": "string", "pattern": f"^{self.pattern}$"}
        if self.format is not None:
            schema["format"] = self.format
        return schema


_HEX32 = "[0-9a-f]{32}"
_ID_REFUSAL = "expected 32 lowercase hex digits"
MEMBER = Pattern("member", _HEX32, "The member's id.", _ID_REFUSAL)
CLAIM = Pattern("claim", _HEX32, "The claim's id.", _ID_REFUSAL)
POOL_CLAIM = Pattern("claim_id", _HEX32, "The claim's id: 32 lowercase hex digits.", _ID_REFUSAL)
LEAF_HASH = Pattern(
    "leaf_hash",
    "[0-9a-fA-F]{64}",
    "The entry's RFC 9162 leaf hash, hex.",
    "expected 64 hex digits (SHA-256)",
)
PERIOD = Pattern(
    "period",
    "[0-9]{4}-[0-9]{2}-[0-9]{2}",
    "The period (its notice date, YYYY-MM-DD).",
    "expected a date YYYY-MM-DD",
    format="date",
)
MAX_SAMPLE = 64
"""The most claims one deduction bundle checks in full."""
SAMPLE = Pattern(
    "sample",
    f"({_HEX32}(,{_HEX32}){{0,{MAX_SAMPLE - 1}}})?",
    f"Up to {MAX_SAMPLE} distinct claim ids, comma-separated, each paid in the period: the claims "
    "to include in full.",
    f"expected at most {MAX_SAMPLE} claim ids (32 lowercase hex digits each), comma-separated",
)


class IntegerConverter(BaseConverter):
    """A path part that is one declared integer; out of bounds, the route
    does not match (404), as for any path that names nothing."""

    declaration: ClassVar[Integer]
    regex = "[0-9]+"

    def to_python(self, value: str) -> int:
        try:
            return self.declaration.parse(value)
        except BadParameterError:
            raise ValidationError() from None

    def to_url(self, value: Any) -> str:
        return str(int(value))


class DocumentConverter(IntegerConverter):
    declaration = DOCUMENT


class RoundConverter(IntegerConverter):
    declaration = ROUND


class PageConverter(IntegerConverter):
    declaration = PAGE


URL_CONVERTERS: dict[str, type[BaseConverter]] = {
    "document": DocumentConverter,
    "round": RoundConverter,
    "page": PageConverter,
}
"""Registered on the application's URL map: ``<document:number>``, ``<round:round_>``,
``<page:page>``."""


def parse_size(name: str, text: str) -> int:
    """A count or index from 0 to :data:`MAX_STORED`, canonically written
    (for a parameter with no narrower declaration)."""
    return Integer(name, 0, MAX_STORED, "").parse(text)


def query_args(allowed: Collection[str]) -> dict[str, str]:
    """The request's query parameters, each one of ``allowed`` and given once."""
    args = request.args
    for key in args:
        if key not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise BadParameterError(f"unknown query parameter {_shown(key)!r} (accepted: {known})")
        if len(args.getlist(key)) > 1:
            raise BadParameterError(f"query parameter {_shown(key)!r} is given more than once")
    return {key: args[key] for key in args}


def required(query: dict[str, str], name: str) -> str:
    """The value of query parameter ``name``; refused if it is missing."""
    if name not in query:
        raise BadParameterError(f"missing query parameter {name!r}")
    return query[name]
