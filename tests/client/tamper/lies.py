"""The lies a dishonest server tells a member, and the servers that tell them.

A :class:`Told` is a dishonest log and whom it lies to (a member in a
period, and the claim the lie is about); :data:`LIES` names each one.
:class:`Liars` serves each lie with ``mutualog-server serve`` over its
re-signed instance; :class:`Shop` holds what a bundle doctored after the
fact is made from.  The member kinds (``test_member_kinds.py``) and the
doctored bundles (``test_doctored_bundles.py``) use them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from tests.client.harness import LogInstance, Served, Servers
from tests.client.tamper.forgeries import (
    Forge,
    claims_list_forged,
    decision_above_cap,
    decision_index,
    fee_inflated,
    forged_reveal,
    insert,
    member_added,
    member_left_out,
    notice_amount,
    outcome_not_from_votes,
    panel_seed_ground,
    panel_swapped,
    payout_above_cap,
    period_index,
    put,
    refigured,
    share_wrong,
    sharing_count_wrong,
    surplus_vanished,
    vote_by_non_juror,
)
from tests.client.tamper.honest import Demo, Synced, forge_instance
from tests.client.tampering import Item, at, check_roster, find, find_all, get_bundle, reclose
from verifiable.log.bodies import (
    Body,
    ClaimDecided,
    ClaimPaid,
    Outcome,
    PanelDrawn,
    PeriodClosed,
    VoteRevealed,
)
from verifiable.log.bundle import Bundle
from verifiable.log.entry import Entry
from verifiable.pool.rules import moment


@dataclass(frozen=True)
class Told:
    """A dishonest log and whom it lies to: a member in a period, and the
    claim the lie is about (if any)."""

    items: list[Item]
    period: date
    member: str
    claim: str = ""


def _target(e: Sequence[Entry]) -> tuple[int, PeriodClosed]:
    i = period_index(e)
    return i, at(e, i, PeriodClosed)


def tell(d: Demo, items: list[Item], *, member: str = "", claim: str = "") -> Told:
    """The lie told to a member in the period the period-level kinds change."""
    e = d.log.decoded
    i, closed = _target(e)
    if not member:
        ids = check_roster(e, i)
        member = ids[len(ids) // 2]
    return Told(items, closed.period, member, claim)


def _paid_in(e: Sequence[Entry], period: date) -> set[str]:
    return {at(e, i, ClaimPaid).claim for i in find_all(e, ClaimPaid, lambda b: b.period == period)}


def _last_in_period(
    e: Sequence[Entry], kind: type[Body], where: Callable[[Any], bool] = lambda b: True
) -> int:
    """The last entry of ``kind`` about a claim paid in the target period.
    Every such claim's panels were drawn before it, so changing it leaves
    their seeds (roots at sizes before it) as they were: the lie is the
    only thing the member's sample finds."""
    paid = _paid_in(e, _target(e)[1].period)
    return max(find_all(e, kind, lambda b: getattr(b, "claim", None) in paid and where(b)))


def told_left_out(d: Demo) -> Told:
    ids = check_roster(d.log.decoded, period_index(d.log.decoded))
    return tell(d, member_left_out(d), member=ids[0])


def told_claims_total(d: Demo) -> Told:
    e = d.log.decoded
    return tell(d, refigured(d, claims_total=_target(e)[1].claims_total + 1))


def told_panel(d: Demo) -> Told:
    e = d.log.decoded
    i = _last_in_period(e, PanelDrawn)
    return tell(d, panel_swapped(d, i), claim=at(e, i, PanelDrawn).claim)


def told_tally(d: Demo) -> Told:
    e = d.log.decoded
    i = _last_in_period(e, ClaimDecided, lambda b: b.outcome is Outcome.APPROVED)
    body = at(e, i, ClaimDecided)
    items = put(d.log.items(), i, replace(body, approvals=body.approvals + 1))
    return tell(d, items, claim=body.claim)


def told_payout_above_decision(d: Demo) -> Told:
    e = d.log.decoded
    i = _last_in_period(e, ClaimPaid)
    body = at(e, i, ClaimPaid)
    items = put(d.log.items(), i, replace(body, amount=body.amount + 1))
    return tell(d, reclose(items, body.period), claim=body.claim)


def told_payout_doubled(d: Demo) -> Told:
    e = d.log.decoded
    i = _last_in_period(e, ClaimPaid)
    body = at(e, i, ClaimPaid)
    items = insert(d.log.items(), i + 1, body)
    return tell(d, reclose(items, body.period), claim=body.claim)


