"""The verifier page, /verifier, on a phone (390x844) in Chinese and English:
a member's deduction checked against the demo's log, the same bundle
checked from a file with the network cut, a checkpoint that does not
extend the stored one refused with both shown, no serious or critical
axe-core violation, and no request to another host."""

from __future__ import annotations

import json
import re
import sqlite3
import urllib.request
from collections.abc import Iterator
from contextlib import closing
from html import unescape
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from server.verifier.build import page_bytes
from tests.browser.browser_helpers import (
    LOCALES,
    PHONE,
    DemoServer,
    Visitors,
    overflow,
    serious_violations,
    sign_in,
    small_targets,
)
from tests.server.verifier.pool_cases import receipts, simulated
from tests.server.verifier.receipt_bundle_cases import sealed_receipt, with_bundle
from verifiable.log.bodies import ClaimDecided
from verifiable.log.checkpoint import Checkpoint
from verifiable.log.cosignature import CosignatureSigner
from verifiable.log.note import Note
from verifiable.log.trust_text import TrustText

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

#: The page runs the bundle's own checks once verify.js is part of it;
#: before, it checks the log's steps and says the rest cannot be done yet.
BUNDLE_CHECKS = b"const m_js_verify = (() => {" in page_bytes()
RESULT = '#verdict[data-verdict]:not([data-verdict=""])'


@pytest.fixture(scope="module")
def deduction(browser: Browser, demo: DemoServer) -> tuple[str, str]:
    """The demo member's id and latest period, from the dashboard."""
    state = sign_in(browser, demo.url, "member", demo.passwords["member"])
    context = browser.new_context(storage_state=state)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        page.goto(f"{demo.url}/dashboard")
        command = page.locator("#cmd-fetch").inner_text()
        link = page.get_by_role("link", name="Check it on this phone")
        href = str(link.get_attribute("href"))
        page.goto(f"{demo.url}/dashboard/periods/{href.rsplit('=', 1)[1]}")
        on_statement = page.get_by_role("link", name="Check it on this phone").get_attribute("href")
    finally:
        context.close()
    found = re.search(r"--member (\S+) --period (\S+)", command)
    assert found, command
    # The dashboard's "check it yourself" opens the page with both filled in,
    # beside the commands, which stay; so does the period's statement.
    assert href == f"/verifier?member={found.group(1)}&period={found.group(2)}"
    assert on_statement == href
    return found.group(1), found.group(2)


class Phone:
    """A fresh phone (its own storage) in ``lang``, recording every request."""

    def __init__(self, browser: Browser, lang: str) -> None:
        self.context = browser.new_context(viewport=PHONE, locale=LOCALES[lang])  # type: ignore[arg-type]
        self.page: Page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, url: str) -> None:
        response = self.page.goto(url)
        assert response is not None and response.status == 200
        self.page.locator("body[data-ready=true]").wait_for()

    def pin_first_use(self) -> None:
        self.page.locator("#first-use").click()
        self.page.locator("#forget").wait_for(state="visible")

    def check(self) -> str:
        self.page.locator("#check").click()
        self.page.locator(RESULT).wait_for(timeout=60_000)
        return str(self.page.locator("#verdict").get_attribute("data-verdict"))

    def findings(self) -> dict[str, str]:
        items = self.page.locator("#findings li")
        return {
            str(items.nth(i).get_attribute("data-check")): str(
                items.nth(i).get_attribute("data-status")
            )
            for i in range(items.count())
        }

    def stored(self) -> dict[str, object]:
        text = self.page.evaluate("localStorage.getItem('mutualog.verifier.v1')")
        return dict(json.loads(str(text)))

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def phones(browser: Browser) -> Iterator[list[Phone]]:
    made: list[Phone] = []
    yield made
    for phone in made:
        phone.close()


