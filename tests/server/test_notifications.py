"""A member's notices: a juror summons with its deadline and the unread
count in every page's header, a claim's progress, a new deduction, marking
them read, the e-mail address (validated, private), and the same notices
mailed through a real SMTP server (aiosmtpd on a loopback port) — once,
in the member's language, with no private data in them."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email import message_from_bytes
from email.message import Message
from email.policy import default
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from server.auth import accounts_service
from server.cli import main as cli_main
from server.log_index import stored_index
from server.mail import MailSettings, mail_settings, send_notices
from server.notifications import (
    NoticeKind,
    member_notices,
    notice_settings,
    notices_by_member,
    set_email,
)
from server.pool_app import current_pool
from tests.clock import FixedClock
from tests.server.pool_helpers import (
    PASSWORD,
    build_voting_pool,
    csrf,
    served_pool_app,
    sign_in,
    text_of,
)
from tests.server.test_authorization import state_of
from verifiable.log.bodies import Choice, ClaimFiled, PanelDrawn
from verifiable.pool.log_index import ClaimRecord, LogIndex, MemberClaims, PanelRecord

URL = "https://pool.example"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MUTUALOG_SECRET_KEY", "MUTUALOG_SECURE_COOKIES", "MUTUALOG_SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    yield from served_pool_app(engine, tmp_path, clock)


def _words(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))


def _count(client: FlaskClient) -> int:
    """The unread count in the header of any page (0 when none is shown)."""
    page = client.get("/pool/claims").get_data(as_text=True)
    found = re.search(r'class="notices-link"[^>]*>[^<]*<span class="count">([0-9]+)</span>', page)
    return int(found.group(1)) if found else 0


def _post(client: FlaskClient, path: str, fields: dict[str, str]) -> str:
    token = csrf(client, "/notifications")
    response = client.post(path, data={"csrf_token": token, **fields})
    return f"{response.status_code} {text_of(response)}"


# --- on the pages -----------------------------------------------------------------------


def test_a_juror_sees_the_summons_with_its_deadline_and_the_count(
    app: Flask, clock: FixedClock
) -> None:
    built = build_voting_pool(app, clock)
    juror = sign_in(app, built.usernames[built.jurors[0]])
    assert _count(juror) == 1
    header = juror.get("/dashboard").get_data(as_text=True)
    assert 'aria-label="Notices: 1 unread"' in header
    page = _words(text_of(juror.get("/notifications")))
    with app.app_context():
        until = current_pool().claim(built.claim).votes_until  # type: ignore[union-attr]
    assert until is not None
    assert "You are drawn as a juror" in page
    # The deadline in the pool's time zone: 00:00 UTC is 8:00 in Shanghai.
    assert (until.month, until.day, until.hour, until.minute) == (1, 17, 0, 0)
    assert f"Claim {built.claim}: vote before Jan 17, 2026, 8:00 AM" in page
    assert f'href="/juror/claims/{built.claim}"' in juror.get("/notifications").get_data(True)
    # In Chinese.
    juror.set_cookie("lang", "zh_CN")
    chinese = _words(text_of(juror.get("/notifications")))
    assert "您被抽选为评审员" in chinese and "2026年1月17日 08:00" in chinese
    assert "You are drawn" not in chinese
    # The claimant hears of the notice and the panel; an outsider of nothing.
    claimant = sign_in(app, built.usernames[built.claimant])
    mine = _words(text_of(claimant.get("/notifications")))
    assert "Your claim's public notice is out" in mine and "A panel was drawn" in mine
    assert _count(sign_in(app, built.usernames[built.outsider])) == 0


def test_marking_read_and_a_new_notice(app: Flask, engine: Engine, clock: FixedClock) -> None:
    built = build_voting_pool(app, clock)
    claimant = sign_in(app, built.usernames[built.claimant])
    assert _count(claimant) == 2  # the notice, the panel
    before = state_of(app, engine)
    assert _post(claimant, "/notifications/read", {"through": "x"}).startswith("400")
    assert state_of(app, engine) == before
    page = claimant.get("/notifications").get_data(as_text=True)
    (through,) = re.findall(r'name="through" type="hidden" value="([0-9]+)"', page)
    assert _post(claimant, "/notifications/read", {"through": through}).startswith("302")
    assert _count(claimant) == 0
    # The panel decides: one new notice for the claimant.
    with app.app_context():
        pool = current_pool()
        for juror in built.jurors:
            pool.seal_vote(built.claim, 1, juror, Choice.APPROVE, "The reports agree.")
        clock.advance(days=3)
        pool.close_voting(built.claim)
    assert _count(claimant) == 1
    assert "Your claim was decided" in _words(text_of(claimant.get("/notifications")))


def test_a_deduction_is_a_notice(app: Flask, clock: FixedClock) -> None:
    built = build_voting_pool(app, clock)
    with app.app_context():
        pool = current_pool()
        while pool.state().due_periods:
            pool.close_period()
        with stored_index(pool.engine).at() as index:
            notices = member_notices(index, built.outsider)
    (deduction,) = [n for n in notices if n.kind is NoticeKind.DEDUCTION]
    assert deduction.amount == 0
    page = _words(text_of(sign_in(app, built.usernames[built.outsider]).get("/notifications")))
    assert "A new deduction" in page and "Deducted on Jan 14, 2026" in page


def test_an_account_that_has_not_joined_has_no_notices(app: Flask, clock: FixedClock) -> None:
    build_voting_pool(app, clock)
    with app.app_context():
        accounts_service().register("newbie", PASSWORD, clock())
    newbie = sign_in(app, "newbie")
    assert newbie.get("/notifications").status_code == 403
    assert "notices-link" not in newbie.get("/dashboard").get_data(as_text=True)


# --- by e-mail ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    ["not an address", "a@b", "x" * 250 + "@example.com", "a..b@example.com", "a@b.c\nBcc: x@y.z"],
    ids=["words", "no-dot", "too-long", "dots", "header"],
)
def test_a_bad_address_is_refused(
    app: Flask, engine: Engine, clock: FixedClock, address: str
) -> None:
    built = build_voting_pool(app, clock)
    client = sign_in(app, built.usernames[built.claimant])
    before = state_of(app, engine)
    answer = _post(client, "/notifications/email", {"email": address})
    assert answer.startswith("400") and "e-mail address" in answer
    assert state_of(app, engine) == before


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Inbox(MessageHandler):
    """Keeps every message the sink receives."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[Message] = []

    def handle_message(self, message: Message) -> None:
        self.messages.append(message)


