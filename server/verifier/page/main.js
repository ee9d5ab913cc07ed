// The page's entry: reads the query (member and period, or a claim), the
// stored trust and language, and wires the buttons. The page's bytes are
// the same for everyone; what differs is only what the browser holds.

import { checkDocument } from "./documents.js";
import { carriedProof, checkLog, merged, readDocument, trustFromKey, verdictOf } from "./flow.js";
import { browserLanguage, language, setLanguage, t, translatePage } from "./i18n.js";
import { forgetTrust, loadLanguage, loadTrust, newTrust, saveLanguage, saveTrust } from "./storage.js";
import { byId, showError, showMessage, showResult, showTrust, showWorking } from "./ui.js";
import { fromHex } from "../js/encoding.js";

const MEMBER = /^[0-9a-f]{32}$/;
const PERIOD = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;

// Served by the pool (http or https) the page may ask its own server; saved
// as a file it has no server, and works with chosen files only.
const served = location.protocol === "http:" || location.protocol === "https:";
let trust = null;
let storageWorks = true;
let lastOutcome = null;
let scanning = null;

async function getJson(path) {
  const response = await fetch(path, { credentials: "omit", cache: "no-store" });
  if (!response.ok) {
    let message = `${response.status}`;
    try {
      const body = await response.json();
      if (body && typeof body.message === "string") message = `${response.status}: ${body.message}`;
    } catch {
      // Not JSON: the status says enough.
    }
    throw new Error(message);
  }
  return response.text();
}

function refresh() {
  showTrust(trust, storageWorks);
  byId("first-use").hidden = !served;
  byId("first-use-note").hidden = !served;
}

function setTrust(next) {
  trust = next;
  storageWorks = saveTrust(next);
  refresh();
}

async function firstUse() {
  showMessage("pin-message", "");
  try {
    const log = JSON.parse(await getJson("/api/v1/log"));
    const key = await trustFromKey(String(log.verifier_key));
    if (key.origin !== log.origin) throw new Error(`key ${key.origin}, origin ${log.origin}`);
    const witnesses = (log.witnesses || []).map((w) => String(w.verifier_key));
    setTrust(newTrust(log.origin, key.verifierKey, witnesses, Number(log.witnesses_required || 0)));
    showMessage("pin-message", t("pin.saved"), "ok");
  } catch (e) {
    showMessage("pin-message", t("pin.fetch_failed", { detail: e.message }), "error");
  }
}

async function typedKey() {
  showMessage("pin-message", "");
  try {
    const key = await trustFromKey(byId("typed-key").value);
    setTrust(newTrust(key.origin, key.verifierKey, [], 0));
    showMessage("pin-message", t("pin.saved"), "ok");
  } catch (e) {
    showMessage("pin-message", t("pin.bad_key", { detail: e.message }), "error");
  }
}

function stopScan() {
  if (scanning) {
    scanning.stream.getTracks().forEach((track) => track.stop());
    clearInterval(scanning.timer);
    scanning = null;
  }
  byId("scan-video").hidden = true;
  byId("scan").textContent = t("pin.scan");
}

async function scan() {
  if (scanning) return stopScan();
  try {
    const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    const video = byId("scan-video");
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    byId("scan").textContent = t("pin.scan_stop");
    const timer = setInterval(async () => {
      const codes = await detector.detect(video).catch(() => []);
      if (codes.length) {
        byId("typed-key").value = codes[0].rawValue.trim();
        stopScan();
      }
    }, 300);
    scanning = { stream, timer };
  } catch (e) {
    stopScan();
    showMessage("pin-message", t("pin.bad_key", { detail: e.message }), "error");
  }
}

function mode() {
  return document.querySelector("input[name=mode]:checked").value;
}

function showMode() {
  for (const name of ["deduction", "claim", "file"]) byId(`by-${name}`).hidden = mode() !== name;
}

