"""The public pages: what they show, that they fill in this server's real
origin, key and URL, that they escape what the log holds, that they work on
an empty pool, and that they show nothing private."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from functools import partial
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import segno
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape

from server import create_app, i18n
from server.cli import cli
from server.db import make_engine, upgrade
from server.pool_app import current_pool
from server.pool_figures import yuan
from server.private.evidence import Upload
from tests.clock import FixedClock
from tests.server.demo_helpers import DemoBuild, clear_environment, demo_app, shared_demo
from tests.server.pool_helpers import PDF, RULES, add_members, make_pool_app, row_counts
from tests.server.redaction_files import redact_all
from tests.server.test_demo_privacy import Needle, Private, private_of, scan
from verifiable.log.entry import parse_entry
from verifiable.log.trust_text import TrustText
from verifiable.pool.rules import DEFAULT_RULES

PAGES = ("/pool", "/pool/claims", "/pool/rules", "/log", "/verify")


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
    url = "http://127.0.0.1:8000"  # MUTUALOG_PUBLIC_URL unset: its default
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
    # A request's Host header never reaches the commands (MUTUALOG_PUBLIC_URL does).
    other = client.get("/verify", base_url="https://pool.example.org")
    assert "pool.example.org" not in other.get_data(as_text=True)
    assert _code(_text(client, "/verify"), "cmd-sync") == f"mutualog sync {url}"


def test_the_log_page_shows_the_latest_checkpoint_and_key(client: FlaskClient) -> None:
    log = client.get("/api/v1/log").get_json()
    page = _text(client, "/log")
    assert _code(page, "origin") == log["origin"]
    assert _code(page, "vkey") == log["verifier_key"]
    assert _code(page, "root-hash") == log["root_hash"]
    found = re.search(r'<pre id="checkpoint">([^<]*)</pre>', page)
    assert found and unescape(found[1]) == client.get("/checkpoint").get_data(as_text=True)
    assert re.search(rf'id="checkpoint-size">{log["size"]}<', page)
    # The witnesses whose cosignature it carries, by name.
    cosigners = re.search(r'<dd id="cosigners">(.*?)</dd>', page, re.S)
    assert cosigners and "<code>localhost/mutualog/demo-witness</code>" in cosigners[1]


def test_the_log_page_publishes_the_trust_text_and_its_qr_code(client: FlaskClient) -> None:
    """What a member's verifier page pins, in a block to copy and a QR code:
    the log's origin and key, the witnesses /api/v1/log names and K."""
    log = client.get("/api/v1/log").get_json()
    response = client.get("/log")
    page = response.get_data(as_text=True)
    text = unescape(_code(page, "trust-text"))
    trust = TrustText.from_text(text)
    assert text == trust.to_text()
    # The policy a member should pin, as /verify's trust command gives it:
    # no witness while the log asks for none (K = 0).
    required = log["witnesses_required"]
    witnesses = tuple(w["verifier_key"] for w in log["witnesses"]) if required else ()
    assert trust == TrustText(log["origin"], log["verifier_key"], witnesses, required)
    # The same text as a QR code, an inline SVG drawn with attributes only:
    # the CSP allows no inline style.
    svg = re.search(r'<figure class="trust-qr">(<svg .*?</svg>)</figure>', page, re.S)
    assert svg and 'class="qr"' in svg[1] and "viewBox" in svg[1]
    assert "style" not in svg[1] and "<script" not in svg[1]
    assert "<title>The trust text above, as a QR code</title>" in svg[1]
    assert (
        segno.make(text, error="m", micro=False).svg_inline(
            scale=4,
            border=4,
            dark="#000",
            light="#fff",
            svgclass="qr",
            lineclass=None,
            omitsize=True,
            title="The trust text above, as a QR code",
        )
        == svg[1]
    )
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]


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
    assert scan(shown, [Needle("notice", "的会员因".encode())])


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
            redact_all(current_pool(), claim)
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


# --- the share first, the charts, the rules, a claim by the clock (issue 11) -------

ZH = {"Accept-Language": "zh-CN"}


def _zh(client: FlaskClient, path: str) -> str:
    response = client.get(path, headers=ZH)
    assert response.status_code == 200, path
    page = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    return page


