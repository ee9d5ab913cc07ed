"""The web shell: pages, their HTML error pages, bad input on every form
(a clear message, escaped echoes, nothing stored, never a 500), the
dashboard's pseudonymous id, and the accessible structure of the layout."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from argon2.profiles import CHEAPEST
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from werkzeug.test import TestResponse

from server import create_app
from server.auth import accounts_service
from server.db import make_engine, upgrade
from server.pool_app import current_pool
from server.private.accounts import Role
from server.private.members import MemberDetails
from server.private.sealing import Sealer
from tests.server.identities import id_number
from tests.server.pool_helpers import RULES, make_pool_app
from verifiable.errors import RuleViolation
from verifiable.pool.replay import Replayer

if TYPE_CHECKING:
    from tests.clock import FixedClock

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MUTUALOG_SECRET_KEY", "MUTUALOG_SECURE_COOKIES"):
        monkeypatch.delenv(name, raising=False)


def make_app(url: str, tmp_path: Path, clock: FixedClock) -> Flask:
    return create_app(
        {
            "MUTUALOG_INSTANCE": tmp_path / "instance",
            "MUTUALOG_DATABASE_URL": url,
            "MUTUALOG_SECURE_COOKIES": False,
            "MUTUALOG_ARGON2": CHEAPEST,
            "MUTUALOG_CLOCK": clock,
            "TESTING": True,
        }
    )


def _app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    app = make_app(engine.url.render_as_string(hide_password=False), tmp_path, clock)
    yield app
    app.extensions["mutualog"].engine.dispose()


@pytest.fixture
def page_engine(sqlite_url: str, tmp_path: Path) -> Iterator[Engine]:
    """SQLite only: form checks and layout touch the database for the
    session key alone; the tests of stored state run on both backends."""
    engine = make_engine(sqlite_url, Sealer(tmp_path / "instance"))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def app(page_engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    yield from _app(page_engine, tmp_path, clock)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def stored_app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    """On both backends."""
    yield from _app(engine, tmp_path, clock)


def post_form(client: FlaskClient, path: str, fields: dict[str, str]) -> TestResponse:
    found = _TOKEN.search(client.get(path).get_data(as_text=True))
    assert found
    return client.post(path, data={"csrf_token": found.group(1), **fields})


def page_text(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def count_accounts(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM accounts")).scalar() or 0)


# --- pages ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "heading"),
    [("/", "A mutual-aid pool you can check"), ("/login", "Sign in"), ("/register", "Create")],
)
def test_public_pages_render(client: FlaskClient, path: str, heading: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    page = page_text(response)
    assert re.search(rf"<h1>{heading}", page)
    assert '<link rel="stylesheet" href="/static/style.css">' in page
    assert 'href="/login">Sign in</a>' in page


def test_the_dashboard_shows_the_pseudonymous_id_once_joined(
    engine: Engine, tmp_path: Path, clock: FixedClock
) -> None:
    app = make_pool_app(engine, tmp_path, clock)
    client = app.test_client()
    post_form(client, "/register", {"username": "alice", "password": PASSWORD, "confirm": PASSWORD})
    post_form(client, "/login", {"username": "alice", "password": PASSWORD})
    with app.app_context():
        pool = current_pool()
        pool.start(RULES)
        account = accounts_service().by_username("alice")
        assert account is not None
        details = MemberDetails.parse("Li Hua", id_number("li"), "13800138000", clock().date())
        member_id = pool.join(account.id, details)
    page = page_text(client.get("/dashboard"))
    app.extensions["mutualog"].engine.dispose()
    assert f'<code class="member-id">{member_id}</code>' in page
    for section in ("My deductions", "My claims"):
        assert section in page
    # The dashboard shows the log's id, never the private details.
    assert "Li Hua" not in page and "13800138000" not in page


def test_the_operator_page(stored_app: Flask, clock: FixedClock) -> None:
    app, client = stored_app, stored_app.test_client()
    with app.app_context():
        accounts_service().register("root", PASSWORD, clock(), role=Role.OPERATOR)
    post_form(client, "/login", {"username": "root", "password": PASSWORD})
    page = page_text(client.get("/operator/"))
    assert "<h1>Operator</h1>" in page and "Review queue" in page
    assert 'href="/operator/">Operator</a>' in page


# --- bad input on every form ------------------------------------------------------------------

GOOD = {"username": "alice", "password": PASSWORD, "confirm": PASSWORD}

BAD_REGISTRATIONS = [
    ("empty-username", {"username": ""}, "Choose a username."),
    ("empty-password", {"password": "", "confirm": ""}, "Choose a password."),
    ("empty-confirm", {"confirm": ""}, "Repeat the password."),
    ("short-username", {"username": "ab"}, "A username has 3 to 32 characters, this one has 2."),
    ("long-username", {"username": "a" * 33}, "this one has 33."),
    (
        "long-password",
        {"password": "p" * 257, "confirm": "p" * 257},
        "A password may have at most 256 characters.",
    ),
    (
        "short-password",
        {"password": "short", "confirm": "short"},
        "A password needs at least 10 characters.",
    ),
    ("mismatch", {"confirm": PASSWORD + "x"}, "The two passwords differ."),
    ("markup-username", {"username": "<b>bold</b>"}, "A username may use only letters a-z"),
    ("script-username", {"username": SCRIPT[:32]}, "may use only letters a-z"),
    ("spaces", {"username": "a b c"}, "may use only letters a-z"),
    (
        "password-is-username",
        {"username": "alicealice", "password": "AliceAlice", "confirm": "AliceAlice"},
        "The password may not be the username.",
    ),
    ("missing-fields", {"username": None, "password": None, "confirm": None}, "Choose a username."),
]


@pytest.mark.parametrize(
    ("changes", "message"),
    [case[1:] for case in BAD_REGISTRATIONS],
    ids=[case[0] for case in BAD_REGISTRATIONS],
)
def test_bad_registrations_are_refused_clearly(
    client: FlaskClient, page_engine: Engine, changes: dict[str, str | None], message: str
) -> None:
    fields = {k: v for k, v in {**GOOD, **changes}.items() if v is not None}
    response = post_form(client, "/register", fields)
    assert response.status_code == 400
    page = page_text(response)
    assert message in page
    assert 'role="alert"' in response.get_data(as_text=True)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert count_accounts(page_engine) == 0


@pytest.mark.parametrize(
    "fields",
    [
        {"username": "", "password": PASSWORD},
        {"username": "alice", "password": ""},
        {"username": "u" * 65, "password": PASSWORD},
        {"username": "alice", "password": "p" * 257},
        {},
    ],
    ids=["no-username", "no-password", "long-username", "long-password", "nothing"],
)
def test_bad_sign_ins_are_refused_clearly(client: FlaskClient, fields: dict[str, str]) -> None:
    response = post_form(client, "/login", fields)
    assert response.status_code == 400
    assert "Please correct the" in page_text(response)


def test_every_broken_rule_shows_at_once(client: FlaskClient) -> None:
    response = post_form(
        client, "/register", {"username": "<b>", "password": "short", "confirm": "other"}
    )
    page = page_text(response)
    for message in (
        "A username may use only letters a-z",
        "A password needs at least 10 characters.",
        "The two passwords differ.",
    ):
        assert message in page
    assert page.count('aria-invalid="true"') == 3


def test_markup_in_text_fields_is_shown_escaped(client: FlaskClient) -> None:
    for path, fields in [
        ("/register", {**GOOD, "username": SCRIPT}),
        ("/login", {"username": SCRIPT, "password": PASSWORD}),
    ]:
        response = post_form(client, path, fields)
        raw = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "<script>" not in raw
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
        assert PASSWORD not in raw  # password fields are never echoed


def test_an_oversized_request_is_refused_with_a_page(app: Flask, client: FlaskClient) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 100_000
    response = post_form(client, "/register", {**GOOD, "username": "a" * 200_000})
    assert response.status_code == 413
    assert response.content_type.startswith("text/html")
    assert "Upload too large" in page_text(response)


def test_a_huge_password_is_refused_before_it_is_hashed(
    client: FlaskClient, page_engine: Engine
) -> None:
    response = post_form(client, "/login", {"username": "alice", "password": "p" * 600_000})
    assert response.status_code == 400
    assert "longer than 256 characters" in page_text(response)
    with page_engine.connect() as conn:
        # Refused by the form: the sign-in (and its throttle) never ran.
        assert conn.execute(text("SELECT count(*) FROM request_attempts")).scalar() == 0


# --- error pages -----------------------------------------------------------------------------


def test_browsers_get_html_error_pages_and_programs_json(client: FlaskClient) -> None:
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    page = client.get("/no/such/page", headers=browser)
    assert page.status_code == 404
    assert "Page not found" in page_text(page)
    assert page.content_type.startswith("text/html")
    for headers in ({}, {"Accept": "*/*"}, {"Accept": "application/json"}):
        response = client.get("/no/such/page", headers=headers)
        assert response.status_code == 404
        assert response.get_json()["error"] == "not_found"
    # The API and the read path answer JSON even to a browser.
    for path in ("/api/v1/nothing", "/tile/x"):
        response = client.get(path, headers=browser)
        assert response.get_json()["error"] == "not_found"
    wrong_method = client.get("/logout", headers=browser)
    assert wrong_method.status_code == 405
    assert "This action is not available here" in page_text(wrong_method)
    assert "POST" in wrong_method.headers["Allow"]
    assert client.get("/logout").get_json()["error"] == "method_not_allowed"


def test_a_database_that_is_down_gives_a_503_page(tmp_path: Path, clock: FixedClock) -> None:
    missing = tmp_path / "no" / "such" / "folder" / "db.sqlite"
    app = make_app(f"sqlite:///{missing}", tmp_path, clock)
    try:
        response = app.test_client().get("/login")
        assert response.status_code == 503
        assert "The pool's database is not available right now" in page_text(response)
        assert "sqlite" not in response.get_data(as_text=True).lower()
    finally:
        app.extensions["mutualog"].engine.dispose()


def test_a_log_that_does_not_replay_is_503_on_every_page_and_route(
    page_engine: Engine, tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool service's PoolUnavailableError is no HTTP error: the handlers
    map it to 503 with its reason naming the rule, as a page or as JSON; the
    operator's review queue shows the reason in place of the queue."""
    setup = make_pool_app(page_engine, tmp_path, clock)
    post_form(
        setup.test_client(),
        "/register",
        {"username": "alice", "password": PASSWORD, "confirm": PASSWORD},
    )
    with setup.app_context():
        pool = current_pool()
        pool.start(RULES)
        alice = accounts_service().by_username("alice")
        assert alice is not None
        details = MemberDetails.parse("Li Hua", id_number("li"), "13800138000", clock().date())
        pool.join(alice.id, details)
        accounts_service().register("root", PASSWORD, clock(), role=Role.OPERATOR)
    setup.extensions["mutualog"].engine.dispose()
    # A process takes the pool's state up from the database; it replays the
    # log only where no state is stored (an instance older than the state
    # tables), as here.
    with page_engine.begin() as conn:
        for table in ("state_records", "state_counts", "state_head"):
            conn.execute(text(f"DELETE FROM {table}"))

    def refuse(self: Replayer, raw: bytes, leaf: bytes | None = None) -> None:
        raise RuleViolation("period.roster", "the roster is not the members'", seq=self.size)

    # A fresh application replays the stored log, and now every entry breaks a rule.
    monkeypatch.setattr(Replayer, "feed_bytes", refuse)
    app = make_pool_app(page_engine, tmp_path, clock)
    member, operator = app.test_client(), app.test_client()
    post_form(member, "/login", {"username": "alice", "password": PASSWORD})
    post_form(operator, "/login", {"username": "root", "password": PASSWORD})
    reason = (
        "the stored log does not replay under the pool's rules: "
        "entry 0: rule period.roster: the roster is not the members'"
    )
    for path in ("/dashboard", "/claims/new", "/juror", "/pool", "/verify"):
        response = member.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 503, path
        assert response.content_type.startswith("text/html"), path
        assert "Temporarily unavailable" in page_text(response), path
        assert reason in page_text(response), path
    response = member.get("/api/v1/pool")
    assert response.status_code == 503
    assert response.get_json() == {"error": "unavailable", "message": reason}
    queue = operator.get("/operator/")
    assert queue.status_code == 200
    assert f"The pool is not available: {reason}" in page_text(queue)
    app.extensions["mutualog"].engine.dispose()


