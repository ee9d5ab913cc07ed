"""Consents as PIPL asks them (:mod:`server.private.consents`): a claim is
filed only with the claimant's separate consent to the processing of
medical information, a child under 14 joins only with a guardian's
consent; each is recorded with the sentence ticked, in the language it was
shown, and a refused filing leaves no record behind."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from sqlalchemy import Engine

from server.auth import accounts_service
from server.cli import main
from server.pool_app import current_pool
from server.private.consents import ConsentKind, consents_of
from server.private.submissions import new_token
from tests.server.identities import id_number
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
from tests.server.test_authorization import state_of
from tests.server.test_key_check import _url

if TYPE_CHECKING:
    from tests.clock import FixedClock

CHILD = {"name": "Zhang Xiaoming", "phone": "+86 138 1234 5678"}
GUARDIAN_ZH = "我是该儿童的父母或法定监护人"
MEDICAL_EN = "I consent, separately, to the operator processing the medical information"


@pytest.fixture
def app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    app = make_pool_app(engine, tmp_path, clock)
    with app.app_context():
        pool = current_pool()
        pool.start(RULES)
        add_members(pool, 2, "member", clock())
        accounts_service().register("parent", PASSWORD, clock())
    clock.advance(days=11)
    yield app
    app.extensions["mutualog"].engine.dispose()


def _account(app: Flask, username: str) -> int:
    with app.app_context():
        account = accounts_service().by_username(username)
        assert account is not None
        return account.id


def _claim(client: object, **changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "category": "cancer",
        "amount": "52000",
        "medical_consent": "y",
        "evidence": (io.BytesIO(PDF), "report.pdf", "application/pdf"),
    }
    return {**fields, **changes}


def test_a_guardian_joins_a_child_and_the_consent_is_kept_in_chinese(
    app: Flask, engine: Engine, clock: FixedClock
) -> None:
    parent = sign_in(app, "parent")
    parent.set_cookie("lang", "zh_CN")
    page = text_of(parent.get("/join"))
    assert GUARDIAN_ZH in page and "未满 14 周岁" in page
    child = id_number("child", born=date(2019, 3, 1))
    data = {"csrf_token": csrf(parent, "/join"), **CHILD, "id_number": child}
    before = state_of(app, engine)
    refused = parent.post("/join", data=data)
    assert refused.status_code == 400 and "须由父母或监护人代儿童加入" in text_of(refused)
    assert state_of(app, engine) == before
    joined = parent.post("/join", data={**data, "guardian": "y"})
    assert joined.status_code == 302, text_of(joined)
    (consent,) = consents_of(engine, _account(app, "parent"))
    assert consent.kind is ConsentKind.GUARDIAN and consent.lang == "zh_CN"
    assert consent.wording.startswith(GUARDIAN_ZH) and consent.claim_id is None
    assert consent.given == clock()


def test_an_adult_joins_without_a_guardian(app: Flask, engine: Engine) -> None:
    adult = sign_in(app, "parent")
    data = {"csrf_token": csrf(adult, "/join"), **CHILD, "id_number": id_number("adult")}
    assert adult.post("/join", data=data).status_code == 302
    assert consents_of(engine, _account(app, "parent")) == []


def test_a_claim_is_filed_with_its_medical_consent(
    app: Flask, engine: Engine, clock: FixedClock
) -> None:
    member = sign_in(app, "member0")
    form = text_of(member.get("/claims/new"))
    assert MEDICAL_EN in form and "PIPL Art. 28-29" in form
    token = csrf(member, "/claims/new")
    fields = _claim(member, diagnosed=clock().date().isoformat())
    before = state_of(app, engine)
    unticked = {**fields, "medical_consent": None, "csrf_token": token, "submission": new_token()}
    refused = member.post("/claims/new", data={k: v for k, v in unticked.items() if v is not None})
    assert refused.status_code == 400 and "cannot be reviewed without it" in text_of(refused)
    assert state_of(app, engine) == before
    sent = member.post(
        "/claims/new", data={**_claim(member, diagnosed=clock().date().isoformat()),
                             "csrf_token": token, "submission": new_token()},
    )  # fmt: skip
    assert sent.status_code == 302, text_of(sent)
    with app.app_context():
        (claim,) = [c for c in current_pool().state().claims()]
    (consent,) = consents_of(engine, _account(app, "member0"))
    assert consent.kind is ConsentKind.MEDICAL and consent.lang == "en"
    assert consent.wording.startswith(MEDICAL_EN) and consent.claim_id == claim.id


def test_a_refused_filing_takes_its_consent_back(
    app: Flask, engine: Engine, clock: FixedClock
) -> None:
    """The consent is recorded before the documents are processed; a filing
    the pool then refuses (a document that is no PDF) leaves no record."""
    member = sign_in(app, "member0")
    fields = _claim(
        member,
        diagnosed=clock().date().isoformat(),
        evidence=(io.BytesIO(b"not a pdf at all"), "report.pdf", "application/pdf"),
        csrf_token=csrf(member, "/claims/new"),
        submission=new_token(),
    )
    before = state_of(app, engine)
    refused = member.post("/claims/new", data=fields)
    assert refused.status_code == 400, text_of(refused)
    assert state_of(app, engine) == before


def test_the_operator_lists_an_accounts_consents(
    app: Flask, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parent = sign_in(app, "parent")
    child = id_number("child", born=date(2019, 3, 1))
    data = {"csrf_token": csrf(parent, "/join"), **CHILD, "id_number": child, "guardian": "y"}
    assert parent.post("/join", data=data).status_code == 302
    argv = ["--instance", str(tmp_path / "instance"), "--database-url", _url(engine)]
    assert main([*argv, "private", "consents", "parent"]) == 0
    listed = capsys.readouterr().out
    assert "\tguardian\ten\t" in listed and "legal guardian of this child" in listed
    assert main([*argv, "private", "consents", "nobody"]) == 2
    assert "no account named 'nobody'" in capsys.readouterr().err
