// RFC 9162 §2.1 Merkle tree hashing and proof verification: a port of
// verifiable/log/merkle.py, check for check.
//
// Sizes and indices are BigInt (a log may hold up to 2^64 - 1 leaves, past
// the 2^53 a Number holds exactly); a safe-integer Number is accepted too.
// Hashes are Uint8Array of exactly 32 bytes; a proof is an Array of them.
// Input that cannot be a valid proof for its claimed sizes throws
// MalformedError; a well-formed proof that does not lead to the expected
// root throws VerificationError. The verifiers resolve to undefined only on
// success.

import { concat, equalBytes, sha256, toHex } from "./encoding.js";
import { MalformedError, VerificationError } from "./errors.js";

export const HASH_SIZE = 32;
export const MAX_SIZE = (1n << 64n) - 1n;

const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);

// RFC 9162 §2.1.1: SHA-256(0x00 || data).
export function leafHash(data) {
  return sha256(concat(LEAF, data));
}

// RFC 9162 §2.1.1: SHA-256(0x01 || left || right).
export function nodeHash(left, right) {
  return sha256(concat(NODE, left, right));
}

// --- argument checks ----------------------------------------------------

function checkInt(value, name, where) {
  let n;
  if (typeof value === "bigint") n = value;
  else if (Number.isSafeInteger(value)) n = BigInt(value);
  else throw new MalformedError(`${where}: ${name} is ${typeof value}, expected an integer`);
  if (n < 0n || n > MAX_SIZE) {
    throw new MalformedError(`${where}: ${name} ${n} is outside 0..${MAX_SIZE}`);
  }
  return n;
}

function checkHash(value, name, where) {
  if (!(value instanceof Uint8Array)) {
    throw new MalformedError(`${where}: ${name} is not bytes, expected ${HASH_SIZE} bytes`);
  }
  if (value.length !== HASH_SIZE) {
    throw new MalformedError(`${where}: ${name} is ${value.length} bytes, expected ${HASH_SIZE}`);
  }
  return value;
}

function checkProofShape(proof, where) {
  if (!Array.isArray(proof)) {
    throw new MalformedError(`${where}: hashes given as ${typeof proof}, expected an array`);
  }
  return proof;
}

function bitLength(n) {
  return n === 0n ? 0 : n.toString(2).length;
}

function bitCount(n) {
  let count = 0;
  for (const digit of n.toString(2)) if (digit === "1") count++;
  return count;
}

function inclusionWhere(index, size) {
  return `inclusion proof for leaf ${index} in tree of size ${size}`;
}

function consistencyWhere(oldSize, newSize) {
  return `consistency proof from size ${oldSize} to size ${newSize}`;
}

function checkInclusionArgs(index, size) {
  const where = inclusionWhere(index, size);
  const n = checkInt(size, "size", where);
  const m = checkInt(index, "index", where);
  if (n === 0n) throw new MalformedError(`${where}: a tree of size 0 has no leaves`);
  if (m >= n) throw new MalformedError(`${where}: leaf index ${m} is not below tree size ${n}`);
  return [m, n];
}

function checkConsistencyArgs(oldSize, newSize) {
  const where = consistencyWhere(oldSize, newSize);
  const m = checkInt(oldSize, "old size", where);
  const n = checkInt(newSize, "new size", where);
  if (m === 0n) throw new MalformedError(`${where}: old size must be at least 1`);
  if (m > n) throw new MalformedError(`${where}: old size ${m} exceeds new size ${n}`);
  return [m, n];
}

// --- the tree hash ------------------------------------------------------

// RFC 9162 §2.1.1 MTH: the root of the tree of these leaf hashes. Pairing
// level by level and promoting an odd last node unchanged builds exactly the
// RFC's tree (split at the largest power of two below n).
export async function rootHash(leafHashes) {
  checkProofShape(leafHashes, "root hash");
  leafHashes.forEach((h, i) => checkHash(h, `leaf hash ${i}`, "root hash"));
  if (leafHashes.length === 0) return sha256(new Uint8Array(0));
  let level = leafHashes;
  while (level.length > 1) {
    const next = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i], level[i + 1]));
    const hashed = await Promise.all(next);
    if (level.length % 2) hashed.push(level[level.length - 1]);
    level = hashed;
  }
  return level[0];
}

// --- verification -------------------------------------------------------

