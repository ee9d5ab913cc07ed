"""Sealed votes' openings, kept off the log until the reveal.

When a juror votes, the log gets ``vote.sealed`` with a commitment
(:func:`verifiable.pool.votes.vote_commitment`) and this table keeps what opens
it: the choice, the reason and the salt.  At the close they become the
``vote.revealed`` entries.  The table's primary key (claim, round, juror)
is what refuses a second vote, even two submitted at the same instant.

The operator's database can read a sealed choice before the reveal; the
log cannot, and a juror's receipt proves the sealed commitment never
changed.  docs/security.md says what that leaves to trust.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from server.models import SealedVoteRow
from server.private._tx import private_transaction
from server.private.errors import AlreadyVotedError, UnknownRecordError
from verifiable.errors import MalformedError
from verifiable.log.bodies import Choice
from verifiable.pool.votes import SALT_SIZE

__all__ = [
    "PrivateVote",
    "discard_sealed_vote",
    "mark_revealed",
    "private_vote",
    "save_sealed_vote",
    "set_sealed_seq",
    "votes_to_reveal",
]

_votes = cast(Table, SealedVoteRow.__table__)


@dataclass(frozen=True)
class PrivateVote:
    """One juror's vote with its salt; ``sealed_seq`` and ``revealed_seq``
    are the seqs of its entries once appended."""

    claim: str
    round: int
    juror: str
    choice: Choice
    reason: str
    salt: bytes
    sealed_seq: int | None = None
    revealed_seq: int | None = None


def _vote(row: Any) -> PrivateVote:
    return PrivateVote(
        claim=row.claim_id,
        round=row.round,
        juror=row.juror,
        choice=Choice(row.choice),
        reason=row.reason,
        salt=bytes(row.salt),
        sealed_seq=row.sealed_seq,
        revealed_seq=row.revealed_seq,
    )


def _key(claim: str, round: int, juror: str) -> Any:
    return (_votes.c.claim_id == claim) & (_votes.c.round == round) & (_votes.c.juror == juror)


def save_sealed_vote(engine: Engine, vote: PrivateVote, now: datetime) -> None:
    """Store the opening before ``vote.sealed`` is appended;
    :class:`AlreadyVotedError` if the juror has voted in this round."""
    if len(vote.salt) != SALT_SIZE:
        raise MalformedError(f"vote.salt: expected {SALT_SIZE} bytes, got {len(vote.salt)}")
    already = AlreadyVotedError(
        f"juror {vote.juror} has already voted on claim {vote.claim} in round {vote.round}",
        "juror.already_voted",
        claim=vote.claim,
        round=vote.round,
    )
    try:
        with private_transaction(engine) as conn:
            if conn.scalar(select(_votes.c.juror).where(_key(vote.claim, vote.round, vote.juror))):
                raise already
            conn.execute(
                insert(_votes).values(
                    claim_id=vote.claim,
                    round=vote.round,
                    juror=vote.juror,
                    choice=Choice(vote.choice).value,
                    reason=vote.reason,
                    salt=vote.salt,
                    created=now,
                )
            )
    except IntegrityError as e:
        raise already from e


def set_sealed_seq(engine: Engine, claim: str, round: int, juror: str, seq: int) -> None:
    """Record the seq of the vote's ``vote.sealed`` entry."""
    with private_transaction(engine) as conn:
        done = conn.execute(
            update(_votes).where(_key(claim, round, juror)).values(sealed_seq=seq)
        ).rowcount
    if not done:
        raise UnknownRecordError(f"no sealed vote of juror {juror} on claim {claim} round {round}")


def discard_sealed_vote(engine: Engine, claim: str, round: int, juror: str) -> None:
    """Undo :func:`save_sealed_vote` after its append failed (a vote never
    sealed in the log leaves nothing behind, and the juror may try again)."""
    with private_transaction(engine) as conn:
        conn.execute(delete(_votes).where(_key(claim, round, juror), _votes.c.sealed_seq.is_(None)))


def private_vote(engine: Engine, claim: str, round: int, juror: str) -> PrivateVote | None:
    with engine.connect() as conn:
        row = conn.execute(select(*_votes.c).where(_key(claim, round, juror))).one_or_none()
    return None if row is None else _vote(row)


def votes_to_reveal(engine: Engine, claim: str, round: int) -> list[PrivateVote]:
    """The round's votes sealed in the log and not yet revealed, by juror id."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(*_votes.c)
            .where(
                _votes.c.claim_id == claim,
                _votes.c.round == round,
                _votes.c.sealed_seq.is_not(None),
                _votes.c.revealed_seq.is_(None),
            )
            .order_by(_votes.c.juror)
        ).all()
    return [_vote(row) for row in rows]


def mark_revealed(engine: Engine, claim: str, round: int, seqs: Mapping[str, int]) -> None:
    """Record, for each juror, the seq of their ``vote.revealed`` entry."""
    with private_transaction(engine) as conn:
        for juror, seq in seqs.items():
            conn.execute(update(_votes).where(_key(claim, round, juror)).values(revealed_seq=seq))
