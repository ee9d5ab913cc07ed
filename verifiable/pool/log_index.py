"""Where things are in a pool's log: one index, fed the log's entries in order.

:class:`LogIndex` remembers, for each claim, the ``seq`` and figures of its
filing, notice, objections, answers, appeals, panels (with the votes sealed
and revealed on each), decisions, payout and withdrawal
(:class:`ClaimRecord`); for each member, when they joined and left, the
entries that ended their jury service and the claims they filed or judged;
the rule changes; each period's juror pool and ``period.closed``; the claims
each period paid; and the counts the public pages show.

It keeps them as records of a :class:`verifiable.pool.store.StateStore`
(:mod:`verifiable.pool.index_records`): in memory by default, in the
server's database beside the pool's state when a server feeds it in the
append's transaction.  Nothing of the pool's size is held by the object
itself, so a server process reads the records it needs and holds none.

A closed period's roster is fixed by the joins and leaves: the members
whose ``member.joined`` is timed before the period's moment (00:00 UTC on
its notice day, :func:`verifiable.pool.rules.moment`) and whose
``member.left``, if any, is not (docs/rules.md, "Roster").  When the
period's ``period.closed`` is fed, the index summarizes that roster once
(:func:`verifiable.pool.roster.roster_summary`) and keeps the summary: a
member's roster proof then reads one chunk of members
(:meth:`LogIndex.roster_chunk`), for any period, old or new.  A juror
pool is kept the same way, its ids in chunks.

Nothing here replays the pool's rules: the index holds what the entries say,
whether or not they follow the rules, so the bundles built from it
(:mod:`verifiable.pool.bundle_builder`) still show a dishonest log as it is, and
it is the member's check that tells.  It does no IO of its own: the caller
feeds it entries (:meth:`LogIndex.feed`) or their bytes
(:meth:`LogIndex.feed_bytes`, which also checks the hash chain).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from typing import Generic, TypeVar

from verifiable.errors import MutualogError
from verifiable.log.bodies import (
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
    PanelDrawn,
    PeriodClosed,
    VoteRevealed,
    VoteSealed,
)
from verifiable.log.entry import GENESIS_PREV, Entry
from verifiable.log.fields import read_date
from verifiable.log.merkle import leaf_hash
from verifiable.pool.claim_check import CLAIM_TYPES
from verifiable.pool.index_records import (
    CLAIMS,
    CLOSED,
    COUNTS,
    JURORS,
    LAPSES,
    MEMBER_CLAIMS,
    MEMBERS,
    PAID,
    POOL_CHUNKS,
    POOLS,
    QUALIFIED,
    ROSTERS,
    RULES,
    ClaimRecord,
    DecisionRecord,
    MemberClaims,
    MemberSpan,
    NoticeRecord,
    PaidRecord,
    PanelRecord,
    PoolRecord,
    period_key,
)
from verifiable.pool.replay import decode_entry
from verifiable.pool.roster import RosterSummary, roster_summary, roster_summary_proof
from verifiable.pool.rules import moment
from verifiable.pool.store import Kind, MemoryStore, StateStore, StoredMap, StoredSet, WriteBuffer
from verifiable.pool.store import seq_key as _seq_key

__all__ = [
    "ROSTER_SUMMARY_LEVEL",
    "ClaimRecord",
    "DecisionRecord",
    "JuryPoolView",
    "LogIndex",
    "MemberClaims",
    "MemberSpan",
    "NoticeRecord",
    "PaidRecord",
    "PanelRecord",
]

ROSTER_SUMMARY_LEVEL = 12
"""Chunks of 4,096 members: a roster or pool proof hashes one chunk and one
hash per chunk above it."""

_WITHDRAW = "claim.withdraw"

V = TypeVar("V")


class _ByPeriod(Mapping[date, V], Generic[V]):
    """The records of one kind keyed by period, as a mapping from dates."""

    __slots__ = ("_map",)

    def __init__(self, buffer: WriteBuffer, kind: Kind[V]) -> None:
        self._map = StoredMap(buffer, kind)

    def __getitem__(self, period: date) -> V:
        return self._map[period_key(period)]

    def get(self, period: date, /, default: V | None = None) -> V | None:  # type: ignore[override]
        found = self._map.get(period_key(period))
        return default if found is None else found

    def __contains__(self, period: object) -> bool:
        return isinstance(period, date) and period_key(period) in self._map

    def __len__(self) -> int:
        return len(self._map)

    def __iter__(self) -> Iterator[date]:
        return (read_date(k, "index") for k in self._map)

    def items(self) -> Iterator[tuple[date, V]]:  # type: ignore[override]
        return ((read_date(k, "index"), v) for k, v in self._map.items())


class _Joined(Mapping[str, tuple[int, datetime]]):
    """Each member's ``member.joined``: its seq and time."""

    __slots__ = ("_members",)

    def __init__(self, members: StoredMap[MemberSpan]) -> None:
        self._members = members

    def __getitem__(self, member: str) -> tuple[int, datetime]:
        span = self._members[member]
        return span.seq, span.joined

    def __contains__(self, member: object) -> bool:
        return member in self._members

    def __len__(self) -> int:
        return len(self._members)

    def __iter__(self) -> Iterator[str]:
        return iter(self._members)


