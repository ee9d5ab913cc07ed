"""The members' pages end to end (CSRF on): join, file a claim with its
evidence, follow it, object, read the evidence as a juror, appeal, see the
deductions with the command that checks them, leave — and every bad input
on every member form refused with a clear message, nothing appended and
nothing stored."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from server.auth import accounts_service
from server.db import make_engine, upgrade
from server.pool_app import current_pool
from server.private.evidence import MAX_DOCUMENT_SIZE, MAX_DOCUMENTS, Upload, evidence_content
from server.private.sealing import Sealer
from server.private.submissions import new_token
from server.rosters import period_roster
from tests.server.identities import id_number
from tests.server.pool_helpers import (
    ORIGIN,
    PASSWORD,
    PDF,
    RULES,
    add_members,
    csrf,
    make_pool_app,
    served_pool_app,
    sign_in,
    text_of,
)
from tests.server.redaction_files import redact_all
from tests.server.test_authorization import state_of
from verifiable.log.bodies import Choice, ClaimFiled, ClaimPaid, Outcome, PanelDrawn
from verifiable.log.entry import parse_entry
from verifiable.pool.evidence import verify_evidence
from verifiable.pool.state import Stage

if TYPE_CHECKING:
    from werkzeug.test import TestResponse

    from server.pool_service import PoolService
    from tests.clock import FixedClock

NAME, ID_NUMBER, PHONE = "Zhang Wei", "110105199003070025", "+86 138 1234 5678"
JOIN = {"name": NAME, "id_number": ID_NUMBER, "phone": PHONE}
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MUTUALOG_SECRET_KEY", "MUTUALOG_SECURE_COOKIES"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    yield from served_pool_app(engine, tmp_path, clock)


def post(client: FlaskClient, path: str, fields: dict[str, object], form: str) -> TestResponse:
    """Post ``fields`` to ``path`` with the CSRF token of the page ``form``
    and, unless ``fields`` has one, a fresh one-time submission token (as
    each rendering of a claim's or an objection's form carries)."""
    data = {"csrf_token": csrf(client, form), "submission": new_token(), **fields}
    return client.post(path, data=data)


def document(
    content: bytes = PDF, name: str = "report.pdf", kind: str = "application/pdf"
) -> object:
    return (io.BytesIO(content), name, kind)


def claim_fields(clock: FixedClock, **changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "category": "cancer",
        "amount": "52000.50",
        "diagnosed": clock().date().isoformat(),
        "medical_consent": "y",
        "evidence": document(),
    }
    return {**fields, **changes}


def close_body(response: TestResponse) -> None:
    """Close the request body the test client spooled to a file for a large upload."""
    response.close()
    assert response.request is not None
    response.request.environ["wsgi.input"].close()


def log_bytes(app: Flask) -> bytes:
    with app.app_context():
        store = current_pool().store
        return b"\n".join(store.entries(0, store.size()))


def register(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    fields = {"username": username, "password": PASSWORD, "confirm": PASSWORD}
    response = post(client, "/register", fields, "/register")
    assert response.status_code == 302
    # Registering does not sign in (its answer must not tell a taken name).
    fields = {"username": username, "password": PASSWORD}
    assert post(client, "/login", fields, "/login").status_code == 302
    return client


# --- the whole workflow -----------------------------------------------------------------


def test_a_member_joins_claims_is_judged_appeals_is_paid_and_leaves(
    app: Flask, engine: Engine, clock: FixedClock
) -> None:
    with app.app_context():
        pool = current_pool()
        pool.start(RULES)
        jurors = add_members(pool, 14, "juror", clock())
        for member in jurors:
            pool.qualify_juror(member)
        pool.commit_jury_pool()
    w = _Journey(app, engine, clock, pool, jurors, register(app, "claimant"))
    member_id = _join(w)
    claim, upload = _file_a_claim(w, member_id)
    objector = _an_objection(w, claim)
    panel = _answer_draw_and_read_the_evidence(w, claim, upload, objector)
    _reject_and_appeal(w, claim, panel)
    paid, shares, vkey = _approve_pay_and_close(w, claim, member_id)
    _the_dashboard(w, member_id, paid, shares, vkey)
    _leave(w, member_id)

    # Nothing private ever reached the log.
    logged = log_bytes(app)
    for secret in (NAME, ID_NUMBER, PHONE, "claimant", "discharge.pdf"):
        assert secret.encode() not in logged
    assert upload not in logged and b"discharge summary" not in logged


@dataclass(frozen=True)
class _Journey:
    """The pool a member goes through, and the member's signed-in client."""

    app: Flask
    engine: Engine
    clock: FixedClock
    pool: PoolService
    jurors: dict[str, str]
    claimant: FlaskClient


