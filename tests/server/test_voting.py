"""Voting through the web forms, end to end (CSRF on): a drawn juror votes,
the receipt verifies with ``verifiable``, and every refused vote — a second
vote, a non-juror's, one after the window, one with a tampered hidden field —
says why and appends and stores nothing.  The landing page tells the time
left to vote on the pool's clock, and the receipt page prints the commands
that check the receipt under the name its download gives it — and they
verify it — in English and in Chinese."""

from __future__ import annotations

import contextlib
import html
import json
import re
import shlex
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from werkzeug.test import TestResponse

from client.cli import main as client_main
from server import i18n
from server.pool_app import current_pool
from server.presenters.juror import time_left
from tests.server.pool_helpers import (
    ORIGIN,
    VotingPool,
    build_voting_pool,
    csrf,
    row_counts,
    served_pool_app,
    sign_in,
    text_of,
)
from verifiable.log.bodies import Choice, ClaimDecided, VoteRevealed, VoteSealed
from verifiable.log.checkpoint import open_checkpoint
from verifiable.log.entry import parse_entry
from verifiable.log.merkle import leaf_hash, verify_inclusion
from verifiable.log.note import Ed25519Verifier
from verifiable.pool.replay import replay
from verifiable.pool.votes import check_reveal, vote_commitment

if TYPE_CHECKING:
    from tests.clock import FixedClock

