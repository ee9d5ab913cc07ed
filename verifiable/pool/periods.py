"""Periods: the calendar, each period's accounts, and the money identity.

A period is named by its notice date (by default the 7th or the 21st of a
month); its *moment* is 00:00 UTC on that date.  Everything that happens
after the previous period's moment and before this one's — aid paid
(``claim.paid``) and refunds (``member.left``) — is shared in this period.
At the moment, the roster of sharing members is fixed: every member who
joined before it and had not left.  The ``period.closed`` entry, appended at
or after the moment, must carry exactly the figures :func:`period_figures`
gives (docs/rules.md, "Periods"):

    fee         = floor(aid * fee_rate_bp / 10,000)
    need        = aid + fee + refunds - surplus_in
    share       = 0 if need <= 0 or nobody shares, else ceil(need / sharing),
                  at most claims_count * cap_per_claim when a cap is set
    collected   = share * sharing
    surplus_out = surplus_in + collected - aid - fee - refunds

so money is conserved to the fen in every period, and over the life of the
pool: everything collected = aid + fees + refunds + the surplus carried
(negative: a deficit carried).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from verifiable.errors import RuleViolation
from verifiable.log.bodies import PeriodClosed
from verifiable.log.fields import format_date
from verifiable.pool.roster import paid_claims_root
from verifiable.pool.rules import Rules, moment, next_notice
from verifiable.pool.store import Kind, StoredMap, WriteBuffer
from verifiable.pool.store_codecs import closed_codec

__all__ = [
    "CLOSED",
    "Ledger",
    "PeriodBook",
    "PeriodFigures",
    "Periods",
    "check_conservation",
    "period_figures",
]


@dataclass(frozen=True)
class PeriodFigures:
    """Every figure of a ``period.closed`` entry, as the rules give them."""

    period: date
    claims_count: int
    claims_total: int
    claims_root: bytes
    fee: int
    fee_rate_bp: int
    refunds: int
    surplus_in: int
    surplus_out: int
    sharing: int
    share: int
    collected: int
    roster_root: bytes
    roster_size: int

    def to_body(self) -> PeriodClosed:
        """The ``period.closed`` body carrying these figures."""
        return PeriodClosed(
            period=self.period,
            claims_count=self.claims_count,
            claims_total=self.claims_total,
            claims_root=self.claims_root,
            fee=self.fee,
            fee_rate_bp=self.fee_rate_bp,
            refunds=self.refunds,
            surplus_in=self.surplus_in,
            surplus_out=self.surplus_out,
            sharing=self.sharing,
            share=self.share,
            collected=self.collected,
            roster_root=self.roster_root,
            roster_size=self.roster_size,
        )


def period_figures(
    period: date,
    paid: Sequence[tuple[str, int]],
    refunds: int,
    surplus_in: int,
    roster_root: bytes,
    roster_size: int,
    rules: Rules,
) -> PeriodFigures:
    """The figures of ``period`` from its paid claims (in log order), the
    refunds made in it, the surplus carried in, its roster and its rules."""
    aid = sum(amount for _, amount in paid)
    fee = rules.fee(aid)
    need = aid + fee + refunds - surplus_in
    share = 0 if need <= 0 or roster_size == 0 else -(-need // roster_size)
    share = rules.capped_share(share, len(paid))
    collected = share * roster_size
    return PeriodFigures(
        period=period,
        claims_count=len(paid),
        claims_total=aid,
        claims_root=paid_claims_root(paid),
        fee=fee,
        fee_rate_bp=rules.fee_rate_bp,
        refunds=refunds,
        surplus_in=surplus_in,
        surplus_out=surplus_in + collected - aid - fee - refunds,
        sharing=roster_size,
        share=share,
        collected=collected,
        roster_root=roster_root,
        roster_size=roster_size,
    )


@dataclass(frozen=True)
class Ledger:
    """Running totals over every closed period, in fen."""

    collected: int = 0
    aid: int = 0
    fees: int = 0
    refunds: int = 0
    surplus: int = 0

    def add(self, closed: PeriodClosed) -> Ledger:
        """The totals after ``closed``."""
        return Ledger(
            collected=self.collected + closed.collected,
            aid=self.aid + closed.claims_total,
            fees=self.fees + closed.fee,
            refunds=self.refunds + closed.refunds,
            surplus=closed.surplus_out,
        )


def check_conservation(ledger: Ledger, seq: int | None = None) -> None:
    """Money is conserved to the fen: collected = aid + fees + refunds + surplus.

    Raises ``RuleViolation("money.conserved")`` otherwise.
    """
    spent = ledger.aid + ledger.fees + ledger.refunds + ledger.surplus
    if ledger.collected != spent:
        raise RuleViolation(
            "money.conserved",
            f"collected {ledger.collected} fen but aid {ledger.aid} + fees {ledger.fees} + "
            f"refunds {ledger.refunds} + surplus {ledger.surplus} make {spent}",
            seq=seq,
            expected=spent,
            actual=ledger.collected,
        )


@dataclass(slots=True)
class PeriodBook:
    """A period not yet closed: what it has to share so far, and from its
    moment on, its roster and its rules."""

    period: date
    moment: datetime
    paid: list[tuple[str, int]] = field(default_factory=list)
    refunds: int = 0
    roster_root: bytes | None = None
    roster_size: int = 0
    rules: Rules | None = None


_FIELD_RULES = (
    ("claims_count", "period.claims"),
    ("claims_total", "period.claims"),
    ("claims_root", "period.claims"),
    ("fee_rate_bp", "period.fee"),
    ("fee", "period.fee"),
    ("refunds", "period.refunds"),
    ("surplus_in", "period.surplus"),
    ("roster_size", "period.roster"),
    ("roster_root", "period.roster"),
    ("sharing", "period.sharing"),
    ("share", "period.share"),
    ("collected", "period.collected"),
    ("surplus_out", "period.surplus"),
)


def _shown(value: object) -> object:
    return value.hex() if isinstance(value, bytes) else value


CLOSED: Kind[tuple[PeriodClosed, datetime]] = Kind("closed", closed_codec())
"""Every closed period by its date (``YYYY-MM-DD`` sorts as the dates do):
its ``period.closed`` body and its moment."""


class Periods:
    """The calendar and the accounts of every period not yet closed.

    ``open`` is the period now accumulating (the one the current time falls
    in); ``due`` are the periods whose moment has passed, oldest first,
    waiting for their ``period.closed``.  The closed periods are records of
    the state's store.
    """

    __slots__ = ("_closed", "due", "ledger", "open")

    def __init__(self, genesis: datetime, rules: Rules, buffer: WriteBuffer) -> None:
        first = next_notice(genesis, rules)
        self.open = PeriodBook(first, moment(first))
        self.due: deque[PeriodBook] = deque()
        self.ledger = Ledger()
        self._closed = StoredMap(buffer, CLOSED)

    @property
    def closed(self) -> list[PeriodClosed]:
        """Every ``period.closed`` so far, oldest first."""
        return [body for body, _ in self._closed.values()]

    @property
    def closed_count(self) -> int:
        """How many periods have closed."""
        return len(self._closed)

    @property
    def current(self) -> date:
        """The period the current time falls in: aid paid now is shared in it."""
        return self.open.period

    def cross(
        self,
        time: datetime,
        rules_at: Callable[[datetime], Rules],
        roster: Callable[[], tuple[bytes, int]],
    ) -> int:
        """Pass every moment at or before ``time``: fix each such period's
        roster and rules and start the next.  Returns how many were passed,
        for :meth:`uncross`."""
        crossed = 0
        while time >= self.open.moment:
            book = self.open
            book.rules = rules_at(book.moment)
            book.roster_root, book.roster_size = roster()
            self.due.append(book)
            nxt = next_notice(book.moment, book.rules)
            self.open = PeriodBook(nxt, moment(nxt))
            crossed += 1
        return crossed

    def uncross(self, crossed: int) -> None:
        """Undo the last :meth:`cross` that passed ``crossed`` moments."""
        for _ in range(crossed):
            book = self.due.pop()
            book.rules = None
            book.roster_root = None
            book.roster_size = 0
            self.open = book

    def add_paid(self, claim: str, amount: int) -> None:
        """Aid paid now, to be shared in the current period."""
        self.open.paid.append((claim, amount))

    def add_refund(self, amount: int) -> None:
        """A refund made now, shared in the current period."""
        self.open.refunds += amount

    def shares_since(self, joined: datetime) -> int:
        """The shares charged to a member who joined at ``joined``: the shares of
        every closed period whose moment is after ``joined``."""
        return sum(body.share for body, at in self._closed.values() if at > joined)

    def figures(self, book: PeriodBook) -> PeriodFigures:
        """What the ``period.closed`` of a due period must carry."""
        assert book.rules is not None and book.roster_root is not None
        return period_figures(
            book.period,
            book.paid,
            book.refunds,
            self.ledger.surplus,
            book.roster_root,
            book.roster_size,
            book.rules,
        )

    def check_close(self, seq: int, body: PeriodClosed) -> PeriodBook:
        """Check a ``period.closed`` entry; return the book it closes."""
        if not self.due:
            raise RuleViolation(
                "period.too_early",
                f"period {format_date(body.period)} cannot close before 00:00 UTC on its "
                "notice day, when its roster is fixed",
                seq=seq,
                expected=f"a due period (next: {format_date(self.open.period)} from "
                f"{self.open.moment.isoformat()})",
                actual=format_date(body.period),
            )
        book = self.due[0]
        if body.period != book.period:
            raise RuleViolation(
                "period.order",
                "periods close one after another, the oldest first",
                seq=seq,
                expected=format_date(book.period),
                actual=format_date(body.period),
            )
        want = self.figures(book)
        for name, rule in _FIELD_RULES:
            expected, actual = getattr(want, name), getattr(body, name)
            if expected != actual:
                raise RuleViolation(
                    rule,
                    f"period {format_date(book.period)}: {name} is not what the rules give",
                    seq=seq,
                    expected=_shown(expected),
                    actual=_shown(actual),
                )
        check_conservation(self.ledger.add(body), seq)
        return book

    def commit_close(self, body: PeriodClosed) -> None:
        """Record a ``period.closed`` entry that :meth:`check_close` accepted."""
        book = self.due.popleft()
        self._closed.put(format_date(book.period), (body, book.moment))
        self.ledger = self.ledger.add(body)
