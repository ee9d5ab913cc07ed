"""Snapshots, static export and restore: deterministic bytes, the order a
one-pass verifier needs, byte-identical round trips, and every kind of
tampering refused with the database left empty."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from server import create_app
from server.db import make_engine, upgrade
from server.keys import create_key_file
from server.sequencer import Sequencer
from server.snapshot import (
    DatabaseNotEmptyError,
    ExportError,
    SnapshotError,
    SnapshotRejectedError,
    export_tiles,
    plan_snapshot,
    restore,
    snapshot_chunks,
    snapshot_order,
    verify_snapshot,
    write_snapshot,
)
from server.storage import LogStore
from server.tiledata import read_tile
from verifiable.log.bodies import AgeBand, Body, MemberJoined
from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
from verifiable.log.entry import GENESIS_PREV, make_entry
from verifiable.log.merkle import hash_leaves, root_hash
from verifiable.log.note import Ed25519Signer, Ed25519Verifier
from verifiable.log.tiledlog import mirror_tiles
from verifiable.log.tiles import TileCoord, build_bundles, build_tiles

SIZE = 600  # two full level-0 tiles and a partial one; a partial level-1 tile
TIME = datetime(2026, 1, 1, tzinfo=UTC)


def member_items(start: int, count: int) -> list[tuple[str, Body]]:
    return [
        ("member.joined", MemberJoined(member=f"{i:032x}", age_band=AgeBand.FROM_18_TO_39))
        for i in range(start, start + count)
    ]


def grow(sequencer: Sequencer, store: LogStore, size: int) -> None:
    while (now := store.size()) < size:
        sequencer.append(member_items(now, min(1000, size - now)))


def snapshot_bytes(engine: Engine) -> bytes:
    out = io.BytesIO()
    write_snapshot(LogStore(engine), out)
    return out.getvalue()


def assert_empty(engine: Engine) -> None:
    store = LogStore(engine)
    assert store.latest_checkpoint() is None
    assert store.entries(0, 10) == []
    assert store.size() == 0


def tar_of(members: list[tuple[str, bytes]]) -> bytes:
    """A tar written by the standard library, independently of server.snapshot."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def members_of(data: bytes) -> list[tuple[str, bytes]]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
        out = []
        for member in tar.getmembers():
            extracted = tar.extractfile(member)
            assert extracted is not None
            out.append((member.name, extracted.read()))
        return out


def data_offset(data: bytes, name: str) -> int:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
        return tar.getmember(name).offset_data


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, Ed25519Signer]:
    """A snapshot of a SIZE-entry log, and the key that signed it."""
    folder = tmp_path_factory.mktemp("source")
    signer = Ed25519Signer("example.org/mutualog/test", bytes(range(32)))
    engine = make_engine(f"sqlite:///{folder / 'log.db'}")
    upgrade(engine)
    grow(Sequencer(engine, signer, signer.name, lambda: TIME), LogStore(engine), SIZE)
    data = snapshot_bytes(engine)
    engine.dispose()
    return data, signer


