"""A real browser against a fresh server: Debian's Chromium, driven by
Playwright, registers, signs out and in, and sees the dashboard; on a pool
just started, a member joins and files a claim with a document.

Each test's server runs as ``mutualog-server serve`` in a subprocess on a
free port of 127.0.0.1 with its instance in the test's tmp folder (an empty
instance, not the suite's demo), and is stopped by its pid.  The browser is
the session's one Chromium (``conftest.browser``); the pages are read in
English (the context's locale).  The screenshots land in the tmp folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.browser_helpers import LOCALES, free_port, require_browser, tool

if TYPE_CHECKING:
    from playwright.sync_api import Browser

PASSWORD = "correct horse battery"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The URL of a freshly initialized server, stopped afterwards by its pid."""
    require_browser()
    command = tool("mutualog-server")
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUTUALOG_")}
    # Plain http on loopback: the session cookie cannot be Secure here.
    env["MUTUALOG_SECURE_COOKIES"] = "false"
    subprocess.run(
        [command, "--instance", str(instance), "init", "--origin", "example.org/mutualog/browser"],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [command, "--instance", str(instance), "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/login", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"the server did not start: {(tmp_path / 'server.log').read_text()}")
            time.sleep(0.1)
        yield url
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.close()


def test_register_sign_in_and_see_the_dashboard(
    browser: Browser, server: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(locale=LOCALES["en"])
    try:
        page = context.new_page()
        problems: list[str] = []
        # Refused forms answer 400 by design; anything else the console
        # reports (a policy violation, a missing file) is a fault.
        page.on(
            "console",
            lambda m: (
                problems.append(m.text)
                if m.type == "error" and "status of 400" not in m.text
                else None
            ),
        )
        page.on("pageerror", lambda e: problems.append(str(e)))

        page.goto(f"{server}/")
        expect(page.get_by_role("heading", level=1)).to_have_text("A mutual-aid pool you can check")
        page.get_by_role("link", name="Create an account").click()

        # A first attempt with passwords that differ is refused, in the page.
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Repeat the password").fill(PASSWORD + "!")
        page.get_by_role("button", name="Create the account").click()
        expect(page.get_by_text("The two passwords differ.")).to_be_visible()

        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Repeat the password").fill(PASSWORD)
        page.get_by_role("button", name="Create the account").click()
        # Registering does not sign in: the answer is the same for a taken name.
        expect(page).to_have_url(f"{server}/login")
        expect(page.get_by_text("If the username alice was free, it is now yours")).to_be_visible()
        page.screenshot(path=str(tmp_path / "registered.png"), full_page=True)
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{server}/dashboard")
        expect(page.get_by_role("heading", level=1)).to_have_text("My dashboard")

        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_text("You are signed out.")).to_be_visible()
        page.goto(f"{server}/dashboard")
        expect(page).to_have_url(f"{server}/login?next=/dashboard")

        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill("a wrong password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{server}/dashboard")
        expect(page.get_by_text("Signed in as alice")).to_be_visible()
        expect(page.get_by_role("heading", name="Membership")).to_be_visible()

        # The stylesheet loaded under the Content-Security-Policy.
        accent = page.locator(".site-header").evaluate("e => getComputedStyle(e).borderBottomStyle")
        assert accent == "solid"
        shot = tmp_path / "dashboard.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 1000
        assert problems == [], problems
    finally:
        context.close()


def _start_pool(instance: Path) -> None:
    """Append the genesis rulebook to the server's log, from this process."""
    from server import create_app
    from server.pool_app import current_pool
    from tests.server.pool_helpers import RULES

    app = create_app({"MUTUALOG_INSTANCE": instance, "MUTUALOG_SECURE_COOKIES": False})
    try:
        with app.app_context():
            current_pool().start(RULES)
    finally:
        app.extensions["mutualog"].engine.dispose()


def test_a_member_joins_and_files_a_claim_with_a_document(
    browser: Browser, server: str, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from playwright.sync_api import expect

    _start_pool(tmp_path / "instance")
    report = tmp_path / "discharge.pdf"
    report.write_bytes(b"%PDF-1.4 discharge summary")
    context = browser.new_context(locale=LOCALES["en"])
    try:
        page = context.new_page()
        page.goto(f"{server}/register")
        page.get_by_label("Username").fill("bob")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Repeat the password").fill(PASSWORD)
        page.get_by_role("button", name="Create the account").click()
        page.get_by_label("Username").fill("bob")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("main").get_by_role("link", name="Join the pool").click()
        page.get_by_label("Full name").fill("Zhang Wei")
        page.get_by_label("Resident ID number").fill("110105199003070025")
        page.get_by_label("Mobile number").fill("+86 138 1234 5678")
        page.get_by_role("button", name="Join the pool").click()
        expect(page.get_by_text("Your pseudonymous member id is")).to_be_visible()
        expect(page.get_by_text("in the age band 18 to 39")).to_be_visible()

        page.get_by_role("main").get_by_role("link", name="File a claim").click()
        page.get_by_label("Illness category").select_option("cancer")
        page.get_by_label("Amount requested (yuan)").fill("52000.50")
        page.get_by_label("Date of diagnosis").fill(datetime.now(UTC).date().isoformat())
        page.get_by_label("Evidence documents").set_input_files(str(report))
        page.get_by_label("I consent, separately,").check()
        page.get_by_role("button", name="File the claim").click()
        expect(page).to_have_url(f"{server}/dashboard")
        claims = page.locator("section", has=page.get_by_role("heading", name="My claims"))
        expect(claims.get_by_role("listitem")).to_contain_text("¥52,000.50")
        expect(claims.get_by_role("listitem")).to_contain_text("filed")
        page.screenshot(path=str(tmp_path / "claim-filed.png"), full_page=True)
    finally:
        context.close()
