"""The demo's clock: in a demo instance, one row holding how far the pool's
time is from the machine's, so that every server process reads the same
time and the operator can move it forward.  No row: not a demo.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

# Plain DateTime, as in 0002 (server.models.UTCDateTime stores naive UTC).
_TIME = sa.DateTime()


def upgrade() -> None:
    op.create_table(
        "demo_clock",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("offset_seconds", sa.BigInteger(), nullable=False),
        sa.Column("updated", _TIME, nullable=False),
        sa.CheckConstraint("id = 1", name="demo_clock_one_row"),
    )


def downgrade() -> None:
    op.drop_table("demo_clock")
