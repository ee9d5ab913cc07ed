// verify-claim: one claim's whole history, proven from a bundle. Mirrors
// verifiable/pool/claim_check.py.
//
// Given the entries of a ProvenBundle (each proven in the log under a signed
// checkpoint), checkClaimHistory follows one claim from its claim.filed to
// its claim.paid and checks every step under the rules of its filing
// (docs/rules.md, §4-6), under the client's check ids: "claim filed",
// "notice", "objections", "panel", "seed", "sortition", "votes", "decision",
// "payout". Where the claim stands and what the rules require next is asked
// of claim_machine.js's Course, as the Python code asks claim_machine.py.
//
// What a bundle cannot show (an entry about the claim that the bundle left
// out, a second payout elsewhere) is left to a full replay:
// docs/threat-model.md.

import { Course, Panel, Stage } from "./claim_machine.js";
import { equalBytes, toHex } from "./encoding.js";
import { MutualogError } from "./errors.js";
import { Findings } from "./findings.js";
import { formatDate, formatTime } from "./fields.js";
import { noticeProblem } from "./notice_check.js";
import { openBundle, rulebookOf } from "./proven.js";
import { RuleViolation } from "./rules.js";
import { candidateIndices } from "./sortition.js";
import { checkReveal } from "./votes.js";
import { checkWitnessed } from "./witnessed.js";

export const CLAIM_TYPES = Object.freeze([
  "claim.noticed",
  "claim.objected",
  "claim.answered",
  "claim.appealed",
  "panel.drawn",
  "vote.sealed",
  "vote.revealed",
  "claim.decided",
  "claim.paid",
]);
const LAPSE_TYPES = ["juror.removed", "member.left"];

// The jurors of the pool committed at poolSeq who are lapsed at the draw
// at drawSeq, as far as the bundle shows: removed or gone after the pool,
// and not qualified again since (lapsed_jurors in claim_check.py).
function lapsedJurors(proven, poolSeq, drawSeq) {
  const last = new Map();
  for (const x of proven.ofType(...LAPSE_TYPES, "juror.qualified")) {
    if (!(poolSeq < x.seq && x.seq < drawSeq)) continue;
    const member = String(x.body.member ?? "");
    const seen = last.get(member);
    if (seen === undefined || seen.seq < x.seq) {
      last.set(member, { seq: x.seq, lapse: x.type !== "juror.qualified" });
    }
  }
  return new Set([...last].filter(([, v]) => v.lapse).map(([member]) => member));
}

// Where the history ends: the stage, the decided amount and the payouts.
export class ClaimOutcome {
  constructor(claim) {
    this.claim = claim;
    this.stage = "unknown";
    this.amount = 0;
    this.paid = [];
  }
}

function rethrowUnlessOurs(err) {
  if (!(err instanceof MutualogError)) throw err;
}

class State {
  constructor(filed, rules, band, joined) {
    this.filed = filed;
    this.rules = rules;
    this.band = band;
    this.joined = joined;
    this.course = new Course();
    this.notice = null;
    this.objections = new Map(); // objection's seq -> member
    this.answered = new Set();
    this.appealedSeq = null;
    this.redrawSeq = null;
    this.pastJurors = new Set();
    this.panel = null;
    this.decidedAt = null;
    this.amount = 0;
  }

  get stage() {
    return this.course.stage;
  }

  // Diagnosed inside the waiting period, as far as the bundle shows.
  waiting(diagnosed) {
    return this.joined !== null && diagnosed < this.rules.covered_from(this.joined);
  }
}

