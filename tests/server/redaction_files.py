"""Files for the redaction tests: PDFs built object by object (text drawn
visibly, in white, invisibly; document information; XMP; compressed
streams; page sizes) and images with EXIF, comments and text chunks — the
ways a redaction tool leaves an identifier behind."""

from __future__ import annotations

import io
import zlib
from collections.abc import Mapping, Sequence

from PIL import Image, PngImagePlugin

from server.demo import pdf_file
from server.pool_service import PoolService
from server.private.evidence import Upload

__all__ = [
    "CLEAN_TEXT",
    "clean_pdf",
    "image",
    "pdf",
    "redact_all",
    "text_stream",
]

CLEAN_TEXT = "Discharge summary. Patient: [redacted]. Diagnosis confirmed."


def _literal(text: str) -> bytes:
    plain = text.replace("\\", "").replace("(", "[").replace(")", "]")
    return b"(" + plain.encode("latin-1") + b")"


def _utf16(text: str) -> bytes:
    return b"<" + ("\ufeff" + text).encode("utf-16-be").hex().upper().encode() + b">"


def text_stream(lines: Sequence[str], colour: str = "0 g", mode: int = 0) -> bytes:
    """A content stream drawing ``lines`` in Helvetica: ``colour`` ``1 g``
    is white; render ``mode`` 3 is invisible text."""
    body = b"".join(
        b"BT /F1 11 Tf %d Tr %s 56 %d Td %s Tj ET\n"
        % (mode, colour.encode(), 760 - 16 * n, _literal(line))
        for n, line in enumerate(lines)
    )
    return body


def pdf(
    pages: Sequence[bytes],
    info: Mapping[str, str] | None = None,
    xmp: str | None = None,
    compress: bool = False,
    box: tuple[int, int] = (595, 842),
) -> bytes:
    """A PDF with one page per content stream of ``pages``; ``info`` the
    document information (UTF-16), ``xmp`` a metadata stream's text."""
    objects: list[bytes] = [b"", b""]  # catalog and pages, filled below
    kids = []
    font = 3
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for content in pages:
        data = zlib.compress(content) if compress else content
        flate = b" /Filter /FlateDecode" if compress else b""
        objects.append(b"<< /Length %d%s >>\nstream\n" % (len(data), flate) + data + b"\nendstream")
        contents = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] " % box
            + b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (font, contents)
        )
        kids.append(len(objects))
    metadata = b""
    if xmp is not None:
        data = zlib.compress(xmp.encode("utf-8"))
        objects.append(
            b"<< /Type /Metadata /Subtype /XML /Filter /FlateDecode /Length %d >>\nstream\n"
            % len(data)
            + data
            + b"\nendstream"
        )
        metadata = b" /Metadata %d 0 R" % len(objects)
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R" + metadata + b" >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    info_object = None
    if info:
        objects.append(
            b"<< "
            + b" ".join(b"/" + k.encode() + b" " + _utf16(v) for k, v in info.items())
            + b" >>"
        )
        info_object = len(objects)
    return pdf_file(objects, info_object)


def clean_pdf(pages: int = 1) -> bytes:
    """A redacted copy holding no identifier."""
    return pdf([text_stream([CLEAN_TEXT, f"Page {n + 1}"]) for n in range(pages)])


def image(
    kind: str = "PNG",
    size: tuple[int, int] = (300, 200),
    text: Mapping[str, str] | None = None,
    exif: Mapping[int, str | bytes] | None = None,
    comment: str | None = None,
) -> bytes:
    """An image with the embedded data given: PNG text chunks, EXIF tags,
    a JPEG comment."""
    picture = Image.new("RGB", size, (240, 240, 230))
    out = io.BytesIO()
    options: dict[str, object] = {}
    if text:
        chunks = PngImagePlugin.PngInfo()
        for key, value in text.items():
            chunks.add_itxt(key, value)
        options["pnginfo"] = chunks
    if exif:
        tags = Image.Exif()
        for tag, value in exif.items():
            tags[tag] = value
        options["exif"] = tags.tobytes()
    if comment is not None:
        options["comment"] = comment.encode("utf-8")
    picture.save(out, format=kind, **options)
    return out.getvalue()


def redact_all(pool: PoolService, claim_id: str) -> None:
    """Upload a clean redacted copy of every document of the claim, as the
    operator does before a notice."""
    view = pool.claim(claim_id)
    assert view is not None
    for number in range(1, view.evidence + 1):
        pool.upload_redacted(claim_id, number, Upload(clean_pdf(), "application/pdf"))
