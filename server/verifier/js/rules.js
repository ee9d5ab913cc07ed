// The pool's rulebook as typed data, and its schedule of changes: a port of
// verifiable/pool/rules.py.
//
// - Rules: every parameter of the pool, read strictly from the `rules`
//   object of a pool.rules body (as the decoded body holds it) on top of a
//   base rulebook: an unknown name, a value of the wrong type or out of
//   range throws MalformedError. Its fields carry the Python dataclass's
//   names (join_bands, quorum_bp, ...) and the values its accessors give:
//   bands and tokens as strings, caps as {band, cap}, witnesses as
//   cosignature verifiers (cosignature.js) with their key string in `vkey`
//   and their key ID also as `key_id`, the Python name.
//   Reading rules is async, since a witness key's ID is a SHA-256.
// - Rulebook: which Rules are in force at a given time, and whether a new
//   pool.rules entry may join the schedule.
// - The period calendar (nextNotice): periods are named by their notice
//   date; a period's moment is 00:00 UTC on that date.
//
// Times are POSIX seconds (Numbers), dates "YYYY-MM-DD" strings. Money is
// fen; a result that may pass 2^53 - 1 is computed in BigInt and given as a
// Number when it is a safe integer, as a BigInt otherwise.

import { cosignatureVerifier } from "./cosignature.js";
import { DAY, dateDays, dateParts, dateTime, daysDate, formatTime, makeDate, timeDate } from "./dates.js";
import { MalformedError, VerificationError } from "./errors.js";

export const MAX_SAFE_INT = Number.MAX_SAFE_INTEGER;
export const MAX_DRAW_WITNESSES = 16;
export const MAX_PANEL_SIZE = 127;
export const AGE_BANDS = ["0-17", "18-39", "40-59"];

// --- errors -----------------------------------------------------------------

// A rule of the pool broken by an entry that decodes (verifiable/errors.py):
// `rule` names it, `seq` is the entry's index (or null), `expected` and
// `actual` short printable values (or null).
export class RuleViolation extends VerificationError {
  constructor(rule, message, { seq = null, expected = null, actual = null } = {}) {
    const where = seq !== null ? `entry ${seq}: ` : "";
    const detail = expected !== null || actual !== null ? ` (expected ${expected}, got ${actual})` : "";
    super(`${where}rule ${rule}: ${message}${detail}`);
    this.name = "RuleViolation";
    this.rule = rule;
    this.seq = seq;
    this.expected = expected;
    this.actual = actual;
  }
}

// --- readers (verifiable/log/fields.py) --------------------------------------

export function describe(value) {
  if (value === null || value === undefined) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (typeof value === "string") {
    const cut = Array.from(value);
    const shown = cut.slice(0, 40).join("") + (cut.length > 40 ? "…" : "");
    return `string ${JSON.stringify(shown)}`;
  }
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (isObject(value)) return "an object";
  return `a ${typeof value}`;
}

function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function fail(where, expected, value) {
  return new MalformedError(`${where}: expected ${expected}, got ${describe(value)}`);
}

function isInt(value) {
  return typeof value === "number" && Number.isInteger(value);
}

export function readInt(value, where, low = 0, high = MAX_SAFE_INT) {
  if (!isInt(value)) throw fail(where, "an integer", value);
  if (value < low || value > high) {
    throw new MalformedError(`${where}: expected an integer in [${low}, ${high}], got ${value}`);
  }
  return value;
}

function readBool(value, where) {
  if (typeof value !== "boolean") throw fail(where, "true or false", value);
  return value;
}

const TOKEN = /^[a-z][a-z0-9_.-]{0,31}$/;

function readToken(value, where) {
  if (typeof value !== "string" || !TOKEN.test(value)) {
    throw fail(where, "a lowercase token [a-z][a-z0-9_.-]{0,31}", value);
  }
  return value;
}

export function readBand(value, where) {
  if (typeof value === "string" && AGE_BANDS.includes(value)) return value;
  throw fail(where, `one of ${AGE_BANDS.join(", ")}`, value);
}

