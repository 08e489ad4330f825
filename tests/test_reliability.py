"""Never lose, fake or double a payment notification: fault injection against the fakes."""

from __future__ import annotations

import asyncio
import itertools
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, update

from bot.app import Paybot
from bot.checks import RecheckPolicy
from storage import LinkStatus, NotificationStatus
from storage.tables import links
from tests.conftest import MERCHANT, StartBot
from tests.fakes import FakeTelegram, FakeXendit
from tests.helpers import Store
from tests.test_core_flow import make_link, say


def repo_of(app: Paybot) -> Store:
    assert app.db is not None
    return Store(app.db)


def payments_told(tg: FakeTelegram, since: int, chat_id: int | None = None) -> int:
    """Payments the merchant(s) were told of: "PAID" messages and summaries of several."""
    import re

    count = 0
    for message in tg.outbox[since:]:
        if message.method != "sendMessage" or message.text is None:
            continue
        if chat_id is not None and message.chat_id != chat_id:
            continue
        summary = re.search(r"(\d+) payments received", message.text)
        count += int(summary[1]) if summary else int("PAID" in message.text)
    return count


def paid_messages(tg: FakeTelegram, chat_id: int = MERCHANT) -> list[str]:
    return [m.text or "" for m in tg.messages(chat_id) if "PAID" in (m.text or "")]


async def idle(app: Paybot) -> None:
    """Wait until both workers have nothing due."""
    assert app.worker is not None
    assert app.checker is not None
    await app.checker.wait_idle()
    await app.worker.wait_idle()


# -- Telegram side ---------------------------------------------------------------------------


