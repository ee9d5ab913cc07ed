"""Voting through the web forms, end to end (CSRF on): a drawn juror votes,
the receipt verifies with ``verifiable``, and every refused vote — a second
vote, a non-juror's, one after the window, one with a tampered hidden field —
says why and appends and stores nothing."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from werkzeug.test import TestResponse

from server.pool_app import current_pool
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
    assert voting.claim in listing and "vote now" in listing
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