function readObject(value, where, names) {
  if (!isObject(value)) throw fail(where, "an object", value);
  const keys = Object.keys(value);
  const missing = names.filter((n) => !keys.includes(n));
  if (missing.length) throw new MalformedError(`${where}: missing field(s) ${missing.sort().join(", ")}`);
  const unknown = keys.filter((k) => !names.includes(k));
  if (unknown.length) {
    throw new MalformedError(`${where}: unknown field(s) ${unknown.map((k) => JSON.stringify(k)).sort().join(", ")}`);
  }
  return value;
}

// --- the parameters ---------------------------------------------------------

function list(value, where, maxLen, minLen = 1) {
  if (!Array.isArray(value)) throw new MalformedError(`${where}: expected a list, got ${describe(value)}`);
  if (value.length < minLen || value.length > maxLen) {
    throw new MalformedError(`${where}: expected a list of ${minLen} to ${maxLen} items, got ${value.length}`);
  }
  return value;
}

function unique(items, where) {
  const seen = new Set();
  items.forEach((item, i) => {
    if (seen.has(item)) throw new MalformedError(`${where}[${i}]: duplicate item ${item}`);
    seen.add(item);
  });
}

function readBands(value, where) {
  const bands = list(value, where, AGE_BANDS.length, 0).map((v, i) => readBand(v, `${where}[${i}]`));
  unique(bands, where);
  return Object.freeze(bands);
}

function readCaps(value, where) {
  const caps = list(value, where, AGE_BANDS.length).map((item, i) => {
    const at = `${where}[${i}]`;
    if (!isObject(item)) throw new MalformedError(`${at}: expected an object, got ${describe(item)}`);
    const obj = readObject(item, at, ["band", "cap"]);
    return Object.freeze({ band: readBand(obj.band, `${at}.band`), cap: readInt(obj.cap, `${at}.cap`, 1) });
  });
  unique(
    caps.map((c) => c.band),
    `${where} band`,
  );
  return Object.freeze(caps);
}

function readTokens(value, where) {
  const tokens = list(value, where, 128, 0).map((v, i) => readToken(v, `${where}[${i}]`));
  unique(tokens, where);
  return Object.freeze(tokens);
}

function readDaysOfMonth(value, where) {
  const days = list(value, where, 12).map((v, i) => readInt(v, `${where}[${i}]`, 1, 28));
  for (let i = 1; i < days.length; i++) {
    if (days[i] <= days[i - 1]) {
      throw new MalformedError(
        `${where}[${i}]: days must be strictly increasing, got ${days[i]} after ${days[i - 1]}`,
      );
    }
  }
  return Object.freeze(days);
}

async function readWitnesses(value, where) {
  const items = list(value, where, MAX_DRAW_WITNESSES, 0);
  const keys = [];
  for (let i = 0; i < items.length; i++) {
    if (typeof items[i] !== "string") {
      throw new MalformedError(`${where}[${i}]: expected a verifier key string, got ${describe(items[i])}`);
    }
    try {
      const verifier = await cosignatureVerifier(items[i]);
      keys.push(Object.freeze({ ...verifier, key_id: verifier.keyId, vkey: items[i] }));
    } catch (e) {
      if (e instanceof MalformedError) throw new MalformedError(`${where}[${i}]: ${e.message}`);
      throw e;
    }
  }
  // A witness is known by its key name in a cosignature line: one key per name.
  unique(
    keys.map((k) => k.name),
    `${where} name`,
  );
  return Object.freeze(keys);
}

const same = (value) => value;
const int = (low, high) => (v, w) => readInt(v, w, low, high);
const copy = (value) => [...value];

