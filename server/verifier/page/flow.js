// What the page checks, in order, without touching the page itself: the
// checkpoint's signature, the witness policy, the consistency with the
// checkpoint this phone accepted before (refused when the new one does not
// extend it), then the bundle's or the receipt's own checks (verify.js).
// A finding here has the shape of verify.js's: {name, status, detail,
// expected, found, where}, status "ok" | "FAIL" | "pending" | "skip"; the
// page's own findings may add `words`, a key of the page's words shown in
// place of the English detail.

import { checkCheckpoint, checkConsistency, checkWitnesses } from "../js/checks.js";
import { encodeUtf8, fromHex, toHex } from "../js/encoding.js";
import { parseCheckpoint } from "../js/checkpoint.js";
import { MalformedError } from "../js/errors.js";
import { parseVerifierKey } from "../js/note.js";
import { TRUST_HEADER, parseTrustText } from "../js/trust_text.js";

export const BUNDLE_TYPE = "mutualog.bundle/v1";
export const RECEIPT_TYPE = "mutualog.vote-receipt/v1";

function finding(name, status, detail = "", words = "") {
  return { name, status, detail, expected: "", found: "", where: "", words };
}

// A checks.js finding ({name, ok, detail, error}) in the report's shape. A
// browser without Ed25519 gives no verdict: "pending", never "FAIL".
export function fromCheck(f) {
  if (f.ok) return finding(f.name, "ok", f.detail);
  return finding(f.name, f.error === "unsupported" ? "pending" : "FAIL", f.detail);
}

// The verdict of a list of findings: the first failed check, else the
// first that cannot be done yet, else VERIFIED.
export function verdictOf(findings) {
  const failed = findings.find((f) => f.status === "FAIL");
  if (failed) return { verdict: "FAILED", check: failed.name };
  const pending = findings.find((f) => f.status === "pending");
  if (pending) return { verdict: "PENDING", check: pending.name };
  return { verdict: "VERIFIED", check: "" };
}

// The log a verifier key names: a checkpoint's key is named by its origin.
export async function trustFromKey(text) {
  const key = await parseVerifierKey(text.trim());
  return { origin: key.name, verifierKey: text.trim() };
}

// Whether the typed text is meant as a trust text rather than a bare key.
export function isTrustText(text) {
  const typed = text.trim();
  return typed.startsWith(TRUST_HEADER.split(" ").slice(0, 2).join(" ")) || typed.includes("\n");
}

// What the typed (or scanned) field holds: an auditor's whole trust text
// (trust_text.js: the key, the witnesses and K), or a bare verifier key,
// which names no witness (K = 0). Anything on more than one line, or
// starting as a trust text does, is read as one, so that a damaged text is
// refused as a text rather than as a key. Resolves to {origin,
// verifierKey, witnesses, required, whole}; throws MalformedError.
export async function trustFromTyped(text) {
  const typed = text.trim();
  if (isTrustText(typed)) {
    const trust = await parseTrustText(typed);
    return {
      origin: trust.origin,
      verifierKey: trust.logKey,
      witnesses: trust.witnesses,
      required: trust.required,
      whole: true,
    };
  }
  return { ...(await trustFromKey(typed)), witnesses: [], required: 0, whole: false };
}

// A chosen or fetched document: a bundle or a vote receipt, read as JSON.
export function readDocument(text) {
  let obj;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new MalformedError(`not JSON: ${e.message}`);
  }
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    throw new MalformedError("not a JSON object");
  }
  if (obj.type !== BUNDLE_TYPE && obj.type !== RECEIPT_TYPE) {
    throw new MalformedError(`type: expected ${BUNDLE_TYPE} or ${RECEIPT_TYPE}`);
  }
  if (typeof obj.checkpoint !== "string") throw new MalformedError("checkpoint: missing");
  return { kind: obj.type === BUNDLE_TYPE ? "bundle" : "receipt", obj, text };
}

// A consistency proof carried by a bundle, from the tree of `size` leaves
// to the bundle's checkpoint, or null.
export function carriedProof(doc, size) {
  const list = doc.kind === "bundle" && Array.isArray(doc.obj.consistency) ? doc.obj.consistency : [];
  const found = list.find((p) => p && String(p.size) === size && Array.isArray(p.proof));
  return found ? found.proof.map((h) => fromHex(String(h))) : null;
}

