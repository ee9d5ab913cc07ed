// verify-deduction: a member's deduction, checked from a bundle. Mirrors
// verifiable/pool/deduction.py.
//
// checkDeduction proves, from a bundle and the log's key, what DESIGN §5 asks
// of a member's deduction, under the client's check ids:
//
// - "checkpoint", "inclusion": every entry used is in the signed tree;
// - "rules": the rulebook from the genesis entry and the rule changes;
// - "period entry": the period's period.closed;
// - "roster": the member's leaf in the roster tree (roster_root,
//   roster_size), RFC 9162 inclusion;
// - "paid claims": the full list hashes to claims_root, counts claims_count
//   and adds up to claims_total;
// - "surplus": surplus_in is the previous period's surplus_out (or 0 for the
//   pool's first period), the previous period proven to be the one the
//   calendar puts right before;
// - "share": fee, share, collected and surplus out are exactly periodFigures
//   of those figures under the rules in force at the period's moment;
// - "sample": each sampled claim is in the paid list, and its whole history
//   passes checkClaimHistory, its payout ("sample payout") in this period,
//   once, at the listed amount.

import { checkClaimHistory } from "./claim_check.js";
import { equalBytes, toHex } from "./encoding.js";
import { MutualogError } from "./errors.js";
import { Findings } from "./findings.js";
import { formatDate, formatTime } from "./fields.js";
import { periodFigures } from "./periods.js";
import { openBundle, rulebookOf } from "./proven.js";
import { paidClaimsRoot, verifyRosterMembership } from "./roster.js";
import { moment, nextNotice } from "./rules.js";

// period.closed fields and the check that owns each (claims_* are "paid claims").
const SHARE_FIELDS = [
  ["fee_rate_bp", "share"],
  ["fee", "share"],
  ["sharing", "share"],
  ["share", "share"],
  ["collected", "share"],
  ["surplus_out", "share"],
];

function rethrowUnlessOurs(err) {
  if (!(err instanceof MutualogError)) throw err;
}

// The findings, and the period's figures (its period.closed body) when its
// entry was found.
export class DeductionResult {
  constructor(findings, closed) {
    this.findings = findings;
    this.closed = closed;
  }

  get ok() {
    return this.findings.length > 0 && this.findings.every((f) => f.status === "ok");
  }
}

function periodEntry(proven, period) {
  const found = [...proven.ofType("period.closed")].filter((e) => e.body.period === period);
  return found.length === 1 ? found[0] : null;
}

// The surplus the period must carry in, or null (finding recorded).
function surplusIn(proven, book, entry, f) {
  const body = entry.body;
  const genesis = book.changes[0];
  const first = nextNotice(genesis.time, genesis.rules);
  if (body.period === first) {
    f.ok("surplus", `the pool's first period (${formatDate(first)}) carries in 0`);
    return 0;
  }
  for (const prev of proven.ofType("period.closed")) {
    const pb = prev.body;
    if (pb.period >= body.period || prev.seq >= entry.seq) continue;
    const rules = book.in_force(moment(pb.period));
    if (rules !== null && rules !== undefined && nextNotice(moment(pb.period), rules) === body.period) {
      f.ok("surplus", `previous period ${formatDate(pb.period)} carried out ${pb.surplus_out} fen`);
      return pb.surplus_out;
    }
  }
  f.fail(
    "surplus",
    "the bundle has no period.closed of the period before this one",
    "the previous period's period.closed",
    "none",
    `period ${formatDate(body.period)}`,
  );
  return null;
}

// Every check of member `member`'s deduction for `period` ("YYYY-MM-DD").
export async function checkDeduction(bundle, verifier, origin, member, period) {
  const [proven, opened] = await openBundle(bundle, verifier, origin);
  const f = new Findings();
  f.extend(opened);
  if (proven === null) return new DeductionResult(f.result(), null);
  const d = bundle.deduction;
  if (d === null || d === undefined || d.member !== member || d.period !== period) {
    f.fail(
      "period entry",
      "the bundle is not for this member and period",
      `member ${member}, period ${formatDate(period)}`,
      d === null || d === undefined ? "no deduction" : `member ${d.member}, period ${formatDate(d.period)}`,
      "bundle.deduction",
    );
    return new DeductionResult(f.result(), null);
  }
  const book = await rulebookOf(proven, f);
  const entry = periodEntry(proven, period);
  if (entry === null) {
    f.fail(
      "period entry",
      `no single period.closed for ${formatDate(period)} in the bundle`,
      "one period.closed entry",
      "none or several",
      `period ${formatDate(period)}`,
    );
    return new DeductionResult(f.result(), null);
  }
  const closed = entry.body;
  f.ok("period entry", `period.closed at entry ${entry.seq}, share ${closed.share} fen`);
  const where = `period ${formatDate(period)}, entry ${entry.seq}`;
  try {
    await verifyRosterMembership(member, d.roster_index, closed.roster_size, [...d.roster_proof], closed.roster_root);
    f.ok("roster", `member ${member} is leaf ${d.roster_index} of ${closed.roster_size}`);
  } catch (err) {
    rethrowUnlessOurs(err);
    f.fail("roster", err.message, toHex(closed.roster_root), "another root", where);
  }
  await paidList(d.paid, closed, f, where);
  if (book !== null) {
    await share(proven, book, entry, d.paid, f, where);
    await sample(proven, book, bundle.claims, d.paid, period, f);
  }
  return new DeductionResult(f.result(), closed);
}

