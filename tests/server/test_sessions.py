"""Sessions kept on the server, password changes and one-time resets, and
the password policy, on both backends: a cookie copied before sign-out is
refused after it; a password change ends every other session; a reset code
works once, expires, and is stored hashed; weak passwords are refused with
the rule they break, in both languages."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from argon2.profiles import CHEAPEST
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, delete, select
from werkzeug.test import TestResponse

from server import create_app
from server.auth import accounts_service, utc_now
from server.cli import main
from server.keys import create_key_file
from server.models import PasswordResetRow, WebSessionRow
from server.private.accounts import Role
from server.private.errors import InvalidInputError
from server.private.password_policy import check_password

if TYPE_CHECKING:
    from tests.clock import FixedClock

PASSWORD = "correct horse battery"
NEW = "a brand new passphrase"
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_CODE = re.compile(r"reset code for 'alice': ([A-Z2-7-]+)")


@pytest.fixture
def app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    key = tmp_path / "instance" / "log.key"
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
        }
    )
    with app.app_context():
        accounts_service().register("alice", PASSWORD, utc_now())
        accounts_service().register("root", PASSWORD, utc_now(), role=Role.OPERATOR)
    yield app
    app.extensions["mutualog"].engine.dispose()


def send(client: FlaskClient, path: str, lang: str = "en", **fields: str) -> TestResponse:
    """Post the form of the page at ``path`` (sign-out's is on every page)."""
    page = "/" if path == "/logout" else path
    found = _TOKEN.search(client.get(page).get_data(as_text=True))
    assert found, path
    headers = {"Accept-Language": lang}
    return client.post(path, data={"csrf_token": found.group(1), **fields}, headers=headers)


def signed_in(app: Flask, username: str = "alice", password: str = PASSWORD) -> FlaskClient:
    client = app.test_client()
    response = send(client, "/login", username=username, password=password)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def text_of(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def is_signed_in(client: FlaskClient) -> bool:
    return client.get("/dashboard").status_code == 200


# --- sessions ------------------------------------------------------------------------


def test_a_cookie_copied_before_sign_out_is_refused_after_it(app: Flask) -> None:
    browser = signed_in(app)
    cookie = browser.get_cookie("mutualog")
    assert cookie is not None and is_signed_in(browser)
    thief = app.test_client()
    thief.set_cookie("mutualog", cookie.value)
    assert is_signed_in(thief)  # the copy works while the session lives...
    response = send(browser, "/logout", "en")
    assert response.status_code == 302
    refused = thief.get("/dashboard")  # ...and not a moment after sign-out
    assert refused.status_code == 302
    assert refused.headers["Location"] == "/login?next=/dashboard"


def test_the_server_keeps_only_a_hash_of_the_session_id(app: Flask, engine: Engine) -> None:
    browser = signed_in(app)
    with browser.session_transaction() as session:
        session_id = session["sid"]
    with engine.connect() as conn:
        stored = conn.execute(select(WebSessionRow.id_hash, WebSessionRow.revoked)).one()
    assert stored.id_hash == hashlib.sha256(session_id.encode()).digest()
    assert stored.revoked is None


def test_a_signature_alone_does_not_make_a_session(app: Flask, engine: Engine) -> None:
    browser = signed_in(app)
    with engine.begin() as conn:
        conn.execute(delete(WebSessionRow))
    assert not is_signed_in(browser)


# --- changing one's password ------------------------------------------------------------


@pytest.mark.parametrize("username", ["alice", "root"], ids=["member", "operator"])
def test_a_password_change_ends_every_other_session(app: Flask, username: str) -> None:
    here, elsewhere = signed_in(app, username), signed_in(app, username)
    home = "/operator/" if username == "root" else "/dashboard"
    assert elsewhere.get(home).status_code == 200
    page = here.get("/account/password")
    assert page.status_code == 200 and "Current password" in text_of(page)
    response = send(here, "/account/password", current=PASSWORD, new=NEW, confirm=NEW)
    assert (response.status_code, response.headers["Location"]) == (302, home)
    assert "Every other session of your account has ended." in text_of(here.get(home))
    assert here.get(home).status_code == 200  # this browser goes on
    assert elsewhere.get(home).status_code == 302  # the other is signed out
    assert (
        send(app.test_client(), "/login", username=username, password=PASSWORD).status_code == 400
    )
    signed_in(app, username, NEW)


def test_a_wrong_current_password_changes_nothing(app: Flask) -> None:
    here, elsewhere = signed_in(app), signed_in(app)
    response = send(here, "/account/password", current="not my password", new=NEW, confirm=NEW)
    assert response.status_code == 400
    assert "This is not your current password." in text_of(response)
    assert is_signed_in(elsewhere)
    signed_in(app, "alice", PASSWORD)


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", "This password is among the most common ones"),
        ("zh-CN", "这是最常见的密码之一"),
    ],
    ids=["en", "zh"],
)
def test_a_common_new_password_is_refused_in_the_visitors_language(
    app: Flask, lang: str, words: str
) -> None:
    here = signed_in(app)
    response = send(
        here, "/account/password", lang, current=PASSWORD, new="password12", confirm="password12"
    )
    assert response.status_code == 400
    assert words in text_of(response)
    signed_in(app, "alice", PASSWORD)


