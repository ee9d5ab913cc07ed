"""A member's statement of a period and the dashboard's money: the figures
are the period's ``period.closed`` figures, the formula gives its share,
the paid claims come fifty to a page, another member's period is refused,
the commands stand one per block, and both languages read."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from server.log_index import stored_index
from server.pool_app import current_pool
from server.presenters.member import (
    STATEMENT_PAGE,
    page_count,
    share_formula,
    statement,
)
from server.private.evidence import Upload
from server.rosters import member_deductions
from tests.clock import FixedClock
from tests.server.pool_helpers import PDF, RULES, add_members, served_pool_app, sign_in, text_of
from tests.server.redaction_files import redact_all
from verifiable.log.bodies import Choice, PeriodClosed
from verifiable.pool.index_records import PAID
from verifiable.pool.rules import DEFAULT_RULES

PAID_PERIOD = date(2026, 1, 21)
EARLY_PERIOD = date(2026, 1, 7)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MUTUALOG_SECRET_KEY", "MUTUALOG_SECURE_COOKIES"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    yield from served_pool_app(engine, tmp_path, clock)


@dataclass(frozen=True)
class Paid:
    """A pool whose 2026-01-21 period paid ``claim``: ``claimant`` shared in
    every period, ``late`` joined after 2026-01-07's roster was fixed."""

    claimant: str
    late: str
    late_id: str
    claim: str
    closed: dict[date, tuple[int, PeriodClosed]]


def build(app: Flask, clock: FixedClock) -> Paid:
    with app.app_context():
        pool = current_pool()
        pool.start(RULES)
        usernames = add_members(pool, 6, "member", clock())
        for member in usernames:
            pool.qualify_juror(member)
        pool.commit_jury_pool()
        clock.advance(days=11)
        claimant = next(iter(usernames))
        upload = Upload(PDF, "application/pdf", "a.pdf")
        claim = pool.file_claim(claimant, "cancer", 5_000_000, clock().date(), [upload])
        redact_all(pool, claim)
        pool.publish_notice(claim, "A member aged 18-39 asks for aid for cancer.")
        clock.advance(days=3)
        panel = pool.draw_panel(claim)
        for juror in panel.jurors:
            pool.seal_vote(claim, 1, juror, Choice.APPROVE, "The reports agree.")
        clock.advance(days=3)
        pool.close_voting(claim)
        pool.pay(claim)
        ((late_id, late),) = add_members(pool, 1, "late", clock()).items()
        clock.advance(days=20)
        while pool.state().due_periods or pool.state().expected_period_close(pool.now()):
            pool.close_period()
        with stored_index(pool.engine).at() as index:
            closed = dict(index.closed)
    return Paid(usernames[claimant], late, late_id, claim, closed)


def _yuan(fen: int) -> str:
    whole, cents = divmod(fen, 100)
    return f"¥{whole:,}.{cents:02d}"


def _copied(page: str) -> list[str]:
    """What each copy button copies: the text of the code element it names,
    in its own block."""
    codes = dict(re.findall(r'<pre[^>]*><code id="([^"]+)">([^<]*)</code></pre>', page))
    buttons = re.findall(r'<button [^>]*data-copy="([^"]+)"', page)
    assert buttons and len(buttons) == len(codes) and set(buttons) == set(codes)
    return [codes[b] for b in buttons]


