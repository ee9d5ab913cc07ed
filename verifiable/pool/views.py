"""What the state shows of a member and of a claim: read-only views, made
from the records of :mod:`verifiable.pool.members` and
:mod:`verifiable.pool.claims` (a view never changes with the state)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from verifiable.log.bodies import AgeBand, Outcome
from verifiable.pool.claims import Claim, Stage
from verifiable.pool.members import Member
from verifiable.pool.rules import Rules

__all__ = ["ClaimView", "MemberView", "claim_view", "member_view"]


@dataclass(frozen=True)
class MemberView:
    """An active member, read-only."""

    id: str
    band: AgeBand
    joined: datetime
    joined_seq: int
    juror: bool
    ending: bool


@dataclass(frozen=True)
class ClaimView:
    """A claim's public state, read-only."""

    id: str
    member: str
    band: AgeBand
    category: str
    requested: int
    filed_seq: int
    stage: Stage
    notice_amount: int
    objections: int
    round: int
    appeal: bool
    jurors: tuple[str, ...]
    votes_until: datetime | None
    sealed: int
    revealed: int
    outcome: Outcome | None
    amount: int
    paid_period: date | None
    rules: Rules
    waiting: bool
    """Diagnosed inside the waiting period: no notice, only an ineligible decision."""
    objections_until: datetime | None
    objection_seqs: tuple[int, ...]
    """The seqs of the ``claim.objected`` entries, in log order."""
    unanswered: tuple[int, ...]
    """The seqs of the objections not answered yet, in log order."""
    evidence: int
    """Evidence commitments in the ``claim.filed`` entry."""
    diagnosed: date
    """The filing's date of diagnosis."""


def member_view(m: Member) -> MemberView:
    return MemberView(m.id, m.band, m.joined, m.joined_seq, m.juror, m.ending)


def claim_view(c: Claim) -> ClaimView:
    panel = c.panel
    return ClaimView(
        id=c.id,
        member=c.member,
        band=c.band,
        category=c.category,
        requested=c.requested,
        filed_seq=c.filed_seq,
        stage=c.stage,
        notice_amount=c.notice_amount,
        objections=len(c.objections),
        round=c.course.round,
        appeal=c.course.appeal,
        jurors=panel.jurors if panel else (),
        votes_until=panel.votes_until if panel else None,
        sealed=len(panel.sealed) if panel else 0,
        revealed=len(panel.revealed) if panel else 0,
        outcome=c.outcome,
        amount=c.amount,
        paid_period=c.paid_period,
        rules=c.rules,
        waiting=c.waiting,
        objections_until=c.objections_until,
        objection_seqs=tuple(c.objections),
        unanswered=tuple(s for s in c.objections if s not in c.answered),
        evidence=c.evidence,
        diagnosed=c.diagnosed,
    )
