"""verifiable.log.tiledlog: a whole log read through its tiles and checked, by a
cursor that can resume after a proven prefix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from verifiable.errors import MalformedError, VerificationError
from verifiable.log.bodies import AgeBand, MemberJoined
from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
from verifiable.log.entry import GENESIS_PREV, make_entry
from verifiable.log.merkle import leaf_hash, root_hash
from verifiable.log.note import Ed25519Signer
from verifiable.log.tiledlog import (
    LogCursor,
    LogPosition,
    bundle_entries,
    open_tiled_log,
    prefix_root,
)
from verifiable.log.tiles import TileCoord, build_bundles, build_tiles, encode_bundle

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


# --- the cursor: positions, resuming, the entry check ------------------------------------


def _cursor(note: bytes, files: dict[TileCoord, bytes], **kwargs: Any) -> LogCursor:
    return open_tiled_log(note, SIGNER.verifier(), ORIGIN, files.get).cursor(**kwargs)


def test_a_resumed_walk_reads_only_what_follows_and_ends_where_a_whole_walk_does() -> None:
    note, files, raw = _log(700)
    whole = _cursor(note, files)
    positions = []
    for _ in whole.tiles():
        positions.append(whole.position)
    assert [p.size for p in positions] == [256, 512, 512]
    assert positions[0].head == leaf_hash(raw[255])
    assert positions[1].root() == root_hash([leaf_hash(r) for r in raw[:512]])

    fetched: list[TileCoord] = []

    def fetch(coord: TileCoord) -> bytes | None:
        fetched.append(coord)
        return files.get(coord)

    resumed = open_tiled_log(note, SIGNER.verifier(), ORIGIN, fetch).cursor()
    resumed.seek(positions[0])
    tiles = list(resumed.tiles())
    assert [t.index for t in tiles] == [1, 2]
    assert [e for t in tiles for e in t.entries] == raw[256:]
    assert TileCoord(0, 0) not in fetched and TileCoord.entry_bundle(0) not in fetched
    assert resumed.proven == whole.proven == 700
    assert resumed.position == whole.position


def test_a_wrong_chain_head_at_the_resume_point_is_caught_at_the_next_entry() -> None:
    note, files, _ = _log(300)
    cursor = _cursor(note, files)
    list(cursor.tiles())
    position = _cursor(note, files).position  # an empty prefix, to compare with
    assert position == LogPosition(0, GENESIS_PREV, ())
    lying = LogPosition(256, b"\x01" * 32, (root_hash([bytes(32)] * 2),))
    resumed = _cursor(note, files)
    resumed.seek(lying)
    with pytest.raises(VerificationError, match="entry 256: prev"):
        list(resumed.tiles())
    assert resumed.proven == 256


def test_the_check_sees_every_entry_with_its_place_and_leaf_hash() -> None:
    note, files, raw = _log(260)
    seen: list[tuple[int, bytes, bytes]] = []

    def check(entry: bytes, seq: int, prev: bytes, leaf: bytes) -> None:
        assert leaf == leaf_hash(entry)
        seen.append((seq, prev, entry))

    tiles = list(_cursor(note, files, check=check).tiles())
    assert [t.width for t in tiles] == [256, 4] and tiles[1].first == 256
    assert [s for s, _, _ in seen] == list(range(260))
    assert [p for _, p, _ in seen] == [GENESIS_PREV, *(leaf_hash(r) for r in raw[:259])]


def test_a_failing_check_stops_the_walk_and_counts_what_was_proven() -> None:
    note, files, _ = _log(300)

    def check(entry: bytes, seq: int, prev: bytes, leaf: bytes) -> None:
        if seq == 270:
            raise VerificationError("entry 270: not this one")

    cursor = _cursor(note, files, check=check)
    with pytest.raises(VerificationError, match="entry 270: not this one"):
        list(cursor.tiles())
    assert cursor.proven == 270 and cursor.position.size == 256


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((100, GENESIS_PREV, ()), MalformedError, "log position 100: not a multiple of 256"),
        ((-256, GENESIS_PREV, ()), MalformedError, "log position -256: not a multiple"),
        ((256, bytes(31), (bytes(32),)), MalformedError, "chain head is not 32 bytes"),
        ((0, b"\x01" * 32, ()), VerificationError, "log position 0: an empty log's head is"),
        ((768, bytes(32), (bytes(32),)), MalformedError, "compact range .* length is 1"),
    ],
)
def test_a_position_that_cannot_be_is_refused(
    args: tuple[int, bytes, tuple[bytes, ...]], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        LogPosition(*args)


def test_a_position_beyond_the_tree_is_refused() -> None:
    note, files, _ = _log(300)
    with pytest.raises(MalformedError, match="log position 512 is beyond the tree of size 300"):
        _cursor(note, files).seek(LogPosition(512, bytes(32), (bytes(32),)))


def test_prefix_root_and_bundle_entries_re_read_a_proven_prefix() -> None:
    _, files, raw = _log(600)
    bundles = [files[TileCoord.entry_bundle(t)] for t in range(2)]
    assert prefix_root(bundles) == root_hash([leaf_hash(r) for r in raw[:512]])
    assert bundle_entries(TileCoord.entry_bundle(1), bundles[1]) == raw[256:512]
    with pytest.raises(
        MalformedError, match=r"^tile/entries/001: entry bundle: 255 entries, expected 256$"
    ):
        prefix_root([bundles[0], encode_bundle(raw[256:511])])


def test_a_missing_bundle_is_named_by_the_cursor() -> None:
    note, files, _ = _log(5)
    with pytest.raises(MalformedError, match=r"^tile/entries/003: missing, but a tree of size 5"):
        _cursor(note, files).fetch_bundle(TileCoord.entry_bundle(3))
