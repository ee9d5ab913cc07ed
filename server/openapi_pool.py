"""OpenAPI paths and schemas of the pool's JSON routes (``/api/v1/pool``),
merged into the document by :func:`server.openapi.openapi_document`."""

from __future__ import annotations

from typing import Any

from server.views.params import LIMIT, OFFSET, POOL_CLAIM

__all__ = ["POOL_PATHS", "POOL_SCHEMAS"]

_FEN = {"type": "integer", "description": "Money in fen (0.01 yuan)."}
_SIGNED_FEN = {"type": "integer", "description": "Money in fen; negative: a deficit."}
_COUNT = {"type": "integer", "minimum": 0}
_SEQ = {"type": "integer", "minimum": 0, "description": "The index (seq) of a log entry."}
_NULLABLE_SEQ = {"type": ["integer", "null"], "minimum": 0}
_HEX = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_ID = {"type": "string", "pattern": "^[0-9a-f]{32}$"}
_DATE = {"type": "string", "format": "date"}
_TIME = {"type": "string", "description": "RFC 3339 UTC, whole seconds."}
_SIZE = {"type": "integer", "minimum": 0, "description": "The log size the figures are at."}
_COUNTS = {"type": "object", "additionalProperties": _COUNT}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


_BAD = _error("A parameter is malformed, unknown, repeated or out of range (`bad_parameter`).")
_UNAVAILABLE = _error("The instance is not set up or its database is down (`unavailable`).")


