"""Panels, sealed votes, decisions and appeals (docs/rules.md, §5).

:class:`Votes` works on the claims of a :class:`~verifiable.pool.claims.ClaimBook`:
it checks each ``panel.drawn`` against the sortition
(:func:`verifiable.pool.sortition.draw_panel`) from the seed the rules fix, each
``vote.sealed`` and ``vote.revealed`` against the panel and its window (a
reveal must open its commitment, :func:`verifiable.pool.votes.check_reveal`), each
``claim.decided`` against the revealed votes, and each ``claim.appealed``.
A claim is judged under the rules of its filing (``Claim.rules``).

Every handler checks everything first and changes state only once nothing
can fail.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from json.encoder import encode_basestring as _quote

from verifiable.errors import RuleViolation
from verifiable.log.bodies import (
    Choice,
    ClaimAppealed,
    ClaimDecided,
    Outcome,
    PanelDrawn,
    VoteRevealed,
    VoteSealed,
)
from verifiable.log.fields import format_date, format_time
from verifiable.pool.claims import (
    AWAITING_PANEL,
    Claim,
    ClaimBook,
    DrawPlan,
    Panel,
    Stage,
    violation,
)
from verifiable.pool.sortition import draw_panel
from verifiable.pool.votes import DOMAIN as VOTE_DOMAIN
from verifiable.pool.votes import check_reveal

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

    __slots__ = ("book", "claims", "members")

    def __init__(self, book: ClaimBook) -> None:
        self.book = book
        self.claims = book.claims
        self.members = book.members

    # -- panels ---------------------------------------------------------

    def plan(self, seq: int, claim: Claim, seed: bytes | None) -> DrawPlan:
        """The draw a panel for ``claim`` must be, with ``seed`` standing in
        for the seed if the log's roots are not being checked."""
        if claim.stage not in AWAITING_PANEL:
            raise _v(
                "panel.state",
                f"claim {claim.id} is {claim.stage.value}",
                seq,
                "a claim awaiting a panel (noticed, redraw or appealed)",
                claim.stage.value,
            )
        if claim.stage is Stage.NOTICED and len(claim.answered) != len(claim.objections):
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
        appeal = claim.stage is Stage.APPEALED or (claim.stage is Stage.REDRAW and claim.appeal)
        rules = claim.rules
        size = rules.appeal_panel_size if appeal else rules.panel_size
        used = claim.seed if claim.seed is not None else seed
        assert used is not None
        excluded = frozenset(
            {claim.member, *claim.objections.values(), *claim.past_jurors, *pool.lapsed}
        )
        try:
            jurors = draw_panel(used, claim.id, claim.round + 1, appeal, pool.ids, size, excluded)
        except RuleViolation as e:
            raise _v(
                e.rule,
                f"the juror pool of {format_date(pool.period)} has too few eligible jurors "
                f"for a panel of {size} on claim {claim.id}",
                seq,
                e.expected,
                e.actual,
            ) from e
        return DrawPlan(
            claim=claim.id,
            round=claim.round + 1,
            appeal=appeal,
            pool_period=pool.period,
            seed_size=claim.seed_size,
            seed=used,
            size=size,
            excluded=excluded,
            jurors=jurors,
        )

    def panel_drawn(self, seq: int, time: datetime, body: PanelDrawn) -> None:
        claim = self.book.require(body.claim, seq)
        plan = self.plan(seq, claim, body.seed)
        if body.round != plan.round:
            raise _v("panel.round", "rounds are numbered 1, 2, ...", seq, plan.round, body.round)
        if body.appeal != plan.appeal:
            raise _v(
                "panel.appeal",
                "the panel's appeal flag is not the claim's instance",
                seq,
                plan.appeal,
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
                f"the seed is not the log's root hash at size {plan.seed_size}",
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
        if len(body.jurors) != plan.size:
            raise _v(
                "panel.size",
                f"claim {claim.id} is judged under the rules of its filing: "
                f"{'an appeal panel of 2n+1' if plan.appeal else 'a panel of n'}",
                seq,
                plan.size,
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
        until = time + timedelta(days=claim.rules.voting_days)
        if body.votes_until != until:
            raise _v(
                "panel.window",
                f"the voting window is {claim.rules.voting_days} days from the draw",
                seq,
                format_time(until),
                format_time(body.votes_until),
            )
        if plan.appeal and not claim.appeal:
            claim.appeal = True
            claim.instance_rounds = 0
        claim.stage = Stage.VOTING
        claim.round = plan.round
        claim.instance_rounds += 1
        claim.seed_size = None
        claim.seed = None
        claim.past_jurors.update(body.jurors)
        claim.panel = Panel(plan.round, plan.appeal, body.jurors, until, frozenset(body.jurors))

    # -- votes ----------------------------------------------------------

    def _voting_panel(self, seq: int, claim_id: str, round: int) -> Panel:
        claim = self.claims.get(claim_id)
        if claim is None:
            raise ClaimBook.unknown(claim_id, seq)
        panel = claim.panel
        if panel is None or panel.round != round or claim.stage is not Stage.VOTING:
            current = f"round {claim.round} ({claim.stage.value})"
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
        panel.revealed[body.juror] = body.choice
        if body.choice is Choice.APPROVE:
            panel.approvals += 1
        else:
            panel.rejections += 1

    # -- decisions ------------------------------------------------------

    def expected_outcome(self, claim: Claim) -> tuple[Outcome, int]:
        """The outcome and amount the revealed votes of the current panel give."""
        panel = claim.panel
        assert panel is not None
        valid = panel.approvals + panel.rejections
        if valid < claim.rules.quorum(len(panel.jurors)):
            return Outcome.NO_QUORUM, 0
        if claim.rules.approves(panel.approvals, valid):
            return Outcome.APPROVED, claim.notice_amount
        return Outcome.REJECTED, 0

    def decided(self, seq: int, time: datetime, body: ClaimDecided) -> Claim:
        """Check and record a decision; returns the claim."""
        claim = self.book.require(body.claim, seq)
        if body.round == 0:
            self._check_ineligible(seq, claim)
            claim.stage = Stage.CLOSED
            claim.past_jurors.clear()
            claim.outcome = Outcome.INELIGIBLE
            claim.decided = time
            return claim
        if claim.stage is not Stage.VOTING or claim.panel is None:
            raise _v(
                "decision.state",
                f"claim {claim.id} is {claim.stage.value}",
                seq,
                "a claim with a panel voting",
                claim.stage.value,
            )
        panel = claim.panel
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
        outcome, amount = self.expected_outcome(claim)
        if body.outcome is not outcome:
            quorum = claim.rules.quorum(len(panel.jurors))
            raise _v(
                "decision.outcome",
                f"quorum {quorum} of {len(panel.jurors)}, approval above "
                f"{claim.rules.threshold_bp} bp of the valid votes",
                seq,
                outcome.value,
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
        if body.amount != amount:
            raise _v(
                "decision.amount",
                "an approved claim is decided at the amount of its notice",
                seq,
                amount,
                body.amount,
            )
        claim.panel = None
        claim.decided = time
        claim.outcome = outcome
        if outcome is Outcome.APPROVED:
            claim.stage = Stage.APPROVED
            claim.past_jurors.clear()  # no more panels: free the ids
            claim.amount = amount
        elif outcome is Outcome.NO_QUORUM and claim.instance_rounds < claim.rules.max_rounds:
            claim.stage = Stage.REDRAW
            self.book.armed.append(claim.id)
        elif not claim.appeal and claim.rules.appeal_days > 0:
            claim.stage = Stage.REJECTED
        else:
            claim.stage = Stage.CLOSED
            claim.past_jurors.clear()
        return claim

    def _check_ineligible(self, seq: int, claim: Claim) -> None:
        if claim.stage is not Stage.FILED or not claim.waiting:
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
        if claim.appeal or claim.appealed:
            raise _v(
                "appeal.once",
                f"claim {claim.id} has already been appealed",
                seq,
                "one appeal",
                "a second appeal",
            )
        if claim.stage is Stage.REDRAW:
            raise _v(
                "panel.redraw",
                f"the panel of round {claim.round} missed quorum: a new panel is drawn "
                f"({claim.instance_rounds} of {claim.rules.max_rounds} rounds used) before "
                "any appeal",
                seq,
                f"panel round {claim.round + 1}",
                "an appeal",
            )
        if claim.stage is not Stage.REJECTED or claim.decided is None:
            raise _v(
                "appeal.state",
                f"claim {claim.id} is {claim.stage.value}",
                seq,
                "a rejected claim",
                claim.stage.value,
            )
        until = claim.decided + timedelta(days=claim.rules.appeal_days)
        if time > until:
            raise _v(
                "appeal.window",
                f"an appeal comes within {claim.rules.appeal_days} days of the rejection",
                seq,
                f"at or before {format_time(until)}",
                format_time(time),
            )
        claim.appealed = True
        claim.stage = Stage.APPEALED
        self.book.armed.append(claim.id)