def _words(page: str) -> str:
    """A page's text without its tags, spaces run together."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))


def _chinese(client: FlaskClient) -> FlaskClient:
    client.set_cookie("lang", "zh_CN")
    return client


# --- the statement ----------------------------------------------------------------------


def test_the_statement_shows_the_periods_closed_figures(app: Flask, clock: FixedClock) -> None:
    built = build(app, clock)
    seq, closed = built.closed[PAID_PERIOD]
    assert closed.share > 0 and closed.claims_count == 1
    page = text_of(sign_in(app, built.claimant).get(f"/dashboard/periods/{PAID_PERIOD}"))
    for fen in (closed.share, closed.claims_total, closed.fee, closed.collected):
        assert _yuan(fen) in page
    assert f"{closed.sharing}" in page and f'href="/api/v1/entries/{seq}"' in page
    assert "Management fee, 8% of the aid" in page
    assert "Deducted on Jan 28, 2026" in page  # the rules' calendar: notice 21st, deduct 28th
    assert f'href="/pool/claims/{built.claim}"' in page
    # The commands, one per block, each exactly one command.
    codes = _copied(page)
    assert len(codes) == 2 and all("\n" not in c for c in codes)
    assert codes[0].startswith("mutualog fetch deduction http://127.0.0.1:8000 --member ")
    assert codes[0].endswith(f"--period {PAID_PERIOD}")
    assert codes[1].startswith("mutualog verify-deduction --member ")


def test_the_statement_in_chinese(app: Flask, clock: FixedClock) -> None:
    built = build(app, clock)
    _, closed = built.closed[PAID_PERIOD]
    client = _chinese(sign_in(app, built.claimant))
    page = text_of(client.get(f"/dashboard/periods/{PAID_PERIOD}"))
    assert '<html lang="zh-CN">' in page
    assert "2026年1月21日" in page and "2026年1月28日" in page
    assert "每人分摊" in page and "管理费" in page and _yuan(closed.share) in page
    assert "Statement for" not in page and "Management fee" not in page


def test_the_formula_reproduces_every_periods_share(app: Flask, clock: FixedClock) -> None:
    built = build(app, clock)
    for _, closed in built.closed.values():
        formula = share_formula(closed)
        assert formula.reproduces and not formula.capped
        assert formula.share == formula.exact_share == closed.share
        assert formula.to_share == closed.claims_total + closed.fee + closed.refunds - (
            closed.surplus_in
        )
    # A share that does not follow from its inputs is told.
    _, paid = built.closed[PAID_PERIOD]
    assert not share_formula(replace(paid, share=paid.share + 1)).reproduces
    assert not share_formula(replace(paid, surplus_out=paid.surplus_out + 1)).reproduces


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/dashboard/periods/2025-01-07", 404, "no statement for the period of 2025-01-07"),
        ("/dashboard/periods/2026-13-01", 400, "named by its date"),
        ("/dashboard/periods/yesterday", 400, "named by its date"),
        (f"/dashboard/periods/{PAID_PERIOD}?page=0", 400, "numbered from 1"),
        (f"/dashboard/periods/{PAID_PERIOD}?page=2", 404, "no page 2"),
        (f"/dashboard/periods/{PAID_PERIOD}?page=x", 400, "the page number: ?page=2"),
        (f"/dashboard/periods/{PAID_PERIOD}?page=1&page=1", 400, "one query"),
        (f"/dashboard/periods/{PAID_PERIOD}?sort=amount", 400, "one query"),
    ],
    ids=["not-closed", "bad-month", "not-a-date", "page-0", "page-past", "page-x", "twice", "q"],
)
def test_bad_statement_requests_are_refused_with_a_body(
    app: Flask, clock: FixedClock, path: str, status: int, says: str
) -> None:
    built = build(app, clock)
    response = sign_in(app, built.claimant).get(path)
    assert response.status_code == status
    assert says in text_of(response)


def test_a_period_the_member_did_not_share_in_is_not_theirs(app: Flask, clock: FixedClock) -> None:
    built = build(app, clock)
    late = sign_in(app, built.late)
    refused = late.get(f"/dashboard/periods/{EARLY_PERIOD}")
    assert refused.status_code == 404
    assert "did not share in it" in text_of(refused)
    assert late.get(f"/dashboard/periods/{PAID_PERIOD}").status_code == 200
    chinese = _chinese(sign_in(app, built.late)).get(f"/dashboard/periods/{EARLY_PERIOD}")
    assert chinese.status_code == 404 and "没有分摊" in text_of(chinese)


def test_the_paid_claims_come_fifty_to_a_page(app: Flask, clock: FixedClock) -> None:
    built = build(app, clock)
    # The stored index lists 120 paid claims for the period (the figures
    # stay the entry's: only the list is paged).
    paid = tuple((f"{n:032x}", 100 + n) for n in range(120))
    with app.app_context(), current_pool().engine.begin() as conn:
        key = {"k": PAID.name, "key": PAID_PERIOD.isoformat().encode()}
        conn.execute(text("DELETE FROM state_records WHERE kind = :k AND key = :key"), key)
        conn.execute(
            text("INSERT INTO state_records (kind, key, value) VALUES (:k, :key, :v)"),
            {**key, "v": PAID.codec.encode(paid)},
        )
    client = sign_in(app, built.claimant)
    first = text_of(client.get(f"/dashboard/periods/{PAID_PERIOD}"))
    assert first.count('href="/pool/claims/') == STATEMENT_PAGE
    assert "Claims 1 to 50 of 120" in first and "Page 1 of 3" in first
    assert f'href="/dashboard/periods/{PAID_PERIOD}?page=2"' in first
    last = text_of(client.get(f"/dashboard/periods/{PAID_PERIOD}?page=3"))
    assert last.count('href="/pool/claims/') == 20 and "Claims 101 to 120 of 120" in last
    assert f"/pool/claims/{119:032x}" in last and _yuan(219) in last
    assert client.get(f"/dashboard/periods/{PAID_PERIOD}?page=4").status_code == 404


def test_the_statement_presenter_pages() -> None:
    closed = PeriodClosed(
        period=PAID_PERIOD,
        claims_count=120,
        claims_total=120 * 100,
        claims_root=bytes(32),
        fee=960,
        fee_rate_bp=800,
        refunds=0,
        surplus_in=0,
        surplus_out=4,
        sharing=7,
        share=1852,
        collected=12964,
        roster_root=bytes(32),
        roster_size=7,
    )
    paid = [(f"{n:032x}", 100) for n in range(120)]
    assert page_count(120) == 3 and page_count(0) == 1 and page_count(50) == 1
    second = statement(7, closed, paid, DEFAULT_RULES, ("a", "b"), 2)
    assert (second.first, len(second.claims), second.pages) == (51, 50, 3)
    assert second.deduction_date == date(2026, 1, 28) and second.formula.reproduces
    for bad in (0, 4):
        with pytest.raises(ValueError, match="of a statement of 3 pages"):
            statement(7, closed, paid, DEFAULT_RULES, ("a", "b"), bad)


# --- the dashboard ----------------------------------------------------------------------


def test_the_dashboard_chart_is_the_deductions(app: Flask, clock: FixedClock) -> None:
    built = build(app, clock)
    with app.app_context():
        pool = current_pool()
        member = next(c.member for c in pool.state().claims())
        deductions = member_deductions(pool, member)
        last = pool.state().closed_periods[-1]
    page = text_of(sign_in(app, built.claimant).get("/dashboard"))
    values = [int(v) for v in re.findall(r'data-value="(-?[0-9]+)"', page)]
    assert values == [d.share for d in deductions]
    assert len(re.findall(r'<rect [^>]*class="chart-bar"', page)) == len(deductions)
    words = _words(page)
    assert f"Paid in all: {_yuan(sum(d.share for d in deductions))}" in words
    for d in deductions:
        assert f'href="/dashboard/periods/{d.period}"' in page
    # The next deduction: the open period's, by the calendar, and an estimate
    # labelled as the last closed period's share.
    assert "Next deduction: Feb 28, 2026, for the period of Feb 21, 2026." in words
    assert f"Estimate: about {_yuan(last.share)}" in words and "only an estimate" in words
    # One command per block, each copy button copying exactly its command.
    copied = _copied(page)
    assert len(copied) == 4 and all("\n" not in c and c.startswith("mutualog ") for c in copied)
    assert copied[-1].startswith("mutualog verify-deduction --member ")
    chinese = text_of(_chinese(sign_in(app, built.claimant)).get("/dashboard"))
    assert "下次扣款" in chinese and "2026年2月28日" in chinese and "Next deduction" not in chinese


# --- the member's forms and claim page in both languages --------------------------------


def test_the_claim_form_and_status_page_in_both_languages(app: Flask, clock: FixedClock) -> None:
    built = build(app, clock)
    client = sign_in(app, built.claimant)
    english = text_of(client.get("/claims/new"))
    assert "Illness category" in english and ">cancer<" in english
    status = _words(text_of(client.get(f"/claims/{built.claim}")))
    assert "Filed" in status and "Payout" in status
    assert "¥50,000.00 requested for cancer" in status
    # The filing's time in the pool's zone (00:00 UTC is 8:00 in Shanghai) and
    # the diagnosis month.
    assert "Diagnosed in Jan 2026." in status and "Filed (done) Jan 12, 2026, 8:00 AM" in status
    chinese = _chinese(sign_in(app, built.claimant))
    form = text_of(chinese.get("/claims/new"))
    assert "疾病类别" in form and "癌症" in form and "Illness category" not in form
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    assert token is not None
    fields = {"csrf_token": token.group(1), "category": "cancer", "amount": "12.345"}
    refused = chinese.post("/claims/new", data={**fields, "diagnosed": "2026-01-01"})
    assert refused.status_code == 400
    assert "最多两位小数" in text_of(refused) and "two decimals" not in text_of(refused)
    page = _words(text_of(chinese.get(f"/claims/{built.claim}")))
    assert "已提交" in page and "发放" in page and "2026年1月" in page
    assert "确诊于 2026年1月。" in page and "2026年1月12日 08:00" in page
    assert "Filed" not in page and "requested" not in page
