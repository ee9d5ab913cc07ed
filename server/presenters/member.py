"""A member's money as the dashboard and the period statement show it:
the share formula of a closed period with every input named, one page of
the claims it paid, the chart of what the member has paid, and the next
deduction with its estimate (docs/members.md, "Your money").

Every figure comes from a ``period.closed`` entry (or the claims paid list
the log's index keeps for the period); nothing is recomputed from anything
else, and :attr:`Formula.reproduces` says whether the entry's own inputs
give its share by the rule (docs/rules.md, "Periods").  The words are the
templates'; these are numbers and dates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _

from server import i18n
from server.charts import Point
from server.rosters import Deduction
from verifiable.log.bodies import AgeBand, PeriodClosed
from verifiable.pool.rules import Rules, moment

__all__ = [
    "STATEMENT_PAGE",
    "Formula",
    "NextDeduction",
    "PaidClaim",
    "Statement",
    "next_deduction",
    "over_cap",
    "page_count",
    "share_formula",
    "shares_points",
    "statement",
]

STATEMENT_PAGE = 50
"""Paid claims listed per page of a statement, after its summary."""


@dataclass(frozen=True)
class Formula:
    """How a period's share follows from its inputs, as its entry gives them:

    to share = aid + fee + refunds - surplus carried in;
    share = to share / members sharing, rounded up to the fen (0 if nothing
    is to share), held to the cap per claim if the rules set one;
    surplus carried out = surplus in + share x members - aid - fee - refunds.
    """

    aid: int
    claims: int
    fee: int
    fee_rate_bp: int
    refunds: int
    surplus_in: int
    to_share: int
    sharing: int
    exact_share: int
    """The share before any cap: ``to_share / sharing`` rounded up."""
    share: int
    collected: int
    surplus_out: int

    @property
    def capped(self) -> bool:
        """The share is below the rounded quotient: the cap per claim held it."""
        return self.share < self.exact_share

    @property
    def fee_percent(self) -> str:
        """The fee rate as a percentage without trailing zeros: ``8``, ``0.25``."""
        whole, rest = divmod(self.fee_rate_bp, 100)
        return f"{whole}.{rest:02d}".rstrip("0").rstrip(".")

    @property
    def reproduces(self) -> bool:
        """Whether the entry's inputs give its share, collection and surplus."""
        return (
            self.share <= self.exact_share
            and self.collected == self.share * self.sharing
            and self.surplus_out
            == self.surplus_in + self.collected - self.aid - self.fee - self.refunds
        )


def share_formula(closed: PeriodClosed) -> Formula:
    """The formula of ``closed``'s share, from the entry's own figures."""
    to_share = closed.claims_total + closed.fee + closed.refunds - closed.surplus_in
    exact = 0 if to_share <= 0 or closed.sharing == 0 else -(-to_share // closed.sharing)
    return Formula(
        aid=closed.claims_total,
        claims=closed.claims_count,
        fee=closed.fee,
        fee_rate_bp=closed.fee_rate_bp,
        refunds=closed.refunds,
        surplus_in=closed.surplus_in,
        to_share=to_share,
        sharing=closed.sharing,
        exact_share=exact,
        share=closed.share,
        collected=closed.collected,
        surplus_out=closed.surplus_out,
    )


@dataclass(frozen=True)
class PaidClaim:
    """A claim paid in the period, and the aid it was paid."""

    claim: str
    amount: int


@dataclass(frozen=True)
class Statement:
    """One member's statement of one closed period, with one page of its
    paid claims."""

    period: date
    seq: int
    closed: PeriodClosed
    formula: Formula
    deduction_date: date
    commands: tuple[str, ...]
    claims: tuple[PaidClaim, ...]
    page: int
    pages: int
    first: int
    """The position (from 1) of the page's first claim among the period's."""
    total: int
    """Claims paid in the period, on all pages."""


def page_count(total: int, size: int = STATEMENT_PAGE) -> int:
    """Pages for ``total`` items, at least one (an empty list is one page)."""
    return max(1, -(-total // size))


def statement(
    seq: int,
    closed: PeriodClosed,
    paid: Sequence[tuple[str, int]],
    rules: Rules,
    commands: tuple[str, ...],
    page: int,
) -> Statement:
    """The statement of ``closed`` (entry ``seq``), showing page ``page``
    (from 1, at most :func:`page_count`) of its ``paid`` claims in log
    order; ``rules`` are those in force at the period's moment."""
    pages = page_count(len(paid))
    if not 1 <= page <= pages:
        raise ValueError(f"page {page} of a statement of {pages} pages")
    start = (page - 1) * STATEMENT_PAGE
    shown = tuple(PaidClaim(c, a) for c, a in paid[start : start + STATEMENT_PAGE])
    return Statement(
        period=closed.period,
        seq=seq,
        closed=closed,
        formula=share_formula(closed),
        deduction_date=rules.deduction_date(closed.period),
        commands=commands,
        claims=shown,
        page=page,
        pages=pages,
        first=start + 1,
        total=len(paid),
    )


# --- the dashboard: the chart and the next deduction ---------------------------------

CHART_BARS = 24
"""The most recent periods drawn; the table of deductions lists them all."""


def shares_points(
    deductions: Sequence[Deduction], label: Callable[[date], str], shown: Callable[[int], str]
) -> list[Point]:
    """The chart's points of the last :data:`CHART_BARS` deductions, oldest
    first: each period (``label``) and the share paid in it (``shown``,
    drawn from the fen)."""
    return [Point(label(d.period), d.share, shown(d.share)) for d in deductions[-CHART_BARS:]]


@dataclass(frozen=True)
class NextDeduction:
    """The next period the member shares in, when it is deducted, and an
    estimate of the share: the last closed period's, which is only a guide
    (the next share depends on the aid paid until the period's moment)."""

    period: date
    deduction_date: date
    estimate: int | None
    basis: date | None
    """The closed period whose share is the estimate."""


def next_deduction(
    due: Sequence[date],
    current: date | None,
    rules_at: Callable[[datetime], Rules | None],
    last: PeriodClosed | None,
    joined: datetime,
) -> NextDeduction | None:
    """The first period not yet closed — those ``due`` (moment passed) in
    order, then the ``current`` one — whose roster holds a member who
    joined at ``joined``; ``None`` if there is none (the pool has not
    started)."""
    for period in (*due, *((current,) if current else ())):
        at = moment(period)
        rules = rules_at(at)
        if joined < at and rules is not None:
            return NextDeduction(
                period,
                rules.deduction_date(period),
                last.share if last else None,
                last.period if last else None,
            )
    return None


def over_cap(cap: int | None, band: AgeBand, fen: int) -> str | None:
    """Why a claim of ``fen`` is more than the plan gives ``band`` (whose
    cap is ``cap``, ``None`` for no cover), in the page's language; ``None``
    if it is within."""
    if cap is not None and fen <= cap:
        return None
    if cap is None:
        return str(
            _(
                "The plan gives no cover for your age band (%(band)s).",
                band=i18n.age_band(band.value),
            )
        )
    return str(
        _(
            "The plan gives at most %(amount)s for your age band (%(band)s).",
            amount=i18n.yuan(cap),
            band=i18n.age_band(band.value),
        )
    )
