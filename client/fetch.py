"""Where a log is read from: the :class:`Fetcher` protocol, and reading a
log over HTTP (its checkpoint and its C2SP tlog-tiles).

Every command takes a :class:`Fetcher`, not a class: :class:`HttpFetcher`
here, a snapshot tar or a folder of exported tiles
(:mod:`client.sources`), or, in tests, a log served from memory, honest or
not (python-tuf's ``FetcherInterface`` is the model).

:class:`HttpFetcher` uses the standard library only (``urllib``).  What
comes back is never trusted here: :mod:`verifiable` checks every byte against
a signed checkpoint.  It only keeps the transfer sane: http and https only,
a timeout on every request, a size cap on every response (compressed and
decompressed, so a gzip bomb is cut short), ``404`` as "not there"
(``None``), and every other failure as one :class:`FetchError` saying which
URL and why, which the command line reports as "cannot verify".  It counts
what it fetched.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from typing import IO, Protocol
from urllib.parse import urlsplit

from verifiable.errors import MutualogError
from verifiable.log.entry import MAX_ENTRY_SIZE
from verifiable.log.merkle import HASH_SIZE
from verifiable.log.tiles import TileCoord

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TIMEOUT",
    "MAX_CHECKPOINT_BYTES",
    "FetchError",
    "FetchStats",
    "Fetcher",
    "HttpFetcher",
    "is_url",
]

DEFAULT_TIMEOUT = 30.0
"""Seconds to wait for a connection or for the next bytes of a response."""

MAX_CHECKPOINT_BYTES = 64 * 1024
"""A checkpoint with a hundred cosignatures is under 16 KiB."""

DEFAULT_MAX_BYTES = 32 * 1024 * 1024
"""A cap on any one response; a full entry bundle is at most about 16 MiB."""

_USER_AGENT = "mutualog-client/1"
_GZIP_WBITS = 16 + zlib.MAX_WBITS
_CHUNK = 64 * 1024


class FetchError(MutualogError):
    """A request that did not give an answer: the network, the server's
    status, a response too large, or a response that cannot be decoded."""


@dataclass
class FetchStats:
    """What a fetcher has fetched so far."""

    requests: int = 0
    tiles: int = 0
    wire_bytes: int = 0
    """Bytes received as sent (gzip-compressed, if the server compressed)."""
    body_bytes: int = 0
    """Bytes after decompression."""

    def to_json(self) -> dict[str, int]:
        return {
            "requests": self.requests,
            "tiles": self.tiles,
            "wire_bytes": self.wire_bytes,
            "body_bytes": self.body_bytes,
        }


class Fetcher(Protocol):
    """A log's checkpoint, tiles and entry bundles, read from somewhere.

    Nothing it returns is trusted: :mod:`verifiable` checks every byte
    against a signed checkpoint.  Errors are the source's own
    (:class:`FetchError` over HTTP, :class:`~client.sources.SourceError` for
    files); what is not there is ``None``.
    """

    @property
    def label(self) -> str:
        """Where the log is read from, as reports name it (a URL or a path)."""
        ...

    @property
    def remote(self) -> bool:
        """Whether every read crosses a network: then an audit keeps the entry
        bundles it has proven on disk, so that a resumed one need not fetch
        them again (a local file is simply read again)."""
        ...

    @property
    def stats(self) -> FetchStats | None:
        """What has been fetched so far, for a report; ``None`` if not counted."""
        ...

    def url(self, path: str) -> str:
        """Where ``path`` (below the log's prefix) is read from, for messages."""
        ...

    def get(self, path: str, limit: int) -> bytes | None:
        """The bytes at ``path`` below the log's prefix (at most ``limit``),
        or ``None`` if there are none."""
        ...

    def checkpoint(self) -> bytes:
        """The log's checkpoint note; a log without one cannot be verified."""
        ...

    def fetch(self, tile: TileCoord) -> bytes | None:
        """A tile's or entry bundle's bytes, ``None`` if there are none: a
        :data:`verifiable.log.tiles.Fetch`."""
        ...

    def listing(self) -> frozenset[str] | None:
        """Every path the source holds, when it is a closed set that should
        hold the log's files and nothing else (a snapshot tar); ``None``
        when it cannot say or need not (a folder, a URL)."""
        ...

    def close(self) -> None: ...


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    # urllib also follows redirects to ftp:; a log lives on http(s) only.
    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if urlsplit(newurl).scheme not in ("http", "https"):
            # urllib closes the redirect's response only once it follows it.
            fp.close()
            raise FetchError(f"GET {req.full_url}: redirected to a non-HTTP URL")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _tile_limit(tile: TileCoord) -> int:
    if tile.is_entry_bundle:
        return tile.width * (2 + MAX_ENTRY_SIZE)
    return tile.width * HASH_SIZE


class HttpFetcher:
    """GETs a log's checkpoint and tiles below ``base_url`` (the tlog-tiles
    prefix, e.g. ``https://example.org/mutualog/pool-1/``): a :class:`Fetcher`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"{base_url!r}: not an http:// or https:// URL with a host")
        if parts.query or parts.fragment:
            raise FetchError(f"{base_url!r}: a log's URL has no query or fragment")
        if parts.username or parts.password:
            raise FetchError(f"{base_url!r}: credentials in the URL are not supported")
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.stats = FetchStats()
        self._last_wire = 0
        self._opener = urllib.request.build_opener(_RedirectHandler())

    @property
    def label(self) -> str:
        return self.base_url

    @property
    def remote(self) -> bool:
        return True

    def listing(self) -> None:
        # A server may serve more than the log (its API, older partial tiles).
        return None

    def url(self, path: str) -> str:
        return self.base_url + path

    def get(self, path: str, limit: int, *, fresh: bool = False) -> bytes | None:
        """The body at ``path`` (at most ``limit`` bytes once decoded), or
        ``None`` on 404.  ``fresh`` asks caches to revalidate."""
        url = self.url(path)
        limit = min(limit, self.max_bytes)
        headers = {"Accept-Encoding": "gzip", "User-Agent": _USER_AGENT}
        if fresh:
            headers["Cache-Control"] = "no-cache"
        request = urllib.request.Request(url, headers=headers)
        self.stats.requests += 1
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                encoding = (response.headers.get("Content-Encoding") or "identity").lower()
                if encoding not in ("identity", "gzip"):
                    raise FetchError(f"GET {url}: unsupported Content-Encoding {encoding!r}")
                length = response.headers.get("Content-Length")
                if encoding == "identity" and length and length.isdigit() and int(length) > limit:
                    raise FetchError(f"GET {url}: {length} bytes, more than the {limit} expected")
                raw = self._read_capped(response, url, limit + 1024, encoding == "gzip", limit)
                # read(n) returns what came before the connection closed; only
                # the announced length tells that the body was cut short.
                if length and length.isdigit() and self._last_wire != int(length):
                    raise FetchError(
                        f"GET {url}: the connection closed after {self._last_wire} of "
                        f"{length} bytes"
                    )
        except urllib.error.HTTPError as e:
            e.close()
            if e.code == 404:
                return None
            raise FetchError(f"GET {url}: HTTP {e.code} {e.reason}") from e
        except urllib.error.URLError as e:
            if isinstance(e.reason, TimeoutError):
                raise FetchError(f"GET {url}: no answer within {self.timeout:g} s") from e
            raise FetchError(f"GET {url}: {e.reason}") from e
        except TimeoutError as e:
            raise FetchError(f"GET {url}: no answer within {self.timeout:g} s") from e
        except (OSError, http.client.HTTPException, ValueError) as e:
            raise FetchError(f"GET {url}: {type(e).__name__}: {e}") from e
        return raw

    def _read_capped(
        self, response: IO[bytes], url: str, wire_limit: int, gzipped: bool, limit: int
    ) -> bytes:
        wire = self._last_wire = 0
        out = bytearray()
        inflate = zlib.decompressobj(_GZIP_WBITS) if gzipped else None
        while chunk := response.read(_CHUNK):
            wire += len(chunk)
            self._last_wire = wire
            self.stats.wire_bytes += len(chunk)
            if wire > wire_limit:
                raise FetchError(f"GET {url}: more than the {limit} bytes expected")
            if inflate is None:
                out += chunk
            else:
                try:
                    out += inflate.decompress(chunk, limit + 1 - len(out))
                except zlib.error as e:
                    raise FetchError(f"GET {url}: bad gzip data: {e}") from e
                if inflate.unconsumed_tail:
                    raise FetchError(f"GET {url}: decompresses to more than {limit} bytes")
            if len(out) > limit:
                raise FetchError(f"GET {url}: more than the {limit} bytes expected")
        if inflate is not None:
            try:
                out += inflate.flush()
            except zlib.error as e:
                raise FetchError(f"GET {url}: bad gzip data: {e}") from e
            if not inflate.eof:
                raise FetchError(f"GET {url}: gzip data is truncated")
            if len(out) > limit:
                raise FetchError(f"GET {url}: decompresses to more than {limit} bytes")
        self.stats.body_bytes += len(out)
        return bytes(out)

    def checkpoint(self) -> bytes:
        """The log's current checkpoint note; a log without one cannot be verified."""
        data = self.get("checkpoint", MAX_CHECKPOINT_BYTES, fresh=True)
        if data is None:
            raise FetchError(f"GET {self.url('checkpoint')}: 404, the log serves no checkpoint")
        return data

    def fetch(self, tile: TileCoord) -> bytes | None:
        """A tile's or entry bundle's bytes, ``None`` if the server has none."""
        self.stats.tiles += 1
        return self.get(tile.path(), _tile_limit(tile))

    def close(self) -> None:
        self._opener.close()
