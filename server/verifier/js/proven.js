// What a bundle proves against its checkpoint: a port of
// verifiable/pool/proven.py. openBundle checks the bundle's checkpoint note
// with the log's key (C2SP tlog-checkpoint) and every bundled entry's RFC
// 9162 inclusion proof under that checkpoint's root, and gives back a
// ProvenBundle holding only what was proven; panel seeds (consistency from
// the seed's size) and juror-pool leaves are proven when a check asks.
//
// A ProvenBundle has `bundle`, `checkpoint` ({origin, size, root_hash,
// extensions}, size a BigInt as in checkpoint.js) and `entries`, a Map from
// index to the entry as entry.js decodes it.

import { encodeUtf8, equalBytes, sha256, toHex, concat } from "./encoding.js";
import { MutualogError, UnsupportedError } from "./errors.js";
import { Findings, failure } from "./findings.js";
import { openCheckpoint } from "./checkpoint.js";
import { parseEntry } from "./entry.js";
import { readId } from "./fields.js";
import { verifyConsistency, verifyInclusion } from "./merkle.js";
import { Rulebook, RuleViolation } from "./rules.js";

// The type of a pool's first entry (verifiable/pool/replay.py).
export const RULEBOOK_TYPE = "pool.rules";

// The member-set leaf hash of an id: SHA-256(0x00 || id), the id as its 32
// ASCII bytes (verifiable/pool/roster.py's roster_leaf).
async function rosterLeaf(member) {
  readId(member, "roster leaf");
  return sha256(concat(Uint8Array.of(0), encodeUtf8(member)));
}

const jurorKey = (period, index) => `${period} ${index}`;

export class ProvenBundle {
  constructor(bundle, checkpoint, entries) {
    this.bundle = bundle;
    this.checkpoint = checkpoint;
    this.entries = entries;
    this._jurors = new Map(bundle.jurors.map((j) => [jurorKey(j.pool, j.index), j]));
    this._seeds = new Map(bundle.consistency.map((s) => [String(s.size), s]));
  }

  // Proven entries of the given types, in log order.
  *ofType(...types) {
    const indices = [...this.entries.keys()].sort((a, b) => a - b);
    for (const index of indices) {
      const entry = this.entries.get(index);
      if (types.includes(entry.type)) yield entry;
    }
  }

  // Prove that `seed` is the log's root at `size` (a Number or a BigInt);
  // resolve to how, or throw MutualogError.
  async proveSeed(size, seed) {
    const cp = this.checkpoint;
    const n = BigInt(size);
    if (n > cp.size) throw new MutualogError(`seed size ${size} is beyond the checkpoint's size ${cp.size}`);
    if (n === cp.size) {
      if (!equalBytes(seed, cp.root_hash)) throw new MutualogError(`root at size ${size} is ${toHex(cp.root_hash)}`);
      return `the checkpoint's own root at size ${size}`;
    }
    const proof = this._seeds.get(String(n));
    if (proof === undefined) throw new MutualogError(`the bundle has no consistency proof from size ${size}`);
    await verifyConsistency(n, cp.size, [...proof.proof], seed, cp.root_hash);
    return `consistency proof ${size} -> ${cp.size}`;
  }

  // The juror at `index` of `pool` (a jury.pool body), proven against its
  // root; throws MutualogError if the bundle lacks it or the proof fails.
  async juror(pool, index) {
    const leaf = this._jurors.get(jurorKey(pool.period, index));
    if (leaf === undefined) throw new MutualogError(`the bundle has no juror at index ${index} of the pool`);
    await verifyInclusion(await rosterLeaf(leaf.member), index, pool.size, [...leaf.proof], pool.root);
    return leaf.member;
  }
}

// A refusal of ours becomes a finding; anything else (a bug, or a browser
// without Ed25519, which is no verdict on the bundle) is thrown on.
function ours(e) {
  if (!(e instanceof MutualogError) || e instanceof UnsupportedError) throw e;
  return e;
}

// open_bundle: check the bundle's checkpoint (`verifier` the log's key, as
// note.js's noteVerifier makes it) and every entry's inclusion; resolve to
// [the proven part (null if the checkpoint itself fails), the findings
// "checkpoint" and "inclusion"].
export async function openBundle(bundle, verifier, origin) {
  let checkpoint;
  try {
    const cp = (await openCheckpoint(bundle.checkpoint, verifier, origin)).checkpoint;
    checkpoint = Object.freeze({ origin: cp.origin, size: cp.size, root_hash: cp.rootHash, extensions: cp.extensions });
  } catch (e) {
    return [null, [failure("checkpoint", ours(e).message, `a checkpoint signed by the key of ${origin}`)]];
  }
  const findings = new Findings();
  findings.ok("checkpoint", `signed by the log key, size ${checkpoint.size}, root ${toHex(checkpoint.root_hash)}`);
  const entries = new Map();
  for (const item of bundle.entries) {
    let entry;
    try {
      entry = await parseEntry(item.data, { seq: item.index });
      await verifyInclusion(entry.leaf, item.index, checkpoint.size, [...item.proof], checkpoint.root_hash);
    } catch (e) {
      findings.fail(
        "inclusion",
        `entry ${item.index} is not proven in the tree of size ${checkpoint.size}: ${ours(e).message}`,
        "a canonical entry included at its index",
        "no proof",
        `entry ${item.index}`,
      );
      continue;
    }
    entries.set(item.index, entry);
  }
  findings.ok("inclusion", `${entries.size} entries included under the checkpoint's root`);
  return [new ProvenBundle(bundle, checkpoint, entries), findings.result()];
}

// rulebook_of: the rulebook from the bundle's pool.rules entries (entry 0
// must be the genesis rulebook: a bundle is a pool's, so its log begins
// with its rulebook, rules.genesis); records the finding "rules". Resolves
// to the Rulebook of rules.js, or null.
export async function rulebookOf(proven, findings) {
  const book = new Rulebook();
  const first = proven.entries.get(0) ?? null;
  if (first === null || first.type !== RULEBOOK_TYPE) {
    // replay.py's require_rulebook(0, type, pool=True), for entry 0.
    const message =
      first === null
        ? new RuleViolation("rules.genesis", "a pool's log begins with its rulebook; the bundle proves no entry 0", { seq: 0 }).message
        : new RuleViolation("rules.genesis", "a pool's log begins with its rulebook (the log is pinned as a pool's)", {
            seq: 0,
            expected: "pool.rules at entry 0",
            actual: first.type,
          }).message;
    const found = first === null ? "no entry 0" : `a ${first.type} entry`;
    findings.fail("rules", message, "a pool.rules entry at index 0", found, "entry 0");
    return null;
  }
  for (const entry of proven.ofType(RULEBOOK_TYPE)) {
    try {
      book.adopt(await book.propose(entry.seq, entry.time, entry.body));
    } catch (e) {
      findings.fail("rules", ours(e).message, "a valid rule change", "refused", `entry ${entry.seq}`);
      return null;
    }
  }
  findings.ok("rules", `${book.changes.length} pool.rules entries, genesis at entry 0`);
  return book;
}
