// Bytes: canonical base64 (the one encoding every C2SP format uses),
// hex, strict UTF-8, and SHA-256 through WebCrypto.

import { MalformedError } from "./errors.js";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function encodeBase64(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63];
    out += i + 1 < bytes.length ? ALPHABET[(n >> 6) & 63] : "=";
    out += i + 2 < bytes.length ? ALPHABET[n & 63] : "=";
  }
  return out;
}

// Canonical standard base64 or MalformedError: without the canonical check
// a signature could be re-encoded (padding bits flipped) and still accepted.
// The input is never echoed, as it may be a secret.
export function decodeBase64(text, what) {
  if (typeof text !== "string" || !BASE64.test(text)) {
    const length = typeof text === "string" ? text.length : 0;
    throw new MalformedError(`${what}: not standard padded base64 (${length} characters)`);
  }
  const body = text.replace(/=+$/, "");
  const out = new Uint8Array((body.length * 3) >> 2);
  let bits = 0;
  let value = 0;
  let pos = 0;
  for (const ch of body) {
    value = (value << 6) | ALPHABET.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[pos++] = (value >> bits) & 0xff;
    }
  }
  if (encodeBase64(out) !== text) {
    throw new MalformedError(`${what}: non-canonical base64 (non-zero padding bits)`);
  }
  return out;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function fromHex(text) {
  if (typeof text !== "string" || !/^(?:[0-9a-f]{2})*$/.test(text)) {
    throw new MalformedError("not lowercase hex of whole bytes");
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const UTF8 = new TextEncoder();
// fatal: invalid UTF-8 is an error, not U+FFFD; ignoreBOM: a leading U+FEFF
// is kept as text, as Python's "utf-8" codec keeps it.
const STRICT = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function encodeUtf8(text) {
  return UTF8.encode(text);
}

export function decodeUtf8(bytes, what) {
  try {
    return STRICT.decode(bytes);
  } catch {
    throw new MalformedError(`${what}: not valid UTF-8`);
  }
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}
