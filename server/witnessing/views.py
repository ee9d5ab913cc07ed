"""What the pages and the API say about the witnesses: the ``/api/v1/log``
fields and the operator's page's section."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from server.db import read_connection
from server.storage import LogStore
from server.witnessing.store import (
    Witness,
    list_witnesses,
    required_witnesses,
    served_checkpoint,
)

__all__ = ["WitnessPanel", "trusted_witnesses", "witness_panel", "witnesses_json"]


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


@dataclass(frozen=True)
class WitnessPanel:
    """The witnesses' section of the operator's page: the policy, the size
    ``/checkpoint`` serves against the newest, and each witness's state."""

    required: int
    witnesses: tuple[Witness, ...]
    witnessed_size: int | None
    latest_size: int


def witness_panel(engine: Engine) -> WitnessPanel:
    """What the operator's page shows about the witnesses."""
    with read_connection(engine) as conn:
        witnesses = tuple(list_witnesses(conn))
        required = required_witnesses(conn)
    served = served_checkpoint(engine)
    return WitnessPanel(
        required=required,
        witnesses=witnesses,
        witnessed_size=None if served is None else served.size,
        latest_size=LogStore(engine).size(),
    )


def trusted_witnesses(engine: Engine) -> tuple[tuple[tuple[str, str], ...], int]:
    """The witness policy a member should pin, as ``((name, vkey), ...), K``
    (nothing when K is 0: the log serves checkpoints unwitnessed then)."""
    with read_connection(engine) as conn:
        required = required_witnesses(conn)
        if required == 0:
            return (), 0
        return tuple((w.name, w.vkey) for w in list_witnesses(conn)), required
