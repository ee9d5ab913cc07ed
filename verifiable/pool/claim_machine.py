"""A claim's life under the rules of its filing: the one state machine
(docs/rules.md, §4-5).

Two readers follow a claim from entry to entry: the rulebook
(:mod:`verifiable.pool.claims` and :mod:`verifiable.pool.panels`, replaying
the whole log) and ``verify-claim`` (:mod:`verifiable.pool.claim_check`,
from a bundle).  Both ask this module what the rules require next, so they
cannot drift apart::

    filed ─► noticed ─► voting ─► approved ─► paid
      │                  │  ▲
      │                  │  └── redraw (missed quorum, rounds left)
      │                  └────► rejected ─► appealed ─► voting (2n+1) ─► ...
      └─► closed (ineligible: illness inside the waiting period; no panel)

- :class:`Course` is where a claim stands — its :class:`Stage`, the round of
  its last panel, whether the current instance is the appeal, the panels
  drawn in that instance — with a pure transition for each step
  (:meth:`~Course.noticed`, :meth:`~Course.drawn`, :meth:`~Course.decided`,
  :meth:`~Course.appeal_lodged`, :meth:`~Course.paid`, :meth:`~Course.closed`)
  and the questions the rules answer before one (:meth:`~Course.next_panel`:
  the round, appeal flag and size of the panel called for;
  :attr:`~Course.may_appeal`; :meth:`~Course.may_close_ineligible`).
- :class:`Panel` is the panel of the current round and its votes;
  :meth:`Panel.verdict` is the outcome and amount its tally gives (quorum
  first, then the approval threshold).

Each caller checks an entry against these answers and words a failure its
own way: the rulebook raises a named rule, ``verify-claim`` records a
finding.  Windows, sizes and thresholds come from the accessors of
:class:`~verifiable.pool.rules.Rules`.  The honest-history simulator
(:mod:`verifiable.testonly.simulate`) keeps its own books on purpose and does
not use this module: a replay of its output checks one against the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from verifiable.log.bodies import Choice, Outcome, PanelDrawn, VoteSealed
from verifiable.pool.rules import Rules

__all__ = ["AWAITING_PANEL", "FINAL", "Course", "Panel", "PanelCall", "Stage", "Verdict"]


class Stage(StrEnum):
    """Where a claim is in its life."""

    FILED = "filed"
    NOTICED = "noticed"
    VOTING = "voting"
    REDRAW = "redraw"
    REJECTED = "rejected"
    APPEALED = "appealed"
    APPROVED = "approved"
    PAID = "paid"
    CLOSED = "closed"


AWAITING_PANEL = (Stage.NOTICED, Stage.REDRAW, Stage.APPEALED)
"""The stages in which the next entry about a claim's jury is a panel."""
FINAL = (Stage.PAID, Stage.CLOSED)
"""The stages a claim never leaves."""


@dataclass(frozen=True, slots=True)
class PanelCall:
    """The panel the rules call for next: its round, its appeal flag and its
    number of jurors."""

    round: int
    appeal: bool
    size: int


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome a panel's tally gives, and the amount decided with it."""

    outcome: Outcome
    amount: int


