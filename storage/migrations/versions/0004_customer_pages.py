"""The customer's return page: an unguessable token per link, and the merchant's name.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("links") as batch:
        batch.add_column(sa.Column("return_token", sa.String(64), nullable=True))
        batch.add_column(sa.Column("merchant_name", sa.String(128), nullable=True))
        batch.create_unique_constraint("uq_links_return_token", ["return_token"])


def downgrade() -> None:
    with op.batch_alter_table("links") as batch:
        batch.drop_constraint("uq_links_return_token", type_="unique")
        batch.drop_column("merchant_name")
        batch.drop_column("return_token")
