"""Where things are in a pool's log: one index, fed the log's entries in order.

:class:`LogIndex` remembers, for each claim, the ``seq`` and figures of its
filing, notice, objections, answers, appeals, panels (with the votes sealed
and revealed on each), decisions, payout and withdrawal
(:class:`ClaimRecord`); for each member, when they joined and left and the
entries that ended their jury service; the rule changes; each period's juror
pool and ``period.closed``; and the claims each period paid.

A closed period's roster is derived from the joins and leaves
(:meth:`LogIndex.roster`): the members whose ``member.joined`` is timed
before the period's moment (00:00 UTC on its notice day,
:func:`verifiable.pool.rules.moment`) and whose ``member.left``, if any, is not
(docs/rules.md, "Roster").  The rosters themselves are not kept: one time
per member (two for a member who left) is enough to derive any of them.

Nothing here replays the pool's rules: the index holds what the entries say,
whether or not they follow the rules, so the bundles built from it
(:mod:`verifiable.pool.bundle_builder`) still show a dishonest log as it is, and
it is the member's check that tells.  It does no IO: the caller feeds it
entries (:meth:`LogIndex.feed`) or their bytes (:meth:`LogIndex.feed_bytes`,
which also checks the hash chain).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from verifiable.errors import MutualogError
from verifiable.log.bodies import (
    AgeBand,
    Body,
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
    MemberJoined,
    MemberLeft,
    OperatorOverride,
    Outcome,
    PanelDrawn,
    PeriodClosed,
    VoteRevealed,
    VoteSealed,
)
from verifiable.log.entry import GENESIS_PREV, Entry
from verifiable.log.merkle import leaf_hash
from verifiable.log.notice_facts import NoticeFacts
from verifiable.pool.claim_check import CLAIM_TYPES
from verifiable.pool.replay import decode_entry
from verifiable.pool.roster import member_set_leaves
from verifiable.pool.rules import moment

__all__ = [
    "ClaimRecord",
    "DecisionRecord",
    "JuryPoolRecord",
    "LogIndex",
    "NoticeRecord",
    "PaidRecord",
    "PanelRecord",
]

_WITHDRAW = "claim.withdraw"


@dataclass(frozen=True)
class NoticeRecord:
    """A claim's public notice (``claim.noticed``)."""

    seq: int
    text: str
    amount: int
    age_band: AgeBand
    category: str
    objections_until: datetime
    facts: NoticeFacts | None = None
    summary: str | None = None
    redacted: tuple[bytes, ...] | None = None


@dataclass(frozen=True)
class DecisionRecord:
    """One ``claim.decided``: the tally of a round, or a decision by rule."""

    seq: int
    round: int
    approvals: int
    rejections: int
    outcome: Outcome
    amount: int


@dataclass(frozen=True)
class PaidRecord:
    """The claim's ``claim.paid``."""

    seq: int
    amount: int
    period: date


@dataclass(slots=True)
class PanelRecord:
    """One ``panel.drawn`` and the seqs of the votes sealed and revealed on it."""

    seq: int
    round: int
    appeal: bool
    pool_period: date
    seed_size: int
    seed: bytes
    jurors: tuple[str, ...]
    votes_until: datetime
    sealed: list[int] = field(default_factory=list)
    revealed: list[int] = field(default_factory=list)
    witnessed_size: int | None = None
    """The size of the witnessed checkpoint the seed came from, if any."""


@dataclass(slots=True)
class ClaimRecord:
    """Where a claim's entries are in the log."""

    id: str
    filed_seq: int
    filed: ClaimFiled
    notice: NoticeRecord | None = None
    objections: list[int] = field(default_factory=list)
    objectors: list[str] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    appeals: list[int] = field(default_factory=list)
    panels: list[PanelRecord] = field(default_factory=list)
    decisions: list[DecisionRecord] = field(default_factory=list)
    paid: PaidRecord | None = None
    withdrawn_seq: int | None = None
    entries: list[tuple[int, str]] = field(default_factory=list)

    @property
    def documents(self) -> int:
        """How many documents the filing commits to."""
        return len(self.filed.evidence)

    @property
    def seqs(self) -> list[int]:
        """The claim's history as the claim check reads it: its filing and
        the claim entries about it (:data:`verifiable.pool.claim_check.CLAIM_TYPES`),
        not the operator's withdrawal."""
        return [seq for seq, type_ in self.entries if type_ != OperatorOverride.TYPE]

    @property
    def redrawn(self) -> bool:
        """A panel missed quorum and another was drawn."""
        return any(
            d.outcome is Outcome.NO_QUORUM and any(p.round > d.round for p in self.panels)
            for d in self.decisions
        )


@dataclass
class JuryPoolRecord:
    """A period's ``jury.pool``: its seq, the sorted ids of the qualified
    jurors it committed to, and their leaf hashes once asked for."""

    seq: int
    ids: list[str]
    leaves: list[bytes] | None = None


