"""Claims: filing, notice, objections and answers, payouts and withdrawals,
and the seeds of their panel draws (docs/rules.md, §4-6).

A claim is judged all its life under the rules in force when it was filed
(``Claim.rules``), so a later rule change never alters it.  Its stages, and
what the rules require at each, are the one state machine of
:mod:`verifiable.pool.claim_machine` (``Claim.course``); panels, votes,
decisions and appeals are :mod:`verifiable.pool.panels`.

Panel seeds: the seed of a draw is the log's root hash at a size fixed by an
event, the *seed size*: the size of the log when the first entry at or after
the end of the objection window was appended (first instance), or right
after the entry that made the draw due (the ``claim.decided`` that missed
quorum, the ``claim.appealed``).  In both cases the seed size is the ``seq``
of the entry that fixes it, and the root at that size is the root of the log
just before that entry, which whoever applies the entry supplies
(``log_root_at``).

Every handler checks everything first and changes state only once nothing
can fail.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from verifiable.errors import RuleViolation
from verifiable.log.bodies import (
    AgeBand,
    ClaimAnswered,
    ClaimFiled,
    ClaimNoticed,
    ClaimObjected,
    ClaimPaid,
    Outcome,
)
from verifiable.log.fields import format_date, format_time
from verifiable.pool.claim_machine import AWAITING_PANEL, FINAL, Course, Panel, PanelCall, Stage
from verifiable.pool.members import Membership
from verifiable.pool.notice_check import notice_problem
from verifiable.pool.periods import Periods
from verifiable.pool.rules import Rules
from verifiable.pool.store import Codec, Kind, StoredMap, WriteBuffer, seq_key
from verifiable.pool.store_codecs import TEXT, claim_codec

__all__ = [
    "AWAITING_PANEL",
    "CLAIMS",
    "FILED",
    "Claim",
    "ClaimBook",
    "DrawPlan",
    "Panel",
    "Stage",
    "violation",
]


@dataclass(slots=True)
class Claim:
    """A claim and everything the rules need to judge it."""

    id: str
    member: str
    band: AgeBand
    category: str
    requested: int
    diagnosed: date
    filed_seq: int
    filed: datetime
    rules: Rules
    covered_from: date
    course: Course = field(default_factory=Course)
    notice_amount: int = 0
    objections_until: datetime | None = None
    objections: dict[int, str] = field(default_factory=dict)
    answered: set[int] = field(default_factory=set)
    seed_size: int | None = None
    seed: bytes | None = None
    past_jurors: set[str] = field(default_factory=set)
    panel: Panel | None = None
    decided: datetime | None = None
    outcome: Outcome | None = None
    amount: int = 0
    paid_period: date | None = None
    evidence: int = 0
    commitments: tuple[bytes, ...] = ()
    joined: datetime | None = None

    @property
    def stage(self) -> Stage:
        """Where the claim is in its life (``course.stage``)."""
        return self.course.stage

    @property
    def waiting(self) -> bool:
        """Diagnosed inside the waiting period (before ``covered_from``)."""
        return self.diagnosed < self.covered_from

    @property
    def cap(self) -> int:
        """The cap on this claim's aid under its rules (0 if its band lost cover,
        which filing prevents)."""
        return self.rules.cap(self.band) or 0

    def copy(self) -> Claim:
        """A working copy: its sets, its objections and its panel are its own."""
        panel = self.panel
        if panel is not None:
            panel = replace(panel, sealed=panel.sealed.copy(), revealed=panel.revealed.copy())
        return replace(
            self,
            objections=self.objections.copy(),
            answered=self.answered.copy(),
            past_jurors=self.past_jurors.copy(),
            panel=panel,
        )


CLAIMS: Kind[Claim] = Kind("claim", Codec(*claim_codec(Claim)), Claim.copy)
"""Every claim by id."""
FILED: Kind[str] = Kind("filed", TEXT)
"""Claim ids by the seq of their ``claim.filed`` (key :func:`seq_key`): filing order."""


@dataclass(frozen=True)
class DrawPlan:
    """Everything a panel draw for a claim is fixed by, and its result."""

    claim: str
    call: PanelCall
    pool_period: date
    seed_size: int
    seed: bytes
    excluded: frozenset[str]
    jurors: tuple[str, ...]


RootAt = Callable[[int], bytes]


def violation(rule: str, message: str, seq: int, expected: object, actual: object) -> RuleViolation:
    """A :class:`RuleViolation` of ``rule`` at entry ``seq``."""
    return RuleViolation(rule, message, seq=seq, expected=expected, actual=actual)


_v = violation


_BAND_ORDER = tuple(AgeBand)


def _claim_band(seq: int, body: ClaimFiled, joined: AgeBand) -> AgeBand:
    """The claimant's band for this claim: the filing's ``age_band`` (the
    band on the date of diagnosis) where it has one, else the band they
    joined in.  Written only where it differs, and never younger than the
    joining band: ages only grow (rule ``claim.age_band``)."""
    band = body.age_band
    if band is None:
        return joined
    if band is joined:
        raise _v(
            "claim.age_band",
            "the filing repeats the band the claimant joined in; it names a band only "
            "where the age at diagnosis gives another",
            seq,
            "no age_band",
            band.value,
        )
    if _BAND_ORDER.index(band) < _BAND_ORDER.index(joined):
        raise _v(
            "claim.age_band",
            f"the claimant joined in band {joined.value}; a later band cannot be younger",
            seq,
            f"a band older than {joined.value}",
            band.value,
        )
    return band


class ClaimBook:
    """Every claim and the seeds waiting to be fixed."""

    __slots__ = ("_filed", "armed", "claims", "deadlines", "members", "periods")

    def __init__(self, members: Membership, periods: Periods, buffer: WriteBuffer) -> None:
        self.members = members
        self.periods = periods
        self.claims = StoredMap(buffer, CLAIMS)
        self._filed = StoredMap(buffer, FILED)
        # Claims whose first-instance seed the end of their objection window
        # fixes (a heap by that time), and those the next entry fixes.
        self.deadlines: list[tuple[datetime, int, str]] = []
        self.armed: list[str] = []

    # -- seeds ----------------------------------------------------------

    def fix_seeds(
        self, seq: int, time: datetime, root_at: RootAt | None
    ) -> Callable[[], None] | None:
        """Fix the seed of every draw that entry ``seq`` at ``time`` makes due:
        the claims armed by the previous entry, and those whose objection
        window has ended by ``time``.  Returns an undo, or ``None`` if nothing
        changed."""
        deadlines = self.deadlines
        if not self.armed and not (deadlines and deadlines[0][0] <= time):
            return None
        popped: list[tuple[datetime, int, str]] = []
        while deadlines and deadlines[0][0] <= time:
            popped.append(heapq.heappop(deadlines))
        armed = self.armed
        self.armed = []
        due = [c for c in armed] + [c for _, _, c in popped]
        fixed: list[Claim] = []
        root: bytes | None = None
        for claim_id in due:
            claim = self.claims[claim_id]
            if not claim.course.awaiting_panel or claim.seed_size is not None:
                continue
            if root is None and root_at is not None:
                root = root_at(seq)
            claim.seed_size = seq
            claim.seed = root
            fixed.append(claim)

        def undo() -> None:
            for claim in fixed:
                claim.seed_size = None
                claim.seed = None
            for item in popped:
                heapq.heappush(deadlines, item)
            self.armed = armed

        return undo

    # -- lookups --------------------------------------------------------

    def require(self, claim_id: str, seq: int) -> Claim:
        """The claim ``claim_id``, else ``claim.unknown``."""
        claim = self.claims.get(claim_id)
        if claim is None:
            raise self.unknown(claim_id, seq)
        return claim

    @staticmethod
    def unknown(claim_id: str, seq: int) -> RuleViolation:
        """The ``claim.unknown`` violation for ``claim_id``."""
        return _v(
            "claim.unknown", f"claim {claim_id} was never filed", seq, "a filed claim", claim_id
        )

    # -- filing and notice ----------------------------------------------

    def filed(self, seq: int, time: datetime, body: ClaimFiled, rules: Rules) -> None:
        if body.claim in self.claims:
            raise _v(
                "claim.unique",
                f"claim id {body.claim} is already in the log",
                seq,
                "a new id",
                body.claim,
            )
        member = self.members.require_active(body.member, "claim.member", seq, "claimant")
        if member.ending:
            raise _v(
                "claim.member",
                f"member {body.member} is leaving after an ineligible claim",
                seq,
                "a member in good standing",
                "membership ending",
            )
        if body.category not in rules.categories:
            raise _v(
                "claim.category",
                f"illness category {body.category} is not covered",
                seq,
                "one of " + ", ".join(rules.categories),
                body.category,
            )
        band = _claim_band(seq, body, member.band)
        if rules.cap(band) is None:
            raise _v(
                "claim.cover",
                f"age band {band.value} has no cover",
                seq,
                "a covered band",
                band.value,
            )
        today = time.date()
        if body.diagnosed > today:
            raise _v(
                "claim.diagnosed",
                "the diagnosis is dated after the filing",
                seq,
                f"on or before {format_date(today)}",
                format_date(body.diagnosed),
            )
        deadline = body.diagnosed + timedelta(days=rules.filing_days)
        if today > deadline:
            raise _v(
                "claim.filing_deadline",
                f"a claim is filed within {rules.filing_days} days of the diagnosis",
                seq,
                f"on or before {format_date(deadline)}",
                format_date(today),
            )
        covered_from = rules.covered_from(member.joined)
        self._filed.put(seq_key(seq), body.claim)
        self.claims.put(
            body.claim,
            Claim(
                id=body.claim,
                member=body.member,
                band=band,
                category=body.category,
                requested=body.amount,
                diagnosed=body.diagnosed,
                filed_seq=seq,
                filed=time,
                rules=rules,
                covered_from=covered_from,
                evidence=len(body.evidence),
                commitments=body.evidence,
                joined=member.joined,
            ),
        )

    def in_filing_order(self) -> Iterator[Claim]:
        """Every claim, in filing order (one scan of each kind, not a read
        per claim)."""
        claims = dict(self.claims.items())
        for _, claim_id in self._filed.items():
            yield claims[claim_id]

    def noticed(self, seq: int, time: datetime, body: ClaimNoticed) -> None:
        claim = self.require(body.claim, seq)
        if claim.stage is not Stage.FILED:
            raise _v(
                "notice.state",
                f"claim {claim.id} is {claim.stage.value}",
                seq,
                "a filed claim not yet noticed",
                claim.stage.value,
            )
        rules = claim.rules
        if claim.waiting:
            raise _v(
                "claim.waiting_period",
                f"claim {claim.id} was diagnosed inside the {rules.waiting_days}-day waiting "
                "period: it gets no notice and no panel, only an ineligible decision",
                seq,
                f"diagnosed on or after {format_date(claim.covered_from)}",
                format_date(claim.diagnosed),
            )
        if body.age_band is not claim.band:
            raise _v(
                "notice.fields",
                "the notice's age band is not the claimant's",
                seq,
                claim.band.value,
                body.age_band.value,
            )
        if body.category != claim.category:
            raise _v(
                "notice.fields",
                "the notice's category is not the claim's",
                seq,
                claim.category,
                body.category,
            )
        most = min(claim.requested, claim.cap)
        if not 1 <= body.amount <= most:
            raise _v(
                "notice.amount",
                f"the proposed aid is at most the amount requested ({claim.requested}) "
                f"and the cap ({claim.cap})",
                seq,
                f"1..{most}",
                body.amount,
            )
        problem = notice_problem(
            body,
            diagnosed=claim.diagnosed,
            requested=claim.requested,
            cap=claim.cap,
            evidence=claim.commitments,
            joined=claim.joined,
        )
        if problem is not None:
            raise _v(problem.rule, problem.message, seq, problem.expected, problem.actual)
        until = rules.objections_until(time)
        if body.objections_until != until:
            raise _v(
                "notice.window",
                f"the objection window is {rules.objection_days} days from the notice",
                seq,
                format_time(until),
                format_time(body.objections_until),
            )
        claim.course = claim.course.noticed()
        claim.notice_amount = body.amount
        claim.objections_until = until
        heapq.heappush(self.deadlines, (until, seq, claim.id))

    def objected(self, seq: int, time: datetime, body: ClaimObjected) -> None:
        claim = self.require(body.claim, seq)
        if claim.stage is not Stage.NOTICED or claim.objections_until is None:
            raise _v(
                "objection.state",
                f"claim {claim.id} is {claim.stage.value}",
                seq,
                "a noticed claim",
                claim.stage.value,
            )
        if time > claim.objections_until:
            raise _v(
                "objection.window",
                "the objection window has closed",
                seq,
                f"at or before {format_time(claim.objections_until)}",
                format_time(time),
            )
        self.members.require_active(body.member, "objection.member", seq, "objector")
        if body.member == claim.member:
            raise _v(
                "objection.member",
                "the claimant cannot object to their own claim",
                seq,
                "another member",
                body.member,
            )
        # Under the rules of the claim's filing, as everything about a claim;
        # a rulebook that does not name the rule sets no limit.
        earlier = sum(1 for member in claim.objections.values() if member == body.member)
        if not claim.rules.objection_allowed(earlier):
            raise _v(
                "objection.limit",
                f"member {body.member} has made {earlier} objection(s) to claim {claim.id}",
                seq,
                f"at most {claim.rules.objections_per_member} per member",
                f"objection {earlier + 1}",
            )
        claim.objections[seq] = body.member

    def answered(self, seq: int, time: datetime, body: ClaimAnswered) -> None:
        claim = self.require(body.claim, seq)
        if body.objection not in claim.objections:
            raise _v(
                "answer.objection",
                f"entry {body.objection} is not an objection to claim {claim.id}",
                seq,
                "the seq of a claim.objected entry on this claim",
                body.objection,
            )
        if body.objection in claim.answered:
            raise _v(
                "answer.once",
                f"objection {body.objection} is already answered",
                seq,
                "one answer per objection",
                "a second answer",
            )
        claim.answered.add(body.objection)

    # -- payouts --------------------------------------------------------

    def check_paid(self, seq: int, body: ClaimPaid) -> Claim:
        claim = self.require(body.claim, seq)
        if claim.stage is Stage.PAID:
            raise _v(
                "payout.once",
                f"claim {claim.id} was already paid in period {claim.paid_period}",
                seq,
                "one payout",
                "a second payout",
            )
        if claim.stage is not Stage.APPROVED:
            raise _v(
                "payout.decided",
                f"claim {claim.id} is {claim.stage.value}",
                seq,
                "an approved claim",
                claim.stage.value,
            )
        if body.amount > claim.cap:
            raise _v(
                "payout.cap",
                f"aid for age band {claim.band.value} is capped",
                seq,
                f"at most {claim.cap}",
                body.amount,
            )
        if body.amount > claim.requested:
            raise _v(
                "payout.requested",
                "aid is never more than the amount requested",
                seq,
                f"at most {claim.requested}",
                body.amount,
            )
        if body.amount != claim.amount:
            raise _v(
                "payout.amount",
                "a payout is the amount decided",
                seq,
                claim.amount,
                body.amount,
            )
        current = self.periods.current
        if body.period != current:
            raise _v(
                "payout.period",
                "aid is shared in the period it is paid in",
                seq,
                format_date(current),
                format_date(body.period),
            )
        return claim

    def paid(self, claim: Claim, body: ClaimPaid) -> None:
        claim.course = claim.course.paid()
        claim.past_jurors.clear()
        claim.paid_period = body.period
        self.periods.add_paid(claim.id, body.amount)

    # -- overrides ------------------------------------------------------

    def check_withdraw(self, seq: int, claim_id: str) -> Claim:
        claim = self.claims.get(claim_id)
        if claim is None or claim.stage in FINAL:
            state = "unknown" if claim is None else claim.stage.value
            raise _v(
                "override.target",
                f"claim.withdraw needs an open claim, {claim_id} is {state}",
                seq,
                "an open claim",
                state,
            )
        return claim

    def withdraw(self, claim: Claim) -> None:
        claim.course = claim.course.closed()
        claim.past_jurors.clear()
        claim.panel = None
        claim.seed_size = None
        claim.seed = None
