"""Eight people join with one ID number at the same moment, each from their
own account, on a real server under gunicorn with several workers, on
SQLite and on PostgreSQL: exactly one becomes a member.

Whichever workers take the requests, the keyed hash of the ID number goes
into ``member_identities`` under its primary key in the private store's
write transaction (server/private/members.py), so one join appends its
``member.joined`` and every other is answered 400 with the reason on the
page — never a 500, never a second member.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from server.auth import accounts_service
from server.models import MemberDetailsRow, MemberIdentityRow
from server.pool_app import current_pool
from tests.clock import FixedClock
from tests.server.identities import id_number
from tests.server.pool_helpers import PASSWORD, RULES, make_pool_app
from tests.server.test_submissions import Browser, _entries, _serve, _stop

PEOPLE = 8


def _build(engine: Engine, tmp_path: Path) -> list[str]:
    """A started pool and the usernames of ``PEOPLE`` accounts."""
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(days=1))
    app = make_pool_app(engine, tmp_path, clock)
    try:
        with app.app_context():
            current_pool().start(RULES)
            names = [f"person{n}" for n in range(PEOPLE)]
            for name in names:
                accounts_service().register(name, PASSWORD, clock())
            return names
    finally:
        app.extensions["mutualog"].engine.dispose()


@pytest.mark.slow
def test_eight_joins_with_one_id_number_at_once_make_one_member(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    names = _build(engine, tmp_path)
    process, base = _serve(tmp_path, database_url)
    try:
        before = _entries(engine)
        visitors = [Browser(base).sign_in(name) for name in names]
        forms = [v.hidden("/join") for v in visitors]
        number = id_number("twin")
        start = threading.Barrier(PEOPLE)

        def join(n: int) -> tuple[int, str]:
            fields = {
                "csrf_token": forms[n]["csrf_token"],
                "name": f"Person {n}",
                "id_number": number,
                "phone": f"138 0000 {n:04d}",
            }
            start.wait()
            return visitors[n].post("/join", fields)

        with ThreadPoolExecutor(PEOPLE) as threads:
            results = list(threads.map(join, range(PEOPLE)))
        statuses = Counter(status for status, _ in results)
        assert statuses == {302: 1, 400: PEOPLE - 1}, results
        for status, page in results:
            if status == 400:
                assert "one person holds one membership" in page
        added = _entries(engine) - before
        assert added == Counter({"member.joined": 1})
        with engine.connect() as conn:
            holders = conn.scalars(select(MemberIdentityRow.member_id)).all()
            details = conn.scalars(select(MemberDetailsRow.member_id)).all()
        assert len(holders) == 1 and details == holders
        # The key was made once, by whichever worker came first, beside the database.
        assert (tmp_path / "instance" / "identity-hash.key").stat().st_mode & 0o077 == 0
    finally:
        _stop(process)
