"""Re-signed logs that break a rule of the pool, made from the honest demo log.

Each *forge* takes the :class:`~tests.client.tamper.honest.Demo` and returns
the items of a dishonest log (:class:`~tests.client.tampering.Item`), with
every figure a cheater would also fix recomputed.  The rule kinds
(``test_rule_kinds.py``) audit them; the member kinds (:mod:`.lies`) serve
them to a member.  The small helpers here (:func:`put`, :func:`insert`,
:func:`period_index`, :func:`refigured` ...) are shared by every kind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from tests.client.tamper.honest import Demo
from tests.client.tampering import (
    Item,
    at,
    check_jury_pool,
    check_roster,
    find,
    find_all,
    panel_of,
    refigure,
)
from verifiable.log.bodies import (
    AgeBand,
    Body,
    Choice,
    ClaimDecided,
    ClaimFiled,
    ClaimNoticed,
    ClaimObjected,
    ClaimPaid,
    JuryPool,
    LeaveReason,
    MemberJoined,
    MemberLeft,
    Outcome,
    PanelDrawn,
    PeriodClosed,
    PoolRules,
    VerifierPublished,
    VoteRevealed,
    VoteSealed,
)
from verifiable.log.entry import Entry
from verifiable.log.fields import read_shape
from verifiable.pool.roster import paid_claims_root, roster_root
from verifiable.pool.rules import DEFAULT_RULES
from verifiable.pool.sortition import juror_pool_root
from verifiable.pool.verifier_page import EMPTY_SHA256

Forge = Callable[[Demo], list[Item]]
ABOVE_ANY_CAP = 30_000_001  # one fen above the largest default cap (¥300,000)


def put(items: list[Item], index: int, body: Body) -> list[Item]:
    items[index] = Item(items[index].time, body)
    return items


def insert(items: list[Item], index: int, body: Body) -> list[Item]:
    """``body`` as a new entry at ``index``, at the time of the entry before it."""
    items.insert(index, Item(items[index - 1].time, body))
    return items


def label_hash(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def _round_of(entries: Sequence[Entry], decision: int) -> tuple[PanelDrawn, list[int], list[int]]:
    """The panel of a decided round, and the indices of its sealed and revealed votes."""
    d = at(entries, decision, ClaimDecided)
    panel = panel_of(entries, decision)

    def mine(b: VoteSealed | VoteRevealed) -> bool:
        return (b.claim, b.round) == (d.claim, d.round)

    sealed = find_all(entries[:decision], VoteSealed, mine)
    revealed = find_all(entries[:decision], VoteRevealed, mine)
    return panel, sealed, revealed


def decision_index(entries: Sequence[Entry], outcome: Outcome) -> int:
    return find(entries, ClaimDecided, lambda b: b.outcome is outcome and b.round >= 1)


def _absent_juror(entries: Sequence[Entry]) -> tuple[int, str, int]:
    """A decided round with a juror who sealed no vote: the decision's index,
    the juror, and the index of the round's first reveal."""
    for decision in find_all(entries, ClaimDecided, lambda b: b.round >= 1):
        panel, sealed, revealed = _round_of(entries, decision)
        voted = {at(entries, i, VoteSealed).juror for i in sealed}
        absent = [j for j in panel.jurors if j not in voted]
        if absent and revealed:
            return decision, absent[0], revealed[0]
    raise AssertionError("the honest log has no round a juror missed")


def notice_amount(entries: Sequence[Entry], claim: str) -> int:
    return at(entries, find(entries, ClaimNoticed, lambda b: b.claim == claim), ClaimNoticed).amount


