"""Consents as PIPL asks them recorded (server.private.consents): a
claimant's separate consent to the processing of medical information, a
guardian's consent for a child under 14.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None

# Plain DateTime, as in 0002 (server.models.UTCDateTime stores naive UTC).
_TIME = sa.DateTime()


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.Integer, nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("wording", sa.String(1000), nullable=False),
        sa.Column("lang", sa.String(16), nullable=False),
        sa.Column("given", _TIME, nullable=False),
        sa.Column("claim_id", sa.String(32), nullable=True),
        sa.CheckConstraint("kind IN ('medical', 'guardian')", name="consents_kind_known"),
    )


def downgrade() -> None:
    op.drop_table("consents")
