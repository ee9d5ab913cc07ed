"""Large honest pools, fast: millions of members in minutes, for measuring
the system at the scale it is built for.

:class:`BulkSimulation` is :class:`~verifiable.testonly.simulate.Simulation`
with one path made fast: a member joining.  Joins are nearly all of a large
pool's entries, and the simulation's general path (a body dataclass, the
envelope, the checked canonical encoder) costs about 35 µs each, an hour for
ten million.  Here a join is written straight into the canonical bytes of its
``member.joined`` entry from a template, with the same books kept and the
same randomness drawn, in a few microseconds.  Everything else — jurors, the
juror pools, claims through notice, objections, panels, votes, decisions,
payouts, refunds and period closes with their rosters — is the simulation's
own honest operator, unchanged, so a replay through the rulebook checks the
result as it checks any simulated history.

Every :data:`CHECK_EVERY`-th join is also encoded the general way and
compared, so a template that drifted from the format fails at once rather
than producing a log no verifier accepts.

:func:`large_pool_config` spreads ``members`` joins over the simulated days:
half of them founders, before the first period's notice, the rest joining
day by day, with the age bands weighted as a working-age pool's would be
(:data:`BAND_WEIGHTS`), a juror pool of about one member in a thousand, and
claims at a rate that keeps panels and payouts in every period.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from hashlib import sha256

from verifiable.log.bodies import AgeBand, MemberJoined
from verifiable.log.entry import FORMAT_VERSION, Entry
from verifiable.log.fields import format_time
from verifiable.testonly.books import SimConfig, SimMember
from verifiable.testonly.simulate import Simulation

__all__ = ["BAND_WEIGHTS", "CHECK_EVERY", "BulkSimulation", "large_pool_config"]

#: Relative weights of the join bands (percent): children and young adults
#: are most of a family pool, members near the age limit fewer.
BAND_WEIGHTS: dict[AgeBand, int] = {
    AgeBand.UNDER_18: 22,
    AgeBand.FROM_18_TO_39: 46,
    AgeBand.FROM_40_TO_59: 32,
}

#: One entry in this many, if a join, is also encoded by :class:`Entry` and
#: compared (the first join of a log is entry 1, always checked).
CHECK_EVERY = 4096

_JOINED = MemberJoined.TYPE


# Founding jurors sit at once; a waiting period of 30 days and one period a
# month, so that claims reach panels and payouts within a short history and
# the periods' rosters (a pass over every member each) stay few.
_RULES: dict[str, object] = {
    "juror.seasoning_days": 0,
    "member.waiting_days": 30,
    "period.notice_days": [7],
    "period.deduction_days": [14],
}


def large_pool_config(
    members: int,
    *,
    days: int = 60,
    start: datetime = datetime(2024, 1, 1, tzinfo=UTC),
    claims_per_day: int | None = None,
    rules: dict[str, object] | None = None,
) -> SimConfig:
    """A :class:`SimConfig` in which about ``members`` members join over
    ``days`` days: half as founders, the rest day by day (rates in the
    config's hundredths).  ``claims_per_day`` is in hundredths too; by
    default one a day per 50,000 members, at least one a day."""
    if members < 200 or days < 1:
        raise ValueError(f"large pool: members {members} < 200 or days {days} < 1")
    daily = members - members // 2
    joins_per_day = daily * 100 // days
    founders = members - joins_per_day * days // 100
    jurors = max(30, members // 1_000)
    return SimConfig(
        start=start,
        days=days,
        initial_members=founders,
        initial_jurors=jurors,
        joins_per_day=joins_per_day,
        leaves_per_day=max(30, joins_per_day // 50),
        jurors_per_day=max(50, jurors * 100 // (10 * days)),
        juror_removals_per_day=5,
        claims_per_day=max(100, members // 500) if claims_per_day is None else claims_per_day,
        rules={**_RULES, **(rules or {})},
    )


class BulkSimulation(Simulation):
    """A :class:`Simulation` whose joins take a fast path (see the module's
    docstring).  Same arguments; ``amend`` hooks are not supported, since
    the joins never build a body to hand them."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        if kwargs.get("amend") is not None:
            raise ValueError("BulkSimulation: amend hooks are not supported")
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._day_of: tuple[date | None, str] = (None, "")
        self._band_table: tuple[tuple[AgeBand, ...], tuple[AgeBand, ...]] | None = None

    def _bands(self, allowed: tuple[AgeBand, ...]) -> tuple[AgeBand, ...]:
        """A table of 100 bands, each allowed band as often as its weight."""
        cached = self._band_table
        if cached is not None and cached[0] == allowed:
            return cached[1]
        weights = {band: BAND_WEIGHTS.get(band, 10) for band in allowed}
        total = sum(weights.values())
        table: list[AgeBand] = []
        for band in allowed:
            table.extend([band] * (weights[band] * 100 // total))
        table.extend([allowed[0]] * (100 - len(table)))
        self._band_table = (allowed, tuple(table))
        return self._band_table[1]

    def _join(self, when: datetime) -> None:
        # Simulation._emit, specialised: the same bookkeeping in the same
        # order, with the entry's bytes from a template.
        book = self._open
        if book is not None and when >= book.moment:
            self._advance(when)
        if self._armed or (self._deadlines and self._deadlines[0][0] <= when):
            self._fix_seeds(when)
        rules = self.rules_at(when)
        member_id = f"{self.rng.getrandbits(128):032x}"
        band = self._bands(rules.join_bands)[self.rng.randrange(100)]
        day, prefix = self._day_of
        if when.date() != day:
            # The canonical time is the date's text (cached: a day holds
            # thousands of joins) and the clock time.
            prefix = format_time(when)[:11]
            self._day_of = (when.date(), prefix)
        text = f"{prefix}{when.hour:02d}:{when.minute:02d}:{when.second:02d}Z"
        seq = self._seq
        data = (
            f'{{"body":{{"age_band":"{band.value}","member":"{member_id}"}},'
            f'"prev":"{self._prev.hex()}","seq":{seq},"time":"{text}",'
            f'"type":"{_JOINED}","v":{FORMAT_VERSION}}}'
        ).encode("ascii")
        if seq % CHECK_EVERY == 1:
            body = MemberJoined(member=member_id, age_band=band)
            general = Entry(FORMAT_VERSION, seq, self._prev, when, _JOINED, body).to_bytes()
            if general != data:
                raise AssertionError(f"bulk join template differs from the format at seq {seq}")
        leaf = sha256(b"\x00" + data).digest()
        self._tree.append(leaf)
        self._prev = leaf
        self._seq = seq + 1
        self._out.append(data)
        self.stats[_JOINED] += 1
        self._members[member_id] = SimMember(band, when)
        self._active.add(member_id)
