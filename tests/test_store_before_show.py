"""Store before show: a link Xendit made is never invisible to the merchant.

The link's row is committed before Xendit is asked, its session the moment Xendit answers,
and its card is a durable delivery (the outbox). So a Telegram outage only delays the card,
a database that cannot write stops /pay before Xendit hears of it, and a create whose answer
never came is shown as "may exist" and found by a later webhook.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import aiohttp
import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Paybot
from bot.ratelimit import SlidingWindow
from storage import LinkStatus
from tests.conftest import MERCHANT, TEST_DATABASE_URL, handled
from tests.fakes import FakeTelegram, FakeXendit
from tests.test_core_flow import repo_of, say
from tests.test_process import ref_of


async def only_link(app: Paybot):  # type: ignore[no-untyped-def]
    [link] = await repo_of(app).links_for_chat(MERCHANT)
    return link


async def set_read_only(app: Paybot, read_only: bool) -> None:
    """Make the bot's database refuse writes, as a read-only disk or server does."""
    assert app.db is not None
    if app.db.dialect == "sqlite":
        # What SQLite answers then: "attempt to write a readonly database".
        pragma = f"PRAGMA query_only={'ON' if read_only else 'OFF'}"
        await app.db.read(lambda conn: conn.exec_driver_sql(pragma))
        return
    url = make_url(app.settings.database_url)
    # From the server's other database: a read-only one could not take ALTER DATABASE back.
    admin_url = make_url(TEST_DATABASE_URL).set(drivername="postgresql")
    admin = await asyncpg.connect(admin_url.render_as_string(hide_password=False))
    try:
        change = "SET default_transaction_read_only = on" if read_only else "RESET ALL"
        await admin.execute(f'ALTER DATABASE "{url.database}" {change}')
    finally:
        await admin.close()
    assert isinstance(app.db.engine, AsyncEngine)
    await app.db.engine.dispose()  # the setting applies to new connections


async def healthz(app: Paybot) -> tuple[int, dict[str, str]]:
    async with aiohttp.ClientSession() as http, http.get(f"{app.url}/healthz") as response:
        return response.status, await response.json()


# -- Telegram down while /pay runs -----------------------------------------------------------


