// The page's entry: reads the query (member and period, or a claim), the
// stored trust and language, and wires the buttons. The page's bytes are
// the same for everyone; what differs is only what the browser holds.

import { checkDocument } from "./documents.js";
import { carriedProof, checkLog, checkSynced, isTrustText, merged, readDocument, trustFromKey, trustFromTyped, verdictOf } from "./flow.js";
import { browserLanguage, language, setLanguage, t, translatePage, yuan } from "./i18n.js";
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

async function getText(path) {
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
    const log = JSON.parse(await getText("/api/v1/log"));
    const key = await trustFromKey(String(log.verifier_key));
    if (key.origin !== log.origin) throw new Error(`key ${key.origin}, origin ${log.origin}`);
    const witnesses = (log.witnesses || []).map((w) => String(w.verifier_key));
    setTrust(newTrust(log.origin, key.verifierKey, witnesses, Number(log.witnesses_required || 0)));
    showMessage("pin-message", t("pin.saved"), "ok");
  } catch (e) {
    showMessage("pin-message", t("pin.fetch_failed", { detail: e.message }), "error");
  }
}

// The typed or scanned field: an auditor's trust text pins the key, the
// witnesses and K, as first use does; a bare key pins no witness, and the
// page says so. Nothing is stored unless the whole of it reads.
async function typedKey() {
  showMessage("pin-message", "");
  const typed = byId("typed-key").value;
  let read;
  try {
    read = await trustFromTyped(typed);
  } catch (e) {
    const words = isTrustText(typed) ? "pin.bad_text" : "pin.bad_key";
    return showMessage("pin-message", t(words, { detail: e.message }), "error");
  }
  setTrust(newTrust(read.origin, read.verifierKey, read.witnesses, read.required));
  showMessage("pin-message", t(read.whole ? "pin.saved" : "pin.saved_key_only"), "ok");
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
        // A QR code holds a key or a whole trust text, read as if typed.
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

// What the member asked to check, read from the form: {request} or
// {missing: the words saying what is missing}.
function asked() {
  const m = mode();
  if (m === "file") {
    const files = [...byId("file").files];
    return files.length ? { request: { mode: m, files } } : { missing: "what.need_file" };
  }
  if (m === "claim") {
    const claim = byId("claim").value.trim().toLowerCase();
    return MEMBER.test(claim) ? { request: { mode: m, claim } } : { missing: "what.need_claim" };
  }
  const member = byId("member").value.trim().toLowerCase();
  const period = byId("period").value.trim();
  if (!MEMBER.test(member) || !PERIOD.test(period)) return { missing: "what.need_fields" };
  const sample = byId("sample").value.replace(/\s/g, "").toLowerCase();
  return { request: { mode: m, member, period, sample } };
}

// The document: a chosen file, or the bundle the pool's API builds at the
// size of the log's checkpoint just checked, as `fetch` does after `sync`.
async function takeDocument(request, size) {
  if (request.mode === "file") return chosenDocument(request.files);
  const at = new URLSearchParams(size ? { size } : {});
  if (request.mode === "claim") {
    return readDocument(await getText(`/api/v1/bundles/claim/${request.claim}?${at}`));
  }
  const query = new URLSearchParams({ member: request.member, period: request.period });
  if (request.sample) query.set("sample", request.sample);
  if (size) query.set("size", size);
  return readDocument(await getText(`/api/v1/bundles/deduction?${query}`));
}

// The chosen files: one document, or a vote receipt with its claim's bundle
// (verify-receipt --bundle), chosen together.
async function chosenDocument(files) {
  const docs = [];
  for (const file of files) docs.push(readDocument(await file.text()));
  const receipt = docs.find((d) => d.kind === "receipt");
  const bundle = docs.find((d) => d.kind === "bundle");
  if (receipt && bundle) return { ...receipt, bundleText: bundle.text };
  return docs[0];
}

// A receipt's claim's bundle from the pool's API at the log's `size`, with
// the consistency proof from the receipt's own size (verify-receipt
// --bundle's checks against the log); null when there is none to be had.
async function claimBundleFor(doc, size) {
  const treeSize = BigInt(doc.obj.tree_size ?? 0);
  if (!served || !size || typeof doc.obj.claim !== "string" || treeSize < 1n || treeSize > BigInt(size)) return null;
  const query = new URLSearchParams({ size });
  if (treeSize < BigInt(size)) query.set("since", String(treeSize));
  try {
    return await getText(`/api/v1/bundles/claim/${encodeURIComponent(doc.obj.claim)}?${query}`);
  } catch {
    return null;
  }
}

// A consistency proof from the pool's server, or null when there is none
// (a saved page, no network, a refusal).
async function serverProof(oldSize, newSize) {
  if (!served) return null;
  try {
    const body = JSON.parse(await getText(`/api/v1/proof/consistency?old=${oldSize}&new=${newSize}`));
    return body.proof.map((h) => fromHex(String(h)));
  } catch {
    return null;
  }
}

// For the document's checkpoint: the proof the file carries to its own
// size, else the server's.
function proofSource(doc) {
  const size = doc.obj.checkpoint.split("\n")[1];
  return async (oldSize, newSize) => (newSize === size && carriedProof(doc, oldSize)) || serverProof(oldSize, newSize);
}

// The log's witnessed checkpoint, as the pool serves it at /checkpoint; null
// when the page is a saved file or the network is out.
async function witnessedCheckpoint() {
  if (!served) return null;
  try {
    const response = await fetch("/checkpoint", { credentials: "omit", cache: "no-store" });
    return response.ok ? await response.text() : null;
  } catch {
    return null;
  }
}

function finish(findings, extra) {
  lastOutcome = { ...verdictOf(findings), findings, refused: null, share: null, size: "", ...extra };
  showResult(lastOutcome);
}

async function check() {
  showMessage("what-message", "");
  if (trust === null) return showMessage("what-message", t("what.need_pin"), "error");
  const { request, missing } = asked();
  if (missing) return showMessage("what-message", t(missing), "error");
  showWorking();
  try {
    const now = Math.floor(Date.now() / 1000);
    let reference = trust.checkpoint;
    let logFindings = [];
    const note = await witnessedCheckpoint();
    if (note === null && request.mode !== "file") {
      return showError(t("result.fetch_failed", { detail: "/checkpoint" }));
    }
    if (note !== null) {
      const log = await checkLog(trust, note, now, serverProof);
      if (log.accepted) setTrust({ ...trust, checkpoint: log.accepted });
      logFindings = log.findings;
      const size = log.presented ? log.presented.size : "";
      if (log.refused || log.findings.some((f) => f.status === "FAIL")) {
        return finish(logFindings, { refused: log.refused, size });
      }
      reference = log.presented;
    }
    let doc;
    try {
      doc = await takeDocument(request, request.mode === "file" ? "" : reference.size);
    } catch (e) {
      const key = request.mode === "file" ? "result.not_a_file" : "result.fetch_failed";
      return showError(t(key, { detail: e.message }));
    }
    if (doc.kind === "receipt" && doc.bundleText === undefined && reference !== null) {
      const bundleText = await claimBundleFor(doc, reference.size);
      if (bundleText !== null) doc = { ...doc, bundleText };
    }
    const synced = await checkSynced(reference, doc.obj.checkpoint, proofSource(doc));
    const own = await checkDocument(doc, trust, request);
    const at = own.findings.findIndex((f) => f.name === "checkpoint") + 1;
    const docFindings = [...own.findings.slice(0, at), synced.found, ...own.findings.slice(at)];
    finish(merged(logFindings, docFindings), {
      refused: synced.refused,
      // ui.js shows it only when verified: a figure from a bundle that failed proves nothing.
      share: own.share === null || own.share === undefined ? null : yuan(own.share),
      size: doc.obj.checkpoint.split("\n")[1],
    });
  } catch (e) {
    showError(t("result.error", { detail: e.message }));
  }
}

// The chosen file's name under the button (the browser's own file control,
// whose words are in the browser's language, is hidden).
function showFileName() {
  const files = [...byId("file").files];
  const line = byId("file-name");
  if (files.length) {
    delete line.dataset.t;
    line.textContent = files.map((f) => f.name).join(", ");
  } else {
    line.dataset.t = "what.no_file";
    line.textContent = t("what.no_file");
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
  byId("file").addEventListener("change", showFileName);
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
