"""An instance made before encryption at rest, upgraded in place.

The old instance is made by the code itself: a pool whose members join,
one leaves, and a claim is filed with its document, through the pages'
own operations; then every value is put back in plaintext and the schema
taken down to migration 0008 by the migrations' own downgrades, the keyed
hashes of ID numbers removed (members who joined before 0008 have none)
and the data key deleted.  That is the database the code before 0010
wrote: the same tables, the same text columns, the same plaintext.

Then ``alembic upgrade`` and ``mutualog-server private upgrade``: every
value sealed under a fresh key, the keyed hashes filled for the active
members, the pool serving and signing members in, and a second run
changing nothing.  An interrupted run finishes when run again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, inspect, text

from server.cli import main
from server.db import current_revision, make_engine, upgrade
from server.pool_app import current_pool
from server.private import at_rest
from server.private.at_rest import census, reseal
from server.private.identity_key import identity_hash, identity_key
from server.private.members import member_details
from server.private.sealing import PRIVATE_KEY_FILE, Sealer, key_id, sealer_of
from tests.clock import FixedClock
from tests.server.demo_helpers import clear_environment
from tests.server.pool_helpers import (
    PDF,
    VotingPool,
    build_voting_pool,
    make_pool_app,
    sign_in,
)
from tests.server.sealing_helpers import downgrade, stored_private, unseal_all

_TABLES = ("member_details", "member_identities", "evidence", "accounts", "entries")


@dataclass
class OldInstance:
    instance: Path
    url: str
    voting: VotingPool
    left: str

    @property
    def active(self) -> list[str]:
        return [m for m in self.voting.usernames if m != self.left]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_environment(monkeypatch)


@pytest.fixture
def old(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[OldInstance]:
    app = make_pool_app(engine, tmp_path, clock)
    voting = build_voting_pool(app, clock)
    with app.app_context():
        current_pool().leave(voting.outsider)
    app.extensions["mutualog"].engine.dispose()
    # Its redacted copies too, if any: their table goes with migration 0009.
    assert unseal_all(engine, sealer_of(engine)) >= 3 * len(voting.usernames) + 2
    downgrade(engine, "0008")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM member_identities"))
    instance = tmp_path / "instance"
    (instance / PRIVATE_KEY_FILE).unlink()
    url = engine.url.render_as_string(hide_password=False)
    yield OldInstance(instance, url, voting, voting.outsider)


def _run(old: OldInstance, *args: str) -> int:
    return main(["--instance", str(old.instance), "--database-url", old.url, "private", *args])


def _rows(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as conn:
        return {
            t: sorted(tuple(r) for r in conn.execute(text(f"SELECT * FROM {t}")).all())
            for t in _TABLES
        }


def _app(old: OldInstance, clock: FixedClock, tmp_path: Path) -> Flask:
    engine = make_engine(old.url)
    try:
        return make_pool_app(engine, tmp_path, clock)
    finally:
        engine.dispose()


def test_the_old_instance_is_what_the_code_before_0010_stored(old: OldInstance) -> None:
    engine = make_engine(old.url)
    try:
        assert current_revision(engine) == "0008"
        columns = {c["name"]: c["type"] for c in inspect(engine).get_columns("member_details")}
        assert all(columns[c].python_type is str for c in ("name", "id_number", "phone"))
        with engine.connect() as conn:
            names = conn.execute(text("SELECT name FROM member_details")).scalars().all()
            filename = conn.execute(text("SELECT filename FROM evidence")).scalar_one()
        assert sorted(names) == sorted(f"Person member {n}" for n in range(7))
        assert filename == "a.pdf"
    finally:
        engine.dispose()
    assert not (old.instance / PRIVATE_KEY_FILE).exists()


def test_upgrade_in_place_seals_everything_fills_the_hashes_and_serves(
    old: OldInstance, clock: FixedClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(old.url, Sealer(old.instance))
    try:
        upgrade(engine)  # alembic upgrade: 0009, 0010
        assert census(engine) == {"plaintext": 3 * 7 + 2}
        assert _run(old, "status") == 0
        assert capsys.readouterr().out == "23\tplaintext\n"
        assert _run(old, "upgrade") == 0
        assert "23 values sealed" in capsys.readouterr().out
        key_file = old.instance / PRIVATE_KEY_FILE
        assert key_file.stat().st_mode & 0o077 == 0
        current = key_id(bytes.fromhex(key_file.read_text().strip())).hex()
        assert census(engine) == {current: 23}
        assert _run(old, "status") == 0
        assert capsys.readouterr().out == f"23\tkey {current} (current)\n"
        with engine.connect() as conn:
            hashes = dict(
                conn.execute(text("SELECT member_id, id_hash FROM member_identities")).all()
            )
        assert set(hashes) == set(old.active)
        id_key = identity_key(old.instance)
        for member in old.active:
            details = member_details(engine, member)
            assert details is not None and details.name.startswith("Person member ")
            assert bytes(hashes[member]) == identity_hash(id_key, details.id_number)
        private = stored_private(engine, list(old.voting.usernames), [old.voting.claim])
        assert private.documents == [(PDF, "a.pdf")]
        before = _rows(engine)
        assert _run(old, "upgrade") == 0
        assert "0 values sealed" in capsys.readouterr().out
        assert _rows(engine) == before
    finally:
        engine.dispose()
    app = _app(old, clock, tmp_path)
    try:
        claimant = sign_in(app, old.voting.usernames[old.voting.claimant])
        response = claimant.get(f"/claims/{old.voting.claim}/evidence/1")
        assert response.status_code == 200 and response.data == PDF
        assert claimant.get(f"/claims/{old.voting.claim}").status_code == 200
    finally:
        app.extensions["mutualog"].engine.dispose()


class _KilledError(Exception):
    pass


def test_an_interrupted_upgrade_finishes_when_run_again(
    old: OldInstance, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(old.url, Sealer(old.instance))
    try:
        upgrade(engine)
        monkeypatch.setattr(at_rest, "BATCH", 2)

        def stop(_table: str, _done: int) -> None:
            raise _KilledError  # killed after the first batch committed

        with pytest.raises(_KilledError):
            reseal(engine, sealer_of(engine), stop)
        counts = census(engine)
        assert counts["plaintext"] == 23 - 6 and sum(counts.values()) == 23
        assert _run(old, "upgrade") == 0
        assert "17 values sealed" in capsys.readouterr().out
        assert "plaintext" not in census(engine)
        assert member_details(engine, old.voting.claimant) is not None
    finally:
        engine.dispose()


def test_two_old_members_with_one_id_number_are_named_and_exit_2(
    old: OldInstance, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(old.url)
    a, b = old.active[:2]
    try:
        with engine.begin() as conn:
            number = conn.execute(
                text("SELECT id_number FROM member_details WHERE member_id = :m"), {"m": a}
            ).scalar_one()
            conn.execute(
                text("UPDATE member_details SET id_number = :n WHERE member_id = :m"),
                {"n": number, "m": b},
            )
    finally:
        engine.dispose()
    assert _run(old, "upgrade") == 2
    err = capsys.readouterr().err
    assert "share an ID number" in err and (a in err or b in err)
    assert number not in err
    # Everything else was done, and a second run says the same again.
    assert _run(old, "upgrade") == 2
