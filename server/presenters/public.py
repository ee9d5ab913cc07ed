"""What the public pages show beyond the logged figures: the share per
member first, the charts of ``/pool``, a claim's filing date and objection
window by the clock, and the rulebook in plain words for ``/pool/rules``
(docs/public-pages.md).

Everything here is built from the rulebook's state and the log's index
(:mod:`server.pool_figures`), the time passed in, and the page's language
(:mod:`server.i18n`): no database, no private store.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from babel.lists import format_list
from babel.numbers import format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from server import i18n
from server.charts import Chart, Point, bar_chart, bars_by_kind, line_chart
from server.pool_figures import UNDECIDED, Overview, PeriodRow
from verifiable.log.fields import JSONValue
from verifiable.pool.log_index import ClaimRecord
from verifiable.pool.rules import RuleChange, Rules, moment, next_notice
from verifiable.pool.state import ClaimView, PoolState, Stage

__all__ = [
    "CHART_PERIODS",
    "RULE_WORDS",
    "ChangeRow",
    "ClaimClock",
    "RulesPage",
    "ShareNow",
    "claim_clock",
    "latest_share",
    "percent",
    "pool_charts",
    "rule_words",
    "rules_page",
    "words",
]

#: The periods the charts of ``/pool`` draw, the latest ones: enough for a
#: year of two periods a month, and a page that stays light however old the pool.
CHART_PERIODS = 24


@dataclass(frozen=True)
class ShareNow:
    """The latest closed period's share per member, as ``/pool`` opens with it."""

    period: date
    share: int
    sharing: int
    deducted: date | None  # None only if the period predates every rulebook
    seq: int | None


def latest_share(periods: Sequence[PeriodRow], state: PoolState) -> ShareNow | None:
    """The share of the last closed period, with its deduction day by the
    rules in force at the period's moment; ``None`` before any period closes."""
    if not periods:
        return None
    last = periods[-1]
    closed = last.closed
    rules = state.rules_at(moment(closed.period))
    deducted = rules.deduction_date(closed.period) if rules is not None else None
    return ShareNow(closed.period, closed.share, closed.sharing, deducted, last.seq)


def pool_charts(periods: Sequence[PeriodRow], overview: Overview) -> tuple[Chart, ...]:
    """The three charts of ``/pool``, in the page's language: the share per
    member of each of the last :data:`CHART_PERIODS` periods, the members
    sharing each of them, and the claims by the outcome of their latest
    decision."""
    recent = [row.closed for row in periods[-CHART_PERIODS:]]
    period_heading = _("Period")
    shares = [Point(i18n.date(p.period), p.share, i18n.yuan(p.share)) for p in recent]
    members = [Point(i18n.date(p.period), p.sharing, i18n.number(p.sharing)) for p in recent]
    outcomes = [
        Point(_("not decided yet") if code == UNDECIDED else i18n.outcome(code), n, i18n.number(n))
        for code, n in overview.claims_by_outcome
    ]
    no_period = _("No period has closed yet.")
    return (
        bar_chart(
            "chart-share",
            _("Share per member, each period"),
            shares,
            (period_heading, _("Share per member")),
            no_period,
        ),
        line_chart(
            "chart-members",
            _("Members sharing, each period"),
            members,
            (period_heading, _("Members sharing")),
            no_period,
        ),
        bars_by_kind(
            "chart-outcomes",
            _("Claims by outcome"),
            outcomes if overview.claims else [],
            (_("Outcome"), _("Claims")),
            _("No claim has been filed yet."),
        ),
    )


# --- a claim by the clock -------------------------------------------------------------


@dataclass(frozen=True)
class ClaimClock:
    """A claim's dates and windows at ``now``: when it was filed, the month of
    the diagnosis, and whether members may still object."""

    filed: datetime
    diagnosed: date
    objections_until: datetime | None
    objections_open: bool
    voting_open: bool


