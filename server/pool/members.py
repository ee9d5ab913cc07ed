"""Members of the pool: joining, leaving, qualifying as a juror, and the
jury pool the panels are drawn from.

A member's name, ID number and phone go only to the private store
(:mod:`server.private.members`); the log gets the pseudonymous id and the
age band, which the birth date in the ID number gives on the day of
joining (in China's calendar, :func:`server.private.identity.china_date`).
The ID number's keyed hash, which keeps one membership per person, is
released when the member leaves, so the person may join again.
"""

from __future__ import annotations

from server.pool.core import PoolCore
from server.pool.errors import PoolInputError, PoolRefusedError
from server.private.identity import age_band_on, age_on, china_date
from server.private.members import MemberDetails, join_pool, release_identity
from verifiable.log.bodies import (
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

    def join(self, account_id: int, details: MemberDetails) -> str:
        """Join ``account_id`` under a fresh pseudonymous id, in the age band
        its birth date gives today; returns the id."""
        core = self._core
        key = core.identity_key()
        with core.lock:
            state = core.state()
            at = core.now(state)
            today = china_date(at)
            born = details.born
            band = age_band_on(born, today) if born is not None else None
            if band is None:
                age = age_on(born, today) if born is not None else 0
                raise PoolInputError(
                    f"the plan covers ages from 30 days to 59 years; by this ID number the "
                    f"member is {age} years old today",
                    "join.age",
                    age=age,
                )
            rules = state.rules_at(at)
            if rules is None or band not in rules.join_bands:
                raise PoolRefusedError(
                    f"members aged {band.value} may not join under the current rules",
                    "join.band_closed",
                    band=band.value,
                )

            def append_joined(member_id: str) -> int:
                return core.one(MemberJoined(member=member_id, age_band=band), at)

            return join_pool(
                core.engine, account_id, details, append_joined, at, key, state.has_left
            )

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
            # After the append: a crash in between leaves the row, which the
            # next join with this ID number releases (the log says who left).
            release_identity(core.engine, member_id)
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
