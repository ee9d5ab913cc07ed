"""The authorisation matrix: every route of the application by five roles.

The roles are an anonymous visitor, a member of the pool on no panel, a
juror drawn for another claim, a juror drawn for this claim and an
operator.  Each cell says what the route must answer that role:

* the read path, the JSON API, the stylesheet and the home page are public;
* a member's page sends an anonymous visitor to sign in and refuses an
  operator with 403 (:func:`server.auth.member_required`);
* an operator's page sends an anonymous visitor to sign in and refuses a
  member with 403 (the ``operator`` blueprint's ``before_request``);
* a juror's case file and vote forms are for the claim's drawn jurors only
  (403 for anyone else), and a receipt is only ever the asking juror's own
  (404 for someone who has no sealed vote on the claim);
* registration and sign-in send a signed-in visitor to their home page.

Every refused request, and every allowed one that only reads, must leave
the log's size, its latest checkpoint and the row count of every table
(log and private store) as they were.  The matrix's keys are the
application's endpoints, so a route added without a row here fails.

The pool is built once per module on SQLite (``pool_helpers``' approach:
two claims, each with a drawn panel) and every cell runs on its own copy
of that database, so an allowed write cannot leak into the next cell.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, inspect, text

from server.auth import accounts_service
from server.db import make_engine, upgrade
from server.juror_forms import seal_vote_form
from server.pool_app import current_pool
from server.pool_service import PoolService
from server.private.accounts import Role
from server.private.evidence import Upload
from server.private.sealing import Sealer
from server.private.submissions import new_token
from tests.clock import FixedClock
from tests.server.pool_helpers import (
    PASSWORD,
    PDF,
    RULES,
    add_members,
    make_pool_app,
)
from tests.server.redaction_files import clean_pdf, redact_all
from verifiable.log.bodies import Choice
from verifiable.log.tiles import tiles_for_size

if TYPE_CHECKING:
    from werkzeug.test import TestResponse

ROLES = ("anonymous", "member", "juror_other", "juror_this", "operator")
OPERATOR = "boss"
REASON = "The records are clear."

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MUTUALOG_SECRET_KEY", "MUTUALOG_SECURE_COOKIES"):
        monkeypatch.delenv(name, raising=False)


# --- the pool: two claims, each with its panel --------------------------------------


@dataclass(frozen=True)
class Pool:
    """A database file holding a pool with two claims voting, and who is who.

    ``claim`` is "this claim"; ``other_claim`` has its own panel.
    ``member_ids`` maps each role with a member id to it; ``usernames``
    maps each signed-in role to its account's username."""

    database: Path
    now: datetime
    claim: str
    other_claim: str
    usernames: dict[str, str]
    member_ids: dict[str, str]


def _notice(pool: PoolService, claim: str) -> None:
    """The claim's notice, after the panel's redacted copies it commits to."""
    redact_all(pool, claim)
    pool.publish_notice(claim, "A member aged 18-39 asks for aid for cancer.")


