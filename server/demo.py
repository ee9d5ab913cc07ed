"""The demo pool: a realistic history from :mod:`verifiable.simulate`, stored
as a log, with accounts to explore it.

:class:`DemoBuilder` runs in three steps, so the command line can show
progress:

1. :meth:`DemoBuilder.simulate` plays an honest operator for ``days`` days
   with :class:`verifiable.simulate.Simulation` (deterministic from the
   seed): the founding members, joins, leaves, jurors, claims approved,
   rejected, appealed, objected to, redrawn after a missed quorum and
   refused inside the waiting period, payouts and period closes;
2. :meth:`DemoBuilder.store` loads the entries into the empty log in large
   transactions (:meth:`server.storage.LogStore.load`) under one checkpoint
   signed with the log key — the entries keep the simulation's own times,
   so the panels' seeds stay those of the simulated log;
3. :meth:`DemoBuilder.finish` replays the stored log through the pool
   service, keeps privately the openings of the votes sealed on the claims
   still voting (so the operator can close them), and creates three
   accounts: an operator, a member with a history of deductions, and a
   juror drawn for the open claim who has not voted yet.

The server then runs on a :class:`DemoClock` that starts just after the
last simulated entry and moves with real time.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Engine, Table, insert, update

from server.models import AccountRow, MemberDetailsRow
from server.pool_service import PoolService
from server.private._tx import private_transaction
from server.private.accounts import Accounts, Role
from server.private.members import MemberDetails
from server.private.passwords import Passwords
from server.private.throttle import LoginThrottle
from server.private.votes import PrivateVote, save_sealed_vote, set_sealed_seq
from server.storage import LogStore
from verifiable.bodies import VoteSealed
from verifiable.checkpoint import Checkpoint, sign_checkpoint
from verifiable.entry import parse_entry
from verifiable.errors import MutualogError
from verifiable.merkle import CompactTree, hash_leaves
from verifiable.note import Ed25519Signer
from verifiable.pool import ClaimView, Stage
from verifiable.simulate import SimConfig, Simulation

__all__ = [
    "DEMO_RULES",
    "DemoAccount",
    "DemoBuilder",
    "DemoClock",
    "DemoError",
    "demo_config",
]

_details = cast(Table, MemberDetailsRow.__table__)
_accounts = cast(Table, AccountRow.__table__)

DEMO_START = datetime(2025, 1, 1, tzinfo=UTC)
DEMO_DAYS = 110
#: Entries per storage transaction.
STORE_CHUNK = 10_000

DEMO_RULES: dict[str, object] = {
    # The founding jurors are seasoned by fiat (the simulation needs it),
    # and a short waiting period lets claims begin in the first month.
    "juror.seasoning_days": 0,
    "member.waiting_days": 14,
}


class DemoError(MutualogError):
    """The demo cannot be built (the simulated history lacks what it needs)."""


def demo_config(members: int, days: int = DEMO_DAYS) -> SimConfig:
    """A pool of ``members`` founding members, about one claim a day."""
    return SimConfig(
        start=DEMO_START,
        days=days,
        initial_members=members,
        initial_jurors=min(members // 2, max(150, members // 10)),
        joins_per_day=max(100, members * 30 // 100),
        leaves_per_day=max(10, members * 3 // 100),
        jurors_per_day=max(20, members * 5 // 100),
        juror_removals_per_day=20,
        claims_per_day=100,
        notes_per_day=10,
        rules=DEMO_RULES,
    )


class DemoClock:
    """Simulated time: ``start`` now, then moving on with real time."""

    def __init__(self, start: datetime, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._start = start
        self._monotonic = monotonic
        self._t0 = monotonic()

    def __call__(self) -> datetime:
        return self._start + timedelta(seconds=self._monotonic() - self._t0)


@dataclass(frozen=True)
class DemoAccount:
    role: str
    username: str
    password: str
    member_id: str | None
    note: str


@dataclass
class DemoBuilder:
    """Builds the demo into the empty log of ``engine``."""

    engine: Engine
    signer: Ed25519Signer
    members: int
    seed: int = 2024
    days: int = DEMO_DAYS
    passwords: Passwords = field(default_factory=Passwords)
    entries: list[bytes] = field(default_factory=list)
    _sim: Simulation | None = None

    def simulate(self) -> list[bytes]:
        """Generate the history; returns its entries."""
        sim = Simulation(random.Random(self.seed), demo_config(self.members, self.days))
        self.entries = list(sim.run())
        self._sim = sim
        return self.entries

    @property
    def stats(self) -> dict[str, int]:
        return dict(self._sim.stats) if self._sim else {}

    def store(self, advance: Callable[[int], None] | None = None) -> None:
        """Load the entries into the empty log under one signed checkpoint;
        ``advance(n)`` is told of every ``n`` entries stored."""
        tree = CompactTree()
        tree.extend(hash_leaves(self.entries))
        note = sign_checkpoint(Checkpoint(self.signer.name, tree.size, tree.root()), self.signer)
        LogStore(self.engine).load(_counted(self.entries, advance), note)

    def clock(self) -> DemoClock:
        """The demo's clock: a minute after the last simulated entry."""
        last = parse_entry(self.entries[-1], seq=len(self.entries) - 1).time
        return DemoClock(last + timedelta(minutes=1))

    def finish(self, service: PoolService, now: datetime) -> tuple[ClaimView, list[DemoAccount]]:
        """Keep the sealed votes' openings, create the demo accounts; returns
        the claim open for voting and the accounts."""
        state = service.state()
        voting = [
            c
            for c in state.claims()
            if c.stage is Stage.VOTING
            and c.votes_until is not None
            and c.votes_until > now + timedelta(hours=2)
        ]
        openings = self._keep_openings(voting, now)
        candidates = [
            (c, [j for j in c.jurors if j not in openings.get(c.id, set())]) for c in voting
        ]
        candidates = [(c, free) for c, free in candidates if free]
        if not candidates:
            raise DemoError("the simulated history ends with no claim open for voting")
        claim, free = max(candidates, key=lambda pair: pair[0].votes_until or now)
        juror = free[0]
        member = next(
            m
            for m, view in state.members.active.items()
            if not view.juror and not view.ending and m not in claim.jurors
        )
        accounts = Accounts(self.engine, self.passwords, LoginThrottle(self.engine))
        made = [
            self._account(accounts, "operator", Role.OPERATOR, None, now, "runs the pool"),
            self._account(
                accounts, "member", Role.MEMBER, member, now, "a founding member with deductions"
            ),
            self._account(
                accounts, "juror", Role.MEMBER, juror, now, f"drawn to vote on claim {claim.id}"
            ),
        ]
        return claim, made

    def _keep_openings(self, voting: Iterable[ClaimView], now: datetime) -> dict[str, set[str]]:
        assert self._sim is not None
        # The simulation keeps the openings of the votes it sealed; the
        # server keeps them privately until the reveal, as for a web vote.
        sim_claims = self._sim._claims
        ids = {c.id: c for c in voting}
        seqs: dict[tuple[str, str], int] = {}
        for seq, data in enumerate(self.entries):
            if b'"vote.sealed"' in data:
                body = parse_entry(data, seq=seq).body
                if isinstance(body, VoteSealed) and body.claim in ids:
                    view = ids[body.claim]
                    if body.round == view.round:
                        seqs[(body.claim, body.juror)] = seq
        kept: dict[str, set[str]] = {}
        for (claim_id, juror), seq in seqs.items():
            choice, reason, salt = sim_claims[claim_id].sealed[juror]
            view = ids[claim_id]
            vote = PrivateVote(claim_id, view.round, juror, choice, reason, salt)
            save_sealed_vote(self.engine, vote, now)
            set_sealed_seq(self.engine, claim_id, view.round, juror, seq)
            kept.setdefault(claim_id, set()).add(juror)
        return kept

    def _account(
        self,
        accounts: Accounts,
        username: str,
        role: Role,
        member_id: str | None,
        now: datetime,
        note: str,
    ) -> DemoAccount:
        password = secrets.token_urlsafe(12)
        account = accounts.register(username, password, now, role=role)
        if member_id is not None:
            details = MemberDetails.parse(
                f"Demo {username.title()}", f"DEMO-{secrets.token_hex(4)}", "+86 138 0000 0000"
            )
            _link_member(self.engine, account.id, member_id, details, now)
        return DemoAccount(role.value, username, password, member_id, note)


def _link_member(
    engine: Engine, account_id: int, member_id: str, details: MemberDetails, now: datetime
) -> None:
    """Give a demo account a member id of the simulated history (a real
    member joins through :meth:`PoolService.join` instead)."""
    with private_transaction(engine) as conn:
        conn.execute(
            insert(_details).values(
                member_id=member_id,
                account_id=account_id,
                name=details.name,
                id_number=details.id_number,
                phone=details.phone,
                created=now,
            )
        )
        conn.execute(
            update(_accounts).where(_accounts.c.id == account_id).values(member_id=member_id)
        )


def _counted(entries: list[bytes], advance: Callable[[int], None] | None) -> Iterator[bytes]:
    for start in range(0, len(entries), STORE_CHUNK):
        chunk = entries[start : start + STORE_CHUNK]
        yield from chunk
        if advance is not None:
            advance(len(chunk))
