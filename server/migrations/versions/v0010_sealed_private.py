"""The private store sealed at rest: names, ID numbers, phones and evidence
file names become binary columns, to hold AES-GCM sealed values
(server.private.sealing); evidence content already is one.

Rows already stored keep their plaintext, as UTF-8 bytes, until
``mutualog-server private upgrade`` seals them: the migration has no key
(a file of the instance folder, not of the database).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None

#: (table, column, nullable) of every column turned binary.
_COLUMNS = (
    ("member_details", "name", False),
    ("member_details", "id_number", False),
    ("member_details", "phone", False),
    ("evidence", "filename", True),
)

_TEXT_TYPES = {"name": sa.String(200), "id_number": sa.String(64), "phone": sa.String(32)}


def _sqlite_retype(table: str, column: str, nullable: bool, sql_type: str, cast: str) -> None:
    # Rebuilding the table (batch mode) would drop member_details under the
    # foreign key of member_identities; SQLite 3.35+ adds, drops and renames
    # a column in place instead.
    empty = "x''" if sql_type == "BLOB" else "''"
    constraint = "" if nullable else f" NOT NULL DEFAULT {empty}"
    op.execute(f"ALTER TABLE {table} ADD COLUMN {column}__new {sql_type}{constraint}")
    op.execute(f"UPDATE {table} SET {column}__new = CAST({column} AS {cast})")
    op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.execute(f"ALTER TABLE {table} RENAME COLUMN {column}__new TO {column}")


def _retype_all(binary: bool) -> None:
    """Every column of :data:`_COLUMNS` to binary (its text as UTF-8
    bytes), or back to text."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column, nullable in _COLUMNS:
        if sqlite:
            sql_type, cast = ("BLOB", "BLOB") if binary else ("VARCHAR", "TEXT")
            _sqlite_retype(table, column, nullable, sql_type, cast)
            continue
        op.alter_column(
            table,
            column,
            type_=sa.LargeBinary() if binary else _TEXT_TYPES.get(column, sa.String(255)),
            existing_nullable=nullable,
            postgresql_using=f"{'convert_to' if binary else 'convert_from'}({column}, 'UTF8')",
        )


def upgrade() -> None:
    _retype_all(binary=True)


def downgrade() -> None:
    # Only a database none of whose values were sealed can go back: text
    # columns cannot hold ciphertext.  Open them first (docs/privacy.md).
    bind = op.get_bind()
    first = "substr({c}, 1, 1) = x'00'" if bind.dialect.name == "sqlite" else "get_byte({c}, 0) = 0"
    for table, column, _ in _COLUMNS:
        sealed = bind.exec_driver_sql(
            f"SELECT count(*) FROM {table} WHERE {first.format(c=column)}"
        ).scalar()
        if sealed:
            raise RuntimeError(f"{table}.{column} holds sealed values: cannot go below 0010")
    _retype_all(binary=False)
