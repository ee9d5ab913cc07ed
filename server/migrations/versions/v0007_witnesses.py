"""Witnesses: the log's configured witnesses, the cosignatures gathered
from them for each checkpoint, how many are required, and the lease that
lets one submitter at a time talk to them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

# Plain DateTime, as in 0002 (server.models.UTCDateTime stores naive UTC).
_TIME = sa.DateTime()


def upgrade() -> None:
    op.create_table(
        "witnesses",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("vkey", sa.Text(), nullable=False),
        sa.Column("added", _TIME, nullable=False),
        sa.Column("known_size", sa.BigInteger(), nullable=True),
        sa.Column("last_attempt", _TIME, nullable=True),
        sa.Column("last_success", _TIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_table(
        "cosignatures",
        sa.Column("size", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("witness", sa.String(255), primary_key=True),
        sa.Column("key_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("gathered", _TIME, nullable=False),
        sa.CheckConstraint("size >= 1", name="cosignatures_size_positive"),
    )
    op.create_index("cosignatures_witness_size", "cosignatures", ["witness", "size"])
    op.create_table(
        "witness_policy",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("required", sa.Integer(), nullable=False),
        sa.Column("updated", _TIME, nullable=False),
        sa.CheckConstraint("id = 1", name="witness_policy_one_row"),
        sa.CheckConstraint("required >= 0", name="witness_policy_required_nonnegative"),
    )
    op.create_table(
        "witness_lease",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("expires", _TIME, nullable=False),
        sa.CheckConstraint("id = 1", name="witness_lease_one_row"),
    )


def downgrade() -> None:
    op.drop_table("witness_lease")
    op.drop_table("witness_policy")
    op.drop_index("cosignatures_witness_size", table_name="cosignatures")
    op.drop_table("cosignatures")
    op.drop_table("witnesses")
