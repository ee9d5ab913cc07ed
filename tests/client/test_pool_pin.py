"""A pin that knows its log is a pool's: ``trust --pool``, the ``pool``
field of ``trust.json`` (written later than the others: an old file still
reads), and the audit that learns it from the log's entry 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from client.commands.common import example_log
from client.state import PinnedLog, StateDir, StateError
from tests.client.harness import Mutualog
from verifiable.log.note import Ed25519Signer

pytestmark = pytest.mark.usefixtures("offline")

ORIGIN = "example.org/mutualog/test"
VKEY = Ed25519Signer(ORIGIN, bytes(32)).verifier().to_vkey()


def _trust_file(state: Path, origin: str = ORIGIN) -> Path:
    return StateDir(state).log_dir(origin) / "trust.json"


def test_a_trust_file_written_before_the_pool_field_still_reads(tmp_path: Path) -> None:
    old = {
        "format": "mutualog-trust/1",
        "origin": ORIGIN,
        "verifier_key": VKEY,
        "witnesses": [],
        "witnesses_required": 0,
    }
    path = _trust_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(old))
    pin = StateDir(tmp_path).load_pin(ORIGIN)
    assert pin is not None and pin.pool is False


def test_the_pool_flag_round_trips(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    state.save_pin(PinnedLog(ORIGIN, VKEY, pool=True))
    assert json.loads(_trust_file(tmp_path).read_text())["pool"] is True
    assert state.load_pin(ORIGIN) == PinnedLog(ORIGIN, VKEY, pool=True)


def test_a_pool_flag_that_is_not_a_boolean_is_a_corrupt_file(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    state.save_pin(PinnedLog(ORIGIN, VKEY))
    path = _trust_file(tmp_path)
    obj = json.loads(path.read_text())
    path.write_text(json.dumps({**obj, "pool": "yes"}))
    with pytest.raises(StateError, match=r"corrupt state file: 'pool' should be bool"):
        state.load_pin(ORIGIN)


def test_trust_pool_records_it_and_pinning_again_keeps_it(mutualog: Mutualog, state: Path) -> None:
    assert mutualog("trust", ORIGIN, VKEY).code == 0
    pin = StateDir(state).load_pin(ORIGIN)
    assert pin is not None and not pin.pool
    assert mutualog("trust", ORIGIN, VKEY, "--pool").code == 0
    assert json.loads(_trust_file(state).read_text())["pool"] is True
    # Pinning the same key again (say, to change the witnesses) keeps it.
    assert mutualog("trust", ORIGIN, VKEY).code == 0
    pin = StateDir(state).load_pin(ORIGIN)
    assert pin is not None and pin.pool


def test_an_audit_learns_that_a_pinned_log_is_a_pools(mutualog: Mutualog, state: Path) -> None:
    path, vkey = example_log()
    origin = vkey.split("+")[0]
    assert mutualog("trust", origin, vkey).code == 0
    result = mutualog("audit", path)
    assert result.code == 0, result.out + result.err
    assert "note: entry 0 is the pool's rulebook: the pin now records a pool's log" in result.out
    pin = StateDir(state).load_pin(origin)
    assert pin is not None and pin.pool
    # Learnt once: the next audit has nothing to add.
    again = mutualog("audit", path)
    assert again.code == 0 and "the pin now records" not in again.out


def test_an_unpinned_audit_records_nothing(mutualog: Mutualog, state: Path) -> None:
    path, vkey = example_log()
    assert mutualog("audit", path, "--key", vkey).code == 0
    assert not (state / "logs").exists() or not list((state / "logs").rglob("trust.json"))
