"""The request limits and the hashing slots, on both backends: per address,
per username and for the whole server, for sign-in, registration and reset;
a refusal hashes nothing and records nothing; the slots bound the hashes
in flight across processes; the pages answer 429 or 503 with Retry-After
in both languages; /register answers a taken name as it answers a free
one; and under gunicorn with two workers a flood of sign-ins with unknown
usernames is refused beyond the bound while the read path keeps answering."""

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
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from argon2.profiles import CHEAPEST
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select, text
from werkzeug.test import TestResponse

from server import create_app
from server.cli import main
from server.db import write_transaction
from server.keys import create_key_file
from server.models import HashLeaseRow, RequestAttemptRow
from server.private._tx import PRIVATE_LOCK
from server.private.accounts import Accounts
from server.private.errors import (
    HashBusyError,
    LoginRefusedError,
    RequestLimitedError,
    ResetCodeError,
)
from server.private.hash_slots import HashSlots
from server.private.passwords import Passwords
from server.private.throttle import Action, Limit, LimitPolicy, RequestLimits, Scope

if TYPE_CHECKING:
    from tests.clock import FixedClock

PASSWORD = "correct horse battery"
ADDRESS = "192.0.2.7"
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_QUARTER = timedelta(minutes=15)


class CountingPasswords(Passwords):
    """Passwords that count the argon2 operations they perform: what a
    refusal must not cost."""

    def __init__(self) -> None:
        super().__init__(CHEAPEST)
        self.work = 0

    def hash(self, password: str) -> str:
        self.work += 1
        return super().hash(password)

    def verify(self, stored: str, password: str) -> bool:
        self.work += 1
        return super().verify(stored, password)


def policy(**limits: int) -> LimitPolicy:
    """The default limits, with ``signin_address=3``-style overrides."""
    table = {action: dict(scopes) for action, scopes in LimitPolicy().limits.items()}
    for name, most in limits.items():
        action, scope = name.split("_")
        table[Action(action)][Scope(scope)] = Limit(
            most, table[Action(action)][Scope(scope)].window
        )
    return LimitPolicy(table)


def service(engine: Engine, limits: LimitPolicy, slots: int = 2) -> Accounts:
    return Accounts(engine, CountingPasswords(), RequestLimits(engine, limits), HashSlots(slots))


def work(accounts: Accounts) -> int:
    passwords = accounts.passwords
    assert isinstance(passwords, CountingPasswords)
    return passwords.work


def attempts(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(RequestAttemptRow)) or 0)


# --- the limits ---------------------------------------------------------------------


def test_one_address_cycling_unknown_usernames_is_stopped_without_hashing(
    engine: Engine, clock: FixedClock
) -> None:
    accounts = service(engine, policy(signin_address=3))
    accounts.register("alice", PASSWORD, clock())
    costs = []
    for name in ("alice", "nobody1", "nobody2"):
        before = work(accounts)
        with pytest.raises(LoginRefusedError):
            accounts.authenticate(name, "guess guess", ADDRESS, clock())
        costs.append(work(accounts) - before)
    # An unknown username costs what a known one does: one verification
    # (the first also makes the stand-in hash it is verified against).
    assert costs[0] == costs[2] == 1
    before = work(accounts)
    with pytest.raises(RequestLimitedError, match="from your address") as caught:
        accounts.authenticate("nobody9", "guess guess", ADDRESS, clock())
    assert (caught.value.code, caught.value.retry_after) == ("limit.address", 900)
    assert work(accounts) == before and attempts(engine) == 3
    # Another address is not held back; the window's end frees this one.
    with pytest.raises(LoginRefusedError):
        accounts.authenticate("nobody9", "guess guess", "198.51.100.1", clock())
    clock.advance(minutes=15)
    with pytest.raises(LoginRefusedError):
        accounts.authenticate("nobody9", "guess guess", ADDRESS, clock())


def test_one_username_from_many_addresses_is_stopped(engine: Engine, clock: FixedClock) -> None:
    accounts = service(engine, policy(signin_username=4))
    accounts.register("alice", PASSWORD, clock())
    for n in range(4):
        with pytest.raises(LoginRefusedError):
            accounts.authenticate("alice", "guess guess", f"198.51.100.{n}", clock())
    with pytest.raises(RequestLimitedError, match="for this username") as caught:
        accounts.authenticate("Alice", PASSWORD, "203.0.113.9", clock())
    assert caught.value.code == "limit.username"


