"""A form sent many times at once appends once: claims, objections and votes
sent six times together to a real server under gunicorn with several
workers, on SQLite and on PostgreSQL.

The one-time submission token each form carries is taken in the
transaction that appends (``server/private/submissions.py``), so whichever
worker gets a send, one entry is appended and every other send is answered
with where the first led — never a 500, never a second entry.
"""

from __future__ import annotations

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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from server.db import make_engine, upgrade
from server.pool_app import current_pool
from server.private.evidence import Upload
from server.private.submissions import new_token
from server.storage import LogStore
from tests.clock import FixedClock
from tests.server.pool_helpers import (
    PASSWORD,
    PDF,
    add_members,
    csrf,
    make_pool_app,
    row_counts,
    sign_in,
    text_of,
)
from tests.server.redaction_files import redact_all
from verifiable.log.entry import parse_entry

SENDS = 6
WORKERS = 3
_HIDDEN = re.compile(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"')

# Windows long enough to outlast the test: the pool is built on a clock in the
# past and then served on the real one.
RULES: dict[str, object] = {
    "panel.size": 3,
    "juror.seasoning_days": 0,
    "member.waiting_days": 10,
    "claim.objection_days": 2,
    "panel.voting_days": 60,
}


@dataclass(frozen=True)
class Pool:
    claimant: str  # username of a member who files a new claim
    objector: str  # username of a member who objects to ``noticed``
    noticed: str  # a claim in its objection window
    juror: str  # username of a juror of ``voting``'s panel
    voting: str  # a claim whose panel is voting


def _build(engine: Engine, tmp_path: Path) -> Pool:
    """A pool whose windows are open at the real time now."""
    now = datetime.now(UTC).replace(microsecond=0)
    clock = FixedClock(now - timedelta(days=30))
    app = make_pool_app(engine, tmp_path, clock)
    try:
        with app.app_context():
            pool = current_pool()
            pool.start(RULES)
            usernames = add_members(pool, 6, "member", clock())
            for member in usernames:
                pool.qualify_juror(member)
            pool.commit_jury_pool()
            clock.advance(days=11)
            members = list(usernames)
            voting = pool.file_claim(
                members[0], "cancer", 100_000, clock().date(), [Upload(PDF, "application/pdf")]
            )
            redact_all(pool, voting)
            pool.publish_notice(voting, "A member aged 18-39 asks for aid for cancer.")
            clock.advance(days=3)
            panel = pool.draw_panel(voting)
            clock.now = now - timedelta(hours=1)
            noticed = pool.file_claim(
                members[1], "stroke", 100_000, clock().date(), [Upload(PDF, "application/pdf")]
            )
            redact_all(pool, noticed)
            pool.publish_notice(noticed, "A member aged 18-39 asks for aid for a stroke.")
            objector = next(m for m in members if m != members[1])
            claimant = next(m for m in members if m not in (members[0], members[1]))
            return Pool(
                claimant=usernames[claimant],
                objector=usernames[objector],
                noticed=noticed,
                juror=usernames[panel.jurors[0]],
                voting=voting,
            )
    finally:
        app.extensions["mutualog"].engine.dispose()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """One signed-in visitor: a cookie jar shared by every send."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def request(self, path: str, data: bytes | None = None, kind: str = "") -> tuple[int, str]:
        headers = {"Content-Type": kind} if kind else {}
        request = urllib.request.Request(self.base + path, data=data, headers=headers)
        try:
            with self.opener.open(request, timeout=120) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def hidden(self, path: str) -> dict[str, str]:
        status, page = self.request(path)
        assert status == 200, page
        return dict(_HIDDEN.findall(page))

    def post(self, path: str, fields: dict[str, str]) -> tuple[int, str]:
        body = urllib.parse.urlencode(fields).encode()
        return self.request(path, body, "application/x-www-form-urlencoded")

    def sign_in(self, username: str) -> Browser:
        token = self.hidden("/login")["csrf_token"]
        status, page = self.post(
            "/login", {"csrf_token": token, "username": username, "password": PASSWORD}
        )
        assert status == 302, page
        return self


def _multipart(fields: dict[str, str], file: tuple[str, str, bytes]) -> tuple[bytes, str]:
    boundary = "mutualog-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    name, kind, content = file
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="evidence"; filename="{name}"\r\n'
        f"Content-Type: {kind}\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    return b"".join(
        parts
    ) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(tmp_path: Path, database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ,
        "MUTUALOG_INSTANCE": str(tmp_path / "instance"),
        "MUTUALOG_DATABASE_URL": database_url,
        "MUTUALOG_SECURE_COOKIES": "false",
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen(
        [str(gunicorn), "-w", str(WORKERS), "-b", f"127.0.0.1:{port}", "server:create_app()"],
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


def _entries(engine: Engine) -> Counter[str]:
    store = LogStore(engine)
    size = store.size()
    return Counter(parse_entry(d, seq=i).type for i, d in enumerate(store.entries(0, size)))


def _at_once(send: Any) -> list[tuple[int, str]]:
    with ThreadPoolExecutor(SENDS) as threads:
        return list(threads.map(lambda _: send(), range(SENDS)))


def _answers(results: list[tuple[int, str]]) -> list[int]:
    statuses = [status for status, _ in results]
    assert all(status < 500 for status in statuses), results
    return statuses


@pytest.mark.slow
def test_forms_sent_six_times_at_once_append_once(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    pool = _build(engine, tmp_path)
    process, base = _serve(tmp_path, database_url)
    try:
        before = _entries(engine)

        claimant = Browser(base).sign_in(pool.claimant)
        fields = claimant.hidden("/claims/new")
        form = {
            "csrf_token": fields["csrf_token"],
            "submission": fields["submission"],
            "category": "cancer",
            "amount": "1000",
            "diagnosed": datetime.now(UTC).date().isoformat(),
            "medical_consent": "y",
        }
        body, kind = _multipart(form, ("report.pdf", "application/pdf", PDF))
        claims = _answers(_at_once(lambda: claimant.request("/claims/new", body, kind)))
        assert claims == [302] * SENDS

        objector = Browser(base).sign_in(pool.objector)
        fields = objector.hidden(f"/claims/{pool.noticed}")
        objection = {**fields, "claim": pool.noticed, "text": "The dates do not match."}
        objections = _answers(_at_once(lambda: objector.post("/claims/object", objection)))
        assert objections == [302] * SENDS

        juror = Browser(base).sign_in(pool.juror)
        fields = juror.hidden(f"/juror/claims/{pool.voting}")
        review = {**fields, "round": "1", "choice": "approve", "reason": "Clear.\r\nAnd dated."}
        status, confirm = juror.post("/juror/vote", review)
        assert status == 200, confirm
        cast = dict(_HIDDEN.findall(confirm))
        votes = _answers(_at_once(lambda: juror.post("/juror/vote/cast", cast)))
        # A send that finds the first one's private vote before its entry is
        # committed is told the juror has voted (409); the rest see the first.
        assert votes.count(302) >= 1 and set(votes) <= {302, 409}

        after = _entries(engine)
        assert after - before == Counter(
            {"claim.filed": 1, "claim.objected": 1, "vote.sealed": 1}
        ), after - before
    finally:
        _stop(process)


# --- the objection limit on the member's pages ----------------------------------------


def test_a_member_objects_as_often_as_the_rules_allow(sqlite_url: str, tmp_path: Path) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    clock = FixedClock()
    app = make_pool_app(engine, tmp_path, clock)
    try:
        with app.app_context():
            pool = current_pool()
            pool.start({**RULES, "claim.objections_per_member": 1})
            usernames = add_members(pool, 2, "member", clock())
            claimant, objector = list(usernames)
            clock.advance(days=11)
            upload = [Upload(PDF, "application/pdf")]
            claim = pool.file_claim(claimant, "cancer", 100_000, clock().date(), upload)
            redact_all(pool, claim)
            pool.publish_notice(claim, "A member aged 18-39 asks for aid for cancer.")
        client = sign_in(app, usernames[objector])
        page = f"/claims/{claim}"
        assert "Publish my objection" in text_of(client.get(page))
        sent = {"claim": claim, "text": "The dates do not match.", "submission": new_token()}
        first = client.post("/claims/object", data={**sent, "csrf_token": csrf(client, page)})
        assert first.status_code == 302
        shown = text_of(client.get(page))
        assert "Publish my objection" not in shown
        assert "as many objections to this claim as its rules allow (1 per member)" in shown

        before = row_counts(engine)
        for headers, said in (
            ({}, "(rule objection.limit)"),
            ({"Accept-Language": "zh-CN"}, "不得超过该申请提交时的规则所允许的次数"),
        ):
            again = {**sent, "submission": new_token(), "text": "Worded another way."}
            response = client.post(
                "/claims/object", data={**again, "csrf_token": csrf(client, page)}, headers=headers
            )
            assert response.status_code == 409 and said in text_of(response)
        assert row_counts(engine) == before
    finally:
        app.extensions["mutualog"].engine.dispose()
        engine.dispose()