@dataclass(frozen=True)
class JuryPoolView:
    """A period's juror pool as the index keeps it: its seq and size, each
    juror by position, and each position's inclusion proof, read a chunk at
    a time."""

    period: date
    record: PoolRecord
    _index: LogIndex

    @property
    def seq(self) -> int:
        return self.record.seq

    def __len__(self) -> int:
        return self.record.size

    def chunk(self, n: int) -> tuple[str, ...]:
        found = self._index._buffer.get(POOL_CHUNKS, f"{period_key(self.period)}:{_seq_key(n)}")
        if found is None:
            raise MutualogError(f"log index: the juror pool of {self.period} lacks chunk {n}")
        return found

    def id_at(self, position: int) -> str:
        level = self.record.summary.level
        return self.chunk(position >> level)[position & ((1 << level) - 1)]

    def proof(self, position: int) -> tuple[str, list[bytes]]:
        """The juror at ``position`` and its RFC 9162 inclusion proof in the pool."""
        summary = self.record.summary
        ids = self.chunk(position >> summary.level)
        member = ids[position & ((1 << summary.level) - 1)]
        index, proof = roster_summary_proof(summary, ids, member)
        if index != position:
            raise MutualogError(f"log index: juror {member} is at {index}, not {position}")
        return member, proof


