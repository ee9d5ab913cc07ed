"""The pool in the server: one object for the pages and commands to call.

:class:`PoolService` hands each call to the room of :mod:`server.pool` that
holds it — keeping the rulebook in step with the log
(:mod:`server.pool.core`), members, claims, voting, erasure, the rulebook
and periods (:mod:`server.pool.governance`), the operator's reads
(:mod:`server.pool.review`) — and this module names the types those calls
take, return and raise, so a caller imports from here alone.

An operation refused — by a check of the pool, by the private store or by
the rulebook — appends nothing and leaves nothing in the private store.
docs/pool-service.md says what each method does and how it refuses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime

from sqlalchemy import Engine

from server.pool.claims import Claims
from server.pool.concerned import concerned_members, identities
from server.pool.core import PoolCore
from server.pool.erasure import MAX_ERASURE_REASON, Erasure
from server.pool.errors import (
    PoolInputError,
    PoolRefusedError,
    PoolUnavailableError,
    VoteRefusedError,
)
from server.pool.governance import Governance
from server.pool.members import Members
from server.pool.notice_facts import NoticeDetails
from server.pool.redaction import Redaction
from server.pool.review import CaseFile, Objection, QueueAction, QueueItem, Review, ReviewQueue
from server.pool.voting import SealedReceipt, Voting
from server.private.evidence import StoredEvidence, Upload
from server.private.members import MemberDetails
from server.private.redacted import RedactedPages
from server.private.submissions import Submission
from server.private_guard import PrivateIdentity
from server.sequencer import Sequencer
from server.storage import LogStore
from server.tilefiles import TileFiles
from verifiable.log.bodies import (
    AgeBand,
    Choice,
    ClaimDecided,
    ClaimNoticed,
    ClaimPaid,
    DataErased,
    JuryPool,
    LeaveReason,
    MemberLeft,
    PanelDrawn,
    PeriodClosed,
    PoolRules,
    VerifierPublished,
)
from verifiable.log.fields import ShapeValue
from verifiable.log.note import Ed25519Signer
from verifiable.log.notice_facts import NoticeFacts
from verifiable.pool.state import ClaimView, PoolState
from verifiable.pool.verifier_page import PagePublication

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
]


class PoolService:
    """The pool's operations over the log in ``engine``, signed by ``signer``.

    ``clock`` returns the current aware time; ``identity_key`` the key of
    the ID numbers' hash (without it, joining is refused); ``files`` the
    folder of the log's files, kept up to date after each append.  Safe to share between the
    threads of one process; several processes may each have one.  Each
    method is its room's (the docstrings there say more).
    """

    def __init__(
        self,
        engine: Engine,
        signer: Ed25519Signer,
        clock: Callable[[], datetime],
        identity_key: Callable[[], bytes] | None = None,
        files: TileFiles | None = None,
    ) -> None:
        self._core = core = PoolCore(engine, signer, clock, identity_key, files)
        self._members = Members(core)
        self._claims = Claims(core)
        self._voting = Voting(core)
        self._erasure = Erasure(core)
        self._governance = Governance(core)
        self._review = Review(core)
        self._redaction = Redaction(core)

    @property
    def store(self) -> LogStore:
        return self._core.store

    @property
    def engine(self) -> Engine:
        return self._core.engine

    @property
    def sequencer(self) -> Sequencer:
        """The log's sequencer, the rulebook its ``validate`` hook."""
        return self._core.sequencer

    # -- reading -------------------------------------------------------------

    def state(self) -> PoolState:
        """The pool's state after every entry stored so far."""
        return self._core.state()

    def now(self) -> datetime:
        """The time the next entry would get."""
        with self._core.lock:
            return self._core.now(self.state())

    def claim(self, claim_id: str) -> ClaimView | None:
        return self.state().claim(claim_id)

    def notice(self, claim_id: str) -> ClaimNoticed | None:
        return self._review.notice(claim_id)

    def review_queue(self) -> ReviewQueue:
        return self._review.review_queue()

    def case_file(self, claim_id: str) -> CaseFile | None:
        return self._review.case_file(claim_id)

    def evidence_document(self, claim_id: str, position: int) -> StoredEvidence | None:
        return self._review.evidence_document(claim_id, position)

    # -- redacted copies of the evidence, for the panel ----------------------

    def upload_redacted(self, claim_id: str, number: int, upload: Upload) -> bytes:
        return self._redaction.upload(claim_id, number, upload)

    def redacted_pages(self, claim_id: str, number: int) -> RedactedPages | None:
        return self._redaction.pages(claim_id, number)

    def concerned(
        self,
        *,
        claim: str | None = None,
        objection: int | None = None,
        member: str | None = None,
        target: str | None = None,
    ) -> tuple[PrivateIdentity, ...]:
        """The identities of the members a text concerns, for the private-data
        guard at a form's or command's first step
        (:func:`server.pool.concerned.concerned_members` says who)."""
        core = self._core
        with core.lock:
            ids = concerned_members(
                core, core.state(), claim=claim, objection=objection, member=member, target=target
            )
            return identities(core, ids)

    def open_panels(self, member_id: str) -> list[ClaimView]:
        return self._voting.open_panels(member_id)

    # -- the rulebook, periods, overrides ------------------------------------

    def start(self, rules: Mapping[str, object], reason: str = "The pool's rulebook.") -> int:
        return self._governance.start(rules, reason)

    def change_rules(
        self, rules: Mapping[str, object], effective: datetime, reason: str
    ) -> PoolRules:
        return self._governance.change_rules(rules, effective, reason)

    def close_period(self, period: date | None = None) -> PeriodClosed:
        return self._governance.close_period(period)

    def override(
        self,
        action: str,
        target: str,
        reason: str,
        details: Mapping[str, ShapeValue] | None = None,
    ) -> int:
        return self._governance.override(action, target, reason, details)

    def publish_verifier(self, page: bytes, build: str) -> VerifierPublished | None:
        return self._governance.publish_verifier(page, build)

    def verifier_page(self) -> PagePublication | None:
        """The verifier page's hash in force: the last ``verifier.published``."""
        return self._core.state().pages.latest

    # -- members -------------------------------------------------------------

    def join(self, account_id: int, details: MemberDetails) -> str:
        return self._members.join(account_id, details)

    def leave(self, member_id: str, reason: LeaveReason = LeaveReason.VOLUNTARY) -> MemberLeft:
        return self._members.leave(member_id, reason)

    def qualify_juror(self, member_id: str) -> int:
        return self._members.qualify_juror(member_id)

    def commit_jury_pool(self) -> JuryPool:
        return self._members.commit_jury_pool()

    # -- claims --------------------------------------------------------------

    def claim_band(self, member_id: str, diagnosed: date) -> AgeBand:
        return self._claims.claim_band(member_id, diagnosed)

    def claim_cap(self, member_id: str, diagnosed: date) -> tuple[AgeBand, int | None]:
        """The band a claim diagnosed on ``diagnosed`` carries, and its cap
        under the rules in force now (``None``: the band has no cover)."""
        band = self.claim_band(member_id, diagnosed)
        rules = self.state().rules_at(self.now())
        return band, rules.cap(band) if rules is not None else None

    def file_claim(
        self,
        member_id: str,
        category: str,
        amount: int,
        diagnosed: date,
        uploads: Sequence[Upload],
        submission: Submission | None = None,
    ) -> str:
        return self._claims.file_claim(member_id, category, amount, diagnosed, uploads, submission)

    def publish_notice(
        self,
        claim_id: str,
        text: str,
        amount: int | None = None,
        details: NoticeDetails | None = None,
    ) -> ClaimNoticed:
        return self._claims.publish_notice(claim_id, text, amount, details)

    def notice_facts(self, claim_id: str, details: NoticeDetails) -> NoticeFacts:
        return self._claims.notice_facts(claim_id, details)

    def redacted_for_notice(self, claim_id: str) -> tuple[bytes, ...]:
        return self._claims.redacted_for_notice(claim_id)

    def file_objection(
        self, claim_id: str, member_id: str, text: str, submission: Submission | None = None
    ) -> int:
        return self._claims.file_objection(claim_id, member_id, text, submission)

    def answer(self, claim_id: str, objection_seq: int, text: str) -> int:
        return self._claims.answer(claim_id, objection_seq, text)

    def decide_ineligible(self, claim_id: str) -> ClaimDecided:
        return self._claims.decide_ineligible(claim_id)

    def draw_panel(self, claim_id: str) -> PanelDrawn:
        return self._claims.draw_panel(claim_id)

    def awaiting_witnesses(self, claim_id: str) -> bool:
        return self._claims.awaiting_witnesses(claim_id)

    def appeal(self, claim_id: str, reason: str) -> None:
        self._claims.appeal(claim_id, reason)

    def pay(self, claim_id: str) -> ClaimPaid:
        return self._claims.pay(claim_id)

    # -- votes ---------------------------------------------------------------

    def check_can_vote(self, claim_id: str, round: int, juror: str) -> ClaimView:
        return self._voting.check_can_vote(claim_id, round, juror)

    def seal_vote(
        self,
        claim_id: str,
        round: int,
        juror: str,
        choice: Choice,
        reason: str,
        submission: Submission | None = None,
    ) -> SealedReceipt:
        return self._voting.seal_vote(claim_id, round, juror, choice, reason, submission)

    def has_voted(self, claim_id: str, round: int, juror: str) -> bool:
        return self._voting.has_voted(claim_id, round, juror)

    def receipt(self, claim_id: str, round: int, juror: str) -> SealedReceipt | None:
        return self._voting.receipt(claim_id, round, juror)

    def close_voting(self, claim_id: str) -> ClaimDecided:
        return self._voting.close_voting(claim_id)

    # -- erasure -------------------------------------------------------------

    def erase_member(self, member_id: str, reason: str, requested_by: int | None) -> DataErased:
        return self._erasure.erase_member(member_id, reason, requested_by)

    def erase_evidence(self, claim_id: str, reason: str, requested_by: int | None) -> DataErased:
        return self._erasure.erase_evidence(claim_id, reason, requested_by)
