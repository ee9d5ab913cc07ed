// C2SP tlog-checkpoint: the log's signed tree head; a port of
// verifiable/log/checkpoint.py. The note text is the origin line, the tree
// size (decimal, no leading zeros, at most 2^63 - 1), the root hash (base64
// of 32 bytes) and optional non-empty extension lines.

import { decodeBase64 } from "./encoding.js";
import { MalformedError, VerificationError } from "./errors.js";
import { verifiedCosignatures } from "./cosignature.js";
import { isSignedBy, openNote } from "./note.js";

export const MAX_TREE_SIZE = (1n << 63n) - 1n;
const SIZE = /^(?:0|[1-9][0-9]{0,18})$/;
const UNENCODABLE = /[\x00-\x1f\uD800-\uDFFF]/u;

function checkLine(line, what) {
  if (!line) throw new MalformedError(`checkpoint: ${what} is empty`);
  if (UNENCODABLE.test(line)) {
    throw new MalformedError(`checkpoint: ${what} contains a control character or a surrogate`);
  }
}

// {origin, size (BigInt), rootHash (32 bytes), extensions} from a note text.
export function parseCheckpoint(text) {
  if (typeof text !== "string" || !text.endsWith("\n")) {
    throw new MalformedError("checkpoint: text does not end in a newline");
  }
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) {
    throw new MalformedError(`checkpoint: ${lines.length} lines, expected at least 3 (origin, size, root hash)`);
  }
  lines.forEach((line, i) => {
    if (!line) throw new MalformedError(`checkpoint: line ${i + 1} is empty`);
  });
  const [origin, sizeText, rootText, ...extensions] = lines;
  if (!SIZE.test(sizeText)) {
    throw new MalformedError(
      "checkpoint: tree size is not a decimal integer without leading zeros of at most 19 digits",
    );
  }
  const size = BigInt(sizeText);
  if (size > MAX_TREE_SIZE) throw new MalformedError(`checkpoint: tree size ${size} exceeds 2^63-1`);
  const rootHash = decodeBase64(rootText, "checkpoint: root hash");
  checkLine(origin, "origin line");
  if (rootHash.length !== 32) {
    throw new MalformedError(`checkpoint: root hash is ${rootHash.length} bytes, expected 32`);
  }
  extensions.forEach((line, i) => checkLine(line, `extension line ${i + 4}`));
  return { origin, size, rootHash, extensions };
}

// Open a checkpoint note from the log `origin` signed by `logVerifier`
// (open_checkpoint). Each trusted witness's line present must verify; the
// ones that did are in `cosignatures`. With keyNameIsOrigin (the default)
// the log key's name must be the origin, as tlog-checkpoint recommends.
export async function openCheckpoint(noteBytes, logVerifier, origin, witnesses = [], keyNameIsOrigin = true) {
  const opened = await openNote(noteBytes, [logVerifier, ...witnesses]);
  if (!isSignedBy(opened, logVerifier)) {
    throw new VerificationError(`checkpoint: no signature by the log key ${logVerifier.name}`);
  }
  // Read the text only now: an unverified note's text means nothing.
  const checkpoint = parseCheckpoint(opened.text);
  if (checkpoint.origin !== origin) {
    throw new VerificationError(`checkpoint: origin ${checkpoint.origin}, expected ${origin}`);
  }
  if (keyNameIsOrigin && logVerifier.name !== checkpoint.origin) {
    throw new VerificationError(
      `checkpoint: log key name ${logVerifier.name} differs from the origin ${checkpoint.origin}`,
    );
  }
  return { checkpoint, note: opened, cosignatures: verifiedCosignatures(opened) };
}
