"""A deterministic generator of honest pool histories, for tests, benchmarks
and demos.

:class:`Simulation` plays an honest operator running a pool for a number of
days — members joining and leaving, jurors qualifying, a juror pool each
period, claims filed, noticed, objected to and answered, panels drawn by
sortition from the right seed, votes sealed and revealed, decisions, missed
quorums redrawn, appeals, waiting-period claims refunded, payouts, period
closes with their figures, overrides and rule changes — and yields the
canonical bytes of every entry.

It keeps its own books (:mod:`verifiable.testonly.books`; it uses neither
:class:`verifiable.pool.state.PoolState` nor the claim state machine of
:mod:`verifiable.pool.claim_machine`), so a replay of its output is a check
of one implementation of the rules against another.  What the rules say —
windows, panel sizes, quorum, threshold, caps, fee — it reads through the
accessors of :class:`~verifiable.pool.rules.Rules`, as the rulebook does, so
the two can differ only in what they do with the rules.

Randomness comes only from the ``rng`` argument (anything with ``randrange``
and ``getrandbits``, such as ``random.Random(seed)``), so the same seed and
configuration always give the same bytes; this module does not import
:mod:`random`.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from functools import partial

from verifiable.errors import MalformedError, RuleViolation
from verifiable.log.bodies import (
    Body,
    Choice,
    ClaimAnswered,
    ClaimAppealed,
    ClaimDecided,
    ClaimFiled,
    ClaimNoticed,
    ClaimObjected,
    ClaimPaid,
    JurorQualified,
    JurorRemoved,
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
from verifiable.log.cosignature import CosignatureSigner
from verifiable.log.entry import FORMAT_VERSION, GENESIS_PREV, Entry
from verifiable.log.fields import read_shape
from verifiable.log.merkle import CompactTree, leaf_hash
from verifiable.pool.roster import paid_claims_root, roster_root
from verifiable.pool.rules import Rules, moment, next_notice
from verifiable.pool.sortition import draw_panel, juror_pool_root, witnessed_seed
from verifiable.pool.votes import vote_commitment
from verifiable.testonly.books import (
    VOTE_REASONS,
    AmendHook,
    Bag,
    EvidenceHook,
    Rng,
    SimClaim,
    SimConfig,
    SimMember,
    SimPeriod,
    VoteOpening,
)
from verifiable.testonly.witnesses import cosigned_seed_checkpoint

__all__ = ["EvidenceHook", "Rng", "SimConfig", "Simulation", "VoteOpening", "simulate"]

_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)


class Simulation:
    """One simulated pool.  Iterate :meth:`run` for the entries' bytes;
    :attr:`stats` counts what happened (entry types and claim outcomes).

    ``evidence``, if given, supplies the evidence commitments of each claim
    filed (a demo stores real documents whose salted commitments these
    are); without it they are random.  Either way the same ``rng`` draws
    are made, so the hook changes the commitments and nothing else.
    ``amend``, if given, may replace each body before it is appended.

    ``witnesses`` hold the keys of the rules' ``draw.witnesses``: when the
    rules want K, each panel is seeded by the checkpoint of log ``origin``
    at the draw, cosigned by K of them (:mod:`verifiable.testonly.witnesses`).
    """

    def __init__(
        self,
        rng: Rng,
        config: SimConfig | None = None,
        *,
        evidence: EvidenceHook | None = None,
        amend: AmendHook | None = None,
        witnesses: Sequence[CosignatureSigner] = (),
        origin: str = "mutualog.example/simulation",
    ) -> None:
        self.rng = rng
        self.cfg = config or SimConfig()
        self._evidence, self._amend = evidence, amend
        self._witnesses = tuple(witnesses)
        self._origin = origin
        self.stats: Counter[str] = Counter()
        self._seq = 0
        self._prev = GENESIS_PREV
        self._tree = CompactTree()
        self._out: list[bytes] = []
        self._now = self.cfg.start
        self._actions: list[tuple[datetime, int, Callable[[datetime], None]]] = []
        self._counter = 0
        self._schedule: list[tuple[datetime, Rules]] = []
        self._members: dict[str, SimMember] = {}
        self._active = Bag()
        self._jurors = Bag()
        self._pool: tuple[date, list[str]] | None = None
        self._lapsed: set[str] = set()
        self._claims: dict[str, SimClaim] = {}
        self._deadlines: list[tuple[datetime, int, str]] = []
        self._armed: list[str] = []
        self._open: SimPeriod | None = None
        self._due: list[SimPeriod] = []
        self._moments: list[datetime] = []
        self._shares: list[int] = []
        self._surplus = 0

    # -- the event loop -------------------------------------------------

    def run(self) -> Iterator[bytes]:
        """Yield every entry of the history, in order."""
        cfg = self.cfg
        end = cfg.start + timedelta(days=cfg.days)
        self._genesis(cfg.start)
        yield from self._drain()
        while self._actions:
            when, _, action = heapq.heappop(self._actions)
            if when >= end or (cfg.max_entries is not None and self._seq >= cfg.max_entries):
                break
            self._now = when
            self._advance(when)
            action(when)
            yield from self._drain()

    def _drain(self) -> Iterator[bytes]:
        out = self._out
        limit = self.cfg.max_entries
        if limit is not None and self._seq > limit:
            del out[len(out) - (self._seq - limit) :]
        self._out = []
        yield from out

    def _at(self, when: datetime, action: Callable[[datetime], None]) -> None:
        self._counter += 1
        heapq.heappush(self._actions, (max(when, self._now), self._counter, action))

    def _count(self, per_day_hundredths: int) -> int:
        whole, part = divmod(per_day_hundredths, 100)
        return whole + (1 if self.rng.randrange(100) < part else 0)

    def _pct(self, pct: int) -> bool:
        return self.rng.randrange(100) < pct

    def _id(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def _hash(self) -> bytes:
        return self.rng.getrandbits(256).to_bytes(32, "big")

    def _secs(self, low: int, high: int) -> timedelta:
        return timedelta(seconds=self.rng.randrange(low, high))

    # -- emitting -------------------------------------------------------

    def _emit(self, when: datetime, body: Body) -> int:
        self._advance(when)
        self._fix_seeds(when)
        body = body if self._amend is None else self._amend(when, body)
        seq = self._seq
        data = Entry(FORMAT_VERSION, seq, self._prev, when, body.TYPE, body).to_bytes()
        leaf = leaf_hash(data)
        self._tree.append(leaf)
        self._prev = leaf
        self._seq = seq + 1
        self._out.append(data)
        self.stats[body.TYPE] += 1
        return seq

    def _fix_seeds(self, when: datetime) -> None:
        due = self._armed
        self._armed = []
        while self._deadlines and self._deadlines[0][0] <= when:
            due.append(heapq.heappop(self._deadlines)[2])
        if not due:
            return
        root = self._tree.root()
        for claim_id in due:
            claim = self._claims[claim_id]
            if claim.stage in ("noticed", "redraw", "appealed") and claim.seed_size is None:
                claim.seed_size = self._seq
                claim.seed = root

    def sealed_votes(self, claim_id: str) -> dict[str, VoteOpening]:
        """The openings of the votes sealed in the current round of
        ``claim_id``, by juror (empty for an unknown claim): what a server
        keeps privately until the reveal."""
        claim = self._claims.get(claim_id)
        return dict(claim.sealed) if claim is not None else {}

    def rules_at(self, when: datetime) -> Rules:
        """The simulated pool's rules at ``when``."""
        rules = self._schedule[0][1]
        for effective, r in self._schedule:
            if effective <= when:
                rules = r
        return rules

    # -- the calendar ---------------------------------------------------

    def _advance(self, when: datetime) -> None:
        book = self._open
        while book is not None and when >= book.moment:
            book.rules = self.rules_at(book.moment)
            book.roster = roster_root(sorted(self._members_active()))
            self._due.append(book)
            nxt = next_notice(book.moment, book.rules)
            book = self._open = SimPeriod(nxt, moment(nxt))

    def _members_active(self) -> Iterator[str]:
        return iter(self._active._ids)

    def _calendar(self, when: datetime) -> None:
        # Runs a minute after each moment: the juror pool, then the closes.
        ids = sorted(self._jurors._ids)
        assert self._open is not None
        period = self._open.period
        self._emit(when, JuryPool(period=period, root=juror_pool_root(ids), size=len(ids)))
        self._pool = (period, ids)
        self._lapsed = set()
        for book in self._due:
            self._close(when, book)
        self._due = []
        self._at(self._open.moment + timedelta(minutes=1), self._calendar)

    def _close(self, when: datetime, book: SimPeriod) -> None:
        rules = book.rules
        assert rules is not None
        aid = sum(a for _, a in book.paid)
        fee = rules.fee(aid)
        root, sharing = book.roster
        need = aid + fee + book.refunds - self._surplus
        share = 0 if need <= 0 or sharing == 0 else (need + sharing - 1) // sharing
        share = rules.capped_share(share, len(book.paid))
        collected = share * sharing
        surplus_out = self._surplus + collected - aid - fee - book.refunds
        body = PeriodClosed(
            period=book.period,
            claims_count=len(book.paid),
            claims_total=aid,
            claims_root=paid_claims_root(book.paid),
            fee=fee,
            fee_rate_bp=rules.fee_rate_bp,
            refunds=book.refunds,
            surplus_in=self._surplus,
            surplus_out=surplus_out,
            sharing=sharing,
            share=share,
            collected=collected,
            roster_root=root,
            roster_size=sharing,
        )
        self._emit(when, body)
        self._surplus = surplus_out
        self._moments.append(book.moment)
        self._shares.append(share)

    def _past_shares(self, joined: datetime) -> int:
        return sum(s for m, s in zip(self._moments, self._shares, strict=True) if m > joined)

    # -- genesis and daily life -----------------------------------------

    def _genesis(self, when: datetime) -> None:
        cfg = self.cfg
        shape = read_shape(dict(cfg.rules), "rules")
        body = PoolRules(effective=when, rules=shape, reason="The pool's rulebook.")
        rules = Rules.from_json(body.rules)
        self._schedule.append((when, rules))
        self._emit(when, body)
        first = next_notice(when, rules)
        self._open = SimPeriod(first, moment(first))
        # A second apart while the founders fit before the first notice; a
        # larger pool (a million members) puts several in one second, as
        # entries' times may be equal, so that its juror pool is still
        # committed in the period it is for.
        room = max(1, int((self._open.moment - when).total_seconds()) - 60)
        per_second = -(-(cfg.initial_members + cfg.initial_jurors) // room)
        t = when
        for n in range(cfg.initial_members):
            t += timedelta(seconds=1) if n % per_second == 0 else timedelta(0)
            self._join(t)
        # The founding jurors are seasoned by fiat: the genesis rules are
        # expected to allow it (juror.seasoning_days 0), else they wait.
        for n in range(cfg.initial_jurors):
            t += timedelta(seconds=1) if n % per_second == 0 else timedelta(0)
            self._qualify_one(t)
        ids = sorted(self._jurors._ids)
        self._emit(t, JuryPool(period=first, root=juror_pool_root(ids), size=len(ids)))
        self._pool = (first, ids)
        self._now = t  # everything after the founding members and jurors
        self._at(self._open.moment + timedelta(minutes=1), self._calendar)
        self._at(t + _HOUR, self._day)
        for day, change in cfg.rule_changes:
            effective = cfg.start + timedelta(days=day, seconds=30)
            change_at = partial(self._change, change=change, effective=effective)
            self._at(effective - 5 * _DAY, change_at)

    def _change(self, when: datetime, change: Mapping[str, object], effective: datetime) -> None:
        shape = read_shape(dict(change), "rules")
        body = PoolRules(effective=effective, rules=shape, reason="A scheduled change.")
        rules = Rules.from_json(body.rules, base=self._schedule[-1][1])
        self._emit(when, body)
        self._schedule.append((effective, rules))

    def _day(self, when: datetime) -> None:
        cfg = self.cfg
        self._at(when + _DAY, self._day)
        for _ in range(self._count(cfg.joins_per_day)):
            self._at(when + self._secs(0, 86_000), self._join)
        for _ in range(self._count(cfg.leaves_per_day)):
            self._at(when + self._secs(0, 86_000), self._leave_one)
        for _ in range(self._count(cfg.jurors_per_day)):
            self._at(when + self._secs(0, 86_000), self._qualify_one)
        for _ in range(self._count(cfg.juror_removals_per_day)):
            self._at(when + self._secs(0, 86_000), self._remove_one)
        for _ in range(self._count(cfg.claims_per_day)):
            self._at(when + self._secs(0, 86_000), self._file)
        for _ in range(self._count(cfg.notes_per_day)):
            self._at(when + self._secs(0, 86_000), self._note)

    def _join(self, when: datetime) -> None:
        rules = self.rules_at(when)
        member_id = self._id()
        band = rules.join_bands[self.rng.randrange(len(rules.join_bands))]
        self._emit(when, MemberJoined(member=member_id, age_band=band))
        self._members[member_id] = SimMember(band, when)
        self._active.add(member_id)

    def _pick(self, ok: Callable[[str, SimMember], bool], tries: int = 20) -> str | None:
        if not len(self._active):
            return None
        for _ in range(tries):
            member_id = self._active.choice(self.rng)
            if ok(member_id, self._members[member_id]):
                return member_id
        return None

    def _leave_one(self, when: datetime) -> None:
        member_id = self._pick(lambda _, m: not m.busy and not m.ending)
        if member_id is None:
            return
        reasons = (LeaveReason.VOLUNTARY, LeaveReason.AGE_LIMIT, LeaveReason.REMOVED)
        reason = reasons[self.rng.randrange(3)]
        self._emit(when, MemberLeft(member=member_id, reason=reason, refund=0))
        self._drop(member_id)

    def _drop(self, member_id: str) -> None:
        member = self._members.pop(member_id)
        self._active.remove(member_id)
        if member.juror:
            self._jurors.remove(member_id)
            self._lapsed.add(member_id)

    def _qualify_one(self, when: datetime) -> None:
        rules = self.rules_at(when)
        member_id = self._pick(
            lambda _, m: (
                not m.juror
                and not m.ending
                and m.band in rules.juror_bands
                and rules.seasoned_from(m.joined) <= when
            )
        )
        if member_id is None:
            return
        self._emit(when, JurorQualified(member=member_id))
        self._members[member_id].juror = True
        self._jurors.add(member_id)
        self._lapsed.discard(member_id)

    def _remove_one(self, when: datetime) -> None:
        if len(self._jurors) <= 2 * self.rules_at(when).appeal_panel_size:
            return
        member_id = self._jurors.choice(self.rng)
        self._emit(when, JurorRemoved(member=member_id, reason="No longer in good standing."))
        self._members[member_id].juror = False
        self._jurors.remove(member_id)
        self._lapsed.add(member_id)

    def _note(self, when: datetime) -> None:
        if "note" not in self.rules_at(when).overrides_allowed:
            return
        body = OperatorOverride(
            action="note",
            target="pool",
            reason="Scheduled maintenance of the claims office.",
            details={},
        )
        self._emit(when, body)

    # -- claims ---------------------------------------------------------

    def _file(self, when: datetime) -> None:
        cfg = self.cfg
        rules = self.rules_at(when)
        today = when.date()
        waiting = self._pct(cfg.waiting_claim_pct)

        def ok(_: str, m: SimMember) -> bool:
            if m.busy or m.ending:
                return False
            covered_from = rules.covered_from(m.joined)
            return (covered_from > today) if waiting else (covered_from <= today)

        member_id = self._pick(ok)
        if member_id is None:
            return
        member = self._members[member_id]
        covered_from = rules.covered_from(member.joined)
        if waiting:
            diagnosed = today - timedelta(days=self.rng.randrange(3))
        else:
            span = min((today - covered_from).days, 20)
            diagnosed = today - timedelta(days=self.rng.randrange(span + 1))
        cap = rules.cap(member.band)
        assert cap is not None
        requested = self.rng.randrange(100_000, cap + cap // 5)
        claim = SimClaim(
            id=self._id(),
            member=member_id,
            band=member.band,
            requested=requested,
            rules=rules,
            merit=self._pct(cfg.merit_pct),
        )
        evidence = tuple(self._hash() for _ in range(1 + self.rng.randrange(3)))
        if self._evidence is not None:
            supplied = tuple(self._evidence(claim.id, member_id, len(evidence), when))
            if len(supplied) != len(evidence):
                raise MalformedError(
                    f"simulation: the evidence hook gave {len(supplied)} commitments for "
                    f"the {len(evidence)} documents of claim {claim.id}"
                )
            evidence = supplied
        category = rules.categories[self.rng.randrange(len(rules.categories))]
        body = ClaimFiled(
            claim=claim.id,
            member=member_id,
            category=category,
            amount=requested,
            diagnosed=diagnosed,
            evidence=evidence,
        )
        self._emit(when, body)
        self._claims[claim.id] = claim
        member.busy += 1
        if waiting:
            self._at(when + _HOUR, lambda t: self._ineligible(t, claim))
        else:
            self._at(when + self._secs(3_600, 86_400), lambda t: self._notice(t, claim, category))

    def _finish(self, claim: SimClaim, stage: str) -> None:
        claim.stage = stage
        member = self._members.get(claim.member)
        if member is not None:
            member.busy -= 1
        self.stats[f"outcome.{stage}"] += 1

    def _ineligible(self, when: datetime, claim: SimClaim) -> None:
        self._emit(when, ClaimDecided(claim.id, 0, 0, 0, Outcome.INELIGIBLE, 0))
        self._finish(claim, "ineligible")
        member = self._members[claim.member]
        member.ending = True
        self._at(when + _HOUR, lambda t: self._refund(t, claim.member))

    def _refund(self, when: datetime, member_id: str) -> None:
        member = self._members[member_id]
        refund = self._past_shares(member.joined)
        body = MemberLeft(member=member_id, reason=LeaveReason.WAITING_PERIOD, refund=refund)
        self._emit(when, body)
        assert self._open is not None
        self._open.refunds += refund
        self._drop(member_id)

    def _notice(self, when: datetime, claim: SimClaim, category: str) -> None:
        rules = claim.rules
        cap = rules.cap(claim.band)
        assert cap is not None
        claim.amount = min(claim.requested, cap)
        until = rules.objections_until(when)
        body = ClaimNoticed(
            claim=claim.id,
            text=f"A member aged {claim.band.value} asks for aid for {category}.",
            amount=claim.amount,
            age_band=claim.band,
            category=category,
            objections_until=until,
        )
        seq = self._emit(when, body)
        claim.stage = "noticed"
        claim.until = until
        heapq.heappush(self._deadlines, (until, seq, claim.id))
        window = max(int((until - when).total_seconds()), 1)
        if self._pct(self.cfg.withdraw_pct):
            self._at(when + self._secs(0, window), lambda t: self._withdraw(t, claim))
            return
        if self._pct(self.cfg.objection_pct):
            for _ in range(1 + self.rng.randrange(2)):
                self._at(when + self._secs(0, window), lambda t: self._object(t, claim))
        self._at(until + self._secs(60, 7_200), lambda t: self._draw(t, claim))

    def _withdraw(self, when: datetime, claim: SimClaim) -> None:
        if claim.stage != "noticed":
            return
        body = OperatorOverride(
            action="claim.withdraw",
            target=claim.id,
            reason="The claimant withdrew the claim.",
            details={"by": "claimant"},
        )
        self._emit(when, body)
        self._finish(claim, "withdrawn")

    def _object(self, when: datetime, claim: SimClaim) -> None:
        if claim.stage != "noticed" or claim.until is None or when > claim.until:
            return
        rules = claim.rules
        objector = self._pick(
            lambda i, m: i != claim.member and rules.objection_allowed(claim.objectors.count(i))
        )
        if objector is None:
            return
        text = "I believe the illness began before the member joined."
        seq = self._emit(when, ClaimObjected(claim=claim.id, member=objector, text=text))
        claim.objectors.append(objector)
        answer = "The records show the diagnosis after the waiting period."
        self._emit(when, ClaimAnswered(claim=claim.id, objection=seq, text=answer))

    def _draw(self, when: datetime, claim: SimClaim) -> None:
        if claim.stage not in ("noticed", "redraw", "appealed"):
            return
        self._fix_seeds(when)
        assert claim.seed is not None and claim.seed_size is not None
        assert self._pool is not None
        period, ids = self._pool
        rules = claim.rules
        appeal = claim.stage == "appealed" or (claim.stage == "redraw" and claim.appeal)
        size = rules.panel_size_for(appeal)
        excluded = {claim.member, *claim.objectors, *claim.past, *self._lapsed}
        seed, witnessed, now = claim.seed, None, self.rules_at(when)
        if now.witnesses_required:  # the draw's witnesses are the rules' of the draw
            witnessed = cosigned_seed_checkpoint(
                self._origin, self._seq, self._tree.root(), self._witnesses, now, when
            )
            seed = witnessed_seed(witnessed.checkpoint.root_hash, witnessed.cosignatures)
        try:
            jurors = draw_panel(seed, claim.id, claim.round + 1, appeal, ids, size, excluded)
        except RuleViolation:
            self._emit(
                when,
                OperatorOverride(
                    action="claim.withdraw",
                    target=claim.id,
                    reason="Too few eligible jurors to draw a panel.",
                    details={},
                ),
            )
            self._finish(claim, "withdrawn")
            return
        until = rules.votes_until(when)
        body = PanelDrawn(
            claim=claim.id,
            round=claim.round + 1,
            appeal=appeal,
            pool_period=period,
            seed_size=claim.seed_size,
            seed=seed,
            jurors=jurors,
            votes_until=until,
            witnessed=witnessed,
        )
        self._emit(when, body)
        if appeal and not claim.appeal:
            claim.appeal = True
            claim.instance_rounds = 0
        claim.stage = "voting"
        claim.round += 1
        claim.instance_rounds += 1
        claim.seed_size = None
        claim.seed = None
        claim.past.update(jurors)
        claim.jurors = jurors
        claim.votes_until = until
        claim.sealed = {}
        turnout = 25 if self._pct(self.cfg.low_turnout_pct) else 92
        window = int((until - when).total_seconds())
        for juror in jurors:
            if self._pct(turnout):
                vote = partial(self._vote, claim=claim, juror=juror)
                self._at(when + self._secs(0, window + 1), vote)
        self._at(until + self._secs(1, 3_600), lambda t: self._decide(t, claim))

    def _vote(self, when: datetime, claim: SimClaim, juror: str) -> None:
        leaning = Choice.APPROVE if claim.merit else Choice.REJECT
        other = Choice.REJECT if claim.merit else Choice.APPROVE
        choice = leaning if self._pct(85) else other
        reason = VOTE_REASONS[self.rng.randrange(len(VOTE_REASONS))]
        salt = self._hash()
        commitment = vote_commitment(claim.id, claim.round, juror, choice, reason, salt)
        body = VoteSealed(claim=claim.id, round=claim.round, juror=juror, commitment=commitment)
        self._emit(when, body)
        claim.sealed[juror] = (choice, reason, salt)

    def _decide(self, when: datetime, claim: SimClaim) -> None:
        approvals = rejections = 0
        for juror, (choice, reason, salt) in claim.sealed.items():
            body = VoteRevealed(
                claim=claim.id,
                round=claim.round,
                juror=juror,
                choice=choice,
                reason=reason,
                salt=salt,
            )
            self._emit(when, body)
            if choice is Choice.APPROVE:
                approvals += 1
            else:
                rejections += 1
        rules = claim.rules
        valid = approvals + rejections
        if valid < rules.quorum(len(claim.jurors)):
            outcome = Outcome.NO_QUORUM
        elif rules.approves(approvals, valid):
            outcome = Outcome.APPROVED
        else:
            outcome = Outcome.REJECTED
        amount = claim.amount if outcome is Outcome.APPROVED else 0
        decision = ClaimDecided(claim.id, claim.round, approvals, rejections, outcome, amount)
        self._emit(when, decision)
        self.stats[f"decided.{outcome.value}{'.appeal' if claim.appeal else ''}"] += 1
        if outcome is Outcome.APPROVED:
            claim.stage = "approved"
            self._at(when + self._secs(3_600, 3 * 86_400), lambda t: self._pay(t, claim))
        elif outcome is Outcome.NO_QUORUM and claim.instance_rounds < rules.max_rounds:
            claim.stage = "redraw"
            self._armed.append(claim.id)
            self._at(when + self._secs(60, 7_200), lambda t: self._draw(t, claim))
        elif not claim.appeal and rules.appeals:
            claim.stage = "rejected"
            if self._pct(self.cfg.appeal_pct):
                latest = rules.appeal_days * 86_400
                self._at(when + self._secs(60, latest), lambda t: self._appeal(t, claim))
            else:
                self._finish(claim, "rejected")
        else:
            self._finish(claim, "rejected")

    def _appeal(self, when: datetime, claim: SimClaim) -> None:
        body = ClaimAppealed(claim=claim.id, reason="The panel did not read the second report.")
        self._emit(when, body)
        claim.stage = "appealed"
        self._armed.append(claim.id)
        self._at(when + self._secs(60, 86_400), lambda t: self._draw(t, claim))

    def _pay(self, when: datetime, claim: SimClaim) -> None:
        book = self._open
        assert book is not None
        self._emit(when, ClaimPaid(claim=claim.id, amount=claim.amount, period=book.period))
        book.paid.append((claim.id, claim.amount))
        self._finish(claim, "paid")


def simulate(rng: Rng, config: SimConfig | None = None) -> list[bytes]:
    """The whole history of a simulated pool, as canonical entry bytes."""
    return list(Simulation(rng, config).run())