def _only_own_host(phone: Phone, demo: DemoServer) -> None:
    own = urlsplit(demo.url).netloc
    elsewhere = [u for u in phone.requests if urlsplit(u).netloc not in (own, "")]
    assert not elsewhere, elsewhere


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_honest_deduction_is_checked_on_a_phone(
    browser: Browser,
    demo: DemoServer,
    deduction: tuple[str, str],
    phones: list[Phone],
    lang: str,
) -> None:
    member, period = deduction
    phone = Phone(browser, lang)
    phones.append(phone)
    phone.open(f"{demo.url}/verifier?member={member}&period={period}")
    page = phone.page
    assert page.evaluate("document.documentElement.lang") == ("zh-CN" if lang == "zh" else "en")
    assert page.locator("#member").input_value() == member
    assert page.locator("#period").input_value() == period
    first_use = page.locator("#first-use-note").inner_text()
    assert ("首次使用" in first_use) if lang == "zh" else ("First use" in first_use)
    phone.pin_first_use()
    verdict = phone.check()
    found = phone.findings()
    for name in ("signature", "witnesses", "consistency", "synced"):
        assert found.get(name) == "ok", found
    if BUNDLE_CHECKS:
        assert verdict == "VERIFIED", found
        assert {"checkpoint", "inclusion", "roster", "share"} <= set(found)
        word = page.locator(".verdict-word").inner_text()
        assert word == ("已核实" if lang == "zh" else "VERIFIED")
        assert "¥" in page.locator("#verdict .share").inner_text()
    else:
        assert verdict == "PENDING" and found["bundle"] == "pending", found
    names = page.locator("#findings .check-name").all_inner_texts()
    if lang == "zh":
        assert "见证方的联署" in names
    else:
        assert "the witnesses' cosignatures" in names
    stored = phone.stored()
    assert isinstance(stored["checkpoint"], dict) and stored["checkpoint"]["size"]
    assert overflow(page) == 0
    assert small_targets(page) == []
    assert serious_violations(page) == []
    assert phone.errors == []
    _only_own_host(phone, demo)


def test_with_the_network_cut_a_bundle_file_still_verifies(
    browser: Browser,
    demo: DemoServer,
    deduction: tuple[str, str],
    phones: list[Phone],
    tmp_path: Path,
) -> None:
    member, period = deduction
    phone = Phone(browser, "zh")
    phones.append(phone)
    phone.open(f"{demo.url}/verifier?member={member}&period={period}")
    phone.pin_first_use()
    online = phone.check()
    checkpoint = phone.stored()["checkpoint"]
    assert isinstance(checkpoint, dict)
    url = f"{demo.url}/api/v1/bundles/deduction?member={member}&period={period}"
    with urllib.request.urlopen(f"{url}&size={checkpoint['size']}", timeout=30) as response:
        bundle = tmp_path / "deduction.json"
        bundle.write_bytes(response.read())
    # From here on nothing leaves the phone.
    phone.page.route("**/*", lambda route: route.abort())
    before = len(phone.requests)
    phone.page.locator("label.mode", has=phone.page.locator("#mode-file")).click()
    phone.page.locator("#file").set_input_files(str(bundle))
    phone.page.evaluate("document.getElementById('verdict').dataset.verdict = ''")
    offline = phone.check()
    assert offline == online
    found = phone.findings()
    assert found["synced"] == "ok", found
    assert "signature" not in found  # the witnessed checkpoint could not be fetched
    if BUNDLE_CHECKS:
        assert offline == "VERIFIED", found
    tried = phone.requests[before:]
    assert all(u.startswith(demo.url) for u in tried), tried
    assert phone.errors == []


def test_a_checkpoint_that_does_not_extend_the_stored_one_is_refused(
    browser: Browser, demo: DemoServer, deduction: tuple[str, str], phones: list[Phone]
) -> None:
    member, period = deduction
    phone = Phone(browser, "en")
    phones.append(phone)
    phone.open(f"{demo.url}/verifier?member={member}&period={period}")
    phone.pin_first_use()
    trust = phone.stored()
    # A phone that once accepted a larger tree: the log now shown is not it.
    planted = {"size": "999999999", "root": "ab" * 32, "note": "a checkpoint seen before\n"}
    trust["checkpoint"] = planted
    phone.page.evaluate(
        "t => localStorage.setItem('mutualog.verifier.v1', JSON.stringify(t))", trust
    )
    phone.open(f"{demo.url}/verifier?member={member}&period={period}")
    assert phone.check() == "FAILED"
    assert phone.findings()["consistency"] == "FAIL"
    refused = phone.page.locator("#refused")
    assert "does not extend" in refused.inner_text()
    boxes = refused.locator(".checkpoint-text").all_inner_texts()
    assert len(boxes) == 2
    assert boxes[0].strip() == planted["note"].strip()
    assert boxes[1].startswith("localhost/") and "\n— " in boxes[1]
    assert phone.stored()["checkpoint"] == planted  # the stored one is kept
    assert serious_violations(phone.page) == []
    _only_own_host(phone, demo)


