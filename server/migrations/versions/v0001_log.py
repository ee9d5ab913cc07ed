"""The log: entries, complete-subtree hashes and signed checkpoints.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# Written out rather than imported from server.models: a migration must keep
# building the schema it was written for, whatever the models become.
_BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "entries",
        sa.Column("seq", _BIG_KEY, primary_key=True, autoincrement=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.CheckConstraint("seq >= 0", name="entries_seq_nonnegative"),
    )
    op.create_index("ix_entries_leaf_hash", "entries", ["leaf_hash"])
    op.create_table(
        "subtree_hashes",
        sa.Column("level", sa.SmallInteger(), primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.CheckConstraint("level >= 1 AND level <= 63", name="subtree_hashes_level_range"),
        sa.CheckConstraint("idx >= 0", name="subtree_hashes_idx_nonnegative"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "checkpoints",
        sa.Column("size", _BIG_KEY, primary_key=True, autoincrement=False),
        sa.Column("note", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("size >= 0", name="checkpoints_size_nonnegative"),
    )


def downgrade() -> None:
    op.drop_table("checkpoints")
    op.drop_table("subtree_hashes")
    op.drop_index("ix_entries_leaf_hash", table_name="entries")
    op.drop_table("entries")