// [rule name, field, read, write, default], in the order of the dataclass.
const RULES = [
  ["member.join_bands", "join_bands", readBands, copy, AGE_BANDS],
  ["member.waiting_days", "waiting_days", int(0, 3650), same, 90],
  [
    "cover.caps",
    "caps",
    readCaps,
    (caps) => caps.map((c) => ({ band: c.band, cap: c.cap })),
    [
      { band: "0-17", cap: 30_000_000 },
      { band: "18-39", cap: 30_000_000 },
      { band: "40-59", cap: 10_000_000 },
    ],
  ],
  [
    "cover.categories",
    "categories",
    readTokens,
    copy,
    ["cancer", "heart_attack", "stroke", "organ_transplant", "kidney_failure", "coronary_bypass", "other_serious"],
  ],
  ["claim.filing_days", "filing_days", int(1, 3650), same, 180],
  ["claim.objection_days", "objection_days", int(0, 90), same, 3],
  ["claim.objections_per_member", "objections_per_member", int(0, 100), same, 0],
  ["juror.bands", "juror_bands", readBands, copy, ["18-39", "40-59"]],
  ["juror.seasoning_days", "seasoning_days", int(0, 3650), same, 180],
  ["panel.size", "panel_size", int(1, MAX_PANEL_SIZE), same, 31],
  ["panel.voting_days", "voting_days", int(1, 90), same, 3],
  ["panel.max_rounds", "max_rounds", int(1, 10), same, 3],
  ["vote.quorum_bp", "quorum_bp", int(0, 9_999), same, 5_000],
  ["vote.threshold_bp", "threshold_bp", int(0, 9_999), same, 5_000],
  ["vote.reason_required", "reason_required", readBool, same, true],
  ["appeal.days", "appeal_days", int(0, 365), same, 7],
  ["period.notice_days", "notice_days", readDaysOfMonth, copy, [7, 21]],
  ["period.deduction_days", "deduction_days", readDaysOfMonth, copy, [14, 28]],
  ["share.fee_rate_bp", "fee_rate_bp", int(0, 10_000), same, 800],
  ["share.cap_per_claim_fen", "share_cap_per_claim", int(0, MAX_SAFE_INT), same, 0],
  ["override.allowed", "overrides_allowed", readTokens, copy, ["claim.withdraw", "note"]],
  ["draw.witnesses", "witnesses", readWitnesses, (keys) => keys.map((k) => k.vkey), []],
  ["draw.witnesses_required", "witnesses_required", int(0, MAX_DRAW_WITNESSES), same, 0],
];

// Every rule name, in the order of Rules.
export const RULE_NAMES = Object.freeze(RULES.map(([name]) => name));

function freezeDeep(value) {
  if (Array.isArray(value)) return Object.freeze(value.map(freezeDeep));
  if (isObject(value) && !Object.isFrozen(value)) return Object.freeze({ ...value });
  return value;
}

// A BigInt result back to a Number where it is exact.
export function exact(n) {
  return n >= BigInt(-MAX_SAFE_INT) && n <= BigInt(MAX_SAFE_INT) ? Number(n) : n;
}

// Python's floor division of BigInts (BigInt's own `/` truncates toward zero).
export function floorDiv(a, b) {
  const q = a / b;
  return (a % b !== 0n) && ((a < 0n) !== (b < 0n)) ? q - 1n : q;
}

function big(value, what) {
  if (typeof value === "bigint") return value;
  if (isInt(value)) return BigInt(value);
  throw new MalformedError(`${what}: expected an integer, got ${describe(value)}`);
}

// Every parameter of the pool. Durations are whole days; money is fen;
// rates are basis points (1/10,000). Built from every field by name; use
// rulesFromJson to read a pool.rules body's `rules`.
export class Rules {
  constructor(values) {
    for (const [, field, , , fallback] of RULES) {
      this[field] = freezeDeep(field in values ? values[field] : fallback);
    }
    this.#check();
    Object.freeze(this);
  }

