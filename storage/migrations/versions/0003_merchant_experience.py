"""The payment card's message id, and each user's chosen language.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("links") as batch:
        batch.add_column(sa.Column("card_message_id", sa.BigInteger, nullable=True))
    op.create_index("ix_links_user_id_created_at", "links", ["user_id", "created_at"])
    op.create_table(
        "users",
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_users"),
    )


def downgrade() -> None:
    op.drop_table("users")
    op.drop_index("ix_links_user_id_created_at", table_name="links")
    with op.batch_alter_table("links") as batch:
        batch.drop_column("card_message_id")
