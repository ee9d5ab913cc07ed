"""The operator's pages end to end, through Flask's test client with CSRF on.

A claim goes through every operator form — notice, answer to an objection,
panel draw, close of voting, payout, period close — on SQLite and
PostgreSQL, and each form posted a second time is refused by the pool's
state with nothing appended.  Paying, closing a period and publishing a
text (a notice, an answer, an override, an erasure) take two posts: the
first shows what will be appended and appends nothing, the second does it,
once.  Amounts are typed in yuan and parsed exactly into fen.
Erasure deletes private data, keeps every log entry and commitment as it
was and appends ``data.erased``.  A table of bad input for every form
checks that each is answered 4xx with a clear message, appending and
storing nothing.
"""

from __future__ import annotations

import html
import io
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from server.auth import accounts_service
from server.db import make_engine, upgrade
from server.operator_forms import yuan_to_fen
from server.pool_app import current_pool
from server.presenters.operator import said
from server.private.accounts import Role
from server.private.erasure import erasures
from server.private.evidence import Upload, evidence_content, list_evidence
from server.private.members import member_details
from server.private.sealing import Sealer
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
from tests.server.redaction_files import clean_pdf, redact_all
from tests.server.test_authorization import state_of
from verifiable.log.bodies import (
    Choice,
    ClaimDecided,
    ClaimPaid,
    DataErased,
    ErasedKind,
    Outcome,
    PeriodClosed,
)
from verifiable.log.entry import parse_entry
from verifiable.pool.replay import replay
from verifiable.pool.rules import moment

if TYPE_CHECKING:
    from werkzeug.test import TestResponse

OPERATOR = "boss"
AMOUNT = 5_000_000
SCRIPT = "<script>alert('x')</script><b>bold</b>"
_HIDDEN_PERIOD = re.compile(r'name="period"[^>]*value="([0-9-]+)"')


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MUTUALOG_SECRET_KEY", "MUTUALOG_SECURE_COOKIES"):
        monkeypatch.delenv(name, raising=False)


@dataclass(frozen=True)
class Started:
    """Member ids by username order, and their usernames."""

    members: list[str]
    usernames: dict[str, str]


def start_pool(app: Flask, clock: FixedClock, members: int = 7) -> Started:
    """A pool of ``members`` jurors and an operator account; the clock ends
    past the waiting period."""
    with app.app_context():
        pool = current_pool()
        pool.start(RULES)
        usernames = add_members(pool, members, "member", clock())
        for member in usernames:
            pool.qualify_juror(member)
        pool.commit_jury_pool()
        accounts_service().register(OPERATOR, PASSWORD, clock(), Role.OPERATOR)
    clock.advance(days=11)
    return Started(list(usernames), usernames)


def file_claim(app: Flask, clock: FixedClock, member: str) -> str:
    with app.app_context():
        upload = Upload(PDF, "application/pdf", "discharge.pdf")
        return current_pool().file_claim(member, "cancer", AMOUNT, clock().date(), [upload])


def post(client: FlaskClient, path: str, fields: dict[str, str], page: str) -> TestResponse:
    """Post ``fields`` with a CSRF token taken from ``page``."""
    return client.post(path, data={"csrf_token": csrf(client, page), **fields})


def publish(client: FlaskClient, path: str, fields: dict[str, str], page: str) -> TestResponse:
    """Post ``fields`` to a publishing form's first step, which shows the text
    as the log will hold it and appends nothing, then confirm it."""
    token = csrf(client, page)
    preview = client.post(path, data={"csrf_token": token, **fields})
    assert preview.status_code == 200, text_of(preview)
    assert "Publish to the log" in text_of(preview)
    return client.post(f"{path}/confirm", data={"csrf_token": token, **fields})


def entries(app: Flask) -> list[bytes]:
    with app.app_context():
        store = current_pool().store
        return store.entries(0, store.size())


def assert_done(response: TestResponse, message: str) -> None:
    assert response.status_code == 302, text_of(response)
    assert response.headers["Location"] == "/operator/"


def assert_refused(
    app: Flask, engine: Engine, response: TestResponse, status: int, message: str, before: object
) -> None:
    assert response.status_code == status, text_of(response)
    assert message in text_of(response), re.findall(r"alert\"[^>]*>([^<]*)", text_of(response))
    assert state_of(app, engine) == before


@pytest.fixture
def app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    app = make_pool_app(engine, tmp_path, clock)
    yield app
    app.extensions["mutualog"].engine.dispose()


# --- a claim through every operator form --------------------------------------------


def test_a_claim_through_the_operator_pages(app: Flask, engine: Engine, clock: FixedClock) -> None:
    started = start_pool(app, clock)
    claimant, objector = started.members[0], started.members[1]
    claim = file_claim(app, clock, claimant)
    c = _Case(app, engine, clock, sign_in(app, OPERATOR), claim)
    _the_claim_is_shown(c)
    _the_redacted_copy(c)
    _the_notice(c)
    _an_objection_answered(c, objector)
    _the_draw(c)
    _the_votes_closed(c)
    _the_payout(c)
    _the_periods_closed(c)
    replay(entries(app))  # the whole log obeys the rules


