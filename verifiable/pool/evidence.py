"""Salted commitments to a claim's evidence documents.

A ``claim.filed`` entry carries, for each document, the commitment

    SHA-256("mutualog/evidence/v1" || salt || document)

with a fresh 32-byte random salt kept off the log beside the document.
Disclosing the salt and the document later proves they are what was filed;
erasing both leaves a commitment that reveals nothing, because the salt is
random and gone.  Without the salt, a guessable document (a standard form, a
small image) would be confirmed by its bare hash.  docs/format.md §5 gives
the layout.
"""

from __future__ import annotations

import hashlib

from verifiable.errors import MalformedError, VerificationError

__all__ = ["EVIDENCE_DOMAIN", "SALT_SIZE", "evidence_commitment", "verify_evidence"]

EVIDENCE_DOMAIN = b"mutualog/evidence/v1"
SALT_SIZE = 32


def evidence_commitment(salt: bytes, document: bytes) -> bytes:
    """The commitment to ``document`` under ``salt`` (32 bytes)."""
    if len(salt) != SALT_SIZE:
        raise MalformedError(f"evidence salt: expected {SALT_SIZE} bytes, got {len(salt)}")
    return hashlib.sha256(EVIDENCE_DOMAIN + salt + document).digest()


def verify_evidence(commitment: bytes, salt: bytes, document: bytes) -> None:
    """Check a disclosed document and salt against the logged commitment."""
    got = evidence_commitment(salt, document)
    if got != commitment:
        raise VerificationError(
            f"evidence: the disclosed document and salt commit to {got.hex()}, "
            f"the log holds {commitment.hex()}"
        )
