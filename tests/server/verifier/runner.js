// Runs the equivalence cases of tests/server/verifier in the page: each case
// (plain JSON, hashes in hex, sizes as decimal strings) goes through the
// verifier's modules and comes back as {name, verdict, value}, for the test
// to compare with what verifiable/ says of the same case.

import { checkCheckpoint, checkConsistency, checkInclusion, checkWitnesses } from "/js/checks.js";
import { cosignatureVerifier } from "/js/cosignature.js";
import { decodeBase64, fromHex, toHex } from "/js/encoding.js";
import { verdict } from "/js/errors.js";
import { leafHash, nodeHash, rootHash } from "/js/merkle.js";
import { noteVerifier, openNote } from "/js/note.js";

// Hex of any length (the public vectors hold hashes of the wrong length on
// purpose); a hex string that is not even bytes stays a string, a wrong type.
const bytes = (hex) => (/^(?:[0-9a-f]{2})*$/.test(hex) ? fromHex(hex) : hex);
const int = (text) => BigInt(text);
const base64 = (text) => decodeBase64(text, "test case");

function outcome(finding, value = null) {
  const word = finding.ok ? "ok" : finding.error;
  return { name: finding.name, verdict: word, value: finding.ok ? value : null };
}

const RUNNERS = {
  async inclusion(c) {
    return outcome(await checkInclusion(bytes(c.leaf), int(c.index), int(c.size), c.proof.map(bytes), bytes(c.root)));
  },
  async consistency(c) {
    const proof = c.proof.map(bytes);
    return outcome(await checkConsistency(int(c.old), int(c.new), proof, bytes(c.old_root), bytes(c.new_root)));
  },
  async root(c) {
    let value = null;
    const finding = await verdict("root", async () => {
      value = toHex(await rootHash(c.leaves.map(bytes)));
    });
    return outcome(finding, value);
  },
  async hashes(c) {
    const leaf = toHex(await leafHash(bytes(c.data)));
    const node = toHex(await nodeHash(bytes(c.left), bytes(c.right)));
    return { name: "hashes", verdict: "ok", value: [leaf, node] };
  },
  async note(c) {
    let value = null;
    const finding = await verdict("signature", async () => {
      const verifiers = [];
      for (const vkey of c.vkeys) verifiers.push(await noteVerifier(vkey));
      for (const vkey of c.witnesses) verifiers.push(await cosignatureVerifier(vkey));
      const opened = await openNote(base64(c.note), verifiers);
      value = [opened.verified.map((v) => v.signature.key), opened.unverified.map((s) => s.key)];
    });
    return outcome(finding, value);
  },
  async checkpoint(c) {
    const [finding, signed] = await checkCheckpoint(base64(c.note), c.vkey, c.origin, c.witnesses);
    if (!finding.ok) return outcome(finding);
    const cp = signed.checkpoint;
    const cosigned = signed.cosignatures.map((s) => [s.name, s.timestamp.toString()]);
    return outcome(finding, [cp.origin, cp.size.toString(), toHex(cp.rootHash), cp.extensions, cosigned]);
  },
  async witnesses(c) {
    const [opened, signed] = await checkCheckpoint(base64(c.note), c.vkey, c.origin, c.witnesses);
    if (!opened.ok) return outcome(opened);
    const finding = await checkWitnesses(signed, c.policy_witnesses, c.required, BigInt(c.now));
    if (finding === null) return { name: "witnesses", verdict: "ok", value: "no policy" };
    return outcome(finding, finding.detail);
  },
};

export async function run(cases) {
  const out = [];
  // A few hundred at once keeps WebCrypto busy without holding every
  // pending digest of a large batch in memory.
  for (let i = 0; i < cases.length; i += 256) {
    const chunk = cases.slice(i, i + 256);
    out.push(...(await Promise.all(chunk.map((c) => RUNNERS[c.kind](c)))));
  }
  return out;
}
