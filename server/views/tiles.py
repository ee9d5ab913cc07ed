"""Blueprint ``tiles``: the C2SP tlog-tiles read path and the snapshot.

* ``GET /checkpoint`` — the newest signed checkpoint note that meets the
  log's witness policy (K of its witnesses cosigned it; every checkpoint
  when K is 0), with every cosignature gathered for it
  (:mod:`server.witnessing`), ``text/plain; charset=utf-8``, cacheable for
  a few seconds only.  ``GET /checkpoint/latest`` — the newest checkpoint,
  witnessed or not yet.
* ``GET /tile/<L>/<N>[.p/<W>]`` and ``GET /tile/entries/<N>[.p/<W>]`` —
  ``application/octet-stream``; full tiles are immutable and cacheable for a
  year, partial ones briefly (they stop being the newest as the log grows).
  A path that names no tile, or a tile the tree does not have (yet), is 404,
  as a static file server would answer; a partial tile narrower than what
  the tree now has is still served (the same bytes it was).  Entry bundles
  are gzip-compressed for clients that accept it (tlog-tiles: SHOULD).
* ``GET /snapshot`` — the whole log as one tar (:mod:`server.snapshot`).

Tiles are served for the tree size of the newest checkpoint, so a client
never sees a tile its checkpoint does not cover; a witnessed checkpoint
is never newer, and a tile is addressed by index, so its tiles are there
too (a partial tile narrower than the tree's is still served).
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from server.context import current_log
from server.errors import NotFoundError
from server.snapshot import plan_snapshot, snapshot_chunks, snapshot_name
from server.tiledata import gzipped_bundle, read_tile
from server.witnessing.store import (
    cosigned_checkpoint,
    required_witnesses,
    served_checkpoint,
    witness_keys,
)
from verifiable.errors import MalformedError
from verifiable.log.tiles import TileCoord

__all__ = [
    "CHECKPOINT_CACHE",
    "FULL_TILE_CACHE",
    "PARTIAL_TILE_CACHE",
    "SNAPSHOT_CACHE",
    "compress",
    "tiles",
]

# tlog-tiles: the checkpoint's "headers SHOULD prevent caching beyond a few seconds".
CHECKPOINT_CACHE = "public, max-age=5"
# A full tile or bundle never changes: cache it for a year and never revalidate.
FULL_TILE_CACHE = "public, max-age=31536000, immutable"
# A partial tile's bytes never change either, but a newer, wider one soon
# supersedes it and a log may stop serving it: keep caches short.
PARTIAL_TILE_CACHE = "public, max-age=60"
SNAPSHOT_CACHE = "public, max-age=60"

_OCTETS = "application/octet-stream"

tiles = Blueprint("tiles", __name__)


def compress(response: Response, data: bytes) -> None:
    """Send ``data`` gzipped in ``response`` if the client accepts it and it
    is worth it; either way the answer varies with ``Accept-Encoding``."""
    response.vary.add("Accept-Encoding")
    if request.accept_encodings.quality("gzip") > 0 and (packed := gzipped_bundle(data)):
        response.set_data(packed)
        response.headers["Content-Encoding"] = "gzip"


@tiles.get("/checkpoint")
def checkpoint() -> Response:
    engine = current_log().engine
    served = served_checkpoint(engine)
    if served is None:
        if current_log().store.latest_checkpoint() is None:
            raise NotFoundError("the log has no checkpoint yet: nothing has been appended")
        raise NotFoundError(
            f"no checkpoint has been cosigned by {required_witnesses(engine)} witnesses yet; "
            "the newest, not yet witnessed, is at /checkpoint/latest"
        )
    return _checkpoint_response(served.note)


@tiles.get("/checkpoint/latest")
def latest_checkpoint() -> Response:
    engine = current_log().engine
    keys, _ = witness_keys(engine)
    newest = cosigned_checkpoint(engine, keys, 0)
    if newest is None:
        raise NotFoundError("the log has no checkpoint yet: nothing has been appended")
    return _checkpoint_response(newest.note)


def _checkpoint_response(note: bytes) -> Response:
    response = Response(note, content_type="text/plain; charset=utf-8")
    response.headers["Cache-Control"] = CHECKPOINT_CACHE
    return response


@tiles.get("/tile/<path:rest>")
def tile(rest: str) -> Response:
    try:
        coord = TileCoord.from_path("tile/" + rest)
    except MalformedError as e:
        raise NotFoundError(str(e)) from e
    log = current_log()
    size = log.store.size()
    data = read_tile(log.store, coord, size)
    if data is None:
        raise NotFoundError(f"{coord}: the tree of size {size} has no such tile")
    response = Response(data, content_type=_OCTETS)
    response.headers["Cache-Control"] = PARTIAL_TILE_CACHE if coord.is_partial else FULL_TILE_CACHE
    if coord.is_entry_bundle:
        compress(response, data)
    return response


@tiles.get("/snapshot")
def snapshot() -> Response:
    store = current_log().store
    plan = plan_snapshot(store)
    if plan is None:
        raise NotFoundError("the log has no checkpoint yet: there is nothing to snapshot")
    response = Response(snapshot_chunks(store, plan), content_type="application/x-tar")
    response.headers["Content-Disposition"] = f'attachment; filename="{snapshot_name(plan)}"'
    response.headers["Cache-Control"] = SNAPSHOT_CACHE
    return response
