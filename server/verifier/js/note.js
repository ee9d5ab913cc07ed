// C2SP signed-note: verifier keys, notes and Ed25519 signatures; a port of
// verifiable/log/note.py with the same strictness (canonical base64, 8
// lowercase hex digits of key ID, at most 100 signature lines, no key
// signing twice, a text with something besides newlines).
//
// A verifier is {name, algorithm, publicKey, keyId, verify(text, signature)}:
// `verify` resolves on a good signature and throws VerificationError on a
// bad one. cosignature.js makes the witnesses' (type 0x04) verifiers.

import {
  concat,
  decodeBase64,
  decodeUtf8,
  encodeUtf8,
  equalBytes,
  sha256,
} from "./encoding.js";
import { weakPublicKey } from "./ed25519_points.js";
import { MalformedError, UnsupportedError, VerificationError } from "./errors.js";

export const ALG_ED25519 = 0x01;
export const ALG_ED25519_COSIGNATURE = 0x04;
export const MAX_SIGNATURES = 100;

const ALGORITHMS = { [ALG_ED25519]: "Ed25519", [ALG_ED25519_COSIGNATURE]: "Ed25519 cosignature/v1" };
const KEY_SIZE = 32;
const SIGNATURE_SIZE = 64;
const KEY_ID_SIZE = 4;
const EM_DASH_PREFIX = "\u2014 ";
const KEY_ID_HEX = /^[0-9a-f]{8}$/;
// With the u flag a lone surrogate matches and a surrogate pair does not.
const FORBIDDEN_CONTROL = /[\x00-\x09\x0b-\x1f]/u;
const FORBIDDEN_IN_TEXT = /[\x00-\x09\x0b-\x1f\uD800-\uDFFF]/u;

// The code points Python's str.isspace() calls spaces: the rule key names
// follow in verifiable/log/note.py (JavaScript's \s is a different set).
const SPACES = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680,
  0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a,
  0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

const hex8 = (keyId) => keyId.toString(16).padStart(8, "0");

// signed-note: a key name is non-empty, with no spaces and no '+'; control
// characters and surrogates are refused too (no note could carry them).
export function checkKeyName(name, what = "key name") {
  if (typeof name !== "string" || !name) throw new MalformedError(`${what}: empty`);
  let i = 0;
  for (const ch of name) {
    const cp = ch.codePointAt(0);
    if (SPACES.has(cp) || ch === "+" || cp < 0x20 || (cp >= 0xd800 && cp <= 0xdfff)) {
      throw new MalformedError(
        `${what}: character ${i} is U+${cp.toString(16).toUpperCase().padStart(4, "0")}; ` +
          "names may not contain spaces, control characters, surrogates or '+'",
      );
    }
    i++;
  }
}

// The recommended key ID: SHA-256(name || 0x0A || type || public key)[:4].
export async function computeKeyId(name, algorithm, publicKey) {
  const digest = await sha256(concat(encodeUtf8(name), Uint8Array.of(0x0a, algorithm), publicKey));
  return new DataView(digest.buffer).getUint32(0);
}

function checkAlgorithm(algorithm, key, what) {
  if (!(algorithm in ALGORITHMS)) {
    throw new MalformedError(`${what}: unknown signature type 0x${algorithm.toString(16)}`);
  }
  if (key.length !== KEY_SIZE) {
    throw new MalformedError(`${what}: ${ALGORITHMS[algorithm]} key is ${key.length} bytes, expected ${KEY_SIZE}`);
  }
}