  #check() {
    if (this.witnesses_required > this.witnesses.length) {
      throw new MalformedError(
        `draw.witnesses_required: ${this.witnesses_required} of ` +
          `${this.witnesses.length} draw.witnesses required`,
      );
    }
    const covered = new Set(this.caps.map((c) => c.band));
    for (const band of this.join_bands) {
      if (!covered.has(band)) throw new MalformedError(`cover.caps: no cap for band ${band}, which may join`);
    }
    if (this.deduction_days.length !== this.notice_days.length) {
      throw new MalformedError(
        `period.deduction_days: expected one per notice day ` +
          `(${this.notice_days.length}), got ${this.deduction_days.length}`,
      );
    }
    this.notice_days.forEach((notice, i) => {
      if (this.deduction_days[i] <= notice) {
        throw new MalformedError(
          `period.deduction_days: deduction day ${this.deduction_days[i]} is not after its notice day ${notice}`,
        );
      }
    });
    if (!this.categories.length) throw new MalformedError("cover.categories: at least one category is needed");
  }

  // Every parameter under its rule name, as plain JSON values.
  to_json() {
    return Object.fromEntries(RULES.map(([name, field, , write]) => [name, write(this[field])]));
  }

  // The cap for `band` in fen, or null if the band has no cover.
  cap(band) {
    const found = this.caps.find((c) => c.band === band);
    return found === undefined ? null : found.cap;
  }

  // The first day of cover (a date) for a member who joined at `joined`.
  covered_from(joined) {
    return daysDate(dateDays(timeDate(joined)) + this.waiting_days);
  }

  // When a member who joined at `joined` may first qualify as a juror.
  seasoned_from(joined) {
    return joined + this.seasoning_days * DAY;
  }

  // The end of the objection window of a notice published at `noticed`.
  objections_until(noticed) {
    return noticed + this.objection_days * DAY;
  }

  // Whether a member who made `earlier` objections to a claim may make one more.
  objection_allowed(earlier) {
    return !this.objections_per_member || earlier < this.objections_per_member;
  }

  // The end of the voting window of a panel drawn at `drawn`.
  votes_until(drawn) {
    return drawn + this.voting_days * DAY;
  }

  // The last moment to appeal a rejection decided at `decided`.
  appeal_until(decided) {
    return decided + this.appeal_days * DAY;
  }

  get appeals() {
    return this.appeal_days > 0;
  }

  get appeal_panel_size() {
    return 2 * this.panel_size + 1;
  }

  panel_size_for(appeal) {
    return appeal ? this.appeal_panel_size : this.panel_size;
  }

  // Revealed votes a panel of `panel` jurors needs: more than quorum_bp/10,000.
  quorum(panel) {
    return exact(floorDiv(big(panel, "quorum") * BigInt(this.quorum_bp), 10_000n) + 1n);
  }

  // More than threshold_bp/10,000 of the `valid` votes approve.
  approves(approvals, valid) {
    return big(approvals, "approvals") * 10_000n > BigInt(this.threshold_bp) * big(valid, "valid votes");
  }

  // The management fee on `aid` fen, rounded down to the fen.
  fee(aid) {
    return exact(floorDiv(big(aid, "aid") * BigInt(this.fee_rate_bp), 10_000n));
  }

  // `share` held to share.cap_per_claim_fen for each of the `claims` paid.
  capped_share(share, claims) {
    if (this.share_cap_per_claim) {
      const limit = big(claims, "claims") * BigInt(this.share_cap_per_claim);
      const s = big(share, "share");
      return exact(s < limit ? s : limit);
    }
    return share;
  }

  // The day the shares of `period` (named by its notice date) are deducted.
  deduction_date(period) {
    const [year, month, day] = dateParts(period);
    const i = this.notice_days.indexOf(day);
    if (i >= 0) return makeDate(year, month, this.deduction_days[i]);
    const later = this.deduction_days.filter((d) => d > day);
    if (later.length) return makeDate(year, month, later[0]);
    const [y, m] = month === 12 ? [year + 1, 1] : [year, month + 1];
    return makeDate(y, m, this.deduction_days[0]);
  }
}

// The default rulebook (docs/rules.md).
export const DEFAULT_RULES = new Rules({});

