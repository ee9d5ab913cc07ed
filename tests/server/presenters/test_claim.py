"""A claim as the member's page shows it (server.presenters.claim), built
from the objects of a simulated honest history: no request, no database."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from server import i18n
from server.presenters.claim import claim_actions, claim_steps, objection_texts
from verifiable.log.bodies import Body, ClaimAnswered
from verifiable.log.entry import parse_entry
from verifiable.pool.log_index import ClaimRecord, LogIndex
from verifiable.pool.replay import replay
from verifiable.pool.state import ClaimView, Stage
from verifiable.testonly.simulate import SimConfig, Simulation

#: Small, but with notices, objections, answers, panels, appeals, payouts
#: and withdrawals.
CONFIG = SimConfig(
    days=45,
    initial_members=200,
    initial_jurors=80,
    claims_per_day=300,
    objection_pct=60,
    withdraw_pct=10,
    rules={
        "juror.seasoning_days": 0,
        "member.waiting_days": 10,
        "panel.size": 5,
        "claim.objection_days": 2,
        "panel.voting_days": 2,
    },
)


#: After every window of the simulated history.
LATE = datetime(2100, 1, 1, tzinfo=UTC)


@dataclasses.dataclass(frozen=True)
class History:
    claims: list[tuple[ClaimView, ClaimRecord]]
    bodies: dict[int, Body]


@pytest.fixture(scope="module")
def history() -> History:
    entries = list(Simulation(random.Random(11), CONFIG).run())
    index = LogIndex()
    bodies: dict[int, Body] = {}
    for seq, data in enumerate(entries):
        index.feed_bytes(data)
        bodies[seq] = parse_entry(data, seq=seq).body
    state = replay(entries).state
    claims = [(view, index.claims[view.id]) for view in state.claims()]
    return History(claims, bodies)


_CASES: tuple[Callable[[ClaimRecord], bool], ...] = (
    lambda r: r.notice is None,
    lambda r: bool(r.objections),
    lambda r: bool(r.appeals),
    lambda r: r.paid is not None,
    lambda r: r.withdrawn_seq is not None,
    lambda r: len(r.panels) > 1,
)


def test_every_claim_has_a_timeline_of_its_own_entries(history: History) -> None:
    assert len(history.claims) > 50
    records = [r for _, r in history.claims]
    assert all(any(has(r) for r in records) for has in _CASES), "a case the history lacks"
    for view, record in history.claims:
        steps = claim_steps(view, record, LATE)
        assert steps[0].label == "Filed" and steps[0].seqs == (record.filed_seq,)
        own = {seq for seq, _ in record.entries} | {record.filed_seq}
        for step in steps:
            assert step.state in ("done", "current", "pending"), step
            assert set(step.seqs) <= own, (view.id, step)
        labels = [s.label for s in steps]
        assert labels[1:3] == ["Notice", "Objections"]
        assert ("Payout" in labels) and (steps[labels.index("Payout")].state == "done") == (
            record.paid is not None
        )
        assert ("Withdrawn" in labels) == (record.withdrawn_seq is not None)
        assert labels.count("Appeal") == len(record.appeals)
        assert labels.count("Decision") == max(1, len(record.decisions))


def test_the_steps_word_each_fact(history: History) -> None:
    paid = [(v, r) for v, r in history.claims if r.paid is not None and r.notice is not None]
    assert paid
    view, record = paid[0]
    assert record.notice is not None and record.paid is not None
    steps = {s.label: s for s in claim_steps(view, record, record.notice.objections_until)}
    documents = record.documents
    assert steps["Filed"].detail.endswith(
        f"{documents} document{'s' if documents != 1 else ''} committed."
    )
    assert i18n.yuan(view.requested) in steps["Filed"].detail
    assert steps["Notice"].seqs == (record.notice.seq,)
    assert steps["Objections"].state == "done"  # the claim is no longer at its notice
    assert steps["Payout"].detail.endswith(
        f"paid, shared in the period of {i18n.date(record.paid.period)}."
    )
    assert steps["Payout"].seqs == (record.paid.seq,)


def test_an_open_objection_window_is_the_current_step(history: History) -> None:
    view, record = next((v, r) for v, r in history.claims if r.notice is not None)
    assert record.notice is not None
    noticed = dataclasses.replace(view, stage=Stage.NOTICED)
    until = record.notice.objections_until
    (step,) = [s for s in claim_steps(noticed, record, until) if s.label == "Objections"]
    assert step.state == "current" and step.detail.endswith(f"open until {i18n.datetime(until)}.")
    later = until + timedelta(seconds=1)
    (step,) = [s for s in claim_steps(noticed, record, later) if s.label == "Objections"]
    assert step.state == "done" and "closed" in step.detail


def test_objections_stand_beside_their_answers(history: History) -> None:
    answered = [(v, r) for v, r in history.claims if r.answers]
    assert answered
    for view, record in answered:
        texts = objection_texts(
            [(seq, history.bodies[seq]) for seq in view.objection_seqs],
            [history.bodies[seq] for seq in record.answers],
        )
        assert [t.seq for t in texts] == list(view.objection_seqs)
        answers = [history.bodies[seq] for seq in record.answers]
        targets = {b.objection for b in answers if isinstance(b, ClaimAnswered)}
        assert len(targets) == len(set(record.answers))
        for text in texts:
            assert (text.answer is not None) == (text.seq in targets)
    # Bodies of another type are not objections or answers.
    filed = history.bodies[answered[0][1].filed_seq]
    assert objection_texts([(0, filed)], [filed]) == []


def test_which_forms_a_member_may_use(history: History) -> None:
    view, record = next((v, r) for v, r in history.claims if r.notice is not None)
    assert record.notice is not None
    inside = record.notice.objections_until
    noticed = dataclasses.replace(view, stage=Stage.NOTICED, appeal=False)
    other = "00" * 16
    assert claim_actions(noticed, record, other, True, inside).can_object
    assert not claim_actions(noticed, record, other, False, inside).can_object  # has left
    assert not claim_actions(noticed, record, None, False, inside).can_object  # not joined
    late = inside + timedelta(seconds=1)
    assert not claim_actions(noticed, record, other, True, late).can_object
    own = claim_actions(noticed, record, view.member, True, inside)
    assert own.mine and not own.can_object and not own.can_appeal
    rejected = dataclasses.replace(view, stage=Stage.REJECTED, appeal=False)
    assert claim_actions(rejected, record, view.member, True, late).can_appeal
    assert not claim_actions(rejected, record, other, True, late).can_appeal
    appealed = dataclasses.replace(rejected, appeal=True)
    assert not claim_actions(appealed, record, view.member, True, late).can_appeal
