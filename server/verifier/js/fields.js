// The field vocabulary of log entries: small strict readers for JSON values;
// a port of verifiable/log/fields.py, reader for reader and refusal for
// refusal, plus the RFC 8785 canonical encoding the log's entries are held
// to (verifiable/log/entry.py's _encode, for the values an entry can hold).
//
// Each reader takes a value already decoded from JSON and the path it was
// found at ("entry 7: body.evidence[2]") and returns a plain value or
// throws MalformedError naming the path. The values are those of the
// contract the verifier's modules share: integers are Numbers (the log caps
// them at 2^53 - 1), dates are their "YYYY-MM-DD" strings, times are Numbers
// of POSIX seconds, hashes are Uint8Array, enums are their string values.
// Lengths of texts count code points, as Python's len() does.

import { fromHex } from "./encoding.js";
import { MalformedError } from "./errors.js";

export const MAX_SAFE_INT = Number.MAX_SAFE_INTEGER;

const HEX_ID = /^[0-9a-f]{32}$/;
const HASH_HEX = /^[0-9a-f]{64}$/;
// [0-9] rather than \d, as in the Python code.
const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
const TIME = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z$/;
const TOKEN = /^[a-z][a-z0-9_.-]{0,31}$/;
const SHAPE_KEY = /^[a-z][a-z0-9_.]*$/;
const SHAPE_MAX_DEPTH = 4;
// Controls (Cc), lone surrogates (with the u flag a surrogate pair is one
// code point and does not match) and the bidirectional embeddings,
// overrides and isolates of "Trojan Source" (CVE-2021-42574).
const TEXT_REFUSED = /[\x00-\x09\x0b-\x1f\x7f-\x9f\uD800-\uDFFF\u202a-\u202e\u2066-\u2069]/u;
const LINE_REFUSED = /[\x00-\x1f\x7f-\x9f\uD800-\uDFFF\u202a-\u202e\u2066-\u2069]/u;

// --- what a value is -----------------------------------------------------------

export function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

// An integer as JSON carries it: a Number without a fraction (a BigInt from
// a parser that keeps large literals too); true and false are not integers.
export function isInt(value) {
  return (typeof value === "number" && Number.isInteger(value)) || typeof value === "bigint";
}