// The root that `proof` implies for `leaf` at `index` in a tree of `size`
// leaves (RFC 9162 §2.1.3.2 without the final comparison).
export async function rootFromInclusionProof(leaf, index, size, proof) {
  const [m, n] = checkInclusionArgs(index, size);
  const where = inclusionWhere(m, n);
  checkHash(leaf, "leaf hash", where);
  checkProofShape(proof, where);
  // Below level `inner` the paths to the leaf and to the last leaf differ, so
  // the leaf has a sibling at every level, on the side its index bit says.
  // From `inner` up the leaf's ancestors are on the right border: they have
  // a (left) sibling only where the index has a 1 bit.
  const inner = bitLength(m ^ (n - 1n));
  const border = bitCount(m >> BigInt(inner));
  if (proof.length !== inner + border) {
    throw new MalformedError(
      `${where}: proof length is ${proof.length}, expected ${inner + border}`,
    );
  }
  proof.forEach((p, i) => checkHash(p, `proof hash ${i}`, where));
  let h = leaf;
  for (let i = 0; i < proof.length; i++) {
    const left = i >= inner || (m >> BigInt(i)) & 1n;
    h = left ? await nodeHash(proof[i], h) : await nodeHash(h, proof[i]);
  }
  return h;
}

// RFC 9162 §2.1.3.2: `proof` shows `leaf` at `index` in the tree of `size`
// leaves whose root is `root`.
export async function verifyInclusion(leaf, index, size, proof, root) {
  checkHash(root, "root", inclusionWhere(index, size));
  const computed = await rootFromInclusionProof(leaf, index, size, proof);
  if (!equalBytes(computed, root)) {
    throw new VerificationError(
      `${inclusionWhere(index, size)}: computed root ${toHex(computed)}, expected ${toHex(root)}`,
    );
  }
}

function checkConsistencyInputs(oldSize, newSize, proof, oldRoot, newRoot) {
  const [m, n] = checkConsistencyArgs(oldSize, newSize);
  const where = consistencyWhere(m, n);
  checkHash(oldRoot, "old root", where);
  checkHash(newRoot, "new root", where);
  checkProofShape(proof, where);
  proof.forEach((p, i) => checkHash(p, `proof hash ${i}`, where));
  return [m, n, where];
}

// RFC 9162 §2.1.4.2: the tree of `newSize` leaves with root `newRoot`
// extends the tree of `oldSize` leaves with root `oldRoot`. The contract is
// 0 < oldSize <= newSize; equal sizes need an empty proof and equal roots.
export async function verifyConsistency(oldSize, newSize, proof, oldRoot, newRoot) {
  const [m, n, where] = checkConsistencyInputs(oldSize, newSize, proof, oldRoot, newRoot);
  if (m === n) {
    if (proof.length) {
      throw new MalformedError(`${where}: proof length is ${proof.length}, expected 0 for equal sizes`);
    }
    if (!equalBytes(oldRoot, newRoot)) {
      throw new VerificationError(
        `${where}: roots differ for equal sizes: old root ${toHex(oldRoot)}, new root ${toHex(newRoot)}`,
      );
    }
    return;
  }
  // The proof starts from the largest complete subtree ending at oldSize
  // (level `shift`); its hash is oldRoot itself when that subtree is the
  // whole old tree, and the first proof element otherwise. What follows is
  // the inclusion path of that subtree in the new tree, from level `shift`.
  const shift = BigInt(bitLength(m & -m) - 1);
  const last = m - 1n;
  let inner = bitLength(last ^ (n - 1n));
  const border = bitCount(last >> BigInt(inner));
  inner -= Number(shift);
  const start = m === 1n << shift ? 0 : 1;
  if (proof.length !== start + inner + border) {
    throw new MalformedError(
      `${where}: proof length is ${proof.length}, expected ${start + inner + border}`,
    );
  }
  const mask = last >> shift;
  let oldH = start === 0 ? oldRoot : proof[0];
  let newH = oldH;
  for (let i = 0; i < inner; i++) {
    const p = proof[start + i];
    if ((mask >> BigInt(i)) & 1n) {
      // A left sibling lies inside both trees.
      oldH = await nodeHash(p, oldH);
      newH = await nodeHash(p, newH);
    } else {
      // A right sibling lies wholly beyond oldSize: new tree only.
      newH = await nodeHash(newH, p);
    }
  }
  for (const p of proof.slice(start + inner)) {
    oldH = await nodeHash(p, oldH);
    newH = await nodeHash(p, newH);
  }
  if (!equalBytes(oldH, oldRoot)) {
    throw new VerificationError(`${where}: computed old root ${toHex(oldH)}, expected ${toHex(oldRoot)}`);
  }
  if (!equalBytes(newH, newRoot)) {
    throw new VerificationError(`${where}: computed new root ${toHex(newH)}, expected ${toHex(newRoot)}`);
  }
}