// Check claim `claim`'s history in `proven`; add the findings to `findings`,
// each `where` naming the claim and entry.
export async function checkClaimHistory(proven, book, claim, findings) {
  const outcome = new ClaimOutcome(claim);
  const filings = [...proven.ofType("claim.filed")].filter((e) => e.body.claim === claim);
  if (filings.length !== 1) {
    findings.fail(
      "claim filed",
      `claim ${claim}: ${filings.length} claim.filed entries in the bundle`,
      "exactly one claim.filed",
      filings.length,
      `claim ${claim}`,
    );
    return outcome;
  }
  const filed = filings[0];
  const body = filed.body;
  const rules = book.in_force(filed.time);
  if (rules === null || rules === undefined) {
    findings.fail("claim filed", "filed before the genesis rulebook", "a later filing", "", `claim ${claim}, entry ${filed.seq}`);
    return outcome;
  }
  const joined = [...proven.ofType("member.joined")].find((e) => e.body.member === body.member) ?? null;
  let band = null;
  let joinedAt = null;
  if (joined === null || joined.seq > filed.seq) {
    findings.fail(
      "claim filed",
      `the claimant ${body.member} has no member.joined before the filing in the bundle`,
      "the claimant's member.joined",
      joined === null ? "none" : `entry ${joined.seq}`,
      `claim ${claim}, entry ${filed.seq}`,
    );
  } else {
    // The band on the date of diagnosis where the filing names one (the
    // rulebook's claim.age_band), else the band of joining.
    band = body.age_band || joined.body.age_band;
    joinedAt = joined.time;
    findings.ok("claim filed", `claim ${claim} filed at entry ${filed.seq} by a member`);
  }
  const st = new State(filed, rules, band, joinedAt);
  const walker = new Walker(proven, findings, st, claim, book);
  for (const entry of proven.ofType(...CLAIM_TYPES)) {
    if (entry.body.claim !== claim) continue;
    if (entry.seq < filed.seq) {
      findings.fail(
        "claim filed",
        "an entry about the claim comes before its filing",
        `after entry ${filed.seq}`,
        `entry ${entry.seq}`,
        `claim ${claim}`,
      );
      continue;
    }
    await walker.step(entry);
  }
  outcome.stage = st.stage;
  outcome.amount = st.amount;
  outcome.paid = walker.paid;
  return outcome;
}

// One pass over a claim's entries in log order.
class Walker {
  constructor(proven, f, st, claim, book) {
    this.proven = proven;
    this.book = book;
    this.f = f;
    this.st = st;
    this.claim = claim;
    this.paid = [];
  }

  where(entry) {
    const r = entry.body.round;
    return `claim ${this.claim}` + (r ? `, round ${r}` : "") + `, entry ${entry.seq}`;
  }

  fail(name, entry, detail, expected, found) {
    this.f.fail(name, detail, expected, found, this.where(entry));
  }

  async step(entry) {
    const handlers = {
      "claim.noticed": () => this.noticed(entry),
      "claim.objected": () => this.objected(entry),
      "claim.answered": () => this.answered(entry),
      "claim.appealed": () => this.appealed(entry),
      "panel.drawn": () => this.panel(entry),
      "vote.sealed": () => this.sealed(entry),
      "vote.revealed": () => this.revealed(entry),
      "claim.decided": () => this.decided(entry),
      "claim.paid": () => this.payout(entry),
    };
    await handlers[entry.type]();
  }

  // -- notice and objections ------------------------------------------

  noticed(e) {
    const st = this.st;
    const b = e.body;
    const filed = st.filed.body;
    const name = "notice";
    if (st.course.stage !== Stage.FILED) return this.fail(name, e, "a second notice", "one notice", st.stage);
    if (st.band !== null && b.age_band !== st.band) {
      return this.fail(name, e, "not the claimant's age band", st.band, b.age_band);
    }
    if (b.category !== filed.category) return this.fail(name, e, "not the claim's category", filed.category, b.category);
    const cap = st.rules.cap(b.age_band) || 0;
    const most = Math.min(filed.amount, cap);
    if (!(1 <= b.amount && b.amount <= most)) {
      return this.fail(name, e, "the proposed aid is outside the request and the cap", `1..${most}`, b.amount);
    }
    const problem = noticeProblem(b, {
      diagnosed: filed.diagnosed,
      requested: filed.amount,
      cap,
      evidence: filed.evidence,
      joined: st.joined,
    });
    if (problem !== null) {
      return this.fail(name, e, `${problem.message} (rule ${problem.rule})`, problem.expected, problem.actual);
    }
    const until = st.rules.objections_until(e.time);
    if (b.objections_until !== until) {
      return this.fail(name, e, "the objection window is not the rules'", formatTime(until), formatTime(b.objections_until));
    }
    if (st.joined !== null && st.waiting(filed.diagnosed)) {
      return this.fail(
        name,
        e,
        "a claim inside the waiting period gets no notice",
        `diagnosed on or after ${formatDate(st.rules.covered_from(st.joined))}`,
        formatDate(filed.diagnosed),
      );
    }
    st.course = st.course.noticed();
    st.notice = b;
    this.f.ok(name, `aid ${b.amount} fen proposed within the cap ${cap}`);
  }