// `<name>+<hex key ID>+base64(type || public key)`, the key ID being the
// recommended one. Resolves to {name, algorithm, publicKey, keyId}.
export async function parseVerifierKey(text) {
  if (typeof text !== "string") throw new MalformedError("verifier key: not a string");
  const first = text.indexOf("+");
  const second = first < 0 ? -1 : text.indexOf("+", first + 1);
  if (second < 0) {
    throw new MalformedError("verifier key: expected <name>+<hex key ID>+<base64 key>");
  }
  const name = text.slice(0, first);
  checkKeyName(name, "verifier key name");
  const keyIdText = text.slice(first + 1, second);
  if (!KEY_ID_HEX.test(keyIdText)) {
    throw new MalformedError(`verifier key ${name}: key ID field is not 8 lowercase hex digits`);
  }
  const raw = decodeBase64(text.slice(second + 1), `verifier key ${name}`);
  if (!raw.length) throw new MalformedError(`verifier key ${name}: key data is empty`);
  const keyId = parseInt(keyIdText, 16);
  const computed = await computeKeyId(name, raw[0], raw.subarray(1));
  if (computed !== keyId) {
    throw new MalformedError(
      `verifier key ${name}: key ID ${keyIdText} does not match the key, computed ${hex8(computed)}`,
    );
  }
  checkAlgorithm(raw[0], raw.subarray(1), `verifier key ${name}`);
  // A key under which a chosen text "verifies" is refused before any signature.
  const weak = weakPublicKey(raw.subarray(1));
  if (weak !== null) {
    throw new MalformedError(`verifier key ${name}: not a usable Ed25519 public key: ${weak}`);
  }
  return { name, algorithm: raw[0], publicKey: raw.slice(1), keyId };
}

// Ed25519 through WebCrypto. A key WebCrypto will not import is a key no
// signature verifies under: the same answer OpenSSL gives the Python code.
// A browser without Ed25519 is told apart: that is no verdict on the note.
export async function ed25519Verify(publicKey, signature, message) {
  let key;
  try {
    key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  } catch (e) {
    if (e?.name === "NotSupportedError" || !globalThis.crypto?.subtle) {
      throw new UnsupportedError("this browser's WebCrypto has no Ed25519");
    }
    return false;
  }
  return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
}

// A verifier key string of the expected type, as a verifier (the
// Ed25519VerifierBase.from_vkey of the Python code).
export async function verifierOfType(vkey, algorithm, kind, verify) {
  const key = await parseVerifierKey(vkey);
  if (key.algorithm !== algorithm) {
    throw new MalformedError(
      `${kind} ${key.name}: signature type 0x${key.algorithm.toString(16).padStart(2, "0")}, ` +
        `expected 0x${algorithm.toString(16).padStart(2, "0")} (${ALGORITHMS[algorithm]})`,
    );
  }
  return { ...key, verify: (text, signature) => verify(key.publicKey, text, signature) };
}

// A plain Ed25519 (type 0x01) note verifier from its key string.
export function noteVerifier(vkey) {
  return verifierOfType(vkey, ALG_ED25519, "verifier key", async (publicKey, text, signature) => {
    if (signature.length !== SIGNATURE_SIZE) {
      throw new VerificationError(`Ed25519 signature is ${signature.length} bytes, expected ${SIGNATURE_SIZE}`);
    }
    if (!(await ed25519Verify(publicKey, signature, text))) {
      throw new VerificationError("Ed25519 signature does not verify");
    }
  });
}

// --- notes ------------------------------------------------------------------

// `— <name> <base64>`, without the final newline.
function parseSignatureLine(line) {
  if (!line.startsWith(EM_DASH_PREFIX)) {
    throw new MalformedError("signature line does not start with an em dash (U+2014) and a space");
  }
  const rest = line.slice(EM_DASH_PREFIX.length);
  const space = rest.indexOf(" ");
  if (space < 0) throw new MalformedError("signature line: no space before the signature");
  const name = rest.slice(0, space);
  checkKeyName(name, "signature key name");
  const raw = decodeBase64(rest.slice(space + 1), `signature by ${name}`);
  if (raw.length <= KEY_ID_SIZE) {
    throw new MalformedError(`signature by ${name}: ${raw.length} bytes, expected at least ${KEY_ID_SIZE + 1}`);
  }
  const keyId = new DataView(raw.buffer).getUint32(0);
  return { name, keyId, signature: raw.slice(KEY_ID_SIZE), key: `${name}+${hex8(keyId)}` };
}

