// Drawing the page: the trusted log's state, the findings each with its
// mark and its words, the verdict, and both checkpoints when a new one is
// refused. Text is set with textContent only: details come from files and
// servers, and are never read as markup.

import { checkWords, t } from "./i18n.js";

const MARKS = { ok: "\u2713", FAIL: "\u2717", pending: "\u2026", skip: "\u2013" };

export function byId(id) {
  return document.getElementById(id);
}

export function element(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

// A hash or key shown short enough for a phone, whole on a wider look.
export function short(text) {
  return text.length > 20 ? `${text.slice(0, 16)}\u2026` : text;
}

export function showMessage(id, text, kind = "") {
  const e = byId(id);
  e.textContent = text;
  e.className = `message ${kind}`.trim();
  e.hidden = !text;
}

export function showTrust(trust, storageWorks) {
  const status = byId("pin-status");
  status.replaceChildren();
  if (trust === null) {
    status.append(element("p", "", t("pin.none")));
  } else {
    const key = trust.verifierKey.split("+").slice(1, 2).join("");
    status.append(element("p", "", t("pin.pinned", { origin: trust.origin, key })));
    if (trust.required > 0) {
      status.append(element("p", "", t("pin.witnesses", { required: trust.required, count: trust.witnesses.length })));
    } else {
      status.append(element("p", "note", t("pin.no_witness")));
    }
    if (trust.checkpoint) {
      const cp = trust.checkpoint;
      status.append(element("p", "", t("pin.stored", { size: cp.size, root: short(cp.root) })));
    }
  }
  byId("forget").hidden = trust === null || !storageWorks;
  byId("pin-setup").hidden = trust !== null;
}

function detailLines(f) {
  const lines = [];
  for (const [key, value] of [
    ["result.where", f.where],
    ["result.expected", f.expected],
    ["result.found", f.found],
  ]) {
    if (value) lines.push(`${t(key)}: ${value}`);
  }
  return lines;
}

function findingItem(f) {
  const item = element("li", `finding ${f.status === "FAIL" ? "fail" : f.status}`);
  item.dataset.check = f.name;
  item.dataset.status = f.status;
  const head = element("div", "finding-head");
  const mark = element("span", "mark", MARKS[f.status] || "?");
  mark.setAttribute("aria-hidden", "true");
  head.append(mark, element("span", "visually-hidden", `${t(`status.${f.status}`)}: `));
  head.append(element("span", "check-name", checkWords(f.name)));
  item.append(head);
  const words = f.words ? t(f.words) : "";
  if (words) item.append(element("p", "finding-words", words));
  const lines = detailLines(f);
  if (f.detail || lines.length) {
    const more = element("details", "finding-detail");
    more.open = f.status === "FAIL";
    more.append(element("summary", "", t("result.details")));
    const code = element("p", "detail-text");
    code.lang = "en";
    code.textContent = [f.name, f.detail, ...lines].filter(Boolean).join("\n");
    more.append(code);
    item.append(more);
  }
  return item;
}

function checkpointBox(label, cp) {
  const box = element("div", "checkpoint");
  box.append(element("h3", "", label));
  const text = element("pre", "checkpoint-text");
  text.lang = "en";
  text.textContent = cp ? cp.note : "";
  box.append(text);
  return box;
}

// The verdict ({verdict, check}), the findings, and the refusal if any.
export function showResult(outcome) {
  const section = byId("result-section");
  section.hidden = false;
  const verdict = byId("verdict");
  verdict.replaceChildren();
  const kind = { VERIFIED: "verified", FAILED: "failed", PENDING: "pending" }[outcome.verdict];
  verdict.className = `verdict ${kind}`;
  verdict.dataset.verdict = outcome.verdict;
  verdict.append(element("p", "verdict-word", t(`result.${kind}`)));
  const note =
    outcome.verdict === "VERIFIED"
      ? t("result.verified_note")
      : t(`result.${kind}_note`, { check: checkWords(outcome.check) });
  verdict.append(element("p", "verdict-note", note));
  if (outcome.verdict === "VERIFIED" && outcome.share !== undefined && outcome.share !== null) {
    verdict.append(element("p", "share", t("result.share", { amount: outcome.share })));
  }
  if (outcome.size) verdict.append(element("p", "verdict-size", t("result.checkpoint", { size: outcome.size })));
  byId("findings").replaceChildren(...outcome.findings.map(findingItem));
  const refused = byId("refused");
  refused.replaceChildren();
  refused.hidden = !outcome.refused;
  if (outcome.refused) {
    refused.append(element("p", "refused-note", t("result.refused")));
    refused.append(checkpointBox(t("result.stored_cp"), outcome.refused.stored));
    refused.append(checkpointBox(t("result.new_cp"), outcome.refused.presented));
  }
  section.scrollIntoView({ block: "start" });
  verdict.focus();
}

// A check that could not be run at all (no bundle, a file that is not one).
export function showError(text) {
  const section = byId("result-section");
  section.hidden = false;
  const verdict = byId("verdict");
  verdict.className = "verdict pending";
  verdict.dataset.verdict = "ERROR";
  verdict.replaceChildren(element("p", "verdict-note", text));
  byId("findings").replaceChildren();
  byId("refused").hidden = true;
  verdict.focus();
}

export function showWorking() {
  const section = byId("result-section");
  section.hidden = false;
  const verdict = byId("verdict");
  verdict.className = "verdict working";
  verdict.dataset.verdict = "";
  verdict.replaceChildren(element("p", "verdict-note", t("result.working")));
  byId("findings").replaceChildren();
  byId("refused").hidden = true;
}
