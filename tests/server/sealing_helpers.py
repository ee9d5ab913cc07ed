"""What the tests of encryption at rest share: the store's values put back
in plaintext (the form an instance older than migration 0010 holds them
in), the private data read through the store, and a byte scan for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alembic import command
from sqlalchemy import Engine, select, update

from server.db import MIGRATION_LOCK, _alembic_config, write_transaction
from server.private.at_rest import SEALED_TABLES
from server.private.evidence import evidence_content, list_evidence
from server.private.members import member_details
from server.private.sealing import Sealer

__all__ = ["Needle", "StoredPrivate", "downgrade", "scan", "stored_private", "unseal_all"]


def unseal_all(engine: Engine, sealer: Sealer) -> int:
    """Open every sealed value and store its plaintext bytes in its place;
    returns how many."""
    opened = 0
    with engine.begin() as conn:
        for spec in SEALED_TABLES:
            table = spec.table
            rows = conn.execute(select(*spec.selected())).all()
            for row in rows:
                values: dict[str, Any] = {}
                for column in spec.columns:
                    value = getattr(row, column)
                    if value is not None:
                        values[column] = sealer.open(table.name, column, spec.row_key(row), value)
                        opened += 1
                if values:
                    key = getattr(row, spec.order.name)
                    conn.execute(update(table).where(spec.order == key).values(**values))
    return opened


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema down to ``revision`` with the migrations' own downgrades."""
    with write_transaction(engine, MIGRATION_LOCK) as conn:
        command.downgrade(_alembic_config(conn), revision)


@dataclass(frozen=True)
class Needle:
    what: str
    data: bytes


@dataclass(frozen=True)
class StoredPrivate:
    """Every name, ID number, phone, document and file name the store holds."""

    names: list[str]
    id_numbers: list[str]
    phones: list[str]
    documents: list[tuple[bytes, str | None]]

    def needles(self) -> list[Needle]:
        out = []
        for kind, values in (
            ("name", self.names),
            ("ID number", self.id_numbers),
            ("phone", self.phones),
        ):
            out += [Needle(f"{kind} {v}", v.encode("utf-8")) for v in values]
        for content, filename in self.documents:
            # The document's first 64 bytes after its fixed header would
            # do; the whole of it is as cheap to look for.
            out.append(Needle(f"document {filename}", content))
            if filename:
                out.append(Needle(f"file name {filename}", filename.encode("utf-8")))
        return out


def stored_private(engine: Engine, members: list[str], claims: list[str]) -> StoredPrivate:
    """The private data of ``members`` and of ``claims``' documents, read
    through the store's API (so opened with the engine's key)."""
    people = [member_details(engine, m) for m in members]
    documents = []
    for claim in claims:
        for document in list_evidence(engine, claim):
            stored = evidence_content(engine, claim, document.position)
            assert stored is not None
            documents.append((stored.content, document.filename))
    return StoredPrivate(
        names=[p.name for p in people if p],
        id_numbers=[p.id_number for p in people if p],
        phones=[p.phone for p in people if p],
        documents=documents,
    )


def scan(blob: bytes, needles: list[Needle]) -> list[str]:
    """What of ``needles`` occurs in ``blob``."""
    return [needle.what for needle in needles if needle.data in blob]
