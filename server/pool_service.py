"""The pool in the server: the rulebook kept in step with the stored log, and
every operation of the pool appended through the sequencer.

:class:`PoolService` holds a :class:`verifiable.replay.Replayer` beside the
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
bodies of :class:`verifiable.pool.PoolState`), fixes the entry's time (the
sequencer is given exactly that time, so a body that depends on it — a
panel's window, an objection window — matches its entry), and appends.  An
operation refused — by a check here, by the private store or by the rulebook
— appends nothing and leaves nothing in the private store.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from server.private.evidence import Upload, discard_evidence, store_evidence
from server.private.members import MemberDetails, join_pool
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
from verifiable.bodies import (
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
)
from verifiable.checkpoint import Checkpoint
from verifiable.entry import Entry, parse_entry
from verifiable.errors import MutualogError
from verifiable.fields import ShapeValue, read_shape
from verifiable.note import Ed25519Signer, Note
from verifiable.pool import ClaimView, PoolState, Stage
from verifiable.receipt import VoteReceipt as SealedReceipt
from verifiable.replay import Replayer
from verifiable.votes import SALT_SIZE, vote_commitment

__all__ = [
    "CATCH_UP_CHUNK",
    "PoolRefusedError",
    "PoolService",
    "SealedReceipt",
    "VoteRefusedError",
]

#: Entries read per query while catching up with the stored log.
CATCH_UP_CHUNK = 5_000


class PoolRefusedError(MutualogError):
    """An operation the pool refuses before anything is appended or stored;
    the message is for the person who asked."""


class VoteRefusedError(PoolRefusedError):
    """A vote refused; ``reason`` is one of ``not_juror``, ``already_voted``,
    ``window_closed``, ``wrong_round``, ``unknown_claim``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _whole_seconds(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(microsecond=0)


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
        self._notices: dict[str, int] = {}
        self.sequencer = Sequencer(
            engine, signer, signer.name, self._append_clock, validate=self._validate
        )

    @property
    def store(self) -> LogStore:
        return self._store

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
                self._note(replayer.feed(data))

    def _note(self, entry: Entry) -> None:
        if isinstance(entry.body, ClaimNoticed):
            self._notices[entry.body.claim] = entry.seq

    def _synced(self, size: int | None = None) -> Replayer:
        with self._lock:
            replayer = self._replayer
            target = self._store.size() if size is None else size
            if replayer is None or replayer.size > target:
                replayer = Replayer()
                self._notices = {}
            self._replayer = None  # until caught up: a failure rebuilds
            self._catch_up(replayer, target)
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
            for offset, (_, body) in enumerate(items):
                if isinstance(body, ClaimNoticed):
                    self._notices[body.claim] = result.first_seq + offset
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

    def notice(self, claim_id: str) -> ClaimNoticed | None:
        """The claim's public redacted notice, if it has one."""
        self.state()
        seq = self._notices.get(claim_id)
        if seq is None:
            return None
        data = self._store.entry(seq)
        if data is None:
            return None
        body = parse_entry(data, seq=seq).body
        return body if isinstance(body, ClaimNoticed) else None

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
        with self._lock:
            state = self.state()
            view = self._require(state, claim_id)
            at = self._now(state)
            cap = view.rules.cap(view.band) or 0
            body = ClaimNoticed(
                claim=claim_id,
                text=text,
                amount=min(view.requested, cap) if amount is None else amount,
                age_band=view.band,
                category=view.category,
                objections_until=at + timedelta(days=view.rules.objection_days),
            )
            self._one(body, at)
            return body

    def file_objection(self, claim_id: str, member_id: str, text: str) -> int:
        """Append a member's objection; returns its seq (the answer names it)."""
        with self._lock:
            state = self.state()
            return self._one(
                ClaimObjected(claim=claim_id, member=member_id, text=text), self._now(state)
            )

    def answer(self, claim_id: str, objection_seq: int, text: str) -> int:
        with self._lock:
            state = self.state()
            body = ClaimAnswered(claim=claim_id, objection=objection_seq, text=text)
            return self._one(body, self._now(state))

    def decide_ineligible(self, claim_id: str) -> ClaimDecided:
        """Decide a claim diagnosed inside the waiting period (no panel)."""
        with self._lock:
            state = self.state()
            self._require(state, claim_id)
            body = state.expected_decision(claim_id)
            self._one(body, self._now(state))
            return body

    def draw_panel(self, claim_id: str) -> PanelDrawn:
        """Append the panel the sortition gives, seeded by the log's root at
        the size the rules fix."""
        with self._lock:
            replayer = self._synced()
            state = replayer.state
            self._require(state, claim_id)
            at = self._now(state)
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

    def close_period(self) -> PeriodClosed:
        with self._lock:
            state = self.state()
            at = self._now(state)
            body = state.expected_period_close(at)
            if body is None:
                raise PoolRefusedError("no period is due to close yet")
            self._one(body, at)
            return body

    def change_rules(
        self, rules: Mapping[str, object], effective: datetime, reason: str
    ) -> PoolRules:
        with self._lock:
            state = self.state()
            shape = read_shape(dict(rules), "rules")
            body = PoolRules(effective=effective, rules=shape, reason=reason)
            self._one(body, self._now(state))
            return body

    def override(
        self,
        action: str,
        target: str,
        reason: str,
        details: Mapping[str, ShapeValue] | None = None,
    ) -> int:
        """Append a manual intervention with its reason."""
        with self._lock:
            state = self.state()
            body = OperatorOverride(
                action=action, target=target, reason=reason, details=dict(details or {})
            )
            return self._one(body, self._now(state))

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


def _checkpoint_size(note: bytes) -> int:
    return Checkpoint.from_text(Note.from_bytes(note).text).size