def test_the_whole_server_is_limited(engine: Engine, clock: FixedClock) -> None:
    accounts = service(engine, policy(signin_server=5))
    for n in range(5):
        with pytest.raises(LoginRefusedError):
            accounts.authenticate(f"user{n}", "guess guess", f"198.51.100.{n}", clock())
    with pytest.raises(RequestLimitedError, match="too many of these requests") as caught:
        accounts.authenticate("user9", "guess guess", "203.0.113.9", clock())
    assert caught.value.code == "limit.server"


def test_a_success_spends_none_of_the_addresss_allowance(engine: Engine, clock: FixedClock) -> None:
    accounts = service(engine, policy(signin_address=2))
    accounts.register("alice", PASSWORD, clock())
    for _ in range(5):
        assert accounts.authenticate("alice", PASSWORD, ADDRESS, clock()).username == "alice"
    assert attempts(engine) == 0


def test_registration_is_limited_per_address_and_for_the_server(
    engine: Engine, clock: FixedClock
) -> None:
    accounts = service(engine, policy(register_address=2, register_server=3))
    accounts.register("user1", PASSWORD, clock(), address=ADDRESS)
    accounts.register("user2", PASSWORD, clock(), address=ADDRESS)
    with pytest.raises(RequestLimitedError, match="from your address"):
        accounts.register("user3", PASSWORD, clock(), address=ADDRESS)
    accounts.register("user3", PASSWORD, clock(), address="198.51.100.1")
    with pytest.raises(RequestLimitedError, match="too many of these requests"):
        accounts.register("user4", PASSWORD, clock(), address="198.51.100.2")
    assert work(accounts) == 3
    # The command line (no address) is not a visitor: it is not limited.
    accounts.register("operator", PASSWORD, clock())
    clock.advance(hours=1)
    accounts.register("user4", PASSWORD, clock(), address=ADDRESS)


def test_reset_codes_are_limited_per_address(engine: Engine, clock: FixedClock) -> None:
    accounts = service(engine, policy(reset_address=2))
    for _ in range(2):
        with pytest.raises(ResetCodeError):
            accounts.redeem_reset("AAAA-BBBB-CCCC-DDDD-EEEE", PASSWORD, ADDRESS, clock())
    with pytest.raises(RequestLimitedError):
        accounts.redeem_reset("AAAA-BBBB-CCCC-DDDD-EEEE", PASSWORD, ADDRESS, clock())


# --- the hashing slots ------------------------------------------------------------------


def hold_slots(engine: Engine, slots: HashSlots, count: int, now: datetime) -> list[str]:
    """Take ``count`` slots as other workers in the middle of a hash would."""
    with write_transaction(engine, PRIVATE_LOCK) as conn:
        return [slots.take(conn, now) for _ in range(count)]


def test_with_every_slot_taken_nothing_is_hashed_nor_recorded(
    engine: Engine, clock: FixedClock
) -> None:
    accounts = service(engine, LimitPolicy(), slots=2)
    accounts.register("alice", PASSWORD, clock())
    held = hold_slots(engine, accounts.slots, 2, clock())
    before = work(accounts)
    attempts_: list[Callable[[], object]] = [
        lambda: accounts.authenticate("alice", PASSWORD, ADDRESS, clock()),
        lambda: accounts.authenticate("nobody", "guess guess", ADDRESS, clock()),
        lambda: accounts.register("bob", PASSWORD, clock(), address=ADDRESS),
    ]
    for attempt in attempts_:
        with pytest.raises(HashBusyError, match="slots are in use") as caught:
            attempt()
        assert caught.value.retry_after == 1
    assert work(accounts) == before and attempts(engine) == 0
    # One given back: one sign-in fits, and gives its slot back when done.
    with write_transaction(engine, PRIVATE_LOCK) as conn:
        accounts.slots.give_back(conn, held[0])
    assert accounts.authenticate("alice", PASSWORD, ADDRESS, clock()).username == "alice"
    with engine.connect() as conn:
        assert accounts.slots.held(conn, clock()) == 1


def test_a_slot_held_by_a_killed_worker_comes_back_when_its_lease_ends(
    engine: Engine, clock: FixedClock
) -> None:
    accounts = service(engine, LimitPolicy(), slots=1)
    accounts.register("alice", PASSWORD, clock())
    hold_slots(engine, accounts.slots, 1, clock())  # never given back
    with pytest.raises(HashBusyError):
        accounts.authenticate("alice", PASSWORD, ADDRESS, clock())
    clock.advance(seconds=30)
    assert accounts.authenticate("alice", PASSWORD, ADDRESS, clock()).username == "alice"
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(HashLeaseRow)) == 0