@dataclass(frozen=True)
class _Case:
    """The claim the operator takes through its forms, signed in."""

    app: Flask
    engine: Engine
    clock: FixedClock
    op: FlaskClient
    claim: str

    @property
    def page(self) -> str:
        return f"/operator/claims/{self.claim}"


def _the_claim_is_shown(c: _Case) -> None:
    """The review queue, the case page and the evidence download."""
    op, claim, page = c.op, c.claim, c.page
    queue = text_of(op.get("/operator/"))
    assert claim in queue and "the redacted notice" in queue
    case = text_of(op.get(page))
    assert "Person member 0" in case and "Write the redacted notice" in case
    download = op.get(f"{page}/evidence/1")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"] == (
        f'attachment; filename="claim-{claim}-document-1.pdf"'
    )
    assert download.headers["Content-Type"] == "application/pdf"


def _the_redacted_copy(c: _Case) -> None:
    """No notice without the panel's redacted copies; the operator uploads
    one and sees its page image (tests/server/test_operator_evidence.py
    has the refusals)."""
    app, engine, op, claim, page = c.app, c.engine, c.op, c.claim, c.page
    fields = {"claim": claim, "text": "A member aged 18-39 asks for aid for cancer."}
    before = state_of(app, engine)
    # Refused at the first step already, before any preview.
    early = op.post("/operator/actions/notice", data={"csrf_token": csrf(op, page), **fields})
    assert_refused(app, engine, early, 409, "needs a redacted copy of every evidence", before)
    copy = (io.BytesIO(clean_pdf()), "redacted.pdf", "application/pdf")
    data = {"csrf_token": csrf(op, page), "claim": claim, "document": "1", "copy": copy}
    assert op.post("/operator/redacted", data=data).status_code == 302
    case = text_of(op.get(page))
    assert f"/operator/claims/{claim}/redacted/1/1.png" in case
    image = op.get(f"/operator/claims/{claim}/redacted/1/1.png")
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")


def _the_notice(c: _Case) -> None:
    """The notice; the same form again is refused by the claim's stage."""
    app, engine, op, claim, page = c.app, c.engine, c.op, c.claim, c.page
    fields = {"text": "A member aged 18-39 asks for aid for cancer.", "amount": "40,000"}
    size = len(entries(app))
    assert_done(publish(op, "/operator/actions/notice", {"claim": claim, **fields}, page), "Notice")
    assert len(entries(app)) == size + 1
    before = state_of(app, engine)
    again = publish(op, "/operator/actions/notice", {"claim": claim, **fields}, page)
    assert_refused(app, engine, again, 409, "only a filed claim that has no notice", before)


def _an_objection_answered(c: _Case, objector: str) -> None:
    """An objection, which must be answered before the draw."""
    app, engine, op, claim, page = c.app, c.engine, c.op, c.claim, c.page
    clock = c.clock
    with app.app_context():
        objection = current_pool().file_objection(claim, objector, "The amount looks high.")
    clock.advance(days=3)
    before = state_of(app, engine)
    draw = post(op, "/operator/actions/draw", {"claim": claim}, page)
    assert_refused(app, engine, draw, 409, "Answer every objection", before)
    answer = {"objection": str(objection), "text": "The bills support it."}
    done = publish(op, "/operator/actions/answer", {"claim": claim, **answer}, page)
    assert_done(done, "answered")
    assert "The bills support it." in text_of(op.get(page))
    before = state_of(app, engine)
    assert_refused(
        app,
        engine,
        publish(op, "/operator/actions/answer", {"claim": claim, **answer}, page),
        409,
        "already answered",
        before,
    )


def _the_draw(c: _Case) -> None:
    """The draw; a second draw is refused, and so is closing an open vote."""
    app, engine, op, claim, page = c.app, c.engine, c.op, c.claim, c.page
    assert "Draw the panel" in text_of(op.get(page))
    assert_done(post(op, "/operator/actions/draw", {"claim": claim}, page), "Panel")
    before = state_of(app, engine)
    assert_refused(
        app,
        engine,
        post(op, "/operator/actions/draw", {"claim": claim}, page),
        409,
        "is voting",
        before,
    )
    close = post(op, "/operator/actions/close-voting", {"claim": claim}, page)
    assert_refused(app, engine, close, 409, f"voting window of claim {claim} is open", before)


def _the_votes_closed(c: _Case) -> None:
    """Every juror votes; the operator closes the round once, not twice."""
    app, engine, op, claim, page = c.app, c.engine, c.op, c.claim, c.page
    clock = c.clock
    with app.app_context():
        pool = current_pool()
        view = pool.claim(claim)
        assert view is not None
        for juror in view.jurors:
            pool.seal_vote(claim, 1, juror, Choice.APPROVE, "The records are clear.")
    clock.advance(days=3)
    assert "voting closed (window over)" in text_of(op.get("/operator/"))
    size = len(entries(app))
    assert_done(post(op, "/operator/actions/close-voting", {"claim": claim}, page), "Voting")
    log = entries(app)
    decided = parse_entry(log[-1], seq=len(log) - 1).body
    assert len(log) == size + len(view.jurors) + 1
    assert isinstance(decided, ClaimDecided) and decided.amount == 4_000_000
    before = state_of(app, engine)
    again = post(op, "/operator/actions/close-voting", {"claim": claim}, page)
    assert_refused(app, engine, again, 409, "has no panel voting", before)


