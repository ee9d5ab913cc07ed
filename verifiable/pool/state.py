"""The pool as a state machine: apply the log's entries one at a time, or
learn the first rule an entry breaks (docs/rules.md).

:class:`PoolState` holds what the rules need and nothing more — the rulebook
schedule, the active members and jurors, the latest juror pool, the claims
and the periods not yet closed — so its memory follows the pool's live state,
not the length of the log.  :meth:`PoolState.apply` checks one decoded entry
against the rules and records it; an entry that breaks a rule raises
:class:`~verifiable.errors.RuleViolation` naming the rule, the entry's
``seq`` and the expected versus actual value, and leaves the state exactly as
it was, so a server can try a candidate entry before appending it.

Time comes only from the entries: each entry's ``time`` must not be before
the previous one's (``log.time_order``), and the passing of a period's moment
or the end of an objection window is noticed when the first entry at or after
it is applied.  The state holds no Merkle tree: when a panel's seed becomes
fixed, ``apply`` asks its caller for the log's root hash at that size through
``log_root_at`` (:mod:`verifiable.pool.replay` supplies it from a compact tree).

The handlers live in :mod:`verifiable.pool.members`,
:mod:`verifiable.pool.claims`, :mod:`verifiable.pool.panels`,
:mod:`verifiable.pool.periods` and :mod:`verifiable.pool.verifier_page`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from verifiable.errors import RuleViolation
from verifiable.log.bodies import (
    Body,
    ClaimDecided,
    ClaimFiled,
    ClaimPaid,
    DataErased,
    ErasedKind,
    JurorQualified,
    JurorRemoved,
    JuryPool,
    LeaveReason,
    MemberJoined,
    MemberLeft,
    OperatorOverride,
    Outcome,
    PanelDrawn,
    PeriodClosed,
    PoolRules,
    SeedCheckpoint,
)
from verifiable.log.entry import Entry
from verifiable.log.fields import format_time
from verifiable.pool.claims import ClaimBook, RootAt, Stage
from verifiable.pool.members import Membership
from verifiable.pool.panels import Votes
from verifiable.pool.periods import Ledger, PeriodFigures, Periods
from verifiable.pool.records import OVERRIDES, ErasureRecord, Erasures, OverrideRecord
from verifiable.pool.rules import Rulebook, RuleChange, Rules
from verifiable.pool.store import MemoryStore, StateStore, StoredMap, WriteBuffer, seq_key
from verifiable.pool.verifier_page import VerifierPages
from verifiable.pool.views import ClaimView, MemberView, claim_view, member_view

__all__ = [
    "ClaimView",
    "ErasureRecord",
    "MemberView",
    "OverrideRecord",
    "PoolState",
    "RootAt",
    "Stage",
]

WITHDRAW = "claim.withdraw"
"""The override action that closes an open claim (target: the claim id)."""


class _Started:
    """The parts of the state that exist from the genesis rulebook on."""

    __slots__ = ("claims", "periods", "votes")

    def __init__(self, periods: Periods, claims: ClaimBook) -> None:
        self.periods = periods
        self.claims = claims
        self.votes = Votes(claims)


class PoolState:
    """The state of the pool after the entries applied so far, its records
    kept in ``store`` (default: a new :class:`MemoryStore`)."""

    __slots__ = (
        "_buffer",
        "_handlers",
        "_overrides",
        "_s",
        "_size",
        "_time",
        "erasures",
        "members",
        "pages",
        "rulebook",
    )

    def __init__(self, store: StateStore | None = None) -> None:
        self._buffer = buffer = WriteBuffer(MemoryStore() if store is None else store)
        self._size = 0
        self._time: datetime | None = None
        self.rulebook = Rulebook()
        self.members = Membership(buffer)
        self._overrides = StoredMap(buffer, OVERRIDES)
        self.erasures = Erasures(buffer)
        self.pages = VerifierPages(buffer)
        self._s: _Started | None = None
        # Before genesis every type but pool.rules is refused by _genesis.
        self._handlers: dict[str, Callable[[int, datetime, Any], None]] = {
            "pool.rules": self._rules,
            "member.joined": self._joined,
            "member.left": self._left,
            "claim.filed": self._filed,
            "juror.qualified": self._qualified,
            "juror.removed": self._removed,
            "jury.pool": self._jury_pool,
            "claim.decided": self._decided,
            "claim.paid": self._paid,
            "period.closed": self._closed,
            "operator.override": self._override,
            "data.erased": self._erased,
            "verifier.published": self.pages.publish,
        }

    # -- applying -------------------------------------------------------

    def apply(self, entry: Entry, log_root_at: RootAt | None = None) -> None:
        """Check ``entry`` against the rules and record it.

        ``log_root_at(n)`` must return the RFC 9162 root hash of the log's
        first ``n`` entries; it is called only with ``n == entry.seq`` (the log
        just before this entry), when the entry fixes a panel's seed.  With
        ``None``, seeds are not checked against the log: a panel's ``seed``
        field is taken as given (the draw from it is still checked).

        Raises :class:`RuleViolation` and leaves the state unchanged if the
        entry breaks a rule.
        """
        self.apply_body(entry.seq, entry.time, entry.body, log_root_at)

    def apply_body(
        self, seq: int, time: datetime, body: Body, log_root_at: RootAt | None = None
    ) -> None:
        """:meth:`apply` for an entry given by its ``seq``, ``time`` and body
        (its type is ``body.TYPE``), for a caller that has not built the
        :class:`~verifiable.log.entry.Entry`."""
        if seq != self._size:
            raise RuleViolation(
                "log.seq",
                "entries are applied in order",
                seq=seq,
                expected=self._size,
                actual=seq,
            )
        buffer = self._buffer
        buffer.begin()
        try:
            self._apply(seq, time, body, log_root_at)
        except BaseException:
            buffer.rollback()
            raise
        buffer.commit()

    def _apply(self, seq: int, time: datetime, body: Body, log_root_at: RootAt | None) -> None:
        started = self._s
        if started is None:
            self._genesis(seq, time, body)
            return
        assert self._time is not None
        if time < self._time:
            raise RuleViolation(
                "log.time_order",
                "an entry's time is never before the previous entry's",
                seq=seq,
                expected=f"at or after {format_time(self._time)}",
                actual=format_time(time),
            )
        periods = started.periods
        crossed = 0
        if time >= periods.open.moment:
            crossed = periods.cross(time, self._rules_at, self.members.roster)
        try:
            claims = started.claims
            undo = None
            if claims.armed or (claims.deadlines and claims.deadlines[0][0] <= time):
                undo = claims.fix_seeds(seq, time, log_root_at)
            started.votes.root_at = log_root_at  # a witnessed draw's checkpoint is checked by it
            try:
                self._handlers[body.TYPE](seq, time, body)
            except BaseException:
                if undo is not None:
                    undo()
                raise
        except BaseException:
            periods.uncross(crossed)
            raise
        self._size = seq + 1
        self._time = time

    def _genesis(self, seq: int, time: datetime, body: Body) -> None:
        if not isinstance(body, PoolRules):
            raise RuleViolation(
                "rules.genesis",
                "the log begins with the pool's rulebook",
                seq=seq,
                expected="pool.rules",
                actual=body.TYPE,
            )
        change = self.rulebook.propose(seq, time, body)
        periods = Periods(time, change.rules, self._buffer)
        self.rulebook.adopt(change)
        self._start(periods, ClaimBook(self.members, periods, self._buffer))
        self._size = seq + 1
        self._time = time

    def _start(self, periods: Periods, book: ClaimBook) -> None:
        """The parts that exist from genesis on (also :mod:`.state_head`)."""
        started = self._s = _Started(periods, book)
        claims, votes = started.claims, started.votes
        votes.rules_at = self._rules_at
        # These handlers take (seq, time, body) and are called directly.
        self._handlers.update(
            {
                "claim.noticed": claims.noticed,
                "claim.objected": claims.objected,
                "claim.answered": claims.answered,
                "claim.appealed": votes.appealed,
                "panel.drawn": votes.panel_drawn,
                "vote.sealed": votes.sealed,
                "vote.revealed": votes.revealed,
            }
        )

    def _rules_at(self, at: datetime) -> Rules:
        rules = self.rulebook.in_force(at)
        assert rules is not None  # genesis is in force from the first entry on
        return rules

    @property
    def _started(self) -> _Started:
        assert self._s is not None
        return self._s

    # -- handlers -------------------------------------------------------

    def _rules(self, seq: int, time: datetime, body: Body) -> None:
        assert isinstance(body, PoolRules)
        self.rulebook.adopt(self.rulebook.propose(seq, time, body))

    def _joined(self, seq: int, time: datetime, body: Body) -> None:
        assert isinstance(body, MemberJoined)
        self.members.check_join(seq, body.member, body.age_band, self._rules_at(time))
        self.members.join(seq, time, body.member, body.age_band)

    def _left(self, seq: int, time: datetime, body: Body) -> None:
        assert isinstance(body, MemberLeft)
        member = self.members.require_active(body.member, "member.active", seq, "member")
        waiting = body.reason is LeaveReason.WAITING_PERIOD
        if waiting != member.ending:
            raise RuleViolation(
                "member.waiting_period",
                "a member leaves with reason waiting_period exactly when one of their "
                "claims was decided ineligible",
                seq=seq,
                expected="waiting_period" if member.ending else "not waiting_period",
                actual=body.reason.value,
            )
        refund = self.refund_due(member.id) if waiting else 0
        if body.refund != refund:
            raise RuleViolation(
                "member.refund",
                "the refund is the member's past shares after an ineligible claim, else 0",
                seq=seq,
                expected=refund,
                actual=body.refund,
            )
        self.members.leave(member.id)
        self._started.periods.add_refund(refund)

    def _filed(self, seq: int, time: datetime, body: Body) -> None:
        assert isinstance(body, ClaimFiled)
        self._started.claims.filed(seq, time, body, self._rules_at(time))

    def _qualified(self, seq: int, time: datetime, body: Body) -> None:
        assert isinstance(body, JurorQualified)
        member = self.members.check_qualify(seq, time, body.member, self._rules_at(time))
        self.members.qualify(member)

    def _removed(self, seq: int, time: datetime, body: Body) -> None:
        assert isinstance(body, JurorRemoved)
        self.members.remove(self.members.check_remove(seq, body.member))

    def _jury_pool(self, seq: int, time: datetime, body: Body) -> None:
        assert isinstance(body, JuryPool)
        ids = self.members.check_pool(seq, body, self._started.periods.current)
        self.members.set_pool(body, ids)

    def _decided(self, seq: int, time: datetime, body: Body) -> None:
        assert isinstance(body, ClaimDecided)
        claim = self._started.votes.decided(seq, time, body)
        if claim.outcome is Outcome.INELIGIBLE:
            member = self.members.active.get(claim.member)
            if member is not None:
                member.ending = True  # a working copy, written back at commit

    def _paid(self, seq: int, time: datetime, body: Body) -> None:
        assert isinstance(body, ClaimPaid)
        claims = self._started.claims
        claims.paid(claims.check_paid(seq, body), body)

    def _closed(self, seq: int, time: datetime, body: Body) -> None:
        assert isinstance(body, PeriodClosed)
        periods = self._started.periods
        periods.check_close(seq, body)
        periods.commit_close(body)

    def _override(self, seq: int, time: datetime, body: Body) -> None:
        assert isinstance(body, OperatorOverride)
        rules = self._rules_at(time)
        if body.action not in rules.overrides_allowed:
            raise RuleViolation(
                "override.allowed",
                f"the rules do not allow the override {body.action}",
                seq=seq,
                expected="one of " + (", ".join(rules.overrides_allowed) or "none"),
                actual=body.action,
            )
        claims = self._started.claims
        if body.action == WITHDRAW:
            claims.withdraw(claims.check_withdraw(seq, body.target))
        record = OverrideRecord(seq, time, body.action, body.target, body.reason)
        self._overrides.put(seq_key(seq), record)

    def _erased(self, seq: int, time: datetime, body: Body) -> None:
        assert isinstance(body, DataErased)
        if body.kind is ErasedKind.MEMBER:
            known = body.subject in self.members.active or body.subject in self.members.gone
            if not known:
                raise RuleViolation(
                    "erasure.subject",
                    f"member {body.subject} never joined the pool",
                    seq=seq,
                    expected="a member the log knows",
                    actual=body.subject,
                )
        else:
            claim = self._started.claims.claims.get(body.subject)
            if claim is None:
                raise RuleViolation(
                    "erasure.subject",
                    f"claim {body.subject} was never filed",
                    seq=seq,
                    expected="a filed claim",
                    actual=body.subject,
                )
            if body.documents > claim.evidence:
                raise RuleViolation(
                    "erasure.documents",
                    f"claim {claim.id} was filed with {claim.evidence} evidence document(s)",
                    seq=seq,
                    expected=f"at most {claim.evidence}",
                    actual=body.documents,
                )
        key = (body.kind, body.subject)
        earlier = self.erasures.get(key)
        if earlier is not None:
            raise RuleViolation(
                "erasure.once",
                f"the {body.kind.value} data of {body.subject} was already erased "
                f"in entry {earlier.seq}",
                seq=seq,
                expected="one erasure",
                actual="a second erasure",
            )
        self.erasures.put(
            ErasureRecord(seq, time, body.kind, body.subject, body.documents, body.reason)
        )

    # -- reading --------------------------------------------------------

    @property
    def overrides(self) -> tuple[OverrideRecord, ...]:
        """Every ``operator.override``, in log order."""
        return tuple(self._overrides.values())

    @property
    def size(self) -> int:
        """Entries applied so far: the ``seq`` of the next entry."""
        return self._size

    @property
    def time(self) -> datetime | None:
        """The time of the last entry applied."""
        return self._time

    @property
    def started(self) -> bool:
        """Whether the genesis rulebook has been applied."""
        return self._s is not None

    def rules_at(self, at: datetime) -> Rules | None:
        """The rules in force at ``at``."""
        return self.rulebook.in_force(at)

    @property
    def rule_changes(self) -> tuple[RuleChange, ...]:
        """Every ``pool.rules`` entry adopted, genesis first."""
        return self.rulebook.changes

    def member(self, member_id: str) -> MemberView | None:
        """An active member, or ``None``."""
        m = self.members.active.get(member_id)
        return member_view(m) if m else None

    def has_left(self, member_id: str) -> bool:
        """Whether ``member_id`` was a member and has left."""
        return member_id in self.members.gone

    @property
    def member_count(self) -> int:
        """Active members."""
        return len(self.members.active)

    @property
    def juror_count(self) -> int:
        """Qualified jurors."""
        return len(self.members.jurors)

    def claim(self, claim_id: str) -> ClaimView | None:
        """A claim, or ``None``."""
        c = self._s.claims.claims.get(claim_id) if self._s else None
        return claim_view(c) if c else None

    def claims(self) -> Iterator[ClaimView]:
        """Every claim, in filing order."""
        if self._s:
            yield from (claim_view(c) for c in self._s.claims.in_filing_order())

    @property
    def current_period(self) -> date | None:
        """The period aid paid now is shared in."""
        return self._s.periods.current if self._s else None

    @property
    def due_periods(self) -> tuple[date, ...]:
        """Periods whose moment has passed, waiting for their ``period.closed``."""
        return tuple(b.period for b in self._s.periods.due) if self._s else ()

    @property
    def closed_periods(self) -> tuple[PeriodClosed, ...]:
        """Every ``period.closed`` so far."""
        return tuple(self._s.periods.closed) if self._s else ()

    @property
    def closed_count(self) -> int:
        """How many periods have closed."""
        return self._s.periods.closed_count if self._s else 0

    @property
    def ledger(self) -> Ledger:
        """Running money totals over the closed periods."""
        return self._s.periods.ledger if self._s else Ledger()

    def refund_due(self, member_id: str) -> int:
        """What a member leaving after an ineligible claim gets back: the
        shares of every closed period whose roster held them."""
        member = self.members.active.get(member_id)
        if member is None or self._s is None:
            return 0
        return self._s.periods.shares_since(member.joined)

    # -- what the next entry must say ------------------------------------

    @contextmanager
    def _preview(self, at: datetime | None, log_root_at: RootAt | None) -> Iterator[_Started]:
        """The state as the next entry, at time ``at``, would find it: the
        moments and seed deadlines up to ``at`` passed, then undone."""
        started = self._started
        assert self._time is not None
        at = self._time if at is None else at
        if at < self._time:
            raise RuleViolation(
                "log.time_order",
                "an entry's time is never before the previous entry's",
                seq=self._size,
                expected=f"at or after {format_time(self._time)}",
                actual=format_time(at),
            )
        # What the preview changes is a working copy in the buffer (the
        # apply's, if one is under way), and on the state object is undone.
        opened = not self._buffer.open
        if opened:
            self._buffer.begin()
        try:
            crossed = started.periods.cross(at, self._rules_at, self.members.roster)
            undo = started.claims.fix_seeds(self._size, at, log_root_at)
            try:
                yield started
            finally:
                if undo is not None:
                    undo()
                started.periods.uncross(crossed)
        finally:
            if opened:
                self._buffer.rollback()

    def period_at(self, at: datetime) -> date:
        """The period an entry appended next, at ``at``, falls in: the period
        a ``claim.paid`` or ``jury.pool`` then must name."""
        with self._preview(at, None) as started:
            return started.periods.current

    def expected_period_close(self, at: datetime | None = None) -> PeriodClosed | None:
        """The ``period.closed`` body an entry appended next, at ``at``
        (default: the last entry's time), must carry for the oldest due
        period; ``None`` if no period is due then."""
        with self._preview(at, None) as started:
            periods = started.periods
            if not periods.due:
                return None
            return periods.figures(periods.due[0]).to_body()

    def period_figures(self, at: datetime | None = None) -> PeriodFigures:
        """The figures of the oldest period due at ``at``; raises
        ``period.too_early`` if none is."""
        with self._preview(at, None) as started:
            periods = started.periods
            if not periods.due:
                raise RuleViolation(
                    "period.too_early",
                    "no period is due",
                    seq=self._size,
                    expected="a period whose moment has passed",
                    actual="none",
                )
            return periods.figures(periods.due[0])

    def expected_jury_pool(self, at: datetime | None = None) -> JuryPool:
        """The ``jury.pool`` body for an entry appended next, at ``at``."""
        with self._preview(at, None) as started:
            return self.members.expected_pool(started.periods.current)

    def expected_panel(
        self,
        claim_id: str,
        time: datetime,
        log_root_at: RootAt | None,
        witnessed: SeedCheckpoint | None = None,
    ) -> PanelDrawn:
        """The ``panel.drawn`` body an entry appended next, at ``time``, must
        carry for ``claim_id``; ``log_root_at`` as for :meth:`apply`.  When
        the rules in force at ``time`` want a witnessed seed, ``witnessed`` is
        the cosigned checkpoint it comes from (with the consistency proof to
        the log's present size).

        Raises :class:`RuleViolation` if no panel may be drawn then.
        """
        with self._preview(time, log_root_at) as started:
            claims = started.claims
            claim = claims.require(claim_id, self._size)
            if claim.seed_size is not None and claim.seed is None:
                raise RuleViolation(
                    "panel.seed",
                    "the seed needs the log's root: pass log_root_at",
                    seq=self._size,
                    expected="a root",
                    actual="none",
                )
            votes = started.votes
            votes.root_at = log_root_at
            derived = votes.witnessed_seed(self._size, time, claim, witnessed)
            plan = votes.plan(self._size, claim, None, derived)
        return PanelDrawn(
            claim=plan.claim,
            round=plan.call.round,
            appeal=plan.call.appeal,
            pool_period=plan.pool_period,
            seed_size=plan.seed_size,
            seed=plan.seed,
            jurors=plan.jurors,
            votes_until=claim.rules.votes_until(time),
            witnessed=witnessed if derived is not None else None,
        )

    def expected_decision(self, claim_id: str) -> ClaimDecided:
        """The ``claim.decided`` body the revealed votes give for a claim that
        is voting, or the ineligible decision for a claim diagnosed inside the
        waiting period."""
        claims = self._started.claims
        claim = claims.require(claim_id, self._size)
        if claim.course.may_close_ineligible(claim.waiting):
            return ClaimDecided(claim_id, 0, 0, 0, Outcome.INELIGIBLE, 0)
        panel = claim.panel
        if claim.stage is not Stage.VOTING or panel is None:
            raise RuleViolation(
                "decision.state",
                f"claim {claim_id} is {claim.stage.value}",
                seq=self._size,
                expected="a claim with a panel voting",
                actual=claim.stage.value,
            )
        verdict = panel.verdict(claim.rules, claim.notice_amount)
        return ClaimDecided(
            claim_id,
            panel.round,
            panel.approvals,
            panel.rejections,
            verdict.outcome,
            verdict.amount,
        )
