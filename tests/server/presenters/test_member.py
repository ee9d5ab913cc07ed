"""A member's money without a request (server.presenters.member): the next
deduction and its estimate, the chart's points."""

from __future__ import annotations

from datetime import UTC, date, datetime

from server.presenters.member import CHART_BARS, NextDeduction, next_deduction, shares_points
from server.rosters import Deduction
from verifiable.log.bodies import PeriodClosed
from verifiable.pool.rules import DEFAULT_RULES, Rules

LAST = PeriodClosed(
    period=date(2026, 1, 7),
    claims_count=1,
    claims_total=700,
    claims_root=bytes(32),
    fee=56,
    fee_rate_bp=800,
    refunds=0,
    surplus_in=0,
    surplus_out=0,
    sharing=7,
    share=108,
    collected=756,
    roster_root=bytes(32),
    roster_size=7,
)


def _rules(at: datetime) -> Rules | None:
    return DEFAULT_RULES


def test_the_next_deduction_is_the_first_period_the_member_shares_in() -> None:
    early = datetime(2026, 1, 1, tzinfo=UTC)
    due, current = (date(2026, 1, 21),), date(2026, 2, 7)
    assert next_deduction(due, current, _rules, LAST, early) == NextDeduction(
        date(2026, 1, 21), date(2026, 1, 28), 108, date(2026, 1, 7)
    )
    # Joined after the due period's moment: the open period is the next.
    late = datetime(2026, 1, 22, tzinfo=UTC)
    found = next_deduction(due, current, _rules, None, late)
    assert found == NextDeduction(date(2026, 2, 7), date(2026, 2, 14), None, None)
    # A pool not started has no calendar.
    assert next_deduction((), None, _rules, None, early) is None
    assert next_deduction((), current, lambda at: None, None, early) is None


def test_the_chart_shows_the_last_periods_from_the_fen() -> None:
    deductions = [Deduction(date(2024, 1 + n % 12, 7), n * 10, n) for n in range(30)]
    points = shares_points(deductions, date.isoformat, lambda fen: f"{fen} fen")
    assert len(points) == CHART_BARS
    assert [p.value for p in points] == [d.share for d in deductions[-CHART_BARS:]]
    assert points[-1].shown == "290 fen" and points[-1].label == "2024-06-07"