def forged_reveal(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = find(e, VoteRevealed)
    body = at(e, i, VoteRevealed)
    flipped = Choice.REJECT if body.choice is Choice.APPROVE else Choice.APPROVE
    return put(d.log.items(), i, replace(body, choice=flipped))


def vote_by_non_juror(d: Demo) -> list[Item]:
    e = d.log.decoded
    decision = decision_index(e, Outcome.APPROVED)
    panel, sealed, _ = _round_of(e, decision)
    outsider = next(
        j
        for p in find_all(e, PanelDrawn)
        for j in at(e, p, PanelDrawn).jurors
        if j not in panel.jurors
    )
    vote = VoteSealed(panel.claim, panel.round, outsider, label_hash("outsider"))
    return insert(d.log.items(), sealed[0] + 1, vote)


def vote_sealed_twice(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = find(e, VoteSealed)
    return insert(
        d.log.items(), i + 1, replace(at(e, i, VoteSealed), commitment=label_hash("again"))
    )


def vote_after_window(d: Demo) -> list[Item]:
    e = d.log.decoded
    decision, juror, first_reveal = _absent_juror(e)
    claim = at(e, decision, ClaimDecided)
    vote = VoteSealed(claim.claim, claim.round, juror, label_hash("late"))
    items = d.log.items()
    items.insert(first_reveal, Item(items[first_reveal].time, vote))
    return items


def reveal_without_seal(d: Demo) -> list[Item]:
    e = d.log.decoded
    _, juror, first_reveal = _absent_juror(e)
    reveal = replace(at(e, first_reveal, VoteRevealed), juror=juror, salt=label_hash("unsealed"))
    return insert(d.log.items(), first_reveal + 1, reveal)


def tally_miscounted(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = decision_index(e, Outcome.APPROVED)
    body = at(e, i, ClaimDecided)
    return put(d.log.items(), i, replace(body, approvals=body.approvals + 1))


def outcome_not_from_votes(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = decision_index(e, Outcome.REJECTED)
    body = at(e, i, ClaimDecided)
    amount = notice_amount(e, body.claim)
    return put(d.log.items(), i, replace(body, outcome=Outcome.APPROVED, amount=amount))


def decision_above_cap(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = decision_index(e, Outcome.APPROVED)
    return put(d.log.items(), i, replace(at(e, i, ClaimDecided), amount=ABOVE_ANY_CAP))


def panel_swapped(d: Demo, i: int) -> list[Item]:
    """The panel at ``i`` with one juror replaced by another of the pool: one
    who sealed no vote in its round if there is one, so the votes still
    follow the rules and only the draw is wrong."""
    e = d.log.decoded
    panel = at(e, i, PanelDrawn)
    pool = find(e, JuryPool, lambda b: b.period == panel.pool_period)
    claimant = at(e, find(e, ClaimFiled, lambda b: b.claim == panel.claim), ClaimFiled).member
    voted = {
        at(e, k, VoteSealed).juror
        for k in find_all(e, VoteSealed, lambda b: (b.claim, b.round) == (panel.claim, panel.round))
    }
    out = next((j for j in reversed(panel.jurors) if j not in voted), panel.jurors[-1])
    other = next(j for j in check_jury_pool(e, pool) if j not in panel.jurors and j != claimant)
    jurors = tuple(other if j == out else j for j in panel.jurors)
    return put(d.log.items(), i, replace(panel, jurors=jurors))


def panel_not_sortition(d: Demo) -> list[Item]:
    return panel_swapped(d, find(d.log.decoded, PanelDrawn))


def panel_seed_ground(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = find(e, PanelDrawn)
    return put(d.log.items(), i, replace(at(e, i, PanelDrawn), seed=label_hash("ground")))


def jury_pool_forged(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = find_all(e, JuryPool)[1]
    ids = check_jury_pool(e, i)
    stranger = next(
        m
        for m in (at(e, j, MemberJoined).member for j in find_all(e, MemberJoined))
        if m not in ids
    )
    forged = sorted([*ids[1:], stranger])
    return put(d.log.items(), i, replace(at(e, i, JuryPool), root=juror_pool_root(forged)))


def payout_without_decision(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = decision_index(e, Outcome.REJECTED)
    claim = at(e, i, ClaimDecided).claim
    period = at(e, find_all(e, ClaimPaid)[-1], ClaimPaid).period
    paid = ClaimPaid(claim, notice_amount(e, claim), period)
    return insert(d.log.items(), i + 1, paid)


def payout_doubled(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = find(e, ClaimPaid)
    return insert(d.log.items(), i + 1, at(e, i, ClaimPaid))


def payout_above_cap(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = find(e, ClaimPaid)
    return put(d.log.items(), i, replace(at(e, i, ClaimPaid), amount=ABOVE_ANY_CAP))


def payout_not_as_decided(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = find(e, ClaimPaid, lambda b: b.amount > 1)
    body = at(e, i, ClaimPaid)
    return put(d.log.items(), i, replace(body, amount=body.amount - 1))


def period_index(e: Sequence[Entry]) -> int:
    """A closed period with claims paid, members sharing and a surplus carried in."""
    return find(e, PeriodClosed, lambda b: b.claims_count >= 2 and b.surplus_in > 0)


def refigured(d: Demo, **changes: object) -> list[Item]:
    e = d.log.decoded
    i = period_index(e)
    return put(d.log.items(), i, refigure(at(e, i, PeriodClosed), **changes))


def fee_inflated(d: Demo) -> list[Item]:
    e = d.log.decoded
    return refigured(d, fee=at(e, period_index(e), PeriodClosed).fee + 10_000)


def share_wrong(d: Demo) -> list[Item]:
    e = d.log.decoded
    return refigured(d, share=at(e, period_index(e), PeriodClosed).share + 1)


def sharing_count_wrong(d: Demo) -> list[Item]:
    e = d.log.decoded
    return refigured(d, sharing=at(e, period_index(e), PeriodClosed).sharing - 1)


def surplus_vanished(d: Demo) -> list[Item]:
    return refigured(d, surplus_in=0)


def _roster(d: Demo, ids: list[str]) -> list[Item]:
    root, size = roster_root(ids)
    return refigured(d, roster_root=root, roster_size=size, sharing=size)


def member_left_out(d: Demo) -> list[Item]:
    ids = check_roster(d.log.decoded, period_index(d.log.decoded))
    return _roster(d, ids[1:])


def padded_roster(d: Demo) -> list[str]:
    """The roster of the period the period kinds change, with an invented member."""
    ids = check_roster(d.log.decoded, period_index(d.log.decoded))
    return sorted([*ids, label_hash("ghost").hex()[:32]])


def member_added(d: Demo) -> list[Item]:
    return _roster(d, padded_roster(d))


def claims_list_forged(d: Demo) -> list[Item]:
    e = d.log.decoded
    closed = at(e, period_index(e), PeriodClosed)
    paid = [
        (b.claim, b.amount)
        for b in (at(e, i, ClaimPaid) for i in find_all(e, ClaimPaid))
        if b.period == closed.period
    ]
    kept = paid[1:]  # a payout hidden from the members' list
    total = sum(a for _, a in kept)
    return refigured(
        d,
        claims_count=len(kept),
        claims_total=total,
        claims_root=paid_claims_root(kept),
        fee=DEFAULT_RULES.fee(total),
    )


def _fee_change(effective: datetime) -> PoolRules:
    return PoolRules(
        effective=effective,
        rules=read_shape({"share.fee_rate_bp": 1_000}, "rules"),
        reason="The management fee rises to 10%.",
    )


def rules_backdated(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = period_index(e)
    return insert(d.log.items(), i, _fee_change(e[i - 1].time - timedelta(days=1)))


def rules_applied_early(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = period_index(e)
    closed = at(e, i, PeriodClosed)
    items = refigured(d, fee_rate_bp=1_000, fee=closed.claims_total * 1_000 // 10_000)
    return insert(items, i, _fee_change(e[i].time + timedelta(days=1)))


def refund_unwarranted(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = find(e, MemberLeft, lambda b: b.reason is LeaveReason.VOLUNTARY and b.refund == 0)
    return put(d.log.items(), i, replace(at(e, i, MemberLeft), refund=5_000))


def claim_band_younger(d: Demo) -> list[Item]:
    """A filing that names a band younger than the one its claimant joined
    in, where a younger band has the higher cap (0-17 against 40-59)."""
    e = d.log.decoded
    bands = {b.member: b.age_band for b in (x.body for x in e) if isinstance(b, MemberJoined)}
    i = find(e, ClaimFiled, lambda b: bands[b.member] is AgeBand.FROM_40_TO_59)
    return put(d.log.items(), i, replace(at(e, i, ClaimFiled), age_band=AgeBand.UNDER_18))


def objection_repeated(d: Demo) -> list[Item]:
    """A second objection by the same member to the same claim, at once,
    where the rulebook allows one (the demo's names the limit)."""
    e = d.log.decoded
    i = find(e, ClaimObjected)
    again = replace(at(e, i, ClaimObjected), text="The same objection, worded another way.")
    return insert(d.log.items(), i + 1, again)


def verifier_hash_of_nothing(d: Demo) -> list[Item]:
    """The page's published hash replaced by the SHA-256 of no bytes: a
    publication that holds the page to nothing a member could be served."""
    e = d.log.decoded
    i = find(e, VerifierPublished)
    return put(d.log.items(), i, replace(at(e, i, VerifierPublished), sha256=EMPTY_SHA256))


def verifier_hash_republished(d: Demo) -> list[Item]:
    """The page's hash published a second time, unchanged."""
    e = d.log.decoded
    i = find(e, VerifierPublished)
    return insert(d.log.items(), i + 1, at(e, i, VerifierPublished))