export function checkNoteText(text) {
  if (!text.endsWith("\n")) throw new MalformedError("note text does not end in a newline");
  if (!text.replace(/^\n+|\n+$/g, "")) throw new MalformedError("note text is empty (only newlines)");
  if (FORBIDDEN_IN_TEXT.test(text)) {
    throw new MalformedError("note text: a control character or a surrogate");
  }
}

// Parse a signed note (bytes): {text, signatures}; nothing verified yet.
export function parseNote(message) {
  if (!(message instanceof Uint8Array)) throw new MalformedError("note: not bytes");
  const decoded = decodeUtf8(message, "note");
  if (FORBIDDEN_CONTROL.test(decoded)) throw new MalformedError("note: a control character");
  // The text may itself hold blank lines; signature lines never do, so the
  // last blank line is the separator.
  const split = decoded.lastIndexOf("\n\n");
  if (split < 0) throw new MalformedError("note: no blank line before a signature block");
  const text = decoded.slice(0, split + 1);
  const block = decoded.slice(split + 2);
  if (!block) throw new MalformedError("note: no signature lines after the last blank line");
  if (!block.endsWith("\n")) throw new MalformedError("note: signature block does not end in a newline");
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_SIGNATURES) {
    throw new MalformedError(`note has ${lines.length} signature lines, at most ${MAX_SIGNATURES} accepted`);
  }
  const signatures = lines.map((line, i) => {
    try {
      return parseSignatureLine(line);
    } catch (e) {
      if (e instanceof MalformedError) throw new MalformedError(`note: signature line ${i + 1}: ${e.message}`);
      throw e;
    }
  });
  checkNoteText(text);
  const seen = new Map();
  signatures.forEach((sig, i) => {
    const slot = JSON.stringify([sig.name, sig.keyId]);
    if (seen.has(slot)) {
      throw new MalformedError(
        `note: signature lines ${seen.get(slot)} and ${i + 1} are both by key ${sig.key}; a key signs a note once`,
      );
    }
    seen.set(slot, i + 1);
  });
  return { text, signatures };
}

function sameKey(a, b) {
  return a === b || (a.name === b.name && a.algorithm === b.algorithm && equalBytes(a.publicKey, b.publicKey));
}

function indexVerifiers(verifiers) {
  const index = new Map();
  for (const v of verifiers) {
    const slot = JSON.stringify([v.name, v.keyId]);
    const known = index.get(slot);
    if (known === undefined) index.set(slot, v);
    else if (!sameKey(known, v)) {
      throw new MalformedError(`verifiers: two different keys share the name ${v.name} and key ID ${hex8(v.keyId)}`);
    }
  }
  return index;
}

// Parse a signed note and check it against known keys (open_note): every
// signature by a known key (name and key ID) must verify, and at least one
// must be there; the others are kept as `unverified` and otherwise ignored.
export async function openNote(message, verifiers) {
  const note = parseNote(message);
  const index = indexVerifiers(verifiers);
  const text = encodeUtf8(note.text);
  const verified = [];
  const unverified = [];
  for (const sig of note.signatures) {
    const verifier = index.get(JSON.stringify([sig.name, sig.keyId]));
    if (verifier === undefined) {
      unverified.push(sig);
      continue;
    }
    try {
      await verifier.verify(text, sig.signature);
    } catch (e) {
      if (e instanceof VerificationError) {
        throw new VerificationError(`note: signature by known key ${sig.key} is invalid: ${e.message}`);
      }
      throw e;
    }
    verified.push({ signature: sig, verifier });
  }
  if (!verified.length) {
    const found = unverified.slice(0, 5).map((s) => s.key).join(", ");
    throw new VerificationError(`note: no signature by a known key (signed by ${found})`);
  }
  return { note, text: note.text, verified, unverified };
}

export function isSignedBy(opened, verifier) {
  return opened.verified.some((v) => sameKey(v.verifier, verifier));
}
