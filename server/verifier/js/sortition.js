// Verifiable juror sortition: the juror pool commitment and the panel draw;
// a port of verifiable/pool/sortition.py (docs/format.md section 5, "Juror
// pool" and "Drawing a panel"), byte for byte.
//
// - The juror pool of a period is a member-set tree (roster.js) committed
//   by its root and size (jurorPoolRoot).
// - A panel is drawn from a 64-bit value stream: value c is the first 8
//   bytes, big-endian, of SHA-256(DOMAIN || seed || claim || round ||
//   appeal || c) (drawValue). A value becomes a pool index by rejection
//   sampling, with no modulo bias (acceptIndex); indices already drawn are
//   skipped (candidateIndices), and so are excluded ids (drawPanel).
// - When the rules name witnesses for the draw, the seed is witnessedSeed
//   of a checkpoint cosigned by them.
//
// Draw values and pool sizes up to 2^64 are BigInt inside; indices are
// given as Numbers (a pool is a list of ids). Nothing here is random.

import { concat, encodeUtf8, sha256 } from "./encoding.js";
import { MalformedError } from "./errors.js";
import { HASH_SIZE, rootHash } from "./merkle.js";
import { memberSetLeaves } from "./roster.js";
import { RuleViolation } from "./rules.js";

export const DOMAIN = encodeUtf8("mutualog/sortition/v1");
export const SEED_DOMAIN = encodeUtf8("mutualog/seed/v2");
export const VALUE_SPACE = 1n << 64n;

const HEX_ID = /^[0-9a-f]{32}$/;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function uint(value, bytes) {
  const out = new Uint8Array(bytes);
  const view = new DataView(out.buffer);
  if (bytes === 4) view.setUint32(0, Number(value));
  else view.setBigUint64(0, BigInt(value));
  return out;
}

function shown(value) {
  if (typeof value === "string") return JSON.stringify(value);
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  return String(value);
}

// The RFC 9162 root of the member-set tree over the juror pool: `sortedIds`
// distinct and strictly increasing, else MalformedError.
export async function jurorPoolRoot(sortedIds) {
  return rootHash(await memberSetLeaves(sortedIds, "juror pool"));
}

// The seed of a witnessed draw: SHA-256 of SEED_DOMAIN || the checkpoint's
// root || for each cosignature, in the rulebook's order of its witnesses:
// key ID (uint32 BE) || timestamp (uint64 BE) || 64-byte signature.
// Cosignatures are {key_id, timestamp, signature}, as a panel.drawn's
// witnessed checkpoint holds them (bodies.js).
export function witnessedSeed(root, cosignatures) {
  if (!(root instanceof Uint8Array) || root.length !== HASH_SIZE) {
    throw new MalformedError(`witnessed seed: root is not ${HASH_SIZE} bytes`);
  }
  const parts = [SEED_DOMAIN, root];
  for (const c of cosignatures) parts.push(uint(c.key_id, 4), uint(c.timestamp, 8), c.signature);
  return sha256(concat(...parts));
}

function checkDrawArgs(seed, claim, round, appeal) {
  const where = "sortition";
  if (!(seed instanceof Uint8Array) || seed.length !== HASH_SIZE) {
    const what = seed instanceof Uint8Array ? `${seed.length} bytes` : typeof seed;
    throw new MalformedError(`${where}: seed is ${what}, expected ${HASH_SIZE} bytes`);
  }
  if (typeof claim !== "string" || !HEX_ID.test(claim)) {
    throw new MalformedError(`${where}: claim ${shown(claim)} is not an id of 32 lowercase hex characters`);
  }
  if (!Number.isSafeInteger(round) || round < 1) {
    throw new MalformedError(`${where}: round ${shown(round)} is not an integer 1..${MAX_SAFE}`);
  }
  if (typeof appeal !== "boolean") throw new MalformedError(`${where}: appeal ${shown(appeal)} is not a bool`);
}

function prefix(seed, claim, round, appeal) {
  return concat(DOMAIN, seed, encodeUtf8(claim), uint(round, 8), Uint8Array.of(appeal ? 1 : 0));
}

function isUint64(value) {
  if (typeof value === "bigint") return value >= 0n && value < VALUE_SPACE;
  return Number.isSafeInteger(value) && value >= 0;
}

// The 102 bytes hashed for draw value `counter`: DOMAIN (21 bytes) || seed
// (32) || claim (32 ASCII bytes) || round (uint64 BE) || appeal (0x01 or
// 0x00) || counter (uint64 BE).
export function drawInput(seed, claim, round, appeal, counter) {
  checkDrawArgs(seed, claim, round, appeal);
  if (!isUint64(counter)) throw new MalformedError(`sortition: counter ${shown(counter)} is not a uint64`);
  return concat(prefix(seed, claim, round, appeal), uint(counter, 8));
}

function firstUint64(digest) {
  return new DataView(digest.buffer, digest.byteOffset, 8).getBigUint64(0);
}