  objected(e) {
    const st = this.st;
    const b = e.body;
    const filed = st.filed.body;
    if (st.course.stage !== Stage.NOTICED || st.notice === null) {
      return this.fail("objections", e, "an objection outside the notice", "noticed", st.stage);
    }
    if (e.time > st.notice.objections_until) {
      return this.fail(
        "objections",
        e,
        "an objection after the window",
        `at or before ${formatTime(st.notice.objections_until)}`,
        formatTime(e.time),
      );
    }
    if (b.member === filed.member) return this.fail("objections", e, "the claimant objected", "another member", b.member);
    st.objections.set(e.seq, b.member);
    this.f.ok("objections", `${st.objections.size} objections`);
  }

  answered(e) {
    const st = this.st;
    const b = e.body;
    if (!st.objections.has(b.objection) || st.answered.has(b.objection)) {
      return this.fail(
        "objections",
        e,
        "an answer to no open objection of this claim",
        "an unanswered objection's seq",
        b.objection,
      );
    }
    st.answered.add(b.objection);
    this.f.ok("objections", `${st.answered.size} of ${st.objections.size} answered`);
  }

  appealed(e) {
    const st = this.st;
    const name = "decision";
    if (!st.course.mayAppeal || st.decidedAt === null) {
      return this.fail(name, e, "an appeal of a claim not rejected", "rejected", st.stage);
    }
    const until = st.rules.appeal_until(st.decidedAt);
    if (e.time > until) {
      return this.fail(name, e, "an appeal after its window", `at or before ${formatTime(until)}`, formatTime(e.time));
    }
    st.course = st.course.appealLodged();
    st.appealedSeq = e.seq;
  }

  // -- panels -----------------------------------------------------------

  async seedSize(e, b) {
    const st = this.st;
    const name = "seed";
    let want;
    let why;
    if (st.course.stage === Stage.APPEALED) {
      want = (st.appealedSeq || 0) + 1;
      why = "the entry after the appeal";
    } else if (st.course.stage === Stage.REDRAW) {
      want = (st.redrawSeq || 0) + 1;
      why = "the entry after the missed quorum";
    } else {
      const until = st.notice.objections_until;
      const first = this.proven.entries.get(b.seed_size);
      const before = this.proven.entries.get(b.seed_size - 1);
      if (first === undefined || before === undefined) {
        return this.fail(
          name,
          e,
          "the bundle lacks the entries around the seed size",
          `entries ${b.seed_size - 1} and ${b.seed_size}`,
          "missing",
        );
      }
      if (!(before.time < until && until <= first.time)) {
        return this.fail(
          name,
          e,
          "the seed size is not the first entry at or after the objection window's end",
          `entry ${b.seed_size - 1} before and entry ${b.seed_size} at or after ${formatTime(until)}`,
          `${formatTime(before.time)} and ${formatTime(first.time)}`,
        );
      }
      want = b.seed_size;
      why = "the first entry after the objection window";
    }
    if (b.seed_size !== want) return this.fail(name, e, `the seed size is ${why}`, want, b.seed_size);
    const rules = this.book.in_force(e.time) || st.rules;
    if (rules.witnesses_required || (b.witnessed !== null && b.witnessed !== undefined)) {
      return this.witnessed(e, b, rules);
    }
    let how;
    try {
      how = await this.proven.proveSeed(b.seed_size, b.seed);
    } catch (err) {
      rethrowUnlessOurs(err);
      return this.fail(
        name,
        e,
        `the seed is not proven to be the log's root at size ${b.seed_size}: ${err.message}`,
        "the log's root",
        toHex(b.seed),
      );
    }
    this.f.ok(name, `seed = the log's root at size ${b.seed_size} (${how})`);
  }

  // The seed of a witnessed draw: the rules' witnesses cosigned the
  // checkpoint, which is the log's own, and the seed is derived from it.
  async witnessed(e, b, rules) {
    const name = "seed";
    let derived;
    try {
      derived = await checkWitnessed(e.seq, b.witnessed, b.seed_size, rules, null);
    } catch (err) {
      if (!(err instanceof RuleViolation)) throw err;
      return this.fail(name, e, err.message, err.expected, err.actual);
    }
    const checkpoint = b.witnessed.checkpoint;
    const origin = this.proven.checkpoint.origin;
    if (checkpoint.origin !== origin) {
      return this.fail(name, e, "the witnessed checkpoint is another log's", origin, checkpoint.origin);
    }
    let how;
    try {
      how = await this.proven.proveSeed(checkpoint.size, checkpoint.root_hash);
    } catch (err) {
      rethrowUnlessOurs(err);
      return this.fail(
        name,
        e,
        `the witnessed checkpoint is not proven to be the log's at size ${checkpoint.size}: ${err.message}`,
        "the log's root",
        toHex(checkpoint.root_hash),
      );
    }
    if (!equalBytes(b.seed, derived)) {
      return this.fail(name, e, "the seed is not the one the witnessed checkpoint gives", toHex(derived), toHex(b.seed));
    }
    const names = b.witnessed.cosignatures.map((c) => c.name).join(", ");
    this.f.ok(name, `seed derived from the checkpoint at size ${checkpoint.size}, cosigned by ${names} (${how})`);
  }

