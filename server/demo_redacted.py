"""The demo's redacted copies: for each noticed claim, a redacted copy of
every evidence document, made, checked and stored as an operator's upload
is (:func:`server.redaction.check_copy`, :func:`server.redaction.render_pages`,
:func:`server.private.redacted.store_redacted`), and its commitments in the
claim's ``claim.noticed``.

The demo's documents as filed name the patient (server/demo.py); their
redacted copies keep each document's kind and medical finding and replace
the record number, name, ID number and phone with ``[redacted]``, as an
operator would.  The copies of one kind look alike, so each kind is drawn
once and its pages reused; each copy is still checked against its own
claimant's identifiers and gets its own salt.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import Engine

from server.private.evidence import Upload
from server.private.redacted import store_redacted
from server.private_guard import PrivateIdentity
from server.redaction import Place, check_copy, render_pages, scan_bytes
from verifiable.log.bodies import Body, ClaimNoticed

__all__ = ["DemoRedaction", "PdfMaker", "redacted_document"]

PdfMaker = Callable[[str, Sequence[str], str], bytes]
"""``pdf(title, lines, author)``: a one-page PDF (server.demo's)."""

#: The demo's documents in filing order (server.demo.demo_documents): the
#: title of each kind.
_KINDS = ("Discharge summary", "Invoice", "Laboratory report")
_FINDING = "Findings consistent with the illness claimed; see the attending physician's notes."


def redacted_document(kind: str, pdf: PdfMaker) -> bytes:
    """The redacted copy of a demo document of ``kind``, made by ``pdf`` (the
    demo's own): a one-page PDF with the identifying lines replaced."""
    lines = [
        kind,
        "Hospital record [redacted]",
        "Patient: [redacted]",
        "ID number: [redacted]",
        "Mobile: [redacted]",
        _FINDING,
    ]
    return pdf(kind, lines, "[redacted]")


@dataclass
class DemoRedaction:
    """Redacted copies for the claims of a demo being built into ``engine``;
    ``identity(member_id)`` gives a claimant's identifiers."""

    engine: Engine
    identity: Callable[[str], PrivateIdentity]
    pdf: PdfMaker
    salts: Callable[[int], bytes] = secrets.token_bytes
    _filed: dict[str, tuple[str, int]] = field(default_factory=dict)
    _pages: dict[str, list[bytes]] = field(default_factory=dict)

    def filed(self, claim_id: str, member_id: str, count: int) -> None:
        """Note a claim's claimant and number of documents, as it is filed."""
        self._filed[claim_id] = (member_id, count)

    def _copy(self, claim_id: str, position: int, when: datetime) -> bytes:
        member_id, _ = self._filed[claim_id]
        who = [self.identity(member_id)]
        kind = _KINDS[position % len(_KINDS)]
        upload = Upload(redacted_document(kind, self.pdf), "application/pdf")
        check_copy(upload, who)
        if kind not in self._pages:
            self._pages[kind] = render_pages(upload)
        pages = self._pages[kind]
        for page in pages:
            scan_bytes(page, who, Place.RENDERED)
        return store_redacted(self.engine, claim_id, position, pages, when, self.salts)

    def after(self, first: Callable[[datetime, Body], Body]) -> Callable[[datetime, Body], Body]:
        """An amend hook: ``first``'s, then :meth:`amend`."""
        return lambda when, body: self.amend(when, first(when, body))

    def amend(self, when: datetime, body: Body) -> Body:
        """``body``, or a notice given its redacted copies' commitments."""
        if not isinstance(body, ClaimNoticed) or body.claim not in self._filed:
            return body
        _, count = self._filed[body.claim]
        copies = tuple(self._copy(body.claim, n, when) for n in range(count))
        return replace(body, redacted=copies)
