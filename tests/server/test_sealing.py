"""Sealing the private store (server.private.sealing): the key file, values
bound to their row, column and table, a wrong or missing key refused by
name, and ``mutualog-server private rotate-key``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, text

from server.cli import main
from server.db import make_engine
from server.private.at_rest import census, reseal
from server.private.evidence import evidence_content
from server.private.key_files import new_key, replace_key_file
from server.private.members import member_details
from server.private.redacted import redacted_pages, store_redacted
from server.private.sealing import (
    PRIVATE_KEY_FILE,
    SealedDataError,
    Sealer,
    SealingKeyError,
    is_sealed,
    key_id,
    sealer_of,
)
from tests.clock import FixedClock
from tests.server.demo_helpers import clear_environment
from tests.server.pool_helpers import PDF, VotingPool, build_voting_pool, make_pool_app, sign_in


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_environment(monkeypatch)


# --- the sealer -------------------------------------------------------------------


def test_a_value_opens_only_where_it_was_sealed(tmp_path: Path) -> None:
    sealer = Sealer(tmp_path)
    sealed = sealer.seal_text("member_details", "name", "m1", "张三")
    again = sealer.seal_text("member_details", "name", "m1", "张三")
    assert is_sealed(sealed) and sealed != again  # a fresh nonce each time
    assert "张三".encode() not in sealed
    assert sealer.open_text("member_details", "name", "m1", sealed) == "张三"
    for table, column, row in [
        ("member_details", "name", "m2"),
        ("member_details", "phone", "m1"),
        ("evidence", "name", "m1"),
    ]:
        with pytest.raises(SealedDataError, match="does not open"):
            sealer.open(table, column, row, sealed)
    flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(SealedDataError, match="does not open"):
        sealer.open("member_details", "name", "m1", flipped)
    with pytest.raises(SealedDataError, match="truncated"):
        sealer.open("member_details", "name", "m1", sealed[:20])


def test_the_key_file_is_made_once_private_and_read_back(tmp_path: Path) -> None:
    sealed = Sealer(tmp_path).seal("t", "c", "r", b"data")
    path = tmp_path / PRIVATE_KEY_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    assert Sealer(tmp_path).open("t", "c", "r", sealed) == b"data"
    assert sealed[3:7] == key_id(bytes.fromhex(path.read_text().strip()))


@pytest.mark.parametrize("content", [b"", b"zz\n", b"00" * 31 + b"\n"], ids=str)
def test_a_damaged_key_file_is_a_named_error(tmp_path: Path, content: bytes) -> None:
    (tmp_path / PRIVATE_KEY_FILE).write_bytes(content)
    with pytest.raises(SealingKeyError, match="is not 32 bytes in hex"):
        Sealer(tmp_path).seal("t", "c", "r", b"data")


def test_a_value_under_a_key_the_file_lacks_is_a_named_error(tmp_path: Path) -> None:
    sealed = Sealer(tmp_path).seal("t", "c", "r", b"data")
    replace_key_file(tmp_path / PRIVATE_KEY_FILE, [new_key()], SealingKeyError, "key")
    with pytest.raises(SealingKeyError, match=f"key id {sealed[3:7].hex()}.*does not hold"):
        Sealer(tmp_path).open("t", "c", "r", sealed)


def test_an_engine_without_the_key_cannot_reach_the_private_store(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        with pytest.raises(SealingKeyError, match="without the private-data key"):
            sealer_of(engine)
    finally:
        engine.dispose()


def test_init_makes_the_data_key_with_the_instance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    instance = tmp_path / "instance"
    assert main(["--instance", str(instance), "init", "--origin", "example.org/p"]) == 0
    path = instance / PRIVATE_KEY_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    assert str(path) in capsys.readouterr().err


# --- in the pool ------------------------------------------------------------------


@pytest.fixture
def app(engine: Engine, tmp_path: Path, clock: FixedClock) -> Iterator[Flask]:
    app = make_pool_app(engine, tmp_path, clock)
    yield app
    app.extensions["mutualog"].engine.dispose()


@pytest.fixture
def voting(app: Flask, clock: FixedClock) -> VotingPool:
    return build_voting_pool(app, clock)


def test_the_stored_columns_hold_sealed_values_only(engine: Engine, voting: VotingPool) -> None:
    with engine.connect() as conn:
        details = conn.execute(text("SELECT name, id_number, phone FROM member_details")).all()
        documents = conn.execute(text("SELECT content, filename FROM evidence")).all()
    values = [bytes(v) for row in [*details, *documents] for v in row]
    assert len(values) == 3 * 7 + 2 and all(is_sealed(v) for v in values)
    assert sum(census(engine).values()) >= len(values)
    assert all(b"Person" not in v and b"%PDF" not in v and b"a.pdf" not in v for v in values)


def test_values_swapped_between_rows_do_not_open(engine: Engine, voting: VotingPool) -> None:
    a, b = list(voting.usernames)[:2]
    with engine.begin() as conn:
        name_of = {
            m: conn.execute(
                text("SELECT name FROM member_details WHERE member_id = :m"), {"m": m}
            ).scalar_one()
            for m in (a, b)
        }
        for m, other in ((a, b), (b, a)):
            conn.execute(
                text("UPDATE member_details SET name = :v WHERE member_id = :m"),
                {"v": name_of[other], "m": m},
            )
    with pytest.raises(SealedDataError, match=rf"member_details\.name of row {a}"):
        member_details(engine, a)
    with engine.begin() as conn:  # a document's bytes in another column
        conn.execute(text("UPDATE evidence SET filename = content"))
    with pytest.raises(SealedDataError, match=r"evidence\.filename"):
        evidence_content(engine, voting.claim, 0)


def test_redacted_pages_are_sealed_and_bound_to_their_copy(
    engine: Engine, voting: VotingPool, clock: FixedClock
) -> None:
    pages = [b"\x89PNG\r\n\x1a\n page one", b"\x89PNG\r\n\x1a\n page two"]
    first = store_redacted(engine, voting.claim, 0, pages, clock())
    with engine.connect() as conn:
        stored = bytes(
            conn.execute(
                text("SELECT pages FROM redacted_copies WHERE commitment = :c"), {"c": first}
            ).scalar_one()
        )
    assert is_sealed(stored) and b"page one" not in stored
    opened = redacted_pages(engine, voting.claim, 0)
    assert opened is not None and opened.pages == pages
    other = store_redacted(engine, "e" * 32, 0, pages, clock())
    with engine.begin() as conn:  # the first copy's pages into the other's row
        conn.execute(
            text("UPDATE redacted_copies SET pages = :p WHERE commitment = :c"),
            {"p": stored, "c": other},
        )
    with pytest.raises(SealedDataError, match=r"redacted_copies\.pages"):
        redacted_pages(engine, "e" * 32, 0)


def test_a_wrong_key_is_503_on_the_pages_never_garbage(
    app: Flask, voting: VotingPool, tmp_path: Path
) -> None:
    claimant = sign_in(app, voting.usernames[voting.claimant])
    replace_key_file(tmp_path / "instance" / PRIVATE_KEY_FILE, [new_key()], SealingKeyError, "k")
    response = claimant.get(f"/claims/{voting.claim}/evidence/1")
    assert response.status_code == 503
    assert PDF not in response.data


# --- rotation ---------------------------------------------------------------------


def _rotate(engine: Engine, instance: Path) -> int:
    url = engine.url.render_as_string(hide_password=False)
    return main(["--instance", str(instance), "--database-url", url, "private", "rotate-key"])


def test_rotation_seals_everything_again_under_a_new_key_and_drops_the_old(
    app: Flask, engine: Engine, voting: VotingPool, tmp_path: Path
) -> None:
    instance = tmp_path / "instance"
    path = instance / PRIVATE_KEY_FILE
    old = path.read_bytes()
    old_id = key_id(bytes.fromhex(old.decode().strip())).hex()
    total = sum(census(engine).values())
    assert census(engine) == {old_id: total} and total >= 23
    before = member_details(engine, voting.claimant)
    assert _rotate(engine, instance) == 0
    new = bytes.fromhex(path.read_text().strip())
    assert path.read_bytes() != old and path.stat().st_mode & 0o777 == 0o600
    assert census(engine) == {key_id(new).hex(): total}
    # The server running all along follows the new file.
    assert member_details(engine, voting.claimant) == before
    client = sign_in(app, voting.usernames[voting.claimant])
    assert client.get(f"/claims/{voting.claim}/evidence/1").data == PDF
    # A backup sealed under the old key is of no use with the new one.
    with pytest.raises(SealingKeyError):
        Sealer(instance).open("t", "c", "r", b"\x00S\x01" + bytes.fromhex(old_id) + bytes(40))


def test_an_interrupted_rotation_is_finished_not_restarted(
    engine: Engine, voting: VotingPool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = tmp_path / "instance"
    path = instance / PRIVATE_KEY_FILE
    old = bytes.fromhex(path.read_text().strip())
    total = sum(census(engine).values())
    fresh = new_key()
    replace_key_file(path, [fresh, old], SealingKeyError, "k")

    class KilledError(Exception):
        pass

    def stop(_table: str, _done: int) -> None:
        raise KilledError

    monkeypatch.setattr("server.private.at_rest.BATCH", 3)
    with pytest.raises(KilledError):
        reseal(engine, sealer_of(engine), stop)
    assert census(engine) == {key_id(fresh).hex(): 9, key_id(old).hex(): total - 9}
    assert _rotate(engine, instance) == 0
    assert bytes.fromhex(path.read_text().strip()) == fresh
    assert census(engine) == {key_id(fresh).hex(): total}


def test_rotation_without_a_key_file_is_exit_2(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    instance = tmp_path / "instance"
    assert not (instance / PRIVATE_KEY_FILE).exists()
    assert _rotate(engine, instance) == 2
    assert "no data key to rotate" in capsys.readouterr().err
    assert not os.path.exists(instance / PRIVATE_KEY_FILE)