def _join(w: _Journey) -> str:
    """Join: a fresh pseudonymous id in the log; the details only in private."""
    app, pool, claimant = w.app, w.pool, w.claimant
    assert "Join the pool" in text_of(claimant.get("/join"))
    response = post(claimant, "/join", JOIN, "/join")
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"
    with app.app_context():
        account = accounts_service().by_username("claimant")
        assert account is not None and account.member_id is not None
        member_id = account.member_id
        assert pool.state().member(member_id) is not None
    dashboard = text_of(claimant.get("/dashboard"))
    assert member_id in dashboard and NAME not in dashboard
    return member_id


def _file_a_claim(w: _Journey, member_id: str) -> tuple[str, bytes]:
    """File a claim with an upload: the log holds the salted commitment."""
    app, engine, clock, pool, claimant = w.app, w.engine, w.clock, w.pool, w.claimant
    clock.advance(days=11)
    upload = PDF + b" discharge summary of the patient"
    fields = claim_fields(clock, evidence=document(upload, "discharge.pdf"))
    response = post(claimant, "/claims/new", fields, "/claims/new")
    assert response.status_code == 302, text_of(response)
    with app.app_context():
        (claim,) = [c for c in pool.state().claims() if c.member == member_id]
        filed = parse_entry(pool.store.entry(claim.filed_seq) or b"", seq=claim.filed_seq).body
        assert isinstance(filed, ClaimFiled) and filed.amount == 5_200_050
        stored = evidence_content(engine, claim.id, 0)
        assert stored is not None and stored.content == upload
        verify_evidence(filed.evidence[0], stored.salt, stored.content)
    assert claim.id in text_of(claimant.get("/dashboard"))
    status = text_of(claimant.get(f"/claims/{claim.id}"))
    assert f'href="/api/v1/entries/{claim.filed_seq}"' in status
    assert "discharge.pdf" in status and filed.evidence[0].hex() in status
    own = claimant.get(f"/claims/{claim.id}/evidence/1")
    assert own.status_code == 200 and own.data == upload
    return claim.id, upload


def _an_objection(w: _Journey, claim: str) -> FlaskClient:
    """The notice, and another member objects in its window."""
    app, pool, jurors = w.app, w.pool, w.jurors
    with app.app_context():
        redact_all(pool, claim)
        pool.publish_notice(claim, "A member aged 18-39 asks for aid for cancer.")
    objector_name = jurors[next(iter(jurors))]
    objector = sign_in(app, objector_name)
    assert "Publish my objection" in text_of(objector.get(f"/claims/{claim}"))
    response = post(
        objector,
        "/claims/object",
        {"claim": claim, "text": "Was this " + SCRIPT + " diagnosed?"},
        f"/claims/{claim}",
    )
    assert response.status_code == 302
    page = objector.get(f"/claims/{claim}").get_data(as_text=True)
    assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    return objector


def _answer_draw_and_read_the_evidence(
    w: _Journey, claim: str, upload: bytes, objector: FlaskClient
) -> PanelDrawn:
    """The operator answers and draws the panel; a drawn juror reads the evidence."""
    app, clock, pool, jurors = w.app, w.clock, w.pool, w.jurors
    with app.app_context():
        (objection,) = pool.state().claim(claim).objection_seqs  # type: ignore[union-attr]
        pool.answer(claim, objection, "The hospital confirmed the diagnosis.")
        clock.advance(days=3)
        panel = pool.draw_panel(claim)
    juror = sign_in(app, jurors[panel.jurors[0]])
    case = text_of(juror.get(f"/juror/claims/{claim}"))
    page = f"/juror/claims/{claim}/redacted/1/1.png"
    assert page in case and "discharge.pdf" not in case and "/evidence/1" not in case
    # The juror reads the redacted copy's page image, inline, never the file as filed.
    evidence = juror.get(page)
    assert evidence.status_code == 200 and evidence.data.startswith(b"\x89PNG")
    assert upload not in evidence.data
    assert evidence.headers["Content-Type"] == "image/png"
    assert evidence.headers["X-Content-Type-Options"] == "nosniff"
    assert evidence.headers["Content-Disposition"].startswith("inline;")
    download = juror.get(page, query_string={"download": "1"})
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.data == evidence.data
    assert juror.get(f"/juror/claims/{claim}/evidence/1").status_code == 404
    # Nobody else reads it: not a juror of this panel, not another member.
    assert objector.get(page).status_code == 403
    assert objector.get(f"/claims/{claim}/evidence/1").status_code == 404
    assert juror.get(f"/claims/{claim}/evidence/1").status_code == 404
    return panel


