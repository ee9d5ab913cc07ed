// The juror's receipt for a sealed vote (mutualog.vote-receipt/v1): a port
// of verifiable/pool/receipt.py. The server hands it out when it appends a
// vote.sealed entry; verify-receipt reads it. Only the shape is checked
// here; whether it is true is receipt_check.js's question.
//
// A receipt is {claim, round, juror, choice, reason, salt, commitment,
// leaf_index, entry, tree_size, inclusion_proof, checkpoint}, the Python
// dataclass's fields: salt, commitment and the proof's hashes as
// Uint8Array, entry and checkpoint as their UTF-8 bytes. The format bounds
// no integer: round, leaf_index and tree_size are Numbers, or BigInt past
// 2^53 - 1.
//
// The file is read as Python's json.loads reads bytes: its encoding is
// detected (UTF-8 with or without a BOM, UTF-16 or UTF-32 by their BOMs or
// zero bytes), encoded surrogates are let through ("surrogatepass") and
// unknown keys are ignored. One difference is left: where a file encodes a
// high surrogate and a low one apart (as CESU-8 does), Python keeps two
// lone surrogates and a JavaScript string holds them as one character.

import { encodeUtf8 } from "./encoding.js";
import { MalformedError } from "./errors.js";
import { CHOICES } from "./bodies.js";
import { isObject } from "./fields.js";
import { PyFloat, loadJson } from "./bundle.js";

export const RECEIPT_TYPE = "mutualog.vote-receipt/v1";

const HASH_SIZE = 32;
const MAX_PROOF = 64;

// --- bytes to text, as Python's json.loads(bytes) does --------------------------------

// json.detect_encoding.
function detectEncoding(b) {
  const starts = (...bytes) => bytes.every((x, i) => b[i] === x);
  if (starts(0x00, 0x00, 0xfe, 0xff) || starts(0xff, 0xfe, 0x00, 0x00)) return "utf-32";
  if (starts(0xfe, 0xff) || starts(0xff, 0xfe)) return "utf-16";
  if (starts(0xef, 0xbb, 0xbf)) return "utf-8-sig";
  if (b.length >= 4) {
    if (!b[0]) return b[1] ? "utf-16-be" : "utf-32-be";
    if (!b[1]) return b[2] || b[3] ? "utf-16-le" : "utf-32-le";
  } else if (b.length === 2) {
    if (!b[0]) return "utf-16-be";
    if (!b[1]) return "utf-16-le";
  }
  return "utf-8";
}

const bad = (encoding) => new MalformedError(`not JSON: cannot be decoded as ${encoding}`);

// UTF-8 with surrogatepass: the encoded surrogates ED A0 80 .. ED BF BF are
// code points; overlong forms and anything past U+10FFFF are refused.
function decodeUtf8Pass(b, start) {
  const units = [];
  for (let i = start; i < b.length; ) {
    const x = b[i];
    let cp;
    let n;
    if (x < 0x80) [cp, n] = [x, 0];
    else if (x >= 0xc2 && x <= 0xdf) [cp, n] = [x & 0x1f, 1];
    else if (x >= 0xe0 && x <= 0xef) [cp, n] = [x & 0x0f, 2];
    else if (x >= 0xf0 && x <= 0xf4) [cp, n] = [x & 0x07, 3];
    else throw bad("utf-8");
    if (i + n >= b.length + (n ? 0 : 1)) throw bad("utf-8");
    for (let k = 1; k <= n; k++) {
      if ((b[i + k] & 0xc0) !== 0x80) throw bad("utf-8");
      cp = (cp << 6) | (b[i + k] & 0x3f);
    }
    if ((n === 2 && cp < 0x800) || (n === 3 && (cp < 0x10000 || cp > 0x10ffff))) throw bad("utf-8");
    units.push(cp);
    i += n + 1;
  }
  return codePointsText(units);
}

function codePointsText(codePoints) {
  let out = "";
  for (let i = 0; i < codePoints.length; i += 4096) out += String.fromCodePoint(...codePoints.slice(i, i + 4096));
  return out;
}

function decodeUtf16(b, little, encoding) {
  if (b.length % 2) throw bad(encoding);
  const units = [];
  for (let i = 0; i < b.length; i += 2) units.push(little ? b[i] | (b[i + 1] << 8) : (b[i] << 8) | b[i + 1]);
  let out = "";
  for (let i = 0; i < units.length; i += 4096) out += String.fromCharCode(...units.slice(i, i + 4096));
  return out;
}

