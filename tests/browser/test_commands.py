"""The commands a member and a juror copy from their pages: each copy
button puts exactly its block's command on the clipboard, and running the
copied commands, one after the other, with the client of this checkout
(``--state`` in the test's tmp folder) verifies:

* the member's latest deduction, from the dashboard (trust, sync, fetch
  deduction, verify-deduction);
* an earlier period's deduction, from that period's statement (the key
  pinned as the dashboard shows, once);
* the juror's receipt, downloaded from the receipt page under the name the
  page gives (trust, verify-receipt);
* a claim's history, from its public page, after the first two commands of
  ``/verify`` (trust, sync, fetch claim, verify-claim).

The member and the juror read their pages in Chinese on a phone; the
client prints in English here (``LANG=C.UTF-8``), so ``VERIFIED`` is read
as is.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from tests.browser.browser_helpers import DemoServer, Visitors, command_blocks, run_copied


def _copy_all(visitors: Visitors, role: str, url: str) -> list[str]:
    """The page's commands, each copied by its button; the clipboard must
    hold exactly what its block shows, one command, no line break."""
    visit = visitors.visit(role, "zh", "phone")
    assert visit.goto(url) == 200
    blocks = command_blocks(visit.page)
    assert blocks, f"no command block on {url}"
    for shown, copied in blocks:
        assert copied == shown
        assert "\n" not in copied and copied.startswith("mutualog "), copied
    return [copied for _, copied in blocks]


def _run_all(commands: list[str], state: Path, cwd: Path) -> str:
    """Run each command in turn (each must succeed); the last one's output."""
    out = ""
    for command in commands:
        done = run_copied(command, state, cwd)
        out = done.stdout + done.stderr
        assert done.returncode == 0, f"{command}\n{out}"
    return out


def _subcommand(command: str) -> str:
    return shlex.split(command)[1]


def test_the_dashboard_commands_verify_the_latest_deduction(
    visitors: Visitors, demo: DemoServer, tmp_path: Path
) -> None:
    commands = _copy_all(visitors, "member", f"{demo.url}/dashboard")
    assert [_subcommand(c) for c in commands] == ["trust", "sync", "fetch", "verify-deduction"]
    out = _run_all(commands, tmp_path / "state", tmp_path)
    assert "VERIFIED" in out and "NOT VERIFIED" not in out, out


def test_a_statement_commands_verify_its_period(
    visitors: Visitors, demo: DemoServer, tmp_path: Path
) -> None:
    page = visitors.visit("member", "zh", "phone").page
    dashboard = _copy_all(visitors, "member", f"{demo.url}/dashboard")
    links = page.locator("a[href*='/dashboard/periods/']")
    assert links.count() > 1
    # The period before the one the dashboard checks (newest first).
    statement = str(links.nth(1).get_attribute("href"))
    commands = _copy_all(visitors, "member", demo.url + statement)
    period = statement.rstrip("/").rsplit("/", 1)[-1]
    assert all(f"--period {period}" in c for c in commands), commands
    assert [_subcommand(c) for c in commands] == ["fetch", "verify-deduction"]
    out = _run_all([dashboard[0], *commands], tmp_path / "state", tmp_path)
    assert "VERIFIED" in out and "NOT VERIFIED" not in out, out


def test_the_receipt_command_verifies_the_sealed_vote(
    visitors: Visitors, demo: DemoServer, receipt: str, tmp_path: Path
) -> None:
    commands = _copy_all(visitors, "juror", demo.url + receipt)
    page = visitors.visit("juror", "zh", "phone").page
    with page.expect_download() as download:
        page.locator("a[download]").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    trust, check = commands[0], commands[1]
    assert _subcommand(trust) == "trust"
    assert shlex.split(check)[1:] == ["verify-receipt", saved.name]
    out = _run_all([trust, check], tmp_path / "state", tmp_path)
    assert "VERIFIED" in out and "NOT VERIFIED" not in out, out


def test_a_claim_page_commands_verify_the_claim(
    visitors: Visitors, demo: DemoServer, tmp_path: Path
) -> None:
    # Anyone: the key pinned and the log synced as /verify shows, then the
    # two commands of a claim's public page (the first listed).
    setup = _copy_all(visitors, "public", f"{demo.url}/verify")
    assert [_subcommand(c) for c in setup[:2]] == ["trust", "sync"]
    claims = visitors.visit("public", "zh", "phone").page
    claims.goto(f"{demo.url}/pool/claims")
    claim = claims.locator("main a[href^='/pool/claims/']").first.get_attribute("href")
    commands = _copy_all(visitors, "public", f"{demo.url}{claim}")
    assert [_subcommand(c) for c in commands] == ["fetch", "verify-claim"]
    out = _run_all([*setup[:2], *commands], tmp_path / "state", tmp_path)
    assert "VERIFIED" in out and "NOT VERIFIED" not in out, out