// Python's len() of a str: code points, a lone surrogate counting as one.
export function codePoints(text) {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

// A short printable form of a JSON value for error messages.
export function describe(value) {
  if (value === null || value === undefined) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (isInt(value)) return String(value);
  if (typeof value === "string") {
    const chars = Array.from(value);
    const shown = chars.slice(0, 40).join("") + (chars.length > 40 ? "…" : "");
    return `string ${JSON.stringify(shown)}`;
  }
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (isObject(value)) return "an object";
  return `a ${typeof value}`;
}

function fail(where, expected, value) {
  return new MalformedError(`${where}: expected ${expected}, got ${describe(value)}`);
}

const has = (obj, key) => Object.prototype.hasOwnProperty.call(obj, key);

// --- readers -------------------------------------------------------------------

// A JSON object with exactly the keys `names`: none missing, none unknown.
export function readObject(value, where, names) {
  if (!isObject(value)) throw fail(where, "an object", value);
  const missing = names.filter((n) => !has(value, n));
  if (missing.length) throw new MalformedError(`${where}: missing field(s) ${missing.sort().join(", ")}`);
  const unknown = Object.keys(value).filter((k) => !names.includes(k));
  if (unknown.length) {
    throw new MalformedError(`${where}: unknown field(s) ${unknown.map((k) => JSON.stringify(k)).sort().join(", ")}`);
  }
  return value;
}

// An integer in [low, high].
export function readInt(value, where, low = 0, high = MAX_SAFE_INT) {
  if (!isInt(value)) throw fail(where, "an integer", value);
  if (value < low || value > high) {
    throw new MalformedError(`${where}: expected an integer in [${low}, ${high}], got ${value}`);
  }
  return Number(value);
}

// Money: whole fen, 0 <= x <= 2^53 - 1 (> 0 if `positive`).
export function readFen(value, where, positive = false) {
  if (!isInt(value)) throw fail(where, "an amount in integer fen", value);
  const low = positive ? 1 : 0;
  if (value < low || value > MAX_SAFE_INT) {
    throw new MalformedError(`${where}: expected an amount in fen in [${low}, ${MAX_SAFE_INT}], got ${value}`);
  }
  return Number(value);
}

// A balance that may be a deficit: |x| <= 2^53 - 1.
export function readSignedFen(value, where) {
  if (!isInt(value)) throw fail(where, "an amount in integer fen", value);
  if (value < -MAX_SAFE_INT || value > MAX_SAFE_INT) {
    throw new MalformedError(`${where}: expected an amount in fen in [${-MAX_SAFE_INT}, ${MAX_SAFE_INT}], got ${value}`);
  }
  return Number(value);
}

export function readBool(value, where) {
  if (typeof value !== "boolean") throw fail(where, "true or false", value);
  return value;
}

// A member or claim id: 32 lowercase hex characters.
export function readId(value, where) {
  if (typeof value !== "string" || !HEX_ID.test(value)) {
    throw fail(where, "an id of 32 lowercase hex characters", value);
  }
  return value;
}

// A hash, commitment, salt or root: 64 lowercase hex characters, 32 bytes.
export function readHash(value, where) {
  if (typeof value !== "string" || !HASH_HEX.test(value)) throw fail(where, "64 lowercase hex characters", value);
  return fromHex(value);
}

// --- dates and times -------------------------------------------------------------

function daysInMonth(year, month) {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

// Python's date(year, month, day): years 1 to 9999.
function calendarError(year, month, day) {
  if (year < 1 || year > 9999) return `year ${year} is out of range`;
  if (month < 1 || month > 12) return "month must be in 1..12";
  if (day < 1 || day > daysInMonth(year, month)) return "day is out of range for month";
  return null;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil), exact for every year Python's date allows.
function civilDays(year, month, day) {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function pad(n, width) {
  return String(n).padStart(width, "0");
}

// A calendar date "YYYY-MM-DD"; the value is the string itself.
export function readDate(value, where) {
  const m = typeof value === "string" ? DATE.exec(value) : null;
  if (m === null) throw fail(where, "a date YYYY-MM-DD", value);
  const error = calendarError(Number(m[1]), Number(m[2]), Number(m[3]));
  if (error) throw new MalformedError(`${where}: ${JSON.stringify(value)} is not a calendar date (${error})`);
  return value;
}

// Days since 1970-01-01 of a date string.
export function dateDays(s) {
  const m = DATE.exec(readDate(s, "date"));
  return civilDays(Number(m[1]), Number(m[2]), Number(m[3]));
}

// The date string of a day number (the inverse of dateDays).
export function daysDate(n) {
  if (!Number.isSafeInteger(n)) throw new MalformedError(`date: day ${n} is not an integer`);
  const z = n + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 1 || year > 9999) throw new MalformedError(`date: day ${n} is outside the years 1 to 9999`);
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

// The one encoding of a date: a date string (checked), or a day number.
export function formatDate(s) {
  return typeof s === "number" ? daysDate(s) : readDate(s, "date");
}

// An RFC 3339 UTC time in the fixed form YYYY-MM-DDTHH:MM:SSZ, as POSIX seconds.
export function readTime(value, where) {
  const m = typeof value === "string" ? TIME.exec(value) : null;
  if (m === null) throw fail(where, "a time YYYY-MM-DDTHH:MM:SSZ", value);
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number);
  let error = calendarError(year, month, day);
  if (!error && hour > 23) error = "hour must be in 0..23";
  if (!error && minute > 59) error = "minute must be in 0..59";
  if (!error && second > 59) error = "second must be in 0..59";
  if (error) throw new MalformedError(`${where}: ${JSON.stringify(value)} is not a calendar time (${error})`);
  return civilDays(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
}

// The one encoding of a time given in POSIX seconds (whole seconds only).
export function formatTime(seconds) {
  if (!Number.isSafeInteger(seconds)) {
    throw new MalformedError(`time ${seconds} must be whole seconds to have a canonical form`);
  }
  const days = Math.floor(seconds / 86400);
  const rest = seconds - days * 86400;
  const hms = [Math.floor(rest / 3600), Math.floor((rest % 3600) / 60), rest % 60].map((n) => pad(n, 2));
  return `${daysDate(days)}T${hms.join(":")}Z`;
}

// The date (as a string) a time in POSIX seconds falls on, in UTC.
export function timeDate(seconds) {
  return daysDate(Math.floor(seconds / 86400));
}

// --- tokens, texts, enums, lists ---------------------------------------------------

// A short lowercase token: [a-z][a-z0-9_.-], at most 32 characters.
export function readToken(value, where) {
  if (typeof value !== "string" || !TOKEN.test(value)) {
    throw fail(where, "a lowercase token [a-z][a-z0-9_.-]{0,31}", value);
  }
  return value;
}

// Free text of minLen..maxLen code points; control characters are refused
// (a line feed is allowed if multiline), and so are the bidirectional controls.
export function readText(value, where, maxLen, minLen = 1, multiline = true) {
  if (typeof value !== "string") throw fail(where, "a text", value);
  const length = codePoints(value);
  if (length < minLen || length > maxLen) {
    throw new MalformedError(`${where}: expected a text of ${minLen} to ${maxLen} characters, got ${length}`);
  }
  const bad = (multiline ? TEXT_REFUSED : LINE_REFUSED).exec(value);
  if (bad !== null) {
    const cp = bad[0].codePointAt(0).toString(16).toUpperCase().padStart(4, "0");
    throw new MalformedError(`${where}: control character U+${cp} at position ${codePoints(value.slice(0, bad.index))} is not allowed`);
  }
  return value;
}

// One of the string values `values` (an enum's).
export function readEnum(value, where, values) {
  if (typeof value === "string" && values.includes(value)) return value;
  throw fail(where, `one of ${values.join(", ")}`, value);
}

// The key a list's item is told apart by when items must be unique: hex
// for bytes, the string itself otherwise.
function itemKey(v) {
  return v instanceof Uint8Array ? Array.from(v, (b) => b.toString(16).padStart(2, "0")).join("") : v;
}

// A list of minLen..maxLen items, each read by `item` at where[i]; with
// `unique`, items must differ (`key` says what makes two items the same).
export function readList(value, where, item, maxLen, minLen = 0, unique = false, key = itemKey) {
  if (!Array.isArray(value)) throw fail(where, "a list", value);
  if (value.length < minLen || value.length > maxLen) {
    throw new MalformedError(`${where}: expected a list of ${minLen} to ${maxLen} items, got ${value.length}`);
  }
  const items = value.map((v, i) => item(v, `${where}[${i}]`));
  if (unique) {
    const first = new Map();
    items.forEach((v, i) => {
      const k = key(v);
      if (first.has(k)) throw new MalformedError(`${where}[${i}]: duplicate item ${k} (also at [${first.get(k)}])`);
      first.set(k, i);
    });
  }
  return Object.freeze(items);
}

// A free-form object such as a rulebook: keys [a-z][a-z0-9_.]*, values
// integers, strings, booleans, or lists and objects of those, at most four
// containers deep counting the object itself; no null, no floats. Frozen.
export function readShape(value, where) {
  return readShapeObject(value, where, 0);
}

function readShapeObject(value, where, depth) {
  if (!isObject(value)) throw fail(where, "an object", value);
  const out = {};
  for (const [key, v] of Object.entries(value)) {
    if (!SHAPE_KEY.test(key)) throw new MalformedError(`${where}: key ${JSON.stringify(key)} does not match [a-z][a-z0-9_.]*`);
    out[key] = readShapeValue(v, `${where}["${key}"]`, depth + 1);
  }
  return Object.freeze(out);
}

function readShapeValue(value, where, depth) {
  if (typeof value === "boolean" || typeof value === "string") return value;
  if (isInt(value)) return readInt(value, where, -MAX_SAFE_INT);
  if ((Array.isArray(value) || isObject(value)) && depth >= SHAPE_MAX_DEPTH) {
    throw new MalformedError(`${where}: nested deeper than ${SHAPE_MAX_DEPTH} levels`);
  }
  if (Array.isArray(value)) return Object.freeze(value.map((v, i) => readShapeValue(v, `${where}[${i}]`, depth + 1)));
  if (isObject(value)) return readShapeObject(value, where, depth);
  throw fail(where, "an integer, string, boolean, list or object", value);
}

// --- RFC 8785 canonical JSON ---------------------------------------------------------

const ESCAPES = { '"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r" };

function canonicalString(s) {
  if (/[\uD800-\uDFFF]/u.test(s)) throw new MalformedError("cannot be encoded as RFC 8785 JSON: a lone surrogate");
  return `"${s.replace(/["\\\x00-\x1f]/g, (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}"`;
}

// The RFC 8785 text of a JSON value of the subset entries use: strings
// without lone surrogates, integers within ±(2^53 - 1), booleans, null,
// lists and objects (keys sorted by UTF-16 code units); anything else,
// including a fraction, is MalformedError.
export function canonicalJson(value) {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new MalformedError(`number ${value} has a fraction or exponent: floats are not allowed in entries`);
    if (!Number.isSafeInteger(value)) throw new MalformedError(`integer outside the JSON safe range ±${MAX_SAFE_INT}: ${value}`);
    return String(value);
  }
  if (typeof value === "string") return canonicalString(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${keys.map((k) => `${canonicalString(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  throw new MalformedError(`cannot be encoded as RFC 8785 JSON: a ${typeof value}`);
}
