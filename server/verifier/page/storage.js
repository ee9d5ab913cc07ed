// What the page keeps in the browser's localStorage: the log this phone
// trusts (origin, verifier key, witnesses and how many must cosign), the
// last checkpoint it accepted, and the language chosen. localStorage is per
// origin: the page served by the pool keeps its own, and a copy saved and
// opened as a file keeps another (docs/verifier.md, "Saved as a file").

const KEY = "mutualog.verifier.v1";
const LANGUAGE_KEY = "mutualog.verifier.language";

// Storage can be refused (a private window, a browser's settings): the
// page then works for this visit only, and says nothing is kept.
function store() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

function isTrust(value) {
  return (
    value !== null &&
    typeof value === "object" &&
    typeof value.origin === "string" &&
    typeof value.verifierKey === "string" &&
    Array.isArray(value.witnesses) &&
    value.witnesses.every((w) => typeof w === "string") &&
    Number.isSafeInteger(value.required) &&
    (value.checkpoint === null || isCheckpoint(value.checkpoint))
  );
}

function isCheckpoint(value) {
  return (
    value !== null &&
    typeof value === "object" &&
    typeof value.size === "string" &&
    /^(0|[1-9][0-9]*)$/.test(value.size) &&
    typeof value.root === "string" &&
    /^[0-9a-f]{64}$/.test(value.root) &&
    typeof value.note === "string"
  );
}

// The stored trust, or null when there is none or it is not ours to read.
export function loadTrust() {
  const s = store();
  if (!s) return null;
  try {
    const value = JSON.parse(s.getItem(KEY));
    return isTrust(value) ? value : null;
  } catch {
    return null;
  }
}

export function saveTrust(trust) {
  const s = store();
  if (!s) return false;
  try {
    s.setItem(KEY, JSON.stringify(trust));
    return true;
  } catch {
    return false;
  }
}

export function forgetTrust() {
  const s = store();
  if (s) s.removeItem(KEY);
}

// A trust with no checkpoint yet: `witnesses` are verifier key strings.
export function newTrust(origin, verifierKey, witnesses, required) {
  return { origin, verifierKey, witnesses: [...witnesses].sort(), required, checkpoint: null };
}

export function loadLanguage() {
  const s = store();
  const value = s ? s.getItem(LANGUAGE_KEY) : null;
  return value === "zh" || value === "en" ? value : null;
}

export function saveLanguage(lang) {
  const s = store();
  if (!s) return;
  try {
    s.setItem(LANGUAGE_KEY, lang);
  } catch {
    // Kept for this visit only.
  }
}