def test_the_slots_are_shared_by_every_process(database_url: str, engine: Engine) -> None:
    # Two services on two engines stand for two workers on two machines.
    from server.db import make_engine

    other = make_engine(database_url)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        one, two = service(engine, LimitPolicy(), 1), service(other, LimitPolicy(), 1)
        one.register("alice", PASSWORD, now)
        hold_slots(engine, one.slots, 1, now)
        with pytest.raises(HashBusyError):
            two.authenticate("alice", PASSWORD, ADDRESS, now)
    finally:
        other.dispose()


@pytest.mark.parametrize(("size", "lease"), [(0, 30), (2, 0)], ids=["no-slot", "no-lease"])
def test_slots_need_a_size_and_a_lease(size: int, lease: int) -> None:
    from server.config import ConfigError

    with pytest.raises(ConfigError, match="hash slots"):
        HashSlots(size, timedelta(seconds=lease))


# --- the pages ---------------------------------------------------------------------------


@pytest.fixture
def app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    key = tmp_path / "instance" / "log.key"
    key.parent.mkdir(parents=True, exist_ok=True)
    create_key_file(key, "example.org/mutualog/test", bytes(32))
    app = create_app(
        {
            "MUTUALOG_INSTANCE": tmp_path / "instance",
            "MUTUALOG_DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "MUTUALOG_SECURE_COOKIES": False,
            "MUTUALOG_ARGON2": CHEAPEST,
            "MUTUALOG_CLOCK": clock,
            "MUTUALOG_LOGIN_PER_ADDRESS": 2,
            "MUTUALOG_REGISTER_PER_ADDRESS": 3,
            "TESTING": True,
        }
    )
    yield app
    app.extensions["mutualog"].engine.dispose()


def send(client: FlaskClient, path: str, lang: str = "en", **fields: str) -> TestResponse:
    page = client.get(path).get_data(as_text=True)
    found = _TOKEN.search(page)
    assert found, path
    headers = {"Accept-Language": lang}
    return client.post(path, data={"csrf_token": found.group(1), **fields}, headers=headers)


def text_of(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", "Too many attempts from your address: try again in 15 minutes."),
        ("zh-CN", "从您的网络地址尝试的次数过多，请 15 分钟后再试。"),  # noqa: RUF001
    ],
    ids=["en", "zh"],
)
def test_over_a_limit_the_page_says_429_with_retry_after(app: Flask, lang: str, words: str) -> None:
    client = app.test_client()
    for n in range(2):
        refused = send(client, "/login", lang, username=f"nobody{n}", password="guess guess")
        assert refused.status_code == 400
    response = send(client, "/login", lang, username="nobody2", password="guess guess")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "900"
    assert words in text_of(response)
    assert 'role="alert"' in text_of(response)


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", "The server is busy checking other passwords"), ("zh-CN", "服务器正忙于核对其他密码")],
    ids=["en", "zh"],
)
def test_with_every_slot_busy_the_page_says_503_at_once(
    app: Flask, engine: Engine, clock: FixedClock, lang: str, words: str
) -> None:
    with app.app_context():
        from server.auth import accounts_service

        slots = accounts_service().slots
    hold_slots(engine, slots, slots.size, clock())
    for path, fields in (
        ("/login", {"username": "nobody", "password": "guess guess"}),
        ("/register", {"username": "newcomer", "password": PASSWORD, "confirm": PASSWORD}),
    ):
        response = send(app.test_client(), path, lang, **fields)
        assert response.status_code == 503, path
        assert response.headers["Retry-After"] == "1"
        assert words in text_of(response)
    assert attempts(engine) == 0


def _normalized(response: TestResponse, name: str) -> tuple[int, str | None, str]:
    """What a visitor can see of an answer, the name they typed taken out."""
    body = response.get_data(as_text=True).replace(name, "NAME")
    body = _TOKEN.sub('name="csrf_token" value="TOKEN"', body)
    return response.status_code, response.headers.get("Location"), body