def _table(page: str, id_: str) -> list[tuple[str, int, str]]:
    """A chart's table: each row's label, the number it is drawn from, and the
    number as the page writes it."""
    table = re.search(rf'<table id="{id_}">(.*?)</table>', page, re.S)
    assert table, id_
    rows = re.findall(
        r'<tr><th scope="row">([^<]*)</th><td data-value="(-?\d+)">([^<]*)</td></tr>', table[1]
    )
    return [(unescape(label), int(value), unescape(shown)) for label, value, shown in rows]


def _svg(page: str, id_: str) -> str:
    found = re.search(rf'<svg [^>]*id="{id_}-svg".*?</svg>', page, re.S)
    assert found, id_
    return found[0]


def test_the_pool_page_opens_with_the_share_per_member(client: FlaskClient, app: Flask) -> None:
    periods = client.get("/api/v1/pool/periods").get_json()["periods"]
    last = periods[-1]
    for page, heading in (
        (_text(client, "/pool"), "Share per member"),
        (_zh(client, "/pool"), "每人分摊金额"),
    ):
        # The share comes before every other figure and chart.
        order = [
            page.index(f'id="{id_}"') for id_ in ("share", "chart-share", "members", "periods")
        ]
        assert order == sorted(order)
        assert f'<h2 id="share-heading">{heading}</h2>' in page
        shown = re.search(r'<p class="share-figure" id="share">([^<]*)</p>', page)
        assert shown and shown[1] == yuan(last["share"])
        assert f'href="/api/v1/entries/{last["seq"]}"' in page
    page = _text(client, "/pool")
    assert f'<dd id="sharing">{last["sharing"]:,}</dd>' in page
    # Deducted on the rules' deduction day paired with the period's notice day.
    deducted = DEFAULT_RULES.deduction_date(date.fromisoformat(last["period"]))
    with app.test_request_context():
        assert f'<dd id="deducted">{i18n.date(deducted)}</dd>' in page
    with app.test_request_context(headers=ZH):
        assert f'<dd id="deducted">{i18n.date(deducted)}</dd>' in _zh(client, "/pool")
        assert "扣款日" in _zh(client, "/pool")


def test_the_charts_draw_the_logged_numbers_in_both_languages(client: FlaskClient) -> None:
    periods = client.get("/api/v1/pool/periods").get_json()["periods"][-24:]
    claims = client.get("/api/v1/pool/claims?limit=1000").get_json()["claims"]
    by_outcome = {o: 0 for o in ("approved", "rejected", "no_quorum", "ineligible", "undecided")}
    for claim in claims:
        by_outcome[claim["decision"] or "undecided"] += 1
    for page in (_text(client, "/pool"), _zh(client, "/pool")):
        shares = _table(page, "chart-share-table")
        assert [v for _, v, _ in shares] == [p["share"] for p in periods]
        assert [s for _, _, s in shares] == [yuan(p["share"]) for p in periods]
        members = _table(page, "chart-members-table")
        assert [v for _, v, _ in members] == [p["sharing"] for p in periods]
        assert [s for _, _, s in members] == [f"{p['sharing']:,}" for p in periods]
        outcomes = _table(page, "chart-outcomes-table")
        assert [v for _, v, _ in outcomes] == list(by_outcome.values())
        for id_ in ("chart-share", "chart-members", "chart-outcomes"):
            svg = _svg(page, id_)
            assert f'aria-labelledby="{id_}-caption"' in svg and 'role="img"' in svg
            assert "<script" not in svg and "style=" not in svg and "href" not in svg
            assert f'<figcaption id="{id_}-caption">' in page
        # One bar per period; one row per outcome.
        assert _svg(page, "chart-share").count("<rect ") == len(periods)
        assert _svg(page, "chart-outcomes").count("<rect ") == len(by_outcome)
        # Nothing on the page for a browser to fetch from elsewhere or run inline.
        assert "style=" not in page and "<style" not in page
        assert not re.search(r'<script(?![^>]*src="/static/)', page)
    english, chinese = _text(client, "/pool"), _zh(client, "/pool")
    assert "Claims by outcome" in english and "not decided yet" in english
    assert "按结果统计的互助申请" in chinese and "尚未决定" in chinese
    assert "too few votes" not in chinese


