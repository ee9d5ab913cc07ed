"""The witnesses' tables (server.witnessing.store): adding and removing
witnesses, the policy, the lease, and cosigned_checkpoint."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from server.models import CosignatureRow
from server.sequencer import Sequencer
from server.witnessing.store import (
    WitnessConfigError,
    acquire_lease,
    add_witness,
    cosigned_checkpoint,
    list_witnesses,
    release_lease,
    remove_witness,
    required_witnesses,
    served_checkpoint,
    set_required,
    store_cosignature,
    witness_keys,
)
from verifiable.errors import MalformedError
from verifiable.log.checkpoint import open_checkpoint
from verifiable.log.cosignature import CosignatureSigner
from verifiable.log.note import Ed25519Verifier, Note

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
URL = "http://127.0.0.1:7380"


def _signers(count: int) -> list[CosignatureSigner]:
    return [CosignatureSigner(f"witness-{i}.example", bytes([i + 1]) * 32) for i in range(count)]


def _cosign(engine: Engine, note: bytes, size: int, signer: CosignatureSigner) -> None:
    text = Note.from_bytes(note).text
    store_cosignature(engine, size, signer.cosign(text, 1_800_000_000 + size), NOW)


@pytest.fixture
def witnesses(engine: Engine) -> list[CosignatureSigner]:
    signers = _signers(3)
    for s in signers:
        add_witness(engine, s.name, URL + "/" + s.name, s.verifier().to_vkey(), NOW)
    return signers


def test_add_list_remove(engine: Engine, witnesses: list[CosignatureSigner]) -> None:
    listed = list_witnesses(engine)
    assert [w.name for w in listed] == [s.name for s in witnesses]
    assert listed[0].vkey == witnesses[0].verifier().to_vkey()
    assert listed[0].last_cosigned is None and listed[0].known_size is None
    remove_witness(engine, witnesses[1].name)
    assert [w.name for w in list_witnesses(engine)] == [witnesses[0].name, witnesses[2].name]


@pytest.mark.parametrize(
    ("name", "url", "vkey", "match"),
    [
        ("other.example", URL, None, "is named 'witness-9.example'"),
        ("witness-9.example", "ftp://x", None, "not an http:// or https://"),
        ("witness-9.example", "http://x?q=1", None, "query or a fragment"),
        ("witness-9.example", URL, "not a key", "not a C2SP cosignature key"),
    ],
    ids=["name-differs", "scheme", "query", "bad-vkey"],
)
def test_add_refuses_bad_input(
    engine: Engine, name: str, url: str, vkey: str | None, match: str
) -> None:
    key = CosignatureSigner("witness-9.example", b"\x09" * 32).verifier().to_vkey()
    with pytest.raises(WitnessConfigError, match=match):
        add_witness(engine, name, url, key if vkey is None else vkey, NOW)
    assert list_witnesses(engine) == []


def test_add_refuses_a_log_key(engine: Engine, verifier: Ed25519Verifier) -> None:
    with pytest.raises(WitnessConfigError, match="not a C2SP cosignature key"):
        add_witness(engine, verifier.name, URL, verifier.to_vkey(), NOW)


def test_add_twice_and_remove_unknown(engine: Engine, witnesses: list[CosignatureSigner]) -> None:
    s = witnesses[0]
    with pytest.raises(WitnessConfigError, match="already added"):
        add_witness(engine, s.name, URL, s.verifier().to_vkey(), NOW)
    with pytest.raises(WitnessConfigError, match="no witness named 'nobody'"):
        remove_witness(engine, "nobody")


def test_policy_bounds_and_removal(engine: Engine, witnesses: list[CosignatureSigner]) -> None:
    assert required_witnesses(engine) == 0
    set_required(engine, 3, NOW)
    assert required_witnesses(engine) == 3
    with pytest.raises(WitnessConfigError, match="between 0 and the 3 configured"):
        set_required(engine, 4, NOW)
    with pytest.raises(WitnessConfigError, match="would leave 2 witnesses for a policy"):
        remove_witness(engine, witnesses[0].name)
    assert len(list_witnesses(engine)) == 3
    set_required(engine, 2, NOW)
    remove_witness(engine, witnesses[0].name)
    assert witness_keys(engine)[1] == 2


def test_cosigned_checkpoint_picks_the_newest_meeting_k(
    engine: Engine,
    sequencer: Sequencer,
    members: Callable[..., Any],
    verifier: Ed25519Verifier,
    witnesses: list[CosignatureSigner],
) -> None:
    notes = {}
    for size in (1, 2, 3):
        notes[size] = sequencer.append(members(1, size - 1)).checkpoint
    keys = {s.name: s.verifier() for s in witnesses}
    assert cosigned_checkpoint(engine, keys, 1) is None
    _cosign(engine, notes[1], 1, witnesses[0])
    _cosign(engine, notes[1], 1, witnesses[1])
    _cosign(engine, notes[2], 2, witnesses[2])
    found = cosigned_checkpoint(engine, keys, 2)
    assert found is not None and found.size == 1
    assert found.cosigners == (witnesses[0].name, witnesses[1].name)
    signed = open_checkpoint(found.note, verifier, verifier.name, list(keys.values()))
    assert {c.name for c in signed.cosignatures} == set(found.cosigners)
    one = cosigned_checkpoint(engine, keys, 1)
    assert one is not None and one.size == 2
    assert cosigned_checkpoint(engine, keys, 1, min_size=3) is None
    newest = cosigned_checkpoint(engine, keys, 0)
    assert newest is not None and newest.size == 3 and newest.note == notes[3]
    assert cosigned_checkpoint(engine, keys, 3) is None
    with pytest.raises(MalformedError, match="4 of 3 witnesses required"):
        cosigned_checkpoint(engine, keys, 4)


def test_a_bad_row_counts_for_nothing(
    engine: Engine,
    sequencer: Sequencer,
    members: Callable[..., Any],
    witnesses: list[CosignatureSigner],
) -> None:
    note = sequencer.append(members(1)).checkpoint
    other = sequencer.append(members(1, 1)).checkpoint
    keys = {s.name: s.verifier() for s in witnesses}
    # A cosignature of size 2's note filed under size 1: it does not verify there.
    cosig = witnesses[0].cosign(Note.from_bytes(other).text, 1_800_000_000)
    with engine.begin() as conn:
        conn.execute(
            insert(CosignatureRow),
            [
                {
                    "size": 1,
                    "witness": cosig.name,
                    "key_id": cosig.key_id,
                    "timestamp": cosig.timestamp,
                    "line": cosig.to_line(),
                    "gathered": NOW,
                }
            ],
        )
    assert cosigned_checkpoint(engine, keys, 1) is None
    _cosign(engine, note, 1, witnesses[1])
    found = cosigned_checkpoint(engine, keys, 1)
    assert found is not None and found.cosigners == (witnesses[1].name,)


def test_served_checkpoint_follows_the_policy(
    engine: Engine,
    sequencer: Sequencer,
    members: Callable[..., Any],
    witnesses: list[CosignatureSigner],
) -> None:
    first = sequencer.append(members(1)).checkpoint
    second = sequencer.append(members(1, 1)).checkpoint
    served = served_checkpoint(engine)
    assert served is not None and served.note == second
    set_required(engine, 1, NOW)
    assert served_checkpoint(engine) is None
    _cosign(engine, first, 1, witnesses[0])
    served = served_checkpoint(engine)
    assert served is not None and served.size == 1 and served.note != first
    # Removing the witness keeps its cosignature, but it no longer counts.
    set_required(engine, 0, NOW)
    remove_witness(engine, witnesses[0].name)
    listed = {w.name for w in list_witnesses(engine)}
    assert witnesses[0].name not in listed
    served = served_checkpoint(engine)
    assert served is not None and served.note == second


def test_lease_is_one_holder_at_a_time(engine: Engine) -> None:
    minute = timedelta(minutes=1)
    assert acquire_lease(engine, "a", NOW, minute)
    assert not acquire_lease(engine, "b", NOW + timedelta(seconds=30), minute)
    assert acquire_lease(engine, "a", NOW + timedelta(seconds=30), minute)
    assert acquire_lease(engine, "b", NOW + timedelta(minutes=2), minute)
    release_lease(engine, "a")
    assert not acquire_lease(engine, "a", NOW + timedelta(minutes=2), minute)
    release_lease(engine, "b")
    assert acquire_lease(engine, "a", NOW + timedelta(minutes=2), minute)
