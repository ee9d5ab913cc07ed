"""A rule change as the operator types it: the JSON of the rules that change,
and when the change takes effect.

Read here, at the edge — by the operator's rules form
(:mod:`server.operator_forms`) and the ``mutualog-server pool rules``
command (:mod:`server.pool_cli`) — so the pool service takes values, not
text: :meth:`server.pool_service.PoolService.change_rules` gets the decoded
mapping and an aware time, and checks them against the rulebook.  A text
that does not read is refused as the service's input would be
(:class:`~server.pool_service.PoolInputError`).
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from server.pool_service import PoolInputError
from verifiable.errors import MalformedError
from verifiable.log.entry import load_strict_json
from verifiable.log.fields import read_date, read_time

__all__ = ["parse_effective", "read_rule_changes"]


def read_rule_changes(data: bytes | str, label: str) -> dict[str, object]:
    """A rule change as JSON text (an object of rule names to values, as
    docs/rules.md lists them), decoded as strictly as the log decodes."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        value = load_strict_json(raw, label)
    except MalformedError as e:
        raise PoolInputError(str(e), "input.malformed", detail=str(e)) from e
    if not isinstance(value, dict):
        raise PoolInputError(
            f"{label}: expected a JSON object of rule names and values",
            "rules.not_object",
            label=label,
        )
    return dict(value)


def parse_effective(text: str) -> datetime:
    """When a rule change takes effect: a date ``YYYY-MM-DD`` (00:00 UTC
    that day) or a time ``YYYY-MM-DDTHH:MM:SSZ``."""
    value = text.strip()
    try:
        if "T" in value:
            return read_time(value, "effective")
        return datetime.combine(read_date(value, "effective"), time(), UTC)
    except MalformedError as e:
        raise PoolInputError(
            f"the effective time must be a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM:SSZ, "
            f"not {value[:40]!r}",
            "rules.bad_effective",
            value=value[:40],
        ) from e
