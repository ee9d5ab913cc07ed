"""The check for touch targets finds a control under 44 px and a check box
apart from its label, and lets through links inside running text."""

# Chinese text uses full-width punctuation, on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.browser_helpers import small_targets

if TYPE_CHECKING:
    from playwright.sync_api import Browser

PAGE = """<!doctype html>
<html lang="zh-CN"><head><title>退出</title>
<style>
  body { font: 16px/1.55 sans-serif; width: 360px; }
  button, summary, nav a { display: block; min-height: 44px; min-width: 44px; }
  .row { display: flex; align-items: flex-start; gap: 8px; }
  .row label { display: block; min-height: 44px; padding: 9.6px 0; flex: 1; }
  .row input { width: 20px; height: 20px; margin: 12px 0 0; flex: none; }
  %s
</style></head>
<body>
  <nav><a href="/pool">互助计划</a></nav>
  <p>详见 <a href="/rules">规则</a>，或 <a href="/faq">常见问题</a>。</p>
  <details><summary>具体数字</summary><p>¥12.34</p></details>
  <div class="row"><input type="checkbox" id="c"><label for="c">我明白退出后不再受保障，
    过去的扣款保留在日志中，仍可以用客户端核验。</label></div>
  <input type="hidden" name="csrf_token" value="x">
  <button type="submit">退出互助计划</button>
  %s
</body></html>"""


def _found(browser: Browser, style: str = "", planted: str = "") -> list[str]:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.set_content(PAGE % (style, planted))
        return small_targets(page)
    finally:
        context.close()


def test_big_targets_and_inline_links_pass(browser: Browser) -> None:
    assert _found(browser) == []


@pytest.mark.parametrize(
    ("style", "planted", "found"),
    [
        ("", '<button class="tiny" style="all: unset">下一页</button>', "button.tiny"),
        ("summary { min-height: 0; }", "", "summary"),
        (
            ".row label { min-height: 0; padding: 0; }",
            '<div class="row"><input type="radio" id="r"><label for="r">批准</label></div>',
            "label",
        ),
        ("", '<p class="pager">第 1 页 <a href="?page=2">下一页</a></p>', "a"),
    ],
    ids=["button", "summary", "label", "pager-link"],
)
def test_a_small_target_is_caught(browser: Browser, style: str, planted: str, found: str) -> None:
    lines = _found(browser, style, planted)
    assert len(lines) == 1, lines
    assert lines[0].startswith(found) and " px" in lines[0], lines


def test_a_check_box_above_its_label_is_caught(browser: Browser) -> None:
    lines = _found(browser, ".row { display: block; } .row input { display: block; }")
    assert len(lines) == 1, lines
    assert lines[0].startswith("input#c") and "different lines" in lines[0], lines
