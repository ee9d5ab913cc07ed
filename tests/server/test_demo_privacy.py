"""No personal data in the demo's log.

The demo creates, off the log, a name, an ID number and a phone number for
every member and evidence documents for every claim.  Every entry of the
demo's log is scanned for each of them — the text in UTF-8 and as JSON
``\\uXXXX`` escapes (either case), its plain SHA-256 (a guessable value's
unsalted hash would identify it), each document's bytes, SHA-256, salt and
file name — and none is found.  A positive control plants each kind of
needle in a copy of the log and checks that the same scan finds it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from server.db import make_engine
from server.private.evidence import evidence_content
from server.private.members import member_details
from server.private.sealing import Sealer
from tests.server.demo_helpers import DemoBuild, clear_environment, shared_demo
from tests.server.sealing_helpers import Needle


@dataclass(frozen=True)
class Private:
    """Everything private the demo created, as needles to look for."""

    names: list[str]
    id_numbers: list[str]
    phones: list[str]
    documents: list[tuple[bytes, bytes, str]]  # content, salt, file name

    def one(self, member: int, document: int) -> Private:
        """The private data of one member and of one document."""
        return Private(
            [self.names[member]],
            [self.id_numbers[member]],
            [self.phones[member]],
            [self.documents[document]],
        )

    def needles(self) -> Iterator[Needle]:
        for kind, values in (
            ("name", self.names),
            ("ID number", self.id_numbers),
            ("phone", self.phones),
        ):
            for value in values:
                yield from _text_forms(f"{kind} {value}", value)
        for content, salt, filename in self.documents:
            yield Needle(f"document {filename}", content)
            digest = hashlib.sha256(content).hexdigest()
            yield Needle(f"SHA-256 of {filename}", digest.encode())
            yield Needle(f"SHA-256 of {filename}, upper case", digest.upper().encode())
            yield Needle(f"salt of {filename}", salt.hex().encode())
            yield from _text_forms(f"file name {filename}", filename)


def _text_forms(what: str, value: str) -> Iterator[Needle]:
    yield Needle(what, value.encode("utf-8"))
    escaped = json.dumps(value)[1:-1]  # \\uXXXX for every non-ASCII character
    if escaped != value:
        yield Needle(f"{what}, JSON-escaped", escaped.encode("ascii"))
        upper = "".join(
            part[:2] + part[2:6].upper() + part[6:] if part.startswith("\\u") else part
            for part in _escapes(escaped)
        )
        yield Needle(f"{what}, JSON-escaped in upper case", upper.encode("ascii"))
    yield Needle(f"SHA-256 of {what}", hashlib.sha256(value.encode("utf-8")).hexdigest().encode())


def _escapes(escaped: str) -> Iterator[str]:
    i = 0
    while i < len(escaped):
        step = 6 if escaped.startswith("\\u", i) else 1
        yield escaped[i : i + step]
        i += step


def scan(entries: list[bytes], needles: list[Needle]) -> list[str]:
    """What of ``needles`` occurs in any entry (as ``what`` at ``seq``)."""
    # One blob, entries separated by a byte no entry holds (JSON has no NUL),
    # so no needle can match across two entries.
    blob = b"\x00".join(entries)
    starts = [0]
    for entry in entries:
        starts.append(starts[-1] + len(entry) + 1)
    found = []
    for needle in needles:
        at = blob.find(needle.data)
        if at >= 0:
            seq = max(n for n, start in enumerate(starts) if start <= at)
            found.append(f"{needle.what} in entry {seq}")
    return found


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_environment(monkeypatch)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    return shared_demo(tmp_path_factory)


def private_of(demo: DemoBuild) -> Private:
    """Everything private the demo stored: member details and evidence,
    read through the store (the columns hold them sealed)."""
    engine = make_engine(demo.database_url, Sealer(demo.instance))
    try:
        with engine.connect() as conn:
            members = conn.scalars(text("SELECT member_id FROM member_details")).all()
            rows = conn.execute(text("SELECT claim_id, position FROM evidence")).all()
        people = [member_details(engine, m) for m in members]
        stored = [evidence_content(engine, row.claim_id, row.position) for row in rows]
    finally:
        engine.dispose()
    return Private(
        names=[p.name for p in people if p],
        id_numbers=[p.id_number for p in people if p],
        phones=[p.phone for p in people if p],
        documents=[(d.content, d.salt, d.document.filename or "") for d in stored if d],
    )


@pytest.fixture(scope="module")
def private(demo: DemoBuild) -> Private:
    return private_of(demo)


@pytest.fixture(scope="module")
def entries(demo: DemoBuild) -> list[bytes]:
    return demo.entries()


def test_the_demo_created_private_data_for_every_member_and_claim(
    private: Private, entries: list[bytes]
) -> None:
    joined = sum(1 for e in entries if b'"member.joined"' in e)
    filed = [e for e in entries if b'"claim.filed"' in e]
    assert len(private.names) == joined >= 500
    assert len(set(private.id_numbers)) == joined
    assert all("\u4e00" <= c <= "\u9fff" for name in private.names for c in name)
    assert len(filed) >= 60
    # A claim has one to three documents, each stored privately.
    assert len(filed) <= len(private.documents) <= 3 * len(filed)
    types = {content[:4] for content, _, _ in private.documents}
    assert types == {b"%PDF", b"\xff\xd8\xff\xe0"}


def test_no_entry_of_the_demo_log_holds_personal_data(
    private: Private, entries: list[bytes]
) -> None:
    needles = list(private.needles())
    assert len(needles) > 8 * len(private.names)
    assert scan(entries, needles) == []


@pytest.mark.parametrize(
    "kind", ["name", "name-escaped", "id_number", "phone", "document", "document-hash"]
)
def test_the_scan_finds_personal_data_planted_in_a_copy_of_the_log(
    private: Private, entries: list[bytes], kind: str
) -> None:
    name, id_number, phone = private.names[7], private.id_numbers[7], private.phones[7]
    content = private.documents[3][0]
    planted = {
        "name": name.encode("utf-8"),
        "name-escaped": json.dumps(name).encode("ascii"),
        "id_number": id_number.encode(),
        "phone": phone.encode(),
        "document": content,
        "document-hash": hashlib.sha256(content).hexdigest().encode(),
    }[kind]
    copy = list(entries)
    seq = next(n for n, e in enumerate(copy) if b'"claim.noticed"' in e)
    marker = b'"text":"'
    copy[seq] = copy[seq].replace(marker, marker + planted, 1)
    # The needles of that member and document only: the full scan is the test above.
    found = scan(copy, list(private.one(7, 3).needles()))
    assert found, kind
    assert all(f.endswith(f"in entry {seq}") for f in found)


def test_the_scan_reads_every_entry(tmp_path: Path) -> None:
    needles = [Needle("x", b"needle")]
    assert scan([b"a", b"b", b"needle"], needles) == ["x in entry 2"]
    assert scan([b"nee", b"dle"], needles) == []  # not across two entries
    assert scan([b"needle", b"b"], needles) == ["x in entry 0"]
