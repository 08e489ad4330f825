"""End to end: a merchant in Telegram, the real bot, Xendit's webhooks. All over real HTTP."""

from __future__ import annotations

import asyncio
import base64
import logging
import time

import aiohttp
import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot.app import Paybot
from storage import LinkStatus, NotificationStatus
from tests.conftest import CALLBACK_TOKEN, MERCHANT, STRANGER, XENDIT_KEY, StartBot, handled
from tests.fakes import FakeTelegram, FakeXendit, WebhookResult
from tests.fakes.telegram import Sent
from tests.helpers import Store


async def say(tg: FakeTelegram, text: str, *, chat_id: int = MERCHANT, **kw: object) -> Sent:
    """Type ``text`` as the user and return the bot's next message in that chat, once the bot
    has finished with the message (as a person reads the reply before doing anything else)."""
    mark = tg.mark()
    tg.push_message(chat_id, text, **kw)  # type: ignore[arg-type]
    reply = await tg.wait_message(chat_id, since=mark)
    await handled()
    return reply


def repo_of(app: Paybot) -> Store:
    assert app.db is not None
    return Store(app.db)


async def make_link(tg: FakeTelegram, xendit: FakeXendit, text: str = "/pay 150000 kopi susu"):
    reply = await say(tg, text)
    session = xendit.created()[-1]
    sid = xendit.session_by_reference(session["reference_id"])["payment_session_id"]
    return reply, sid


# -- /start, /help, commands -----------------------------------------------------------------


async def test_start_greets_a_member_and_help_lists_the_commands(
    paybot: Paybot, tg: FakeTelegram
) -> None:
    start = await say(tg, "/start")
    assert start.text is not None
    assert start.text.startswith("👋 <b>Hi Budi!</b> I make payment links for your shop.")
    assert "/pay 150000 kopi susu" in start.text
    assert start.text.endswith(f"Your Telegram ID: <code>{MERCHANT}</code>")
    # A stranger learns how to join, and nothing of the shop.
    stranger = await say(tg, "/start", chat_id=STRANGER)
    assert stranger.text == (
        "Sorry, this bot takes payments for a shop's team only.\n"
        "To join, ask the shop's owner for an invite link and open it."
    )
    # /help is the command list: how to use /pay, then the others; not the greeting again.
    help_ = await say(tg, "/help")
    assert help_.text is not None
    assert help_.text.startswith("<b>How to use /pay</b>\n<code>/pay &lt;amount&gt;")
    assert "<b>Other commands</b>" in help_.text
    for command in (
        "/links",
        "/unpaid",
        "/status",
        "/cancel",
        "/today",
        "/export",
        "/settings",
        "/language",
    ):
        assert command in help_.text
    assert "Hi Budi" not in help_.text
    assert str(MERCHANT) not in help_.text
    assert help_.text.endswith("/language: English or Bahasa Indonesia")
    # A stranger's /help also says how to be let in.
    theirs = await say(tg, "/help", chat_id=STRANGER)
    assert theirs.text is not None
    assert theirs.text.startswith("<b>How to use /pay</b>")
    assert theirs.text.endswith("To join, ask the shop's owner for an invite link and open it.")