def test_the_password_page_is_for_signed_in_accounts(app: Flask) -> None:
    response = app.test_client().get("/account/password")
    assert response.headers["Location"] == "/login?next=/account/password"


# --- one-time resets ---------------------------------------------------------------------


def issue(app: Flask, tmp_path: Path, capsys: pytest.CaptureFixture[str], *more: str) -> str:
    url = app.extensions["mutualog"].engine.url.render_as_string(hide_password=False)
    instance = str(tmp_path / "instance")
    argv = ["--instance", instance, "--database-url", url, "reset-password", "ALICE", *more]
    assert main(argv) == 0
    found = _CODE.search(capsys.readouterr().out)
    assert found
    return found.group(1)


def test_a_reset_code_sets_a_new_password_once(
    app: Flask, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = signed_in(app)
    code = issue(app, tmp_path, capsys)
    with engine.connect() as conn:
        stored = conn.scalar(select(PasswordResetRow.code_hash))
    assert isinstance(stored, bytes) and code.encode() not in stored  # kept hashed
    visitor = app.test_client()
    assert "reset code" in text_of(visitor.get("/reset"))
    typed = code.lower().replace("-", " ")  # as a person might type it
    response = send(visitor, "/reset", code=typed, new=NEW, confirm=NEW)
    assert (response.status_code, response.headers["Location"]) == (302, "/login")
    assert not is_signed_in(elsewhere)  # every session of the account ended
    signed_in(app, "alice", NEW)
    again = send(app.test_client(), "/reset", code=code, new=PASSWORD, confirm=PASSWORD)
    assert again.status_code == 400
    assert "This code is not valid" in text_of(again)
    signed_in(app, "alice", NEW)


def test_a_reset_code_expires_and_a_newer_one_voids_it(app: Flask, clock: FixedClock) -> None:
    with app.app_context():
        first = accounts_service().issue_reset("alice", clock(), timedelta(hours=1)).code
        second = accounts_service().issue_reset("alice", clock(), timedelta(hours=1)).code
    voided = send(app.test_client(), "/reset", code=first, new=NEW, confirm=NEW)
    assert voided.status_code == 400
    clock.advance(hours=1)
    expired = send(app.test_client(), "/reset", "zh-CN", code=second, new=NEW, confirm=NEW)
    assert expired.status_code == 400
    assert "这个重置码无效" in text_of(expired)
    signed_in(app, "alice", PASSWORD)


def test_a_reset_for_no_such_account_is_refused(
    app: Flask, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = app.extensions["mutualog"].engine.url.render_as_string(hide_password=False)
    argv = ["--instance", str(tmp_path / "instance"), "--database-url", url]
    assert main([*argv, "reset-password", "nobody"]) == 2
    assert "no account is called 'nobody'" in capsys.readouterr().err


def test_an_issued_code_is_valid_for_the_hours_asked(app: Flask, clock: FixedClock) -> None:
    with app.app_context():
        issued = accounts_service().issue_reset("alice", clock(), timedelta(hours=3))
    assert issued.expires == clock() + timedelta(hours=3)
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){4}", issued.code)


# --- the password policy ---------------------------------------------------------------

POLICY = [
    ("1234567890", "password.common"),
    ("password12", "password.common"),
    (" " * 10, "password.few_characters"),
    ("aaaaaaaaaaaa", "password.few_characters"),
    ("abababababab", "password.few_characters"),
    ("abcdefghijk", "password.sequence"),
    ("9876543210", "password.sequence"),
    ("qwertyuiop", "password.common"),
    ("woaini1314", "password.common"),
    ("Sunshine1987!", "password.common"),
    ("iloveyou 2024", "password.common"),
    ("short", "password.short"),
    ("x" * 257 + "abcd", "password.long"),
    ("Alice", "password.short"),
    ("alice12345", "password.common"),
    ("otter kettle 9", None),
    ("correct horse battery", None),
    ("mutual aid for lihua", None),
    ("沪A-互助-二〇二六", None),
]


@pytest.mark.parametrize(("password", "code"), POLICY, ids=[repr(p)[:20] for p, _ in POLICY])
def test_the_password_policy(password: str, code: str | None) -> None:
    if code is None:
        check_password(password, "alice")
        return
    with pytest.raises(InvalidInputError) as caught:
        check_password(password, "alice")
    assert caught.value.code == code


def test_the_password_may_not_be_the_username() -> None:
    with pytest.raises(InvalidInputError, match="may not be the username"):
        check_password("Alice12345x", "alice12345x")


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", "A password needs at least 5 different characters."), ("zh-CN", "不同的字符")],
    ids=["en", "zh"],
)
def test_registration_names_the_broken_rule_in_both_languages(
    app: Flask, lang: str, words: str
) -> None:
    spaces = " " * 10
    response = send(
        app.test_client(), "/register", lang, username="newcomer", password=spaces, confirm=spaces
    )
    assert response.status_code == 400
    assert words in text_of(response)
