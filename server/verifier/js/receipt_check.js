// The juror's check of a vote receipt, from the receipt and the log's key
// alone (checkOffline), or with the claim's bundle (checkAgainstBundle).
// Mirrors verifiable/pool/receipt_check.py's check_offline and
// check_against_bundle; the log read in full (--log) is not ported: the
// claim's bundle gives the page the same checks, check id for check id.
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
import { openBundle } from "./proven.js";
import { RuleViolation } from "./rules.js";
import { checkReveal, voteCommitment } from "./votes.js";

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
  await offline(report, verifier, origin);
  return report;
}

async function offline(report, verifier, origin) {
  const checkpoint = await checkpointOf(report, verifier, origin);
  const sealed = await sealedEntry(report);
  await inclusion(report, checkpoint);
  await commitment(report, sealed);
  return { checkpoint, sealed };
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

// --- the checks against a claim's bundle ---------------------------------------

// What was read of the receipt's round: its reveals up to its decision.
class RoundRead {
  constructor(receipt) {
    this.receipt = receipt;
    this.reveals = [];
    this.decision = null;
  }

  take(index, entry) {
    const r = this.receipt;
    if (this.decision !== null) return;
    const body = entry.body;
    const ours = body.claim === r.claim && body.round === r.round;
    if (entry.type === "vote.revealed" && ours) this.reveals.push([index, body]);
    else if (entry.type === "claim.decided" && ours) this.decision = [index, body];
  }
}

// check_against_bundle: the offline checks, then the claim's bundle (a
// parsed bundle.js bundle, fetched with ?since= the receipt's tree size) in
// place of the whole log: "log checkpoint", "log entries", "consistency",
// "reveal" and "tally".
export async function checkAgainstBundle(receipt, verifier, origin, bundle) {
  const report = new ReceiptReport(receipt, origin);
  report.log = "bundle";
  const off = await offline(report, verifier, origin);
  const r = report.receipt;
  const [proven, opened] = await openBundle(bundle, verifier, origin);
  if (proven === null) {
    report.add("log checkpoint", FAIL, `bundle: the checkpoint does not verify: ${opened[0].detail}`);
    return report;
  }
  const size = proven.checkpoint.size;
  report.add("log checkpoint", OK, `bundle: signed by ${verifier.name}, size ${size}`);
  const unproven = opened.filter((f) => f.status === FAIL).map((f) => f.detail);
  if (unproven.length > 0) {
    report.add("log entries", FAIL, `bundle: ${unproven.join("; ")}`);
    return report;
  }
  if (!bundle.claims.includes(r.claim)) {
    report.add(
      "log entries",
      FAIL,
      `the bundle is for claims ${bundle.claims.join(", ") || "none"}, not the receipt's claim ${r.claim}`,
    );
    return report;
  }
  report.add("log entries", OK, `${proven.entries.size} entries of the claim, each proven`);
  const read = new RoundRead(r);
  for (const index of [...proven.entries.keys()].sort((a, b) => a - b)) {
    read.take(index, proven.entries.get(index));
  }
  await bundleConsistency(report, off, proven);
  await round(report, off, read, size);
  return report;
}

// The receipt's checkpoint is a prefix of the bundle's, by the consistency
// proof from the receipt's size (the Python's comment says why that one).
async function bundleConsistency(report, off, proven) {
  const r = report.receipt;
  const size = proven.checkpoint.size;
  const treeSize = BigInt(r.tree_size);
  if (size < treeSize) {
    report.add(
      "consistency",
      PENDING,
      `the bundle's checkpoint has size ${size}, less than the receipt's (${r.tree_size}): fetch a newer bundle`,
    );
    return;
  }
  const item = proven.bundle.entries.find((e) => BigInt(e.index) === BigInt(r.leaf_index));
  const held = item !== undefined && proven.entries.has(item.index) ? item.data : null;
  if (held !== null && !equalBytes(held, r.entry)) {
    report.add("consistency", FAIL, `entry ${r.leaf_index} in the bundle differs from the receipt's entry: the log forked`);
    return;
  }
  if (off.checkpoint === null) {
    if (held === null) report.add("consistency", FAIL, `the bundle has no entry ${r.leaf_index}`);
    else report.add("consistency", OK, `entry ${r.leaf_index} is byte-identical to the receipt's`);
    return;
  }
  const proofs = proven.bundle.consistency.map((s) => BigInt(s.size));
  if (size > treeSize && !proofs.includes(treeSize)) {
    report.add(
      "consistency",
      PENDING,
      `the bundle holds no consistency proof from the receipt's size ${r.tree_size}: ` +
        `fetch the claim's bundle with since=${r.tree_size}`,
    );
    return;
  }
  let how;
  try {
    how = await proven.proveSeed(treeSize, off.checkpoint.rootHash);
  } catch (err) {
    rethrowUnlessOurs(err);
    report.add(
      "consistency",
      FAIL,
      `the receipt's checkpoint (size ${r.tree_size}) is not a prefix of the bundle's (size ${size}): ` +
        `${err.message}: the log forked`,
    );
    return;
  }
  report.add(
    "consistency",
    OK,
    `the receipt's checkpoint (size ${r.tree_size}) is a prefix of the log (size ${size}), ` +
      `by the ${how}; entry ${r.leaf_index} is the receipt's`,
  );
}

// "reveal" and "tally" on what was read (receipt_check.py's _round).
async function round(report, off, read, size) {
  if (off.sealed === null) {
    report.add("reveal", SKIP, "no valid sealed entry to match a reveal against");
    report.add("tally", SKIP, "no valid sealed entry");
    return;
  }
  const revealed = await reveal(report, off.sealed, read, size);
  tally(report, read, revealed);
}

async function reveal(report, sealed, read, size) {
  const r = report.receipt;
  const mine = read.reveals.filter(([, body]) => body.juror === r.juror);
  if (mine.length === 0) {
    if (read.decision === null) {
      report.add(
        "reveal",
        PENDING,
        `no vote.revealed of ${opening(r)} in the log's ${size} entries yet (the round's voting is not closed)`,
      );
    } else {
      report.add(
        "reveal",
        FAIL,
        `claim ${r.claim} round ${r.round} was decided at entry ${read.decision[0]} ` +
          `without a vote.revealed of juror ${r.juror}: the sealed vote was dropped`,
      );
    }
    return null;
  }
  const [seq, body] = mine[0];
  try {
    await checkReveal(sealed, body, { seq });
  } catch (err) {
    rethrowUnlessOurs(err);
    const why = err instanceof RuleViolation ? err.message : `entry ${seq}: the reveal is not a valid vote: ${err.message}`;
    report.add("reveal", FAIL, why);
    return null;
  }
  if (body.choice !== r.choice || body.reason !== r.reason || !equalBytes(body.salt, r.salt)) {
    report.add(
      "reveal",
      FAIL,
      `entry ${seq} reveals (${body.choice}, reason ${JSON.stringify(body.reason)}, salt ${toHex(body.salt)}); ` +
        `the receipt holds (${r.choice}, reason ${JSON.stringify(r.reason)}, salt ${toHex(r.salt)})`,
    );
    return null;
  }
  report.add("reveal", OK, `entry ${seq} reveals ${r.choice}, opening the sealed commitment as the receipt does`);
  return body;
}

function tally(report, read, revealed) {
  const r = report.receipt;
  if (read.decision === null) {
    report.add("tally", PENDING, `no claim.decided for claim ${r.claim} round ${r.round} in the log yet`);
    return;
  }
  const [seq, body] = read.decision;
  if (revealed === null) {
    report.add("tally", SKIP, "the juror's reveal did not check: nothing to count");
    return;
  }
  const reveals = read.reveals;
  const approvals = reveals.filter(([, v]) => v.choice === "approve").length;
  const rejections = reveals.length - approvals;
  if (body.approvals !== approvals || body.rejections !== rejections) {
    report.add(
      "tally",
      FAIL,
      `entry ${seq} decides with ${body.approvals} approve, ${body.rejections} reject; ` +
        `the round's ${reveals.length} reveals give ${approvals} approve, ${rejections} reject`,
    );
    return;
  }
  report.add(
    "tally",
    OK,
    `entry ${seq} (${body.outcome}) counts ${approvals} approve, ${rejections} reject: ` +
      `the round's ${reveals.length} reveals, this juror's ${r.choice} among them`,
  );
}
