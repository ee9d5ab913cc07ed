"""A redacted copy still holding the claimant's identifiers is refused,
wherever a tool left them — the text layer (visible, white, invisible),
the document information, XMP, a compressed stream, an image's EXIF,
comment or text chunks — and a clean one is drawn to page images that
hold nothing but pixels.  Hostile sizes are refused, not rendered."""

from __future__ import annotations

import io
import zlib
from datetime import UTC, date, datetime

import pytest
from PIL import Image

from server.demo import demo_documents
from server.private.evidence import Upload
from server.private.members import MemberDetails
from server.private_guard import IdentifierKind, PrivateIdentity
from server.redaction import (
    MAX_PAGES,
    Limit,
    Place,
    RedactionError,
    check_copy,
    prepare_copy,
    scan_bytes,
)
from tests.server.redaction_files import CLEAN_TEXT, clean_pdf, image, pdf, text_stream

NAME, ID_NUMBER, PHONE = "Zhang Wei", "110105199003070025", "13812345678"
NAME_ZH = "何霞明"
CLAIMANT = PrivateIdentity(NAME, ID_NUMBER, PHONE)
CLAIMANT_ZH = PrivateIdentity(NAME_ZH, ID_NUMBER, PHONE)


def _pdf(data: bytes) -> Upload:
    return Upload(data, "application/pdf")


def _refused(upload: Upload, who: PrivateIdentity = CLAIMANT) -> RedactionError:
    with pytest.raises(RedactionError) as caught:
        prepare_copy(upload, [who])
    error = caught.value
    # A refusal never repeats the identifier.
    for value in (NAME, NAME_ZH, ID_NUMBER, PHONE):
        assert value not in str(error)
    return error


def _with_stream(data: bytes, compressed: bytes) -> bytes:
    """``data`` with an object no page refers to: a Flate stream."""
    added = b"99 0 obj\n<< /Filter /FlateDecode >>\nstream\n" + compressed + b"\nendstream\n"
    return data.replace(b"xref", added + b"xref", 1)


# --- what is refused, and where it is found ----------------------------------------


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        (f"Patient: {NAME}", IdentifierKind.NAME),
        (f"ID {ID_NUMBER}", IdentifierKind.ID_NUMBER),
        ("ID 1101 0519 9003 0700 25", IdentifierKind.ID_NUMBER),
        (f"Mobile: +86 {PHONE[:3]}-{PHONE[3:7]}-{PHONE[7:]}", IdentifierKind.PHONE),
        # Anyone's ID number or mobile number, not only the claimant's.
        ("Contact 13900001111", IdentifierKind.PHONE),
    ],
)
@pytest.mark.parametrize(
    ("colour", "mode"), [("0 g", 0), ("1 g", 0), ("0 g", 3)], ids=["visible", "white", "invisible"]
)
def test_text_layer(line: str, kind: IdentifierKind, colour: str, mode: int) -> None:
    stream = text_stream([CLEAN_TEXT]) + text_stream([line], colour, mode)
    error = _refused(_pdf(pdf([stream])))
    assert error.place is Place.TEXT and error.page == 1
    assert error.found in (kind, IdentifierKind.MEMBER_ID_NUMBER, IdentifierKind.MEMBER_PHONE)


def test_text_on_a_later_page_under_compression() -> None:
    pages = [text_stream([CLEAN_TEXT]), text_stream([CLEAN_TEXT, f"Signed {NAME}"], "1 g")]
    error = _refused(_pdf(pdf(pages, compress=True)))
    assert (error.place, error.page, error.found) == (Place.TEXT, 2, IdentifierKind.NAME)


@pytest.mark.parametrize("key", ["Author", "Title", "Subject", "Keywords", "Creator"])
def test_document_information(key: str) -> None:
    error = _refused(_pdf(pdf([text_stream([CLEAN_TEXT])], info={key: NAME_ZH})), CLAIMANT_ZH)
    assert (error.place, error.key, error.found) == (Place.METADATA, key, IdentifierKind.NAME)


def test_xmp_metadata_compressed() -> None:
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>{NAME_ZH}</dc:creator></x:xmpmeta>'
    error = _refused(_pdf(pdf([text_stream([CLEAN_TEXT])], xmp=xmp)), CLAIMANT_ZH)
    assert (error.place, error.found) == (Place.CONTENT, IdentifierKind.NAME)


