"""The pool's public figures, as the public pages and ``/api/v1/pool`` show them.

Two sources, both the log's:

* the rulebook's state (:class:`verifiable.pool.state.PoolState`, kept by
  :class:`server.pool_service.PoolService`): members, jurors, each claim's
  stage, decision and amount, the closed periods' figures and the running
  money totals — what ``verifiable.pool.replay`` derives;
* the stored log's index (:mod:`server.log_index`): which ``seq`` holds
  each claim's filing, notice, objections, appeals, panels, votes,
  decisions and payout, and each period's ``period.closed``.  The state
  keeps only what the rules need (the current panel, not the earlier
  rounds), so the history of a claim comes from there.

:class:`PublicFigures` joins the two at one log size.  Nothing here reads
the private store: every figure is public and re-derivable from the log.
Money stays integer fen; :func:`yuan` writes it for people.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice

from server.context import current_log
from server.log_index import StoredLogIndex, stored_index
from server.pool_app import current_pool
from verifiable.log.bodies import Outcome, PeriodClosed
from verifiable.log.entry import parse_entry
from verifiable.log.fields import JSONValue, format_date, format_time
from verifiable.pool.log_index import ClaimRecord, DecisionRecord, LogIndex, PanelRecord
from verifiable.pool.periods import Ledger
from verifiable.pool.state import ClaimView, PoolState, Stage

__all__ = [
    "CASES",
    "UNDECIDED",
    "ClaimFigures",
    "Overview",
    "PeriodRow",
    "PublicFigures",
    "claim_cases",
    "current_figures",
    "yuan",
]


#: The kinds of claim :func:`claim_cases` counts from the index.
CASES = (
    "approved",
    "paid",
    "rejected",
    "redrawn",
    "appealed",
    "objected",
    "waiting_period",
    "withdrawn",
)

#: The outcome key of the claims not decided yet (``Overview.claims_by_outcome``).
UNDECIDED = "undecided"


def yuan(fen: int) -> str:
    """``fen`` as yuan for people, exactly: ``¥1,234.05``, ``-¥0.30``."""
    whole, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}¥{whole:,}.{cents:02d}"


def claim_cases(index: LogIndex, state: PoolState) -> dict[str, int]:
    """How many claims of each kind the log shows: ``approved``, ``paid``,
    ``rejected``, ``redrawn`` (a missed quorum, then another panel),
    ``appealed``, ``objected``, ``waiting_period`` (decided ineligible),
    ``withdrawn``, and ``voting`` now (from ``state``)."""
    # The index counts each case as its claims become one
    # (ClaimRecord.cases), so no page walks every claim for them.
    counts = {case: index.count(f"case:{case}") for case in CASES}
    counts = {case: n for case, n in counts.items() if n}
    counts["voting"] = sum(1 for c in state.claims() if c.stage is Stage.VOTING)
    return counts


def _decisions_by_outcome(index: LogIndex) -> dict[str, int]:
    """``claim.decided`` entries by outcome (a claim may have several)."""
    return {outcome.value: index.count(f"decided:{outcome.value}") for outcome in Outcome}


def _claims_by_outcome(views: Iterable[ClaimView]) -> tuple[tuple[str, int], ...]:
    """Claims by their latest decision's outcome, every outcome listed (0
    if none), then :data:`UNDECIDED` for the claims not decided yet."""
    counts = Counter(v.outcome.value if v.outcome else UNDECIDED for v in views)
    return (*((o.value, counts[o.value]) for o in Outcome), (UNDECIDED, counts[UNDECIDED]))


# --- the figures -----------------------------------------------------------------


@dataclass(frozen=True)
class PeriodRow:
    """A closed period: its logged figures and the seq of its entry."""

    seq: int | None
    closed: PeriodClosed

    def to_json(self) -> dict[str, JSONValue]:
        return {"seq": self.seq, **self.closed.to_json()}


@dataclass(frozen=True)
class Overview:
    """The pool at one log size."""

    size: int
    members: int
    members_left: int
    jurors: int
    claims: int
    claims_by_stage: tuple[tuple[str, int], ...]
    decisions_by_outcome: tuple[tuple[str, int], ...]
    claims_by_outcome: tuple[tuple[str, int], ...]
    cases: tuple[tuple[str, int], ...]
    paid_count: int
    paid_total: int
    ledger: Ledger
    periods_closed: int
    current_period: date | None
    last_period: PeriodRow | None

    def to_json(self) -> dict[str, JSONValue]:
        ledger = self.ledger
        return {
            "size": self.size,
            "members": self.members,
            "members_left": self.members_left,
            "jurors": self.jurors,
            "claims": self.claims,
            "claims_by_stage": dict(self.claims_by_stage),
            "decisions_by_outcome": dict(self.decisions_by_outcome),
            "cases": dict(self.cases),
            "paid": {"count": self.paid_count, "total": self.paid_total},
            "ledger": {
                "collected": ledger.collected,
                "aid": ledger.aid,
                "fees": ledger.fees,
                "refunds": ledger.refunds,
                "surplus": ledger.surplus,
            },
            "periods_closed": self.periods_closed,
            "current_period": format_date(self.current_period) if self.current_period else None,
            "last_period": self.last_period.to_json() if self.last_period else None,
        }


@dataclass(frozen=True)
class ClaimFigures:
    """A claim as the rulebook sees it now, with where its entries are."""

    view: ClaimView
    record: ClaimRecord

    @property
    def decision(self) -> DecisionRecord | None:
        return self.record.decisions[-1] if self.record.decisions else None

    @property
    def panel(self) -> PanelRecord | None:
        return self.record.panels[-1] if self.record.panels else None

    def summary_json(self) -> dict[str, JSONValue]:
        view, record = self.view, self.record
        notice, decision, paid = record.notice, self.decision, record.paid
        return {
            "claim": view.id,
            "stage": view.stage.value,
            "category": view.category,
            "age_band": view.band.value,
            "requested": view.requested,
            "noticed": notice.amount if notice else None,
            "round": view.round,
            "appeal": view.appeal,
            "decision": view.outcome.value if view.outcome else None,
            "amount": view.amount,
            "paid": paid.amount if paid else None,
            "paid_period": format_date(paid.period) if paid else None,
            "filed_seq": record.filed_seq,
            "noticed_seq": notice.seq if notice else None,
            "decided_seq": decision.seq if decision else None,
            "paid_seq": paid.seq if paid else None,
        }

    def to_json(self) -> dict[str, JSONValue]:
        record, notice = self.record, self.record.notice
        return {
            **self.summary_json(),
            "documents": record.documents,
            "notice": (
                {
                    "seq": notice.seq,
                    "text": notice.text,
                    "amount": notice.amount,
                    "age_band": notice.age_band.value,
                    "category": notice.category,
                    "objections_until": format_time(notice.objections_until),
                }
                if notice
                else None
            ),
            "objections": list(record.objections),
            "answers": list(record.answers),
            "appeals": list(record.appeals),
            "panels": [
                {
                    "seq": p.seq,
                    "round": p.round,
                    "appeal": p.appeal,
                    "pool_period": format_date(p.pool_period),
                    "seed_size": p.seed_size,
                    "seed": p.seed.hex(),
                    "jurors": list(p.jurors),
                    "votes_until": format_time(p.votes_until),
                    "sealed": list(p.sealed),
                    "revealed": list(p.revealed),
                }
                for p in record.panels
            ],
            "decisions": [
                {
                    "seq": d.seq,
                    "round": d.round,
                    "approvals": d.approvals,
                    "rejections": d.rejections,
                    "outcome": d.outcome.value,
                    "amount": d.amount,
                }
                for d in record.decisions
            ],
            "withdrawn_seq": record.withdrawn_seq,
            "entries": [{"seq": seq, "type": type_} for seq, type_ in record.entries],
        }


class PublicFigures:
    """The public figures of the pool in ``state``, with the log's index
    (``held``) caught up to the state's size."""

    def __init__(self, state: PoolState, held: StoredLogIndex) -> None:
        self.state = state
        self.size = state.size
        held.catch_up(self.size)
        self._held = held

    def periods(self) -> list[PeriodRow]:
        """Every closed period, oldest first."""
        with self._held.lock:
            closed = self._held.index.closed
            return [
                PeriodRow(closed[c.period][0] if c.period in closed else None, c)
                for c in self.state.closed_periods
            ]

    def overview(self) -> Overview:
        state = self.state
        views = list(state.claims())
        stages = Counter(c.stage.value for c in views)
        paid = [c.amount for c in views if c.stage is Stage.PAID]
        periods = self.periods()
        with self._held.lock:
            index = self._held.index
            decisions, cases = _decisions_by_outcome(index), claim_cases(index, state)
        return Overview(
            size=self.size,
            members=state.member_count,
            members_left=len(state.members.gone),
            jurors=state.juror_count,
            claims=len(views),
            claims_by_stage=tuple(sorted(stages.items())),
            decisions_by_outcome=tuple(decisions.items()),
            claims_by_outcome=_claims_by_outcome(views),
            cases=tuple(sorted(cases.items())),
            paid_count=len(paid),
            paid_total=sum(paid),
            ledger=state.ledger,
            periods_closed=len(periods),
            current_period=state.current_period,
            last_period=periods[-1] if periods else None,
        )

    def _figures(self, views: Iterable[ClaimView]) -> list[ClaimFigures]:
        with self._held.lock:
            records = self._held.index.claims
            return [ClaimFigures(v, records[v.id]) for v in views if v.id in records]

    def claim_count(self) -> int:
        return sum(1 for _ in self.state.claims())

    def claims(self, offset: int, limit: int) -> list[ClaimFigures]:
        """Claims ``offset`` to ``offset + limit - 1`` in filing order."""
        return self._figures(islice(self.state.claims(), offset, offset + limit))

    def entry_times(self, seqs: Iterable[int]) -> dict[int, datetime]:
        """The time of each entry in ``seqs`` (e.g. the claims' filings, for
        the dates the pages show): one read of each entry, not of the log."""
        store = current_log().store
        times = {}
        for seq in set(seqs):
            data = store.entry(seq) if seq < self.size else None
            if data is not None:
                times[seq] = parse_entry(data, seq=seq).time
        return times

    def last_decided_claim(self) -> str | None:
        """A recent decided claim, for an example command: the last one paid
        in the latest period that paid any (a read per closed period, not a
        walk of every claim); failing that, the last claim decided."""
        with self._held.lock:
            paid = self._held.index.paid
            for row in reversed(self.periods()):
                found = paid.get(row.closed.period)
                if found:
                    return found[-1][0]
        decided = [v.id for v in self.state.claims() if v.outcome is not None]
        return decided[-1] if decided else None

    def claim(self, claim_id: str) -> ClaimFigures | None:
        view = self.state.claim(claim_id)
        if view is None:
            return None
        found = self._figures([view])
        return found[0] if found else None


def current_figures() -> PublicFigures:
    """The public figures of the application handling this request, at the
    size of its latest checkpoint."""
    return PublicFigures(current_pool().state(), stored_index(current_log().engine))
