"""Fixtures of the verifier's equivalence tests.

``verifier_page``
    A page of Debian's Chromium (launched through Playwright with the
    browser suite's arguments, never a downloaded browser) open on a
    loopback server of ``server/verifier/js/`` and ``runner.js``
    (:class:`~tests.server.verifier.verifier_harness.LoopbackFiles`), for
    the whole test run.  Without Chromium or Playwright the tests are skipped
    locally and fail under ``CI=true``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.browser.browser_helpers import CHROMIUM, CHROMIUM_ARGS, require_browser
from tests.server.verifier.verifier_harness import LoopbackFiles

if TYPE_CHECKING:
    from playwright.sync_api import Page


@pytest.fixture(scope="session")
def verifier_page() -> Iterator[Page]:
    require_browser()
    from playwright.sync_api import sync_playwright

    with LoopbackFiles() as files, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{files.url}/runner.js")
            yield page
        finally:
            browser.close()
