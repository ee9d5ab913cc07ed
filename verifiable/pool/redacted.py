"""Salted commitments to the redacted copies a claim's panel is shown.

For each evidence document the operator uploads a redacted copy; the
server renders it to page images (PNG), and jurors are served exactly
those images.  ``claim.noticed`` carries, per document, the commitment

    SHA-256("mutualog/redacted/v1" || salt || pages)

where ``salt`` is a fresh 32-byte random value kept off the log and
``pages`` is the canonical framing of the page images, in order:

    u32(count) || for each page: u64(length) || png bytes

(big-endian unsigned integers).  The framing makes the page boundaries
part of what is committed, so no two different lists of pages share a
preimage.  Disclosing the salt and the images to the claimant lets them
check, against the public log, exactly what the jurors were shown.
docs/format.md ("Evidence commitments") gives the layout.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from verifiable.errors import MalformedError, VerificationError
from verifiable.pool.evidence import SALT_SIZE

__all__ = [
    "REDACTED_DOMAIN",
    "frame_pages",
    "redacted_commitment",
    "unframe_pages",
    "verify_redacted",
]

REDACTED_DOMAIN = b"mutualog/redacted/v1"


def frame_pages(pages: Sequence[bytes]) -> bytes:
    """The canonical framing of ``pages``: a count, then each page's length
    and bytes."""
    if not pages:
        raise MalformedError("redacted copy: at least one page")
    out = bytearray(len(pages).to_bytes(4, "big"))
    for page in pages:
        out += len(page).to_bytes(8, "big") + page
    return bytes(out)


def unframe_pages(framed: bytes) -> list[bytes]:
    """The pages of a framing made by :func:`frame_pages`; refuses anything
    else (trailing bytes, short pages, no pages)."""
    if len(framed) < 4:
        raise MalformedError("redacted copy: framing shorter than its count")
    count = int.from_bytes(framed[:4], "big")
    at, pages = 4, []
    for n in range(count):
        if len(framed) < at + 8:
            raise MalformedError(f"redacted copy: page {n + 1} has no length")
        size = int.from_bytes(framed[at : at + 8], "big")
        at += 8
        if len(framed) < at + size:
            raise MalformedError(f"redacted copy: page {n + 1} is cut short")
        pages.append(framed[at : at + size])
        at += size
    if at != len(framed) or not pages:
        raise MalformedError("redacted copy: not a canonical framing of its pages")
    return pages


def redacted_commitment(salt: bytes, pages: Sequence[bytes]) -> bytes:
    """The commitment to the page images ``pages`` under ``salt`` (32 bytes)."""
    if len(salt) != SALT_SIZE:
        raise MalformedError(f"redacted copy salt: expected {SALT_SIZE} bytes, got {len(salt)}")
    return hashlib.sha256(REDACTED_DOMAIN + salt + frame_pages(pages)).digest()


def verify_redacted(commitment: bytes, salt: bytes, pages: Sequence[bytes]) -> None:
    """Check disclosed page images and salt against the logged commitment."""
    got = redacted_commitment(salt, pages)
    if got != commitment:
        raise VerificationError(
            f"redacted copy: the disclosed pages and salt commit to {got.hex()}, "
            f"the log holds {commitment.hex()}"
        )
