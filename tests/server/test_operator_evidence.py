"""The operator's redacted copies on the claim's page, end to end: a copy
that still holds the claimant's identifiers (text layer, white text,
document information, an image's EXIF) is refused in the page's language
and nothing is stored; a clean one is stored and previewed; once the
notice is published the copies are fixed; the claimant sees them and
downloads each copy's opening, which verifies against the notice."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from server.auth import accounts_service
from server.pool_app import current_pool
from server.private.accounts import Role
from server.private.evidence import Upload
from server.private.members import member_details
from tests.clock import FixedClock
from tests.server.pool_helpers import (
    PASSWORD,
    PDF,
    RULES,
    add_members,
    csrf,
    served_pool_app,
    sign_in,
    text_of,
)
from tests.server.redaction_files import CLEAN_TEXT, clean_pdf, image, pdf, text_stream
from tests.server.test_authorization import state_of
from verifiable.pool.redacted import verify_redacted

OPERATOR = "boss"
ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    yield from served_pool_app(engine, tmp_path, clock)


def _filed(app: Flask, clock: FixedClock) -> tuple[str, str, str]:
    """A filed claim: its id, the claimant's username and name."""
    with app.app_context():
        pool = current_pool()
        pool.start(RULES)
        usernames = add_members(pool, 4, "member", clock())
        accounts_service().register(OPERATOR, PASSWORD, clock(), Role.OPERATOR)
        clock.advance(days=11)
        claimant = next(iter(usernames))
        upload = Upload(PDF, "application/pdf", "a.pdf")
        claim = pool.file_claim(claimant, "cancer", 5_000_000, clock().date(), [upload])
        details = member_details(pool.engine, claimant)
    assert details is not None
    return claim, usernames[claimant], details.name


def _upload(op: FlaskClient, claim: str, data: bytes, kind: str, **headers: str) -> str:
    page = f"/operator/claims/{claim}"
    copy = (io.BytesIO(data), "copy", kind)
    fields = {"csrf_token": csrf(op, page), "claim": claim, "document": "1", "copy": copy}
    response = op.post("/operator/redacted", data=fields, headers=headers)
    return f"{response.status_code} {text_of(response)}"


def test_a_copy_holding_an_identifier_is_refused_in_both_languages(
    app: Flask, engine: Engine, clock: FixedClock
) -> None:
    claim, _, name = _filed(app, clock)
    op = sign_in(app, OPERATOR)
    leaks = [
        (pdf([text_stream([CLEAN_TEXT, f"Patient {name}"])]), "application/pdf", "claimant's name"),
        (
            pdf([text_stream([CLEAN_TEXT]) + text_stream(["13812345678"], "1 g")]),
            "application/pdf",
            "mobile phone number",
        ),
        (pdf([text_stream([CLEAN_TEXT])], info={"Author": name}), "application/pdf", "(Author)"),
        (image("JPEG", exif={0x013B: name}), "image/jpeg", "embedded data"),
    ]
    for data, kind, said in leaks:
        before = state_of(app, engine)
        answer = _upload(op, claim, data, kind)
        assert answer.startswith("400 ") and said in answer and "Nothing was stored" in answer
        assert state_of(app, engine) == before
        chinese = _upload(op, claim, data, kind, **ZH)
        assert (
            chinese.startswith("400 ")
            and "脱敏副本中仍有" in chinese
            and "未保存任何内容" in chinese
        )
        assert state_of(app, engine) == before


def test_the_copy_is_previewed_fixed_by_the_notice_and_shown_to_the_claimant(
    app: Flask, engine: Engine, clock: FixedClock
) -> None:
    claim, username, _ = _filed(app, clock)
    op = sign_in(app, OPERATOR)
    assert _upload(op, claim, clean_pdf(2), "application/pdf").startswith("302 ")
    page = text_of(op.get(f"/operator/claims/{claim}"))
    assert f"/operator/claims/{claim}/redacted/1/2.png" in page
    with app.app_context():
        notice = current_pool().publish_notice(claim, "A member aged 18-39 asks for aid.")
    assert notice.redacted is not None and len(notice.redacted) == 1
    before = state_of(app, engine)
    late = _upload(op, claim, clean_pdf(), "application/pdf")
    assert late.startswith("409 ") and "fixed once its notice is published" in late
    assert state_of(app, engine) == before
    # The claimant: the page images, and the opening that checks against the log.
    claimant = sign_in(app, username)
    own = text_of(claimant.get(f"/claims/{claim}"))
    assert f"/claims/{claim}/redacted/1/1.png" in own and notice.redacted[0].hex() in own
    opening = claimant.get(f"/claims/{claim}/redacted/1.json").get_json()
    pages = [base64.b64decode(p) for p in opening["pages"]]
    verify_redacted(notice.redacted[0], bytes.fromhex(opening["salt"]), pages)
    assert claimant.get(f"/claims/{claim}/redacted/1/1.png").data == pages[0]


def test_erasing_the_evidence_erases_its_redacted_copies(
    app: Flask, engine: Engine, clock: FixedClock
) -> None:
    claim, username, _ = _filed(app, clock)
    with app.app_context():
        pool = current_pool()
        pool.upload_redacted(claim, 1, Upload(clean_pdf(), "application/pdf"))
        notice = pool.publish_notice(claim, "A member aged 18-39 asks for aid.")
        pool.erase_evidence(claim, "On the claimant's request.", None)
        assert pool.redacted_pages(claim, 1) is None
    claimant = sign_in(app, username)
    assert claimant.get(f"/claims/{claim}/redacted/1/1.png").status_code == 404
    assert claimant.get(f"/claims/{claim}/redacted/1.json").status_code == 404
    # The commitment stays in the log, and now reveals nothing.
    assert notice.redacted is not None
    assert "erased with the evidence" in text_of(claimant.get(f"/claims/{claim}"))


@pytest.mark.parametrize(
    ("headers", "says"),
    [
        ({}, "needs a redacted copy of every evidence document"),
        (ZH, "每份证明材料都须先有脱敏副本"),
    ],
)
def test_the_notice_preview_already_refuses_a_claim_without_its_copies(
    app: Flask, engine: Engine, clock: FixedClock, headers: dict[str, str], says: str
) -> None:
    claim, _, _ = _filed(app, clock)
    op = sign_in(app, OPERATOR)
    page = f"/operator/claims/{claim}"
    fields = {"csrf_token": csrf(op, page), "claim": claim, "text": "A member asks for aid."}
    before = state_of(app, engine)
    response = op.post("/operator/actions/notice", data=fields, headers=headers)
    assert response.status_code == 409 and says in text_of(response)
    assert "Publish this notice?" not in text_of(response)
    assert state_of(app, engine) == before