@pytest.fixture
def second_engine(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> Iterator[Engine]:
    """Another empty, migrated database on the same backend as ``engine``."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'second.db'}"
        server = None
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.new_database()
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()
    if server is not None:
        server.drop_database(url)


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    """For the long tables of refusals: they are refused before the database
    is written, on either backend (the tests with a second pass that writes
    run on both)."""
    engine = make_engine(sqlite_url)
    upgrade(engine)
    yield engine
    engine.dispose()


# --- order ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size", [0, 1, 2, 255, 256, 257, 511, 512, 513, 600, 65535, 65536, 65537, 70000]
)
def test_snapshot_order_is_the_order_mirror_tiles_reads_in(size: int) -> None:
    entries = [b"%d" % i for i in range(size)]
    leaves = hash_leaves(entries)
    served = build_tiles(leaves) | build_bundles(entries)
    asked: list[TileCoord] = []

    def fetch(tile: TileCoord) -> bytes | None:
        asked.append(tile)
        return served.get(tile)

    assert list(mirror_tiles(size, root_hash(leaves), fetch)) == entries
    order = list(snapshot_order(size))
    assert order == asked
    # Every tile of the tree exactly once.
    assert sorted(order) == sorted(served)


def test_order_puts_each_full_tile_after_the_tile_holding_its_hash() -> None:
    size = 256**3 + 256 * 3 + 7  # three full levels, a partial top
    seen: set[TileCoord] = set()
    for tile in snapshot_order(size):
        if not tile.is_partial and not tile.is_entry_bundle:
            parent_level, parent_index = tile.level + 1, tile.index >> 8
            assert any((t.level, t.index) == (parent_level, parent_index) for t in seen), tile
        seen.add(tile)
        if len(seen) > 3000:
            break


# --- writing ---------------------------------------------------------------------------


def test_snapshot_is_a_deterministic_ustar_in_snapshot_order(
    engine: Engine, signer: Ed25519Signer
) -> None:
    store = LogStore(engine)
    grow(Sequencer(engine, signer, signer.name, lambda: TIME), store, SIZE)
    first, second = snapshot_bytes(engine), snapshot_bytes(engine)
    assert first == second
    assert len(first) % 10240 == 0
    with tarfile.open(fileobj=io.BytesIO(first), mode="r") as tar:
        members = tar.getmembers()
        names = [m.name for m in members]
        assert names == ["checkpoint"] + [t.path() for t in snapshot_order(SIZE)]
        for member in members:
            assert member.isreg()
            assert (member.mode, member.uid, member.gid, member.mtime) == (0o644, 0, 0, 0)
            assert (member.uname, member.gname) == ("", "")
            assert first[member.offset : member.offset + 512][257:263] == b"ustar\x00"
            extracted = tar.extractfile(member)
            assert extracted is not None
            data = extracted.read()
            if member.name == "checkpoint":
                assert data == store.latest_checkpoint()
            else:
                assert data == read_tile(store, TileCoord.from_path(member.name), SIZE)


def test_a_snapshot_stays_at_its_checkpoint_while_the_log_grows(
    engine: Engine, signer: Ed25519Signer
) -> None:
    store = LogStore(engine)
    sequencer = Sequencer(engine, signer, signer.name, lambda: TIME)
    grow(sequencer, store, 300)
    expected = snapshot_bytes(engine)
    plan = plan_snapshot(store)
    assert plan is not None
    chunks = snapshot_chunks(store, plan)
    head = next(chunks)
    grow(sequencer, store, 700)
    assert head + b"".join(chunks) == expected


def test_snapshot_of_a_log_without_checkpoint_is_refused(engine: Engine) -> None:
    assert plan_snapshot(LogStore(engine)) is None
    with pytest.raises(SnapshotError, match="no checkpoint yet"):
        write_snapshot(LogStore(engine), io.BytesIO())


def test_snapshot_over_http(
    tmp_path: Path, database_url: str, engine: Engine, signer: Ed25519Signer
) -> None:
    create_key_file(tmp_path / "log.key", signer.name, signer.seed)
    app = create_app({"MUTUALOG_INSTANCE": tmp_path, "MUTUALOG_DATABASE_URL": database_url})
    client = app.test_client()
    response = client.get("/snapshot")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
    grow(Sequencer(engine, signer, signer.name, lambda: TIME), LogStore(engine), 300)
    response = client.get("/snapshot")
    assert response.status_code == 200
    assert response.content_type == "application/x-tar"
    assert response.headers["Content-Disposition"] == 'attachment; filename="mutualog-300.tar"'
    assert response.is_streamed
    assert response.data == snapshot_bytes(engine)
    app.extensions["mutualog"].engine.dispose()


def test_memory_stays_flat_whatever_the_log_size(tmp_path: Path, signer: Ed25519Signer) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'log.db'}")
    upgrade(engine)
    store = LogStore(engine)
    sequencer = Sequencer(engine, signer, signer.name, lambda: TIME)
    peaks = []
    for size in (512, 8192):
        grow(sequencer, store, size)
        path = tmp_path / f"{size}.tar"
        with path.open("wb") as out:
            tracemalloc.start()
            write_snapshot(store, out)
            _, write_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        tracemalloc.start()
        verify_snapshot(path, signer.verifier(), signer.name)
        _, verify_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peaks.append((path.stat().st_size, write_peak, verify_peak))
    (small_size, *small), (big_size, *big) = peaks
    assert big_size > 10 * small_size
    for small_peak, big_peak in zip(small, big, strict=True):
        # Sixteen times the log, not sixteen times the memory: a member's
        # worth (one bundle of about 60 KB) plus fixed overhead.
        assert big_peak < 2 * small_peak + 200_000, peaks
        assert big_peak < big_size / 4, peaks
    engine.dispose()


# --- restore -----------------------------------------------------------------------------


def test_snapshot_restore_snapshot_is_byte_identical(
    engine: Engine,
    second_engine: Engine,
    signer: Ed25519Signer,
    tmp_path: Path,
    check_log: Callable[[Engine], list[bytes]],
) -> None:
    grow(Sequencer(engine, signer, signer.name, lambda: TIME), LogStore(engine), SIZE)
    first = snapshot_bytes(engine)
    path = tmp_path / "snapshot.tar"
    path.write_bytes(first)
    checkpoint = restore(path, second_engine, signer.verifier(), signer.name)
    assert checkpoint.size == SIZE
    assert snapshot_bytes(second_engine) == first
    assert check_log(second_engine) == LogStore(engine).entries(0, SIZE)
    # The restored log goes on growing where the original would.
    grow(
        Sequencer(second_engine, signer, signer.name, lambda: TIME),
        LogStore(second_engine),
        SIZE + 5,
    )
    check_log(second_engine)


def test_restore_of_an_empty_log(
    engine: Engine, second_engine: Engine, signer: Ed25519Signer, tmp_path: Path
) -> None:
    Sequencer(engine, signer, signer.name, lambda: TIME).ensure_checkpoint()
    first = snapshot_bytes(engine)
    assert [name for name, _ in members_of(first)] == ["checkpoint"]
    path = tmp_path / "empty.tar"
    path.write_bytes(first)
    assert restore(path, second_engine, signer.verifier(), signer.name).size == 0
    assert snapshot_bytes(second_engine) == first


def test_restore_refuses_a_database_that_holds_a_log(
    engine: Engine, source: tuple[bytes, Ed25519Signer], tmp_path: Path
) -> None:
    data, signer = source
    Sequencer(engine, signer, signer.name, lambda: TIME).append(member_items(0, 3))
    before = snapshot_bytes(engine)
    path = tmp_path / "s.tar"
    path.write_bytes(data)
    with pytest.raises(DatabaseNotEmptyError, match="already holds a log of size 3"):
        restore(path, engine, signer.verifier(), signer.name)
    assert snapshot_bytes(engine) == before


def _flip(data: bytes, offset: int) -> bytes:
    changed = bytearray(data)
    changed[offset] ^= 0x01
    return bytes(changed)


def _in_member(name: str, at: int = 100) -> Callable[[bytes], bytes]:
    return lambda data: _flip(data, data_offset(data, name) + at)


def _rewrite(
    edit: Callable[[list[tuple[str, bytes]]], list[tuple[str, bytes]]],
) -> Callable[[bytes], bytes]:
    return lambda data: tar_of(edit(members_of(data)))


def _without(name: str) -> Callable[[list[tuple[str, bytes]]], list[tuple[str, bytes]]]:
    return lambda members: [m for m in members if m[0] != name]


def _swap(i: int, j: int) -> Callable[[list[tuple[str, bytes]]], list[tuple[str, bytes]]]:
    def edit(members: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
        members[i], members[j] = members[j], members[i]
        return members

    return edit


def _replace(name: str, new: bytes) -> Callable[[list[tuple[str, bytes]]], list[tuple[str, bytes]]]:
    return lambda members: [(n, new if n == name else d) for n, d in members]


TAMPERING: list[tuple[str, Callable[[bytes], bytes], str]] = [
    ("entry-byte", _in_member("tile/entries/000"), r"tile/entries/000: entry \d+ .* has leaf hash"),
    ("last-entry-byte", _in_member("tile/entries/002.p/88", 40), "tile/entries/002.p/88: entry"),
    ("level-0-tile-byte", _in_member("tile/0/001"), "tile/0/001: tile hashes to"),
    ("partial-tile-byte", _in_member("tile/0/002.p/88"), "partial tiles .* hash to root"),
    ("level-1-tile-byte", _in_member("tile/1/000.p/2", 5), "partial tiles .* hash to root"),
    (
        "note-size",
        lambda d: _flip(d, data_offset(d, "checkpoint") + len("example.org/mutualog/test\n")),
        "signature",
    ),
    ("note-root", _in_member("checkpoint", 40), "signature"),
    ("note-signature", _in_member("checkpoint", 150), "signature"),
    ("header-byte", lambda d: _flip(d, data_offset(d, "tile/0/000") - 512 + 3), "tar"),
    ("truncated-in-header", lambda d: d[:100], "tar"),
    (
        "truncated-in-bundle",
        lambda d: d[: data_offset(d, "tile/entries/001") + 1000],
        "truncated|end of data|tar",
    ),
    (
        "truncated-before-last",
        lambda d: d[: data_offset(d, "tile/entries/002.p/88") - 512],
        "ends before member 'tile/entries/002.p/88'",
    ),
    ("empty-file", lambda d: b"", "not a readable tar"),
    ("not-a-tar", lambda d: os.urandom(5000), "tar"),
    ("gzipped", lambda d: gzip.compress(d), "tar"),
    (
        "missing-bundle",
        _rewrite(_without("tile/entries/001")),
        "'tile/entries/002.p/88' where 'tile/entries/001' was expected",
    ),
    (
        "missing-tile",
        _rewrite(_without("tile/0/000")),
        "'tile/entries/000' where 'tile/0/000' was expected",
    ),
    ("missing-checkpoint", _rewrite(_without("checkpoint")), "where 'checkpoint' was expected"),
    ("missing-last", _rewrite(lambda m: m[:-1]), "ends before member 'tile/entries/002.p/88'"),
    (
        "extra-at-end",
        _rewrite(lambda m: [*m, ("tile/0/003.p/1", bytes(32))]),
        "unexpected member 'tile/0/003.p/1'",
    ),
    (
        "extra-in-middle",
        _rewrite(lambda m: [*m[:4], ("notes.txt", b"hi"), *m[4:]]),
        "member 'notes.txt' where",
    ),
    (
        "duplicate",
        _rewrite(lambda m: [*m[:4], m[3], *m[4:]]),
        "where 'tile/entries/000' was expected",
    ),
    ("swapped", _rewrite(_swap(3, 5)), "where 'tile/0/000' was expected"),
    ("oversized-tile", _rewrite(_replace("tile/0/000", bytes(8193))), "8193 bytes, at most 8192"),
    ("short-tile", _rewrite(_replace("tile/0/000", bytes(8160))), "tile/0/000"),
    ("tile-of-zeros", _rewrite(_replace("tile/0/000", bytes(8192))), "tile/0/000: tile hashes to"),
    ("empty-bundle", _rewrite(_replace("tile/entries/000", b"")), "tile/entries/000"),
    (
        "path-traversal-name",
        _rewrite(lambda m: [("../checkpoint", m[0][1]), *m[1:]]),
        "'../checkpoint' where 'checkpoint'",
    ),
]


@pytest.mark.parametrize(
    ("edit", "reason"), [t[1:] for t in TAMPERING], ids=[t[0] for t in TAMPERING]
)
def test_tampered_snapshots_are_refused_and_the_database_stays_empty(
    sqlite_engine: Engine,
    source: tuple[bytes, Ed25519Signer],
    tmp_path: Path,
    edit: Callable[[bytes], bytes],
    reason: str,
) -> None:
    data, signer = source
    path = tmp_path / "tampered.tar"
    path.write_bytes(edit(data))
    with pytest.raises(SnapshotRejectedError, match=reason):
        restore(path, sqlite_engine, signer.verifier(), signer.name)
    assert_empty(sqlite_engine)


def test_a_member_that_is_not_a_regular_file_is_refused(
    engine: Engine, source: tuple[bytes, Ed25519Signer], tmp_path: Path
) -> None:
    _, signer = source
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("checkpoint")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tar.addfile(info)
    path = tmp_path / "link.tar"
    path.write_bytes(out.getvalue())
    with pytest.raises(SnapshotRejectedError, match="not a regular file"):
        restore(path, engine, signer.verifier(), signer.name)
    assert_empty(engine)


def test_a_snapshot_of_another_log_is_refused(
    engine: Engine, source: tuple[bytes, Ed25519Signer], tmp_path: Path
) -> None:
    data, signer = source
    path = tmp_path / "s.tar"
    path.write_bytes(data)
    other = Ed25519Signer(signer.name, bytes(32))
    with pytest.raises(
        SnapshotRejectedError, match=r"member 'checkpoint': .*no signature by a known key"
    ):
        restore(path, engine, other.verifier(), signer.name)
    with pytest.raises(SnapshotRejectedError, match="origin"):
        restore(path, engine, signer.verifier(), "example.org/another-log")
    renamed = Ed25519Signer("example.org/another-log", signer.seed)
    with pytest.raises(SnapshotRejectedError, match="checkpoint"):
        restore(path, engine, renamed.verifier(), renamed.name)
    assert_empty(engine)


def _signed_snapshot(signer: Ed25519Signer, entries: list[bytes]) -> bytes:
    """A snapshot whose tiles and signature are right for ``entries``, as only
    the key holder could make: what is left to catch is in the entries."""
    leaves = hash_leaves(entries)
    served = build_tiles(leaves) | build_bundles(entries)
    note = sign_checkpoint(Checkpoint(signer.name, len(entries), root_hash(leaves)), signer)
    return tar_of(
        [("checkpoint", note)] + [(t.path(), served[t]) for t in snapshot_order(len(entries))]
    )


def _wrong_prev(entry: bytes) -> bytes:
    at = entry.index(b'"prev":"') + len(b'"prev":"')
    digit = b"1" if entry[at : at + 1] == b"0" else b"0"
    return entry[:at] + digit + entry[at + 1 :]


def _good_entries(count: int) -> list[bytes]:
    out: list[bytes] = []
    prev = GENESIS_PREV
    for seq, (type_, body) in enumerate(member_items(0, count)):
        entry = make_entry(seq, prev, TIME, type_, body)
        out.append(entry.to_bytes())
        prev = entry.leaf_hash()
    return out


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (
            lambda e: [*e[:5], e[5].replace(b'{"body"', b'{ "body"'), *e[6:]],
            "entry 5: not in RFC 8785 canonical form",
        ),
        (lambda e: [*e[:5], e[6], *e[6:]], r"entry 6: seq: expected 5"),
        (lambda e: [*e[:5], *e[6:]], r"entry 6: seq: expected 5"),
        (lambda e: [*e[:5], _wrong_prev(e[5]), *e[6:]], "entry 5: prev: chain broken"),
        (lambda e: [*e, b"not json"], "entry 300: not JSON"),
        (lambda e: [*e, b""], "entry 300: not JSON"),
    ],
    ids=["non-canonical", "duplicate", "gap", "bad-prev", "garbage", "empty"],
)
def test_entries_are_parsed_strictly_and_chained(
    sqlite_engine: Engine,
    signer: Ed25519Signer,
    tmp_path: Path,
    damage: Callable[[list[bytes]], list[bytes]],
    reason: str,
) -> None:
    entries = damage(_good_entries(300))
    path = tmp_path / "forged.tar"
    path.write_bytes(_signed_snapshot(signer, entries))
    with pytest.raises(SnapshotRejectedError, match=reason):
        restore(path, sqlite_engine, signer.verifier(), signer.name)
    assert_empty(sqlite_engine)


def test_the_good_forgery_baseline_restores(
    engine: Engine, signer: Ed25519Signer, tmp_path: Path
) -> None:
    # The helper above makes valid snapshots when the entries are right, so
    # the refusals above are for the damage, not for the helper.
    path = tmp_path / "good.tar"
    path.write_bytes(_signed_snapshot(signer, _good_entries(300)))
    assert restore(path, engine, signer.verifier(), signer.name).size == 300


def test_a_file_changed_between_the_passes_is_refused_and_rolled_back(
    engine: Engine,
    source: tuple[bytes, Ed25519Signer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data, signer = source
    path = tmp_path / "s.tar"
    path.write_bytes(data)
    real_verify = verify_snapshot

    def verify_then_tamper(p: Path, verifier: Ed25519Verifier, origin: str) -> object:
        signed = real_verify(p, verifier, origin)
        path.write_bytes(_in_member("tile/entries/002.p/88", 40)(data))
        return signed

    monkeypatch.setattr("server.snapshot.verify_snapshot", verify_then_tamper)
    with pytest.raises(SnapshotRejectedError, match=r"tile/entries/002\.p/88"):
        restore(path, engine, signer.verifier(), signer.name)
    # The load had written the first bundles before it met the bad one.
    assert_empty(engine)


# --- static export ---------------------------------------------------------------------


def _fetch_files(folder: Path) -> Callable[[TileCoord], bytes | None]:
    def fetch(tile: TileCoord) -> bytes | None:
        path = folder / tile.path()
        return path.read_bytes() if path.is_file() else None

    return fetch


def test_export_tiles_writes_what_http_serves_and_is_incremental(
    engine: Engine, signer: Ed25519Signer, tmp_path: Path
) -> None:
    store = LogStore(engine)
    sequencer = Sequencer(engine, signer, signer.name, lambda: TIME)
    grow(sequencer, store, 300)
    out = tmp_path / "public"
    checkpoint = export_tiles(store, out, signer.verifier(), signer.name)
    assert checkpoint.size == 300
    assert (out / "checkpoint").read_bytes() == store.latest_checkpoint()
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == sorted(["checkpoint"] + [t.path() for t in snapshot_order(300)])
    for tile in snapshot_order(300):
        assert (out / tile.path()).read_bytes() == read_tile(store, tile, 300)
    old = 1_000_000_000
    os.utime(out / "tile/0/000", (old, old))
    os.utime(out / "tile/entries/000", (old, old))

    grow(sequencer, store, 700)
    export_tiles(store, out, signer.verifier(), signer.name)
    # Full tiles are final: an export leaves them as they are.
    assert (out / "tile/0/000").stat().st_mtime == old
    assert (out / "tile/entries/000").stat().st_mtime == old
    # The old partial tiles stay, as tlog-tiles allows.
    assert (out / "tile/0/001.p/44").is_file()
    assert not any(p.name.startswith(".tmp-") for p in out.rglob("*"))
    entries = list(mirror_tiles(700, LogStore(engine).root_hash(700), _fetch_files(out)))
    assert entries == store.entries(0, 700)


def test_export_refuses_a_folder_of_another_log_or_a_newer_checkpoint(
    engine: Engine, second_engine: Engine, signer: Ed25519Signer, tmp_path: Path
) -> None:
    store, smaller = LogStore(engine), LogStore(second_engine)
    grow(Sequencer(engine, signer, signer.name, lambda: TIME), store, 300)
    grow(Sequencer(second_engine, signer, signer.name, lambda: TIME), smaller, 10)
    out = tmp_path / "public"
    export_tiles(store, out, signer.verifier(), signer.name)
    before = (out / "checkpoint").read_bytes()
    with pytest.raises(ExportError, match="size 300, newer than the log's 10"):
        export_tiles(smaller, out, signer.verifier(), signer.name)
    other = Ed25519Signer("example.org/other", bytes(32))
    with pytest.raises(ExportError, match="not a checkpoint of this log"):
        export_tiles(store, out, other.verifier(), other.name)
    assert (out / "checkpoint").read_bytes() == before
