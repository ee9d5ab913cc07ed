"""OpenAPI paths and schemas of the verification bundles (``/api/v1/bundles``),
merged into the document by :func:`server.openapi.openapi_document`."""

from __future__ import annotations

from typing import Any

from server.views.params import BUNDLE_SINCE, BUNDLE_SIZE, CLAIM, MEMBER, PERIOD, SAMPLE

__all__ = ["BUNDLE_PATHS", "BUNDLE_SCHEMAS"]


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


_BUNDLE_OK = {
    "description": (
        "The bundle (`mutualog.bundle/v1`). Cacheable for good when `size` is given; "
        "gzip-compressed for clients that accept it."
    ),
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Bundle"}}},
}
_BAD = _error("A parameter is missing, malformed or out of range (error `bad_parameter`).")
_NOT_FOUND = _error(
    "No signed checkpoint at `size`, or the period, member or claim is not in the log at "
    "that size (error `not_found`)."
)
_UNAVAILABLE = _error(
    "The instance is not set up, its database is down, or its stored log cannot be read "
    "(error `unavailable`). A log that breaks the pool's rules is still served: the "
    "client's checks are what tell."
)

_ID = {"type": "string", "pattern": "^[0-9a-f]{32}$"}
_HASH = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_PROOF = {"type": "array", "items": _HASH, "maxItems": 64}
BUNDLE_PATHS: dict[str, Any] = {
    "/bundles/deduction": {
        "get": {
            "operationId": "getDeductionBundle",
            "summary": "What `mutualog verify-deduction` needs for one member and period.",
            "description": (
                "The period's period.closed entry and the one before it, the rule entries, "
                "the member's roster proof, the period's full paid-claims list, and the whole "
                "history of each claim in `sample`, all proven against the checkpoint at "
                "`size`."
            ),
            "parameters": [
                MEMBER.parameter(required=True),
                PERIOD.parameter(required=True),
                BUNDLE_SIZE.parameter(),
                SAMPLE.parameter(),
            ],
            "responses": {
                "200": _BUNDLE_OK,
                "400": _BAD,
                "404": _NOT_FOUND,
                "503": _UNAVAILABLE,
            },
        }
    },
    "/bundles/claim/{claim}": {
        "get": {
            "operationId": "getClaimBundle",
            "summary": "What `mutualog verify-claim` needs: one claim's whole history.",
            "parameters": [
                CLAIM.parameter("path"),
                BUNDLE_SIZE.parameter(),
                BUNDLE_SINCE.parameter(),
            ],
            "responses": {
                "200": _BUNDLE_OK,
                "400": _BAD,
                "404": _NOT_FOUND,
                "503": _UNAVAILABLE,
            },
        }
    },
}

BUNDLE_SCHEMAS: dict[str, Any] = {
    "Bundle": {
        "type": "object",
        "required": [
            "type",
            "checkpoint",
            "entries",
            "consistency",
            "jurors",
            "deduction",
            "claims",
        ],
        "additionalProperties": False,
        "properties": {
            "type": {"const": "mutualog.bundle/v1"},
            "checkpoint": {"type": "string", "description": "The signed checkpoint note."},
            "entries": {
                "type": "array",
                "description": "Log entries by increasing index, each with its inclusion proof.",
                "items": {
                    "type": "object",
                    "required": ["index", "entry", "proof"],
                    "additionalProperties": False,
                    "properties": {
                        "index": {"type": "integer", "minimum": 0},
                        "entry": {"type": "string", "contentEncoding": "base64"},
                        "proof": _PROOF,
                    },
                },
            },
            "consistency": {
                "type": "array",
                "description": "Consistency proofs from each panel seed's size to `checkpoint`.",
                "items": {
                    "type": "object",
                    "required": ["size", "proof"],
                    "additionalProperties": False,
                    "properties": {"size": {"type": "integer", "minimum": 1}, "proof": _PROOF},
                },
            },
            "jurors": {
                "type": "array",
                "description": "Juror-pool leaves at the indices the panel draws visit.",
                "items": {
                    "type": "object",
                    "required": ["pool", "index", "member", "proof"],
                    "additionalProperties": False,
                    "properties": {
                        "pool": {"type": "string", "format": "date"},
                        "index": {"type": "integer", "minimum": 0},
                        "member": _ID,
                        "proof": _PROOF,
                    },
                },
            },
            "deduction": {
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": ["member", "period", "roster_index", "roster_proof", "paid"],
                        "additionalProperties": False,
                        "properties": {
                            "member": _ID,
                            "period": {"type": "string", "format": "date"},
                            "roster_index": {"type": "integer", "minimum": 0},
                            "roster_proof": _PROOF,
                            "paid": {
                                "type": "array",
                                "description": (
                                    "The period's paid claims, each a pair [claim id, amount "
                                    "in fen]."
                                ),
                                # Not prefixItems: fuzzers and validators that rewrite
                                # OpenAPI schemas mishandle it.
                                "items": {
                                    "type": "array",
                                    "items": {"anyOf": [_ID, {"type": "integer", "minimum": 1}]},
                                    "minItems": 2,
                                    "maxItems": 2,
                                },
                            },
                        },
                    },
                ]
            },
            "claims": {"type": "array", "items": _ID},
        },
    }
}