def _the_payout(c: _Case) -> None:
    """The approved claim paid, once, after its confirm step."""
    app, engine, op, claim, page = c.app, c.engine, c.op, c.claim, c.page
    assert "Review the payment" in text_of(op.get(page))
    before = state_of(app, engine)
    review = post(op, "/operator/actions/pay", {"claim": claim}, page)
    assert review.status_code == 200, text_of(review)
    shown = text_of(review)
    with app.app_context():
        view = current_pool().claim(claim)
    assert view is not None
    assert "Confirm the payment" in shown and "¥40,000.00" in shown and view.member in shown
    assert 'action="/operator/actions/pay/confirm"' in shown
    assert state_of(app, engine) == before  # the first post appends nothing
    # A confirmation for another amount pays nothing.
    wrong = {"claim": claim, "amount": "3999999"}
    refused = post(op, "/operator/actions/pay/confirm", wrong, page)
    assert_refused(app, engine, refused, 409, "is not the aid decided", before)
    confirm = {"claim": claim, "amount": "4000000"}
    assert_done(post(op, "/operator/actions/pay/confirm", confirm, page), "paid")
    log = entries(app)
    assert len(log) == before.size + 1
    paid = parse_entry(log[-1], seq=len(log) - 1).body
    assert isinstance(paid, ClaimPaid) and paid.amount == 4_000_000
    before = state_of(app, engine)
    again = post(op, "/operator/actions/pay/confirm", confirm, page)
    assert_refused(app, engine, again, 409, "only an approved claim is paid", before)
    first = post(op, "/operator/actions/pay", {"claim": claim}, page)
    assert_refused(app, engine, first, 409, "only an approved claim is paid", before)


def _the_periods_closed(c: _Case) -> None:
    """Every period due closed, from the review queue's form, until the one
    the payment is shared in; the same form again is refused."""
    app, engine, op, claim = c.app, c.engine, c.op, c.claim
    clock = c.clock
    with app.app_context():
        paid_in = current_pool().state().claim(claim)
    assert paid_in is not None and paid_in.paid_period is not None
    clock.now = moment(paid_in.paid_period) + timedelta(hours=1)
    closed: list[PeriodClosed] = []
    while found := _HIDDEN_PERIOD.search(op.get("/operator/").get_data(as_text=True)):
        period = {"period": found.group(1)}
        before = state_of(app, engine)
        review = post(op, "/operator/period/close", period, "/operator/")
        assert review.status_code == 200, text_of(review)
        assert "Confirm the period's close" in text_of(review)
        assert "Share per member" in text_of(review)
        assert state_of(app, engine) == before  # the first post appends nothing
        assert_done(post(op, "/operator/period/close/confirm", period, "/operator/"), "closed")
        log = entries(app)
        body = parse_entry(log[-1], seq=len(log) - 1).body
        assert isinstance(body, PeriodClosed)
        closed.append(body)
        before = state_of(app, engine)
        again = post(op, "/operator/period/close/confirm", period, "/operator/")
        assert_refused(app, engine, again, 409, "is already closed", before)
        first = post(op, "/operator/period/close", period, "/operator/")
        assert_refused(app, engine, first, 409, "is already closed", before)
    assert closed[-1].period == paid_in.paid_period
    assert (closed[-1].claims_count, closed[-1].claims_total) == (1, 4_000_000)
    assert "No claims are waiting for review." in text_of(op.get("/operator/"))


def test_markup_in_text_fields_is_published_as_text(
    app: Flask, engine: Engine, clock: FixedClock
) -> None:
    started = start_pool(app, clock, members=4)
    claim = file_claim(app, clock, started.members[0])
    with app.app_context():
        redact_all(current_pool(), claim)
    op = sign_in(app, OPERATOR)
    page = f"/operator/claims/{claim}"
    assert_done(
        publish(op, "/operator/actions/notice", {"claim": claim, "text": SCRIPT}, page), "Notice"
    )
    with app.app_context():
        pool = current_pool()
        notice = pool.notice(claim)
        objection = pool.file_objection(claim, started.members[1], SCRIPT)
    assert notice is not None and notice.text == SCRIPT  # stored as written
    answer = {"objection": str(objection), "text": SCRIPT}
    done = publish(op, "/operator/actions/answer", {"claim": claim, **answer}, page)
    assert_done(done, "answered")
    raw = op.get(page).get_data(as_text=True)
    assert "<script>" not in raw and "<b>bold</b>" not in raw
    assert raw.count("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;") == 3


# --- erasure ---------------------------------------------------------------------------