async def test_telegram_502_for_a_while_then_back_delivers_once(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    _, sid = await make_link(tg, xendit)
    tg.outage(502, methods={"sendMessage"})
    await xendit.complete(sid)

    def failures() -> int:
        return len([c for c in tg.calls if c.method == "sendMessage" and c.status == 502])

    await tg.wait_for(lambda: failures() >= 2, timeout=10)  # retried, with backoff
    mark = tg.mark()
    tg.restore()
    await tg.wait_message(MERCHANT, contains="PAID", since=mark, timeout=10)
    await idle(paybot)
    assert len(paid_messages(tg)) == 1
    [row] = [r for r in await repo_of(paybot).notifications() if r.kind == "PAID"]
    assert row.status == NotificationStatus.SENT
    assert row.attempts >= 3


async def test_telegram_429_waits_exactly_retry_after(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    _, sid = await make_link(tg, xendit)
    tg.fail("sendMessage", 429, retry_after=2)
    await xendit.complete(sid)
    paid = await tg.wait_message(MERCHANT, contains="PAID", timeout=10)
    sends = [c for c in tg.calls if c.method == "sendMessage"]
    refused = next(c for c in sends if c.status == 429)
    # Not sooner: Telegram saw the retry retry_after later (a lower bound: cannot flake)...
    assert paid.at - refused.at >= 2.0
    # ...and not later: the very next send was the retry, made by the rate limiter as soon
    # as retry_after was over, not left to the outbox's backoff (the row's first attempt).
    assert sends[sends.index(refused) + 1].at == paid.at
    await idle(paybot)
    [row] = [r for r in await repo_of(paybot).notifications() if r.kind == "PAID"]
    assert row.status == NotificationStatus.SENT
    assert (row.attempts, row.last_error) == (1, None), (row.attempts, row.last_error)


async def test_bot_blocked_by_the_user_is_marked_failed_and_not_retried(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    _, sid = await make_link(tg, xendit)
    tg.blocked_chats.add(MERCHANT)
    await xendit.complete(sid)
    repo = repo_of(paybot)

    async def failed() -> bool:
        return bool(await repo.notifications(status=NotificationStatus.FAILED))

    await tg.wait_for(
        lambda: any(c.method == "sendMessage" and c.status == 403 for c in tg.calls), timeout=5
    )
    await idle(paybot)
    assert await failed()
    [row] = [r for r in await repo.notifications() if r.kind == "PAID"]
    assert "blocked" in row.last_error
    assert len([c for c in tg.calls if c.method == "sendMessage" and c.status == 403]) == 1


async def test_chat_not_found_is_permanent(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    _, sid = await make_link(tg, xendit)
    tg.missing_chats.add(MERCHANT)
    await xendit.complete(sid)
    await tg.wait_for(
        lambda: any(c.method == "sendMessage" and c.status == 400 for c in tg.calls), timeout=5
    )
    await idle(paybot)
    [row] = [r for r in await repo_of(paybot).notifications() if r.kind == "PAID"]
    assert row.status == NotificationStatus.FAILED
    assert "chat not found" in row.last_error.lower()


async def test_a_crash_between_the_card_and_storing_its_session_loses_no_payment(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    """/pay shows the card first and stores the session and card id a moment later. If the
    process died in that moment, the row holds only what was committed before the reply:
    PENDING, with the reference Xendit was sent. The webhook must still find it by that
    reference, and the merchant be told."""
    _, sid = await make_link(tg, xendit)
    assert paybot.db is not None
    await paybot.db.transaction(  # as it was before the session was stored
        lambda conn: conn.execute(
            update(links).values(
                status=LinkStatus.PENDING.value,
                session_id=None,
                link_url=None,
                expires_at=None,
                card_message_id=None,
            )
        )
    )
    mark = tg.mark()
    assert (await xendit.complete(sid)).status == 200
    paid = await tg.wait_message(MERCHANT, contains="PAID", since=mark)
    assert paid.text is not None
    assert "Rp150.000" in paid.text
    link = await repo_of(paybot).get_link_by_session(sid)
    assert link is not None
    assert link.status is LinkStatus.COMPLETED


async def test_a_burst_stays_under_the_flood_limits(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    chats = [3001, 3002, 3003]
    app = await start_bot(allowed_user_ids=",".join(map(str, chats)))
    sessions: list[tuple[int, str]] = []
    for chat in chats:
        for n in range(4):
            await say(tg, f"/pay {10_000 + n}", chat_id=chat)
            sessions.append(
                (
                    chat,
                    xendit.session_by_reference(xendit.created()[-1]["reference_id"])[
                        "payment_session_id"
                    ],
                )
            )
    tg.flood_limits = True
    tg.chat_burst = 1
    before = tg.too_many_requests
    mark = tg.mark()
    for _, sid in sessions:
        assert (await xendit.complete(sid, send_capture=False)).status == 200

    def delivered() -> int:
        return payments_told(tg, mark)

    await tg.wait_for(lambda: delivered() == len(sessions), timeout=20)
    await idle(app)
    assert tg.too_many_requests - before == 0
    assert delivered() == len(sessions)
    for chat in chats:
        times = [m.at for m in tg.outbox[mark:] if m.chat_id == chat and m.method == "sendMessage"]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(gap >= 1.0 for gap in gaps), gaps
    # Chats are served in parallel, not one after the other: every chat gets its first
    # message before any chat gets a second one (which waits out that chat's pause). Whether
    # a chat gets a second at all depends on how its payments were summarised.
    order = [m.chat_id for m in tg.outbox[mark:] if m.method == "sendMessage"]
    firsts = [order.index(chat) for chat in chats]
    seconds = [i for i, chat in enumerate(order) if order[:i].count(chat) == 1]
    assert max(firsts) < min(seconds, default=len(order)), order


# -- Xendit side -----------------------------------------------------------------------------


async def test_completed_webhook_that_xendit_contradicts_tells_nothing(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    _, sid = await make_link(tg, xendit)
    mark = tg.mark()
    forged = xendit.build_session_event("payment_session.completed", sid)
    forged["data"]["status"] = "COMPLETED"
    result = await xendit.send_webhook(forged)  # right token, but Xendit says ACTIVE
    assert result.status == 200
    await xendit.wait_for(
        lambda: any(r.method == "GET" and r.path == f"/sessions/{sid}" for r in xendit.requests)
    )
    await idle(paybot)
    assert tg.outbox[mark:] == []
    link = await repo_of(paybot).get_link_by_session(sid)
    assert link is not None
    assert link.status is LinkStatus.ACTIVE
    # Nothing queued but the /pay's own card, sent then.
    notes = await repo_of(paybot).notifications()
    assert [(r.kind, r.status) for r in notes] == [("CARD", "SENT")]


async def test_completed_session_with_another_amount_is_not_paid(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    _, sid = await make_link(tg, xendit)
    xendit.get_overrides[sid] = {"amount": 1000}
    mark = tg.mark()
    await xendit.complete(sid)
    await xendit.wait_for(lambda: any(r.method == "GET" for r in xendit.requests))
    await idle(paybot)
    assert tg.outbox[mark:] == []
    link = await repo_of(paybot).get_link_by_session(sid)
    assert link is not None
    assert link.status is LinkStatus.ACTIVE


async def test_xendit_500_on_confirmation_makes_the_notification_wait(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    _, sid = await make_link(tg, xendit)
    xendit.fail(500, method="GET")
    mark = tg.mark()
    await xendit.complete(sid)
    await tg.wait_message(MERCHANT, contains="PAID", since=mark, timeout=10)
    gets = [r for r in xendit.requests if r.method == "GET"]
    assert [r.status for r in gets] == [500, 200]
    # Nothing was told before Xendit confirmed.
    paid = next(m for m in tg.outbox[mark:] if "PAID" in (m.text or ""))
    assert paid.at > gets[1].at


async def test_xendit_429_on_confirmation_backs_off_for_rate_limit_reset(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    _, sid = await make_link(tg, xendit)
    xendit.fail(
        429,
        method="GET",
        body={"error_code": "RATE_LIMIT_EXCEEDED", "message": "Too many requests"},
        headers={"Rate-Limit-Limit": "60", "Rate-Limit-Remaining": "0", "Rate-Limit-Reset": "1.5"},
    )
    await xendit.complete(sid)
    await tg.wait_message(MERCHANT, contains="PAID", timeout=10)
    first, second = [r for r in xendit.requests if r.method == "GET"][:2]
    assert first.status == 429
    assert second.at - first.at >= 1.5


async def test_xendit_timeout_on_confirmation_is_retried(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    _, sid = await make_link(tg, xendit)
    xendit.delay = 3.0  # longer than the bot's 2 s
    await xendit.complete(sid)
    await xendit.wait_for(lambda: any(r.method == "GET" for r in xendit.requests))
    xendit.delay = 0.0
    await tg.wait_message(MERCHANT, contains="PAID", timeout=15)
    assert len(paid_messages(tg)) == 1


async def test_creating_a_link_retries_a_429_then_succeeds(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    xendit.fail(429, method="POST", headers={"Rate-Limit-Reset": "0.5"})
    reply = await say(tg, "/pay 150000")
    assert reply.text is not None
    assert "Rp150.000" in reply.text
    posts = [r for r in xendit.requests if r.method == "POST" and r.path == "/sessions"]
    assert [r.status for r in posts] == [429, 201]
    assert len(xendit.created()) == 1


async def test_an_idle_bot_alone_on_its_database_sends_it_nothing(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    """A polling bot is the only process of its bot (Telegram lets one poll): it queued all
    the work itself and woke its workers when it did. Idle, its workers wait for that, or
    for the next thing due, and do not ask the database every second whether there is work.
    """
    _, sid = await make_link(tg, xendit)
    await idle(paybot)
    assert paybot.db is not None
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    engine = paybot.db.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        await asyncio.sleep(3)  # a span with nothing to do: nothing may reach the database
        assert statements == []
        mark = tg.mark()
        await xendit.complete(sid)  # and woken, it does the work at once
        await tg.wait_message(MERCHANT, contains="PAID", since=mark, timeout=5)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements, "the payment was read and written through the same engine"


async def test_reconciliation_finds_a_paid_link_whose_webhook_never_came(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    app = await start_bot(reconcile_after="PT0S", reconcile_interval="PT1H")
    _, sid = await make_link(tg, xendit)
    xendit.webhook_url = "http://127.0.0.1:9/webhooks/xendit"  # the webhook is lost
    result = await xendit.complete(sid)
    assert result.status != 200
    assert app.checker is not None
    mark = tg.mark()
    assert await app.checker.reconcile_now() == 1
    paid = await tg.wait_message(MERCHANT, contains="PAID", since=mark)
    assert paid.text is not None
    assert "Rp150.000" in paid.text
    # Reconciling again finds nothing new and says nothing twice.
    assert await app.checker.reconcile_now() == 0
    await idle(app)
    assert len(paid_messages(tg)) == 1


async def test_reconciliation_respects_the_xendit_rate_limit(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    app = await start_bot(reconcile_after="PT0S", reconcile_interval="PT1H", xendit_rate_limit=8)
    assert app.payments is not None
    app.payments.create_window = None  # creates are paced too, in their own window: not here
    for n in range(12):
        await say(tg, f"/pay {20_000 + n}")
    for sid in list(xendit.sessions):  # all paid, none of the webhooks arrived
        await xendit.complete(sid, send_capture=False, send_session_event=False)
    xendit.rate_limit_per_minute = 8  # Xendit's own window: 8 GETs in any minute
    mark = tg.mark()
    assert app.checker is not None
    assert await app.checker.reconcile_now() == 12

    def paid() -> int:
        """Payments the merchant was told of, one by one or in a summary."""
        told = 0
        for message in tg.outbox[mark:]:
            if message.method == "sendMessage":
                summary = re.search(r"(\d+) payments received", message.text or "")
                told += int(summary[1]) if summary else int("PAID" in (message.text or ""))
        return told

    # The minute's allowance goes at once (no reason to dawdle)...
    await tg.wait_for(lambda: paid() >= 8, timeout=15)
    # ...then the other four wait for the window to move: Xendit never has to refuse one.
    assert len([r for r in xendit.requests if r.method == "GET"]) == 8
    assert xendit.rate_limited == 0
    assert paid() == 8


async def test_completed_for_a_cancelled_link_ends_paid(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    app = await start_bot(reconcile_after="PT0S", reconcile_interval="PT1H")
    _, sid = await make_link(tg, xendit)
    xendit.sessions[sid]["status"] = "CANCELED"
    assert app.checker is not None
    await app.checker.reconcile_now()
    await idle(app)
    link = await repo_of(app).get_link_by_session(sid)
    assert link is not None
    assert link.status is LinkStatus.CANCELED
    mark = tg.mark()
    await xendit.complete(sid)  # the customer had paid after all
    await tg.wait_message(MERCHANT, contains="PAID", since=mark)
    link = await repo_of(app).get_link_by_session(sid)
    assert link is not None
    assert link.status is LinkStatus.COMPLETED


async def test_capture_before_completed_shows_the_channel(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    _, sid = await make_link(tg, xendit)
    await xendit.complete(sid, channel_code="OVO", send_session_event=False)  # capture only
    notes = await repo_of(paybot).notifications()
    assert [(r.kind, r.status) for r in notes] == [("CARD", "SENT")]  # the /pay's card alone
    await xendit.send_webhook(xendit.build_session_event("payment_session.completed", sid))
    paid = await tg.wait_message(MERCHANT, contains="PAID")
    assert paid.text is not None
    assert "via OVO" in paid.text


async def test_a_flash_sale_for_one_chat_is_summarised_within_seconds(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    import asyncio
    import re

    # Each completion is confirmed with a GET first; at the test key's 60 a minute that alone
    # would take 6 s for 12, so this measures the summaries with a raised Xendit limit.
    paybot = await start_bot(xendit_rate_limit=6000)

    sessions = []
    for n in range(12):
        await say(tg, f"/pay {10_000 + n} item {n}")
        sessions.append(
            xendit.session_by_reference(xendit.created()[-1]["reference_id"])["payment_session_id"]
        )
    tg.flood_limits = True
    mark = tg.mark()
    results = await asyncio.gather(*(xendit.complete(sid, send_capture=False) for sid in sessions))
    assert all(r.status == 200 for r in results)

    async def all_paid_queued() -> bool:
        rows = [r for r in await repo_of(paybot).notifications() if r.kind == "PAID"]
        return len(rows) == 12

    async with asyncio.timeout(10):
        while not await all_paid_queued():  # noqa: ASYNC110 - a database row, no event
            await asyncio.sleep(0.02)
    queued = tg.mark()
    await tg.wait_for(lambda: payments_told(tg, mark) == 12, timeout=10)
    # Within seconds: once the sale is all queued, what is left goes out in one message at
    # the chat's next slot (two at most: one may already have been on its way).
    after_queued = [m for m in tg.outbox[queued:] if m.method == "sendMessage"]
    assert len(after_queued) <= 2, [m.text for m in after_queued]
    summaries = [m for m in tg.outbox[mark:] if "payments received" in (m.text or "")]
    assert summaries, "several payments at once come as a summary"
    for summary in summaries:
        text = summary.text or ""
        count = int(re.search(r"(\d+) payments received", text)[1])  # type: ignore[index]
        assert text.count("\n• ") == count  # one line per payment, with amount and reference
    assert tg.too_many_requests == 0

    async def all_paid_marked_sent() -> bool:
        rows = [r for r in await repo_of(paybot).notifications() if r.kind == "PAID"]
        return len(rows) == 12 and all(r.status == NotificationStatus.SENT for r in rows)

    async with asyncio.timeout(5):  # the worker marks them just after Telegram answered
        while not await all_paid_marked_sent():  # noqa: ASYNC110 - a database row, no event
            await asyncio.sleep(0.02)


async def test_a_card_edit_queued_while_the_last_one_is_sent_is_not_lost(
    database_url: str,
) -> None:
    from datetime import UTC, datetime, timedelta

    from storage import Database, NewLink, NotificationKind, SessionTruth

    db = await Database.connect(database_url)
    try:
        repo = Store(db)
        link = await repo.create_link(
            NewLink(
                "CARDRACE",
                "pb-cardrace",
                1,
                1,
                "en",
                1000,
                "IDR",
                None,
                shop_id=(await repo.a_shop()).id,
            )
        )
        link = await repo.activate_link(
            link.id,
            session_id="ps-card-race-000000000000",
            link_url="https://pay.example/x",
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
        await repo.set_card_message(link.id, 42)

        def truth(status: str) -> SessionTruth:
            return SessionTruth(
                "ps-card-race-000000000000",
                "pb-cardrace",
                status,
                1000,
                "IDR",
                None,
                datetime.now(UTC),
            )

        await repo.apply_session_truth(link.id, truth("EXPIRED"))
        claimed = [n for n in await repo.claim_notifications() if n.kind is NotificationKind.CARD]
        [card] = claimed
        # While that edit ("expired") is on its way, the customer's late payment lands.
        await repo.apply_session_truth(link.id, truth("COMPLETED"))
        await repo.mark_sent([card.id], generation=card.generation)
        # The card is edited again, now to "paid".
        again = [n for n in await repo.claim_notifications() if n.kind is NotificationKind.CARD]
        assert [n.id for n in again] == [card.id]
        assert again[0].link.status is LinkStatus.COMPLETED
        await repo.mark_sent([card.id], generation=again[0].generation)
        [row] = [r for r in await repo.notifications() if r.kind == "CARD"]
        assert row.status == NotificationStatus.SENT
    finally:
        await db.close()


class MovableClock:
    """The wall clock, moved on by the test: the bot's storage and workers read it."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


async def test_a_completion_xendit_does_not_show_yet_is_read_again_later(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    """Xendit's API lagging its webhook: the GET says ACTIVE, so nothing is told; read again
    after the backoff, it says COMPLETED, and the merchant is told "paid"."""
    clock = MovableClock()
    app = await start_bot(clock=clock)
    assert app.checker is not None
    _, sid = await make_link(tg, xendit)
    xendit.get_overrides[sid] = {"status": "ACTIVE"}  # the API lags the webhook
    mark = tg.mark()
    assert (await xendit.complete(sid)).status == 200

    def gets() -> int:
        return len([r for r in xendit.requests if r.method == "GET" and sid in r.path])

    await idle(app)  # woken by the webhook, the checker has run that check
    assert gets() == 1
    assert paid_messages(tg) == []
    # Only the /pay's own card was queued (and sent): nothing about a payment.
    assert [r.kind for r in await repo_of(app).notifications()] == ["CARD"]
    assert await repo_of(app).pending_checks() == 1  # kept, for later

    app.checker.wake()  # not due yet: nothing is read
    await idle(app)
    assert gets() == 1

    del xendit.get_overrides[sid]
    clock.offset += RecheckPolicy().first
    app.checker.wake()
    paid = await tg.wait_message(MERCHANT, contains="PAID", since=mark)
    assert paid.text is not None
    assert "Rp150.000" in paid.text
    assert gets() == 2
    await idle(app)
    assert await repo_of(app).pending_checks() == 0


async def test_a_redelivered_completion_is_checked_again_after_its_check_gave_up(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    """The first webhook's check read ACTIVE until its re-reads ran out; the same webhook,
    redelivered, is a duplicate but its link is not paid: it is checked again and, Xendit
    now saying COMPLETED, the merchant is told."""
    clock = MovableClock()
    app = await start_bot(clock=clock)
    assert app.checker is not None
    _, sid = await make_link(tg, xendit)
    xendit.get_overrides[sid] = {"status": "ACTIVE"}
    mark = tg.mark()
    assert (await xendit.complete(sid, send_capture=False)).status == 200
    await idle(app)
    clock.offset += RecheckPolicy().window  # the re-reads' window is over: the last one
    app.checker.wake()
    await xendit.wait_for(lambda: len([r for r in xendit.requests if r.method == "GET"]) == 2)
    await idle(app)
    assert await repo_of(app).pending_checks() == 0  # gave up
    assert paid_messages(tg) == []

    del xendit.get_overrides[sid]
    again = await xendit.send_webhook(xendit.build_session_event("payment_session.completed", sid))
    assert again.status == 200
    assert again.json == {"received": True, "outcome": "duplicate"}
    paid = await tg.wait_message(MERCHANT, contains="PAID", since=mark)
    assert paid.text is not None
    assert "Rp150.000" in paid.text
    await idle(app)
    assert len(paid_messages(tg)) == 1


def test_the_recheck_schedule_backs_off_to_its_cap_until_the_window_is_over() -> None:
    policy = RecheckPolicy()
    since = now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    delays: list[float] = []
    attempts = 1
    while (at := policy.next_at(attempts, since, now)) is not None:
        delays.append((at - now).total_seconds())
        now, attempts = at, attempts + 1
    assert delays == [5, 10, 20, 40, 80, 160, 300, 300]
    assert now - since >= timedelta(minutes=15)  # the last read is 15 min after the webhook
    assert policy.next_at(10_000, since, since) == since + policy.cap  # no overflow
