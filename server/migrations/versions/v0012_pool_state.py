"""The pool's state in the database (server.pool.state_store): its records,
their counts by kind, and the head row saying which log they reflect.
Empty after the upgrade: the server fills them from the log it holds on
first use, or ``mutualog-server state rebuild`` does.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "state_records",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("key", sa.LargeBinary, primary_key=True),
        sa.Column("value", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "state_counts",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("n", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "state_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary, nullable=False),
        sa.Column("compact_range", sa.LargeBinary, nullable=False),
        sa.Column("head", sa.LargeBinary, nullable=False),
        sa.CheckConstraint("id = 1", name="state_head_one_row"),
    )


def downgrade() -> None:
    op.drop_table("state_head")
    op.drop_table("state_counts")
    op.drop_table("state_records")
