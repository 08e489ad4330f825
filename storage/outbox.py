"""The notification outbox: messages and card edits queued for the merchant's chat, claimed
and delivered by the worker (``bot.notifications``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, or_, select, update

from storage.common import claim, earliest, insert, link_of, utcnow
from storage.database import Database
from storage.models import Link, Notification, NotificationKind, NotificationStatus
from storage.tables import links, outbox, shops

_CARDS_LAST = case((outbox.c.kind == NotificationKind.CARD.value, 1), else_=0)


def queue(
    conn: Connection,
    link: Link,
    kind: NotificationKind,
    now: datetime,
    *,
    chat_id: int | None = None,
) -> None:
    """Queue a notification for ``chat_id`` (default: the chat the link was made in), in
    the caller's transaction. A message is queued once per chat; a card
    edit queued again is made due again, one generation newer: the card is drawn from the
    link's state when it is sent, so it always shows the newest."""
    stmt = insert(conn.dialect.name, outbox)
    if kind is NotificationKind.CARD:
        stmt = stmt.on_conflict_do_update(
            index_elements=[outbox.c.link_id, outbox.c.kind, outbox.c.chat_id],
            set_={
                "status": NotificationStatus.PENDING.value,
                "next_attempt_at": stmt.excluded.next_attempt_at,
                "attempts": 0,
                "last_error": None,
                "generation": outbox.c.generation + 1,
            },
        )
    else:
        stmt = stmt.on_conflict_do_nothing()
    conn.execute(
        stmt,
        {
            "link_id": link.id,
            "kind": kind.value,
            "chat_id": link.chat_id if chat_id is None else chat_id,
            "status": NotificationStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        },
    )


def claim_card(conn: Connection, link: Link, now: datetime, until: datetime) -> Notification | None:
    """Queue the link's card claimed until ``until`` by the caller, who sends it at once; the
    claim, or None if another holds it.

    A card queued before is made due again, one generation newer, and claimed if nobody
    holds it. A holder sending it right now then hands it back (:meth:`Outbox.mark_sent`)
    and it goes once more, showing the newest state.
    """
    stmt = insert(conn.dialect.name, outbox)
    unclaimed = or_(
        outbox.c.claimed_until.is_(None), outbox.c.claimed_until < stmt.excluded.created_at
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[outbox.c.link_id, outbox.c.kind, outbox.c.chat_id],
        set_={
            "status": NotificationStatus.PENDING.value,
            "next_attempt_at": stmt.excluded.next_attempt_at,
            "attempts": stmt.excluded.attempts,
            "last_error": None,
            "generation": outbox.c.generation + 1,
            "claimed_until": case(
                (unclaimed, stmt.excluded.claimed_until), else_=outbox.c.claimed_until
            ),
        },
    ).returning(outbox.c.id, outbox.c.generation, outbox.c.claimed_until, outbox.c.attempts)
    row = conn.execute(
        stmt,
        {
            "link_id": link.id,
            "kind": NotificationKind.CARD.value,
            "chat_id": link.chat_id,
            "status": NotificationStatus.PENDING.value,
            "attempts": 1,
            "next_attempt_at": now,
            "claimed_until": until,
            "created_at": now,
        },
    ).one()
    if row.claimed_until != until:
        return None
    return Notification(
        id=row.id,
        kind=NotificationKind.CARD,
        chat_id=link.chat_id,
        attempts=row.attempts,
        link=link,
        generation=row.generation,
    )


