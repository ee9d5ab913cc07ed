"""Fixtures of the browser suite: ONE demo server and ONE browser for the
whole session (see ``browser_helpers``).

``demo``
    The running demo (:class:`DemoServer`): built once with ``mutualog-server
    demo --members 500 --port PORT`` in the session's tmp folder, stopped by
    its pid at the end.
``browser``
    Debian's Chromium, launched once through Playwright (``tests/conftest.py``:
    the verifier's equivalence tests share it).
``visitors``
    :class:`Visitors`: one context and page per (role, language, screen),
    reused by every test that asks for the same.
``receipt``
    The path of the demo juror's receipt page: the juror votes on the open
    claim, in Chinese on a phone, the first time it is asked for.

The tests share the demo and some of them change it (a vote, a new member,
the demo's clock moved on), so the suite runs in a fixed order, whatever
order the files are named in: the check's own tests, every page (the
juror's vote form before the receipt), the commands, the member's path.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.browser_helpers import (
    DemoServer,
    Visitors,
    cast_vote,
    require_browser,
    start_demo,
    stop,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    require_browser()
    server = start_demo(tmp_path_factory.mktemp("browser-demo"))
    try:
        yield server
    finally:
        stop(server)


@pytest.fixture(scope="session")
def visitors(browser: Browser, demo: DemoServer) -> Iterator[Visitors]:
    kept = Visitors(browser, demo)
    try:
        yield kept
    finally:
        kept.close()


@pytest.fixture(scope="session")
def receipt(visitors: Visitors, demo: DemoServer) -> str:
    visit = visitors.visit("juror", "zh", "phone")
    return cast_vote(visit.page, demo.url, demo.voting_claim)


#: The browser suite's files, in the order they run.
ORDER = (
    "test_text_check.py",
    "test_fresh_instance.py",
    "test_pages.py",
    "test_commands.py",
    "test_member_journey.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    slots = [i for i, item in enumerate(items) if item.path.parent == here]

    def rank(i: int) -> tuple[int, int]:
        name = items[i].path.name
        return (ORDER.index(name) if name in ORDER else len(ORDER), i)

    ordered = [items[i] for i in sorted(slots, key=rank)]
    for slot, item in zip(slots, ordered, strict=True):
        items[slot] = item
