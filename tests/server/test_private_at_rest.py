"""The private store at rest: the demo's database — the SQLite file's
bytes and a ``pg_dump`` of the PostgreSQL variant — holds none of the
demo's names, ID numbers, phones, documents or file names, each looked for
as raw bytes and in hex (as a dump writes ``bytea``).  The positive
control: the same scan over the same database with its values put back in
plaintext finds every one of them.

And an erasure leaves no sealed bytes behind in the SQLite file: the
``secure_delete`` pragma zeroes what was deleted or overwritten, and the
write-ahead log is truncated after it; with the pragma off, the control,
the bytes are still there.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text

from server.cli import cli
from server.db import make_engine, upgrade
from server.private.erasure import scrub_freed
from server.private.evidence import erase_evidence
from server.private.members import erase_member_details
from server.private.sealing import Sealer
from tests.clock import FixedClock
from tests.server.demo_helpers import DemoBuild, clear_environment, shared_demo
from tests.server.pool_helpers import VotingPool, build_voting_pool, make_pool_app
from tests.server.sealing_helpers import Needle, StoredPrivate, scan, stored_private, unseal_all


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_environment(monkeypatch)


def _both_forms(needles: list[Needle]) -> list[Needle]:
    return needles + [Needle(f"{n.what}, in hex", n.data.hex().encode()) for n in needles]


def _private(engine: Engine) -> StoredPrivate:
    with engine.connect() as conn:
        members = conn.execute(text("SELECT member_id FROM member_details")).scalars().all()
        claims = conn.execute(text("SELECT DISTINCT claim_id FROM evidence")).scalars().all()
    return stored_private(engine, list(members), list(claims))


def _file_bytes(database: Path) -> bytes:
    return b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))


def _check_needles(private: StoredPrivate) -> list[Needle]:
    needles = private.needles()
    assert len(private.names) >= 200 and len(private.documents) >= 60
    assert {n.what.split(" ", 1)[0] for n in needles} == {"name", "ID", "phone", "document", "file"}
    return _both_forms(needles)


# --- the demo on SQLite -------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    return shared_demo(tmp_path_factory)


def test_the_demo_sqlite_file_holds_no_private_value_and_a_plaintext_copy_all(
    demo: DemoBuild, tmp_path: Path
) -> None:
    database = demo.instance / "mutualog.db"
    engine = make_engine(demo.database_url, Sealer(demo.instance))
    try:
        needles = _check_needles(_private(engine))
    finally:
        engine.dispose()
    assert scan(_file_bytes(database), needles) == []
    # The control: a copy, every value put back in plaintext.
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in database.parent.glob(database.name + "*"):
        shutil.copyfile(path, copy / path.name)
    shutil.copyfile(demo.instance / "private-data.key", copy / "private-data.key")
    engine = make_engine(f"sqlite:///{copy / database.name}", Sealer(copy))
    try:
        unseal_all(engine, Sealer(copy))
        scrub_freed(engine)
    finally:
        engine.dispose()
    raw = [n for n in needles if not n.what.endswith("in hex")]
    assert scan(_file_bytes(copy / database.name), raw) == [n.what for n in raw]


# --- the demo on PostgreSQL ---------------------------------------------------------


@pytest.fixture(scope="module")
def pg_demo(
    postgres_server: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, str]]:
    instance = tmp_path_factory.mktemp("pg-demo") / "demo"
    url = postgres_server.new_database()
    args = ["--instance", str(instance), "--database-url", url, "demo"]
    result = CliRunner().invoke(cli, [*args, "--members", "200", "--no-serve"])
    assert result.exit_code == 0, result.output
    yield instance, url
    postgres_server.drop_database(url)


def test_a_pg_dump_of_the_demo_holds_no_private_value_and_of_a_plaintext_copy_all(
    pg_demo: tuple[Path, str], postgres_server: Any
) -> None:
    instance, url = pg_demo
    engine = make_engine(url, Sealer(instance))
    try:
        needles = _check_needles(_private(engine))
        dump = postgres_server.dump(url)
        assert b"COPY public.member_details" in dump and b"COPY public.evidence" in dump
        assert scan(dump, needles) == []
        # The control: the same database with its values in plaintext (bytea
        # is dumped in hex, which the scan reads too).
        unseal_all(engine, Sealer(instance))
    finally:
        engine.dispose()
    hex_forms = [n for n in needles if n.what.endswith("in hex")]
    assert scan(postgres_server.dump(url), hex_forms) == [n.what for n in hex_forms]


# --- erasure ------------------------------------------------------------------------


@pytest.fixture
def pool(sqlite_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[tuple[Engine, VotingPool]]:
    instance = tmp_path / "instance"
    instance.mkdir()
    engine = make_engine(sqlite_url, Sealer(instance))
    upgrade(engine)
    app = make_pool_app(engine, tmp_path, clock)
    voting = build_voting_pool(app, clock)
    app.extensions["mutualog"].engine.dispose()
    yield engine, voting
    engine.dispose()


def _sealed_bytes(engine: Engine, voting: VotingPool, member: str) -> list[Needle]:
    with engine.connect() as conn:
        details = conn.execute(
            text("SELECT name, id_number, phone FROM member_details WHERE member_id = :m"),
            {"m": member},
        ).one()
        document = conn.execute(
            text("SELECT content, filename FROM evidence WHERE claim_id = :c"),
            {"c": voting.claim},
        ).one()
    values = {**dict(zip(("name", "id_number", "phone"), details, strict=True))}
    values.update(zip(("content", "filename"), document, strict=True))
    # 24 bytes of each ciphertext: its key id, nonce and first bytes.
    return [Needle(f"sealed {k}", bytes(v)[3:27]) for k, v in values.items()]


def test_an_erasure_leaves_no_sealed_bytes_in_the_sqlite_file(
    pool: tuple[Engine, VotingPool], sqlite_url: str, tmp_path: Path
) -> None:
    engine, voting = pool
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    member = voting.claimant
    needles = _sealed_bytes(engine, voting, member)
    scrub_freed(engine)
    assert scan(_file_bytes(database), needles) == [n.what for n in needles]
    control = tmp_path / "control.db"
    shutil.copyfile(database, control)
    now = datetime(2030, 1, 1, tzinfo=UTC)
    erase_evidence(engine, voting.claim, "asked by the member", None, now)
    erase_member_details(engine, member, "asked by the member", None, now)
    assert scan(_file_bytes(database), needles) == []
    # The same erasure with secure_delete off leaves them in free space.
    with sqlite3.connect(control) as conn:
        conn.execute("PRAGMA secure_delete=OFF")
        conn.execute("UPDATE evidence SET content = NULL, filename = NULL, salt = NULL")
        conn.execute("DELETE FROM member_identities WHERE member_id = ?", (member,))
        conn.execute("DELETE FROM member_details WHERE member_id = ?", (member,))
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert scan(_file_bytes(control), needles) != []