@dataclass(frozen=True, slots=True)
class Course:
    """Where a claim stands in its life; every transition returns a new one."""

    stage: Stage = Stage.FILED
    round: int = 0
    """The round of the last panel drawn (0: none yet); rounds count on
    across instances."""
    appeal: bool = False
    """The current instance is the appeal: its panels have 2n+1 jurors and
    its decision is final."""
    instance_rounds: int = 0
    """Panels drawn in the current instance."""
    appealed: bool = False
    """A ``claim.appealed`` was accepted (an appeal is allowed once)."""

    @property
    def awaiting_panel(self) -> bool:
        """Whether the next step is a panel draw."""
        return self.stage in AWAITING_PANEL

    @property
    def answers_due(self) -> bool:
        """Whether every objection must be answered before the next panel:
        only before the first."""
        return self.stage is Stage.NOTICED

    @property
    def may_appeal(self) -> bool:
        """Whether the claimant may appeal now: a first-instance rejection,
        which :meth:`decided` gives only when the rules allow appeals."""
        return self.stage is Stage.REJECTED

    def may_close_ineligible(self, waiting: bool) -> bool:
        """Whether a decision without a panel (round 0) may close the claim:
        only a filed claim diagnosed inside the waiting period (``waiting``)."""
        return self.stage is Stage.FILED and waiting

    def next_panel(self, rules: Rules) -> PanelCall:
        """The panel called for while :attr:`awaiting_panel`: the next round,
        of the appeal instance after an appeal (or a redraw in it), of 2n+1
        jurors then and n otherwise."""
        appeal = self.stage is Stage.APPEALED or (self.stage is Stage.REDRAW and self.appeal)
        return PanelCall(self.round + 1, appeal, rules.panel_size_for(appeal))

    def noticed(self) -> Course:
        """After the notice."""
        return replace(self, stage=Stage.NOTICED)

    def drawn(self, call: PanelCall) -> Course:
        """After the panel ``call`` is drawn: voting, the first panel of the
        appeal instance starting that instance's count of rounds."""
        rounds = 0 if call.appeal and not self.appeal else self.instance_rounds
        return replace(
            self,
            stage=Stage.VOTING,
            round=call.round,
            appeal=self.appeal or call.appeal,
            instance_rounds=rounds + 1,
        )

    def decided(self, rules: Rules, outcome: Outcome) -> Course:
        """After the current panel's decision: approved; a redraw after a
        missed quorum with rounds left in the instance; else the instance is
        over, as a rejection that may be appealed once, from first instance,
        if the rules allow appeals, or closed."""
        if outcome is Outcome.APPROVED:
            stage = Stage.APPROVED
        elif outcome is Outcome.NO_QUORUM and self.instance_rounds < rules.max_rounds:
            stage = Stage.REDRAW
        elif not self.appeal and rules.appeals:
            stage = Stage.REJECTED
        else:
            stage = Stage.CLOSED
        return replace(self, stage=stage)

    def appeal_lodged(self) -> Course:
        """After a ``claim.appealed``: awaiting the appeal panel."""
        return replace(self, stage=Stage.APPEALED, appealed=True)

    def paid(self) -> Course:
        """After the payout of an approved claim."""
        return replace(self, stage=Stage.PAID)

    def closed(self) -> Course:
        """After an ineligible decision or a withdrawal."""
        return replace(self, stage=Stage.CLOSED)


@dataclass(slots=True)
class Panel:
    """The panel of the current round and its votes."""

    round: int
    appeal: bool
    jurors: tuple[str, ...]
    votes_until: datetime
    members: frozenset[str] = frozenset()
    sealed: dict[str, VoteSealed] = field(default_factory=dict)
    revealed: dict[str, Choice] = field(default_factory=dict)
    approvals: int = 0
    rejections: int = 0

    @classmethod
    def of(cls, body: PanelDrawn) -> Panel:
        """The panel a (checked) ``panel.drawn`` draws, no vote cast yet."""
        return cls(body.round, body.appeal, body.jurors, body.votes_until, frozenset(body.jurors))

    def count(self, juror: str, choice: Choice) -> None:
        """Count ``juror``'s revealed vote."""
        self.revealed[juror] = choice
        if choice is Choice.APPROVE:
            self.approvals += 1
        else:
            self.rejections += 1

    def verdict(self, rules: Rules, notice_amount: int) -> Verdict:
        """What the revealed votes give: no quorum if too few were revealed,
        else approval at the notice's amount if enough of them approve, else a
        rejection."""
        valid = self.approvals + self.rejections
        if valid < rules.quorum(len(self.jurors)):
            return Verdict(Outcome.NO_QUORUM, 0)
        if rules.approves(self.approvals, valid):
            return Verdict(Outcome.APPROVED, notice_amount)
        return Verdict(Outcome.REJECTED, 0)
