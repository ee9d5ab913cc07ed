"""A rule change as the operator types it, read at the edge."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.pool_service import PoolInputError
from server.rule_text import parse_effective, read_rule_changes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-07", datetime(2026, 5, 7, tzinfo=UTC)),
        (" 2026-05-07T08:09:10Z ", datetime(2026, 5, 7, 8, 9, 10, tzinfo=UTC)),
    ],
    ids=["date", "time"],
)
def test_parse_effective(text: str, expected: datetime) -> None:
    assert parse_effective(text) == expected


@pytest.mark.parametrize("text", ["tomorrow", "2026-02-30", "2026-05-07T08:09:10", ""], ids=str)
def test_parse_effective_refuses(text: str) -> None:
    with pytest.raises(PoolInputError, match="must be a date YYYY-MM-DD or a time"):
        parse_effective(text)


@pytest.mark.parametrize("data", ['{"panel.size": 5}', b'{"panel.size": 5}'], ids=["str", "bytes"])
def test_read_rule_changes(data: str | bytes) -> None:
    assert read_rule_changes(data, "rules") == {"panel.size": 5}


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ('{"a.b": 1, "a.b": 2}', "duplicate key"),
        ("{", "rules"),
        ("[1, 2]", "rules: expected a JSON object of rule names and values"),
        ('{"a": 1.5}', "rules"),
    ],
    ids=["duplicate", "truncated", "array", "fraction"],
)
def test_read_rule_changes_refuses(data: str, match: str) -> None:
    with pytest.raises(PoolInputError, match=match):
        read_rule_changes(data, "rules")
