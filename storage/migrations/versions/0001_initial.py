"""Links, webhook events and the notification outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "links",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("short_ref", sa.String(16), nullable=False),
        sa.Column("reference_id", sa.String(64), nullable=False),
        sa.Column("chat_id", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=True),
        sa.Column("link_url", sa.Text, nullable=True),
        sa.Column("expires_at", UTCDateTime, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("paid_at", UTCDateTime, nullable=True),
        sa.Column("payment_id", sa.String(64), nullable=True),
        sa.Column("payment_channel", sa.String(64), nullable=True),
        sa.Column("failure", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_links"),
        sa.UniqueConstraint("short_ref", name="uq_links_short_ref"),
        sa.UniqueConstraint("reference_id", name="uq_links_reference_id"),
        sa.UniqueConstraint("session_id", name="uq_links_session_id"),
    )
    op.create_index("ix_links_chat_id_created_at", "links", ["chat_id", "created_at"])
    op.create_index("ix_links_status_expires_at", "links", ["status", "expires_at"])

    op.create_table(
        "webhook_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("dedup_key", sa.String(64), nullable=False),
        sa.Column("link_id", sa.Integer, nullable=True),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_events"),
        sa.ForeignKeyConstraint(["link_id"], ["links.id"], name="fk_webhook_events_link_id_links"),
        sa.UniqueConstraint("event", "dedup_key", name="uq_webhook_events_event_dedup_key"),
    )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("link_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("claimed_until", UTCDateTime, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.ForeignKeyConstraint(["link_id"], ["links.id"], name="fk_outbox_link_id_links"),
        sa.UniqueConstraint("link_id", "kind", name="uq_outbox_link_id_kind"),
    )
    op.create_index("ix_outbox_status_next_attempt_at", "outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("webhook_events")
    op.drop_index("ix_links_status_expires_at", table_name="links")
    op.drop_index("ix_links_chat_id_created_at", table_name="links")
    op.drop_table("links")
