"""Every page, for every role, in Chinese and in English, on a phone
(390x844) and a laptop (1280x800), in Debian's Chromium against the demo.

Each page must:

* not scroll sideways: ``document.documentElement.scrollWidth`` at most the
  window's width (the widest elements are named when it does);
* speak the asked language: ``<html lang>`` is ``zh-CN`` or ``en``, and a
  Chinese page has no English left in its rendered text
  (:func:`browser_helpers.untranslated`);
* pass the axe-core engine with no serious or critical violation;
* log nothing to the browser's console (a policy violation, a missing file).

The matrix runs role by role and page by page; each (role, language,
screen) has one context and one page, kept for the session.  The ids read
``<role>-<page>-<language>-<screen>``, so ``-k zh-phone`` runs what a
member on a phone sees.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from typing import Any

import pytest

from tests.browser.browser_helpers import REASON, DemoServer, Visitors, problems_on


@dataclass(frozen=True)
class Spec:
    """A page: who sees it, and its path (``{name}`` filled in from
    :class:`Places`).  ``review:`` is the juror's vote form sent; with
    ``submit``, the page is the answer to that button of the path's page
    (a first step that writes nothing); ``expired``: that button with the
    form's token spoilt, as when a form is sent after its session ended."""

    role: str
    name: str
    path: str
    status: int = 200
    submit: str = ""
    expired: bool = False


NOWHERE = "0" * 32
SEND = "main form button[type=submit]"

PAGES = [
    # -- public --
    Spec("public", "home", "/"),
    Spec("public", "login", "/login"),
    Spec("public", "login-expired", "/login", 400, SEND, expired=True),
    Spec("public", "register", "/register"),
    Spec("public", "reset", "/reset"),
    Spec("public", "pool", "/pool"),
    Spec("public", "claims", "/pool/claims"),
    Spec("public", "claim-paid", "/pool/claims/{paid}"),
    Spec("public", "claim-noticed", "/pool/claims/{noticed}"),
    Spec("public", "claim-voting", "/pool/claims/{voting}"),
    Spec("public", "claim-appealed", "/pool/claims/{appealed}"),
    Spec("public", "rules", "/pool/rules"),
    Spec("public", "faq", "/pool/faq"),
    Spec("public", "log", "/log"),
    Spec("public", "verify", "/verify"),
    Spec("public", "not-found", f"/pool/claims/{NOWHERE}", 404),
    # -- an account that has not joined --
    Spec("newcomer", "dashboard", "/dashboard"),
    Spec("newcomer", "join", "/join"),
    # -- a member with deductions --
    Spec("member", "dashboard", "/dashboard"),
    Spec("member", "statement", "/dashboard/periods/{period}"),
    Spec("member", "claim-new", "/claims/new"),
    Spec("member", "claim-new-expired", "/claims/new", 400, SEND, expired=True),
    Spec("member", "claim-noticed", "/claims/{noticed}"),
    Spec("member", "claim-paid", "/claims/{paid}"),
    Spec("member", "leave", "/leave"),
    Spec("member", "notifications", "/notifications"),
    Spec("member", "no-panel", "/juror"),
    Spec("member", "password", "/account/password"),
    # -- a juror drawn for the open claim --
    Spec("juror", "panels", "/juror"),
    Spec("juror", "notifications", "/notifications"),
    Spec("juror", "case", "/juror/claims/{voting}"),
    Spec("juror", "review", "review:{voting}"),
    Spec("juror", "receipt", "{receipt}"),
    # -- the operator --
    Spec("operator", "queue", "/operator/"),
    Spec("operator", "claim-noticed", "/operator/claims/{noticed}"),
    Spec("operator", "claim-voting", "/operator/claims/{voting}"),
    Spec("operator", "claim-paid", "/operator/claims/{paid}"),
    Spec("operator", "claim-approved", "/operator/claims/{approved}"),
    Spec(
        "operator",
        "pay-confirm",
        "/operator/claims/{approved}",
        submit="main form[action$='/operator/actions/pay'] button[type=submit]",
    ),
    Spec("operator", "rules", "/operator/rules"),
    Spec("operator", "override", "/operator/override"),
    Spec("operator", "erase", "/operator/erase"),
    Spec("operator", "password", "/account/password"),
]

LANGS = ("zh", "en")
SCREENS = ("phone", "desktop")

CASES = [
    pytest.param(spec, lang, screen, id=f"{spec.role}-{spec.name}-{lang}-{screen}")
    for spec in PAGES
    for lang in LANGS
    for screen in SCREENS
]


def _json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


