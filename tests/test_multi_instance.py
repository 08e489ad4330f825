"""Several instances on one PostgreSQL database (PostgreSQL only: skipped without
``TEST_DATABASE_URL``).

Two complete bots in webhook mode share one fresh database, one fake Telegram and one fake
Xendit, as two replicas behind a load balancer would. Telegram updates and Xendit webhooks are
split between them (duplicates included, concurrently); the outbox worker and the session
checker on both claim rows with ``FOR UPDATE SKIP LOCKED``. Every payment must be told exactly
once, whoever received its webhook and whoever did the work.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import asyncpg
import pytest

from bot.app import Paybot
from bot.xendit import Session, XenditClient
from storage import (
    Database,
    EventOutcome,
    LinkStatus,
    NewLink,
    NotificationStatus,
    SessionEvent,
)
from tests.conftest import TEST_DATABASE_URL, XENDIT_KEY, StartBot, handled
from tests.fakes import FakeTelegram, FakeXendit
from tests.fakes.telegram import Sent
from tests.helpers import Store
from tests.test_webhook_mode import SECRET, post_update, telegram_update

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="TEST_DATABASE_URL is not set (PostgreSQL tests skipped)"
)

#: Six merchants, each in their own private chat.
MERCHANTS = [1001, 1002, 1003, 1004, 1005, 1006]
LINKS_PER_MERCHANT = 5


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """One fresh PostgreSQL database, shared by both instances (not the SQLite run)."""
    return postgres_url


class CountingXendit(XenditClient):
    """The real client, counting the sessions this instance read back (its checks)."""

    reads = 0

    async def get_session(self, session_id: str) -> Session:
        self.reads += 1
        return await super().get_session(session_id)


def repo_of(app: Paybot) -> Store:
    assert app.db is not None
    return Store(app.db)


def paid_notices(tg: FakeTelegram) -> list[Sent]:
    """Every "paid" message (one payment, or a summary of several for one chat)."""
    return [m for m in tg.messages() if m.text and m.text.startswith("✅")]


def notices_naming(tg: FakeTelegram, short_ref: str) -> int:
    return sum(1 for m in paid_notices(tg) if short_ref in (m.text or ""))


async def start_two(
    start_bot: StartBot, xendit: FakeXendit
) -> tuple[tuple[Paybot, Paybot], list[CountingXendit]]:
    settings: dict[str, Any] = {
        "telegram_mode": "webhook",
        "public_url": "https://paybot.example.com",
        "telegram_webhook_secret": SECRET,
        "allowed_user_ids": ",".join(str(m) for m in MERCHANTS),
        "xendit_rate_limit": 6000,
        # Reconciliation only when the test asks for it, and then for every ACTIVE link.
        "reconcile_after": "PT0S",
        "reconcile_interval": "PT1H",
    }

    def client() -> CountingXendit:
        made = CountingXendit.create(api_url=xendit.url, secret_key=XENDIT_KEY, timeout=5.0)
        assert isinstance(made, CountingXendit)
        return made

    clients = [client(), client()]
    first = await start_bot(xendit_client=clients[0], **settings)
    second = await start_bot(xendit_client=clients[1], **settings)
    return (first, second), clients


async def make_links(
    apps: tuple[Paybot, Paybot],
    tg: FakeTelegram,
    xendit: FakeXendit,
    count_per_merchant: int,
    amount: Callable[[int], int],
) -> list[tuple[str, str]]:
    """``/pay`` from every merchant, the updates POSTed to both instances at once; returns
    (session id, short ref) of each new link."""
    before = len(xendit.created())
    mark = tg.mark()
    updates = []
    for _n in range(count_per_merchant):
        for merchant in MERCHANTS:
            i = len(updates)
            text = f"/pay {amount(i)} item {i}"
            updates.append((apps[i % 2], telegram_update(tg, merchant, text)))
    async with aiohttp.ClientSession() as http:
        statuses = await asyncio.gather(
            *(post_update(app, u, secret=SECRET, http=http) for app, u in updates)
        )
    assert [status for status, _ in statuses] == [200] * len(updates)
    await tg.wait_for(
        lambda: (
            len([m for m in tg.outbox[mark:] if "Payment link" in (m.text or "")]) >= len(updates)
        ),
        timeout=20,
    )
    await handled()  # the cards are shown before their message ids are stored
    made = []
    for body in xendit.created()[before:]:
        link = await repo_of(apps[0]).get_link_by_reference(body["reference_id"])
        assert link is not None
        assert link.status is LinkStatus.ACTIVE
        assert link.session_id is not None
        made.append((link.session_id, link.short_ref))
    assert len(made) == len(updates)
    return made


async def settled(apps: tuple[Paybot, Paybot], tg: FakeTelegram, refs: list[str]) -> None:
    """Wait until every link in ``refs`` was told paid and nothing is pending anywhere."""
    repo = repo_of(apps[0])

    async def quiet() -> bool:
        return (
            all(notices_naming(tg, ref) for ref in refs)
            and not await repo.notifications(status=NotificationStatus.PENDING)
            and await repo.pending_checks() == 0
        )

    deadline = time.monotonic() + 30
    while not await quiet():
        assert time.monotonic() < deadline, tg.describe()
        await asyncio.sleep(0.1)
    await all_idle(apps)


async def all_idle(apps: tuple[Paybot, Paybot]) -> None:
    """Wait until the workers of both instances have finished what they were doing: with
    nothing pending in the shared database, no message (a duplicate) can come after that."""
    async with asyncio.timeout(10):
        for app in apps:
            assert app.checker is not None
            assert app.worker is not None
            await app.checker.wait_idle()
            await app.worker.wait_idle()


async def test_two_instances_split_a_burst_of_webhooks_and_tell_each_payment_once(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    apps, clients = await start_two(start_bot, xendit)
    links = await make_links(
        apps, tg, xendit, LINKS_PER_MERCHANT, amount=lambda i: 10_000 + 1_000 * i
    )
    assert len(links) == 30

    # The customers pay; Xendit's webhooks land on either instance, some on both, at once.
    for sid, _ in links:
        await xendit.complete(sid, send_capture=False, send_session_event=False)
    sends = []
    for i, (sid, _) in enumerate(links):
        first, other = (apps[0], apps[1]) if i % 2 == 0 else (apps[1], apps[0])
        completed = xendit.build_session_event("payment_session.completed", sid)
        capture = xendit.build_payment_event("payment.capture", sid, channel_code="QRIS")
        sends.append(xendit.send_webhook(capture, url=f"{first.url}/webhooks/xendit"))
        sends.append(xendit.send_webhook(completed, url=f"{first.url}/webhooks/xendit"))
        if i % 3 == 0:  # a redelivery, to the other instance
            sends.append(xendit.send_webhook(completed, url=f"{other.url}/webhooks/xendit"))
    results = await asyncio.gather(*sends)
    assert [r.status for r in results] == [200] * len(sends), [r.body for r in results]

    await settled(apps, tg, [ref for _, ref in links])
    for _, short_ref in links:
        assert notices_naming(tg, short_ref) == 1, short_ref
    rows = await repo_of(apps[0]).notifications()
    paid_rows = [r for r in rows if r.kind == "PAID"]
    assert len(paid_rows) == 30
    assert {r.status for r in paid_rows} == {NotificationStatus.SENT}
    for sid, _ in links:
        link = await repo_of(apps[1]).get_link_by_session(sid)
        assert link is not None
        assert link.status is LinkStatus.COMPLETED

    # Every payment was confirmed with Xendit. Which instance read which session is up to
    # whoever claimed the checks first (one instance may claim them all: 16 run at a time).
    reads = [client.reads for client in clients]
    assert sum(reads) >= 30, reads

    # Per-chat pacing is per process: report the closest two messages to one chat.
    gaps = []
    for chat in MERCHANTS:
        times = [m.at for m in paid_notices(tg) if m.chat_id == chat]
        gaps += [later - earlier for earlier, later in itertools.pairwise(times)]
    print(
        f"\nchecks per instance: {reads}; paid messages: {len(paid_notices(tg))}; closest two "
        f"to one chat: {min(gaps, default=float('nan')):.2f}s"
    )


async def test_reconciliation_on_both_instances_at_once_tells_each_payment_once(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    apps, clients = await start_two(start_bot, xendit)
    links = await make_links(apps, tg, xendit, 2, amount=lambda i: 20_000 + 1_000 * i)
    # Paid, but every webhook was lost.
    for sid, _ in links:
        await xendit.complete(sid, send_capture=False, send_session_event=False)

    checkers = [app.checker for app in apps if app.checker is not None]
    queued = await asyncio.gather(*(checker.reconcile_now() for checker in checkers))
    assert sum(queued) >= len(links)  # each link queued by one instance or both
    await settled(apps, tg, [ref for _, ref in links])
    # Again, both at once, while nothing is stale any more: nothing new.
    assert await asyncio.gather(*(checker.reconcile_now() for checker in checkers)) == [0, 0]
    await all_idle(apps)

    for _, short_ref in links:
        assert notices_naming(tg, short_ref) == 1, short_ref
    rows = await repo_of(apps[0]).notifications()
    assert len([r for r in rows if r.kind == "PAID"]) == len(links)
    assert await repo_of(apps[0]).notifications(status=NotificationStatus.PENDING) == []
    print(f"\nqueued by each pass: {queued}; checks per instance: {[c.reads for c in clients]}")


async def lock_waiters(conn: asyncpg.Connection) -> int:
    """Sessions of this database waiting for a lock (seen from ``conn``)."""
    # Inside a transaction pg_stat_activity is one snapshot unless it is cleared.
    await conn.execute("SELECT pg_stat_clear_snapshot()")
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
    )


async def until_waiting(conn: asyncpg.Connection, count: int) -> None:
    deadline = time.monotonic() + 20
    while await lock_waiters(conn) < count:
        assert time.monotonic() < deadline, f"fewer than {count} sessions got to the race"
        await asyncio.sleep(0.01)


async def test_instances_starting_at_once_migrate_the_database_once(postgres_url: str) -> None:
    """Three processes run ``python -m storage upgrade`` on one empty database at once (a
    rollout of several replicas): every one succeeds."""
    # Make the race certain: an open transaction creates alembic_version first, so every
    # process gets as far as creating it too and waits there; then it rolls back.
    blocker = await asyncpg.connect(postgres_url)
    try:
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        env = {**os.environ, "DATABASE_URL": postgres_url}
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "storage",
                "upgrade",
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            for _ in range(3)
        ]
        await until_waiting(blocker, 3)
        await transaction.rollback()
        outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), 60)
    finally:
        await blocker.close()
    assert [p.returncode for p in procs] == [0, 0, 0], b"\n".join(o for o, _ in outputs).decode()


async def test_webhook_batches_in_opposite_orders_on_two_instances_do_not_deadlock(
    postgres_url: str,
) -> None:
    """Group commit on two instances: one writes a burst in one order, the other gets the same
    webhooks (Xendit's redeliveries) in the opposite order, both at the same instant. Each
    event is accepted once, and neither batch fails with "deadlock detected"."""
    first = await Database.connect(postgres_url)
    second = await Database.connect(postgres_url, migrate=False)
    repos = [Store(first), Store(second)]
    blocker = await asyncpg.connect(postgres_url)
    try:
        events = []
        for i in range(20):
            link = await repos[0].create_link(
                NewLink(
                    short_ref=f"DL{i:06d}",
                    reference_id=f"deadlock-{i}",
                    chat_id=MERCHANTS[0],
                    user_id=MERCHANTS[0],
                    language="en",
                    amount_minor=10_000 + i,
                    currency="IDR",
                    description=None,
                    shop_id=(await repos[0].a_shop()).id,
                )
            )
            await repos[0].activate_link(
                link.id,
                session_id=f"ps-deadlock-{i}",
                link_url="https://checkout.example/x",
                expires_at=datetime.now(UTC) + timedelta(hours=1),
            )
            events.append(
                SessionEvent(
                    event="payment_session.completed",
                    session_id=f"ps-deadlock-{i}",
                    reference_id=f"deadlock-{i}",
                    payload="{}",
                )
            )
        # Make the race certain: a third transaction holds the middle event, so each batch
        # writes its first half and then waits there. Released, each batch goes on into the
        # half the other one holds (unless both write in the same order).
        middle = events[len(events) // 2]
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute(
            "INSERT INTO webhook_events (event, dedup_key, received_at, payload) "
            "VALUES ($1, $2, now(), '{}')",
            middle.event,
            middle.session_id,
        )
        batches = [
            asyncio.create_task(repos[0].record_session_webhooks(events)),
            asyncio.create_task(repos[1].record_session_webhooks(events[::-1])),
        ]
        await until_waiting(blocker, 2)
        await transaction.rollback()
        results = await asyncio.gather(*batches, return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        assert failures == []
        accepted = [
            outcome
            for batch in results
            for outcome, _ in batch  # type: ignore[union-attr]
        ]
        assert accepted.count(EventOutcome.ACCEPTED) == len(events)
        assert accepted.count(EventOutcome.DUPLICATE) == len(events)
        assert await repos[0].pending_checks() == len(events)
    finally:
        await blocker.close()
        await first.close()
        await second.close()


async def test_a_check_an_instance_queued_before_it_stopped_is_run_by_the_others(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit, database_url: str
) -> None:
    """Instances behind one address do not only wait to be woken: one may queue work and
    stop before doing it, and the others look for such work every second."""
    apps, _ = await start_two(start_bot, xendit)
    [(sid, ref), *_] = await make_links(apps, tg, xendit, 1, amount=lambda i: 40_000 + i)
    await xendit.complete(sid, send_capture=False, send_session_event=False)  # no webhook
    # A third instance: a customer opened the return page there, it queued a check of the
    # session with Xendit, and it stopped.
    gone = await Database.connect(database_url)
    try:
        link = await Store(gone).get_link_by_ref(ref)
        assert link is not None
        await Store(gone).request_check(link.id, sid, reason="return_page")
    finally:
        await gone.close()
    await tg.wait_for(lambda: notices_naming(tg, ref) == 1, timeout=5)
    await settled(apps, tg, [ref])
    assert notices_naming(tg, ref) == 1
