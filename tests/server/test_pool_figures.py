"""The pool's public figures are the replay's: ``verifiable.pool.replay`` over the
demo's log derives exactly what ``/api/v1/pool`` and its sub-routes answer
and what the public pages show, down to the fen; and every bad request to
those routes is a 4xx, never a 500, that changes nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from server.pool_figures import yuan
from tests.server.demo_helpers import DemoBuild, clear_environment, demo_app, shared_demo
from verifiable.log.bodies import (
    ClaimDecided,
    ClaimNoticed,
    ClaimPaid,
    PanelDrawn,
    PeriodClosed,
)
from verifiable.log.entry import parse_entry
from verifiable.pool.replay import ReplayResult, replay
from verifiable.pool.state import Stage


@dataclass(frozen=True)
class Pool:
    app: Flask
    client: FlaskClient
    entries: list[bytes]
    result: ReplayResult


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_environment(monkeypatch)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    return shared_demo(tmp_path_factory)


@pytest.fixture(scope="module")
def pool(demo: DemoBuild) -> Iterator[Pool]:
    with demo_app(demo) as app:
        entries = demo.entries()
        yield Pool(app, app.test_client(), entries, replay(entries))


def _get(pool: Pool, path: str) -> Any:
    response = pool.client.get(path)
    assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
    return response.get_json()


def _bodies(pool: Pool, kind: type[Any]) -> list[tuple[int, Any]]:
    tag = f'"{kind.TYPE}"'.encode()
    found = [(n, parse_entry(e, seq=n).body) for n, e in enumerate(pool.entries) if tag in e]
    return [(n, body) for n, body in found if isinstance(body, kind)]


def fen(shown: str) -> int:
    """A page's ``¥1,234.05`` back in fen, exactly."""
    found = re.fullmatch(r"(-?)¥([0-9]{1,3}(?:,[0-9]{3})*)\.([0-9]{2})", shown.strip())
    assert found, shown
    value = int(found[2].replace(",", "")) * 100 + int(found[3])
    return -value if found[1] else value


# --- JSON ------------------------------------------------------------------------


def test_the_overview_is_the_replays(pool: Pool) -> None:
    summary, state = pool.result.summary, pool.result.state
    got = _get(pool, "/api/v1/pool")
    assert got["size"] == len(pool.entries) == summary.entries
    assert got["members"] == summary.members
    assert got["members_left"] == summary.members_left
    assert got["jurors"] == summary.jurors
    assert got["claims"] == summary.claims
    assert got["claims_by_stage"] == dict(summary.claims_by_stage)
    assert got["periods_closed"] == summary.periods_closed
    ledger = summary.ledger
    assert got["ledger"] == {
        "collected": ledger.collected,
        "aid": ledger.aid,
        "fees": ledger.fees,
        "refunds": ledger.refunds,
        "surplus": ledger.surplus,
    }
    paid = [body for _, body in _bodies(pool, ClaimPaid)]
    assert got["paid"] == {"count": len(paid), "total": sum(p.amount for p in paid)}
    assert got["paid"]["count"] == sum(1 for c in state.claims() if c.stage is Stage.PAID)
    decided = [body.outcome.value for _, body in _bodies(pool, ClaimDecided)]
    assert got["decisions_by_outcome"] == {o: decided.count(o) for o in got["decisions_by_outcome"]}
    assert sum(got["decisions_by_outcome"].values()) == len(decided)
    assert got["current_period"] == str(state.current_period)
    assert got["last_period"] == _get(pool, "/api/v1/pool/periods")["periods"][-1]


def test_every_closed_period_is_the_replays_with_its_entry(pool: Pool) -> None:
    got = _get(pool, "/api/v1/pool/periods")
    closed = pool.result.state.closed_periods
    assert got["size"] == len(pool.entries)
    assert len(got["periods"]) == len(closed) >= 6
    for row, expected in zip(got["periods"], closed, strict=True):
        seq = row.pop("seq")
        assert row == expected.to_json()
        assert parse_entry(pool.entries[seq], seq=seq).body == expected
        assert isinstance(expected, PeriodClosed) and row["share"] == expected.share


