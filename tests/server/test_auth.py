"""Signing up, in and out through the web forms, with CSRF on, on both
backends: the flows, wrong passwords, the rate limit, roles, redirects,
rehashing and session protection."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest
from argon2.profiles import CHEAPEST
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from werkzeug.test import TestResponse

from server import create_app
from server.auth import accounts_service, safe_next
from server.keys import create_key_file
from server.models import AccountRow
from server.private.accounts import Role

if TYPE_CHECKING:
    from tests.clock import FixedClock

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def make_app(
    engine: Engine, tmp_path: Path, clock: FixedClock, **config: object
) -> Iterator[Flask]:
    # A set-up instance has its log key: the dashboard reads the pool.
    key = tmp_path / "instance" / "log.key"
    if not key.exists():
        key.parent.mkdir(parents=True, exist_ok=True)
        create_key_file(key, "example.org/mutualog/test", bytes(32))
    app = create_app(
        {
            "MUTUALOG_INSTANCE": tmp_path / "instance",
            "MUTUALOG_DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "MUTUALOG_SECURE_COOKIES": False,
            "MUTUALOG_ARGON2": CHEAPEST,
            "MUTUALOG_CLOCK": clock,
            "TESTING": True,
            **config,
        }
    )
    yield app
    app.extensions["mutualog"].engine.dispose()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MUTUALOG_SECRET_KEY", "MUTUALOG_SECURE_COOKIES"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    yield from make_app(engine, tmp_path, clock)


class Browser:
    """A test client that fills in forms the way a browser would: it loads
    the page first and sends back the CSRF token the form carries."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def token(self, path: str) -> str:
        page = self.client.get(path)
        found = _TOKEN.search(page.get_data(as_text=True))
        assert found, f"no CSRF token on {path} ({page.status_code})"
        return found.group(1)

    def submit(self, path: str, form_page: str | None = None, **fields: str) -> TestResponse:
        token = self.token(form_page or path)
        return self.client.post(path, data={"csrf_token": token, **fields})

    def register_form(self, username: str, password: str = PASSWORD) -> TestResponse:
        """The registration form, sent: it does not sign in."""
        return self.submit("/register", username=username, password=password, confirm=password)

    def register(self, username: str, password: str = PASSWORD) -> TestResponse:
        """Register, then sign in as the new account: the sign-in's answer."""
        assert self.register_form(username, password).status_code == 302
        return self.login(username, password)

    def login(self, username: str, password: str = PASSWORD, path: str = "/login") -> TestResponse:
        return self.submit(path, username=username, password=password)

    def logout(self) -> TestResponse:
        return self.submit("/logout", form_page="/")

    def signed_in_as(self) -> str | None:
        page = self.client.get("/").get_data(as_text=True)
        found = re.search(r"Signed in as <strong>([^<]+)</strong>", page)
        return found.group(1) if found else None


@pytest.fixture
def browser(app: Flask) -> Browser:
    return Browser(app.test_client())


def text_of(response: TestResponse) -> str:
    """The page's text with HTML's character references decoded."""
    return html.unescape(response.get_data(as_text=True))


# --- the flows ----------------------------------------------------------------------


def test_register_sends_to_sign_in_and_the_dashboard_follows(browser: Browser) -> None:
    response = browser.register_form("Alice")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert browser.signed_in_as() is None
    response = browser.login("alice")
    assert response.headers["Location"] == "/dashboard"
    page = browser.client.get("/dashboard")
    assert page.status_code == 200
    assert "You have not joined the pool yet" in text_of(page)
    assert browser.signed_in_as() == "alice"
    # Signed in, the forms send you home.
    assert browser.client.get("/login").headers["Location"] == "/dashboard"
    assert browser.client.get("/register").headers["Location"] == "/dashboard"


def test_logout_then_login(browser: Browser) -> None:
    browser.register("alice")
    response = browser.logout()
    assert (response.status_code, response.headers["Location"]) == (302, "/")
    assert "You are signed out." in text_of(browser.client.get("/"))
    assert browser.signed_in_as() is None
    assert browser.client.get("/dashboard").status_code == 302
    response = browser.login("alice")
    assert (response.status_code, response.headers["Location"]) == (302, "/dashboard")
    assert browser.signed_in_as() == "alice"


def test_logout_is_a_post_with_a_token(browser: Browser) -> None:
    browser.register("alice")
    assert browser.client.get("/logout").status_code == 405
    refused = browser.client.post("/logout")
    assert refused.status_code == 400
    assert "CSRF token" in text_of(refused)
    assert browser.signed_in_as() == "alice"


def test_wrong_password_and_unknown_user_get_the_same_answer(browser: Browser) -> None:
    browser.register("alice")
    browser.logout()
    wrong = browser.login("alice", "not the password")
    unknown = browser.login("mallory", PASSWORD)
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert "Wrong username or password." in text_of(response)
        assert PASSWORD not in text_of(response)
        assert "not the password" not in text_of(response)
    assert browser.signed_in_as() is None


def test_a_duplicate_username_keeps_its_owner(browser: Browser) -> None:
    browser.register("alice")
    browser.logout()
    response = browser.register_form("ALICE", "another passphrase")
    assert (response.status_code, response.headers["Location"]) == (302, "/login")
    assert browser.login("alice", "another passphrase").status_code == 400
    assert browser.login("alice").status_code == 302


