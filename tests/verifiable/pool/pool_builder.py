"""Build a pool's log step by step, each step the honest entry the rules want.

:class:`PoolBuilder` keeps a :class:`verifiable.pool.replay.Replayer` and a clock,
and has one method per step of the pool's life (join, qualify, file, notice,
draw a panel, vote, reveal, decide, pay, close a period, ...).  Each builds
the entry the rules require at that point — the panel from the sortition,
the decision from the reveals, the period's figures — asking the state for
the figures (``PoolState.expected_*``), appends it through the replayer and
returns its body.  :meth:`PoolBuilder.make` builds an entry's bytes without
appending it, which is how tests write the entry that breaks a rule.

Ids and salts are counters, not random: the same script gives the same log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

from verifiable.errors import RuleViolation
from verifiable.log.bodies import (
    AgeBand,
    Body,
    Choice,
    ClaimAnswered,
    ClaimAppealed,
    ClaimDecided,
    ClaimFiled,
    ClaimNoticed,
    ClaimObjected,
    ClaimPaid,
    JurorQualified,
    JurorRemoved,
    JuryPool,
    LeaveReason,
    MemberJoined,
    MemberLeft,
    OperatorOverride,
    PanelDrawn,
    PeriodClosed,
    PoolRules,
    VerifierPublished,
    VoteRevealed,
    VoteSealed,
)
from verifiable.log.entry import make_entry
from verifiable.log.fields import read_shape
from verifiable.pool.replay import Replayer
from verifiable.pool.state import PoolState
from verifiable.pool.votes import vote_commitment

__all__ = ["PoolBuilder"]

START = datetime(2024, 1, 1, tzinfo=UTC)

SMALL_POOL_RULES: Mapping[str, object] = {
    "panel.size": 3,
    "panel.max_rounds": 2,
    "juror.seasoning_days": 0,
    "member.waiting_days": 10,
    "claim.objection_days": 2,
    "panel.voting_days": 2,
}
"""Rules for a pool small enough to test by hand: panels of 3 (appeals of 7),
jurors at once, a 10-day waiting period, 2-day windows."""


class PoolBuilder:
    """An honest operator's script.  ``now`` is the time of the next entry."""

    def __init__(
        self,
        rules: Mapping[str, object] | None = None,
        *,
        start: datetime = START,
        check_seeds: bool = True,
    ) -> None:
        self.replayer = Replayer(check_seeds=check_seeds)
        self.entries: list[bytes] = []
        self.now = start
        self._counter = 0
        self._votes: dict[tuple[str, int, str], tuple[Choice, str, bytes]] = {}
        rulebook = read_shape(dict(SMALL_POOL_RULES if rules is None else rules), "rules")
        self.push(PoolRules(effective=start, rules=rulebook, reason="The pool's rulebook."))

    # -- plumbing -------------------------------------------------------

    @property
    def state(self) -> PoolState:
        """The state after every entry pushed so far."""
        return self.replayer.state

    @property
    def size(self) -> int:
        """Entries so far: the ``seq`` of the next."""
        return self.replayer.size

    def tick(self, **delta: float) -> datetime:
        """Move the clock on by ``timedelta(**delta)``; return the new time."""
        self.now += timedelta(**delta)
        return self.now

    def at(self, when: datetime) -> datetime:
        """Move the clock to ``when`` (never back)."""
        self.now = max(self.now, when)
        return self.now

    def new_id(self) -> str:
        """A fresh 32-hex-digit id."""
        self._counter += 1
        return hashlib.sha256(b"id" + self._counter.to_bytes(8, "big")).hexdigest()[:32]

    def make(self, body: Body, *, time: datetime | None = None) -> bytes:
        """The bytes of ``body`` as the next entry, not appended."""
        return make_entry(
            self.size, self.replayer.head.head, time or self.now, body.TYPE, body
        ).to_bytes()

    def feed(self, data: bytes) -> None:
        """Append an entry's bytes through the replayer (raises if it breaks
        a rule, and then appends nothing)."""
        self.replayer.feed(data)
        self.entries.append(data)

    def push(self, body: Body, *, time: datetime | None = None) -> int:
        """Append ``body`` as the next entry; return its ``seq``."""
        seq = self.size
        self.feed(self.make(body, time=time))
        return seq

    # -- members and jurors ---------------------------------------------

    def join(self, band: AgeBand = AgeBand.FROM_18_TO_39) -> str:
        member = self.new_id()
        self.push(MemberJoined(member=member, age_band=band))
        return member

    def leave(
        self, member: str, reason: LeaveReason = LeaveReason.VOLUNTARY, refund: int | None = None
    ) -> MemberLeft:
        if refund is None:
            refund = self.state.refund_due(member) if reason is LeaveReason.WAITING_PERIOD else 0
        body = MemberLeft(member=member, reason=reason, refund=refund)
        self.push(body)
        return body

    def qualify(self, member: str) -> None:
        self.push(JurorQualified(member=member))

    def remove_juror(self, member: str) -> None:
        self.push(JurorRemoved(member=member, reason="No longer in good standing."))

    def jurors(self, n: int, band: AgeBand = AgeBand.FROM_18_TO_39) -> list[str]:
        """``n`` new members, each qualified as a juror."""
        out = []
        for _ in range(n):
            member = self.join(band)
            self.qualify(member)
            out.append(member)
        return out

    def jury_pool(self) -> JuryPool:
        body = self.state.expected_jury_pool(self.now)
        self.push(body)
        return body

    # -- claims ---------------------------------------------------------

    def file(
        self,
        member: str,
        *,
        amount: int = 1_000_000,
        category: str = "cancer",
        diagnosed: date | None = None,
    ) -> str:
        claim = self.new_id()
        evidence = (hashlib.sha256(claim.encode()).digest(),)
        body = ClaimFiled(
            claim=claim,
            member=member,
            category=category,
            amount=amount,
            diagnosed=diagnosed or self.now.date(),
            evidence=evidence,
        )
        self.push(body)
        return claim

    def notice_body(self, claim: str, amount: int | None = None) -> ClaimNoticed:
        view = self.state.claim(claim)
        assert view is not None
        cap = view.rules.cap(view.band) or 0
        return ClaimNoticed(
            claim=claim,
            text="A member asks for aid.",
            amount=min(view.requested, cap) if amount is None else amount,
            age_band=view.band,
            category=view.category,
            objections_until=self.now + timedelta(days=view.rules.objection_days),
        )

    def notice(self, claim: str, amount: int | None = None) -> ClaimNoticed:
        body = self.notice_body(claim, amount)
        self.push(body)
        return body

    def objection(self, claim: str, member: str) -> int:
        return self.push(ClaimObjected(claim=claim, member=member, text="I object."))

    def answer(self, claim: str, objection: int) -> None:
        self.push(ClaimAnswered(claim=claim, objection=objection, text="An answer."))

    def panel_body(self, claim: str) -> PanelDrawn:
        return self.state.expected_panel(claim, self.now, self.replayer.root_at)

    def panel(self, claim: str) -> PanelDrawn:
        body = self.panel_body(claim)
        self.push(body)
        return body

    def seal_body(
        self, claim: str, juror: str, choice: Choice = Choice.APPROVE, reason: str = "Sound."
    ) -> VoteSealed:
        view = self.state.claim(claim)
        assert view is not None
        self._counter += 1
        salt = hashlib.sha256(b"salt" + self._counter.to_bytes(8, "big")).digest()
        self._votes[(claim, view.round, juror)] = (choice, reason, salt)
        commitment = vote_commitment(claim, view.round, juror, choice, reason, salt)
        return VoteSealed(claim=claim, round=view.round, juror=juror, commitment=commitment)

    def seal(
        self, claim: str, juror: str, choice: Choice = Choice.APPROVE, reason: str = "Sound."
    ) -> VoteSealed:
        body = self.seal_body(claim, juror, choice, reason)
        self.push(body)
        return body

    def reveal_body(self, claim: str, juror: str, round: int | None = None) -> VoteRevealed:
        view = self.state.claim(claim)
        assert view is not None
        rnd = view.round if round is None else round
        choice, reason, salt = self._votes[(claim, rnd, juror)]
        return VoteRevealed(
            claim=claim, round=rnd, juror=juror, choice=choice, reason=reason, salt=salt
        )

    def after_votes(self, claim: str) -> datetime:
        """Move the clock past the voting window of ``claim``."""
        view = self.state.claim(claim)
        assert view is not None and view.votes_until is not None
        return self.at(view.votes_until + timedelta(seconds=1))

    def vote_all(self, claim: str, approve: int, reject: int) -> None:
        """The first ``approve`` jurors of the panel approve, the next
        ``reject`` reject; then the window closes and every vote is revealed."""
        view = self.state.claim(claim)
        assert view is not None
        jurors = view.jurors
        for juror in jurors[:approve]:
            self.seal(claim, juror, Choice.APPROVE)
        for juror in jurors[approve : approve + reject]:
            self.seal(claim, juror, Choice.REJECT, "Not shown.")
        self.after_votes(claim)
        for juror in jurors[: approve + reject]:
            self.push(self.reveal_body(claim, juror))

    def decide(self, claim: str) -> ClaimDecided:
        body = self.state.expected_decision(claim)
        self.push(body)
        return body

    def appeal(self, claim: str) -> None:
        self.push(ClaimAppealed(claim=claim, reason="The panel missed a report."))

    def pay(self, claim: str, amount: int | None = None) -> ClaimPaid:
        view = self.state.claim(claim)
        period = self.state.period_at(self.now)
        assert view is not None
        paid = view.amount if amount is None else amount
        body = ClaimPaid(claim=claim, amount=paid, period=period)
        self.push(body)
        return body

    def approved_claim(self, member: str, amount: int = 1_000_000) -> str:
        """File, notice, draw, vote unanimously to approve and decide a claim."""
        claim = self.file(member, amount=amount)
        self.notice(claim)
        self.tick(days=3)
        self.panel(claim)
        size = len(self.panel_jurors(claim))
        self.vote_all(claim, size, 0)
        self.decide(claim)
        return claim

    def panel_jurors(self, claim: str) -> tuple[str, ...]:
        view = self.state.claim(claim)
        assert view is not None
        return view.jurors

    # -- periods, rules, overrides --------------------------------------

    def close(self) -> PeriodClosed:
        body = self.state.expected_period_close(self.now)
        if body is None:
            raise RuleViolation("period.too_early", "no period is due", seq=self.size)
        self.push(body)
        return body

    def change_rules(self, rules: Mapping[str, object], effective: datetime) -> None:
        shape = read_shape(dict(rules), "rules")
        self.push(PoolRules(effective=effective, rules=shape, reason="A change."))

    def override(self, action: str, target: str, reason: str = "Because.") -> None:
        self.push(OperatorOverride(action=action, target=target, reason=reason, details={}))

    def publish_page(self, page: bytes = b"<!doctype html>verifier") -> VerifierPublished:
        """Publish the verifier page ``page``'s hash, as the server's
        ``verifier publish`` does."""
        body = VerifierPublished(
            sha256=hashlib.sha256(page).digest(), size=len(page), build="mutualog-0.1.0"
        )
        self.push(body)
        return body