class Places:
    """The demo's claims and receipts the paths name, looked up once."""

    def __init__(self, demo: DemoServer, request: pytest.FixtureRequest) -> None:
        self.demo = demo
        self.request = request
        claims = _json(f"{demo.url}/api/v1/pool/claims")["claims"]

        def first(**want: object) -> str:
            return str(next(c["claim"] for c in claims if all(c[k] == v for k, v in want.items())))

        periods = _json(f"{demo.url}/api/v1/pool/periods")["periods"]
        self.values = {
            # The demo member founded the pool: each period is one of theirs.
            "period": str([p for p in periods if p["claims_count"]][-1]["period"]),
            "voting": demo.voting_claim,
            "paid": first(stage="paid"),
            "noticed": first(stage="noticed"),
            "appealed": first(appeal=True),
            "approved": first(stage="approved"),
        }

    def path(self, spec: Spec) -> str:
        if "{receipt}" in spec.path and "receipt" not in self.values:
            # The juror votes (once, for the session) when the receipt is
            # first asked for: the vote form's pages come before.
            self.values["receipt"] = str(self.request.getfixturevalue("receipt"))
        return spec.path.format(**self.values)


@pytest.fixture(scope="module")
def places(demo: DemoServer, request: pytest.FixtureRequest) -> Places:
    return Places(demo, request)


def _open(visitors: Visitors, places: Places, spec: Spec, lang: str, screen: str) -> int:
    visit = visitors.visit(spec.role, lang, screen)
    path = places.path(spec)
    if spec.submit:
        visit.goto(places.demo.url + path)
        if spec.expired:
            visit.page.locator("main form input[name=csrf_token]").first.evaluate(
                "e => { e.value = 'expired' }"
            )
        with visit.page.expect_navigation() as answer:
            visit.page.locator(spec.submit).click()
        assert answer.value is not None
        return answer.value.status
    if not path.startswith("review:"):
        return visit.goto(places.demo.url + path)
    # The review step: the vote form sent, not yet cast (nothing is written).
    visit.goto(f"{places.demo.url}/juror/claims/{path.removeprefix('review:')}")
    page = visit.page
    page.locator("input[name=choice][value=approve]").check()
    page.locator("textarea[name=reason]").fill(REASON)
    with page.expect_response(lambda r: r.url.endswith("/juror/vote")) as answer:
        page.locator("main form[action$='/juror/vote'] button[type=submit]").click()
    return answer.value.status


@pytest.mark.parametrize(("spec", "lang", "screen"), CASES)
def test_page(visitors: Visitors, places: Places, spec: Spec, lang: str, screen: str) -> None:
    status = _open(visitors, places, spec, lang, screen)
    visit = visitors.visit(spec.role, lang, screen)
    problems = []
    if status != spec.status:
        problems.append(f"HTTP {status}, expected {spec.status}")
    problems += problems_on(visit.page, lang, visitors.names(spec.role))
    expected_error = f"status of {spec.status}"
    problems += [
        f"console: {p}" for p in visit.problems if not (spec.status >= 400 and expected_error in p)
    ]
    assert not problems, "\n".join(problems)


#: What the app serves on GET that is not a page: files, JSON, redirects.
NOT_PAGES = {
    "signin.static",
    "signin.language",
    "juror.receipt_file",
    "juror.redacted_page",
    "member.claim_evidence",
    "member.claim_redacted_page",
    "member.claim_redacted_opening",
    "operator.evidence",
    "operator.redacted_page",
    # One built page, its language chosen in the page: opened in both
    # languages at 390 px, with axe, by tests/browser/test_verifier_page.py.
    "verifier.page",
}
NOT_PAGE_BLUEPRINTS = {"api", "tiles", "pool_api", "bundle_api"}


class _Filled(dict[str, str]):
    """Any claim id a path names: one nobody filed (routing needs no more)."""

    def __missing__(self, key: str) -> str:
        return NOWHERE


def test_every_page_is_in_the_matrix(demo: DemoServer) -> None:
    from server import create_app

    app = create_app({"MUTUALOG_INSTANCE": demo.instance, "TESTING": True})
    try:
        adapter = app.url_map.bind("localhost")
        filled = _Filled(receipt=f"/juror/claims/{NOWHERE}/1/receipt", period="2025-01-07")
        covered = set()
        for spec in PAGES:
            if not spec.path.startswith("review:"):
                endpoint, _ = adapter.match(spec.path.format_map(filled), method="GET")
                covered.add(endpoint)
        pages = {
            rule.endpoint
            for rule in app.url_map.iter_rules()
            if "GET" in (rule.methods or set())
            and rule.endpoint not in NOT_PAGES
            and rule.endpoint.split(".")[0] not in NOT_PAGE_BLUEPRINTS
        }
    finally:
        app.extensions["mutualog"].engine.dispose()
    assert pages - covered == set(), "a page nobody opens in the browser"