def _reject_and_appeal(w: _Journey, claim: str, panel: PanelDrawn) -> None:
    """The panel rejects; the claimant appeals, once."""
    app, engine, clock, pool, claimant = w.app, w.engine, w.clock, w.pool, w.claimant
    with app.app_context():
        for drawn in panel.jurors:
            pool.seal_vote(claim, 1, drawn, Choice.REJECT, "Not enough evidence.")
        clock.advance(days=3)
        assert pool.close_voting(claim).outcome is Outcome.REJECTED
    assert "Appeal the rejection" in text_of(claimant.get(f"/claims/{claim}"))
    appeal = {"claim": claim, "reason": "The second report was not read."}
    response = post(claimant, "/claims/appeal", appeal, f"/claims/{claim}")
    assert response.status_code == 302
    with app.app_context():
        before = state_of(app, engine)
    again = post(claimant, "/claims/appeal", appeal, "/dashboard")
    assert again.status_code == 409 and "appealed once already" in text_of(again)
    assert state_of(app, engine) == before


def _approve_pay_and_close(
    w: _Journey, claim: str, member_id: str
) -> tuple[ClaimPaid, list[tuple[date, int]], str]:
    """The appeal panel approves; the operator pays and closes the periods:
    the payout, the member's share of each period, the log's key."""
    app, clock, pool, claimant = w.app, w.clock, w.pool, w.claimant
    with app.app_context():
        clock.advance(hours=1)
        second = pool.draw_panel(claim)
        for drawn in second.jurors:
            pool.seal_vote(claim, 2, drawn, Choice.APPROVE, "The reports agree.")
        clock.advance(days=3)
        assert pool.close_voting(claim).outcome is Outcome.APPROVED
        paid = pool.pay(claim)
        clock.advance(days=20)
        while pool.state().due_periods or pool.state().expected_period_close(pool.now()):
            pool.close_period()
        closed = pool.state().closed_periods
        shares = [(c.period, c.share) for c in closed if member_id in period_roster(pool, c.period)]
        vkey = app.extensions["mutualog"].verifier().to_vkey()
        entries = pool.store.entries(0, pool.store.size())
    (paid_seq,) = [n for n, data in enumerate(entries) if parse_entry(data, seq=n).body == paid]
    status = text_of(claimant.get(f"/claims/{claim}"))
    assert f'href="/api/v1/entries/{paid_seq}"' in status and "Payout" in status
    assert any(share > 0 for _, share in shares)
    return paid, shares, vkey


def _the_dashboard(
    w: _Journey, member_id: str, paid: ClaimPaid, shares: list[tuple[date, int]], vkey: str
) -> None:
    """The dashboard: each deduction with its statement, which carries the
    commands that check it, one per block; the latest period's on the
    dashboard too."""
    dashboard = text_of(w.claimant.get("/dashboard"))
    for period, share in shares:
        whole, cents = divmod(share, 100)
        assert f"¥{whole:,}.{cents:02d}" in dashboard
        link = f"/dashboard/periods/{period.isoformat()}"
        assert f'href="{link}"' in dashboard
        statement = text_of(w.claimant.get(link))
        fetch = (
            f"mutualog fetch deduction http://127.0.0.1:8000 --member {member_id} --period {period}"
        )
        check = f"mutualog verify-deduction --member {member_id} --period {period.isoformat()}"
        assert f'<code id="cmd-fetch">{fetch}</code>' in statement
        assert f'<code id="cmd-verify">{check}</code>' in statement
    latest = shares[-1][0].isoformat()
    latest_check = f"mutualog verify-deduction --member {member_id} --period {latest}"
    assert f'<code id="cmd-verify">{latest_check}</code>' in dashboard
    assert f'<code id="cmd-trust">mutualog trust {ORIGIN} {vkey}</code>' in dashboard
    assert '<code id="cmd-sync">mutualog sync http://127.0.0.1:8000</code>' in dashboard
    assert paid.period in {p for p, _ in shares}


