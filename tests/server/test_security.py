"""Security properties of every response: headers, cookie flags, CSRF on
every form and no way around it, sessions only where pages need them, the
shared session key, and passwords that never reach storage in the clear."""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from argon2.profiles import CHEAPEST
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, inspect, select, text
from werkzeug.test import TestResponse

from server import create_app
from server.config import ConfigError
from server.db import make_engine, upgrade
from server.keys import create_key_file
from server.models import ServerSecretRow
from server.security import CONTENT_SECURITY_POLICY

if TYPE_CHECKING:
    from tests.clock import FixedClock

PASSWORD = "correct horse battery"
TEMPLATES = Path(__file__).resolve().parents[2] / "server" / "templates"
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

EXPECTED_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MUTUALOG_SECRET_KEY", "MUTUALOG_SECURE_COOKIES"):
        monkeypatch.delenv(name, raising=False)


def make_app(engine: Engine, tmp_path: Path, clock: FixedClock, **config: object) -> Flask:
    return create_app(
        {
            "MUTUALOG_INSTANCE": tmp_path / "instance",
            "MUTUALOG_DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "MUTUALOG_ARGON2": CHEAPEST,
            "MUTUALOG_CLOCK": clock,
            "TESTING": True,
            **config,
        }
    )


@pytest.fixture
def apps(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[list[Flask]]:
    """Two applications on one database, as two workers (default: secure
    cookies), on both backends."""
    made = [make_app(engine, tmp_path, clock) for _ in range(2)]
    yield made
    for app in made:
        app.extensions["mutualog"].engine.dispose()


@pytest.fixture
def page_engine(sqlite_url: str) -> Iterator[Engine]:
    """SQLite only: headers, cookies and CSRF touch the database for the
    session key alone; the tests about what is stored run on both backends."""
    engine = make_engine(sqlite_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def app(page_engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    # With a log key, as a set-up instance has: the dashboard reads the pool.
    (tmp_path / "instance").mkdir()
    create_key_file(tmp_path / "instance" / "log.key", "example.org/mutualog/test", bytes(32))
    app = make_app(page_engine, tmp_path, clock)
    yield app
    app.extensions["mutualog"].engine.dispose()


def token(client: FlaskClient, path: str = "/register") -> str:
    found = _TOKEN.search(client.get(path).get_data(as_text=True))
    assert found
    return found.group(1)


def register(client: FlaskClient, username: str = "alice") -> TestResponse:
    """Register and sign in (registering alone does not): the sign-in's answer."""
    data = {"username": username, "password": PASSWORD, "confirm": PASSWORD}
    registered = client.post("/register", data={"csrf_token": token(client), **data})
    assert registered.status_code == 302
    data = {"username": username, "password": PASSWORD}
    return client.post("/login", data={"csrf_token": token(client, "/login"), **data})


def assert_security_headers(response: TestResponse) -> None:
    for name, value in EXPECTED_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.headers.get(name))


# --- headers ----------------------------------------------------------------------


def test_the_content_security_policy_allows_only_this_origin() -> None:
    policy = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_templates_have_no_inline_script_or_style() -> None:
    # The policy would block them; keep them from being written at all.
    for path in TEMPLATES.rglob("*.html"):
        source = path.read_text(encoding="utf-8")
        # A script is only ever a same-origin file (<script src=...>), never inline.
        inline_script = r"<script(?![^>]*\ssrc=\"\{\{ url_for\()"
        assert not re.search(inline_script + r"|<style|\sstyle=|\son[a-z]+=|javascript:", source), (
            path
        )
        assert not re.search(r"https?://", source), f"{path}: nothing outside the app"


def test_security_headers_on_pages_errors_static_files_and_the_api(app: Flask) -> None:
    client = app.test_client()
    register(client)
    responses = {
        "home": client.get("/"),
        "dashboard": client.get("/dashboard"),
        "stylesheet": client.get("/static/style.css"),
        "html-404": client.get("/nowhere", headers={"Accept": "text/html"}),
        "csrf-400": client.post("/logout"),
        "api": client.get("/api/v1/openapi.json"),
        "api-404": client.get("/api/v1/nothing"),
        "api-405": client.post("/api/v1/log"),
        "tiles-404": client.get("/tile/0/000"),
    }
    expected = {
        "home": 200,
        "dashboard": 200,
        "stylesheet": 200,
        "html-404": 404,
        "csrf-400": 400,
        "api": 200,
        "api-404": 404,
        "api-405": 405,
        "tiles-404": 404,
    }
    assert {name: r.status_code for name, r in responses.items()} == expected
    for response in responses.values():
        assert_security_headers(response)
    assert responses["stylesheet"].content_type.startswith("text/css")
    for response in responses.values():
        response.close()  # a file response holds the file open until closed


def test_pages_are_never_cached_and_the_log_is(app: Flask) -> None:
    client = app.test_client()
    register(client)
    assert client.get("/dashboard").headers["Cache-Control"] == "no-store"
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/api/v1/openapi.json").headers["Cache-Control"]


# --- cookies and sessions ---------------------------------------------------------------


def test_the_session_cookie_is_secure_httponly_lax_and_host_only(app: Flask) -> None:
    client = app.test_client()
    response = client.get("/register", base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-mutualog=")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite", "path"} <= attributes
    assert "samesite=lax" in cookie.lower() and "path=/" in cookie.lower()
    assert "domain" not in attributes and "expires" not in attributes


@pytest.mark.parametrize(
    ("setting", "secure"),
    [(False, False), ("false", False), ("0", False), ("yes", True), (True, True)],
)
def test_secure_cookies_can_be_turned_off_for_plain_http(
    page_engine: Engine, tmp_path: Path, clock: FixedClock, setting: object, secure: bool
) -> None:
    app = make_app(page_engine, tmp_path, clock, MUTUALOG_SECURE_COOKIES=setting)
    try:
        cookie = app.test_client().get("/login").headers["Set-Cookie"]
        assert ("; Secure" in cookie) is secure
        assert cookie.startswith("__Host-mutualog=" if secure else "mutualog=")
    finally:
        app.extensions["mutualog"].engine.dispose()


def test_secure_cookies_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MUTUALOG_SECURE_COOKIES", "off")
    app = create_app({"MUTUALOG_INSTANCE": tmp_path})
    assert app.config["SESSION_COOKIE_SECURE"] is False
    monkeypatch.setenv("MUTUALOG_SECURE_COOKIES", "maybe")
    with pytest.raises(ConfigError, match="MUTUALOG_SECURE_COOKIES: expected true or false"):
        create_app({"MUTUALOG_INSTANCE": tmp_path})


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"MUTUALOG_SESSION_HOURS": 0}, "MUTUALOG_SESSION_HOURS"),
        ({"MUTUALOG_LOGIN_WINDOW": "15m"}, "MUTUALOG_LOGIN_WINDOW: expected an integer"),
        ({"MUTUALOG_LOGIN_MAX_FAILURES": 0}, "request limit"),
        ({"MUTUALOG_ARGON2": "fast"}, "MUTUALOG_ARGON2"),
        ({"MUTUALOG_CLOCK": "now"}, "MUTUALOG_CLOCK"),
    ],
    ids=["hours", "window", "failures", "argon2", "clock"],
)
def test_bad_security_settings_are_refused(
    tmp_path: Path, setting: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        create_app({"MUTUALOG_INSTANCE": tmp_path, **setting})


def test_the_read_path_and_api_never_touch_a_session(app: Flask) -> None:
    client = app.test_client()
    register(client)  # the client now holds a session cookie
    for path in ("/api/v1/openapi.json", "/api/v1/nothing", "/tile/0/000", "/checkpoint"):
        response = client.get(path)
        assert "Set-Cookie" not in response.headers, path
        assert "Cookie" not in response.vary, path
    with client.get("/static/style.css") as stylesheet:
        assert "Set-Cookie" not in stylesheet.headers


def test_the_session_cookie_holds_no_secret(app: Flask) -> None:
    client = app.test_client()
    register(client)
    client.get("/dashboard")  # shows (and so removes) the welcome message
    cookie = client.get_cookie("__Host-mutualog")
    assert cookie is not None
    # Flask's cookie: [.]base64(payload).timestamp.signature, '.' when zlib-compressed.
    compressed = cookie.value.startswith(".")
    body = cookie.value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    data = json.loads(zlib.decompress(raw) if compressed else raw)
    # "sid": the random id of the session the server keeps (only its hash there).
    assert set(data) <= {"_user_id", "_fresh", "_id", "csrf_token", "_flashes", "sid"}
    assert PASSWORD not in json.dumps(data)
    assert "alice" not in json.dumps(data)


# --- CSRF ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/register", {"username": "alice", "password": PASSWORD, "confirm": PASSWORD}),
        ("/login", {"username": "alice", "password": PASSWORD}),
        ("/logout", {}),
    ],
    ids=["register", "login", "logout"],
)
@pytest.mark.parametrize("bad", ["missing", "forged", "other-session"])
def test_every_form_refuses_a_missing_or_foreign_csrf_token(
    app: Flask, page_engine: Engine, path: str, fields: dict[str, str], bad: str
) -> None:
    client = app.test_client()
    client.get("/login")
    data = dict(fields)
    if bad == "forged":
        data["csrf_token"] = "x" * 40
    elif bad == "other-session":
        data["csrf_token"] = token(app.test_client())
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert response.content_type.startswith("text/html")
    page = response.get_data(as_text=True)
    if path == "/logout":
        assert "security token (CSRF token) is missing, invalid or expired" in page
        assert "reload the page" in page
    else:
        # A form page comes back with what was typed (more in test_i18n).
        assert "security token (CSRF token) expired" in page
        assert 'value="alice"' in page
    with page_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM accounts")).scalar() == 0


