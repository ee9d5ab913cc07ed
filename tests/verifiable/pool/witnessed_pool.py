"""The simulated pool whose rules seed each panel from a checkpoint a
witness cosigned: one configuration for every test of witnessed draws
(verify-claim's, the browser verifier's)."""

from __future__ import annotations

from verifiable.log.cosignature import CosignatureSigner
from verifiable.testonly.simulate import SimConfig

__all__ = ["WITNESS", "witnessed_config"]

WITNESS = CosignatureSigner("witness.example/w", bytes([3]) * 32)


def witnessed_config(days: int = 40, members: int = 60, jurors: int = 40) -> SimConfig:
    """Busy short periods (150 claims a day, panels of 5 within days) whose
    draws wait for ``WITNESS`` to cosign."""
    return SimConfig(
        days=days,
        initial_members=members,
        initial_jurors=jurors,
        claims_per_day=150,
        rules={
            "juror.seasoning_days": 0,
            "member.waiting_days": 10,
            "panel.size": 5,
            "claim.objection_days": 2,
            "panel.voting_days": 2,
            "draw.witnesses": [WITNESS.verifier().to_vkey()],
            "draw.witnesses_required": 1,
        },
    )
