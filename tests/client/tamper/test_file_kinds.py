"""The tamper suite: damaged or doctored files, not re-signed.

A tile, a bundle, the checkpoint or the tar changed after the fact: the
snapshot rewritten member by member, or an exported folder served by a
plain static web server.  ``mutualog audit`` names the check and the path.
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.client.harness import Mutualog, Servers
from tests.client.tamper.honest import Demo, json_report
from tests.client.tampering import rewrite_snapshot, snapshot_members
from verifiable.log.tiles import decode_bundle, encode_bundle

Members = list[tuple[str, bytes]]


def _change(name: str, change: Callable[[bytes], bytes]) -> Callable[[Members], Members]:
    def apply(members: Members) -> Members:
        assert name in dict(members), name
        return [(n, change(data) if n == name else data) for n, data in members]

    return apply


def _change_level_1(change: Callable[[bytes], bytes]) -> Callable[[Members], Members]:
    """The log's one level-1 tile changed (partial or full, as the size gives)."""

    def apply(members: Members) -> Members:
        (name,) = [n for n, _ in members if n.startswith("tile/1/")]
        return _change(name, change)(members)

    return apply


def _flip(offset: int) -> Callable[[bytes], bytes]:
    def flip(data: bytes) -> bytes:
        out = bytearray(data)
        out[offset] ^= 1
        return bytes(out)

    return flip


def _resign_with_another_key(note: bytes) -> bytes:
    from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
    from verifiable.log.note import Ed25519Signer, Note

    checkpoint = Checkpoint.from_text(Note.from_bytes(note).text)
    return sign_checkpoint(checkpoint, Ed25519Signer(checkpoint.origin, bytes(32)))


def _other_size(note: bytes) -> bytes:
    lines = note.split(b"\n")
    lines[1] = str(int(lines[1]) - 1).encode()
    return b"\n".join(lines)


def _drop_last_entry(bundle: bytes) -> bytes:
    entries = decode_bundle(bundle)
    return encode_bundle(entries[:-1])


def _without(name: str) -> Callable[[Members], Members]:
    return lambda members: [(n, d) for n, d in members if n != name]


def _with_extra(members: Members) -> Members:
    return [*members, ("tile/0/999", bytes(32 * 256))]


@dataclass(frozen=True)
class FileKind:
    id: str
    change: Callable[[Members], Members]
    check: str
    detail: str


FILE_KINDS = [
    FileKind(
        "checkpoint-signed-by-another-key",
        _change("checkpoint", _resign_with_another_key),
        "checkpoint",
        "no signature by a known key",
    ),
    FileKind(
        "checkpoint-text-altered",
        _change("checkpoint", _other_size),
        "checkpoint",
        "Ed25519 signature does not verify",
    ),
    FileKind(
        "hash-tile-altered", _change("tile/0/003", _flip(40)), "tiles and entries", "tile/0/003"
    ),
    FileKind(
        "upper-tile-altered",
        _change_level_1(_flip(0)),
        "tiles and entries",
        "tile/1/000",
    ),
    FileKind(
        "bundle-entry-altered",
        _change("tile/entries/003", _flip(100)),
        "tiles and entries",
        "tile/entries/003",
    ),
    FileKind(
        "bundle-entry-dropped",
        _change("tile/entries/004", _drop_last_entry),
        "tiles and entries",
        "tile/entries/004",
    ),
    FileKind("tile-missing", _without("tile/0/005"), "tiles and entries", "tile/0/005: missing"),
    FileKind("extra-file-in-snapshot", _with_extra, "snapshot layout", "'tile/0/999'"),
]


@pytest.mark.parametrize("kind", FILE_KINDS, ids=lambda k: k.id)
def test_audit_catches_a_doctored_snapshot(
    kind: FileKind,
    demo: Demo,
    tmp_path: Path,
    mutualog: Mutualog,
    request: pytest.FixtureRequest,
) -> None:
    doctored = rewrite_snapshot(demo.snapshot, tmp_path / "doctored.tar", kind.change)
    request.getfixturevalue("offline")
    result = mutualog("audit", doctored, "--key", demo.instance.vkey, "--json")
    assert result.code == 1, result.err
    failed = [c for c in json_report(result)["checks"] if not c["ok"]]
    assert [c["name"] for c in failed] == [kind.check]
    assert kind.detail in failed[0]["detail"]


def test_audit_of_a_truncated_snapshot_names_what_is_missing(
    demo: Demo, tmp_path: Path, mutualog: Mutualog, request: pytest.FixtureRequest
) -> None:
    """A snapshot cut short is exit 1, not 2: its signed checkpoint names a
    tree the file does not hold, as for a missing tile (docs/client.md).  Cut
    inside a member's data, that member is refused by path; cut between
    members, the first missing one is.  Only a cut inside the first header,
    where not even the checkpoint can be read, is "cannot verify"."""
    data = demo.snapshot.read_bytes()
    request.getfixturevalue("offline")
    names = [n for n, _ in snapshot_members(demo.snapshot)]
    cut_bundle = tmp_path / "cut-in-a-bundle.tar"
    cut_bundle.write_bytes(data[: len(data) - 12_000])
    result = mutualog("audit", cut_bundle, "--key", demo.instance.vkey, "--json")
    assert result.code == 1, result.err
    (failed,) = [c for c in json_report(result)["checks"] if not c["ok"]]
    assert failed["name"] == "tiles and entries"
    assert names[-1] in failed["detail"] and "remain" in failed["detail"]

    # Cut exactly where a member in the middle begins: its header is gone.
    with tarfile.open(demo.snapshot) as tar:
        middle = tar.getmembers()[len(names) // 2].offset
    half = tmp_path / "half.tar"
    half.write_bytes(data[:middle])
    result = mutualog("audit", half, "--key", demo.instance.vkey, "--json")
    assert result.code == 1
    (failed,) = [c for c in json_report(result)["checks"] if not c["ok"]]
    assert failed["name"] == "tiles and entries" and "missing" in failed["detail"]

    header = tmp_path / "header.tar"
    header.write_bytes(data[:300])
    result = mutualog("audit", header, "--key", demo.instance.vkey)
    assert result.code == 2 and "not a readable snapshot tar" in result.err


def test_audit_from_a_url_catches_an_altered_tile(
    demo: Demo, servers: Servers, tmp_path: Path, mutualog: Mutualog
) -> None:
    """The same check over HTTP: exported tiles, one of them altered, served
    by a plain static web server."""
    folder = demo.instance.export(tmp_path / "export")
    tile = folder / "tile" / "entries" / "002"
    tile.write_bytes(_flip(200)(tile.read_bytes()))
    served = servers.static(folder)
    try:
        result = mutualog("audit", served.url, "--key", demo.instance.vkey, "--json")
    finally:
        servers.stop(served)
    assert result.code == 1
    (failed,) = [c for c in json_report(result)["checks"] if not c["ok"]]
    assert failed["name"] == "tiles and entries" and "tile/entries/002" in failed["detail"]
