"""The browser suite's harness: a demo server, Debian's Chromium, and the
checks every page must pass.

* :func:`start_demo` builds a small demo pool and serves it with
  ``mutualog-server demo`` in a subprocess on a free port of 127.0.0.1 (one
  real server process, the demo's own clock); :func:`stop` ends it by its
  pid.
* :data:`CHROMIUM` and :data:`CHROMIUM_ARGS`: Playwright drives the system's
  Chromium and never downloads a browser.  :func:`require_browser` skips a
  test locally when it is missing and fails it under ``CI=true``.
* :func:`untranslated` finds English words left in the text of a Chinese
  page (see its docstring for what is allowed); :data:`RENDERED_TEXT_JS`
  collects that text in the page.
* :func:`serious_violations` runs the axe-core engine (shipped inside the
  ``axe-playwright-python`` package) and keeps what it calls serious or
  critical.
* :func:`run_copied` runs a command copied from a page with the client of
  this checkout, in a state folder of the test's own.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

__all__ = [
    "ALLOWED_WORDS",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "DESKTOP",
    "LOCALES",
    "PHONE",
    "REASON",
    "RENDERED_TEXT_JS",
    "ROLES",
    "DemoServer",
    "Visit",
    "Visitors",
    "cast_vote",
    "command_blocks",
    "free_port",
    "overflow",
    "problems_on",
    "register",
    "require_browser",
    "run_copied",
    "serious_violations",
    "sign_in",
    "small_targets",
    "start_demo",
    "stop",
    "untranslated",
]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

#: The two screens every page is seen on: a phone and a laptop.
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
#: Page language -> the browser's locale (its Accept-Language).
LOCALES = {"zh": "zh-CN", "en": "en-US"}

#: Founding members of the browser suite's demo: small, and every case is
#: there, with a claim approved and not yet paid (for the operator's pay).
DEMO_MEMBERS = 1000


def require_browser() -> None:
    """Skip (locally) or fail (under ``CI=true``) without Chromium and Playwright."""
    problem = None
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} not found (apt-get install -y chromium)"
    else:
        try:
            import axe_playwright_python  # noqa: F401
            import playwright.sync_api  # noqa: F401
        except ImportError as e:
            problem = f"{e.name} is not installed (pip install -e '.[test]')"
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)


# --- the server -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tool(name: str) -> str:
    """A console script of this checkout: beside the running Python, else on PATH."""
    found = Path(sys.executable).parent / name
    if found.exists():
        return str(found)
    on_path = shutil.which(name)
    assert on_path, f"{name} is not installed (pip install -e .)"
    return on_path


@dataclass
class DemoServer:
    """A running demo: its URL, the demo's accounts (username -> password),
    the claim open for voting and the juror's username."""

    url: str
    process: subprocess.Popen[bytes]
    instance: Path
    log: Path
    passwords: dict[str, str] = field(default_factory=dict)
    voting_claim: str = ""

    def output(self) -> str:
        return self.log.read_text(errors="replace")


