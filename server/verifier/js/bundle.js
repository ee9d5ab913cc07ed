// Verification bundles (mutualog.bundle/v1, docs/client.md "Bundles"):
// everything one check needs, fetched once, proven offline; a port of
// verifiable/log/bundle.py with the same strictness (exact keys, canonical
// hex and base64, sorted and distinct items, size caps). Parsing throws
// MalformedError; whether the contents prove anything is proven.js's
// question.
//
// A bundle is {checkpoint, entries, consistency, jurors, deduction, claims,
// entry(index)}: checkpoint the note's UTF-8 bytes; entries [{index, data,
// proof}]; consistency [{size, proof}]; jurors [{pool, index, member,
// proof}] (pool a date string); deduction null or {member, period,
// roster_index, roster_proof, paid: [[claim, amount]]}; claims [ids].
// Integers are Numbers, but for an index or size past 2^53 - 1 (the format
// allows up to 2^63 - 1), which is a BigInt: no entry of a log is there.
//
// The bundle is read as Python's json module reads it (loadJson below),
// not as JSON.parse does: a literal with a fraction or an exponent is a
// float, which no integer field accepts, and integers keep every digit.

import { decodeBase64, decodeUtf8, encodeUtf8, fromHex } from "./encoding.js";
import { MalformedError } from "./errors.js";
import { isObject, readDate } from "./fields.js";

export const BUNDLE_TYPE = "mutualog.bundle/v1";
export const MAX_BUNDLE_BYTES = 32 << 20;
export const MAX_BUNDLE_ENTRIES = 100000;
const MAX_PAID = 1000000;
const MAX_JURORS = 100000;
const MAX_CLAIMS = 1000;
const MAX_PROOF = 64;
const MAX_ENTRY_BYTES = 65535;
const MAX_INT = (1n << 63n) - 1n;

const ID = /^[0-9a-f]{32}$/;
const HASH = /^[0-9a-f]{64}$/;
const DATE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;

// --- JSON as Python's json.loads reads it --------------------------------------------

