"""The typed repository: every read and write paybot makes, each one a short transaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Row,
    Select,
    Table,
    and_,
    any_,
    bindparam,
    case,
    column,
    delete,
    func,
    literal,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import Database
from storage.models import (
    Check,
    CheckOutcome,
    DaySummary,
    EventOutcome,
    Link,
    LinkStatus,
    NewLink,
    Notification,
    NotificationKind,
    NotificationStatus,
    SessionEvent,
    SessionTruth,
)
from storage.tables import UTCDateTime, links, outbox, session_checks, users, webhook_events

#: How far apart in time the drafts of one /pay question can have been stored, at most.
_QUESTION_SPAN = timedelta(minutes=10)


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


#: SQLAlchemy's dialect module for each backend (``Database.dialect``): its ``insert`` has
#: ``ON CONFLICT``.
_DIALECTS: dict[str, Any] = {"sqlite": sqlite, "postgresql": postgresql}


def _links_by_session_or_reference(name: str) -> Select[Any]:
    """Only what a webhook needs of its link: ingestion reads one per webhook, so no more.

    PostgreSQL takes each list as one array parameter (``= ANY``): one statement whatever
    the batch's size, compiled once by SQLAlchemy and prepared once by asyncpg, where an
    ``IN`` list is rendered anew for each size. SQLite has no arrays: ``IN``.
    """

    def among(column: ColumnElement[Any], values: str) -> ColumnElement[bool]:
        if name == "postgresql":
            return column == any_(bindparam(values, type_=postgresql.ARRAY(column.type)))
        return column.in_(bindparam(values, expanding=True))

    return select(
        links.c.id, links.c.short_ref, links.c.session_id, links.c.reference_id, links.c.status
    ).where(
        or_(
            among(links.c.session_id, "session_ids"),
            and_(links.c.session_id.is_(None), among(links.c.reference_id, "references")),
        )
    )


_LINKS_BY_SESSION_OR_REFERENCE = {name: _links_by_session_or_reference(name) for name in _DIALECTS}


_NEW_LINK_COLUMNS = (
    "short_ref",
    "reference_id",
    "chat_id",
    "user_id",
    "language",
    "amount_minor",
    "currency",
    "description",
    "return_token",
    "merchant_name",
    "status",
    "created_at",
    "updated_at",
)


def _insert_link(dialect: Any) -> Any:
    """INSERT a link (nothing if its short reference is taken), RETURNING its id. Built once:
    on the /pay path, building and keying the statement cost more than running it; and the
    row is known already, so only the id is read back."""
    return (
        dialect.insert(links)
        .values({name: bindparam(name) for name in _NEW_LINK_COLUMNS})
        .on_conflict_do_nothing()
        .returning(links.c.id)
    )


_INSERT_LINK = {name: _insert_link(dialect) for name, dialect in _DIALECTS.items()}

#: Record the session Xendit made; PENDING becomes ACTIVE, a status a webhook set stays.
_ACTIVATE_LINK = (
    update(links)
    .where(links.c.id == bindparam("link_id"))
    .values(
        session_id=bindparam("new_session_id", type_=links.c.session_id.type),
        link_url=bindparam("new_link_url", type_=links.c.link_url.type),
        expires_at=bindparam("new_expires_at", type_=links.c.expires_at.type),
        updated_at=bindparam("now", type_=links.c.updated_at.type),
        status=case(
            (links.c.status == LinkStatus.PENDING.value, LinkStatus.ACTIVE.value),
            else_=links.c.status,
        ),
        card_message_id=func.coalesce(
            bindparam("new_card", type_=links.c.card_message_id.type), links.c.card_message_id
        ),
    )
    .returning(links)
)


#: session_checks' columns, in the order :func:`_upsert_checks` takes them from a SELECT.
_CHECK_COLUMNS = [
    "link_id",
    "session_id",
    "reason",
    "generation",
    "attempts",
    "due_at",
    "created_at",
]


def _upsert_checks(dialect: Any, rows: Select[Any] | None = None) -> Any:
    """INSERT a check, or (one already queued) make it due now and one generation newer.

    The checks are parameters, or the rows of ``rows`` (columns as :data:`_CHECK_COLUMNS`).
    A queued completion keeps its reason: an expiry arriving after it must not turn it into
    a check that gives up when Xendit's API does not show the payment yet. ``created_at``
    becomes the newest news' time: a completion is read again for a while after it (see
    ``bot.checks.RecheckPolicy``).
    """
    stmt = dialect.insert(session_checks)
    if rows is not None:
        stmt = stmt.from_select(_CHECK_COLUMNS, rows)
    return stmt.on_conflict_do_update(
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


_UPSERT_CHECKS = {name: _upsert_checks(dialect) for name, dialect in _DIALECTS.items()}


def _queue_card(dialect: Any) -> Any:
    """INSERT a card edit, or (one already queued) make it due again, one generation newer."""
    stmt = dialect.insert(outbox)
    return stmt.on_conflict_do_update(
        index_elements=[outbox.c.link_id, outbox.c.kind],
        set_={
            "status": NotificationStatus.PENDING.value,
            "next_attempt_at": stmt.excluded.next_attempt_at,
            "attempts": 0,
            "last_error": None,
            "generation": outbox.c.generation + 1,
        },
    )


def _claim_card(dialect: Any) -> Any:
    """INSERT a card already claimed by its caller, who sends it at once; or (one queued
    before) make it due again, one generation newer, and claim it if nobody holds it. A
    holder sending it right now then hands it back (:meth:`Repository.mark_sent`) and it
    goes once more, showing the newest state. RETURNING its claim, to see whose it is."""
    stmt = dialect.insert(outbox)
    unclaimed = or_(
        outbox.c.claimed_until.is_(None), outbox.c.claimed_until < stmt.excluded.created_at
    )
    return stmt.on_conflict_do_update(
        index_elements=[outbox.c.link_id, outbox.c.kind],
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


_CLAIM_CARD = {name: _claim_card(dialect) for name, dialect in _DIALECTS.items()}

#: Notifications: a message is queued once; a card edit queued again is made due again.
_QUEUE_MESSAGE = {
    name: dialect.insert(outbox).on_conflict_do_nothing() for name, dialect in _DIALECTS.items()
}
_QUEUE_CARD = {name: _queue_card(dialect) for name, dialect in _DIALECTS.items()}


def _insert_events(dialect: Any) -> Any:
    """INSERT webhook events, skipping those stored already, RETURNING the new ones' keys."""
    return (
        dialect.insert(webhook_events)
        .on_conflict_do_nothing()
        .returning(webhook_events.c.event, webhook_events.c.dedup_key)
    )


