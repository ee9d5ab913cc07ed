"""Checking a redacted copy of an evidence document and rendering it to the
page images a claim's jurors are shown.

The operator redacts each document with any tool.  Tools fail in known
ways: a black box drawn over text leaves the text layer under it, white
text stays in the file, the document information (Author, Title) and XMP
keep the patient's name, a phone camera writes EXIF.  So before a copy is
accepted, :func:`check_copy` reads everything it can out of it and looks
there for the claimant's identifiers with the private-data guard
(:func:`server.private_guard.find_private`, the one matcher):

* a PDF: the text layer of every page (pdfium's text extraction reads
  invisible and white text as well as visible), the document information,
  the outline; and the file's bytes with every Flate-compressed stream
  inflated (XMP, annotations, form fields, hidden layers);
* an image (PNG, JPEG): its comments, text chunks, XMP and EXIF; and the
  file's bytes.

Texts the file states (text layer, metadata, EXIF) are checked for the
claimant's name, ID number and phone *and* for anything shaped like an ID
or mobile number; the raw bytes, which hold drawing operators and
coordinates that can look like numbers, only for the claimant's own
identifiers, in ASCII, UTF-8 and UTF-16 spellings.

Then :func:`render_pages` draws each page to a PNG at a fixed scale from
its pixels alone: no text layer, no metadata, no EXIF survives.  Those PNGs
are all a juror is ever served.  What the images *show* is the operator's
to redact: the server cannot read pixels, which is why the copy's page
images are shown to the operator before the notice and the claimant can
see them after.

Limits bound the work a hostile file can cause: pages, pixels per page,
bytes inflated, bytes of PNG; each is refused with
:class:`RedactionError`, never a crash.
"""

from __future__ import annotations

import io
import re
import warnings
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

import pypdfium2 as pdfium  # type: ignore[import-untyped]
from PIL import Image, ImageOps

from server.private.errors import InvalidInputError
from server.private.evidence import Upload
from server.private_guard import (
    Found,
    IdentifierKind,
    PrivateIdentity,
    find_private,
    is_separator,
    member_needles,
)

__all__ = [
    "MAX_COPY_BYTES",
    "MAX_INFLATED",
    "MAX_PAGES",
    "MAX_PAGE_PIXELS",
    "MAX_SOURCE_PIXELS",
    "MAX_WIDTH",
    "SCALE",
    "Limit",
    "Place",
    "RedactionError",
    "check_copy",
    "prepare_copy",
    "render_pages",
    "scan_bytes",
]

#: Pages of a redacted copy, at most.
MAX_PAGES = 30
#: A PDF page is drawn at 1.5 pixels per point (108 dpi): an A4 page is
#: 893 x 1263 pixels, legible on a phone and a laptop.
SCALE = 1.5
#: Pixels of one rendered page, at most (an A4 page is 1.1 million).
MAX_PAGE_PIXELS = 6_000_000
#: Pixels of a source image, checked before it is decoded.
MAX_SOURCE_PIXELS = 40_000_000
#: Images wider than this are scaled down to it.
MAX_WIDTH = 1600
#: Bytes inflated out of a PDF's compressed streams for the scan, at most.
MAX_INFLATED = 64 * 1024 * 1024
#: Bytes of a copy's page images together, at most.
MAX_COPY_BYTES = 24 * 1024 * 1024


class Place(StrEnum):
    """Where in a copy an identifier was found; a refusal names it."""

    TEXT = "text"
    """The text layer of a page (visible, white or hidden alike)."""
    METADATA = "metadata"
    """The document information (Author, Title, Subject ...) or the outline."""
    IMAGE_INFO = "image_info"
    """An image's EXIF, comment, text chunks or XMP."""
    CONTENT = "content"
    """The file's bytes, compressed streams inflated (XMP, annotations ...)."""
    RENDERED = "rendered"
    """The page image the server drew (defence in depth)."""