def test_erasure_keeps_the_log_and_records_it(
    app: Flask, engine: Engine, clock: FixedClock
) -> None:
    started = start_pool(app, clock, members=4)
    claimant = started.members[0]
    claim = file_claim(app, clock, claimant)
    op = sign_in(app, OPERATOR)
    commitments = [d.commitment for d in list_evidence(engine, claim)]
    log = entries(app)

    reason = "Erased at the claimant's request."
    fields = {"kind": "evidence", "subject": claim, "reason": reason}
    assert_done(publish(op, "/operator/erase", fields, "/operator/erase"), "erased")
    after = entries(app)
    assert after[: len(log)] == log  # every entry as it was
    erased = parse_entry(after[-1], seq=len(log)).body
    assert erased == DataErased(ErasedKind.EVIDENCE, claim, 1, reason)
    assert [d.commitment for d in list_evidence(engine, claim)] == commitments
    assert all(d.erased is not None for d in list_evidence(engine, claim))
    assert evidence_content(engine, claim, 0) is None
    assert op.get(f"/operator/claims/{claim}/evidence/1").status_code == 404
    assert "erased" in text_of(op.get(f"/operator/claims/{claim}"))
    before = state_of(app, engine)
    again = publish(op, "/operator/erase", fields, "/operator/erase")
    assert_refused(app, engine, again, 409, f"was erased in entry {len(log)}", before)

    # A reason that would publish the member's name is refused, at the first step.
    name = "Person member 0"
    bad = {"kind": "member", "subject": claimant, "reason": f"Asked by {name}."}
    response = post(op, "/operator/erase", bad, "/operator/erase")
    message = "Character 10 starts the name of a member this concerns"
    assert_refused(app, engine, response, 400, message, before)
    assert member_details(engine, claimant) is not None

    fields = {"kind": "member", "subject": claimant, "reason": "Asked by the member."}
    assert_done(publish(op, "/operator/erase", fields, "/operator/erase"), "erased")
    assert member_details(engine, claimant) is None
    final = entries(app)
    assert final[: len(after)] == after
    assert parse_entry(final[-1], seq=len(after)).body == DataErased(
        ErasedKind.MEMBER, claimant, 0, "Asked by the member."
    )
    records = erasures(engine)
    assert [(r.kind.value, r.subject, r.log_seq) for r in records] == [
        ("evidence", claim, len(log)),
        ("member", claimant, len(after)),
    ]
    assert name not in text_of(op.get(f"/operator/claims/{claim}"))
    result = replay(final)
    assert set(result.state.erasures) == {
        (ErasedKind.EVIDENCE, claim),
        (ErasedKind.MEMBER, claimant),
    }


# --- bad input on every form -----------------------------------------------------------


@dataclass(frozen=True)
class Built:
    """A database file with a pool at every stage the forms act on."""

    database: Path
    now: datetime
    filed: str  # a claim with no notice yet
    noticed: str  # a noticed claim with an objection not answered
    voting: str  # a claim whose panel is voting
    waiting: str  # a claim diagnosed inside the waiting period
    objection: int
    name: str  # the private name of the noticed claim's claimant


def _build(folder: Path) -> Built:
    database = folder / "pool.db"
    engine = make_engine(f"sqlite:///{database}", Sealer(folder / "instance"))
    upgrade(engine)
    clock = FixedClock()
    app = make_pool_app(engine, folder, clock)
    try:
        started = start_pool(app, clock)
        members = started.members
        voting = file_claim(app, clock, members[0])
        filed = file_claim(app, clock, members[1])
        noticed = file_claim(app, clock, members[2])
        with app.app_context():
            pool = current_pool()
            redact_all(pool, filed)
            redact_all(pool, voting)
            pool.publish_notice(voting, "A member aged 18-39 asks for aid for cancer.")
            clock.advance(days=3)
            pool.draw_panel(voting)
            redact_all(pool, noticed)
            pool.publish_notice(noticed, "A member aged 18-39 asks for aid for cancer.")
            objection = pool.file_objection(noticed, members[3], "Looks high.")
            late = add_members(pool, 1, "late", clock())
        details = member_details(engine, members[2])
        assert details is not None
        waiting = file_claim(app, clock, next(iter(late)))
        app.test_client().get("/login")  # draws and stores the session key
    finally:
        app.extensions["mutualog"].engine.dispose()
        engine.dispose()
    return Built(database, clock(), filed, noticed, voting, waiting, objection, details.name)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("operator-pool"))


@pytest.fixture
def copied(built: Built, tmp_path: Path) -> Iterator[tuple[Flask, Engine]]:
    copy = tmp_path / "pool.db"
    shutil.copyfile(built.database, copy)
    engine = make_engine(f"sqlite:///{copy}", Sealer(tmp_path / "instance"))
    app = make_pool_app(engine, tmp_path, FixedClock(built.now))
    yield app, engine
    app.extensions["mutualog"].engine.dispose()
    engine.dispose()


NO_CSRF = "-"  # a case whose form is sent without its CSRF token

