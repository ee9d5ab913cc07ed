// A claim's life under the rules of its filing: the one state machine
// (docs/rules.md, §4-5). Mirrors verifiable/pool/claim_machine.py.
//
//     filed ─► noticed ─► voting ─► approved ─► paid
//       │                  │  ▲
//       │                  │  └── redraw (missed quorum, rounds left)
//       │                  └────► rejected ─► appealed ─► voting (2n+1) ─► ...
//       └─► closed (ineligible: illness inside the waiting period; no panel)
//
// Course is where a claim stands, with a pure transition for each step and
// the questions the rules answer before one; Panel is the panel of the
// current round and its votes. claim_check.js checks each entry against
// these answers and words a failure as a finding.

export const Stage = Object.freeze({
  FILED: "filed",
  NOTICED: "noticed",
  VOTING: "voting",
  REDRAW: "redraw",
  REJECTED: "rejected",
  APPEALED: "appealed",
  APPROVED: "approved",
  PAID: "paid",
  CLOSED: "closed",
});

// The stages in which the next entry about a claim's jury is a panel.
export const AWAITING_PANEL = Object.freeze([Stage.NOTICED, Stage.REDRAW, Stage.APPEALED]);
// The stages a claim never leaves.
export const FINAL = Object.freeze([Stage.PAID, Stage.CLOSED]);

// The panel the rules call for next: its round, its appeal flag and its
// number of jurors.
export class PanelCall {
  constructor(round, appeal, size) {
    this.round = round;
    this.appeal = appeal;
    this.size = size;
    Object.freeze(this);
  }
}

// The outcome a panel's tally gives ("approved", "rejected", "no_quorum"),
// and the amount decided with it.
export class Verdict {
  constructor(outcome, amount) {
    this.outcome = outcome;
    this.amount = amount;
    Object.freeze(this);
  }
}

// Where a claim stands; every transition returns a new one.
// round: the round of the last panel drawn (0: none yet), counted on across
// instances; appeal: the current instance is the appeal (2n+1 jurors, final);
// instanceRounds: panels drawn in the current instance; appealed: a
// claim.appealed was accepted (an appeal is allowed once).
export class Course {
  constructor({ stage = Stage.FILED, round = 0, appeal = false, instanceRounds = 0, appealed = false } = {}) {
    this.stage = stage;
    this.round = round;
    this.appeal = appeal;
    this.instanceRounds = instanceRounds;
    this.appealed = appealed;
    Object.freeze(this);
  }

  replace(changes) {
    return new Course({ ...this, ...changes });
  }

  // Whether the next step is a panel draw.
  get awaitingPanel() {
    return AWAITING_PANEL.includes(this.stage);
  }

  // Whether every objection must be answered before the next panel: only
  // before the first.
  get answersDue() {
    return this.stage === Stage.NOTICED;
  }

  // Whether the claimant may appeal now: a first-instance rejection, which
  // decided() gives only when the rules allow appeals.
  get mayAppeal() {
    return this.stage === Stage.REJECTED;
  }

  // Whether a decision without a panel (round 0) may close the claim: only a
  // filed claim diagnosed inside the waiting period.
  mayCloseIneligible(waiting) {
    return this.stage === Stage.FILED && waiting;
  }

  // The panel called for while awaitingPanel: the next round, of the appeal
  // instance after an appeal (or a redraw in it), of 2n+1 jurors then and n
  // otherwise.
  nextPanel(rules) {
    const appeal = this.stage === Stage.APPEALED || (this.stage === Stage.REDRAW && this.appeal);
    return new PanelCall(this.round + 1, appeal, rules.panel_size_for(appeal));
  }

  noticed() {
    return this.replace({ stage: Stage.NOTICED });
  }

  // After the panel `call` is drawn: voting, the first panel of the appeal
  // instance starting that instance's count of rounds.
  drawn(call) {
    const rounds = call.appeal && !this.appeal ? 0 : this.instanceRounds;
    return this.replace({
      stage: Stage.VOTING,
      round: call.round,
      appeal: this.appeal || call.appeal,
      instanceRounds: rounds + 1,
    });
  }

  // After the current panel's decision: approved; a redraw after a missed
  // quorum with rounds left in the instance; else the instance is over, as a
  // rejection that may be appealed once, from first instance, if the rules
  // allow appeals, or closed.
  decided(rules, outcome) {
    let stage;
    if (outcome === "approved") stage = Stage.APPROVED;
    else if (outcome === "no_quorum" && this.instanceRounds < rules.max_rounds) stage = Stage.REDRAW;
    else if (!this.appeal && rules.appeals) stage = Stage.REJECTED;
    else stage = Stage.CLOSED;
    return this.replace({ stage });
  }

  appealLodged() {
    return this.replace({ stage: Stage.APPEALED, appealed: true });
  }

  paid() {
    return this.replace({ stage: Stage.PAID });
  }

  closed() {
    return this.replace({ stage: Stage.CLOSED });
  }
}

// The panel of the current round and its votes.
export class Panel {
  constructor(round, appeal, jurors, votesUntil, members = new Set()) {
    this.round = round;
    this.appeal = appeal;
    this.jurors = jurors;
    this.votesUntil = votesUntil;
    this.members = members;
    this.sealed = new Map();
    this.revealed = new Map();
    this.approvals = 0;
    this.rejections = 0;
  }

  // The panel a (checked) panel.drawn body draws, no vote cast yet.
  static of(body) {
    return new Panel(body.round, body.appeal, body.jurors, body.votes_until, new Set(body.jurors));
  }

  count(juror, choice) {
    this.revealed.set(juror, choice);
    if (choice === "approve") this.approvals += 1;
    else this.rejections += 1;
  }

  // What the revealed votes give: no quorum if too few were revealed, else
  // approval at the notice's amount if enough of them approve, else a
  // rejection.
  verdict(rules, noticeAmount) {
    const valid = this.approvals + this.rejections;
    if (valid < rules.quorum(this.jurors.length)) return new Verdict("no_quorum", 0);
    if (rules.approves(this.approvals, valid)) return new Verdict("approved", noticeAmount);
    return new Verdict("rejected", 0);
  }
}