  pool(e, b) {
    for (const p of this.proven.ofType("jury.pool")) {
      if (p.body.period === b.pool_period && p.seq < e.seq) return [p.body, p.seq];
    }
    this.fail(
      "panel",
      e,
      "the bundle has no jury.pool of the panel's pool period before it",
      `jury.pool of ${formatDate(b.pool_period)}`,
      "none",
    );
    return null;
  }

  async panel(e) {
    const st = this.st;
    const b = e.body;
    const filed = st.filed.body;
    const name = "panel";
    if (!st.course.awaitingPanel) return this.fail(name, e, "a panel for a claim not awaiting one", "awaiting", st.stage);
    const objectors = [...st.objections.keys()];
    const allAnswered = st.answered.size === objectors.length && objectors.every((s) => st.answered.has(s));
    if (st.course.answersDue && !allAnswered) {
      return this.fail(name, e, "objections unanswered at the draw", st.objections.size, st.answered.size);
    }
    const call = st.course.nextPanel(st.rules);
    const until = st.rules.votes_until(e.time);
    for (const [label, want, got] of [
      ["round", call.round, b.round],
      ["appeal flag", call.appeal, b.appeal],
      ["panel size", call.size, b.jurors.length],
      ["voting window", formatTime(until), formatTime(b.votes_until)],
    ]) {
      if (want !== got) return this.fail(name, e, `the ${label} is not the rules'`, want, got);
    }
    if (b.jurors.includes(filed.member)) return this.fail(name, e, "the claimant is on the panel", "not on it", filed.member);
    await this.seedSize(e, b);
    const found = this.pool(e, b);
    if (found !== null) await this.sortition(e, b, found[0], found[1]);
    for (const juror of b.jurors) st.pastJurors.add(juror);
    st.course = st.course.drawn(call);
    st.panel = Panel.of(b);
    this.f.ok(name, `${b.jurors.length} jurors, round ${b.round}`);
  }

  async sortition(e, b, pool, poolSeq) {
    const st = this.st;
    const filed = st.filed.body;
    const lapsed = lapsedJurors(this.proven, poolSeq, e.seq);
    const excluded = new Set([filed.member, ...st.objections.values(), ...st.pastJurors]);
    const drawn = [];
    try {
      const indices = await candidateIndices(b.seed, b.claim, b.round, b.appeal, pool.size);
      for await (const index of indices) {
        if (drawn.length === b.jurors.length) break;
        const member = await this.proven.juror(pool, index);
        if (excluded.has(member) || lapsed.has(member)) continue;
        if (member !== b.jurors[drawn.length]) {
          return this.fail(
            "sortition",
            e,
            `juror ${drawn.length} is not the draw (pool index ${index})`,
            member,
            b.jurors[drawn.length],
          );
        }
        drawn.push(member);
      }
    } catch (err) {
      rethrowUnlessOurs(err);
      return this.fail(
        "sortition",
        e,
        `the draw cannot be followed: ${err.message}`,
        `the drawn pool leaves proven against the root ${toHex(pool.root)}`,
        "a leaf missing or not proven",
      );
    }
    if (drawn.length !== b.jurors.length) {
      return this.fail("sortition", e, "the pool ran out before the panel was full", b.jurors.length, drawn.length);
    }
    this.f.ok("sortition", `${drawn.length} jurors drawn from a pool of ${pool.size}`);
  }

  // -- votes and decisions ------------------------------------------------

  voting(e, rnd) {
    const st = this.st;
    if (st.course.stage !== Stage.VOTING || st.panel === null || st.panel.round !== rnd) {
      this.fail("votes", e, "a vote with no panel voting in its round", st.course.round, rnd);
      return null;
    }
    return st.panel;
  }

  sealed(e) {
    const b = e.body;
    const panel = this.voting(e, b.round);
    if (panel === null) return;
    if (!panel.members.has(b.juror)) return this.fail("votes", e, "a vote by a juror not on the panel", "a drawn juror", b.juror);
    if (panel.sealed.has(b.juror)) return this.fail("votes", e, "a second vote by one juror", "one vote", "two");
    if (e.time > panel.votesUntil) {
      return this.fail("votes", e, "a vote after the window", `at or before ${formatTime(panel.votesUntil)}`, formatTime(e.time));
    }
    panel.sealed.set(b.juror, b);
    this.f.ok("votes", `${panel.sealed.size} votes sealed in round ${b.round}`);
  }

