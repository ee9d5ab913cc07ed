// The bodies of log entries, one per entry type (format v1): a port of
// verifiable/log/bodies.py. A body is a frozen plain object whose keys are
// the Python dataclass's field names; every field is required and unknown
// fields are refused, but for the few optional ones (a panel's `witnessed`
// checkpoint, a claim's `age_band`, a notice's `facts`, `summary` and
// `redacted`), which are null when absent. Only shape, types and bounds are
// checked here, and the few constraints that tie fields of one body
// together; whether an entry is allowed where it is, is the rulebook's job.
//
// A panel's witnessed checkpoint is {checkpoint, cosignatures, proof, text}:
// checkpoint {origin, size, root_hash, extensions} and each cosignature
// {name, key_id, timestamp, signature}, as the Python dataclasses; `size`
// and `timestamp` are BigInt, as in checkpoint.js and cosignature.js, since
// they may exceed 2^53. `text` is the note text (SeedCheckpoint.text).

import { decodeBase64, encodeBase64 } from "./encoding.js";
import { MalformedError } from "./errors.js";
import { parseCheckpoint } from "./checkpoint.js";
import { MAX_TIMESTAMP } from "./cosignature.js";
import { checkKeyName } from "./note.js";
import { codePoints, isObject, readBool, readDate, readEnum, readFen, readHash, readId, readInt, readList, readObject, readShape, readSignedFen, readText, readTime, readToken } from "./fields.js";
import { readNoticeFacts } from "./notice_facts.js";

// Evidence commitments per claim.
export const MAX_EVIDENCE = 32;
// Jurors per panel.
export const MAX_PANEL = 255;
// Witnesses a rulebook may name for the draw, and cosignatures a panel.drawn may carry.
export const MAX_DRAW_WITNESSES = 16;

export const AGE_BANDS = Object.freeze(["0-17", "18-39", "40-59"]);
export const LEAVE_REASONS = Object.freeze(["voluntary", "waiting_period", "age_limit", "removed"]);
export const CHOICES = Object.freeze(["approve", "reject"]);
export const ERASED_KINDS = Object.freeze(["member", "evidence"]);
export const OUTCOMES = Object.freeze(["approved", "rejected", "no_quorum", "ineligible"]);

// --- field decoders (the Python codecs' decode halves) ---------------------------

const ID = readId;
const HASH = readHash;
const DATE = readDate;
const TIME = readTime;
const TOKEN = readToken;
const BOOL = readBool;
const FEN = (v, w) => readFen(v, w);
const POSITIVE_FEN = (v, w) => readFen(v, w, true);
const SIGNED_FEN = readSignedFen;
const COUNT = (v, w) => readInt(v, w);
const POSITIVE_COUNT = (v, w) => readInt(v, w, 1);
const ROUND = POSITIVE_COUNT;
const SHAPE = readShape;
const intIn = (low, high) => (v, w) => readInt(v, w, low, high);
const text = (maxLen, minLen = 1, multiline = true) => (v, w) => readText(v, w, maxLen, minLen, multiline);
const oneOf = (values) => (v, w) => readEnum(v, w, values);
const listOf = (item, maxLen, minLen = 0, unique = false) => (v, w) => readList(v, w, item, maxLen, minLen, unique);
const NOTICE_TEXT = text(2000);
const VOTE_REASON = text(500, 0);
const AGE_BAND = oneOf(AGE_BANDS);
const EVIDENCE = listOf(HASH, MAX_EVIDENCE, 1, true);

// --- a panel's witnessed checkpoint ---------------------------------------------------

const EM_DASH_PREFIX = "\u2014 ";
const KEY_ID_SIZE = 4;
const COSIGNATURE_SIZE = 8 + 64;

function parsed(parse, value, where) {
  try {
    return parse(value);
  } catch (e) {
    if (e instanceof MalformedError) throw new MalformedError(`${where}: ${e.message}`);
    throw e;
  }
}

// Cosignature.from_line: NoteSignature.from_line, then the 8-byte
// timestamp and the 64-byte Ed25519 signature.
function cosignatureFromLine(line) {
  if (!line.startsWith(EM_DASH_PREFIX)) {
    throw new MalformedError("signature line does not start with an em dash (U+2014) and a space");
  }
  const rest = line.slice(EM_DASH_PREFIX.length);
  const space = rest.indexOf(" ");
  const name = space < 0 ? rest : rest.slice(0, space);
  if (space < 0) throw new MalformedError(`signature line for ${JSON.stringify(name)}: no space before the signature`);
  checkKeyName(name, "signature key name");
  const raw = decodeBase64(rest.slice(space + 1), `signature by ${name}`);
  if (raw.length <= KEY_ID_SIZE) {
    throw new MalformedError(`signature by ${name}: ${raw.length} bytes, expected at least ${KEY_ID_SIZE + 1}`);
  }
  if (raw.length !== KEY_ID_SIZE + COSIGNATURE_SIZE) {
    throw new MalformedError(`cosignature by ${name}: ${raw.length - KEY_ID_SIZE} bytes after the key ID, expected ${COSIGNATURE_SIZE}`);
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.length);
  const timestamp = view.getBigUint64(KEY_ID_SIZE);
  if (timestamp > MAX_TIMESTAMP) {
    throw new MalformedError(`cosignature by ${name}: timestamp ${timestamp} is outside 0..2^63-1`);
  }
  return Object.freeze({ name, key_id: view.getUint32(0), timestamp, signature: raw.slice(KEY_ID_SIZE + 8) });
}

