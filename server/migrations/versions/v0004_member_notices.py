"""Members' notices: the optional e-mail address a member's notices are sent
to and in which language, and how far they have been read and mailed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

# Plain DateTime, as in 0002 (server.models.UTCDateTime stores naive UTC).
_TIME = sa.DateTime()


def upgrade() -> None:
    op.create_table(
        "member_notices",
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("accounts.id"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("read_through", sa.BigInteger(), nullable=False),
        sa.Column("mailed_through", sa.BigInteger(), nullable=False),
        sa.Column("updated", _TIME, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("member_notices")
