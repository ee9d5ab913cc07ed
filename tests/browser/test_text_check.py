"""The check for untranslated text catches English left on a Chinese page,
and lets through what a Chinese page shows as it is (ids, hashes,
commands, URLs, numbers, the product's name)."""

# Chinese text uses full-width punctuation, on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.browser_helpers import RENDERED_TEXT_JS, untranslated

if TYPE_CHECKING:
    from playwright.sync_api import Browser

AS_IS = [
    "成员编号 3f2a9c0e1b7d4e6f8a9b0c1d2e3f4a5b",
    "哈希 dcb47cb0e60927abb4cc8e0f610571550d00c36e0c2dbf61f7b0ac57c5ec5bd5",
    "验证密钥 localhost/mutualog/demo+4b5f0c1a+AQx7Yh3kq9Pz0lVn2mB8sT4uW6yE1rD5fG7hJ9kL0aS=",
    "本期每人分摊金额 ¥1,234.56，共 1,000,000 名成员",
    "截止 2025-04-20 10:39 UTC",
    "mutualog 的公开日志：https://pool.example.org/mutualog/pool?size=7434",
    "见 /pool/claims/f0d998015d9c9291b5d55240cacbedcd",
    "条目 claim.filed #7215 与 vote.sealed #7418",
    "下载 receipt-f0d998015d9c9291b5d55240cacbedcd-1.json 后运行命令",
    "按 RFC 9162 的 Merkle 树？",  # "Merkle" is not allowed: see below
    "证件 PDF 或 JPEG；Ed25519 签名；C2SP 检查点；ID 号",
    "第 3 期 A 类",
]


def test_what_a_chinese_page_shows_as_it_is_passes() -> None:
    found = untranslated(AS_IS)
    # Only the planted proper noun: the allow-list is a list, not a pattern.
    assert found == ["'按 RFC 9162 的 Merkle 树？': Merkle"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("请先登录。Please sign in to continue.", "Please sign in to continue"),
        ("提交时间 Filed", "Filed"),
        ("类别：other_serious", "other serious"),
        ("阶段 voting", "voting"),
        ("You're signed out", "You're signed out"),
        ("mutualog Sign in", "Sign in"),
    ],
    ids=["sentence", "word", "code", "stage", "apostrophe", "after-the-name"],
)
def test_english_left_on_a_chinese_page_is_found(text: str, words: str) -> None:
    assert untranslated([text]) == [f"{text!r}: {words}"]


def test_a_username_is_what_its_owner_typed() -> None:
    assert untranslated(["已登录：member"], names=["member"]) == []
    assert untranslated(["已登录：member"]) == ["'已登录：member': member"]


PLANTED = """<!doctype html>
<html lang="zh-CN"><head><title>互助池 · mutualog</title></head>
<body>
  <h1>互助池</h1>
  <p>每人分摊金额 <strong>¥12.34</strong>，成员编号 <span>3f2a9c0e1b7d4e6f</span>。</p>
  <pre><code>mutualog verify-deduction --member 3f2a --period 2025-04-21</code></pre>
  <p>运行 <code>mutualog sync http://127.0.0.1:8000/</code> 即可。</p>
  <blockquote>A member aged 18-39 asks for aid for cancer.</blockquote>
  <ul><li><a href="/lang/en" lang="en">English</a></li></ul>
  <p translate="no">Zhang Wei</p>
  <svg role="img" aria-label="每期分摊"><text x="0" y="10">分摊</text></svg>
  <p>%s</p>
  <img alt="%s" src="data:,">
  <input type="submit" value="%s">
</body></html>"""


def _rendered(browser: Browser, planted: tuple[str, str, str]) -> list[str]:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content(PLANTED % planted)
        return [str(t) for t in page.evaluate(RENDERED_TEXT_JS)]
    finally:
        context.close()


def test_the_rendered_text_skips_code_quotes_and_other_languages(browser: Browser) -> None:
    texts = _rendered(browser, ("一切正常。", "图表", "提交"))
    assert "互助池 · mutualog" in texts
    assert "每期分摊" in texts
    assert "分摊" in texts
    assert untranslated(texts) == []
    assert not any("verify-deduction" in t or "aged" in t or "English" in t for t in texts)


@pytest.mark.parametrize(
    ("planted", "words"),
    [
        (
            ("Your share this period is shown below.", "图表", "提交"),
            "Your share this period is shown below",
        ),
        (("一切正常。", "A chart of shares", "提交"), "chart of shares"),
        (("一切正常。", "图表", "Submit"), "Submit"),
    ],
    ids=["text", "alt", "button"],
)
def test_a_planted_english_sentence_is_caught(
    browser: Browser, planted: tuple[str, str, str], words: str
) -> None:
    found = untranslated(_rendered(browser, planted))
    assert len(found) == 1
    assert found[0].endswith(words), found