// `base` (default DEFAULT_RULES) with the parameters named in `obj` (the
// `rules` object of a pool.rules body) replaced; every name must be known
// and every value valid, else MalformedError.
export async function rulesFromJson(obj, where = "rules", base = null) {
  base = base === null ? DEFAULT_RULES : base;
  if (!isObject(obj)) throw fail(where, "an object", obj);
  const byName = new Map(RULES.map((r) => [r[0], r]));
  const unknown = Object.keys(obj)
    .filter((k) => !byName.has(k))
    .sort();
  if (unknown.length) {
    throw new MalformedError(
      `${where}: unknown rule(s) ${unknown.join(", ")}; known rules: ${[...byName.keys()].sort().join(", ")}`,
    );
  }
  const values = {};
  for (const [, field] of RULES) values[field] = base[field];
  for (const [name, value] of Object.entries(obj)) {
    const [, field, read] = byName.get(name);
    values[field] = await read(value, `${where}.${name}`);
  }
  try {
    return new Rules(values);
  } catch (e) {
    if (e instanceof MalformedError) throw new MalformedError(`${where}: ${e.message}`);
    throw e;
  }
}

// --- the period calendar ------------------------------------------------------

// 00:00 UTC on a period's notice date (POSIX seconds): when its roster is fixed.
export function moment(period) {
  return dateTime(period);
}

// The first notice date whose moment is strictly after `after` (POSIX seconds).
export function nextNotice(after, rules) {
  let [year, month] = dateParts(timeDate(after));
  for (let n = 0; n < 3; n++) {
    for (const day of rules.notice_days) {
      const date = makeDate(year, month, day);
      if (moment(date) > after) return date;
    }
    [year, month] = month === 12 ? [year + 1, 1] : [year, month + 1];
  }
  throw new Error("unreachable: every month has a notice day");
}

// --- the schedule ---------------------------------------------------------------

// One pool.rules entry in the schedule: the whole rulebook from `effective` on.
export function ruleChange(seq, time, effective, rules) {
  return Object.freeze({ seq, time, effective, rules });
}

// The schedule of rulebooks, in order of effective time: in_force(t) is the
// rulebook of the latest change effective at or before t. Changes are
// appended with adopt() after propose() has checked them.
export class Rulebook {
  #changes = [];

  // Every change adopted so far, the first being the genesis rulebook.
  get changes() {
    return Object.freeze([...this.#changes]);
  }

  // The last change scheduled, which may not be in force yet.
  get latest() {
    return this.#changes.length ? this.#changes[this.#changes.length - 1] : null;
  }

  // The rules in force at `at` (POSIX seconds), or null before the first.
  in_force(at) {
    let lo = 0;
    let hi = this.#changes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (at < this.#changes[mid].effective) hi = mid;
      else lo = mid + 1;
    }
    return lo ? this.#changes[lo - 1].rules : null;
  }

  // Check a pool.rules entry at `seq`/`time` (its body {effective, rules,
  // reason}) and resolve to the change it makes, without adopting it.
  async propose(seq, time, body) {
    const last = this.latest;
    let base;
    if (last === null) {
      if (seq !== 0) {
        throw new RuleViolation("rules.genesis", "the first pool.rules entry must be the first entry of the log", {
          seq,
          expected: "seq 0",
          actual: `seq ${seq}`,
        });
      }
      if (body.effective !== time) {
        throw new RuleViolation("rules.genesis", "the genesis rulebook takes effect at its own time", {
          seq,
          expected: formatTime(time),
          actual: formatTime(body.effective),
        });
      }
      base = DEFAULT_RULES;
    } else {
      if (body.effective <= time) {
        throw new RuleViolation("rules.effective_future", "a rule change must take effect after the entry that makes it", {
          seq,
          expected: `effective after ${formatTime(time)}`,
          actual: formatTime(body.effective),
        });
      }
      if (body.effective <= last.effective) {
        throw new RuleViolation("rules.order", "a rule change must take effect after every change already scheduled", {
          seq,
          expected: `effective after ${formatTime(last.effective)}`,
          actual: formatTime(body.effective),
        });
      }
      base = last.rules;
    }
    const rules = await rulesFromJson(body.rules, `entry ${seq}: body.rules`, base);
    return ruleChange(seq, time, body.effective, rules);
  }

  // Add a change resolved by propose().
  adopt(change) {
    this.#changes.push(change);
  }

  // Remove the last change (the caller's undo of adopt()).
  unadopt() {
    this.#changes.pop();
  }
}