_INSERT_EVENTS = {name: _insert_events(dialect) for name, dialect in _DIALECTS.items()}


def _record_events_and_queue_checks() -> Select[Any]:
    """PostgreSQL: :data:`_INSERT_EVENTS` and :data:`_UPSERT_CHECKS` for the events it
    inserted, and for the duplicates flagged ``requeues`` (their link may still move), in one
    statement (so in one implicit transaction; see :meth:`Database.autocommit`).

    The events come as one array per column: one statement whatever the batch's size,
    prepared once. It returns the keys of the events it inserted, as ``_INSERT_EVENTS`` does.
    A link with two events in one batch gets one check, for the completion
    (``payment_session.completed`` sorts before ``.expired``), as on SQLite.
    """
    pg = postgresql
    incoming = (
        select(
            func.unnest(
                bindparam("events", type_=pg.ARRAY(webhook_events.c.event.type)),
                bindparam("dedup_keys", type_=pg.ARRAY(webhook_events.c.dedup_key.type)),
                bindparam("link_ids", type_=pg.ARRAY(webhook_events.c.link_id.type)),
                bindparam("payloads", type_=pg.ARRAY(webhook_events.c.payload.type)),
                bindparam("requeues", type_=pg.ARRAY(Boolean())),
            )
            .table_valued(
                column("event", webhook_events.c.event.type),
                column("dedup_key", webhook_events.c.dedup_key.type),
                column("link_id", webhook_events.c.link_id.type),
                column("payload", webhook_events.c.payload.type),
                column("requeue", Boolean()),
            )
            .render_derived(name="rows")
        )
    ).cte("incoming")
    now = bindparam("now", type_=UTCDateTime())
    # In the arrays' order, which is key order, as every batch: see record_session_webhooks.
    inserted = (
        pg.insert(webhook_events)
        .from_select(
            ["event", "dedup_key", "link_id", "received_at", "payload"],
            select(
                incoming.c.event,
                incoming.c.dedup_key,
                incoming.c.link_id,
                now,
                incoming.c.payload,
            ),
        )
        .on_conflict_do_nothing()
        .returning(webhook_events.c.event, webhook_events.c.dedup_key)
        .cte("inserted")
    )
    was_inserted = (
        select(inserted.c.event)
        .where(
            and_(
                inserted.c.event == incoming.c.event,
                inserted.c.dedup_key == incoming.c.dedup_key,
            )
        )
        .exists()
    )
    checks = _upsert_checks(
        pg,
        select(
            incoming.c.link_id,
            func.min(incoming.c.dedup_key),
            func.min(incoming.c.event),
            literal(1),
            literal(0),
            now,
            now,
        )
        .where(or_(incoming.c.requeue, was_inserted))
        .group_by(incoming.c.link_id)
        .order_by(incoming.c.link_id),  # key order, as every batch
    )
    return select(inserted.c.event, inserted.c.dedup_key).add_cte(checks.cte("checked"))


_RECORD_EVENTS_AND_QUEUE_CHECKS = _record_events_and_queue_checks()


def _check_rows(checks: dict[int, tuple[str, str]], now: datetime) -> list[dict[str, Any]]:
    return [
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


_CARDS_LAST = case((outbox.c.kind == NotificationKind.CARD.value, 1), else_=0)


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
        card_message_id=m["card_message_id"],
        return_token=m["return_token"],
        merchant_name=m["merchant_name"],
        last_checked_at=m["last_checked_at"],
    )


