"""Members of the pool: joining, leaving, qualifying as a juror, and the
jury pool the panels are drawn from.

A member's name, ID number and phone go only to the private store
(:mod:`server.private.members`); the log gets the pseudonymous id and the
age band.
"""

from __future__ import annotations

from server.pool.core import PoolCore
from server.pool.errors import PoolRefusedError
from server.private.members import MemberDetails, join_pool
from verifiable.log.bodies import (
    AgeBand,
    JurorQualified,
    JuryPool,
    LeaveReason,
    MemberJoined,
    MemberLeft,
)

__all__ = ["Members"]


class Members:
    """The members' operations over ``core``."""

    def __init__(self, core: PoolCore) -> None:
        self._core = core

    def join(self, account_id: int, details: MemberDetails, band: AgeBand) -> str:
        """Join ``account_id`` under a fresh pseudonymous id; returns it."""
        core = self._core
        with core.lock:
            state = core.state()
            at = core.now(state)
            rules = state.rules_at(at)
            if rules is None or band not in rules.join_bands:
                raise PoolRefusedError(
                    f"members aged {band.value} may not join under the current rules",
                    "join.band_closed",
                    band=band.value,
                )

            def append_joined(member_id: str) -> int:
                return core.one(MemberJoined(member=member_id, age_band=band), at)

            return join_pool(core.engine, account_id, details, append_joined, at)

    def leave(self, member_id: str, reason: LeaveReason = LeaveReason.VOLUNTARY) -> MemberLeft:
        """Append ``member.left``; a member leaving over the waiting period
        gets the refund the state computes."""
        core = self._core
        with core.lock:
            state = core.state()
            if state.member(member_id) is None:
                raise PoolRefusedError(
                    f"member {member_id} is not an active member",
                    "member.not_active",
                    member=member_id,
                )
            refund = state.refund_due(member_id) if reason is LeaveReason.WAITING_PERIOD else 0
            body = MemberLeft(member=member_id, reason=reason, refund=refund)
            core.one(body, core.now(state))
            return body

    def qualify_juror(self, member_id: str) -> int:
        """Append ``juror.qualified``; the rulebook refuses who may not serve."""
        core = self._core
        with core.lock:
            state = core.state()
            return core.one(JurorQualified(member=member_id), core.now(state))

    def commit_jury_pool(self) -> JuryPool:
        """Append the jury pool the state expects now."""
        core = self._core
        with core.lock:
            state = core.state()
            at = core.now(state)
            body = state.expected_jury_pool(at)
            core.one(body, at)
            return body