class Limit(StrEnum):
    """Why a copy could not be read or rendered."""

    UNREADABLE = "unreadable"
    PAGES = "pages"
    PAGE_PIXELS = "page_pixels"
    SOURCE_PIXELS = "source_pixels"
    INFLATED = "inflated"
    COPY_BYTES = "copy_bytes"


class RedactionError(InvalidInputError):
    """A redacted copy refused: it still holds an identifier (``found`` and
    ``place``, with ``page`` from 1 when a page is known and ``key`` the
    metadata field), or it breaks a limit (``limit``).  The message names
    what and where, never the identifier."""

    def __init__(
        self,
        message: str,
        *,
        found: IdentifierKind | None = None,
        place: Place | None = None,
        page: int | None = None,
        key: str = "",
        limit: Limit | None = None,
        most: int = 0,
    ) -> None:
        super().__init__("redacted", message)
        self.found = found
        self.place = place
        self.page = page
        self.key = key
        self.limit = limit
        self.most = most


@dataclass(frozen=True)
class _Text:
    place: Place
    text: str
    page: int | None = None
    key: str = ""


def _refuse_found(found: Found, source: _Text) -> RedactionError:
    where = source.place.value
    if source.page is not None:
        where += f", page {source.page}"
    if source.key:
        where += f", {source.key}"
    return RedactionError(
        f"the redacted copy still holds an identifier ({found.kind.value}) in {where}: "
        "redact it there too, or export the copy as images, and upload it again",
        found=found.kind,
        place=source.place,
        page=source.page,
        key=source.key,
    )


def _limit(limit: Limit, message: str, most: int = 0) -> RedactionError:
    return RedactionError(message, limit=limit, most=most)


# --- the file's bytes ---------------------------------------------------------------

# A file's bytes are searched for the claimant's own identifiers in the
# spellings text takes in files: ASCII and Latin-1, UTF-8, UTF-16 in both
# byte orders and alignments, and PDF hex strings.  Each decoding is made
# whole (a codec, at C speed; an undecodable byte becomes U+FFFD, which is
# no separator, so no match spans it), then a regular expression finds the
# places where an identifier may stand, its characters with the separators
# the guard drops between them; :func:`find_private` decides on each place.
_HEX_STRING = re.compile(rb"<([0-9A-Fa-f\s]{4,})>")
_STREAM = re.compile(rb"stream\r?\n")
_DROPPED = "".join(c for c in map(chr, range(0xD800)) if is_separator(c)) + "".join(
    c for c in map(chr, range(0xE000, 0x10000)) if is_separator(c)
)
_GAP = "[" + re.escape(_DROPPED) + "]*"
#: Characters on each side of a candidate that find_private sees.
_MARGIN = 8


def _spellings(c: str) -> str:
    """A character of a folded identifier and its case and full-width forms."""
    forms = {c, c.upper()}
    for f in list(forms):
        if f.isascii() and f.isalnum():
            forms.add(chr(ord(f) + 0xFEE0))
    return "[" + re.escape("".join(sorted(forms))) + "]"


def _candidates(concerned: Sequence[PrivateIdentity]) -> re.Pattern[str] | None:
    needles = member_needles(concerned)
    if not needles:
        return None
    return re.compile("|".join(_GAP.join(map(_spellings, n)) for n in needles))