def test_the_claims_list_pages_through_every_claim(pool: Pool) -> None:
    views = list(pool.result.state.claims())
    listed: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = _get(pool, f"/api/v1/pool/claims?offset={offset}&limit=7")
        assert page["total"] == len(views) and page["offset"] == offset and page["limit"] == 7
        listed += page["claims"]
        offset += 7
        if offset >= len(views):
            break
    assert [c["claim"] for c in listed] == [v.id for v in views]
    for item, view in zip(listed, views, strict=True):
        assert item["stage"] == view.stage.value
        assert item["requested"] == view.requested
        assert item["category"] == view.category and item["age_band"] == view.band.value
        assert item["round"] == view.round and item["appeal"] == view.appeal
        assert item["decision"] == (view.outcome.value if view.outcome else None)
        assert item["amount"] == view.amount
        assert item["noticed"] == (view.notice_amount if item["noticed_seq"] is not None else None)
        assert item["paid"] == (view.amount if view.stage is Stage.PAID else None)
        assert item["filed_seq"] == view.filed_seq
    assert _get(pool, f"/api/v1/pool/claims?offset={len(views)}")["claims"] == []


def test_each_claims_history_is_its_entries(pool: Pool) -> None:
    state = pool.result.state
    by_claim: dict[str, dict[str, list[tuple[int, Any]]]] = {}
    for kind in (ClaimNoticed, PanelDrawn, ClaimDecided, ClaimPaid):
        for seq, body in _bodies(pool, kind):
            by_claim.setdefault(body.claim, {}).setdefault(kind.TYPE, []).append((seq, body))
    for view in state.claims():
        got = _get(pool, f"/api/v1/pool/claims/{view.id}")
        mine = by_claim.get(view.id, {})
        assert got["stage"] == view.stage.value and got["amount"] == view.amount
        decisions = mine.get("claim.decided", [])
        assert got["decisions"] == [
            {
                "seq": seq,
                "round": d.round,
                "approvals": d.approvals,
                "rejections": d.rejections,
                "outcome": d.outcome.value,
                "amount": d.amount,
            }
            for seq, d in decisions
        ]
        panels = mine.get("panel.drawn", [])
        assert [(p["seq"], p["round"], p["appeal"], p["jurors"]) for p in got["panels"]] == [
            (seq, p.round, p.appeal, list(p.jurors)) for seq, p in panels
        ]
        if view.stage is Stage.VOTING:
            assert got["panels"][-1]["jurors"] == list(view.jurors)
            assert len(got["panels"][-1]["sealed"]) == view.sealed
        paid = mine.get("claim.paid", [])
        assert got["paid_seq"] == (paid[0][0] if paid else None)
        notices = mine.get("claim.noticed", [])
        assert got["notice"] == (
            {
                "seq": notices[0][0],
                "text": notices[0][1].text,
                "amount": notices[0][1].amount,
                "age_band": notices[0][1].age_band.value,
                "category": notices[0][1].category,
                "objections_until": notices[0][1].to_json()["objections_until"],
            }
            if notices
            else None
        )
        # Every seq listed is an entry of that type about this claim.
        for item in got["entries"]:
            entry = parse_entry(pool.entries[item["seq"]], seq=item["seq"])
            assert entry.type == item["type"]
            assert view.id in {
                getattr(entry.body, "claim", None),
                getattr(entry.body, "target", None),
            }
        assert got["entries"][0] == {"seq": view.filed_seq, "type": "claim.filed"}


# --- pages -----------------------------------------------------------------------


def _page(pool: Pool, path: str) -> str:
    response = pool.client.get(path)
    assert response.status_code == 200, path
    assert response.content_type.startswith("text/html")
    return response.get_data(as_text=True)


def _by_id(page: str, id_: str) -> str:
    found = re.search(rf'id="{id_}"[^>]*>([^<]*)<', page)
    assert found, id_
    return unescape(found[1]).strip()


def _cells(row: str) -> dict[str, str]:
    return {
        name: unescape(value).strip()
        for name, value in re.findall(r'data-field="([a-z_]+)">([^<]*)<', row)
    }


def _codes(html: str) -> dict[str, str]:
    """The log's codes behind the words a page shows (``data-code``), by field."""
    return dict(
        (name, code)
        for code, name in re.findall(r'data-code="([^"]*)" data-field="([a-z_]+)"', html)
    )


