// What the log proves about a notice's structured facts (notice facts v1).
// Mirrors verifiable/pool/notice_check.py.
//
// A notice's facts repeat, coarsened, what the filing and the membership
// already fix: the month of the diagnosis, the whole months from joining to
// the diagnosis, that the waiting period was met, the amount requested and
// that amount held to the cap of the claimant's band. The hospital's grade,
// its place and the investigation summary are the operator's word: nothing
// in the log can confirm them.
//
// The redacted commitments must be one per document of the filing, none of
// them an original's commitment.

import { toHex, equalBytes } from "./encoding.js";
import { daysDate } from "./fields.js";
import { monthsBetween } from "./notice_facts.js";

// A notice's field that the log contradicts: the rule it breaks, what is
// wrong, what the log gives and what the notice says.
export class NoticeProblem {
  constructor(rule, message, expected, actual) {
    this.rule = rule;
    this.message = message;
    this.expected = expected;
    this.actual = actual;
    Object.freeze(this);
  }
}

// The first of `notice`'s facts and commitments that the filing (diagnosed
// on `diagnosed`, `requested` fen asked, `evidence` committed) and the
// claimant's joining time `joined` (POSIX seconds) contradict, or null.
// `joined` is null where the reader cannot see it: the months are then not
// checked.
export function noticeProblem(notice, { diagnosed, requested, cap, evidence, joined }) {
  let problem = factsProblem(notice, diagnosed, requested, cap, joined);
  if (problem === null && notice.redacted !== null && notice.redacted !== undefined) {
    problem = redactedProblem(notice.redacted, evidence);
  }
  return problem;
}

function factsProblem(notice, diagnosed, requested, cap, joined) {
  const facts = notice.facts;
  if (facts === null || facts === undefined) return null;
  const month = diagnosed.slice(0, 7);
  if (facts.diagnosed_month !== month) {
    return new NoticeProblem(
      "notice.diagnosed_month",
      "the notice's month of diagnosis is not the filing's",
      month,
      facts.diagnosed_month,
    );
  }
  if (joined !== null) {
    const months = monthsBetween(daysDate(Math.floor(joined / 86400)), diagnosed);
    if (facts.months_member !== months) {
      return new NoticeProblem(
        "notice.months_member",
        "the notice's months of membership are not those from joining to diagnosis",
        months,
        facts.months_member,
      );
    }
  }
  if (!facts.waiting_met) {
    // A claim inside the waiting period gets no notice at all.
    return new NoticeProblem("notice.waiting_met", "a noticed claim met the waiting period", true, facts.waiting_met);
  }
  if (facts.requested !== requested) {
    return new NoticeProblem(
      "notice.requested",
      "the notice's amount requested is not the filing's",
      requested,
      facts.requested,
    );
  }
  const capped = Math.min(requested, cap);
  if (facts.capped !== capped) {
    return new NoticeProblem(
      "notice.capped",
      `the amount capped is the amount requested held to the band's cap (${cap})`,
      capped,
      facts.capped,
    );
  }
  return null;
}

function redactedProblem(redacted, evidence) {
  if (redacted.length !== evidence.length) {
    return new NoticeProblem(
      "notice.redacted",
      "one redacted copy per document of the filing",
      evidence.length,
      redacted.length,
    );
  }
  for (let i = 0; i < redacted.length; i++) {
    if (evidence.some((original) => equalBytes(original, redacted[i]))) {
      return new NoticeProblem(
        "notice.redacted",
        `redacted copy ${i} has an original document's commitment`,
        "a commitment of its own",
        toHex(redacted[i]),
      );
    }
  }
  return null;
}
