// The checks a page reports, each a finding named by the check id the
// client's --json output uses for the same check (docs/client.md, "Stable
// output"): "checkpoint", "inclusion", "consistency". A finding is
// {name, ok, detail, error}; see errors.js.

import { openCheckpoint } from "./checkpoint.js";
import { cosignatureVerifier } from "./cosignature.js";
import { toHex } from "./encoding.js";
import { verdict } from "./errors.js";
import { verifyConsistency, verifyInclusion } from "./merkle.js";
import { noteVerifier } from "./note.js";

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
