"""The log key file: created 0600, never overwritten, read with clear errors
that never quote it."""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from server import create_app
from server.cli import main
from server.config import ConfigError, Settings, load_settings
from server.errors import ServiceUnavailableError
from server.keys import (
    KeyFileError,
    KeyFileExistsError,
    create_key_file,
    load_log_signer,
    load_signer,
)
from server.pool_app import POOL_EXTENSION, PoolHolder, current_pool
from verifiable.log.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from verifiable.log.cosignature import generate_cosignature_key
from verifiable.log.merkle import EMPTY_ROOT
from verifiable.log.note import Ed25519Verifier, generate_key

NAME = "example.org/mutualog/test"
SEED = bytes(range(32))
INVALID = "does not hold a valid private key"


@pytest.fixture
def wide_umask() -> Iterator[None]:
    # Even with nothing masked the file must come out 0600.
    old = os.umask(0)
    yield
    os.umask(old)


def test_create_writes_a_note_private_key_0600(tmp_path: Path, wide_umask: None) -> None:
    path = tmp_path / "log.key"
    vkey = create_key_file(path, NAME, SEED)
    private, expected_vkey = generate_key(NAME, SEED)
    assert vkey == expected_vkey
    assert path.read_text() == private + "\n"
    assert private.startswith(f"PRIVATE+KEY+{NAME}+")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # The key signs checkpoints that the published verifier key opens.
    note = sign_checkpoint(Checkpoint(NAME, 0, EMPTY_ROOT), load_signer(path))
    open_checkpoint(note, Ed25519Verifier.from_vkey(vkey), NAME)


def test_create_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "log.key"
    create_key_file(path, NAME, SEED)
    before = path.read_bytes()
    with pytest.raises(KeyFileExistsError, match="already exists; refusing to overwrite"):
        create_key_file(path, NAME, bytes(32))
    assert path.read_bytes() == before


def test_create_refuses_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    link = tmp_path / "log.key"
    link.symlink_to(target)
    with pytest.raises(KeyFileExistsError):
        create_key_file(link, NAME, SEED)
    assert not target.exists()


def test_create_in_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match=r"cannot create key file .*No such file or directory"):
        create_key_file(tmp_path / "missing" / "log.key", NAME, SEED)


@pytest.mark.parametrize(
    ("name", "seed", "match"),
    [
        (NAME, b"short", "cannot make a key for"),
        ("bad name", SEED, "cannot make a key for"),
        ("", SEED, "cannot make a key for"),
    ],
    ids=["short-seed", "space-in-name", "empty-name"],
)
def test_create_refuses_bad_key_parameters(
    tmp_path: Path, name: str, seed: bytes, match: str
) -> None:
    path = tmp_path / "log.key"
    with pytest.raises(KeyFileError, match=match) as info:
        create_key_file(path, name, seed)
    assert not path.exists()
    assert seed.hex() not in str(info.value)


def test_load_accepts_a_file_without_newline(tmp_path: Path) -> None:
    private, vkey = generate_key(NAME, SEED)
    path = tmp_path / "log.key"
    path.write_text(private)
    assert load_signer(path).verifier().to_vkey() == vkey


def _seed_texts() -> list[str]:
    private, _ = generate_key(NAME, SEED)
    return [private, private.rsplit("+", 1)[1], base64.b64encode(SEED).decode(), SEED.hex()]


def _write(content: bytes) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / "log.key"
        path.write_bytes(content)
        return path

    return make


def _private() -> str:
    return generate_key(NAME, SEED)[0]