  async revealed(e) {
    const st = this.st;
    const b = e.body;
    const panel = this.voting(e, b.round);
    if (panel === null) return;
    const sealed = panel.sealed.get(b.juror);
    if (e.time <= panel.votesUntil) {
      return this.fail("votes", e, "a reveal inside the voting window", `after ${formatTime(panel.votesUntil)}`, formatTime(e.time));
    }
    if (sealed === undefined || panel.revealed.has(b.juror)) {
      return this.fail("votes", e, "a reveal of no sealed vote, or twice", "one", b.juror);
    }
    if (!b.reason && st.rules.reason_required) return this.fail("votes", e, "the rules ask for a reason", "a reason", "none");
    try {
      await checkReveal(sealed, b, { seq: e.seq });
    } catch (err) {
      rethrowUnlessOurs(err);
      return this.fail("votes", e, err.message, toHex(sealed.commitment), "another opening");
    }
    panel.count(b.juror, b.choice);
    this.f.ok("votes", `${panel.revealed.size} reveals open their sealed votes`);
  }

  decided(e) {
    const st = this.st;
    const b = e.body;
    const name = "decision";
    if (b.round === 0) {
      const filed = st.filed.body;
      if (!st.course.mayCloseIneligible(st.waiting(filed.diagnosed))) {
        return this.fail(
          name,
          e,
          "a decision without a panel for a claim not in the waiting period",
          "a filed claim diagnosed in the waiting period",
          st.stage,
        );
      }
      st.course = st.course.closed();
      this.f.ok(name, "ineligible: diagnosed inside the waiting period");
      return;
    }
    const panel = st.panel;
    if (st.course.stage !== Stage.VOTING || panel === null || b.round !== panel.round) {
      return this.fail(name, e, "a decision with no panel voting", st.course.round, b.round);
    }
    if (e.time <= panel.votesUntil) {
      return this.fail(name, e, "a decision inside the voting window", `after ${formatTime(panel.votesUntil)}`, formatTime(e.time));
    }
    if (b.approvals !== panel.approvals || b.rejections !== panel.rejections) {
      return this.fail(
        name,
        e,
        "the tally is not the count of the revealed votes",
        `${panel.approvals} approve, ${panel.rejections} reject`,
        `${b.approvals} approve, ${b.rejections} reject`,
      );
    }
    const verdict = panel.verdict(st.rules, st.notice !== null ? st.notice.amount : 0);
    const want = verdict.outcome;
    if (b.outcome !== want) return this.fail(name, e, "the outcome is not what the votes give", want, b.outcome);
    if (b.amount !== verdict.amount) return this.fail(name, e, "the amount is not the notice's", verdict.amount, b.amount);
    st.panel = null;
    st.decidedAt = e.time;
    st.course = st.course.decided(st.rules, want);
    if (st.course.stage === Stage.APPROVED) st.amount = verdict.amount;
    else if (st.course.stage === Stage.REDRAW) st.redrawSeq = e.seq;
    this.f.ok(name, `${want} by ${b.approvals} to ${b.rejections} in round ${b.round}`);
  }

  payout(e) {
    const st = this.st;
    const b = e.body;
    this.paid.push(e);
    const name = "payout";
    if (st.course.stage === Stage.PAID) return this.fail(name, e, "a second payout", "one payout", "two");
    if (st.course.stage !== Stage.APPROVED) return this.fail(name, e, "a payout of a claim not approved", "approved", st.stage);
    if (b.amount !== st.amount) return this.fail(name, e, "the payout is not the amount decided", st.amount, b.amount);
    st.course = st.course.paid();
    this.f.ok(name, `paid ${b.amount} fen once, in period ${formatDate(b.period)}`);
  }
}

// verify-claim: the bundle's checkpoint and entries, the rulebook and claim
// `claim`'s whole history; the findings, in order.
export async function checkClaim(bundle, verifier, origin, claim) {
  const [proven, opened] = await openBundle(bundle, verifier, origin);
  const f = new Findings();
  f.extend(opened);
  if (proven === null) return f.result();
  const book = await rulebookOf(proven, f);
  if (book !== null) {
    const outcome = await checkClaimHistory(proven, book, claim, f);
    f.ok("stage", `claim ${claim} is ${outcome.stage}`);
  }
  return f.result();
}