def _count(shown: str) -> int:
    """A count as the page writes it, with its thousands separators."""
    assert re.fullmatch(r"[0-9]{1,3}(?:,[0-9]{3})*", shown), shown
    return int(shown.replace(",", ""))


def test_the_overview_page_shows_the_replays_figures(pool: Pool) -> None:
    summary, state = pool.result.summary, pool.result.state
    page = _page(pool, "/pool")
    assert _count(_by_id(page, "size")) == summary.entries
    assert _count(_by_id(page, "members")) == summary.members
    assert _count(_by_id(page, "members-left")) == summary.members_left
    assert _count(_by_id(page, "jurors")) == summary.jurors
    assert _count(_by_id(page, "claims")) == summary.claims
    assert _count(_by_id(page, "periods-closed")) == summary.periods_closed
    paid = [body.amount for _, body in _bodies(pool, ClaimPaid)]
    assert _count(_by_id(page, "paid-count")) == len(paid)
    assert fen(_by_id(page, "paid-total")) == sum(paid)
    for name in ("collected", "aid", "fees", "refunds", "surplus"):
        assert fen(_by_id(page, f"ledger-{name}")) == getattr(summary.ledger, name), name
    for stage, count in summary.claims_by_stage:
        found = re.search(rf'data-stage="{stage}"><th scope="row">[^<]+</th><td>([0-9,]+)<', page)
        assert found and _count(found[1]) == count, stage
    # The latest share first, then the periods newest first.
    last = state.closed_periods[-1]
    assert fen(_by_id(page, "share")) == last.share
    rows = re.findall(r'<tr id="period-([0-9-]+)">(.*?)</tr>', page, re.S)
    assert len(rows) == len(state.closed_periods)
    for (period, row), closed in zip(rows, reversed(state.closed_periods), strict=True):
        assert period == closed.period.isoformat()
        cells = _cells(row)
        for name in ("claims_count", "sharing", "roster_size"):
            assert _count(cells[name]) == getattr(closed, name), name
        for name in ("claims_total", "fee", "refunds", "surplus_in", "surplus_out", "share"):
            assert fen(cells[name]) == getattr(closed, name), name
        assert fen(cells["collected"]) == closed.collected


