"""A claim from filing to payment: the claim and its evidence, the notice,
objections and answers, the panel's draw, an appeal, an ineligible
decision, the payment.

Closing a claim's vote is :mod:`server.pool.voting`'s; which claims wait for
the operator is :mod:`server.pool.review`'s.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta

from server.pool.concerned import guard
from server.pool.core import PoolCore, checked, require
from server.pool.errors import PoolInputError, PoolRefusedError
from server.pool.notice_facts import NoticeDetails, notice_facts
from server.pool.redaction import notice_commitments
from server.private.evidence import Upload, discard_evidence, store_evidence
from server.private.identity import age_band_on, age_on
from server.private.members import member_details
from server.private.submissions import Submission, check_unused, record_within
from server.witnessing.store import cosigned_checkpoint
from verifiable.errors import RuleViolation
from verifiable.log.bodies import (
    AgeBand,
    ClaimAnswered,
    ClaimAppealed,
    ClaimDecided,
    ClaimFiled,
    ClaimNoticed,
    ClaimObjected,
    ClaimPaid,
    PanelDrawn,
    SeedCheckpoint,
)
from verifiable.log.fields import format_time
from verifiable.log.notice_facts import NoticeFacts
from verifiable.log.texts import ANSWER, APPEAL_REASON, NOTICE, NOTICE_SUMMARY, OBJECTION
from verifiable.pool.claims import AWAITING_PANEL
from verifiable.pool.rules import Rules
from verifiable.pool.state import ClaimView, MemberView, Stage
from verifiable.pool.witnessed import seed_checkpoint

__all__ = ["Claims"]

_BANDS = tuple(AgeBand)


def _band_at_diagnosis(core: PoolCore, member: MemberView, diagnosed: date) -> AgeBand | None:
    """The ``age_band`` a filing carries: the band the member's birth date
    gives on ``diagnosed`` where it is older than the band they joined in,
    else ``None`` (the joining band holds; the rulebook's ``claim.age_band``).
    A member aged 60 or more on that day is refused: no band covers them.
    A member whose details were erased keeps the joining band."""
    details = member_details(core.engine, member.id)
    born = details.born if details is not None else None
    if born is None:
        return None
    band = age_band_on(born, diagnosed)
    if band is None and diagnosed > born:
        age = age_on(born, diagnosed)
        if age >= 60:
            raise PoolInputError(
                f"the plan covers ages from 30 days to 59 years; on the date of diagnosis "
                f"the member was {age} years old",
                "claim.age",
                age=age,
            )
    if band is None or _BANDS.index(band) <= _BANDS.index(member.band):
        # A diagnosis before the joining day can give a younger band; such a
        # claim is in the waiting period, and the joining band is the one known.
        return None
    return band


class Claims:
    """The claims' operations over ``core``."""

    def __init__(self, core: PoolCore) -> None:
        self._core = core

    def claim_band(self, member_id: str, diagnosed: date) -> AgeBand:
        """The band a claim of ``member_id`` diagnosed on ``diagnosed`` is
        capped by (the band on that day, or the joining band); the refusals
        of :meth:`file_claim` for the member and the age."""
        core = self._core
        with core.lock:
            member = core.state().member(member_id)
            if member is None:
                raise PoolRefusedError(
                    "only an active member may file a claim", "claim.member_only"
                )
            return _band_at_diagnosis(core, member, diagnosed) or member.band

    def file_claim(
        self,
        member_id: str,
        category: str,
        amount: int,
        diagnosed: date,
        uploads: Sequence[Upload],
        submission: Submission | None = None,
    ) -> str:
        """Store the evidence privately, then append ``claim.filed`` with its
        commitments; returns the new claim id.  A ``submission`` token already
        used raises :class:`~server.private.submissions.AlreadySubmittedError`
        with the claim it filed, and nothing is stored."""
        core = self._core
        check_unused(core.engine, submission)
        with core.lock:
            state = core.state()
            member = state.member(member_id)
            if member is None:
                raise PoolRefusedError(
                    "only an active member may file a claim", "claim.member_only"
                )
            band = _band_at_diagnosis(core, member, diagnosed)
            at = core.now(state)
            claim_id = secrets.token_hex(16)
            commitments = store_evidence(core.engine, claim_id, uploads, at)
            body = ClaimFiled(
                claim=claim_id,
                member=member_id,
                category=category,
                amount=amount,
                diagnosed=diagnosed,
                evidence=tuple(commitments),
                age_band=band,
            )
            try:
                core.one(body, at, record_within(submission, claim_id, at))
            except BaseException:
                discard_evidence(core.engine, claim_id)
                raise
            return claim_id

    def publish_notice(
        self,
        claim_id: str,
        text: str,
        amount: int | None = None,
        details: NoticeDetails | None = None,
    ) -> ClaimNoticed:
        """Append the claim's public redacted notice; ``amount`` (fen) is the
        aid proposed, by default the amount requested within the cap;
        ``details``, the operator's word for its structured facts and the
        summary of the investigation (:mod:`server.pool.notice_facts`)."""
        core = self._core
        with core.lock:
            state = core.state()
            view = require(state, claim_id)
            if view.stage is not Stage.FILED:
                raise PoolRefusedError(
                    f"claim {claim_id} is {view.stage.value}: only a filed claim that has no "
                    "notice yet gets one",
                    "notice.not_filed",
                    claim=claim_id,
                    stage=view.stage.value,
                )
            if view.waiting:
                raise PoolRefusedError(
                    f"claim {claim_id} was diagnosed inside the waiting period: it gets no "
                    "notice, only an ineligible decision",
                    "notice.waiting_period",
                    claim=claim_id,
                )
            most = min(view.requested, view.rules.cap(view.band) or 0)
            if amount is not None and not 1 <= amount <= most:
                raise PoolInputError(
                    f"the proposed aid must be 1 to {most} fen (the amount requested, within "
                    f"the cap), not {amount}",
                    "notice.amount_range",
                    cap=most,
                    amount=amount,
                )
            at = core.now(state)
            body = ClaimNoticed(
                claim=claim_id,
                text=text,
                amount=most if amount is None else amount,
                age_band=view.band,
                category=view.category,
                objections_until=at + timedelta(days=view.rules.objection_days),
                redacted=notice_commitments(core, view),
            )
            if details is not None:
                facts = notice_facts(state, view, details)
                body = replace(body, facts=facts, summary=details.summary)
            checked(body, "notice")
            guard(core, text, NOTICE, [view.member])
            if details is not None:
                guard(core, details.summary, NOTICE_SUMMARY, [view.member])
            core.one(body, at)
            return body

    def notice_facts(self, claim_id: str, details: NoticeDetails) -> NoticeFacts:
        """The facts ``claim_id``'s notice would carry with ``details`` now,
        its place coarsened: what the operator's preview shows."""
        core = self._core
        with core.lock:
            state = core.state()
            return notice_facts(state, require(state, claim_id), details)

    def redacted_for_notice(self, claim_id: str) -> tuple[bytes, ...]:
        """The commitments ``claim_id``'s notice would carry now; the refusal
        ``notice.redacted_missing`` while a document has no redacted copy
        (the preview says so before the operator confirms)."""
        core = self._core
        with core.lock:
            return notice_commitments(core, require(core.state(), claim_id))

    def file_objection(
        self, claim_id: str, member_id: str, text: str, submission: Submission | None = None
    ) -> int:
        """Append a member's objection; returns its seq (the answer names it).
        A ``submission`` token already used raises
        :class:`~server.private.submissions.AlreadySubmittedError`."""
        core = self._core
        check_unused(core.engine, submission)
        with core.lock:
            state = core.state()
            at = core.now(state)
            body = checked(ClaimObjected(claim=claim_id, member=member_id, text=text), "objection")
            view = state.claim(claim_id)
            guard(core, text, OBJECTION, [member_id, *([view.member] if view else [])])
            return core.one(body, at, record_within(submission, claim_id, at))

    def answer(self, claim_id: str, objection_seq: int, text: str) -> int:
        """Append the answer to the objection at ``objection_seq``; returns its seq."""
        core = self._core
        with core.lock:
            state = core.state()
            view = require(state, claim_id)
            if objection_seq not in view.objection_seqs:
                raise PoolRefusedError(
                    f"entry {objection_seq} is not an objection to claim {claim_id}",
                    "answer.not_objection",
                    seq=objection_seq,
                    claim=claim_id,
                )
            if objection_seq not in view.unanswered:
                raise PoolRefusedError(
                    f"objection {objection_seq} is already answered",
                    "answer.already",
                    seq=objection_seq,
                )
            body = ClaimAnswered(claim=claim_id, objection=objection_seq, text=text)
            checked(body, "answer")
            objector = core.body(objection_seq, ClaimObjected).member
            guard(core, text, ANSWER, [view.member, objector])
            return core.one(body, core.now(state))

    def decide_ineligible(self, claim_id: str) -> ClaimDecided:
        """Decide a claim diagnosed inside the waiting period (no panel)."""
        core = self._core
        with core.lock:
            state = core.state()
            view = require(state, claim_id)
            if view.stage is not Stage.FILED or not view.waiting:
                what = "" if view.waiting else ", not diagnosed inside the waiting period"
                raise PoolRefusedError(
                    f"claim {claim_id} is {view.stage.value}{what}: only a filed claim "
                    "diagnosed inside the waiting period is decided ineligible",
                    "ineligible.not_filed" if view.waiting else "ineligible.covered",
                    claim=claim_id,
                    stage=view.stage.value,
                )
            body = state.expected_decision(claim_id)
            core.one(body, core.now(state))
            return body

    def draw_panel(self, claim_id: str) -> PanelDrawn:
        """Append the panel the sortition gives, seeded by the log's root at
        the size the rules fix, or, when the rules in force want K
        witnesses, by the newest checkpoint K of them cosigned
        (:func:`server.witnessing.store.cosigned_checkpoint`); until one
        new enough is there, the draw waits (``draw.awaiting_witnesses``)
        and the claim stays ready."""
        core = self._core
        with core.lock:
            replayer = core.synced()
            state = replayer.state
            view = require(state, claim_id)
            at = core.now(state)
            _check_drawable(view, at)
            witnessed = self._seed_checkpoint(replayer.size, state.rulebook.in_force(at))
            try:
                body = state.expected_panel(claim_id, at, replayer.root_at, witnessed)
            except RuleViolation as e:
                if e.rule in ("panel.witnessed", "panel.witness_size"):
                    raise _awaiting_witnesses(view) from e
                raise
            core.one(body, at)
            return body

    def awaiting_witnesses(self, claim_id: str) -> bool:
        """Whether a draw for ``claim_id`` now would wait for witnesses: the
        rules in force want K and no checkpoint K of them cosigned is new
        enough yet."""
        core = self._core
        with core.lock:
            replayer = core.synced()
            state = replayer.state
            at = core.now(state)
            rules = state.rulebook.in_force(at)
            if rules is None or not rules.witnesses_required:
                return False
            witnessed = self._seed_checkpoint(replayer.size, rules)
            try:
                state.expected_panel(claim_id, at, replayer.root_at, witnessed)
            except RuleViolation as e:
                return e.rule in ("panel.witnessed", "panel.witness_size")
            return False

    def _seed_checkpoint(self, size: int, rules: Rules | None) -> SeedCheckpoint | None:
        """The newest checkpoint the rules' K witnesses cosigned, with the
        consistency proof to ``size``; ``None`` when the rules want none or
        none is there yet."""
        if rules is None or not rules.witnesses_required:
            return None
        keys = {w.name: w for w in rules.witnesses}
        found = cosigned_checkpoint(self._core.engine, keys, rules.witnesses_required)
        if found is None or found.size > size or found.size == 0:
            return None
        proof = self._core.store.consistency_proof(found.size, size) if found.size < size else []
        return seed_checkpoint(found.note, rules, proof)

    def appeal(self, claim_id: str, reason: str) -> None:
        """Append the claimant's appeal; the rulebook refuses one out of time
        or of a claim not rejected."""
        core = self._core
        with core.lock:
            state = core.state()
            view = require(state, claim_id)
            body = checked(ClaimAppealed(claim=claim_id, reason=reason), "appeal")
            guard(core, reason, APPEAL_REASON, [view.member])
            core.one(body, core.now(state))

    def pay(self, claim_id: str) -> ClaimPaid:
        """Pay an approved claim the aid decided, in the period of now."""
        core = self._core
        with core.lock:
            state = core.state()
            view = require(state, claim_id)
            if view.stage is not Stage.APPROVED:
                raise PoolRefusedError(
                    f"claim {claim_id} is {view.stage.value}: only an approved claim is paid",
                    "pay.not_approved",
                    claim=claim_id,
                    stage=view.stage.value,
                )
            at = core.now(state)
            body = ClaimPaid(claim=claim_id, amount=view.amount, period=state.period_at(at))
            core.one(body, at)
            return body


def _awaiting_witnesses(view: ClaimView) -> PoolRefusedError:
    return PoolRefusedError(
        f"the panel of claim {view.id} waits for the witnesses: no checkpoint since the claim "
        "was ready for its draw is cosigned by as many of the rules' witnesses as they require",
        "draw.awaiting_witnesses",
        claim=view.id,
    )


def _check_drawable(view: ClaimView, at: datetime) -> None:
    if view.stage not in AWAITING_PANEL:
        raise PoolRefusedError(
            f"claim {view.id} is {view.stage.value}: a panel is drawn for a noticed claim, "
            "a redraw or an appeal",
            "draw.wrong_stage",
            claim=view.id,
            stage=view.stage.value,
        )
    if view.unanswered:
        seqs = ", ".join(str(s) for s in view.unanswered)
        raise PoolRefusedError(
            f"answer every objection to claim {view.id} before its panel is drawn "
            f"(unanswered: entry {seqs})",
            "draw.unanswered",
            claim=view.id,
            seqs=seqs,
        )
    until = view.objections_until
    if view.stage is Stage.NOTICED and until is not None and at < until:
        raise PoolRefusedError(
            f"the objection window of claim {view.id} is open until {format_time(until)}",
            "draw.too_early",
            claim=view.id,
            until=until,
        )