_ACCOUNT = re.compile(r"^\s+\w+\s+username (\S+)\s+password (\S+)", re.MULTILINE)
_VOTING = re.compile(r"claim ([0-9a-f]{32}) is open for voting")


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUTUALOG_")}
    # Plain http on loopback: the session cookie cannot be Secure here.
    env["MUTUALOG_SECURE_COOKIES"] = "false"
    # The accounts are printed before serving: read them while it serves.
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_demo(folder: Path, members: int = DEMO_MEMBERS) -> DemoServer:
    """Build a demo of ``members`` founding members in ``folder`` and serve it."""
    port = free_port()
    log = folder / "server.log"
    instance = folder / "instance"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                tool("mutualog-server"),
                "--instance",
                str(instance),
                "demo",
                "--members",
                str(members),
                "--port",
                str(port),
            ],
            env=_environment(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = DemoServer(f"http://127.0.0.1:{port}", process, instance, log)
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(f"{server.url}/login", timeout=2) as response:
                if response.status == 200:
                    break
        except (urllib.error.URLError, ConnectionError):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop(server)
            raise RuntimeError(f"the demo server did not start:\n{server.output()}")
        time.sleep(0.2)
    text = server.output()
    server.passwords = dict(_ACCOUNT.findall(text))
    voting = _VOTING.search(text)
    if not server.passwords or voting is None:
        stop(server)
        raise RuntimeError(f"the demo printed no accounts or no open claim:\n{text}")
    server.voting_claim = voting.group(1)
    return server


def stop(server: DemoServer) -> None:
    """Stop the server by its pid: SIGTERM, then SIGKILL after 10 s."""
    process = server.process
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


# --- what a page must not have -----------------------------------------------------


def overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the window (0: none)."""
    width = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    return max(0, int(width))


#: Everything a person reads on the page (or hears from a screen reader),
#: as a list of strings: the document's title; each text node of the body
#: (also inside closed ``<details>``, SVG text and ``<option>``), except
#: what is shown as written: code (``code``, ``pre``, ``kbd``, ``samp``),
#: quotations of the log's free text (``blockquote``), and text whose
#: nearest ``lang`` is another language than the page's or that is marked
#: ``translate="no"``; and the text of the attributes read aloud or shown
#: (``aria-label``, ``title``, ``alt``, ``placeholder``, a button-like
#: input's ``value``, a ``data-label`` shown by the stylesheet).
RENDERED_TEXT_JS = """
() => {
  const shownAsWritten = new Set(["code", "pre", "kbd", "samp", "blockquote",
                                  "script", "style", "noscript", "template"]);
  const pageLang = (document.documentElement.lang || "").toLowerCase().slice(0, 2);
  const skipped = (el) => {
    if (el.closest("[translate='no']")) return true;
    const marked = el.closest("[lang]");
    if (marked && marked.getAttribute("lang").toLowerCase().slice(0, 2) !== pageLang) return true;
    for (let e = el; e; e = e.parentElement) {
      if (shownAsWritten.has(e.localName)) return true;
    }
    return false;
  };
  const out = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.data.trim();
    if (text && !skipped(node.parentElement)) out.push(text);
  }
  const read = ["aria-label", "title", "alt", "placeholder", "data-label"];
  for (const el of document.body.querySelectorAll("*")) {
    if (skipped(el)) continue;
    for (const name of read) {
      const value = el.getAttribute(name);
      if (value && value.trim()) out.push(value.trim());
    }
    if (el.localName === "input" && ["submit", "button", "reset"].includes(el.type)) {
      if (el.value) out.push(el.value);
    }
  }
  return out;
}
"""

# What may stand in Latin letters on a Chinese page, removed before looking
# for words: each a thing shown as it is, not a phrase to translate.
_AS_IS = [
    # URLs and e-mail addresses
    re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE | re.ASCII),
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII),
    # paths and log origins (/pool/claims, localhost/mutualog/demo, a
    # verifier key origin+hash+key)
    re.compile(r"[\w.+-]*(?:/[\w.+%=&?#@-]+)+/?", re.ASCII),
    # file names (a receipt's, a document's)
    re.compile(r"\b[\w-]+(?:\.[\w-]+)*\.(?:json|pdf|jpe?g|png|tar|svg|csv|txt)\b", re.ASCII),
    # the log's entry types (claim.filed, vote.sealed): names, like ids
    re.compile(r"\b[a-z]+(?:\.[a-z_]+)+\b", re.ASCII),
    # anything with a digit in it: numbers, dates, ids, hashes, base64,
    # Ed25519, C2SP, RFC 9162's number
    re.compile(r"[A-Za-z0-9+/=_-]*[0-9][A-Za-z0-9+/=_-]*"),
]

_WORD = re.compile("[A-Za-z]+(?:['\u2019][A-Za-z]+)*")

#: Latin words a Chinese page may keep: the product's name, and acronyms
#: written in Latin letters in Chinese too.
ALLOWED_WORDS = frozenset(
    {
        "mutualog",
        "ID",
        "PDF",
        "JPEG",
        "PNG",
        "JSON",
        "SVG",
        "RFC",
        "UTC",
        "SHA",
        "URL",
        "HTTP",
        "HTTPS",
        "FAQ",
        "SMTP",
        "API",
        "CSRF",
    }
)


def untranslated(texts: Iterable[str], names: Iterable[str] = ()) -> list[str]:
    """The strings of ``texts`` that hold English words, each with the words.

    A Chinese page may show, in Latin letters: ids, hashes, keys and
    anything else with a digit in it, URLs, paths and log origins, file
    names, the log's entry types (``claim.filed``), the words of
    :data:`ALLOWED_WORDS`, single letters, and ``names`` (the usernames on
    the page, which are what their owners typed).  Every other Latin word
    is a phrase left untranslated, alone or in a run.
    """
    allowed = ALLOWED_WORDS | set(names)
    found = []
    for text in texts:
        rest = text
        for pattern in _AS_IS:
            rest = pattern.sub(" ", rest)
        words = [w for w in _WORD.findall(rest) if len(w) > 1 and w not in allowed]
        if words:
            found.append(f"{text[:160]!r}: {' '.join(words)}")
    return found


def serious_violations(page: Page) -> list[str]:
    """The axe-core engine's serious and critical violations on the page,
    one line each: the rule, its impact, and up to three elements."""
    from axe_playwright_python.sync_playwright import Axe

    results: dict[str, Any] = Axe().run(page).response
    lines = []
    for v in results["violations"]:
        if v.get("impact") in ("serious", "critical"):
            targets = [" ".join(map(str, n["target"])) for n in v["nodes"][:3]]
            lines.append(f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(targets)}")
    return lines


WIDEST_JS = """
() => [...document.body.querySelectorAll("*")]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
  .filter(e => ![...e.children]
    .some(c => c.getBoundingClientRect().right > window.innerWidth + 0.5))
  .slice(0, 5)
  .map(e => e.localName + (e.id ? "#" + e.id : "")
       + (typeof e.className === "string" && e.className.trim()
          ? "." + e.className.trim().split(/\\s+/).join(".") : "")
       + " (" + Math.round(e.getBoundingClientRect().right) + " px)")
