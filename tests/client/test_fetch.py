"""``client.fetch``: tlog-tiles over HTTP, against the real server and a stub
that misbehaves on purpose."""

from __future__ import annotations

import contextlib
import gzip
import http.server
import io
import tarfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from client.fetch import Fetcher, FetchError, HttpFetcher
from client.sources import DirectorySource, SourceError, TarSource, open_source
from verifiable.log.tiles import TileCoord, decode_bundle, tile_hashes

if TYPE_CHECKING:
    from tests.client.harness import LogInstance, Served, Servers

ORIGIN = "example.org/mutualog/test"


def test_checkpoint_tiles_and_bundles_from_the_server(
    served_log: tuple[LogInstance, Served],
) -> None:
    fetcher = HttpFetcher(served_log[1].url.rstrip("/"))  # the slash is optional
    assert fetcher.checkpoint().startswith(f"{ORIGIN}\n600\n".encode())
    tile = fetcher.fetch(TileCoord(0, 1))
    assert tile is not None and len(tile_hashes(tile, 256)) == 256
    before = fetcher.stats.wire_bytes
    bundle = fetcher.fetch(TileCoord.entry_bundle(0))
    assert bundle is not None and len(decode_bundle(bundle, 256)) == 256
    # The server gzips entry bundles; the client counts both sizes.
    assert fetcher.stats.wire_bytes - before < len(bundle)
    assert fetcher.fetch(TileCoord(0, 9)) is None  # beyond the tree: 404
    assert fetcher.stats.requests == 4 and fetcher.stats.tiles == 3
    assert fetcher.stats.body_bytes == len(fetcher.checkpoint()) + len(tile) + len(bundle)
    fetcher.close()


def test_a_log_below_a_path_prefix(
    served_log: tuple[LogInstance, Served], servers: Servers, tmp_path: Path
) -> None:
    log, _ = served_log
    log.export(tmp_path / "site" / "pools" / "pool-1")
    served = servers.static(tmp_path / "site")
    fetcher = HttpFetcher(served.url + "pools/pool-1/")
    assert fetcher.checkpoint().startswith(ORIGIN.encode())
    assert fetcher.fetch(TileCoord.entry_bundle(2, 88)) is not None
    servers.stop(served)


# --- a server that misbehaves -------------------------------------------------------


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    length: int | None = None  # a Content-Length that may lie


class _Handler(http.server.BaseHTTPRequestHandler):
    answers: dict[str, Answer]

    def do_GET(self) -> None:
        answer = self.answers.get(self.path.lstrip("/"), Answer(404, b"not found"))
        time.sleep(answer.delay)
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        length = len(answer.body) if answer.length is None else answer.length
        if length >= 0:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        # The client hangs up on answers it refuses (too long, too slow).
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(answer.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hangs up early is what some tests do; keep the
        # test output clean of the server's tracebacks.
        pass


@dataclass
class Stub:
    url: str
    answers: dict[str, Answer]


@pytest.fixture
def stub() -> Iterator[Stub]:
    answers: dict[str, Answer] = {}
    handler = type("Handler", (_Handler,), {"answers": answers})
    server = _Server(("127.0.0.1", 0), handler)
    # Joined by server_close(), so no handler outlives the test and writes
    # into another test's output.
    server.daemon_threads = False
    # A short poll keeps shutdown() quick.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield Stub(f"http://127.0.0.1:{server.server_address[1]}/", answers)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


HASH_TILE = "tile/0/000"  # at most 8,192 bytes


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (Answer(500, b"oops"), "HTTP 500"),
        (Answer(403, b"no"), "HTTP 403"),
        (Answer(200, b"x" * 9000), "9000 bytes, more than the 8192 expected"),
        (Answer(200, b"x" * 9000, length=-1), "more than the 8192 bytes expected"),
        (
            Answer(200, gzip.compress(bytes(1_000_000)), {"Content-Encoding": "gzip"}),
            "decompresses to more than 8192 bytes",
        ),
        (Answer(200, b"not gzip", {"Content-Encoding": "gzip"}), "bad gzip data"),
        (
            Answer(200, gzip.compress(bytes(100))[:-12], {"Content-Encoding": "gzip"}),
            "gzip data is truncated",
        ),
        (Answer(200, b"abc", {"Content-Encoding": "br"}), "unsupported Content-Encoding 'br'"),
        (Answer(302, b"", {"Location": "ftp://example.org/x"}), "redirected to a non-HTTP URL"),
        (Answer(200, b"short", length=8000), "the connection closed after 5 of 8000 bytes"),
    ],
    ids=[
        "500",
        "403",
        "too-long",
        "too-long-unannounced",
        "gzip-bomb",
        "bad-gzip",
        "truncated-gzip",
        "brotli",
        "redirect-to-ftp",
        "cut-short",
    ],
)
def test_failures_are_fetch_errors(stub: Stub, answer: Answer, message: str) -> None:
    stub.answers[HASH_TILE] = answer
    with pytest.raises(FetchError, match=message) as caught:
        HttpFetcher(stub.url).fetch(TileCoord(0, 0))
    assert f"GET {stub.url}{HASH_TILE}" in str(caught.value)


