"""The tamper suite: kinds of operator dishonesty, each made from the honest
demo log by what a dishonest operator (who holds the log key) or a damaged
copy could serve, and each caught by the command the member, juror or
auditor would run, with the right diagnostic; and no false alarm on the
honest demo log.

The honest base is the demo pool (``mutualog-server demo``, 200 founding
members, about 6,600 entries), with one more round of real voting on top: a
juror seals a vote through the server's pool service, gets the server's
receipt, and the operator closes the round (reveals and decision).  The
dishonest logs are built by :mod:`tests.client.tampering`; docs/tamper-suite.md
lists every kind.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from server.app import create_app
from server.config import load_settings
from server.db import make_engine
from server.keys import create_key_file, load_signer
from server.models import AccountRow
from server.pool_app import current_pool
from server.storage import LogStore
from tests.client.conftest import LogInstance, Mutualog, Result, Served, Servers
from tests.client.tampering import (
    HonestLog,
    Item,
    at,
    bundle_site,
    check_jury_pool,
    check_roster,
    decided_outcome,
    find,
    find_all,
    get_bundle,
    panel_of,
    publish,
    rechain,
    reclose,
    refigure,
    rewrite_snapshot,
    snapshot_members,
)
from verifiable.log.bodies import (
    Body,
    Choice,
    ClaimDecided,
    ClaimFiled,
    ClaimNoticed,
    ClaimPaid,
    JuryPool,
    LeaveReason,
    MemberJoined,
    MemberLeft,
    OperatorOverride,
    Outcome,
    PanelDrawn,
    PeriodClosed,
    PoolRules,
    VoteRevealed,
    VoteSealed,
)
from verifiable.log.bundle import Bundle
from verifiable.log.entry import Entry, parse_entry
from verifiable.log.fields import read_shape
from verifiable.log.tiles import decode_bundle, encode_bundle
from verifiable.pool.roster import paid_claims_root, roster_inclusion_proof, roster_root
from verifiable.pool.rules import DEFAULT_RULES, moment
from verifiable.pool.sortition import juror_pool_root

ORIGIN = "localhost/mutualog/demo"  # the demo's origin
REASON = "The discharge summary matches the notice."


class Clock:
    """The pool service's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _server(*argv: str) -> str:
    from server.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    assert code == 0, f"mutualog-server {' '.join(argv)}: exit {code}: {err.getvalue()}"
    return out.getvalue()


@dataclass(frozen=True)
class Demo:
    """The honest demo log, before and after the juror's round was closed."""

    instance: LogInstance
    before_vote: Path  # snapshot with the juror's claim still voting
    snapshot: Path  # snapshot of the final honest log
    receipt: Path  # the juror's receipt, as the server handed it out
    juror: str
    claim: str
    log: HonestLog  # the final honest log


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    folder = tmp_path_factory.mktemp("demo")
    instance = folder / "instance"
    out = _server("--instance", str(instance), "demo", "--members", "200", "--no-serve")
    found = re.search(r"claim ([0-9a-f]{32}) is open for voting", out)
    assert found is not None, out
    claim = found[1]
    signer = load_signer(instance / "log.key")
    log = LogInstance(instance, signer.verifier().to_vkey(), signer.name)
    before = log.snapshot(folder / "before-vote.tar")

    # The demo's juror votes on the open claim through the server's pool
    # service, and the operator closes the round once its window is over.
    engine = make_engine(load_settings({"MUTUALOG_INSTANCE": instance}).database_url)
    app = None
    try:
        with engine.connect() as conn:
            juror = conn.execute(
                select(AccountRow.member_id).where(AccountRow.username == "juror")
            ).scalar_one()
        assert juror is not None
        store = LogStore(engine)
        last = parse_entry(store.entries(store.size() - 1, store.size())[0]).time
        clock = Clock(last + timedelta(minutes=1))
        overrides = {
            "MUTUALOG_INSTANCE": instance,
            "MUTUALOG_CLOCK": clock,
            "MUTUALOG_SECURE_COOKIES": False,
            "TESTING": True,
        }
        app = create_app(overrides)
        with app.app_context():
            pool = current_pool()
            view = pool.state().claim(claim)
            assert view is not None and view.votes_until is not None
            receipt = pool.seal_vote(claim, view.round, juror, Choice.APPROVE, REASON)
            clock.now = view.votes_until + timedelta(minutes=5)
            pool.close_voting(claim)
        entries = store.entries(0, store.size())
    finally:
        if app is not None:
            app.extensions["mutualog"].engine.dispose()
        engine.dispose()
    receipt_file = folder / "receipt.json"
    receipt_file.write_text(json.dumps(receipt.to_json()))
    snapshot = log.snapshot(folder / "honest.tar")
    honest = HonestLog.load(entries, instance / "log.key", signer)
    return Demo(log, before, snapshot, receipt_file, juror, claim, honest)


# --- the dishonest logs ------------------------------------------------------------------

Forge = Callable[[Demo], list[Item]]
ABOVE_ANY_CAP = 30_000_001  # one fen above the largest default cap (¥300,000)


def _put(items: list[Item], index: int, body: Body) -> list[Item]:
    items[index] = Item(items[index].time, body)
    return items


def _insert(items: list[Item], index: int, body: Body) -> list[Item]:
    """``body`` as a new entry at ``index``, at the time of the entry before it."""
    items.insert(index, Item(items[index - 1].time, body))
    return items


def _hash(label: str) -> bytes:
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


def _decision(entries: Sequence[Entry], outcome: Outcome) -> int:
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


def _notice_amount(entries: Sequence[Entry], claim: str) -> int:
    return at(entries, find(entries, ClaimNoticed, lambda b: b.claim == claim), ClaimNoticed).amount


