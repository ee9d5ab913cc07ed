"""One-time submission tokens: a form's token stored under a unique
constraint in the transaction that appends, so a claim, an objection or a
vote sent twice is appended once.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "submissions",
        sa.Column("token", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("submitter", sa.String(32), nullable=False),
        sa.Column("claim_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        # Plain DateTime, as in 0002 (server.models.UTCDateTime stores naive UTC).
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('claim', 'objection', 'vote')", name="submissions_kind_known"),
    )


def downgrade() -> None:
    op.drop_table("submissions")
