"""The one claim state machine: the panel called for, the verdict of a tally,
the stage after a decision and the appeal, as the rulebook and verify-claim
both ask them; and the simulator keeps its own books."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest

from verifiable.log.bodies import Choice, Outcome, PanelDrawn
from verifiable.pool.claim_machine import (
    AWAITING_PANEL,
    FINAL,
    Course,
    Panel,
    PanelCall,
    Stage,
    Verdict,
)
from verifiable.pool.rules import Rules

RULES = Rules.from_json({"panel.size": 5, "panel.max_rounds": 2, "appeal.days": 7})
NO_APPEALS = Rules.from_json({"panel.size": 5, "panel.max_rounds": 2, "appeal.days": 0})
T = datetime(2024, 3, 1, tzinfo=UTC)


def _voting(course: Course, rules: Rules = RULES) -> Course:
    assert course.awaiting_panel
    return course.drawn(course.next_panel(rules))


def test_first_instance_then_appeal() -> None:
    course = Course()
    assert course.stage is Stage.FILED and not course.awaiting_panel
    course = course.noticed()
    assert course.answers_due and course.next_panel(RULES) == PanelCall(1, False, 5)
    course = _voting(course)
    assert (course.stage, course.round, course.appeal, course.instance_rounds) == (
        Stage.VOTING,
        1,
        False,
        1,
    )
    course = course.decided(RULES, Outcome.NO_QUORUM)
    assert course.stage is Stage.REDRAW and not course.answers_due
    assert course.next_panel(RULES) == PanelCall(2, False, 5)
    course = _voting(course).decided(RULES, Outcome.NO_QUORUM)
    assert course.stage is Stage.REJECTED and course.may_appeal  # rounds used up
    course = course.appeal_lodged()
    assert course.stage is Stage.APPEALED and course.appealed and not course.may_appeal
    assert course.next_panel(RULES) == PanelCall(3, True, 11)
    course = _voting(course)
    assert (course.round, course.appeal, course.instance_rounds) == (3, True, 1)
    course = course.decided(RULES, Outcome.NO_QUORUM)
    assert course.stage is Stage.REDRAW
    assert course.next_panel(RULES) == PanelCall(4, True, 11)  # still the appeal
    course = _voting(course)
    assert course.instance_rounds == 2
    assert course.decided(RULES, Outcome.REJECTED).stage is Stage.CLOSED  # final
    approved = course.decided(RULES, Outcome.APPROVED)
    assert approved.stage is Stage.APPROVED
    assert approved.paid().stage is Stage.PAID


@pytest.mark.parametrize(
    ("rules", "outcome", "rounds", "appeal", "stage"),
    [
        (RULES, Outcome.APPROVED, 2, True, Stage.APPROVED),
        (RULES, Outcome.NO_QUORUM, 1, False, Stage.REDRAW),
        (RULES, Outcome.NO_QUORUM, 1, True, Stage.REDRAW),
        (RULES, Outcome.NO_QUORUM, 2, False, Stage.REJECTED),
        (RULES, Outcome.NO_QUORUM, 2, True, Stage.CLOSED),
        (RULES, Outcome.REJECTED, 1, False, Stage.REJECTED),
        (RULES, Outcome.REJECTED, 1, True, Stage.CLOSED),
        (NO_APPEALS, Outcome.REJECTED, 1, False, Stage.CLOSED),
        (NO_APPEALS, Outcome.NO_QUORUM, 2, False, Stage.CLOSED),
    ],
    ids=[
        "approved",
        "no-quorum-redraw",
        "no-quorum-redraw-on-appeal",
        "no-quorum-final-appealable",
        "no-quorum-final-on-appeal",
        "rejected-appealable",
        "rejected-on-appeal-final",
        "rejected-no-appeals",
        "no-quorum-no-appeals",
    ],
)
def test_stage_after_a_decision(
    rules: Rules, outcome: Outcome, rounds: int, appeal: bool, stage: Stage
) -> None:
    course = Course(Stage.VOTING, round=rounds, appeal=appeal, instance_rounds=rounds)
    after = course.decided(rules, outcome)
    assert after.stage is stage
    assert after.may_appeal is (stage is Stage.REJECTED)
    assert (after.round, after.appeal, after.instance_rounds) == (rounds, appeal, rounds)


def test_ineligible_and_withdrawn() -> None:
    assert Course().may_close_ineligible(waiting=True)
    assert not Course().may_close_ineligible(waiting=False)
    assert not Course().noticed().may_close_ineligible(waiting=True)
    assert Course().closed().stage is Stage.CLOSED
    assert set(AWAITING_PANEL) == {Stage.NOTICED, Stage.REDRAW, Stage.APPEALED}
    assert set(FINAL) == {Stage.PAID, Stage.CLOSED}


def _panel(jurors: int) -> Panel:
    ids = tuple(f"{i:032x}" for i in range(jurors))
    body = PanelDrawn(
        claim="c" * 32,
        round=1,
        appeal=False,
        pool_period=T.date(),
        seed_size=1,
        seed=bytes(32),
        jurors=ids,
        votes_until=T,
    )
    return Panel.of(body)


@pytest.mark.parametrize(
    ("approve", "reject", "verdict"),
    [
        (2, 0, Verdict(Outcome.NO_QUORUM, 0)),  # quorum of 5 is 3
        (3, 0, Verdict(Outcome.APPROVED, 700)),
        (2, 1, Verdict(Outcome.APPROVED, 700)),
        (1, 2, Verdict(Outcome.REJECTED, 0)),
        (2, 2, Verdict(Outcome.REJECTED, 0)),  # a tie is not more than half
    ],
    ids=["short-of-quorum", "unanimous", "majority", "minority", "tie"],
)
def test_the_verdict_of_a_tally(approve: int, reject: int, verdict: Verdict) -> None:
    panel = _panel(5)
    assert panel.members == frozenset(panel.jurors)
    for i in range(approve):
        panel.count(panel.jurors[i], Choice.APPROVE)
    for i in range(approve, approve + reject):
        panel.count(panel.jurors[i], Choice.REJECT)
    assert (panel.approvals, panel.rejections, len(panel.revealed)) == (
        approve,
        reject,
        approve + reject,
    )
    assert panel.verdict(RULES, 700) == verdict


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_the_simulator_keeps_its_own_books() -> None:
    """The simulator is an oracle only while it does not share the rulebook's
    state machine: it may read the rules, not ask them what comes next."""
    root = Path(__file__).resolve().parents[3] / "verifiable" / "testonly"
    own = {
        "verifiable.pool.claim_machine",
        "verifiable.pool.claims",
        "verifiable.pool.panels",
        "verifiable.pool.state",
        "verifiable.pool.periods",
        "verifiable.pool.replay",
    }
    for path in sorted(root.glob("*.py")):
        assert not _imports(path) & own, path.name
