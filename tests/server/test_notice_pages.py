"""A notice's structured facts through the operator's form and command, and
on every page that shows a notice: the public claim page, the claimant's
page and the juror's case file, in English and in Chinese."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine

from server.auth import accounts_service
from server.cli import main
from server.db import make_engine, upgrade
from server.notice_words import fact_rows, place
from server.pool.notice_facts import NoticeDetails
from server.pool_app import current_pool
from server.private.accounts import Role
from server.private.evidence import Upload
from tests.clock import FixedClock
from tests.server.pool_helpers import (
    PASSWORD,
    PDF,
    RULES,
    add_members,
    csrf,
    make_pool_app,
    sign_in,
    text_of,
)
from tests.server.redaction_files import redact_all
from tests.server.test_authorization import state_of
from verifiable.log.bodies import ClaimNoticed
from verifiable.log.notice_facts import HospitalGrade, NoticeFacts

OPERATOR = "boss"
NOTICE = "一位 18-39 岁会员申请癌症互助金。"
SUMMARY = "出院记录、病理报告与申请一致。已向医院核实。"


@dataclass
class Pool:
    app: Flask
    engine: Engine
    folder: Path
    claims: list[str]
    usernames: dict[str, str]  # member id -> username
    claimants: dict[str, str]  # claim id -> member id
    clock: FixedClock  # the pages'; the commands run on the system's, later


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[Pool]:
    """Seven jurors, three claims of cancer filed 40 days after joining."""
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}")
    upgrade(engine)
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(days=50))
    app = make_pool_app(engine, tmp_path, clock)
    with app.app_context():
        service = current_pool()
        service.start(RULES)
        usernames = add_members(service, 7, "member", clock())
        for member in list(usernames):
            service.qualify_juror(member)
        service.commit_jury_pool()
        claimants = add_members(service, 3, "claimant", clock())
        usernames.update(claimants)
        accounts_service().register(OPERATOR, PASSWORD, clock(), Role.OPERATOR)
        clock.advance(days=40)
        pdf = Upload(PDF, "application/pdf", "discharge.pdf")
        claims = [
            service.file_claim(m, "cancer", 50_000_000, clock().date(), [pdf]) for m in claimants
        ]
        for claim in claims:  # the panel's copies, which a notice commits to
            redact_all(service, claim)
    by_claim = dict(zip(claims, claimants, strict=True))
    yield Pool(app, engine, tmp_path, claims, usernames, by_claim, clock)
    app.extensions["mutualog"].engine.dispose()
    engine.dispose()


def _notice(pool: Pool, claim: str) -> ClaimNoticed:
    with pool.app.app_context():
        body = current_pool().notice(claim)
    assert body is not None
    return body


def _fields(claim: str, **facts: str) -> dict[str, str]:
    return {"claim": claim, "text": NOTICE, **facts}


FACTS = {"grade": "tertiary-a", "province": "44", "summary": SUMMARY}


def test_the_operator_previews_then_publishes_the_facts(pool: Pool) -> None:
    client = sign_in(pool.app, OPERATOR)
    claim = pool.claims[0]
    token = csrf(client, f"/operator/claims/{claim}")
    before = state_of(pool.app, pool.engine)
    preview = client.post(
        "/operator/actions/notice", data={"csrf_token": token, **_fields(claim, **FACTS)}
    )
    page = text_of(preview)
    assert preview.status_code == 200, page
    # Three claims of a band, a category and a month: Guangdong would single
    # one out, and so would South China, and so would the grade; neither is
    # published.
    assert "tertiary hospital, grade A" not in page
    assert "not published: too few claims would share it" in page
    assert SUMMARY in page and "Guangdong" not in page
    assert state_of(pool.app, pool.engine) == before
    done = client.post(
        "/operator/actions/notice/confirm", data={"csrf_token": token, **_fields(claim, **FACTS)}
    )
    assert done.status_code == 302, text_of(done)
    body = _notice(pool, claim)
    assert body.summary == SUMMARY
    shown = text_of(client.get(f"/operator/claims/{claim}"))
    assert SUMMARY in shown and "1 month before the diagnosis" in shown
    facts = body.facts
    assert facts is not None
    assert facts.hospital_grade is None and facts.place is None
    assert (facts.months_member, facts.waiting_met) == (1, True)
    assert (facts.requested, facts.capped) == (50_000_000, 30_000_000)


@pytest.mark.parametrize(
    ("facts", "said"),
    [
        ({"grade": "tertiary-a"}, "Give the hospital's grade, its province and the summary"),
        ({"summary": SUMMARY}, "Give the hospital's grade, its province and the summary"),
        ({**FACTS, "province": "71"}, "Not a valid choice"),
        ({**FACTS, "grade": "famous"}, "Not a valid choice"),
        ({**FACTS, "summary": "x" * 2001}, "2000"),
    ],
    ids=["grade-alone", "summary-alone", "taiwan-code", "unknown-grade", "summary-too-long"],
)
def test_bad_facts_are_refused_and_change_nothing(
    pool: Pool, facts: dict[str, str], said: str
) -> None:
    client = sign_in(pool.app, OPERATOR)
    claim = pool.claims[0]
    token = csrf(client, f"/operator/claims/{claim}")
    before = state_of(pool.app, pool.engine)
    for step in ("", "/confirm"):
        response = client.post(
            f"/operator/actions/notice{step}", data={"csrf_token": token, **_fields(claim, **facts)}
        )
        assert response.status_code == 400
        assert said in text_of(response)
    assert state_of(pool.app, pool.engine) == before


def _args(pool: Pool) -> list[str]:
    return [
        "--instance", str(pool.folder / "instance"),
        "--database-url", f"sqlite:///{pool.folder / 'pool.db'}",
        "pool",
    ]  # fmt: skip


def test_the_command_takes_the_facts(pool: Pool, capsys: pytest.CaptureFixture[str]) -> None:
    claim = pool.claims[1]
    facts = ["--grade", "secondary", "--province", "54", "--summary", SUMMARY]
    code = main([*_args(pool), "notice", claim, "--text", NOTICE, *facts])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "place published: withheld" in out
    body = _notice(pool, claim)
    assert body.facts is not None and body.facts.hospital_grade is None


@pytest.mark.parametrize(
    "facts",
    [
        ["--grade", "secondary", "--province", "54"],
        ["--summary", SUMMARY],
        ["--grade", "secondary", "--province", "71", "--summary", SUMMARY],
    ],
    ids=["no-summary", "summary-alone", "taiwan-code"],
)
def test_the_command_refuses_partial_facts(
    pool: Pool, capsys: pytest.CaptureFixture[str], facts: list[str]
) -> None:
    before = state_of(pool.app, pool.engine)
    code = main([*_args(pool), "notice", pool.claims[1], "--text", NOTICE, *facts])
    capsys.readouterr()
    assert code == 2
    assert state_of(pool.app, pool.engine) == before


def _published(pool: Pool, claim: str) -> None:
    with pool.app.app_context():
        details = NoticeDetails(HospitalGrade.TERTIARY_A, "44", SUMMARY)
        redact_all(current_pool(), claim)
        current_pool().publish_notice(claim, NOTICE, None, details)


def test_the_public_and_member_pages_show_the_facts_in_both_languages(pool: Pool) -> None:
    claim = pool.claims[0]
    _published(pool, claim)
    client = pool.app.test_client()
    english = text_of(client.get(f"/pool/claims/{claim}"))
    for words in ("Hospital", "1 month before the diagnosis",
                  "waiting period met", "¥500,000.00", "¥300,000.00", SUMMARY,
                  "not published: too few claims would share it"):  # fmt: skip
        assert words in english, words
    # Each figure once: the facts and the claim's own rows do not repeat each other.
    assert english.count("Amount requested") == 1
    assert english.count("diagnosed in") + english.count("Diagnosed in") == 1
    client.set_cookie("lang", "zh_CN")
    chinese = text_of(client.get(f"/pool/claims/{claim}"))
    for words in ("确诊前入会 1 个月", "已过等待期", "¥300,000.00", "不公开"):
        assert words in chinese, words
    assert chinese.count("申请金额") == 1 and chinese.count("确诊月份") == 1
    claimant = sign_in(pool.app, pool.usernames[pool.claimants[claim]])
    mine = text_of(claimant.get(f"/claims/{claim}"))
    assert "1 month before the diagnosis" in mine and SUMMARY in mine


def test_a_notice_without_facts_shows_as_before(pool: Pool) -> None:
    claim = pool.claims[2]
    with pool.app.app_context():
        redact_all(current_pool(), claim)
        current_pool().publish_notice(claim, NOTICE)
    page = text_of(pool.app.test_client().get(f"/pool/claims/{claim}"))
    assert NOTICE in page and "Member for" not in page
    assert "The operator's investigation" not in page


def test_the_jurors_case_file_holds_what_is_judged_and_not_who(pool: Pool) -> None:
    """The notice's facts and summary, the objections and answers, and the
    rules' criteria for approving; never the claimant's identity."""
    claim = pool.claims[0]
    _published(pool, claim)
    objection = "The amount requested looks high for this illness."
    answer = "The hospital's bill was checked against the request."
    with pool.app.app_context():
        service = current_pool()
        objector = next(m for m in pool.usernames if m not in pool.claimants.values())
        seq = service.file_objection(claim, objector, objection)
        service.answer(claim, seq, answer)
        pool.clock.advance(days=3)
        panel = service.draw_panel(claim)
        details = service.case_file(claim)
    assert details is not None and details.claimant is not None
    juror = sign_in(pool.app, pool.usernames[panel.jurors[0]])
    page = text_of(juror.get(f"/juror/claims/{claim}"))
    for words in ("1 month before the diagnosis", SUMMARY,
                  objection, answer, "What the panel approves on",
                  "after the waiting period of 10 days", "more than 50% of the votes approve",
                  "the cap of the claimant's age band, ¥300,000.00"):  # fmt: skip
        assert words in page, words
    who = details.claimant
    for private in (who.name, who.id_number, who.phone, pool.claimants[claim]):
        assert private not in page
    juror.set_cookie("lang", "zh_CN")
    chinese = text_of(juror.get(f"/juror/claims/{claim}"))
    assert "评审团依据什么同意" in chinese and "确诊前入会 1 个月" in chinese


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["tertiary hospital, grade A", "Guangdong", "14 months before the diagnosis"]),
        ("zh-CN", ["三级甲等医院", "广东", "确诊前入会 14 个月", "2026年3月"]),
    ],
)
def test_a_province_and_a_grade_in_words(pool: Pool, language: str, words: list[str]) -> None:
    """Where a notice publishes them (a pool with enough claims of the
    combination): the province and the grade in the page's language."""
    facts = NoticeFacts("2026-03", 14, True, HospitalGrade.TERTIARY_A, 1_000, 1_000, "44")
    with pool.app.test_request_context("/", headers={"Accept-Language": language}):
        pool.app.preprocess_request()
        shown = " ".join(value for _id, _label, value in fact_rows(facts))
        region = place("south")
    for word in words:
        assert word in shown, word
    assert region == ("South China" if language == "en" else "华南")