def test_over_https_a_form_must_come_from_this_site(app: Flask) -> None:
    client = app.test_client()
    form_token = token(client)
    data = {"csrf_token": form_token, "username": "alice", "password": PASSWORD}
    for referer in (None, "https://evil.example/login"):
        headers = {"Referer": referer} if referer else {}
        response = client.post("/login", data=data, base_url="https://localhost", headers=headers)
        assert response.status_code == 400, referer
        assert "CSRF token" in response.get_data(as_text=True)


def test_csrf_covers_the_whole_application(app: Flask) -> None:
    # Nothing is exempt, so no route can be added that skips the check ...
    csrf = app.extensions["csrf"]
    assert not csrf._exempt_views and not csrf._exempt_blueprints
    # ... and the API and read path accept only methods that change nothing.
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in ("api", "tiles"):
            assert rule.methods is not None
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule


def test_a_write_route_added_anywhere_is_csrf_checked(
    page_engine: Engine, tmp_path: Path, clock: FixedClock
) -> None:
    app = make_app(page_engine, tmp_path, clock)

    @app.post("/api/v1/hypothetical")
    def hypothetical() -> str:
        return "changed something"

    try:
        response = app.test_client().post("/api/v1/hypothetical", json={"x": 1})
        assert response.status_code == 400
        assert b"changed something" not in response.data
    finally:
        app.extensions["mutualog"].engine.dispose()


