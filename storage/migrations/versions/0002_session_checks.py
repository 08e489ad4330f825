"""Session checks: every webhook and every reconciliation is confirmed with Xendit's GET.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "session_checks",
        sa.Column("link_id", sa.Integer, nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("claimed_until", UTCDateTime, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("link_id", name="pk_session_checks"),
        sa.ForeignKeyConstraint(["link_id"], ["links.id"], name="fk_session_checks_link_id_links"),
    )
    op.create_index("ix_session_checks_due_at", "session_checks", ["due_at"])
    with op.batch_alter_table("links") as batch:
        batch.add_column(sa.Column("last_checked_at", UTCDateTime, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("links") as batch:
        batch.drop_column("last_checked_at")
    op.drop_index("ix_session_checks_due_at", table_name="session_checks")
    op.drop_table("session_checks")
