// How many witnesses must have cosigned a checkpoint: a K-of-N policy; a
// port of verifiable/log/witness_policy.py. openCheckpoint verifies the
// signatures; the policy decides whether the cosignatures that verified are
// enough: at least `required` distinct witnesses of its own.

import { checkNotFuture } from "./cosignature.js";
import { MalformedError, VerificationError } from "./errors.js";

// Python's sorted() orders strings by code point; JavaScript's sort() by
// UTF-16 code unit, which differs past U+FFFF.
function byCodePoint(a, b) {
  const x = Array.from(a, (c) => c.codePointAt(0));
  const y = Array.from(b, (c) => c.codePointAt(0));
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

// The policy for `required` of `witnesses` (cosignature verifiers), or null
// when `required` is 0: no witness is asked for, so there is nothing to
// check. A policy requires between 1 and all of its witnesses, each named once.
export function witnessPolicy(witnesses, required) {
  if (required === 0) return null;
  const names = witnesses.map((w) => w.name);
  if (new Set(names).size !== names.length) {
    throw new MalformedError("witness policy: a witness name appears twice");
  }
  if (!Number.isSafeInteger(required) || required < 1 || required > names.length) {
    throw new MalformedError(
      `witness policy: ${required} of ${names.length} witnesses required; ` +
        "a policy requires between 1 and all of its witnesses",
    );
  }
  return { witnesses, required };
}

// What was found ("2 of 3 trusted witnesses cosigned (a, b); 2 required"),
// or VerificationError saying the same when too few cosigned. Only the
// policy's own keys count, each witness once; one cosignature dated after
// `now` (POSIX seconds, beyond the clock skew) fails the checkpoint.
export function verifyWitnessPolicy(policy, signed, now) {
  const keys = new Set(policy.witnesses.map((w) => JSON.stringify([w.name, w.keyId])));
  const ours = signed.cosignatures.filter((c) => keys.has(JSON.stringify([c.name, c.keyId])));
  checkNotFuture(ours, now);
  const names = [...new Set(ours.map((c) => c.name))].sort(byCodePoint);
  const found =
    `${names.length} of ${policy.witnesses.length} trusted witnesses cosigned` +
    (names.length ? ` (${names.join(", ")})` : "");
  const detail = `${found}; ${policy.required} required`;
  if (names.length < policy.required) throw new VerificationError(detail);
  return detail;
}