function readCosignature(value, where) {
  if (typeof value !== "string" || codePoints(value) > 300) throw new MalformedError(`${where}: expected a cosignature line`);
  const cosignature = parsed(cosignatureFromLine, value, where);
  const raw = new Uint8Array(KEY_ID_SIZE + COSIGNATURE_SIZE);
  const view = new DataView(raw.buffer);
  view.setUint32(0, cosignature.key_id);
  view.setBigUint64(KEY_ID_SIZE, cosignature.timestamp);
  raw.set(cosignature.signature, KEY_ID_SIZE + 8);
  if (`${EM_DASH_PREFIX}${cosignature.name} ${encodeBase64(raw)}` !== value) {
    throw new MalformedError(`${where}: not in its one canonical form`);
  }
  return cosignature;
}

function checkpointText(cp) {
  return [cp.origin, String(cp.size), encodeBase64(cp.root_hash), ...cp.extensions].map((l) => `${l}\n`).join("");
}

// SeedCheckpoint.from_json.
export function readSeedCheckpoint(value, where) {
  const raw = readObject(value, where, ["checkpoint", "cosignatures", "proof"]);
  const note = raw.checkpoint;
  if (typeof note !== "string" || codePoints(note) > 1000) {
    throw new MalformedError(`${where}.checkpoint: expected a checkpoint's note text`);
  }
  const cp = parsed(parseCheckpoint, note, `${where}.checkpoint`);
  const checkpoint = Object.freeze({
    origin: cp.origin,
    size: cp.size,
    root_hash: cp.rootHash,
    extensions: Object.freeze([...cp.extensions]),
  });
  if (checkpointText(checkpoint) !== note) throw new MalformedError(`${where}.checkpoint: not in its one canonical form`);
  // Two cosignatures are the same exactly when their canonical lines are.
  const lineKey = (c) => `${c.name} ${c.key_id} ${c.timestamp} ${encodeBase64(c.signature)}`;
  const cosignatures = readList(raw.cosignatures, `${where}.cosignatures`, readCosignature, MAX_DRAW_WITNESSES, 1, true, lineKey);
  const proof = readList(raw.proof, `${where}.proof`, readHash, 64);
  return Object.freeze({ checkpoint, cosignatures, proof, text: note });
}

// --- the bodies -----------------------------------------------------------------------

function checkDecided(b, where) {
  const votes = b.approvals + b.rejections;
  if (votes > MAX_PANEL) {
    throw new MalformedError(`${where}: approvals + rejections is ${votes}, more than a panel of ${MAX_PANEL}`);
  }
  if (b.round === 0) {
    if (b.outcome !== "ineligible") {
      throw new MalformedError(`${where}.round: round 0 (no panel) is only for outcome ineligible, got outcome ${b.outcome}`);
    }
    if (votes) throw new MalformedError(`${where}: round 0 has no panel, got ${votes} vote(s)`);
  }
  if (b.outcome === "approved" && b.amount === 0) {
    throw new MalformedError(`${where}.amount: an approved claim needs an amount > 0, got 0`);
  }
  if (b.outcome !== "approved" && b.amount !== 0) {
    throw new MalformedError(`${where}.amount: expected 0 for outcome ${b.outcome}, got ${b.amount}`);
  }
}

function checkErased(b, where) {
  if (b.kind === "member" && b.documents !== 0) {
    throw new MalformedError(`${where}.documents: expected 0 for kind member, got ${b.documents}`);
  }
  if (b.kind === "evidence" && b.documents === 0) {
    throw new MalformedError(`${where}.documents: expected 1 to ${MAX_EVIDENCE} for kind evidence, got 0`);
  }
}

