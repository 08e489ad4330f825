"""The repository on both backends: what it hands back is what it stored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from storage import (
    Database,
    EventOutcome,
    LinkStatus,
    NewLink,
    SessionEvent,
    SessionTruth,
)
from storage.tables import users, webhook_events
from tests.helpers import Store


@pytest.mark.parametrize("draft", [False, True])
async def test_a_new_link_is_handed_back_exactly_as_stored(database_url: str, draft: bool) -> None:
    """create_link builds the Link it returns from what it wrote (only the id is read back);
    reading the row again must give the very same Link."""
    jakarta = timezone(timedelta(hours=7))  # a clock in another zone: stored and shown as UTC
    now = datetime(2026, 11, 24, 21, 5, 6, 789012, tzinfo=jakarta)
    db = await Database.connect(database_url)
    try:
        repo = Store(db, clock=lambda: now)
        made = await repo.create_link(
            NewLink(
                "KOPI1234",
                "pb-KOPI1234-ab",
                1001,
                2002,
                "id",
                150000,
                "IDR",
                "kopi susu",
                draft=draft,
                return_token="tok-123",
                merchant_name="Warung Bu Sri",
                shop_id=(await repo.a_shop()).id,
            )
        )
        stored = await repo.get_link(made.id)
    finally:
        await db.close()
    assert stored == made
    assert made.status is (LinkStatus.DRAFT if draft else LinkStatus.PENDING)
    assert made.created_at == now
    assert made.created_at.tzinfo == UTC
    assert (made.chat_id, made.user_id, made.amount_minor) == (1001, 2002, 150000)


async def test_a_failed_transaction_writes_nothing_and_the_next_one_works(
    database_url: str,
) -> None:
    """``Database.transaction`` rolls back what its work wrote when the work fails (on
    SQLite one pooled connection serves every transaction: a failed one must leave nothing
    open on it)."""
    db = await Database.connect(database_url)
    now = datetime(2026, 11, 24, tzinfo=UTC)

    def add(user_id: int) -> Callable[[Connection], None]:
        def write(conn: Connection) -> None:
            conn.execute(insert(users).values(user_id=user_id, language="id", updated_at=now))

        return write

    def add_then_fail(conn: Connection) -> None:
        add(1)(conn)
        raise RuntimeError("the work failed after writing")

    def count(conn: Connection) -> int:
        return int(conn.execute(select(func.count()).select_from(users)).scalar_one())

    try:
        with pytest.raises(RuntimeError, match="after writing"):
            await db.transaction(add_then_fail)
        await db.transaction(add(2))
        with pytest.raises(IntegrityError):
            await db.transaction(add(2))  # the database refuses: rolled back too
        await db.transaction(add(3))
        rows = await db.transaction(
            lambda conn: sorted(conn.execute(select(users.c.user_id)).scalars())
        )
        total = await db.transaction(count)
    finally:
        await db.close()
    assert rows == [2, 3]
    assert total == 2


async def test_sqlite_rolls_back_what_a_user_of_its_one_connection_left_open(
    tmp_path: Path,
) -> None:
    """SQLite's one connection is lent to one user at a time. A transaction the last user
    left open, even behind SQLAlchemy's back, is rolled back when the block ends, so the next
    user does not commit someone else's half-done work."""
    db = await Database.connect(f"sqlite:///{tmp_path / 'paybot.db'}")

    def leave_open(conn: Connection) -> None:
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute(
            "INSERT INTO users (user_id, language, updated_at) VALUES (7, 'id', '2026-11-24')"
        )
        assert driver.in_transaction  # opened behind SQLAlchemy's back, not ended

    try:
        await db.read(leave_open)
        await db.transaction(
            lambda conn: conn.execute(
                text(
                    "INSERT INTO users (user_id, language, updated_at) "
                    "VALUES (8, 'en', '2026-11-24')"
                )
            )
        )
        users = await db.read(
            lambda conn: conn.execute(text("SELECT user_id FROM users")).scalars().all()
        )
    finally:
        await db.close()
    assert users == [8]