def test_api_writes_are_refused_whatever_they_carry(app: Flask) -> None:
    client = app.test_client()
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = client.open("/api/v1/log", method=method, headers={"X-CSRFToken": "x"})
        assert response.status_code == 405
        assert response.get_json()["error"] == "method_not_allowed"


# --- the session key ---------------------------------------------------------------------------


def test_workers_share_the_generated_session_key(apps: list[Flask], engine: Engine) -> None:
    first, second = (app.test_client() for app in apps)
    form_token = token(first)
    # A form rendered by one worker and posted to another is accepted ...
    second.set_cookie(
        "__Host-mutualog", first.get_cookie("__Host-mutualog").value, domain="localhost"
    )
    data = {"username": "alice", "password": PASSWORD, "confirm": PASSWORD}
    response = second.post(
        "/register",
        data={"csrf_token": form_token, **data},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/register"},
    )
    assert response.status_code == 302
    # ... because both read the one key the first of them stored.
    with engine.connect() as conn:
        keys = conn.execute(select(ServerSecretRow.name, ServerSecretRow.value)).all()
    assert [name for name, _ in keys] == ["session"]
    assert apps[0].secret_key == apps[1].secret_key == bytes(keys[0][1])


def test_a_configured_session_key_is_used_and_none_is_stored(
    engine: Engine, tmp_path: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MUTUALOG_SECRET_KEY", "k" * 40)
    app = make_app(engine, tmp_path, clock)
    try:
        assert register(app.test_client()).status_code == 302
        assert app.secret_key == "k" * 40
        with engine.connect() as conn:
            assert conn.execute(select(ServerSecretRow.name)).all() == []
    finally:
        app.extensions["mutualog"].engine.dispose()


# --- passwords in storage ------------------------------------------------------------------------


def test_no_password_is_stored_in_the_clear(apps: list[Flask], engine: Engine) -> None:
    client = apps[0].test_client()
    register(client)
    client.post("/login", data={"username": "alice", "password": "a wrong guess"})
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            rows = conn.execute(text(f'SELECT * FROM "{table}"')).all()
            dump = repr(rows)
            assert PASSWORD not in dump, table
            assert "a wrong guess" not in dump, table
        hashed = conn.execute(text("SELECT password_hash FROM accounts")).scalar()
    assert isinstance(hashed, str) and hashed.startswith("$argon2id$")
