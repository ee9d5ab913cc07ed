"""verifiable.pool.evidence: salted commitments to evidence documents."""

from __future__ import annotations

import hashlib

import pytest

from verifiable.errors import MalformedError, VerificationError
from verifiable.pool.evidence import evidence_commitment, verify_evidence

SALT = bytes(range(32))
DOCUMENT = b"%PDF-1.7 a discharge summary"


def test_layout_is_domain_salt_document() -> None:
    # Written out from docs/format.md, not from the module's constant.
    want = hashlib.sha256(b"mutualog/evidence/v1" + SALT + DOCUMENT).digest()
    assert evidence_commitment(SALT, DOCUMENT) == want


def test_disclosure_verifies() -> None:
    verify_evidence(evidence_commitment(SALT, DOCUMENT), SALT, DOCUMENT)


@pytest.mark.parametrize(
    ("salt", "document"),
    [
        (bytes([SALT[0] ^ 1]) + SALT[1:], DOCUMENT),
        (SALT, DOCUMENT + b" "),
        (SALT, DOCUMENT[:-1]),
        (SALT, b""),
    ],
    ids=["salt-bit", "document-longer", "document-shorter", "document-empty"],
)
def test_any_change_fails(salt: bytes, document: bytes) -> None:
    commitment = evidence_commitment(SALT, DOCUMENT)
    with pytest.raises(VerificationError, match="the log holds " + commitment.hex()):
        verify_evidence(commitment, salt, document)


@pytest.mark.parametrize("size", [0, 31, 33])
def test_salt_must_be_32_bytes(size: int) -> None:
    with pytest.raises(MalformedError, match=f"expected 32 bytes, got {size}"):
        evidence_commitment(bytes(size), DOCUMENT)
