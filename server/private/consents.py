"""Consents as PIPL asks them given and kept.

Two kinds of processing in the pool need more than the account's general
agreement, under the Personal Information Protection Law:

* **medical** (Art. 28-29): a claim's evidence is medical information, a
  sensitive kind, whose processing needs the person's *separate* consent —
  its own box on the claim form, not a clause of a longer text;
* **guardian** (Art. 31): all personal information of a child under 14 is
  sensitive, and its processing needs the consent of a parent or other
  guardian — a box the join form demands when the ID number's birth date
  makes the member younger than 14.

Each consent is recorded when it is given — before the processing it
allows, in its own transaction — with the exact sentence the person
ticked and its language, so the operator can show what was agreed to.
:func:`consent_given` records it for the span of the processing and takes
the record back if the processing is refused, so a refused form leaves
every table as it was; a medical consent names its claim once the claim
is filed (:func:`attach_claim`).  Private: no consent reaches the log.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Engine, delete, insert, select, update

from server.models import ConsentRow

__all__ = [
    "Consent",
    "ConsentKind",
    "attach_claim",
    "consent_given",
    "consents_of",
    "record_consent",
]

#: The longest sentence a consent keeps (the column's width).
MAX_WORDING = 1000


class ConsentKind(StrEnum):
    MEDICAL = "medical"
    GUARDIAN = "guardian"


@dataclass(frozen=True)
class Consent:
    """One consent as recorded."""

    id: int
    account_id: int
    kind: ConsentKind
    wording: str
    lang: str
    given: datetime
    claim_id: str | None


def record_consent(
    engine: Engine, account_id: int, kind: ConsentKind, wording: str, lang: str, at: datetime
) -> int:
    """Record that ``account_id`` gave the consent ``wording`` says, in
    ``lang``, at ``at``; returns the record's id."""
    if not wording or len(wording) > MAX_WORDING:
        raise ValueError(f"a consent's wording is 1 to {MAX_WORDING} characters")
    with engine.begin() as conn:
        result = conn.execute(
            insert(ConsentRow).values(
                account_id=account_id, kind=kind.value, wording=wording, lang=lang, given=at
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


@contextmanager
def consent_given(
    engine: Engine, account_id: int, kind: ConsentKind, wording: str, lang: str, at: datetime
) -> Iterator[int]:
    """The consent recorded (:func:`record_consent`) before the processing
    the ``with`` block does, and taken back if the block raises: a refused
    filing or join leaves no trace of the attempt."""
    consent = record_consent(engine, account_id, kind, wording, lang, at)
    try:
        yield consent
    except BaseException:
        with engine.begin() as conn:
            conn.execute(delete(ConsentRow).where(ConsentRow.id == consent))
        raise


def attach_claim(engine: Engine, consent_id: int, claim_id: str) -> None:
    """Name the claim filed under the medical consent ``consent_id``."""
    with engine.begin() as conn:
        conn.execute(
            update(ConsentRow)
            .where(ConsentRow.id == consent_id, ConsentRow.kind == ConsentKind.MEDICAL.value)
            .values(claim_id=claim_id)
        )


def consents_of(engine: Engine, account_id: int) -> list[Consent]:
    """Every consent ``account_id`` gave, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(ConsentRow.__table__)
            .where(ConsentRow.account_id == account_id)
            .order_by(ConsentRow.id)
        ).all()
        return [
            Consent(r.id, r.account_id, ConsentKind(r.kind), r.wording, r.lang, r.given, r.claim_id)
            for r in rows
        ]
