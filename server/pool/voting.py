"""Voting on a claim: who may vote, sealing a vote (its opening kept
privately, its commitment in the log), the juror's receipt, and closing the
vote (every opening revealed, then the decision).
"""

from __future__ import annotations

import secrets
from datetime import datetime

from server.log_index import stored_index
from server.pool.concerned import guard
from server.pool.core import PoolCore, checked, require
from server.pool.errors import PoolRefusedError, VoteRefusedError
from server.private.submissions import Submission, check_unused, record_within
from server.private.votes import (
    PrivateVote,
    discard_sealed_vote,
    mark_revealed,
    private_vote,
    save_sealed_vote,
    set_sealed_seq,
    votes_to_reveal,
)
from verifiable.log.bodies import Body, Choice, ClaimDecided, VoteRevealed, VoteSealed
from verifiable.log.checkpoint import Checkpoint
from verifiable.log.note import Note
from verifiable.log.texts import VOTE_REASON
from verifiable.pool.receipt import VoteReceipt as SealedReceipt
from verifiable.pool.state import ClaimView, Stage
from verifiable.pool.votes import SALT_SIZE, vote_commitment

__all__ = ["SealedReceipt", "Voting"]


class Voting:
    """The jurors' votes over ``core``."""

    def __init__(self, core: PoolCore) -> None:
        self._core = core

    def open_panels(self, member_id: str) -> list[ClaimView]:
        """Claims whose current panel has ``member_id`` and is still voting."""
        core = self._core
        with core.lock:
            state = core.state()
            now = core.now(state)
            # The claims whose panels drew the member, from the log's index:
            # a juror's few, not every claim of the pool.
            with stored_index(core.engine).at(state.size) as index:
                drawn = dict.fromkeys(c for c, _ in index.member_claims(member_id).summoned)
            views = (state.claim(c) for c in drawn)
            return [
                c
                for c in views
                if c is not None
                and c.stage is Stage.VOTING
                and member_id in c.jurors
                and c.votes_until is not None
                and now <= c.votes_until
            ]

    def check_can_vote(self, claim_id: str, round: int, juror: str) -> ClaimView:
        """The claim if ``juror`` may vote on it in ``round`` now, else
        :class:`VoteRefusedError` saying why."""
        core = self._core
        with core.lock:
            state = core.state()
            view = state.claim(claim_id)
            if view is None:
                raise VoteRefusedError(
                    "unknown_claim", f"There is no claim {claim_id}.", claim=claim_id
                )
            if juror not in view.jurors or view.stage is not Stage.VOTING:
                raise VoteRefusedError(
                    "not_juror",
                    f"You are not on a panel voting on claim {claim_id}: only the drawn "
                    "jurors of its current panel may vote.",
                    claim=claim_id,
                )
            if round != view.round:
                raise VoteRefusedError(
                    "wrong_round",
                    f"Claim {claim_id} is voting in round {view.round}, not round {round}.",
                    claim=claim_id,
                    current=view.round,
                    round=round,
                )
            if private_vote(core.engine, claim_id, round, juror) is not None:
                raise VoteRefusedError(
                    "already_voted",
                    f"You have already voted on claim {claim_id} in round {round}; "
                    "a sealed vote cannot be changed or cast twice.",
                    claim=claim_id,
                    round=round,
                )
            assert view.votes_until is not None
            if core.now(state) > view.votes_until:
                raise VoteRefusedError(
                    "window_closed",
                    f"The voting window of claim {claim_id} closed at "
                    f"{view.votes_until.isoformat()}.",
                    claim=claim_id,
                    until=view.votes_until,
                )
            return view

    def seal_vote(
        self,
        claim_id: str,
        round: int,
        juror: str,
        choice: Choice,
        reason: str,
        submission: Submission | None = None,
    ) -> SealedReceipt:
        """Seal a juror's vote: its opening kept privately, ``vote.sealed``
        appended with the commitment; returns the juror's receipt.  A
        ``submission`` token already used raises
        :class:`~server.private.submissions.AlreadySubmittedError`."""
        core = self._core
        check_unused(core.engine, submission)
        with core.lock:
            view = self.check_can_vote(claim_id, round, juror)
            state = core.state()
            at = core.now(state)
            salt = secrets.token_bytes(SALT_SIZE)
            # The opening becomes a vote.revealed entry at the close: a reason
            # the log would refuse is refused now, not then.
            checked(
                VoteRevealed(
                    claim=claim_id,
                    round=round,
                    juror=juror,
                    choice=choice,
                    reason=reason,
                    salt=salt,
                ),
                "vote",
            )
            # Revealed with the vote, the reason is public: the claimant's
            # and the juror's own identity stay out of it.
            guard(core, reason, VOTE_REASON, [view.member, juror])
            commitment = vote_commitment(claim_id, round, juror, choice, reason, salt)
            vote = PrivateVote(claim_id, round, juror, choice, reason, salt)
            save_sealed_vote(core.engine, vote, at)
            body = VoteSealed(claim=claim_id, round=round, juror=juror, commitment=commitment)
            try:
                seq = core.one(body, at, record_within(submission, claim_id, at))
            except BaseException:
                discard_sealed_vote(core.engine, claim_id, round, juror)
                raise
            set_sealed_seq(core.engine, claim_id, round, juror, seq)
            receipt = self.receipt(claim_id, round, juror)
            assert receipt is not None
            return receipt

    def has_voted(self, claim_id: str, round: int, juror: str) -> bool:
        """Whether ``juror`` has a vote stored for the claim's round."""
        return private_vote(self._core.engine, claim_id, round, juror) is not None

    def receipt(self, claim_id: str, round: int, juror: str) -> SealedReceipt | None:
        """The receipt of a sealed vote, proved in the latest checkpoint."""
        store = self._core.store
        vote = private_vote(self._core.engine, claim_id, round, juror)
        if vote is None or vote.sealed_seq is None:
            return None
        checkpoint = store.latest_checkpoint()
        entry = store.entry(vote.sealed_seq)
        assert checkpoint is not None and entry is not None
        size = _checkpoint_size(checkpoint)
        proof = store.inclusion_proof(vote.sealed_seq, size)
        return SealedReceipt(
            claim=claim_id,
            round=round,
            juror=juror,
            choice=vote.choice,
            reason=vote.reason,
            salt=vote.salt,
            commitment=vote_commitment(claim_id, round, juror, vote.choice, vote.reason, vote.salt),
            leaf_index=vote.sealed_seq,
            entry=entry,
            tree_size=size,
            inclusion_proof=tuple(proof),
            checkpoint=checkpoint,
        )

    def close_voting(self, claim_id: str) -> ClaimDecided:
        """After the window: reveal every sealed vote, then append the
        decision the revealed votes give."""
        core = self._core
        with core.lock:
            state = core.state()
            view = require(state, claim_id)
            at = core.now(state)
            if view.stage is not Stage.VOTING or view.votes_until is None:
                raise PoolRefusedError(
                    f"claim {claim_id} has no panel voting", "close.not_voting", claim=claim_id
                )
            if at <= view.votes_until:
                raise PoolRefusedError(
                    f"the voting window of claim {claim_id} is open until "
                    f"{view.votes_until.isoformat()}",
                    "close.too_early",
                    claim=claim_id,
                    until=view.votes_until,
                )
            self._reveal(claim_id, view.round, at)
            state = core.state()
            body = state.expected_decision(claim_id)
            core.one(body, core.now(state))
            return body

    def _reveal(self, claim_id: str, round: int, at: datetime) -> None:
        """Append every sealed vote's opening of the round, and note where."""
        votes = votes_to_reveal(self._core.engine, claim_id, round)
        if not votes:
            return
        items: list[tuple[str, Body]] = [
            (
                "vote.revealed",
                VoteRevealed(
                    claim=v.claim,
                    round=v.round,
                    juror=v.juror,
                    choice=v.choice,
                    reason=v.reason,
                    salt=v.salt,
                ),
            )
            for v in votes
        ]
        result = self._core.append(items, at)
        seqs = {v.juror: result.first_seq + i for i, v in enumerate(votes)}
        mark_revealed(self._core.engine, claim_id, round, seqs)


def _checkpoint_size(note: bytes) -> int:
    return Checkpoint.from_text(Note.from_bytes(note).text).size