// A JSON number with a fraction or an exponent, or NaN or ±Infinity: a
// Python float, which is never an integer.
export class PyFloat {
  constructor(literal) {
    this.literal = literal;
    this.value = Number(literal);
  }
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;
const ESCAPE = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
// Python's decoder recurses and gives up near its recursion limit.
const MAX_DEPTH = 990;

// Parse `text` as Python's json.loads does (strict: no control characters
// in strings; duplicate keys, the last one wins; integers of any size, as a
// Number when safe and a BigInt otherwise; floats as PyFloat). With
// `constants`, NaN, Infinity and -Infinity are floats; without, they are
// refused. Throws MalformedError naming `label`.
export function loadJson(text, label, constants = false) {
  let pos = 0;
  const fail = (what) => new MalformedError(`${label}: not JSON: ${what} at character ${pos}`);
  const skip = () => {
    WHITESPACE.lastIndex = pos;
    WHITESPACE.exec(text);
    pos = WHITESPACE.lastIndex;
  };
  const word = (w) => text.startsWith(w, pos) && ((pos += w.length), true);
  const constant = (w) => {
    if (!constants) throw new MalformedError(`${label}: ${w} is not a JSON number`);
    return new PyFloat(w);
  };
  function string() {
    pos++;
    let out = "";
    for (;;) {
      const start = pos;
      while (pos < text.length && text[pos] !== '"' && text[pos] !== "\\" && text.charCodeAt(pos) >= 0x20) pos++;
      out += text.slice(start, pos);
      if (pos >= text.length) throw fail("unterminated string");
      const c = text[pos];
      if (c === '"') {
        pos++;
        return out;
      }
      if (c !== "\\") throw fail("invalid control character");
      const e = text[pos + 1];
      if (e === "u") {
        const hex = text.slice(pos + 2, pos + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw fail("invalid \\uXXXX escape");
        out += String.fromCharCode(parseInt(hex, 16));
        pos += 6;
      } else if (e !== undefined && Object.prototype.hasOwnProperty.call(ESCAPE, e)) {
        out += ESCAPE[e];
        pos += 2;
      } else {
        throw fail("invalid escape");
      }
    }
  }
  function number() {
    NUMBER.lastIndex = pos;
    const m = NUMBER.exec(text);
    if (m === null) throw fail("expecting value");
    pos = NUMBER.lastIndex;
    if (m[1] !== undefined || m[2] !== undefined) return new PyFloat(m[0]);
    if (m[0].replace("-", "").length > 4300) throw fail("an integer of more than 4300 digits");
    const n = BigInt(m[0]);
    return n >= -BigInt(Number.MAX_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  }
  function value(depth) {
    if (depth > MAX_DEPTH) throw fail("nested too deeply");
    skip();
    const c = text[pos];
    if (c === '"') return string();
    if (c === "{") {
      pos++;
      const obj = {};
      skip();
      if (text[pos] === "}") {
        pos++;
        return obj;
      }
      for (;;) {
        skip();
        if (text[pos] !== '"') throw fail("expecting property name enclosed in double quotes");
        const key = string();
        skip();
        if (text[pos] !== ":") throw fail("expecting ':' delimiter");
        pos++;
        Object.defineProperty(obj, key, { value: value(depth + 1), enumerable: true, writable: true, configurable: true });
        skip();
        if (text[pos] === "}") {
          pos++;
          return obj;
        }
        if (text[pos] !== ",") throw fail("expecting ',' delimiter");
        pos++;
      }
    }
    if (c === "[") {
      pos++;
      const list = [];
      skip();
      if (text[pos] === "]") {
        pos++;
        return list;
      }
      for (;;) {
        list.push(value(depth + 1));
        skip();
        if (text[pos] === "]") {
          pos++;
          return list;
        }
        if (text[pos] !== ",") throw fail("expecting ',' delimiter");
        pos++;
      }
    }
    if (word("null")) return null;
    if (word("true")) return true;
    if (word("false")) return false;
    if (word("NaN")) return constant("NaN");
    if (word("Infinity")) return constant("Infinity");
    if (word("-Infinity")) return constant("-Infinity");
    return number();
  }
  const out = value(0);
  skip();
  if (pos !== text.length) throw fail("extra data");
  return out;
}

// --- parsing --------------------------------------------------------------------------

const has = (obj, key) => Object.prototype.hasOwnProperty.call(obj, key);
const typeName = (v) => (v === null ? "NoneType" : Array.isArray(v) ? "list" : v instanceof PyFloat ? "float" : typeof v);

function keys(obj, names, where) {
  if (!isObject(obj) || obj instanceof PyFloat) throw new MalformedError(`${where}: expected an object, got ${typeName(obj)}`);
  const missing = names.filter((k) => !has(obj, k));
  if (missing.length) throw new MalformedError(`${where}: missing field ${JSON.stringify(missing[0])}`);
  const extra = Object.keys(obj).filter((k) => !names.includes(k)).sort();
  if (extra.length) throw new MalformedError(`${where}: unknown field ${JSON.stringify(extra[0])}`);
  return obj;
}

// An integer (true, false and floats are not) in [low, high]: a Number,
// or a BigInt past 2^53 - 1.
function int(value, where, low = 0n, high = MAX_INT) {
  const ok = (typeof value === "number" && Number.isInteger(value)) || typeof value === "bigint";
  if (!ok || BigInt(value) < low || BigInt(value) > high) {
    throw new MalformedError(`${where}: expected an integer in [${low}, ${high}], got ${typeName(value)} ${String(value?.literal ?? value)}`);
  }
  return value;
}

function list(value, where, cap) {
  if (!Array.isArray(value)) throw new MalformedError(`${where}: expected a list, got ${typeName(value)}`);
  if (value.length > cap) throw new MalformedError(`${where}: ${value.length} items, at most ${cap} allowed`);
  return value;
}

function hash(value, where) {
  if (typeof value !== "string" || !HASH.test(value)) throw new MalformedError(`${where}: expected 64 lowercase hex digits`);
  return fromHex(value);
}

function proof(value, where) {
  return Object.freeze(list(value, where, MAX_PROOF).map((h, i) => hash(h, `${where}[${i}]`)));
}

function id(value, where) {
  if (typeof value !== "string" || !ID.test(value)) throw new MalformedError(`${where}: expected an id of 32 lowercase hex digits`);
  return value;
}

function date(value, where) {
  if (typeof value !== "string" || !DATE.test(value)) throw new MalformedError(`${where}: expected a date YYYY-MM-DD`);
  return readDate(value, where);
}

// Python's < on the keys: numbers (Number or BigInt), strings by code
// point (ids and dates are ASCII), and lists element by element.
function less(a, b) {
  if (Array.isArray(a)) {
    for (let i = 0; i < a.length; i++) {
      if (less(a[i], b[i])) return true;
      if (less(b[i], a[i])) return false;
    }
    return false;
  }
  return a < b;
}

function increasing(items, where) {
  for (let i = 1; i < items.length; i++) {
    if (!less(items[i - 1], items[i])) throw new MalformedError(`${where}[${i}]: not sorted after item ${i - 1}, or a duplicate`);
  }
}

function entry(obj, where) {
  const o = keys(obj, ["index", "entry", "proof"], where);
  if (typeof o.entry !== "string") throw new MalformedError(`${where}.entry: expected base64 text`);
  const data = decodeBase64(o.entry, `${where}.entry`);
  if (data.length < 1 || data.length > MAX_ENTRY_BYTES) {
    throw new MalformedError(`${where}.entry: ${data.length} bytes, expected 1 to ${MAX_ENTRY_BYTES}`);
  }
  return Object.freeze({ index: int(o.index, `${where}.index`), data, proof: proof(o.proof, `${where}.proof`) });
}

function deduction(obj, where) {
  const o = keys(obj, ["member", "period", "roster_index", "roster_proof", "paid"], where);
  const paid = list(o.paid, `${where}.paid`, MAX_PAID).map((item, i) => {
    const w = `${where}.paid[${i}]`;
    if (!Array.isArray(item) || item.length !== 2) throw new MalformedError(`${w}: expected [claim id, amount in fen]`);
    return Object.freeze([id(item[0], `${w}[0]`), int(item[1], `${w}[1]`, 1n, (1n << 53n) - 1n)]);
  });
  return Object.freeze({
    member: id(o.member, `${where}.member`),
    period: date(o.period, `${where}.period`),
    roster_index: int(o.roster_index, `${where}.roster_index`),
    roster_proof: proof(o.roster_proof, `${where}.roster_proof`),
    paid: Object.freeze(paid),
  });
}

// parse_bundle: read a bundle from its bytes, refusing anything off with
// MalformedError.
export function parseBundle(data) {
  if (data.length > MAX_BUNDLE_BYTES) throw new MalformedError(`bundle: ${data.length} bytes, at most ${MAX_BUNDLE_BYTES} allowed`);
  const obj = loadJson(decodeUtf8(data, "bundle: not JSON"), "bundle");
  const o = keys(obj, ["type", "checkpoint", "entries", "consistency", "jurors", "deduction", "claims"], "bundle");
  if (o.type !== BUNDLE_TYPE) throw new MalformedError(`bundle.type: expected ${JSON.stringify(BUNDLE_TYPE)}`);
  if (typeof o.checkpoint !== "string" || !o.checkpoint) {
    throw new MalformedError("bundle.checkpoint: expected the checkpoint note as text");
  }
  const entries = list(o.entries, "bundle.entries", MAX_BUNDLE_ENTRIES).map((e, i) => entry(e, `bundle.entries[${i}]`));
  increasing(entries.map((e) => e.index), "bundle.entries");
  const seeds = list(o.consistency, "bundle.consistency", MAX_BUNDLE_ENTRIES).map((p, i) => {
    const w = `bundle.consistency[${i}]`;
    p = keys(p, ["size", "proof"], w);
    return Object.freeze({ size: int(p.size, `${w}.size`, 1n), proof: proof(p.proof, `${w}.proof`) });
  });
  increasing(seeds.map((s) => s.size), "bundle.consistency");
  const jurors = list(o.jurors, "bundle.jurors", MAX_JURORS).map((j, i) => {
    const w = `bundle.jurors[${i}]`;
    j = keys(j, ["pool", "index", "member", "proof"], w);
    return Object.freeze({
      pool: date(j.pool, `${w}.pool`),
      index: int(j.index, `${w}.index`),
      member: id(j.member, `${w}.member`),
      proof: proof(j.proof, `${w}.proof`),
    });
  });
  increasing(jurors.map((j) => [j.pool, j.index]), "bundle.jurors");
  const deduced = o.deduction === null ? null : deduction(o.deduction, "bundle.deduction");
  const claims = list(o.claims, "bundle.claims", MAX_CLAIMS).map((c, i) => id(c, `bundle.claims[${i}]`));
  increasing(claims, "bundle.claims");
  // Python's str.encode refuses a lone surrogate (from a \ud800 escape).
  if (/[\uD800-\uDFFF]/u.test(o.checkpoint)) throw new MalformedError("bundle.checkpoint: not encodable as UTF-8");
  const byIndex = new Map(entries.map((e) => [e.index, e]));
  return Object.freeze({
    checkpoint: encodeUtf8(o.checkpoint),
    entries: Object.freeze(entries),
    consistency: Object.freeze(seeds),
    jurors: Object.freeze(jurors),
    deduction: deduced,
    claims: Object.freeze(claims),
    // Bundle.entry: the bundled entry at `index`, or null.
    entry: (index) => byIndex.get(index) ?? null,
  });
}
