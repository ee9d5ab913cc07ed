// Periods: each period's accounts and the money identity; a port of
// verifiable/pool/periods.py (period_figures, Ledger, check_conservation).
//
// A period is named by its notice date; its moment is 00:00 UTC on that
// date (rules.js: moment, nextNotice). The period.closed entry must carry
// exactly the figures periodFigures gives (docs/rules.md, "Periods"):
//
//     fee         = floor(aid * fee_rate_bp / 10,000)
//     need        = aid + fee + refunds - surplus_in
//     share       = 0 if need <= 0 or nobody shares, else ceil(need / sharing),
//                   at most claims_count * cap_per_claim when a cap is set
//     collected   = share * sharing
//     surplus_out = surplus_in + collected - aid - fee - refunds
//
// The arithmetic is BigInt throughout, as Python's integers: a sum of
// amounts, or a share times the roster, may pass 2^53. Each figure is given
// as a Number when it is a safe integer and as a BigInt otherwise, so it
// compares equal (===) with a body's field exactly when the two are equal.
//
// The accounts of periods not yet closed (Periods, PeriodBook) belong to a
// full replay of the log and are not ported.

import { MalformedError } from "./errors.js";
import { dateParts } from "./dates.js";
import { paidClaimsRoot } from "./roster.js";
import { RuleViolation, exact, floorDiv } from "./rules.js";

function integer(value, what) {
  if (typeof value === "bigint") return value;
  if (Number.isSafeInteger(value)) return BigInt(value);
  throw new MalformedError(`period figures: ${what} ${value} is not an integer`);
}

// The figures of `period` ("YYYY-MM-DD") from its paid claims ([claim, fen]
// pairs in log order), the refunds made in it, the surplus carried in, its
// roster (root and size) and its rules: the fields of its period.closed.
export async function periodFigures(period, paid, refunds, surplusIn, rosterRoot, rosterSize, rules) {
  dateParts(period);
  // The paid list is checked first (Python's sum would fail on a list that
  // is not amounts before paid_claims_root names what is wrong with it).
  const claimsRoot = await paidClaimsRoot(paid);
  const aid = paid.reduce((sum, [, amount]) => sum + BigInt(amount), 0n);
  const fee = integer(rules.fee(aid), "fee");
  const size = integer(rosterSize, "roster size");
  const need = aid + fee + integer(refunds, "refunds") - integer(surplusIn, "surplus in");
  let share = need <= 0n || size === 0n ? 0n : -floorDiv(-need, size);
  share = integer(rules.capped_share(share, paid.length), "share");
  const collected = share * size;
  return Object.freeze({
    period,
    claims_count: paid.length,
    claims_total: exact(aid),
    claims_root: claimsRoot,
    fee: exact(fee),
    fee_rate_bp: rules.fee_rate_bp,
    refunds: exact(integer(refunds, "refunds")),
    surplus_in: exact(integer(surplusIn, "surplus in")),
    surplus_out: exact(integer(surplusIn, "surplus in") + collected - aid - fee - integer(refunds, "refunds")),
    sharing: exact(size),
    share: exact(share),
    collected: exact(collected),
    roster_root: rosterRoot,
    roster_size: exact(size),
  });
}

// Running totals over every closed period, in fen (BigInt).
export class Ledger {
  constructor(collected = 0n, aid = 0n, fees = 0n, refunds = 0n, surplus = 0n) {
    Object.assign(this, { collected, aid, fees, refunds, surplus });
    Object.freeze(this);
  }

  // The totals after `closed` (a period.closed body).
  add(closed) {
    return new Ledger(
      this.collected + integer(closed.collected, "collected"),
      this.aid + integer(closed.claims_total, "claims total"),
      this.fees + integer(closed.fee, "fee"),
      this.refunds + integer(closed.refunds, "refunds"),
      integer(closed.surplus_out, "surplus out"),
    );
  }
}

// Money is conserved to the fen: collected = aid + fees + refunds + surplus;
// RuleViolation("money.conserved") otherwise.
export function checkConservation(ledger, seq = null) {
  const spent = ledger.aid + ledger.fees + ledger.refunds + ledger.surplus;
  if (ledger.collected !== spent) {
    throw new RuleViolation(
      "money.conserved",
      `collected ${ledger.collected} fen but aid ${ledger.aid} + fees ${ledger.fees} + ` +
        `refunds ${ledger.refunds} + surplus ${ledger.surplus} make ${spent}`,
      { seq, expected: spent, actual: ledger.collected },
    );
  }
}
