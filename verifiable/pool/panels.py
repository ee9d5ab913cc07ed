"""Panels, sealed votes, decisions and appeals (docs/rules.md, §5).

:class:`Votes` works on the claims of a :class:`~verifiable.pool.claims.ClaimBook`:
it checks each ``panel.drawn`` against the sortition
(:func:`verifiable.pool.sortition.draw_panel`) from the seed the rules fix (the
log's root, or a witnessed checkpoint's seed: :mod:`verifiable.pool.witnessed`), each
``vote.sealed`` and ``vote.revealed`` against the panel and its window (a
reveal must open its commitment, :func:`verifiable.pool.votes.check_reveal`), each
``claim.decided`` against the revealed votes, and each ``claim.appealed``.
A claim is judged under the rules of its filing (``Claim.rules``); what those
rules require next — the panel called for, the verdict of a tally, the stage
after a decision, whether an appeal may come — is asked of the claim's
:class:`~verifiable.pool.claim_machine.Course`, which ``verify-claim`` asks too.

Every handler checks everything first and changes state only once nothing
can fail.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from json.encoder import encode_basestring as _quote

from verifiable.errors import RuleViolation
from verifiable.log.bodies import (
    ClaimAppealed,
    ClaimDecided,
    Outcome,
    PanelDrawn,
    SeedCheckpoint,
    VoteRevealed,
    VoteSealed,
)
from verifiable.log.fields import format_date, format_time
from verifiable.pool.claim_machine import Panel, Stage, Verdict
from verifiable.pool.claims import Claim, ClaimBook, DrawPlan, RootAt, violation
from verifiable.pool.rules import Rules
from verifiable.pool.sortition import draw_panel
from verifiable.pool.votes import DOMAIN as VOTE_DOMAIN
from verifiable.pool.votes import check_reveal
from verifiable.pool.witnessed import check_witnessed

__all__ = ["Votes"]

_v = violation


def _commitment(body: VoteRevealed) -> bytes:
    """:func:`verifiable.pool.votes.vote_commitment` of a decoded reveal, faster.

    The committed bytes are the RFC 8785 form of ``{"choice", "claim",
    "juror", "reason", "round"}``: keys in that (sorted) order, the choice,
    ids and round needing no escapes, the reason escaped as JSON does for a
    text without lone surrogates (:func:`json.encoder.encode_basestring`,
    non-ASCII kept as UTF-8).  Tests check it against ``vote_commitment``."""
    vote = (
        f'{{"choice":"{body.choice.value}","claim":"{body.claim}","juror":"{body.juror}",'
        f'"reason":{_quote(body.reason)},"round":{body.round}}}'
    )
    return hashlib.sha256(VOTE_DOMAIN + body.salt + vote.encode("utf-8")).digest()


class Votes:
    """The panels, votes, decisions and appeals of a book's claims."""

    __slots__ = ("book", "claims", "members", "root_at", "rules_at")

    def __init__(self, book: ClaimBook) -> None:
        self.book = book
        self.claims = book.claims
        self.members = book.members
        # The rules in force at a time (the draw's witnesses are those of the
        # rules in force at the draw, so that a witness that has gone can be
        # replaced for claims already filed) and the log's root before the
        # entry being applied: both set by the state that owns this.
        self.rules_at: Callable[[datetime], Rules] | None = None
        self.root_at: RootAt | None = None

    # -- panels ---------------------------------------------------------

    def plan(
        self, seq: int, claim: Claim, seed: bytes | None, derived: bytes | None = None
    ) -> DrawPlan:
        """The draw a panel for ``claim`` must be, with ``seed`` standing in
        for the seed if the log's roots are not being checked; ``derived`` is
        the seed of a witnessed checkpoint, which replaces the root."""
        course = claim.course
        if not course.awaiting_panel:
            raise _v(
                "panel.state",
                f"claim {claim.id} is {claim.stage.value}",
                seq,
                "a claim awaiting a panel (noticed, redraw or appealed)",
                claim.stage.value,
            )
        if course.answers_due and len(claim.answered) != len(claim.objections):
            raise _v(
                "panel.objections",
                "every objection is answered before the panel is drawn",
                seq,
                f"{len(claim.objections)} answered",
                f"{len(claim.answered)} answered",
            )
        if claim.seed_size is None:
            until = claim.objections_until
            raise _v(
                "panel.too_early",
                "the seed is fixed only once the objection window has ended",
                seq,
                f"at or after {format_time(until) if until else 'the window'}",
                "during the window",
            )
        pool = self.members.pool
        if pool is None:
            raise _v("panel.pool", "no juror pool has been committed", seq, "a jury.pool", "none")
        call = course.next_panel(claim.rules)
        used = derived if derived is not None else claim.seed if claim.seed is not None else seed
        assert used is not None
        excluded = frozenset(
            {claim.member, *claim.objections.values(), *claim.past_jurors, *pool.lapsed}
        )
        try:
            jurors = draw_panel(
                used, claim.id, call.round, call.appeal, pool.ids, call.size, excluded
            )
        except RuleViolation as e:
            raise _v(
                e.rule,
                f"the juror pool of {format_date(pool.period)} has too few eligible jurors "
                f"for a panel of {call.size} on claim {claim.id}",
                seq,
                e.expected,
                e.actual,
            ) from e
        return DrawPlan(
            claim=claim.id,
            call=call,
            pool_period=pool.period,
            seed_size=claim.seed_size,
            seed=used,
            excluded=excluded,
            jurors=jurors,
        )

    def witnessed_seed(
        self, seq: int, time: datetime, claim: Claim, witnessed: SeedCheckpoint | None
    ) -> bytes | None:
        """The seed of the witnessed checkpoint of a draw of ``claim`` at
        ``seq``, checked against the rules in force at ``time`` (``None``
        when they want no witnesses)."""
        if claim.seed_size is None or not claim.course.awaiting_panel:
            return None  # plan() names what is wrong
        rules = self.rules_at(time) if self.rules_at is not None else claim.rules
        return check_witnessed(seq, witnessed, claim.seed_size, rules, self.root_at)

    def panel_drawn(self, seq: int, time: datetime, body: PanelDrawn) -> None:
        claim = self.book.require(body.claim, seq)
        derived = self.witnessed_seed(seq, time, claim, body.witnessed)
        plan = self.plan(seq, claim, body.seed, derived)
        self._check_draw(seq, body, plan)
        call = plan.call
        if len(body.jurors) != call.size:
            raise _v(
                "panel.size",
                f"claim {claim.id} is judged under the rules of its filing: "
                f"{'an appeal panel of 2n+1' if call.appeal else 'a panel of n'}",
                seq,
                call.size,
                len(body.jurors),
            )
        if claim.member in body.jurors:
            raise _v(
                "panel.claimant",
                "the claimant cannot sit on their own panel",
                seq,
                "a panel without the claimant",
                claim.member,
            )
        if body.jurors != plan.jurors:
            pairs = enumerate(zip(plan.jurors, body.jurors, strict=True))
            first = next(i for i, (a, b) in pairs if a != b)
            raise _v(
                "panel.sortition",
                f"the jurors are not the sortition's draw (first difference at position {first})",
                seq,
                plan.jurors[first],
                body.jurors[first],
            )
        until = claim.rules.votes_until(time)
        if body.votes_until != until:
            raise _v(
                "panel.window",
                f"the voting window is {claim.rules.voting_days} days from the draw",
                seq,
                format_time(until),
                format_time(body.votes_until),
            )
        claim.course = claim.course.drawn(call)
        claim.seed_size = None
        claim.seed = None
        claim.past_jurors.update(body.jurors)
        claim.panel = Panel.of(body)

    @staticmethod
    def _check_draw(seq: int, body: PanelDrawn, plan: DrawPlan) -> None:
        """The round, appeal flag, seed and pool of a draw are the plan's."""
        if body.round != plan.call.round:
            raise _v(
                "panel.round", "rounds are numbered 1, 2, ...", seq, plan.call.round, body.round
            )
        if body.appeal != plan.call.appeal:
            raise _v(
                "panel.appeal",
                "the panel's appeal flag is not the claim's instance",
                seq,
                plan.call.appeal,
                body.appeal,
            )
        if body.seed_size != plan.seed_size:
            raise _v(
                "panel.seed_size",
                "the seed is the log's root at the size the rules fix",
                seq,
                plan.seed_size,
                body.seed_size,
            )
        if body.seed != plan.seed:
            raise _v(
                "panel.seed",
                "the seed is not the one the witnessed checkpoint gives"
                if body.witnessed is not None
                else f"the seed is not the log's root hash at size {plan.seed_size}",
                seq,
                plan.seed.hex(),
                body.seed.hex(),
            )
        if body.pool_period != plan.pool_period:
            raise _v(
                "panel.pool",
                "panels are drawn from the latest juror pool",
                seq,
                format_date(plan.pool_period),
                format_date(body.pool_period),
            )

    # -- votes ----------------------------------------------------------

    def _voting_panel(self, seq: int, claim_id: str, round: int) -> Panel:
        claim = self.claims.get(claim_id)
        if claim is None:
            raise ClaimBook.unknown(claim_id, seq)
        panel = claim.panel
        if panel is None or panel.round != round or claim.stage is not Stage.VOTING:
            current = f"round {claim.course.round} ({claim.stage.value})"
            raise _v(
                "vote.round",
                f"claim {claim.id} has no panel voting in round {round}",
                seq,
                current,
                f"round {round}",
            )
        return panel

    def sealed(self, seq: int, time: datetime, body: VoteSealed) -> None:
        panel = self._voting_panel(seq, body.claim, body.round)
        if body.juror not in panel.members:
            raise _v(
                "vote.panel_member",
                f"member {body.juror} is not on the panel of claim {body.claim} round {body.round}",
                seq,
                "a drawn juror",
                body.juror,
            )
        if body.juror in panel.sealed:
            raise _v(
                "vote.once",
                f"juror {body.juror} has already voted",
                seq,
                "one vote per juror",
                "a second vote",
            )
        if time > panel.votes_until:
            raise _v(
                "vote.window",
                "the voting window has closed",
                seq,
                f"at or before {format_time(panel.votes_until)}",
                format_time(time),
            )
        panel.sealed[body.juror] = body

    def revealed(self, seq: int, time: datetime, body: VoteRevealed) -> None:
        panel = self._voting_panel(seq, body.claim, body.round)
        if time <= panel.votes_until:
            raise _v(
                "vote.reveal_window",
                "votes are revealed only after the voting window has closed",
                seq,
                f"after {format_time(panel.votes_until)}",
                format_time(time),
            )
        sealed = panel.sealed.get(body.juror)
        if sealed is None:
            raise _v(
                "vote.reveal_sealed",
                f"juror {body.juror} sealed no vote on claim {body.claim} round {body.round}",
                seq,
                "a sealed vote",
                "none",
            )
        if body.juror in panel.revealed:
            raise _v(
                "vote.reveal_once",
                f"juror {body.juror}'s vote is already revealed",
                seq,
                "one reveal per vote",
                "a second reveal",
            )
        if not body.reason and self.claims[body.claim].rules.reason_required:
            raise _v(
                "vote.reveal_reason",
                "the rules ask every juror for a reason",
                seq,
                "a reason",
                "an empty reason",
            )
        try:
            opens = _commitment(body) == sealed.commitment
        except UnicodeEncodeError:  # a lone surrogate: check_reveal refuses it
            opens = False
        if not opens:
            check_reveal(sealed, body, seq=seq)  # raises, naming the difference
        panel.count(body.juror, body.choice)

    # -- decisions ------------------------------------------------------

    def decided(self, seq: int, time: datetime, body: ClaimDecided) -> Claim:
        """Check and record a decision; returns the claim."""
        claim = self.book.require(body.claim, seq)
        if body.round == 0:
            self._check_ineligible(seq, claim)
            claim.course = claim.course.closed()
            claim.past_jurors.clear()
            claim.outcome = Outcome.INELIGIBLE
            claim.decided = time
            return claim
        verdict = self._check_decision(seq, time, body, claim)
        claim.panel = None
        claim.decided = time
        claim.outcome = verdict.outcome
        claim.course = course = claim.course.decided(claim.rules, verdict.outcome)
        if course.stage is Stage.APPROVED:
            claim.past_jurors.clear()  # no more panels: free the ids
            claim.amount = verdict.amount
        elif course.stage is Stage.REDRAW:
            self.book.armed.append(claim.id)
        elif course.stage is Stage.CLOSED:
            claim.past_jurors.clear()
        return claim

    def _check_decision(
        self, seq: int, time: datetime, body: ClaimDecided, claim: Claim
    ) -> Verdict:
        """A decision of round 1 or later is the verdict of the current panel."""
        panel = claim.panel
        if claim.stage is not Stage.VOTING or panel is None:
            raise _v(
                "decision.state",
                f"claim {claim.id} is {claim.stage.value}",
                seq,
                "a claim with a panel voting",
                claim.stage.value,
            )
        if body.round != panel.round:
            raise _v(
                "decision.round",
                "a decision is for the current round",
                seq,
                panel.round,
                body.round,
            )
        if time <= panel.votes_until:
            raise _v(
                "decision.window",
                "a decision comes after the voting window has closed",
                seq,
                f"after {format_time(panel.votes_until)}",
                format_time(time),
            )
        if (body.approvals, body.rejections) != (panel.approvals, panel.rejections):
            raise _v(
                "decision.tally",
                "the tally is not the count of revealed votes",
                seq,
                f"{panel.approvals} approve, {panel.rejections} reject",
                f"{body.approvals} approve, {body.rejections} reject",
            )
        verdict = panel.verdict(claim.rules, claim.notice_amount)
        if body.outcome is not verdict.outcome:
            quorum = claim.rules.quorum(len(panel.jurors))
            raise _v(
                "decision.outcome",
                f"quorum {quorum} of {len(panel.jurors)}, approval above "
                f"{claim.rules.threshold_bp} bp of the valid votes",
                seq,
                verdict.outcome.value,
                body.outcome.value,
            )
        if body.amount > claim.cap:
            raise _v(
                "decision.cap",
                f"aid for age band {claim.band.value} is capped under the rules of the "
                "claim's filing",
                seq,
                f"at most {claim.cap}",
                body.amount,
            )
        if body.amount != verdict.amount:
            raise _v(
                "decision.amount",
                "an approved claim is decided at the amount of its notice",
                seq,
                verdict.amount,
                body.amount,
            )
        return verdict

    def _check_ineligible(self, seq: int, claim: Claim) -> None:
        if not claim.course.may_close_ineligible(claim.waiting):
            state = claim.stage.value if claim.stage is not Stage.FILED else "not in waiting"
            raise _v(
                "decision.ineligible",
                "a decision without a panel (round 0) is only for a claim diagnosed inside "
                "the waiting period, before its notice",
                seq,
                "a filed claim diagnosed inside the waiting period",
                state,
            )

    def appealed(self, seq: int, time: datetime, body: ClaimAppealed) -> None:
        claim = self.book.require(body.claim, seq)
        course = claim.course
        if course.appeal or course.appealed:
            raise _v(
                "appeal.once",
                f"claim {claim.id} has already been appealed",
                seq,
                "one appeal",
                "a second appeal",
            )
        if course.stage is Stage.REDRAW:
            raise _v(
                "panel.redraw",
                f"the panel of round {course.round} missed quorum: a new panel is drawn "
                f"({course.instance_rounds} of {claim.rules.max_rounds} rounds used) before "
                "any appeal",
                seq,
                f"panel round {course.round + 1}",
                "an appeal",
            )
        if not course.may_appeal or claim.decided is None:
            raise _v(
                "appeal.state",
                f"claim {claim.id} is {claim.stage.value}",
                seq,
                "a rejected claim",
                claim.stage.value,
            )
        until = claim.rules.appeal_until(claim.decided)
        if time > until:
            raise _v(
                "appeal.window",
                f"an appeal comes within {claim.rules.appeal_days} days of the rejection",
                seq,
                f"at or before {format_time(until)}",
                format_time(time),
            )
        claim.course = course.appeal_lodged()
        self.book.armed.append(claim.id)
