"""The public pages: what they show, that they fill in this server's real
origin, key and URL, that they escape what the log holds, that they work on
an empty pool, and that they show nothing private."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape

from server import create_app
from server.cli import cli
from server.db import make_engine, upgrade
from server.pool_app import current_pool
from server.pool_figures import yuan
from server.private.evidence import Upload
from tests.clock import FixedClock
from tests.server.demo_helpers import DemoBuild, clear_environment, demo_app, shared_demo
from tests.server.pool_helpers import PDF, RULES, add_members, make_pool_app, row_counts
from tests.server.test_demo_privacy import Needle, Private, private_of, scan

PAGES = ("/pool", "/pool/claims", "/log", "/verify")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_environment(monkeypatch)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    return shared_demo(tmp_path_factory)


@pytest.fixture(scope="module")
def app(demo: DemoBuild) -> Iterator[Flask]:
    with demo_app(demo) as app:
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _text(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def _code(page: str, id_: str) -> str:
    found = re.search(rf'<code id="{id_}">([^<]*)</code>', page)
    assert found, id_
    return unescape(found[1])


@pytest.mark.parametrize(
    ("fen", "shown"),
    [
        (0, "¥0.00"),
        (5, "¥0.05"),
        (100, "¥1.00"),
        (123_456_789, "¥1,234,567.89"),
        (-30, "-¥0.30"),
        (-123_456, "-¥1,234.56"),
        (2**63, "¥92,233,720,368,547,758.08"),
    ],
)
def test_yuan_writes_fen_exactly(fen: int, shown: str) -> None:
    assert yuan(fen) == shown


def test_the_verify_page_fills_in_this_servers_origin_key_and_url(client: FlaskClient) -> None:
    log = client.get("/api/v1/log").get_json()
    page = _text(client, "/verify")
    url = "http://localhost/"
    assert _code(page, "cmd-trust") == f"mutualog trust {log['origin']} {log['verifier_key']}"
    assert _code(page, "cmd-sync") == f"mutualog sync {url}"
    assert _code(page, "cmd-audit") == f"mutualog audit {url}"
    periods = client.get("/api/v1/pool/periods").get_json()["periods"]
    deduction = _code(page, "cmd-deduction")
    assert deduction == (
        f"mutualog verify-deduction --member YOUR_MEMBER_ID --period {periods[-1]['period']}"
    )
    assert _code(page, "cmd-fetch-deduction") == (
        f"mutualog fetch deduction {url} --member YOUR_MEMBER_ID --period {periods[-1]['period']}"
    )
    assert _code(page, "cmd-receipt") == "mutualog verify-receipt receipt.json"
    claim = _code(page, "cmd-claim").removeprefix("mutualog verify-claim ")
    assert _code(page, "cmd-fetch-claim") == f"mutualog fetch claim {claim} {url}"
    assert client.get(f"/api/v1/pool/claims/{claim}").get_json()["decision"] is not None
    # Another host name is what the commands name.
    other = client.get("/verify", base_url="https://pool.example.org")
    assert "mutualog audit https://pool.example.org/" in other.get_data(as_text=True)


def test_the_log_page_shows_the_latest_checkpoint_and_key(client: FlaskClient) -> None:
    log = client.get("/api/v1/log").get_json()
    page = _text(client, "/log")
    assert _code(page, "origin") == log["origin"]
    assert _code(page, "vkey") == log["verifier_key"]
    assert _code(page, "root-hash") == log["root_hash"]
    found = re.search(r'<pre id="checkpoint">([^<]*)</pre>', page)
    assert found and unescape(found[1]) == client.get("/checkpoint").get_data(as_text=True)
    assert re.search(rf'id="checkpoint-size">{log["size"]}<', page)


def test_a_claim_page_shows_its_notice_and_hides_its_claimant(
    client: FlaskClient, demo: DemoBuild
) -> None:
    claims = client.get("/api/v1/pool/claims?limit=1000").get_json()["claims"]
    paid = next(c for c in claims if c["paid"] is not None)
    detail = client.get(f"/api/v1/pool/claims/{paid['claim']}").get_json()
    page = _text(client, f"/pool/claims/{paid['claim']}")
    assert detail["notice"]["text"] in unescape(page)
    assert f'Paid <strong data-field="paid">{yuan(paid["paid"])}</strong>' in page
    entries = demo.entries()
    filed = entries[paid["filed_seq"]]
    claimant = re.search(rb'"member":"([0-9a-f]{32})"', filed)
    assert claimant and claimant[1].decode() not in page
    assert claimant[1].decode() not in str(detail)


def test_a_claim_still_voting_shows_no_tally(client: FlaskClient) -> None:
    claims = client.get("/api/v1/pool/claims?limit=1000").get_json()["claims"]
    voting = next(c for c in claims if c["stage"] == "voting")
    page = _text(client, f"/pool/claims/{voting['claim']}")
    panel = client.get(f"/api/v1/pool/claims/{voting['claim']}").get_json()["panels"][-1]
    last = re.search(rf'id="round-{panel["round"]}">(.*?)</article>', page, re.S)
    assert last
    assert 'data-field="approvals"' not in last[1]
    assert "No running tally is shown" in last[1]
    assert f'data-field="sealed">{len(panel["sealed"])}<' in last[1]


def test_the_public_pages_and_json_show_nothing_private(
    client: FlaskClient, demo: DemoBuild
) -> None:
    private: Private = private_of(demo)
    shown = [client.get(p).get_data() for p in PAGES]
    shown += [client.get(f"/api/v1/pool{p}").get_data() for p in ("", "/periods", "/claims")]
    claims = client.get("/api/v1/pool/claims?limit=1000").get_json()["claims"]
    for claim in claims:
        shown.append(client.get(f"/pool/claims/{claim['claim']}").get_data())
        shown.append(client.get(f"/api/v1/pool/claims/{claim['claim']}").get_data())
    needles = list(private.needles())
    assert scan(shown, needles) == []
    # The scan does look at the pages.
    assert scan(shown, [Needle("notice", b"asks for aid for")])


def test_the_pages_link_each_other(client: FlaskClient) -> None:
    overview = _text(client, "/pool")
    assert 'href="/pool/claims"' in overview and 'href="/verify"' in overview
    assert 'href="/log"' in overview
    claims = _text(client, "/pool/claims")
    first = re.search(r'href="(/pool/claims/[0-9a-f]{32})"', claims)
    assert first and client.get(first[1]).status_code == 200


# --- an empty pool, a pool built through the service, no pool at all -------------


def test_the_pages_work_on_an_empty_log(tmp_path: Path) -> None:
    instance = tmp_path / "empty"
    result = CliRunner().invoke(cli, ["--instance", str(instance), "init", "--origin", "e.org/p"])
    assert result.exit_code == 0, result.output
    app = create_app({"MUTUALOG_INSTANCE": instance, "TESTING": True})
    try:
        client = app.test_client()
        for path in PAGES:
            assert client.get(path).status_code == 200, path
        assert "No period has closed yet" in _text(client, "/pool")
        assert "No claim has been filed yet" in _text(client, "/pool/claims")
        assert client.get("/pool/claims?page=2").status_code == 404
        overview = client.get("/api/v1/pool").get_json()
        assert overview["claims"] == 0 and overview["last_period"] is None
        assert client.get("/api/v1/pool/claims").get_json()["claims"] == []
        assert "YYYY-MM-DD" in _text(client, "/verify")
    finally:
        app.extensions["mutualog"].engine.dispose()


def test_an_instance_not_set_up_gets_503_pages_and_json(tmp_path: Path) -> None:
    app = create_app({"MUTUALOG_INSTANCE": tmp_path / "nothing", "TESTING": True})
    try:
        client = app.test_client()
        for path in PAGES:
            response = client.get(path)
            assert response.status_code == 503, path
            assert response.content_type.startswith("text/html")
        for path in ("/api/v1/pool", "/api/v1/pool/claims", f"/api/v1/pool/claims/{'0' * 32}"):
            response = client.get(path)
            assert response.status_code == 503, path
            assert response.get_json()["error"] == "unavailable"
    finally:
        app.extensions["mutualog"].engine.dispose()


def test_notice_text_is_escaped_and_the_pages_follow_the_log(
    sqlite_url: str, tmp_path: Path
) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    clock = FixedClock()
    app = make_pool_app(engine, tmp_path, clock)
    try:
        client = app.test_client()
        with app.app_context():
            pool = current_pool()
            pool.start(RULES)
            members = list(add_members(pool, 3, "member", clock()))
            clock.advance(days=11)
            upload = Upload(PDF, "application/pdf", "a.pdf")
            claim = pool.file_claim(members[0], "cancer", 5_000_000, clock().date(), [upload])
        # The index follows the log as it grows.
        assert client.get("/api/v1/pool").get_json()["claims"] == 1
        page = client.get(f"/pool/claims/{claim}").get_data(as_text=True)
        assert "No notice has been published" in page
        hostile = '<script>alert("x")</script> & <b>bold</b>'
        with app.app_context():
            current_pool().publish_notice(claim, hostile)
        before = row_counts(engine)
        page = client.get(f"/pool/claims/{claim}").get_data(as_text=True)
        assert "<script>" not in page and "<b>" not in page
        assert escape(hostile) in page
        assert client.get(f"/api/v1/pool/claims/{claim}").get_json()["notice"]["text"] == hostile
        assert row_counts(engine) == before
    finally:
        app.extensions["mutualog"].engine.dispose()
        engine.dispose()
