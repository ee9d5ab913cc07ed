"""Redacted copies of a claim's evidence documents: the page images its
panel is shown, kept off the log, and their commitments.

One copy per document (``position`` is the document's, from 0), made by
:func:`server.redaction.prepare_copy` from what the operator uploaded.  The
copy's pages are stored framed as :func:`verifiable.pool.redacted.frame_pages`
frames them, with a fresh 32-byte salt and the commitment

    SHA-256("mutualog/redacted/v1" || salt || framed pages)

that the claim's ``claim.noticed`` entry carries, in document order.  The
framed pages are stored sealed under the instance's data key
(:mod:`server.private.sealing`), bound to the copy's commitment.  Until
the notice is published the operator may replace a copy; after it, the
copy is what the log commits to and stays.  Erasing a claim's evidence
erases its copies too (:func:`erase_redacted`, in the same transaction).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, delete, insert, select, update

from server.models import RedactedCopyRow
from server.private._tx import private_transaction
from server.private.sealing import sealer_of
from verifiable.pool.evidence import SALT_SIZE
from verifiable.pool.redacted import frame_pages, redacted_commitment, unframe_pages

__all__ = [
    "RedactedCopy",
    "RedactedPages",
    "erase_redacted",
    "list_redacted",
    "redacted_commitments",
    "redacted_pages",
    "store_redacted",
]

_copies = cast(Table, RedactedCopyRow.__table__)


@dataclass(frozen=True)
class RedactedCopy:
    """A stored copy's description (not its pages or salt)."""

    claim_id: str
    position: int
    commitment: bytes
    page_count: int
    size: int
    created: datetime
    erased: datetime | None


@dataclass(frozen=True)
class RedactedPages:
    """A copy with what opens its commitment: the salt and the page images."""

    copy: RedactedCopy
    salt: bytes
    pages: list[bytes]


_DESCRIPTION = (
    _copies.c.claim_id,
    _copies.c.position,
    _copies.c.commitment,
    _copies.c.page_count,
    _copies.c.size,
    _copies.c.created,
    _copies.c.erased,
)


def _copy(row: Any) -> RedactedCopy:
    return RedactedCopy(
        claim_id=row.claim_id,
        position=row.position,
        commitment=bytes(row.commitment),
        page_count=row.page_count,
        size=row.size,
        created=row.created,
        erased=row.erased,
    )


def store_redacted(
    engine: Engine,
    claim_id: str,
    position: int,
    pages: Sequence[bytes],
    now: datetime,
    salts: Callable[[int], bytes] = secrets.token_bytes,
) -> bytes:
    """Store (or replace) the copy of document ``position`` of the claim,
    ``pages`` as :func:`server.redaction.prepare_copy` made them; returns
    its commitment.  The caller checks the claim has no notice yet."""
    salt = salts(SALT_SIZE)
    framed = frame_pages(pages)
    commitment = redacted_commitment(salt, pages)
    with private_transaction(engine) as conn:
        conn.execute(
            delete(_copies).where(_copies.c.claim_id == claim_id, _copies.c.position == position)
        )
        conn.execute(
            insert(_copies).values(
                claim_id=claim_id,
                position=position,
                commitment=commitment,
                salt=salt,
                pages=sealer_of(engine).seal(_copies.name, "pages", commitment.hex(), framed),
                page_count=len(pages),
                size=len(framed),
                created=now,
            )
        )
    return commitment


def list_redacted(engine: Engine, claim_id: str) -> dict[int, RedactedCopy]:
    """The claim's copies by document position (erased ones included)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(*_DESCRIPTION).where(_copies.c.claim_id == claim_id).order_by(_copies.c.position)
        ).all()
    return {row.position: _copy(row) for row in rows}


def redacted_commitments(engine: Engine, claim_id: str, documents: int) -> list[bytes] | None:
    """The commitments of copies of all ``documents`` of the claim, in
    order; ``None`` if any document has no copy (or it was erased)."""
    copies = list_redacted(engine, claim_id)
    found = [copies.get(n) for n in range(documents)]
    if any(c is None or c.erased is not None for c in found):
        return None
    return [c.commitment for c in found if c is not None]


def redacted_pages(engine: Engine, claim_id: str, position: int) -> RedactedPages | None:
    """A copy's page images and salt; ``None`` if there is none or it was erased."""
    with engine.connect() as conn:
        row = conn.execute(
            select(*_DESCRIPTION, _copies.c.salt, _copies.c.pages).where(
                _copies.c.claim_id == claim_id, _copies.c.position == position
            )
        ).one_or_none()
    if row is None or row.pages is None or row.salt is None:
        return None
    key = bytes(row.commitment).hex()
    framed = sealer_of(engine).open(_copies.name, "pages", key, row.pages)
    return RedactedPages(_copy(row), bytes(row.salt), unframe_pages(framed))


def erase_redacted(conn: Connection, claim_id: str, now: datetime) -> int:
    """Erase the claim's copies (pages and salts) inside the caller's
    transaction; their commitments stay.  Returns how many were erased."""
    return conn.execute(
        update(_copies)
        .where(_copies.c.claim_id == claim_id, _copies.c.erased.is_(None))
        .values(pages=None, salt=None, erased=now)
    ).rowcount
