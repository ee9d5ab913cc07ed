"""An honest simulated pool and its bundles, shared by the bundle tests."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from verifiable.log.bodies import MemberJoined, MemberLeft
from verifiable.log.bundle import Bundle
from verifiable.log.checkpoint import Checkpoint, sign_checkpoint
from verifiable.log.entry import Entry, parse_entry
from verifiable.log.merkle import hash_leaves, root_hash
from verifiable.log.note import Ed25519Signer, Ed25519Verifier
from verifiable.pool.bundle_builder import MemorySource, claim_bundle, deduction_bundle
from verifiable.pool.log_index import LogIndex
from verifiable.pool.rules import moment
from verifiable.testonly.simulate import SimConfig, simulate

__all__ = ["ORIGIN", "Pool", "forged", "pool", "roster_ids"]

ORIGIN = "example.org/mutualog/bundle-test"

CONFIG = SimConfig(
    days=75,
    initial_members=60,
    initial_jurors=40,
    claims_per_day=150,
    rules={
        "juror.seasoning_days": 0,
        "member.waiting_days": 10,
        "panel.size": 5,
        "panel.max_rounds": 2,
        "claim.objection_days": 2,
        "panel.voting_days": 2,
    },
)


def roster_ids(entries: Sequence[Entry], period_moment: datetime) -> list[str]:
    """The sorted ids of the members sharing at a period's moment: joined
    before it and not left before it (docs/rules.md, "Roster")."""
    members: set[str] = set()
    for e in entries:
        if e.time >= period_moment:
            break
        if isinstance(e.body, MemberJoined):
            members.add(e.body.member)
        elif isinstance(e.body, MemberLeft):
            members.discard(e.body.member)
    return sorted(members)


@dataclass
class Pool:
    """A simulated log, signed at its full size, with an index over it."""

    entries: list[bytes]
    decoded: list[Entry]
    index: LogIndex
    source: MemorySource
    note: bytes
    signer: Ed25519Signer

    @property
    def verifier(self) -> Ed25519Verifier:
        return self.signer.verifier()

    def roster(self, period: date) -> list[str]:
        """The period's roster: members who joined before its moment and had not left."""
        return roster_ids(self.decoded, moment(period))

    def paid_period(self) -> date:
        """The closed period with the most paid claims."""
        return max(self.index.closed, key=lambda p: len(self.index.paid.get(p, [])))

    def deduction(self, sample: int = 3, member_index: int = 0) -> Bundle:
        period = self.paid_period()
        roster = self.roster(period)
        claims = [c for c, _ in self.index.paid.get(period, [])][:sample]
        return deduction_bundle(
            self.index,
            self.source,
            len(self.entries),
            self.note,
            roster[member_index],
            period,
            roster,
            claims,
        )

    def claim(self, claim: str) -> Bundle:
        return claim_bundle(self.index, self.source, len(self.entries), self.note, claim)


@cache
def pool() -> Pool:
    entries = simulate(random.Random(11), CONFIG)
    decoded = [parse_entry(d) for d in entries]
    index = LogIndex()
    for e in decoded:
        index.feed(e)
    signer = Ed25519Signer(ORIGIN, bytes(range(32)))
    root = root_hash(hash_leaves(entries))
    note = sign_checkpoint(Checkpoint(ORIGIN, len(entries), root), signer)
    return Pool(entries, decoded, index, MemorySource(entries), note, signer)


def forged(seq: int, **changes: object) -> Pool:
    """The pool's log with entry ``seq``'s body changed and the whole tree
    signed again: an operator who logs a dishonest entry and proves it
    properly.  The index keeps the honest positions."""
    from dataclasses import replace

    from verifiable.log.entry import make_entry

    honest = pool()
    old = honest.decoded[seq]
    entry = make_entry(seq, old.prev, old.time, old.type, replace(old.body, **changes))
    entries = list(honest.entries)
    entries[seq] = entry.to_bytes()
    decoded = list(honest.decoded)
    decoded[seq] = entry
    root = root_hash(hash_leaves(entries))
    note = sign_checkpoint(Checkpoint(ORIGIN, len(entries), root), honest.signer)
    return Pool(entries, decoded, honest.index, MemorySource(entries), note, honest.signer)
