"""In-process witnesses: the cosigned checkpoint a witnessed draw is seeded by.

A simulated pool (and the demo built from one) has no witness service to
ask: its witnesses are :class:`~verifiable.log.cosignature.CosignatureSigner`
keys held here, which cosign the checkpoint of the log as it stands when a
panel is drawn, as an honest witness would (the log only grows, so every
checkpoint extends the last one cosigned).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from verifiable.log.bodies import SeedCheckpoint
from verifiable.log.checkpoint import Checkpoint
from verifiable.log.cosignature import Cosignature, CosignatureSigner
from verifiable.pool.rules import Rules

__all__ = ["cosigned_seed_checkpoint"]


def cosigned_seed_checkpoint(
    origin: str,
    size: int,
    root: bytes,
    signers: Sequence[CosignatureSigner],
    rules: Rules,
    when: datetime,
    proof: Sequence[bytes] = (),
) -> SeedCheckpoint:
    """The checkpoint ``origin``/``size``/``root`` cosigned at ``when`` by
    the first ``draw.witnesses_required`` of the rules' witnesses whose keys
    ``signers`` hold, in the rules' order; ``proof`` leads from ``size`` to
    the log's size at the draw (empty when they are equal)."""
    checkpoint = Checkpoint(origin, size, root)
    text = checkpoint.to_text()
    held = {(s.name, s.key_id): s for s in signers}
    timestamp = int(when.timestamp())
    cosignatures: list[Cosignature] = []
    for witness in rules.witnesses:
        signer = held.get((witness.name, witness.key_id))
        if signer is not None and len(cosignatures) < rules.witnesses_required:
            cosignatures.append(signer.cosign(text, timestamp))
    if len(cosignatures) < rules.witnesses_required:
        raise ValueError(
            f"{rules.witnesses_required} witnesses required, keys held for {len(cosignatures)}"
        )
    return SeedCheckpoint(checkpoint, tuple(cosignatures), tuple(proof))
