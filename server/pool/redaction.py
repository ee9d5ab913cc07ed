"""The redacted copies of a claim's evidence in the pool: uploading one
(checked and rendered by :mod:`server.redaction`, stored by
:mod:`server.private.redacted`), reading its page images, and the
commitments a notice carries.

A copy is uploaded while the claim is filed and has no notice: once the
notice is published it carries the copies' commitments, and the copies
are fixed.  The notice needs a copy of every document
(:func:`notice_commitments`).
"""

from __future__ import annotations

from server.pool.concerned import identities
from server.pool.core import PoolCore, require
from server.pool.errors import PoolInputError, PoolRefusedError
from server.private.evidence import Upload, list_evidence
from server.private.redacted import (
    RedactedCopy,
    RedactedPages,
    list_redacted,
    redacted_commitments,
    redacted_pages,
    store_redacted,
)
from server.redaction import prepare_copy
from verifiable.pool.state import ClaimView, Stage

__all__ = ["Redaction", "notice_commitments"]


def notice_commitments(core: PoolCore, view: ClaimView) -> tuple[bytes, ...]:
    """The commitments of the redacted copies of every document of the
    claim, in order, for its notice; a refusal if one has none."""
    found = redacted_commitments(core.engine, view.id, view.evidence)
    if found is None:
        copies = list_redacted(core.engine, view.id)
        missing = [n + 1 for n in range(view.evidence) if n not in copies]
        raise PoolRefusedError(
            f"claim {view.id} needs a redacted copy of every evidence document before its "
            f"notice (missing: document {', '.join(map(str, missing)) or '?'})",
            "notice.redacted_missing",
            claim=view.id,
            documents=", ".join(map(str, missing)) or "?",
        )
    return tuple(found)


class Redaction:
    """The redacted copies of the pool over ``core``."""

    def __init__(self, core: PoolCore) -> None:
        self._core = core

    def upload(self, claim_id: str, number: int, upload: Upload) -> bytes:
        """Check, render and store the redacted copy of document ``number``
        (from 1) of a filed claim; returns the copy's commitment.  Refuses
        (:class:`server.redaction.RedactionError`) a copy still holding an
        identifier of the claimant, and a claim already noticed."""
        core = self._core
        with core.lock:
            state = core.state()
            view = require(state, claim_id)
            if view.stage is not Stage.FILED:
                raise PoolRefusedError(
                    f"claim {claim_id} is {view.stage.value}: its redacted copies are fixed "
                    "once its notice is published",
                    "redacted.not_filed",
                    claim=claim_id,
                    stage=view.stage.value,
                )
            if not 1 <= number <= view.evidence:
                raise PoolInputError(
                    f"claim {claim_id} has documents 1 to {view.evidence}, not {number}",
                    "redacted.number",
                    claim=claim_id,
                    count=view.evidence,
                    number=number,
                )
            originals = list_evidence(core.engine, claim_id)
            if number > len(originals) or originals[number - 1].erased is not None:
                raise PoolRefusedError(
                    f"document {number} of claim {claim_id} was erased",
                    "redacted.erased",
                    claim=claim_id,
                    number=number,
                )
            pages = prepare_copy(upload, identities(core, [view.member]))
            return store_redacted(core.engine, claim_id, number - 1, pages, core.now(state))

    def copies(self, claim_id: str) -> dict[int, RedactedCopy]:
        """The claim's copies by document position (from 0)."""
        return list_redacted(self._core.engine, claim_id)

    def pages(self, claim_id: str, number: int) -> RedactedPages | None:
        """The page images and salt of document ``number``'s (from 1) copy."""
        return redacted_pages(self._core.engine, claim_id, number - 1)
