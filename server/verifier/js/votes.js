// Sealed juror votes: the commitment and the check that a reveal opens it;
// a port of verifiable/pool/votes.py (docs/format.md section 5, "Sealed
// votes"). A commitment is
//
//     SHA-256("mutualog/vote/v1" || salt || JCS(vote))
//
// where salt is 32 bytes and JCS(vote) the RFC 8785 canonical JSON of
// {"choice", "claim", "juror", "reason", "round"}. The salt hides the vote
// until the reveal; SHA-256's collision resistance binds the juror to it.

import { concat, equalBytes, encodeUtf8, sha256, toHex } from "./encoding.js";
import { MalformedError } from "./errors.js";
import { RuleViolation, describe, readInt } from "./rules.js";

export const DOMAIN = encodeUtf8("mutualog/vote/v1");
export const SALT_SIZE = 32;
export const CHOICES = ["approve", "reject"];
const REASON_MAX = 500;
const HEX_ID = /^[0-9a-f]{32}$/;

function readId(value, where) {
  if (typeof value !== "string" || !HEX_ID.test(value)) {
    throw new MalformedError(`${where}: expected an id of 32 lowercase hex characters, got ${describe(value)}`);
  }
  return value;
}

// A code point read_text refuses in multi-line text: the C0 and C1 controls
// but the line feed, lone surrogates, and the bidirectional embeddings,
// overrides and isolates (Trojan Source).
function refused(cp) {
  return (
    (cp <= 0x1f && cp !== 0x0a) ||
    (cp >= 0x7f && cp <= 0x9f) ||
    (cp >= 0xd800 && cp <= 0xdfff) ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2066 && cp <= 0x2069)
  );
}

// A vote's reason as the vote.revealed body reads it: 0 to 500 characters
// (code points, as Python counts them), none of them refused.
function readReason(value, where) {
  if (typeof value !== "string") throw new MalformedError(`${where}: expected a text, got ${describe(value)}`);
  const points = Array.from(value, (ch) => ch.codePointAt(0));
  if (points.length > REASON_MAX) {
    throw new MalformedError(`${where}: expected a text of 0 to ${REASON_MAX} characters, got ${points.length}`);
  }
  const bad = points.findIndex(refused);
  if (bad >= 0) {
    const code = points[bad].toString(16).toUpperCase().padStart(4, "0");
    throw new MalformedError(`${where}: control character U+${code} at position ${bad} is not allowed`);
  }
  return value;
}

function readChoice(value, where) {
  if (typeof value === "string" && CHOICES.includes(value)) return value;
  throw new MalformedError(`${where}: expected one of ${CHOICES.join(", ")}, got ${describe(value)}`);
}

// The RFC 8785 canonical JSON of a vote, the committed bytes after the salt.
// Each field is checked as the vote.revealed body checks it. The keys are
// written in sorted order, and RFC 8785 serializes strings and safe
// integers exactly as JSON.stringify does (no lone surrogate gets here).
export function canonicalVote(claim, round, juror, choice, reason) {
  const where = "vote";
  const value = {
    choice: readChoice(choice, `${where}.choice`),
    claim: readId(claim, `${where}.claim`),
    juror: readId(juror, `${where}.juror`),
    reason: readReason(reason, `${where}.reason`),
    round: readInt(round, `${where}.round`, 1),
  };
  return encodeUtf8(JSON.stringify(value));
}

// SHA-256("mutualog/vote/v1" || salt || canonicalVote(...)); the salt must
// be exactly 32 bytes, the other fields as in a vote.revealed body, else
// MalformedError.
export async function voteCommitment(claim, round, juror, choice, reason, salt) {
  if (!(salt instanceof Uint8Array) || salt.length !== SALT_SIZE) {
    const shown = salt instanceof Uint8Array ? `${salt.length} bytes` : typeof salt;
    throw new MalformedError(`vote.salt: expected ${SALT_SIZE} bytes, got ${shown}`);
  }
  const body = canonicalVote(claim, round, juror, choice, reason);
  return sha256(concat(DOMAIN, salt, body));
}

// Check that `revealed` (a vote.revealed body) opens `sealed` (a
// vote.sealed body): same claim, round and juror, and the commitment
// recomputed from the reveal equals the sealed one. Resolves on success;
// RuleViolation("vote.reveal_matches") names the first difference.
export async function checkReveal(sealed, revealed, { seq = null } = {}) {
  for (const name of ["claim", "round", "juror"]) {
    if (sealed[name] !== revealed[name]) {
      throw new RuleViolation("vote.reveal_matches", `the reveal's ${name} differs from the sealed vote's`, {
        seq,
        expected: sealed[name],
        actual: revealed[name],
      });
    }
  }
  const r = revealed;
  const computed = await voteCommitment(r.claim, r.round, r.juror, r.choice, r.reason, r.salt);
  if (!equalBytes(computed, sealed.commitment)) {
    throw new RuleViolation(
      "vote.reveal_matches",
      `the reveal of juror ${r.juror} on claim ${r.claim} round ${r.round} does not open the sealed commitment`,
      { seq, expected: `commitment ${toHex(sealed.commitment)}`, actual: `commitment ${toHex(computed)}` },
    );
  }
}
