"""The demo's clock, kept in the database (server/demo_clock.py).

An instance is a demo only when its ``demo_clock`` row exists; the clock
then reads the offset at every call, so an advance made by one process is
seen by every other — two gunicorn servers on one instance show it.  The
clock moves forward only, and the log's entry times stay in order.  The
operator's control moves it by an hour, a day or past the next deadline,
so a vote can be closed, a claim paid and a period closed in a demo; it is
absent, and refused with 403, in an instance that is not a demo.
"""

from __future__ import annotations

import html
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine

from server import create_app
from server.auth import accounts_service
from server.db import make_engine, upgrade
from server.demo_clock import (
    MAX_ADVANCE,
    DemoClockError,
    InstanceClock,
    advance_demo_clock,
    demo_offset,
    next_deadline,
    start_demo_clock,
)
from server.pool_app import current_pool
from server.private.accounts import Role
from server.private.sealing import Sealer
from tests.clock import FixedClock
from tests.server.pool_helpers import (
    PASSWORD,
    VotingPool,
    build_voting_pool,
    csrf,
    make_pool_app,
    sign_in,
    text_of,
)
from tests.server.test_authorization import state_of
from verifiable.log.bodies import Choice
from verifiable.log.entry import parse_entry
from verifiable.pool.rules import moment, next_notice

OPERATOR = "boss"
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
_NOW = re.compile(r'id="demo-now"><time datetime="([^"]+)"')


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MUTUALOG_SECRET_KEY", "MUTUALOG_SECURE_COOKIES"):
        monkeypatch.delenv(name, raising=False)


# --- the clock alone ------------------------------------------------------------------


def test_an_instance_is_a_demo_only_with_its_clock_row(engine: Engine) -> None:
    real = FixedClock(datetime(2026, 12, 7, 4, 30, tzinfo=UTC))
    assert demo_offset(engine) is None
    assert not InstanceClock(engine, real).is_demo()
    assert InstanceClock(engine, real)() == real.now
    with pytest.raises(DemoClockError, match="not a demo"):
        advance_demo_clock(engine, timedelta(days=1), real)
    assert demo_offset(engine) is None

    start = datetime(2025, 4, 21, 8, 0, tzinfo=UTC)
    start_demo_clock(engine, start, real)
    clock = InstanceClock(engine, real)
    assert clock.is_demo() and clock() == start
    real.advance(minutes=5)
    assert clock() == start + timedelta(minutes=5)  # moving on with real time
    assert advance_demo_clock(engine, timedelta(days=1), real) == start + timedelta(
        days=1, minutes=5
    )
    assert clock() == start + timedelta(days=1, minutes=5)
    with pytest.raises(DemoClockError, match="already has a demo clock"):
        start_demo_clock(engine, start, real)


@pytest.mark.parametrize(
    "step",
    [timedelta(0), timedelta(seconds=-1), timedelta(days=-3), MAX_ADVANCE + timedelta(seconds=1)],
    ids=["zero", "a-second-back", "days-back", "more-than-a-year"],
)
def test_the_clock_never_goes_back(engine: Engine, step: timedelta) -> None:
    real = FixedClock(datetime(2026, 12, 7, tzinfo=UTC))
    start_demo_clock(engine, datetime(2025, 4, 21, tzinfo=UTC), real)
    before = demo_offset(engine)
    with pytest.raises(DemoClockError, match="moves forward"):
        advance_demo_clock(engine, step, real)
    assert demo_offset(engine) == before


def test_the_next_deadline_is_the_first_window_to_end(
    engine: Engine, tmp_path: Path, clock: FixedClock
) -> None:
    app = make_pool_app(engine, tmp_path, clock)
    try:
        voting = build_voting_pool(app, clock)
        with app.app_context():
            state = current_pool().state()
        view = state.claim(voting.claim)
        rules = state.rules_at(clock())
        assert view is not None and view.votes_until is not None and rules is not None
        period = moment(next_notice(clock(), rules))
        found = next_deadline(state, clock())
        assert found is not None
        assert found.at == min(view.votes_until, period)
        assert found.kind == ("voting" if view.votes_until < period else "period")
        after = next_deadline(state, found.at)
        assert after is not None and after.at > found.at
        assert found.target == found.at + timedelta(minutes=1)
    finally:
        app.extensions["mutualog"].engine.dispose()


