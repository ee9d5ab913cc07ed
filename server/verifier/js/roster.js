// Member-set trees and the paid-claims list: a port of verifiable/pool/roster.py
// (docs/format.md section 5, "Member-set trees" and "Paid-claims list"), the
// parts a verifier needs. Every tree is an RFC 9162 §2.1.1 Merkle tree
// over SHA-256 (merkle.js).
//
// - Member-set leaf: a member id's 32 lowercase hex characters as 32 ASCII
//   bytes, so the leaf hash is SHA-256(0x00 || id) (rosterLeaf). The tree is
//   built over ids in strictly increasing order, so its root also commits to
//   "no duplicates" and one canonical order. The period roster and the juror
//   pool are both member-set trees.
// - Paid-claims leaf: the claim id's 32 ASCII bytes and the amount paid in
//   fen as an unsigned 64-bit big-endian integer (40 bytes), in the order of
//   the claim.paid entries (paidClaimsRoot).
//
// The server's streaming and summary forms of the roster (roster_summary,
// roster_summary_proof) serve proofs and are not ported: a verifier checks
// proofs, it does not make them.

import { concat, encodeUtf8, sha256 } from "./encoding.js";
import { MalformedError, VerificationError } from "./errors.js";
import { rootHash, verifyInclusion } from "./merkle.js";

export const ID_LENGTH = 32;
export const PAID_LEAF_LENGTH = ID_LENGTH + 8;

const HEX_ID = /^[0-9a-f]{32}$/;
const LEAF = Uint8Array.of(0);

function checkId(memberId, where) {
  if (typeof memberId !== "string" || !HEX_ID.test(memberId)) {
    const shown = typeof memberId === "string" ? JSON.stringify(memberId) : typeof memberId;
    throw new MalformedError(`${where}: expected an id of 32 lowercase hex characters, got ${shown}`);
  }
  return memberId;
}

// The member-set leaf hash of `memberId`: SHA-256(0x00 || id).
export function rosterLeaf(memberId) {
  checkId(memberId, "roster leaf");
  return sha256(concat(LEAF, encodeUtf8(memberId)));
}

// Throw MalformedError unless `sortedIds` are ids, distinct and strictly
// increasing, naming the first offending position. Ids are ASCII, so
// JavaScript's string order is Python's.
export function checkMemberIds(sortedIds, where = "member set") {
  if (!Array.isArray(sortedIds)) {
    throw new MalformedError(`${where}: expected a sequence of ids, got ${typeof sortedIds}`);
  }
  let previous = null;
  sortedIds.forEach((memberId, i) => {
    checkId(memberId, `${where}: id ${i}`);
    if (previous !== null && !(previous < memberId)) {
      const kind = previous === memberId ? "duplicate" : "out of order";
      throw new MalformedError(
        `${where}: id ${i} is ${kind}: ${memberId} after ${previous} ` +
          "(ids must be distinct and sorted in increasing order)",
      );
    }
    previous = memberId;
  });
}

// Leaf hashes of a member-set tree, after checkMemberIds.
export async function memberSetLeaves(sortedIds, where = "member set") {
  checkMemberIds(sortedIds, where);
  return Promise.all(sortedIds.map((id) => sha256(concat(LEAF, encodeUtf8(id)))));
}

// [root, count] of the member-set tree over `sortedIds`; `sizeHint`, if not
// null, is the count the caller expects (a period.closed's roster_size).
// The empty roster's root is SHA-256("").
export async function rosterRoot(sortedIds, sizeHint = null) {
  const where = "roster";
  if (sizeHint !== null && !(Number.isSafeInteger(sizeHint) && sizeHint >= 0)) {
    throw new MalformedError(`${where}: size hint ${sizeHint} is not a count`);
  }
  if (typeof sortedIds === "string") {
    throw new MalformedError(`${where}: expected an iterable of ids, got a single string`);
  }
  const leaves = await memberSetLeaves(sortedIds, where);
  if (sizeHint !== null && sizeHint !== leaves.length) {
    throw new MalformedError(`${where}: expected ${sizeHint} ids (size hint), got ${leaves.length}`);
  }
  return [await rootHash(leaves), leaves.length];
}

// Check that `memberId` is leaf `index` of the member-set tree of `size`
// leaves with root `root` (RFC 9162 §2.1.3.2). Resolves on success;
// MalformedError for arguments that cannot form a proof, VerificationError
// if the proof fails.
export async function verifyRosterMembership(memberId, index, size, proof, root) {
  const leaf = await rosterLeaf(memberId);
  try {
    await verifyInclusion(leaf, index, size, proof, root);
  } catch (e) {
    if (e instanceof VerificationError) {
      throw new VerificationError(`roster membership of ${memberId}: ${e.message}`);
    }
    throw e;
  }
}

function amountBytes(amount) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(amount));
  return out;
}

// The paid-claims leaf hash: SHA-256(0x00 || claim id || amount), the
// amount in fen as a big-endian uint64.
export function paidClaimLeaf(claim, amount) {
  const where = "paid claim leaf";
  checkId(claim, where);
  if (!Number.isSafeInteger(amount) || amount <= 0) {
    throw new MalformedError(`${where}: claim ${claim}: amount ${amount} is not a positive integer of fen`);
  }
  return sha256(concat(LEAF, encodeUtf8(claim), amountBytes(amount)));
}

// RFC 9162 root over a period's paid claims, [claim id, amount in fen]
// pairs in the order they were paid. A claim may appear once; the empty
// list's root is SHA-256("").
export async function paidClaimsRoot(paid) {
  if (!Array.isArray(paid)) throw new MalformedError(`paid claims: expected a list, got ${typeof paid}`);
  const seen = new Set();
  const leaves = [];
  for (let i = 0; i < paid.length; i++) {
    const item = paid[i];
    if (!Array.isArray(item) || item.length !== 2) {
      throw new MalformedError(`paid claims: item ${i} is not a (claim, amount) pair`);
    }
    const [claim, amount] = item;
    leaves.push(paidClaimLeaf(claim, amount));
    if (seen.has(claim)) throw new MalformedError(`paid claims: item ${i}: claim ${claim} is listed twice`);
    seen.add(claim);
  }
  return rootHash(await Promise.all(leaves));
}