def test_a_claim_and_a_vote_receipt_verify(
    browser: Browser,
    demo: DemoServer,
    visitors: Visitors,
    receipt: str,
    phones: list[Phone],
    tmp_path: Path,
) -> None:
    phone = Phone(browser, "zh")
    phones.append(phone)
    phone.open(f"{demo.url}/verifier?claim={demo.voting_claim}")
    assert phone.page.locator("#mode-claim").is_checked()
    phone.pin_first_use()
    verdict = phone.check()
    found = phone.findings()
    assert verdict == "VERIFIED", found
    assert {"claim filed", "notice", "panel", "stage"} <= set(found)
    # The juror's receipt, downloaded from the receipt page and chosen as a file.
    juror = visitors.visit("juror", "zh", "phone").page
    download = juror.request.get(f"{demo.url}{receipt}.json")
    assert download.ok
    kept = tmp_path / "receipt.json"
    kept.write_bytes(download.body())
    phone.page.locator("label.mode", has=phone.page.locator("#mode-file")).click()
    phone.page.locator("#file").set_input_files(str(kept))
    assert phone.page.locator("#file-name").inner_text() == "receipt.json"
    verdict = phone.check()
    found = phone.findings()
    # Online, the page checks the receipt against the log through the
    # claim's bundle: the round is still voting, so no reveal to match yet.
    assert verdict == "PENDING", found
    assert found["synced"] == "ok" and found["commitment"] == "ok", found
    assert found["log checkpoint"] == "ok" and found["consistency"] == "ok", found
    assert (found["reveal"], found["tally"]) == ("pending", "pending"), found
    # The receipt and its claim's bundle chosen together, as a juror offline would.
    since = json.loads(kept.read_text())["tree_size"]
    bundle = juror.request.get(f"{demo.url}/api/v1/bundles/claim/{demo.voting_claim}?since={since}")
    assert bundle.ok
    claim_file = tmp_path / "claim.json"
    claim_file.write_bytes(bundle.body())
    phone.page.locator("#file").set_input_files([str(kept), str(claim_file)])
    assert phone.page.locator("#file-name").inner_text() == "receipt.json, claim.json"
    assert phone.check() == "PENDING"
    found = phone.findings()
    assert found["log checkpoint"] == "ok" and found["consistency"] == "ok", found
    assert phone.errors == []
    _only_own_host(phone, demo)


def test_a_later_checkpoint_is_proven_to_extend_the_stored_one(
    browser: Browser, demo: DemoServer, deduction: tuple[str, str], phones: list[Phone]
) -> None:
    # The first checkpoint the demo's log signed, as a phone that checked
    # back then would have stored it.
    database = demo.instance / "mutualog.db"
    with closing(sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)) as conn:
        size, note = conn.execute(
            "SELECT size, note FROM checkpoints ORDER BY size LIMIT 1"
        ).fetchone()
    checkpoint = Checkpoint.from_text(Note.from_bytes(bytes(note)).text)
    earlier = {"size": str(size), "root": checkpoint.root_hash.hex(), "note": bytes(note).decode()}
    member, period = deduction
    phone = Phone(browser, "en")
    phones.append(phone)
    phone.open(f"{demo.url}/verifier?member={member}&period={period}")
    phone.pin_first_use()
    trust = phone.stored()
    trust["checkpoint"] = earlier
    phone.page.evaluate(
        "t => localStorage.setItem('mutualog.verifier.v1', JSON.stringify(t))", trust
    )
    phone.open(f"{demo.url}/verifier?member={member}&period={period}")
    assert phone.check() == "VERIFIED"
    assert phone.findings()["consistency"] == "ok"
    detail = str(phone.page.locator("[data-check=consistency] .detail-text").text_content())
    assert f"size {size} -> " in detail
    stored = phone.stored()["checkpoint"]
    assert isinstance(stored, dict) and int(stored["size"]) > size
    assert any("/api/v1/proof/consistency?old=" in u for u in phone.requests)


