"""The C2SP tlog-tiles read path over HTTP, checked by verifiable's own
tlog-tiles client code (mirror_tiles, TileHashReader) against the checkpoint."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from server import create_app
from server.db import make_engine, upgrade
from server.keys import create_key_file
from server.sequencer import Sequencer
from server.storage import LogStore
from server.views.tiles import CHECKPOINT_CACHE, FULL_TILE_CACHE, PARTIAL_TILE_CACHE
from verifiable.log.bodies import AgeBand, Body, MemberJoined
from verifiable.log.checkpoint import Checkpoint, open_checkpoint
from verifiable.log.merkle import inclusion_proof_from, leaf_hash, verify_inclusion
from verifiable.log.note import Ed25519Signer, Ed25519Verifier
from verifiable.log.tiledlog import mirror_tiles
from verifiable.log.tiles import (
    TileCoord,
    TileHashReader,
    bundles_for_size,
    tile_hashes,
    tiles_for_size,
)


def member_items(start: int, count: int) -> list[tuple[str, Body]]:
    return [
        ("member.joined", MemberJoined(member=f"{i:032x}", age_band=AgeBand.FROM_18_TO_39))
        for i in range(start, start + count)
    ]


@dataclass
class Log:
    app: Flask
    client: FlaskClient
    store: LogStore
    sequencer: Sequencer
    verifier: Ed25519Verifier

    def grow(self, size: int) -> None:
        while (now := self.store.size()) < size:
            self.sequencer.append(member_items(now, min(1000, size - now)))

    def checkpoint(self) -> Checkpoint:
        response = self.client.get("/checkpoint")
        assert response.status_code == 200
        return open_checkpoint(response.data, self.verifier, self.verifier.name).checkpoint

    def state(self) -> tuple[int, bytes | None]:
        return self.store.size(), self.store.latest_checkpoint()


def _make_log(folder: Path, url: str, engine: Engine, signer: Ed25519Signer) -> Log:
    create_key_file(folder / "log.key", signer.name, signer.seed)
    sequencer = Sequencer(engine, signer, signer.name, lambda: datetime(2026, 1, 1, tzinfo=UTC))
    sequencer.ensure_checkpoint()
    app = create_app({"MUTUALOG_INSTANCE": folder, "MUTUALOG_DATABASE_URL": url, "TESTING": True})
    return Log(app, app.test_client(), LogStore(engine), sequencer, signer.verifier())


@pytest.fixture
def log(tmp_path: Path, database_url: str, engine: Engine, signer: Ed25519Signer) -> Iterator[Log]:
    """A fresh log with its size-0 checkpoint, as ``mutualog-server init`` leaves it."""
    made = _make_log(tmp_path, database_url, engine, signer)
    yield made
    made.app.extensions["mutualog"].engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Log]:
    """One log of 300 entries for the tests that only read it."""
    folder = tmp_path_factory.mktemp("tiles")
    server = None
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'log.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.new_database()
    engine = make_engine(url)
    upgrade(engine)
    made = _make_log(folder, url, engine, Ed25519Signer("example.org/tiles-test", bytes(32)))
    made.grow(300)
    yield made
    made.app.extensions["mutualog"].engine.dispose()
    engine.dispose()
    if server is not None:
        server.drop_database(url)


def http_fetch(client: FlaskClient) -> Callable[[TileCoord], bytes | None]:
    def fetch(tile: TileCoord) -> bytes | None:
        response = client.get("/" + tile.path())
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.data
        return response.get_data()

    return fetch


def record_into(verified: list[TileCoord]) -> Callable[[TileCoord, bytes], None]:
    def record(tile: TileCoord, _data: bytes) -> None:
        verified.append(tile)

    return record


def test_empty_log_serves_its_size_0_checkpoint(log: Log) -> None:
    response = log.client.get("/checkpoint")
    assert response.status_code == 200
    assert response.content_type == "text/plain; charset=utf-8"
    assert response.headers["Cache-Control"] == CHECKPOINT_CACHE
    checkpoint = log.checkpoint()
    assert checkpoint.size == 0
    assert list(mirror_tiles(0, checkpoint.root_hash, http_fetch(log.client))) == []
    assert log.client.get("/tile/0/000.p/1").status_code == 404
    assert log.client.get("/tile/entries/000.p/1").status_code == 404


def test_mirror_over_http_as_the_log_grows(log: Log) -> None:
    fetch = http_fetch(log.client)
    for size in (1, 2, 255, 256, 257, 511, 512, 600, 65 * 256):
        log.grow(size)
        checkpoint = log.checkpoint()
        assert checkpoint.size == size
        verified: list[TileCoord] = []
        mirrored = list(
            mirror_tiles(size, checkpoint.root_hash, fetch, on_verified=record_into(verified))
        )
        assert mirrored == log.store.entries(0, size)
        # Every tile and bundle of the tree, each proven once.
        assert sorted(verified) == sorted([*tiles_for_size(size), *bundles_for_size(size)])
        reader = TileHashReader(size, checkpoint.root_hash, fetch)
        for index in {0, size // 2, size - 1}:
            proof = inclusion_proof_from(reader, index, size)
            assert proof == log.store.inclusion_proof(index, size)
            verify_inclusion(leaf_hash(mirrored[index]), index, size, proof, checkpoint.root_hash)


@pytest.mark.slow
def test_mirror_over_http_with_three_tile_levels(log: Log) -> None:
    size = 256 * 256 + 300
    log.grow(size)
    checkpoint = log.checkpoint()
    fetch = http_fetch(log.client)
    count = sum(1 for _ in mirror_tiles(size, checkpoint.root_hash, fetch))
    assert count == size
    assert log.client.get("/tile/2/000.p/1").status_code == 200
    assert log.client.get("/tile/1/000").headers["Cache-Control"] == FULL_TILE_CACHE


def test_headers_of_full_and_partial_tiles(shared: Log) -> None:
    full = shared.client.get("/tile/0/000")
    assert full.status_code == 200
    assert full.content_type == "application/octet-stream"
    assert full.headers["Cache-Control"] == FULL_TILE_CACHE == "public, max-age=31536000, immutable"
    assert len(full.data) == 256 * 32
    partial = shared.client.get("/tile/0/001.p/44")
    assert partial.status_code == 200
    assert partial.content_type == "application/octet-stream"
    assert partial.headers["Cache-Control"] == PARTIAL_TILE_CACHE
    bundle = shared.client.get("/tile/entries/000")
    assert bundle.headers["Cache-Control"] == FULL_TILE_CACHE
    assert bundle.content_type == "application/octet-stream"
    assert "Accept-Encoding" in bundle.headers["Vary"]
    assert "Content-Encoding" not in bundle.headers
    head = shared.client.head("/tile/0/000")
    assert head.status_code == 200
    assert head.headers["Content-Length"] == str(256 * 32)


def test_entry_bundles_are_gzipped_for_clients_that_accept_it(shared: Log) -> None:
    plain = shared.client.get("/tile/entries/000").data
    for accept in ("gzip", "gzip, identity", "br;q=1.0, gzip;q=0.5", "*"):
        response = shared.client.get("/tile/entries/000", headers={"Accept-Encoding": accept})
        assert response.headers["Content-Encoding"] == "gzip", accept
        assert gzip.decompress(response.data) == plain
        assert len(response.data) < len(plain)
    for accept in ("identity", "gzip;q=0", "br"):
        response = shared.client.get("/tile/entries/000", headers={"Accept-Encoding": accept})
        assert "Content-Encoding" not in response.headers, accept
        assert response.data == plain
    # Hash tiles are random bytes: they are never compressed.
    tile = shared.client.get("/tile/0/000", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in tile.headers


def test_partial_tiles_of_earlier_sizes_stay_available(log: Log) -> None:
    log.grow(5)
    old_tile = log.client.get("/tile/0/000.p/5").data
    old_bundle = log.client.get("/tile/entries/000.p/5").data
    log.grow(300)
    # The tile at width 5 is the same prefix it was, now of a full tile.
    assert log.client.get("/tile/0/000.p/5").data == old_tile
    assert log.client.get("/tile/entries/000.p/5").data == old_bundle
    full = log.client.get("/tile/0/000").data
    assert tile_hashes(full)[:5] == tile_hashes(old_tile)
    # Any narrower width of the current partial tile is a prefix too.
    assert log.client.get("/tile/0/001.p/10").data == log.client.get("/tile/0/001.p/44").data[:320]


@pytest.mark.parametrize(
    "path",
    [
        "/tile/0/001",  # only a partial tile of width 44 exists
        "/tile/0/001.p/45",  # wider than the tree has
        "/tile/0/001.p/255",
        "/tile/0/002.p/1",  # beyond the tree
        "/tile/0/x001/000",
        "/tile/1/000",  # level 1 has only a partial tile of width 1
        "/tile/1/000.p/2",
        "/tile/2/000.p/1",
        "/tile/63/000.p/1",
        "/tile/entries/001",
        "/tile/entries/001.p/45",
        "/tile/entries/x018/x446/x744/x073/x709/x551/615",  # 2**64 - 1
    ],
)
def test_tiles_the_tree_does_not_have_are_404(shared: Log, path: str) -> None:
    response = shared.client.get(path)
    assert response.status_code == 404
    body = response.get_json()
    assert body["error"] == "not_found"
    assert "tree of size 300" in body["message"]
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "path",
    [
        "/tile/0/0",
        "/tile/0/00",
        "/tile/0/0000",
        "/tile/00/000",
        "/tile/01/000",
        "/tile/64/000",
        "/tile/-1/000",
        "/tile/+0/000",
        "/tile/0/-01",
        "/tile/0/000.p/0",
        "/tile/0/000.p/256",
        "/tile/0/000.p/07",
        "/tile/0/000.p/",
        "/tile/0/000.p/1x",
        "/tile/0/000/",
        "/tile/0/000.p",
        "/tile/0/x000/001",
        "/tile/0/001/x001",
        "/tile/0/y001/000",
        "/tile/0/x1/000",
        "/tile/0/abc",
        "/tile/entries/abc",
        "/tile/entries",
        "/tile/entries/",
        "/tile/0",
        "/tile/",
        "/tile",
        "/tile/x/000",
        "/tile/0/%2e%2e/%2e%2e/checkpoint",
        "/tile/..%2f..%2fetc/passwd",
        "/tile/0/000%00",
        "/tile/0/\u0660\u0660\u0660",
        "/tile/\uff10/000",
        "/tile/0/000;DROP TABLE entries",
        "/tile/0/x999/x999/x999/x999/x999/x999/x999/999",
        "/tile/0/x018/x446/x744/x073/x709/x551/616",
        "/tile/0/" + "x000/" * 50 + "000",
    ],
)
def test_paths_that_name_no_tile_are_404(shared: Log, path: str) -> None:
    before = shared.state()
    response = shared.client.get(path)
    assert response.status_code == 404, path
    assert response.is_json
    assert set(response.get_json()) == {"error", "message"}
    assert response.get_json()["error"] == "not_found"
    assert shared.state() == before


@pytest.mark.parametrize("path", ["/checkpoint", "/tile/0/000.p/3", "/snapshot"])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_the_read_path_is_read_only(shared: Log, path: str, method: str) -> None:
    before = shared.state()
    response = shared.client.open(path, method=method, data=b"x" * 100)
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]
    assert shared.state() == before
