// C2SP tlog-cosignature: Ed25519 cosignature/v1 (type 0x04); a port of
// verifiable/log/cosignature.py. The signature bytes after the key ID are an
// 8-byte big-endian timestamp and a 64-byte Ed25519 signature over
// "cosignature/v1\ntime <timestamp>\n" and the whole checkpoint note text.
// Nothing here reads a clock: "now" is always an argument.

import { concat, encodeUtf8 } from "./encoding.js";
import { MalformedError, VerificationError } from "./errors.js";
import { ALG_ED25519_COSIGNATURE, checkKeyName, ed25519Verify, verifierOfType } from "./note.js";

export const MAX_TIMESTAMP = (1n << 63n) - 1n;
export const MAX_CLOCK_SKEW = 60n;
const TIMESTAMP_SIZE = 8;
const SIGNATURE_SIZE = 64;
export const COSIGNATURE_SIZE = TIMESTAMP_SIZE + SIGNATURE_SIZE;

function timestampOf(bytes) {
  return new DataView(bytes.buffer, bytes.byteOffset, TIMESTAMP_SIZE).getBigUint64(0);
}

// A witness's cosignature/v1 verifier from its key string (type 0x04).
export function cosignatureVerifier(vkey) {
  return verifierOfType(vkey, ALG_ED25519_COSIGNATURE, "witness key", async (publicKey, text, signature) => {
    if (signature.length !== COSIGNATURE_SIZE) {
      throw new VerificationError(
        `cosignature is ${signature.length} bytes after the key ID, expected ${COSIGNATURE_SIZE}`,
      );
    }
    const timestamp = timestampOf(signature);
    if (timestamp > MAX_TIMESTAMP) {
      throw new VerificationError(`cosignature timestamp ${timestamp} exceeds 2^63-1`);
    }
    const message = concat(encodeUtf8(`cosignature/v1\ntime ${timestamp}\n`), text);
    if (!(await ed25519Verify(publicKey, signature.subarray(TIMESTAMP_SIZE), message))) {
      throw new VerificationError(`Ed25519 cosignature with timestamp ${timestamp} does not verify`);
    }
  });
}

// A note's signature line read as a cosignature: {name, keyId, timestamp,
// signature}.
export function parseCosignature(sig) {
  if (sig.signature.length !== COSIGNATURE_SIZE) {
    throw new MalformedError(
      `cosignature by ${sig.key}: ${sig.signature.length} bytes after the key ID, expected ${COSIGNATURE_SIZE}`,
    );
  }
  checkKeyName(sig.name, "cosignature key name");
  const timestamp = timestampOf(sig.signature);
  if (timestamp > MAX_TIMESTAMP) {
    throw new MalformedError(`cosignature by ${sig.name}: timestamp ${timestamp} is outside 0..2^63-1`);
  }
  return { name: sig.name, keyId: sig.keyId, timestamp, signature: sig.signature.slice(TIMESTAMP_SIZE) };
}

// The cosignatures of an opened note that a witness's verifier verified.
export function verifiedCosignatures(opened) {
  return opened.verified
    .filter((v) => v.verifier.algorithm === ALG_ED25519_COSIGNATURE)
    .map((v) => parseCosignature(v.signature));
}

// Throw VerificationError for the first cosignature dated more than `skew`
// seconds after `now` (POSIX seconds, BigInt or Number): a witness that
// signs the future can make a stale view look fresh.
export function checkNotFuture(cosignatures, now, skew = MAX_CLOCK_SKEW) {
  const limit = BigInt(now) + BigInt(skew);
  for (const c of cosignatures) {
    if (c.timestamp > limit) {
      throw new VerificationError(
        `cosignature by ${c.name}: timestamp ${c.timestamp} is ${c.timestamp - BigInt(now)} s in the future`,
      );
    }
  }
}
