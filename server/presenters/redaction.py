"""A refused redacted copy (:class:`server.redaction.RedactionError`) as a
sentence in the page's language: what was found and where, or which limit
the copy breaks, never the identifier itself."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from server.private_guard import IdentifierKind
from server.redaction import (
    MAX_COPY_BYTES,
    MAX_INFLATED,
    MAX_PAGE_PIXELS,
    MAX_PAGES,
    MAX_SOURCE_PIXELS,
    Limit,
    Place,
    RedactionError,
)

__all__ = ["redaction_refusal"]

_FOUND: Mapping[IdentifierKind, object] = {
    IdentifierKind.ID_NUMBER: _l("something shaped like a resident ID number"),
    IdentifierKind.PHONE: _l("something shaped like a mobile phone number"),
    IdentifierKind.NAME: _l("the claimant's name"),
    IdentifierKind.MEMBER_ID_NUMBER: _l("the claimant's ID number"),
    IdentifierKind.MEMBER_PHONE: _l("the claimant's phone number"),
}

_PLACE: Mapping[Place, object] = {
    Place.TEXT: _l("the text layer of page %(page)s (hidden or white text counts too)"),
    Place.METADATA: _l("the document's properties (%(key)s)"),
    Place.IMAGE_INFO: _l("the image's embedded data (%(key)s)"),
    Place.CONTENT: _l("the file's content outside the visible page (metadata, XMP, annotations)"),
    Place.RENDERED: _l("the page image drawn from page %(page)s"),
}

_LIMIT: Mapping[Limit, object] = {
    Limit.UNREADABLE: _l("The copy cannot be read as a PDF, PNG or JPEG file."),
    Limit.PAGES: _l("The copy has more than %(most)s pages."),
    Limit.PAGE_PIXELS: _l("A page of the copy is too large to draw (more than %(most)s pixels)."),
    Limit.SOURCE_PIXELS: _l("The image is larger than %(most)s pixels."),
    Limit.INFLATED: _l("The file's compressed content is larger than %(most)s MiB."),
    Limit.COPY_BYTES: _l("The copy's page images take more than %(most)s MiB."),
}

_MOST: Mapping[Limit, int] = {
    Limit.PAGES: MAX_PAGES,
    Limit.PAGE_PIXELS: MAX_PAGE_PIXELS,
    Limit.SOURCE_PIXELS: MAX_SOURCE_PIXELS,
    Limit.INFLATED: MAX_INFLATED // (1024 * 1024),
    Limit.COPY_BYTES: MAX_COPY_BYTES // (1024 * 1024),
}


def redaction_refusal(e: RedactionError) -> str:
    """The refusal as a page says it; nothing was stored."""
    if e.limit is not None:
        most = f"{_MOST.get(e.limit, e.most):,}"
        said = str(_LIMIT[e.limit]) % {"most": most}
        return str(gettext("%(refusal)s Nothing was stored.", refusal=said))
    assert e.found is not None and e.place is not None
    where = str(_PLACE[e.place]) % {"page": e.page or "?", "key": e.key}
    return str(
        gettext(
            "The redacted copy still holds %(what)s, in %(where)s. Redact it there too (or "
            "export the copy as images) and upload it again. Nothing was stored.",
            what=str(_FOUND[e.found]),
            where=where,
        )
    )