function decodeUtf32(b, little, encoding) {
  if (b.length % 4) throw bad(encoding);
  const points = [];
  const view = new DataView(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < b.length; i += 4) {
    const cp = view.getUint32(i, little);
    if (cp > 0x10ffff) throw bad(encoding);
    points.push(cp);
  }
  return codePointsText(points);
}

function pythonText(b) {
  const encoding = detectEncoding(b);
  switch (encoding) {
    case "utf-8":
      return decodeUtf8Pass(b, 0);
    case "utf-8-sig":
      return decodeUtf8Pass(b, 3);
    case "utf-16":
      return decodeUtf16(b.subarray(2), b[0] === 0xff, encoding);
    case "utf-32":
      return decodeUtf32(b.subarray(4), b[0] === 0xff, encoding);
    case "utf-16-be":
    case "utf-16-le":
      return decodeUtf16(b, encoding.endsWith("le"), encoding);
    default:
      return decodeUtf32(b, encoding.endsWith("le"), encoding);
  }
}

// --- fields --------------------------------------------------------------------------

const has = (obj, key) => Object.prototype.hasOwnProperty.call(obj, key);
const KINDS = {
  int: (v) => (typeof v === "number" && Number.isInteger(v)) || typeof v === "bigint",
  str: (v) => typeof v === "string",
  list: (v) => Array.isArray(v),
};

function field(obj, name, kind) {
  if (!has(obj, name)) throw new MalformedError(`missing field ${JSON.stringify(name)}`);
  const value = obj[name];
  if (!KINDS[kind](value)) throw new MalformedError(`${name}: expected ${kind}`);
  return value;
}

// bytes.fromhex: pairs of hex digits (either case), ASCII white space
// allowed before each pair and at the end.
function hex(value, name, size = null) {
  const out = [];
  let i = 0;
  for (;;) {
    while (i < value.length && " \t\n\r\x0b\x0c".includes(value[i])) i++;
    if (i >= value.length) break;
    const pair = value.slice(i, i + 2);
    if (!/^[0-9a-fA-F]{2}$/.test(pair)) throw new MalformedError(`${name}: not hexadecimal`);
    out.push(parseInt(pair, 16));
    i += 2;
  }
  if (size !== null && out.length !== size) throw new MalformedError(`${name}: expected ${size} bytes, got ${out.length}`);
  return Uint8Array.from(out);
}

function textBytes(value, name) {
  if (/[\uD800-\uDFFF]/u.test(value)) throw new MalformedError(`${name}: not encodable as UTF-8`);
  return encodeUtf8(value);
}

// parse_receipt: the receipt in `data` (the bytes of its JSON download), or
// MalformedError for anything that is not a well-formed vote receipt.
export function parseReceipt(data) {
  const obj = loadJson(pythonText(data), "receipt", true);
  if (!isObject(obj) || obj instanceof PyFloat) throw new MalformedError("not a JSON object");
  if (!has(obj, "type") || obj.type !== RECEIPT_TYPE) throw new MalformedError(`type: expected ${JSON.stringify(RECEIPT_TYPE)}`);
  const choice = field(obj, "choice", "str");
  if (!CHOICES.includes(choice)) throw new MalformedError(`choice: expected approve or reject, got ${JSON.stringify(choice)}`);
  const items = field(obj, "inclusion_proof", "list");
  if (items.length > MAX_PROOF) throw new MalformedError(`inclusion_proof: ${items.length} hashes, more than ${MAX_PROOF}`);
  const proof = items.map((item, i) => {
    if (typeof item !== "string") throw new MalformedError(`inclusion_proof[${i}]: expected str`);
    return hex(item, `inclusion_proof[${i}]`, HASH_SIZE);
  });
  const [round, leafIndex, treeSize] = ["round", "leaf_index", "tree_size"].map((n) => field(obj, n, "int"));
  const [claim, juror, reason, salt, commitment, entry, checkpoint] = [
    "claim", "juror", "reason", "salt", "commitment", "entry", "checkpoint",
  ].map((n) => field(obj, n, "str"));
  if (leafIndex < 0 || treeSize < 0) throw new MalformedError("leaf_index and tree_size must not be negative");
  return Object.freeze({
    claim,
    round,
    juror,
    choice,
    reason,
    salt: hex(salt, "salt"),
    commitment: hex(commitment, "commitment"),
    leaf_index: leafIndex,
    entry: textBytes(entry, "entry"),
    tree_size: treeSize,
    inclusion_proof: Object.freeze(proof),
    checkpoint: textBytes(checkpoint, "checkpoint"),
  });
}