# (id, path, fields, status, message); in paths and fields, {filed}, {noticed},
# {voting}, {waiting}, {objection} and {name} stand for the built pool's.
BAD: list[tuple[str, str, dict[str, str], int, str]] = [
    # the notice
    (
        "notice-no-csrf",
        "actions/notice",
        {"claim": "{filed}", NO_CSRF: "", "text": "x"},
        400,
        "security token",
    ),
    (
        "notice-empty",
        "actions/notice",
        {"claim": "{filed}", "text": "  "},
        400,
        "Write the notice.",
    ),
    (
        "notice-long",
        "actions/notice",
        {"claim": "{filed}", "text": "x" * 2001},
        400,
        "At most 2000 characters",
    ),
    (
        "notice-control-character",
        "actions/notice",
        {"claim": "{filed}", "text": "a\x00b"},
        400,
        "Character 2 (U+0000) is an invisible control character",
    ),
    (
        "notice-negative-amount",
        "actions/notice",
        {"claim": "{filed}", "text": "x", "amount": "-5"},
        400,
        "The amount must be more than zero.",
    ),
    (
        "notice-huge-amount",
        "actions/notice",
        {"claim": "{filed}", "text": "x", "amount": "9" * 30},
        400,
        "The amount is too large.",
    ),
    (
        "notice-three-decimals",
        "actions/notice",
        {"claim": "{filed}", "text": "x", "amount": "12.505"},
        400,
        "At most two decimals",
    ),
    (
        "notice-above-the-request",
        "actions/notice",
        {"claim": "{filed}", "text": "x", "amount": "50000.01"},
        400,
        "At most ¥50,000.00: the amount requested",
    ),
    # the pool's state is looked at when the notice is confirmed
    (
        "notice-wrong-stage",
        "actions/notice/confirm",
        {"claim": "{voting}", "text": "x"},
        409,
        "is voting",
    ),
    (
        "notice-waiting-period",
        "actions/notice/confirm",
        {"claim": "{waiting}", "text": "x"},
        409,
        "waiting period",
    ),
    (
        "notice-unknown-claim",
        "actions/notice",
        {"claim": "{unknown}", "text": "x"},
        404,
        "There is no claim",
    ),
    # the answer
    (
        "answer-unknown-objection",
        "actions/answer/confirm",
        {"claim": "{noticed}", "objection": "3", "text": "x"},
        409,
        "is not an objection to claim",
    ),
    (
        "answer-bad-objection",
        "actions/answer",
        {"claim": "{noticed}", "objection": "-1", "text": "x"},
        400,
        "The objection is not valid.",
    ),
    (
        "answer-empty",
        "actions/answer",
        {"claim": "{noticed}", "objection": "{objection}", "text": ""},
        400,
        "Write the answer.",
    ),
    # one-button actions
    ("draw-no-csrf", "actions/draw", {"claim": "{noticed}", NO_CSRF: ""}, 400, "security token"),
    ("draw-unanswered", "actions/draw", {"claim": "{noticed}"}, 409, "Answer every objection"),
    ("draw-filed", "actions/draw", {"claim": "{filed}"}, 409, "is filed"),
    ("draw-voting", "actions/draw", {"claim": "{voting}"}, 409, "is voting"),
    ("close-voting-open", "actions/close-voting", {"claim": "{voting}"}, 409, "is open until"),
    (
        "close-voting-filed",
        "actions/close-voting",
        {"claim": "{filed}"},
        409,
        "has no panel voting",
    ),
    ("pay-voting", "actions/pay", {"claim": "{voting}"}, 409, "only an approved claim is paid"),
    ("ineligible-covered", "actions/ineligible", {"claim": "{filed}"}, 409, "not diagnosed inside"),
    ("pay-no-claim", "actions/pay", {}, 400, "The claim is missing."),
    ("pay-no-csrf", "actions/pay", {"claim": "{voting}", NO_CSRF: ""}, 400, "security token"),
    (
        "pay-confirm-voting",
        "actions/pay/confirm",
        {"claim": "{voting}", "amount": "5000000"},
        409,
        "only an approved claim is paid",
    ),
    (
        "pay-confirm-no-csrf",
        "actions/pay/confirm",
        {"claim": "{voting}", NO_CSRF: "", "amount": "1"},
        400,
        "security token",
    ),
    (
        "pay-confirm-no-amount",
        "actions/pay/confirm",
        {"claim": "{voting}"},
        400,
        "The amount confirmed is missing.",
    ),
    (
        "pay-confirm-bad-amount",
        "actions/pay/confirm",
        {"claim": "{voting}", "amount": "-1"},
        400,
        "The amount confirmed is not valid.",
    ),
    (
        "pay-confirm-unknown-claim",
        "actions/pay/confirm",
        {"claim": "{unknown}", "amount": "1"},
        404,
        "There is no claim",
    ),
    ("draw-bad-claim", "actions/draw", {"claim": "xyz"}, 400, "The claim id is not valid."),
    ("pay-unknown-claim", "actions/pay", {"claim": "{unknown}"}, 404, "There is no claim"),
    # the period
    ("period-no-csrf", "period/close", {NO_CSRF: "", "period": "2026-01-07"}, 400, "token"),
    ("period-not-a-date", "period/close", {"period": "soon"}, 400, "not a date"),
    ("period-impossible", "period/close", {"period": "2026-02-30"}, 400, "not a calendar date"),
    ("period-past", "period/close", {"period": "2025-12-21"}, 409, "not the next period due"),
    ("period-ahead", "period/close", {"period": "2026-02-07"}, 409, "not the next period due"),
    (
        "period-confirm-no-csrf",
        "period/close/confirm",
        {NO_CSRF: "", "period": "2026-01-07"},
        400,
        "token",
    ),
    ("period-confirm-not-a-date", "period/close/confirm", {"period": "soon"}, 400, "not a date"),
    (
        "period-confirm-past",
        "period/close/confirm",
        {"period": "2025-12-21"},
        409,
        "not the next period due",
    ),
    # the demo's clock, in an instance that is not a demo
    ("demo-clock-not-a-demo", "demo/clock", {"step": "day"}, 403, "not a demo"),
    # the rules
    ("rules-no-csrf", "rules", {NO_CSRF: "", "changes": "{}"}, 400, "security token"),
    ("rules-not-json", "rules", {"changes": "{not json"}, 400, "rules: not JSON"),
    ("rules-array", "rules", {"changes": "[1, 2]"}, 400, "expected a JSON object"),
    ("rules-float", "rules", {"changes": '{"share.fee_rate_bp": 7.5}'}, 400, "floats are not"),
    ("rules-duplicate", "rules", {"changes": '{"a.b": 1, "a.b": 2}'}, 400, "duplicate key"),
    ("rules-unknown", "rules", {"changes": '{"no.such": 1}'}, 400, "unknown rule(s) no.such"),
    ("rules-bad-value", "rules", {"changes": '{"share.fee_rate_bp": -1}'}, 400, "fee_rate_bp"),
    ("rules-empty", "rules", {"changes": "{}"}, 400, "changes no rule"),
    ("rules-bad-date", "rules", {"effective": "2026-13-45"}, 400, "must be a date YYYY-MM-DD"),
    ("rules-past", "rules", {"effective": "2020-01-01"}, 400, "takes effect in the future"),
    ("rules-no-reason", "rules", {"reason": ""}, 400, "Give the reason for the change."),
    # overrides
    ("override-no-csrf", "override", {NO_CSRF: ""}, 400, "security token"),
    ("override-bad-action", "override", {"action": "Drop Table"}, 400, "Lowercase letters"),
    ("override-not-allowed", "override/confirm", {"action": "claim.delete"}, 409, "do not allow"),
    (
        "override-withdraw-unknown",
        "override/confirm",
        {"action": "claim.withdraw", "target": "f" * 32},
        409,
        "rule override.target",
    ),
    ("override-long-target", "override", {"target": "x" * 201}, 400, "At most 200 characters"),
    ("override-two-line-target", "override", {"target": "a\nb"}, 400, "One line only"),
    ("override-no-reason", "override", {"reason": ""}, 400, "Give the reason for the override"),
    # erasure
    ("erase-no-csrf", "erase", {NO_CSRF: ""}, 400, "security token"),
    ("erase-bad-kind", "erase", {"kind": "account"}, 400, "Not a valid choice"),
    ("erase-bad-id", "erase", {"subject": "xyz"}, 400, "32 lowercase hexadecimal"),
    ("erase-unknown-member", "erase/confirm", {"subject": "f" * 32}, 409, "There is no member"),
    (
        "erase-unknown-claim",
        "erase/confirm",
        {"kind": "evidence", "subject": "f" * 32},
        409,
        "There is no claim",
    ),
    ("erase-long-reason", "erase", {"reason": "x" * 501}, 400, "At most 500 characters"),
    (
        "erase-personal-reason",
        "erase",
        {"reason": "For {name}."},
        400,
        "Character 5 starts the name of a member",
    ),
    ("erase-phone-reason", "erase/confirm", {"reason": "Tel 13912345678"}, 400, "a mobile phone"),
]