def test_a_stream_pdfium_does_not_draw() -> None:
    # An unreferenced object: no page shows it, the bytes still carry it.
    hidden = zlib.compress(f"({PHONE})".encode())
    data = pdf([text_stream([CLEAN_TEXT])]).replace(
        b"xref",
        b"99 0 obj\n<< /Filter /FlateDecode >>\nstream\n" + hidden + b"\nendstream\n" + b"xref",
        1,
    )
    error = _refused(_pdf(data))
    assert (error.place, error.found) == (Place.CONTENT, IdentifierKind.MEMBER_PHONE)


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("JPEG", {"comment": f"scan of {NAME_ZH}"}),
        ("JPEG", {"exif": {0x013B: "Tel 139 0000 1111"}}),  # Artist (EXIF text is ASCII)
        ("JPEG", {"exif": {0x010E: f"ID {ID_NUMBER}"}}),  # ImageDescription
        ("JPEG", {"exif": {0x9C9C: (NAME_ZH + "\x00").encode("utf-16-le")}}),  # XPComment
        ("PNG", {"text": {"Description": f"{NAME_ZH} 出院小结"}}),
        ("PNG", {"text": {"Comment": f"tel {PHONE[:3]} {PHONE[3:]}"}}),
    ],
)
def test_image_embedded_data(kind: str, options: dict[str, object]) -> None:
    data = image(kind, **options)  # type: ignore[arg-type]
    error = _refused(Upload(data, f"image/{kind.lower()}"), CLAIMANT_ZH)
    assert error.place in (Place.IMAGE_INFO, Place.CONTENT)


def test_the_demo_originals_are_refused() -> None:
    """The positive control: the demo's documents as filed name the patient."""
    person = MemberDetails.parse("何霞明", "11010519491231002X", "13912345678", date(2025, 3, 1))
    who = PrivateIdentity(person.name, person.id_number, person.phone)
    for upload in demo_documents("ab" * 16, person, 3, datetime(2025, 3, 1, tzinfo=UTC), 1):
        with pytest.raises(RedactionError) as raw:
            scan_bytes(upload.content, [who])
        assert raw.value.found is not None
        if upload.content_type == "application/pdf":
            with pytest.raises(RedactionError) as read:
                check_copy(upload, [who])
            assert read.value.place is Place.METADATA  # the Author, first


# --- what is accepted, and what it becomes -------------------------------------------


def test_a_clean_copy_becomes_page_images_only() -> None:
    pages = prepare_copy(_pdf(clean_pdf(3)), [CLAIMANT])
    assert len(pages) == 3
    for page in pages:
        picture = Image.open(io.BytesIO(page))
        assert picture.format == "PNG" and picture.size == (893, 1263)
        assert not set(picture.info) - {"dpi"}  # no text chunks, no EXIF
        scan_bytes(page, [CLAIMANT])


def test_an_image_copy_loses_its_metadata() -> None:
    # A camera's make is no identifier: accepted, and dropped from the page image.
    data = image("JPEG", size=(3000, 1000), exif={0x010F: "PhoneMaker"}, comment="page 1")
    (page,) = prepare_copy(Upload(data, "image/jpeg"), [CLAIMANT])
    picture = Image.open(io.BytesIO(page))
    assert picture.size == (1600, 533)
    assert b"PhoneMaker" not in page and b"page 1" not in page
    assert not picture.getexif()


# --- limits ---------------------------------------------------------------------------


def test_too_many_pages() -> None:
    error = _refused(_pdf(clean_pdf(MAX_PAGES + 1)))
    assert error.limit is Limit.PAGES


def test_a_page_too_large_to_draw() -> None:
    error = _refused(_pdf(pdf([text_stream([CLEAN_TEXT])], box=(14_000, 14_000))))
    assert error.limit is Limit.PAGE_PIXELS


def test_an_image_too_large_to_decode() -> None:
    # A PNG whose header claims 100000 x 100000 pixels: refused before decoding.
    small = image("PNG", size=(10, 10))
    header = small[:16] + (100_000).to_bytes(4, "big") * 2 + small[24:]
    error = _refused(Upload(header, "image/png"))
    assert error.limit in (Limit.SOURCE_PIXELS, Limit.UNREADABLE)


def test_a_compression_bomb() -> None:
    bomb = zlib.compress(b"\x00" * (80 * 1024 * 1024), 9)
    data = pdf([text_stream([CLEAN_TEXT])]).replace(
        b"xref",
        b"99 0 obj\n<< /Filter /FlateDecode >>\nstream\n" + bomb + b"\nendstream\n" + b"xref",
        1,
    )
    error = _refused(_pdf(data))
    assert error.limit is Limit.INFLATED


@pytest.mark.parametrize("data", [b"%PDF-1.4 not really", b"\x89PNG\r\n\x1a\nnot really"])
def test_unreadable(data: bytes) -> None:
    kind = "application/pdf" if data.startswith(b"%PDF") else "image/png"
    assert _refused(Upload(data, kind)).limit is Limit.UNREADABLE