async def test_telegram_outage_during_pay_delivers_the_card_after_restore(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    tg.outage(502, methods={"sendMessage"})
    mark = tg.mark()
    tg.push_message(MERCHANT, "/pay 150000 kopi susu")
    await tg.wait_for(
        lambda: any(c.method == "sendMessage" and c.status == 502 for c in tg.calls), timeout=10
    )
    await handled()
    link = await only_link(paybot)
    assert link.status is LinkStatus.ACTIVE  # stored although the card could not go
    assert link.session_id is not None
    assert link.card_message_id is None

    tg.restore()
    card = await tg.wait_message(MERCHANT, contains="Payment link", since=mark, timeout=15)
    assert ref_of(card) == link.short_ref
    assert link.link_url is not None
    assert link.link_url in (card.text or "")
    await paybot.worker.wait_idle()  # type: ignore[union-attr]
    link = await only_link(paybot)
    assert link.card_message_id == card.message_id  # the card edits itself from now on
    assert len([m for m in tg.messages(MERCHANT) if "Payment link" in (m.text or "")]) == 1

    await xendit.complete(link.session_id)
    await tg.wait_message(MERCHANT, contains="PAID", since=mark, timeout=10)
    await tg.wait_for(
        lambda: "Paid:" in (tg.chat_message(MERCHANT, card.message_id).text or ""),  # type: ignore[union-attr]
        timeout=10,
    )


# -- the database cannot write ---------------------------------------------------------------


async def test_database_unwritable_before_pay_sends_nothing_to_xendit(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await set_read_only(paybot, True)
    try:
        reply = await say(tg, "/pay 150000 kopi susu")
    finally:
        await set_read_only(paybot, False)
    assert reply.text is not None
    assert "could not save" in reply.text
    assert xendit.requests_to("POST") == []
    assert await repo_of(paybot).links_for_chat(MERCHANT) == []
    again = await say(tg, "/pay 150000 kopi susu")  # writable again: works again
    assert "Payment link" in (again.text or "")


async def test_healthz_is_503_while_the_database_is_read_only(paybot: Paybot) -> None:
    assert (await healthz(paybot))[0] == 200
    await set_read_only(paybot, True)
    try:
        status, body = await healthz(paybot)
    finally:
        await set_read_only(paybot, False)
    assert status == 503
    assert body["database"] == "unwritable"
    assert (await healthz(paybot))[0] == 200


async def test_healthz_is_503_when_the_sqlite_file_is_made_read_only_or_deleted(
    paybot: Paybot, tmp_path: Path
) -> None:
    assert paybot.db is not None
    if paybot.db.dialect != "sqlite":
        return  # files are SQLite's
    path = make_url(paybot.settings.database_url).database or ""
    assert os.stat(path).st_size > 0
    assert (await healthz(paybot))[0] == 200

    os.chmod(path, 0o444)
    try:
        status, body = await healthz(paybot)
    finally:
        os.chmod(path, 0o644)
    assert (status, body["database"]) == (503, "unwritable")
    assert (await healthz(paybot))[0] == 200

    # Deleted under the running bot (SQLite would go on writing into the unlinked file).
    os.link(path, tmp_path / "kept.db")  # so the bot's teardown still has its file
    os.unlink(path)
    try:
        status, body = await healthz(paybot)
    finally:
        os.link(tmp_path / "kept.db", path)
    assert (status, body["database"]) == (503, "unwritable")


# -- no answer from Xendit -------------------------------------------------------------------


async def test_unanswered_create_is_shown_as_may_exist_and_a_later_webhook_shows_the_link(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    xendit.drop(times=1)  # the session is made; its answer never reaches the bot
    reply = await say(tg, "/pay 150000 kopi susu")
    assert "did not answer in time" in (reply.text or "")
    ref = ref_of(reply)
    assert ref is not None
    [session] = xendit.sessions.values()
    sid = session["payment_session_id"]

    status = await say(tg, f"/status {ref}")
    assert "No link was made" not in (status.text or "")
    assert "may or may not exist" in (status.text or "")
    cancel = await say(tg, f"/cancel {ref}")
    assert "cannot cancel it yet" in (cancel.text or "")
    assert xendit.requests_to("POST", f"/sessions/{sid}/cancel") == []

    # A webhook names the session (by our reference); Xendit's answer to the check: ACTIVE.
    mark = tg.mark()
    event = xendit.build_session_event("payment_session.completed", sid)
    event["data"]["status"] = "COMPLETED"
    assert (await xendit.send_webhook(event)).status == 200
    link_url = session["payment_link_url"]

    def card_shows_the_link() -> bool:
        card = tg.chat_message(MERCHANT, status.message_id)
        return card is not None and link_url in (card.text or "")

    await tg.wait_for(card_shows_the_link, timeout=10)
    await paybot.worker.wait_idle()  # type: ignore[union-attr]
    link = await only_link(paybot)
    assert link.status is LinkStatus.ACTIVE
    assert link.session_id == sid
    assert "PAID" not in "".join(m.text or "" for m in tg.outbox[mark:])
    assert any(b.url == link_url for b in tg.buttons(tg.chat_message(MERCHANT, status.message_id)))

    cancel = await say(tg, f"/cancel {ref}")  # its session is known now: it can be cancelled
    assert "is cancelled" in (cancel.text or "")
    assert xendit.sessions[sid]["status"] == "CANCELED"


async def test_unanswered_create_that_is_paid_tells_the_merchant(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    xendit.delay = 3.0  # longer than the bot waits (2 s): the session is made, unanswered
    reply = await say(tg, "/pay 150000")
    xendit.delay = 0.0
    assert "did not answer in time" in (reply.text or "")
    [sid] = xendit.sessions
    mark = tg.mark()
    assert (await xendit.complete(sid)).status == 200
    paid = await tg.wait_message(MERCHANT, contains="PAID", since=mark, timeout=10)
    assert ref_of(paid) == ref_of(reply)
    await tg.wait_for(
        lambda: "Paid:" in (tg.chat_message(MERCHANT, reply.message_id).text or ""),  # type: ignore[union-attr]
        timeout=10,
    )
    link = await only_link(paybot)
    assert link.status is LinkStatus.COMPLETED
    assert link.session_id == sid


# -- creates under Xendit's rate limit -------------------------------------------------------


async def test_a_burst_of_pay_is_paced_under_the_create_rate_limit_not_refused(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    # Two creates in any "minute", a minute being half a second on both sides.
    assert paybot.payments is not None
    paybot.payments.create_window = SlidingWindow(2, 0.5)
    xendit.rate_limit_per_minute = 2
    xendit.clock = lambda: time.monotonic() * 120

    mark = tg.mark()
    for n in range(6):
        tg.push_message(MERCHANT, f"/pay {10_000 + n}")

    def cards() -> list[str] | None:
        found = [
            m.text or ""
            for m in tg.outbox[mark:]
            if m.method == "sendMessage" and "Payment link" in (m.text or "")
        ]
        return found if len(found) == 6 else None

    found = await tg.wait_for(cards, timeout=20)
    await handled()
    assert xendit.rate_limited == 0  # paced: Xendit never had to refuse one
    assert len(xendit.requests_to("POST", "/sessions")) == 6
    assert sorted(int(t.split("Rp")[1].split("<")[0].replace(".", "")) for t in found) == [
        10_000 + n for n in range(6)
    ]
