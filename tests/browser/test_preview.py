"""The operator's preview of a text before it goes into the permanent log,
in a real browser: on a phone and a laptop, in both languages, the preview
passes every page's checks (no sideways scrolling, no English left on a
Chinese page, 44 px targets, no serious accessibility failure), shows the
text exactly as typed, and goes back to the form with it; a text holding a
mobile number is refused at its field, in the page's language.  Nothing is
published: the demo stays as the other tests expect it."""

from __future__ import annotations

import pytest

from tests.browser.browser_helpers import DemoServer, Visitors, problems_on

#: A clean reason: a claim id of the log and a date, nothing private.
REASON = "会员 0123456789abcdef0123456789abcdef 的申请已于 2026-03-14 按规则复核。"
FORM = "main form[action$='/operator/override']"


def _fill(visitors: Visitors, demo: DemoServer, lang: str, screen: str, reason: str) -> None:
    visit = visitors.visit("operator", lang, screen)
    assert visit.goto(f"{demo.url}/operator/override") == 200
    page = visit.page
    page.locator(f"{FORM} input[name=action]").fill("note")
    page.locator(f"{FORM} input[name=target]").fill("rules")
    page.locator(f"{FORM} textarea[name=reason]").fill(reason)
    page.locator(f"{FORM} button[type=submit]").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("screen", ["phone", "desktop"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_override_is_shown_as_the_log_will_hold_it_before_it_is_logged(
    visitors: Visitors, demo: DemoServer, lang: str, screen: str
) -> None:
    _fill(visitors, demo, lang, screen, REASON)
    visit = visitors.visit("operator", lang, screen)
    page = visit.page
    assert page.locator("main pre").inner_text() == REASON
    assert page.locator("main form[action$='/operator/override/confirm']").count() == 1
    assert problems_on(page, lang, visitors.names("operator")) == []
    assert visit.problems == []
    page.locator("main button[name=edit]").click()
    page.wait_for_load_state()
    assert page.locator("main textarea[name=reason]").input_value() == REASON


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("zh", "第 5 个字符起像是一个手机号"),
        ("en", "Character 5 starts what looks like a mobile phone number"),
    ],
)
def test_a_mobile_number_is_refused_at_its_field(
    visitors: Visitors, demo: DemoServer, lang: str, said: str
) -> None:
    _fill(visitors, demo, lang, "phone", "请联系 139 1234 5678。")
    page = visitors.visit("operator", lang, "phone").page
    assert said in page.locator("main").inner_text()
    assert page.locator("main pre").count() == 0