"""


#: The things a finger taps, each checked by :func:`small_targets`: form
#: controls, ``<summary>`` toggles, links of a navigation or pager, links
#: drawn as buttons, and labels of radio buttons and check boxes.  A radio
#: button or check box with a label is tapped through its label, so the
#: label is checked instead of the small box.  A link inside running text
#: is exempt (WCAG 2.5.8 exempts inline targets).
SMALL_TARGETS_JS = """
() => {
  const MIN = 44, SLACK = 0.5;
  const name = (e) => e.localName + (e.id ? "#" + e.id : "")
    + (typeof e.className === "string" && e.className.trim()
       ? "." + e.className.trim().split(/\\s+/).join(".") : "")
    + (e.textContent.trim() ? " \\u201c" + e.textContent.trim().slice(0, 24) + "\\u201d" : "");
  const shown = (e) => {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return false;
    if (r.right <= 0 || r.bottom <= 0) return false;  // a skip link waiting for focus
    if (e.closest(".visually-hidden, [hidden]")) return false;
    const style = getComputedStyle(e);
    return style.visibility !== "hidden" && style.display !== "none";
  };
  const ticks = (e) => e.localName === "input" && ["radio", "checkbox"].includes(e.type);
  const out = [];
  const selector = "button, input:not([type=hidden]), select, textarea, summary, "
    + "nav a[href], .pager a[href], .pages a[href], a.button, label";
  for (const e of document.body.querySelectorAll(selector)) {
    if (!shown(e)) continue;
    let wide = true;
    if (e.localName === "label") {
      if (!e.control || !ticks(e.control)) continue;
      wide = false;
    } else if (ticks(e) && e.labels && e.labels.length) {
      continue;
    }
    const r = e.getBoundingClientRect();
    if (r.height + SLACK < MIN || (wide && r.width + SLACK < MIN)) {
      out.push(`${name(e)} is ${Math.round(r.width)}\\u00d7${Math.round(r.height)} px`);
    }
  }
  // A radio button or check box starts on the first line of its label's text.
  for (const input of document.body.querySelectorAll("input[type=radio], input[type=checkbox]")) {
    if (!shown(input) || !input.labels || !input.labels.length) continue;
    const label = input.labels[0];
    const walker = document.createTreeWalker(label, NodeFilter.SHOW_TEXT);
    let first = null;
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (n.data.trim()) { first = n; break; }
    }
    if (!first) continue;
    const range = document.createRange();
    range.selectNodeContents(first);
    const line = [...range.getClientRects()].find((r) => r.width > 0);
    if (!line) continue;
    const box = input.getBoundingClientRect();
    const centre = box.top + box.height / 2;
    if (centre < line.top - SLACK || centre > line.bottom + SLACK) {
      out.push(`${name(input)} and its label ${name(label)} start on different lines`);
    }
  }
  return out;
}
"""


def small_targets(page: Page) -> list[str]:
    """Targets under 44 px (:data:`SMALL_TARGETS_JS`), and radio buttons or
    check boxes not on the first line of their label, one line each."""
    return [str(line) for line in page.evaluate(SMALL_TARGETS_JS)]


def problems_on(page: Page, lang: str, names: Iterable[str] = ()) -> list[str]:
    """What is wrong with the page as shown, one line each: sideways
    scrolling (with the innermost elements past the window's edge), a wrong
    ``<html lang>``, English left on a Chinese page (``names``: the
    usernames it may show), touch targets under 44 px and check boxes
    apart from their labels (:func:`small_targets`), the axe-core engine's
    serious and critical violations."""
    problems = []
    wider = overflow(page)
    if wider:
        widest = ", ".join(page.evaluate(WIDEST_JS))
        problems.append(f"scrolls sideways by {wider} px; past the window: {widest}")
    html_lang = page.evaluate("document.documentElement.lang")
    want = "zh-CN" if lang == "zh" else "en"
    if html_lang != want:
        problems.append(f'<html lang="{html_lang}">, expected "{want}"')
    if lang == "zh":
        texts = [str(t) for t in page.evaluate(RENDERED_TEXT_JS)]
        left = untranslated(texts, names)
        problems += [f"untranslated: {line}" for line in dict.fromkeys(left)]
    problems += [f"small target: {line}" for line in small_targets(page)]
    problems += [f"axe: {line}" for line in serious_violations(page)]
    return problems


# --- commands to copy ----------------------------------------------------------------


def command_blocks(page: Page) -> list[tuple[str, str]]:
    """Each copy button of the page (``button[data-copy]``, shown by
    ``copy.js``), clicked in turn: the text of the command it names (the
    element whose id is its ``data-copy``) and what the clipboard then
    holds.  The context must be granted the clipboard permissions."""
    copied = []
    buttons = page.locator("main button[data-copy]")
    for i in range(buttons.count()):
        button = buttons.nth(i)
        shown = button.evaluate(
            "b => (document.getElementById(b.dataset.copy) || {textContent: ''}).textContent"
        )
        page.evaluate("() => navigator.clipboard.writeText('')")
        button.click()
        page.wait_for_function("() => navigator.clipboard.readText().then(t => t !== '')")
        copied.append((str(shown), str(page.evaluate("navigator.clipboard.readText()"))))
    return copied


def run_copied(
    command: str, state: Path, cwd: Path, lang: str = "C.UTF-8"
) -> subprocess.CompletedProcess[str]:
    """Run a ``mutualog`` command copied from a page with this checkout's
    client, ``--state`` pointing at ``state``, in ``cwd``."""
    argv = shlex.split(command)
    assert argv and argv[0] == "mutualog", f"not a mutualog command: {command!r}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MUTUALOG_", "LC_"))}
    env["LANG"] = lang
    return subprocess.run(
        [tool("mutualog"), "--state", str(state), *argv[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- signed-in visitors ------------------------------------------------------------

#: The roles of the matrix: who is signed in.  ``newcomer`` has an account
#: and has not joined the pool; the other three are the demo's accounts.
ROLES = ("public", "newcomer", "member", "juror", "operator")
NEWCOMER = "newcomer.w"
#: A juror's reason, as a Chinese juror writes it.
REASON = "病历与发票齐全。"
PASSWORD = "correct horse battery"


def sign_in(browser: Browser, url: str, username: str, password: str) -> dict[str, Any]:
    """Sign in through the form in a context of its own; its cookies."""
    context = browser.new_context(locale=LOCALES["en"])
    try:
        page = context.new_page()
        page.goto(f"{url}/login")
        page.locator("input[name=username]").fill(username)
        page.locator("input[name=password]").fill(password)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(lambda u: "/login" not in u)
        return dict(context.storage_state())
    finally:
        context.close()


def register(browser: Browser, url: str, username: str, password: str) -> dict[str, Any]:
    """Create an account through the form and sign in with it (registering
    alone does not); the new session's cookies."""
    context = browser.new_context(locale=LOCALES["en"])
    try:
        page = context.new_page()
        page.goto(f"{url}/register")
        page.locator("input[name=username]").fill(username)
        page.locator("input[name=password]").fill(password)
        page.locator("input[name=confirm]").fill(password)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(f"{url}/login")
        page.locator("input[name=username]").fill(username)
        page.locator("input[name=password]").fill(password)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(lambda u: "/login" not in u)
        return dict(context.storage_state())
    finally:
        context.close()


@dataclass
class Visit:
    """A page kept for one (role, language, screen), and what its console
    reported since :meth:`goto` last cleared it."""

    page: Page
    problems: list[str] = field(default_factory=list)

    def goto(self, url: str) -> int:
        """Open ``url``; the HTTP status."""
        self.problems.clear()
        response = self.page.goto(url)
        assert response is not None
        return response.status


class Visitors:
    """One browser context, with one page, per (role, language, screen),
    opened on first use and kept for the session."""

    def __init__(self, browser: Browser, server: DemoServer) -> None:
        self.browser = browser
        self.server = server
        self._states: dict[str, dict[str, Any] | None] = {}
        self._visits: dict[tuple[str, str, str], Visit] = {}

    def state(self, role: str) -> dict[str, Any] | None:
        if role not in self._states:
            url = self.server.url
            if role == "public":
                self._states[role] = None
            elif role == "newcomer":
                self._states[role] = register(self.browser, url, NEWCOMER, PASSWORD)
            else:
                password = self.server.passwords[role]
                self._states[role] = sign_in(self.browser, url, role, password)
        return self._states[role]

    def names(self, role: str) -> tuple[str, ...]:
        """The usernames a page shows to ``role``: its own."""
        return () if role == "public" else (NEWCOMER if role == "newcomer" else role,)

    def visit(self, role: str, lang: str, screen: str) -> Visit:
        key = (role, lang, screen)
        if key not in self._visits:
            context = self.browser.new_context(
                locale=LOCALES[lang],
                viewport=PHONE if screen == "phone" else DESKTOP,  # type: ignore[arg-type]
                is_mobile=screen == "phone",
                has_touch=screen == "phone",
                storage_state=self.state(role),  # type: ignore[arg-type]
            )
            # A page of this server answers in well under a second: ten
            # seconds is a fault, not a slow machine.
            context.set_default_timeout(10_000)
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=self.server.url)
            visit = Visit(context.new_page())
            visit.page.on(
                "console",
                lambda m: visit.problems.append(m.text) if m.type == "error" else None,
            )
            visit.page.on("pageerror", lambda e: visit.problems.append(str(e)))
            self._visits[key] = visit
        return self._visits[key]

    def close(self) -> None:
        for visit in self._visits.values():
            visit.page.context.close()
        self._visits.clear()


def cast_vote(page: Page, url: str, claim: str, reason: str = REASON) -> str:
    """Vote to approve ``claim`` through the juror's two forms; the path of
    the receipt page the server then shows."""
    page.goto(f"{url}/juror/claims/{claim}")
    page.locator("input[name=choice][value=approve]").check()
    page.locator("textarea[name=reason]").fill(reason)
    page.locator("main form[action$='/juror/vote'] button[type=submit]").click()
    page.locator("main form[action$='/juror/vote/cast'] button[type=submit]").click()
    page.wait_for_url("**/receipt")
    return page.url.removeprefix(url)