def _object(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


POOL_PATHS: dict[str, Any] = {
    "/pool": {
        "get": {
            "operationId": "getPool",
            "summary": "The pool's headline figures: members, claims, aid paid, money totals.",
            "responses": {
                "200": _ok("PoolOverview", "The figures at the latest checkpoint."),
                "400": _BAD,
                "503": _UNAVAILABLE,
            },
        }
    },
    "/pool/periods": {
        "get": {
            "operationId": "getPoolPeriods",
            "summary": "Every closed period's figures, with the seq of its period.closed entry.",
            "responses": {
                "200": _ok("PoolPeriods", "The closed periods, oldest first."),
                "400": _BAD,
                "503": _UNAVAILABLE,
            },
        }
    },
    "/pool/claims": {
        "get": {
            "operationId": "getPoolClaims",
            "summary": "The claims in filing order, a page at a time.",
            "parameters": [OFFSET.parameter(), LIMIT.parameter()],
            "responses": {
                "200": _ok("PoolClaims", "One page of claims."),
                "400": _BAD,
                "503": _UNAVAILABLE,
            },
        }
    },
    "/pool/claims/{claim_id}": {
        "get": {
            "operationId": "getPoolClaim",
            "summary": "One claim's public history: notice, panels, tallies, decision, payout.",
            "parameters": [POOL_CLAIM.parameter("path")],
            "responses": {
                "200": _ok("PoolClaim", "The claim."),
                "400": _BAD,
                "404": _error("The log has no such claim (`not_found`)."),
                "503": _UNAVAILABLE,
            },
        }
    },
}

_PERIOD = _object(
    [
        "seq",
        "period",
        "claims_count",
        "claims_total",
        "claims_root",
        "fee",
        "fee_rate_bp",
        "refunds",
        "surplus_in",
        "surplus_out",
        "sharing",
        "share",
        "collected",
        "roster_root",
        "roster_size",
    ],
    {
        "seq": _NULLABLE_SEQ,
        "period": {**_DATE, "description": "The period, named by its notice date."},
        "claims_count": _COUNT,
        "claims_total": {**_FEN, "description": "Aid paid in the period, in fen."},
        "claims_root": {**_HEX, "description": "Merkle root of the period's paid claims."},
        "fee": _FEN,
        "fee_rate_bp": {**_COUNT, "description": "The management fee's rate, basis points."},
        "refunds": _FEN,
        "surplus_in": _SIGNED_FEN,
        "surplus_out": _SIGNED_FEN,
        "sharing": {**_COUNT, "description": "Members sharing the period's cost."},
        "share": {**_FEN, "description": "Each sharing member's deduction, in fen."},
        "collected": _FEN,
        "roster_root": {**_HEX, "description": "Merkle root of the sorted roster."},
        "roster_size": _COUNT,
    },
)

_CLAIM_SUMMARY_PROPERTIES: dict[str, Any] = {
    "claim": _ID,
    "stage": {
        "type": "string",
        "enum": [
            "filed",
            "noticed",
            "voting",
            "redraw",
            "rejected",
            "appealed",
            "approved",
            "paid",
            "closed",
        ],
    },
    "category": {"type": "string"},
    "age_band": {"type": "string"},
    "requested": _FEN,
    "noticed": {"type": ["integer", "null"], "description": "Amount in the notice, fen."},
    "round": _COUNT,
    "appeal": {"type": "boolean"},
    "decision": {
        "type": ["string", "null"],
        "enum": ["approved", "rejected", "no_quorum", "ineligible", None],
    },
    "amount": {**_FEN, "description": "The decided amount, in fen (0 unless approved)."},
    "paid": {"type": ["integer", "null"], "description": "Amount paid, fen."},
    "paid_period": {"type": ["string", "null"], "format": "date"},
    "filed_seq": _SEQ,
    "noticed_seq": _NULLABLE_SEQ,
    "decided_seq": _NULLABLE_SEQ,
    "paid_seq": _NULLABLE_SEQ,
}

POOL_SCHEMAS: dict[str, Any] = {
    "PoolPeriod": _PERIOD,
    "PoolOverview": _object(
        [
            "size",
            "members",
            "members_left",
            "jurors",
            "claims",
            "claims_by_stage",
            "decisions_by_outcome",
            "cases",
            "paid",
            "ledger",
            "periods_closed",
            "current_period",
            "last_period",
        ],
        {
            "size": _SIZE,
            "members": _COUNT,
            "members_left": _COUNT,
            "jurors": _COUNT,
            "claims": _COUNT,
            "claims_by_stage": _COUNTS,
            "decisions_by_outcome": _COUNTS,
            "cases": _COUNTS,
            "paid": _object(["count", "total"], {"count": _COUNT, "total": _FEN}),
            "ledger": _object(
                ["collected", "aid", "fees", "refunds", "surplus"],
                {
                    "collected": _FEN,
                    "aid": _FEN,
                    "fees": _FEN,
                    "refunds": _FEN,
                    "surplus": _SIGNED_FEN,
                },
            ),
            "periods_closed": _COUNT,
            "current_period": {"type": ["string", "null"], "format": "date"},
            "last_period": {"oneOf": [_ref("PoolPeriod"), {"type": "null"}]},
        },
    ),
    "PoolPeriods": _object(
        ["size", "periods"],
        {"size": _SIZE, "periods": {"type": "array", "items": _ref("PoolPeriod")}},
    ),
    "PoolClaimSummary": _object(list(_CLAIM_SUMMARY_PROPERTIES), _CLAIM_SUMMARY_PROPERTIES),
    "PoolClaims": _object(
        ["size", "total", "offset", "limit", "claims"],
        {
            "size": _SIZE,
            "total": _COUNT,
            "offset": _COUNT,
            "limit": _COUNT,
            "claims": {"type": "array", "items": _ref("PoolClaimSummary")},
        },
    ),
    "PoolClaim": {
        "allOf": [
            _ref("PoolClaimSummary"),
            _object(
                [
                    "size",
                    "documents",
                    "notice",
                    "objections",
                    "answers",
                    "appeals",
                    "panels",
                    "decisions",
                    "withdrawn_seq",
                    "entries",
                ],
                {
                    "size": _SIZE,
                    "documents": {**_COUNT, "description": "Evidence documents committed to."},
                    "notice": {
                        "oneOf": [
                            {"type": "null"},
                            _object(
                                [
                                    "seq",
                                    "text",
                                    "amount",
                                    "age_band",
                                    "category",
                                    "objections_until",
                                ],
                                {
                                    "seq": _SEQ,
                                    "text": {"type": "string"},
                                    "amount": _FEN,
                                    "age_band": {"type": "string"},
                                    "category": {"type": "string"},
                                    "objections_until": _TIME,
                                },
                            ),
                        ]
                    },
                    "objections": {"type": "array", "items": _SEQ},
                    "answers": {"type": "array", "items": _SEQ},
                    "appeals": {"type": "array", "items": _SEQ},
                    "panels": {
                        "type": "array",
                        "items": _object(
                            [
                                "seq",
                                "round",
                                "appeal",
                                "pool_period",
                                "seed_size",
                                "seed",
                                "jurors",
                                "votes_until",
                                "sealed",
                                "revealed",
                            ],
                            {
                                "seq": _SEQ,
                                "round": _COUNT,
                                "appeal": {"type": "boolean"},
                                "pool_period": _DATE,
                                "seed_size": _COUNT,
                                "seed": _HEX,
                                "jurors": {"type": "array", "items": _ID},
                                "votes_until": _TIME,
                                "sealed": {"type": "array", "items": _SEQ},
                                "revealed": {"type": "array", "items": _SEQ},
                            },
                        ),
                    },
                    "decisions": {
                        "type": "array",
                        "items": _object(
                            ["seq", "round", "approvals", "rejections", "outcome", "amount"],
                            {
                                "seq": _SEQ,
                                "round": _COUNT,
                                "approvals": _COUNT,
                                "rejections": _COUNT,
                                "outcome": {
                                    "type": "string",
                                    "enum": ["approved", "rejected", "no_quorum", "ineligible"],
                                },
                                "amount": _FEN,
                            },
                        ),
                    },
                    "withdrawn_seq": _NULLABLE_SEQ,
                    "entries": {
                        "type": "array",
                        "items": _object(
                            ["seq", "type"], {"seq": _SEQ, "type": {"type": "string"}}
                        ),
                    },
                },
            ),
        ]
    },
}
