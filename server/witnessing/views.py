"""What the read path says about the witnesses: the ``/api/v1/log`` fields."""

from __future__ import annotations

from sqlalchemy import Engine

from server.db import read_connection
from server.witnessing.store import list_witnesses, required_witnesses, served_checkpoint

__all__ = ["witnesses_json"]


def witnesses_json(engine: Engine) -> dict[str, object]:
    """``witnesses`` (name, verifier key, URL, last size cosigned),
    ``witnesses_required`` (K) and ``witnessed_size`` (the size ``/checkpoint``
    serves, ``None`` when no checkpoint meets the policy yet)."""
    with read_connection(engine) as conn:
        witnesses = list_witnesses(conn)
        required = required_witnesses(conn)
    served = served_checkpoint(engine)
    return {
        "witnesses": [
            {
                "name": w.name,
                "verifier_key": w.vkey,
                "url": w.url,
                "last_cosigned_size": w.last_cosigned,
            }
            for w in witnesses
        ],
        "witnesses_required": required,
        "witnessed_size": None if served is None else served.size,
    }
