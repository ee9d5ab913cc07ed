"""What to trust, as the public log page publishes it: the log's trust text
(:mod:`verifiable.log.trust_text`: origin, key, the witnesses and K) in a
block to copy, and the same text as a QR code for the verifier page's scan.

The QR code is an inline SVG (``segno``), drawn with attributes only: the
site's Content-Security-Policy allows no inline style, and an SVG ``style``
attribute is one.  It is the same for everyone and holds nothing but the
text printed beside it, so a member who cannot scan loses nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import segno
from markupsafe import Markup

from verifiable.log.trust_text import TrustText

__all__ = ["TrustPublication", "trust_publication"]


@dataclass(frozen=True)
class TrustPublication:
    text: str
    """The trust text, ending in a newline."""
    qr_svg: Markup
    """The text as a QR code, an ``<svg>`` element with a ``viewBox`` and no size."""


def trust_publication(
    origin: str, vkey: str, witnesses: Sequence[tuple[str, str]], required: int, title: str
) -> TrustPublication:
    """The trust text of this log with ``required`` of ``witnesses`` (each a
    name and a cosignature verifier key), and its QR code titled ``title``
    (what a screen reader says of it)."""
    text = TrustText(origin, vkey, tuple(key for _, key in witnesses), required).to_text()
    # Level M survives a smudged or partly lit code; a policy of a few
    # witnesses still fits a code a phone's camera reads from a screen.
    code = segno.make(text, error="m", micro=False)
    svg = code.svg_inline(
        scale=4,
        border=4,
        dark="#000",
        light="#fff",
        svgclass="qr",
        lineclass=None,
        omitsize=True,
        title=title,
    )
    # segno writes the markup and escapes the title.
    return TrustPublication(text, Markup(svg))
