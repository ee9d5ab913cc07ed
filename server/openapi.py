"""The OpenAPI 3.1 description of the JSON API, served at ``/api/v1/openapi.json``.

Written by hand next to :mod:`server.views.api`, except the parameters: each
is the OpenAPI form of the declaration that validates it
(:mod:`server.views.params`), so the document states exactly the limits the
server enforces.  A test validates it with ``openapi-spec-validator`` and
checks that it names exactly the API's routes; another runs schemathesis
over it against the application.
"""

from __future__ import annotations

import copy
from typing import Any

from server.views.params import (
    CONSISTENCY_NEW,
    CONSISTENCY_OLD,
    ENTRY_INDEX,
    INCLUSION_SIZE,
    LEAF_HASH,
)

__all__ = ["openapi_document"]

_HASH = {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "SHA-256, lowercase hex"}
_SIZE = {"type": "integer", "minimum": 0, "maximum": 18446744073709551615}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _ok(schema: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


_BAD = _error("A parameter is missing, malformed or out of range (error `bad_parameter`).")
_NOT_FOUND = _error("The log has no such thing (error `not_found`).")
_UNAVAILABLE = _error("The instance is not set up or its database is down (error `unavailable`).")

_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "mutualog log API",
        "version": "1",
        "description": (
            "Read access to a mutualog transparency log: its state, entries and RFC 9162 "
            "proofs. The same log is served as C2SP tlog-tiles at /checkpoint and /tile/..., "
            "which is what verifying clients should prefer; /checkpoint serves the newest "
            "checkpoint that meets the log's witness policy, with its cosignatures, and "
            "/checkpoint/latest the newest checkpoint, witnessed or not yet. "
            "Every error is a JSON object "
            '{"error": code, "message": text}.'
        ),
    },
    "servers": [{"url": "/api/v1"}],
    "paths": {
        "/log": {
            "get": {
                "operationId": "getLog",
                "summary": "The log's origin, verifier key, size, root hash and checkpoint.",
                "responses": {
                    "200": _ok("Log", "The log's current state."),
                    "503": _UNAVAILABLE,
                },
            }
        },
        "/entries/{index}": {
            "get": {
                "operationId": "getEntry",
                "summary": "One entry, decoded, with its exact bytes and leaf hash.",
                "parameters": [ENTRY_INDEX.parameter("path")],
                "responses": {
                    "200": _ok("Entry", "The entry."),
                    "400": _BAD,
                    "404": _NOT_FOUND,
                },
            }
        },
        "/proof/inclusion": {
            "get": {
                "operationId": "getInclusionProof",
                "summary": "RFC 9162 inclusion proof of one entry in the tree of a given size.",
                "description": "Give the entry by `index` or by `leaf_hash`, not both.",
                "parameters": [
                    INCLUSION_SIZE.parameter(required=True),
                    ENTRY_INDEX.parameter(),
                    LEAF_HASH.parameter(),
                ],
                "responses": {
                    "200": _ok("InclusionProof", "The proof."),
                    "400": _BAD,
                    "404": _NOT_FOUND,
                },
            }
        },
        "/proof/consistency": {
            "get": {
                "operationId": "getConsistencyProof",
                "summary": "RFC 9162 consistency proof between two tree sizes.",
                "parameters": [
                    CONSISTENCY_OLD.parameter(required=True),
                    CONSISTENCY_NEW.parameter(required=True),
                ],
                "responses": {
                    "200": _ok("ConsistencyProof", "The proof."),
                    "400": _BAD,
                },
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "getOpenAPI",
                "summary": "This document.",
                "responses": {
                    "200": {
                        "description": "The OpenAPI document.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    },
    "components": {
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error", "message"],
                "additionalProperties": False,
                "properties": {
                    "error": {
                        "type": "string",
                        "description": (
                            "Short stable code: bad_parameter, not_found, method_not_allowed, "
                            "unavailable, internal_error, ..."
                        ),
                    },
                    "message": {"type": "string", "description": "What was wrong, for people."},
                },
            },
            "Log": {
                "type": "object",
                "required": ["origin", "verifier_key", "size", "root_hash", "checkpoint"],
                "properties": {
                    "origin": {"type": "string"},
                    "verifier_key": {
                        "type": "string",
                        "description": "C2SP signed-note verifier key of the log.",
                    },
                    "size": _SIZE,
                    "root_hash": _HASH,
                    "checkpoint": {
                        "type": ["string", "null"],
                        "description": "The signed checkpoint note; null before the first entry.",
                    },
                    "witnesses": {
                        "type": "array",
                        "description": "The witnesses the log submits its checkpoints to.",
                        "items": {
                            "type": "object",
                            "required": ["name", "verifier_key", "url", "last_cosigned_size"],
                            "properties": {
                                "name": {"type": "string"},
                                "verifier_key": {
                                    "type": "string",
                                    "description": "C2SP cosignature verifier key (type 0x04).",
                                },
                                "url": {
                                    "type": "string",
                                    "description": "C2SP tlog-witness submission prefix.",
                                },
                                "last_cosigned_size": {
                                    "type": ["integer", "null"],
                                    "description": "Largest tree size it cosigned; null if none.",
                                },
                            },
                        },
                    },
                    "witnesses_required": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "How many witnesses must cosign what /checkpoint serves.",
                    },
                    "witnessed_size": {
                        "type": ["integer", "null"],
                        "description": "Size of what /checkpoint serves; null if none yet.",
                    },
                },
            },
            "Entry": {
                "type": "object",
                "required": ["index", "leaf_hash", "entry", "bytes"],
                "properties": {
                    "index": _SIZE,
                    "leaf_hash": _HASH,
                    "entry": {
                        "type": "object",
                        "description": "The entry decoded: v, seq, prev, time, type, body.",
                    },
                    "bytes": {
                        "type": "string",
                        "contentEncoding": "base64",
                        "description": "The entry's exact bytes (RFC 8785 JSON), base64.",
                    },
                },
            },
            "InclusionProof": {
                "type": "object",
                "required": ["index", "size", "leaf_hash", "proof"],
                "properties": {
                    "index": _SIZE,
                    "size": _SIZE,
                    "leaf_hash": _HASH,
                    "proof": {"type": "array", "items": _HASH},
                },
            },
            "ConsistencyProof": {
                "type": "object",
                "required": ["old", "new", "proof"],
                "properties": {
                    "old": _SIZE,
                    "new": _SIZE,
                    "proof": {"type": "array", "items": _HASH},
                },
            },
        }
    },
}


def openapi_document() -> dict[str, Any]:
    """A fresh copy of the document (callers may not change the original),
    with the paths and schemas of the pool's JSON routes and of the bundles."""
    from server.openapi_bundles import BUNDLE_PATHS, BUNDLE_SCHEMAS
    from server.openapi_pool import POOL_PATHS, POOL_SCHEMAS

    document = copy.deepcopy(_DOCUMENT)
    document["paths"].update(copy.deepcopy(POOL_PATHS))
    document["paths"].update(copy.deepcopy(BUNDLE_PATHS))
    document["components"]["schemas"].update(copy.deepcopy(POOL_SCHEMAS))
    document["components"]["schemas"].update(copy.deepcopy(BUNDLE_SCHEMAS))
    return document
