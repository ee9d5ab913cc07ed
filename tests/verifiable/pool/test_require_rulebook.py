"""``require_rulebook``: a pool's log begins with its rulebook (``rules.genesis``)."""

from __future__ import annotations

import pytest

from verifiable.errors import RuleViolation
from verifiable.log.bodies import BODY_TYPES
from verifiable.pool.replay import POOL_ENTRY_TYPES, RULEBOOK_TYPE, require_rulebook


def test_the_rulebook_at_entry_0_is_what_a_pools_log_begins_with() -> None:
    require_rulebook(0, RULEBOOK_TYPE, pool=True)
    require_rulebook(0, RULEBOOK_TYPE, pool=False)


def test_every_entry_type_of_the_format_is_a_pools() -> None:
    assert frozenset(BODY_TYPES) == POOL_ENTRY_TYPES


@pytest.mark.parametrize("type_", sorted(POOL_ENTRY_TYPES - {RULEBOOK_TYPE}))
def test_any_pool_entry_at_entry_0_is_refused(type_: str) -> None:
    with pytest.raises(
        RuleViolation,
        match=rf"^entry 0: rule rules\.genesis: a pool's log begins with its rulebook "
        rf"\(it holds a {type_} entry\) \(expected pool\.rules at entry 0, got {type_}\)$",
    ) as caught:
        require_rulebook(0, type_, pool=False)
    assert caught.value.rule == "rules.genesis" and caught.value.seq == 0


def test_a_rulebook_moved_later_is_refused() -> None:
    with pytest.raises(
        RuleViolation, match=r"^entry 1: rule rules\.genesis: .* got pool\.rules at entry 1"
    ):
        require_rulebook(1, RULEBOOK_TYPE, pool=False)


def test_a_type_of_no_pool_is_refused_only_in_a_log_pinned_as_a_pools() -> None:
    # No such type in format v1: a later format may add entry types of the
    # log itself, and a pin that knows the log is a pool's still refuses them.
    require_rulebook(0, "log.note", pool=False)
    require_rulebook(5, "log.note", pool=False)
    with pytest.raises(RuleViolation, match=r"\(the log is pinned as a pool's\)"):
        require_rulebook(0, "log.note", pool=True)