def test_the_claims_list_shows_filing_dates_and_words(
    client: FlaskClient, demo: DemoBuild, app: Flask
) -> None:
    entries = demo.entries()
    page = _text(client, "/pool/claims")
    chinese = _zh(client, "/pool/claims")
    rows = re.findall(r'<tr id="claim-([0-9a-f]{32})">(.*?)</tr>', page, re.S)
    zh_rows = dict(re.findall(r'<tr id="claim-([0-9a-f]{32})">(.*?)</tr>', chinese, re.S))
    claims = {
        c["claim"]: c for c in client.get("/api/v1/pool/claims?limit=1000").get_json()["claims"]
    }
    assert rows
    for claim_id, row in rows:
        filed = parse_entry(entries[claims[claim_id]["filed_seq"]]).time
        found = re.search(r'data-field="filed"><time datetime="([^"]+)">([^<]*)</time>', row)
        assert found and found[1] == filed.isoformat()
        with app.test_request_context():
            assert found[2] == i18n.date(filed)
        with app.test_request_context(headers=ZH):
            assert i18n.date(filed) in zh_rows[claim_id]
            assert i18n.category(claims[claim_id]["category"]) in zh_rows[claim_id]
        # No entry number in the filing's column, and categories in words.
        assert "_" not in re.sub(r'data-[a-z]+="[^"]*"', "", row)
    assert "其他重大疾病" in chinese or "癌症" in chinese


def _value(page: str, id_: str) -> int:
    found = re.search(rf'id="{id_}" data-value="(\d+)"', page)
    assert found, id_
    return int(found[1])