def forged_reveal(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = find(e, VoteRevealed)
    body = at(e, i, VoteRevealed)
    flipped = Choice.REJECT if body.choice is Choice.APPROVE else Choice.APPROVE
    return _put(d.log.items(), i, replace(body, choice=flipped))


def vote_by_non_juror(d: Demo) -> list[Item]:
    e = d.log.decoded
    decision = _decision(e, Outcome.APPROVED)
    panel, sealed, _ = _round_of(e, decision)
    outsider = next(
        j
        for p in find_all(e, PanelDrawn)
        for j in at(e, p, PanelDrawn).jurors
        if j not in panel.jurors
    )
    vote = VoteSealed(panel.claim, panel.round, outsider, _hash("outsider"))
    return _insert(d.log.items(), sealed[0] + 1, vote)


def vote_sealed_twice(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = find(e, VoteSealed)
    return _insert(d.log.items(), i + 1, replace(at(e, i, VoteSealed), commitment=_hash("again")))


def vote_after_window(d: Demo) -> list[Item]:
    e = d.log.decoded
    decision, juror, first_reveal = _absent_juror(e)
    claim = at(e, decision, ClaimDecided)
    vote = VoteSealed(claim.claim, claim.round, juror, _hash("late"))
    items = d.log.items()
    items.insert(first_reveal, Item(items[first_reveal].time, vote))
    return items


def reveal_without_seal(d: Demo) -> list[Item]:
    e = d.log.decoded
    _, juror, first_reveal = _absent_juror(e)
    reveal = replace(at(e, first_reveal, VoteRevealed), juror=juror, salt=_hash("unsealed"))
    return _insert(d.log.items(), first_reveal + 1, reveal)


def tally_miscounted(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = _decision(e, Outcome.APPROVED)
    body = at(e, i, ClaimDecided)
    return _put(d.log.items(), i, replace(body, approvals=body.approvals + 1))


def outcome_not_from_votes(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = _decision(e, Outcome.REJECTED)
    body = at(e, i, ClaimDecided)
    amount = _notice_amount(e, body.claim)
    return _put(d.log.items(), i, replace(body, outcome=Outcome.APPROVED, amount=amount))


def decision_above_cap(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = _decision(e, Outcome.APPROVED)
    return _put(d.log.items(), i, replace(at(e, i, ClaimDecided), amount=ABOVE_ANY_CAP))


def _panel_swapped(d: Demo, i: int) -> list[Item]:
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
    return _put(d.log.items(), i, replace(panel, jurors=jurors))


def panel_not_sortition(d: Demo) -> list[Item]:
    return _panel_swapped(d, find(d.log.decoded, PanelDrawn))


def panel_seed_ground(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = find(e, PanelDrawn)
    return _put(d.log.items(), i, replace(at(e, i, PanelDrawn), seed=_hash("ground")))


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
    return _put(d.log.items(), i, replace(at(e, i, JuryPool), root=juror_pool_root(forged)))


def payout_without_decision(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = _decision(e, Outcome.REJECTED)
    claim = at(e, i, ClaimDecided).claim
    period = at(e, find_all(e, ClaimPaid)[-1], ClaimPaid).period
    paid = ClaimPaid(claim, _notice_amount(e, claim), period)
    return _insert(d.log.items(), i + 1, paid)


def payout_doubled(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = find(e, ClaimPaid)
    return _insert(d.log.items(), i + 1, at(e, i, ClaimPaid))


def payout_above_cap(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = find(e, ClaimPaid)
    return _put(d.log.items(), i, replace(at(e, i, ClaimPaid), amount=ABOVE_ANY_CAP))


def payout_not_as_decided(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = find(e, ClaimPaid, lambda b: b.amount > 1)
    body = at(e, i, ClaimPaid)
    return _put(d.log.items(), i, replace(body, amount=body.amount - 1))


def _period(e: Sequence[Entry]) -> int:
    """A closed period with claims paid, members sharing and a surplus carried in."""
    return find(e, PeriodClosed, lambda b: b.claims_count >= 2 and b.surplus_in > 0)


def _refigured(d: Demo, **changes: object) -> list[Item]:
    e = d.log.decoded
    i = _period(e)
    return _put(d.log.items(), i, refigure(at(e, i, PeriodClosed), **changes))


def fee_inflated(d: Demo) -> list[Item]:
    e = d.log.decoded
    return _refigured(d, fee=at(e, _period(e), PeriodClosed).fee + 10_000)


def share_wrong(d: Demo) -> list[Item]:
    e = d.log.decoded
    return _refigured(d, share=at(e, _period(e), PeriodClosed).share + 1)


def sharing_count_wrong(d: Demo) -> list[Item]:
    e = d.log.decoded
    return _refigured(d, sharing=at(e, _period(e), PeriodClosed).sharing - 1)


def surplus_vanished(d: Demo) -> list[Item]:
    return _refigured(d, surplus_in=0)


def _roster(d: Demo, ids: list[str]) -> list[Item]:
    root, size = roster_root(ids)
    return _refigured(d, roster_root=root, roster_size=size, sharing=size)


def member_left_out(d: Demo) -> list[Item]:
    ids = check_roster(d.log.decoded, _period(d.log.decoded))
    return _roster(d, ids[1:])


def _padded_roster(d: Demo) -> list[str]:
    """The roster of the period the period kinds change, with an invented member."""
    ids = check_roster(d.log.decoded, _period(d.log.decoded))
    return sorted([*ids, _hash("ghost").hex()[:32]])


def member_added(d: Demo) -> list[Item]:
    return _roster(d, _padded_roster(d))


def claims_list_forged(d: Demo) -> list[Item]:
    e = d.log.decoded
    closed = at(e, _period(e), PeriodClosed)
    paid = [
        (b.claim, b.amount)
        for b in (at(e, i, ClaimPaid) for i in find_all(e, ClaimPaid))
        if b.period == closed.period
    ]
    kept = paid[1:]  # a payout hidden from the members' list
    total = sum(a for _, a in kept)
    return _refigured(
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
    i = _period(e)
    return _insert(d.log.items(), i, _fee_change(e[i - 1].time - timedelta(days=1)))


def rules_applied_early(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = _period(e)
    closed = at(e, i, PeriodClosed)
    items = _refigured(d, fee_rate_bp=1_000, fee=closed.claims_total * 1_000 // 10_000)
    return _insert(items, i, _fee_change(e[i].time + timedelta(days=1)))


def refund_unwarranted(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = find(e, MemberLeft, lambda b: b.reason is LeaveReason.VOLUNTARY and b.refund == 0)
    return _put(d.log.items(), i, replace(at(e, i, MemberLeft), refund=5_000))


@dataclass(frozen=True)
class RuleKind:
    """A re-signed log that breaks a rule of the pool: ``audit`` names it."""

    id: str
    forge: Forge
    rule: str


RULE_KINDS = [
    RuleKind("vote-reveal-altered", forged_reveal, "vote.reveal_matches"),
    RuleKind("vote-by-non-juror", vote_by_non_juror, "vote.panel_member"),
    RuleKind("vote-sealed-twice", vote_sealed_twice, "vote.once"),
    RuleKind("vote-after-window", vote_after_window, "vote.window"),
    RuleKind("reveal-without-sealed-vote", reveal_without_seal, "vote.reveal_sealed"),
    RuleKind("tally-miscounted", tally_miscounted, "decision.tally"),
    RuleKind("outcome-not-from-votes", outcome_not_from_votes, "decision.outcome"),
    RuleKind("decision-above-cap", decision_above_cap, "decision.cap"),
    RuleKind("panel-not-the-sortition", panel_not_sortition, "panel.sortition"),
    RuleKind("panel-seed-ground", panel_seed_ground, "panel.seed"),
    RuleKind("jury-pool-root-forged", jury_pool_forged, "jury.root"),
    RuleKind("payout-without-decision", payout_without_decision, "payout.decided"),
    RuleKind("payout-doubled", payout_doubled, "payout.once"),
    RuleKind("payout-above-cap", payout_above_cap, "payout.cap"),
    RuleKind("payout-not-as-decided", payout_not_as_decided, "payout.amount"),
    RuleKind("fee-inflated", fee_inflated, "period.fee"),
    RuleKind("share-wrong", share_wrong, "period.share"),
    RuleKind("sharing-count-wrong", sharing_count_wrong, "period.sharing"),
    RuleKind("surplus-vanished", surplus_vanished, "period.surplus"),
    RuleKind("roster-member-left-out", member_left_out, "period.roster"),
    RuleKind("roster-member-added", member_added, "period.roster"),
    RuleKind("claims-list-forged", claims_list_forged, "period.claims"),
    RuleKind("rule-change-backdated", rules_backdated, "rules.effective_future"),
    RuleKind("rule-change-applied-early", rules_applied_early, "period.fee"),
    RuleKind("refund-unwarranted", refund_unwarranted, "member.refund"),
]


def _forge(demo: Demo, folder: Path, items: list[Item], name: str = "forged") -> LogInstance:
    """The dishonest log in a real instance, signed with the log key."""
    return publish(folder / name, demo.log.key_file, rechain(items), demo.log.signer)


def _report(result: Result) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(result.out)
    return report


@pytest.mark.parametrize("kind", RULE_KINDS, ids=lambda k: k.id)
def test_audit_names_the_rule_a_resigned_log_breaks(
    kind: RuleKind,
    demo: Demo,
    tmp_path: Path,
    mutualog: Mutualog,
    request: pytest.FixtureRequest,
) -> None:
    snapshot = _forge(demo, tmp_path, kind.forge(demo)).snapshot(tmp_path / "forged.tar")
    request.getfixturevalue("offline")
    result = mutualog("audit", snapshot, "--key", demo.instance.vkey, "--json")
    assert result.code == 1, result.err
    report = _report(result)
    # Signed with the log key and well chained: only the rules can tell.
    assert all(c["ok"] for c in report["checks"]), report["checks"]
    assert report["rules"]["status"] == "failed"
    assert re.match(rf"entry \d+: rule {re.escape(kind.rule)}: ", report["rules"]["detail"])


def test_the_human_report_names_the_rule(
    demo: Demo, tmp_path: Path, mutualog: Mutualog, request: pytest.FixtureRequest
) -> None:
    snapshot = _forge(demo, tmp_path, fee_inflated(demo)).snapshot(tmp_path / "forged.tar")
    request.getfixturevalue("offline")
    result = mutualog("audit", snapshot, "--key", demo.instance.vkey)
    assert result.code == 1
    assert re.search(r"^\[FAIL\] rules: entry \d+: rule period\.fee: ", result.out, re.M)
    assert result.out.rstrip().endswith("NOT VERIFIED")


def test_a_broken_chain_under_a_valid_signature(
    demo: Demo, tmp_path: Path, mutualog: Mutualog, request: pytest.FixtureRequest
) -> None:
    """The operator signs a tree whose entries do not chain (one ``prev``
    points elsewhere): the tiles match the checkpoint, the chain does not."""
    entries = list(demo.log.entries)
    broken = demo.log.decoded[100]
    entries[100] = replace(broken, prev=_hash("elsewhere")).to_bytes()
    log = publish(tmp_path / "forged", demo.log.key_file, entries, demo.log.signer)
    snapshot = log.snapshot(tmp_path / "forged.tar")
    request.getfixturevalue("offline")
    report = _report(mutualog("audit", snapshot, "--key", demo.instance.vkey, "--json"))
    assert not report["verified"]
    (failed,) = [c for c in report["checks"] if not c["ok"]]
    assert failed["name"] == "tiles and entries"
    assert "entry 100: prev: chain broken" in failed["detail"]


# --- the juror's receipt -------------------------------------------------------------------


def _juror_round(demo: Demo) -> tuple[int, int, int]:
    """Indices of the juror's sealed vote, its reveal and the round's decision."""
    e = demo.log.decoded
    receipt = json.loads(demo.receipt.read_text())
    sealed = receipt["leaf_index"]
    reveal = find(e, VoteRevealed, lambda b: (b.claim, b.juror) == (demo.claim, demo.juror))
    decision = find_all(e, ClaimDecided, lambda b: b.claim == demo.claim)[-1]
    return sealed, reveal, decision


def sealed_vote_dropped(d: Demo) -> list[Item]:
    sealed, _, _ = _juror_round(d)
    items = d.log.items()
    del items[sealed]
    return items


def reveal_dropped(d: Demo) -> list[Item]:
    """The juror's reveal withheld and the decision made without it, by the
    rules: a vote sealed but not revealed does not count."""
    e = d.log.decoded
    _, reveal, decision = _juror_round(d)
    body = at(e, decision, ClaimDecided)
    panel = panel_of(e, decision)
    approvals = body.approvals - 1  # the juror approved
    outcome, amount = decided_outcome(
        approvals, body.rejections, len(panel.jurors), _notice_amount(e, body.claim)
    )
    items = _put(
        d.log.items(),
        decision,
        replace(body, approvals=approvals, outcome=outcome, amount=amount),
    )
    del items[reveal]
    return items


def reveal_altered(d: Demo) -> list[Item]:
    e = d.log.decoded
    _, reveal, _ = _juror_round(d)
    return _put(d.log.items(), reveal, replace(at(e, reveal, VoteRevealed), choice=Choice.REJECT))


def tally_omits_vote(d: Demo) -> list[Item]:
    e = d.log.decoded
    _, _, decision = _juror_round(d)
    body = at(e, decision, ClaimDecided)
    return _put(d.log.items(), decision, replace(body, approvals=body.approvals - 1))


@dataclass(frozen=True)
class JurorKind:
    id: str
    forge: Forge
    check: str
    detail: str


JUROR_KINDS = [
    JurorKind("sealed-vote-dropped", sealed_vote_dropped, "consistency", "the log forked"),
    JurorKind("reveal-withheld", reveal_dropped, "reveal", "the sealed vote was dropped"),
    JurorKind("juror-reveal-altered", reveal_altered, "reveal", "rule vote.reveal_matches"),
    JurorKind("tally-omits-the-vote", tally_omits_vote, "tally", "reveals give"),
]


@pytest.mark.parametrize("kind", JUROR_KINDS, ids=lambda k: k.id)
def test_verify_receipt_catches_what_was_done_to_a_vote(
    kind: JurorKind,
    demo: Demo,
    tmp_path: Path,
    mutualog: Mutualog,
    request: pytest.FixtureRequest,
) -> None:
    snapshot = _forge(demo, tmp_path, kind.forge(demo)).snapshot(tmp_path / "forged.tar")
    request.getfixturevalue("offline")
    result = mutualog(
        "verify-receipt", demo.receipt, "--key", demo.instance.vkey, "--log", snapshot, "--json"
    )
    assert result.code == 1, result.out + result.err
    checks = {c["name"]: c for c in _report(result)["checks"]}
    assert checks[kind.check]["status"] == "FAIL", checks
    assert kind.detail in checks[kind.check]["detail"]
    # The offline checks of the receipt itself still pass: it is the log that lies.
    for name in ("checkpoint", "sealed entry", "inclusion", "commitment"):
        assert checks[name]["status"] == "ok"


def test_a_withheld_reveal_is_only_visible_to_the_juror(
    demo: Demo, tmp_path: Path, mutualog: Mutualog, request: pytest.FixtureRequest
) -> None:
    """The rules cannot tell a reveal the operator withheld from a juror who
    never revealed: the re-signed log replays cleanly.  The juror's receipt
    is what proves the vote was sealed (see docs/tamper-suite.md)."""
    snapshot = _forge(demo, tmp_path, reveal_dropped(demo)).snapshot(tmp_path / "forged.tar")
    request.getfixturevalue("offline")
    assert mutualog("audit", snapshot, "--key", demo.instance.vkey).code == 0


# --- a member's sync: history rewritten between two syncs -------------------------------------

SYNCED_BEHIND = 300  # the member synced when the log was this many entries shorter


@dataclass(frozen=True)
class Synced:
    """The log as a member first saw it, served by ``mutualog-server serve``."""

    log: LogInstance
    served: Served


@pytest.fixture(scope="module")
def earlier(demo: Demo, servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Synced:
    entries = demo.log.entries[: len(demo.log.entries) - SYNCED_BEHIND]
    folder = tmp_path_factory.mktemp("earlier")
    log = publish(folder / "instance", demo.log.key_file, entries, demo.log.signer)
    return Synced(log, servers.serve(log))


def entry_changed(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = find(e, ClaimNoticed)
    body = at(e, i, ClaimNoticed)
    return _put(d.log.items(), i, replace(body, text=body.text + " (amended)"))


def entry_dropped(d: Demo) -> list[Item]:
    items = d.log.items()
    del items[find(d.log.decoded, VoteSealed)]
    return items


def entries_reordered(d: Demo) -> list[Item]:
    e = d.log.decoded
    i = find(e, VoteSealed)
    items = d.log.items()
    # Two votes swapped, each keeping its slot's time: the order is all that changed.
    items[i], items[i + 1] = Item(e[i].time, e[i + 1].body), Item(e[i + 1].time, e[i].body)
    return items


def entry_inserted(d: Demo) -> list[Item]:
    note = OperatorOverride("note", "rules", "A note the members never saw.", read_shape({}, "d"))
    return _insert(d.log.items(), 100, note)


@dataclass(frozen=True)
class HistoryKind:
    """A log the member's next ``sync`` must refuse: ``kind`` names the
    evidence folder, ``detail`` is part of the failed check's message."""

    id: str
    serve: Callable[[Demo, Path], LogInstance]
    kind: str
    check: str
    detail: str
    resigned: bool = True


def _rewritten(forge: Forge) -> Callable[[Demo, Path], LogInstance]:
    return lambda d, folder: _forge(d, folder, forge(d))


def _shrunk(d: Demo, folder: Path) -> LogInstance:
    entries = d.log.entries[: len(d.log.entries) - SYNCED_BEHIND - 100]
    return publish(folder / "shrunk", d.log.key_file, entries, d.log.signer)


def _other_key(d: Demo, folder: Path) -> LogInstance:
    key = folder / "other.key"
    create_key_file(key, d.log.origin, bytes(32))
    return publish(folder / "other", key, d.log.entries, load_signer(key))


HISTORY_KINDS = [
    HistoryKind("entry-changed", _rewritten(entry_changed), "fork", "consistency", "forked"),
    HistoryKind("entry-dropped", _rewritten(entry_dropped), "fork", "consistency", "forked"),
    HistoryKind(
        "entries-reordered", _rewritten(entries_reordered), "fork", "consistency", "forked"
    ),
    HistoryKind("entry-inserted", _rewritten(entry_inserted), "fork", "consistency", "forked"),
    HistoryKind("log-shrank", _shrunk, "shrank", "consistency", "the log shrank", resigned=False),
    HistoryKind(
        "checkpoint-signed-by-another-key",
        _other_key,
        "bad-checkpoint",
        "signature",
        "no signature by a known key",
        resigned=False,
    ),
]


def _evidence(state: Path) -> dict[str, Any]:
    (folder,) = (state / "logs").iterdir()
    (found,) = (folder / "evidence").iterdir()
    assert (found / "old-checkpoint").is_file() and (found / "new-checkpoint").is_file()
    evidence: dict[str, Any] = json.loads((found / "evidence.json").read_text())
    return evidence


@pytest.mark.parametrize("kind", HISTORY_KINDS, ids=lambda k: k.id)
def test_sync_refuses_a_history_that_changed_since_the_last_sync(
    kind: HistoryKind,
    demo: Demo,
    earlier: Synced,
    servers: Servers,
    tmp_path: Path,
    mutualog: Mutualog,
    state: Path,
    request: pytest.FixtureRequest,
) -> None:
    assert mutualog("trust", ORIGIN, demo.instance.vkey).code == 0
    assert mutualog("sync", earlier.served.url).code == 0
    stored = (next((state / "logs").iterdir()) / "checkpoint").read_bytes()
    lying = kind.serve(demo, tmp_path)
    served = servers.serve(lying)
    try:
        result = mutualog("sync", served.url, "--origin", ORIGIN, "--json")
    finally:
        servers.stop(served)
    assert result.code == 1, result.out + result.err
    report = _report(result)
    failed = report["checks"][-1]
    assert (failed["name"], failed["ok"]) == (kind.check, False)
    assert kind.detail in failed["detail"]
    assert not report["stored"]
    assert (next((state / "logs").iterdir()) / "checkpoint").read_bytes() == stored
    evidence = _evidence(state)
    assert (evidence["kind"], evidence["check"]) == (kind.kind, kind.check)
    if kind.resigned:
        # An auditor who synced before sees the same rewrite in a snapshot.
        snapshot = lying.snapshot(tmp_path / "lying.tar")
        request.getfixturevalue("offline")
        audited = _report(mutualog("audit", snapshot, "--json"))
        checks = {c["name"]: c for c in audited["checks"]}
        assert not checks["consistent with last sync"]["ok"]
        assert "forked" in checks["consistent with last sync"]["detail"]


def test_sync_refuses_tiles_that_do_not_match_the_checkpoint(
    demo: Demo,
    earlier: Synced,
    servers: Servers,
    tmp_path: Path,
    mutualog: Mutualog,
    state: Path,
) -> None:
    """A server (or the CDN in front of it) serving tiles its own checkpoint
    does not sign: the consistency proof cannot be read from them."""
    folder = demo.instance.export(tmp_path / "export")
    (tile,) = (folder / "tile" / "0").glob("*.p/*")
    data = bytearray(tile.read_bytes())
    data[0] ^= 1
    tile.write_bytes(bytes(data))
    mutualog("trust", ORIGIN, demo.instance.vkey)
    assert mutualog("sync", earlier.served.url).code == 0
    served = servers.static(folder)
    try:
        result = mutualog("sync", served.url, "--origin", ORIGIN, "--json")
    finally:
        servers.stop(served)
    assert result.code == 1
    failed = _report(result)["checks"][-1]
    assert failed["name"] == "consistency" and "tiles do not match" in failed["detail"]
    assert _evidence(state)["kind"] == "bad-tiles"


# --- damaged or doctored files: not re-signed -------------------------------------------------

Members = list[tuple[str, bytes]]


def _change(name: str, change: Callable[[bytes], bytes]) -> Callable[[Members], Members]:
    def apply(members: Members) -> Members:
        assert name in dict(members), name
        return [(n, change(data) if n == name else data) for n, data in members]

    return apply


def _change_level_1(change: Callable[[bytes], bytes]) -> Callable[[Members], Members]:
    """The log's one level-1 tile changed (partial or full, as the size gives)."""

    def apply(members: Members) -> Members:
        (name,) = [n for n, _ in members if n.startswith("tile/1/")]
        return _change(name, change)(members)

    return apply


def _flip(offset: int) -> Callable[[bytes], bytes]:
    def flip(data: bytes) -> bytes:
        out = bytearray(data)
        out[offset] ^= 1
        return bytes(out)

    return flip


def _resign_with_another_key(note: bytes) -> bytes:
    from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
    from verifiable.log.note import Ed25519Signer, Note

    checkpoint = Checkpoint.from_text(Note.from_bytes(note).text)
    return sign_checkpoint(checkpoint, Ed25519Signer(checkpoint.origin, bytes(32)))


def _other_size(note: bytes) -> bytes:
    lines = note.split(b"\n")
    lines[1] = str(int(lines[1]) - 1).encode()
    return b"\n".join(lines)


def _drop_last_entry(bundle: bytes) -> bytes:
    entries = decode_bundle(bundle)
    return encode_bundle(entries[:-1])


def _without(name: str) -> Callable[[Members], Members]:
    return lambda members: [(n, d) for n, d in members if n != name]


def _with_extra(members: Members) -> Members:
    return [*members, ("tile/0/999", bytes(32 * 256))]


@dataclass(frozen=True)
class FileKind:
    id: str
    change: Callable[[Members], Members]
    check: str
    detail: str


FILE_KINDS = [
    FileKind(
        "checkpoint-signed-by-another-key",
        _change("checkpoint", _resign_with_another_key),
        "checkpoint",
        "no signature by a known key",
    ),
    FileKind(
        "checkpoint-text-altered",
        _change("checkpoint", _other_size),
        "checkpoint",
        "Ed25519 signature does not verify",
    ),
    FileKind(
        "hash-tile-altered", _change("tile/0/003", _flip(40)), "tiles and entries", "tile/0/003"
    ),
    FileKind(
        "upper-tile-altered",
        _change_level_1(_flip(0)),
        "tiles and entries",
        "tile/1/000",
    ),
    FileKind(
        "bundle-entry-altered",
        _change("tile/entries/003", _flip(100)),
        "tiles and entries",
        "tile/entries/003",
    ),
    FileKind(
        "bundle-entry-dropped",
        _change("tile/entries/004", _drop_last_entry),
        "tiles and entries",
        "tile/entries/004",
    ),
    FileKind("tile-missing", _without("tile/0/005"), "tiles and entries", "tile/0/005: missing"),
    FileKind("extra-file-in-snapshot", _with_extra, "snapshot layout", "'tile/0/999'"),
]


@pytest.mark.parametrize("kind", FILE_KINDS, ids=lambda k: k.id)
def test_audit_catches_a_doctored_snapshot(
    kind: FileKind,
    demo: Demo,
    tmp_path: Path,
    mutualog: Mutualog,
    request: pytest.FixtureRequest,
) -> None:
    doctored = rewrite_snapshot(demo.snapshot, tmp_path / "doctored.tar", kind.change)
    request.getfixturevalue("offline")
    result = mutualog("audit", doctored, "--key", demo.instance.vkey, "--json")
    assert result.code == 1, result.err
    failed = [c for c in _report(result)["checks"] if not c["ok"]]
    assert [c["name"] for c in failed] == [kind.check]
    assert kind.detail in failed[0]["detail"]


def test_audit_of_a_truncated_snapshot_names_what_is_missing(
    demo: Demo, tmp_path: Path, mutualog: Mutualog, request: pytest.FixtureRequest
) -> None:
    """A snapshot cut short is exit 1, not 2: its signed checkpoint names a
    tree the file does not hold, as for a missing tile (docs/client.md).  Cut
    inside a member's data, that member is refused by path; cut between
    members, the first missing one is.  Only a cut inside the first header,
    where not even the checkpoint can be read, is "cannot verify"."""
    data = demo.snapshot.read_bytes()
    request.getfixturevalue("offline")
    names = [n for n, _ in snapshot_members(demo.snapshot)]
    cut_bundle = tmp_path / "cut-in-a-bundle.tar"
    cut_bundle.write_bytes(data[: len(data) - 12_000])
    result = mutualog("audit", cut_bundle, "--key", demo.instance.vkey, "--json")
    assert result.code == 1, result.err
    (failed,) = [c for c in _report(result)["checks"] if not c["ok"]]
    assert failed["name"] == "tiles and entries"
    assert names[-1] in failed["detail"] and "remain" in failed["detail"]

    half = tmp_path / "half.tar"
    half.write_bytes(data[: len(data) // 2])
    result = mutualog("audit", half, "--key", demo.instance.vkey, "--json")
    assert result.code == 1
    (failed,) = [c for c in _report(result)["checks"] if not c["ok"]]
    assert failed["name"] == "tiles and entries" and "missing" in failed["detail"]

    header = tmp_path / "header.tar"
    header.write_bytes(data[:300])
    result = mutualog("audit", header, "--key", demo.instance.vkey)
    assert result.code == 2 and "not a readable snapshot tar" in result.err


def test_audit_from_a_url_catches_an_altered_tile(
    demo: Demo, servers: Servers, tmp_path: Path, mutualog: Mutualog
) -> None:
    """The same check over HTTP: exported tiles, one of them altered, served
    by a plain static web server."""
    folder = demo.instance.export(tmp_path / "export")
    tile = folder / "tile" / "entries" / "002"
    tile.write_bytes(_flip(200)(tile.read_bytes()))
    served = servers.static(folder)
    try:
        result = mutualog("audit", served.url, "--key", demo.instance.vkey, "--json")
    finally:
        servers.stop(served)
    assert result.code == 1
    (failed,) = [c for c in _report(result)["checks"] if not c["ok"]]
    assert failed["name"] == "tiles and entries" and "tile/entries/002" in failed["detail"]


# --- a member's checks: verify-deduction and verify-claim -------------------------------------
#
# A dishonest server serves the bundles of its dishonest log: `mutualog-server
# serve` over the re-signed instance builds them from the forged entries, as
# it does for an honest log.  The member runs `trust`, `fetch` (which syncs)
# and, with every socket refused, `verify-deduction` or `verify-claim`.


@dataclass(frozen=True)
class Told:
    """A dishonest log and whom it lies to: a member in a period, and the
    claim the lie is about (if any)."""

    items: list[Item]
    period: date
    member: str
    claim: str = ""


def _target(e: Sequence[Entry]) -> tuple[int, PeriodClosed]:
    i = _period(e)
    return i, at(e, i, PeriodClosed)


def _told(d: Demo, items: list[Item], *, member: str = "", claim: str = "") -> Told:
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
    ids = check_roster(d.log.decoded, _period(d.log.decoded))
    return _told(d, member_left_out(d), member=ids[0])


def told_claims_total(d: Demo) -> Told:
    e = d.log.decoded
    return _told(d, _refigured(d, claims_total=_target(e)[1].claims_total + 1))


def told_panel(d: Demo) -> Told:
    e = d.log.decoded
    i = _last_in_period(e, PanelDrawn)
    return _told(d, _panel_swapped(d, i), claim=at(e, i, PanelDrawn).claim)


def told_tally(d: Demo) -> Told:
    e = d.log.decoded
    i = _last_in_period(e, ClaimDecided, lambda b: b.outcome is Outcome.APPROVED)
    body = at(e, i, ClaimDecided)
    items = _put(d.log.items(), i, replace(body, approvals=body.approvals + 1))
    return _told(d, items, claim=body.claim)


def told_payout_above_decision(d: Demo) -> Told:
    e = d.log.decoded
    i = _last_in_period(e, ClaimPaid)
    body = at(e, i, ClaimPaid)
    items = _put(d.log.items(), i, replace(body, amount=body.amount + 1))
    return _told(d, reclose(items, body.period), claim=body.claim)


def told_payout_doubled(d: Demo) -> Told:
    e = d.log.decoded
    i = _last_in_period(e, ClaimPaid)
    body = at(e, i, ClaimPaid)
    items = _insert(d.log.items(), i + 1, body)
    return _told(d, reclose(items, body.period), claim=body.claim)


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
    paid = ClaimPaid(claim, _notice_amount(e, claim), period)
    items = d.log.items()
    items.insert(last + 1, Item(e[last].time, paid))
    return _told(d, reclose(items, period), claim=claim)


def _claim_lie(forge: Forge, claim_of: Callable[[Sequence[Entry]], str]) -> Callable[[Demo], Told]:
    """A lie about one claim, told to whoever checks that claim."""
    return lambda d: _told(d, forge(d), claim=claim_of(d.log.decoded))


def _claim_at(index: Callable[[Sequence[Entry]], int]) -> Callable[[Sequence[Entry]], str]:
    """The claim of the entry ``index`` finds: the one the lie is about."""
    return lambda e: str(getattr(e[index(e)].body, "claim", ""))


LIES: dict[str, Callable[[Demo], Told]] = {
    "share": lambda d: _told(d, share_wrong(d)),
    "fee": lambda d: _told(d, fee_inflated(d)),
    "sharing": lambda d: _told(d, sharing_count_wrong(d)),
    "surplus": lambda d: _told(d, surplus_vanished(d)),
    "left-out": told_left_out,
    "added": lambda d: _told(d, member_added(d)),
    "claims-root": lambda d: _told(d, claims_list_forged(d)),
    "claims-total": told_claims_total,
    "panel": told_panel,
    "tally": told_tally,
    "payout-above-decision": told_payout_above_decision,
    "payout-doubled": told_payout_doubled,
    "payout-without-decision": told_payout_without_decision,
    "seed": _claim_lie(panel_seed_ground, _claim_at(lambda e: find(e, PanelDrawn))),
    "reveal": _claim_lie(forged_reveal, _claim_at(lambda e: find(e, VoteRevealed))),
    "non-juror": _claim_lie(vote_by_non_juror, _claim_at(lambda e: _decision(e, Outcome.APPROVED))),
    "outcome": _claim_lie(
        outcome_not_from_votes, _claim_at(lambda e: _decision(e, Outcome.REJECTED))
    ),
    "decision-cap": _claim_lie(
        decision_above_cap, _claim_at(lambda e: _decision(e, Outcome.APPROVED))
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
            self.instances[name] = _forge(self.demo, self.folder, self.lie(name).items, name)
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


@pytest.fixture(scope="module")
def liars(
    demo: Demo, servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Liars]:
    liars = Liars(demo, servers, tmp_path_factory.mktemp("liars"))
    try:
        yield liars
    finally:
        liars.stop()


def _verify_deduction(
    mutualog: Mutualog,
    url: str,
    member: str,
    period: date,
    out: Path,
    request: pytest.FixtureRequest,
    sample: int = 64,
) -> Result:
    """What the member runs: trust, fetch (which syncs), then verify offline."""
    fetched = mutualog(
        "fetch",
        "deduction",
        url,
        "--member",
        member,
        "--period",
        period,
        "--sample",
        sample,
        "-o",
        out,
    )
    assert fetched.code == 0, fetched.out + fetched.err
    request.getfixturevalue("offline")
    return mutualog(
        "verify-deduction", "--member", member, "--period", period, "--bundle", out, "--json"
    )


def _verify_claim(
    mutualog: Mutualog, url: str, claim: str, out: Path, request: pytest.FixtureRequest
) -> Result:
    fetched = mutualog("fetch", "claim", claim, url, "-o", out)
    assert fetched.code == 0, fetched.out + fetched.err
    request.getfixturevalue("offline")
    return mutualog("verify-claim", claim, "--bundle", out, "--json")


@dataclass(frozen=True)
class MemberKind:
    """A lie a member's ``verify-deduction`` (or ``verify-claim``) names."""

    id: str
    lie: str
    check: str
    detail: str


DEDUCTION_KINDS = [
    MemberKind("member-share-wrong", "share", "share", "share is not the rules' formula"),
    MemberKind("member-fee-inflated", "fee", "share", "fee is not the rules' formula"),
    MemberKind(
        "member-sharing-count-wrong", "sharing", "share", "sharing is not the rules' formula"
    ),
    MemberKind(
        "member-surplus-vanished",
        "surplus",
        "surplus",
        "surplus_in is not the previous surplus_out",
    ),
    MemberKind("member-left-out-of-roster", "left-out", "roster", "roster membership of"),
    MemberKind("member-added-to-roster", "added", "roster", "roster membership of"),
    MemberKind(
        "member-paid-list-not-claims-root",
        "claims-root",
        "paid claims",
        "the paid list does not match claims_root",
    ),
    MemberKind(
        "member-paid-list-not-claims-total",
        "claims-total",
        "paid claims",
        "the paid list does not match claims_total",
    ),
    MemberKind("member-sampled-panel-not-the-sortition", "panel", "sortition", "is not the draw"),
    MemberKind(
        "member-sampled-tally-not-the-reveals",
        "tally",
        "decision",
        "the tally is not the count of the revealed votes",
    ),
    MemberKind(
        "member-sampled-payout-above-decision",
        "payout-above-decision",
        "payout",
        "the payout is not the amount decided",
    ),
    MemberKind("member-sampled-payout-doubled", "payout-doubled", "payout", "a second payout"),
    MemberKind(
        "member-sampled-payout-without-decision",
        "payout-without-decision",
        "payout",
        "a payout of a claim not approved",
    ),
]

CLAIM_KINDS = [
    # Lies shared with the deduction kinds come first, in the same order, so
    # each dishonest server is started once.
    MemberKind("claim-panel-not-the-sortition", "panel", "sortition", "is not the draw"),
    MemberKind(
        "claim-tally-not-the-reveals",
        "tally",
        "decision",
        "the tally is not the count of the revealed votes",
    ),
    MemberKind("claim-payout-doubled", "payout-doubled", "payout", "a second payout"),
    MemberKind(
        "claim-payout-without-decision",
        "payout-without-decision",
        "payout",
        "a payout of a claim not approved",
    ),
    MemberKind("claim-seed-ground", "seed", "seed", "is not proven to be the log's root"),
    MemberKind("claim-reveal-altered", "reveal", "votes", "vote.reveal_matches"),
    MemberKind(
        "claim-vote-by-non-juror", "non-juror", "votes", "a vote by a juror not on the panel"
    ),
    MemberKind(
        "claim-outcome-not-from-votes",
        "outcome",
        "decision",
        "the outcome is not what the votes give",
    ),
    MemberKind(
        "claim-decision-above-cap", "decision-cap", "decision", "the amount is not the notice's"
    ),
    MemberKind(
        "claim-payout-above-cap", "payout-cap", "payout", "the payout is not the amount decided"
    ),
]


def _failed(result: Result) -> dict[str, dict[str, Any]]:
    report = _report(result)
    assert report["verified"] is False
    checks = {c["name"]: c for c in report["checks"]}
    # Signed with the log key, proven in the tree the member synced: it is
    # the log that lies, not the proofs.
    for name in ("checkpoint", "synced", "inclusion"):
        assert checks[name]["ok"], checks[name]
    return {name: c for name, c in checks.items() if not c["ok"]}


@pytest.mark.parametrize("kind", DEDUCTION_KINDS, ids=lambda k: k.id)
def test_verify_deduction_catches_a_lie_in_the_served_log(
    kind: MemberKind,
    liars: Liars,
    tmp_path: Path,
    mutualog: Mutualog,
    request: pytest.FixtureRequest,
) -> None:
    told = liars.lie(kind.lie)
    url = liars.url(kind.lie)
    assert mutualog("trust", ORIGIN, liars.demo.instance.vkey).code == 0
    result = _verify_deduction(
        mutualog, url, told.member, told.period, tmp_path / "bundle.json", request
    )
    assert result.code == 1, result.out + result.err
    failed = _failed(result)
    assert kind.check in failed, (kind.check, failed)
    assert kind.detail in failed[kind.check]["detail"], failed[kind.check]
    if told.claim:
        assert told.claim in _report(result)["sample"]
        assert told.claim in failed[kind.check]["where"]


@pytest.mark.parametrize("kind", CLAIM_KINDS, ids=lambda k: k.id)
def test_verify_claim_catches_a_lie_in_the_served_log(
    kind: MemberKind,
    liars: Liars,
    tmp_path: Path,
    mutualog: Mutualog,
    request: pytest.FixtureRequest,
) -> None:
    told = liars.lie(kind.lie)
    url = liars.url(kind.lie)
    assert mutualog("trust", ORIGIN, liars.demo.instance.vkey).code == 0
    result = _verify_claim(mutualog, url, told.claim, tmp_path / "claim.json", request)
    assert result.code == 1, result.out + result.err
    failed = _failed(result)
    assert kind.check in failed, (kind.check, failed)
    assert kind.detail in failed[kind.check]["detail"], failed[kind.check]
    assert told.claim in failed[kind.check]["where"]


# --- a member's checks: bundles doctored after the fact ---------------------------------------
#
# The server answers the bundle routes with a doctored file: a static web
# server over the exported log (checkpoint and tiles) and the file at the
# route's path.  The member fetches with `--sample 0`, so the deduction
# bundle is all that is asked for.


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


@pytest.fixture(scope="module")
def shop(demo: Demo, servers: Servers, earlier: Synced, liars: Liars) -> Iterator[Shop]:
    honest = servers.serve(demo.instance)
    told = _told(demo, [])
    try:
        yield Shop(demo, honest, earlier, liars, told.member, told.period)
    finally:
        servers.stop(honest)


def entry_not_its_proof(s: Shop) -> tuple[LogInstance, Bundle]:
    """The period's entry swapped for one with another share, the honest
    proof kept."""
    e = s.demo.log.decoded
    i = _period(e)
    forged = replace(e[i], body=share_wrong(s.demo)[i].body).to_bytes()
    b = s.honest_bundle()
    entries = tuple(replace(x, data=forged) if x.index == i else x for x in b.entries)
    return s.demo.instance, replace(b, entries=entries)


def from_a_fork(s: Shop) -> tuple[LogInstance, Bundle]:
    """A bundle of a re-signed log of the same size (the fee inflated), next
    to the honest tiles the member synced."""
    return s.demo.instance, get_bundle(s.liars.url("fee"), s.path())


def at_another_size(s: Shop) -> tuple[LogInstance, Bundle]:
    return s.demo.instance, get_bundle(s.earlier.served.url, s.path())


def for_another_member(s: Shop) -> tuple[LogInstance, Bundle]:
    ids = check_roster(s.demo.log.decoded, _period(s.demo.log.decoded))
    other = next(m for m in ids if m != s.member)
    return s.demo.instance, s.honest_bundle(other)


def padded_roster_proven(s: Shop) -> tuple[LogInstance, Bundle]:
    """The roster with an invented member, and the member's proof in that
    padded tree: what a careful operator serves for ``member-added-to-roster``."""
    b = get_bundle(s.liars.url("added"), s.path())
    assert b.deduction is not None
    index, proof = roster_inclusion_proof(_padded_roster(s.demo), s.member)
    deduction = replace(b.deduction, roster_index=index, roster_proof=tuple(proof))
    return s.liars.instance("added"), replace(b, deduction=deduction)


@dataclass(frozen=True)
class DoctoredKind:
    """A doctored deduction bundle; ``code`` is the exit code of ``fetch``
    when it refuses the bundle (2), else of ``verify-deduction``."""

    id: str
    make: Callable[[Shop], tuple[LogInstance, Bundle]]
    code: int
    check: str
    detail: str


DOCTORED_KINDS = [
    DoctoredKind(
        "bundle-entry-not-its-proof",
        entry_not_its_proof,
        1,
        "inclusion",
        "is not proven in the tree of size",
    ),
    DoctoredKind("bundle-from-a-fork", from_a_fork, 1, "synced", "same size and different roots"),
    DoctoredKind("bundle-at-another-size", at_another_size, 2, "", "not the synced size"),
    DoctoredKind(
        "bundle-for-another-member",
        for_another_member,
        1,
        "period entry",
        "the bundle is not for this member and period",
    ),
]


@pytest.mark.parametrize("kind", DOCTORED_KINDS, ids=lambda k: k.id)
def test_verify_deduction_catches_a_doctored_bundle(
    kind: DoctoredKind,
    shop: Shop,
    servers: Servers,
    tmp_path: Path,
    mutualog: Mutualog,
    request: pytest.FixtureRequest,
) -> None:
    log, bundle = kind.make(shop)
    site = bundle_site(
        log.export(tmp_path / "export"), tmp_path / "site", {"api/v1/bundles/deduction": bundle}
    )
    served = servers.static(site)
    try:
        assert mutualog("trust", ORIGIN, shop.demo.instance.vkey).code == 0
        out = tmp_path / "bundle.json"
        args = ("--member", shop.member, "--period", shop.period)
        fetched = mutualog("fetch", "deduction", served.url, *args, "--sample", 0, "-o", out)
    finally:
        servers.stop(served)
    if kind.code == 2:
        assert fetched.code == 2 and kind.detail in fetched.err, fetched.err
        assert not out.exists()
        return
    assert fetched.code == 0, fetched.err
    request.getfixturevalue("offline")
    result = mutualog("verify-deduction", *args, "--bundle", out, "--json")
    assert result.code == 1, result.out + result.err
    failed = {c["name"]: c for c in _report(result)["checks"] if not c["ok"]}
    assert kind.check in failed, failed
    assert kind.detail in failed[kind.check]["detail"]


def test_a_padded_roster_is_left_to_the_auditors(
    shop: Shop,
    servers: Servers,
    tmp_path: Path,
    mutualog: Mutualog,
    request: pytest.FixtureRequest,
) -> None:
    """``member-added-to-roster`` told carefully: the operator proves each
    member in the padded tree it committed to.  The member's own leaf is
    there, and ``roster_size`` is bound to ``sharing`` by the formula, so
    ``verify-deduction`` passes: a member cannot see who else is on the
    roster (docs/threat-model.md).  The padding lowers every share, and the
    audit names it (``period.roster``, in the rule kinds above)."""
    log, bundle = padded_roster_proven(shop)
    site = bundle_site(
        log.export(tmp_path / "export"), tmp_path / "site", {"api/v1/bundles/deduction": bundle}
    )
    served = servers.static(site)
    try:
        assert mutualog("trust", ORIGIN, shop.demo.instance.vkey).code == 0
        out = tmp_path / "bundle.json"
        args = ("--member", shop.member, "--period", shop.period)
        fetched = mutualog("fetch", "deduction", served.url, *args, "--sample", 0, "-o", out)
        assert fetched.code == 0, fetched.err
    finally:
        servers.stop(served)
    request.getfixturevalue("offline")
    result = mutualog("verify-deduction", *args, "--bundle", out, "--json")
    assert result.code == 0, result.out
    report = _report(result)
    checks = {c["name"]: c for c in report["checks"]}
    assert (
        checks["roster"]["ok"]
        and f"of {len(_padded_roster(shop.demo))}" in checks["roster"]["detail"]
    )
    snapshot = log.snapshot(tmp_path / "padded.tar")
    audited = _report(mutualog("audit", snapshot, "--key", shop.demo.instance.vkey, "--json"))
    assert re.match(r"entry \d+: rule period\.roster: ", audited["rules"]["detail"])


# --- no false alarm on the honest demo log ---------------------------------------------------


def test_the_honest_demo_log_audits_clean(
    demo: Demo, mutualog: Mutualog, request: pytest.FixtureRequest
) -> None:
    request.getfixturevalue("offline")
    for snapshot in (demo.before_vote, demo.snapshot):
        result = mutualog("audit", snapshot, "--key", demo.instance.vkey, "--json")
        assert result.code == 0, result.out
        report = _report(result)
        assert report["verified"] and report["rules"]["status"] == "ok"


def test_the_honest_demo_log_syncs_clean(
    demo: Demo, earlier: Synced, servers: Servers, mutualog: Mutualog
) -> None:
    served = servers.serve(demo.instance)
    try:
        assert mutualog("trust", ORIGIN, demo.instance.vkey).code == 0
        first = mutualog("sync", earlier.served.url)
        assert first.code == 0, first.out
        grown = mutualog("sync", served.url)
        assert grown.code == 0, grown.out
        assert (
            f"size {len(demo.log.entries) - SYNCED_BEHIND} -> {len(demo.log.entries)}" in grown.out
        )
        again = mutualog("sync", served.url)
        assert again.code == 0 and "the same tree" in again.out
        audited = mutualog("audit", served.url)  # pinned: also consistent with the sync
        assert audited.code == 0, audited.out
    finally:
        servers.stop(served)


def test_the_honest_juror_receipt_verifies(
    demo: Demo, mutualog: Mutualog, request: pytest.FixtureRequest
) -> None:
    request.getfixturevalue("offline")
    offline = mutualog("verify-receipt", demo.receipt, "--key", demo.instance.vkey)
    assert offline.code == 0, offline.out
    result = mutualog(
        "verify-receipt",
        demo.receipt,
        "--key",
        demo.instance.vkey,
        "--log",
        demo.snapshot,
        "--json",
    )
    assert result.code == 0, result.out
    assert {c["name"]: c["status"] for c in _report(result)["checks"]} == {
        "checkpoint": "ok",
        "sealed entry": "ok",
        "inclusion": "ok",
        "commitment": "ok",
        "log checkpoint": "ok",
        "log entries": "ok",
        "consistency": "ok",
        "reveal": "ok",
        "tally": "ok",
    }


def test_the_honest_demo_log_verifies_for_members_and_claims(
    shop: Shop, tmp_path: Path, mutualog: Mutualog, request: pytest.FixtureRequest
) -> None:
    """What the member kinds run, on the honest log: members at both ends of
    the roster in three periods, every paid claim of each sampled, and one
    claim of each stage a history ends in, all verify."""
    e = shop.demo.log.decoded
    closes = find_all(e, PeriodClosed, lambda b: b.claims_count > 0)
    deductions: list[tuple[str, date]] = []
    for i in sorted({closes[0], _period(e), closes[-1]}):
        ids = check_roster(e, i)
        deductions += [
            (ids[0], at(e, i, PeriodClosed).period),
            (ids[-1], at(e, i, PeriodClosed).period),
        ]
    last: dict[str, str] = {}
    for x in e:
        claim = getattr(x.body, "claim", None)
        if isinstance(claim, str) and x.type.startswith(("claim.", "panel.", "vote.")):
            last[claim] = x.type
    claims = sorted({*{t: c for c, t in last.items()}.values(), shop.demo.claim})
    assert len(claims) >= 4
    assert mutualog("trust", ORIGIN, shop.demo.instance.vkey).code == 0
    for n, (member, period) in enumerate(deductions):
        args = ("--member", member, "--period", period, "--sample", 64, "-o", tmp_path / f"d{n}")
        assert mutualog("fetch", "deduction", shop.honest.url, *args).code == 0
    for claim in claims:
        assert mutualog("fetch", "claim", claim, shop.honest.url, "-o", tmp_path / claim).code == 0
    request.getfixturevalue("offline")
    for n, (member, period) in enumerate(deductions):
        args = ("--member", member, "--period", period, "--bundle", tmp_path / f"d{n}", "--json")
        result = mutualog("verify-deduction", *args)
        assert result.code == 0, [c for c in _report(result)["checks"] if not c["ok"]]
        report = _report(result)
        assert report["sample"], (member, period)
        assert all(c["ok"] for c in report["checks"])
    for claim in claims:
        result = mutualog("verify-claim", claim, "--bundle", tmp_path / claim, "--json")
        assert result.code == 0, [c for c in _report(result)["checks"] if not c["ok"]]


def test_every_kind_is_distinct_and_there_are_enough() -> None:
    ids = [k.id for k in (*RULE_KINDS, *JUROR_KINDS, *HISTORY_KINDS, *FILE_KINDS)]
    ids += ["chain-broken", "snapshot-truncated", "served-tile-altered", "served-tiles-mismatch"]
    ids += [k.id for k in (*DEDUCTION_KINDS, *CLAIM_KINDS, *DOCTORED_KINDS)]
    # One kind (a checkpoint by another key) is caught by both sync and audit.
    assert len(set(ids)) == len(ids) - 1
    assert len(set(ids)) >= 25