@pytest.fixture
def smtp_sink() -> Iterator[tuple[MailSettings, _Inbox]]:
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield MailSettings("127.0.0.1", controller.port, "pool@pool.example"), inbox
    finally:
        controller.stop()


def _body(message: Message) -> str:
    payload = message_from_bytes(message.as_bytes()).get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode("utf-8")


def _subject(message: Message) -> str:
    return str(message_from_bytes(message.as_bytes(), policy=default)["Subject"])


def test_notices_are_mailed_once_without_private_data(
    app: Flask, engine: Engine, clock: FixedClock, smtp_sink: tuple[MailSettings, _Inbox]
) -> None:
    settings, inbox = smtp_sink
    built = build_voting_pool(app, clock)
    claimant_name = built.usernames[built.claimant]
    claimant = sign_in(app, claimant_name)
    claimant.set_cookie("lang", "zh_CN")
    answer = _post(claimant, "/notifications/email", {"email": " me@mail.example "})
    assert answer.startswith("302")
    with app.app_context():
        accounts = {
            member: accounts_service().by_username(name) for member, name in built.usernames.items()
        }
        stored = notice_settings(engine, accounts[built.claimant].id)  # type: ignore[union-attr]
        size = current_pool().store.size()
        for member, account in accounts.items():
            assert account is not None
            if member != built.claimant:
                set_email(engine, account.id, f"{member[:8]}@mail.example", "en", size, clock())
    assert (stored.email, stored.locale) == ("me@mail.example", "zh_CN")
    # A new address gets what happens from now on: nothing yet.
    assert send_notices(app, settings, URL, clock()) == (0, 0)
    with app.app_context():
        pool = current_pool()
        clock.advance(days=3)
        pool.close_voting(built.claim)  # nobody voted: no quorum, a new panel
        panel = pool.draw_panel(built.claim)
    assert send_notices(app, settings, URL, clock()) == (1 + len(panel.jurors), 0)
    deadline = time.monotonic() + 5
    while len(inbox.messages) < 1 + len(panel.jurors) and time.monotonic() < deadline:
        time.sleep(0.05)  # pragma: no cover
    by_address = {m["To"]: m for m in inbox.messages}
    mine = by_address["me@mail.example"]
    body = _body(mine)
    assert _subject(mine) == "来自互助计划的 2 条新通知"
    assert "票数不足" in body and f"{URL}/claims/{built.claim}" in body
    assert "2026年1月" in body and f"{URL}/notifications" in body
    summons = by_address[f"{panel.jurors[0][:8]}@mail.example"]
    assert _subject(summons) == "You are drawn as a juror: vote before the deadline"
    assert f"You are drawn as a juror on claim {built.claim}: vote before" in _body(summons)
    assert f"{URL}/juror/claims/{built.claim}" in _body(summons)
    # Nothing private: no name, ID number, phone, username, file name.
    for message in inbox.messages:
        raw = message.as_string() + _body(message)
        for private in ("Person member", "ID-member", "+86", "member0", "a.pdf", "%PDF"):
            assert private not in raw
    # Sent once: the next run sends nothing.
    assert send_notices(app, settings, URL, clock()) == (0, 0)
    assert len(inbox.messages) == 1 + len(panel.jurors)


