"""Claim evidence: the documents, kept off the log, and their commitments.

Each document gets a fresh 32-byte salt and the commitment

    SHA-256("mutualog/evidence/v1" || salt || document)

which goes into the claim's ``claim.filed`` entry.  Disclosing the salt and
the document later proves they are what was filed; deleting both (an
erasure) leaves a commitment that reveals nothing, because the salt is
random and gone.  Without the salt, a document anyone could guess (a
standard form, a small image) would be confirmed by its bare hash.

The bytes are kept in the database, not in files: every worker on every
machine sees the same evidence, and a claim's documents are stored or
discarded in the same transaction as each other.  The bytes and the file
name are sealed under the instance's data key
(:mod:`server.private.sealing`), each bound to its document's commitment.
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine, Table, delete, func, insert, select, update

from server.models import EvidenceRow
from server.private._tx import private_transaction
from server.private.erasure import (
    Erasure,
    ErasureKind,
    check_reason,
    record_erasure,
    scrub_freed,
)
from server.private.errors import EvidenceError, UnknownRecordError
from server.private.redacted import erase_redacted
from server.private.sealing import Sealer, sealer_of
from verifiable.errors import MalformedError
from verifiable.pool.evidence import EVIDENCE_DOMAIN, SALT_SIZE
from verifiable.pool.evidence import evidence_commitment as _commitment

__all__ = [
    "ALLOWED_TYPES",
    "DOMAIN",
    "MAX_DOCUMENTS",
    "MAX_DOCUMENT_SIZE",
    "SALT_SIZE",
    "EvidenceDocument",
    "StoredEvidence",
    "Upload",
    "clean_filename",
    "discard_evidence",
    "erase_evidence",
    "evidence_commitment",
    "evidence_content",
    "list_evidence",
    "store_evidence",
]

_evidence = cast(Table, EvidenceRow.__table__)

DOMAIN = EVIDENCE_DOMAIN
MAX_DOCUMENT_SIZE = 10 * 1024 * 1024
#: As many as a ``claim.filed`` body's evidence list may hold.
MAX_DOCUMENTS = 32
MAX_FILENAME = 255

#: Content types accepted, each with the bytes its files start with: the
#: declared type must match the content, so nothing else is served back
#: under an accepted type.
ALLOWED_TYPES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}


#: Characters that change how the rest of a name is shown: the bidi
#: embeddings, overrides and isolates, and the directional marks.  With
#: U+202E, "report\u202egnp.exe" reads as "reportexe.png".
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# C0 and C1 controls and DEL (Cc), line and paragraph separators (Zl, Zp).
_CONTROL_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


def clean_filename(name: str | None) -> str | None:
    """An uploaded file's name without control or bidi characters, trimmed;
    ``None`` if nothing is left.  Applied when a name is stored and again
    when it is read, so names stored before the rule are shown clean too."""
    if name is None:
        return None
    kept = "".join(
        c for c in name if c not in _BIDI and unicodedata.category(c) not in _CONTROL_CATEGORIES
    ).strip()
    return kept or None


def evidence_commitment(salt: bytes, document: bytes) -> bytes:
    """``SHA-256("mutualog/evidence/v1" || salt || document)`` (see
    :mod:`verifiable.pool.evidence`); ``salt`` is 32 bytes."""
    try:
        return _commitment(salt, document)
    except MalformedError as e:
        raise EvidenceError(str(e), "evidence.malformed", detail=str(e)) from e


@dataclass(frozen=True)
class Upload:
    """A document as received: its bytes, declared type and file name."""

    content: bytes
    content_type: str
    filename: str | None = None

    def check(self, where: str, number: int = 0) -> None:
        """``None``, or :class:`EvidenceError` naming ``where`` (the
        ``number``-th document of its claim) and what is wrong."""
        n = number
        kind = self.content_type.split(";", 1)[0].strip().lower()
        if kind not in ALLOWED_TYPES:
            allowed = ", ".join(sorted(ALLOWED_TYPES))
            raise EvidenceError(
                f"{where}: type {kind[:60]!r} is not accepted ({allowed})",
                "evidence.type",
                n=n,
                kind=kind[:60],
                allowed=allowed,
            )
        if not self.content:
            raise EvidenceError(f"{where}: the file is empty", "evidence.empty", n=n)
        if len(self.content) > MAX_DOCUMENT_SIZE:
            raise EvidenceError(
                f"{where}: {len(self.content)} bytes, more than the "
                f"{MAX_DOCUMENT_SIZE // (1024 * 1024)} MiB allowed",
                "evidence.too_large",
                n=n,
                size=len(self.content),
                most=MAX_DOCUMENT_SIZE // (1024 * 1024),
            )
        if not self.content.startswith(ALLOWED_TYPES[kind]):
            raise EvidenceError(
                f"{where}: the content is not a {kind} file", "evidence.not_type", n=n, kind=kind
            )
        if self.filename is not None and len(self.filename) > MAX_FILENAME:
            raise EvidenceError(
                f"{where}: the file name is longer than {MAX_FILENAME} characters",
                "evidence.name_long",
                n=n,
                most=MAX_FILENAME,
            )


@dataclass(frozen=True)
class EvidenceDocument:
    """A stored document's description (not its bytes or salt)."""

    claim_id: str
    position: int
    commitment: bytes
    content_type: str
    size: int
    filename: str | None
    created: datetime
    erased: datetime | None


@dataclass(frozen=True)
class StoredEvidence:
    """A document with what opens its commitment."""

    document: EvidenceDocument
    salt: bytes
    content: bytes


