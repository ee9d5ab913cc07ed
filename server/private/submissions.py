"""One-time submission tokens: a form sent twice appends once.

Each form that files a claim, an objection or a vote carries a token drawn
when the page is rendered (:func:`new_token`).  The token is stored, with
what the form appended, by :func:`record_within` — the caller's statement
in the sequencer's append transaction (:meth:`server.sequencer.Sequencer.append`),
under the log's write lock, and under the table's unique key.  A second
send of the same form, from a double click, a reload or a replay, on
whichever server process, finds the token taken: nothing is appended and
:class:`AlreadySubmittedError` carries what the first send did, for the
page to answer with.  The lock makes the check-then-insert exact; the
unique key would refuse a second row even without it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import cast

from sqlalchemy import Connection, Engine, Table, insert, select
from sqlalchemy.exc import IntegrityError

from server.models import SubmissionRow
from server.sequencer import Within
from verifiable.errors import MalformedError, MutualogError

__all__ = [
    "TOKEN_PATTERN",
    "AlreadySubmittedError",
    "Submission",
    "SubmissionKind",
    "Submitted",
    "check_unused",
    "find_submission",
    "new_token",
    "record_within",
]

_submissions = cast(Table, SubmissionRow.__table__)

#: A token as :func:`new_token` draws it (URL-safe base64 of 24 random bytes).
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{32}$"
_TOKEN = re.compile(TOKEN_PATTERN)


class SubmissionKind(StrEnum):
    CLAIM = "claim"
    OBJECTION = "objection"
    VOTE = "vote"


@dataclass(frozen=True)
class Submission:
    """A form's token as sent, the kind of form and the member who sent it."""

    token: str
    kind: SubmissionKind
    submitter: str

    def __post_init__(self) -> None:
        if not _TOKEN.fullmatch(self.token):
            raise MalformedError("submission token: expected 32 URL-safe base64 characters")


@dataclass(frozen=True)
class Submitted:
    """What a token's first send did: ``seq`` is the entry it appended
    (the claim's ``claim.filed``, the objection, the ``vote.sealed``)."""

    token: str
    kind: SubmissionKind
    submitter: str
    claim: str
    seq: int


class AlreadySubmittedError(MutualogError):
    """The form's token was used: nothing was appended; ``previous`` is what
    its first send did."""

    def __init__(self, previous: Submitted) -> None:
        super().__init__(
            f"this {previous.kind.value} form was sent already: entry {previous.seq} "
            f"of claim {previous.claim}"
        )
        self.previous = previous


def new_token() -> str:
    """A fresh token for a form being rendered."""
    return secrets.token_urlsafe(24)


def _submitted(row: object) -> Submitted:
    return Submitted(
        token=row.token,  # type: ignore[attr-defined]
        kind=SubmissionKind(row.kind),  # type: ignore[attr-defined]
        submitter=row.submitter,  # type: ignore[attr-defined]
        claim=row.claim_id,  # type: ignore[attr-defined]
        seq=row.seq,  # type: ignore[attr-defined]
    )


def _find(conn: Connection, token: str) -> Submitted | None:
    row = conn.execute(select(*_submissions.c).where(_submissions.c.token == token)).one_or_none()
    return None if row is None else _submitted(row)


def find_submission(engine: Engine, token: str) -> Submitted | None:
    """What the token's first send did, if it was sent."""
    with engine.connect() as conn:
        return _find(conn, token)


def check_unused(engine: Engine, submission: Submission | None) -> None:
    """:class:`AlreadySubmittedError` if the token was used already: a
    cheap look before the work of an append (storing documents), which
    :func:`record_within` repeats where it counts."""
    if submission is not None:
        previous = find_submission(engine, submission.token)
        if previous is not None:
            raise AlreadySubmittedError(previous)


def record_within(submission: Submission | None, claim: str, now: datetime) -> Within | None:
    """The append's statement that takes the token for the entry it appends
    (``None`` for no token): :class:`AlreadySubmittedError`, and nothing
    appended, if it was taken."""
    if submission is None:
        return None

    def within(conn: Connection, seq: int) -> None:
        previous = _find(conn, submission.token)
        if previous is not None:
            raise AlreadySubmittedError(previous)
        try:
            # A savepoint, so that PostgreSQL can still read the row that
            # won after a unique violation aborts the statement.
            with conn.begin_nested():
                conn.execute(
                    insert(_submissions).values(
                        token=submission.token,
                        kind=submission.kind.value,
                        submitter=submission.submitter,
                        claim_id=claim,
                        seq=seq,
                        created=now,
                    )
                )
        except IntegrityError as e:
            taken = _find(conn, submission.token)
            if taken is None:
                raise
            raise AlreadySubmittedError(taken) from e

    return within
