// The two kinds of refusal, as in verifiable/errors.py: input that cannot
// be decoded (MalformedError) and input that decodes but fails a proof or a
// signature (VerificationError). A check never returns a half answer.

export class MutualogError extends Error {}

export class MalformedError extends MutualogError {
  constructor(message) {
    super(message);
    this.name = "MalformedError";
  }
}

export class VerificationError extends MutualogError {
  constructor(message) {
    super(message);
    this.name = "VerificationError";
  }
}

// The browser lacks what a check needs (WebCrypto's Ed25519): no verdict
// on the input at all, and never to be shown as a forged signature.
export class UnsupportedError extends MutualogError {
  constructor(message) {
    super(message);
    this.name = "UnsupportedError";
  }
}

// A finding in the "verdict" shape of the client's --json output
// ({name, ok, detail}, docs/client.md "Stable output"), plus `error`: which
// of the two refusals it was ("malformed" or "verification"; "" when ok),
// or "unsupported" when the browser could not run the check.
// Anything thrown that is not one of ours is a bug and is not swallowed.
export async function verdict(name, check) {
  try {
    const detail = await check();
    return { name, ok: true, detail: detail ?? "", error: "" };
  } catch (e) {
    if (e instanceof MalformedError) {
      return { name, ok: false, detail: e.message, error: "malformed" };
    }
    if (e instanceof VerificationError) {
      return { name, ok: false, detail: e.message, error: "verification" };
    }
    if (e instanceof UnsupportedError) {
      return { name, ok: false, detail: e.message, error: "unsupported" };
    }
    throw e;
  }
}