_DESCRIPTION = (
    _evidence.c.claim_id,
    _evidence.c.position,
    _evidence.c.commitment,
    _evidence.c.content_type,
    _evidence.c.size,
    _evidence.c.filename,
    _evidence.c.created,
    _evidence.c.erased,
)


def _row_key(commitment: bytes) -> str:
    """What a document's sealed values are bound to: its commitment, unique
    and never changed."""
    return bytes(commitment).hex()


def _document(row: Any, sealer: Sealer) -> EvidenceDocument:
    filename = None
    if row.filename is not None:
        key = _row_key(row.commitment)
        filename = sealer.open_text(_evidence.name, "filename", key, row.filename)
    return EvidenceDocument(
        claim_id=row.claim_id,
        position=row.position,
        commitment=bytes(row.commitment),
        content_type=row.content_type,
        size=row.size,
        filename=clean_filename(filename),
        created=row.created,
        erased=row.erased,
    )


def store_evidence(
    engine: Engine,
    claim_id: str,
    uploads: Sequence[Upload],
    now: datetime,
    salts: Callable[[int], bytes] = secrets.token_bytes,
) -> list[bytes]:
    """Check and store a claim's documents; returns their commitments, in
    order, for the ``claim.filed`` body.

    All or nothing: :class:`EvidenceError` names the first bad document and
    nothing is stored.  If the claim's append then fails, undo with
    :func:`discard_evidence`.  ``salts(n)`` gives ``n`` random bytes; it is
    an argument so that a reproducible build (the demo's, in tests) can
    inject its own source.
    """
    if not uploads:
        raise EvidenceError("a claim needs at least one evidence document", "evidence.none")
    if len(uploads) > MAX_DOCUMENTS:
        raise EvidenceError(
            f"at most {MAX_DOCUMENTS} documents per claim, got {len(uploads)}",
            "evidence.too_many",
            most=MAX_DOCUMENTS,
            count=len(uploads),
        )
    for n, upload in enumerate(uploads, start=1):
        upload.check(f"document {n}", n)
    sealer = sealer_of(engine)
    rows = []
    for upload in uploads:
        salt = salts(SALT_SIZE)
        commitment = evidence_commitment(salt, upload.content)
        key = _row_key(commitment)
        filename = clean_filename(upload.filename)
        rows.append(
            {
                "claim_id": claim_id,
                "commitment": commitment,
                "salt": salt,
                "content": sealer.seal(_evidence.name, "content", key, upload.content),
                "content_type": upload.content_type.split(";", 1)[0].strip().lower(),
                "size": len(upload.content),
                "filename": None
                if filename is None
                else sealer.seal_text(_evidence.name, "filename", key, filename),
                "created": now,
            }
        )
    with private_transaction(engine) as conn:
        start = conn.scalar(
            select(func.coalesce(func.max(_evidence.c.position) + 1, 0)).where(
                _evidence.c.claim_id == claim_id
            )
        )
        for offset, row in enumerate(rows):
            conn.execute(insert(_evidence).values(position=start + offset, **row))
    return [cast(bytes, row["commitment"]) for row in rows]


def list_evidence(engine: Engine, claim_id: str) -> list[EvidenceDocument]:
    """The claim's documents in filing order (erased ones included, marked)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(*_DESCRIPTION)
            .where(_evidence.c.claim_id == claim_id)
            .order_by(_evidence.c.position)
        ).all()
    sealer = sealer_of(engine)
    return [_document(row, sealer) for row in rows]


def evidence_content(engine: Engine, claim_id: str, position: int) -> StoredEvidence | None:
    """A document with its bytes and salt; ``None`` if unknown or erased."""
    with engine.connect() as conn:
        row = conn.execute(
            select(*_DESCRIPTION, _evidence.c.salt, _evidence.c.content).where(
                _evidence.c.claim_id == claim_id, _evidence.c.position == position
            )
        ).one_or_none()
    if row is None or row.content is None or row.salt is None:
        return None
    sealer = sealer_of(engine)
    content = sealer.open(_evidence.name, "content", _row_key(row.commitment), row.content)
    return StoredEvidence(_document(row, sealer), salt=bytes(row.salt), content=content)


def discard_evidence(engine: Engine, claim_id: str) -> None:
    """Delete a claim's documents outright: only for a claim that never
    reached the log (its append failed), so there is nothing to record."""
    with private_transaction(engine) as conn:
        conn.execute(delete(_evidence).where(_evidence.c.claim_id == claim_id))


def erase_evidence(
    engine: Engine, claim_id: str, reason: str, requested_by: int | None, now: datetime
) -> Erasure:
    """Erase every document of the claim (bytes, salts, file names) and
    record it; the commitments stay, here and in the log."""
    reason = check_reason(reason)
    with private_transaction(engine) as conn:
        erased = conn.execute(
            update(_evidence)
            .where(_evidence.c.claim_id == claim_id, _evidence.c.erased.is_(None))
            .values(content=None, salt=None, filename=None, erased=now)
        ).rowcount
        # The redacted copies shown to the panel go with the originals.
        erase_redacted(conn, claim_id, now)
        if not erased:
            raise UnknownRecordError(f"no evidence left to erase for claim {claim_id}")
        erasure = record_erasure(
            conn,
            ErasureKind.EVIDENCE,
            claim_id,
            f"{erased} evidence document{'s' if erased != 1 else ''}",
            reason,
            requested_by,
            now,
        )
    scrub_freed(engine)
    return erasure