def claim_clock(view: ClaimView, record: ClaimRecord, filed: datetime, now: datetime) -> ClaimClock:
    """``filed`` is the time of the ``claim.filed`` entry.  The objection
    window is open while the claim is on notice and ``now`` is not past its
    end (as the member's objection form decides, :mod:`server.presenters.claim`);
    the vote while the claim is voting and ``now`` is not past its end."""
    notice = record.notice
    until = notice.objections_until if notice is not None else None
    open_ = view.stage is Stage.NOTICED and until is not None and now <= until
    voting = view.stage is Stage.VOTING and view.votes_until is not None and now <= view.votes_until
    return ClaimClock(filed, record.filed.diagnosed, until, open_, voting)


# --- the rulebook in plain words -------------------------------------------------------

#: Each rule's name in words, for the history of changes.
RULE_WORDS = {
    "member.join_bands": _l("who may join, by age"),
    "member.waiting_days": _l("the waiting period"),
    "cover.caps": _l("the most aid per claim"),
    "cover.categories": _l("the illnesses covered"),
    "claim.filing_days": _l("the time to file a claim"),
    "claim.objection_days": _l("the time to object"),
    "juror.bands": _l("who may be a juror, by age"),
    "juror.seasoning_days": _l("membership needed to be a juror"),
    "panel.size": _l("the panel's size"),
    "panel.voting_days": _l("the time to vote"),
    "panel.max_rounds": _l("panels drawn before a missed quorum is final"),
    "vote.quorum_bp": _l("the quorum"),
    "vote.threshold_bp": _l("the votes needed to approve"),
    "vote.reason_required": _l("whether a vote gives its reason"),
    "appeal.days": _l("the time to appeal"),
    "period.notice_days": _l("the notice days"),
    "period.deduction_days": _l("the deduction days"),
    "share.fee_rate_bp": _l("the management fee"),
    "share.cap_per_claim_fen": _l("the most a member pays per claim"),
    "override.allowed": _l("what the operator may do by hand"),
}


@dataclass(frozen=True)
class ChangeRow:
    """A ``pool.rules`` entry: when it takes effect, what it changed (rule
    names; none for the first rulebook), and whether it is in force now."""

    change: RuleChange
    changed: tuple[str, ...]
    status: str  # "past", "in_force" or "scheduled"


@dataclass(frozen=True)
class RulesPage:
    """The rules in force now and their log entry, the changes scheduled and
    past, and the next dates of the calendar."""

    rules: Rules
    in_force: RuleChange
    history: tuple[ChangeRow, ...]
    next_notice: date
    next_deduction: date


def rule_words(names: Iterable[str]) -> list[str]:
    """Rule names in words (:data:`RULE_WORDS`); an unknown name as it is."""
    return [str(RULE_WORDS[n]) if n in RULE_WORDS else n for n in names]


def words(items: Iterable[object]) -> str:
    """A list in the page's language: "a, b and c" / "a、b和c"."""
    return format_list([str(i) for i in items], locale=i18n.locale_code())


def percent(bp: int) -> str:
    """Basis points as a percentage in the page's language: 800 → "8%"."""
    return format_percent(Decimal(bp).scaleb(-4), "#,##0.##%", locale=i18n.locale_code())


def _changed(before: dict[str, JSONValue] | None, after: dict[str, JSONValue]) -> tuple[str, ...]:
    if before is None:
        return ()
    return tuple(name for name, value in after.items() if before.get(name) != value)


def rules_page(state: PoolState, now: datetime) -> RulesPage | None:
    """The rules page at ``now``; ``None`` before the pool has a rulebook."""
    changes = state.rule_changes
    rules = state.rules_at(now)
    if not changes or rules is None:
        return None
    in_force = next(c for c in reversed(changes) if c.effective <= now)
    rows: list[ChangeRow] = []
    before: dict[str, JSONValue] | None = None
    for change in changes:
        after = change.rules.to_json()
        status = (
            "in_force" if change is in_force else "scheduled" if change.effective > now else "past"
        )
        rows.append(ChangeRow(change, _changed(before, after), status))
        before = after
    notice = next_notice(now, rules)
    notice_rules = state.rules_at(moment(notice)) or rules
    return RulesPage(
        rules,
        in_force,
        tuple(reversed(rows)),
        notice,
        notice_rules.deduction_date(notice),
    )
