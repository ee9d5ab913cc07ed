"""``verify-claim``: one claim's whole history, proven from a bundle.

Given the entries of a :class:`~verifiable.pool.proven.ProvenBundle` (each proven
in the log under a signed checkpoint), :func:`check_claim_history` follows one
claim from its ``claim.filed`` to its ``claim.paid`` and checks every step
under the rules of its filing (docs/rules.md, §4-6):

* ``claim filed``: one filing, by a member whose ``member.joined`` is there;
* ``notice``: band and category of the filing, the amount within the
  request and the cap, the objection window, not in the waiting period;
* ``objections``: each by another member, in the window, answered before
  the panel;
* ``panel``: round, appeal flag, size, window, a pool committed before it;
* ``seed``: the seed size the rules fix (the two entries around the end of
  the objection window, or the entry that made the draw due) and the seed
  proven to be the log's root at that size (consistency proof); when the
  rules in force at the draw name witnesses, instead the witnessed
  checkpoint's cosignatures by their keys, its size, its origin, its root
  proven to be the log's, and the seed derived from it
  (:mod:`verifiable.pool.witnessed`);
* ``sortition``: the jurors are the draw of :mod:`verifiable.pool.sortition` over
  the pool, each drawn index proven in the pool's tree, the skips justified
  (claimant, objectors, earlier jurors, jurors lapsed by a logged entry
  and not qualified again before the draw);
* ``votes``: sealed by panel jurors once in the window, revealed after it,
  each reveal opening its commitment (:func:`verifiable.pool.votes.check_reveal`);
* ``decision``: the tally of the reveals, the outcome of quorum and
  threshold, the amount of the notice within the cap;
* ``payout``: at most one, of the decided amount, for an approved claim.

Where the claim stands and what the rules require next (the panel called
for, the verdict of a tally, the stage after a decision, whether an appeal
may come) is asked of :class:`~verifiable.pool.claim_machine.Course`, the
state machine the rulebook uses too; this module words the findings.

What a bundle cannot show (an entry about the claim that the bundle left
out, a second payout elsewhere) is left to a full replay: docs/threat-model.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from verifiable.errors import MutualogError, RuleViolation
from verifiable.findings import Finding, Findings
from verifiable.log.bodies import (
    AgeBand,
    ClaimAnswered,
    ClaimAppealed,
    ClaimDecided,
    ClaimFiled,
    ClaimNoticed,
    ClaimObjected,
    ClaimPaid,
    JuryPool,
    MemberJoined,
    PanelDrawn,
    VoteRevealed,
    VoteSealed,
)
from verifiable.log.bundle import Bundle
from verifiable.log.entry import Entry
from verifiable.log.fields import format_date, format_time
from verifiable.log.note import Verifier
from verifiable.pool.claim_machine import Course, Panel, Stage
from verifiable.pool.notice_check import notice_problem
from verifiable.pool.proven import ProvenBundle, open_bundle, rulebook_of
from verifiable.pool.rules import Rulebook, Rules
from verifiable.pool.sortition import candidate_indices
from verifiable.pool.votes import check_reveal
from verifiable.pool.witnessed import check_witnessed

__all__ = ["CLAIM_TYPES", "ClaimOutcome", "check_claim", "check_claim_history"]

CLAIM_TYPES = (
    "claim.noticed",
    "claim.objected",
    "claim.answered",
    "claim.appealed",
    "panel.drawn",
    "vote.sealed",
    "vote.revealed",
    "claim.decided",
    "claim.paid",
)
_LAPSE_TYPES = ("juror.removed", "member.left")


def lapsed_jurors(proven: ProvenBundle, pool_seq: int, draw_seq: int) -> set[str]:
    """The jurors of the pool committed at ``pool_seq`` who are lapsed at the
    draw at ``draw_seq``, as far as the bundle shows: removed or gone after
    the pool, and not qualified again since (the rulebook takes a juror
    qualified again back into the pool's draws, docs/rules.md)."""
    last: dict[str, tuple[int, bool]] = {}
    for x in proven.of_type(*_LAPSE_TYPES, "juror.qualified"):
        if pool_seq < x.seq < draw_seq:
            member = str(getattr(x.body, "member", ""))
            if member not in last or last[member][0] < x.seq:
                last[member] = (x.seq, x.type != "juror.qualified")
    return {member for member, (_, lapse) in last.items() if lapse}


@dataclass
class ClaimOutcome:
    """Where the history ends: the stage, the decided amount and the payouts."""

    claim: str
    stage: str = "unknown"
    amount: int = 0
    paid: list[Entry] = field(default_factory=list)


@dataclass
class _State:
    filed: Entry
    rules: Rules
    band: AgeBand | None
    joined: datetime | None
    course: Course = field(default_factory=Course)
    notice: ClaimNoticed | None = None
    objections: dict[int, str] = field(default_factory=dict)
    answered: set[int] = field(default_factory=set)
    appealed_seq: int | None = None
    redraw_seq: int | None = None
    past_jurors: set[str] = field(default_factory=set)
    panel: Panel | None = None
    decided_at: datetime | None = None
    amount: int = 0

    @property
    def stage(self) -> str:
        """The stage's name, as findings and :class:`ClaimOutcome` show it."""
        return self.course.stage.value

    def waiting(self, diagnosed: date) -> bool:
        """Diagnosed inside the waiting period, as far as the bundle shows."""
        return self.joined is not None and diagnosed < self.rules.covered_from(self.joined)


def check_claim_history(
    proven: ProvenBundle, book: Rulebook, claim: str, findings: Findings
) -> ClaimOutcome:
    """Check claim ``claim``'s history in ``proven``; add the findings named in
    the module docstring, each ``where`` naming the claim and entry."""
    outcome = ClaimOutcome(claim)
    filings = [
        e
        for e in proven.of_type("claim.filed")
        if isinstance(e.body, ClaimFiled) and e.body.claim == claim
    ]
    if len(filings) != 1:
        findings.fail(
            "claim filed",
            f"claim {claim}: {len(filings)} claim.filed entries in the bundle",
            "exactly one claim.filed",
            len(filings),
            f"claim {claim}",
        )
        return outcome
    filed = filings[0]
    body = filed.body
    assert isinstance(body, ClaimFiled)
    rules = book.in_force(filed.time)
    if rules is None:
        findings.fail(
            "claim filed",
            "filed before the genesis rulebook",
            "a later filing",
            "",
            f"claim {claim}, entry {filed.seq}",
        )
        return outcome
    joined = next(
        (
            e
            for e in proven.of_type("member.joined")
            if isinstance(e.body, MemberJoined) and e.body.member == body.member
        ),
        None,
    )
    if joined is None or joined.seq > filed.seq:
        findings.fail(
            "claim filed",
            f"the claimant {body.member} has no member.joined before the filing in the bundle",
            "the claimant's member.joined",
            "none" if joined is None else f"entry {joined.seq}",
            f"claim {claim}, entry {filed.seq}",
        )
        band, joined_at = None, None
    else:
        assert isinstance(joined.body, MemberJoined)
        # The band on the date of diagnosis where the filing names one
        # (the rulebook's ``claim.age_band``), else the band of joining.
        band, joined_at = body.age_band or joined.body.age_band, joined.time
        findings.ok("claim filed", f"claim {claim} filed at entry {filed.seq} by a member")
    st = _State(filed=filed, rules=rules, band=band, joined=joined_at)
    walker = _Walker(proven, findings, st, claim, book)
    for entry in proven.of_type(*CLAIM_TYPES):
        if getattr(entry.body, "claim", None) != claim:
            continue
        if entry.seq < filed.seq:
            findings.fail(
                "claim filed",
                "an entry about the claim comes before its filing",
                f"after entry {filed.seq}",
                f"entry {entry.seq}",
                f"claim {claim}",
            )
            continue
        walker.step(entry)
    outcome.stage = st.stage
    outcome.amount = st.amount
    outcome.paid = walker.paid
    return outcome


class _Walker:
    """One pass over a claim's entries in log order."""

    def __init__(
        self, proven: ProvenBundle, f: Findings, st: _State, claim: str, book: Rulebook
    ) -> None:
        self.proven = proven
        self.book = book
        self.f = f
        self.st = st
        self.claim = claim
        self.paid: list[Entry] = []

    def where(self, entry: Entry) -> str:
        r = getattr(entry.body, "round", None)
        return f"claim {self.claim}" + (f", round {r}" if r else "") + f", entry {entry.seq}"

    def fail(self, name: str, entry: Entry, detail: str, expected: object, found: object) -> None:
        self.f.fail(name, detail, expected, found, self.where(entry))

    def step(self, entry: Entry) -> None:
        handler = {
            "claim.noticed": self.noticed,
            "claim.objected": self.objected,
            "claim.answered": self.answered,
            "claim.appealed": self.appealed,
            "panel.drawn": self.panel,
            "vote.sealed": self.sealed,
            "vote.revealed": self.revealed,
            "claim.decided": self.decided,
            "claim.paid": self.payout,
        }[entry.type]
        handler(entry)

    # -- notice and objections ------------------------------------------

    def noticed(self, e: Entry) -> None:
        st, b = self.st, e.body
        assert isinstance(b, ClaimNoticed)
        filed = st.filed.body
        assert isinstance(filed, ClaimFiled)
        name = "notice"
        if st.course.stage is not Stage.FILED:
            return self.fail(name, e, "a second notice", "one notice", st.stage)
        if st.band is not None and b.age_band is not st.band:
            return self.fail(
                name, e, "not the claimant's age band", st.band.value, b.age_band.value
            )
        if b.category != filed.category:
            return self.fail(name, e, "not the claim's category", filed.category, b.category)
        cap = st.rules.cap(b.age_band) or 0
        most = min(filed.amount, cap)
        if not 1 <= b.amount <= most:
            return self.fail(
                name,
                e,
                "the proposed aid is outside the request and the cap",
                f"1..{most}",
                b.amount,
            )
        problem = notice_problem(
            b,
            diagnosed=filed.diagnosed,
            requested=filed.amount,
            cap=cap,
            evidence=filed.evidence,
            joined=st.joined,
        )
        if problem is not None:
            detail = f"{problem.message} (rule {problem.rule})"
            return self.fail(name, e, detail, problem.expected, problem.actual)
        until = st.rules.objections_until(e.time)
        if b.objections_until != until:
            return self.fail(
                name,
                e,
                "the objection window is not the rules'",
                format_time(until),
                format_time(b.objections_until),
            )
        if st.joined is not None and st.waiting(filed.diagnosed):
            return self.fail(
                name,
                e,
                "a claim inside the waiting period gets no notice",
                f"diagnosed on or after {format_date(st.rules.covered_from(st.joined))}",
                format_date(filed.diagnosed),
            )
        st.course, st.notice = st.course.noticed(), b
        self.f.ok(name, f"aid {b.amount} fen proposed within the cap {cap}")

    def objected(self, e: Entry) -> None:
        st, b = self.st, e.body
        assert isinstance(b, ClaimObjected)
        filed = st.filed.body
        assert isinstance(filed, ClaimFiled)
        if st.course.stage is not Stage.NOTICED or st.notice is None:
            return self.fail(
                "objections", e, "an objection outside the notice", "noticed", st.stage
            )
        if e.time > st.notice.objections_until:
            return self.fail(
                "objections",
                e,
                "an objection after the window",
                f"at or before {format_time(st.notice.objections_until)}",
                format_time(e.time),
            )
        if b.member == filed.member:
            return self.fail("objections", e, "the claimant objected", "another member", b.member)
        st.objections[e.seq] = b.member
        self.f.ok("objections", f"{len(st.objections)} objections")

    def answered(self, e: Entry) -> None:
        st, b = self.st, e.body
        assert isinstance(b, ClaimAnswered)
        if b.objection not in st.objections or b.objection in st.answered:
            return self.fail(
                "objections",
                e,
                "an answer to no open objection of this claim",
                "an unanswered objection's seq",
                b.objection,
            )
        st.answered.add(b.objection)
        self.f.ok("objections", f"{len(st.answered)} of {len(st.objections)} answered")

    def appealed(self, e: Entry) -> None:
        st = self.st
        assert isinstance(e.body, ClaimAppealed)
        name = "decision"
        if not st.course.may_appeal or st.decided_at is None:
            return self.fail(name, e, "an appeal of a claim not rejected", "rejected", st.stage)
        until = st.rules.appeal_until(st.decided_at)
        if e.time > until:
            return self.fail(
                name,
                e,
                "an appeal after its window",
                f"at or before {format_time(until)}",
                format_time(e.time),
            )
        st.course, st.appealed_seq = st.course.appeal_lodged(), e.seq

    # -- panels -----------------------------------------------------------

    def _seed_size(self, e: Entry, b: PanelDrawn) -> None:
        st, name = self.st, "seed"
        if st.course.stage is Stage.APPEALED:
            want, why = (st.appealed_seq or 0) + 1, "the entry after the appeal"
        elif st.course.stage is Stage.REDRAW:
            want, why = (st.redraw_seq or 0) + 1, "the entry after the missed quorum"
        else:
            assert st.notice is not None
            until = st.notice.objections_until
            first = self.proven.entries.get(b.seed_size)
            before = self.proven.entries.get(b.seed_size - 1)
            if first is None or before is None:
                return self.fail(
                    name,
                    e,
                    "the bundle lacks the entries around the seed size",
                    f"entries {b.seed_size - 1} and {b.seed_size}",
                    "missing",
                )
            if not (before.time < until <= first.time):
                return self.fail(
                    name,
                    e,
                    "the seed size is not the first entry at or after the objection window's end",
                    f"entry {b.seed_size - 1} before and entry {b.seed_size} "
                    f"at or after {format_time(until)}",
                    f"{format_time(before.time)} and {format_time(first.time)}",
                )
            want, why = b.seed_size, "the first entry after the objection window"
        if b.seed_size != want:
            return self.fail(name, e, f"the seed size is {why}", want, b.seed_size)
        rules = self.book.in_force(e.time) or st.rules
        if rules.witnesses_required or b.witnessed is not None:
            return self._witnessed(e, b, rules)
        try:
            how = self.proven.prove_seed(b.seed_size, b.seed)
        except MutualogError as err:
            return self.fail(
                name,
                e,
                f"the seed is not proven to be the log's root at size {b.seed_size}: {err}",
                "the log's root",
                b.seed.hex(),
            )
        self.f.ok(name, f"seed = the log's root at size {b.seed_size} ({how})")

    def _witnessed(self, e: Entry, b: PanelDrawn, rules: Rules) -> None:
        """The seed of a witnessed draw: the rules' witnesses cosigned the
        checkpoint, which is the log's own, and the seed is derived from it."""
        name = "seed"
        try:
            derived = check_witnessed(e.seq, b.witnessed, b.seed_size, rules, None)
        except RuleViolation as err:
            return self.fail(name, e, str(err), err.expected, err.actual)
        assert derived is not None and b.witnessed is not None
        checkpoint = b.witnessed.checkpoint
        origin = self.proven.checkpoint.origin
        if checkpoint.origin != origin:
            return self.fail(
                name, e, "the witnessed checkpoint is another log's", origin, checkpoint.origin
            )
        try:
            how = self.proven.prove_seed(checkpoint.size, checkpoint.root_hash)
        except MutualogError as err:
            return self.fail(
                name,
                e,
                f"the witnessed checkpoint is not proven to be the log's at size "
                f"{checkpoint.size}: {err}",
                "the log's root",
                checkpoint.root_hash.hex(),
            )
        if b.seed != derived:
            return self.fail(
                name,
                e,
                "the seed is not the one the witnessed checkpoint gives",
                derived.hex(),
                b.seed.hex(),
            )
        names = ", ".join(c.name for c in b.witnessed.cosignatures)
        self.f.ok(
            name,
            f"seed derived from the checkpoint at size {checkpoint.size}, cosigned by "
            f"{names} ({how})",
        )

    def _pool(self, e: Entry, b: PanelDrawn) -> tuple[JuryPool, int] | None:
        for p in self.proven.of_type("jury.pool"):
            if isinstance(p.body, JuryPool) and p.body.period == b.pool_period and p.seq < e.seq:
                return p.body, p.seq
        self.fail(
            "panel",
            e,
            "the bundle has no jury.pool of the panel's pool period before it",
            f"jury.pool of {format_date(b.pool_period)}",
            "none",
        )
        return None

    def panel(self, e: Entry) -> None:
        st, b = self.st, e.body
        assert isinstance(b, PanelDrawn)
        filed = st.filed.body
        assert isinstance(filed, ClaimFiled)
        name = "panel"
        if not st.course.awaiting_panel:
            return self.fail(name, e, "a panel for a claim not awaiting one", "awaiting", st.stage)
        if st.course.answers_due and st.answered != set(st.objections):
            return self.fail(
                name, e, "objections unanswered at the draw", len(st.objections), len(st.answered)
            )
        call = st.course.next_panel(st.rules)
        until = st.rules.votes_until(e.time)
        for label, want, got in (
            ("round", call.round, b.round),
            ("appeal flag", call.appeal, b.appeal),
            ("panel size", call.size, len(b.jurors)),
            ("voting window", format_time(until), format_time(b.votes_until)),
        ):
            if want != got:
                return self.fail(name, e, f"the {label} is not the rules'", want, got)
        if filed.member in b.jurors:
            return self.fail(name, e, "the claimant is on the panel", "not on it", filed.member)
        self._seed_size(e, b)
        found = self._pool(e, b)
        if found is not None:
            self._sortition(e, b, found[0], found[1])
        st.past_jurors.update(b.jurors)
        st.course, st.panel = st.course.drawn(call), Panel.of(b)
        self.f.ok(name, f"{len(b.jurors)} jurors, round {b.round}")

    def _sortition(self, e: Entry, b: PanelDrawn, pool: JuryPool, pool_seq: int) -> None:
        st = self.st
        filed = st.filed.body
        assert isinstance(filed, ClaimFiled)
        lapsed = lapsed_jurors(self.proven, pool_seq, e.seq)
        excluded = {filed.member, *st.objections.values(), *st.past_jurors}
        drawn: list[str] = []
        try:
            indices = candidate_indices(b.seed, b.claim, b.round, b.appeal, pool.size)
            for index in indices:
                if len(drawn) == len(b.jurors):
                    break
                member = self.proven.juror(pool, index)
                if member in excluded or member in lapsed:
                    continue
                if member != b.jurors[len(drawn)]:
                    return self.fail(
                        "sortition",
                        e,
                        f"juror {len(drawn)} is not the draw (pool index {index})",
                        member,
                        b.jurors[len(drawn)],
                    )
                drawn.append(member)
        except MutualogError as err:
            return self.fail(
                "sortition",
                e,
                f"the draw cannot be followed: {err}",
                f"the drawn pool leaves proven against the root {pool.root.hex()}",
                "a leaf missing or not proven",
            )
        if len(drawn) != len(b.jurors):
            return self.fail(
                "sortition",
                e,
                "the pool ran out before the panel was full",
                len(b.jurors),
                len(drawn),
            )
        self.f.ok("sortition", f"{len(drawn)} jurors drawn from a pool of {pool.size}")

    # -- votes and decisions ------------------------------------------------

    def _voting(self, e: Entry, rnd: int) -> Panel | None:
        st = self.st
        if st.course.stage is not Stage.VOTING or st.panel is None or st.panel.round != rnd:
            self.fail("votes", e, "a vote with no panel voting in its round", st.course.round, rnd)
            return None
        return st.panel

    def sealed(self, e: Entry) -> None:
        b = e.body
        assert isinstance(b, VoteSealed)
        panel = self._voting(e, b.round)
        if panel is None:
            return
        if b.juror not in panel.members:
            return self.fail(
                "votes", e, "a vote by a juror not on the panel", "a drawn juror", b.juror
            )
        if b.juror in panel.sealed:
            return self.fail("votes", e, "a second vote by one juror", "one vote", "two")
        if e.time > panel.votes_until:
            return self.fail(
                "votes",
                e,
                "a vote after the window",
                f"at or before {format_time(panel.votes_until)}",
                format_time(e.time),
            )
        panel.sealed[b.juror] = b
        self.f.ok("votes", f"{len(panel.sealed)} votes sealed in round {b.round}")

    def revealed(self, e: Entry) -> None:
        st, b = self.st, e.body
        assert isinstance(b, VoteRevealed)
        panel = self._voting(e, b.round)
        if panel is None:
            return
        sealed = panel.sealed.get(b.juror)
        if e.time <= panel.votes_until:
            return self.fail(
                "votes",
                e,
                "a reveal inside the voting window",
                f"after {format_time(panel.votes_until)}",
                format_time(e.time),
            )
        if sealed is None or b.juror in panel.revealed:
            return self.fail("votes", e, "a reveal of no sealed vote, or twice", "one", b.juror)
        if not b.reason and st.rules.reason_required:
            return self.fail("votes", e, "the rules ask for a reason", "a reason", "none")
        try:
            check_reveal(sealed, b, seq=e.seq)
        except MutualogError as err:
            return self.fail("votes", e, str(err), sealed.commitment.hex(), "another opening")
        panel.count(b.juror, b.choice)
        self.f.ok("votes", f"{len(panel.revealed)} reveals open their sealed votes")

    def decided(self, e: Entry) -> None:
        st, b = self.st, e.body
        assert isinstance(b, ClaimDecided)
        name = "decision"
        if b.round == 0:
            filed = st.filed.body
            assert isinstance(filed, ClaimFiled)
            if not st.course.may_close_ineligible(st.waiting(filed.diagnosed)):
                return self.fail(
                    name,
                    e,
                    "a decision without a panel for a claim not in the waiting period",
                    "a filed claim diagnosed in the waiting period",
                    st.stage,
                )
            st.course = st.course.closed()
            self.f.ok(name, "ineligible: diagnosed inside the waiting period")
            return
        panel = st.panel
        if st.course.stage is not Stage.VOTING or panel is None or b.round != panel.round:
            return self.fail(name, e, "a decision with no panel voting", st.course.round, b.round)
        if e.time <= panel.votes_until:
            return self.fail(
                name,
                e,
                "a decision inside the voting window",
                f"after {format_time(panel.votes_until)}",
                format_time(e.time),
            )
        if (b.approvals, b.rejections) != (panel.approvals, panel.rejections):
            return self.fail(
                name,
                e,
                "the tally is not the count of the revealed votes",
                f"{panel.approvals} approve, {panel.rejections} reject",
                f"{b.approvals} approve, {b.rejections} reject",
            )
        verdict = panel.verdict(st.rules, st.notice.amount if st.notice is not None else 0)
        want = verdict.outcome
        if b.outcome is not want:
            return self.fail(
                name, e, "the outcome is not what the votes give", want.value, b.outcome.value
            )
        if b.amount != verdict.amount:
            return self.fail(name, e, "the amount is not the notice's", verdict.amount, b.amount)
        st.panel, st.decided_at = None, e.time
        st.course = st.course.decided(st.rules, want)
        if st.course.stage is Stage.APPROVED:
            st.amount = verdict.amount
        elif st.course.stage is Stage.REDRAW:
            st.redraw_seq = e.seq
        self.f.ok(name, f"{want.value} by {b.approvals} to {b.rejections} in round {b.round}")

    def payout(self, e: Entry) -> None:
        st, b = self.st, e.body
        assert isinstance(b, ClaimPaid)
        self.paid.append(e)
        name = "payout"
        if st.course.stage is Stage.PAID:
            return self.fail(name, e, "a second payout", "one payout", "two")
        if st.course.stage is not Stage.APPROVED:
            return self.fail(name, e, "a payout of a claim not approved", "approved", st.stage)
        if b.amount != st.amount:
            return self.fail(name, e, "the payout is not the amount decided", st.amount, b.amount)
        st.course = st.course.paid()
        self.f.ok(name, f"paid {b.amount} fen once, in period {format_date(b.period)}")


def check_claim(bundle: Bundle, verifier: Verifier, origin: str, claim: str) -> list[Finding]:
    """``verify-claim``: the bundle's checkpoint and entries, the rulebook and
    claim ``claim``'s whole history."""
    proven, opened = open_bundle(bundle, verifier, origin)
    f = Findings()
    f.extend(opened)
    if proven is None:
        return f.result()
    book = rulebook_of(proven, f)
    if book is not None:
        outcome = check_claim_history(proven, book, claim, f)
        f.ok("stage", f"claim {claim} is {outcome.stage}")
    return f.result()
