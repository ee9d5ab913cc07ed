// The verifier page's entry points: what `mutualog verify-deduction`,
// `mutualog verify-claim` and `mutualog verify-receipt` (without --log, or
// with the claim's --bundle) do
// after reading their file, check id for check id. Mirrors the commands of
// client/commands/member.py around verifiable/pool/deduction.py,
// claim_check.py and receipt_check.py.
//
// Each resolves to {verdict, exit, findings, error, ...}:
// - verdict "VERIFIED" (exit 0): every check passed;
// - verdict "FAILED" (exit 1): a check failed, evidence against the log
//   (the client's "NOT VERIFIED");
// - verdict "PENDING" (exit 2): no verdict yet: a receipt check that cannot
//   be decided, or input that stops the command before any check (a file
//   that is not a bundle or a receipt, a verifier key that cannot be read);
//   `error` then says why, as the client's message does.
// findings are {name, status, detail, expected, found, where} in the order
// the client prints them. The client's "synced" check (the bundle's
// checkpoint is the one sync stored) is the page's to make: the bundle's
// checkpoint is given back as `checkpoint` ({origin, size, rootHash, note}),
// once its signature verified, for checks.js's checkConsistency.

import { openCheckpoint } from "./checkpoint.js";
import { checkClaim } from "./claim_check.js";
import { checkDeduction } from "./deduction.js";
import { encodeUtf8 } from "./encoding.js";
import { MutualogError } from "./errors.js";
import { parseBundle } from "./bundle.js";
import { readDate } from "./fields.js";
import { noteVerifier } from "./note.js";
import { parseReceipt } from "./receipt.js";
import { checkAgainstBundle, checkOffline } from "./receipt_check.js";

export const VERIFIED = "VERIFIED";
export const FAILED = "FAILED";
export const PENDING = "PENDING";
const EXIT = { [VERIFIED]: 0, [FAILED]: 1, [PENDING]: 2 };

function result(verdict, findings, extra = {}) {
  return { verdict, exit: EXIT[verdict], findings, error: "", ...extra };
}

// Stopped before any check: the client's exit 2 with its message.
function cannotVerify(message, extra = {}) {
  return result(PENDING, [], { ...extra, error: message });
}

// The client's argument types (ID, PERIOD): refused before the file is read.
function checkId(value, what) {
  if (typeof value !== "string" || !/^[0-9a-f]{32}$/.test(value)) {
    throw new MutualogError(`${what}: expected 32 lowercase hex digits, got ${JSON.stringify(value)}`);
  }
}

function checkPeriod(value) {
  try {
    readDate(value, "--period");
  } catch (err) {
    if (!(err instanceof MutualogError)) throw err;
    throw new MutualogError(`--period: expected a period's notice date YYYY-MM-DD, got ${JSON.stringify(value)}`);
  }
}

function bundleVerdict(findings) {
  return findings.length > 0 && findings.every((f) => f.status === "ok") ? VERIFIED : FAILED;
}

// The log's key and origin (resolve_key with --key: the origin defaults to
// the key's name); throws the refusal as the client words it.
async function logKey(verifierKey, origin) {
  let verifier;
  try {
    verifier = await noteVerifier(verifierKey);
  } catch (err) {
    if (!(err instanceof MutualogError)) throw err;
    throw new MutualogError(`--key: ${err.message}`);
  }
  return [verifier, origin || verifier.name];
}

async function readBundle(bundleText) {
  try {
    return await parseBundle(encodeUtf8(bundleText));
  } catch (err) {
    if (!(err instanceof MutualogError)) throw err;
    throw new MutualogError(`not a verification bundle: ${err.message}`);
  }
}

// The bundle's checkpoint once its signature verified, else null.
async function signedCheckpoint(bundle, verifier, origin) {
  try {
    const { checkpoint } = await openCheckpoint(bundle.checkpoint, verifier, origin);
    return { origin: checkpoint.origin, size: checkpoint.size, rootHash: checkpoint.rootHash, note: bundle.checkpoint };
  } catch (err) {
    if (!(err instanceof MutualogError)) throw err;
    return null;
  }
}

// Shared by the two bundle commands: the key, the bundle, its checkpoint.
async function openInputs(bundleText, verifierKey, origin) {
  const bundle = await readBundle(bundleText);
  const [verifier, logOrigin] = await logKey(verifierKey, origin);
  return { verifier, origin: logOrigin, bundle, checkpoint: await signedCheckpoint(bundle, verifier, logOrigin) };
}

// verify-deduction: member `member`'s deduction for `period` ("YYYY-MM-DD").
export async function verifyDeduction({ bundleText, verifierKey, origin, member, period }) {
  let inputs;
  try {
    checkId(member, "--member");
    checkPeriod(period);
    inputs = await openInputs(bundleText, verifierKey, origin);
  } catch (err) {
    if (!(err instanceof MutualogError)) throw err;
    return cannotVerify(err.message, { checkpoint: null, share: null, sample: [] });
  }
  const found = await checkDeduction(inputs.bundle, inputs.verifier, inputs.origin, member, period);
  return result(bundleVerdict(found.findings), found.findings, {
    checkpoint: inputs.checkpoint,
    share: found.closed ? found.closed.share : null,
    sample: [...inputs.bundle.claims],
  });
}

// verify-claim: claim `claim`'s whole history (without --redacted).
export async function verifyClaim({ bundleText, verifierKey, origin, claim }) {
  let inputs;
  try {
    checkId(claim, "CLAIM");
    inputs = await openInputs(bundleText, verifierKey, origin);
  } catch (err) {
    if (!(err instanceof MutualogError)) throw err;
    return cannotVerify(err.message, { checkpoint: null, stage: null });
  }
  const findings = await checkClaim(inputs.bundle, inputs.verifier, inputs.origin, claim);
  const stage = findings.find((f) => f.name === "stage");
  return result(bundleVerdict(findings), findings, {
    checkpoint: inputs.checkpoint,
    stage: stage ? stage.detail.split(" ").pop() : null,
  });
}

// verify-receipt: the receipt's own checks; with `bundleText` (the claim's
// bundle, fetched with ?since= the receipt's tree size), also its checks
// against the log, as verify-receipt --bundle.
export async function verifyReceipt({ receiptText, verifierKey, origin, bundleText = null }) {
  let verifier;
  let logOrigin;
  let receipt;
  let bundle = null;
  try {
    try {
      receipt = await parseReceipt(encodeUtf8(receiptText));
    } catch (err) {
      if (!(err instanceof MutualogError)) throw err;
      throw new MutualogError(`not a vote receipt: ${err.message}`);
    }
    [verifier, logOrigin] = await logKey(verifierKey, origin);
    if (bundleText !== null && bundleText !== undefined) bundle = await readBundle(bundleText);
  } catch (err) {
    if (!(err instanceof MutualogError)) throw err;
    return cannotVerify(err.message);
  }
  const report =
    bundle === null
      ? await checkOffline(receipt, verifier, logOrigin)
      : await checkAgainstBundle(receipt, verifier, logOrigin, bundle);
  const verdict = report.failed ? FAILED : report.pending ? PENDING : VERIFIED;
  return result(verdict, report.checks);
}