def _record_events_and_queue_checks_on_postgresql(
    conn: Connection,
    events: list[dict[str, Any]],
    requeue: set[tuple[str, str]],
    now: datetime,
) -> set[tuple[str, str]]:
    """Insert webhook events (rows for ``webhook_events``) not stored yet, and queue a check
    of each one's link, and of the links of those in ``requeue`` (keys) even if stored
    before, in one statement; return the keys of the events inserted."""
    rows = conn.execute(
        _RECORD_EVENTS_AND_QUEUE_CHECKS,
        {
            "events": [row["event"] for row in events],
            "dedup_keys": [row["dedup_key"] for row in events],
            "link_ids": [row["link_id"] for row in events],
            "payloads": [row["payload"] for row in events],
            "requeues": [(row["event"], row["dedup_key"]) in requeue for row in events],
            "now": now,
        },
    )
    return {(event, key) for event, key in rows}


def _record_events_and_queue_checks_on_sqlite(
    conn: Connection,
    events: list[dict[str, Any]],
    requeue: set[tuple[str, str]],
    now: datetime,
) -> set[tuple[str, str]]:
    """As :func:`_record_events_and_queue_checks_on_postgresql`, in two statements (SQLite
    has no INSERT inside a WITH): inside the caller's transaction."""
    # One statement built once, many parameter sets: SQLAlchemy sends them as multi-row
    # INSERTs ("insertmanyvalues").
    new = {(event, key) for event, key in conn.execute(_INSERT_EVENTS["sqlite"], events)}
    checks: dict[int, tuple[str, str]] = {}
    for row in events:  # in key order: a link's completion comes before its expiry
        key = (row["event"], row["dedup_key"])
        if key in new or key in requeue:
            checks.setdefault(row["link_id"], (row["dedup_key"], row["event"]))
    if checks:
        conn.execute(_UPSERT_CHECKS["sqlite"], _check_rows(checks, now))
    return new


