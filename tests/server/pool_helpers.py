"""A small pool with a panel voting, built through the server's pool service,
for the tests of the pool service and of the juror's web forms."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from argon2.profiles import CHEAPEST
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from server import create_app
from server.auth import accounts_service
from server.keys import create_key_file
from server.pool_app import current_pool
from server.pool_service import PoolService
from server.private.evidence import Upload
from server.private.identity_key import IDENTITY_KEY_FILE, IdentityKeyError
from server.private.key_files import replace_key_file
from server.private.members import MemberDetails
from server.private.sealing import PRIVATE_KEY_FILE, SealingKeyError
from tests.server.identities import id_number, mobile
from tests.server.redaction_files import redact_all

if TYPE_CHECKING:
    from werkzeug.test import TestResponse

    from tests.clock import FixedClock

ORIGIN = "example.org/mutualog/test"
SEED = bytes(range(32))
#: The private store's data key of every test pool (server.private.sealing).
DATA_KEY = bytes(range(32, 64))
#: The key of the ID numbers' hashes of every test pool (server.private.identity_key).
IDENTITY_KEY = bytes(range(64, 96))
PASSWORD = "correct horse battery"
PDF = b"%PDF-1.4 a discharge summary"

RULES: dict[str, object] = {
    "panel.size": 3,
    "panel.max_rounds": 2,
    "juror.seasoning_days": 0,
    "member.waiting_days": 10,
    "claim.objection_days": 2,
    "panel.voting_days": 2,
}


def make_pool_app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Flask:
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    key = instance / "log.key"
    if not key.exists():
        create_key_file(key, ORIGIN, SEED)
    data_key = instance / PRIVATE_KEY_FILE
    if not data_key.exists():
        # One data key for every test pool, as one log key: a test that
        # copies a built pool's database into a new instance opens its
        # sealed values.  (Left alone if the test's engine made one first.)
        replace_key_file(data_key, [DATA_KEY], SealingKeyError, "test data key")
    id_key = instance / IDENTITY_KEY_FILE
    if not id_key.exists():
        # Likewise: a copied database's keyed hashes must still match, or
        # the instance refuses to start (server/private/key_check.py).
        replace_key_file(id_key, [IDENTITY_KEY], IdentityKeyError, "test identity key")
    return create_app(
        {
            "MUTUALOG_INSTANCE": instance,
            "MUTUALOG_DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "MUTUALOG_SECURE_COOKIES": False,
            "MUTUALOG_ARGON2": CHEAPEST,
            "MUTUALOG_CLOCK": clock,
            "TESTING": True,
        }
    )


@dataclass
class VotingPool:
    """Usernames by member id, the claimant, the claim and its panel."""

    usernames: dict[str, str]
    claimant: str
    claim: str
    jurors: tuple[str, ...]

    @property
    def outsider(self) -> str:
        """A member who is neither the claimant nor on the panel."""
        return next(m for m in self.usernames if m != self.claimant and m not in self.jurors)


def add_members(pool: PoolService, count: int, prefix: str, now: datetime) -> dict[str, str]:
    accounts = accounts_service()
    out: dict[str, str] = {}
    for n in range(count):
        username = f"{prefix}{n}"
        account = accounts.register(username, PASSWORD, now)
        details = MemberDetails.parse(
            f"Person {prefix} {n}", id_number(prefix, n), mobile(n), now.date()
        )
        member = pool.join(account.id, details)
        out[member] = username
    return out


def build_voting_pool(app: Flask, clock: FixedClock, members: int = 7) -> VotingPool:
    """Start a pool, join ``members`` members (all jurors), file a claim and
    draw its panel; the clock ends inside the voting window."""
    with app.app_context():
        pool = current_pool()
        pool.start(RULES)
        usernames = add_members(pool, members, "member", clock())
        for member in usernames:
            pool.qualify_juror(member)
        pool.commit_jury_pool()
        clock.advance(days=11)
        claimant = next(iter(usernames))
        claim = pool.file_claim(
            claimant, "cancer", 5_000_000, clock().date(), [Upload(PDF, "application/pdf", "a.pdf")]
        )
        redact_all(pool, claim)
        pool.publish_notice(claim, "A member aged 18-39 asks for aid for cancer.")
        clock.advance(days=3)
        panel = pool.draw_panel(claim)
        clock.advance(hours=1)
        return VotingPool(usernames, claimant, claim, panel.jurors)


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in the log's and the private store's tables."""
    tables = ("entries", "checkpoints", "sealed_votes", "evidence", "member_details", "accounts")
    with engine.connect() as conn:
        return {
            t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() or 0) for t in tables
        }


def today(clock: FixedClock) -> date:
    return clock().date()


_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def served_pool_app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    """A ``make_pool_app`` application for a fixture to yield, disposed after."""
    app = make_pool_app(engine, tmp_path, clock)
    yield app
    app.extensions["mutualog"].engine.dispose()


def csrf(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on the page at ``path``."""
    found = _TOKEN.search(client.get(path).get_data(as_text=True))
    assert found, path
    return found.group(1)


def sign_in(app: Flask, username: str) -> FlaskClient:
    """A client signed in as ``username`` (whose password is :data:`PASSWORD`)."""
    client = app.test_client()
    token = csrf(client, "/login")
    response = client.post(
        "/login", data={"csrf_token": token, "username": username, "password": PASSWORD}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def text_of(response: TestResponse) -> str:
    """A page's text, its HTML entities unescaped."""
    return html.unescape(response.get_data(as_text=True))