def test_an_unexpected_error_is_a_bare_500_page(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    def boom() -> str:
        raise RuntimeError("secret detail")

    app.view_functions["signin.index"] = boom
    response = client.get("/")
    assert response.status_code == 500
    assert "Something went wrong" in page_text(response)
    assert "secret detail" not in page_text(response)
    assert "secret detail" in caplog.text


# --- structure and accessibility -------------------------------------------------------------


class _Structure(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.mark.parametrize("path", ["/", "/login", "/register"])
def test_pages_are_accessible(client: FlaskClient, path: str) -> None:
    parser = _Structure()
    parser.feed(client.get(path).get_data(as_text=True))
    tags = parser.tags
    assert ("html", {"lang": "en"}) in tags
    assert any(tag == "main" and attrs.get("id") == "main" for tag, attrs in tags)
    assert any(tag == "a" and attrs.get("href") == "#main" for tag, attrs in tags)
    assert any(tag == "nav" and attrs.get("aria-label") for tag, attrs in tags)
    labelled = {attrs.get("for") for tag, attrs in tags if tag == "label"}
    for tag, attrs in tags:
        if tag == "input" and attrs.get("type") != "hidden":
            assert attrs.get("id") in labelled, attrs
    assert [tag for tag, _ in tags].count("h1") == 1


def test_the_stylesheet_is_served_from_the_app(client: FlaskClient) -> None:
    with client.get("/static/style.css") as response:
        assert response.status_code == 200
        css = response.get_data(as_text=True)
    assert "@import" not in css and "url(" not in css  # nothing from elsewhere
    assert ":focus-visible" in css
