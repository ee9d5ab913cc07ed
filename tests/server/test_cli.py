"""``mutualog-server``, run in-process through ``main(argv)``: every command,
and bad input answered with a one-line message and exit status 2, never a
traceback."""

from __future__ import annotations

import io
import json
import re
import stat
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine

from server.cli import main
from server.db import make_engine
from server.keys import create_key_file, load_signer
from server.sequencer import Sequencer
from server.snapshot import write_snapshot
from server.storage import LogStore
from verifiable.log.bodies import AgeBand, MemberJoined
from verifiable.log.checkpoint import open_checkpoint
from verifiable.log.note import Ed25519Signer, Ed25519Verifier
from verifiable.log.tiledlog import mirror_tiles
from verifiable.log.tiles import TileCoord

ORIGIN = "example.org/mutualog/cli-test"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "MUTUALOG_INSTANCE",
        "MUTUALOG_DATABASE_URL",
        "MUTUALOG_ORIGIN",
        "MUTUALOG_KEY_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    # Nothing may land in the working directory by default.
    monkeypatch.chdir(tmp_path)


class Cli:
    """Runs main() for one instance folder and database, and reads its output."""

    def __init__(self, instance: Path, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.instance = instance
        self.url = url
        self.capsys = capsys
        self.out = self.err = ""

    def __call__(self, *args: str) -> int:
        code = main(["--instance", str(self.instance), "--database-url", self.url, *args])
        captured = self.capsys.readouterr()
        self.out, self.err = captured.out, captured.err
        assert "Traceback" not in self.out + self.err
        return code

    def store(self) -> Iterator[LogStore]:
        engine = make_engine(self.url)
        try:
            yield LogStore(engine)
        finally:
            engine.dispose()

    def state(self) -> tuple[int, bytes | None, int]:
        for store in self.store():
            return store.size(), store.latest_checkpoint(), len(store.entries(0, 10**6))
        raise AssertionError("unreachable")


@pytest.fixture
def cli(tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path / "instance", database_url, capsys)


@pytest.fixture
def ready(cli: Cli) -> Cli:
    assert cli("init", "--origin", ORIGIN) == 0
    return cli


@pytest.fixture
def other_url(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[str]:
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'other.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    url = server.new_database()
    yield url
    server.drop_database(url)


def jsonl(count: int, start: int = 0) -> str:
    return "".join(
        json.dumps({"type": "member.joined", "body": {"member": f"{i:032x}", "age_band": "18-39"}})
        + "\n"
        for i in range(start, start + count)
    )


# --- init ---------------------------------------------------------------------------


def test_init_creates_the_instance_key_and_database(cli: Cli) -> None:
    assert cli("init", "--origin", ORIGIN) == 0
    vkey = cli.out.strip()
    verifier = Ed25519Verifier.from_vkey(vkey)
    assert verifier.name == ORIGIN
    key = cli.instance / "log.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(cli.instance.stat().st_mode) == 0o700
    assert load_signer(key).verifier() == verifier
    assert "PRIVATE" not in cli.out + cli.err
    size, note, _ = cli.state()
    assert size == 0
    assert note is not None
    assert open_checkpoint(note, verifier, ORIGIN).checkpoint.size == 0


def test_init_refuses_to_overwrite_a_key(ready: Cli) -> None:
    key = (ready.instance / "log.key").read_bytes()
    before = ready.state()
    assert ready("init", "--origin", ORIGIN) == 2
    assert "already exists" in ready.err
    assert ready("init", "--origin", "example.org/another") == 2
    assert (ready.instance / "log.key").read_bytes() == key
    assert ready.state() == before


def test_init_takes_the_origin_from_the_environment(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MUTUALOG_ORIGIN", ORIGIN)
    assert cli("init") == 0
    assert Ed25519Verifier.from_vkey(cli.out.strip()).name == ORIGIN


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give the log's origin"),
        (("--origin", ""), "give the log's origin"),
        (("--origin", "has space"), "MUTUALOG_ORIGIN"),
        (("--origin", "a+b"), "MUTUALOG_ORIGIN"),
        (("--origin", "tab\there"), "MUTUALOG_ORIGIN"),
        (("--origin", ORIGIN, "--bogus"), "No such option"),
    ],
    ids=["none", "empty", "space", "plus", "control", "unknown-option"],
)
def test_init_refuses_a_bad_origin(cli: Cli, args: tuple[str, ...], message: str) -> None:
    assert cli("init", *args) == 2
    assert message in cli.err
    assert not (cli.instance / "log.key").exists()


def test_init_refuses_a_database_that_holds_a_log(
    ready: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = Cli(tmp_path / "elsewhere", ready.url, capsys)
    assert elsewhere("init", "--origin", ORIGIN) == 2
    assert "already holds a log" in elsewhere.err
    assert not (elsewhere.instance / "log.key").exists()


# --- append -------------------------------------------------------------------------


def test_append(ready: Cli, tmp_path: Path) -> None:
    path = tmp_path / "entries.jsonl"
    path.write_text(jsonl(3) + "\n")
    assert ready("append", str(path)) == 0
    assert ready.out.strip() == "appended 3 entries (seq 0 to 2); tree size 3"
    path.write_text(jsonl(1500, start=3))
    assert ready("append", str(path)) == 0
    assert "seq 3 to 1502" in ready.out
    assert ready.state()[0] == 1503


def test_append_from_stdin(ready: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(jsonl(2).encode())))
    assert ready("append", "-") == 0
    assert ready.state()[0] == 2


GOOD = json.loads(jsonl(1))

BAD_LINES = [
    ("not-json", "{not json", "not JSON"),
    ("array", "[1, 2]", 'exactly "type" and "body"'),
    ("string", '"member.joined"', 'exactly "type" and "body"'),
    ("missing-body", json.dumps({"type": "member.joined"}), 'exactly "type" and "body"'),
    ("extra-key", json.dumps({**GOOD, "seq": 5}), 'exactly "type" and "body"'),
    ("duplicate-key", '{"type": "member.joined", "type": "x", "body": {}}', "duplicate key"),
    ("unknown-type", json.dumps({"type": "member.vanished", "body": {}}), "unknown entry type"),
    ("type-not-string", json.dumps({"type": 7, "body": {}}), "unknown entry type"),
    (
        "float",
        '{"type": "member.left", "body": {"member": "'
        + "0" * 32
        + '", "reason": "voluntary", "refund": 1.5}}',
        "floats",
    ),
    ("nan", '{"type": "member.left", "body": {"refund": NaN}}', "not JSON"),
    (
        "bad-member-id",
        json.dumps({"type": "member.joined", "body": {"member": "alice", "age_band": "18-39"}}),
        "member",
    ),
    (
        "bad-age-band",
        json.dumps({"type": "member.joined", "body": {"member": "0" * 32, "age_band": "60+"}}),
        "age_band",
    ),
    ("missing-field", json.dumps({"type": "member.joined", "body": {"member": "0" * 32}}), "body"),
    (
        "unknown-field",
        json.dumps({"type": "member.joined", "body": {**GOOD["body"], "name": "Li"}}),
        "body",
    ),
    (
        "huge-int",
        '{"type": "member.left", "body": {"member": "'
        + "0" * 32
        + '", "reason": "voluntary", "refund": '
        + "9" * 5000
        + "}}",
        "line 2",
    ),
    ("deep", "[" * 100_000 + "]" * 100_000, "not JSON"),
    ("sql", json.dumps({"type": "'; DROP TABLE entries; --", "body": {}}), "unknown entry type"),
]


@pytest.mark.parametrize(
    ("line", "message"), [b[1:] for b in BAD_LINES], ids=[b[0] for b in BAD_LINES]
)
def test_append_refuses_a_bad_line_and_appends_nothing(
    ready: Cli, tmp_path: Path, line: str, message: str
) -> None:
    before = ready.state()
    path = tmp_path / "entries.jsonl"
    # A good line first: nothing is appended unless every line is good.
    path.write_text(jsonl(1) + line + "\n" + jsonl(1, start=1))
    assert ready("append", str(path)) == 2
    assert message in ready.err
    assert "line 2" in ready.err
    assert len(ready.err.strip().splitlines()) == 1
    assert ready.state() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "no entries"), (b"\n\n  \n", "no entries"), (b"\xff\xfe{}\n", "not UTF-8")],
    ids=["empty", "blank", "not-utf8"],
)
def test_append_refuses_empty_or_undecodable_files(
    ready: Cli, tmp_path: Path, content: bytes, message: str
) -> None:
    before = ready.state()
    path = tmp_path / "entries.jsonl"
    path.write_bytes(content)
    assert ready("append", str(path)) == 2
    assert message in ready.err
    assert ready.state() == before


