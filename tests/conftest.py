"""Settings for the whole suite.

Under CI (``CI=true``) hypothesis runs derandomized: every property test
draws the same examples on every run, so CI's verdict is repeatable and a
green local run with ``CI=true`` predicts CI's.  Local runs stay random,
which is where new counterexamples are found.

``browser`` is Debian's Chromium, launched once through Playwright for the
whole run and shared by every suite that drives it (``tests/browser/``, the
verifier's equivalence tests in ``tests/server/verifier/``): Playwright's
synchronous API runs one driver per process, and a second one started
while the first is open refuses to run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

from tests.browser.browser_helpers import CHROMIUM, CHROMIUM_ARGS, require_browser

if TYPE_CHECKING:
    from playwright.sync_api import Browser

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI", "").lower() == "true":
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
