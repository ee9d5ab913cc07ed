"""The records of the log's index (:mod:`verifiable.pool.log_index`) and
their bytes.

The index keeps what grows with the pool — each claim's place in the log,
each member's join and leave, each juror's lapses, each period's roster
and juror pool — as records of a :class:`verifiable.pool.store.StateStore`,
the store the rulebook's state uses.  In memory (tests, a bundle built from
a downloaded log) the records are objects; a server keeps them in its
database beside the state's, written in the append's transaction, so a
server process reads the few it needs and holds none
(docs/storage.md, "The log's index").

Every kind's name begins with ``ix.``, apart from the state's kinds.  The
codecs write compact JSON as :mod:`verifiable.pool.store_codecs` does:
times and dates as the log writes them, hashes in hex, log bodies in their
canonical JSON form.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from verifiable.errors import MalformedError
from verifiable.log.bodies import (
    AgeBand,
    ClaimFiled,
    OperatorOverride,
    Outcome,
    PeriodClosed,
    parse_body,
)
from verifiable.log.fields import format_date, format_time, read_date, read_time
from verifiable.log.notice_facts import NoticeFacts
from verifiable.pool.roster import RosterSummary
from verifiable.pool.store import Codec, Kind
from verifiable.pool.store_codecs import FLAG, dumps, loads

__all__ = [
    "CLAIMS",
    "CLOSED",
    "COUNTS",
    "JURORS",
    "LAPSES",
    "MEMBERS",
    "MEMBER_CLAIMS",
    "PAID",
    "POOLS",
    "POOL_CHUNKS",
    "QUALIFIED",
    "ROSTERS",
    "RULES",
    "ClaimRecord",
    "DecisionRecord",
    "MemberClaims",
    "MemberSpan",
    "NoticeRecord",
    "PaidRecord",
    "PanelRecord",
    "PoolRecord",
]


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

    def cases(self) -> frozenset[str]:
        """The kinds of claim this one is so far (``approved``, ``paid``,
        ``rejected``, ``redrawn``, ``appealed``, ``objected``,
        ``waiting_period``, ``withdrawn``); a claim never stops being one."""
        outcomes = {d.outcome for d in self.decisions}
        kinds = {
            "approved": Outcome.APPROVED in outcomes,
            "paid": self.paid is not None,
            "rejected": Outcome.REJECTED in outcomes,
            "redrawn": self.redrawn,
            "appealed": bool(self.appeals),
            "objected": bool(self.objections),
            "waiting_period": Outcome.INELIGIBLE in outcomes,
            "withdrawn": self.withdrawn_seq is not None,
        }
        return frozenset(kind for kind, present in kinds.items() if present)


@dataclass(frozen=True)
class MemberSpan:
    """When a member joined (the entry's seq and time) and, if they did,
    left."""

    seq: int
    joined: datetime
    left: datetime | None = None

    def sharing(self, at: datetime) -> bool:
        """Whether the member shares in a period whose moment is ``at``:
        joined before it, and not left before it."""
        return self.joined < at and (self.left is None or self.left >= at)


@dataclass(frozen=True)
class MemberClaims:
    """The claims a member filed and the panels they were drawn on, each
    as (claim, the panel's place in the claim's panels)."""

    filed: tuple[str, ...] = ()
    summoned: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class PoolRecord:
    """A period's ``jury.pool``: its seq, and the summary of the member-set
    tree of the jurors it committed to (their ids are in chunks,
    :data:`POOL_CHUNKS`)."""

    seq: int
    summary: RosterSummary

    @property
    def size(self) -> int:
        return self.summary.size


# --- codecs ----------------------------------------------------------------------


def _encode_notice(n: NoticeRecord | None) -> object:
    if n is None:
        return None
    return [
        n.seq,
        n.text,
        n.amount,
        n.age_band.value,
        n.category,
        format_time(n.objections_until),
        None if n.facts is None else n.facts.to_json(),
        n.summary,
        None if n.redacted is None else [h.hex() for h in n.redacted],
    ]


def _decode_notice(obj: Any) -> NoticeRecord | None:
    if obj is None:
        return None
    seq, text, amount, band, category, until, facts, summary, redacted = obj
    return NoticeRecord(
        seq,
        text,
        amount,
        AgeBand(band),
        category,
        read_time(until, "index"),
        None if facts is None else NoticeFacts.from_json(facts, "index.notice.facts"),
        summary,
        None if redacted is None else tuple(bytes.fromhex(h) for h in redacted),
    )


def _encode_panel(p: PanelRecord) -> object:
    return [
        p.seq,
        p.round,
        p.appeal,
        format_date(p.pool_period),
        p.seed_size,
        p.seed.hex(),
        list(p.jurors),
        format_time(p.votes_until),
        p.sealed,
        p.revealed,
        p.witnessed_size,
    ]


def _decode_panel(obj: Any) -> PanelRecord:
    seq, rnd, appeal, period, seed_size, seed, jurors, until, sealed, revealed, witnessed = obj
    return PanelRecord(
        seq,
        rnd,
        appeal,
        read_date(period, "index"),
        seed_size,
        bytes.fromhex(seed),
        tuple(jurors),
        read_time(until, "index"),
        list(sealed),
        list(revealed),
        witnessed,
    )


def _encode_claim(r: ClaimRecord) -> bytes:
    paid = r.paid
    return dumps(
        [
            r.id,
            r.filed_seq,
            r.filed.to_json(),
            _encode_notice(r.notice),
            r.objections,
            r.objectors,
            r.answers,
            r.appeals,
            [_encode_panel(p) for p in r.panels],
            [
                [d.seq, d.round, d.approvals, d.rejections, d.outcome.value, d.amount]
                for d in r.decisions
            ],
            None if paid is None else [paid.seq, paid.amount, format_date(paid.period)],
            r.withdrawn_seq,
            [[s, t] for s, t in r.entries],
        ]
    )


def _decode_claim(data: bytes) -> ClaimRecord:
    (
        claim,
        filed_seq,
        filed,
        notice,
        objections,
        objectors,
        answers,
        appeals,
        panels,
        decisions,
        paid,
        withdrawn,
        entries,
    ) = loads(data, "index claim")
    body = parse_body(ClaimFiled.TYPE, filed, "index.claim.filed")
    assert isinstance(body, ClaimFiled)
    return ClaimRecord(
        claim,
        filed_seq,
        body,
        _decode_notice(notice),
        list(objections),
        list(objectors),
        list(answers),
        list(appeals),
        [_decode_panel(p) for p in panels],
        [DecisionRecord(s, rnd, a, r, Outcome(o), amt) for s, rnd, a, r, o, amt in decisions],
        None if paid is None else PaidRecord(paid[0], paid[1], read_date(paid[2], "index")),
        withdrawn,
        [(s, t) for s, t in entries],
    )


def _encode_summary(s: RosterSummary) -> object:
    return [
        s.root.hex(),
        s.size,
        s.level,
        list(s.firsts),
        "".join(h.hex() for h in s.chunk_hashes),
        [h.hex() for h in s.tail],
    ]


def _decode_summary(obj: Any) -> RosterSummary:
    root, size, level, firsts, hashes, tail = obj
    packed = bytes.fromhex(hashes)
    return RosterSummary(
        bytes.fromhex(root),
        size,
        level,
        tuple(firsts),
        tuple(packed[i : i + 32] for i in range(0, len(packed), 32)),
        tuple(bytes.fromhex(h) for h in tail),
    )


def _decode_closed(data: bytes) -> tuple[int, PeriodClosed]:
    seq, obj = loads(data, "index closed period")
    body = parse_body(PeriodClosed.TYPE, obj, "index.closed")
    assert isinstance(body, PeriodClosed)
    return seq, body


def _ints(what: str) -> Codec[tuple[int, ...]]:
    return Codec(lambda v: dumps(list(v)), lambda b: tuple(loads(b, what)))


CLAIMS: Kind[ClaimRecord] = Kind(
    "ix.claim", Codec(_encode_claim, _decode_claim), copy=copy.deepcopy
)
"""Each claim's record, by claim id."""


def _encode_span(m: MemberSpan) -> bytes:
    left = "-" if m.left is None else str(int(m.left.timestamp()))
    return f"{m.seq} {int(m.joined.timestamp())} {left}".encode()


def _decode_span(data: bytes) -> MemberSpan:
    try:
        seq, joined, left = data.split()
        return MemberSpan(
            int(seq),
            datetime.fromtimestamp(int(joined), UTC),
            None if left == b"-" else datetime.fromtimestamp(int(left), UTC),
        )
    except ValueError as e:
        raise MalformedError(f"state: a stored index member is not one: {data[:40]!r}") from e


MEMBERS: Kind[MemberSpan] = Kind("ix.member", Codec(_encode_span, _decode_span))
"""Each member who ever joined, by id: when they joined and left.  The one
kind read by the thousand (a roster's chunk), so its bytes are three
numbers, the seq and POSIX seconds (the log's times are whole seconds in
UTC), not JSON."""

MEMBER_CLAIMS: Kind[MemberClaims] = Kind(
    "ix.member_claims",
    Codec(
        lambda m: dumps([list(m.filed), [[c, n] for c, n in m.summoned]]),
        lambda b: (lambda f, s: MemberClaims(tuple(f), tuple((c, n) for c, n in s)))(
            *loads(b, "index member claims")
        ),
    ),
)
"""The claims each member filed and the panels they sat on, by member id."""

LAPSES: Kind[tuple[int, ...]] = Kind("ix.lapses", _ints("index lapses"))
"""The seqs of the entries that ended a member's jury service, by member id."""

QUALIFIED: Kind[tuple[int, ...]] = Kind("ix.qualified", _ints("index qualified"))
"""The seqs of a member's ``juror.qualified`` entries, by member id."""

JURORS: Kind[bool] = Kind("ix.juror", FLAG)
"""The members qualified as jurors and not since removed, as the entries say."""

RULES: Kind[bool] = Kind("ix.rules", FLAG)
"""The seqs (:func:`verifiable.pool.store.seq_key`) of the ``pool.rules`` entries."""

CLOSED: Kind[tuple[int, PeriodClosed]] = Kind(
    "ix.closed",
    Codec(lambda v: dumps([v[0], v[1].to_json()]), _decode_closed),
)
"""Each ``period.closed`` with its seq, by period (``YYYY-MM-DD``)."""

PAID: Kind[tuple[tuple[str, int], ...]] = Kind(
    "ix.paid",
    Codec(
        lambda v: dumps([[c, a] for c, a in v]),
        lambda b: tuple((c, a) for c, a in loads(b, "index paid")),
    ),
)
"""The claims each period paid, in log order, by period."""

ROSTERS: Kind[RosterSummary] = Kind(
    "ix.roster",
    Codec(
        lambda s: dumps(_encode_summary(s)),
        lambda b: _decode_summary(loads(b, "index roster")),
    ),
)
"""Each closed period's roster as the joins and leaves give it, summarized
(:func:`verifiable.pool.roster.roster_summary`), by period."""

POOLS: Kind[PoolRecord] = Kind(
    "ix.pool",
    Codec(
        lambda p: dumps([p.seq, _encode_summary(p.summary)]),
        lambda b: (lambda s, m: PoolRecord(s, _decode_summary(m)))(*loads(b, "index pool")),
    ),
)
"""Each period's ``jury.pool``, by period."""

POOL_CHUNKS: Kind[tuple[str, ...]] = Kind(
    "ix.pool_chunk",
    Codec(lambda v: dumps(list(v)), lambda b: tuple(loads(b, "index pool chunk"))),
)
"""The jurors' ids of each juror pool, a chunk of the summary's level per
record, by ``YYYY-MM-DD:`` and the chunk's number (:func:`seq_key`)."""

COUNTS: Kind[int] = Kind(
    "ix.count",
    Codec(lambda n: str(n).encode(), lambda b: int(b)),
)
"""The public counts that would otherwise need every claim: ``claims``,
each case of :meth:`ClaimRecord.cases` and ``decided:`` each outcome."""


def period_key(period: date) -> str:
    """A period's key: its date, which sorts as the periods do."""
    return format_date(period)