class Repository:
    """All persistence behind one typed interface. Handlers and routes never see SQL."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._clock = clock

    # -- helpers -------------------------------------------------------------------------

    async def _claim(
        self,
        conn: AsyncConnection,
        due: Select[Any],
        table: Table,
        key: Any,
        until: datetime,
    ) -> list[Any]:
        """Claim the rows ``due`` selects (their keys) until ``until``, counting an attempt.

        On PostgreSQL the rows are locked with ``FOR UPDATE SKIP LOCKED``, so instances
        claiming at the same moment take different rows.
        """
        if self._db.dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = list((await conn.scalars(due)).all())
        if ids:
            await conn.execute(
                update(table)
                .where(key.in_(ids))
                .values(claimed_until=until, attempts=table.c.attempts + 1)
            )
        return ids

    async def _fetch_link(self, conn: AsyncConnection, query: Select[Any]) -> Link | None:
        row = (await conn.execute(query)).first()
        return _link(row) if row is not None else None

    # -- links ---------------------------------------------------------------------------

    async def create_link(self, new: NewLink) -> Link:
        """Store a link as PENDING, before anything is asked of Xendit."""
        now = self._clock()
        stored_at = now.astimezone(UTC)  # as the row reads back
        status = LinkStatus.DRAFT if new.draft else LinkStatus.PENDING
        statement = _INSERT_LINK[self._db.dialect]
        values = {
            "short_ref": new.short_ref,
            "reference_id": new.reference_id,
            "chat_id": new.chat_id,
            "user_id": new.user_id,
            "language": new.language,
            "amount_minor": new.amount_minor,
            "currency": new.currency,
            "description": new.description,
            "return_token": new.return_token,
            "merchant_name": new.merchant_name,
            "status": status.value,
            "created_at": now,
            "updated_at": now,
        }

        def write(conn: Connection) -> int | None:
            link_id: int | None = conn.execute(statement, values).scalar()
            return link_id

        # On the /pay path: one round trip to the database thread (see Database.transaction).
        link_id = await self._db.transaction(write)
        if link_id is None:
            raise DuplicateReference(new.short_ref)
        return Link(
            id=link_id,
            short_ref=new.short_ref,
            reference_id=new.reference_id,
            chat_id=new.chat_id,
            user_id=new.user_id,
            language=new.language,
            amount_minor=new.amount_minor,
            currency=new.currency,
            description=new.description,
            status=status,
            session_id=None,
            link_url=None,
            expires_at=None,
            created_at=stored_at,
            updated_at=stored_at,
            paid_at=None,
            payment_id=None,
            payment_channel=None,
            failure=None,
            return_token=new.return_token,
            merchant_name=new.merchant_name,
        )

    async def activate_link(
        self,
        link_id: int,
        *,
        session_id: str,
        link_url: str,
        expires_at: datetime,
        card_message_id: int | None = None,
    ) -> Link:
        """Record the session Xendit made (and the card that shows it, if there is one yet).
        A webhook that came first is not undone."""
        values = {
            "link_id": link_id,
            "new_session_id": session_id,
            "new_link_url": link_url,
            "new_expires_at": expires_at,
            "now": self._clock(),
            "new_card": card_message_id,
        }

        def write(conn: Connection) -> Link:
            return _link(conn.execute(_ACTIVATE_LINK, values).one())

        return await self._db.transaction(write)

    async def open_link(
        self,
        link_id: int,
        *,
        session_id: str,
        link_url: str,
        expires_at: datetime,
        lease: timedelta = timedelta(seconds=60),
    ) -> tuple[Link, Notification | None]:
        """Record the session Xendit made and queue the link's card, in one transaction.

        The card comes back claimed for ``lease`` (None if someone else holds it): the
        caller sends it at once and marks it (:meth:`card_sent`); if the caller fails or
        dies, the outbox worker sends it when the lease ends.
        """
        now = self._clock()
        dialect = self._db.dialect
        values = {
            "link_id": link_id,
            "new_session_id": session_id,
            "new_link_url": link_url,
            "new_expires_at": expires_at,
            "now": now,
            "new_card": None,
        }

        def write(conn: Connection) -> tuple[Link, Notification | None]:
            link = _link(conn.execute(_ACTIVATE_LINK, values).one())
            return link, _claim_card_row(conn, dialect, link, now, now + lease)

        return await self._db.transaction(write)

    async def mark_outcome_unknown(
        self, link_id: int, failure: str, *, lease: timedelta = timedelta(seconds=60)
    ) -> tuple[Link, Notification | None]:
        """Xendit got the request but its answer never came: the session may exist. The link
        stays PENDING (a webhook naming its reference finds it) and its card, which says so,
        is queued and claimed as in :meth:`open_link`."""
        now = self._clock()
        dialect = self._db.dialect

        def write(conn: Connection) -> tuple[Link, Notification | None]:
            conn.execute(
                update(links)
                .where(and_(links.c.id == link_id, links.c.status == LinkStatus.PENDING.value))
                .values(failure=failure[:1000], updated_at=now)
            )
            link = _link(conn.execute(select(links).where(links.c.id == link_id)).one())
            return link, _claim_card_row(conn, dialect, link, now, now + lease)

        return await self._db.transaction(write)

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

    async def fail_link(self, link_id: int, failure: str) -> Link:
        """Mark a link whose session could not be made."""
        async with self._db.begin() as conn:
            await conn.execute(
                update(links)
                .where(and_(links.c.id == link_id, links.c.status == LinkStatus.PENDING.value))
                .values(status=LinkStatus.FAILED.value, failure=failure, updated_at=self._clock())
            )
            link = await self._fetch_link(conn, select(links).where(links.c.id == link_id))
        assert link is not None
        return link

    async def get_link(self, link_id: int) -> Link | None:
        async with self._db.connection() as conn:
            return await self._fetch_link(conn, select(links).where(links.c.id == link_id))

    async def get_link_by_session(self, session_id: str) -> Link | None:
        async with self._db.connection() as conn:
            return await self._fetch_link(
                conn, select(links).where(links.c.session_id == session_id)
            )

    async def get_link_by_reference(self, reference_id: str) -> Link | None:
        async with self._db.connection() as conn:
            return await self._fetch_link(
                conn, select(links).where(links.c.reference_id == reference_id)
            )

    async def get_link_by_return_token(self, token: str) -> Link | None:
        async with self._db.connection() as conn:
            return await self._fetch_link(conn, select(links).where(links.c.return_token == token))

    async def get_link_by_ref(self, short_ref: str) -> Link | None:
        async with self._db.connection() as conn:
            return await self._fetch_link(
                conn, select(links).where(links.c.short_ref == short_ref.upper())
            )

    async def set_card_message(self, link_id: int, message_id: int) -> None:
        def write(conn: Connection) -> None:
            conn.execute(
                update(links).where(links.c.id == link_id).values(card_message_id=message_id)
            )

        await self._db.transaction(write)

    async def confirm_draft(self, link_id: int) -> bool:
        """DRAFT -> PENDING, once (a second tap of "confirm" finds nothing to do)."""
        return await self._move(link_id, LinkStatus.DRAFT, LinkStatus.PENDING)

    async def discard_draft(self, link_id: int) -> bool:
        return await self._move(link_id, LinkStatus.DRAFT, LinkStatus.CANCELED)

    async def settle_drafts(self, link_id: int, *, confirm: bool) -> list[int]:
        """Confirm (DRAFT -> PENDING) or discard a draft, and discard the other drafts on the
        same card (the readings of one unclear /pay), in one transaction.

        Returns the ids of the drafts it moved, or ``[]`` if ``link_id`` was no longer a draft
        (a second tap, or another reading chosen first): whatever is tapped, however often and
        on however many instances, at most one reading becomes a link.
        """
        chosen = (LinkStatus.PENDING if confirm else LinkStatus.CANCELED).value
        lock = self._db.dialect == "postgresql"

        def write(conn: Connection) -> list[int]:
            row = conn.execute(
                select(links.c.chat_id, links.c.card_message_id, links.c.created_at).where(
                    links.c.id == link_id
                )
            ).first()
            if row is None:
                return []
            group = links.c.id == link_id
            if row.card_message_id is not None:
                # The drafts of one question were stored by one /pay, moments apart: the time
                # bound lets the (chat_id, created_at) index find them in a chat of many links.
                group = or_(
                    group,
                    and_(
                        links.c.chat_id == row.chat_id,
                        links.c.created_at.between(
                            row.created_at - _QUESTION_SPAN, row.created_at + _QUESTION_SPAN
                        ),
                        links.c.card_message_id == row.card_message_id,
                    ),
                )
            query = select(links.c.id, links.c.status).where(group).order_by(links.c.id)
            # Locked in id order, so two taps on two readings wait for each other (no deadlock)
            # and the second sees the first's outcome.
            rows = conn.execute(query.with_for_update() if lock else query).all()
            drafts = [r.id for r in rows if r.status == LinkStatus.DRAFT.value]
            if link_id not in drafts:
                return []
            conn.execute(
                update(links)
                .where(links.c.id.in_(drafts))
                .values(
                    status=case((links.c.id == link_id, chosen), else_=LinkStatus.CANCELED.value),
                    updated_at=self._clock(),
                )
            )
            return drafts

        return await self._db.transaction(write)

    async def _move(self, link_id: int, source: LinkStatus, target: LinkStatus) -> bool:
        async with self._db.begin() as conn:
            moved = await conn.execute(
                update(links)
                .where(and_(links.c.id == link_id, links.c.status == source.value))
                .values(status=target.value, updated_at=self._clock())
            )
            return bool(moved.rowcount == 1)

    async def page_of_links(
        self, chat_id: int, *, waiting_only: bool, offset: int, limit: int
    ) -> tuple[list[Link], int]:
        """A page of the chat's links, newest first, and how many there are in all."""
        condition = links.c.chat_id == chat_id
        if waiting_only:
            condition = and_(condition, links.c.status == LinkStatus.ACTIVE.value)
        else:
            condition = and_(
                condition, links.c.status.not_in([LinkStatus.DRAFT.value, LinkStatus.FAILED.value])
            )
        async with self._db.connection() as conn:
            total = int(
                await conn.scalar(select(func.count()).select_from(links).where(condition)) or 0
            )
            rows = await conn.execute(
                select(links)
                .where(condition)
                .order_by(links.c.created_at.desc(), links.c.id.desc())
                .offset(offset)
                .limit(limit)
            )
            return [_link(row) for row in rows], total

    async def day_summary(self, chat_id: int, start: datetime, end: datetime) -> DaySummary:
        """Paid between ``start`` and ``end``, and what is still waiting now."""
        async with self._db.connection() as conn:
            paid = (
                await conn.execute(
                    select(func.count(), func.coalesce(func.sum(links.c.amount_minor), 0)).where(
                        and_(
                            links.c.chat_id == chat_id,
                            links.c.status == LinkStatus.COMPLETED.value,
                            links.c.paid_at >= start,
                            links.c.paid_at < end,
                        )
                    )
                )
            ).one()
            waiting = (
                await conn.execute(
                    select(func.count(), func.coalesce(func.sum(links.c.amount_minor), 0)).where(
                        and_(
                            links.c.chat_id == chat_id,
                            links.c.status == LinkStatus.ACTIVE.value,
                        )
                    )
                )
            ).one()
        return DaySummary(
            paid_count=int(paid[0]),
            paid_minor=int(paid[1]),
            waiting_count=int(waiting[0]),
            waiting_minor=int(waiting[1]),
        )

    async def links_created_between(
        self, chat_id: int, start: datetime, end: datetime
    ) -> list[Link]:
        async with self._db.connection() as conn:
            rows = await conn.execute(
                select(links)
                .where(
                    and_(
                        links.c.chat_id == chat_id,
                        links.c.created_at >= start,
                        links.c.created_at < end,
                        links.c.status != LinkStatus.DRAFT.value,
                    )
                )
                .order_by(links.c.created_at, links.c.id)
            )
            return [_link(row) for row in rows]

    async def get_language(self, user_id: int) -> str | None:
        async with self._db.connection() as conn:
            value = await conn.scalar(select(users.c.language).where(users.c.user_id == user_id))
            return str(value) if value is not None else None

    async def set_language(self, user_id: int, language: str) -> None:
        dialect = _DIALECTS[self._db.dialect]
        now = self._clock()
        stmt = dialect.insert(users).values(user_id=user_id, language=language, updated_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=[users.c.user_id], set_={"language": language, "updated_at": now}
        )
        async with self._db.begin() as conn:
            await conn.execute(stmt)

    async def links_of_user(self, user_id: int, *, limit: int = 10) -> list[Link]:
        async with self._db.connection() as conn:
            rows = await conn.execute(
                select(links)
                .where(links.c.user_id == user_id)
                .order_by(links.c.created_at.desc(), links.c.id.desc())
                .limit(limit)
            )
            return [_link(row) for row in rows]

    async def links_for_chat(self, chat_id: int, *, limit: int = 10) -> list[Link]:
        async with self._db.connection() as conn:
            rows = await conn.execute(
                select(links)
                .where(links.c.chat_id == chat_id)
                .order_by(links.c.created_at.desc(), links.c.id.desc())
                .limit(limit)
            )
            return [_link(row) for row in rows]

    # -- webhooks ------------------------------------------------------------------------

    async def record_session_webhooks(
        self, events: Sequence[SessionEvent]
    ) -> list[tuple[EventOutcome, str | None]]:
        """Record session webhooks and queue a check of each session with Xendit.

        Returns each event's outcome and its link's short reference (None for an unknown
        session). One commit for the whole batch (group commit): when this returns, every
        event is durable, and each check (and so the notification it leads to) happens even if
        the process dies the next instant. Links only move when Xendit's API confirms
        (:meth:`apply_session_truth`). A duplicate still queues a check when its link may
        still move where the event says (see :func:`may_still_become`): Xendit's API may have
        lagged the first one's webhook; it is answered DUPLICATE all the same.

        The links are read, then the events and their checks written: on PostgreSQL in one
        statement that commits by itself, so a batch costs two round trips to the server, not
        five (see :meth:`Database.autocommit`); on SQLite in two statements, in the batch's one
        transaction.
        """
        now = self._clock()
        dialect = self._db.dialect

        def write(conn: Connection) -> list[tuple[EventOutcome, str | None]]:
            rows = conn.execute(
                _LINKS_BY_SESSION_OR_REFERENCE[dialect],
                {
                    "session_ids": list({ev.session_id for ev in events}),
                    "references": list({ev.reference_id for ev in events}),
                },
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
            # Checked again even if stored before. The status may be a moment old (read in
            # its own statement on PostgreSQL); it only moves towards final, so at worst a
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
            # wait on each other's rows in a cycle.
            fresh.sort(key=lambda row: (row["event"], row["dedup_key"]))
            if dialect == "postgresql":
                new = _record_events_and_queue_checks_on_postgresql(conn, fresh, requeue, now)
            else:
                new = _record_events_and_queue_checks_on_sqlite(conn, fresh, requeue, now)
            for index, (ev, (outcome, short_ref)) in enumerate(zip(events, results, strict=True)):
                if outcome is EventOutcome.ACCEPTED and (ev.event, ev.session_id) not in new:
                    results[index] = (EventOutcome.DUPLICATE, short_ref)  # stored before
            return results

        return await self._db.autocommit(write, repeatable=True)

    async def _request_checks(
        self, conn: AsyncConnection, checks: dict[int, tuple[str, str]]
    ) -> None:
        """Queue checks (link id -> session id, reason), or make queued ones due and newer."""
        await conn.execute(_UPSERT_CHECKS[self._db.dialect], _check_rows(checks, self._clock()))

    async def _request_check(
        self, conn: AsyncConnection, link_id: int, session_id: str, *, reason: str
    ) -> None:
        """Queue a check, or make a queued one due now and newer (see ``generation``)."""
        await self._request_checks(conn, {link_id: (session_id, reason)})

    async def request_check(self, link_id: int, session_id: str, *, reason: str) -> None:
        async with self._db.begin() as conn:
            await self._request_check(conn, link_id, session_id, reason=reason)

    async def enqueue_stale_checks(
        self, *, expired_before: datetime, created_before: datetime, checked_before: datetime
    ) -> int:
        """Queue checks for links still ACTIVE past their expiry (plus grace) or older than the
        no-webhook age, skipping those checked recently. Returns how many were queued."""
        async with self._db.begin() as conn:
            rows = await conn.execute(
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
            dialect = _DIALECTS[self._db.dialect]
            found = rows.all()
            if not found:
                return 0
            inserted = await conn.execute(
                dialect.insert(session_checks)
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

    async def claim_checks(
        self, *, limit: int = 10, lease: timedelta = timedelta(seconds=60)
    ) -> list[Check]:
        now = self._clock()
        async with self._db.begin() as conn:
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
            ids = await self._claim(
                conn, query, session_checks, session_checks.c.link_id, now + lease
            )
            if not ids:
                return []
            rows = await conn.execute(
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
                    link=_link(row),
                    session_id=row._mapping["check_session_id"],
                    reason=row._mapping["reason"],
                    generation=row._mapping["generation"],
                    attempts=row._mapping["attempts"],
                    queued_at=row._mapping["check_created_at"],
                )
                for row in rows
            ]

    async def finish_check(self, check: Check, *, again_at: datetime | None = None) -> None:
        """Drop a done check, unless newer news arrived while it ran (then run it again).

        ``again_at``: keep it instead, due then (a completion Xendit does not show yet),
        attempts counted on; newer news still runs as soon as it was queued for.
        """
        mine = and_(
            session_checks.c.link_id == check.link.id,
            session_checks.c.generation == check.generation,
        )
        async with self._db.begin() as conn:
            if again_at is None:
                done = await conn.execute(delete(session_checks).where(mine))
            else:
                done = await conn.execute(
                    update(session_checks).where(mine).values(due_at=again_at, claimed_until=None)
                )
            if done.rowcount == 0:
                await conn.execute(
                    update(session_checks)
                    .where(session_checks.c.link_id == check.link.id)
                    .values(claimed_until=None)
                )

    async def retry_check(self, check: Check, *, at: datetime, error: str) -> None:
        async with self._db.begin() as conn:
            await conn.execute(
                update(session_checks)
                .where(session_checks.c.link_id == check.link.id)
                .values(due_at=at, claimed_until=None, last_error=error[:1000])
            )

    async def release_checks(self, checks: Sequence[Check]) -> None:
        """Hand claimed checks back unrun (shutdown): due again at once, attempt not counted."""
        if not checks:
            return
        async with self._db.begin() as conn:
            await conn.execute(
                update(session_checks)
                .where(session_checks.c.link_id.in_([c.link.id for c in checks]))
                .values(claimed_until=None, attempts=session_checks.c.attempts - 1)
            )

    async def release_claims(self) -> tuple[int, int]:
        """Forget every lease on checks and pending notifications; returns how many of each.

        Only for start-up of the single instance (polling mode): any holder is then dead.
        A notification its dead holder may have sent already goes out once more, exactly as
        it would when its lease ran out.
        """
        async with self._db.begin() as conn:
            checks = await conn.execute(
                update(session_checks)
                .where(session_checks.c.claimed_until.is_not(None))
                .values(claimed_until=None)
            )
            notes = await conn.execute(
                update(outbox)
                .where(
                    and_(
                        outbox.c.status == NotificationStatus.PENDING.value,
                        outbox.c.claimed_until.is_not(None),
                    )
                )
                .values(claimed_until=None)
            )
            return int(checks.rowcount), int(notes.rowcount)

    async def pending_checks(self) -> int:
        async with self._db.connection() as conn:
            return int(await conn.scalar(select(func.count()).select_from(session_checks)) or 0)

    async def apply_session_truth(
        self, link_id: int, truth: SessionTruth
    ) -> tuple[CheckOutcome, Link]:
        """Move a link to what Xendit's API says, queueing the notification, in one transaction.

        The session must be this link's: same reference, amount and currency. Status only
        moves forward, except that a payment always wins (a late COMPLETED after EXPIRED or
        CANCELED still means the customer paid). One round trip to the database thread on
        SQLite (see :meth:`Database.transaction`): while webhooks pour in, confirmations share
        the one connection with them.
        """
        now = self._clock()
        dialect = self._db.dialect

        def write(conn: Connection) -> tuple[CheckOutcome, Link]:
            link = _link(conn.execute(select(links).where(links.c.id == link_id)).one())
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
                _queue(conn, dialect, link, NotificationKind.CARD, now)
                updated = _link(conn.execute(select(links).where(links.c.id == link.id)).one())
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
            if kind is not None:
                _queue(conn, dialect, link, kind, now)
            if link.card_message_id is not None or unknown:
                # An unknown link's card may not exist yet: then this one is sent new.
                _queue(conn, dialect, link, NotificationKind.CARD, now)
            updated = _link(conn.execute(select(links).where(links.c.id == link.id)).one())
            return _OUTCOME[target], updated

        return await self._db.transaction(write)

    async def record_payment_event(
        self, *, event: str, payment_id: str, channel_code: str | None, payload: str
    ) -> EventOutcome:
        """Record a ``payment.*`` webhook; a capture adds its channel to the paid link."""
        received_at = self._clock()
        insert_events = _INSERT_EVENTS[self._db.dialect]

        def write(conn: Connection) -> EventOutcome:
            link_id = conn.scalar(select(links.c.id).where(links.c.payment_id == payment_id))
            row = {
                "event": event,
                "dedup_key": payment_id,
                "link_id": link_id,
                "received_at": received_at,
                "payload": payload,
            }
            if conn.execute(insert_events, [row]).first() is None:  # stored before
                return EventOutcome.DUPLICATE
            if link_id is not None and event == "payment.capture" and channel_code:
                conn.execute(
                    update(links).where(links.c.id == link_id).values(payment_channel=channel_code)
                )
            return EventOutcome.RECORDED

        return await self._db.transaction(write, repeatable=True)

    async def count_events(self) -> int:
        async with self._db.connection() as conn:
            return int(await conn.scalar(select(func.count()).select_from(webhook_events)) or 0)

    # -- notification outbox -------------------------------------------------------------

    async def claim_notifications(
        self, *, limit: int = 20, lease: timedelta = timedelta(seconds=60)
    ) -> list[Notification]:
        """Claim due notifications for ``lease``; an unfinished claim is retaken after it."""
        now = self._clock()
        async with self._db.begin() as conn:
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
            ids = await self._claim(conn, query, outbox, outbox.c.id, now + lease)
            if not ids:
                return []
            rows = await conn.execute(
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
                    link=_link(row),
                    generation=row._mapping["generation"],
                )
                for row in rows
            ]

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
            await self._set_outbox(notification_ids, **values)
            return
        async with self._db.begin() as conn:
            ids = list(notification_ids)
            done = await conn.execute(
                update(outbox)
                .where(and_(outbox.c.id.in_(ids), outbox.c.generation == generation))
                .values(**values)
            )
            if done.rowcount != len(ids):
                await conn.execute(
                    update(outbox)
                    .where(and_(outbox.c.id.in_(ids), outbox.c.generation != generation))
                    .values(claimed_until=None)
                )

    async def reschedule(
        self, notification_ids: Sequence[int], *, at: datetime, error: str
    ) -> None:
        await self._set_outbox(
            notification_ids, next_attempt_at=at, claimed_until=None, last_error=error[:1000]
        )

    async def mark_failed(self, notification_ids: Sequence[int], *, error: str) -> None:
        await self._set_outbox(
            notification_ids,
            status=NotificationStatus.FAILED.value,
            claimed_until=None,
            last_error=error[:1000],
        )

    async def chats_with_failures(self, *, error_prefix: str) -> set[int]:
        """Chats with notifications FAILED for a reason starting with ``error_prefix``."""
        async with self._db.connection() as conn:
            rows = await conn.scalars(
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

    async def requeue_failed(self, chat_id: int) -> int:
        """Make a chat's FAILED notifications due again (the chat can hear us again); card
        edits only where the link still has a card to edit. Returns how many."""
        now = self._clock()
        async with self._db.begin() as conn:
            done = await conn.execute(
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

    async def move_chat(self, old_chat_id: int, new_chat_id: int) -> tuple[int, int]:
        """A group became a supergroup with a new id: its links and notifications follow.

        Unsent notifications (pending or failed) are made due at once in the new chat. The
        cards stay behind in the old group (message ids do not carry over): links forget
        them, and their pending edits end FAILED. Returns (links moved, notifications queued).
        """
        now = self._clock()
        unsent = and_(
            outbox.c.chat_id == old_chat_id, outbox.c.status != NotificationStatus.SENT.value
        )
        async with self._db.begin() as conn:
            moved = await conn.execute(
                update(links)
                .where(links.c.chat_id == old_chat_id)
                .values(chat_id=new_chat_id, card_message_id=None)
            )
            queued = await conn.execute(
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
            await conn.execute(
                update(outbox)
                .where(and_(unsent, outbox.c.kind == NotificationKind.CARD.value))
                .values(
                    chat_id=new_chat_id,
                    status=NotificationStatus.FAILED.value,
                    claimed_until=None,
                    last_error=f"chat migrated to {new_chat_id}: the card stayed behind",
                )
            )
            await conn.execute(
                update(outbox)
                .where(outbox.c.chat_id == old_chat_id)
                .values(chat_id=new_chat_id)  # what was sent, for the record
            )
            return int(moved.rowcount), int(queued.rowcount)

    async def defer(self, notification_ids: Sequence[int], *, at: datetime) -> None:
        """Hand claimed notifications back for later without counting an attempt."""
        await self._set_outbox(
            notification_ids,
            next_attempt_at=at,
            claimed_until=None,
            attempts=outbox.c.attempts - 1,
        )

    async def _set_outbox(self, notification_ids: Sequence[int], **values: Any) -> None:
        async with self._db.begin() as conn:
            await conn.execute(
                update(outbox).where(outbox.c.id.in_(list(notification_ids))).values(**values)
            )

    async def notifications(
        self, *, status: NotificationStatus | None = None
    ) -> Sequence[Row[Any]]:
        """Outbox rows, for the operator's view and for tests."""
        async with self._db.connection() as conn:
            query = select(outbox).order_by(outbox.c.id)
            if status is not None:
                query = query.where(outbox.c.status == status.value)
            return (await conn.execute(query)).all()

    async def next_notification_due(self) -> datetime | None:
        """When the next pending notification may be sent (None: none is pending)."""
        return await self._earliest(
            outbox.c.next_attempt_at,
            outbox.c.claimed_until,
            outbox.c.status == NotificationStatus.PENDING.value,
        )

    async def next_check_due(self) -> datetime | None:
        """When the next queued check may run (None: none is queued)."""
        return await self._earliest(session_checks.c.due_at, session_checks.c.claimed_until)

    async def _earliest(
        self,
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
        async with self._db.connection() as conn:
            value: datetime | None = await conn.scalar(
                select(func.min(type_coerce(due, UTCDateTime))).where(*where)
            )
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def _queue(
    conn: Connection, dialect: str, link: Link, kind: NotificationKind, now: datetime
) -> None:
    """Queue a notification. A card edit queued again is simply made due again: the card is
    drawn from the link's state when it is sent, so it always shows the newest."""
    statements = _QUEUE_CARD if kind is NotificationKind.CARD else _QUEUE_MESSAGE
    conn.execute(
        statements[dialect],
        {
            "link_id": link.id,
            "kind": kind.value,
            "chat_id": link.chat_id,
            "status": NotificationStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        },
    )


def _claim_card_row(
    conn: Connection, dialect: str, link: Link, now: datetime, until: datetime
) -> Notification | None:
    """Queue the link's card claimed until ``until``; the claim, or None if another holds it."""
    row = conn.execute(
        _CLAIM_CARD[dialect],
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