// The document to check, as the member asked for it: fetched from the
// pool's bundle API, or read from a chosen file.
async function takeDocument() {
  const m = mode();
  if (m === "file") {
    const file = byId("file").files[0];
    if (!file) return { missing: "what.need_file" };
    return { doc: readDocument(await file.text()), request: { mode: m } };
  }
  if (m === "claim") {
    const claim = byId("claim").value.trim().toLowerCase();
    if (!MEMBER.test(claim)) return { missing: "what.need_claim" };
    const text = await getJson(`/api/v1/bundles/claim/${claim}`).catch((e) => ({ failed: e.message }));
    return typeof text === "string" ? { doc: readDocument(text), request: { mode: m, claim } } : text;
  }
  const member = byId("member").value.trim().toLowerCase();
  const period = byId("period").value.trim();
  if (!MEMBER.test(member) || !PERIOD.test(period)) return { missing: "what.need_fields" };
  const query = new URLSearchParams({ member, period });
  const sample = byId("sample").value.replace(/\s/g, "").toLowerCase();
  if (sample) query.set("sample", sample);
  const text = await getJson(`/api/v1/bundles/deduction?${query}`).catch((e) => ({ failed: e.message }));
  return typeof text === "string" ? { doc: readDocument(text), request: { mode: m, member, period } } : text;
}

// A consistency proof from the stored size: the file's own, else the
// pool's server when there is one and it answers, else none.
function proofSource(doc) {
  return async (oldSize, newSize) => {
    const carried = carriedProof(doc, oldSize);
    if (carried) return carried;
    if (!served) return null;
    try {
      const body = JSON.parse(await getJson(`/api/v1/proof/consistency?old=${oldSize}&new=${newSize}`));
      return body.proof.map((h) => fromHex(String(h)));
    } catch {
      return null;
    }
  };
}

async function check() {
  showMessage("what-message", "");
  if (trust === null) return showMessage("what-message", t("what.need_pin"), "error");
  let taken;
  try {
    taken = await takeDocument();
  } catch (e) {
    return showError(t("result.not_a_file", { detail: e.message }));
  }
  if (taken.missing) return showMessage("what-message", t(taken.missing), "error");
  if (taken.failed) return showError(t("result.fetch_failed", { detail: taken.failed }));
  showWorking();
  const { doc, request } = taken;
  try {
    const now = Math.floor(Date.now() / 1000);
    const log = await checkLog(trust, doc.obj.checkpoint, now, proofSource(doc));
    let findings = log.findings;
    let share = null;
    if (!log.refused && findings.every((f) => f.status !== "FAIL")) {
      const own = await checkDocument(doc, trust, request);
      findings = merged(findings, own.findings);
      share = own.share ?? null;
    }
    if (log.accepted) setTrust({ ...trust, checkpoint: log.accepted });
    lastOutcome = {
      ...verdictOf(findings),
      findings,
      refused: log.refused,
      share,
      size: log.presented ? log.presented.size : "",
    };
    showResult(lastOutcome);
  } catch (e) {
    showError(t("result.error", { detail: e.message }));
  }
}

function switchLanguage(lang) {
  setLanguage(lang);
  saveLanguage(lang);
  drawLanguage();
}

function drawLanguage() {
  translatePage(document);
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === language()));
  }
  refresh();
  if (scanning) byId("scan").textContent = t("pin.scan_stop");
  if (lastOutcome) showResult(lastOutcome);
}

// The query prefills what to check: ?member=…&period=…[&sample=…] or ?claim=….
function prefill() {
  const query = new URLSearchParams(location.search);
  const claim = query.get("claim");
  if (claim) {
    byId("claim").value = claim;
    byId("mode-claim").checked = true;
  }
  for (const name of ["member", "period", "sample"]) {
    const value = query.get(name);
    if (value) byId(name).value = value;
  }
}

function start() {
  setLanguage(loadLanguage() || browserLanguage(navigator.languages));
  trust = loadTrust();
  prefill();
  showMode();
  byId("scan").hidden = !("BarcodeDetector" in window && navigator.mediaDevices);
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.addEventListener("click", () => switchLanguage(button.dataset.lang));
  }
  for (const radio of document.querySelectorAll("input[name=mode]")) radio.addEventListener("change", showMode);
  byId("first-use").addEventListener("click", firstUse);
  byId("save-key").addEventListener("click", typedKey);
  byId("scan").addEventListener("click", scan);
  byId("forget").addEventListener("click", () => {
    forgetTrust();
    trust = null;
    refresh();
    showMessage("pin-message", t("pin.forgotten"), "ok");
  });
  byId("check-form").addEventListener("submit", (event) => {
    event.preventDefault();
    check();
  });
  drawLanguage();
  document.body.dataset.ready = "true";
}

start();