class Outbox:
    """The notifications queued for delivery, and their claims."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._clock = clock

    async def claim_notifications(
        self, *, limit: int = 20, lease: timedelta = timedelta(seconds=60)
    ) -> list[Notification]:
        """Claim due notifications for ``lease``; an unfinished claim is retaken after it."""
        now = self._clock()

        def write(conn: Connection) -> list[Notification]:
            query = (
                select(outbox.c.id)
                .where(
                    and_(
                        outbox.c.status == NotificationStatus.PENDING.value,
                        outbox.c.next_attempt_at <= now,
                        or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now),
                    )
                )
                # The messages that make the phone ring go before card edits.
                .order_by(_CARDS_LAST, outbox.c.next_attempt_at, outbox.c.id)
                .limit(limit)
            )
            ids = claim(conn, query, outbox, outbox.c.id, now + lease)
            if not ids:
                return []
            rows = conn.execute(
                select(
                    outbox.c.id.label("notification_id"),
                    outbox.c.kind,
                    outbox.c.attempts,
                    outbox.c.generation,
                    outbox.c.chat_id.label("notify_chat_id"),
                    links,
                )
                .join(links, links.c.id == outbox.c.link_id)
                .where(outbox.c.id.in_(ids))
                .order_by(_CARDS_LAST, outbox.c.next_attempt_at, outbox.c.id)
            )
            return [
                Notification(
                    id=row._mapping["notification_id"],
                    kind=NotificationKind(row._mapping["kind"]),
                    chat_id=row._mapping["notify_chat_id"],
                    attempts=row._mapping["attempts"],
                    link=link_of(row),
                    generation=row._mapping["generation"],
                )
                for row in rows
            ]

        return await self._db.transaction(write)

    async def mark_sent(
        self, notification_ids: Sequence[int], *, generation: int | None = None
    ) -> None:
        """Mark sent. With ``generation`` (a card edit), only if the row was not queued again
        meanwhile: otherwise it is handed back, to be sent once more with the newest state."""
        values = {
            "status": NotificationStatus.SENT.value,
            "sent_at": self._clock(),
            "claimed_until": None,
            "last_error": None,
        }
        if generation is None:
            await self._set(notification_ids, **values)
            return

        def write(conn: Connection) -> None:
            ids = list(notification_ids)
            done = conn.execute(
                update(outbox)
                .where(and_(outbox.c.id.in_(ids), outbox.c.generation == generation))
                .values(**values)
            )
            if done.rowcount != len(ids):
                conn.execute(
                    update(outbox)
                    .where(and_(outbox.c.id.in_(ids), outbox.c.generation != generation))
                    .values(claimed_until=None)
                )

        await self._db.transaction(write)

    async def card_sent(self, note: Notification, message_id: int) -> None:
        """A new card went out as ``message_id``: it is the link's card from now on (edits go
        to it), and its outbox row is sent, unless queued again meanwhile (then it goes
        again, as an edit of this message)."""
        sent_at = self._clock()

        def write(conn: Connection) -> None:
            conn.execute(
                update(links).where(links.c.id == note.link.id).values(card_message_id=message_id)
            )
            done = conn.execute(
                update(outbox)
                .where(and_(outbox.c.id == note.id, outbox.c.generation == note.generation))
                .values(
                    status=NotificationStatus.SENT.value,
                    sent_at=sent_at,
                    claimed_until=None,
                    last_error=None,
                )
            )
            if done.rowcount == 0:
                conn.execute(
                    update(outbox).where(outbox.c.id == note.id).values(claimed_until=None)
                )

        await self._db.transaction(write)

    async def reschedule(
        self, notification_ids: Sequence[int], *, at: datetime, error: str
    ) -> None:
        await self._set(
            notification_ids, next_attempt_at=at, claimed_until=None, last_error=error[:1000]
        )

    async def mark_failed(self, notification_ids: Sequence[int], *, error: str) -> None:
        await self._set(
            notification_ids,
            status=NotificationStatus.FAILED.value,
            claimed_until=None,
            last_error=error[:1000],
        )

    async def chats_with_failures(self, *, error_prefix: str) -> set[int]:
        """Chats with notifications FAILED for a reason starting with ``error_prefix``."""

        def read(conn: Connection) -> set[int]:
            rows = conn.scalars(
                select(outbox.c.chat_id)
                .where(
                    and_(
                        outbox.c.status == NotificationStatus.FAILED.value,
                        outbox.c.last_error.like(f"{error_prefix}%"),
                    )
                )
                .distinct()
            )
            return set(rows.all())

        return await self._db.read(read)

    async def requeue_failed(self, chat_id: int) -> int:
        """Make a chat's FAILED notifications due again (the chat can hear us again); card
        edits only where the link still has a card to edit. Returns how many."""
        now = self._clock()

        def write(conn: Connection) -> int:
            done = conn.execute(
                update(outbox)
                .where(
                    and_(
                        outbox.c.chat_id == chat_id,
                        outbox.c.status == NotificationStatus.FAILED.value,
                        or_(
                            outbox.c.kind != NotificationKind.CARD.value,
                            outbox.c.link_id.in_(
                                select(links.c.id).where(links.c.card_message_id.is_not(None))
                            ),
                        ),
                    )
                )
                .values(
                    status=NotificationStatus.PENDING.value,
                    next_attempt_at=now,
                    claimed_until=None,
                    attempts=0,
                )
            )
            return int(done.rowcount)

        return await self._db.transaction(write)

    async def move_chat(self, old_chat_id: int, new_chat_id: int) -> tuple[int, int]:
        """A group became a supergroup with a new id: its links, its notifications and its
        shop (if it is a shop's group) follow.

        Unsent notifications (pending or failed) are made due at once in the new chat. The
        cards stay behind in the old group (message ids do not carry over): links forget
        them, and their pending edits end FAILED. Returns (links moved, notifications queued).
        """
        now = self._clock()
        unsent = and_(
            outbox.c.chat_id == old_chat_id, outbox.c.status != NotificationStatus.SENT.value
        )

        def write(conn: Connection) -> tuple[int, int]:
            moved = conn.execute(
                update(links)
                .where(links.c.chat_id == old_chat_id)
                .values(chat_id=new_chat_id, card_message_id=None)
            )
            queued = conn.execute(
                update(outbox)
                .where(and_(unsent, outbox.c.kind != NotificationKind.CARD.value))
                .values(
                    chat_id=new_chat_id,
                    status=NotificationStatus.PENDING.value,
                    next_attempt_at=now,
                    claimed_until=None,
                    attempts=0,
                )
            )
            conn.execute(
                update(outbox)
                .where(and_(unsent, outbox.c.kind == NotificationKind.CARD.value))
                .values(
                    chat_id=new_chat_id,
                    status=NotificationStatus.FAILED.value,
                    claimed_until=None,
                    last_error=f"chat migrated to {new_chat_id}: the card stayed behind",
                )
            )
            conn.execute(
                update(outbox)
                .where(outbox.c.chat_id == old_chat_id)
                .values(chat_id=new_chat_id)  # what was sent, for the record
            )
            # A shop's group stays its group.
            conn.execute(
                update(shops)
                .where(shops.c.group_chat_id == old_chat_id)
                .values(group_chat_id=new_chat_id, updated_at=now)
            )
            return int(moved.rowcount), int(queued.rowcount)

        return await self._db.transaction(write)

    async def defer(self, notification_ids: Sequence[int], *, at: datetime) -> None:
        """Hand claimed notifications back for later without counting an attempt."""
        await self._set(
            notification_ids,
            next_attempt_at=at,
            claimed_until=None,
            attempts=outbox.c.attempts - 1,
        )

    async def _set(self, notification_ids: Sequence[int], **values: Any) -> None:
        def write(conn: Connection) -> None:
            conn.execute(
                update(outbox).where(outbox.c.id.in_(list(notification_ids))).values(**values)
            )

        await self._db.transaction(write)

    async def next_notification_due(self) -> datetime | None:
        """When the next pending notification may be sent (None: none is pending)."""
        return await earliest(
            self._db,
            outbox.c.next_attempt_at,
            outbox.c.claimed_until,
            outbox.c.status == NotificationStatus.PENDING.value,
        )

    async def release_claims(self) -> int:
        """Forget every lease on pending notifications; returns how many.

        Only for start-up of the single instance (polling mode): any holder is then dead. A
        notification its dead holder may have sent already goes out once more, exactly as it
        would when its lease ran out.
        """

        def write(conn: Connection) -> int:
            done = conn.execute(
                update(outbox)
                .where(
                    and_(
                        outbox.c.status == NotificationStatus.PENDING.value,
                        outbox.c.claimed_until.is_not(None),
                    )
                )
                .values(claimed_until=None)
            )
            return int(done.rowcount)

        return await self._db.transaction(write)