def test_register_answers_a_taken_name_as_it_answers_a_free_one(app: Flask, engine: Engine) -> None:
    with app.app_context():
        from server.auth import accounts_service, utc_now

        accounts_service().register("alice", PASSWORD, utc_now())
    seen = []
    for name in ("alice", "bobby"):
        client = app.test_client()
        fields = {
            "username": name,
            "password": "another passphrase",
            "confirm": "another passphrase",
        }
        answer = send(client, "/register", **fields)
        follow = client.get(answer.headers["Location"])
        seen.append((_normalized(answer, name), _normalized(follow, name)))
    assert seen[0] == seen[1]
    assert seen[0][0][:2] == (302, "/login")
    assert "If the username NAME was free, it is now yours" in html.unescape(seen[0][1][2])
    # The taken name kept its owner's password; the free one is the newcomer's.
    with app.app_context():
        from server.auth import accounts_service, utc_now

        service_ = accounts_service()
        assert service_.authenticate("alice", PASSWORD, ADDRESS, utc_now()).username == "alice"
        assert service_.authenticate("bobby", "another passphrase", ADDRESS, utc_now())
    with engine.connect() as conn:
        registered = conn.scalar(
            select(func.count())
            .select_from(RequestAttemptRow)
            .where(RequestAttemptRow.action == "register")
        )
    assert registered == 2  # both counted against the limit alike


# --- under gunicorn ---------------------------------------------------------------------

FLOOD = 32
PER_ADDRESS = 6


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(tmp_path: Path, database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    instance = tmp_path / "instance"
    assert main(["--instance", str(instance), "--database-url", database_url, "init",
                 "--origin", "example.org/flood"]) == 0  # fmt: skip
    port = _free_port()
    env = {
        **os.environ,
        "MUTUALOG_INSTANCE": str(instance),
        "MUTUALOG_DATABASE_URL": database_url,
        "MUTUALOG_SECURE_COOKIES": "false",
        "MUTUALOG_LOGIN_PER_ADDRESS": str(PER_ADDRESS),
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen(
        [str(gunicorn), "-w", "2", "-b", f"127.0.0.1:{port}", "server:create_app()"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/checkpoint", timeout=10):
                return process, base
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    _stop(process)
    pytest.fail("gunicorn did not start")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _sign_in_sender(base: str) -> Callable[[], int]:
    """A function that sends one sign-in with a fresh unknown username from
    one browser session (its cookie and form token); its status."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    with opener.open(base + "/login", timeout=60) as page:
        token = _TOKEN.search(page.read().decode())
    assert token
    counter = iter(range(10_000))

    def sign_in() -> int:
        fields = {
            "csrf_token": token.group(1),
            "username": f"ghost{next(counter)}",
            "password": "guess guess",
        }
        request = urllib.request.Request(
            base + "/login", data=urllib.parse.urlencode(fields).encode(), method="POST"
        )
        try:
            with opener.open(request, timeout=120) as response:
                return int(response.status)
        except urllib.error.HTTPError as e:
            e.close()
            if e.code in (429, 503):
                assert e.headers["Retry-After"]
            return int(e.code)

    return sign_in


def _checkpoint(base: str) -> int:
    with urllib.request.urlopen(base + "/checkpoint", timeout=120) as response:
        response.read()
        return int(response.status)


@pytest.mark.slow
def test_a_flood_of_unknown_usernames_is_refused_beyond_the_bound_under_gunicorn(
    database_url: str, tmp_path: Path
) -> None:
    process, base = _serve(tmp_path, database_url)
    try:
        sign_in = _sign_in_sender(base)
        with ThreadPoolExecutor(16) as threads:
            flood = [threads.submit(sign_in) for _ in range(FLOOD)]
            reads = [threads.submit(_checkpoint, base) for _ in range(FLOOD)]
            statuses = Counter(f.result() for f in flood)
            assert [r.result() for r in reads] == [200] * FLOOD
        # Each refused guess (400) was admitted and hashed: exactly the
        # address's limit, however the two workers interleaved; everything
        # beyond it was held back (429) before any hash.  (Two slots, two
        # sync workers: the slots never bind here; test_with_every_slot_...
        # shows them binding.)
        assert statuses == {400: PER_ADDRESS, 429: FLOOD - PER_ADDRESS}, statuses
    finally:
        _stop(process)
    from server.db import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            admitted = conn.scalar(text("SELECT count(*) FROM request_attempts"))
            leases = conn.scalar(text("SELECT count(*) FROM hash_leases"))
        assert admitted == statuses[400] and leases == 0
    finally:
        engine.dispose()
