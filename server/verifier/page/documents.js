// The document's own checks, after the log's: a deduction or a claim's
// bundle, or a vote receipt, as `mutualog verify-deduction`, `verify-claim`
// and `verify-receipt` check it.

// Resolves to {findings, share}: the document's findings ({name, status,
// detail, expected, found, where}) and the member's share in fen or null. `doc` is readDocument's; `request` what the member asked
// for ({mode, member, period, claim}).
export async function checkDocument(doc, trust, request) {
  void doc;
  void trust;
  void request;
  const words = "bundle.unavailable";
  return { findings: [{ name: "bundle", status: "pending", detail: "", expected: "", found: "", where: "", words }], share: null };
}