// Each entry type: its required fields, its optional ones (each [name,
// decoder], in the dataclass's order) and its check across fields.
const SPECS = {
  "pool.rules": { fields: [["effective", TIME], ["rules", SHAPE], ["reason", NOTICE_TEXT]] },
  "member.joined": { fields: [["member", ID], ["age_band", AGE_BAND]] },
  "member.left": { fields: [["member", ID], ["reason", oneOf(LEAVE_REASONS)], ["refund", FEN]] },
  "claim.filed": {
    fields: [["claim", ID], ["member", ID], ["category", TOKEN], ["amount", POSITIVE_FEN], ["diagnosed", DATE], ["evidence", EVIDENCE]],
    optional: [["age_band", AGE_BAND]],
  },
  "claim.noticed": {
    fields: [["claim", ID], ["text", NOTICE_TEXT], ["amount", FEN], ["age_band", AGE_BAND], ["category", TOKEN], ["objections_until", TIME]],
    optional: [["facts", readNoticeFacts], ["summary", NOTICE_TEXT], ["redacted", EVIDENCE]],
  },
  "claim.objected": { fields: [["claim", ID], ["member", ID], ["text", NOTICE_TEXT]] },
  "claim.answered": { fields: [["claim", ID], ["objection", COUNT], ["text", NOTICE_TEXT]] },
  "claim.appealed": { fields: [["claim", ID], ["reason", NOTICE_TEXT]] },
  "juror.qualified": { fields: [["member", ID]] },
  "juror.removed": { fields: [["member", ID], ["reason", text(500)]] },
  "jury.pool": { fields: [["period", DATE], ["root", HASH], ["size", COUNT]] },
  "panel.drawn": {
    fields: [
      ["claim", ID], ["round", ROUND], ["appeal", BOOL], ["pool_period", DATE], ["seed_size", POSITIVE_COUNT],
      ["seed", HASH], ["jurors", listOf(ID, MAX_PANEL, 1, true)], ["votes_until", TIME],
    ],
    optional: [["witnessed", readSeedCheckpoint]],
  },
  "vote.sealed": { fields: [["claim", ID], ["round", ROUND], ["juror", ID], ["commitment", HASH]] },
  "vote.revealed": {
    fields: [["claim", ID], ["round", ROUND], ["juror", ID], ["choice", oneOf(CHOICES)], ["reason", VOTE_REASON], ["salt", HASH]],
  },
  "claim.decided": {
    fields: [
      ["claim", ID], ["round", COUNT], ["approvals", intIn(0, MAX_PANEL)], ["rejections", intIn(0, MAX_PANEL)],
      ["outcome", oneOf(OUTCOMES)], ["amount", FEN],
    ],
    check: checkDecided,
  },
  "claim.paid": { fields: [["claim", ID], ["amount", POSITIVE_FEN], ["period", DATE]] },
  "period.closed": {
    fields: [
      ["period", DATE], ["claims_count", COUNT], ["claims_total", FEN], ["claims_root", HASH], ["fee", FEN],
      ["fee_rate_bp", intIn(0, 10000)], ["refunds", FEN], ["surplus_in", SIGNED_FEN], ["surplus_out", SIGNED_FEN],
      ["sharing", COUNT], ["share", FEN], ["collected", FEN], ["roster_root", HASH], ["roster_size", COUNT],
    ],
  },
  "operator.override": {
    fields: [["action", TOKEN], ["target", text(200, 1, false)], ["reason", NOTICE_TEXT], ["details", SHAPE]],
  },
  "data.erased": {
    fields: [["kind", oneOf(ERASED_KINDS)], ["subject", ID], ["documents", intIn(0, MAX_EVIDENCE)], ["reason", text(500, 1, false)]],
    check: checkErased,
  },
  "verifier.published": { fields: [["sha256", HASH], ["size", POSITIVE_COUNT], ["build", TOKEN]] },
};

// Every entry type of format v1.
export const BODY_TYPES = Object.freeze(Object.keys(SPECS));

// The field names of a body type, required then optional (the dataclass's order).
export function bodyFields(type) {
  const spec = SPECS[type];
  return [...spec.fields, ...(spec.optional ?? [])].map(([name]) => name);
}

const has = (obj, key) => Object.prototype.hasOwnProperty.call(obj, key);

// Body.from_json: read a body of type `type` from decoded JSON; `where`
// prefixes error paths.
export function parseBody(type, obj, where) {
  if (typeof type !== "string" || !has(SPECS, type)) {
    throw new MalformedError(`${where}: unknown entry type ${JSON.stringify(type)}`);
  }
  const spec = SPECS[type];
  const optional = spec.optional ?? [];
  const present = {};
  if (optional.length && isObject(obj)) {
    for (const [name] of optional) if (has(obj, name)) present[name] = obj[name];
    if (Object.keys(present).length) obj = Object.fromEntries(Object.entries(obj).filter(([k]) => !has(present, k)));
  }
  const raw = readObject(obj, where, spec.fields.map(([name]) => name));
  const body = {};
  for (const [name, decode] of spec.fields) body[name] = decode(raw[name], `${where}.${name}`);
  for (const [name, decode] of optional) body[name] = has(present, name) ? decode(present[name], `${where}.${name}`) : null;
  if (spec.check) spec.check(body, where);
  return Object.freeze(body);
}
