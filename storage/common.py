"""What the stores share: the clock, the row-to-:class:`Link` mapper, ``ON CONFLICT``
inserts, and the claiming of queued rows (checks and notifications)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    Table,
    and_,
    case,
    func,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from storage.database import Database
from storage.models import Link, LinkStatus
from storage.tables import UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


def insert(dialect: str, table: Table) -> Any:
    """``INSERT`` that takes ``ON CONFLICT`` (``on_conflict_do_nothing/do_update``) for the
    dialect named ``dialect``: each dialect has its own construct, with the same API."""
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table)


def link_of(row: Row[Any]) -> Link:
    m = row._mapping
    return Link(
        id=m["id"],
        shop_id=m["shop_id"],
        short_ref=m["short_ref"],
        reference_id=m["reference_id"],
        chat_id=m["chat_id"],
        user_id=m["user_id"],
        language=m["language"],
        amount_minor=m["amount_minor"],
        currency=m["currency"],
        description=m["description"],
        status=LinkStatus(m["status"]),
        session_id=m["session_id"],
        link_url=m["link_url"],
        expires_at=m["expires_at"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        paid_at=m["paid_at"],
        payment_id=m["payment_id"],
        payment_channel=m["payment_channel"],
        failure=m["failure"],
        card_message_id=m["card_message_id"],
        return_token=m["return_token"],
        merchant_name=m["merchant_name"],
        last_checked_at=m["last_checked_at"],
        member_name=m["member_name"],
    )


def claim(conn: Connection, due: Select[Any], table: Table, key: Any, until: datetime) -> list[Any]:
    """Claim the rows ``due`` selects (their keys) until ``until``, counting an attempt.

    On PostgreSQL the rows are locked with ``FOR UPDATE SKIP LOCKED``, so instances claiming
    at the same moment take different rows (SQLite, one writer at a time, leaves it out).
    """
    ids = list(conn.scalars(due.with_for_update(skip_locked=True)).all())
    if ids:
        conn.execute(
            update(table)
            .where(key.in_(ids))
            .values(claimed_until=until, attempts=table.c.attempts + 1)
        )
    return ids


async def earliest(
    db: Database,
    due_at: ColumnElement[datetime],
    claimed_until: ColumnElement[datetime | None],
    *where: ColumnElement[bool],
) -> datetime | None:
    """The earliest time a queued row may be taken: its due time, or the end of its lease
    while it is claimed."""
    due = case(
        (and_(claimed_until.is_not(None), claimed_until > due_at), claimed_until),
        else_=due_at,
    )
    query = select(func.min(type_coerce(due, UTCDateTime))).where(*where)
    value: datetime | None = await db.read(lambda conn: conn.scalar(query))
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value