def _decodings(blob: bytes) -> Iterator[str]:
    yield blob.decode("latin-1")
    yield blob.decode("utf-8", "replace")
    for shift in (0, 1):
        part = blob[shift : shift + (len(blob) - shift) // 2 * 2]
        yield part.decode("utf-16-be", "replace")
        yield part.decode("utf-16-le", "replace")
    for m in _HEX_STRING.finditer(blob):
        digits = re.sub(rb"\s", b"", m.group(1))
        raw = bytes.fromhex(digits[: len(digits) // 2 * 2].decode("ascii"))
        if raw.startswith(b"\xfe\xff"):
            yield raw[2:].decode("utf-16-be", "replace")
        else:
            yield raw.decode("utf-8", "replace")


def _inflated(data: bytes) -> Iterator[bytes]:
    """Each Flate stream of a PDF's bytes, inflated (within
    :data:`MAX_INFLATED` in all); other streams are left as they are."""
    budget = MAX_INFLATED
    for m in _STREAM.finditer(data):
        start = m.end()
        end = data.find(b"endstream", start)
        if end < 0:
            break
        inflater = zlib.decompressobj()
        try:
            out = inflater.decompress(data[start:end], budget + 1)
        except zlib.error:
            continue
        budget -= len(out)
        if budget < 0:
            raise _limit(
                Limit.INFLATED,
                f"the file's compressed content inflates to more than "
                f"{MAX_INFLATED // (1024 * 1024)} MiB: it cannot be checked",
                MAX_INFLATED // (1024 * 1024),
            )
        yield out


def scan_bytes(
    data: bytes, concerned: Sequence[PrivateIdentity], place: Place = Place.CONTENT
) -> None:
    """Refuse ``data`` if its bytes (and, for a PDF, its inflated streams)
    spell an identifier of a member ``concerned``."""
    pattern = _candidates(concerned)
    if pattern is None:
        return
    blobs = [data, *(_inflated(data) if data.startswith(b"%PDF-") else ())]
    for blob in blobs:
        for text in _decodings(blob):
            for m in pattern.finditer(text):
                window = text[max(0, m.start() - _MARGIN) : m.end() + _MARGIN]
                found = find_private(window, concerned, shapes=False)
                if found is not None:
                    raise _refuse_found(found, _Text(place, window))


# --- what a PDF or an image states ----------------------------------------------------


def _open_pdf(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        raise _limit(Limit.UNREADABLE, f"the PDF cannot be read: {e}") from e


def _pdf_texts(pdf: pdfium.PdfDocument) -> Iterator[_Text]:
    for key, value in pdf.get_metadata_dict(skip_empty=True).items():
        yield _Text(Place.METADATA, value, key=key)
    for item in pdf.get_toc(max_depth=8):
        yield _Text(Place.METADATA, item.get_title(), key="Outline")
    for n in range(len(pdf)):
        page = pdf[n]
        textpage = page.get_textpage()
        try:
            yield _Text(Place.TEXT, textpage.get_text_range(), page=n + 1)
        finally:
            textpage.close()
            page.close()


def _info_text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        if value.startswith((b"UNICODE\x00", b"ASCII\x00\x00\x00")):  # EXIF UserComment
            body = value[8:]
            return body.decode("utf-16-be" if value[0] == ord("U") else "latin-1", "replace")
        return value.decode("utf-8", "replace") + "\ufffd" + value.decode("utf-16-le", "replace")
    if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        return _info_text(bytes(v & 0xFF for v in value))  # XP* tags: UTF-16LE bytes
    return None


def _image_texts(image: Image.Image) -> Iterator[_Text]:
    for key, value in image.info.items():
        text = _info_text(value)
        if text is not None and key not in ("icc_profile", "exif"):
            yield _Text(Place.IMAGE_INFO, text, key=str(key))
    exif = image.getexif()
    tags = [exif, *(exif.get_ifd(ifd) for ifd in (0x8769, 0x8825, 0xA005))]
    for ifd in tags:
        for tag, value in ifd.items():
            text = _info_text(value)
            if text is not None:
                yield _Text(Place.IMAGE_INFO, text, key=f"EXIF 0x{tag:04x}")


def _open_image(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (OSError, Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise _limit(Limit.UNREADABLE, f"the image cannot be read: {e}") from e
    width, height = image.size
    if width * height > MAX_SOURCE_PIXELS:
        raise _limit(
            Limit.SOURCE_PIXELS,
            f"the image has {width} x {height} pixels, more than the {MAX_SOURCE_PIXELS:,} allowed",
            MAX_SOURCE_PIXELS,
        )
    return image


def _is_pdf(upload: Upload) -> bool:
    return upload.content.startswith(b"%PDF-")


def check_copy(upload: Upload, concerned: Sequence[PrivateIdentity]) -> None:
    """Refuse (:class:`RedactionError`) a copy that still holds an identifier
    of a member ``concerned``, or anything shaped like an ID or mobile
    number, in what it states; or the claimant's identifiers in its bytes.
    The type and size are checked first (:meth:`Upload.check`)."""
    upload.check("redacted copy")
    if _is_pdf(upload):
        pdf = _open_pdf(upload.content)
        try:
            _count_pages(len(pdf))
            texts = list(_pdf_texts(pdf))
        finally:
            pdf.close()
    else:
        texts = list(_image_texts(_open_image(upload.content)))
    for source in texts:
        found = find_private(source.text, concerned)
        if found is not None:
            raise _refuse_found(found, source)
    scan_bytes(upload.content, concerned)


# --- rendering ----------------------------------------------------------------------


def _count_pages(count: int) -> None:
    if count > MAX_PAGES:
        raise _limit(
            Limit.PAGES, f"the copy has {count} pages, more than the {MAX_PAGES} allowed", MAX_PAGES
        )
    if count == 0:
        raise _limit(Limit.UNREADABLE, "the PDF has no pages")


def _png(image: Image.Image) -> bytes:
    """The pixels alone as a PNG: no text chunks, no EXIF, no ICC profile."""
    mode = "RGB" if image.mode not in ("L", "RGB") else image.mode
    clean = Image.frombytes(mode, image.size, image.convert(mode).tobytes())
    out = io.BytesIO()
    clean.save(out, format="PNG", compress_level=6)
    return out.getvalue()


def _render_pdf(data: bytes) -> list[bytes]:
    pdf = _open_pdf(data)
    try:
        _count_pages(len(pdf))
        pages = []
        for n in range(len(pdf)):
            width, height = pdf.get_page_size(n)
            pixels = int(width * SCALE) * int(height * SCALE)
            if pixels > MAX_PAGE_PIXELS:
                raise _limit(
                    Limit.PAGE_PIXELS,
                    f"page {n + 1} would be {pixels:,} pixels, more than the "
                    f"{MAX_PAGE_PIXELS:,} allowed",
                    MAX_PAGE_PIXELS,
                )
            page = pdf[n]
            try:
                bitmap = page.render(scale=SCALE, may_draw_forms=False)
                pages.append(_png(bitmap.to_pil()))
            finally:
                page.close()
        return pages
    finally:
        pdf.close()


def _render_image(data: bytes) -> list[bytes]:
    image = _open_image(data)
    try:
        image = ImageOps.exif_transpose(image)
        if image.width > MAX_WIDTH:
            height = max(1, round(image.height * MAX_WIDTH / image.width))
            image = image.resize((MAX_WIDTH, height), Image.Resampling.LANCZOS)
        return [_png(image)]
    except OSError as e:
        raise _limit(Limit.UNREADABLE, f"the image cannot be read: {e}") from e


def render_pages(upload: Upload) -> list[bytes]:
    """The copy's pages as PNG images, drawn from pixels alone."""
    pages = _render_pdf(upload.content) if _is_pdf(upload) else _render_image(upload.content)
    total = sum(map(len, pages))
    if total > MAX_COPY_BYTES:
        raise _limit(
            Limit.COPY_BYTES,
            f"the page images take {total:,} bytes, more than the "
            f"{MAX_COPY_BYTES // (1024 * 1024)} MiB allowed",
            MAX_COPY_BYTES // (1024 * 1024),
        )
    return pages


def prepare_copy(upload: Upload, concerned: Sequence[PrivateIdentity]) -> list[bytes]:
    """Check a redacted copy and render it: the page images jurors will be
    shown, each scanned again for the claimant's identifiers."""
    check_copy(upload, concerned)
    pages = render_pages(upload)
    for n, page in enumerate(pages, start=1):
        try:
            scan_bytes(page, concerned, Place.RENDERED)
        except RedactionError as e:
            e.page = n
            raise
    return pages
