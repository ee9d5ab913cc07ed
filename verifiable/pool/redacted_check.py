"""``verify-claim --redacted FILE``: a redacted copy's opening, as the
claimant downloads it, checked against the commitment the claim's proven
``claim.noticed`` entry carries for that document.

The opening is JSON: ``claim``, ``document`` (from 1), ``salt`` (hex) and
``pages`` (base64 PNG files, in order).  The check proves that these page
images are exactly what the panel was served (docs/format.md, "Evidence
commitments"); it says nothing about what the images show.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from verifiable.errors import MalformedError, VerificationError
from verifiable.findings import Finding
from verifiable.log.bodies import ClaimNoticed
from verifiable.pool.proven import ProvenBundle
from verifiable.pool.redacted import verify_redacted

__all__ = ["check_redacted_opening", "read_opening"]


def read_opening(data: Mapping[str, object]) -> tuple[str, int, bytes, list[bytes]]:
    """The claim, document number, salt and pages of an opening's JSON."""
    try:
        claim, number = data["claim"], data["document"]
        salt, pages = data["salt"], data["pages"]
        if not isinstance(claim, str) or not isinstance(number, int) or isinstance(number, bool):
            raise TypeError
        if not isinstance(salt, str) or not isinstance(pages, list):
            raise TypeError
        return (
            claim,
            number,
            bytes.fromhex(salt),
            [base64.b64decode(str(p), validate=True) for p in pages],
        )
    except (KeyError, TypeError, ValueError, binascii.Error) as e:
        raise MalformedError(f"redacted copy opening: not a valid opening ({e!r})") from e


def check_redacted_opening(
    proven: ProvenBundle, claim: str, opening: Mapping[str, object]
) -> Finding:
    """The finding ``redacted copy`` for one opening of claim ``claim``."""
    name = "redacted copy"
    try:
        of, number, salt, pages = read_opening(opening)
    except MalformedError as e:
        return Finding.failure(name, str(e))
    where = f"claim {claim}, document {number}"
    if of != claim:
        return Finding.failure(name, "the opening is of another claim", claim, of, where)
    notices = [
        e.body
        for e in proven.of_type("claim.noticed")
        if isinstance(e.body, ClaimNoticed) and e.body.claim == claim
    ]
    if not notices or notices[0].redacted is None:
        return Finding.failure(
            name, "the claim's notice commits to no redacted copies", "a notice", "none", where
        )
    committed = notices[0].redacted
    if not 1 <= number <= len(committed):
        return Finding.failure(
            name, "no such document in the notice", f"1 to {len(committed)}", number, where
        )
    try:
        verify_redacted(committed[number - 1], salt, pages)
    except (VerificationError, MalformedError) as e:
        return Finding.failure(name, str(e), committed[number - 1].hex(), "", where)
    return Finding.passed(
        name,
        f"document {number} of claim {claim}: the {len(pages)} page image(s) are the ones "
        f"the notice commits to ({committed[number - 1].hex()[:16]}…)",
    )