async function consistencyStep(stored, presented, proofFor) {
  if (stored === null) return { found: finding("consistency", "ok", "", "consistency.first"), accept: true };
  const oldSize = BigInt(stored.size);
  const newSize = BigInt(presented.size);
  if (newSize === oldSize) {
    if (stored.root === presented.root) {
      return { found: finding("consistency", "ok", "", "consistency.same"), accept: false };
    }
    const detail = `size ${newSize}: root ${presented.root}, accepted before ${stored.root}`;
    return { found: finding("consistency", "FAIL", detail), refused: true };
  }
  if (newSize < oldSize) {
    const detail = `the tree of size ${newSize} is smaller than the one accepted before, of size ${oldSize}`;
    return { found: finding("consistency", "FAIL", detail), refused: true };
  }
  const proof = await proofFor(stored.size, presented.size);
  if (proof === null) {
    return { found: finding("consistency", "skip", "", "consistency.offline"), accept: false };
  }
  const f = fromCheck(await checkConsistency(oldSize, newSize, proof, fromHex(stored.root), fromHex(presented.root)));
  return f.status === "ok" ? { found: f, accept: true } : { found: f, refused: f.status === "FAIL" };
}

// What `mutualog sync` checks, on the log's witnessed checkpoint
// `noteText` under `trust`: "signature", "witnesses" (when the policy asks
// for any) and "consistency" with the checkpoint this phone accepted before.
// Resolves to {findings, accepted (the checkpoint to store, or null),
// refused (null, or {stored, presented}: the new one does not extend the
// stored one), presented}. `proofFor(oldSize, newSize)` resolves to a
// consistency proof, or null when none can be had.
export async function checkLog(trust, noteText, now, proofFor) {
  const findings = [];
  const [cp, signed] = await checkCheckpoint(
    encodeUtf8(noteText), trust.verifierKey, trust.origin, trust.witnesses, "signature");
  findings.push(fromCheck(cp));
  if (!cp.ok) return { findings, accepted: null, refused: null, presented: null };
  const presented = {
    size: signed.checkpoint.size.toString(),
    root: toHex(signed.checkpoint.rootHash),
    note: noteText,
  };
  const witnesses = await checkWitnesses(signed, trust.witnesses, trust.required, now);
  if (witnesses !== null) findings.push(fromCheck(witnesses));
  if (witnesses !== null && !witnesses.ok) return { findings, accepted: null, refused: null, presented };
  const step = await consistencyStep(trust.checkpoint, presented, proofFor);
  findings.push(step.found);
  return {
    findings,
    accepted: step.accept ? presented : null,
    refused: step.refused ? { stored: trust.checkpoint, presented } : null,
    presented,
  };
}

// The client's "synced": the document's checkpoint `noteText` is the
// checkpoint of reference (the witnessed one just checked, or offline the
// one this phone accepted): the same size and root, or, at another size,
// proven consistent with it. Its signature is verify.js's "checkpoint"
// check; here it is only read. Resolves to {found, refused}.
export async function checkSynced(reference, noteText, proofFor) {
  let cp;
  try {
    cp = parseCheckpoint(noteText.slice(0, noteText.indexOf("\n\n") + 1));
  } catch (e) {
    if (!(e instanceof MalformedError)) throw e;
    return { found: finding("synced", "FAIL", e.message), refused: null };
  }
  const doc = { size: cp.size.toString(), root: toHex(cp.rootHash), note: noteText };
  if (reference === null) return { found: finding("synced", "skip", "", "synced.nothing"), refused: null };
  if (doc.size === reference.size) {
    if (doc.root === reference.root) {
      return { found: finding("synced", "ok", `size ${doc.size}, root ${doc.root}`), refused: null };
    }
    const detail = `size ${doc.size}: root ${doc.root}, the log's ${reference.root}`;
    return { found: finding("synced", "FAIL", detail), refused: { stored: reference, presented: doc } };
  }
  const [older, newer] = BigInt(doc.size) < BigInt(reference.size) ? [doc, reference] : [reference, doc];
  const proof = await proofFor(older.size, newer.size);
  if (proof === null) return { found: finding("synced", "skip", "", "consistency.offline"), refused: null };
  const f = fromCheck(
    await checkConsistency(BigInt(older.size), BigInt(newer.size), proof, fromHex(older.root), fromHex(newer.root)),
  );
  const found = { ...f, name: "synced" };
  return { found, refused: f.status === "FAIL" ? { stored: reference, presented: doc } : null };
}

// The findings of the log's steps followed by the document's own, each
// check once: the first report of a name is kept, unless the document's
// says otherwise (a receipt's "consistency" is its checkpoint against the
// claim's bundle, not the page's against the stored checkpoint), so that no
// failure is lost from the verdict.
export function merged(first, second) {
  const seen = new Map(first.map((f) => [f.name, f.status]));
  return [...first, ...second.filter((f) => !seen.has(f.name) || seen.get(f.name) !== f.status)];
}