def test_append_refuses_a_missing_file_or_an_uninitialized_instance(
    cli: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "entries.jsonl"
    path.write_text(jsonl(1))
    assert cli("append", str(path)) == 2
    assert "does not exist" in cli.err
    assert cli("init", "--origin", ORIGIN) == 0
    assert cli("append", str(tmp_path / "missing.jsonl")) == 2
    assert "missing.jsonl" in cli.err


# --- snapshot, restore, export ------------------------------------------------------------


@pytest.fixture
def grown(ready: Cli, tmp_path: Path) -> Cli:
    path = tmp_path / "grow.jsonl"
    path.write_text(jsonl(300))
    assert ready("append", str(path)) == 0
    return ready


def _snapshot_of(cli: Cli) -> bytes:
    out = io.BytesIO()
    for store in cli.store():
        write_snapshot(store, out)
    return out.getvalue()


def test_snapshot_and_restore(
    grown: Cli, tmp_path: Path, other_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tar = tmp_path / "out" / "log.tar"
    tar.parent.mkdir()
    assert grown("snapshot", str(tar)) == 0
    assert "tree size 300" in grown.err
    assert tar.read_bytes() == _snapshot_of(grown)
    assert [p.name for p in tar.parent.iterdir()] == ["log.tar"]

    # Disaster recovery: the key from the backup, a new empty database.
    restored = Cli(tmp_path / "restored", other_url, capsys)
    restored.instance.mkdir()
    (restored.instance / "log.key").write_bytes((grown.instance / "log.key").read_bytes())
    assert restored("restore", str(tar)) == 0
    assert "restored 300 entries" in restored.out
    assert _snapshot_of(restored) == tar.read_bytes()
    assert restored("restore", str(tar)) == 2
    assert "already holds a log of size 300" in restored.err


def test_snapshot_to_stdout(grown: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    sink = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(sink))
    assert (
        main(["--instance", str(grown.instance), "--database-url", grown.url, "snapshot", "-"]) == 0
    )
    assert sink.getvalue() == _snapshot_of(grown)


def test_snapshot_into_a_missing_folder_fails_cleanly(grown: Cli, tmp_path: Path) -> None:
    assert grown("snapshot", str(tmp_path / "no" / "such" / "log.tar")) == 2
    assert "No such file or directory" in grown.err


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d[: len(d) // 2], "refused|truncated|ends before|end of data"),
        (lambda d: d[:600] + bytes([d[600] ^ 1]) + d[601:], "signature"),
        (lambda d: b"garbage", "not a readable tar"),
    ],
    ids=["truncated", "note-byte", "garbage"],
)
def test_restore_refuses_a_tampered_snapshot(
    grown: Cli,
    tmp_path: Path,
    other_url: str,
    capsys: pytest.CaptureFixture[str],
    edit: Callable[[bytes], bytes],
    message: str,
) -> None:
    tar = tmp_path / "bad.tar"
    tar.write_bytes(edit(_snapshot_of(grown)))
    restored = Cli(tmp_path / "restored", other_url, capsys)
    restored.instance.mkdir()
    (restored.instance / "log.key").write_bytes((grown.instance / "log.key").read_bytes())
    assert restored("restore", str(tar)) == 2
    assert len(restored.err.strip().splitlines()) == 1
    assert re.search(message, restored.err), restored.err
    assert restored.state() == (0, None, 0)


def test_restore_needs_the_key_and_the_file(
    grown: Cli, tmp_path: Path, other_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tar = tmp_path / "log.tar"
    assert grown("snapshot", str(tar)) == 0
    keyless = Cli(tmp_path / "keyless", other_url, capsys)
    assert keyless("restore", str(tar)) == 2
    assert "no log key" in keyless.err
    assert grown("restore", str(tmp_path / "missing.tar")) == 2
    assert "no such file" in grown.err
    assert grown("restore", str(tmp_path)) == 2


def test_export_tiles(grown: Cli, tmp_path: Path) -> None:
    out = tmp_path / "public"
    assert grown("export-tiles", str(out)) == 0
    assert "exported tree size 300" in grown.out
    signer = load_signer(grown.instance / "log.key")
    note = (out / "checkpoint").read_bytes()
    checkpoint = open_checkpoint(note, signer.verifier(), ORIGIN).checkpoint

    def fetch(tile: TileCoord) -> bytes | None:
        path = out / tile.path()
        return path.read_bytes() if path.is_file() else None

    assert len(list(mirror_tiles(checkpoint.size, checkpoint.root_hash, fetch))) == 300
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    assert grown("export-tiles", str(not_a_folder)) == 2


# --- serve and the rest -------------------------------------------------------------------


def test_serve_runs_the_app_on_loopback_by_default(
    ready: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []

    def fake_run(app: Flask, **kwargs: Any) -> None:
        calls.append(kwargs)
        assert app.test_client().get("/checkpoint").status_code == 200

    monkeypatch.setattr(Flask, "run", fake_run)
    assert ready("serve") == 0
    assert ready("serve", "--host", "::1", "--port", "9000") == 0
    assert calls == [{"host": "127.0.0.1", "port": 8000}, {"host": "::1", "port": 9000}]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("serve", "--port", "0"), "0 is not in the range"),
        (("serve", "--port", "65536"), "not in the range"),
        (("serve", "--port", "http"), "not a valid integer"),
        (("bogus",), "No such command"),
        (("append",), "Missing argument"),
        (("snapshot",), "Missing argument"),
        (("restore", "a", "b"), "unexpected extra argument"),
    ],
    ids=[
        "port-0",
        "port-too-big",
        "port-not-number",
        "unknown-command",
        "append-no-file",
        "snapshot-no-file",
        "restore-two-files",
    ],
)
def test_usage_errors_exit_2(ready: Cli, args: tuple[str, ...], message: str) -> None:
    assert ready(*args) == 2
    assert message in ready.err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("init", "serve", "snapshot", "restore", "export-tiles", "append"):
        assert command in out