@pytest.mark.parametrize(
    ("make", "match"),
    [
        pytest.param(lambda d: d / "absent.key", "does not exist", id="missing"),
        pytest.param(lambda d: d, "is a directory", id="directory"),
        pytest.param(_write(b""), "does not hold a valid private key", id="empty"),
        pytest.param(_write(b"x" * 5000), "larger than 4096 bytes", id="huge"),
        pytest.param(_write("PRIVATE+KEY+é".encode()), "not ASCII text", id="not-ascii"),
        pytest.param(
            _write(b"hello world\n"), "does not start with 'PRIVATE\\+KEY\\+'", id="garbage"
        ),
        pytest.param(_write((_private() + "\n\n").encode()), INVALID, id="two-newlines"),
        pytest.param(_write((" " + _private()).encode()), INVALID, id="leading-space"),
        pytest.param(
            _write(_private()[:-4].encode() + b"AAA=\n"),
            "Ed25519 key is 31 bytes, expected 32",
            id="short-seed",
        ),
        pytest.param(
            _write(
                _private().rsplit("+", 1)[0].encode() + b"+" + base64.b64encode(b"\x01" + bytes(32))
            ),
            "key ID [0-9a-f]{8} does not match the derived public key",
            id="other-seed",
        ),
        pytest.param(
            _write(_private().replace(f"+{NAME}+", "+other.example/log+").encode()),
            "key ID .* does not match",
            id="wrong-key-id",
        ),
        pytest.param(
            _write(generate_cosignature_key(NAME, SEED)[0].encode()),
            "signature type 0x04, expected 0x01",
            id="cosignature-key",
        ),
    ],
)
def test_load_errors_name_the_problem_not_the_key(
    tmp_path: Path, make: Callable[[Path], Path], match: str
) -> None:
    path = make(tmp_path)
    with pytest.raises(KeyFileError, match=match) as info:
        load_signer(path)
    message = str(info.value)
    assert str(path) in message
    for secret in _seed_texts():
        assert secret not in message
    # No chained exception that a traceback would print.
    assert info.value.__cause__ is None


def test_load_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "log.key"
    create_key_file(path, NAME, SEED)

    # Root reads any file, and CI runs as root: make open itself refuse.
    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("builtins.open", refuse)
    with pytest.raises(KeyFileError, match="cannot be read: permission denied"):
        load_signer(path)


# --- the log's key, as the settings name it --------------------------------------------


def _settings(folder: Path, origin: str | None = None) -> Settings:
    config: dict[str, object] = {"MUTUALOG_INSTANCE": folder}
    if origin is not None:
        config["MUTUALOG_ORIGIN"] = origin
    return load_settings(config)


@pytest.mark.parametrize("origin", [None, NAME], ids=["no-origin-set", "same-origin"])
def test_load_log_signer_reads_the_instance_key(tmp_path: Path, origin: str | None) -> None:
    vkey = create_key_file(tmp_path / "log.key", NAME, SEED)
    assert load_log_signer(_settings(tmp_path, origin)).verifier().to_vkey() == vkey


@pytest.mark.parametrize(
    ("content", "origin", "match"),
    [
        pytest.param(None, None, "no log key at .*does not exist.*mutualog-server init", id="none"),
        pytest.param(b"hello\n", None, "cannot read the log key .*PRIVATE", id="malformed"),
        pytest.param(
            _private().encode(),
            "example.org/other",
            f"configured origin 'example.org/other' differs from the log key's name '{NAME}'",
            id="other-origin",
        ),
    ],
)
def test_load_log_signer_refuses(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    content: bytes | None,
    origin: str | None,
    match: str,
) -> None:
    monkeypatch.delenv("MUTUALOG_KEY_FILE", raising=False)
    if content is not None:
        (tmp_path / "log.key").write_bytes(content)
    with pytest.raises(ConfigError, match=match) as info:
        load_log_signer(_settings(tmp_path, origin))
    for secret in _seed_texts():
        assert secret not in str(info.value)


def test_the_pool_refuses_a_key_for_another_origin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The pool service signs checkpoints too: it loads the key as the read
    # path does, so a key named for another origin is refused there as well.
    for name in ("MUTUALOG_DATABASE_URL", "MUTUALOG_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MUTUALOG_ORIGIN", "example.org/configured")
    create_key_file(tmp_path / "log.key", NAME, SEED)
    refused = f"configured origin 'example.org/configured' differs from the log key's name '{NAME}'"
    app = create_app({"MUTUALOG_INSTANCE": tmp_path})
    try:
        holder: PoolHolder = app.extensions[POOL_EXTENSION]
        with pytest.raises(ConfigError, match=refused):
            holder.service()
        with app.app_context(), pytest.raises(ServiceUnavailableError, match="no usable log key"):
            current_pool()
    finally:
        app.extensions["mutualog"].engine.dispose()
    assert main(["--instance", str(tmp_path), "pool", "queue"]) == 2
    assert refused in capsys.readouterr().err