async def test_sqlite_opens_its_one_connection_again_after_it_was_invalidated(
    tmp_path: Path,
) -> None:
    """A connection SQLAlchemy has invalidated (after an error it took for a lost
    connection) is not lent again: the next user gets a new one, and what was committed
    before is there."""
    db = await Database.connect(f"sqlite:///{tmp_path / 'paybot.db'}")
    insert_user = text(
        "INSERT INTO users (user_id, language, updated_at) VALUES (:id, 'id', '2026-11-24')"
    )

    def invalidate(conn: Connection) -> object:
        driver = conn.connection.driver_connection
        conn.invalidate()
        return driver

    def read(conn: Connection) -> tuple[object, list[int]]:
        driver = conn.connection.driver_connection
        return driver, list(conn.execute(text("SELECT user_id FROM users")).scalars().all())

    try:
        await db.transaction(lambda c: c.execute(insert_user, {"id": 1}))
        before = await db.read(invalidate)
        await db.transaction(lambda c: c.execute(insert_user, {"id": 2}))
        after, users = await db.read(read)
    finally:
        await db.close()
    assert before is not None
    assert after is not None
    assert after is not before
    assert sorted(users) == [1, 2]


async def test_a_batch_of_session_webhooks_gets_each_its_outcome_and_one_check_per_link(
    database_url: str,
) -> None:
    """One batch holding every case a webhook can be: both backends must store the same
    events, queue the same checks and answer each webhook the same."""
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    db = await Database.connect(database_url)
    try:
        repo = Store(db, clock=lambda: now)

        ids: dict[int, int] = {}

        async def link(n: int, *, with_session: bool = True) -> None:
            made = await repo.create_link(
                NewLink(
                    f"WH{n:06d}",
                    f"pb-WH{n:06d}",
                    1001,
                    1001,
                    "en",
                    10_000 * n,
                    "IDR",
                    None,
                    shop_id=(await repo.a_shop()).id,
                )
            )
            ids[n] = made.id
            if with_session:
                await repo.activate_link(
                    made.id,
                    session_id=f"ps-{n}",
                    link_url="https://checkout.example/x",
                    expires_at=now + timedelta(hours=1),
                )

        for n in (1, 2, 3):
            await link(n)
        await link(4, with_session=False)  # Xendit's answer to /pay not stored yet

        def webhook(event: str, n: int) -> SessionEvent:
            return SessionEvent(
                event=f"payment_session.{event}",
                session_id=f"ps-{n}",
                reference_id=f"pb-WH{n:06d}",
                payload=f'{{"n": {n}, "event": "{event}"}}',
            )

        first = await repo.record_session_webhooks([webhook("completed", 3)])
        assert first == [(EventOutcome.ACCEPTED, "WH000003")]
        outcomes = await repo.record_session_webhooks(
            [
                webhook("completed", 1),
                webhook("expired", 2),  # both for one link: one check, for the completion
                webhook("completed", 2),
                webhook("completed", 1),  # a copy in the same batch
                webhook("completed", 3),  # stored by the batch before
                webhook("expired", 3),  # new, for a link whose check is queued already
                webhook("completed", 9),  # no link of ours
                webhook("completed", 4),  # found by its reference
            ]
        )
        checks = await repo.claim_checks(limit=10)
        stored = await db.read(
            lambda conn: conn.execute(
                select(
                    webhook_events.c.event,
                    webhook_events.c.dedup_key,
                    webhook_events.c.link_id,
                    webhook_events.c.payload,
                    webhook_events.c.received_at,
                )
            ).all()
        )
    finally:
        await db.close()
    ok, dup = EventOutcome.ACCEPTED, EventOutcome.DUPLICATE
    assert outcomes == [
        (ok, "WH000001"),
        (ok, "WH000002"),
        (ok, "WH000002"),
        (dup, "WH000001"),
        (dup, "WH000003"),
        (ok, "WH000003"),
        (EventOutcome.UNKNOWN_SESSION, None),
        (ok, "WH000004"),
    ]
    assert {(c.link.short_ref, c.session_id, c.reason, c.generation) for c in checks} == {
        ("WH000001", "ps-1", "payment_session.completed", 1),
        ("WH000002", "ps-2", "payment_session.completed", 1),
        # Made due again, one newer, still for the completion (queued first, and its
        # duplicate queues a check again: the link is not paid yet).
        ("WH000003", "ps-3", "payment_session.completed", 2),
        ("WH000004", "ps-4", "payment_session.completed", 1),
    }

    def event_row(event: str, n: int) -> tuple[str, str, int, str, datetime]:
        return (f"payment_session.{event}", f"ps-{n}", ids[n], webhook(event, n).payload, now)

    assert sorted(tuple(row) for row in stored) == [
        event_row("completed", 1),
        event_row("completed", 2),
        event_row("completed", 3),
        event_row("completed", 4),
        event_row("expired", 2),
        event_row("expired", 3),
    ]


