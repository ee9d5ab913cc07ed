"""The verifier page's published hashes: the rules of ``verifier.published``
(docs/rules.md, "The verifier page").

The pool's server serves a page, ``/verifier``, that checks a member's
deduction in the browser.  A page served by the operator it checks proves
nothing unless it is the page everyone can rebuild and review, so the
operator publishes its SHA-256 in the log: from then on a served page, or a
saved copy, whose bytes hash otherwise is not the published one, and every
auditor and witness sees a change of the hash as an entry.

Like every entry, a publication is the operator's, under the log key; no
member signs it.  The rules keep it meaningful: the hash is a SHA-256 of
some bytes (32 bytes, and not the hash of no bytes), and a publication
changes the hash in force (publishing is done when the page changes, so a
repeat is an entry that says nothing).  The latest publication is the hash
in force; :attr:`VerifierPages.latest` is what ``audit`` compares the served
page, or a saved copy, with (:func:`check_page`, the check ``verifier page``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from verifiable.errors import RuleViolation
from verifiable.findings import Finding, Status
from verifiable.log.bodies import Body, VerifierPublished
from verifiable.log.fields import format_time, read_time
from verifiable.pool.store import Codec, Kind, StoredMap, WriteBuffer, seq_key
from verifiable.pool.store_codecs import dumps, loads

__all__ = [
    "EMPTY_SHA256",
    "PAGES",
    "PAGE_CHECK",
    "PagePublication",
    "VerifierPages",
    "check_page",
]

PAGE_CHECK = "verifier page"
"""The check id of the comparison of a page with the log's hash in force."""

EMPTY_SHA256 = hashlib.sha256(b"").digest()
"""The SHA-256 of no bytes: the hash of a page that was never read."""


@dataclass(frozen=True)
class PagePublication:
    """A ``verifier.published`` as the rulebook keeps it."""

    seq: int
    time: datetime
    sha256: bytes
    size: int
    build: str


def _encode(p: PagePublication) -> bytes:
    return dumps([p.seq, format_time(p.time), p.sha256.hex(), p.size, p.build])


def _decode(data: bytes) -> PagePublication:
    seq, time, sha256, size, build = loads(data, "page publication")
    return PagePublication(seq, read_time(time, "state"), bytes.fromhex(sha256), size, build)


PAGES: Kind[PagePublication] = Kind("page", Codec(_encode, _decode))
"""Every publication by seq (key :func:`seq_key`), records of the state's store."""


class VerifierPages:
    """Every publication of the verifier page's hash, in log order."""

    __slots__ = ("_records",)

    def __init__(self, buffer: WriteBuffer) -> None:
        self._records = StoredMap(buffer, PAGES)

    @property
    def published(self) -> list[PagePublication]:
        """Every publication, in log order (a release or two a year)."""
        return list(self._records.values())

    @property
    def latest(self) -> PagePublication | None:
        """The publication in force: the last one, or ``None``."""
        published = self.published
        return published[-1] if published else None

    def check(self, seq: int, body: VerifierPublished) -> None:
        """Raise :class:`RuleViolation` if ``body`` may not be appended as
        entry ``seq``."""
        if len(body.sha256) != 32 or body.sha256 == EMPTY_SHA256:
            raise RuleViolation(
                "verifier.hash",
                "a published page hash is the SHA-256 of the page's bytes",
                seq=seq,
                expected="32 bytes, not the hash of no bytes",
                actual=body.sha256.hex() or "no bytes",
            )
        latest = self.latest
        if latest is not None and latest.sha256 == body.sha256:
            raise RuleViolation(
                "verifier.unchanged",
                f"the page hash {body.sha256.hex()} is already the one published "
                f"in entry {latest.seq}",
                seq=seq,
                expected="a hash other than the one in force",
                actual=body.sha256.hex(),
            )

    def publish(self, seq: int, time: datetime, body: Body) -> None:
        """The rulebook's handler: check, then record."""
        assert isinstance(body, VerifierPublished)
        self.check(seq, body)
        record = PagePublication(seq, time, body.sha256, body.size, body.build)
        self._records.put(seq_key(seq), record)


def check_page(page: bytes | None, published: PagePublication | None, where: str) -> Finding:
    """The check ``verifier page``: whether ``page`` (the bytes read from
    ``where``, a URL or a file; ``None`` if there was no page there) is the
    page whose hash is in force, ``published``.  Skipped when the log publishes none: the
    page can then be held to nothing, which the detail says."""
    if published is None:
        return Finding(
            PAGE_CHECK,
            Status.SKIP,
            "the log publishes no hash of a verifier page (no verifier.published entry): "
            "the page is not checked",
        )
    expected = f"{published.sha256.hex()} ({published.size} bytes)"
    if page is None:
        return Finding.failure(
            PAGE_CHECK,
            f"the log publishes the page's hash {published.sha256.hex()} in entry "
            f"{published.seq}, but there is no page at {where}",
            expected,
            "no page",
            where,
        )
    digest = hashlib.sha256(page).hexdigest()
    if digest != published.sha256.hex():
        return Finding.failure(
            PAGE_CHECK,
            f"the page at {where} hashes to {digest} ({len(page)} bytes), not to the page's hash "
            f"published in entry {published.seq}: {expected}, built by {published.build}",
            expected,
            f"{digest} ({len(page)} bytes)",
            where,
        )
    return Finding.passed(
        PAGE_CHECK,
        f"the page at {where} hashes to {digest} ({len(page)} bytes), the page's hash published in "
        f"entry {published.seq}, built by {published.build}",
    )
