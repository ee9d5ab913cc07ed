"""One member's path, end to end, in Chinese on a phone (390x844):
register, join, read the dashboard's chart and the statement of their
first period, copy the commands and run them: VERIFIED.

A member who has just joined has no deduction yet: their first is the
period whose roster is fixed at the next notice, and it exists once the
operator closes that period.  So, between joining and reading, the
operator (also in Chinese on a phone) moves the demo's clock to the next
deadline, again and again, and closes each period due, through its
confirmation step, until the new member has a statement (bounded: at most
:data:`STEPS` moves).  This is the last test of the suite: it moves the
shared demo's clock.

Every page on the way is checked as the matrix checks a page (no sideways
scrolling, Chinese only, no serious accessibility violation).
"""

from __future__ import annotations

import shlex
from pathlib import Path

from tests.browser.browser_helpers import (
    LOCALES,
    PHONE,
    DemoServer,
    Visitors,
    command_blocks,
    problems_on,
    run_copied,
)

USERNAME = "lihua"
PASSWORD = "correct horse battery"
STEPS = 40


def _checked(page: object, names: tuple[str, ...] = ()) -> None:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    problems = problems_on(page, "zh", names)
    assert not problems, f"{page.url}:\n" + "\n".join(problems)


def test_a_member_registers_joins_reads_and_verifies_in_chinese_on_a_phone(
    visitors: Visitors, demo: DemoServer, tmp_path: Path
) -> None:
    context = visitors.browser.new_context(
        locale=LOCALES["zh"], viewport=PHONE, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(10_000)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=demo.url)
    try:
        page = context.new_page()
        me = (USERNAME,)

        page.goto(f"{demo.url}/register")
        _checked(page)
        page.locator("input[name=username]").fill(USERNAME)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("input[name=confirm]").fill(PASSWORD)
        page.locator("main form button[type=submit]").click()
        # Registering does not sign in (its answer must not tell a taken name).
        page.wait_for_url(f"{demo.url}/login")
        _checked(page, me)
        page.locator("input[name=username]").fill(USERNAME)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(f"{demo.url}/dashboard")
        _checked(page, me)

        page.locator("main a[href='/join']").first.click()
        page.wait_for_url(f"{demo.url}/join")
        _checked(page, me)
        page.locator("input[name=name]").fill("李华")
        page.locator("input[name=id_number]").fill("110105199003070025")
        page.locator("input[name=phone]").fill("13812345678")
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(f"{demo.url}/dashboard")
        _checked(page, me)
        assert page.locator("a[href*='/dashboard/periods/']").count() == 0

        _close_my_first_period(visitors, demo, page)

        # The dashboard: what I paid, as a chart with its numbers in a table.
        page.goto(f"{demo.url}/dashboard")
        _checked(page, me)
        chart = page.locator("main svg")
        assert chart.count() >= 1
        assert page.locator("main table").count() >= 1
        statements = page.locator("a[href*='/dashboard/periods/']")
        assert statements.count() == 1

        # The statement of my first period, and its check: the same two
        # commands as the dashboard's for its latest period, each copied
        # exactly as shown; run after the dashboard's trust and sync.
        dashboard = command_blocks(page)
        statements.first.click()
        page.wait_for_url("**/dashboard/periods/*")
        _checked(page, me)
        period = page.url.rsplit("/", 1)[-1]
        statement = command_blocks(page)
        assert all(copied == shown for shown, copied in dashboard + statement)
        commands = [copied for _, copied in statement]
        assert commands == [copied for _, copied in dashboard[2:]]
        assert all(f"--period {period}" in c for c in commands), commands
        assert [shlex.split(c)[1] for c in commands] == ["fetch", "verify-deduction"]
        state = tmp_path / "state"
        for command in [dashboard[0][1], dashboard[1][1], *commands]:
            done = run_copied(command, state, tmp_path, lang="zh_CN.UTF-8")
            assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"
        # The verdict in the client's own word (its exit status, 0, above).
        verify = run_copied(commands[-1], state, tmp_path)
        assert verify.returncode == 0 and "VERIFIED" in verify.stdout, verify.stdout
    finally:
        context.close()


def _close_my_first_period(visitors: Visitors, demo: DemoServer, member: object) -> None:
    """The operator moves the demo's clock and closes the periods due until
    the member (whose page is ``member``) has a deduction."""
    from playwright.sync_api import Page

    assert isinstance(member, Page)
    operator = visitors.visit("operator", "zh", "phone").page
    for _ in range(STEPS):
        operator.goto(f"{demo.url}/operator/")
        close = operator.locator("main form[action$='/operator/period/close'] button")
        if close.count():
            close.first.click()
            operator.wait_for_url("**/operator/period/close")
            _checked(operator, ("operator",))
            operator.locator("main form[action$='/period/close/confirm'] button").first.click()
            operator.wait_for_url(f"{demo.url}/operator/")
            member.goto(f"{demo.url}/dashboard")
            if member.locator("a[href*='/dashboard/periods/']").count():
                return
            continue
        step = operator.locator("button[name=step][value=deadline]")
        if not step.count():
            step = operator.locator("button[name=step][value=day]")
        step.click()
        operator.wait_for_load_state()
    raise AssertionError(f"no period of the new member was closed in {STEPS} moves")
