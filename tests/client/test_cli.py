"""The ``mutualog audit`` command, run in-process with the network blocked."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from client.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "client" / "examples" / "example-log.tar"
VKEY = (ROOT / "client" / "examples" / "example-log.vkey").read_text().strip()

pytestmark = pytest.mark.usefixtures("offline")


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        out = {}
        for m in tar.getmembers():
            handle = tar.extractfile(m)
            assert handle is not None
            out[m.name] = handle.read()
        return out


def _write(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_example_verifies(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--example"]) == 0
    out = capsys.readouterr().out
    assert "VERIFIED" in out and "NOT VERIFIED" not in out
    assert "301 entries" in out


def test_audit_with_explicit_key_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(EXAMPLE), "--key", VKEY, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["verified"] is True
    assert report["size"] == 301 and report["entries"] == 301
    assert [c["name"] for c in report["checks"]] == [
        "checkpoint",
        "tiles and entries",
        "snapshot layout",
    ]


def test_exported_folder_verifies(tmp_path: Path) -> None:
    for name, data in _members(EXAMPLE).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    assert main(["audit", str(tmp_path), "--key", VKEY]) == 0


@pytest.mark.parametrize("name", sorted(_members(EXAMPLE)))
def test_every_single_byte_change_in_any_file_fails(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    members = _members(EXAMPLE)
    data = bytearray(members[name])
    # Three positions per file: first, middle and last byte.
    for position in {0, len(data) // 2, len(data) - 1}:
        changed = bytearray(data)
        changed[position] ^= 0x01
        tampered = _write(tmp_path / "t.tar", {**members, name: bytes(changed)})
        assert main(["audit", str(tampered), "--key", VKEY]) == 1, (name, position)
        assert "NOT VERIFIED" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("drop-bundle", "tile/entries/001.p/45"),
        ("drop-tile", "tile/0/000"),
        ("extra-file", "not part of the log"),
        ("other-key", "known keys: example.org/mutualog/example+"),
    ],
)
def test_layout_and_key_failures(
    tmp_path: Path, edit: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    members = _members(EXAMPLE)
    key = VKEY
    if edit == "drop-bundle":
        del members["tile/entries/001.p/45"]
    elif edit == "drop-tile":
        del members["tile/0/000"]
    elif edit == "extra-file":
        members["tile/entries/002"] = b"junk"
    elif edit == "other-key":
        from verifiable.log.note import Ed25519Signer

        key = Ed25519Signer("example.org/mutualog/example", bytes(32)).verifier().to_vkey()
    tampered = _write(tmp_path / "t.tar", members)
    assert main(["audit", str(tampered), "--key", key]) == 1
    assert message in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["audit"], "give SOURCE and --key"),
        (["audit", str(EXAMPLE)], "give SOURCE and --key"),
        (["audit", str(EXAMPLE), "--key", "not-a-key"], "--key"),
        (["audit", "--example", "--key", VKEY], "--example takes no SOURCE"),
        (["audit", "/nonexistent/snapshot.tar", "--key", VKEY], "no such file"),
        (["frobnicate"], "No such command"),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "content",
    [b"", b"not a tar at all", EXAMPLE.read_bytes()[:700]],
    ids=["empty", "garbage", "truncated"],
)
def test_unreadable_snapshots(
    tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.tar"
    path.write_bytes(content)
    code = main(["audit", str(path), "--key", VKEY])
    captured = capsys.readouterr()
    assert code in (1, 2)
    assert "Traceback" not in captured.out + captured.err
    assert "VERIFIED" not in captured.out.replace("NOT VERIFIED", "")


def test_offline_fixture_blocks_sockets() -> None:
    import socket

    with pytest.raises(AssertionError, match="opened a socket"):
        socket.socket()
