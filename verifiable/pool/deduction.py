"""``verify-deduction`` and ``verify-claim``: the member's checks, from a bundle.

:func:`check_deduction` proves, from a :class:`~verifiable.log.bundle.Bundle`
and the log's key, what DESIGN §5 asks of a member's deduction:

* ``checkpoint``, ``inclusion``: every entry used is in the signed tree;
* ``rules``: the rulebook from the genesis entry and the rule changes;
* ``period entry``: the period's ``period.closed``;
* ``roster``: the member's leaf in the roster tree (``roster_root``,
  ``roster_size``), RFC 9162 inclusion;
* ``paid claims``: the full list hashes to ``claims_root``, counts
  ``claims_count`` and adds up to ``claims_total``;
* ``surplus``: ``surplus_in`` is the previous period's ``surplus_out`` (or 0
  for the pool's first period), the previous period proven to be the one
  the calendar puts right before;
* ``share``: fee, share, collected and surplus out are exactly
  :func:`verifiable.pool.periods.period_figures` of those figures under the
  rules in force at the period's moment;
* ``sample``: each sampled claim is in the paid list, and its whole history
  passes :func:`verifiable.pool.claim_check.check_claim_history`, its payout
  (``sample payout``) in this period, once, at the listed amount.

"""

from __future__ import annotations

from datetime import date

from verifiable.errors import MutualogError
from verifiable.findings import Finding, Findings
from verifiable.log.bodies import ClaimPaid, PeriodClosed
from verifiable.log.bundle import Bundle
from verifiable.log.entry import Entry
from verifiable.log.fields import format_date
from verifiable.log.note import Verifier
from verifiable.pool.claim_check import ClaimOutcome, check_claim_history
from verifiable.pool.periods import period_figures
from verifiable.pool.proven import ProvenBundle, open_bundle, rulebook_of
from verifiable.pool.roster import paid_claims_root, verify_roster_membership
from verifiable.pool.rules import Rulebook, moment, next_notice

__all__ = ["DeductionResult", "check_deduction"]

# period.closed fields and the check that owns each (claims_* are "paid claims").
_SHARE_FIELDS = (
    ("fee_rate_bp", "share"),
    ("fee", "share"),
    ("sharing", "share"),
    ("share", "share"),
    ("collected", "share"),
    ("surplus_out", "share"),
)


class DeductionResult:
    """The findings, and the period's figures when its entry was found."""

    def __init__(self, findings: list[Finding], closed: PeriodClosed | None) -> None:
        self.findings = findings
        self.closed = closed

    @property
    def ok(self) -> bool:
        return bool(self.findings) and all(f.ok for f in self.findings)


def _period_entry(proven: ProvenBundle, period: date) -> Entry | None:
    found = [
        e
        for e in proven.of_type("period.closed")
        if isinstance(e.body, PeriodClosed) and e.body.period == period
    ]
    return found[0] if len(found) == 1 else None


def _surplus_in(proven: ProvenBundle, book: Rulebook, entry: Entry, f: Findings) -> int | None:
    """The surplus the period must carry in, or ``None`` (finding recorded)."""
    body = entry.body
    assert isinstance(body, PeriodClosed)
    genesis = book.changes[0]
    first = next_notice(genesis.time, genesis.rules)
    if body.period == first:
        f.ok("surplus", f"the pool's first period ({format_date(first)}) carries in 0")
        return 0
    for prev in proven.of_type("period.closed"):
        pb = prev.body
        assert isinstance(pb, PeriodClosed)
        if pb.period >= body.period or prev.seq >= entry.seq:
            continue
        rules = book.in_force(moment(pb.period))
        if rules is not None and next_notice(moment(pb.period), rules) == body.period:
            f.ok(
                "surplus",
                f"previous period {format_date(pb.period)} carried out {pb.surplus_out} fen",
            )
            return pb.surplus_out
    f.fail(
        "surplus",
        "the bundle has no period.closed of the period before this one",
        "the previous period's period.closed",
        "none",
        f"period {format_date(body.period)}",
    )
    return None


def check_deduction(
    bundle: Bundle, verifier: Verifier, origin: str, member: str, period: date
) -> DeductionResult:
    """Every check of a member's deduction for ``period`` (module docstring)."""
    proven, opened = open_bundle(bundle, verifier, origin)
    f = Findings()
    f.extend(opened)
    if proven is None:
        return DeductionResult(f.result(), None)
    d = bundle.deduction
    if d is None or d.member != member or d.period != period:
        f.fail(
            "period entry",
            "the bundle is not for this member and period",
            f"member {member}, period {format_date(period)}",
            "no deduction" if d is None else f"member {d.member}, period {format_date(d.period)}",
            "bundle.deduction",
        )
        return DeductionResult(f.result(), None)
    book = rulebook_of(proven, f)
    entry = _period_entry(proven, period)
    if entry is None:
        f.fail(
            "period entry",
            f"no single period.closed for {format_date(period)} in the bundle",
            "one period.closed entry",
            "none or several",
            f"period {format_date(period)}",
        )
        return DeductionResult(f.result(), None)
    closed = entry.body
    assert isinstance(closed, PeriodClosed)
    f.ok("period entry", f"period.closed at entry {entry.seq}, share {closed.share} fen")
    where = f"period {format_date(period)}, entry {entry.seq}"
    try:
        verify_roster_membership(
            member, d.roster_index, closed.roster_size, list(d.roster_proof), closed.roster_root
        )
        f.ok("roster", f"member {member} is leaf {d.roster_index} of {closed.roster_size}")
    except MutualogError as e:
        f.fail("roster", str(e), closed.roster_root.hex(), "another root", where)
    _paid_list(d.paid, closed, f, where)
    if book is not None:
        _share(proven, book, entry, d.paid, f, where)
        _sample(proven, book, bundle.claims, d.paid, period, f)
    return DeductionResult(f.result(), closed)