@dataclass
class LogIndex:
    """Where things are in a log, fed one entry at a time."""

    size: int = 0
    head: bytes = GENESIS_PREV
    claims: dict[str, ClaimRecord] = field(default_factory=dict)
    joined: dict[str, tuple[int, datetime]] = field(default_factory=dict)
    left_at: dict[str, datetime] = field(default_factory=dict)
    lapses: dict[str, list[int]] = field(default_factory=dict)
    qualified: dict[str, list[int]] = field(default_factory=dict)
    rules: list[int] = field(default_factory=list)
    pools: dict[date, JuryPoolRecord] = field(default_factory=dict)
    closed: dict[date, tuple[int, PeriodClosed]] = field(default_factory=dict)
    paid: dict[date, list[tuple[str, int]]] = field(default_factory=dict)
    _jurors: set[str] = field(default_factory=set)

    def feed_bytes(self, data: bytes) -> Entry:
        """Decode the log's next entry, check that it chains to the last one
        fed this way, and remember it."""
        entry = decode_entry(data, self.size, self.head)
        self.feed(entry)
        self.head = leaf_hash(data)
        return entry

    def feed(self, entry: Entry) -> None:
        """Remember ``entry``, the next one of the log (its chain is the
        caller's to check: :meth:`feed_bytes` does)."""
        if entry.seq != self.size:
            raise MutualogError(f"log index: entry {entry.seq} after {self.size} entries")
        self.size += 1
        body, seq = entry.body, entry.seq
        claim = getattr(body, "claim", None)
        if isinstance(body, ClaimFiled):
            record = self.claims[body.claim] = ClaimRecord(body.claim, seq, body)
            record.entries.append((seq, entry.type))
        elif entry.type in CLAIM_TYPES and isinstance(claim, str) and claim in self.claims:
            record = self.claims[claim]
            record.entries.append((seq, entry.type))
            _note(record, seq, body)
            if isinstance(body, ClaimPaid):
                self.paid.setdefault(body.period, []).append((body.claim, body.amount))
        elif isinstance(body, MemberJoined):
            self.joined[body.member] = (seq, entry.time)
        elif isinstance(body, JurorQualified):
            self._jurors.add(body.member)
            self.qualified.setdefault(body.member, []).append(seq)
        elif isinstance(body, JurorRemoved | MemberLeft):
            self._jurors.discard(body.member)
            self.lapses.setdefault(body.member, []).append(seq)
            if isinstance(body, MemberLeft):
                self.left_at[body.member] = entry.time
        elif isinstance(body, JuryPool):
            self.pools[body.period] = JuryPoolRecord(seq, sorted(self._jurors))
        elif isinstance(body, PeriodClosed):
            self.closed[body.period] = (seq, body)
        elif entry.type == "pool.rules":
            self.rules.append(seq)
        elif isinstance(body, OperatorOverride) and body.action == _WITHDRAW:
            withdrawn = self.claims.get(body.target)
            if withdrawn is not None:
                withdrawn.withdrawn_seq = seq
                withdrawn.entries.append((seq, entry.type))

    def sharing(self, member: str, at: datetime) -> bool:
        """Whether ``member`` shares in a period whose moment is ``at``:
        joined before it, and not left before it."""
        joined = self.joined.get(member)
        if joined is None or joined[1] >= at:
            return False
        left = self.left_at.get(member)
        return left is None or left >= at

    def roster(self, period: date) -> list[str]:
        """The sorted ids of ``period``'s roster as the entries fed so far
        give it.  Whether it hashes to the ``roster_root`` the period's
        ``period.closed`` commits to is for the caller (or the member's
        check) to tell."""
        at = moment(period)
        left = self.left_at
        return sorted(
            m for m, (_, t) in self.joined.items() if t < at and (m not in left or left[m] >= at)
        )

    def closes(self) -> list[tuple[int, PeriodClosed]]:
        """Every ``period.closed`` with its seq, in log order."""
        return sorted(self.closed.values(), key=lambda close: close[0])

    def pool_leaves(self, period: date) -> tuple[JuryPoolRecord, list[bytes]]:
        """A juror pool and its leaf hashes (computed once per pool)."""
        pool = self.pools[period]
        if pool.leaves is None:
            pool.leaves = member_set_leaves(pool.ids, f"juror pool {period}")
        return pool, pool.leaves


def _note(record: ClaimRecord, seq: int, body: Body) -> None:
    if isinstance(body, ClaimNoticed):
        record.notice = NoticeRecord(
            seq,
            body.text,
            body.amount,
            body.age_band,
            body.category,
            body.objections_until,
            body.facts,
            body.summary,
            body.redacted,
        )
    elif isinstance(body, ClaimObjected):
        record.objections.append(seq)
        record.objectors.append(body.member)
    elif isinstance(body, ClaimAnswered):
        record.answers.append(seq)
    elif isinstance(body, ClaimAppealed):
        record.appeals.append(seq)
    elif isinstance(body, PanelDrawn):
        record.panels.append(
            PanelRecord(
                seq,
                body.round,
                body.appeal,
                body.pool_period,
                body.seed_size,
                body.seed,
                body.jurors,
                body.votes_until,
                witnessed_size=body.witnessed.checkpoint.size if body.witnessed else None,
            )
        )
    elif isinstance(body, VoteSealed | VoteRevealed):
        panel = next((p for p in reversed(record.panels) if p.round == body.round), None)
        if panel is not None:
            (panel.sealed if isinstance(body, VoteSealed) else panel.revealed).append(seq)
    elif isinstance(body, ClaimDecided):
        record.decisions.append(
            DecisionRecord(
                seq, body.round, body.approvals, body.rejections, body.outcome, body.amount
            )
        )
    elif isinstance(body, ClaimPaid):
        record.paid = PaidRecord(seq, body.amount, body.period)
