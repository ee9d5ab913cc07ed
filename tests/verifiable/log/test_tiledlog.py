"""verifiable.log.tiledlog: a whole log read through its tiles and checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from verifiable.errors import MalformedError, VerificationError
from verifiable.log.bodies import AgeBand, MemberJoined
from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
from verifiable.log.entry import GENESIS_PREV, make_entry
from verifiable.log.merkle import leaf_hash, root_hash
from verifiable.log.note import Ed25519Signer
from verifiable.log.tiledlog import open_tiled_log
from verifiable.log.tiles import TileCoord, build_bundles, build_tiles

ORIGIN = "example.org/mutualog/test"
SIGNER = Ed25519Signer(ORIGIN, bytes(range(32)))
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _log(n: int) -> tuple[bytes, dict[TileCoord, bytes], list[bytes]]:
    raw, prev = [], GENESIS_PREV
    for seq in range(n):
        body = MemberJoined(member=f"{seq:032x}", age_band=AgeBand.FROM_18_TO_39)
        entry = make_entry(seq, prev, T0 + timedelta(seconds=seq), "member.joined", body)
        raw.append(entry.to_bytes())
        prev = entry.leaf_hash()
    hashes = [leaf_hash(r) for r in raw]
    files = {**build_tiles(hashes), **build_bundles(raw)}
    note = sign_checkpoint(Checkpoint(ORIGIN, n, root_hash(hashes)), SIGNER)
    return note, files, raw


@pytest.mark.parametrize("n", [1, 255, 256, 257, 600])
def test_honest_log_yields_every_entry(n: int) -> None:
    note, files, raw = _log(n)
    log = open_tiled_log(note, SIGNER.verifier(), ORIGIN, files.get)
    assert log.size == n
    got = list(log.entries())
    assert [e.data for e in got] == raw
    assert [e.index for e in got] == list(range(n))
    assert [e.entry.seq for e in got] == list(range(n))


def test_wrong_origin_is_refused() -> None:
    note, files, _ = _log(3)
    with pytest.raises(VerificationError, match="origin"):
        open_tiled_log(note, SIGNER.verifier(), "example.org/other", files.get)


def test_entries_reordered_in_tree_and_bundle_break_the_chain() -> None:
    # A log whose tiles and bundles agree with each other and with a signed
    # root, but whose entries are out of order: only the chain catches it.
    note, files, raw = _log(4)
    swapped = [raw[1], raw[0], raw[2], raw[3]]
    hashes = [leaf_hash(r) for r in swapped]
    files = {**build_tiles(hashes), **build_bundles(swapped)}
    note = sign_checkpoint(Checkpoint(ORIGIN, 4, root_hash(hashes)), SIGNER)
    log = open_tiled_log(note, SIGNER.verifier(), ORIGIN, files.get)
    with pytest.raises(VerificationError, match="seq: expected 0, got 1"):
        list(log.entries())


def test_changed_entry_is_caught_before_it_is_yielded() -> None:
    note, files, _ = _log(5)
    bundle = TileCoord.entry_bundle(0, 5)
    files[bundle] = files[bundle].replace(b"18-39", b"40-59", 1)
    log = open_tiled_log(note, SIGNER.verifier(), ORIGIN, files.get)
    seen = []
    with pytest.raises(VerificationError, match="leaf hash"):
        seen.extend(log.entries())
    assert seen == []


def test_missing_bundle_is_malformed() -> None:
    note, files, _ = _log(5)
    del files[TileCoord.entry_bundle(0, 5)]
    log = open_tiled_log(note, SIGNER.verifier(), ORIGIN, files.get)
    with pytest.raises(MalformedError, match=r"tile/entries/000\.p/5"):
        list(log.entries())
