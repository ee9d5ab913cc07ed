"""A claim as a member's page shows it: the timeline of its steps, each
with the log entries that record it; its objections beside their answers;
and which forms a member may use on it.

Built from the rulebook's :class:`~verifiable.pool.state.ClaimView`, the
log index's :class:`~verifiable.pool.log_index.ClaimRecord` and the
entries' bodies; the time is an argument (docs/members.md, "Follow a claim").
The words are in the request's language and times in the pool's time
zone (:mod:`server.i18n`); outside a request, English words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext

from server import i18n
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


@dataclass(frozen=True)
class Step:
    """One step of a claim's life as its status page shows it: its label
    and detail in the page's language, times in the pool's time zone."""

    label: str
    state: str  # "done", "current" or "pending"
    detail: str
    seqs: tuple[int, ...] = ()


def _filed(view: ClaimView, record: ClaimRecord) -> Step:
    documents = ngettext(
        "%(num)d document committed.", "%(num)d documents committed.", record.documents
    )
    return Step(
        _("Filed"),
        "done",
        _(
            "%(amount)s requested for %(category)s, %(documents)s",
            amount=i18n.yuan(view.requested),
            category=i18n.category(view.category),
            documents=documents,
        ),
        (record.filed_seq,),
    )


def _notice(view: ClaimView, record: ClaimRecord) -> Step:
    notice = record.notice
    if view.waiting:
        return Step(
            _("Notice"), "done", _("No notice: the illness began inside the waiting period.")
        )
    if notice is None:
        return Step(_("Notice"), "current", _("The operator reviews the claim and writes it."))
    return Step(
        _("Notice"),
        "done",
        _("Published; aid proposed %(amount)s.", amount=i18n.yuan(notice.amount)),
        (notice.seq,),
    )


def _objections(view: ClaimView, record: ClaimRecord, now: datetime) -> Step:
    notice = record.notice
    if notice is None:
        return Step(_("Objections"), "pending", _("Members may object once the notice is out."))
    open_ = now <= notice.objections_until and view.stage is Stage.NOTICED
    until = i18n.datetime(notice.objections_until)
    counts = _(
        "%(objections)s, %(answered)d answered;",
        objections=ngettext("%(num)d objection", "%(num)d objections", len(record.objections)),
        answered=len(record.answers),
    )
    window = (
        _("open until %(until)s.", until=until) if open_ else _("closed %(until)s.", until=until)
    )
    return Step(
        _("Objections"),
        "current" if open_ else "done",
        f"{counts} {window}",
        (*record.objections, *record.answers),
    )


def _panels(view: ClaimView, record: ClaimRecord) -> list[Step]:
    steps = [
        Step(
            _("Appeal panel, round %(round)d", round=panel.round)
            if panel.appeal
            else _("Panel, round %(round)d", round=panel.round),
            "done",
            _(
                "%(jurors)d jurors drawn; voting until %(until)s; %(sealed)d votes sealed, "
                "%(revealed)d revealed.",
                jurors=len(panel.jurors),
                until=i18n.datetime(panel.votes_until),
                sealed=len(panel.sealed),
                revealed=len(panel.revealed),
            ),
            (panel.seq,),
        )
        for panel in record.panels
    ]
    if not record.panels:
        steps.append(Step(_("Panel and vote"), "pending", _("Jurors are drawn after the notice.")))
    elif view.stage is Stage.VOTING:
        steps.append(
            Step(_("Vote"), "current", _("The panel is voting; votes stay sealed until the close."))
        )
    return steps


def _decisions(record: ClaimRecord) -> list[Step]:
    steps = []
    for decision in record.decisions:
        detail = _(
            "%(outcome)s (%(approvals)d approve, %(rejections)d reject).",
            outcome=i18n.outcome(decision.outcome.value),
            approvals=decision.approvals,
            rejections=decision.rejections,
        )
        if decision.amount:
            detail += " " + _("Aid: %(amount)s.", amount=i18n.yuan(decision.amount))
        steps.append(Step(_("Decision"), "done", detail, (decision.seq,)))
    if not record.decisions:
        steps.append(Step(_("Decision"), "pending", _("The revealed votes decide.")))
    return steps


def _payout(view: ClaimView, record: ClaimRecord) -> Step:
    paid = record.paid
    if paid is not None:
        return Step(
            _("Payout"),
            "done",
            _(
                "%(amount)s paid, shared in the period of %(period)s.",
                amount=i18n.yuan(paid.amount),
                period=i18n.date(paid.period),
            ),
            (paid.seq,),
        )
    if view.stage is Stage.APPROVED:
        return Step(_("Payout"), "current", _("Approved: the operator pays it."))
    return Step(_("Payout"), "pending", _("Only an approved claim is paid."))


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
            Step(_("Appeal"), "done", _("The claimant appealed the rejection."), (s,))
            for s in record.appeals
        ),
        _payout(view, record),
    ]
    if record.withdrawn_seq is not None:
        steps.append(
            Step(_("Withdrawn"), "done", _("Closed by the operator."), (record.withdrawn_seq,))
        )
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
