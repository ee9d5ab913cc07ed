"""Strict parsing of request parameters, shared by the JSON API and the pages.

Numbers are decimal ASCII digits without sign, spaces or leading zeros, at
most 2**64-1; a query parameter that is unknown or given twice is refused.
Every refusal is :class:`server.errors.BadParameterError` (400), which the
API answers as JSON and the pages as an HTML page.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from flask import request

from server.errors import BadParameterError
from verifiable.log.merkle import MAX_SIZE

__all__ = ["parse_size", "query_args", "required"]

_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")


def _shown(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def parse_size(name: str, text: str) -> int:
    """A tree size or index: a decimal integer in 0..2**64-1, canonically written."""
    # str.isdigit and int() accept '+1', ' 1', '1_0' and non-ASCII digits.
    if not _DECIMAL.fullmatch(text) or int(text) > MAX_SIZE:
        raise BadParameterError(
            f"{name}: expected a decimal integer from 0 to 2**64-1 without sign, spaces "
            f"or leading zeros, got {_shown(text)!r}"
        )
    return int(text)


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