def _share(
    proven: ProvenBundle,
    book: Rulebook,
    entry: Entry,
    paid: tuple[tuple[str, int], ...],
    f: Findings,
    where: str,
) -> None:
    """``surplus`` and ``share``: the surplus carried in, and the figures of
    the period's ``period.closed`` (``entry``) as the rules' formula gives them."""
    closed = entry.body
    assert isinstance(closed, PeriodClosed)
    surplus_in = _surplus_in(proven, book, entry, f)
    if surplus_in is not None and surplus_in != closed.surplus_in:
        f.fail(
            "surplus",
            "surplus_in is not the previous surplus_out",
            surplus_in,
            closed.surplus_in,
            where,
        )
    rules = book.in_force(moment(closed.period))
    if rules is None or surplus_in is None:
        return
    try:
        want = period_figures(
            closed.period,
            paid,
            closed.refunds,
            surplus_in,
            closed.roster_root,
            closed.roster_size,
            rules,
        )
    except MutualogError as e:
        # A paid list no honest period has (a claim listed twice):
        # "paid claims" names it; the formula cannot be applied to it.
        f.fail(
            "share",
            f"the rules' formula cannot be applied to the paid list: {e}",
            "a list of distinct paid claims",
            "refused",
            where,
        )
        return
    for name, check in _SHARE_FIELDS:
        if getattr(want, name) != getattr(closed, name):
            f.fail(
                check,
                f"{name} is not the rules' formula of the figures",
                getattr(want, name),
                getattr(closed, name),
                f"{where}, {name}",
            )
    f.ok(
        "share",
        f"{closed.share} fen = ceil(({closed.claims_total} + fee {closed.fee} "
        f"+ refunds {closed.refunds} - surplus {surplus_in}) / "
        f"{closed.roster_size})",
    )


def _paid_list(
    paid: tuple[tuple[str, int], ...], closed: PeriodClosed, f: Findings, where: str
) -> None:
    try:
        root = paid_claims_root(paid)
    except MutualogError as e:
        f.fail("paid claims", str(e), "a list of distinct claims", "", where)
        return
    total = sum(amount for _, amount in paid)
    for label, want, got in (
        ("claims_root", closed.claims_root.hex(), root.hex()),
        ("claims_count", closed.claims_count, len(paid)),
        ("claims_total", closed.claims_total, total),
    ):
        if want != got:
            f.fail(
                "paid claims",
                f"the paid list does not match {label}",
                want,
                got,
                f"{where}, {label}",
            )
            return
    f.ok("paid claims", f"{len(paid)} claims, {total} fen, root {root.hex()}")


def _sample(
    proven: ProvenBundle,
    book: Rulebook,
    claims: tuple[str, ...],
    paid: tuple[tuple[str, int], ...],
    period: date,
    f: Findings,
) -> None:
    listed = dict(paid)
    if not claims:
        f.ok("sample", "no claims sampled" + (" (none paid)" if not paid else ""))
        return
    for claim in claims:
        if claim not in listed:
            f.fail(
                "sample",
                "a sampled claim is not in the period's paid list",
                "a listed claim",
                claim,
                f"claim {claim}",
            )
            continue
        outcome = check_claim_history(proven, book, claim, f)
        _sample_payout(outcome, listed[claim], period, f)
    f.ok("sample", f"{len(claims)} of {len(paid)} claims checked in full")


def _sample_payout(outcome: ClaimOutcome, listed: int, period: date, f: Findings) -> None:
    where = f"claim {outcome.claim}"
    if len(outcome.paid) != 1:
        f.fail("sample payout", "a sampled claim is paid once", 1, len(outcome.paid), where)
        return
    paid = outcome.paid[0]
    body = paid.body
    assert isinstance(body, ClaimPaid)
    if body.period != period or body.amount != listed:
        f.fail(
            "sample payout",
            "the payout is not the one the period lists",
            f"{listed} fen in {format_date(period)}",
            f"{body.amount} fen in {format_date(body.period)}",
            f"{where}, entry {paid.seq}",
        )
        return
    if paid.time >= moment(period):
        f.fail(
            "sample payout",
            "paid after the period's moment",
            f"before {moment(period).isoformat()}",
            paid.time.isoformat(),
            where,
        )
        return
    f.ok("sample payout", f"each sampled claim paid once, in {format_date(period)}")
