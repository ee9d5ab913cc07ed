// The log entry envelope (format v1), its canonical encoding and its hash
// chain: a port of verifiable/log/entry.py.
//
// An entry is a UTF-8 JSON object in RFC 8785 canonical form, at most 65,535
// bytes, with exactly the members v, seq, prev, time, type and body; `prev`
// is the RFC 9162 leaf hash SHA-256(0x00 || entry) of entry seq - 1 (32 zero
// bytes for entry 0). Decoding is strict: the bytes are decoded, encoded
// again canonically and must come back identical, so that every entry has
// exactly one encoding, as the Python code insists.
//
// A decoded entry is {v, seq, prev, time, type, body, bytes, leaf}: `time`
// in POSIX seconds, `body` as bodies.js reads it, `bytes` the entry's exact
// bytes and `leaf` its leaf hash.

import { decodeUtf8, encodeUtf8, equalBytes, toHex } from "./encoding.js";
import { MalformedError, VerificationError } from "./errors.js";
import { BODY_TYPES, parseBody } from "./bodies.js";
import { canonicalJson, describe, readHash, readInt, readObject, readTime } from "./fields.js";
import { leafHash } from "./merkle.js";

export const FORMAT_VERSION = 1;
export const MAX_ENTRY_SIZE = 65535;
// The prev of entry 0.
export const GENESIS_PREV = new Uint8Array(32);

const ENVELOPE = ["v", "seq", "prev", "time", "type", "body"];

// SHA-256(0x00 || bytes): the Merkle leaf and the chain link.
export function entryLeafHash(bytes) {
  return leafHash(bytes);
}

// Decode RFC 8785 JSON, refusing anything with another encoding: any
// non-canonical input (whitespace, key order, escapes, a duplicate key, a
// fraction, an integer past 2^53 - 1) fails the byte comparison, and what
// the Python decoder refuses outright no canonical encoding can hold.
export function decodeCanonical(bytes, label) {
  const text = decodeUtf8(bytes, label);
  let obj;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    if (e instanceof SyntaxError || e instanceof RangeError) throw new MalformedError(`${label}: not JSON: ${e.message}`);
    throw e;
  }
  let canonical;
  try {
    canonical = encodeUtf8(canonicalJson(obj));
  } catch (e) {
    if (e instanceof MalformedError) throw new MalformedError(`${label}: ${e.message}`);
    if (e instanceof RangeError) throw new MalformedError(`${label}: not JSON: nested too deeply`);
    throw e;
  }
  if (!equalBytes(canonical, bytes)) {
    let at = 0;
    while (at < canonical.length && at < bytes.length && canonical[at] === bytes[at]) at++;
    throw new MalformedError(`${label}: not in RFC 8785 canonical form: first difference at byte ${at}`);
  }
  return obj;
}

function checkPlace(entry, seq, prev) {
  const label = `entry ${entry.seq}`;
  if (seq !== null && seq !== undefined && entry.seq !== seq) {
    throw new VerificationError(`${label}: seq: expected ${seq}, got ${entry.seq}`);
  }
  if (entry.seq === 0 && !equalBytes(entry.prev, GENESIS_PREV)) {
    throw new VerificationError(`${label}: prev: the first entry links to ${toHex(GENESIS_PREV)}, got ${toHex(entry.prev)}`);
  }
  if (prev !== null && prev !== undefined && !equalBytes(entry.prev, prev)) {
    throw new VerificationError(
      `${label}: prev: chain broken, expected leaf hash ${toHex(prev)} of entry ${entry.seq - 1}, got ${toHex(entry.prev)}`,
    );
  }
}

// parse_entry: decode and check one entry from its exact bytes. With `seq`
// and `prev` (the leaf hash of the previous entry), also check its place in
// the chain (VerificationError for an entry at the wrong place), as the
// Python keywords are given: parseEntry(bytes, {seq, prev}). `seq` may be a
// Number or a BigInt (a bundle's index past 2^53 is no entry's seq).
export async function parseEntry(bytes, { seq = null, prev = null } = {}) {
  if (!(bytes instanceof Uint8Array)) throw new MalformedError("entry: expected bytes");
  const entry = decodeEntry(bytes, seq);
  checkPlace(entry, typeof seq === "bigint" ? placeSeq(seq) : seq, prev);
  return Object.freeze({ ...entry, bytes, leaf: await leafHash(bytes) });
}

// A BigInt seq past what an entry can hold compares unequal to every seq.
function placeSeq(seq) {
  return seq <= BigInt(Number.MAX_SAFE_INTEGER) && seq >= 0n ? Number(seq) : `${seq}`;
}

function decodeEntry(bytes, seq) {
  let label = seq === null || seq === undefined ? "entry" : `entry ${seq}`;
  if (bytes.length > MAX_ENTRY_SIZE) {
    throw new MalformedError(`${label}: ${bytes.length} bytes, more than the ${MAX_ENTRY_SIZE} allowed`);
  }
  const obj = decodeCanonical(bytes, label);
  const fields = readObject(obj, label, ENVELOPE);
  const version = readInt(fields.v, `${label}: v`);
  if (version !== FORMAT_VERSION) {
    throw new MalformedError(`${label}: v: unsupported format version ${version}, expected 1`);
  }
  const gotSeq = readInt(fields.seq, `${label}: seq`);
  label = `entry ${gotSeq}`;
  const prev = readHash(fields.prev, `${label}: prev`);
  const time = readTime(fields.time, `${label}: time`);
  const type = fields.type;
  if (typeof type !== "string" || !BODY_TYPES.includes(type)) {
    throw new MalformedError(`${label}: type: expected one of ${[...BODY_TYPES].sort().join(", ")}, got ${describe(type)}`);
  }
  const body = parseBody(type, fields.body, `${label}: body`);
  return { v: version, seq: gotSeq, prev, time, type, body };
}

// ChainVerifier: checks entries one at a time, in order, holding only the
// chain head {size, head}; start at 0 for a whole log, or at a trusted head.
export class ChainVerifier {
  constructor(start = null) {
    const { size, head } = start ?? { size: 0, head: GENESIS_PREV };
    if (!Number.isSafeInteger(size) || size < 0 || !(head instanceof Uint8Array) || head.length !== 32) {
      throw new MalformedError(
        `chain start: expected size >= 0 and a 32-byte head, got size ${size} and ${head?.length} bytes`,
      );
    }
    if (size === 0 && !equalBytes(head, GENESIS_PREV)) {
      throw new VerificationError(`chain start: an empty log's head is ${toHex(GENESIS_PREV)}, got ${toHex(head)}`);
    }
    this._size = size;
    this._head = head;
  }

  // The entries checked so far and the leaf hash of the last.
  get state() {
    return Object.freeze({ size: this._size, head: this._head });
  }

  // Check the next entry and advance; the state is unchanged on error.
  async feed(bytes) {
    const entry = await parseEntry(bytes, { seq: this._size, prev: this._head });
    this._head = entry.leaf;
    this._size += 1;
    return entry;
  }
}

// check_chain: a run of entries (from the start, or after `start`); where
// the chain ends.
export async function checkChain(entries, start = null) {
  const verifier = new ChainVerifier(start);
  for (const bytes of entries) await verifier.feed(bytes);
  return verifier.state;
}
