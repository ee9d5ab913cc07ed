// The document's own checks, after the log's: a deduction's or a claim's
// bundle, or a vote receipt, as `mutualog verify-deduction`, `verify-claim`
// and `verify-receipt` check it (verify.js, the same checks, check id for
// check id).

import { verifyClaim, verifyDeduction, verifyReceipt } from "../js/verify.js";

function stopped(message) {
  return { name: "bundle", status: "pending", detail: message, expected: "", found: "", where: "", words: "" };
}

// What to check in a bundle: what the member asked for, else what the
// bundle is about (a chosen file carries its member and period, or its claim).
function subject(doc, request) {
  if (request.mode === "deduction") return { member: request.member, period: request.period };
  if (request.mode === "claim") return { claim: request.claim };
  const deduction = doc.obj.deduction;
  if (deduction && typeof deduction === "object") {
    return { member: String(deduction.member), period: String(deduction.period) };
  }
  const claims = Array.isArray(doc.obj.claims) ? doc.obj.claims : [];
  return { claim: claims.length ? String(claims[0]) : "" };
}

// Resolves to {findings, share}: the document's findings ({name, status,
// detail, expected, found, where}) and the member's share in fen, or null.
// `doc` is flow.js's readDocument (a receipt's with `bundleText`, the
// claim's bundle, when one was fetched or chosen); `request` what the member asked for
// ({mode, member, period, claim}).
export async function checkDocument(doc, trust, request) {
  const keys = { verifierKey: trust.verifierKey, origin: trust.origin };
  let report;
  if (doc.kind === "receipt") {
    report = await verifyReceipt({ receiptText: doc.text, ...keys, bundleText: doc.bundleText ?? null });
  } else {
    const what = subject(doc, request);
    report =
      what.member !== undefined
        ? await verifyDeduction({ bundleText: doc.text, ...keys, ...what })
        : await verifyClaim({ bundleText: doc.text, ...keys, ...what });
  }
  const findings = report.findings.length || !report.error ? report.findings : [stopped(report.error)];
  return { findings, share: report.share ?? null };
}
