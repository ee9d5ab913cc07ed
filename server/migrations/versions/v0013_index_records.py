"""The log's index joins the pool's state (verifiable.pool.log_index): its
records are kept in ``state_records`` beside the state's, written in the
append's transaction.  A state stored before holds no index, so it is
emptied here; the server builds state and index again from the log it
holds on first use, or ``mutualog-server state rebuild`` does.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute("DELETE FROM state_head")
    op.execute("DELETE FROM state_counts")
    op.execute("DELETE FROM state_records")


def downgrade() -> None:
    # The state of revision 0012 holds no index: emptied, it is rebuilt
    # from the log as after the upgrade to 0012.
    upgrade()