def _build(folder: Path) -> Pool:
    database = folder / "pool.db"
    engine = make_engine(f"sqlite:///{database}", Sealer(folder / "instance"))
    upgrade(engine)
    clock = FixedClock()
    app = make_pool_app(engine, folder, clock)
    try:
        with app.app_context():
            pool = current_pool()
            pool.start(RULES)
            usernames = add_members(pool, 12, "member", clock())
            for member in usernames:
                pool.qualify_juror(member)
            pool.commit_jury_pool()
            clock.advance(days=11)
            members = list(usernames)
            claims = []
            for claimant in members[:2]:
                upload = Upload(PDF, "application/pdf", "a.pdf")
                claim = pool.file_claim(claimant, "cancer", 5_000_000, clock().date(), [upload])
                _notice(pool, claim)
                claims.append(claim)
            clock.advance(days=3)
            this_panel = set(pool.draw_panel(claims[0]).jurors)
            other_panel = set(pool.draw_panel(claims[1]).jurors)
            clock.advance(hours=1)
            # -- pool: more claims, for the member pages (member) --
            # A claim in its objection window, filed by a member who has no role.
            spare = [m for m in members[2:] if m not in this_panel | other_panel][1]
            upload = Upload(PDF, "application/pdf", "a.pdf")
            noticed = pool.file_claim(spare, "cancer", 5_000_000, clock().date(), [upload])
            _notice(pool, noticed)
            # -- pool: more claims, for the operator pages --
            # A claim at each stage an operator form acts on, filed by members
            # with no role.  A rule change (no objection window, one-day votes)
            # lets one claim be voted on and approved, and another's votes be
            # over, while this claim's panel is still voting.
            roles = {
                sorted(this_panel - other_panel)[0],
                sorted(other_panel - this_panel)[0],
                *[m for m in members[2:] if m not in this_panel | other_panel][:2],
            }
            free = [m for m in members[2:] if m not in roles]
            pdf = Upload(PDF, "application/pdf", "a.pdf")
            objected = pool.file_claim(free[0], "cancer", 5_000_000, clock().date(), [pdf])
            _notice(pool, objected)
            pool.file_objection(objected, free[1], "The amount looks high.")
            soon = datetime.fromtimestamp(clock().timestamp() + 1, clock().tzinfo)
            quick = {"claim.objection_days": 0, "panel.voting_days": 1}
            pool.change_rules(quick, soon, "Faster reviews.")
            clock.advance(seconds=2)
            to_notice = pool.file_claim(free[1], "cancer", 5_000_000, clock().date(), [pdf])
            redact_all(pool, to_notice)
            late = next(iter(add_members(pool, 1, "late", clock())))
            pool.file_claim(late, "stroke", 100_000, clock().date(), [pdf])  # waiting period
            drawable, approved, closable = [
                pool.file_claim(m, "cancer", 5_000_000, clock().date(), [pdf]) for m in free[2:5]
            ]
            for noticed_now in (drawable, approved, closable):
                _notice(pool, noticed_now)
            for voted in (approved, closable):
                for juror in pool.draw_panel(voted).jurors:
                    pool.seal_vote(voted, 1, juror, Choice.APPROVE, REASON)
            clock.advance(days=1, seconds=1)
            pool.close_voting(approved)
            accounts_service().register(OPERATOR, PASSWORD, clock(), Role.OPERATOR)
        juror_this = sorted(this_panel - other_panel)[0]
        juror_other = sorted(other_panel - this_panel)[0]
        outsider = next(m for m in members[2:] if m not in this_panel | other_panel)
        # The session key is drawn and stored on first use: do it now, so no
        # cell sees it appear.
        app.test_client().get("/login")
    finally:
        app.extensions["mutualog"].engine.dispose()
        engine.dispose()
    ids = {"member": outsider, "juror_other": juror_other, "juror_this": juror_this}
    names = {role: usernames[m] for role, m in ids.items()} | {"operator": OPERATOR}
    return Pool(database, clock(), claims[0], claims[1], names, ids)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Pool:
    return _build(tmp_path_factory.mktemp("authz-pool"))


@pytest.fixture
def pool(built: Pool, tmp_path: Path) -> Pool:
    copy = tmp_path / "pool.db"
    shutil.copyfile(built.database, copy)
    return Pool(copy, built.now, built.claim, built.other_claim, built.usernames, built.member_ids)


