"""A lost key file is refused, never replaced by a new key over old data
(server/private/key_check.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, text

from server.app import create_app
from server.cli import main
from server.private.identity_key import (
    IDENTITY_KEY_FILE,
    IdentityKeyError,
    identity_hash,
    identity_key,
)
from server.private.key_check import refuse_lost_keys
from server.private.members import member_details
from server.private.sealing import PRIVATE_KEY_FILE, SealingKeyError
from tests.clock import FixedClock
from tests.server.demo_helpers import clear_environment
from tests.server.pool_helpers import VotingPool, build_voting_pool, make_pool_app


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_environment(monkeypatch)


@pytest.fixture
def app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    app = make_pool_app(engine, tmp_path, clock)
    yield app
    app.extensions["mutualog"].engine.dispose()


@pytest.fixture
def voting(app: Flask, clock: FixedClock) -> VotingPool:
    return build_voting_pool(app, clock)


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_a_fresh_database_starts_without_key_files(engine: Engine, tmp_path: Path) -> None:
    instance = tmp_path / "empty"
    instance.mkdir()
    refuse_lost_keys(engine, instance)
    assert not (instance / PRIVATE_KEY_FILE).exists()


def test_a_pool_with_its_keys_starts(engine: Engine, voting: VotingPool, tmp_path: Path) -> None:
    refuse_lost_keys(engine, tmp_path / "instance")


@pytest.mark.parametrize(
    ("name", "error", "says"),
    [
        (PRIVATE_KEY_FILE, SealingKeyError, "values sealed under it"),
        (IDENTITY_KEY_FILE, IdentityKeyError, "join twice"),
    ],
)
def test_a_lost_key_file_stops_the_server_and_the_commands(
    engine: Engine,
    voting: VotingPool,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    error: type[Exception],
    says: str,
) -> None:
    instance = tmp_path / "instance"
    (instance / name).unlink()
    with pytest.raises(error, match=says):
        create_app({"MUTUALOG_INSTANCE": instance, "MUTUALOG_DATABASE_URL": _url(engine)})
    capsys.readouterr()
    argv = ["--instance", str(instance), "--database-url", _url(engine), "private", "status"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert name in err and "restore the file" in err
    # Nothing made in its place: restoring the backup is still the way.
    assert not (instance / name).exists()


def _hashes(engine: Engine) -> set[bytes]:
    with engine.connect() as conn:
        return {bytes(h) for h in conn.scalars(text("SELECT id_hash FROM member_identities"))}


@pytest.mark.parametrize("lost", [True, False], ids=["lost", "rotated"])
def test_rehash_puts_every_active_members_hash_under_a_new_key(
    engine: Engine, voting: VotingPool, tmp_path: Path, lost: bool
) -> None:
    instance = tmp_path / "instance"
    path = instance / IDENTITY_KEY_FILE
    before = _hashes(engine)
    assert before
    old = path.read_text()
    if lost:
        path.unlink()
    argv = ["--instance", str(instance), "--database-url", _url(engine)]
    assert main([*argv, "private", "rehash-identities"]) == 0
    after = _hashes(engine)
    assert path.read_text() != old and path.stat().st_mode & 0o777 == 0o600
    assert len(after) == len(before) and not after & before
    key = identity_key(instance)
    id_number = member_details(engine, voting.claimant).id_number
    assert identity_hash(key, id_number) in after
    refuse_lost_keys(engine, instance)
    # Run again (as after an interruption): the same members, a newer key.
    assert main([*argv, "private", "rehash-identities"]) == 0
    assert len(_hashes(engine)) == len(before)
