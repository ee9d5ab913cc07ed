"""One membership per person: the keyed hash of each active member's ID
number, under a primary key (server.private.identity_key).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

# Plain DateTime, as in 0002 (server.models.UTCDateTime stores naive UTC).
_TIME = sa.DateTime()


def upgrade() -> None:
    # Rows of members who joined before this revision are not filled here:
    # the migration has no key (it is a file of the instance folder, not of
    # the database); docs/privacy.md says how an instance fills them.
    op.create_table(
        "member_identities",
        sa.Column("id_hash", sa.LargeBinary(32), primary_key=True),
        sa.Column(
            "member_id",
            sa.String(32),
            sa.ForeignKey("member_details.member_id"),
            nullable=False,
            unique=True,
        ),
        sa.Column("created", _TIME, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("member_identities")
