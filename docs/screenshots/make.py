"""Take the screenshots of docs/screenshots/: the main pages in Chinese on a
phone (390x844), as a member, a juror and the operator see them.

    .venv/bin/python docs/screenshots/make.py            # from the repository root

Builds a demo of 10,000 founding members in a temporary folder and serves
it on a free loopback port (the browser suite's harness,
``tests/browser/browser_helpers.py``), drives Debian's Chromium
(/usr/bin/chromium) with Playwright, and writes one PNG per page here.  The
juror casts their vote on the open claim (after their landing page is
taken, with the vote waiting) to reach the receipt page.  The member's
"check it on this phone" opens the verifier page, taken with the
deduction verified and with a tampered copy of its bundle refused.  Each
picture is the whole page, cut at :data:`MAX_HEIGHT` pixels, and, when
Pillow is installed, reduced to a palette of :data:`COLOURS` colours so
that it stays small.
"""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# The harness lives with the browser tests; this script is run by path.
sys.path.insert(0, str(ROOT))

from tests.browser.browser_helpers import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    LOCALES,
    PHONE,
    cast_vote,
    sign_in,
    start_demo,
    stop,
)

MEMBERS = 10_000
MAX_HEIGHT = 5_000
COLOURS = 64

#: (file name, role, path); {voting}, {period} and {receipt} are filled in.
SHOTS = [
    ("pool", "public", "/pool"),
    ("claim", "public", "/pool/claims/{voting}"),
    ("rules", "public", "/pool/rules"),
    ("dashboard", "member", "/dashboard"),
    ("claim-new", "member", "/claims/new"),
    ("statement", "member", "/dashboard/periods/{period}"),
    ("juror", "juror", "/juror"),
    ("case", "juror", "/juror/claims/{voting}"),
    ("receipt", "juror", "{receipt}"),
    ("operator", "operator", "/operator/"),
    ("operator-claim", "operator", "/operator/claims/{voting}"),
    ("log", "public", "/log"),
    ("register", "public", "/register"),
    ("reset", "public", "/reset"),
    ("password", "member", "/account/password"),
]


def _small(png: bytes) -> bytes:
    """The picture with a palette of COLOURS colours, if Pillow is here."""
    try:
        from PIL import Image
    except ImportError:
        return png
    image = Image.open(io.BytesIO(png)).convert("RGB")
    out = io.BytesIO()
    image.quantize(COLOURS, method=Image.Quantize.MEDIANCUT).save(out, "PNG", optimize=True)
    return out.getvalue()


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        server = start_demo(Path(folder), MEMBERS)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
                )
                try:
                    _shoot(browser, server.url, server.passwords, server.voting_claim)
                finally:
                    browser.close()
        finally:
            stop(server)


def _shoot(browser: object, url: str, passwords: dict[str, str], voting: str) -> None:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    pages = {}
    for role in ("public", "member", "juror", "operator"):
        state = None if role == "public" else sign_in(browser, url, role, passwords[role])
        context = browser.new_context(
            locale=LOCALES["zh"],
            viewport=PHONE,  # type: ignore[arg-type]
            is_mobile=True,
            has_touch=True,
            storage_state=state,  # type: ignore[arg-type]
        )
        pages[role] = context.new_page()
    member = pages["member"]
    member.goto(f"{url}/dashboard")
    statement = member.locator("a[href*='/dashboard/periods/']").first.get_attribute("href")
    values = {"voting": voting, "period": str(statement).rsplit("/", 1)[-1]}
    for name, role, path in SHOTS:
        page = pages[role]
        if "{receipt}" in path:
            # After the juror's landing page, which shows the vote waiting.
            values["receipt"] = cast_vote(page, url, voting)
        page.goto(url + path.format(**values))
        # Images load lazily: bring each into view so the picture shows it.
        for image in page.locator("img[loading=lazy]").all():
            image.scroll_into_view_if_needed()
        page.wait_for_load_state("networkidle")
        height = min(MAX_HEIGHT, int(page.evaluate("document.documentElement.scrollHeight")))
        png = page.screenshot(
            full_page=True, clip={"x": 0, "y": 0, "width": PHONE["width"], "height": height}
        )
        target = HERE / f"{name}.png"
        target.write_bytes(_small(png))
        print(f"{target.relative_to(ROOT)}: {target.stat().st_size // 1024} KB, {height} px tall")
    _shoot_verifier(browser, url, member)


def _shoot_verifier(browser: object, url: str, member: object) -> None:
    """The verifier page on a phone that has not used it before, opened
    from the member's dashboard: the honest deduction verified, then the
    same bundle with one hash of the roster proof changed, chosen as a file."""
    import json

    from playwright.sync_api import Browser, Page

    assert isinstance(browser, Browser) and isinstance(member, Page)
    member.goto(f"{url}/dashboard")
    link = str(member.locator("a[href^='/verifier?']").first.get_attribute("href"))
    context = browser.new_context(
        locale=LOCALES["zh"],
        viewport=PHONE,  # type: ignore[arg-type]
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.goto(url + link)
    page.locator("#first-use").click()
    page.locator("#forget").wait_for(state="visible")
    result = '#verdict[data-verdict]:not([data-verdict=""])'
    page.locator("#check").click()
    page.locator(result).wait_for(timeout=120_000)
    _save(page, "verifier-verified")
    size = json.loads(page.evaluate("localStorage.getItem('mutualog.verifier.v1')"))
    answer = page.request.get(
        f"{url}/api/v1/bundles/deduction?{link.split('?', 1)[1]}&size={size['checkpoint']['size']}"
    )
    bundle = json.loads(answer.body())
    proof = bundle["deduction"]["roster_proof"]
    proof[0] = ("0" if proof[0][0] != "0" else "1") + proof[0][1:]
    with tempfile.TemporaryDirectory() as folder:
        tampered = Path(folder) / "deduction.json"
        tampered.write_text(json.dumps(bundle, sort_keys=True, separators=(",", ":")))
        page.locator("label.mode", has=page.locator("#mode-file")).click()
        page.locator("#file").set_input_files(str(tampered))
        page.locator("#check").click()
        page.locator(result).wait_for(timeout=120_000)
    _save(page, "verifier-failed")
    context.close()


def _save(page: object, name: str) -> None:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    page.evaluate("window.scrollTo(0, 0)")
    height = min(MAX_HEIGHT, int(page.evaluate("document.documentElement.scrollHeight")))
    png = page.screenshot(
        full_page=True, clip={"x": 0, "y": 0, "width": PHONE["width"], "height": height}
    )
    target = HERE / f"{name}.png"
    target.write_bytes(_small(png))
    print(f"{target.relative_to(ROOT)}: {target.stat().st_size // 1024} KB, {height} px tall")


if __name__ == "__main__":
    main()
