"""The typed repository: every read and write paybot makes, each one a short transaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, Select, Table, and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import Database
from storage.models import (
    EventOutcome,
    Link,
    LinkStatus,
    NewLink,
    Notification,
    NotificationKind,
    NotificationStatus,
    SessionEvent,
)
from storage.tables import links, outbox, webhook_events


def utcnow() -> datetime:
    return datetime.now(UTC)


class DuplicateReference(Exception):
    """A link with the same short reference exists already (the caller draws a new one)."""


#: Which states a webhook may move a link out of. A late "completed" after "expired" or a
#: cancel still means the customer paid, so COMPLETED wins from anywhere but itself.
_MAY_BECOME: dict[LinkStatus, tuple[LinkStatus, ...]] = {
    LinkStatus.COMPLETED: (
        LinkStatus.PENDING,
        LinkStatus.ACTIVE,
        LinkStatus.EXPIRED,
        LinkStatus.CANCELED,
        LinkStatus.FAILED,
    ),
    LinkStatus.EXPIRED: (LinkStatus.PENDING, LinkStatus.ACTIVE),
}
_NOTIFY: dict[LinkStatus, NotificationKind] = {
    LinkStatus.COMPLETED: NotificationKind.PAID,
    LinkStatus.EXPIRED: NotificationKind.EXPIRED,
}


def _link(row: Row[Any]) -> Link:
    m = row._mapping
    return Link(
        id=m["id"],
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
    )


class Repository:
    """All persistence behind one typed interface. Handlers and routes never see SQL."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._clock = clock

    # -- helpers -------------------------------------------------------------------------

    async def _insert_ignoring_conflict(
        self, conn: AsyncConnection, table: Table, values: dict[str, Any]
    ) -> bool:
        """INSERT, doing nothing on a unique-constraint clash. True when a row was written."""
        dialect = postgresql if self._db.dialect == "postgresql" else sqlite
        stmt = dialect.insert(table).values(**values).on_conflict_do_nothing()
        result = await conn.execute(stmt)
        return bool(result.rowcount == 1)

    async def _fetch_link(self, conn: AsyncConnection, query: Select[Any]) -> Link | None:
        row = (await conn.execute(query)).first()
        return _link(row) if row is not None else None

    # -- links ---------------------------------------------------------------------------

    async def create_link(self, new: NewLink) -> Link:
        """Store a link as PENDING, before anything is asked of Xendit."""
        now = self._clock()
        async with self._db.engine.begin() as conn:
            inserted = await self._insert_ignoring_conflict(
                conn,
                links,
                {
                    "short_ref": new.short_ref,
                    "reference_id": new.reference_id,
                    "chat_id": new.chat_id,
                    "user_id": new.user_id,
                    "language": new.language,
                    "amount_minor": new.amount_minor,
                    "currency": new.currency,
                    "description": new.description,
                    "status": LinkStatus.PENDING.value,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            if not inserted:
                raise DuplicateReference(new.short_ref)
            link = await self._fetch_link(
                conn, select(links).where(links.c.reference_id == new.reference_id)
            )
        assert link is not None
        return link

    async def activate_link(
        self, link_id: int, *, session_id: str, link_url: str, expires_at: datetime
    ) -> Link:
        """Record the session Xendit made. A webhook that came first is not undone."""
        async with self._db.engine.begin() as conn:
            await conn.execute(
                update(links)
                .where(links.c.id == link_id)
                .values(
                    session_id=session_id,
                    link_url=link_url,
                    expires_at=expires_at,
                    updated_at=self._clock(),
                )
            )
            await conn.execute(
                update(links)
                .where(and_(links.c.id == link_id, links.c.status == LinkStatus.PENDING.value))
                .values(status=LinkStatus.ACTIVE.value)
            )
            link = await self._fetch_link(conn, select(links).where(links.c.id == link_id))
        assert link is not None
        return link

    async def fail_link(self, link_id: int, failure: str) -> Link:
        """Mark a link whose session could not be made."""
        async with self._db.engine.begin() as conn:
            await conn.execute(
                update(links)
                .where(and_(links.c.id == link_id, links.c.status == LinkStatus.PENDING.value))
                .values(status=LinkStatus.FAILED.value, failure=failure, updated_at=self._clock())
            )
            link = await self._fetch_link(conn, select(links).where(links.c.id == link_id))
        assert link is not None
        return link

    async def get_link(self, link_id: int) -> Link | None:
        async with self._db.engine.connect() as conn:
            return await self._fetch_link(conn, select(links).where(links.c.id == link_id))

    async def get_link_by_session(self, session_id: str) -> Link | None:
        async with self._db.engine.connect() as conn:
            return await self._fetch_link(
                conn, select(links).where(links.c.session_id == session_id)
            )

    async def get_link_by_reference(self, reference_id: str) -> Link | None:
        async with self._db.engine.connect() as conn:
            return await self._fetch_link(
                conn, select(links).where(links.c.reference_id == reference_id)
            )

    async def links_for_chat(self, chat_id: int, *, limit: int = 10) -> list[Link]:
        async with self._db.engine.connect() as conn:
            rows = await conn.execute(
                select(links)
                .where(links.c.chat_id == chat_id)
                .order_by(links.c.created_at.desc(), links.c.id.desc())
                .limit(limit)
            )
            return [_link(row) for row in rows]

    # -- webhooks ------------------------------------------------------------------------

    async def apply_session_event(self, ev: SessionEvent) -> tuple[EventOutcome, Link | None]:
        """Record a session webhook, move its link forward and queue the notification.

        All of it is one transaction: when this returns, the event is durable and the
        notification will be delivered even if the process dies the next instant.
        """
        async with self._db.engine.begin() as conn:
            link = await self._fetch_link(
                conn,
                select(links).where(
                    or_(
                        links.c.session_id == ev.session_id,
                        and_(
                            links.c.session_id.is_(None),
                            links.c.reference_id == ev.reference_id,
                        ),
                    )
                ),
            )
            if link is None:
                return EventOutcome.UNKNOWN_SESSION, None
            fresh = await self._insert_ignoring_conflict(
                conn,
                webhook_events,
                {
                    "event": ev.event,
                    "dedup_key": ev.session_id,
                    "link_id": link.id,
                    "received_at": self._clock(),
                    "payload": ev.payload,
                },
            )
            if not fresh:
                return EventOutcome.DUPLICATE, link

            allowed = _MAY_BECOME.get(ev.new_status, ())
            values: dict[str, Any] = {
                "status": ev.new_status.value,
                "updated_at": self._clock(),
                "session_id": ev.session_id,
            }
            if ev.new_status is LinkStatus.COMPLETED:
                values["paid_at"] = ev.occurred_at
                values["payment_id"] = ev.payment_id
                if ev.payment_id:
                    values["payment_channel"] = await self._captured_channel(conn, ev.payment_id)
            moved = await conn.execute(
                update(links)
                .where(
                    and_(
                        links.c.id == link.id,
                        links.c.status.in_([s.value for s in allowed]),
                    )
                )
                .values(**values)
            )
            if moved.rowcount != 1:
                return EventOutcome.NO_CHANGE, link

            now = self._clock()
            await self._insert_ignoring_conflict(
                conn,
                outbox,
                {
                    "link_id": link.id,
                    "kind": _NOTIFY[ev.new_status].value,
                    "chat_id": link.chat_id,
                    "status": NotificationStatus.PENDING.value,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                },
            )
            updated = await self._fetch_link(conn, select(links).where(links.c.id == link.id))
            return EventOutcome.APPLIED, updated

    async def _captured_channel(self, conn: AsyncConnection, payment_id: str) -> str | None:
        payload = await conn.scalar(
            select(webhook_events.c.payload).where(
                and_(
                    webhook_events.c.event == "payment.capture",
                    webhook_events.c.dedup_key == payment_id,
                )
            )
        )
        if payload is None:
            return None
        channel = json.loads(payload).get("data", {}).get("channel_code")
        return str(channel) if channel else None

    async def record_payment_event(
        self, *, event: str, payment_id: str, channel_code: str | None, payload: str
    ) -> EventOutcome:
        """Record a ``payment.*`` webhook; a capture adds its channel to the paid link."""
        async with self._db.engine.begin() as conn:
            link = await self._fetch_link(
                conn, select(links).where(links.c.payment_id == payment_id)
            )
            fresh = await self._insert_ignoring_conflict(
                conn,
                webhook_events,
                {
                    "event": event,
                    "dedup_key": payment_id,
                    "link_id": link.id if link else None,
                    "received_at": self._clock(),
                    "payload": payload,
                },
            )
            if not fresh:
                return EventOutcome.DUPLICATE
            if link is not None and event == "payment.capture" and channel_code:
                await conn.execute(
                    update(links).where(links.c.id == link.id).values(payment_channel=channel_code)
                )
                return EventOutcome.APPLIED
            return EventOutcome.NO_CHANGE

    async def count_events(self) -> int:
        async with self._db.engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(webhook_events)) or 0)

    # -- notification outbox -------------------------------------------------------------

    async def claim_notifications(
        self, *, limit: int = 20, lease: timedelta = timedelta(seconds=60)
    ) -> list[Notification]:
        """Claim due notifications for ``lease``; an unfinished claim is retaken after it."""
        now = self._clock()
        async with self._db.engine.begin() as conn:
            query = (
                select(outbox.c.id)
                .where(
                    and_(
                        outbox.c.status == NotificationStatus.PENDING.value,
                        outbox.c.next_attempt_at <= now,
                        or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now),
                    )
                )
                .order_by(outbox.c.next_attempt_at, outbox.c.id)
                .limit(limit)
            )
            if self._db.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = list((await conn.scalars(query)).all())
            if not ids:
                return []
            await conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(ids))
                .values(claimed_until=now + lease, attempts=outbox.c.attempts + 1)
            )
            rows = await conn.execute(
                select(
                    outbox.c.id.label("notification_id"),
                    outbox.c.kind,
                    outbox.c.attempts,
                    outbox.c.chat_id.label("notify_chat_id"),
                    links,
                )
                .join(links, links.c.id == outbox.c.link_id)
                .where(outbox.c.id.in_(ids))
                .order_by(outbox.c.next_attempt_at, outbox.c.id)
            )
            return [
                Notification(
                    id=row._mapping["notification_id"],
                    kind=NotificationKind(row._mapping["kind"]),
                    chat_id=row._mapping["notify_chat_id"],
                    attempts=row._mapping["attempts"],
                    link=_link(row),
                )
                for row in rows
            ]

    async def mark_sent(self, notification_id: int) -> None:
        await self._set_outbox(
            notification_id,
            status=NotificationStatus.SENT.value,
            sent_at=self._clock(),
            claimed_until=None,
            last_error=None,
        )

    async def reschedule(self, notification_id: int, *, at: datetime, error: str) -> None:
        await self._set_outbox(
            notification_id, next_attempt_at=at, claimed_until=None, last_error=error[:1000]
        )

    async def mark_failed(self, notification_id: int, *, error: str) -> None:
        await self._set_outbox(
            notification_id,
            status=NotificationStatus.FAILED.value,
            claimed_until=None,
            last_error=error[:1000],
        )

    async def release_claims(self, notification_ids: Sequence[int]) -> None:
        """Give claimed but unsent notifications back (and undo the attempt count)."""
        async with self._db.engine.begin() as conn:
            await conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(list(notification_ids)))
                .values(claimed_until=None, attempts=outbox.c.attempts - 1)
            )

    async def _set_outbox(self, notification_id: int, **values: Any) -> None:
        async with self._db.engine.begin() as conn:
            await conn.execute(
                update(outbox).where(outbox.c.id == notification_id).values(**values)
            )

    async def notifications(
        self, *, status: NotificationStatus | None = None
    ) -> Sequence[Row[Any]]:
        """Outbox rows, for the operator's view and for tests."""
        async with self._db.engine.connect() as conn:
            query = select(outbox).order_by(outbox.c.id)
            if status is not None:
                query = query.where(outbox.c.status == status.value)
            return (await conn.execute(query)).all()

    async def next_notification_due(self) -> datetime | None:
        async with self._db.engine.connect() as conn:
            value: datetime | None = await conn.scalar(
                select(func.min(outbox.c.next_attempt_at)).where(
                    outbox.c.status == NotificationStatus.PENDING.value
                )
            )
            if value is not None and value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            return value