async def test_a_duplicate_webhook_queues_a_check_while_its_link_may_still_move(
    database_url: str,
) -> None:
    """A duplicate is answered DUPLICATE, and its check queued again unless its link can no
    longer move where the event says: the first check may have met Xendit's API lagging its
    webhook. A queued completion keeps its reason when an expiry follows it."""
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    clock = [now]
    db = await Database.connect(database_url)
    try:
        repo = Store(db, clock=lambda: clock[0])
        ids: dict[str, int] = {}
        for name in ("ACTIVE", "PAID", "EXPIRED", "CANCELED"):
            made = await repo.create_link(
                NewLink(
                    name,
                    f"pb-{name}",
                    1001,
                    1001,
                    "en",
                    10_000,
                    "IDR",
                    None,
                    shop_id=(await repo.a_shop()).id,
                )
            )
            await repo.activate_link(
                made.id,
                session_id=f"ps-{name}",
                link_url="https://checkout.example/x",
                expires_at=now + timedelta(hours=1),
            )
            ids[name] = made.id

        def webhook(event: str, name: str) -> SessionEvent:
            return SessionEvent(f"payment_session.{event}", f"ps-{name}", f"pb-{name}", "{}")

        def truth(name: str, status: str) -> SessionTruth:
            return SessionTruth(f"ps-{name}", f"pb-{name}", status, 10_000, "IDR", None, now)

        first = [
            webhook("completed", "ACTIVE"),
            webhook("completed", "PAID"),
            webhook("expired", "EXPIRED"),
            webhook("completed", "CANCELED"),
        ]
        assert {o for o, _ in await repo.record_session_webhooks(first)} == {EventOutcome.ACCEPTED}
        status = {"ACTIVE": "ACTIVE", "PAID": "COMPLETED", "EXPIRED": "EXPIRED"}
        status["CANCELED"] = "CANCELED"
        for check in await repo.claim_checks(limit=10):
            await repo.apply_session_truth(
                check.link.id, truth(check.link.short_ref, status[check.link.short_ref])
            )
            await repo.finish_check(check)
        assert await repo.pending_checks() == 0

        clock[0] = later = now + timedelta(minutes=30)
        outcomes = await repo.record_session_webhooks(
            [*first, webhook("expired", "PAID"), webhook("expired", "ACTIVE")]
        )
        checks = await repo.claim_checks(limit=10)
        # While the CANCELED link's check runs, its first expiry arrives: the check runs
        # again after, still for the completion.
        [canceled] = [c for c in checks if c.link.short_ref == "CANCELED"]
        await repo.record_session_webhooks([webhook("expired", "CANCELED")])
        await repo.finish_check(canceled)
        [again] = await repo.claim_checks(limit=10)
    finally:
        await db.close()
    assert (again.link.short_ref, again.reason, again.generation) == (
        "CANCELED",
        "payment_session.completed",
        2,
    )
    dup, ok = EventOutcome.DUPLICATE, EventOutcome.ACCEPTED
    assert outcomes == [
        (dup, "ACTIVE"),
        (dup, "PAID"),
        (dup, "EXPIRED"),
        (dup, "CANCELED"),
        (ok, "PAID"),  # new: checked, as every new event
        (ok, "ACTIVE"),
    ]
    assert {(c.link.short_ref, c.reason, c.generation, c.queued_at) for c in checks} == {
        ("ACTIVE", "payment_session.completed", 1, later),  # the completion, not the expiry
        ("CANCELED", "payment_session.completed", 1, later),  # a late payment still wins
        ("PAID", "payment_session.expired", 1, later),
    }