# --- the operator's control -------------------------------------------------------------


def _demo_pool(engine: Engine, tmp_path: Path) -> tuple[VotingPool, datetime]:
    """A pool voting on one claim, an operator, and the instance made a demo
    whose time is a minute after the last entry."""
    clock = FixedClock()
    app = make_pool_app(engine, tmp_path, clock)
    try:
        voting = build_voting_pool(app, clock)
        with app.app_context():
            accounts_service().register(OPERATOR, PASSWORD, clock(), Role.OPERATOR)
        app.test_client().get("/login")  # draws and stores the session key
    finally:
        app.extensions["mutualog"].engine.dispose()
    start = clock() + timedelta(minutes=1)
    start_demo_clock(engine, start)
    return voting, start


def _demo_app(engine: Engine, tmp_path: Path) -> Flask:
    """The application as a demo's server builds it: no clock configured."""
    return create_app(
        {
            "MUTUALOG_INSTANCE": tmp_path / "instance",
            "MUTUALOG_DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "MUTUALOG_SECURE_COOKIES": False,
            "TESTING": True,
        }
    )


@pytest.fixture
def demo(engine: Engine, tmp_path: Path) -> Iterator[tuple[Flask, VotingPool, datetime]]:
    voting, start = _demo_pool(engine, tmp_path)
    app = _demo_app(engine, tmp_path)
    yield app, voting, start
    app.extensions["mutualog"].engine.dispose()


def _pool_time(page: str) -> datetime:
    found = _NOW.search(page)
    assert found, "no demo clock on the page"
    return datetime.fromisoformat(found.group(1))


