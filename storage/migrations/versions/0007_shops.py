"""Shops and their members: every link belongs to a shop and to the member who made it.

An existing database becomes one shop (its settings are read from the environment at the next
start, as a new shop's are), whose owners are the users who made its links and whose group is
the group its links were last made in. Payments may be
announced in several chats, once per chat: the outbox is unique per link, kind and chat.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from storage.tables import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The currencies paybot takes, and their country (as in ``bot.money``; kept here so that
#: this migration does the same whatever the code around it becomes).
_COUNTRY = {"IDR": "ID", "PHP": "PH", "THB": "TH", "VND": "VN", "MYR": "MY", "SGD": "SG"}


def upgrade() -> None:
    shops = op.create_table(
        "shops",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("link_expiry_seconds", sa.Integer, nullable=False),
        sa.Column("confirm_above_minor", sa.BigInteger, nullable=True),
        sa.Column("confirm_below_minor", sa.BigInteger, nullable=True),
        sa.Column("payment_channels", sa.Text, nullable=True),
        sa.Column("announce_to", sa.String(8), nullable=True),
        sa.Column("group_chat_id", sa.BigInteger, nullable=True),
        sa.Column("seeded", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_shops"),
        sa.UniqueConstraint("group_chat_id", name="uq_shops_group_chat_id"),
    )
    members = op.create_table(
        "members",
        sa.Column("shop_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("added_at", UTCDateTime, nullable=False),
        sa.Column("removed_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("shop_id", "user_id", name="pk_members"),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name="fk_members_shop_id_shops"),
    )
    op.create_index("ix_members_user_id", "members", ["user_id"])
    op.create_table(
        "invites",
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("shop_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("created_by", sa.BigInteger, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=True),
        sa.Column("used_by", sa.BigInteger, nullable=True),
        sa.Column("used_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("code_hash", name="pk_invites"),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name="fk_invites_shop_id_shops"),
    )

    bind = op.get_bind()
    links = sa.table(
        "links",
        sa.column("id", sa.Integer),
        sa.column("user_id", sa.BigInteger),
        sa.column("currency", sa.String),
        sa.column("merchant_name", sa.String),
        sa.column("chat_id", sa.BigInteger),
        sa.column("created_at", UTCDateTime),
    )
    newest = bind.execute(sa.select(links.c.currency).order_by(links.c.id.desc()).limit(1)).scalar()
    if newest is not None:
        # An upgrade: the links so far are one shop's. Placeholder settings, replaced from
        # the environment at the next start (seeded false). The group its links were last
        # made in, if any, stays where the shop works: it becomes the shop's group.
        now = datetime.now(UTC)
        group = bind.execute(
            sa.select(links.c.chat_id)
            .where(links.c.chat_id < 0)
            .order_by(links.c.id.desc())
            .limit(1)
        ).scalar()
        op.bulk_insert(
            shops,
            [
                {
                    "id": 1,
                    "name": "",
                    "currency": newest,
                    "country": _COUNTRY.get(newest, "ID"),
                    "timezone": "Asia/Jakarta",
                    "link_expiry_seconds": 86400,
                    "confirm_above_minor": None,
                    "confirm_below_minor": None,
                    "payment_channels": None,
                    "announce_to": None,
                    "group_chat_id": group,
                    "seeded": False,
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
        # Its owners: whoever made links (only allowed users could). Named as their newest
        # link named them. Source "env": with ALLOWED_USER_IDS set, whoever it no longer
        # lists is removed at start, as before the upgrade they could no longer act.
        makers = bind.execute(
            sa.select(links.c.user_id, sa.func.max(links.c.id)).group_by(links.c.user_id)
        ).all()
        rows = []
        for user_id, newest_id in makers:
            name = bind.execute(
                sa.select(links.c.merchant_name).where(links.c.id == newest_id)
            ).scalar()
            rows.append(
                {
                    "shop_id": 1,
                    "user_id": user_id,
                    "role": "owner",
                    "name": (name or f"User {user_id}")[:128],
                    "source": "env",
                    "added_at": now,
                    "removed_at": None,
                }
            )
        if rows:
            op.bulk_insert(members, rows)

    with op.batch_alter_table("links") as batch:
        batch.add_column(sa.Column("shop_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("member_name", sa.String(128), nullable=True))
    if newest is not None:
        # Before the upgrade the name shown to customers was the person's: it names them.
        op.execute(sa.text("UPDATE links SET shop_id = 1, member_name = merchant_name"))
    with op.batch_alter_table("links") as batch:
        batch.alter_column("shop_id", existing_type=sa.Integer, nullable=False)
        batch.create_foreign_key("fk_links_shop_id_shops", "shops", ["shop_id"], ["id"])
        batch.create_index("ix_links_shop_id_created_at", ["shop_id", "created_at"])

    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("uq_outbox_link_id_kind", type_="unique")
        batch.create_unique_constraint(
            "uq_outbox_link_id_kind_chat_id", ["link_id", "kind", "chat_id"]
        )
    if bind.dialect.name == "postgresql":
        # A new database's shops start at 1; after the row above, at 2.
        op.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('shops', 'id'), "
                "COALESCE((SELECT MAX(id) FROM shops), 0) + 1, false)"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("uq_outbox_link_id_kind_chat_id", type_="unique")
        batch.create_unique_constraint("uq_outbox_link_id_kind", ["link_id", "kind"])
    with op.batch_alter_table("links") as batch:
        batch.drop_index("ix_links_shop_id_created_at")
        batch.drop_constraint("fk_links_shop_id_shops", type_="foreignkey")
        batch.drop_column("member_name")
        batch.drop_column("shop_id")
    op.drop_table("invites")
    op.drop_index("ix_members_user_id", table_name="members")
    op.drop_table("members")
    op.drop_table("shops")
