// What to trust, as a text an auditor publishes: a log and its witness
// policy; a port of verifiable/log/trust_text.py, line for line and refusal
// for refusal:
//
//   mutualog trust v1
//   origin <the log's origin line>
//   log <the log's verifier key>
//   witness <a witness's cosignature verifier key>      (0 or more)
//   required <K>
//
// LF between lines, one optional LF at the end, nothing else: no blank
// line, no CR, no space around a value. Keys are read as note.js reads
// them, weak keys refused; no two witnesses share a name; K is ASCII
// digits without a leading zero, at most the number of witnesses.

import { cosignatureVerifier } from "./cosignature.js";
import { MalformedError } from "./errors.js";
import { MAX_SIGNATURES, noteVerifier } from "./note.js";

export const TRUST_HEADER = "mutualog trust v1";
export const MAX_WITNESSES = MAX_SIGNATURES - 1;

const UNENCODABLE = /[\x00-\x1f\x7f\uD800-\uDFFF]/u;
const DECIMAL = /^(0|[1-9][0-9]{0,8})$/;

const quoted = (s) => JSON.stringify(s.length > 58 ? s.slice(0, 58) : s);

function checkOrigin(origin) {
  if (!origin) throw new MalformedError("trust text: origin is empty");
  if (UNENCODABLE.test(origin)) {
    throw new MalformedError("trust text: origin contains a control character or a surrogate");
  }
  if (origin[0] === " " || origin[origin.length - 1] === " ") {
    throw new MalformedError("trust text: origin begins or ends with a space");
  }
}

// The value of line `index` (from 0), which must be `<word> <value>`.
function valueOf(lines, index, word) {
  const line = lines[index];
  const space = line.indexOf(" ");
  if (space < 0 || line.slice(0, space) !== word) {
    throw new MalformedError(`trust text: line ${index + 1} is ${quoted(line)}, expected '${word} <value>'`);
  }
  const value = line.slice(space + 1);
  if (value.includes("\r")) throw new MalformedError(`trust text: line ${index + 1} has a carriage return`);
  return value;
}

// A trust's fields checked as TrustText.__post_init__ checks them. Resolves
// to {origin, logKey, logName, witnesses, witnessNames, required}.
export async function trustText(origin, logKey, witnesses, required) {
  checkOrigin(origin);
  const log = await noteVerifier(logKey);
  if (witnesses.length > MAX_WITNESSES) {
    throw new MalformedError(`trust text: ${witnesses.length} witnesses, at most ${MAX_WITNESSES}`);
  }
  const names = [];
  for (const w of witnesses) names.push((await cosignatureVerifier(w)).name);
  if (new Set(names).size !== names.length) {
    throw new MalformedError(`trust text: a witness name appears twice in ${names.join(", ")}`);
  }
  if (!Number.isSafeInteger(required)) throw new MalformedError("trust text: required is not an integer");
  if (required < 0 || required > witnesses.length) {
    throw new MalformedError(`trust text: ${required} witnesses required, but ${witnesses.length} are named`);
  }
  return { origin, logKey, logName: log.name, witnesses: [...witnesses], witnessNames: names, required };
}

// Read a trust text (TrustText.from_text), or throw MalformedError saying
// which line is off and how.
export async function parseTrustText(text) {
  if (typeof text !== "string") throw new MalformedError("trust text: not a string");
  const body = text.endsWith("\n") ? text.slice(0, -1) : text;
  const lines = body.split("\n");
  if (lines[0] !== TRUST_HEADER) {
    throw new MalformedError(`trust text: line 1 is ${quoted(lines[0])}, expected '${TRUST_HEADER}'`);
  }
  if (lines.length < 4) {
    throw new MalformedError(
      `trust text: ${lines.length} lines, expected at least 4 (header, origin, log, required)`,
    );
  }
  if (lines.length > 4 + MAX_WITNESSES) {
    throw new MalformedError(`trust text: ${lines.length} lines, at most ${4 + MAX_WITNESSES}`);
  }
  const origin = valueOf(lines, 1, "origin");
  const logKey = valueOf(lines, 2, "log");
  const witnesses = [];
  for (let i = 3; i < lines.length - 1; i++) witnesses.push(valueOf(lines, i, "witness"));
  const requiredText = valueOf(lines, lines.length - 1, "required");
  if (!DECIMAL.test(requiredText)) {
    throw new MalformedError(
      `trust text: line ${lines.length}: required ${quoted(requiredText)} is not a decimal number without leading zeros`,
    );
  }
  return trustText(origin, logKey, witnesses, Number(requiredText));
}

// The text of a trust (TrustText.to_text), with the final LF.
export function writeTrustText(trust) {
  const lines = [TRUST_HEADER, `origin ${trust.origin}`, `log ${trust.logKey}`];
  for (const w of trust.witnesses) lines.push(`witness ${w}`);
  lines.push(`required ${trust.required}`);
  return lines.join("\n") + "\n";
}