class LogIndex:
    """Where things are in a log, fed one entry at a time.

    ``store`` holds the records (a new :class:`MemoryStore` by default);
    ``size`` and ``head`` say how far it reflects the log when it is taken
    up from a store already fed."""

    def __init__(
        self, store: StateStore | None = None, size: int = 0, head: bytes = GENESIS_PREV
    ) -> None:
        self._buffer = buffer = WriteBuffer(MemoryStore() if store is None else store)
        self.size = size
        self.head = head
        self.claims: StoredMap[ClaimRecord] = StoredMap(buffer, CLAIMS)
        self.members: StoredMap[MemberSpan] = StoredMap(buffer, MEMBERS)
        self.joined = _Joined(self.members)
        self.lapses: StoredMap[tuple[int, ...]] = StoredMap(buffer, LAPSES)
        self.qualified: StoredMap[tuple[int, ...]] = StoredMap(buffer, QUALIFIED)
        self.closed: _ByPeriod[tuple[int, PeriodClosed]] = _ByPeriod(buffer, CLOSED)
        self.paid: _ByPeriod[tuple[tuple[str, int], ...]] = _ByPeriod(buffer, PAID)
        self.pools: _ByPeriod[PoolRecord] = _ByPeriod(buffer, POOLS)
        self.rosters: _ByPeriod[RosterSummary] = _ByPeriod(buffer, ROSTERS)
        self._jurors = StoredSet(buffer, JURORS)
        self._member_claims: StoredMap[MemberClaims] = StoredMap(buffer, MEMBER_CLAIMS)

    # -- reading ---------------------------------------------------------------

    @property
    def rules(self) -> list[int]:
        """The seqs of the ``pool.rules`` entries, in log order."""
        return [int(key) for key, _ in self._buffer.scan(RULES)]

    def count(self, name: str) -> int:
        """One of the counts kept (:data:`verifiable.pool.index_records.COUNTS`)."""
        return self._buffer.get(COUNTS, name) or 0

    def member_claims(self, member: str) -> MemberClaims:
        """The claims ``member`` filed and the panels they were drawn on."""
        return self._member_claims.get(member) or MemberClaims()

    def sharing(self, member: str, at: datetime) -> bool:
        """Whether ``member`` shares in a period whose moment is ``at``:
        joined before it, and not left before it."""
        span = self.members.get(member)
        return span is not None and span.sharing(at)

    def closes(self) -> list[tuple[int, PeriodClosed]]:
        """Every ``period.closed`` with its seq, in log order."""
        return sorted((v for _, v in self.closed.items()), key=lambda close: close[0])

    def roster(self, period: date) -> list[str]:
        """The sorted ids of ``period``'s roster as the entries fed so far
        give it (every member is read: for a small pool, or a check).
        Whether it hashes to the ``roster_root`` the period's
        ``period.closed`` commits to is for the caller (or the member's
        check) to tell."""
        at = moment(period)
        return [m for m, span in self._buffer.scan(MEMBERS) if span.sharing(at)]

    def roster_chunk(self, period: date, chunk: int) -> list[str]:
        """The ids of chunk ``chunk`` of ``period``'s roster, whose summary
        the index kept when the period closed: the members from the chunk's
        first id on who share in the period, one chunk's worth."""
        summary = self.rosters.get(period)
        if summary is None:
            raise MutualogError(f"log index: no roster kept for period {period}")
        start, end = summary.chunk_range(chunk)
        at = moment(period)
        sharing = (
            m for m, span in self._buffer.scan(MEMBERS, summary.firsts[chunk]) if span.sharing(at)
        )
        return list(islice(sharing, end - start))

    def pool(self, period: date) -> JuryPoolView | None:
        """``period``'s juror pool, or ``None`` if the log has none."""
        record = self.pools.get(period)
        return None if record is None else JuryPoolView(period, record, self)

    # -- feeding ---------------------------------------------------------------

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
        self.feed_body(entry.seq, entry.time, entry.type, entry.body)

    def feed_body(self, seq: int, time: datetime, type_: str, body: Body) -> None:
        """:meth:`feed` for an entry's parts; its records are written to the
        store at once, all or nothing."""
        if seq != self.size:
            raise MutualogError(f"log index: entry {seq} after {self.size} entries")
        buffer = self._buffer
        buffer.begin()
        try:
            self._note(seq, time, type_, body)
        except BaseException:
            buffer.rollback()
            raise
        buffer.commit()
        self.size += 1

    def _note(self, seq: int, time: datetime, type_: str, body: Body) -> None:
        claim = getattr(body, "claim", None)
        if isinstance(body, ClaimFiled):
            record = ClaimRecord(body.claim, seq, body)
            record.entries.append((seq, type_))
            if body.claim not in self.claims:
                self._add_count("claims", 1)
            self.claims.put(body.claim, record)
            self._member(body.member, filed=body.claim)
        elif type_ in CLAIM_TYPES and isinstance(claim, str):
            found = self.claims.get(claim)
            if found is not None:
                self._claim_entry(found, seq, type_, body)
        elif isinstance(body, MemberJoined):
            self.members.put(body.member, MemberSpan(seq, time))
        elif isinstance(body, JurorQualified):
            self._jurors.add(body.member)
            self.qualified.put(body.member, (*(self.qualified.get(body.member) or ()), seq))
        elif isinstance(body, JurorRemoved | MemberLeft):
            self._jurors.discard(body.member)
            self.lapses.put(body.member, (*(self.lapses.get(body.member) or ()), seq))
            span = self.members.get(body.member)
            if isinstance(body, MemberLeft) and span is not None:
                self.members.put(body.member, MemberSpan(span.seq, span.joined, time))
        elif isinstance(body, JuryPool):
            self._keep_pool(seq, body.period)
        elif isinstance(body, PeriodClosed):
            # The roster is summarized once, streaming over the members: a
            # close holds one chunk of ids, whatever the pool's size.
            key = period_key(body.period)
            self._buffer.put(CLOSED, key, (seq, body))
            at = moment(body.period)
            sharing = (m for m, span in self._buffer.scan(MEMBERS) if span.sharing(at))
            self._buffer.put(ROSTERS, key, roster_summary(sharing, ROSTER_SUMMARY_LEVEL))
        elif type_ == "pool.rules":
            self._buffer.put(RULES, _seq_key(seq), True)
        elif isinstance(body, OperatorOverride) and body.action == _WITHDRAW:
            withdrawn = self.claims.get(body.target)
            if withdrawn is not None:
                before = withdrawn.cases()
                withdrawn.withdrawn_seq = seq
                withdrawn.entries.append((seq, type_))
                self._cases(before, withdrawn)
                self.claims.put(body.target, withdrawn)

    def _claim_entry(self, record: ClaimRecord, seq: int, type_: str, body: Body) -> None:
        before = record.cases()
        record.entries.append((seq, type_))
        _note(record, seq, body)
        if isinstance(body, ClaimPaid):
            paid = self.paid.get(body.period) or ()
            self._buffer.put(PAID, period_key(body.period), (*paid, (body.claim, body.amount)))
        elif isinstance(body, ClaimDecided):
            self._add_count(f"decided:{body.outcome.value}", 1)
        elif isinstance(body, PanelDrawn):
            for juror in body.jurors:
                self._member(juror, summoned=(record.id, len(record.panels) - 1))
        self._cases(before, record)
        self.claims.put(record.id, record)

    def _cases(self, before: frozenset[str], record: ClaimRecord) -> None:
        for case in record.cases() - before:
            self._add_count(f"case:{case}", 1)

    def _add_count(self, name: str, n: int) -> None:
        self._buffer.put(COUNTS, name, self.count(name) + n)

    def _member(
        self, member: str, filed: str | None = None, summoned: tuple[str, int] | None = None
    ) -> None:
        held = self.member_claims(member)
        self._member_claims.put(
            member,
            MemberClaims(
                held.filed if filed is None else (*held.filed, filed),
                held.summoned if summoned is None else (*held.summoned, summoned),
            ),
        )

    def set_pool(self, seq: int, period: date, ids: Sequence[str]) -> None:
        """Keep ``ids`` as the pool of the ``jury.pool`` at ``seq``, in place of
        the jurors the entries qualified: for a bench's log that names a
        pool of jurors it never qualified."""
        self._buffer.begin()
        try:
            self._keep_pool(seq, period, ids)
        except BaseException:
            self._buffer.rollback()
            raise
        self._buffer.commit()

    def _keep_pool(self, seq: int, period: date, given: Sequence[str] | None = None) -> None:
        """The jurors now qualified, as ``period``'s pool: a summary and the
        ids in chunks (a pool named again is kept over the first)."""
        ids = list(self._jurors) if given is None else list(given)
        summary = roster_summary(ids, ROSTER_SUMMARY_LEVEL, len(ids))
        key = period_key(period)
        step = 1 << ROSTER_SUMMARY_LEVEL
        for n, start in enumerate(range(0, len(ids), step)):
            self._buffer.put(POOL_CHUNKS, f"{key}:{_seq_key(n)}", tuple(ids[start : start + step]))
        old = self.pools.get(period)
        if old is not None:
            chunks = -(-len(ids) // step)
            for n in range(chunks, -(-old.size // step)):
                self._buffer.delete(POOL_CHUNKS, f"{key}:{_seq_key(n)}")
        self._buffer.put(POOLS, key, PoolRecord(seq, summary))


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