@pytest.fixture
def engine(pool: Pool, tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{pool.database}", Sealer(tmp_path / "instance"))
    yield engine
    engine.dispose()


@pytest.fixture
def app(engine: Engine, tmp_path: Path, pool: Pool) -> Iterator[Flask]:
    app = make_pool_app(engine, tmp_path, FixedClock(pool.now))
    yield app
    app.extensions["mutualog"].engine.dispose()


# --- what a refused request must leave alone -----------------------------------------


@dataclass(frozen=True)
class State:
    size: int
    checkpoint: bytes | None
    rows: dict[str, int]


def state_of(app: Flask, engine: Engine) -> State:
    with app.app_context():
        store = current_pool().store
        size, checkpoint = store.size(), store.latest_checkpoint()
    tables = sorted(inspect(engine).get_table_names())
    with engine.connect() as conn:
        rows = {
            t: int(conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() or 0) for t in tables
        }
    return State(size, checkpoint, rows)


# --- the matrix -----------------------------------------------------------------------

OK = "ok"  # 200
LOGIN = "login"  # 302 to the sign-in page, with ?next=
HOME = "home"  # 302 to the signed-in role's home page
INDEX = "index"  # 302 to /
DASHBOARD = "dashboard"  # 302 to /dashboard
RECEIPT = "receipt"  # 302 to this claim's receipt
NOTICES = "notices"  # 302 to the notifications page
SIGN_IN = "sign_in"  # 302 to the sign-in page, without ?next=
CLAIM_PAGE = "claim_page"  # 302 to a claim's operator page
FORBIDDEN = "403"
NOT_FOUND = "404"

REFUSALS = frozenset({LOGIN, FORBIDDEN, NOT_FOUND})

PUBLIC = dict.fromkeys(ROLES, OK)
GUEST = {"anonymous": OK, **dict.fromkeys(ROLES[1:], HOME)}
MEMBERS = {"anonymous": LOGIN, **dict.fromkeys(ROLES[1:4], OK), "operator": FORBIDDEN}
PANEL = {
    "anonymous": LOGIN,
    "member": FORBIDDEN,
    "juror_other": FORBIDDEN,
    "juror_this": OK,
    "operator": FORBIDDEN,
}
OWN_RECEIPT = {**PANEL, "member": NOT_FOUND, "juror_other": NOT_FOUND}
OPERATORS = {"anonymous": LOGIN, **dict.fromkeys(ROLES[1:4], FORBIDDEN), "operator": OK}

Cells = dict[str, str]

# endpoint -> method -> role -> outcome
MATRIX: dict[str, dict[str, Cells]] = {
    "tiles.checkpoint": {"GET": PUBLIC},
    "tiles.latest_checkpoint": {"GET": PUBLIC},
    "tiles.tile": {"GET": PUBLIC},
    "tiles.snapshot": {"GET": PUBLIC},
    "api.openapi": {"GET": PUBLIC},
    "api.log": {"GET": PUBLIC},
    "api.entry": {"GET": PUBLIC},
    "api.inclusion": {"GET": PUBLIC},
    "api.consistency": {"GET": PUBLIC},
    "signin.static": {"GET": PUBLIC},
    "signin.index": {"GET": PUBLIC},
    # Registering does not sign in: a taken name is answered as a free one.
    "signin.register": {"GET": GUEST, "POST": {**GUEST, "anonymous": SIGN_IN}},
    "signin.password": {
        "GET": {"anonymous": LOGIN, **dict.fromkeys(ROLES[1:], OK)},
        "POST": {"anonymous": LOGIN, **dict.fromkeys(ROLES[1:], HOME)},
    },
    "signin.reset": {"GET": PUBLIC, "POST": dict.fromkeys(ROLES, SIGN_IN)},
    "signin.login": {"GET": GUEST, "POST": {**GUEST, "anonymous": DASHBOARD}},
    "signin.logout": {"POST": dict.fromkeys(ROLES, INDEX)},
    "signin.language": {"GET": dict.fromkeys(ROLES, INDEX)},
    "member.dashboard": {"GET": MEMBERS},
    "juror.panels": {"GET": MEMBERS},
    "juror.case": {"GET": PANEL},
    "juror.review": {"POST": PANEL},
    "juror.cast": {"POST": {**PANEL, "juror_this": RECEIPT}},
    "juror.receipt": {"GET": OWN_RECEIPT},
    "juror.receipt_file": {"GET": OWN_RECEIPT},
    "operator.index": {"GET": OPERATORS},
    # -- rows: member pages (member) --
    # A member's pages: "member" roles here have joined already, so joining is
    # refused (403) and its form is sent to the dashboard; the successful
    # actions send the member to the dashboard.  Only a claimant sees their
    # evidence (404 to anyone else); objections go to the claim in its window
    # (filed by a member with no role), and so does an appeal, which only
    # its claimant may make.
    "member.join": {
        "GET": {**MEMBERS, **dict.fromkeys(ROLES[1:4], DASHBOARD)},
        "POST": {**MEMBERS, **dict.fromkeys(ROLES[1:4], FORBIDDEN)},
    },
    "member.leave": {"GET": MEMBERS, "POST": {**MEMBERS, **dict.fromkeys(ROLES[1:4], DASHBOARD)}},
    "member.claim_new": {
        "GET": MEMBERS,
        "POST": {**MEMBERS, **dict.fromkeys(ROLES[1:4], DASHBOARD)},
    },
    "member.claim_status": {"GET": MEMBERS},
    "member.claim_object": {"POST": {**MEMBERS, **dict.fromkeys(ROLES[1:4], DASHBOARD)}},
    "member.claim_appeal": {"POST": {**MEMBERS, **dict.fromkeys(ROLES[1:4], FORBIDDEN)}},
    "member.claim_evidence": {"GET": {**MEMBERS, **dict.fromkeys(ROLES[1:4], NOT_FOUND)}},
    # A statement is for a period the member shared in: none has closed here.
    "member.period_statement": {"GET": {**MEMBERS, **dict.fromkeys(ROLES[1:4], NOT_FOUND)}},
    "notices.index": {"GET": MEMBERS},
    "notices.read": {"POST": {**MEMBERS, **dict.fromkeys(ROLES[1:4], NOTICES)}},
    "notices.email": {"POST": {**MEMBERS, **dict.fromkeys(ROLES[1:4], NOTICES)}},
    # The redacted copies' page images: the only evidence a juror is served.
    "juror.redacted_page": {"GET": PANEL},
    "member.claim_redacted_page": {"GET": {**MEMBERS, **dict.fromkeys(ROLES[1:4], NOT_FOUND)}},
    "member.claim_redacted_opening": {"GET": {**MEMBERS, **dict.fromkeys(ROLES[1:4], NOT_FOUND)}},
    # -- rows: operator pages --
    # The operator's pages; a successful action returns to the review queue
    # (home, for an operator).  Each form names a claim at the right stage.
    "operator.claim": {"GET": OPERATORS},
    "operator.evidence": {"GET": OPERATORS},
    "operator.redacted_page": {"GET": OPERATORS},
    # A redacted copy stored: back to its claim's page, to look at its images.
    "operator.upload_redacted": {"POST": {**OPERATORS, "operator": CLAIM_PAGE}},
    # Paying, closing a period and publishing a text: the first post shows
    # what will be appended (200, nothing written), the confirm post does it.
    "operator.close_period": {"POST": OPERATORS},
    "operator.pay": {"POST": OPERATORS},
    "operator.notice": {"POST": OPERATORS},
    "operator.answer": {"POST": OPERATORS},
    **{
        f"operator.{name}": {"POST": {**OPERATORS, "operator": HOME}}
        for name in (
            "notice_confirmed",
            "answer_confirmed",
            "override_confirmed",
            "erase_confirmed",
            "draw",
            "close_voting",
            "pay_confirmed",
            "ineligible",
            "close_period_confirmed",
        )
    },
    # The demo's clock: this pool is not a demo, so even the operator is refused.
    "operator.demo_clock": {"POST": {**OPERATORS, "operator": FORBIDDEN}},
    "operator.rules": {"GET": OPERATORS, "POST": {**OPERATORS, "operator": HOME}},
    **{f"operator.{name}": {"GET": OPERATORS, "POST": OPERATORS} for name in ("override", "erase")},
    # -- rows: public pages and pool JSON --
    "public.overview": {"GET": PUBLIC},
    "public.claims": {"GET": PUBLIC},
    "public.claim": {"GET": PUBLIC},
    "public.log_page": {"GET": PUBLIC},
    "public.verify": {"GET": PUBLIC},
    "verifier.page": {"GET": PUBLIC},
    "public.rules": {"GET": PUBLIC},
    "public.faq": {"GET": PUBLIC},
    "pool_api.overview": {"GET": PUBLIC},
    "pool_api.periods": {"GET": PUBLIC},
    "pool_api.claims": {"GET": PUBLIC},
    "pool_api.claim": {"GET": PUBLIC},
    # -- rows: bundles --
    "bundle_api.claim": {"GET": PUBLIC},
    # Public too; the pool has closed no period yet, so anyone is told so alike.
    "bundle_api.deduction": {"GET": dict.fromkeys(ROLES, NOT_FOUND)},
}

# Allowed cells that write: everything else, allowed or refused, writes nothing.
WRITES = {
    ("signin.register", "POST", "anonymous"),  # a new account
    ("signin.login", "POST", "anonymous"),  # the sign-in's attempt record
    # A new hash, the sessions revoked, this browser's new session.
    *(("signin.password", "POST", r) for r in ROLES[1:]),
    *(("signin.reset", "POST", r) for r in ROLES),  # a new hash, the code spent
    ("juror.cast", "POST", "juror_this"),  # the sealed vote
    # -- writes: member pages (member) --
    *(
        (e, "POST", r)
        for e in ("member.leave", "member.claim_new", "member.claim_object")
        for r in ROLES[1:4]
    ),
    # The member's notice settings: how far read, where mailed.
    *((e, "POST", r) for e in ("notices.read", "notices.email") for r in ROLES[1:4]),
    # -- writes: operator pages --
    ("operator.upload_redacted", "POST", "operator"),  # a copy replaced, nothing appended
    *(
        (f"operator.{name}", "POST", "operator")
        for name in (
            "notice_confirmed",
            "answer_confirmed",
            "draw",
            "close_voting",
            "pay_confirmed",
            "ineligible",
            "close_period_confirmed",
            "rules",
            "override_confirmed",
            "erase_confirmed",
        )
    ),
}

# Receipts are asked for after this claim's juror has voted, so there is one to refuse.
NEEDS_VOTE = {"juror.receipt", "juror.receipt_file"}

CASES = [
    pytest.param(endpoint, method, role, id=f"{endpoint}-{method}-{role}")
    for endpoint, methods in MATRIX.items()
    for method, cells in methods.items()
    for role in ROLES
]


def test_the_matrix_covers_every_route_and_method(app: Flask) -> None:
    # HEAD and OPTIONS are Flask's own, answered as GET is (or with the
    # allowed methods); every other method a route takes needs its row.
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        methods = (rule.methods or set()) - {"HEAD", "OPTIONS"}
        routes.setdefault(rule.endpoint, set()).update(methods)
    assert set(routes) == set(MATRIX), "a route without a row in MATRIX, or a stale row"
    for endpoint, methods in routes.items():
        assert methods == set(MATRIX[endpoint]), endpoint
    for rows in MATRIX.values():
        for cells in rows.values():
            assert set(cells) == set(ROLES)


def _path(endpoint: str, pool: Pool, size: int) -> str:
    claim = pool.claim
    paths = {
        "tiles.checkpoint": "/checkpoint",
        "tiles.latest_checkpoint": "/checkpoint/latest",
        "tiles.tile": "/" + next(iter(tiles_for_size(size))).path(),
        "tiles.snapshot": "/snapshot",
        "api.openapi": "/api/v1/openapi.json",
        "api.log": "/api/v1/log",
        "api.entry": f"/api/v1/entries/{size - 1}",
        "api.inclusion": f"/api/v1/proof/inclusion?index=0&size={size}",
        "api.consistency": f"/api/v1/proof/consistency?old=1&new={size}",
        "signin.static": "/static/style.css",
        "signin.index": "/",
        "signin.register": "/register",
        "signin.login": "/login",
        "signin.password": "/account/password",
        "signin.reset": "/reset",
        "signin.logout": "/logout",
        "signin.language": "/lang/en",
        "member.dashboard": "/dashboard",
        "juror.panels": "/juror",
        "juror.case": f"/juror/claims/{claim}",
        "juror.review": "/juror/vote",
        "juror.cast": "/juror/vote/cast",
        "juror.receipt": f"/juror/claims/{claim}/1/receipt",
        "juror.receipt_file": f"/juror/claims/{claim}/1/receipt.json",
        "operator.index": "/operator/",
        # -- paths: member pages (member) --
        "member.join": "/join",
        "member.leave": "/leave",
        "member.claim_new": "/claims/new",
        "member.claim_status": f"/claims/{claim}",
        "member.claim_object": "/claims/object",
        "member.claim_appeal": "/claims/appeal",
        # Either claim's claimant may hold a juror's role here, so ask for a claim
        # nobody filed: 404, as for anyone's claim but one's own (the claimant's
        # download is in test_member_pages).
        "member.claim_evidence": f"/claims/{'0' * 32}/evidence/1",
        "member.period_statement": "/dashboard/periods/2026-01-07",
        "notices.index": "/notifications",
        "notices.read": "/notifications/read",
        "notices.email": "/notifications/email",
        **_redacted_paths(claim),
        # -- paths: operator pages --
        "operator.claim": f"/operator/claims/{claim}",
        "operator.evidence": f"/operator/claims/{claim}/evidence/1",
        "operator.close_period": "/operator/period/close",
        "operator.demo_clock": "/operator/demo/clock",
        "operator.notice": "/operator/actions/notice",
        "operator.answer": "/operator/actions/answer",
        "operator.draw": "/operator/actions/draw",
        "operator.close_voting": "/operator/actions/close-voting",
        "operator.pay": "/operator/actions/pay",
        "operator.ineligible": "/operator/actions/ineligible",
        "operator.rules": "/operator/rules",
        "operator.override": "/operator/override",
        "operator.erase": "/operator/erase",
        # -- paths: public pages and pool JSON --
        "public.overview": "/pool",
        "public.claims": "/pool/claims",
        "public.claim": f"/pool/claims/{claim}",
        "public.log_page": "/log",
        "public.verify": "/verify",
        "verifier.page": "/verifier",
        "public.rules": "/pool/rules",
        "public.faq": "/pool/faq",
        "pool_api.overview": "/api/v1/pool",
        "pool_api.periods": "/api/v1/pool/periods",
        "pool_api.claims": "/api/v1/pool/claims",
        "pool_api.claim": f"/api/v1/pool/claims/{claim}",
        # -- paths: bundles --
        "bundle_api.claim": f"/api/v1/bundles/claim/{claim}",
        "bundle_api.deduction": (
            f"/api/v1/bundles/deduction?member={pool.member_ids['member']}&period=2025-02-01"
        ),
    }
    first = endpoint.removesuffix("_confirmed")  # a confirm step: its first step's path
    return paths[endpoint] if endpoint in paths else f"{paths[first]}/confirm"


def _redacted_paths(claim: str) -> dict[str, str]:
    """The redacted copies' routes; the claimant's, for a claim nobody filed
    (404 to all, as for the documents: the claimant's view is in
    test_redacted_evidence)."""
    return {
        "juror.redacted_page": f"/juror/claims/{claim}/redacted/1/1.png",
        "member.claim_redacted_page": f"/claims/{'0' * 32}/redacted/1/1.png",
        "member.claim_redacted_opening": f"/claims/{'0' * 32}/redacted/1.json",
        "operator.redacted_page": f"/operator/claims/{claim}/redacted/1/1.png",
        "operator.upload_redacted": "/operator/redacted",
    }


def _csrf(client: FlaskClient, path: str) -> str:
    found = _TOKEN.search(client.get(path).get_data(as_text=True))
    assert found, path
    return found.group(1)


def _client(app: Flask, pool: Pool, role: str) -> tuple[FlaskClient, str]:
    """A client signed in as ``role``, and a CSRF token of its session."""
    client = app.test_client()
    if role == "anonymous":
        return client, _csrf(client, "/login")
    token = _csrf(client, "/login")
    response = client.post(
        "/login",
        data={"csrf_token": token, "username": pool.usernames[role], "password": PASSWORD},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    # Every signed-in page carries the sign-out form, with the session's token.
    return client, _csrf(client, "/")


def _form(endpoint: str, app: Flask, pool: Pool, role: str, token: str) -> dict[str, str]:
    """A valid form for the route, as ``role`` would send it: only who sends
    it may make it refused."""
    vote = {"claim": pool.claim, "round": "1", "choice": "approve", "reason": REASON}
    if endpoint == "signin.register":
        return {
            "csrf_token": token,
            "username": "newcomer",
            "password": PASSWORD,
            "confirm": PASSWORD,
        }
    if endpoint == "signin.login":
        return {"csrf_token": token, "username": pool.usernames["member"], "password": PASSWORD}
    if endpoint == "signin.password":
        new = "a fresh passphrase"
        return {"csrf_token": token, "current": PASSWORD, "new": new, "confirm": new}
    if endpoint == "signin.reset":
        with app.app_context():
            username = pool.usernames.get(role, pool.usernames["member"])
            issued = accounts_service().issue_reset(username, pool.now, timedelta(hours=1))
        new = "a fresh passphrase"
        return {"csrf_token": token, "code": issued.code, "new": new, "confirm": new}
    if endpoint == "juror.review":
        return {"csrf_token": token, **vote}
    if endpoint == "juror.cast":
        # The confirm step's seal, made for the sender's own member id.
        juror = pool.member_ids.get(role, pool.member_ids["member"])
        secret = app.secret_key
        assert secret
        seal = seal_vote_form(secret, pool.claim, 1, juror, "approve", REASON)
        return {"csrf_token": token, **vote, "token": seal, "submission": new_token()}
    # -- forms: member pages (member) --
    if endpoint in ("member.claim_object", "member.claim_appeal"):
        with app.app_context():
            claims = current_pool().state().claims()
            noticed = next(c.id for c in claims if c.stage.value == "noticed")
        field = "text" if endpoint == "member.claim_object" else "reason"
        return {"csrf_token": token, "claim": noticed, field: REASON, "submission": new_token()}
    if endpoint == "member.claim_new":
        document = pool.database.parent / "report.pdf"
        document.write_bytes(PDF)
        return {
            "csrf_token": token,
            "submission": new_token(),
            "category": "cancer",
            "amount": "1000.50",
            "diagnosed": pool.now.date().isoformat(),
            "medical_consent": "y",
            # The test client sends an open file as an upload, and closes it.
            "evidence": document.open("rb"),  # type: ignore[dict-item]
        }
    if endpoint == "member.join":
        return {
            "csrf_token": token,
            "name": "Wang Fang",
            "id_number": "110105199001010029",
            "phone": "+86 139 0000 0000",
        }
    if endpoint == "member.leave":
        return {"csrf_token": token, "confirm": "y"}
    if endpoint == "notices.read":
        return {"csrf_token": token, "through": "5"}
    if endpoint == "notices.email":
        return {"csrf_token": token, "email": "member@mail.example"}
    # -- forms: operator pages --
    if endpoint == "operator.upload_redacted":
        with app.app_context():
            claims = current_pool().state().claims()
        filed = next(c.id for c in claims if c.stage.value == "filed" and not c.waiting)
        copy = pool.database.parent / "redacted.pdf"
        copy.write_bytes(clean_pdf())
        # The test client sends an open file as an upload, and closes it.
        return {"csrf_token": token, "claim": filed, "document": "1", "copy": copy.open("rb")}  # type: ignore[dict-item]
    if endpoint.startswith("operator."):
        return {"csrf_token": token, **_operator_form(endpoint, app, pool)}
    return {"csrf_token": token}


def _operator_form(endpoint: str, app: Flask, pool: Pool) -> dict[str, str]:
    """The fields of a valid operator form, the CSRF token aside."""
    with app.app_context():
        state = current_pool().state()
    claims = list(state.claims())
    filed = [c for c in claims if c.stage.value == "filed"]
    objected = next(c for c in claims if c.unanswered)
    approved = next(c for c in claims if c.stage.value == "approved")
    due = state.expected_period_close(pool.now)
    assert due is not None
    later = datetime.fromtimestamp(pool.now.timestamp() + 30 * 86400, pool.now.tzinfo)
    over = [  # claims whose objection or voting window is over
        c
        for c in claims
        if (c.votes_until or c.objections_until or pool.now) < pool.now and not c.unanswered
    ]
    operator_forms = {
        "operator.notice": {
            "claim": next(c.id for c in filed if not c.waiting),
            "text": REASON,
        },
        "operator.answer": {
            "claim": objected.id,
            "objection": str(objected.unanswered[0]),
            "text": REASON,
        },
        "operator.draw": {"claim": next(c.id for c in over if c.stage.value == "noticed")},
        "operator.close_voting": {"claim": next(c.id for c in over if c.stage.value == "voting")},
        "operator.pay": {"claim": next(c.id for c in claims if c.stage.value == "approved")},
        "operator.pay_confirmed": {"claim": approved.id, "amount": str(approved.amount)},
        "operator.ineligible": {"claim": next(c.id for c in filed if c.waiting)},
        "operator.close_period": {"period": due.period.isoformat()},
        "operator.close_period_confirmed": {"period": due.period.isoformat()},
        "operator.demo_clock": {"step": "day"},
        "operator.rules": {
            "changes": '{"share.fee_rate_bp": 700}',
            "effective": later.date().isoformat(),
            "reason": "A lower fee.",
        },
        "operator.override": {"action": "note", "target": "rules", "reason": REASON},
        "operator.erase": {
            "kind": "member",
            "subject": next(c.member for c in filed if c.waiting),
            "reason": "On request.",
        },
    }
    # A publishing form's confirm step takes the fields of its first step.
    first = endpoint.removesuffix("_confirmed")
    return operator_forms.get(endpoint) or operator_forms.get(first, {})


def _check(outcome: str, response: TestResponse, path: str, pool: Pool, role: str) -> None:
    status, location = response.status_code, response.headers.get("Location", "")
    shown = f"{status} {location} {response.get_data()[:300]!r}"
    if outcome == OK:
        assert status == 200, shown
    elif outcome == FORBIDDEN:
        assert status == 403, shown
    elif outcome == NOT_FOUND:
        assert status == 404, shown
    else:
        assert status == 302, shown
        if outcome == CLAIM_PAGE:
            assert location.startswith("/operator/claims/"), shown
        elif outcome == LOGIN:
            target = urlsplit(location)
            assert target.path == "/login", shown
            assert parse_qs(target.query) == {"next": [path]}, shown
        else:
            home = "/operator/" if role == "operator" else "/dashboard"
            expected = {
                HOME: home,
                INDEX: "/",
                DASHBOARD: "/dashboard",
                RECEIPT: f"/juror/claims/{pool.claim}/1/receipt",
                NOTICES: "/notifications",
                SIGN_IN: "/login",
            }[outcome]
            assert location == expected, shown


@pytest.mark.parametrize(("endpoint", "method", "role"), CASES)
def test_authorization_matrix(
    app: Flask, engine: Engine, pool: Pool, endpoint: str, method: str, role: str
) -> None:
    if endpoint in NEEDS_VOTE:
        with app.app_context():
            current_pool().seal_vote(
                pool.claim, 1, pool.member_ids["juror_this"], Choice.APPROVE, REASON
            )
    client, token = _client(app, pool, role)
    before = state_of(app, engine)
    path = _path(endpoint, pool, before.size)
    if method == "GET":
        response = client.get(path)
    else:
        response = client.open(path, method=method, data=_form(endpoint, app, pool, role, token))
    outcome = MATRIX[endpoint][method][role]
    try:
        _check(outcome, response, path, pool, role)
    finally:
        response.close()  # a file or a snapshot is streamed
    after = state_of(app, engine)
    if (endpoint, method, role) in WRITES:
        assert outcome not in REFUSALS
        # -- write checks: member pages (member) --
        if endpoint.startswith("notices."):
            assert after.size == before.size
            assert after.rows["member_notices"] == before.rows["member_notices"] + 1
            return
        if endpoint in ("member.leave", "member.claim_new", "member.claim_object"):
            assert after.size == before.size + 1
            stored = 1 if endpoint == "member.claim_new" else 0
            assert after.rows["evidence"] == before.rows["evidence"] + stored
            return
        # -- write checks: operator pages --
        if endpoint == "operator.upload_redacted":
            assert after.size == before.size
            # The claim to notice has its copy already: the upload replaces it.
            assert after.rows["redacted_copies"] == before.rows["redacted_copies"]
            return
        if endpoint.startswith("operator."):
            # One entry each; closing a vote first reveals every sealed vote.
            grew = after.size - before.size
            assert grew > 1 if endpoint == "operator.close_voting" else grew == 1
            if endpoint == "operator.erase":
                assert after.rows["erasures"] == before.rows["erasures"] + 1
                assert after.rows["member_details"] == before.rows["member_details"] - 1
            return
        if endpoint == "juror.cast":
            assert after.size == before.size + 1
            assert after.rows["sealed_votes"] == before.rows["sealed_votes"] + 1
        else:
            assert after.size == before.size  # signing up or in appends nothing
        return
    # Refused, or allowed but only reading: nothing appended, nothing stored.
    assert after == before, (endpoint, method, role)