def test_the_claims_pages_show_every_claim(pool: Pool) -> None:
    views = list(pool.result.state.claims())
    shown: list[tuple[str, dict[str, str]]] = []
    page = 1
    while True:
        html = _page(pool, f"/pool/claims?page={page}")
        shown += [
            (c, _cells(row) | {f"{k}_code": v for k, v in _codes(row).items()})
            for c, row in re.findall(r'<tr id="claim-([0-9a-f]{32})">(.*?)</tr>', html, re.S)
        ]
        if 'rel="next"' not in html:
            break
        page += 1
    assert page == -(-len(views) // 50)
    assert [c for c, _ in shown] == [v.id for v in views]
    for (_, cells), view in zip(shown, views, strict=True):
        assert fen(cells["requested"]) == view.requested
        assert cells["stage_code"] == view.stage.value
        assert cells["decision_code"] == (view.outcome.value if view.outcome else "")
        assert cells["category_code"] == view.category
        assert cells["paid"] == (yuan(view.amount) if view.stage is Stage.PAID else "—")


def test_each_claim_page_shows_its_tallies_and_links(pool: Pool) -> None:
    size = len(pool.entries)
    decided: dict[str, list[tuple[int, ClaimDecided]]] = {}
    for seq, body in _bodies(pool, ClaimDecided):
        decided.setdefault(body.claim, []).append((seq, body))
    for view in pool.result.state.claims():
        page = _page(pool, f"/pool/claims/{view.id}")
        found = re.search(r'id="stage" data-code="([a-z_]+)"', page)
        assert found and found[1] == view.stage.value
        # Once the notice has its facts, the amount requested is shown there, once.
        shown = re.findall(r'id="(?:fact-)?requested"', page)
        assert len(shown) == 1, view.id
        assert fen(_by_id(page, shown[0][4:-1])) == view.requested
        for seq, d in decided.get(view.id, []):
            end = "</article>" if d.round else "</p>"
            block = re.search(rf'id="round-{d.round}">(.*?){end}', page, re.S)
            assert block, (view.id, d.round)
            cells = _cells(block[1])
            assert _codes(block[1])["outcome"] == d.outcome.value
            if d.round:
                assert int(cells["approvals"]) == d.approvals
                assert int(cells["rejections"]) == d.rejections
            assert f'href="/api/v1/entries/{seq}"' in page
            assert f'href="/api/v1/proof/inclusion?index={seq}&amp;size={size}"' in page
        # Every entry linked is one of this claim's.
        listed = {
            str(item["seq"]) for item in _get(pool, f"/api/v1/pool/claims/{view.id}")["entries"]
        }
        assert set(re.findall(r'href="/api/v1/entries/(\d+)"', page)) == listed


# --- the OpenAPI document ----------------------------------------------------------


def test_the_openapi_document_names_every_pool_route(pool: Pool) -> None:
    document = _get(pool, "/api/v1/openapi.json")
    validate(document)
    documented = {"/api/v1" + p for p in document["paths"] if p.startswith("/pool")}
    routed = {
        re.sub(r"<([a-z_]+)>", r"{\1}", rule.rule)
        for rule in pool.app.url_map.iter_rules()
        if rule.endpoint.startswith("pool_api.")
    }
    assert documented == routed


# --- bad requests ----------------------------------------------------------------

CLAIM = "0" * 32
BAD = [
    # (path, status) — JSON routes answer JSON, pages answer HTML.
    ("/api/v1/pool?x=1", 400),
    ("/api/v1/pool/periods?size=1", 400),
    ("/api/v1/pool/claims?offset=-1", 400),
    ("/api/v1/pool/claims?offset=1e3", 400),
    ("/api/v1/pool/claims?offset=01", 400),
    ("/api/v1/pool/claims?offset=%EF%BC%91", 400),  # a full-width digit one
    ("/api/v1/pool/claims?offset=18446744073709551616", 400),
    ("/api/v1/pool/claims?offset=18446744073709551615", 400),  # past the claims
    ("/api/v1/pool/claims?limit=-5", 400),
    ("/api/v1/pool/claims?limit=0", 400),
    ("/api/v1/pool/claims?limit=1001", 400),
    ("/api/v1/pool/claims?limit=", 400),
    ("/api/v1/pool/claims?limit=1&limit=2", 400),
    ("/api/v1/pool/claims?page=1", 400),
    ("/api/v1/pool/claims/xyz", 400),
    ("/api/v1/pool/claims/" + "A" * 32, 400),
    ("/api/v1/pool/claims/" + "0" * 33, 400),
    ("/api/v1/pool/claims/%27%20OR%201=1--", 400),
    (f"/api/v1/pool/claims/{CLAIM}", 404),
    (f"/api/v1/pool/claims/{CLAIM}?x=1", 400),
    ("/api/v1/pool/claims/../periods", 404),
    ("/pool?page=1", 400),
    ("/pool/claims?page=0", 400),
    ("/pool/claims?page=-1", 400),
    ("/pool/claims?page=x", 400),
    ("/pool/claims?page=99999999999999999999999", 400),
    ("/pool/claims?page=1&page=1", 400),
    ("/pool/claims?page=9223372036854775807", 404),
    ("/pool/claims?page=18446744073709551615", 400),  # beyond a database integer
    ("/pool/claims?offset=0", 400),
    ("/pool/claims/xyz", 404),
    ("/pool/claims/" + "F" * 32, 404),
    (f"/pool/claims/{CLAIM}", 404),
    (f"/pool/claims/{CLAIM}?x=1", 400),
    ("/log?x=1", 400),
    ("/verify?x=1", 400),
]


@pytest.mark.parametrize(("path", "status"), BAD, ids=[p for p, _ in BAD])
def test_bad_requests_are_refused_cleanly(pool: Pool, path: str, status: int) -> None:
    size = pool.app.extensions["mutualog"].store.size()
    response = pool.client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    if path.startswith("/api/"):
        assert set(response.get_json()) == {"error", "message"}
    else:
        assert response.content_type.startswith("text/html")
        assert "Traceback" not in response.get_data(as_text=True)
    assert pool.app.extensions["mutualog"].store.size() == size


@pytest.mark.parametrize("path", ["/api/v1/pool", "/pool", "/pool/claims", "/log", "/verify"])
def test_writes_are_not_allowed(pool: Pool, path: str) -> None:
    assert pool.client.post(path).status_code in (400, 405)