def test_mail_is_off_without_a_host() -> None:
    assert mail_settings({}) is None
    settings = mail_settings({"MUTUALOG_SMTP_HOST": "mx", "MUTUALOG_SMTP_FROM": "a@b.example"})
    assert settings == MailSettings("mx", 25, "a@b.example")


def test_the_notify_command_says_when_mail_is_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["--instance", str(tmp_path), "notify", "--url", URL]) == 2
    assert "mail is off: set MUTUALOG_SMTP_HOST" in capsys.readouterr().err


def _record(claim: str, member: str) -> ClaimRecord:
    filed = ClaimFiled(
        claim=claim,
        member=member,
        category="cancer",
        amount=100,
        diagnosed=date(2026, 1, 1),
        evidence=(bytes(32),),
    )
    return ClaimRecord(claim, 0, filed)


def _panel(seq: int, jurors: tuple[str, ...]) -> PanelRecord:
    until = datetime(2026, 1, 5, tzinfo=UTC)
    return PanelRecord(seq, 1, False, date(2026, 1, 7), 1, bytes(32), jurors, until)


def test_who_filed_and_sat_where_follows_the_index() -> None:
    index = LogIndex()
    at = datetime(2026, 1, 1, tzinfo=UTC)
    index.feed_body(0, at, ClaimFiled.TYPE, _record("a" * 32, "m1").filed)
    assert index.member_claims("m1") == MemberClaims(("a" * 32,))
    assert index.member_claims("j1") == MemberClaims()
    # The log grows: a panel on the old claim, a new claim.
    panel = _panel(1, ("j1", "j2"))
    drawn = PanelDrawn(
        "a" * 32,
        panel.round,
        panel.appeal,
        panel.pool_period,
        panel.seed_size,
        panel.seed,
        panel.jurors,
        panel.votes_until,
    )
    index.feed_body(1, at, PanelDrawn.TYPE, drawn)
    index.feed_body(2, at, ClaimFiled.TYPE, _record("b" * 32, "j1").filed)
    assert index.member_claims("m1") == MemberClaims(("a" * 32,))
    assert index.member_claims("j1") == MemberClaims(("b" * 32,), (("a" * 32, 0),))
    assert index.member_claims("j2") == MemberClaims((), (("a" * 32, 0),))
    (summons,) = notices_by_member(index, ("j2",))["j2"]
    assert (summons.kind, summons.claim, summons.seq) == (NoticeKind.SUMMONS, "a" * 32, 1)


def test_an_expired_form_keeps_the_typed_address(
    app: Flask, engine: Engine, clock: FixedClock
) -> None:
    built = build_voting_pool(app, clock)
    client = sign_in(app, built.usernames[built.claimant])
    client.set_cookie("lang", "zh_CN")
    before = state_of(app, engine)
    refused = client.post("/notifications/email", data={"email": "typed@mail.example"})
    page = text_of(refused)
    assert refused.status_code == 400 and 'value="typed@mail.example"' in page
    assert "安全令牌" in page or "CSRF" in page
    assert state_of(app, engine) == before