def test_the_operator_moves_the_demo_clock_to_close_a_vote_and_pay(
    demo: tuple[Flask, VotingPool, datetime], engine: Engine
) -> None:
    app, voting, start = demo
    op = sign_in(app, OPERATOR)
    response = op.get("/operator/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "The demo's clock" in html.unescape(page)
    shown = _pool_time(page)
    assert start <= shown < start + timedelta(minutes=5)
    assert "演示时钟" in text_of(op.get("/operator/", headers=ZH))

    with app.app_context():
        for juror in voting.jurors:
            current_pool().seal_vote(
                voting.claim, 1, juror, Choice.APPROVE, "The records are clear."
            )
    before = state_of(app, engine)
    token = csrf(op, "/operator/")
    moved = op.post("/operator/demo/clock", data={"csrf_token": token, "step": "day"})
    assert moved.status_code == 302 and moved.headers["Location"] == "/operator/"
    assert state_of(app, engine) == before  # the clock moved; the log did not
    later = _pool_time(op.get("/operator/").get_data(as_text=True))
    assert later - shown >= timedelta(days=1)

    # Past the end of voting: the vote can be closed now, and the claim paid.
    with app.app_context():
        view = current_pool().claim(voting.claim)
    assert view is not None and view.votes_until is not None
    while later <= view.votes_until:
        token = csrf(op, "/operator/")
        op.post("/operator/demo/clock", data={"csrf_token": token, "step": "deadline"})
        later = _pool_time(op.get("/operator/").get_data(as_text=True))
    page = f"/operator/claims/{voting.claim}"
    token = csrf(op, page)
    closed = op.post(
        "/operator/actions/close-voting", data={"csrf_token": token, "claim": voting.claim}
    )
    assert closed.status_code == 302, text_of(closed)
    token = csrf(op, page)
    confirm = {"csrf_token": token, "claim": voting.claim, "amount": "5000000"}
    paid = op.post("/operator/actions/pay/confirm", data=confirm)
    assert paid.status_code == 302, text_of(paid)

    # The entries' times never go backwards, and the new ones carry the demo's time.
    with app.app_context():
        store = current_pool().store
        entries = [parse_entry(e, seq=n) for n, e in enumerate(store.entries(0, store.size()))]
    times = [e.time for e in entries]
    assert times == sorted(times)
    assert times[-1] >= view.votes_until


def test_the_control_is_absent_and_refused_outside_a_demo(
    engine: Engine, tmp_path: Path, clock: FixedClock
) -> None:
    app = make_pool_app(engine, tmp_path, clock)
    try:
        build_voting_pool(app, clock)
        with app.app_context():
            accounts_service().register(OPERATOR, PASSWORD, clock(), Role.OPERATOR)
        op = sign_in(app, OPERATOR)
        page = text_of(op.get("/operator/"))
        assert "The demo's clock" not in page and "/operator/demo/clock" not in page
        for headers, words in (({}, "not a demo"), (ZH, "这不是演示实例")):
            before = state_of(app, engine)
            token = csrf(op, "/operator/")
            refused = op.post(
                "/operator/demo/clock", data={"csrf_token": token, "step": "day"}, headers=headers
            )
            assert refused.status_code == 403 and words in text_of(refused)
            assert state_of(app, engine) == before
        assert demo_offset(engine) is None
        # A demo row alone does not move a clock the configuration fixed.
        start_demo_clock(engine, clock())
        token = csrf(op, "/operator/")
        again = op.post("/operator/demo/clock", data={"csrf_token": token, "step": "day"})
        assert again.status_code == 403
    finally:
        app.extensions["mutualog"].engine.dispose()


# --- two server processes ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Browser:
    """A signed-in HTTP session with one server, cookies and CSRF tokens kept."""

    def __init__(self, base: str) -> None:
        self.base = base
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=10) as r:
            return str(r.read().decode())

    def post(self, path: str, form: dict[str, str], page: str) -> int:
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', self.get(page))
        assert token, page
        data = urllib.parse.urlencode({"csrf_token": token.group(1), **form}).encode()
        with self.opener.open(self.base + path, data=data, timeout=10) as r:
            return int(r.status)

    def sign_in(self) -> None:
        self.post("/login", {"username": OPERATOR, "password": PASSWORD}, "/login")


def _serve(instance: Path, database_url: str, port: int) -> subprocess.Popen[bytes]:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    env = {
        **os.environ,
        "MUTUALOG_INSTANCE": str(instance),
        "MUTUALOG_DATABASE_URL": database_url,
        "MUTUALOG_SECURE_COOKIES": "false",
    }
    return subprocess.Popen(
        [str(gunicorn), "-w", "1", "-b", f"127.0.0.1:{port}", "server:create_app()"],
        env=env,
        cwd=instance,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/checkpoint", timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise AssertionError(f"{base} did not start")


def test_two_server_processes_see_the_advanced_clock(tmp_path: Path) -> None:
    database = tmp_path / "pool.db"
    engine = make_engine(f"sqlite:///{database}", Sealer(tmp_path / "instance"))
    upgrade(engine)
    try:
        _demo_pool(engine, tmp_path)
    finally:
        engine.dispose()
    instance = tmp_path / "instance"
    ports = [_free_port(), _free_port()]
    servers = [_serve(instance, f"sqlite:///{database}", port) for port in ports]
    try:
        one, two = (_Browser(f"http://127.0.0.1:{port}") for port in ports)
        for browser in (one, two):
            _wait(browser.base)
            browser.sign_in()
        before = _pool_time(two.get("/operator/"))
        assert one.post("/operator/demo/clock", {"step": "day"}, "/operator/") == 200
        # The other process reads the same row: its pool is a day ahead too.
        after = _pool_time(two.get("/operator/"))
        assert timedelta(days=1) <= after - before < timedelta(days=1, minutes=5)
        assert html.unescape(one.get("/operator/")).count("demo-now") == 1
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            assert server.stderr is not None
            server.stderr.close()
