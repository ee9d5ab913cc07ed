"""Sealed juror votes: the commitment and the check that a reveal opens it.

Specified in docs/format.md (section 5) ("Sealed votes").  A commitment is

    SHA-256("mutualog/vote/v1" || salt || JCS(vote))

where ``salt`` is 32 random bytes (chosen by the server, handed to the juror
in the receipt, revealed at the close) and ``JCS(vote)`` is the RFC 8785
canonical JSON of ``{"choice", "claim", "juror", "reason", "round"}``.  The
salt hides the vote until the reveal (a vote has only two choices, so an
unsalted hash would be guessed at once); SHA-256's collision resistance binds
the juror to it.
"""

from __future__ import annotations

import hashlib

import rfc8785

from verifiable.errors import MalformedError, RuleViolation
from verifiable.log.bodies import VOTE_REASON, Choice, VoteRevealed, VoteSealed
from verifiable.log.fields import read_enum, read_id, read_int

__all__ = [
    "DOMAIN",
    "SALT_SIZE",
    "canonical_vote",
    "check_reveal",
    "vote_commitment",
]

DOMAIN = b"mutualog/vote/v1"
"""The 16 ASCII bytes that start every vote commitment's input."""

SALT_SIZE = 32
"""Bytes of a vote's salt."""


def canonical_vote(claim: str, round: int, juror: str, choice: Choice, reason: str) -> bytes:
    """The RFC 8785 canonical JSON of a vote, the committed bytes after the salt.

    Each field is checked as the ``vote.revealed`` body checks it, so only a
    vote that can be revealed can be committed to.
    """
    where = "vote"
    value = {
        "choice": read_enum(choice, f"{where}.choice", Choice).value,
        "claim": read_id(claim, f"{where}.claim"),
        "juror": read_id(juror, f"{where}.juror"),
        "reason": VOTE_REASON.decode(reason, f"{where}.reason"),
        "round": read_int(round, f"{where}.round", low=1),
    }
    # Every value was checked above (no lone surrogates, integers within the
    # JSON safe range), so the encoder cannot fail.
    return rfc8785.dumps(value)


def vote_commitment(
    claim: str, round: int, juror: str, choice: Choice, reason: str, salt: bytes
) -> bytes:
    """``SHA-256("mutualog/vote/v1" || salt || canonical_vote(...))``.

    ``salt`` must be exactly 32 bytes; the other fields as in a
    ``vote.revealed`` body, else :class:`MalformedError`.
    """
    if not isinstance(salt, bytes) or len(salt) != SALT_SIZE:
        shown = f"{len(salt)} bytes" if isinstance(salt, bytes) else type(salt).__name__
        raise MalformedError(f"vote.salt: expected {SALT_SIZE} bytes, got {shown}")
    body = canonical_vote(claim, round, juror, choice, reason)
    return hashlib.sha256(DOMAIN + salt + body).digest()


def check_reveal(sealed: VoteSealed, revealed: VoteRevealed, *, seq: int | None = None) -> None:
    """Check that ``revealed`` opens ``sealed``: same claim, round and juror,
    and the commitment recomputed from the reveal equals the sealed one.

    Returns ``None`` on success; raises ``RuleViolation("vote.reveal_matches")``
    naming the first difference (commitments in hex).  ``seq`` is the
    reveal's entry index, for the message.
    """
    for name in ("claim", "round", "juror"):
        want, got = getattr(sealed, name), getattr(revealed, name)
        if want != got:
            raise RuleViolation(
                "vote.reveal_matches",
                f"the reveal's {name} differs from the sealed vote's",
                seq=seq,
                expected=want,
                actual=got,
            )
    computed = vote_commitment(
        revealed.claim,
        revealed.round,
        revealed.juror,
        revealed.choice,
        revealed.reason,
        revealed.salt,
    )
    if computed != sealed.commitment:
        raise RuleViolation(
            "vote.reveal_matches",
            f"the reveal of juror {revealed.juror} on claim {revealed.claim} round "
            f"{revealed.round} does not open the sealed commitment",
            seq=seq,
            expected=f"commitment {sealed.commitment.hex()}",
            actual=f"commitment {computed.hex()}",
        )
