"""Xendit's webhooks and the checks they queue: each webhook is stored once, and its
session is read back from Xendit's API (a check) before its link moves."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, delete, or_, select, update

from storage.common import claim, earliest, insert, link_of, utcnow
from storage.database import Database
from storage.models import (
    Check,
    CheckOutcome,
    EventOutcome,
    Link,
    LinkStatus,
    NotificationKind,
    SessionEvent,
    SessionTruth,
)
from storage.outbox import queue
from storage.shops import announce_chats
from storage.tables import links, session_checks, webhook_events

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
    LinkStatus.CANCELED: (LinkStatus.PENDING, LinkStatus.ACTIVE),
}
#: The status each session webhook claims its link has reached.
_CLAIMS: dict[str, LinkStatus] = {
    "payment_session.completed": LinkStatus.COMPLETED,
    "payment_session.expired": LinkStatus.EXPIRED,
}

#: A check's reason that is never overwritten by a later one (see :func:`_upsert_checks`).
COMPLETION = "payment_session.completed"


def may_still_become(event: str, status: str) -> bool:
    """Whether a link in ``status`` may still move where the webhook ``event`` says it went.

    Only then is a duplicate of the event worth a check: Xendit's API may have lagged its
    webhook when the first one was checked. Final for a completion is COMPLETED alone (a late
    payment wins over EXPIRED, CANCELED and FAILED); for an expiry, anything but PENDING and
    ACTIVE.
    """
    target = _CLAIMS.get(event)
    return target is None or LinkStatus(status) in _MAY_BECOME[target]


_OUTCOME: dict[LinkStatus, CheckOutcome] = {
    LinkStatus.COMPLETED: CheckOutcome.PAID,
    LinkStatus.EXPIRED: CheckOutcome.EXPIRED,
    LinkStatus.CANCELED: CheckOutcome.CANCELED,
}
_NOTIFY: dict[LinkStatus, NotificationKind] = {
    LinkStatus.COMPLETED: NotificationKind.PAID,
    LinkStatus.EXPIRED: NotificationKind.EXPIRED,
}


def _upsert_checks(conn: Connection, checks: dict[int, tuple[str, str]], now: datetime) -> None:
    """Queue checks (link id -> session id, reason), or (one already queued) make it due now
    and one generation newer.

    A queued completion keeps its reason: an expiry arriving after it must not turn it into
    a check that gives up when Xendit's API does not show the payment yet. ``created_at``
    becomes the newest news' time: a completion is read again for a while after it (see
    ``bot.checks.RecheckPolicy``).
    """
    stmt = insert(conn.dialect.name, session_checks)
    stmt = stmt.on_conflict_do_update(
        index_elements=[session_checks.c.link_id],
        set_={
            "generation": session_checks.c.generation + 1,
            "due_at": stmt.excluded.due_at,
            "reason": case(
                (session_checks.c.reason == COMPLETION, session_checks.c.reason),
                else_=stmt.excluded.reason,
            ),
            "attempts": 0,
            "created_at": stmt.excluded.created_at,
        },
    )
    rows = [
        {
            "link_id": link_id,
            "session_id": session_id,
            "reason": reason,
            "generation": 1,
            "attempts": 0,
            "due_at": now,
            "created_at": now,
        }
        # In key order, like every batch: concurrent transactions (other instances) then
        # cannot wait on each other's rows in a cycle ("deadlock detected").
        for link_id, (session_id, reason) in sorted(checks.items())
    ]
    conn.execute(stmt, rows)


class Events:
    """Webhook events and the session checks they queue."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._clock = clock

    async def record_session_webhooks(
        self, events: Sequence[SessionEvent]
    ) -> list[tuple[EventOutcome, str | None]]:
        """Record session webhooks and queue a check of each session with Xendit.

        Returns each event's outcome and its link's short reference (None for an unknown
        session). One transaction for the whole batch (group commit): when this returns,
        every event is durable, and each check (and so the notification it leads to) happens
        even if the process dies the next instant. Links only move when Xendit's API confirms
        (:meth:`apply_session_truth`). A duplicate still queues a check when its link may
        still move where the event says (see :func:`may_still_become`): Xendit's API may have
        lagged the first one's webhook; it is answered DUPLICATE all the same.
        """
        now = self._clock()

        def write(conn: Connection) -> list[tuple[EventOutcome, str | None]]:
            session_ids = list({ev.session_id for ev in events})
            references = list({ev.reference_id for ev in events})
            rows = conn.execute(
                select(
                    links.c.id,
                    links.c.short_ref,
                    links.c.session_id,
                    links.c.reference_id,
                    links.c.status,
                ).where(
                    or_(
                        links.c.session_id.in_(session_ids),
                        and_(links.c.session_id.is_(None), links.c.reference_id.in_(references)),
                    )
                )
            )
            by_session: dict[str, tuple[int, str, str]] = {}
            by_reference: dict[str, tuple[int, str, str]] = {}
            for link_id, short_ref, session_id, reference_id, status in rows:
                if session_id is not None:
                    by_session[session_id] = (link_id, short_ref, status)
                else:
                    by_reference[reference_id] = (link_id, short_ref, status)

            results: list[tuple[EventOutcome, str | None]] = []
            seen: set[tuple[str, str]] = set()
            fresh: list[dict[str, Any]] = []
            # Checked again even if stored before. The status may be a moment old (another
            # instance may be moving the link); it only moves towards final, so at worst a
            # check too many is queued, never one too few.
            requeue: set[tuple[str, str]] = set()
            for ev in events:
                found = by_session.get(ev.session_id) or by_reference.get(ev.reference_id)
                if found is None:
                    results.append((EventOutcome.UNKNOWN_SESSION, None))
                    continue
                link_id, short_ref, status = found
                if (ev.event, ev.session_id) in seen:
                    results.append((EventOutcome.DUPLICATE, short_ref))
                    continue
                seen.add((ev.event, ev.session_id))
                if may_still_become(ev.event, status):
                    requeue.add((ev.event, ev.session_id))
                fresh.append(
                    {
                        "event": ev.event,
                        "dedup_key": ev.session_id,
                        "link_id": link_id,
                        "received_at": now,
                        "payload": ev.payload,
                    }
                )
                results.append((EventOutcome.ACCEPTED, short_ref))
            if not fresh:
                return results

            # In key order, as every batch: concurrent batches (other instances) cannot then
            # wait on each other's rows in a cycle. Many parameter sets for one statement:
            # SQLAlchemy sends them as multi-row INSERTs ("insertmanyvalues").
            fresh.sort(key=lambda row: (row["event"], row["dedup_key"]))
            inserted = conn.execute(
                insert(conn.dialect.name, webhook_events)
                .on_conflict_do_nothing()
                .returning(webhook_events.c.event, webhook_events.c.dedup_key),
                fresh,
            )
            new = {(event, key) for event, key in inserted}
            checks: dict[int, tuple[str, str]] = {}
            for row in fresh:  # in key order: a link's completion comes before its expiry
                key = (row["event"], row["dedup_key"])
                if key in new or key in requeue:
                    checks.setdefault(row["link_id"], (row["dedup_key"], row["event"]))
            if checks:
                _upsert_checks(conn, checks, now)
            for index, (ev, (outcome, short_ref)) in enumerate(zip(events, results, strict=True)):
                if outcome is EventOutcome.ACCEPTED and (ev.event, ev.session_id) not in new:
                    results[index] = (EventOutcome.DUPLICATE, short_ref)  # stored before
            return results

        return await self._db.transaction(write, repeatable=True)

    async def request_check(self, link_id: int, session_id: str, *, reason: str) -> None:
        """Queue a check, or make a queued one due now and newer (see ``generation``)."""
        now = self._clock()
        await self._db.transaction(
            lambda conn: _upsert_checks(conn, {link_id: (session_id, reason)}, now)
        )

    async def enqueue_stale_checks(
        self, *, expired_before: datetime, created_before: datetime, checked_before: datetime
    ) -> int:
        """Queue checks for links still ACTIVE past their expiry (plus grace) or older than the
        no-webhook age, skipping those checked recently. Returns how many were queued."""

        def write(conn: Connection) -> int:
            rows = conn.execute(
                select(links.c.id, links.c.session_id)
                .order_by(links.c.id)  # key order: no lock cycles with other instances
                .where(
                    and_(
                        links.c.status == LinkStatus.ACTIVE.value,
                        links.c.session_id.is_not(None),
                        or_(
                            links.c.expires_at < expired_before,
                            links.c.created_at < created_before,
                        ),
                        or_(
                            links.c.last_checked_at.is_(None),
                            links.c.last_checked_at < checked_before,
                        ),
                        ~select(session_checks.c.link_id)
                        .where(session_checks.c.link_id == links.c.id)
                        .exists(),
                    )
                )
            )
            # A check already queued (by another instance's pass, or a webhook) is left as
            # it is: reconciliation on several instances does not read a session twice.
            found = rows.all()
            if not found:
                return 0
            inserted = conn.execute(
                insert(self._db.dialect, session_checks)
                .on_conflict_do_nothing()
                .returning(session_checks.c.link_id),
                [
                    {
                        "link_id": link_id,
                        "session_id": session_id,
                        "reason": "reconcile",
                        "generation": 1,
                        "attempts": 0,
                        "due_at": self._clock(),
                        "created_at": self._clock(),
                    }
                    for link_id, session_id in found
                ],
            )
            return len(inserted.all())

        return await self._db.transaction(write)

    async def claim_checks(
        self, *, limit: int = 10, lease: timedelta = timedelta(seconds=60)
    ) -> list[Check]:
        now = self._clock()

        def write(conn: Connection) -> list[Check]:
            query = (
                select(session_checks.c.link_id)
                .where(
                    and_(
                        session_checks.c.due_at <= now,
                        or_(
                            session_checks.c.claimed_until.is_(None),
                            session_checks.c.claimed_until < now,
                        ),
                    )
                )
                .order_by(session_checks.c.due_at)
                .limit(limit)
            )
            ids = claim(conn, query, session_checks, session_checks.c.link_id, now + lease)
            if not ids:
                return []
            rows = conn.execute(
                select(
                    session_checks.c.session_id.label("check_session_id"),
                    session_checks.c.reason,
                    session_checks.c.generation,
                    session_checks.c.attempts,
                    session_checks.c.created_at.label("check_created_at"),
                    links,
                )
                .join(links, links.c.id == session_checks.c.link_id)
                .where(session_checks.c.link_id.in_(ids))
                .order_by(session_checks.c.due_at)
            )
            return [
                Check(
                    link=link_of(row),
                    session_id=row._mapping["check_session_id"],
                    reason=row._mapping["reason"],
                    generation=row._mapping["generation"],
                    attempts=row._mapping["attempts"],
                    queued_at=row._mapping["check_created_at"],
                )
                for row in rows
            ]

        return await self._db.transaction(write)

    async def finish_check(self, check: Check, *, again_at: datetime | None = None) -> None:
        """Drop a done check, unless newer news arrived while it ran (then run it again).

        ``again_at``: keep it instead, due then (a completion Xendit does not show yet),
        attempts counted on; newer news still runs as soon as it was queued for.
        """
        mine = and_(
            session_checks.c.link_id == check.link.id,
            session_checks.c.generation == check.generation,
        )

        def write(conn: Connection) -> None:
            if again_at is None:
                done = conn.execute(delete(session_checks).where(mine))
            else:
                done = conn.execute(
                    update(session_checks).where(mine).values(due_at=again_at, claimed_until=None)
                )
            if done.rowcount == 0:
                conn.execute(
                    update(session_checks)
                    .where(session_checks.c.link_id == check.link.id)
                    .values(claimed_until=None)
                )

        await self._db.transaction(write)

    async def retry_check(self, check: Check, *, at: datetime, error: str) -> None:
        def write(conn: Connection) -> None:
            conn.execute(
                update(session_checks)
                .where(session_checks.c.link_id == check.link.id)
                .values(due_at=at, claimed_until=None, last_error=error[:1000])
            )

        await self._db.transaction(write)

    async def release_checks(self, checks: Sequence[Check]) -> None:
        """Hand claimed checks back unrun (shutdown): due again at once, attempt not counted."""
        if not checks:
            return

        def write(conn: Connection) -> None:
            conn.execute(
                update(session_checks)
                .where(session_checks.c.link_id.in_([c.link.id for c in checks]))
                .values(claimed_until=None, attempts=session_checks.c.attempts - 1)
            )

        await self._db.transaction(write)

    async def release_claims(self) -> int:
        """Forget every lease on checks; returns how many.

        Only for start-up of the single instance (polling mode): any holder is then dead.
        """

        def write(conn: Connection) -> int:
            done = conn.execute(
                update(session_checks)
                .where(session_checks.c.claimed_until.is_not(None))
                .values(claimed_until=None)
            )
            return int(done.rowcount)

        return await self._db.transaction(write)

    async def next_check_due(self) -> datetime | None:
        """When the next queued check may run (None: none is queued)."""
        return await earliest(self._db, session_checks.c.due_at, session_checks.c.claimed_until)

    async def apply_session_truth(
        self, link_id: int, truth: SessionTruth
    ) -> tuple[CheckOutcome, Link]:
        """Move a link to what Xendit's API says, queueing the notification, in one transaction.

        The session must be this link's: same reference, amount and currency. Status only
        moves forward, except that a payment always wins (a late COMPLETED after EXPIRED or
        CANCELED still means the customer paid).
        """
        now = self._clock()

        def write(conn: Connection) -> tuple[CheckOutcome, Link]:
            link = link_of(conn.execute(select(links).where(links.c.id == link_id)).one())
            conn.execute(update(links).where(links.c.id == link.id).values(last_checked_at=now))
            if (
                truth.reference_id != link.reference_id
                or truth.amount_minor != link.amount_minor
                or truth.currency != link.currency
            ):
                return CheckOutcome.MISMATCH, link
            target = {
                "COMPLETED": LinkStatus.COMPLETED,
                "EXPIRED": LinkStatus.EXPIRED,
                "CANCELED": LinkStatus.CANCELED,
            }.get(truth.status)
            # Its create went unanswered (or the process died before storing the answer):
            # this is the first we hear of its session. Take its link and card now.
            unknown = link.session_id is None and link.status is LinkStatus.PENDING
            if target is None and not (unknown and truth.status == "ACTIVE"):
                return CheckOutcome.UNCHANGED, link
            values: dict[str, Any] = {
                "status": (target or LinkStatus.ACTIVE).value,
                "updated_at": now,
                "session_id": truth.session_id,
            }
            if unknown:
                values["link_url"] = truth.link_url
                values["expires_at"] = truth.expires_at
            if target is None:
                moved = conn.execute(
                    update(links)
                    .where(
                        and_(
                            links.c.id == link.id,
                            links.c.status == LinkStatus.PENDING.value,
                            links.c.session_id.is_(None),
                        )
                    )
                    .values(**values)
                )
                if moved.rowcount != 1:
                    return CheckOutcome.UNCHANGED, link
                queue(conn, link, NotificationKind.CARD, now)
                updated = link_of(conn.execute(select(links).where(links.c.id == link.id)).one())
                return CheckOutcome.FOUND, updated
            if target is LinkStatus.COMPLETED:
                values["paid_at"] = truth.updated_at
                values["payment_id"] = truth.payment_id
                if truth.payment_id:
                    channel = _captured_channel(conn, truth.payment_id)
                    if channel:
                        values["payment_channel"] = channel
            moved = conn.execute(
                update(links)
                .where(
                    and_(
                        links.c.id == link.id,
                        links.c.status.in_([s.value for s in _MAY_BECOME[target]]),
                    )
                )
                .values(**values)
            )
            if moved.rowcount != 1:
                return CheckOutcome.UNCHANGED, link
            kind = _NOTIFY.get(target)
            if kind is NotificationKind.PAID:
                # Announced where the shop wants it, once per chat.
                for chat_id in announce_chats(conn, link.shop_id, link.chat_id):
                    queue(conn, link, kind, now, chat_id=chat_id)
            elif kind is not None:
                queue(conn, link, kind, now)
            if link.card_message_id is not None or unknown:
                # An unknown link's card may not exist yet: then this one is sent new.
                queue(conn, link, NotificationKind.CARD, now)
            updated = link_of(conn.execute(select(links).where(links.c.id == link.id)).one())
            return _OUTCOME[target], updated

        return await self._db.transaction(write)

    async def record_payment_event(
        self, *, event: str, payment_id: str, channel_code: str | None, payload: str
    ) -> EventOutcome:
        """Record a ``payment.*`` webhook; a capture adds its channel to the paid link."""
        received_at = self._clock()
        insert_event = (
            insert(self._db.dialect, webhook_events)
            .on_conflict_do_nothing()
            .returning(webhook_events.c.event)
        )

        def write(conn: Connection) -> EventOutcome:
            link_id = conn.scalar(select(links.c.id).where(links.c.payment_id == payment_id))
            row = {
                "event": event,
                "dedup_key": payment_id,
                "link_id": link_id,
                "received_at": received_at,
                "payload": payload,
            }
            if conn.execute(insert_event, row).first() is None:  # stored before
                return EventOutcome.DUPLICATE
            if link_id is not None and event == "payment.capture" and channel_code:
                conn.execute(
                    update(links).where(links.c.id == link_id).values(payment_channel=channel_code)
                )
            return EventOutcome.RECORDED

        return await self._db.transaction(write, repeatable=True)


def _captured_channel(conn: Connection, payment_id: str) -> str | None:
    """The channel a ``payment.capture`` webhook named for this payment, if one came."""
    payload = conn.scalar(
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
