"""The schema as SQLAlchemy Core tables. Alembic migrations in ``storage/migrations`` create it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no offset of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: A shop: its settings, changed from the chat (``/settings``). One row per shop.
shops = Table(
    "shops",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("country", String(2), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("link_expiry_seconds", Integer, nullable=False),
    Column("confirm_above_minor", BigInteger, nullable=True),  # NULL: never asks
    Column("confirm_below_minor", BigInteger, nullable=True),  # NULL: never asks
    Column("payment_channels", Text, nullable=True),  # comma-separated; NULL: all
    Column("announce_to", String(8), nullable=True),  # NULL: both with a group, else member
    Column("group_chat_id", BigInteger, nullable=True, unique=True),
    # False for the shop an upgrade made from an older database: its settings are taken from
    # the environment at the next start, as a new shop's are.
    Column("seeded", Boolean, nullable=False, server_default=true()),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

#: The people of a shop. A removed member's row stays (``removed_at``): their links keep a name.
members = Table(
    "members",
    metadata,
    Column("shop_id", Integer, ForeignKey("shops.id"), primary_key=True),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("role", String(8), nullable=False),
    Column("name", String(128), nullable=False),
    Column("source", String(8), nullable=False),  # env, claim, invite
    Column("added_at", UTCDateTime, nullable=False),
    Column("removed_at", UTCDateTime, nullable=True),
    Index(None, "user_id"),
)

#: One-time codes: ``/invite`` links (``join_``) and the claim link (``claim_``). Only the
#: SHA-256 of a code is stored, so the table leaks no usable link.
invites = Table(
    "invites",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("shop_id", Integer, ForeignKey("shops.id"), nullable=False),
    Column("kind", String(8), nullable=False),  # join, claim
    Column("role", String(8), nullable=False),
    Column("created_by", BigInteger, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),  # NULL: until used
    Column("used_by", BigInteger, nullable=True),
    Column("used_at", UTCDateTime, nullable=True),
)

links = Table(
    "links",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("shop_id", Integer, ForeignKey("shops.id"), nullable=False),
    Column("short_ref", String(16), nullable=False, unique=True),
    Column("reference_id", String(64), nullable=False, unique=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("language", String(8), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("description", Text, nullable=True),
    Column("status", String(16), nullable=False),
    Column("session_id", String(64), nullable=True, unique=True),
    Column("link_url", Text, nullable=True),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("paid_at", UTCDateTime, nullable=True),
    Column("payment_id", String(64), nullable=True),
    Column("payment_channel", String(64), nullable=True),
    Column("failure", Text, nullable=True),
    Column("last_checked_at", UTCDateTime, nullable=True),
    Column("card_message_id", BigInteger, nullable=True),
    Column("return_token", String(64), nullable=True, unique=True),
    Column("merchant_name", String(128), nullable=True),  # the shop's name, for customers
    Column("member_name", String(128), nullable=True),  # who made it
    Index(None, "chat_id", "created_at"),
    Index(None, "shop_id", "created_at"),
    Index(None, "user_id", "created_at"),
    Index(None, "status", "expires_at"),
)

webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event", String(64), nullable=False),
    # payment_session_id for session events, payment_id for payment events.
    Column("dedup_key", String(64), nullable=False),
    Column("link_id", Integer, ForeignKey("links.id"), nullable=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("payload", Text, nullable=False),
    UniqueConstraint("event", "dedup_key"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("link_id", Integer, ForeignKey("links.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    # Grows each time a card edit is queued again; see Outbox.mark_sent.
    Column("generation", Integer, nullable=False, default=0, server_default="0"),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("claimed_until", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    # A payment is announced once per chat; a link has one card.
    UniqueConstraint("link_id", "kind", "chat_id"),
    Index(None, "status", "next_attempt_at"),
)

#: A pending "ask Xendit for the truth about this session" (one row per link at most).
#: ``generation`` grows when a new reason arrives while a check is running, so that check
#: does not delete the row and the newer news is checked again.
session_checks = Table(
    "session_checks",
    metadata,
    Column("link_id", Integer, ForeignKey("links.id"), primary_key=True),
    Column("session_id", String(64), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("generation", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("claimed_until", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "due_at"),
)

users = Table(
    "users",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("language", String(8), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

#: One row (id 1): ``/healthz`` adds a beat to prove the database takes writes.
heartbeat = Table(
    "heartbeat",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("beats", BigInteger, nullable=False),
)
