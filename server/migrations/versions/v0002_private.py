"""The private store: accounts, members' identities, evidence, sealed votes,
login attempts, erasures and shared server secrets.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

# Plain DateTime: server.models.UTCDateTime converts to naive UTC in Python,
# so the column type is the same on both backends.  Written out rather than
# imported, as in 0001, so this migration keeps building what it was written for.
_TIME = sa.DateTime()


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(32), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("member_id", sa.String(32), nullable=True),
        sa.Column("created", _TIME, nullable=False),
        sa.CheckConstraint("role IN ('member', 'operator')", name="accounts_role_known"),
        sa.UniqueConstraint("username"),
        sa.UniqueConstraint("member_id"),
    )
    op.create_table(
        "member_details",
        sa.Column("member_id", sa.String(32), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("id_number", sa.String(64), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("joined_seq", sa.BigInteger(), nullable=True),
        sa.Column("created", _TIME, nullable=False),
        sa.UniqueConstraint("account_id"),
    )
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("claim_id", sa.String(32), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("commitment", sa.LargeBinary(32), nullable=False),
        sa.Column("salt", sa.LargeBinary(32), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=True),
        sa.Column("created", _TIME, nullable=False),
        sa.Column("erased", _TIME, nullable=True),
        sa.UniqueConstraint("commitment"),
        sa.UniqueConstraint("claim_id", "position", name="evidence_claim_position"),
        sa.CheckConstraint("position >= 0", name="evidence_position_nonnegative"),
        sa.CheckConstraint("size >= 0", name="evidence_size_nonnegative"),
    )
    op.create_table(
        "sealed_votes",
        sa.Column("claim_id", sa.String(32), primary_key=True),
        sa.Column("round", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("juror", sa.String(32), primary_key=True),
        sa.Column("choice", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("salt", sa.LargeBinary(32), nullable=False),
        sa.Column("sealed_seq", sa.BigInteger(), nullable=True),
        sa.Column("revealed_seq", sa.BigInteger(), nullable=True),
        sa.Column("created", _TIME, nullable=False),
        sa.CheckConstraint("choice IN ('approve', 'reject')", name="sealed_votes_choice_known"),
        sa.CheckConstraint("round >= 1", name="sealed_votes_round_positive"),
    )
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", _TIME, nullable=False),
    )
    op.create_index("ix_login_attempts_key", "login_attempts", ["username", "address", "at"])
    op.create_index("ix_login_attempts_at", "login_attempts", ["at"])
    op.create_table(
        "erasures",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(32), nullable=False),
        sa.Column("detail", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("requested_by", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=True),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("log_seq", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("kind IN ('member', 'evidence')", name="erasures_kind_known"),
    )
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("created", _TIME, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("server_secrets")
    op.drop_table("erasures")
    op.drop_index("ix_login_attempts_at", table_name="login_attempts")
    op.drop_index("ix_login_attempts_key", table_name="login_attempts")
    op.drop_table("login_attempts")
    op.drop_table("sealed_votes")
    op.drop_table("evidence")
    op.drop_table("member_details")
    op.drop_table("accounts")