#: What each page's form sends when a case leaves a field out.
DEFAULTS = {
    "rules": {
        "changes": '{"share.fee_rate_bp": 700}',
        "effective": "2026-03-01",
        "reason": "A lower fee.",
    },
    "override": {"action": "note", "target": "rules", "reason": "A note."},
    "erase": {"kind": "member", "subject": "{member}", "reason": "On request."},
}


def _fill(text: str, names: dict[str, str]) -> str:
    for name, value in names.items():
        text = text.replace(f"{{{name}}}", value)
    return text


@pytest.mark.parametrize(
    ("path", "fields", "status", "message"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD],
)
def test_bad_input_is_refused_and_changes_nothing(
    built: Built,
    copied: tuple[Flask, Engine],
    path: str,
    fields: dict[str, str],
    status: int,
    message: str,
) -> None:
    app, engine = copied
    with app.app_context():
        state = current_pool().state()
        member = state.claim(built.noticed)
    assert member is not None
    names = {
        "filed": built.filed,
        "noticed": built.noticed,
        "voting": built.voting,
        "waiting": built.waiting,
        "unknown": "e" * 32,
        "objection": str(built.objection),
        "name": built.name,
        "member": member.member,
    }
    op = sign_in(app, OPERATOR)
    form = {**DEFAULTS.get(path.removesuffix("/confirm"), {}), **fields}
    data = {k: _fill(v, names) for k, v in form.items() if k != NO_CSRF}
    if NO_CSRF not in form:
        data["csrf_token"] = csrf(op, "/operator/")
    before = state_of(app, engine)
    response = op.post(f"/operator/{_fill(path, names)}", data=data)
    assert_refused(app, engine, response, status, message, before)
    assert response.content_type.startswith("text/html")