// "surplus" and "share": the surplus carried in, and the figures of the
// period's period.closed (`entry`) as the rules' formula gives them.
async function share(proven, book, entry, paid, f, where) {
  const closed = entry.body;
  const carried = surplusIn(proven, book, entry, f);
  if (carried !== null && carried !== closed.surplus_in) {
    f.fail("surplus", "surplus_in is not the previous surplus_out", carried, closed.surplus_in, where);
  }
  const rules = book.in_force(moment(closed.period));
  if (rules === null || rules === undefined || carried === null) return;
  let want;
  try {
    want = await periodFigures(closed.period, paid, closed.refunds, carried, closed.roster_root, closed.roster_size, rules);
  } catch (err) {
    rethrowUnlessOurs(err);
    // A paid list no honest period has (a claim listed twice): "paid
    // claims" names it; the formula cannot be applied to it.
    f.fail(
      "share",
      `the rules' formula cannot be applied to the paid list: ${err.message}`,
      "a list of distinct paid claims",
      "refused",
      where,
    );
    return;
  }
  for (const [name, check] of SHARE_FIELDS) {
    if (want[name] !== closed[name]) {
      f.fail(check, `${name} is not the rules' formula of the figures`, want[name], closed[name], `${where}, ${name}`);
    }
  }
  f.ok(
    "share",
    `${closed.share} fen = ceil((${closed.claims_total} + fee ${closed.fee} ` +
      `+ refunds ${closed.refunds} - surplus ${carried}) / ${closed.roster_size})`,
  );
}

async function paidList(paid, closed, f, where) {
  let root;
  try {
    root = await paidClaimsRoot(paid);
  } catch (err) {
    rethrowUnlessOurs(err);
    f.fail("paid claims", err.message, "a list of distinct claims", "", where);
    return;
  }
  // Summed in BigInt: a forged list may add up past 2^53.
  const total = paid.reduce((sum, [, amount]) => sum + BigInt(amount), 0n);
  const checks = [
    ["claims_root", toHex(closed.claims_root), toHex(root), equalBytes(closed.claims_root, root)],
    ["claims_count", closed.claims_count, paid.length, closed.claims_count === paid.length],
    ["claims_total", closed.claims_total, total, BigInt(closed.claims_total) === total],
  ];
  for (const [label, want, got, same] of checks) {
    if (!same) {
      f.fail("paid claims", `the paid list does not match ${label}`, want, got, `${where}, ${label}`);
      return;
    }
  }
  f.ok("paid claims", `${paid.length} claims, ${total} fen, root ${toHex(root)}`);
}

async function sample(proven, book, claims, paid, period, f) {
  const listed = new Map(paid);
  if (claims.length === 0) {
    f.ok("sample", "no claims sampled" + (paid.length === 0 ? " (none paid)" : ""));
    return;
  }
  for (const claim of claims) {
    if (!listed.has(claim)) {
      f.fail("sample", "a sampled claim is not in the period's paid list", "a listed claim", claim, `claim ${claim}`);
      continue;
    }
    const outcome = await checkClaimHistory(proven, book, claim, f);
    samplePayout(outcome, listed.get(claim), period, f);
  }
  f.ok("sample", `${claims.length} of ${paid.length} claims checked in full`);
}

function samplePayout(outcome, listed, period, f) {
  const where = `claim ${outcome.claim}`;
  if (outcome.paid.length !== 1) {
    f.fail("sample payout", "a sampled claim is paid once", 1, outcome.paid.length, where);
    return;
  }
  const paid = outcome.paid[0];
  const body = paid.body;
  if (body.period !== period || body.amount !== listed) {
    f.fail(
      "sample payout",
      "the payout is not the one the period lists",
      `${listed} fen in ${formatDate(period)}`,
      `${body.amount} fen in ${formatDate(body.period)}`,
      `${where}, entry ${paid.seq}`,
    );
    return;
  }
  if (paid.time >= moment(period)) {
    f.fail("sample payout", "paid after the period's moment", `before ${formatTime(moment(period))}`, formatTime(paid.time), where);
    return;
  }
  f.ok("sample payout", `each sampled claim paid once, in ${formatDate(period)}`);
}