def test_a_saved_copy_checks_chosen_files_with_its_own_storage(
    browser: Browser,
    demo: DemoServer,
    deduction: tuple[str, str],
    phones: list[Phone],
    tmp_path: Path,
) -> None:
    member, period = deduction
    with urllib.request.urlopen(f"{demo.url}/api/v1/log", timeout=30) as response:
        log = json.load(response)
    url = f"{demo.url}/api/v1/bundles/deduction?member={member}&period={period}"
    with urllib.request.urlopen(url, timeout=30) as response:
        bundle = json.load(response)
    saved = tmp_path / "verifier.html"
    saved.write_bytes(page_bytes())
    honest = tmp_path / "deduction.json"
    honest.write_text(json.dumps(bundle))
    proof = bundle["deduction"]["roster_proof"]
    proof[0] = ("0" if proof[0][0] != "0" else "1") + proof[0][1:]
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(bundle))
    phone = Phone(browser, "zh")
    phones.append(phone)
    phone.open(saved.as_uri())
    page = phone.page
    # No server behind a saved copy: no first use; the key is typed.
    assert page.locator("#first-use").is_hidden()
    page.locator("#typed-key").fill(str(log["verifier_key"]))
    page.locator("#save-key").click()
    page.locator("#forget").wait_for(state="visible")
    page.locator("label.mode", has=page.locator("#mode-file")).click()
    page.locator("#file").set_input_files(str(honest))
    assert phone.check() == "VERIFIED", phone.findings()
    assert phone.findings()["synced"] == "skip"  # nothing stored to compare with
    page.locator("#file").set_input_files(str(tampered))
    assert phone.check() == "FAILED"
    assert phone.findings()["roster"] == "FAIL"
    assert "您在本期的会员名单上" in page.locator(".verdict-note").inner_text()
    assert all(u.startswith("file://") for u in phone.requests), phone.requests


def test_a_trust_text_pins_the_witnesses_and_k(
    browser: Browser,
    demo: DemoServer,
    deduction: tuple[str, str],
    phones: list[Phone],
) -> None:
    """An auditor's trust text, pasted, pins the key, the witnesses and K as
    first use does, and every checkpoint is held to them; a witness that did
    not cosign fails 'witnesses'; a text that does not read is refused and
    nothing is stored; a bare key pins no witness, and the page says so."""
    member, period = deduction
    with urllib.request.urlopen(f"{demo.url}/api/v1/log", timeout=30) as response:
        log = json.load(response)
    witness = str(log["witnesses"][0]["verifier_key"])
    origin, key = str(log["origin"]), str(log["verifier_key"])
    honest = TrustText(origin, key, (witness,), 1).to_text()
    # The text the pool's public log page publishes to copy (and as a QR code).
    with urllib.request.urlopen(f"{demo.url}/log", timeout=30) as response:
        published = re.search(r'<code id="trust-text">([^<]*)</code>', response.read().decode())
    assert published and unescape(published[1]) == honest
    stranger = CosignatureSigner("another-witness.example", bytes(range(32))).verifier()
    absent = TrustText(origin, key, (stranger.to_vkey(),), 1).to_text()
    url = f"{demo.url}/verifier?member={member}&period={period}"

    def pasted(lang: str, text: str) -> Phone:
        phone = Phone(browser, lang)
        phones.append(phone)
        phone.open(url)
        phone.page.locator("#typed-key").fill(text)
        phone.page.locator("#save-key").click()
        phone.page.locator("#pin-message:not([hidden])").wait_for()
        return phone

    phone = pasted("en", honest)
    assert phone.stored()["witnesses"] == [witness] and phone.stored()["required"] == 1
    assert "Witnesses required: 1 of 1." in phone.page.locator("#pin-status").inner_text()
    assert phone.check() == "VERIFIED", phone.findings()
    assert phone.findings()["witnesses"] == "ok"
    assert overflow(phone.page) == 0 and small_targets(phone.page) == []
    assert serious_violations(phone.page) == []

    phone = pasted("zh", absent)
    assert phone.check() == "FAILED"
    found = phone.findings()
    assert found["signature"] == "ok" and found["witnesses"] == "FAIL", found

    for lang, words in (("en", "cannot be read, and nothing was saved"), ("zh", "无法读取")):
        phone = pasted(lang, honest.replace("required 1", "required 2"))
        message = phone.page.locator("#pin-message").inner_text()
        assert words in message and "2 witnesses required, but 1" in message, message
        assert phone.page.evaluate("localStorage.getItem('mutualog.verifier.v1')") is None
        assert phone.page.locator("#forget").is_hidden()

    phone = pasted("en", key)
    assert phone.stored()["witnesses"] == [] and phone.stored()["required"] == 0
    assert "no witness is pinned" in phone.page.locator("#pin-message").inner_text()
    assert "No witness is pinned" in phone.page.locator("#pin-status").inner_text()
    for p in phones:
        assert p.errors == []
        _only_own_host(p, demo)