def test_every_operator_form_is_in_the_table() -> None:
    posted = {case[1].removeprefix("actions/") for case in BAD}
    assert posted >= {
        "notice",
        "answer",
        "draw",
        "close-voting",
        "pay",
        "pay/confirm",
        "ineligible",
        "period/close",
        "period/close/confirm",
        "demo/clock",
        "rules",
        "override",
        "erase",
        "notice/confirm",
        "answer/confirm",
        "override/confirm",
        "erase/confirm",
    }


def test_the_pages_show_their_forms(built: Built, copied: tuple[Flask, Engine]) -> None:
    app, _ = copied
    op = sign_in(app, OPERATOR)
    queue = text_of(op.get("/operator/"))
    for claim in (built.filed, built.waiting):
        assert claim in queue
    assert "Due to close: 2026-01-07" in queue
    assert "Decide ineligible" in text_of(op.get(f"/operator/claims/{built.waiting}"))
    assert "Publish the answer" in text_of(op.get(f"/operator/claims/{built.noticed}"))
    for path, heading in (
        ("rules", "Change the rules"),
        ("override", "Log an override"),
        ("erase", "Erase private data"),
    ):
        page = op.get(f"/operator/{path}")
        assert page.status_code == 200 and f"<h1>{heading}</h1>" in text_of(page)
    assert op.get("/operator/claims/nope").status_code == 404
    assert html.escape("panel.size") in text_of(op.get("/operator/rules"))


# --- amounts in yuan ----------------------------------------------------------------------

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}

# (id, typed, English, Chinese): each refused next to its field, nothing appended.
BAD_YUAN = [
    ("negative", "-5", "The amount must be more than zero.", "金额必须大于零。"),
    ("minus-sign", "\u22125", "The amount must be more than zero.", "金额必须大于零。"),
    ("zero", "0", "The amount must be more than zero.", "金额必须大于零。"),
    ("zero-fen", "0.00", "The amount must be more than zero.", "金额必须大于零。"),
    ("three-decimals", "12.345", "At most two decimals", "最多两位小数"),
    ("a-tenth-of-a-fen", "0.001", "At most two decimals", "最多两位小数"),
    ("letters", "abc", "Enter the amount in yuan, with digits", "请用数字填写金额"),
    ("exponent", "1e5", "Enter the amount in yuan, with digits", "请用数字填写金额"),
    ("not-a-number", "NaN", "Enter the amount in yuan, with digits", "请用数字填写金额"),
    ("two-points", "12.5.3", "Enter the amount in yuan, with digits", "请用数字填写金额"),
    (
        "fullwidth-digits",
        "\uff11\uff12",
        "Enter the amount in yuan, with digits",
        "请用数字填写金额",
    ),
    ("comma-decimals", "12,5.5,5", "Enter the amount in yuan, with digits", "请用数字填写金额"),
    ("huge", "9" * 30, "The amount is too large.", "金额太大。"),
    ("above-the-request", "50000.01", "At most ¥50,000.00", "最多 ¥50,000.00"),
]


@pytest.mark.parametrize(
    ("typed", "english", "chinese"), [pytest.param(*case[1:], id=case[0]) for case in BAD_YUAN]
)
def test_bad_yuan_is_refused_in_both_languages_and_changes_nothing(
    built: Built, copied: tuple[Flask, Engine], typed: str, english: str, chinese: str
) -> None:
    app, engine = copied
    op = sign_in(app, OPERATOR)
    page = f"/operator/claims/{built.filed}"
    for headers, message in (({}, english), (ZH, chinese)):
        fields = {"claim": built.filed, "text": "x", "amount": typed}
        before = state_of(app, engine)
        response = op.post(
            "/operator/actions/notice",
            data={"csrf_token": csrf(op, page), **fields},
            headers=headers,
        )
        shown = text_of(response)
        assert response.status_code == 400, shown
        errors = re.search(r'id="amount-errors">(.*?)</ul>', shown, re.S)
        assert errors and message in errors.group(1), shown[-2000:]
        assert state_of(app, engine) == before
        with app.app_context():
            view = current_pool().claim(built.filed)
        assert view is not None and view.stage.value == "filed"


@pytest.mark.parametrize(
    ("typed", "fen"),
    [
        ("40000", 4_000_000),
        ("40,000.5", 4_000_050),
        ("\u00a540000.50", 4_000_050),
        ("\uffe5 1 234.56", 123_456),
        ("0.01", 1),
        ("12.", 1_200),
        ("0.10", 10),
        ("90071992547409.91", 9_007_199_254_740_991),
    ],
)
def test_yuan_are_parsed_exactly_into_fen(typed: str, fen: int) -> None:
    assert yuan_to_fen(typed) == fen


