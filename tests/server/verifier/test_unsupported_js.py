"""A browser whose WebCrypto has no Ed25519 gets no verdict on the log, not
a "bad signature": the checkpoint that verifies elsewhere is reported as
``unsupported``, in a page where ``crypto.subtle.importKey`` refuses
Ed25519 as such a browser does (``NotSupportedError``)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING

from tests.server.verifier.verifier_harness import python_outcome, run_in_page

if TYPE_CHECKING:
    from playwright.sync_api import Page

VECTORS = Path(__file__).resolve().parents[2] / "vectors"

NO_ED25519 = """() => {
  const importKey = crypto.subtle.importKey.bind(crypto.subtle);
  crypto.subtle.importKey = (format, data, algorithm, ...rest) =>
    (algorithm?.name ?? algorithm) === "Ed25519"
      ? Promise.reject(new DOMException("Unrecognized name", "NotSupportedError"))
      : importKey(format, data, algorithm, ...rest);
}"""


def test_a_browser_without_ed25519_gets_no_verdict(verifier_page: Page) -> None:
    data = json.loads((VECTORS / "generated-cosignature-and-tiles.json").read_text("utf-8"))
    note = data["checkpoint_with_log_sig_and_cosig"].encode("utf-8")
    case = {
        "kind": "checkpoint",
        "note": base64.b64encode(note).decode("ascii"),
        "vkey": data["keys"]["log"]["vkey"],
        "origin": data["keys"]["log"]["name"],
        "witnesses": [],
    }
    assert python_outcome(case)["verdict"] == "ok"
    assert run_in_page(verifier_page, [case])[0]["verdict"] == "ok"
    browser = verifier_page.context.browser
    assert browser is not None
    page = browser.new_page()
    try:
        page.goto(verifier_page.url)
        page.evaluate(NO_ED25519)
        got = run_in_page(page, [case])
    finally:
        page.close()
    assert got == [{"name": "checkpoint", "verdict": "unsupported", "value": None}]
