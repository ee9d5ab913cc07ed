// The witnessed draw: the checkpoint a panel's seed comes from, checked; a
// port of verifiable/pool/witnessed.py (check_witnessed).
//
// When the rules in force at a draw name witnesses (draw.witnesses) and
// require K of them (draw.witnesses_required above 0), a panel.drawn
// carries the checkpoint its seed comes from (`witnessed`: {checkpoint,
// cosignatures, proof, text} as bodies.js reads it), and checkWitnessed
// holds it to the rules (docs/rules.md, "The witnessed draw"):
//
// - panel.witnessed: the checkpoint is there exactly when K > 0;
// - panel.witness_count: exactly K cosignatures;
// - panel.witness_unknown: each by a key the rules name;
// - panel.witness_order: in the order the rules list their witnesses, once each;
// - panel.witness_signature: each verifies over the checkpoint's text;
// - panel.witness_size: the checkpoint's size is at least the seed size and
//   at most the log's size before the draw;
// - panel.witness_root: the checkpoint is the log's own (when the caller
//   gives the log's roots);
//
// and the seed is witnessedSeed of it, which the caller compares with the
// entry's seed. seed_checkpoint, which a log server uses to gather a draw's
// checkpoint from its witnesses, makes no verdict and is not ported.

import { encodeUtf8, toHex } from "./encoding.js";
import { MalformedError, VerificationError } from "./errors.js";
import { verifyConsistency } from "./merkle.js";
import { RuleViolation } from "./rules.js";
import { witnessedSeed } from "./sortition.js";

function violation(rule, message, seq, expected, actual) {
  return new RuleViolation(rule, message, { seq, expected, actual });
}

function timestampBytes(timestamp) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(timestamp));
  return out;
}

// Check the witnessed checkpoint of a draw appended at `seq` under `rules`
// (those in force at the draw); resolve to the seed it gives, or null when
// the rules want no witnesses (the seed is then the log's root at
// `seedSize`). `rootAt(seq)` (may be async) is the log's root before the
// draw; with null the checkpoint's root is taken as given.
export async function checkWitnessed(seq, witnessed, seedSize, rules, rootAt) {
  const k = rules.witnesses_required;
  const present = witnessed !== null && witnessed !== undefined;
  if (k === 0) {
    if (present) {
      throw violation(
        "panel.witnessed",
        "the rules name no witnesses for the draw: the seed is the log's root",
        seq,
        "no witnessed checkpoint",
        "a witnessed checkpoint",
      );
    }
    return null;
  }
  if (!present) {
    throw violation(
      "panel.witnessed",
      `the rules want the seed from a checkpoint cosigned by ${k} of their witnesses`,
      seq,
      "a witnessed checkpoint",
      "none",
    );
  }
  await checkCosignatures(seq, witnessed, rules);
  const checkpoint = witnessed.checkpoint;
  const size = BigInt(checkpoint.size);
  if (!(BigInt(seedSize) <= size && size <= BigInt(seq))) {
    throw violation(
      "panel.witness_size",
      "the checkpoint is of the log once the claim was ready for its draw, " +
        "and no larger than the log before the draw",
      seq,
      `size ${seedSize} to ${seq}`,
      checkpoint.size,
    );
  }
  if (rootAt !== null && rootAt !== undefined) {
    const root = await rootAt(seq);
    try {
      await verifyConsistency(size, seq, [...witnessed.proof], checkpoint.root_hash, root);
    } catch (e) {
      if (!(e instanceof MalformedError || e instanceof VerificationError)) throw e;
      throw violation(
        "panel.witness_root",
        `the checkpoint is not the log's at size ${checkpoint.size}: ${e.message}`,
        seq,
        `a root consistent with the log's root ${toHex(root)} at size ${seq}`,
        toHex(checkpoint.root_hash),
      );
    }
  }
  return witnessedSeed(checkpoint.root_hash, witnessed.cosignatures);
}

// Exactly K cosignatures by the rules' witnesses, in their order, each valid.
async function checkCosignatures(seq, witnessed, rules) {
  const k = rules.witnesses_required;
  const cosignatures = witnessed.cosignatures;
  if (cosignatures.length !== k) {
    throw violation(
      "panel.witness_count",
      `the seed comes from the cosignatures of exactly ${k} of the rules' witnesses`,
      seq,
      k,
      cosignatures.length,
    );
  }
  const text = encodeUtf8(witnessed.text);
  const order = new Map(rules.witnesses.map((w, i) => [`${w.name} ${w.key_id}`, i]));
  let last = -1;
  for (const c of cosignatures) {
    const place = order.get(`${c.name} ${c.key_id}`);
    if (place === undefined) {
      throw violation(
        "panel.witness_unknown",
        "a cosignature by a key the rules do not name as a witness",
        seq,
        "one of " + rules.witnesses.map((w) => w.name).join(", "),
        `${c.name}+${c.key_id.toString(16).padStart(8, "0")}`,
      );
    }
    if (place <= last) {
      throw violation(
        "panel.witness_order",
        "the cosignatures are in the order the rules list their witnesses, once each",
        seq,
        `after ${rules.witnesses[last].name}`,
        c.name,
      );
    }
    last = place;
    const signature = new Uint8Array(8 + c.signature.length);
    signature.set(timestampBytes(c.timestamp));
    signature.set(c.signature, 8);
    try {
      await rules.witnesses[place].verify(text, signature);
    } catch (e) {
      if (!(e instanceof VerificationError)) throw e;
      throw violation(
        "panel.witness_signature",
        `the cosignature by ${c.name} does not verify: ${e.message}`,
        seq,
        "a valid cosignature",
        toHex(c.signature),
      );
    }
  }
}
