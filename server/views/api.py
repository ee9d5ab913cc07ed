"""Blueprint ``api``: the JSON API under ``/api/v1`` (documented in
:mod:`server.openapi`, served at ``/api/v1/openapi.json``).

Hashes are lowercase hex.  Parameters are parsed strictly — decimal ASCII
digits without sign, spaces or leading zeros; no unknown or repeated query
parameters — and every refusal is a JSON error (:mod:`server.errors`):
400 ``bad_parameter`` for a malformed or out-of-range parameter, 404
``not_found`` for a well-formed request about something the log does not have.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, Response, jsonify

from server.context import current_log
from server.errors import BadParameterError, NotFoundError
from server.openapi import openapi_document
from server.storage import NotInLogError
from server.views.params import (
    CONSISTENCY_NEW,
    CONSISTENCY_OLD,
    ENTRY_INDEX,
    INCLUSION_SIZE,
    LEAF_HASH,
    query_args,
    required,
)
from server.witnessing.views import witnesses_json
from verifiable.log.checkpoint import Checkpoint
from verifiable.log.entry import parse_entry
from verifiable.log.merkle import EMPTY_ROOT
from verifiable.log.note import Note

__all__ = ["api"]

api = Blueprint("api", __name__, url_prefix="/api/v1")

# The log's state changes with every append: cache it as briefly as the checkpoint.
_CACHE = "public, max-age=5"
# An entry, and a proof about tree sizes the log has reached, never change.
_FOREVER = "public, max-age=31536000, immutable"


def _json(body: dict[str, Any], cache: str = _CACHE) -> Response:
    response = jsonify(body)
    response.headers["Cache-Control"] = cache
    return response


def _tree_size() -> int:
    return current_log().store.size()


def _leaf_hash(index: int) -> bytes:
    return current_log().store.level_hashes(0, index, index + 1)[0]


def _check_tree_size(name: str, size: int, tree_size: int) -> None:
    if size > tree_size:
        raise BadParameterError(f"{name} {size} is larger than the log, whose size is {tree_size}")


@contextmanager
def _within_log(name: str, size: int) -> Iterator[None]:
    """Answers a read about a tree size beyond the log as :func:`_check_tree_size`
    does: the read itself checks the size, so the common case costs no query."""
    try:
        yield
    except NotInLogError:
        _check_tree_size(name, size, _tree_size())
        raise


@api.get("/openapi.json")
def openapi() -> Response:
    return _json(openapi_document(), cache="public, max-age=3600")


@api.get("/log")
def log() -> Response:
    query_args(())
    context = current_log()
    note = context.store.latest_checkpoint()
    size, root, text = 0, EMPTY_ROOT, None
    if note is not None:
        checkpoint = Checkpoint.from_text(Note.from_bytes(note).text)
        size, root, text = checkpoint.size, checkpoint.root_hash, note.decode("utf-8")
    return _json(
        {
            "origin": context.origin,
            "verifier_key": context.verifier().to_vkey(),
            "size": size,
            "root_hash": root.hex(),
            "checkpoint": text,
            **witnesses_json(context.engine),
        }
    )


@api.get("/entries/<index_text>")
def entry(index_text: str) -> Response:
    query_args(())
    index = ENTRY_INDEX.parse(index_text)
    store = current_log().store
    tree_size = _tree_size()
    data = store.entry(index) if index < tree_size else None
    if data is None:
        raise NotFoundError(f"entry {index}: the log has {tree_size} entries")
    return _json(
        {
            "index": index,
            "leaf_hash": _leaf_hash(index).hex(),
            "entry": parse_entry(data, seq=index).to_json(),
            "bytes": base64.b64encode(data).decode("ascii"),
        },
        cache=_FOREVER,
    )


@api.get("/proof/inclusion")
def inclusion() -> Response:
    query = query_args(("index", "leaf_hash", "size"))
    size = INCLUSION_SIZE.parse(required(query, "size"))
    if ("index" in query) == ("leaf_hash" in query):
        raise BadParameterError("give exactly one of the query parameters 'index' and 'leaf_hash'")
    store = current_log().store
    if "index" in query:
        index = ENTRY_INDEX.parse(query["index"])
        if index >= size:
            raise BadParameterError(f"index {index} is not below size {size}")
        # The leaf, the proof and the check that the log has reached size:
        # one query.
        with _within_log("size", size):
            hashed, proof = store.leaf_and_inclusion_proof(index, size)
    else:
        text = LEAF_HASH.parse(query["leaf_hash"])
        hashed = bytes.fromhex(text)
        _check_tree_size("size", size, _tree_size())
        found = store.find_leaf(hashed)
        if found is None or found >= size:
            where = "the log" if found is None else f"the tree of size {size}"
            raise NotFoundError(f"no entry with leaf hash {hashed.hex()} in {where}")
        index = found
        with _within_log("size", size):
            proof = store.inclusion_proof(index, size)
    return _json(
        {
            "index": index,
            "size": size,
            "leaf_hash": hashed.hex(),
            "proof": [h.hex() for h in proof],
        },
        cache=_FOREVER,
    )


@api.get("/proof/consistency")
def consistency() -> Response:
    query = query_args(("old", "new"))
    old = CONSISTENCY_OLD.parse(required(query, "old"))
    new = CONSISTENCY_NEW.parse(required(query, "new"))
    if old > new:
        raise BadParameterError(f"old size {old} is larger than new size {new}")
    with _within_log("new", new):
        proof = current_log().store.consistency_proof(old, new)
    return _json({"old": old, "new": new, "proof": [h.hex() for h in proof]}, cache=_FOREVER)