_HIDDEN = re.compile(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"')


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MUTUALOG_SECRET_KEY", "MUTUALOG_SECURE_COOKIES"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    yield from served_pool_app(engine, tmp_path, clock)


@pytest.fixture
def voting(app: Flask, clock: FixedClock) -> VotingPool:
    return build_voting_pool(app, clock)


def review(
    client: FlaskClient, claim: str, round_: int = 1, choice: str = "approve", reason: str = "ok"
) -> TestResponse:
    token = csrf(client, f"/juror/claims/{claim}")
    data = {"csrf_token": token, "claim": claim, "round": str(round_), "choice": choice}
    return client.post("/juror/vote", data={**data, "reason": reason})


def cast_fields(response: TestResponse) -> dict[str, str]:
    """The hidden fields of the confirm page's form."""
    assert response.status_code == 200, text_of(response)
    return {name: html.unescape(value) for name, value in _HIDDEN.findall(text_of(response))}


def vote(client: FlaskClient, claim: str, choice: str = "approve") -> TestResponse:
    fields = cast_fields(review(client, claim, choice=choice, reason="The records are clear."))
    return client.post("/juror/vote/cast", data=fields)


def juror_client(app: Flask, voting: VotingPool, n: int = 0) -> FlaskClient:
    return sign_in(app, voting.usernames[voting.jurors[n]])


# --- the vote that goes through -------------------------------------------------------


def test_a_drawn_juror_votes_and_the_receipt_verifies(
    app: Flask, voting: VotingPool, clock: FixedClock, engine: Engine, verifier: Ed25519Verifier
) -> None:
    client = juror_client(app, voting)
    juror = voting.jurors[0]
    listing = text_of(client.get("/juror"))
    assert voting.claim in listing and "Read the case and vote" in listing
    assert "1 vote is waiting for you." in listing
    case = text_of(client.get(f"/juror/claims/{voting.claim}"))
    assert "asks for aid for cancer" in case and "Person" not in case

    confirm = review(client, voting.claim, choice="approve", reason="The records are clear.")
    page = text_of(confirm)
    assert "APPROVE" in page and "The records are clear." in page and "Cast my vote" in page
    before = row_counts(engine)
    assert before == row_counts(engine)  # reviewing stored nothing
    cast = client.post("/juror/vote/cast", data=cast_fields(confirm))
    assert cast.status_code == 302
    assert cast.headers["Location"].endswith(f"/juror/claims/{voting.claim}/1/receipt")
    after = row_counts(engine)
    assert after["entries"] == before["entries"] + 1
    assert after["sealed_votes"] == before["sealed_votes"] + 1
    assert "Download the receipt" in text_of(client.get(cast.headers["Location"]))

    download = client.get(f"/juror/claims/{voting.claim}/1/receipt.json")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment;")
    receipt = json.loads(download.get_data())

    # The sealed entry is in the log the signed checkpoint commits to.
    checkpoint = open_checkpoint(receipt["checkpoint"].encode(), verifier, ORIGIN).checkpoint
    assert checkpoint.size == receipt["tree_size"]
    entry_bytes = receipt["entry"].encode()
    proof = [bytes.fromhex(h) for h in receipt["inclusion_proof"]]
    verify_inclusion(
        leaf_hash(entry_bytes), receipt["leaf_index"], checkpoint.size, proof, checkpoint.root_hash
    )
    sealed = parse_entry(entry_bytes, seq=receipt["leaf_index"]).body
    assert isinstance(sealed, VoteSealed)
    salt = bytes.fromhex(receipt["salt"])
    assert sealed.juror == juror and sealed.claim == voting.claim and sealed.round == 1
    assert sealed.commitment == vote_commitment(
        voting.claim, 1, juror, Choice(receipt["choice"]), receipt["reason"], salt
    )

    # Two more jurors vote; after the window the operator's close reveals
    # every vote, and the revealed vote opens the receipt's commitment.
    vote(juror_client(app, voting, 1), voting.claim, "approve")
    vote(juror_client(app, voting, 2), voting.claim, "reject")
    clock.advance(days=3)
    with app.app_context():
        decision = current_pool().close_voting(voting.claim)
        stored = current_pool().store.entries(0, current_pool().store.size())
    assert (decision.approvals, decision.rejections) == (2, 1)
    reveals = [
        e.body
        for e in (parse_entry(d, seq=i) for i, d in enumerate(stored))
        if isinstance(e.body, VoteRevealed) and e.body.juror == juror
    ]
    assert len(reveals) == 1
    check_reveal(sealed, reveals[0])
    assert reveals[0].salt == salt
    assert isinstance(parse_entry(stored[-1], seq=len(stored) - 1).body, ClaimDecided)
    replay(stored)  # the whole log obeys the rules


# --- refusals: a clear message, nothing appended, nothing stored ------------------------


def _assert_refused(response: TestResponse, status: int, message: str) -> None:
    assert response.status_code == status, text_of(response)
    assert message in text_of(response)


def test_a_second_vote_is_refused(app: Flask, voting: VotingPool, engine: Engine) -> None:
    client = juror_client(app, voting)
    assert vote(client, voting.claim).status_code == 302
    before = row_counts(engine)
    response = review(client, voting.claim, choice="reject")
    _assert_refused(response, 409, "You have already voted on claim")
    # Replaying the first confirm step's fields (a double submission) is refused too.
    token = csrf(client, "/juror")
    again = client.post(
        "/juror/vote/cast",
        data={
            "csrf_token": token,
            "claim": voting.claim,
            "round": "1",
            "choice": "approve",
            "reason": "The records are clear.",
            "token": "forged",
        },
    )
    assert again.status_code == 400
    assert row_counts(engine) == before


def test_a_vote_by_a_non_juror_is_refused(app: Flask, voting: VotingPool, engine: Engine) -> None:
    client = sign_in(app, voting.usernames[voting.outsider])
    before = row_counts(engine)
    assert "on no panel" in text_of(client.get("/juror"))
    assert client.get(f"/juror/claims/{voting.claim}").status_code == 403
    token = csrf(client, "/juror")
    response = client.post(
        "/juror/vote",
        data={
            "csrf_token": token,
            "claim": voting.claim,
            "round": "1",
            "choice": "approve",
            "reason": "I want to vote.",
        },
    )
    _assert_refused(response, 403, "You are not on a panel voting on claim")
    assert row_counts(engine) == before


def test_a_vote_after_the_window_is_refused(
    app: Flask, voting: VotingPool, engine: Engine, clock: FixedClock
) -> None:
    client = juror_client(app, voting)
    confirm = review(client, voting.claim)
    fields = cast_fields(confirm)
    clock.advance(days=2)  # past votes_until
    before = row_counts(engine)
    response = client.post("/juror/vote/cast", data=fields)
    _assert_refused(response, 409, "voting window of claim")
    assert row_counts(engine) == before


@pytest.mark.parametrize(
    ("field", "value", "status", "message"),
    [
        ("claim", "0" * 32, 400, "does not match the one you reviewed"),
        ("round", "2", 400, "does not match the one you reviewed"),
        ("choice", "reject", 400, "does not match the one you reviewed"),
        ("reason", "Something else.", 400, "does not match the one you reviewed"),
        ("token", "x", 400, "does not match the one you reviewed"),
        ("claim", "not-an-id", 400, "The claim id is not valid."),
        ("round", "-1", 400, "Vote not accepted"),
        ("choice", "abstain", 400, "Not a valid choice"),
    ],
    ids=[
        "claim-changed",
        "round-changed",
        "choice-changed",
        "reason-changed",
        "token-changed",
        "claim-malformed",
        "round-negative",
        "choice-unknown",
    ],
)
def test_a_tampered_hidden_field_is_refused(
    app: Flask,
    voting: VotingPool,
    engine: Engine,
    field: str,
    value: str,
    status: int,
    message: str,
) -> None:
    client = juror_client(app, voting)
    fields = cast_fields(review(client, voting.claim))
    before = row_counts(engine)
    response = client.post("/juror/vote/cast", data={**fields, field: value})
    _assert_refused(response, status, message)
    assert row_counts(engine) == before


@pytest.mark.parametrize(
    ("claim", "round_", "status", "message"),
    [
        (None, 2, 409, "is voting in round 1, not round 2"),
        ("f" * 32, 1, 404, "There is no claim"),
    ],
    ids=["other-round", "unknown-claim"],
)
def test_a_review_of_a_tampered_claim_or_round_is_refused(
    app: Flask,
    voting: VotingPool,
    engine: Engine,
    claim: str | None,
    round_: int,
    status: int,
    message: str,
) -> None:
    client = juror_client(app, voting)
    before = row_counts(engine)
    token = csrf(client, "/juror")
    response = client.post(
        "/juror/vote",
        data={
            "csrf_token": token,
            "claim": claim or voting.claim,
            "round": str(round_),
            "choice": "approve",
            "reason": "Fine.",
        },
    )
    _assert_refused(response, status, message)
    assert row_counts(engine) == before


def test_voting_needs_the_csrf_token(app: Flask, voting: VotingPool, engine: Engine) -> None:
    client = juror_client(app, voting)
    fields = cast_fields(review(client, voting.claim))
    before = row_counts(engine)
    del fields["csrf_token"]
    response = client.post("/juror/vote/cast", data=fields)
    _assert_refused(response, 400, "security token")
    assert row_counts(engine) == before


def test_anonymous_visitors_are_sent_to_sign_in(app: Flask, voting: VotingPool) -> None:
    response = app.test_client().get(f"/juror/claims/{voting.claim}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- the landing page's time left, the receipt's commands -------------------------------

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
_COMMAND = re.compile(r'<div class="command">\s*<pre.*?><code id="([a-z-]+)">([^<]*)</code></pre>')


@pytest.mark.parametrize(
    ("left", "english", "chinese"),
    [
        pytest.param(
            timedelta(days=1, hours=3, minutes=20),
            "1 day 3 hours left",
            "还剩 1 天 3 小时",
            id="days",
        ),
        pytest.param(timedelta(days=2, minutes=5), "2 days left", "还剩 2 天", id="whole-days"),
        pytest.param(
            timedelta(hours=5, minutes=10),
            "5 hours 10 minutes left",
            "还剩 5 小时 10 分钟",
            id="hours",
        ),
        pytest.param(timedelta(hours=1, seconds=30), "1 hour left", "还剩 1 小时", id="one-hour"),
        pytest.param(timedelta(seconds=30), "1 minute left", "还剩 1 分钟", id="seconds"),
    ],
)
def test_the_landing_page_shows_the_time_left(
    app: Flask,
    voting: VotingPool,
    clock: FixedClock,
    left: timedelta,
    english: str,
    chinese: str,
) -> None:
    with app.app_context():
        view = current_pool().claim(voting.claim)
    assert view is not None and view.votes_until is not None
    clock.now = view.votes_until - left
    client = juror_client(app, voting)
    page = text_of(client.get("/juror"))
    assert english in page and "1 vote is waiting for you." in page
    # The deadline in the pool's time zone (Asia/Shanghai), as well as its UTC instant.
    assert f'datetime="{view.votes_until.isoformat()}"' in page
    with app.test_request_context("/juror"):
        assert i18n.datetime(view.votes_until) in page
    zh = text_of(client.get("/juror", headers=ZH))
    assert chinese in zh and "有 1 项投票等待您" in zh
    with app.test_request_context("/juror", headers=ZH):
        assert i18n.datetime(view.votes_until) in zh
    case = text_of(client.get(f"/juror/claims/{voting.claim}", headers=ZH))
    assert chinese in case


def test_time_left_never_promises_time_that_is_gone() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert time_left(now, now) == "Closed"
    assert time_left(now - timedelta(seconds=1), now) == "Closed"
    assert time_left(now + timedelta(hours=23, minutes=59, seconds=59), now) == (
        "23 hours 59 minutes left"
    )


def test_the_receipt_page_shows_the_commands_that_check_the_downloaded_file(
    app: Flask,
    voting: VotingPool,
    tmp_path: Path,
    verifier: Ed25519Verifier,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = juror_client(app, voting)
    assert vote(client, voting.claim).status_code == 302
    download = client.get(f"/juror/claims/{voting.claim}/1/receipt.json")
    disposition = download.headers["Content-Disposition"]
    found = re.fullmatch(r'attachment; filename="([^"]+)"', disposition)
    assert found, disposition
    filename = found.group(1)
    assert filename == f"vote-receipt-{voting.claim}-round-1.json"

    for headers, title in (({}, "Check your receipt yourself"), (ZH, "自己核验您的投票回执")):
        page = client.get(f"/juror/claims/{voting.claim}/1/receipt", headers=headers)
        raw = page.get_data(as_text=True)
        assert title in html.unescape(raw)
        blocks = _COMMAND.findall(raw)
        commands = [html.unescape(command) for _, command in blocks]
        # One command per block, each with the copy button of its own <code>.
        for block_id, _ in blocks:
            assert f'data-copy="{block_id}"' in raw
        assert raw.count('class="button secondary copy"') == len(commands) == 3
        trust, check, check_log = commands
        assert trust == f"mutualog trust {shlex.quote(ORIGIN)} {shlex.quote(verifier.to_vkey())}"
        assert check == f"mutualog verify-receipt {filename}"
        assert check_log == f"mutualog verify-receipt {filename} --log http://127.0.0.1:8000"
        assert f'download="{filename}"' in raw

    # Run them as a juror would, in the folder where the receipt was saved.
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / filename).write_bytes(download.get_data())
    state = tmp_path / "state"
    for command in (trust, check):
        argv = shlex.split(command)
        assert argv[0] == "mutualog"
        with contextlib.chdir(folder):
            code = client_main(["--state", str(state), *argv[1:]])
        out = capsys.readouterr().out
        assert code == 0, out
    assert out.rstrip().endswith("VERIFIED") and "NOT" not in out


def test_an_expired_vote_form_keeps_what_was_typed(
    app: Flask, voting: VotingPool, engine: Engine
) -> None:
    client = juror_client(app, voting)
    before = row_counts(engine)
    for headers, notice in (({}, "What you typed is kept below"), (ZH, "您填写的内容")):
        fields = {"claim": voting.claim, "round": "1", "choice": "reject", "reason": "Typed, kept."}
        # No token: as when the page was open longer than the session.
        response = client.post("/juror/vote", data=fields, headers=headers)
        page = text_of(response)
        assert response.status_code == 400
        assert notice in page
        assert "Typed, kept.</textarea>" in page
        assert re.search(r'value="reject"[^>]*checked|checked[^>]*value="reject"', page)
    assert row_counts(engine) == before


def test_a_refused_vote_reads_in_the_jurors_language(
    app: Flask, voting: VotingPool, engine: Engine
) -> None:
    client = juror_client(app, voting)
    assert vote(client, voting.claim).status_code == 302
    before = row_counts(engine)
    english = review(client, voting.claim, choice="reject")
    _assert_refused(english, 409, "a sealed vote cannot be changed or cast twice")
    client.set_cookie("lang", "zh_CN")
    chinese = review(client, voting.claim, choice="reject")
    _assert_refused(chinese, 409, f"您已在第 1 轮对互助申请 {voting.claim} 投过票")
    assert "already voted" not in text_of(chinese)
    assert row_counts(engine) == before


# --- the juror's reason as the log holds it; a vote cast twice ------------------------


def test_a_reason_on_two_lines_is_cast_as_the_log_will_hold_it(
    app: Flask, voting: VotingPool, engine: Engine
) -> None:
    """Browsers send a text area's line breaks as CR LF: the review step
    makes them LF, and the cast step, which gets them back as CR LF from
    the confirm page's hidden field, does the same."""
    client = juror_client(app, voting)
    confirm = review(client, voting.claim, reason="First line.\r\nSecond line.\r\n")
    fields = cast_fields(confirm)
    assert fields["reason"] == "First line.\nSecond line."
    fields["reason"] = fields["reason"].replace("\n", "\r\n")
    before = row_counts(engine)
    cast = client.post("/juror/vote/cast", data=fields)
    assert cast.status_code == 302, text_of(cast)
    assert row_counts(engine)["entries"] == before["entries"] + 1
    receipt = json.loads(client.get(f"/juror/claims/{voting.claim}/1/receipt.json").get_data())
    assert receipt["reason"] == "First line.\nSecond line."


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("I approve\u202e.evorppa ton", "Character 10 (U+202E) changes the direction"),
        ("\u2067isolated", "(U+2067) changes the direction"),
        ("tab\there", "Character 4 (U+0009) is an invisible control character"),
        ("x" * 501, "At most 500 characters."),
        (" \r\n ", "Write the text: it is empty."),
    ],
    ids=["rlo", "isolate", "tab", "too-long", "blank"],
)
def test_a_reason_the_log_would_refuse_is_refused_at_the_review(
    app: Flask, voting: VotingPool, engine: Engine, reason: str, message: str
) -> None:
    client = juror_client(app, voting)
    before = row_counts(engine)
    response = review(client, voting.claim, reason=reason)
    _assert_refused(response, 400, message)
    # A confirm step forged around the review is refused the same way.
    fields = cast_fields(review(client, voting.claim, reason="Fine."))
    response = client.post("/juror/vote/cast", data={**fields, "reason": reason})
    assert response.status_code == 400
    assert row_counts(engine) == before


def test_a_vote_cast_twice_is_sealed_once(app: Flask, voting: VotingPool, engine: Engine) -> None:
    client = juror_client(app, voting)
    fields = cast_fields(review(client, voting.claim))
    first = client.post("/juror/vote/cast", data=fields)
    assert first.status_code == 302
    before = row_counts(engine)
    again = client.post("/juror/vote/cast", data=fields)
    assert again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert "already sealed in the log" in text_of(client.get(again.headers["Location"]))
    assert row_counts(engine) == before
