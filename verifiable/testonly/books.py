"""What a simulation is told and what it keeps: its configuration and its
own books (members, claims, the period accumulating).

:mod:`verifiable.testonly.simulate` plays the pool; this module holds its
data, which it deliberately does not share with the rulebook
(:mod:`verifiable.pool.state`): a replay of the simulated log checks one set
of books against the other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Protocol

from verifiable.log.bodies import AgeBand, Body, Choice
from verifiable.pool.rules import Rules

__all__ = [
    "VOTE_REASONS",
    "AmendHook",
    "Bag",
    "EvidenceHook",
    "Rng",
    "SimClaim",
    "SimConfig",
    "SimMember",
    "SimPeriod",
    "VoteOpening",
]

VoteOpening = tuple[Choice, str, bytes]
"""A sealed vote's opening: the choice, the reason and the salt."""

EvidenceHook = Callable[[str, str, int, datetime], Sequence[bytes]]
"""``hook(claim_id, member_id, count, time)``: the commitments of the
``count`` evidence documents of a claim filed at ``time``, in order."""

AmendHook = Callable[[datetime, Body], Body]
"""``hook(time, body)``: the body to append at ``time`` in place of
``body`` (a demo's notices given their structured facts); it sees every
body, so it may keep what it needs of earlier ones."""

VOTE_REASONS = (
    "The hospital records match the category and the dates.",
    "The diagnosis is documented by two independent reports.",
    "The evidence does not show the covered illness.",
    "The diagnosis predates the cover; the records are unclear.",
    "Consistent with the notice and the answered objections.",
)
"""The reasons simulated jurors give."""


class Rng(Protocol):
    """The randomness a simulation needs; ``random.Random`` has it."""

    def randrange(self, start: int, stop: int | None = ..., step: int = ...) -> int: ...

    def getrandbits(self, k: int, /) -> int: ...


@dataclass(frozen=True)
class SimConfig:
    """What a simulated pool looks like.  Rates ``*_per_day`` are expected
    counts per day in hundredths (150: 1.5 a day); ``*_pct`` are chances in
    percent."""

    start: datetime = datetime(2024, 1, 1, tzinfo=UTC)
    days: int = 60
    max_entries: int | None = None
    initial_members: int = 60
    initial_jurors: int = 30
    joins_per_day: int = 200
    leaves_per_day: int = 30
    jurors_per_day: int = 50
    juror_removals_per_day: int = 5
    claims_per_day: int = 100
    notes_per_day: int = 3
    waiting_claim_pct: int = 10
    withdraw_pct: int = 3
    objection_pct: int = 25
    low_turnout_pct: int = 15
    merit_pct: int = 70
    appeal_pct: int = 60
    rules: Mapping[str, object] = field(default_factory=dict)
    rule_changes: tuple[tuple[int, Mapping[str, object]], ...] = ()
    """(day, rules) pairs: a ``pool.rules`` entry five days before ``day``,
    effective at 00:00:30 UTC on that day."""


class Bag:
    """Ids with O(1) add, remove and uniform choice, in a deterministic order."""

    __slots__ = ("_ids", "_pos")

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._pos: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, item: str) -> None:
        self._pos[item] = len(self._ids)
        self._ids.append(item)

    def remove(self, item: str) -> None:
        i = self._pos.pop(item)
        last = self._ids.pop()
        if last != item:
            self._ids[i] = last
            self._pos[last] = i

    def choice(self, rng: Rng) -> str:
        return self._ids[rng.randrange(len(self._ids))]


@dataclass(slots=True)
class SimMember:
    band: AgeBand
    joined: datetime
    juror: bool = False
    busy: int = 0
    ending: bool = False


@dataclass(slots=True)
class SimClaim:
    id: str
    member: str
    band: AgeBand
    requested: int
    rules: Rules
    merit: bool
    stage: str = "filed"
    amount: int = 0
    until: datetime | None = None
    objectors: list[str] = field(default_factory=list)
    past: set[str] = field(default_factory=set)
    round: int = 0
    appeal: bool = False
    instance_rounds: int = 0
    seed_size: int | None = None
    seed: bytes | None = None
    jurors: tuple[str, ...] = ()
    votes_until: datetime | None = None
    sealed: dict[str, VoteOpening] = field(default_factory=dict)


@dataclass(slots=True)
class SimPeriod:
    period: date
    moment: datetime
    paid: list[tuple[str, int]] = field(default_factory=list)
    refunds: int = 0
    rules: Rules | None = None
    roster: tuple[bytes, int] = (b"", 0)
