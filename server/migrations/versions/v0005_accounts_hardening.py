"""Accounts hardened: server-side sessions, password resets and the request
limits kept in the database (sign-in and registration, per address and
for the whole server).

``request_attempts`` replaces ``login_attempts``: the old rows only counted
sign-in failures of the last fifteen minutes, so they are dropped, not
carried over (a downgrade recreates the empty table).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

# Plain DateTime, as in 0002 (server.models.UTCDateTime stores naive UTC).
_TIME = sa.DateTime()


def upgrade() -> None:
    op.create_table(
        "request_attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.CheckConstraint(
            "action IN ('signin', 'register', 'reset')", name="request_attempts_action_known"
        ),
    )
    op.create_index("ix_request_attempts_address", "request_attempts", ["action", "address", "at"])
    op.create_index(
        "ix_request_attempts_username", "request_attempts", ["action", "username", "at"]
    )
    op.create_index("ix_request_attempts_at", "request_attempts", ["action", "at"])
    op.create_table(
        "hash_leases",
        sa.Column("token", sa.String(32), primary_key=True),
        sa.Column("expires", _TIME, nullable=False),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.LargeBinary(32), primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created", _TIME, nullable=False),
        sa.Column("last_seen", _TIME, nullable=False),
        sa.Column("revoked", _TIME, nullable=True),
    )
    op.create_index("ix_web_sessions_account_id", "web_sessions", ["account_id"])
    op.create_table(
        "password_resets",
        sa.Column("code_hash", sa.LargeBinary(32), primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created", _TIME, nullable=False),
        sa.Column("expires", _TIME, nullable=False),
        sa.Column("used", _TIME, nullable=True),
    )
    op.create_index("ix_password_resets_account_id", "password_resets", ["account_id"])
    op.drop_index("ix_login_attempts_at", table_name="login_attempts")
    op.drop_index("ix_login_attempts_key", table_name="login_attempts")
    op.drop_table("login_attempts")


def downgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", _TIME, nullable=False),
    )
    op.create_index("ix_login_attempts_key", "login_attempts", ["username", "address", "at"])
    op.create_index("ix_login_attempts_at", "login_attempts", ["at"])
    op.drop_index("ix_password_resets_account_id", table_name="password_resets")
    op.drop_table("password_resets")
    op.drop_index("ix_web_sessions_account_id", table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_table("hash_leases")
    op.drop_index("ix_request_attempts_at", table_name="request_attempts")
    op.drop_index("ix_request_attempts_username", table_name="request_attempts")
    op.drop_index("ix_request_attempts_address", table_name="request_attempts")
    op.drop_table("request_attempts")
