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

from tests.server.verifier.verifier_harness import LoopbackFiles

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture(scope="session")
def verifier_page(browser: Browser) -> Iterator[Page]:
    # The run's one browser (tests/conftest.py): Playwright's synchronous
    # API refuses a second driver while the browser suite's is open.
    with LoopbackFiles() as files:
        page = browser.new_page()
        try:
            page.goto(f"{files.url}/runner.js")
            yield page
        finally:
            page.close()
