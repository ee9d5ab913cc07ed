"""Witness mode (``mutualog witness keygen`` / ``cosign``) and the k-of-n
witness policy of ``sync``, against real servers."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from client.state import StateDir
from client.witness import load_witness_key
from client.witness_store import witness_id
from tests.client.witness_helpers import held_rows
from verifiable.log.checkpoint import add_cosignatures, cosign_checkpoint, open_checkpoint
from verifiable.log.cosignature import CosignatureVerifier
from verifiable.log.note import Ed25519Verifier, Note, NoteSignature

if TYPE_CHECKING:
    from tests.client.harness import LogInstance, MakeLog, Mutualog, Served, Servers

ORIGIN = "example.org/mutualog/test"


def _keygen(mutualog: Mutualog, folder: Path, name: str) -> tuple[Path, str]:
    key_file = folder / f"{name}.key"
    result = mutualog("witness", "keygen", name, "--out", key_file)
    assert result.code == 0, result.err
    return key_file, result.out.strip()


def _witness(
    mutualog: Mutualog, folder: Path, name: str, log: LogInstance
) -> tuple[Path, Path, str]:
    """A witness with its own state folder, which pins ``log``."""
    state = folder / f"{name}-state"
    key_file, vkey = _keygen(mutualog, folder, name)
    assert mutualog("--state", state, "trust", ORIGIN, log.vkey).code == 0
    return state, key_file, vkey


def _cosign(mutualog: Mutualog, state: Path, key_file: Path, url: str) -> bytes:
    result = mutualog("--state", state, "witness", "cosign", url, "--key", key_file)
    assert result.code == 0, result.out + result.err
    return result.out.encode()


def test_keygen_writes_a_private_key_file(mutualog: Mutualog, tmp_path: Path, state: Path) -> None:
    key_file, vkey = _keygen(mutualog, tmp_path, "witness.example/w1")
    assert CosignatureVerifier.from_vkey(vkey).name == "witness.example/w1"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().startswith("PRIVATE+KEY+witness.example/w1+")
    again = mutualog("witness", "keygen", "witness.example/w1", "--out", key_file)
    assert again.code == 2 and "refusing to overwrite" in again.err

    default = mutualog("witness", "keygen", "w2")
    assert default.code == 0
    assert (state / "witness-keys" / "w2.key").is_file()
    assert "w2.key" in default.err


def test_cosign_prints_the_checkpoint_cosigned(
    served_log: tuple[LogInstance, Served], mutualog: Mutualog, tmp_path: Path
) -> None:
    log, served = served_log
    state, key_file, vkey = _witness(mutualog, tmp_path, "w1", log)
    before = int(time.time())
    note = _cosign(mutualog, state, key_file, served.url)
    witness = CosignatureVerifier.from_vkey(vkey)
    opened = open_checkpoint(note, Ed25519Verifier.from_vkey(log.vkey), ORIGIN, [witness])
    (cosignature,) = opened.cosignatures
    assert cosignature.name == "w1"
    assert before <= cosignature.timestamp <= int(time.time())
    assert opened.checkpoint.size == 600
    # Kept in the witness's database, which `witness serve` shares.
    ((origin, who, size, _, kept, timestamp),) = held_rows(state)
    assert (origin, who, size, timestamp) == (
        ORIGIN,
        witness_id("w1", witness.key_id),
        600,
        cosignature.timestamp,
    )
    assert kept == note


def test_cosign_migrates_the_file_of_an_earlier_version(
    make_log: MakeLog, servers: Servers, mutualog: Mutualog, tmp_path: Path
) -> None:
    """A checkpoint cosigned before the database existed, kept in
    ``logs/<origin>/witness/<key>.checkpoint``, is where the witness goes on
    from: a fork of it is refused, growth from it is cosigned."""
    log = make_log(300)
    served = servers.serve(log)
    state, key_file, vkey = _witness(mutualog, tmp_path, "w1", log)
    note = _cosign(mutualog, state, key_file, served.url)
    witness = CosignatureVerifier.from_vkey(vkey)
    (state / "witness.sqlite").unlink()
    StateDir(state).save_cosigned(ORIGIN, "w1", witness.key_id, note)
    log.append(10)
    grown = mutualog("--state", state, "witness", "cosign", served.url, "--key", key_file)
    assert grown.code == 0, grown.err
    assert "[ok  ] consistency: size 300 -> 310: proven with" in grown.err
    assert held_rows(state)[0][2] == 310
    servers.stop(served)


def test_cosign_follows_growth_and_refuses_a_fork(
    make_log: MakeLog, servers: Servers, mutualog: Mutualog, tmp_path: Path
) -> None:
    honest = make_log(300)
    other = make_log(same_key_as=honest, restore=honest.snapshot(tmp_path / "common.tar"))
    honest.append(20, tag="honest")
    other.append(400, tag="other")
    served_honest, served_other = servers.serve(honest), servers.serve(other)
    state, key_file, _ = _witness(mutualog, tmp_path, "w1", honest)
    _cosign(mutualog, state, key_file, served_honest.url)
    honest.append(300)
    grown = mutualog("--state", state, "witness", "cosign", served_honest.url, "--key", key_file)
    assert grown.code == 0
    assert "[ok  ] consistency: size 320 -> 620: proven with" in grown.err

    forked = mutualog("--state", state, "witness", "cosign", served_other.url, "--key", key_file)
    assert forked.code == 1
    assert forked.out == ""  # nothing to publish
    assert "[FAIL] consistency: the log forked" in forked.err and "NOT COSIGNED" in forked.err
    (evidence,) = (state / "logs").glob("*/evidence/*-witness-fork")
    assert (evidence / "last-cosigned-checkpoint").is_file()
    assert json.loads((evidence / "evidence.json").read_text())["witness"].startswith("w1+")
    servers.stop(served_honest)
    servers.stop(served_other)


def _cosignature_line(note: bytes, name: str) -> NoteSignature:
    (line,) = [s for s in Note.from_bytes(note).signatures if s.name == name]
    return line


def test_sync_needs_k_of_n_witnesses(
    make_log: MakeLog, servers: Servers, mutualog: Mutualog, tmp_path: Path
) -> None:
    log = make_log(300)
    served = servers.serve(log)
    witnesses = [_witness(mutualog, tmp_path, f"w{i}", log) for i in (1, 2, 3)]
    notes = [_cosign(mutualog, state, key, served.url) for state, key, _ in witnesses]
    plain = Note.from_bytes(notes[0])
    plain = Note(plain.text, plain.signatures[:1])  # the log's own signature only
    lines = [_cosignature_line(n, f"w{i}") for i, n in enumerate(notes, start=1)]
    bad = NoteSignature(
        lines[1].name,
        lines[1].key_id,
        lines[1].signature[:-1] + bytes([lines[1].signature[-1] ^ 1]),
    )

    # The member reads the log from a static mirror that carries the
    # cosigned checkpoint, as a CDN in front of the log would.
    site = log.export(tmp_path / "site")
    mirror = servers.static(site)
    trust = ["trust", ORIGIN, log.vkey, "--witnesses-required", "2"]
    for i, (_, _, vkey) in enumerate(witnesses, start=1):
        trust += ["--witness", f"w{i}", vkey]
    assert mutualog(*trust).code == 0

    def sync_with(cosignatures: list[NoteSignature]) -> tuple[int, str]:
        (site / "checkpoint").write_bytes(add_cosignatures(plain.to_bytes(), cosignatures))
        result = mutualog("sync", mirror.url)
        return result.code, result.out

    code, out = sync_with([])
    assert code == 1 and "[FAIL] witnesses: 0 of 3 trusted witnesses cosigned; 2 required" in out
    code, out = sync_with(lines[:1])
    assert code == 1 and "[FAIL] witnesses: 1 of 3 trusted witnesses cosigned (w1)" in out
    code, out = sync_with([lines[0], bad])
    assert code == 1 and "[FAIL] signature: note: signature by known key w2+" in out
    code, out = sync_with(lines[:2])
    assert code == 0 and "[ok  ] witnesses: 2 of 3 trusted witnesses cosigned (w1, w2)" in out
    code, out = sync_with(lines)
    assert code == 0 and "3 of 3 trusted witnesses cosigned (w1, w2, w3); 2 required" in out
    servers.stop(mirror)
    servers.stop(served)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the witness key"),
        (b"garbage\n", "not a witness key file: private key: does not start with"),
        (b"\xff\xfe\n", "not a witness key file: not ASCII"),
        (b"LOGKEY", "signature type 0x01, expected 0x04"),
    ],
    ids=["missing", "garbage", "binary", "log-key"],
)
def test_cosign_bad_key_files(
    served_log: tuple[LogInstance, Served],
    mutualog: Mutualog,
    tmp_path: Path,
    content: bytes | None,
    message: str,
) -> None:
    log, served = served_log
    mutualog("trust", ORIGIN, log.vkey)
    key_file = tmp_path / "witness.key"
    if content == b"LOGKEY":
        content = (log.folder / "log.key").read_bytes()
    if content is not None:
        key_file.write_bytes(content)
    result = mutualog("witness", "cosign", served.url, "--key", key_file)
    assert result.code == 2
    assert message in result.err
    if content:
        # Whatever the file holds, its key material is never echoed.  (The
        # base64 key may itself hold '+': split only the four name fields off.)
        secret = content.decode(errors="replace").strip().split("+", 4)[-1]
        assert secret not in result.err


def test_cosign_needs_the_log_pinned(
    served_log: tuple[LogInstance, Served], mutualog: Mutualog, tmp_path: Path
) -> None:
    key_file, _ = _keygen(mutualog, tmp_path, "w1")
    result = mutualog("witness", "cosign", served_log[1].url, "--key", key_file)
    assert result.code == 2 and "is not pinned" in result.err


def test_keygen_bad_name(mutualog: Mutualog, tmp_path: Path) -> None:
    result = mutualog("witness", "keygen", "bad name", "--out", tmp_path / "k")
    assert result.code == 2 and "witness name 'bad name'" in result.err
    assert not (tmp_path / "k").exists()


def test_sync_refuses_a_cosignature_from_the_future(
    make_log: MakeLog, servers: Servers, mutualog: Mutualog, tmp_path: Path
) -> None:
    """A pinned witness's line dated beyond the client's clock (and its
    60 s of allowed skew) fails the checkpoint, even with K met."""
    log = make_log(30)
    served = servers.serve(log)
    key_file, vkey = _keygen(mutualog, tmp_path, "w1")
    signer = load_witness_key(key_file)
    site = log.export(tmp_path / "site")
    mirror = servers.static(site)
    assert mutualog("trust", ORIGIN, log.vkey, "--witness", "w1", vkey).code == 0
    plain = (site / "checkpoint").read_bytes()

    def sync_at(timestamp: int) -> tuple[int, str]:
        (site / "checkpoint").write_bytes(cosign_checkpoint(plain, signer, timestamp))
        result = mutualog("sync", mirror.url)
        return result.code, result.out

    code, out = sync_at(int(time.time()) + 3600)
    assert code == 1
    assert "[FAIL] witnesses: cosignature by w1+" in out and "s in the future" in out
    code, out = sync_at(int(time.time()) - 10)
    assert code == 0 and "[ok  ] witnesses: 1 of 1 trusted witnesses cosigned (w1)" in out
    servers.stop(mirror)
    servers.stop(served)
