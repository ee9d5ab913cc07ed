// The checks a page reports, each a finding named by the check id the
// client's --json output uses for the same check (docs/client.md, "Stable
// output"): "checkpoint", "witnesses", "inclusion", "consistency". A finding is
// {name, ok, detail, error}; see errors.js.

import { openCheckpoint } from "./checkpoint.js";
import { cosignatureVerifier } from "./cosignature.js";
import { toHex } from "./encoding.js";
import { verdict } from "./errors.js";
import { verifyConsistency, verifyInclusion } from "./merkle.js";
import { noteVerifier } from "./note.js";
import { verifyWitnessPolicy, witnessPolicy } from "./witness_policy.js";

// The checkpoint note is signed by the pinned log key (and every trusted
// witness line present verifies). Resolves to [finding, opened checkpoint
// or null]. `name` is "checkpoint" (audit, verify-*) or "signature" (sync).
export async function checkCheckpoint(noteBytes, vkey, origin, witnessVkeys = [], name = "checkpoint") {
  let signed = null;
  const finding = await verdict(name, async () => {
    const log = await noteVerifier(vkey);
    const witnesses = await Promise.all(witnessVkeys.map(cosignatureVerifier));
    signed = await openCheckpoint(noteBytes, log, origin, witnesses);
    const cp = signed.checkpoint;
    return `signed by ${log.name}, size ${cp.size}, root ${toHex(cp.rootHash)}`;
  });
  return [finding, signed];
}

// At least `required` of the trusted witnesses cosigned the opened
// checkpoint `signed`, none dated after `now` (POSIX seconds). Resolves to
// null when `required` is 0: a log followed without witnesses has no such
// check, and says so rather than passing one that proves nothing.
export async function checkWitnesses(signed, witnessVkeys, required, now) {
  let policy = null;
  const finding = await verdict("witnesses", async () => {
    const witnesses = await Promise.all(witnessVkeys.map(cosignatureVerifier));
    policy = witnessPolicy(witnesses, required);
    return policy && verifyWitnessPolicy(policy, signed, now);
  });
  return finding.ok && policy === null ? null : finding;
}

export function checkInclusion(leafHash, index, size, proof, root) {
  return verdict("inclusion", async () => {
    await verifyInclusion(leafHash, index, size, proof, root);
    return `leaf ${index} is in the tree of size ${size}`;
  });
}

export function checkConsistency(oldSize, newSize, proof, oldRoot, newRoot) {
  return verdict("consistency", async () => {
    await verifyConsistency(oldSize, newSize, proof, oldRoot, newRoot);
    return `size ${oldSize} -> ${newSize}`;
  });
}