def told_payout_without_decision(d: Demo) -> Told:
    """A claim rejected for good, paid in the target period just before its
    moment and listed among its payouts."""
    e = d.log.decoded
    period = _target(e)[1].period
    when = moment(period)

    def ends_rejected(i: int) -> bool:
        b = at(e, i, ClaimDecided)
        last = max(find_all(e, Body, lambda x: getattr(x, "claim", None) == b.claim))
        return b.outcome is Outcome.REJECTED and last == i and e[i].time < when

    rejected = [i for i in find_all(e, ClaimDecided) if ends_rejected(i)]
    claim = at(e, rejected[-1], ClaimDecided).claim
    last = max(i for i, x in enumerate(e) if x.time < when)
    paid = ClaimPaid(claim, notice_amount(e, claim), period)
    items = d.log.items()
    items.insert(last + 1, Item(e[last].time, paid))
    return tell(d, reclose(items, period), claim=claim)


def _claim_lie(forge: Forge, claim_of: Callable[[Sequence[Entry]], str]) -> Callable[[Demo], Told]:
    """A lie about one claim, told to whoever checks that claim."""
    return lambda d: tell(d, forge(d), claim=claim_of(d.log.decoded))


def _claim_at(index: Callable[[Sequence[Entry]], int]) -> Callable[[Sequence[Entry]], str]:
    """The claim of the entry ``index`` finds: the one the lie is about."""
    return lambda e: str(getattr(e[index(e)].body, "claim", ""))


LIES: dict[str, Callable[[Demo], Told]] = {
    "share": lambda d: tell(d, share_wrong(d)),
    "fee": lambda d: tell(d, fee_inflated(d)),
    "sharing": lambda d: tell(d, sharing_count_wrong(d)),
    "surplus": lambda d: tell(d, surplus_vanished(d)),
    "left-out": told_left_out,
    "added": lambda d: tell(d, member_added(d)),
    "claims-root": lambda d: tell(d, claims_list_forged(d)),
    "claims-total": told_claims_total,
    "panel": told_panel,
    "tally": told_tally,
    "payout-above-decision": told_payout_above_decision,
    "payout-doubled": told_payout_doubled,
    "payout-without-decision": told_payout_without_decision,
    "seed": _claim_lie(panel_seed_ground, _claim_at(lambda e: find(e, PanelDrawn))),
    "reveal": _claim_lie(forged_reveal, _claim_at(lambda e: find(e, VoteRevealed))),
    "non-juror": _claim_lie(
        vote_by_non_juror, _claim_at(lambda e: decision_index(e, Outcome.APPROVED))
    ),
    "outcome": _claim_lie(
        outcome_not_from_votes, _claim_at(lambda e: decision_index(e, Outcome.REJECTED))
    ),
    "decision-cap": _claim_lie(
        decision_above_cap, _claim_at(lambda e: decision_index(e, Outcome.APPROVED))
    ),
    "payout-cap": _claim_lie(payout_above_cap, _claim_at(lambda e: find(e, ClaimPaid))),
}


class Liars:
    """The dishonest servers: one ``mutualog-server serve`` over each lie's
    re-signed instance, started when first asked for; the one before is
    stopped then, so kinds of one lie should be adjacent."""

    def __init__(self, demo: Demo, servers: Servers, folder: Path) -> None:
        self.demo = demo
        self.servers = servers
        self.folder = folder
        self.told: dict[str, Told] = {}
        self.instances: dict[str, LogInstance] = {}
        self.running: tuple[str, Served] | None = None

    def lie(self, name: str) -> Told:
        if name not in self.told:
            self.told[name] = LIES[name](self.demo)
        return self.told[name]

    def instance(self, name: str) -> LogInstance:
        """The lie's re-signed log in a ``mutualog-server`` instance."""
        if name not in self.instances:
            self.instances[name] = forge_instance(
                self.demo, self.folder, self.lie(name).items, name
            )
        return self.instances[name]

    def url(self, name: str) -> str:
        """The URL of ``mutualog-server serve`` over the lie's instance."""
        if self.running is not None and self.running[0] == name:
            return self.running[1].url
        self.stop()
        self.running = (name, self.servers.serve(self.instance(name)))
        return self.running[1].url

    def stop(self) -> None:
        if self.running is not None:
            self.servers.stop(self.running[1])
            self.running = None


@dataclass(frozen=True)
class Shop:
    """What a doctored bundle is made from: the honest log served, the log
    as a member synced it earlier, and the dishonest servers."""

    demo: Demo
    honest: Served
    earlier: Synced
    liars: Liars
    member: str
    period: date

    def path(self, member: str = "") -> str:
        return f"api/v1/bundles/deduction?member={member or self.member}&period={self.period}"

    def honest_bundle(self, member: str = "") -> Bundle:
        return get_bundle(self.honest.url, self.path(member))
