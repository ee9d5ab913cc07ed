"""What the operator reads: the review queue (which claims wait for which
step, which periods are due) and a claim's case file (its public state with
the notice, objections and answers read back from the log, and the private
evidence and identity).

Nothing here appends; the queue is computed from the replayed state on each
call, with no table of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from server.pool.core import PoolCore
from server.private.evidence import (
    EvidenceDocument,
    StoredEvidence,
    evidence_content,
    list_evidence,
)
from server.private.members import MemberDetails, member_details
from verifiable.log.bodies import ClaimAnswered, ClaimNoticed, ClaimObjected
from verifiable.pool.claims import AWAITING_PANEL
from verifiable.pool.state import ClaimView, Stage

__all__ = ["CaseFile", "Objection", "QueueAction", "QueueItem", "Review", "ReviewQueue"]


class QueueAction(StrEnum):
    """What a claim in the review queue waits for from the operator."""

    NOTICE = "notice"  # filed: write the redacted notice
    INELIGIBLE = "ineligible"  # filed, diagnosed inside the waiting period
    ANSWER = "answer"  # objections not answered yet
    DRAW = "draw"  # noticed and the objection window over, or a redraw or appeal
    CLOSE_VOTING = "close_voting"  # the voting window is over
    PAY = "pay"  # approved


@dataclass(frozen=True)
class QueueItem:
    action: QueueAction
    claim: ClaimView


@dataclass(frozen=True)
class ReviewQueue:
    """What needs the operator at ``now``: ``items`` in the order to do them,
    the open claims whose next step waits for a window to close, and the
    periods due to close (oldest first)."""

    now: datetime
    items: tuple[QueueItem, ...]
    waiting: tuple[ClaimView, ...]
    due_periods: tuple[date, ...]


@dataclass(frozen=True)
class Objection:
    """An objection to a claim, with the answer if there is one."""

    seq: int
    body: ClaimObjected
    answer: ClaimAnswered | None


@dataclass(frozen=True)
class CaseFile:
    """Everything the operator sees of a claim: the public state, the notice
    and objections from the log, and the private evidence and identity."""

    claim: ClaimView
    notice: ClaimNoticed | None
    objections: tuple[Objection, ...]
    documents: tuple[EvidenceDocument, ...]
    claimant: MemberDetails | None
    drawable: bool
    now: datetime


class Review:
    """The operator's reads over ``core``."""

    def __init__(self, core: PoolCore) -> None:
        self._core = core

    def review_queue(self) -> ReviewQueue:
        """The claims waiting for the operator now, and the periods due."""
        core = self._core
        with core.lock:
            state = core.state()
            now = core.now(state)
            if not state.started:
                return ReviewQueue(now, (), (), ())
            items: list[QueueItem] = []
            waiting: list[ClaimView] = []
            for view in state.claims():
                actions = _next_actions(view, now)
                items.extend(QueueItem(action, view) for action in actions)
                if not actions and view.stage in (Stage.NOTICED, Stage.VOTING):
                    waiting.append(view)
            order = list(QueueAction)
            items.sort(key=lambda item: (order.index(item.action), item.claim.filed_seq))
            # A period's moment is noticed by the next entry; preview it at now.
            due = state.due_periods
            close = state.expected_period_close(now)
            if close is not None and close.period not in due:
                due = (*due, close.period)
            return ReviewQueue(now, tuple(items), tuple(waiting), due)

    def notice(self, claim_id: str) -> ClaimNoticed | None:
        """The claim's public redacted notice, if it has one."""
        record = self._core.record(claim_id)
        if record is None or record.notice is None:
            return None
        return self._core.body(record.notice.seq, ClaimNoticed)

    def case_file(self, claim_id: str) -> CaseFile | None:
        """The operator's view of a claim, or ``None`` if there is no such claim."""
        core = self._core
        with core.lock:
            state = core.state()
            view = state.claim(claim_id)
            if view is None:
                return None
            now = core.now(state)
            record = core.record(claim_id)
            answers = [core.body(seq, ClaimAnswered) for seq in record.answers] if record else []
            answered = {answer.objection: answer for answer in answers}
            objections = [
                Objection(seq, core.body(seq, ClaimObjected), answered.get(seq))
                for seq in view.objection_seqs
            ]
            return CaseFile(
                claim=view,
                notice=self.notice(claim_id),
                objections=tuple(objections),
                documents=tuple(list_evidence(core.engine, claim_id)),
                claimant=member_details(core.engine, view.member),
                drawable=QueueAction.DRAW in _next_actions(view, now),
                now=now,
            )

    def evidence_document(self, claim_id: str, position: int) -> StoredEvidence | None:
        """A claim's evidence document with its bytes; ``None`` if unknown or erased."""
        return evidence_content(self._core.engine, claim_id, position)


def _next_actions(view: ClaimView, now: datetime) -> list[QueueAction]:
    """What ``view`` waits for from the operator at ``now`` (none while a
    window is open or the claim is final)."""
    actions = [QueueAction.ANSWER] if view.unanswered else []
    stage = view.stage
    if stage is Stage.FILED:
        actions.append(QueueAction.INELIGIBLE if view.waiting else QueueAction.NOTICE)
    elif stage in AWAITING_PANEL and not view.unanswered:
        until = view.objections_until
        if stage is not Stage.NOTICED or until is None or now >= until:
            actions.append(QueueAction.DRAW)
    elif stage is Stage.VOTING and view.votes_until is not None and now > view.votes_until:
        actions.append(QueueAction.CLOSE_VOTING)
    elif stage is Stage.APPROVED:
        actions.append(QueueAction.PAY)
    return actions
