"""``claim.objections_per_member``: how many objections one member may make
to one claim, under the rules of the claim's filing; a rulebook that does
not name it (every rulebook written before the rule) sets no limit."""

from __future__ import annotations

import pytest

from tests.verifiable.pool.pool_builder import SMALL_POOL_RULES, PoolBuilder
from tests.verifiable.pool.test_scenarios import limit_objections, noticed
from verifiable.errors import MalformedError, RuleViolation
from verifiable.log.bodies import ClaimObjected
from verifiable.pool.rules import DEFAULT_RULES, Rules


def test_the_default_is_no_limit() -> None:
    assert DEFAULT_RULES.objections_per_member == 0
    assert all(DEFAULT_RULES.objection_allowed(n) for n in (0, 1, 100))
    assert DEFAULT_RULES.to_json()["claim.objections_per_member"] == 0


@pytest.mark.parametrize("value", [-1, 101, True, "1"])
def test_the_rule_is_bounded(value: object) -> None:
    with pytest.raises(MalformedError, match=r"claim\.objections_per_member"):
        Rules.from_json({"claim.objections_per_member": value})


def test_a_limit_counts_each_members_objections() -> None:
    rules = Rules.from_json({"claim.objections_per_member": 2})
    assert [rules.objection_allowed(n) for n in range(4)] == [True, True, False, False]


def test_a_rulebook_without_the_rule_takes_any_number() -> None:
    # As every log written before the rule existed: they replay unchanged.
    b = PoolBuilder(SMALL_POOL_RULES)
    w, claim = noticed(b)
    for _ in range(3):
        b.objection(claim, w.other)
    assert len(b.state.claim(claim).objection_seqs) == 3  # type: ignore[union-attr]


def test_a_claim_filed_before_the_rule_keeps_the_rules_of_its_filing() -> None:
    b = PoolBuilder(SMALL_POOL_RULES)
    w, claim = noticed(b)
    limit_objections(b)  # in force now, after the claim was filed
    b.objection(claim, w.other)
    b.objection(claim, w.other)
    assert len(b.state.claim(claim).objection_seqs) == 2  # type: ignore[union-attr]


def test_under_the_rule_each_member_has_their_own_count() -> None:
    b = PoolBuilder(SMALL_POOL_RULES)
    limit_objections(b, per_member=2)
    w, claim = noticed(b)
    b.objection(claim, w.other)
    b.objection(claim, w.jurors[0])
    b.objection(claim, w.other)
    with pytest.raises(RuleViolation, match="at most 2 per member") as raised:
        b.push(ClaimObjected(claim=claim, member=w.other, text="A third time."))
    assert raised.value.rule == "objection.limit"
    b.objection(claim, w.jurors[0])