// Draw value `counter` (a BigInt): the first 8 bytes of SHA-256(drawInput(...)).
export async function drawValue(seed, claim, round, appeal, counter) {
  return firstUint64(await sha256(drawInput(seed, claim, round, appeal, counter)));
}

function poolSizeOf(poolSize, low) {
  if (!isUint64(poolSize) || BigInt(poolSize) < BigInt(low)) {
    throw new MalformedError(`sortition: pool size ${shown(poolSize)} is not in ${low}..2**64-1`);
  }
  return BigInt(poolSize);
}

// The largest multiple of `poolSize` not above 2^64 (a BigInt): values at
// or above it are rejected, so that value % poolSize is uniform.
export function rejectionBound(poolSize) {
  const n = poolSizeOf(poolSize, 1);
  return VALUE_SPACE - (VALUE_SPACE % n);
}

// The pool index `value` selects (value % poolSize, a Number when the pool
// size is one), or null when the value is rejected.
export function acceptIndex(value, poolSize) {
  if (!isUint64(value)) throw new MalformedError(`sortition: draw value ${shown(value)} is not a uint64`);
  const v = BigInt(value);
  if (v >= rejectionBound(poolSize)) return null;
  const index = v % BigInt(poolSize);
  return index <= MAX_SAFE ? Number(index) : index;
}

// Distinct pool indices in draw order, lazily: an async iterator (`for
// await`) whose values are Numbers. A rejected value is skipped, as is an
// index already given; it ends once every index of the pool has been given
// (at once for an empty pool). The arguments are checked on the call.
export function candidateIndices(seed, claim, round, appeal, poolSize) {
  checkDrawArgs(seed, claim, round, appeal);
  const n = poolSizeOf(poolSize, 0);
  return new IndexStream(prefix(seed, claim, round, appeal), n);
}

class IndexStream {
  #prefix;
  #size;
  #bound;
  #seen = new Set();
  #counter = 0n;

  constructor(prefixBytes, size) {
    this.#prefix = prefixBytes;
    this.#size = size;
    this.#bound = size === 0n ? 0n : VALUE_SPACE - (VALUE_SPACE % size);
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  async next() {
    while (BigInt(this.#seen.size) < this.#size) {
      const digest = await sha256(concat(this.#prefix, uint(this.#counter, 8)));
      this.#counter += 1n;
      const value = firstUint64(digest);
      if (value >= this.#bound) continue;
      const index = Number(value % this.#size);
      if (this.#seen.has(index)) continue;
      this.#seen.add(index);
      return { value: index, done: false };
    }
    return { value: undefined, done: true };
  }

  async return() {
    return { value: undefined, done: true };
  }
}

function tooSmall(claim, round, appeal, size, eligible, poolSize) {
  const kind = appeal ? "appeal panel" : "panel";
  return new RuleViolation(
    "panel.pool_too_small",
    `${kind} of ${size} for claim ${claim} round ${round}: only ${eligible} of the ` +
      `${poolSize} jurors in the pool are eligible`,
    { expected: `at least ${size} eligible jurors`, actual: eligible },
  );
}

// Binary search of a sorted pool, as Python's bisect_left.
function bisectLeft(pool, id) {
  let lo = 0;
  let hi = pool.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pool[mid] < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Draw the panel of `size` jurors for `claim` (round `round`, `appeal` or
// not) from the sorted, distinct `pool` of ids with `seed`, skipping the ids
// in `excluded` (an array or Set), in draw order.
// RuleViolation("panel.pool_too_small") if fewer than `size` are eligible.
export async function drawPanel(seed, claim, round, appeal, pool, size, excluded) {
  checkDrawArgs(seed, claim, round, appeal);
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new MalformedError(`sortition: panel size ${shown(size)} is not a positive integer`);
  }
  if (!Array.isArray(pool)) throw new MalformedError(`sortition: pool is ${typeof pool}, expected a sequence`);
  if (typeof excluded === "string" || !(Array.isArray(excluded) || excluded instanceof Set)) {
    throw new MalformedError("sortition: excluded is a single string, expected a collection of ids");
  }
  const excludedSet = new Set(excluded);
  for (const id of excludedSet) {
    if (typeof id !== "string") {
      throw new MalformedError("sortition: excluded holds a value that is not an id string");
    }
  }
  let found = 0;
  for (const id of excludedSet) {
    const i = bisectLeft(pool, id);
    if (i < pool.length && pool[i] === id) found += 1;
  }
  const eligible = pool.length - found;
  if (eligible < size) throw tooSmall(claim, round, appeal, size, eligible, pool.length);
  const panel = [];
  for await (const index of candidateIndices(seed, claim, round, appeal, pool.length)) {
    const memberId = pool[index];
    if (excludedSet.has(memberId)) continue;
    panel.push(memberId);
    if (panel.length === size) return Object.freeze(panel);
  }
  // Only an unsorted or duplicated pool gets here.
  throw tooSmall(claim, round, appeal, size, panel.length, pool.length);
}