def _leave(w: _Journey, member_id: str) -> None:
    """Leave, with the confirmation; a second leave is refused."""
    app, engine, pool, claimant = w.app, w.engine, w.pool, w.claimant
    assert "Leave the pool" in text_of(claimant.get("/leave"))
    response = post(claimant, "/leave", {"confirm": "y"}, "/leave")
    assert response.status_code == 302
    with app.app_context():
        assert pool.state().has_left(member_id)
    assert "You have left the pool" in text_of(claimant.get("/dashboard"))
    before = state_of(app, engine)
    again = post(claimant, "/leave", {"confirm": "y"}, "/dashboard")
    assert again.status_code == 409 and "left the pool" in text_of(again)
    assert state_of(app, engine) == before


# --- bad input ------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    """A pool with: ``alice``, a member with an approved claim; ``bob``, whose
    claim is in its objection window; ``carol``, whose claim's window has
    closed; ``newbie``, an account that has not joined; ``gone``, a member
    who has left."""

    approved: str
    open_claim: str
    late_claim: str


@pytest.fixture
def world_engine(sqlite_url: str, tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(sqlite_url, Sealer(tmp_path / "instance"))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def world_app(world_engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    app = make_pool_app(world_engine, tmp_path, clock)
    yield app
    app.extensions["mutualog"].engine.dispose()


def _file(member: str, clock: FixedClock) -> str:
    pool = current_pool()
    claim = pool.file_claim(
        member, "cancer", 1_000_000, clock().date(), [Upload(PDF, "application/pdf")]
    )
    redact_all(pool, claim)
    pool.publish_notice(claim, "A member aged 18-39 asks for aid for cancer.")
    return claim


@pytest.fixture
def world(world_app: Flask, clock: FixedClock) -> World:
    with world_app.app_context():
        pool = current_pool()
        pool.start(RULES)
        named = {u: m for m, u in add_members(pool, 3, "member", clock()).items()}
        jurors = add_members(pool, 6, "juror", clock())
        for member in jurors:
            pool.qualify_juror(member)
        pool.commit_jury_pool()
        (gone,) = add_members(pool, 1, "gone", clock())
        pool.leave(gone)
        accounts_service().register("newbie", PASSWORD, clock())
        clock.advance(days=11)
        alice, bob, carol = named["member0"], named["member1"], named["member2"]
        approved = _file(alice, clock)
        clock.advance(days=3)
        panel = pool.draw_panel(approved)
        for juror in panel.jurors:
            pool.seal_vote(approved, 1, juror, Choice.APPROVE, "Clear.")
        clock.advance(days=3)
        pool.close_voting(approved)
        late = _file(carol, clock)
        clock.advance(days=3)
        open_claim = _file(bob, clock)
        assert pool.state().claim(approved).stage is Stage.APPROVED  # type: ignore[union-attr]
    return World(approved, open_claim, late)


Fields = Callable[[World, "FixedClock"], dict[str, object]]


def _claim(**changes: object) -> Fields:
    return lambda w, clock: claim_fields(clock, **changes)


def _object(claim: str, text: str = "The dates do not match.") -> Fields:
    def fields(w: World, clock: FixedClock) -> dict[str, object]:
        ids = {"open": w.open_claim, "late": w.late_claim, "approved": w.approved}
        return {"claim": ids.get(claim, claim), "text": text}

    return fields


def _appeal(claim: str) -> Fields:
    def fields(w: World, clock: FixedClock) -> dict[str, object]:
        ids = {"open": w.open_claim, "approved": w.approved}
        return {"claim": ids.get(claim, claim), "reason": "The panel was wrong."}

    return fields


def _same(fields: dict[str, object]) -> Fields:
    return lambda w, clock: dict(fields)


_TOO_BIG = b"%PDF-" + bytes(MAX_DOCUMENT_SIZE)
_MANY = [document() for _ in range(MAX_DOCUMENTS + 1)]

# id: (who, path, fields, with a CSRF token, status, message)
BAD: dict[str, tuple[str, str, Fields, bool, int, str]] = {
    "join-no-csrf": ("newbie", "/join", _same(JOIN), False, 400, "security token"),
    "join-bad-phone": (
        "newbie",
        "/join",
        _same({**JOIN, "phone": SCRIPT}),
        True,
        400,
        "mobile number",
    ),
    "join-bad-id": ("newbie", "/join", _same({**JOIN, "id_number": "1"}), True, 400, "ID number"),
    "join-no-name": ("newbie", "/join", _same({**JOIN, "name": ""}), True, 400, "full name"),
    "join-control": ("newbie", "/join", _same({**JOIN, "name": "a\x00b"}), True, 400, "control"),
    "join-too-old": (
        "newbie",
        "/join",
        _same({**JOIN, "id_number": id_number("old", born=date(1950, 6, 1))}),
        True,
        400,
        "59 years",
    ),
    "join-id-taken": (
        "newbie",
        "/join",
        _same({**JOIN, "id_number": id_number("member", 0)}),
        True,
        400,
        "one person holds one membership",
    ),
    "join-twice": ("member0", "/join", _same(JOIN), True, 403, "already joined"),
    "join-child-no-guardian": (
        "newbie",
        "/join",
        _same({**JOIN, "id_number": id_number("child", born=date(2020, 6, 1))}),
        True,
        400,
        "under 14",
    ),
    # The guardian's consent is recorded before the join, and taken back when it is refused.
    "join-newborn-guardian": (
        "newbie",
        "/join",
        lambda w, clock: {
            **JOIN,
            "id_number": id_number("newborn", born=clock().date() - timedelta(days=10)),
            "guardian": "y",
        },
        True,
        400,
        "30 days",
    ),
    "claim-no-consent": (
        "member0",
        "/claims/new",
        _claim(medical_consent=None),
        True,
        400,
        "consent to the processing of your medical information",
    ),
    "claim-no-csrf": ("member0", "/claims/new", _claim(), False, 400, "security token"),
    "claim-no-file": ("member0", "/claims/new", _claim(evidence=None), True, 400, "at least one"),
    "claim-exe": (
        "member0",
        "/claims/new",
        _claim(evidence=document(b"MZ\x90\x00", "setup.exe", "application/x-msdownload")),
        True,
        400,
        "is not accepted",
    ),
    "claim-html-as-pdf": (
        "member0",
        "/claims/new",
        _claim(evidence=document(b"<html>" + SCRIPT.encode(), "scan.pdf")),
        True,
        400,
        "is not a application/pdf file",
    ),
    "claim-empty-file": (
        "member0",
        "/claims/new",
        _claim(evidence=document(b"")),
        True,
        400,
        "empty",
    ),
    "claim-too-many": ("member0", "/claims/new", _claim(evidence=_MANY), True, 400, "at most 32"),
    "claim-too-large": (
        "member0",
        "/claims/new",
        _claim(evidence=document(_TOO_BIG)),
        True,
        413,
        "larger than 10 MiB",
    ),
    "amount-negative": ("member0", "/claims/new", _claim(amount="-5"), True, 400, "more than zero"),
    "amount-zero": ("member0", "/claims/new", _claim(amount="0.00"), True, 400, "more than zero"),
    "amount-exponent": ("member0", "/claims/new", _claim(amount="1e9"), True, 400, "as digits"),
    "amount-fraction-of-fen": (
        "member0",
        "/claims/new",
        _claim(amount="0.001"),
        True,
        400,
        "two decimals",
    ),
    "amount-words": ("member0", "/claims/new", _claim(amount="lots"), True, 400, "as digits"),
    "amount-huge": (
        "member0",
        "/claims/new",
        _claim(amount="999999999999"),
        True,
        400,
        "larger than any plan",
    ),
    "amount-over-cap": ("member0", "/claims/new", _claim(amount="300000.01"), True, 400, "at most"),
    "amount-markup": ("member0", "/claims/new", _claim(amount=SCRIPT), True, 400, "as digits"),
    "date-future": (
        "member0",
        "/claims/new",
        lambda w, clock: claim_fields(clock, diagnosed="2099-01-01"),
        True,
        400,
        "future",
    ),
    "date-malformed": ("member0", "/claims/new", _claim(diagnosed="2026-13-45"), True, 400, "date"),
    "date-too-old": ("member0", "/claims/new", _claim(diagnosed="2024-01-01"), True, 400, "within"),
    "category-unknown": ("member0", "/claims/new", _claim(category="flu"), True, 400, "choice"),
    "claim-before-joining": ("newbie", "/claims/new", _claim(), True, 403, "join the pool"),
    "claim-after-leaving": ("gone0", "/claims/new", _claim(), True, 409, "left the pool"),
    "object-no-csrf": ("member0", "/claims/object", _object("open"), False, 400, "security token"),
    "object-empty": ("member0", "/claims/object", _object("open", ""), True, 400, "object to"),
    "object-control": (
        "member0",
        "/claims/object",
        _object("open", "a\x07b"),
        True,
        400,
        "control",
    ),
    "object-too-long": (
        "member0",
        "/claims/object",
        _object("open", "a" * 2001),
        True,
        400,
        "2000",
    ),
    "object-after-window": ("member0", "/claims/object", _object("late"), True, 409, "not open"),
    "object-own-claim": ("member1", "/claims/object", _object("open"), True, 403, "your own claim"),
    "object-unknown": ("member0", "/claims/object", _object("0" * 32), True, 404, "no claim"),
    "object-bad-id": ("member0", "/claims/object", _object(SCRIPT), True, 400, "valid claim"),
    "object-not-member": ("newbie", "/claims/object", _object("open"), True, 403, "join"),
    "appeal-no-csrf": ("member0", "/claims/appeal", _appeal("approved"), False, 400, "security"),
    "appeal-approved": (
        "member0",
        "/claims/appeal",
        _appeal("approved"),
        True,
        409,
        "rejected claim",
    ),
    "appeal-not-mine": (
        "member0",
        "/claims/appeal",
        _appeal("open"),
        True,
        403,
        "Only the claimant",
    ),
    "leave-no-csrf": ("member0", "/leave", _same({"confirm": "y"}), False, 400, "security token"),
    "leave-unconfirmed": ("member0", "/leave", _same({}), True, 400, "Tick the box"),
    "leave-twice": ("gone0", "/leave", _same({"confirm": "y"}), True, 409, "left the pool"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_input_is_refused_clearly_and_changes_nothing(
    case: str, world_app: Flask, world_engine: Engine, world: World, clock: FixedClock
) -> None:
    who, path, fields, with_token, status, message = BAD[case]
    client = sign_in(world_app, who)
    data = {k: v for k, v in fields(world, clock).items() if v is not None}
    if with_token:
        data["csrf_token"] = csrf(client, "/dashboard")
        data["submission"] = new_token()
    before = state_of(world_app, world_engine)
    response = client.post(path, data=data, headers={"Accept": "text/html"})  # as a browser
    close_body(response)
    page = response.get_data(as_text=True)
    assert response.status_code == status, page
    assert response.content_type.startswith("text/html")
    assert message.lower() in text_of(response).lower()
    assert SCRIPT not in page
    assert state_of(world_app, world_engine) == before


def test_an_oversized_request_is_a_413_page(
    world_app: Flask, world_engine: Engine, world: World, clock: FixedClock
) -> None:
    world_app.config["MAX_CONTENT_LENGTH"] = 100_000
    client = sign_in(world_app, "member0")
    fields = claim_fields(clock, evidence=document(PDF + bytes(200_000)))
    before = state_of(world_app, world_engine)
    response = post(client, "/claims/new", fields, "/claims/new")
    close_body(response)
    assert response.status_code == 413 and "Upload too large" in text_of(response)
    assert state_of(world_app, world_engine) == before


def test_a_double_submission_is_recorded_once(
    world_app: Flask, world_engine: Engine, world: World, clock: FixedClock
) -> None:
    """The same form sent again (its one-time token with it) appends nothing
    and answers where the first send led, saying so."""
    newbie = sign_in(world_app, "newbie")
    assert post(newbie, "/join", JOIN, "/join").status_code == 302
    member = sign_in(world_app, "member0")
    claim = {**claim_fields(clock), "submission": new_token()}
    assert post(member, "/claims/new", claim, "/claims/new").status_code == 302
    filed = re.search(r"Your claim ([0-9a-f]{32}) is filed", text_of(member.get("/dashboard")))
    assert filed is not None
    objection = {"claim": world.open_claim, "text": "The dates do not match."}
    objection["submission"] = new_token()
    first = post(member, "/claims/object", objection, "/dashboard")
    assert first.status_code == 302
    shown = text_of(member.get(first.headers["Location"]))
    objected = re.search(r"Your objection to claim [0-9a-f]{32} is in the log, entry (\d+)", shown)
    assert objected is not None

    before = state_of(world_app, world_engine)
    again = post(newbie, "/join", JOIN, "/dashboard")
    assert again.status_code == 403 and "already joined" in text_of(again)
    again = post(member, "/claims/new", {**claim, **claim_fields(clock)}, "/claims/new")
    assert again.status_code == 302 and again.headers["Location"] == "/dashboard"
    assert f"already filed this claim, as claim {filed[1]}" in text_of(member.get("/dashboard"))
    again = post(member, "/claims/object", objection, "/dashboard")
    assert again.status_code == 302
    assert f"already in the log, entry {objected[1]}" in text_of(member.get("/dashboard"))
    assert state_of(world_app, world_engine) == before

    # The token is the sender's: another member's send of it records nothing.
    other = sign_in(world_app, "member2")
    before = state_of(world_app, world_engine)
    stolen = post(other, "/claims/object", objection, "/dashboard")
    assert stolen.status_code == 409 and "sent already" in text_of(stolen)
    assert state_of(world_app, world_engine) == before


def test_markup_in_a_name_is_stored_as_text_and_never_logged(
    world_app: Flask, world_engine: Engine, world: World
) -> None:
    newbie = sign_in(world_app, "newbie")
    fields = {**JOIN, "name": "<b>Li</b> " + SCRIPT}
    assert post(newbie, "/join", fields, "/join").status_code == 302
    assert b"<b>Li</b>" not in log_bytes(world_app)
    page = newbie.get("/dashboard").get_data(as_text=True)
    assert SCRIPT not in page and "<b>Li</b>" not in page


# --- refusals in the member's language ---------------------------------------------------

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}

# id: (who, path, fields, English, Chinese)
REFUSED_IN_BOTH = {
    "object-after-window": (
        "member0",
        "/claims/object",
        _object("late"),
        "is not open to objections now",
        "现在不接受异议",
    ),
    "leave-twice": (
        "gone0",
        "/leave",
        _same({"confirm": "y"}),
        "your membership has ended",
        "会员资格已结束",
    ),
    "join-twice": (
        "member0",
        "/join",
        _same({**JOIN}),
        "An account joins once",
        "一个账户只能加入一次",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED_IN_BOTH), ids=list(REFUSED_IN_BOTH))
def test_a_refused_action_reads_in_the_members_language(
    case: str, world_app: Flask, world_engine: Engine, world: World, clock: FixedClock
) -> None:
    who, path, fields, english, chinese = REFUSED_IN_BOTH[case]
    client = sign_in(world_app, who)
    for headers, message, other in (({}, english, chinese), (ZH, chinese, english)):
        data = {
            **fields(world, clock),
            "csrf_token": csrf(client, "/dashboard"),
            "submission": new_token(),
        }
        before = state_of(world_app, world_engine)
        response = client.post(path, data=data, headers=headers)
        shown = text_of(response)
        assert response.status_code in (403, 409), shown
        assert message in shown and other not in shown
        assert state_of(world_app, world_engine) == before


def test_a_rule_broken_after_the_page_checked_reads_in_the_members_language(
    world_app: Flask,
    world_engine: Engine,
    world: World,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The window closes between the page's check and the append: the
    rulebook's refusal is said in plain words, with the rule's id."""
    from verifiable.errors import RuleViolation

    def too_late(*args: object) -> int:
        raise RuleViolation("objection.window", "the window closed", seq=99)

    with world_app.app_context():
        monkeypatch.setattr(type(current_pool()), "file_objection", too_late)
    client = sign_in(world_app, "member0")
    expected: tuple[tuple[dict[str, str], str], ...] = (
        ({}, "an objection is made before the objection window closes (rule objection.window)"),
        (ZH, "须在异议期结束前提出异议（规则 objection.window）。未记录任何内容。"),  # noqa: RUF001
    )
    for headers, message in expected:
        data = {
            **_object("open")(world, clock),
            "csrf_token": csrf(client, "/dashboard"),
            "submission": new_token(),
        }
        response = client.post("/claims/object", data=data, headers=headers)
        assert response.status_code == 409 and message in text_of(response)