# --- the rate limit --------------------------------------------------------------------


def test_the_rate_limit_kicks_in_and_resets(browser: Browser, clock: FixedClock) -> None:
    browser.register("alice")
    browser.logout()
    for _ in range(5):
        assert browser.login("alice", "wrong password").status_code == 400
    for password in ("wrong password", PASSWORD):
        response = browser.login("alice", password)
        assert response.status_code == 429
        assert "Too many failed sign-ins for this username from your address" in text_of(response)
        assert "try again in 15 minutes" in text_of(response)
        assert response.headers["Retry-After"] == "900"
    assert browser.signed_in_as() is None
    clock.advance(minutes=15)
    assert browser.login("alice").status_code == 302
    # The success reset the count: four more failures are not yet a lockout.
    browser.logout()
    for _ in range(4):
        assert browser.login("alice", "wrong password").status_code == 400
    assert browser.login("alice").status_code == 302


def test_the_limit_counts_per_username(browser: Browser) -> None:
    for name in ("alice", "bob"):
        browser.register(name)
        browser.logout()
    for _ in range(5):
        browser.login("alice", "wrong password")
    assert browser.login("alice").status_code == 429
    assert browser.login("bob").status_code == 302


# --- roles and redirects -------------------------------------------------------------------


@pytest.fixture
def operator(app: Flask, clock: FixedClock) -> str:
    with app.app_context():
        accounts_service().register("root", PASSWORD, clock(), role=Role.OPERATOR)
    return "root"


def test_operators_land_on_the_operator_pages(browser: Browser, operator: str) -> None:
    response = browser.login(operator)
    assert response.headers["Location"] == "/operator/"
    page = browser.client.get("/operator/")
    assert page.status_code == 200
    assert "Signed in as operator <strong>root</strong>" in text_of(page)
    refused = browser.client.get("/dashboard")
    assert refused.status_code == 403
    assert "This page is for members" in text_of(refused)


def test_members_and_visitors_are_kept_out_of_the_operator_pages(browser: Browser) -> None:
    response = browser.client.get("/operator/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/operator/"
    browser.register("alice")
    refused = browser.client.get("/operator/")
    assert refused.status_code == 403
    assert "for the pool's operators only" in text_of(refused)
    assert refused.content_type.startswith("text/html")


def test_sign_in_returns_to_the_page_asked_for(browser: Browser, operator: str) -> None:
    response = browser.client.get("/operator/")
    target = response.headers["Location"]
    assert "Please sign in to see that page." in text_of(browser.client.get(target))
    response = browser.login(operator, path=target)
    assert response.headers["Location"] == "/operator/"


OFF_SITE = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example",
    "javascript:alert(1)",
    "/ok\r\nSet-Cookie: x=1",
    "",
]


def test_sign_in_never_redirects_off_site(browser: Browser) -> None:
    browser.register("alice")
    for target in OFF_SITE:
        browser.logout()
        response = browser.login("alice", path=f"/login?next={quote(target, safe='')}")
        assert response.headers["Location"] == "/dashboard", target
        assert safe_next(target) is None


def test_safe_next_keeps_local_paths() -> None:
    assert safe_next("/dashboard?tab=claims") == "/dashboard?tab=claims"
    assert safe_next(None) is None


# --- passwords and sessions ----------------------------------------------------------------


def test_sign_in_rehashes_under_new_parameters(
    engine: Engine, tmp_path: Path, clock: FixedClock
) -> None:
    for app in make_app(engine, tmp_path, clock):
        Browser(app.test_client()).register("alice")
    with engine.connect() as conn:
        before = conn.scalar(select(AccountRow.password_hash))
    stronger = replace(CHEAPEST, time_cost=2)
    for app in make_app(engine, tmp_path, clock, MUTUALOG_ARGON2=stronger):
        assert Browser(app.test_client()).login("alice").status_code == 302
    with engine.connect() as conn:
        after = conn.scalar(select(AccountRow.password_hash))
    assert isinstance(before, str) and isinstance(after, str)
    assert ",t=1," in before and ",t=2," in after


def test_a_session_replayed_from_another_browser_is_dropped(browser: Browser) -> None:
    browser.register("alice")
    assert browser.client.get("/dashboard").status_code == 200
    stolen = browser.client.get("/dashboard", headers={"User-Agent": "another browser"})
    assert stolen.status_code == 302
    assert stolen.headers["Location"].startswith("/login")


def test_a_session_ends_when_the_browser_closes_or_after_12_hours(
    browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser.register("alice")
    cookie = browser.client.get_cookie("mutualog")
    assert cookie is not None and cookie.expires is None
    # Reading pages does not rewrite the cookie, so its age is from sign-in.
    browser.client.get("/dashboard")
    signed = time.time()
    monkeypatch.setattr(time, "time", lambda: signed + 11.9 * 3600)
    assert browser.client.get("/dashboard").status_code == 200
    monkeypatch.setattr(time, "time", lambda: signed + 12.1 * 3600)
    assert browser.client.get("/dashboard").status_code == 302


def test_an_account_deleted_meanwhile_is_signed_out(browser: Browser, engine: Engine) -> None:
    browser.register("alice")
    with engine.begin() as conn:
        conn.execute(AccountRow.__table__.delete())
    assert browser.client.get("/dashboard").status_code == 302
    assert browser.signed_in_as() is None