def test_a_notice_in_yuan_logs_fen(built: Built, copied: tuple[Flask, Engine]) -> None:
    app, _ = copied
    op = sign_in(app, OPERATOR)
    page = f"/operator/claims/{built.filed}"
    fields = {"claim": built.filed, "text": "A member asks for aid.", "amount": "12,345.67"}
    preview = op.post("/operator/actions/notice", data={"csrf_token": csrf(op, page), **fields})
    assert preview.status_code == 200 and "¥12,345.67" in text_of(preview)
    done = op.post(
        "/operator/actions/notice/confirm", data={"csrf_token": csrf(op, page), **fields}
    )
    assert done.status_code == 302, text_of(done)
    with app.app_context():
        notice = current_pool().notice(built.filed)
    assert notice is not None and notice.amount == 1_234_567
    assert "¥12,345.67" in text_of(op.get("/operator/"))  # the flash, in yuan


def test_an_expired_notice_form_keeps_what_was_typed(
    built: Built, copied: tuple[Flask, Engine]
) -> None:
    app, engine = copied
    op = sign_in(app, OPERATOR)
    fields = {"claim": built.filed, "text": "A kept notice.", "amount": "1,234.50"}
    for headers, notice in (({}, "What you typed is kept below"), (ZH, "您填写的内容已保留")):
        before = state_of(app, engine)
        # No token: as when the page was open longer than the session.
        response = op.post("/operator/actions/notice", data=fields, headers=headers)
        page = text_of(response)
        assert response.status_code == 400 and notice in page
        assert "A kept notice.</textarea>" in page and 'value="1,234.50"' in page
        assert state_of(app, engine) == before


@pytest.mark.parametrize(
    ("outcome", "amount", "english", "chinese"),
    [
        (Outcome.APPROVED, 4_000_000, "approved, ¥40,000.00.", "互助金 ¥40,000.00"),
        (Outcome.REJECTED, 0, "reject; rejected.", "1 票反对"),
        (Outcome.NO_QUORUM, 0, "reject; too few votes", "1 票反对"),
    ],
)
def test_a_closed_vote_is_told_with_its_aid_only_when_approved(
    app: Flask, outcome: Outcome, amount: int, english: str, chinese: str
) -> None:
    body = ClaimDecided("a" * 32, 1, 2, 1, outcome, amount)
    with app.test_request_context("/operator/"):
        told = said("a" * 32, body)
    assert english in told and ("¥" in told) == (outcome is Outcome.APPROVED)
    with app.test_request_context("/operator/", headers=ZH):
        told = said("a" * 32, body)
    assert chinese in told and ("¥" in told) == (outcome is Outcome.APPROVED)


# --- the pool's refusals in both languages ------------------------------------------------

# (id, path, fields, English, Chinese): refused by the pool or its rules, nothing appended.
REFUSED_IN_BOTH = [
    ("draw-unanswered", "actions/draw", {"claim": "{noticed}"}, "Answer every", "请先答复"),
    (
        "notice-wrong-stage",
        "actions/notice/confirm",
        {"claim": "{voting}", "text": "x"},
        "is voting: only a filed claim",
        "当前状态为“评审员投票中”",
    ),
    (
        "close-voting-open",
        "actions/close-voting",
        {"claim": "{voting}"},
        "is open until",
        "的投票期到",
    ),
    (
        "period-past",
        "period/close",
        {"period": "2025-12-21"},
        "not the next period due",
        "不是下一个到期的",
    ),
    (
        "override-withdraw-unknown",
        "override/confirm",
        {"action": "claim.withdraw", "target": "f" * 32},
        "(rule override.target)",
        "（规则 override.target）",  # noqa: RUF001
    ),
    (
        "erase-unknown-member",
        "erase/confirm",
        {"subject": "f" * 32},
        "There is no member",
        "没有编号为",
    ),
]


@pytest.mark.parametrize(
    ("path", "fields", "english", "chinese"),
    [pytest.param(*case[1:], id=case[0]) for case in REFUSED_IN_BOTH],
)
def test_a_refusal_reads_in_the_operators_language(
    built: Built,
    copied: tuple[Flask, Engine],
    path: str,
    fields: dict[str, str],
    english: str,
    chinese: str,
) -> None:
    app, engine = copied
    names = {"noticed": built.noticed, "voting": built.voting}
    op = sign_in(app, OPERATOR)
    defaults = DEFAULTS.get(path.removesuffix("/confirm"), {})
    data = {k: _fill(v, names) for k, v in {**defaults, **fields}.items()}
    for headers, message, other in (({}, english, chinese), (ZH, chinese, english)):
        before = state_of(app, engine)
        response = op.post(
            f"/operator/{path}",
            data={**data, "csrf_token": csrf(op, "/operator/")},
            headers=headers,
        )
        assert_refused(app, engine, response, 409, message, before)
        assert other not in text_of(response)