#: A camera and a QR reader for a phone whose browser has none here: the
#: stream is a canvas's, and the reader "sees" the text the test sets.
FAKE_SCANNER = """
window.BarcodeDetector = class {
  constructor(options) { this.formats = options.formats; }
  async detect() { return window.scannedText ? [{ rawValue: window.scannedText }] : []; }
};
navigator.mediaDevices.getUserMedia = async () => {
  const canvas = document.createElement("canvas");
  canvas.getContext("2d").fillRect(0, 0, 10, 10);
  return canvas.captureStream(5);
};
"""


def test_a_scanned_trust_text_pins_the_witnesses(
    browser: Browser,
    demo: DemoServer,
    deduction: tuple[str, str],
    phones: list[Phone],
) -> None:
    """The scan button reads a QR code into the same field: the trust text it
    holds pins the key, the witnesses and K, and the deduction verifies."""
    member, period = deduction
    with urllib.request.urlopen(f"{demo.url}/api/v1/log", timeout=30) as response:
        log = json.load(response)
    witness = str(log["witnesses"][0]["verifier_key"])
    text = TrustText(str(log["origin"]), str(log["verifier_key"]), (witness,), 1).to_text()
    phone = Phone(browser, "zh")
    phones.append(phone)
    phone.page.add_init_script(FAKE_SCANNER)
    phone.open(f"{demo.url}/verifier?member={member}&period={period}")
    page = phone.page
    page.locator("#scan").click()
    page.locator("#scan-video").wait_for(state="visible")
    page.evaluate("text => { window.scannedText = text; }", text)
    # Once a code is read the camera stops and the text is in the field.
    page.locator("#scan-video").wait_for(state="hidden")
    assert page.locator("#typed-key").input_value() == text.strip()
    page.locator("#save-key").click()
    page.locator("#forget").wait_for(state="visible")
    assert phone.stored()["witnesses"] == [witness] and phone.stored()["required"] == 1
    assert phone.check() == "VERIFIED", phone.findings()
    assert phone.findings()["witnesses"] == "ok"
    assert phone.errors == []
    _only_own_host(phone, demo)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_decided_rounds_receipt_verifies_with_its_claims_bundle(
    browser: Browser, phones: list[Phone], tmp_path: Path, lang: str
) -> None:
    """A juror offline with a saved copy of the page: the receipt handed out
    when the vote was sealed and the claim's bundle after the round was
    decided, chosen together, prove the reveal and the tally: VERIFIED."""
    log = simulated()
    bodies = [e.body for e in log.decoded]
    decided = {(b.claim, b.round) for b in bodies if isinstance(b, ClaimDecided)}
    honest = next(r for r in receipts(log) if (r.claim, r.round) in decided)
    case = with_bundle(log, sealed_receipt(log, honest))
    receipt, claim = tmp_path / "receipt.json", tmp_path / "claim.json"
    receipt.write_text(case["args"]["receiptText"])
    claim.write_text(case["args"]["bundleText"])
    saved = tmp_path / "verifier.html"
    saved.write_bytes(page_bytes())
    phone = Phone(browser, lang)
    phones.append(phone)
    phone.open(saved.as_uri())
    page = phone.page
    page.locator("#typed-key").fill(log.vkey)
    page.locator("#save-key").click()
    page.locator("#forget").wait_for(state="visible")
    page.locator("label.mode", has=page.locator("#mode-file")).click()
    page.locator("#file").set_input_files([str(receipt), str(claim)])
    assert phone.check() == "VERIFIED", phone.findings()
    found = phone.findings()
    assert (found["reveal"], found["tally"], found["consistency"]) == ("ok", "ok", "ok"), found
    word = page.locator("#verdict").inner_text()
    assert ("已核实" if lang == "zh" else "VERIFIED") in word
    assert phone.errors == [] and all(u.startswith("file://") for u in phone.requests)
