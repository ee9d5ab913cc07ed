"""A claim as a member's page shows it: the timeline of its steps, each
with the log entries that record it; its objections beside their answers;
and which forms a member may use on it.

Built from the rulebook's :class:`~verifiable.pool.state.ClaimView`, the
log index's :class:`~verifiable.pool.log_index.ClaimRecord` and the
entries' bodies; the time is an argument (docs/members.md, "Follow a claim").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from server.pool_figures import yuan
from verifiable.log.bodies import Body, ClaimAnswered, ClaimObjected
from verifiable.pool.log_index import ClaimRecord
from verifiable.pool.state import ClaimView, Stage

__all__ = [
    "ClaimActions",
    "ObjectionText",
    "Step",
    "claim_actions",
    "claim_steps",
    "objection_texts",
]

_TIME = "%Y-%m-%d %H:%M UTC"


@dataclass(frozen=True)
class Step:
    """One step of a claim's life as its status page shows it."""

    label: str
    state: str  # "done", "current" or "pending"
    detail: str
    seqs: tuple[int, ...] = ()


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def _filed(view: ClaimView, record: ClaimRecord) -> Step:
    return Step(
        "Filed",
        "done",
        f"{yuan(view.requested)} requested for {view.category.replace('_', ' ')}, "
        f"{_plural(record.documents, 'document')} committed.",
        (record.filed_seq,),
    )


def _notice(view: ClaimView, record: ClaimRecord) -> Step:
    notice = record.notice
    if view.waiting:
        return Step("Notice", "done", "No notice: the illness began inside the waiting period.")
    if notice is None:
        return Step("Notice", "current", "The operator reviews the claim and writes it.")
    return Step("Notice", "done", f"Published; aid proposed {yuan(notice.amount)}.", (notice.seq,))


def _objections(view: ClaimView, record: ClaimRecord, now: datetime) -> Step:
    notice = record.notice
    if notice is None:
        return Step("Objections", "pending", "Members may object once the notice is out.")
    open_ = now <= notice.objections_until and view.stage is Stage.NOTICED
    until = notice.objections_until.strftime(_TIME)
    return Step(
        "Objections",
        "current" if open_ else "done",
        f"{_plural(len(record.objections), 'objection')}, {len(record.answers)} answered; "
        + (f"open until {until}." if open_ else f"closed {until}."),
        (*record.objections, *record.answers),
    )


def _panels(view: ClaimView, record: ClaimRecord) -> list[Step]:
    steps = [
        Step(
            f"{'Appeal panel' if panel.appeal else 'Panel'}, round {panel.round}",
            "done",
            f"{len(panel.jurors)} jurors drawn; voting until "
            f"{panel.votes_until.strftime(_TIME)}; {len(panel.sealed)} votes "
            f"sealed, {len(panel.revealed)} revealed.",
            (panel.seq,),
        )
        for panel in record.panels
    ]
    if not record.panels:
        steps.append(Step("Panel and vote", "pending", "Jurors are drawn after the notice."))
    elif view.stage is Stage.VOTING:
        steps.append(
            Step("Vote", "current", "The panel is voting; votes stay sealed until the close.")
        )
    return steps


def _decisions(record: ClaimRecord) -> list[Step]:
    steps = []
    for decision in record.decisions:
        tally = f"{decision.approvals} approve, {decision.rejections} reject"
        amount = f"; aid {yuan(decision.amount)}" if decision.amount else ""
        outcome = decision.outcome.value.replace("_", " ")
        steps.append(Step("Decision", "done", f"{outcome} ({tally}){amount}.", (decision.seq,)))
    if not record.decisions:
        steps.append(Step("Decision", "pending", "The revealed votes decide."))
    return steps


def _payout(view: ClaimView, record: ClaimRecord) -> Step:
    paid = record.paid
    if paid is not None:
        return Step(
            "Payout",
            "done",
            f"{yuan(paid.amount)} paid, shared in the period of {paid.period.isoformat()}.",
            (paid.seq,),
        )
    if view.stage is Stage.APPROVED:
        return Step("Payout", "current", "Approved: the operator pays it.")
    return Step("Payout", "pending", "Only an approved claim is paid.")


def claim_steps(view: ClaimView, record: ClaimRecord, now: datetime) -> list[Step]:
    """The claim's timeline at ``now``: filed, notice, objections, panels
    and vote, decisions, appeals, payout, and a withdrawal if any."""
    steps = [
        _filed(view, record),
        _notice(view, record),
        _objections(view, record, now),
        *_panels(view, record),
        *_decisions(record),
        *(
            Step("Appeal", "done", "The claimant appealed the rejection.", (s,))
            for s in record.appeals
        ),
        _payout(view, record),
    ]
    if record.withdrawn_seq is not None:
        steps.append(Step("Withdrawn", "done", "Closed by the operator.", (record.withdrawn_seq,)))
    return steps


@dataclass(frozen=True)
class ObjectionText:
    """An objection to a claim, with the operator's answer if there is one."""

    seq: int
    member: str
    text: str
    answer: str | None


def objection_texts(
    objections: Iterable[tuple[int, Body]], answers: Iterable[Body]
) -> list[ObjectionText]:
    """The objections (each entry's ``seq`` and body, in log order) beside
    the answers that name them."""
    answered = {b.objection: b.text for b in answers if isinstance(b, ClaimAnswered)}
    return [
        ObjectionText(seq, body.member, body.text, answered.get(seq))
        for seq, body in objections
        if isinstance(body, ClaimObjected)
    ]


@dataclass(frozen=True)
class ClaimActions:
    """Who is looking at a claim, and which forms its page offers them."""

    mine: bool  # the viewer filed it
    can_object: bool  # another active member, inside the objection window
    can_appeal: bool  # its claimant, after a rejection not yet appealed


def claim_actions(
    view: ClaimView, record: ClaimRecord, member_id: str | None, active: bool, now: datetime
) -> ClaimActions:
    """What the member ``member_id`` (``None`` for an account that has not
    joined; ``active`` if still in the pool) may do on the claim at ``now``."""
    mine = member_id is not None and view.member == member_id
    notice = record.notice
    can_object = (
        active
        and not mine
        and view.stage is Stage.NOTICED
        and notice is not None
        and now <= notice.objections_until
    )
    can_appeal = mine and view.stage is Stage.REJECTED and not view.appeal
    return ClaimActions(mine, can_object, can_appeal)