def test_database_url_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = Cli(tmp_path / "i", "mysql://user:secret@localhost/db", capsys)
    assert bad("init", "--origin", ORIGIN) == 2
    assert "not supported" in bad.err
    assert "secret" not in bad.err
    down = Cli(tmp_path / "j", "postgresql+psycopg://user:secret@127.0.0.1:1/db", capsys)
    assert down("init", "--origin", ORIGIN) == 1
    assert "database failure" in down.err
    assert "secret" not in down.err


def test_an_instance_whose_log_was_made_elsewhere(
    engine: Engine,
    database_url: str,
    signer: Ed25519Signer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    Sequencer(engine, signer, signer.name, lambda: datetime.now(UTC)).append(
        [("member.joined", MemberJoined(member="0" * 32, age_band=AgeBand.FROM_18_TO_39))]
    )
    cli = Cli(tmp_path / "inst", database_url, capsys)
    cli.instance.mkdir()
    create_key_file(cli.instance / "log.key", signer.name, signer.seed)
    assert cli("export-tiles", str(tmp_path / "public")) == 0
    assert (tmp_path / "public" / "tile" / "entries" / "000.p" / "1").is_file()
    # The key's name is the origin; a configured origin must agree.
    assert (
        main(["--instance", str(cli.instance), "--database-url", database_url, "append", "-"]) == 2
    )
