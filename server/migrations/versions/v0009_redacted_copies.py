"""Redacted copies of evidence documents: the page images a claim's panel
is shown, with the salt that opens their commitment (server.private.redacted).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

# Plain DateTime, as in 0002 (server.models.UTCDateTime stores naive UTC).
_TIME = sa.DateTime()


def upgrade() -> None:
    op.create_table(
        "redacted_copies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("claim_id", sa.String(32), nullable=False),
        sa.Column("position", sa.SmallInteger, nullable=False),
        sa.Column("commitment", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("salt", sa.LargeBinary(32), nullable=True),
        sa.Column("pages", sa.LargeBinary, nullable=True),
        sa.Column("page_count", sa.SmallInteger, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("created", _TIME, nullable=False),
        sa.Column("erased", _TIME, nullable=True),
        sa.UniqueConstraint("claim_id", "position", name="redacted_claim_position"),
        sa.CheckConstraint("position >= 0", name="redacted_position_nonnegative"),
        sa.CheckConstraint("page_count >= 1", name="redacted_page_count_positive"),
    )


def downgrade() -> None:
    op.drop_table("redacted_copies")
