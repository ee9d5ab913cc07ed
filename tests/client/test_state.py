"""The trust state folder (``client.state``) and ``mutualog trust``, offline."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from client.state import (
    PinnedLog,
    PinnedWitness,
    StateDir,
    StateError,
    default_state_dir,
    safe_name,
)
from verifiable.log.cosignature import CosignatureSigner
from verifiable.log.note import Ed25519Signer

if TYPE_CHECKING:
    from tests.client.harness import Mutualog

pytestmark = pytest.mark.usefixtures("offline")

ORIGIN = "example.org/mutualog/test"
LOG_KEY = Ed25519Signer(ORIGIN, bytes(32)).verifier().to_vkey()
OTHER_KEY = Ed25519Signer(ORIGIN, bytes([1]) * 32).verifier().to_vkey()
W1 = CosignatureSigner("w1", bytes([2]) * 32).verifier().to_vkey()
W2 = CosignatureSigner("w2", bytes([3]) * 32).verifier().to_vkey()
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


# --- where the folder is --------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"MUTUALOG_STATE": "/s", "XDG_STATE_HOME": "/x", "HOME": "/h"}, "/s"),
        ({"XDG_STATE_HOME": "/x", "HOME": "/h"}, "/x/mutualog"),
        ({"XDG_STATE_HOME": "relative", "HOME": "/h"}, "/h/.local/state/mutualog"),
        ({"MUTUALOG_STATE": "", "XDG_STATE_HOME": "", "HOME": "/h"}, "/h/.local/state/mutualog"),
    ],
    ids=["explicit", "xdg", "xdg-relative-ignored", "empty-ignored"],
)
def test_default_state_dir(env: dict[str, str], expected: str) -> None:
    assert default_state_dir(env) == Path(expected)


def test_no_home_and_no_override() -> None:
    with pytest.raises(StateError, match="HOME is not set; give --state DIR"):
        default_state_dir({})


def test_the_state_option_wins_over_the_environment(
    mutualog: Mutualog, tmp_path: Path, state: Path
) -> None:
    chosen = tmp_path / "chosen"
    assert mutualog("--state", chosen, "trust", ORIGIN, LOG_KEY).code == 0
    assert (chosen / "logs" / safe_name(ORIGIN) / "trust.json").is_file()
    assert not state.exists()


# --- names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("example.org/mutualog/pool-1", "example.org%2Fmutualog%2Fpool-1"),
        ("..", "%2E."),
        (".hidden", "%2Ehidden"),
        ("a b+c%", "a%20b%2Bc%25"),
        ("日本", "%E6%97%A5%E6%9C%AC"),
    ],
)
def test_safe_names(text: str, name: str) -> None:
    assert safe_name(text) == name


def test_long_names_stay_distinct_and_short() -> None:
    a, b = safe_name("x" * 300 + "a"), safe_name("x" * 300 + "b")
    assert a != b and len(a) == len(b) == 120 and "/" not in a


# --- pins ---------------------------------------------------------------------------------


def test_a_pin_round_trips(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    pin = PinnedLog(ORIGIN, LOG_KEY, (PinnedWitness("w1", W1), PinnedWitness("w2", W2)), 1)
    assert state.load_pin(ORIGIN) is None
    state.save_pin(pin)
    assert state.load_pin(ORIGIN) == pin
    assert state.pinned_origins() == [ORIGIN]
    assert [w.name for w in pin.witness_verifiers()] == ["w1", "w2"]
    path = state.log_dir(ORIGIN) / "trust.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["trust.json"]  # no temporary left


def test_the_pinned_witness_policy() -> None:
    witnesses = (PinnedWitness("w1", W1), PinnedWitness("w2", W2))
    policy = PinnedLog(ORIGIN, LOG_KEY, witnesses, 1).witness_policy()
    assert policy is not None and policy.required == 1
    assert [w.to_vkey() for w in policy.witnesses] == [W1, W2]
    # No witness required: no policy, so no `witnesses` check (not one that always passes).
    assert PinnedLog(ORIGIN, LOG_KEY, witnesses, 0).witness_policy() is None
    assert PinnedLog(ORIGIN, LOG_KEY).witness_policy() is None


def test_a_key_named_otherwise_than_its_origin_is_pinned() -> None:
    # Go's checksum database: origin "go.sum database tree", key sum.golang.org.
    pin = PinnedLog("other.example/log", LOG_KEY)
    assert not pin.key_name_is_origin
    assert PinnedLog(ORIGIN, LOG_KEY).key_name_is_origin


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((ORIGIN, "nonsense", (), 0), "verifier key"),
        ((ORIGIN, LOG_KEY, (PinnedWitness("w9", W1),), 1), "its key is named 'w1'"),
        ((ORIGIN, LOG_KEY, (PinnedWitness("w1", W1),) * 2, 1), "a name appears twice"),
        ((ORIGIN, LOG_KEY, (PinnedWitness("w1", W1),), 2), "required: 2, but 1 witness"),
        ((ORIGIN, LOG_KEY, (PinnedWitness("w1", LOG_KEY),), 1), "signature type 0x01"),
    ],
    ids=["bad-key", "name-mismatch", "twice", "k-above-n", "log-key-as-witness"],
)
def test_bad_pins_are_refused(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(Exception, match=message) as caught:
        PinnedLog(*args)
    assert caught.type.__module__.startswith("verifiable") or caught.type is StateError


def _write_trust(state: StateDir, obj: object) -> Path:
    path = state.log_dir(ORIGIN) / "trust.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))
    return path


GOOD: dict[str, Any] = {
    "format": "mutualog-trust/1",
    "origin": ORIGIN,
    "verifier_key": LOG_KEY,
    "witnesses": [],
    "witnesses_required": 0,
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "mutualog-trust/9"}, "format 'mutualog-trust/9'"),
        ({"witnesses_required": True}, "'witnesses_required' should be int"),
        ({"witnesses": {}}, "'witnesses' should be list"),
        ({"witnesses": ["w1"]}, "a witness is not an object"),
        ({"witnesses": [{"name": "w1"}]}, "missing keys \\['key'\\]"),
        ({"verifier_key": "nonsense"}, "corrupt state file: verifier key"),
        ({"origin": "other.example/log"}, "it pins 'other.example/log'"),
        ({"extra": 1}, "unexpected keys \\['extra'\\]"),
    ],
    ids=[
        "format",
        "bool",
        "witnesses-type",
        "witness-type",
        "witness-fields",
        "key",
        "origin",
        "extra",
    ],
)
def test_corrupt_trust_files(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    state = StateDir(tmp_path)
    path = _write_trust(state, {**GOOD, **change})
    with pytest.raises(StateError, match=message) as caught:
        state.load_pin(ORIGIN)
    assert str(path) in str(caught.value)


def test_a_trust_file_for_another_origin(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    other = "example.org/mutualog/other"
    key = Ed25519Signer(other, bytes(32)).verifier().to_vkey()
    _write_trust(state, {**GOOD, "origin": other, "verifier_key": key})
    with pytest.raises(StateError, match=r"it pins 'example\.org/mutualog/other'"):
        state.load_pin(ORIGIN)


def test_an_oversized_state_file(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    path = state.checkpoint_path(ORIGIN)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"x" * (2 << 20))
    with pytest.raises(StateError, match="corrupt state file: over 1048576 bytes"):
        state.load_checkpoint(ORIGIN)


def test_a_state_folder_that_cannot_be_written(mutualog: Mutualog, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = mutualog("--state", blocker / "state", "trust", ORIGIN, LOG_KEY)
    assert result.code == 2 and "trust.json: cannot read: Not a directory" in result.err


# --- audit progress ------------------------------------------------------------------------


def test_clearing_audit_progress_removes_every_file_of_it(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    path = state.audit_state_path(ORIGIN)
    path.parent.mkdir(parents=True)
    names = ["audit-state.sqlite", "audit-state.sqlite-wal", "audit.json", "audit-entries.bin"]
    for name in names:
        (path.parent / name).write_bytes(b"x")
    state.clear_progress(ORIGIN)
    state.clear_progress(ORIGIN)  # clearing twice is fine
    assert not any((path.parent / name).exists() for name in names)


# --- evidence -----------------------------------------------------------------------------


def test_evidence_folders_never_collide(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    files = {"old-checkpoint": b"old\n", "new-checkpoint": b"new\n"}
    first = state.save_evidence(ORIGIN, "fork", NOW, files, {"kind": "fork"})
    second = state.save_evidence(ORIGIN, "fork", NOW, files, {"kind": "fork"})
    assert first.name == "20260301T120000Z-fork" and second.name == "20260301T120000Z-fork-2"
    assert sorted(p.name for p in first.iterdir()) == [
        "evidence.json",
        "new-checkpoint",
        "old-checkpoint",
    ]
    assert json.loads((second / "evidence.json").read_text()) == {"kind": "fork"}


# --- the trust command ----------------------------------------------------------------------


def test_trust_prints_the_policy(mutualog: Mutualog, state: Path) -> None:
    result = mutualog("trust", ORIGIN, LOG_KEY, "--witness", "w1", W1, "--witness", "w2", W2)
    assert result.code == 0
    assert result.out == f"pinned {ORIGIN}: key {LOG_KEY}; 2 of 2 witnesses (w1, w2) must cosign\n"
    lowered = mutualog(
        "trust", ORIGIN, LOG_KEY, "--witness", "w1", W1, "--witness", "w2", W2,
        "--witnesses-required", "1",
    )  # fmt: skip
    assert "1 of 2 witnesses" in lowered.out
    pin = StateDir(state).load_pin(ORIGIN)
    assert pin is not None and pin.witnesses_required == 1


def test_trust_refuses_a_witness_named_unlike_its_key(mutualog: Mutualog) -> None:
    result = mutualog("trust", ORIGIN, LOG_KEY, "--witness", "w2", W1)
    assert result.code == 2 and "witness 'w2': its key is named 'w1'" in result.err


def test_trust_refuses_a_new_key_unless_replaced(mutualog: Mutualog, state: Path) -> None:
    assert mutualog("trust", ORIGIN, LOG_KEY).code == 0
    folder = StateDir(state).log_dir(ORIGIN)
    (folder / "checkpoint").write_bytes(b"verified under the old key\n")
    refused = mutualog("trust", ORIGIN, OTHER_KEY)
    assert refused.code == 2 and "refusing a different key" in refused.err
    assert mutualog("trust", ORIGIN, OTHER_KEY, "--replace").code == 0
    pin = StateDir(state).load_pin(ORIGIN)
    assert pin is not None and pin.verifier_key == OTHER_KEY
    assert not (folder / "checkpoint").exists()


def test_audit_with_a_corrupt_pin(mutualog: Mutualog, state: Path) -> None:
    example = "example.org/mutualog/example"
    path = StateDir(state).log_dir(example) / "trust.json"
    path.parent.mkdir(parents=True)
    path.write_text("{")
    result = mutualog("audit", "--example")
    assert result.code == 2
    assert "corrupt state file: not JSON" in result.err and str(path) in result.err