def test_gzip_and_redirects_are_followed(stub: Stub) -> None:
    data = bytes(range(32)) * 256
    gzipped = {"Content-Encoding": "gzip"}
    stub.answers["moved/tile/0/000"] = Answer(200, gzip.compress(data), gzipped)
    stub.answers[HASH_TILE] = Answer(301, b"", {"Location": stub.url + "moved/tile/0/000"})
    fetcher = HttpFetcher(stub.url)
    assert fetcher.fetch(TileCoord(0, 0)) == data
    assert fetcher.stats.body_bytes == len(data) and fetcher.stats.wire_bytes < len(data)


def test_a_slow_server_times_out(stub: Stub) -> None:
    stub.answers["checkpoint"] = Answer(200, b"late", delay=0.5)
    with pytest.raises(FetchError, match=r"checkpoint: no answer within 0.1 s"):
        HttpFetcher(stub.url, timeout=0.1).checkpoint()


def test_a_log_without_checkpoint(stub: Stub) -> None:
    with pytest.raises(FetchError, match="404, the log serves no checkpoint"):
        HttpFetcher(stub.url).checkpoint()


def test_the_response_cap_can_be_lowered(stub: Stub) -> None:
    stub.answers["checkpoint"] = Answer(200, b"x" * 200)
    with pytest.raises(FetchError, match="more than the 100 expected"):
        HttpFetcher(stub.url, max_bytes=100).checkpoint()


def test_unreachable(servers: Servers) -> None:
    url = f"http://127.0.0.1:{servers.free_port()}/"
    with pytest.raises(FetchError, match=r"GET .*/checkpoint: \[Errno 111\] Connection refused"):
        HttpFetcher(url).checkpoint()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/", "not an http:// or https:// URL"),
        ("http://", "not an http:// or https:// URL with a host"),
        ("https://example.org/log#top", "no query or fragment"),
        ("https://user:pw@example.org/log", "credentials in the URL"),
    ],
    ids=["file", "no-host", "fragment", "credentials"],
)
def test_bad_base_urls(url: str, message: str) -> None:
    with pytest.raises(FetchError, match=message):
        HttpFetcher(url)


# --- every source is a Fetcher ----------------------------------------------------------


def _files(tmp_path: Path) -> tuple[Path, Path]:
    """The same three files as a folder and as a tar."""
    files = {"checkpoint": b"note", "tile/0/000.p/1": bytes(32), "extra": b"x" * 100}
    folder = tmp_path / "folder"
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    tar = tmp_path / "log.tar"
    with tarfile.open(tar, "w") as out:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return folder, tar


def test_a_folder_and_a_tar_answer_as_fetchers(tmp_path: Path) -> None:
    folder, tar = _files(tmp_path)
    for source, listing in (
        (open_source(folder), None),
        (open_source(tar), frozenset({"checkpoint", "tile/0/000.p/1", "extra"})),
    ):
        fetcher: Fetcher = source
        assert not fetcher.remote and fetcher.stats is None
        assert fetcher.checkpoint() == b"note"
        assert fetcher.fetch(TileCoord(0, 0, 1)) == bytes(32)
        assert fetcher.fetch(TileCoord(0, 1)) is None
        assert fetcher.get("extra", 100) == b"x" * 100 and fetcher.get("nothing", 1) is None
        assert fetcher.url("extra") == f"{fetcher.label}: extra"
        assert fetcher.listing() == listing
        with pytest.raises(SourceError, match=r": extra: 100 bytes, more than the 99 expected"):
            fetcher.get("extra", 99)
        fetcher.close()
    for path, cls in ((folder, DirectorySource), (tar, TarSource)):
        source = open_source(path)
        assert isinstance(source, cls)
        source.close()


def test_the_http_fetcher_is_remote_and_counts(stub: Stub) -> None:
    fetcher: Fetcher = HttpFetcher(stub.url)
    assert fetcher.remote and fetcher.listing() is None
    assert fetcher.stats is not None and fetcher.stats.requests == 0
    assert fetcher.url("checkpoint") == stub.url + "checkpoint"
