// The juror's check of a vote receipt, from the receipt and the log's key
// alone. Mirrors the offline part of verifiable/pool/receipt_check.py
// (check_offline); the checks against the log read in full (--log) are not
// ported.
//
// The receipt carries the vote's opening (claim, round, juror, choice,
// reason, salt), the vote.sealed entry bytes, its leaf index, an inclusion
// proof and the signed checkpoint the proof is against. checkOffline checks
// that the checkpoint is signed by the log key (C2SP tlog-checkpoint); that
// the entry is a canonical vote.sealed entry at its index for the receipt's
// claim, round and juror; that its leaf hash is proven at that index under
// the checkpoint's root (RFC 9162 §2.1.3); and that its commitment is the one
// the opening gives (votes.js's voteCommitment).
//
// Each check is a finding {name, status, detail, ...} whose status is "ok",
// "FAIL", "pending" or "skip" (not run because an earlier check failed).

import { openCheckpoint } from "./checkpoint.js";
import { equalBytes, toHex } from "./encoding.js";
import { MalformedError, MutualogError } from "./errors.js";
import { parseEntry } from "./entry.js";
import { leafHash, verifyInclusion } from "./merkle.js";
import { voteCommitment } from "./votes.js";

const OK = "ok";
const FAIL = "FAIL";
const PENDING = "pending";
const SKIP = "skip";

function rethrowUnlessOurs(err) {
  if (!(err instanceof MutualogError)) throw err;
}

// The findings of one receipt, in the order they were checked.
export class ReceiptReport {
  constructor(receipt, origin) {
    this.receipt = receipt;
    this.origin = origin;
    this.checks = [];
    this.log = null;
  }

  add(name, status, detail) {
    this.checks.push({ name, status, detail, expected: "", found: "", where: "" });
    return status === OK;
  }

  get failed() {
    return this.checks.some((c) => c.status === FAIL);
  }

  get pending() {
    return this.checks.some((c) => c.status === PENDING);
  }

  // "failed", "incomplete" or "verified", as the client's --json says.
  get verdict() {
    if (this.failed) return "failed";
    return this.pending ? "incomplete" : "verified";
  }
}

function opening(r) {
  return `juror ${r.juror} on claim ${r.claim} round ${r.round}`;
}

// The checks that need only the receipt (receipt.js's parsed receipt) and
// the log's key (a note verifier).
export async function checkOffline(receipt, verifier, origin) {
  const report = new ReceiptReport(receipt, origin);
  const cp = await checkpointOf(report, verifier, origin);
  const sealed = await sealedEntry(report);
  await inclusion(report, cp);
  await commitment(report, sealed);
  return report;
}

async function checkpointOf(report, verifier, origin) {
  const r = report.receipt;
  let cp;
  try {
    cp = (await openCheckpoint(r.checkpoint, verifier, origin)).checkpoint;
  } catch (err) {
    rethrowUnlessOurs(err);
    report.add("checkpoint", FAIL, `the receipt's checkpoint does not verify: ${err.message}`);
    return null;
  }
  if (cp.size !== BigInt(r.tree_size)) {
    report.add(
      "checkpoint",
      FAIL,
      `signed by ${verifier.name}, but of size ${cp.size} while the receipt's tree_size is ${r.tree_size}`,
    );
    return null;
  }
  report.add("checkpoint", OK, `signed by ${verifier.name}: size ${cp.size}, root ${toHex(cp.rootHash)}`);
  return cp;
}

async function sealedEntry(report) {
  const r = report.receipt;
  let body;
  try {
    const entry = await parseEntry(r.entry, { seq: r.leaf_index });
    body = entry.body;
    if (entry.type !== "vote.sealed") {
      throw new MalformedError(`entry ${entry.seq}: a ${entry.type} entry, not vote.sealed`);
    }
    if (body.claim !== r.claim || body.round !== r.round || body.juror !== r.juror) {
      throw new MalformedError(
        `entry ${entry.seq}: seals the vote of juror ${body.juror} on claim ${body.claim} ` +
          `round ${body.round}, not the receipt's ${opening(r)}`,
      );
    }
  } catch (err) {
    rethrowUnlessOurs(err);
    report.add("sealed entry", FAIL, err.message);
    return null;
  }
  report.add("sealed entry", OK, `entry ${r.leaf_index} is a canonical vote.sealed of ${opening(r)}`);
  return body;
}

async function inclusion(report, checkpoint) {
  const r = report.receipt;
  if (checkpoint === null) {
    report.add("inclusion", SKIP, "no verified checkpoint to prove the entry against");
    return;
  }
  try {
    await verifyInclusion(
      await leafHash(r.entry),
      BigInt(r.leaf_index),
      checkpoint.size,
      [...r.inclusion_proof],
      checkpoint.rootHash,
    );
  } catch (err) {
    rethrowUnlessOurs(err);
    report.add("inclusion", FAIL, `the inclusion proof does not verify: ${err.message}`);
    return;
  }
  report.add("inclusion", OK, `leaf ${r.leaf_index} is in the checkpoint's tree of size ${checkpoint.size}`);
}

async function commitment(report, sealed) {
  const r = report.receipt;
  if (sealed === null) {
    report.add("commitment", SKIP, "no sealed entry to compare the opening with");
    return;
  }
  let computed;
  try {
    computed = await voteCommitment(r.claim, r.round, r.juror, r.choice, r.reason, r.salt);
  } catch (err) {
    rethrowUnlessOurs(err);
    report.add("commitment", FAIL, `the receipt's opening is not a valid vote: ${err.message}`);
    return;
  }
  if (!equalBytes(computed, sealed.commitment)) {
    report.add(
      "commitment",
      FAIL,
      `the opening (${r.choice}, reason ${JSON.stringify(r.reason)}, salt ${toHex(r.salt)}) gives ` +
        `commitment ${toHex(computed)}; the sealed entry holds ${toHex(sealed.commitment)}`,
    );
  } else if (!equalBytes(computed, r.commitment)) {
    report.add(
      "commitment",
      FAIL,
      `the opening gives the sealed commitment ${toHex(computed)}, but the receipt states ${toHex(r.commitment)}`,
    );
  } else {
    report.add("commitment", OK, `the opening (${r.choice}) gives the sealed commitment ${toHex(computed)}`);
  }
}
