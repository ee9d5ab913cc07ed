"""Members and jurors: who is in the pool, who may be drawn, and the juror pool.

A member joins under a pseudonymous id with an age band and stays until a
``member.left`` entry; ids are never reused.  A member may qualify as a juror
(``juror.qualified``: active, in an adult band, past the seasoning period)
and stop being one (``juror.removed``, or by leaving).  Once a period the
qualified jurors are committed as a ``jury.pool`` entry: the member-set root
and size over their sorted ids (:func:`verifiable.pool.sortition.juror_pool_root`);
panels are drawn from the latest pool, skipping the jurors who have stopped
being qualified since it was committed (``lapsed``).

Every method that handles an entry checks everything first and changes state
only once nothing can fail, so a refused entry leaves no trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from verifiable.errors import RuleViolation
from verifiable.log.bodies import AgeBand, JuryPool
from verifiable.log.fields import format_date, format_time
from verifiable.log.merkle import root_hash
from verifiable.pool.roster import roster_leaf
from verifiable.pool.rules import Rules
from verifiable.pool.sortition import juror_pool_root
from verifiable.pool.store import (
    Codec,
    Kind,
    StoredMap,
    StoredSequence,
    StoredSet,
    WriteBuffer,
)
from verifiable.pool.store_codecs import FLAG, TEXT, member_codec

__all__ = ["GONE", "JURORS", "LAPSED", "MEMBERS", "POOL_IDS", "JurorPool", "Member", "Membership"]


@dataclass(slots=True)
class Member:
    """An active member.  ``leaf`` is the member's roster leaf hash
    (:func:`verifiable.pool.roster.roster_leaf`).  ``ending`` is set when one of
    the member's claims was decided ineligible (illness inside the waiting
    period): the member may do nothing more but leave, with reason
    ``waiting_period``."""

    id: str
    band: AgeBand
    joined: datetime
    joined_seq: int
    leaf: bytes
    juror: bool = False
    ending: bool = False

    def copy(self) -> Member:
        """A working copy (the store's own record is never changed)."""
        return Member(
            self.id, self.band, self.joined, self.joined_seq, self.leaf, self.juror, self.ending
        )


MEMBERS: Kind[Member] = Kind("member", Codec(*member_codec(Member)), Member.copy)
"""Active members by id."""
GONE: Kind[bool] = Kind("gone", FLAG)
"""Ids of members who have left (ids are never reused)."""
JURORS: Kind[bool] = Kind("juror", FLAG)
"""Ids of the qualified jurors."""
POOL_IDS: Kind[str] = Kind("pool", TEXT)
"""The latest juror pool's sorted ids, one record per position."""
LAPSED: Kind[bool] = Kind("lapsed", FLAG)
"""Ids in the latest juror pool that are no longer qualified."""


@dataclass(frozen=True, slots=True)
class PoolHead:
    """What the state itself keeps of the latest ``jury.pool``: its period,
    root and size (the ids are records of the store)."""

    period: date
    root: bytes
    size: int


class JurorPool:
    """The latest ``jury.pool``: its period, its sorted ids, and the ids in it
    that are no longer qualified."""

    __slots__ = ("ids", "lapsed", "period", "root")

    def __init__(self, head: PoolHead, buffer: WriteBuffer) -> None:
        self.period = head.period
        self.root = head.root
        self.ids = StoredSequence(buffer, POOL_IDS, head.size)
        self.lapsed = StoredSet(buffer, LAPSED)


class Membership:
    """Active members, past ids, qualified jurors and the juror pool.

    The members, past ids, jurors and the pool's ids are records of the
    state's store; ``head`` (the pool's period, root and size) and
    ``version`` (how many joins and leaves so far, the key of the roster's
    cache) are the small part the state object holds."""

    __slots__ = ("_buffer", "_roster", "active", "gone", "head", "jurors", "version")

    def __init__(self, buffer: WriteBuffer) -> None:
        self._buffer = buffer
        self.active = StoredMap(buffer, MEMBERS)
        self.gone = StoredSet(buffer, GONE)
        self.jurors = StoredSet(buffer, JURORS)
        self.head: PoolHead | None = None
        self.version = 0
        self._roster: tuple[int, bytes, int] | None = None

    @property
    def pool(self) -> JurorPool | None:
        """The latest juror pool, or ``None`` before the first."""
        head = self.head
        return None if head is None else JurorPool(head, self._buffer)

    # -- reading --------------------------------------------------------

    def require_active(self, member_id: str, rule: str, seq: int, role: str) -> Member:
        """The active member ``member_id``, else a violation of ``rule``."""
        member = self.active.get(member_id)
        if member is None:
            state = "has left" if member_id in self.gone else "is not a member"
            raise RuleViolation(
                rule,
                f"{role} {member_id} {state}",
                seq=seq,
                expected="an active member",
                actual=state,
            )
        return member

    def roster(self) -> tuple[bytes, int]:
        """Member-set root and size over the sorted ids of the active members;
        recomputed only when membership has changed since the last call."""
        cached = self._roster
        if cached is not None and cached[0] == self.version:
            return cached[1], cached[2]
        # roster.roster_root(ids), with each member's leaf hash computed once
        # at joining rather than once per period.  The scan is the buffer's
        # own (the active map's values() is one generator more per member,
        # at every close of a million-member pool).
        leaves = [m.leaf for _, m in self._buffer.scan(MEMBERS)]
        root, size = root_hash(leaves), len(leaves)
        self._roster = (self.version, root, size)
        return root, size

    def sorted_roster(self) -> list[str]:
        """The sorted ids of the active members."""
        return list(self.active)

    # -- members --------------------------------------------------------

    def check_join(self, seq: int, member_id: str, band: AgeBand, rules: Rules) -> None:
        if member_id in self.active or member_id in self.gone:
            raise RuleViolation(
                "member.unique",
                f"member id {member_id} is already in the log",
                seq=seq,
                expected="a new id",
                actual=member_id,
            )
        if band not in rules.join_bands:
            raise RuleViolation(
                "member.age_band",
                f"age band {band.value} may not join",
                seq=seq,
                expected=" or ".join(b.value for b in rules.join_bands) or "no band",
                actual=band.value,
            )

    def join(self, seq: int, time: datetime, member_id: str, band: AgeBand) -> None:
        self.active.put(member_id, Member(member_id, band, time, seq, roster_leaf(member_id)))
        self.version += 1

    def leave(self, member_id: str) -> None:
        member = self.active[member_id]
        self.active.delete(member_id)
        self.gone.add(member_id)
        self.version += 1
        if member.juror:
            self._unqualify(member_id)

    # -- jurors ---------------------------------------------------------

    def check_qualify(self, seq: int, time: datetime, member_id: str, rules: Rules) -> Member:
        member = self.require_active(member_id, "juror.member", seq, "juror")
        if member.ending:
            raise RuleViolation(
                "juror.member",
                f"member {member_id} is leaving after an ineligible claim",
                seq=seq,
                expected="a member in good standing",
                actual="membership ending",
            )
        if member.juror:
            raise RuleViolation(
                "juror.once",
                f"member {member_id} is already a qualified juror",
                seq=seq,
                expected="not yet qualified",
                actual="qualified",
            )
        if member.band not in rules.juror_bands:
            raise RuleViolation(
                "juror.age_band",
                f"age band {member.band.value} may not serve as juror",
                seq=seq,
                expected=" or ".join(b.value for b in rules.juror_bands) or "no band",
                actual=member.band.value,
            )
        ready = rules.seasoned_from(member.joined)
        if time < ready:
            raise RuleViolation(
                "juror.seasoning",
                f"member {member_id} joined {format_time(member.joined)}: "
                f"{rules.seasoning_days} days of membership come first",
                seq=seq,
                expected=f"at or after {format_time(ready)}",
                actual=format_time(time),
            )
        return member

    def qualify(self, member: Member) -> None:
        member.juror = True
        self.jurors.add(member.id)
        if self.head is not None:
            self.pool_lapsed.discard(member.id)

    def check_remove(self, seq: int, member_id: str) -> Member:
        member = self.require_active(member_id, "juror.removed", seq, "juror")
        if not member.juror:
            raise RuleViolation(
                "juror.removed",
                f"member {member_id} is not a qualified juror",
                seq=seq,
                expected="a qualified juror",
                actual="not qualified",
            )
        return member

    def remove(self, member: Member) -> None:
        member.juror = False
        self._unqualify(member.id)

    def _unqualify(self, member_id: str) -> None:
        self.jurors.discard(member_id)
        if self.head is not None:
            self.pool_lapsed.add(member_id)

    @property
    def pool_lapsed(self) -> StoredSet:
        """The ids of the latest juror pool no longer qualified."""
        return StoredSet(self._buffer, LAPSED)

    # -- the juror pool -------------------------------------------------

    def expected_pool(self, period: date) -> JuryPool:
        """The ``jury.pool`` body for ``period`` from the qualified jurors."""
        ids = list(self.jurors)
        return JuryPool(period=period, root=juror_pool_root(ids), size=len(ids))

    def check_pool(self, seq: int, body: JuryPool, current: date) -> list[str]:
        """Check a ``jury.pool`` entry made in period ``current``; return the
        sorted ids it commits to."""
        if body.period != current:
            raise RuleViolation(
                "jury.period",
                "a juror pool is committed for the period it is published in",
                seq=seq,
                expected=format_date(current),
                actual=format_date(body.period),
            )
        if self.head is not None and self.head.period == current:
            raise RuleViolation(
                "jury.once",
                f"period {format_date(current)} already has a juror pool",
                seq=seq,
                expected="one pool per period",
                actual="a second pool",
            )
        ids = list(self.jurors)
        if body.size != len(ids):
            raise RuleViolation(
                "jury.size",
                "the pool's size is not the number of qualified jurors",
                seq=seq,
                expected=len(ids),
                actual=body.size,
            )
        root = juror_pool_root(ids)
        if body.root != root:
            raise RuleViolation(
                "jury.root",
                "the pool's root is not the member-set root of the qualified jurors",
                seq=seq,
                expected=root.hex(),
                actual=body.root.hex(),
            )
        return ids

    def set_pool(self, body: JuryPool, ids: list[str]) -> None:
        old = self.head.size if self.head is not None else 0
        StoredSequence(self._buffer, POOL_IDS, old).replace(ids)
        self.pool_lapsed.clear()
        self.head = PoolHead(body.period, body.root, len(ids))