async def test_unknown_text_and_commands_get_a_hint_to_help(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    hello = await say(tg, "hello")
    assert hello.text == (
        "To make a payment link, send <code>/pay 150000 kopi susu</code>. /help lists "
        "everything I can do."
    )
    for text in ("/foo", "/Foo bar", f"/foo@{tg.bot_username}"):
        reply = await say(tg, text)
        assert reply.text == "I don't know /foo. Send /help to see what I can do.", text
    odd = await say(tg, "/<b>x</b>")
    assert odd.text == "I don't know /&lt;b&gt;x&lt;/b&gt;. Send /help to see what I can do."
    halo = await say(tg, "halo", language_code="id")
    assert (halo.text or "").startswith("Untuk membuat link pembayaran, kirim")
    assert xendit.requests == []


async def test_in_groups_only_commands_addressed_to_the_bot_get_the_hint(
    paybot: Paybot, tg: FakeTelegram
) -> None:
    group = -4003
    await repo_of(paybot).connect(group)
    mark = tg.mark()
    for text in ("selamat pagi", "/foo", "/foo@some_other_bot"):
        tg.push_message(group, text, user_id=MERCHANT)
    tg.push_message(STRANGER, "hello")  # a stranger's text: nothing at all
    reply = await say(tg, f"/foo@{tg.bot_username}", chat_id=group, user_id=MERCHANT)
    assert reply.text == "I don't know /foo. Send /help to see what I can do."
    assert tg.outbox[mark:] == [reply]


async def test_start_speaks_indonesian_to_indonesian_users(
    paybot: Paybot, tg: FakeTelegram
) -> None:
    reply = await say(tg, "/start", language_code="id")
    assert reply.text is not None
    assert "Halo" in reply.text
    assert "ID Telegram Anda" in reply.text


async def test_command_menu_is_set_at_start_up(paybot: Paybot, tg: FakeTelegram) -> None:
    names = [c["command"] for c in tg.commands()]
    assert names == [
        "pay",
        "links",
        "unpaid",
        "today",
        "status",
        "cancel",
        "export",
        "team",
        "invite",
        "settings",
        "language",
        "help",
    ]
    indonesian = tg.commands(language_code="id")
    assert any("link pembayaran" in c["description"] for c in indonesian)


async def test_healthz_answers_ok_once_ready(paybot: Paybot) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{paybot.url}/healthz") as response:
        assert response.status == 200
        body = await response.json()
    assert body == {"status": "ok", "telegram": "polling", "database": "ok"}


# -- the happy path --------------------------------------------------------------------------


async def test_pay_makes_a_link_and_the_webhook_tells_the_merchant_it_is_paid(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    started = time.perf_counter()
    reply = await say(tg, "/pay 150000 kopi susu")
    reply_ms = (time.perf_counter() - started) * 1000

    # What went to Xendit.
    [request] = [r for r in xendit.requests if r.method == "POST" and r.path == "/sessions"]
    expected_auth = "Basic " + base64.b64encode(f"{XENDIT_KEY}:".encode()).decode()
    assert request.headers["Authorization"] == expected_auth
    body = request.json
    assert body["session_type"] == "PAY"
    assert body["mode"] == "PAYMENT_LINK"
    assert body["amount"] == 150000
    assert isinstance(body["amount"], int)
    assert body["currency"] == "IDR"
    assert body["country"] == "ID"
    assert body["description"] == "kopi susu"
    assert body["allow_save_payment_method"] == "DISABLED"
    assert 1 <= len(body["reference_id"]) <= 64
    session = xendit.session_by_reference(body["reference_id"])

    # What the merchant sees.
    assert reply.text is not None
    assert "Rp150.000" in reply.text
    assert "kopi susu" in reply.text
    assert "Expires" in reply.text
    assert session["payment_link_url"] in reply.text
    button = tg.buttons(reply)[0]
    assert button.url == session["payment_link_url"]
    assert button.text == "Open payment page"

    # What is stored.
    link = await repo_of(paybot).get_link_by_session(session["payment_session_id"])
    assert link is not None
    assert link.status is LinkStatus.ACTIVE
    assert link.amount_minor == 150000
    assert link.chat_id == MERCHANT
    assert link.short_ref in reply.text

    # The customer pays; Xendit calls the webhook.
    mark = tg.mark()
    started = time.perf_counter()
    result = await xendit.complete(session["payment_session_id"], channel_code="QRIS")
    assert result.status == 200
    paid = await tg.wait_message(MERCHANT, contains="PAID", since=mark)
    paid_ms = (time.perf_counter() - started) * 1000
    assert paid.text is not None
    assert "Rp150.000" in paid.text
    assert "kopi susu" in paid.text
    assert link.short_ref in paid.text
    assert "Paid at" in paid.text
    assert "QRIS" in paid.text

    link = await repo_of(paybot).get_link(link.id)
    assert link is not None
    assert link.status is LinkStatus.COMPLETED
    assert link.payment_channel == "QRIS"
    print(f"\n/pay -> reply: {reply_ms:.1f} ms; webhook -> paid message: {paid_ms:.1f} ms")


async def test_pay_without_description_and_with_separators(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    reply = await say(tg, "/pay Rp25.000")
    assert reply.text is not None
    assert "Rp25.000" in reply.text
    body = xendit.created()[-1]
    assert body["amount"] == 25000
    assert "description" not in body


async def test_expired_link_tells_the_merchant(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    _, sid = await make_link(tg, xendit, "/pay 75.000 es teh")
    mark = tg.mark()
    result = await xendit.expire(sid)
    assert result.status == 200
    expired = await tg.wait_message(MERCHANT, contains="Expired", since=mark)
    assert expired.text is not None
    assert "Rp75.000" in expired.text
    assert "es teh" in expired.text
    link = await repo_of(paybot).get_link_by_session(sid)
    assert link is not None
    assert link.status is LinkStatus.EXPIRED


async def test_late_completed_after_expired_still_counts_as_paid(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    _, sid = await make_link(tg, xendit)
    await xendit.expire(sid)
    await tg.wait_message(MERCHANT, contains="Expired")
    mark = tg.mark()
    await xendit.complete(sid)
    await tg.wait_message(MERCHANT, contains="PAID", since=mark)
    link = await repo_of(paybot).get_link_by_session(sid)
    assert link is not None
    assert link.status is LinkStatus.COMPLETED


async def test_expired_after_completed_changes_nothing(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    _, sid = await make_link(tg, xendit)
    await xendit.complete(sid)
    await tg.wait_message(MERCHANT, contains="PAID")
    result = await xendit.send_webhook(xendit.build_session_event("payment_session.expired", sid))
    assert result.status == 200
    link = await repo_of(paybot).get_link_by_session(sid)
    assert link is not None
    assert link.status is LinkStatus.COMPLETED
    rows = await repo_of(paybot).notifications()
    assert sorted(r.kind for r in rows) == ["CARD", "PAID"]


# -- bad input in chat -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/pay", "Please tell me the amount"),
        ("/pay abc", "is not an amount I understand"),
        ("/pay 0", "must be more than zero"),
        ("/pay -5000", "must be more than zero"),
        ("/pay 150000.5", "can't have those decimals"),
        ("/pay 99999999999999999999", "more than the"),
        ("/pay 150000000 mobil", "more than the Rp100.000.000"),
        # Amounts over several words (tests/test_amounts.py has the good ones).
        ("/pay Rp", "Please tell me the amount"),
        ("/pay kopi 150000", "“kopi” is not an amount I understand"),
        ("/pay 1.000.000 000 kopi", "“1.000.000 000” is not an amount I understand"),
        ("/pay 2 juta juta", "“2 juta juta” is not an amount I understand"),
        ("/pay 1 000 000 000 000 kopi", "more than the Rp100.000.000"),
        ("/pay 150 juta mobil", "more than the Rp100.000.000"),
        ("/pay 0 kopi", "must be more than zero"),
    ],
)
async def test_bad_amounts_are_explained_and_nothing_reaches_xendit(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit, command: str, expected: str
) -> None:
    reply = await say(tg, command)
    assert reply.text is not None
    assert expected in reply.text
    assert "How to use /pay" in reply.text
    assert tg.buttons(reply) == []
    assert xendit.requests == []


async def test_configurable_maximum(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await start_bot(max_amount="500000")
    reply = await say(tg, "/pay 600000")
    assert reply.text is not None
    assert "more than the Rp500.000" in reply.text
    assert xendit.requests == []


async def test_a_stranger_is_refused_politely_with_how_to_join(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    reply = await say(tg, "/pay 150000 kopi", chat_id=STRANGER)
    assert reply.text is not None
    assert "team only" in reply.text
    assert "invite link" in reply.text
    assert xendit.requests == []


# -- Xendit trouble --------------------------------------------------------------------------


async def test_xendit_401_tells_the_merchant_the_key_is_wrong(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    xendit.fail(401, body={"error_code": "INVALID_API_KEY", "message": "API key is not authorized"})
    reply = await say(tg, "/pay 150000")
    assert reply.text is not None
    assert "refused this bot's API key" in reply.text
    assert XENDIT_KEY not in reply.text
    assert tg.buttons(reply) == []


async def test_xendit_400_shows_xendits_own_message(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    xendit.fail(
        400,
        body={
            "error_code": "INVALID_PAYMENT_CHANNEL",
            "message": "Channel(s) QRIS are not available",
        },
    )
    reply = await say(tg, "/pay 150000")
    assert reply.text is not None
    assert "Xendit refused the payment link: Channel(s) QRIS are not available" in reply.text


async def test_xendit_500_and_then_the_bot_keeps_working(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    xendit.fail(500)
    reply = await say(tg, "/pay 150000")
    assert reply.text is not None
    assert "Xendit is not answering right now" in reply.text
    failed = await repo_of(paybot).links_for_chat(MERCHANT)
    assert [link.status for link in failed] == [LinkStatus.FAILED]
    again = await say(tg, "/pay 150000")
    assert again.text is not None
    assert "Rp150.000" in again.text
    assert tg.buttons(again)[0].text == "Open payment page"


async def test_xendit_timeout_says_the_link_may_exist_and_shows_none(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    xendit.delay = 3.0  # the bot waits 2 s (XENDIT_TIMEOUT in the test settings)
    reply = await say(
        tg,
        "/pay 150000",
    )
    assert reply.text is not None
    assert "did not answer in time" in reply.text
    assert "may or may not exist" in reply.text
    assert tg.buttons(reply) == []
    # It was not retried blindly: exactly one POST /sessions.
    assert len([r for r in xendit.requests if r.path == "/sessions"]) == 1


async def test_a_connection_broken_after_the_request_is_not_retried(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    """Xendit got the request (and made the session) but the connection broke before its
    answer: the link may exist, so the bot must not make a second one, and must say so."""
    xendit.drop(times=1)
    reply = await say(tg, "/pay 150000")
    assert reply.text is not None
    assert "did not answer in time" in reply.text
    assert tg.buttons(reply) == []
    assert len([r for r in xendit.requests if r.path == "/sessions"]) == 1
    assert len(xendit.sessions) == 1  # made, and not shown yet
    link = await repo_of(paybot).get_link_by_reference(xendit.created()[-1]["reference_id"])
    assert link is not None
    # Not FAILED: the session may exist (here it does), so nothing may deny it.
    assert link.status is LinkStatus.PENDING
    assert link.session_id is None
    assert "connection to Xendit broke" in (link.failure or "")


async def test_xendit_unreachable(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await start_bot(xendit_api_url="http://127.0.0.1:9")  # nothing listens on port 9
    reply = await say(tg, "/pay 150000")
    assert reply.text is not None
    assert "Xendit is not answering right now" in reply.text


async def test_an_unexpected_error_reaches_the_error_handler_and_the_user(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    from bot.xendit import CreateSession, Session, XenditClient

    class BrokenClient(XenditClient):
        async def create_session(self, request: CreateSession) -> Session:
            raise RuntimeError("boom")

    import httpx

    await start_bot(xendit_client=BrokenClient(httpx.AsyncClient()))
    reply = await say(tg, "/pay 150000")
    assert reply.text is not None
    assert "Something went wrong on my side" in reply.text


# -- the webhook endpoint --------------------------------------------------------------------


async def post_webhook(
    app: Paybot, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, object]]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{app.url}/webhooks/xendit", data=body, headers=headers or {}) as response,
    ):
        return response.status, await response.json()


@pytest.mark.parametrize("token", [None, "wrong-token", ""])
async def test_webhook_with_missing_or_wrong_token_is_401_and_changes_nothing(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit, token: str | None
) -> None:
    _, sid = await make_link(tg, xendit)
    mark = tg.mark()
    event = xendit.build_session_event("payment_session.completed", sid)
    result = await xendit.send_webhook(event, token=token)
    assert result.status == 401
    assert result.json == {
        "error": "invalid_callback_token",
        "message": "missing or wrong x-callback-token",
    }
    assert await repo_of(paybot).count_events() == 0
    link = await repo_of(paybot).get_link_by_session(sid)
    assert link is not None
    assert link.status is LinkStatus.ACTIVE
    assert tg.outbox[mark:] == []


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b"{not json", "body"),
        (b"[]", "body"),
        (b'{"business_id": "x", "created": "2026-11-24T10:00:00Z", "data": {}}', "event"),
        (
            b'{"event": "payment_session.completed", "business_id": "x",'
            b' "created": "2026-11-24T10:00:00Z", "data": {"status": "COMPLETED"}}',
            "data.payment_session_id",
        ),
    ],
)
async def test_malformed_webhooks_are_400_with_a_json_error(
    paybot: Paybot, body: bytes, where: str
) -> None:
    status, answer = await post_webhook(paybot, body, {"x-callback-token": CALLBACK_TOKEN})
    assert status == 400
    assert answer["error"] == "malformed_webhook"
    assert str(answer["message"]).startswith(where)
    assert await repo_of(paybot).count_events() == 0


async def test_oversized_webhook_is_refused(paybot: Paybot) -> None:
    body = b'{"event": "payment_session.completed", "pad": "' + b"x" * 70_000 + b'"}'
    status, answer = await post_webhook(paybot, body, {"x-callback-token": CALLBACK_TOKEN})
    assert status == 413
    assert answer["error"] == "body_too_large"


async def test_unknown_session_and_unknown_event_are_acknowledged_and_ignored(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    _, sid = await make_link(tg, xendit)
    mark = tg.mark()
    event = xendit.build_session_event("payment_session.completed", sid)
    event["data"]["payment_session_id"] = "ps-000000000000000000000000"
    event["data"]["reference_id"] = "someone-elses-order"
    result = await xendit.send_webhook(event)
    assert result.status == 200
    assert result.json == {"received": True, "outcome": "unknown_session"}
    other = {**event, "event": "payment_method.activated"}
    result = await xendit.send_webhook(other)
    assert result.status == 200
    assert result.json == {"received": True, "outcome": "ignored"}
    assert tg.outbox[mark:] == []


async def test_the_same_webhook_five_times_gives_one_message(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    _, sid = await make_link(tg, xendit)
    await xendit.complete(sid, send_capture=False)
    event = xendit.build_session_event("payment_session.completed", sid)
    results = [await xendit.send_webhook(event) for _ in range(4)]
    assert [r.status for r in results] == [200] * 4
    assert [r.json["outcome"] for r in results] == ["duplicate"] * 4
    await tg.wait_message(MERCHANT, contains="PAID")
    await _all_notifications_settled(paybot)
    assert len([m for m in tg.messages(MERCHANT) if "PAID" in (m.text or "")]) == 1


async def test_five_concurrent_copies_of_a_webhook_give_one_message(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    _, sid = await make_link(tg, xendit)
    xendit.sessions[sid]["status"] = "COMPLETED"
    event = xendit.build_session_event("payment_session.completed", sid)
    results = await asyncio.gather(*(xendit.send_webhook(event) for _ in range(5)))
    assert [r.status for r in results] == [200] * 5
    outcomes = sorted(r.json["outcome"] for r in results)
    assert outcomes == ["accepted"] + ["duplicate"] * 4
    await tg.wait_message(MERCHANT, contains="PAID")
    await _all_notifications_settled(paybot)
    assert len([m for m in tg.messages(MERCHANT) if "PAID" in (m.text or "")]) == 1


async def _all_notifications_settled(app: Paybot) -> None:
    """Wait until the outbox worker has nothing left to do, then check nothing is pending."""
    assert app.worker is not None
    async with asyncio.timeout(5):
        await app.worker.wait_idle()
    assert await repo_of(app).notifications(status=NotificationStatus.PENDING) == []


# -- restarts ------------------------------------------------------------------------------


async def test_paid_message_survives_a_restart_between_webhook_and_delivery(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    first = await start_bot()
    _, sid = await make_link(tg, xendit)
    tg.outage(502, methods={"sendMessage"})
    result = await xendit.complete(sid)
    assert result.status == 200  # durable before the 200
    # The worker tried and failed: Telegram is down.
    await tg.wait_for(lambda: any(c.method == "sendMessage" and c.status == 502 for c in tg.calls))
    await first.stop()
    pending = tg.mark()
    tg.restore()

    second = await start_bot()
    paid = await tg.wait_message(MERCHANT, contains="PAID", since=pending, timeout=10)
    assert paid.text is not None
    assert "Rp150.000" in paid.text
    await _all_notifications_settled(second)
    assert len([m for m in tg.messages(MERCHANT) if "PAID" in (m.text or "")]) == 1


#: A database server's connections are PostgreSQL's alone (skipped without one).
ON_POSTGRESQL_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


async def database_server(
    database_url: str, *, drop_connections: bool = False, allow_connections: bool = True
) -> int:
    """Act as the PostgreSQL server's operator: let the test's database take connections or
    not, and close every connection it has (as a restart would). Returns how many closed."""
    url = make_url(database_url)
    admin = await asyncpg.connect(
        url.set(database="postgres").render_as_string(hide_password=False)
    )
    try:
        allow = "true" if allow_connections else "false"
        await admin.execute(f'ALTER DATABASE "{url.database}" ALLOW_CONNECTIONS {allow}')
        if not drop_connections:
            return 0
        closed: int = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1",
            url.database,
        )
        return closed
    finally:
        await admin.close()


@ON_POSTGRESQL_ONLY
async def test_the_bot_goes_on_after_the_database_server_drops_its_connections(
    start_bot: StartBot,
    tg: FakeTelegram,
    xendit: FakeXendit,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A PostgreSQL restart or fail-over closes every connection in the pool. The next
    webhook and the next /pay must get fresh ones, not fail on a dead one."""
    paybot = await start_bot()
    _, sid = await make_link(tg, xendit)
    dropped = await database_server(database_url, drop_connections=True)
    assert dropped >= 1  # the pool held connections, and the server closed them

    mark = tg.mark()
    capture = await xendit.send_webhook(xendit.build_payment_event("payment.capture", sid))
    assert capture.status == 200  # at the first attempt: no dead connection handed out
    result = await xendit.complete(sid, send_capture=False)
    assert result.status == 200
    paid = await tg.wait_message(MERCHANT, contains="PAID", since=mark)
    assert paid.text is not None
    assert "Rp150.000" in paid.text
    reply, second = await make_link(tg, xendit, "/pay 25000 es teh")
    assert reply.text is not None
    assert "Rp25.000" in reply.text
    link = await repo_of(paybot).get_link_by_session(second)
    assert link is not None
    assert link.status is LinkStatus.ACTIVE
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


@ON_POSTGRESQL_ONLY
@pytest.mark.parametrize("event", ["payment.capture", "payment_session.completed"])
async def test_a_webhook_whose_connection_the_server_closes_mid_write_is_written_again(
    start_bot: StartBot,
    tg: FakeTelegram,
    xendit: FakeXendit,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    event: str,
) -> None:
    """The server closes the connection while the bot is writing a webhook (a restart at the
    wrong moment). Recording a webhook can safely run twice, so the bot writes it again on a
    new connection: Xendit gets its 200 at the first attempt and the event is stored once."""
    paybot = await start_bot()
    _, sid = await make_link(tg, xendit)
    repo = repo_of(paybot)
    before = await repo.count_events()
    capture = xendit.build_payment_event("payment.capture", sid)

    async def deliver() -> WebhookResult:
        if event == "payment.capture":
            return await xendit.send_webhook(capture)
        return await xendit.complete(sid, send_capture=False)  # again: the same event

    mark = tg.mark()
    url = make_url(database_url)
    operator = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        blocker = operator.transaction()
        await blocker.start()
        await operator.execute("LOCK TABLE webhook_events IN EXCLUSIVE MODE")  # inserts wait
        webhook = asyncio.create_task(deliver())
        deadline = asyncio.get_running_loop().time() + 10
        while (
            writer := await operator.fetchval(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
        ) is None:
            assert asyncio.get_running_loop().time() < deadline, "the insert never waited"
            await asyncio.sleep(0.01)
        assert await operator.fetchval("SELECT pg_terminate_backend($1)", writer)
        await blocker.rollback()
        first = await asyncio.wait_for(webhook, 10)
    finally:
        await operator.close()
    assert first.status == 200, first.body
    assert first.json == {
        "received": True,
        "outcome": "recorded" if event == "payment.capture" else "accepted",
    }
    assert await repo.count_events() == before + 1
    again = await deliver()
    assert again.json == {"received": True, "outcome": "duplicate"}
    assert await repo.count_events() == before + 1
    if event == "payment_session.completed":
        paid = await tg.wait_message(MERCHANT, contains="PAID", since=mark)
        assert paid.text is not None
        assert "Rp150.000" in paid.text
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("closed a connection" in message for message in warnings)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


@ON_POSTGRESQL_ONLY
async def test_a_webhook_the_database_cannot_store_gets_503_and_its_redelivery_counts(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit, database_url: str
) -> None:
    """The database server is down: the webhook is not acknowledged (a JSON 503, so Xendit
    sends it again); once the server is back, the redelivery tells the merchant."""
    await start_bot()
    _, sid = await make_link(tg, xendit)
    await database_server(database_url, allow_connections=False, drop_connections=True)
    try:
        refused = await xendit.complete(sid, send_capture=False)
    finally:
        await database_server(database_url, allow_connections=True)
    assert refused.status == 503
    assert refused.json == {
        "error": "not_stored",
        "message": "the webhook could not be stored; send it again",
    }
    assert not [m for m in tg.messages(MERCHANT) if "PAID" in (m.text or "")]

    mark = tg.mark()
    again = await xendit.complete(sid, send_capture=False)
    assert again.status == 200
    paid = await tg.wait_message(MERCHANT, contains="PAID", since=mark)
    assert paid.text is not None
    assert "Rp150.000" in paid.text


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/pay 2m", "“2m” is unclear: did you mean Rp2.000.000?"),
        ("/pay 1m", "I can read “1m” more than one way"),
    ],
)
async def test_ambiguous_amounts_get_a_question_not_a_guess(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit, command: str, expected: str
) -> None:
    await start_bot(max_amount="1000000000")
    reply = await say(tg, command)
    assert reply.text is not None
    assert expected in reply.text
    # One button per reading, and a way out; see tests/test_amounts.py for pressing them.
    readings = [b.text for b in tg.buttons(reply)][:-1]
    assert readings == (["Rp1.000.000", "Rp1.000.000.000"] if "1m" in command else ["Rp2.000.000"])
    assert tg.buttons(reply)[-1].text == "None of these"
    assert xendit.requests == []
