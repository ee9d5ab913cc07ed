"""The URL the pages print comes from configuration, never from the
request's ``Host``; evidence file names lose their control and bidi
characters; every role's evidence download is the same response, its
files numbered from 1."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from server.auth import accounts_service
from server.config import ConfigError, check_public_url, load_settings
from server.pool_app import current_pool
from server.private.accounts import Role
from server.private.evidence import Upload, clean_filename, list_evidence, store_evidence
from server.private.sealing import is_sealed
from tests.server.pool_helpers import (
    PASSWORD,
    PDF,
    VotingPool,
    build_voting_pool,
    served_pool_app,
    sign_in,
    text_of,
)
from verifiable.log.bodies import Choice

if TYPE_CHECKING:
    from werkzeug.test import TestResponse

    from tests.clock import FixedClock

OPERATOR = "boss"
FORGED = "evil.example"
HOSTILE_NAME = "report\u202egnp.exe\x00\x1b[31m\u2066\u200f\x85.pdf"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MUTUALOG_SECRET_KEY", "MUTUALOG_SECURE_COOKIES", "MUTUALOG_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(params=[None, "https://pool.example.org/mutualog"], ids=["default", "set"])
def public_url(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param is None:
        return "http://127.0.0.1:8000"
    monkeypatch.setenv("MUTUALOG_PUBLIC_URL", request.param + "/")
    return str(request.param)


@pytest.fixture
def app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    yield from served_pool_app(engine, tmp_path, clock)


@pytest.fixture
def voting(app: Flask, clock: FixedClock) -> VotingPool:
    pool = build_voting_pool(app, clock)
    with app.app_context():
        accounts_service().register(OPERATOR, PASSWORD, clock(), Role.OPERATOR)
    return pool


def _forged(app: Flask, client: FlaskClient, path: str) -> TestResponse:
    """``path`` asked with a Host header the attacker chose, in ``client``'s
    session (its cookie sent by hand: a test client keeps cookies per host)."""
    headers = {"Host": FORGED}
    cookie = client.get_cookie("mutualog")
    if cookie is not None:
        headers["Cookie"] = f"mutualog={cookie.value}"
    response = app.test_client(use_cookies=False).get(path, headers=headers)
    assert response.status_code == 200, path
    return response


def _commands(page: str) -> list[str]:
    return re.findall(r'<code id="[a-z-]+">([^<]*)</code>', page)


# --- the public URL ------------------------------------------------------------------


def test_every_printed_command_names_the_configured_url(
    public_url: str, app: Flask, voting: VotingPool, clock: FixedClock
) -> None:
    juror = voting.jurors[0]
    with app.app_context():
        # The claim approved and paid, the periods closed: every command shows.
        pool = current_pool()
        for drawn in voting.jurors:
            pool.seal_vote(voting.claim, 1, drawn, Choice.APPROVE, "The records are clear.")
        clock.advance(days=3)
        pool.close_voting(voting.claim)
        pool.pay(voting.claim)
        clock.advance(days=20)
        while pool.state().due_periods or pool.state().expected_period_close(pool.now()):
            pool.close_period()
        period = pool.state().closed_periods[-1].period.isoformat()
    member = sign_in(app, voting.usernames[voting.claimant])
    pages = {
        "/verify": app.test_client(),
        f"/pool/claims/{voting.claim}": app.test_client(),
        "/dashboard": member,
        f"/dashboard/periods/{period}": member,
        f"/juror/claims/{voting.claim}/1/receipt": sign_in(app, voting.usernames[juror]),
    }
    for path, client in pages.items():
        page = text_of(_forged(app, client, path))
        assert FORGED not in page, path
        naming = [c for c in _commands(page) if "http" in c]
        assert naming, path
        for command in naming:
            assert re.search(rf"(^| ){re.escape(public_url)}/?( |$)", command), (path, command)


@pytest.mark.parametrize(
    "text",
    [
        "ftp://pool.example.org",
        "pool.example.org",
        "http://user@pool.example.org",
        "http://pool.example.org/?next=1",
        "http://pool.example.org/#x",
        "http://pool.example.org/$(id)",
        "http://pool example.org",
        "http://pool.example.org;reboot",
    ],
)
def test_a_public_url_that_a_shell_or_a_client_would_misread_is_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="MUTUALOG_PUBLIC_URL"):
        check_public_url(text)
    with pytest.raises(ConfigError, match="MUTUALOG_PUBLIC_URL"):
        load_settings({"MUTUALOG_PUBLIC_URL": text}, environ={})


def test_the_public_url_is_kept_without_its_trailing_slash() -> None:
    assert load_settings({}, environ={}).public_url == "http://127.0.0.1:8000"
    settings = load_settings({}, environ={"MUTUALOG_PUBLIC_URL": "https://[::1]:8443/pool/"})
    assert settings.public_url == "https://[::1]:8443/pool"


# --- evidence file names -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "clean"),
    [
        (HOSTILE_NAME, "reportgnp.exe[31m.pdf"),
        ("scan\u202a\u202b\u202c\u202d\u2067\u2068\u2069\u200e\u061c.png", "scan.png"),
        ("line\r\nbreak\u2028\u2029.pdf", "linebreak.pdf"),
        ("\u202e\x07  ", None),
        ("出院小结.pdf", "出院小结.pdf"),
        (None, None),
    ],
)
def test_control_and_bidi_characters_leave_a_file_name(name: str | None, clean: str | None) -> None:
    assert clean_filename(name) == clean


def test_a_file_name_is_stored_clean_and_shown_clean_even_if_stored_before(
    app: Flask, voting: VotingPool, engine: Engine, clock: FixedClock
) -> None:
    other = "f" * 32
    store_evidence(engine, other, [Upload(PDF, "application/pdf", HOSTILE_NAME)], clock())
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT filename FROM evidence WHERE claim_id = :c"), {"c": other}
        ).scalar_one()
    # Stored sealed (server.private.sealing), and clean once opened.
    assert is_sealed(stored) and b"report" not in stored
    assert [d.filename for d in list_evidence(engine, other)] == ["reportgnp.exe[31m.pdf"]
    # A name stored before names were cleaned (and before they were sealed:
    # its UTF-8 bytes, as migration 0010 leaves it) is cleaned when read
    # (PostgreSQL never stored a NUL: it refuses them, which cleaning now
    # spares the upload).
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE evidence SET filename = :f WHERE claim_id = :c"),
            {"f": HOSTILE_NAME.replace("\x00", "").encode(), "c": voting.claim},
        )
    assert [d.filename for d in list_evidence(engine, voting.claim)] == ["reportgnp.exe[31m.pdf"]
    shown = [
        sign_in(app, voting.usernames[voting.claimant]).get(f"/claims/{voting.claim}"),
        sign_in(app, OPERATOR).get(f"/operator/claims/{voting.claim}"),
    ]
    for page in shown:
        body = page.get_data(as_text=True)
        assert page.status_code == 200 and "reportgnp.exe[31m.pdf" in body
        assert not re.search("[\u202a-\u202e\u2066-\u2069\u200e\u200f\x00-\x08\x1b\x7f-\x9f]", body)


# --- one evidence response for every role --------------------------------------------


def test_a_juror_is_never_served_the_documents_as_filed(app: Flask, voting: VotingPool) -> None:
    # The panel reads the redacted copies' page images only (server/views/juror_documents.py).
    juror = sign_in(app, voting.usernames[voting.jurors[0]])
    page = juror.get(f"/juror/claims/{voting.claim}").get_data(as_text=True)
    assert "/evidence/" not in page
    for number in ("1", "2"):
        response = juror.get(f"/juror/claims/{voting.claim}/evidence/{number}")
        assert response.status_code == 404 and PDF not in response.data


def test_claimant_and_operator_get_the_same_evidence_response_numbered_from_1(
    app: Flask, voting: VotingPool
) -> None:
    clients = {
        "claimant": (sign_in(app, voting.usernames[voting.claimant]), "/claims"),
        "operator": (sign_in(app, OPERATOR), "/operator/claims"),
    }
    headers = set()
    for who, (client, prefix) in clients.items():
        page = client.get(f"{prefix}/{voting.claim}").get_data(as_text=True)
        link = f"{prefix}/{voting.claim}/evidence/1"
        assert f'href="{link}"' in page, who
        response = client.get(link)
        assert response.status_code == 200 and response.data == PDF, who
        headers.add(
            tuple(
                (name, response.headers[name])
                for name in (
                    "Content-Type",
                    "Content-Disposition",
                    "Content-Security-Policy",
                    "Cache-Control",
                    "X-Content-Type-Options",
                )
            )
        )
        for missing in ("0", "2"):
            assert client.get(f"{prefix}/{voting.claim}/evidence/{missing}").status_code == 404
    assert headers == {
        (
            ("Content-Type", "application/pdf"),
            ("Content-Disposition", f'attachment; filename="claim-{voting.claim}-document-1.pdf"'),
            ("Content-Security-Policy", "sandbox; default-src 'none'"),
            ("Cache-Control", "private, no-store"),
            ("X-Content-Type-Options", "nosniff"),
        )
    }