def test_the_rules_page_states_the_rulebook_in_force(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        state = current_pool().state()
        changes = state.rule_changes
        rules = state.rules_at(current_pool().now())
    assert rules is not None
    for page in (_text(client, "/pool/rules"), _zh(client, "/pool/rules")):
        value = partial(_value, page)
        assert value("waiting-days") == rules.waiting_days
        assert value("filing-days") == rules.filing_days
        assert value("fee") == rules.fee_rate_bp
        assert value("share-cap") == rules.share_cap_per_claim
        assert value("objection-days") == rules.objection_days
        assert value("panel-size") == rules.panel_size
        assert value("voting-days") == rules.voting_days
        assert value("quorum") == rules.quorum(rules.panel_size)
        assert value("threshold") == rules.threshold_bp
        assert value("appeals") == rules.appeal_days
        assert value("jurors") == rules.seasoning_days
        caps = dict(
            re.findall(
                r'<tr data-band="([0-9-]+)"><th scope="row">[^<]*</th><td data-value="(\d+)">', page
            )
        )
        assert {band: int(cap) for band, cap in caps.items()} == {
            c.band.value: c.cap for c in rules.caps
        }
        for c in rules.caps:
            assert yuan(c.cap) in page
        calendar = re.findall(r'data-notice="(\d+)" data-deduction="(\d+)"', page)
        assert calendar == [
            (str(n), str(d)) for n, d in zip(rules.notice_days, rules.deduction_days, strict=True)
        ]
        # Every change, newest first, each with its entry.
        history = re.findall(r'<tr id="change-(\d+)" data-status="([a-z_]+)">', page)
        assert [int(seq) for seq, _ in history] == [c.seq for c in reversed(changes)]
        assert [s for _, s in history].count("in_force") == 1
        for change in changes:
            assert f'href="/api/v1/entries/{change.seq}"' in page
    english, chinese = _text(client, "/pool/rules"), _zh(client, "/pool/rules")
    assert f"{rules.waiting_days} days" in english and "The pool's rules" in english
    assert f"{rules.waiting_days} 天" in chinese and "互助计划规则" in chinese
    assert "8%" in english and "8%" in chinese


def test_the_faq_and_the_rules_are_linked_from_the_pool_and_home(client: FlaskClient) -> None:
    # From /pool and from the front door, for someone who has not joined.
    for page in (_text(client, "/pool"), _text(client, "/")):
        assert 'href="/pool/rules"' in page and 'href="/pool/faq"' in page
    faq = _text(client, "/pool/faq")
    assert "What stays private?" in faq and 'href="/verify"' in faq
    assert "哪些信息不公开" in _zh(client, "/pool/faq")
    for path in ("/verify", "/log"):
        english, chinese = _text(client, path), _zh(client, path)
        assert english != chinese
    verify = _zh(client, "/verify")
    # One command per block, each copied on its own.
    commands = re.findall(
        r'<div class="command">\s*<pre[^>]*><code id="(cmd-[a-z-]+)">([^<]*)</code></pre>'
        r"\s*<button",
        verify,
    )
    assert len(commands) == 9
    assert all("\n" not in text for _, text in commands)
    assert "自己核验" in verify


def _objected_pool(sqlite_url: str, tmp_path: Path) -> tuple[Flask, FixedClock, str, Any]:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    clock = FixedClock()
    app = make_pool_app(engine, tmp_path, clock)
    with app.app_context():
        pool = current_pool()
        pool.start(RULES)
        members = list(add_members(pool, 3, "member", clock()))
        clock.advance(days=11)
        upload = Upload(PDF, "application/pdf", "a.pdf")
        claim = pool.file_claim(members[0], "cancer", 5_000_000, clock().date(), [upload])
        redact_all(pool, claim)
        pool.publish_notice(claim, "A member aged 18-39 asks for aid for cancer.")
        objection = pool.file_objection(claim, members[1], "The invoice date looks wrong.")
        pool.answer(claim, objection, "The hospital corrected it; see the second invoice.")
    return app, clock, claim, engine


def test_a_claim_page_offers_to_object_while_the_window_is_open(
    sqlite_url: str, tmp_path: Path
) -> None:
    app, clock, claim, engine = _objected_pool(sqlite_url, tmp_path)
    try:
        client = app.test_client()
        path = f"/pool/claims/{claim}"
        page = _text(client, path)
        assert 'data-open="yes"' in page and "Members may object until" in page
        assert "could object" not in page
        action = re.search(
            r'<p class="actions" id="object-action">\s*<a class="button" href="([^"]+)"', page
        )
        assert action and action[1] == f"/claims/{claim}#object"
        # The objection and its answer, as logged, for anyone to read.
        assert "The invoice date looks wrong." in page
        assert "The hospital corrected it; see the second invoice." in page
        chinese = _zh(client, path)
        assert "会员可在" in chinese and "对这个申请提出异议" in chinese
        assert "Members may object" not in chinese
        # The filing date and the diagnosis month.
        assert re.search(r'id="filed"><time datetime="2026-01-12T', page)
        assert re.search(r'id="diagnosed">Jan 2026<', page)
        assert re.search(r'id="diagnosed">2026年1月<', chinese)
        # The window closes: the past tense, and no action.
        clock.advance(days=3)
        page = _text(client, path)
        assert 'data-open="no"' in page and "Members could object until" in page
        assert "object-action" not in page and "may object until" not in page
        chinese = _zh(client, path)
        assert "异议期已于" in chinese and "对这个申请提出异议" not in chinese
        # The member's form the action leads to is there (sign-in first).
        assert client.get(f"/claims/{claim}").status_code == 302
    finally:
        app.extensions["mutualog"].engine.dispose()
        engine.dispose()


def test_the_pool_page_kept_for_a_log_size_follows_the_log(sqlite_url: str, tmp_path: Path) -> None:
    app, clock, _, engine = _objected_pool(sqlite_url, tmp_path)
    try:
        client = app.test_client()
        before = _text(client, "/pool")
        assert re.search(r'id="claims">1<', before)
        assert _text(client, "/pool") == before  # kept, and the same
        assert "互助计划" in _zh(client, "/pool")  # kept apart by language
        with app.app_context():
            pool = current_pool()
            member = next(iter(add_members(pool, 1, "late", clock())))
            upload = Upload(PDF, "application/pdf", "b.pdf")
            pool.file_claim(member, "stroke", 100_000, clock().date(), [upload])
        after = _text(client, "/pool")
        assert re.search(r'id="claims">2<', after)
        assert re.search(r'id="members">4<', after)
    finally:
        app.extensions["mutualog"].engine.dispose()
        engine.dispose()
