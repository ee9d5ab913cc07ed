// The page's two languages: Simplified Chinese for a browser that asks for
// any Chinese, English otherwise, or the one chosen with the switch. The
// words are embedded by the build (server/verifier/build.py) from
// server/verifier/strings.py and the verifier area's catalog, in a data
// block the page never executes.

export const LANGUAGES = ["zh", "en"];
const HTML_LANG = { zh: "zh-CN", en: "en" };

let words = null;
let current = "zh";

function loaded() {
  if (words === null) {
    words = JSON.parse(document.getElementById("strings").textContent);
  }
  return words;
}

// The browser's first Chinese or English language, Chinese when neither.
export function browserLanguage(languages) {
  for (const tag of languages || []) {
    const lower = String(tag).toLowerCase();
    if (lower === "zh" || lower.startsWith("zh-")) return "zh";
    if (lower === "en" || lower.startsWith("en-")) return "en";
  }
  return "zh";
}

export function setLanguage(lang) {
  current = LANGUAGES.includes(lang) ? lang : "zh";
  document.documentElement.lang = HTML_LANG[current];
  return current;
}

export function language() {
  return current;
}

// The words for `key` with `%(name)s` filled from `vars`. A key without
// words is shown as itself: visible, never silently empty.
export function t(key, vars = {}) {
  const table = loaded()[current];
  const text = Object.hasOwn(table, key) ? table[key] : key;
  return text.replace(/%\((\w+)\)s/g, (whole, name) => (Object.hasOwn(vars, name) ? String(vars[name]) : whole));
}

// A check's name in words, by the client's check id.
export function checkWords(id) {
  const key = `check.${id}`;
  return Object.hasOwn(loaded()[current], key) ? t(key) : id;
}

// Integer fen as yuan, "¥1,234.56", as the server's pages write it in both
// languages: BigInt arithmetic, never a float.
export function yuan(fen) {
  const value = BigInt(fen);
  const sign = value < 0n ? "-" : "";
  const abs = value < 0n ? -value : value;
  const whole = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const cents = (abs % 100n).toString().padStart(2, "0");
  return `${sign}¥${whole}.${cents}`;
}

// Every element marked data-t gets its words in the current language.
export function translatePage(root) {
  for (const e of root.querySelectorAll("[data-t]")) {
    e.textContent = t(e.dataset.t);
  }
  for (const e of root.querySelectorAll("[data-t-placeholder]")) {
    e.placeholder = t(e.dataset.tPlaceholder);
  }
  document.title = t("title");
}
