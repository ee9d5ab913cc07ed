"""The pool in the server: the rulebook kept in step with the stored log, and
every operation of the pool appended through the sequencer.

:class:`PoolService` holds a :class:`verifiable.pool.replay.Replayer` beside the
log.  It is built by replaying the stored entries the first time it is used
(once per process) and catches up from the last ``seq`` it saw whenever the
log has grown, whichever process appended.

The replayer is also the sequencer's ``validate`` hook: under the log's write
lock the hook catches the replayer up to the head it was given and feeds it
the candidate entries, so an entry that breaks a rule raises
:class:`~verifiable.errors.RuleViolation` and the whole batch is refused with
nothing written.  If an append fails after the hook accepted part of a batch,
the replayer is ahead of the log and is rebuilt on next use.

Each operation reads what it needs from the state (the ``expected_*``
bodies of :class:`verifiable.pool.state.PoolState`), fixes the entry's time (the
sequencer is given exactly that time, so a body that depends on it — a
panel's window, an objection window — matches its entry), and appends.  An
operation refused — by a check here, by the private store or by the rulebook
— appends nothing and leaves nothing in the private store.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import Engine

from server.errors import ServiceUnavailableError
from server.log_index import CATCH_UP_CHUNK, stored_index
from server.private.erasure import set_erasure_seq
from server.private.evidence import (
    EvidenceDocument,
    StoredEvidence,
    Upload,
    discard_evidence,
    erase_evidence,
    evidence_content,
    list_evidence,
    store_evidence,
)
from server.private.members import (
    MemberDetails,
    erase_member_details,
    join_pool,
    member_details,
)
from server.private.votes import (
    PrivateVote,
    discard_sealed_vote,
    mark_revealed,
    private_vote,
    save_sealed_vote,
    set_sealed_seq,
    votes_to_reveal,
)
from server.sequencer import AppendResult, Sequencer
from server.storage import LogHead, LogStore, StoredLogError
from verifiable.errors import MalformedError, MutualogError
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
    DataErased,
    ErasedKind,
    JurorQualified,
    JuryPool,
    LeaveReason,
    MemberJoined,
    MemberLeft,
    OperatorOverride,
    PanelDrawn,
    PeriodClosed,
    PoolRules,
    VoteRevealed,
    VoteSealed,
    parse_body,
)
from verifiable.log.checkpoint import Checkpoint
from verifiable.log.entry import Entry, load_strict_json, parse_entry
from verifiable.log.fields import (
    ShapeValue,
    format_time,
    read_date,
    read_shape,
    read_text,
    read_time,
)
from verifiable.log.note import Ed25519Signer, Note
from verifiable.pool.claims import AWAITING_PANEL
from verifiable.pool.log_index import ClaimRecord
from verifiable.pool.receipt import VoteReceipt as SealedReceipt
from verifiable.pool.replay import Replayer
from verifiable.pool.rules import Rules
from verifiable.pool.state import ClaimView, PoolState, Stage
from verifiable.pool.votes import SALT_SIZE, vote_commitment

__all__ = [
    "MAX_ERASURE_REASON",
    "CaseFile",
    "Objection",
    "PoolInputError",
    "PoolRefusedError",
    "PoolService",
    "PoolUnavailableError",
    "QueueAction",
    "QueueItem",
    "ReviewQueue",
    "SealedReceipt",
    "VoteRefusedError",
    "parse_effective",
    "read_rule_changes",
]


#: An erasure's public reason (the ``data.erased`` field's bound).
MAX_ERASURE_REASON = 500


class PoolUnavailableError(ServiceUnavailableError):
    """The stored log does not replay (a rule broken, an entry unreadable):
    the pool cannot serve its state."""


class PoolRefusedError(MutualogError):
    """An operation the pool refuses before anything is appended or stored;
    the message is for the person who asked."""


class PoolInputError(PoolRefusedError):
    """A refusal of the input itself, whatever the pool's state: a field
    the log cannot hold, an amount out of range, a reason that would
    publish personal data, a rule change that does not parse."""


class VoteRefusedError(PoolRefusedError):
    """A vote refused; ``reason`` is one of ``not_juror``, ``already_voted``,
    ``window_closed``, ``wrong_round``, ``unknown_claim``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _whole_seconds(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(microsecond=0)


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


class PoolService:
    """The pool's operations over the log in ``engine``, signed by ``signer``.

    ``clock`` returns the current aware time.  Safe to share between the
    threads of one process; several processes may each have one.
    """

    def __init__(
        self, engine: Engine, signer: Ed25519Signer, clock: Callable[[], datetime]
    ) -> None:
        self._engine = engine
        self._store = LogStore(engine)
        self._clock = clock
        self._lock = threading.RLock()
        self._replayer: Replayer | None = None
        self._pinned: datetime | None = None
        self._fed = 0
        self.sequencer = Sequencer(
            engine, signer, signer.name, self._append_clock, validate=self._validate
        )

    @property
    def store(self) -> LogStore:
        return self._store

    @property
    def engine(self) -> Engine:
        return self._engine

    # -- keeping in step with the log ------------------------------------

    def _append_clock(self) -> datetime:
        return self._pinned if self._pinned is not None else self._clock()

    def _catch_up(self, replayer: Replayer, size: int) -> None:
        while replayer.size < size:
            start = replayer.size
            chunk = self._store.entries(start, min(size, start + CATCH_UP_CHUNK))
            if not chunk:
                raise StoredLogError(f"pool: the stored log has no entry {start} below size {size}")
            for data in chunk:
                replayer.feed_bytes(data)

    def _synced(self, size: int | None = None) -> Replayer:
        with self._lock:
            replayer = self._replayer
            target = self._store.size() if size is None else size
            if replayer is None or replayer.size > target:
                replayer = Replayer()
            self._replayer = None  # until caught up: a failure rebuilds
            try:
                self._catch_up(replayer, target)
            except MutualogError as e:
                # What is stored breaks the rules or cannot be read: no page
                # of the pool can be trusted, so none is served (503, not 500).
                raise PoolUnavailableError(
                    f"the stored log does not replay under the pool's rules: {e}"
                ) from e
            self._replayer = replayer
            return replayer

    def state(self) -> PoolState:
        """The pool's state after every entry stored so far."""
        return self._synced().state

    def _validate(self, entries: Sequence[Entry], head: LogHead) -> None:
        # Runs under the log's write lock: head is the committed log.
        with self._lock:
            replayer = self._synced(head.size)
            for entry in entries:
                replayer.feed(entry)
                self._fed += 1

    def _now(self, state: PoolState) -> datetime:
        now = _whole_seconds(self._clock())
        last = state.time
        return now if last is None or now >= last else last

    def _append(self, items: Sequence[tuple[str, Body]], at: datetime) -> AppendResult:
        with self._lock:
            self._pinned, self._fed = at, 0
            try:
                result = self.sequencer.append(items)
            except BaseException:
                if self._fed:
                    self._replayer = None  # ahead of the log: rebuild on next use
                raise
            finally:
                self._pinned, self._fed = None, 0
            return result

    def _one(self, body: Body, at: datetime) -> int:
        return self._append([(body.TYPE, body)], at).first_seq

    # -- reading ----------------------------------------------------------

    def now(self) -> datetime:
        """The time the next entry would get."""
        with self._lock:
            return self._now(self.state())

    def claim(self, claim_id: str) -> ClaimView | None:
        return self.state().claim(claim_id)

    def _record(self, claim_id: str) -> ClaimRecord | None:
        """Where the claim's entries are in the log: the texts the rulebook's
        state does not keep (its notice, the answers) are read from there.
        The log's one index, shared with the public pages and the bundles."""
        with stored_index(self._engine).at() as index:
            return index.claims.get(claim_id)

    def notice(self, claim_id: str) -> ClaimNoticed | None:
        """The claim's public redacted notice, if it has one."""
        record = self._record(claim_id)
        if record is None or record.notice is None:
            return None
        return self._body(record.notice.seq, ClaimNoticed)

    def review_queue(self) -> ReviewQueue:
        """The claims waiting for the operator now, and the periods due."""
        with self._lock:
            state = self.state()
            now = self._now(state)
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

    def case_file(self, claim_id: str) -> CaseFile | None:
        """The operator's view of a claim, or ``None`` if there is no such claim."""
        with self._lock:
            state = self.state()
            view = state.claim(claim_id)
            if view is None:
                return None
            now = self._now(state)
            record = self._record(claim_id)
            answers = [self._body(seq, ClaimAnswered) for seq in record.answers] if record else []
            answered = {answer.objection: answer for answer in answers}
            objections = [
                Objection(seq, self._body(seq, ClaimObjected), answered.get(seq))
                for seq in view.objection_seqs
            ]
            return CaseFile(
                claim=view,
                notice=self.notice(claim_id),
                objections=tuple(objections),
                documents=tuple(list_evidence(self._engine, claim_id)),
                claimant=member_details(self._engine, view.member),
                drawable=QueueAction.DRAW in _next_actions(view, now),
                now=now,
            )

    def evidence_document(self, claim_id: str, position: int) -> StoredEvidence | None:
        """A claim's evidence document with its bytes; ``None`` if unknown or erased."""
        return evidence_content(self._engine, claim_id, position)

    def _body(self, seq: int, kind: type[BodyT]) -> BodyT:
        data = self._store.entry(seq)
        if data is None:
            raise StoredLogError(f"pool: the stored log has no entry {seq}")
        body = parse_entry(data, seq=seq).body
        if not isinstance(body, kind):
            raise StoredLogError(f"pool: entry {seq} is {body.TYPE}, not {kind.TYPE}")
        return body

    def open_panels(self, member_id: str) -> list[ClaimView]:
        """Claims whose current panel has ``member_id`` and is still voting."""
        with self._lock:
            state = self.state()
            now = self._now(state)
            return [
                c
                for c in state.claims()
                if c.stage is Stage.VOTING
                and member_id in c.jurors
                and c.votes_until is not None
                and now <= c.votes_until
            ]

    # -- starting ---------------------------------------------------------

    def start(self, rules: Mapping[str, object], reason: str = "The pool's rulebook.") -> int:
        """Append the genesis ``pool.rules`` entry to an empty log."""
        with self._lock:
            state = self.state()
            if state.size:
                raise PoolRefusedError("the pool has already started: its log is not empty")
            at = self._now(state)
            shape = read_shape(dict(rules), "rules")
            return self._one(PoolRules(effective=at, rules=shape, reason=reason), at)

    # -- members ----------------------------------------------------------

    def join(self, account_id: int, details: MemberDetails, band: AgeBand) -> str:
        """Join ``account_id`` under a fresh pseudonymous id; returns it."""
        with self._lock:
            state = self.state()
            at = self._now(state)
            rules = state.rules_at(at)
            if rules is None or band not in rules.join_bands:
                raise PoolRefusedError(
                    f"members aged {band.value} may not join under the current rules"
                )

            def append_joined(member_id: str) -> int:
                return self._one(MemberJoined(member=member_id, age_band=band), at)

            return join_pool(self._engine, account_id, details, append_joined, at)

    def leave(self, member_id: str, reason: LeaveReason = LeaveReason.VOLUNTARY) -> MemberLeft:
        with self._lock:
            state = self.state()
            if state.member(member_id) is None:
                raise PoolRefusedError(f"member {member_id} is not an active member")
            refund = state.refund_due(member_id) if reason is LeaveReason.WAITING_PERIOD else 0
            body = MemberLeft(member=member_id, reason=reason, refund=refund)
            self._one(body, self._now(state))
            return body

    def qualify_juror(self, member_id: str) -> int:
        with self._lock:
            state = self.state()
            return self._one(JurorQualified(member=member_id), self._now(state))

    def commit_jury_pool(self) -> JuryPool:
        with self._lock:
            state = self.state()
            at = self._now(state)
            body = state.expected_jury_pool(at)
            self._one(body, at)
            return body

    # -- claims -----------------------------------------------------------

    def file_claim(
        self,
        member_id: str,
        category: str,
        amount: int,
        diagnosed: date,
        uploads: Sequence[Upload],
    ) -> str:
        """Store the evidence privately, then append ``claim.filed`` with its
        commitments; returns the new claim id."""
        with self._lock:
            state = self.state()
            if state.member(member_id) is None:
                raise PoolRefusedError("only an active member may file a claim")
            at = self._now(state)
            claim_id = secrets.token_hex(16)
            commitments = store_evidence(self._engine, claim_id, uploads, at)
            body = ClaimFiled(
                claim=claim_id,
                member=member_id,
                category=category,
                amount=amount,
                diagnosed=diagnosed,
                evidence=tuple(commitments),
            )
            try:
                self._one(body, at)
            except BaseException:
                discard_evidence(self._engine, claim_id)
                raise
            return claim_id

    def publish_notice(self, claim_id: str, text: str, amount: int | None = None) -> ClaimNoticed:
        """Append the claim's public redacted notice; ``amount`` (fen) is the
        aid proposed, by default the amount requested within the cap."""
        with self._lock:
            state = self.state()
            view = self._require(state, claim_id)
            if view.stage is not Stage.FILED:
                raise PoolRefusedError(
                    f"claim {claim_id} is {view.stage.value}: only a filed claim that has no "
                    "notice yet gets one"
                )
            if view.waiting:
                raise PoolRefusedError(
                    f"claim {claim_id} was diagnosed inside the waiting period: it gets no "
                    "notice, only an ineligible decision"
                )
            most = min(view.requested, view.rules.cap(view.band) or 0)
            if amount is not None and not 1 <= amount <= most:
                raise PoolInputError(
                    f"the proposed aid must be 1 to {most} fen (the amount requested, within "
                    f"the cap), not {amount}"
                )
            at = self._now(state)
            body = ClaimNoticed(
                claim=claim_id,
                text=text,
                amount=most if amount is None else amount,
                age_band=view.band,
                category=view.category,
                objections_until=at + timedelta(days=view.rules.objection_days),
            )
            self._one(_checked(body, "notice"), at)
            return body

    def file_objection(self, claim_id: str, member_id: str, text: str) -> int:
        """Append a member's objection; returns its seq (the answer names it)."""
        with self._lock:
            state = self.state()
            return self._one(
                ClaimObjected(claim=claim_id, member=member_id, text=text), self._now(state)
            )

    def answer(self, claim_id: str, objection_seq: int, text: str) -> int:
        """Append the answer to the objection at ``objection_seq``; returns its seq."""
        with self._lock:
            state = self.state()
            view = self._require(state, claim_id)
            if objection_seq not in view.objection_seqs:
                raise PoolRefusedError(
                    f"entry {objection_seq} is not an objection to claim {claim_id}"
                )
            if objection_seq not in view.unanswered:
                raise PoolRefusedError(f"objection {objection_seq} is already answered")
            body = ClaimAnswered(claim=claim_id, objection=objection_seq, text=text)
            return self._one(_checked(body, "answer"), self._now(state))

    def decide_ineligible(self, claim_id: str) -> ClaimDecided:
        """Decide a claim diagnosed inside the waiting period (no panel)."""
        with self._lock:
            state = self.state()
            view = self._require(state, claim_id)
            if view.stage is not Stage.FILED or not view.waiting:
                what = "" if view.waiting else ", not diagnosed inside the waiting period"
                raise PoolRefusedError(
                    f"claim {claim_id} is {view.stage.value}{what}: only a filed claim "
                    "diagnosed inside the waiting period is decided ineligible"
                )
            body = state.expected_decision(claim_id)
            self._one(body, self._now(state))
            return body

    def draw_panel(self, claim_id: str) -> PanelDrawn:
        """Append the panel the sortition gives, seeded by the log's root at
        the size the rules fix."""
        with self._lock:
            replayer = self._synced()
            state = replayer.state
            view = self._require(state, claim_id)
            at = self._now(state)
            _check_drawable(view, at)
            body = state.expected_panel(claim_id, at, replayer.root_at)
            self._one(body, at)
            return body

    def appeal(self, claim_id: str, reason: str) -> None:
        with self._lock:
            state = self.state()
            self._require(state, claim_id)
            self._one(ClaimAppealed(claim=claim_id, reason=reason), self._now(state))

    def pay(self, claim_id: str) -> ClaimPaid:
        with self._lock:
            state = self.state()
            view = self._require(state, claim_id)
            if view.stage is not Stage.APPROVED:
                raise PoolRefusedError(
                    f"claim {claim_id} is {view.stage.value}: only an approved claim is paid"
                )
            at = self._now(state)
            body = ClaimPaid(claim=claim_id, amount=view.amount, period=state.period_at(at))
            self._one(body, at)
            return body

    def close_period(self, period: date | None = None) -> PeriodClosed:
        """Close the oldest period due; if ``period`` is given, only if that
        is the one (so a form sent twice does not close the next as well)."""
        with self._lock:
            state = self.state()
            at = self._now(state)
            body = state.expected_period_close(at)
            closed = period is not None and any(c.period == period for c in state.closed_periods)
            if body is None:
                done = f"period {period} is already closed; " if closed else ""
                raise PoolRefusedError(f"{done}no period is due to close yet")
            if period is not None and body.period != period:
                raise PoolRefusedError(
                    f"period {period.isoformat()} "
                    + ("is already closed" if closed else "is not the next period due")
                    + f"; the next period due is {body.period.isoformat()}"
                )
            self._one(body, at)
            return body

    def change_rules(
        self, rules: Mapping[str, object], effective: datetime, reason: str
    ) -> PoolRules:
        """Append a change to the rulebook, in force from ``effective``."""
        with self._lock:
            state = self.state()
            at = self._now(state)
            if effective.utcoffset() is None:
                raise PoolInputError("the effective time needs a time zone")
            effective = _whole_seconds(effective)
            if effective <= at:
                raise PoolInputError(
                    f"a rule change takes effect in the future: {format_time(effective)} is "
                    f"not after {format_time(at)}"
                )
            latest = state.rulebook.latest
            if latest is not None and effective <= latest.effective:
                raise PoolRefusedError(
                    f"a rule change takes effect after every change already scheduled: "
                    f"{format_time(effective)} is not after {format_time(latest.effective)}"
                )
            if not rules:
                raise PoolInputError("the rule change changes no rule")
            try:
                shape = read_shape(dict(rules), "rules")
                Rules.from_json(shape, "rules", latest.rules if latest is not None else None)
            except MalformedError as e:
                raise PoolInputError(str(e)) from e
            body = PoolRules(effective=effective, rules=shape, reason=reason)
            self._one(_checked(body, "rule change"), at)
            return body

    def override(
        self,
        action: str,
        target: str,
        reason: str,
        details: Mapping[str, ShapeValue] | None = None,
    ) -> int:
        """Append a manual intervention with its reason; the same override
        (action, target and reason) is logged once."""
        with self._lock:
            state = self.state()
            for earlier in state.overrides:
                if (earlier.action, earlier.target, earlier.reason) == (action, target, reason):
                    raise PoolRefusedError(
                        f"this override is already in the log (entry {earlier.seq}); give "
                        "another reason to log another"
                    )
            at = self._now(state)
            rules = state.rules_at(at)
            if rules is not None and action not in rules.overrides_allowed:
                allowed = ", ".join(rules.overrides_allowed) or "none"
                raise PoolRefusedError(
                    f"the rules do not allow the override {action!r} (allowed: {allowed})"
                )
            body = OperatorOverride(
                action=action, target=target, reason=reason, details=dict(details or {})
            )
            return self._one(_checked(body, "override"), at)

    # -- erasure ----------------------------------------------------------

    def erase_member(self, member_id: str, reason: str, requested_by: int | None) -> DataErased:
        """Erase a member's name, ID number and phone, and log that it happened.

        The entry is appended first and the private data deleted after, so a
        refused append erases nothing.  A crash between the two leaves the
        log saying what is not done yet; asking again finishes it.
        """
        with self._lock:
            state = self.state()
            if state.member(member_id) is None and not state.has_left(member_id):
                raise PoolRefusedError(f"there is no member {member_id}")
            details = member_details(self._engine, member_id)
            done = state.erasures.get((ErasedKind.MEMBER, member_id))
            if details is None:
                what = f"were erased in entry {done.seq}" if done else "are stored"
                raise PoolRefusedError(f"no private details of member {member_id} {what}")
            reason = _public_reason(reason, _identity(details))
            at = self._now(state)
            body = DataErased(kind=ErasedKind.MEMBER, subject=member_id, documents=0, reason=reason)
            seq = done.seq if done else self._one(_checked(body, "erasure"), at)
            erasure = erase_member_details(self._engine, member_id, reason, requested_by, at)
            set_erasure_seq(self._engine, erasure.id, seq)
            return body

    def erase_evidence(self, claim_id: str, reason: str, requested_by: int | None) -> DataErased:
        """Erase a claim's evidence documents and their salts (the
        commitments stay, here and in the log), and log that it happened;
        in the order :meth:`erase_member` explains."""
        with self._lock:
            state = self.state()
            view = self._require(state, claim_id)
            left = [d for d in list_evidence(self._engine, claim_id) if d.erased is None]
            done = state.erasures.get((ErasedKind.EVIDENCE, claim_id))
            if not left:
                what = f"was erased in entry {done.seq}" if done else "is stored"
                raise PoolRefusedError(f"no evidence of claim {claim_id} {what}")
            claimant = member_details(self._engine, view.member)
            private = [d.filename for d in left if d.filename]
            reason = _public_reason(reason, (*_identity(claimant), *private))
            at = self._now(state)
            body = DataErased(
                kind=ErasedKind.EVIDENCE, subject=claim_id, documents=len(left), reason=reason
            )
            seq = done.seq if done else self._one(_checked(body, "erasure"), at)
            erasure = erase_evidence(self._engine, claim_id, reason, requested_by, at)
            set_erasure_seq(self._engine, erasure.id, seq)
            return body

    # -- votes ------------------------------------------------------------

    def check_can_vote(self, claim_id: str, round: int, juror: str) -> ClaimView:
        """The claim if ``juror`` may vote on it in ``round`` now, else
        :class:`VoteRefusedError` saying why."""
        with self._lock:
            state = self.state()
            view = state.claim(claim_id)
            if view is None:
                raise VoteRefusedError("unknown_claim", f"There is no claim {claim_id}.")
            if juror not in view.jurors or view.stage is not Stage.VOTING:
                raise VoteRefusedError(
                    "not_juror",
                    f"You are not on a panel voting on claim {claim_id}: only the drawn "
                    "jurors of its current panel may vote.",
                )
            if round != view.round:
                raise VoteRefusedError(
                    "wrong_round",
                    f"Claim {claim_id} is voting in round {view.round}, not round {round}.",
                )
            if private_vote(self._engine, claim_id, round, juror) is not None:
                raise VoteRefusedError(
                    "already_voted",
                    f"You have already voted on claim {claim_id} in round {round}; "
                    "a sealed vote cannot be changed or cast twice.",
                )
            assert view.votes_until is not None
            if self._now(state) > view.votes_until:
                raise VoteRefusedError(
                    "window_closed",
                    f"The voting window of claim {claim_id} closed at "
                    f"{view.votes_until.isoformat()}.",
                )
            return view

    def seal_vote(
        self, claim_id: str, round: int, juror: str, choice: Choice, reason: str
    ) -> SealedReceipt:
        """Seal a juror's vote: its opening kept privately, ``vote.sealed``
        appended with the commitment; returns the juror's receipt."""
        with self._lock:
            self.check_can_vote(claim_id, round, juror)
            state = self.state()
            at = self._now(state)
            salt = secrets.token_bytes(SALT_SIZE)
            commitment = vote_commitment(claim_id, round, juror, choice, reason, salt)
            vote = PrivateVote(claim_id, round, juror, choice, reason, salt)
            save_sealed_vote(self._engine, vote, at)
            body = VoteSealed(claim=claim_id, round=round, juror=juror, commitment=commitment)
            try:
                seq = self._one(body, at)
            except BaseException:
                discard_sealed_vote(self._engine, claim_id, round, juror)
                raise
            set_sealed_seq(self._engine, claim_id, round, juror, seq)
            receipt = self.receipt(claim_id, round, juror)
            assert receipt is not None
            return receipt

    def has_voted(self, claim_id: str, round: int, juror: str) -> bool:
        """Whether ``juror`` has a vote stored for the claim's round."""
        return private_vote(self._engine, claim_id, round, juror) is not None

    def receipt(self, claim_id: str, round: int, juror: str) -> SealedReceipt | None:
        """The receipt of a sealed vote, proved in the latest checkpoint."""
        vote = private_vote(self._engine, claim_id, round, juror)
        if vote is None or vote.sealed_seq is None:
            return None
        checkpoint = self._store.latest_checkpoint()
        entry = self._store.entry(vote.sealed_seq)
        assert checkpoint is not None and entry is not None
        size = _checkpoint_size(checkpoint)
        proof = self._store.inclusion_proof(vote.sealed_seq, size)
        return SealedReceipt(
            claim=claim_id,
            round=round,
            juror=juror,
            choice=vote.choice,
            reason=vote.reason,
            salt=vote.salt,
            commitment=vote_commitment(claim_id, round, juror, vote.choice, vote.reason, vote.salt),
            leaf_index=vote.sealed_seq,
            entry=entry,
            tree_size=size,
            inclusion_proof=tuple(proof),
            checkpoint=checkpoint,
        )

    def close_voting(self, claim_id: str) -> ClaimDecided:
        """After the window: reveal every sealed vote, then append the
        decision the revealed votes give."""
        with self._lock:
            state = self.state()
            view = self._require(state, claim_id)
            at = self._now(state)
            if view.stage is not Stage.VOTING or view.votes_until is None:
                raise PoolRefusedError(f"claim {claim_id} has no panel voting")
            if at <= view.votes_until:
                raise PoolRefusedError(
                    f"the voting window of claim {claim_id} is open until "
                    f"{view.votes_until.isoformat()}"
                )
            votes = votes_to_reveal(self._engine, claim_id, view.round)
            if votes:
                items: list[tuple[str, Body]] = [
                    (
                        "vote.revealed",
                        VoteRevealed(
                            claim=v.claim,
                            round=v.round,
                            juror=v.juror,
                            choice=v.choice,
                            reason=v.reason,
                            salt=v.salt,
                        ),
                    )
                    for v in votes
                ]
                result = self._append(items, at)
                seqs = {v.juror: result.first_seq + i for i, v in enumerate(votes)}
                mark_revealed(self._engine, claim_id, view.round, seqs)
            state = self.state()
            body = state.expected_decision(claim_id)
            self._one(body, self._now(state))
            return body

    def _require(self, state: PoolState, claim_id: str) -> ClaimView:
        view = state.claim(claim_id)
        if view is None:
            raise PoolRefusedError(f"there is no claim {claim_id}")
        return view


BodyT = TypeVar("BodyT", bound=Body)


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


def _check_drawable(view: ClaimView, at: datetime) -> None:
    if view.stage not in AWAITING_PANEL:
        raise PoolRefusedError(
            f"claim {view.id} is {view.stage.value}: a panel is drawn for a noticed claim, "
            "a redraw or an appeal"
        )
    if view.unanswered:
        seqs = ", ".join(str(s) for s in view.unanswered)
        raise PoolRefusedError(
            f"answer every objection to claim {view.id} before its panel is drawn "
            f"(unanswered: entry {seqs})"
        )
    until = view.objections_until
    if view.stage is Stage.NOTICED and until is not None and at < until:
        raise PoolRefusedError(
            f"the objection window of claim {view.id} is open until {format_time(until)}"
        )


def _checked(body: BodyT, what: str) -> BodyT:
    """``body`` if every field is one the log accepts, else a refusal that
    names the field (``notice.text: expected a text of 1 to 2000 ...``)."""
    try:
        parse_body(body.TYPE, body.to_json(), what)
    except MalformedError as e:
        raise PoolInputError(str(e)) from e
    return body


def _identity(details: MemberDetails | None) -> tuple[str, ...]:
    return () if details is None else (details.name, details.id_number, details.phone)


def _public_reason(reason: str, private: Sequence[str]) -> str:
    """An erasure's reason, fit for the public log: one line of 1 to 500
    characters that does not repeat what is being erased."""
    text = reason.strip()
    try:
        read_text(text, "reason", max_len=MAX_ERASURE_REASON, multiline=False)
    except MalformedError as e:
        raise PoolInputError(
            f"the reason is published in the log: one line of 1 to {MAX_ERASURE_REASON} "
            f"characters without control characters ({e})"
        ) from e
    folded = text.casefold()
    for value in private:
        if len(value) >= 3 and value.casefold() in folded:
            raise PoolInputError(
                "the reason is published in the log: it must not repeat the personal data "
                "being erased (a name, ID number, phone number or file name)"
            )
    return text


def read_rule_changes(data: bytes | str, label: str) -> dict[str, object]:
    """A rule change as JSON text (an object of rule names to values, as
    docs/rules.md lists them), decoded as strictly as the log decodes."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        value = load_strict_json(raw, label)
    except MalformedError as e:
        raise PoolInputError(str(e)) from e
    if not isinstance(value, dict):
        raise PoolInputError(f"{label}: expected a JSON object of rule names and values")
    return dict(value)


def parse_effective(text: str) -> datetime:
    """When a rule change takes effect: a date ``YYYY-MM-DD`` (00:00 UTC
    that day) or a time ``YYYY-MM-DDTHH:MM:SSZ``."""
    value = text.strip()
    try:
        if "T" in value:
            return read_time(value, "effective")
        return datetime.combine(read_date(value, "effective"), time(), UTC)
    except MalformedError as e:
        raise PoolInputError(
            f"the effective time must be a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM:SSZ, "
            f"not {value[:40]!r}"
        ) from e


def _checkpoint_size(note: bytes) -> int:
    return Checkpoint.from_text(Note.from_bytes(note).text).size
