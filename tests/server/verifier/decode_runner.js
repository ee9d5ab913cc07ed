// Runs the decoding cases of test_decode_js.py in the page: each case goes
// through the verifier's decoding modules (entry.js, bundle.js, proven.js,
// receipt.js) and comes back as {name, verdict, value}, the value a plain
// JSON form of what was decoded (bytes as "hex:...", integers past 2^53 - 1
// as "int:...", so that Python can build the same form of its own values).
// The test loads it from a blob, its imports pointed at the page's origin.

import { decodeBase64, fromHex, toHex } from "/js/encoding.js";
import { MalformedError, MutualogError, VerificationError } from "/js/errors.js";
import { ChainVerifier, parseEntry } from "/js/entry.js";
import { parseBundle } from "/js/bundle.js";
import { noteVerifier } from "/js/note.js";
import { openBundle, rulebookOf } from "/js/proven.js";
import { parseReceipt } from "/js/receipt.js";
import { Findings } from "/js/findings.js";
import { dateDays, daysDate, formatDate, formatTime, readDate, readTime, timeDate } from "/js/fields.js";

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export function plain(v) {
  if (v === null || v === undefined) return null;
  if (v instanceof Uint8Array) return `hex:${toHex(v)}`;
  if (typeof v === "bigint") return v >= -SAFE && v <= SAFE ? Number(v) : `int:${v}`;
  if (typeof v === "number") return Number.isSafeInteger(v) ? v : `number:${v}`;
  if (typeof v === "string" || typeof v === "boolean") return v;
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), plain(x)]));
  if (typeof v === "object") {
    const out = {};
    for (const [k, x] of Object.entries(v)) if (typeof x !== "function") out[k] = plain(x);
    return out;
  }
  return `unexpected ${typeof v}`;
}

function entryValue(e) {
  return { v: e.v, seq: e.seq, prev: plain(e.prev), time: e.time, type: e.type, body: plain(e.body), leaf: plain(e.leaf) };
}

const bytes = (b64) => decodeBase64(b64, "test case");

const RUNNERS = {
  async entry(c) {
    const options = {};
    if (c.seq !== undefined) options.seq = BigInt(c.seq) <= SAFE ? Number(c.seq) : BigInt(c.seq);
    if (c.prev !== undefined) options.prev = fromHex(c.prev);
    return ["entry", entryValue(await parseEntry(bytes(c.data), options))];
  },
  async chain(c) {
    const start = c.start ? { size: c.start.size, head: fromHex(c.start.head) } : null;
    const chain = new ChainVerifier(start);
    for (const data of c.entries) await chain.feed(bytes(data));
    return ["chain", plain(chain.state)];
  },
  async bundle(c) {
    return ["bundle", plain(parseBundle(bytes(c.data)))];
  },
  async open(c) {
    const bundle = parseBundle(bytes(c.data));
    const verifier = await noteVerifier(c.vkey);
    const [proven, findings] = await openBundle(bundle, verifier, c.origin);
    const value = {
      findings: findings.map((f) => [f.name, f.status]),
      entries: proven === null ? null : [...proven.entries.keys()],
      checkpoint: proven === null ? null : plain(proven.checkpoint),
      rules: null,
    };
    if (proven !== null) {
      const f = new Findings();
      const book = await rulebookOf(proven, f);
      value.rules = [f.result().map((x) => [x.name, x.status]), book === null ? null : book.changes.length];
    }
    return ["open", value];
  },
  // ProvenBundle's proofs on demand: each panel's seed (and witnessed
  // checkpoint) and each bundled juror, as they are or altered.
  async seeds(c) {
    const bundle = parseBundle(bytes(c.data));
    const [proven] = await openBundle(bundle, await noteVerifier(c.vkey), c.origin);
    const out = [];
    const attempt = async (f) => {
      try {
        return ["ok", plain(await f())];
      } catch (e) {
        if (e instanceof MalformedError) return ["malformed", null];
        if (e instanceof VerificationError) return ["verification", null];
        if (e instanceof MutualogError) return ["mutualog", null];
        throw e;
      }
    };
    for (const e of proven.ofType("panel.drawn")) {
      const seed = Uint8Array.from(e.body.seed);
      seed[0] ^= c.flip ? 1 : 0;
      out.push(await attempt(() => proven.proveSeed(e.body.seed_size, seed)));
      const w = e.body.witnessed;
      if (w !== null) out.push(await attempt(() => proven.proveSeed(w.checkpoint.size, w.checkpoint.root_hash)));
    }
    const pools = [...proven.ofType("jury.pool")];
    for (const j of bundle.jurors) {
      const pool = pools.find((p) => p.body.period === j.pool);
      if (pool) out.push(await attempt(() => proven.juror(pool.body, j.index + c.shift)));
    }
    return ["seeds", out];
  },
  async receipt(c) {
    return ["receipt", plain(parseReceipt(bytes(c.data)))];
  },
  // The date helpers: each date's day number and back, each time's form,
  // its date, and the time read back.
  async dates(c) {
    const days = c.dates.map((s) => [dateDays(s), daysDate(dateDays(s)), formatDate(s), formatDate(dateDays(s))]);
    const times = c.times.map((n) => [formatTime(n), timeDate(n), readTime(formatTime(n), "time")]);
    const read = c.texts.map((s) => {
      try {
        return readDate(s, "date");
      } catch (e) {
        if (e instanceof MalformedError) return "malformed";
        throw e;
      }
    });
    return ["dates", { days, times, read }];
  },
  async findings(c) {
    const f = new Findings();
    for (const [op, ...args] of c.ops) {
      if (op === "extend") f.extend(args[0].map(([name, status]) => ({ name, status, detail: "", expected: "", found: "", where: "" })));
      else f[op](...args);
    }
    return ["findings", f.result().map((x) => [x.name, x.status])];
  },
};

async function one(c) {
  try {
    const [name, value] = await RUNNERS[c.kind](c);
    return { name, verdict: "ok", value };
  } catch (e) {
    if (e instanceof MalformedError) return { name: c.kind, verdict: "malformed", value: null };
    if (e instanceof VerificationError) return { name: c.kind, verdict: "verification", value: null };
    return { name: c.kind, verdict: `error ${e?.name}: ${e?.message}`, value: null };
  }
}

// The outcomes as one JSON text: JSON keeps every integer Python sees.
export async function run(cases) {
  const out = [];
  for (let i = 0; i < cases.length; i += 128) {
    out.push(...(await Promise.all(cases.slice(i, i + 128).map(one))));
  }
  return JSON.stringify(out);
}
