"""TELEGRAM_MODE=webhook: Telegram POSTs updates to ``/webhooks/telegram`` on our own server.

The fake Telegram records ``setWebhook`` and answers ``getUpdates`` with 409 while a webhook is
set, like the real one. The tests build each update with the fake (as Telegram would) and POST
it themselves, to whichever instance they choose.
"""

from __future__ import annotations

import json
import re
from typing import Any

import aiohttp
import pytest
from telegram import Update

from bot.app import Paybot
from bot.config import ConfigError, load_settings
from tests.conftest import BOT_TOKEN, CALLBACK_TOKEN, MERCHANT, STRANGER, XENDIT_KEY, StartBot
from tests.fakes import FakeTelegram, FakeXendit
from tests.fakes.telegram import Sent

PUBLIC_URL = "https://paybot.example.com"
SECRET = "s3cret_-Token"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK = {"telegram_mode": "webhook", "public_url": PUBLIC_URL}


def telegram_update(tg: FakeTelegram, chat_id: int, text: str, **kw: Any) -> dict[str, Any]:
    """The Update Telegram would POST when a user writes ``text`` (built by the fake, and
    taken off its getUpdates queue: in webhook mode nothing polls)."""
    update_id = tg.push_message(chat_id, text, **kw)
    [update] = [u for u in tg.updates if u["update_id"] == update_id]
    tg.updates.remove(update)
    return update


async def post_update(
    app: Paybot,
    update: dict[str, Any] | bytes,
    *,
    secret: str | None,
    http: aiohttp.ClientSession | None = None,
) -> tuple[int, str]:
    """POST an update to ``app`` the way Telegram does; returns (status, body)."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    data = update if isinstance(update, bytes) else json.dumps(update).encode()
    own = http is None
    session = http or aiohttp.ClientSession()
    try:
        async with session.post(
            f"{app.url}/webhooks/telegram", data=data, headers=headers
        ) as response:
            return response.status, await response.text()
    finally:
        if own:
            await session.close()


async def say_via_webhook(
    app: Paybot, tg: FakeTelegram, text: str, *, chat_id: int = MERCHANT, secret: str = SECRET
) -> Sent:
    """Type ``text`` as the user; Telegram POSTs it to ``app``; return the bot's reply."""
    mark = tg.mark()
    status, _ = await post_update(app, telegram_update(tg, chat_id, text), secret=secret)
    assert status == 200
    return await tg.wait_message(chat_id, since=mark)


@pytest.fixture
async def webhook_bot(start_bot: StartBot) -> Paybot:
    return await start_bot(**WEBHOOK, telegram_webhook_secret=SECRET)


# -- start-up ------------------------------------------------------------------------------


async def test_start_up_sets_the_webhook_with_url_secret_and_all_update_types(
    webhook_bot: Paybot, tg: FakeTelegram
) -> None:
    assert tg.webhook is not None
    assert tg.webhook["url"] == f"{PUBLIC_URL}/webhooks/telegram"
    assert tg.webhook["secret_token"] == SECRET
    assert sorted(json.loads(tg.webhook["allowed_updates"])) == sorted(Update.ALL_TYPES)
    assert len(tg.calls_for("setWebhook")) == 1
    # No Updater: nothing polls, and nothing deletes the webhook.
    assert tg.calls_for("getUpdates") == []
    assert tg.calls_for("deleteWebhook") == []
    assert webhook_bot.telegram is not None
    assert webhook_bot.telegram.updater is None


async def test_public_url_with_a_path_keeps_the_path(start_bot: StartBot, tg: FakeTelegram) -> None:
    await start_bot(telegram_mode="webhook", public_url="https://example.com/shop/paybot/")
    assert tg.webhook is not None
    assert tg.webhook["url"] == "https://example.com/shop/paybot/webhooks/telegram"


async def test_without_a_configured_secret_one_is_derived_from_the_token(
    start_bot: StartBot, tg: FakeTelegram
) -> None:
    app = await start_bot(**WEBHOOK)
    assert tg.webhook is not None
    secret = tg.webhook["secret_token"]
    assert re.fullmatch(r"[0-9a-f]{64}", secret)  # Telegram's alphabet, 1-256 characters
    assert BOT_TOKEN.split(":")[1] not in secret
    assert secret == app.settings.effective_telegram_webhook_secret.get_secret_value()
    # The same on every instance with this token, and it is accepted.
    again = load_settings(
        _env_file=None,
        telegram_bot_token=BOT_TOKEN,
        xendit_secret_key=XENDIT_KEY,
        xendit_callback_token=CALLBACK_TOKEN,
    )
    assert again.effective_telegram_webhook_secret.get_secret_value() == secret
    reply = await say_via_webhook(app, tg, "/start", chat_id=MERCHANT, secret=secret)
    assert reply.text is not None
    assert str(MERCHANT) in reply.text


async def test_healthz_reports_webhook_mode(webhook_bot: Paybot) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{webhook_bot.url}/healthz") as r:
        assert r.status == 200
        assert await r.json() == {"status": "ok", "telegram": "webhook", "database": "ok"}


# -- updates -------------------------------------------------------------------------------


async def test_start_posted_with_the_secret_gets_the_normal_reply(
    webhook_bot: Paybot, tg: FakeTelegram
) -> None:
    mark = tg.mark()
    status, body = await post_update(
        webhook_bot, telegram_update(tg, MERCHANT, "/start"), secret=SECRET
    )
    assert (status, body) == (200, "")  # at once, and no "method" for Telegram to run
    reply = await tg.wait_message(MERCHANT, since=mark)
    assert reply.text is not None
    assert "/pay 150000 kopi susu" in reply.text
    assert str(MERCHANT) in reply.text
    assert tg.calls_for("getUpdates") == []


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", SECRET[:-1]])
async def test_missing_or_wrong_secret_is_401_and_nothing_is_answered(
    webhook_bot: Paybot, tg: FakeTelegram, secret: str | None
) -> None:
    mark = tg.mark()
    status, body = await post_update(
        webhook_bot, telegram_update(tg, MERCHANT, "/pay 150000 kopi"), secret=secret
    )
    assert status == 401
    assert json.loads(body)["error"] == "invalid_secret_token"
    # A genuine update afterwards is answered, and it is the only answer.
    help_ = await say_via_webhook(webhook_bot, tg, "/help")
    assert help_.text is not None
    assert "/pay" in help_.text
    assert [m.text for m in tg.outbox[mark:]] == [help_.text]


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'"text"', b"{}", b'{"update_id": "x"}', b"\xff\xfe"],
    ids=["broken", "array", "string", "no-update-id", "bad-update-id", "not-utf8"],
)
async def test_malformed_updates_are_400(
    webhook_bot: Paybot, tg: FakeTelegram, body: bytes
) -> None:
    status, text = await post_update(webhook_bot, body, secret=SECRET)
    assert status == 400
    assert json.loads(text)["error"] == "malformed_update"


async def test_pay_works_end_to_end_in_webhook_mode(
    webhook_bot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    card = await say_via_webhook(webhook_bot, tg, "/pay 150000 kopi susu")
    assert card.text is not None
    assert "Rp150.000" in card.text
    session = xendit.session_by_reference(xendit.created()[-1]["reference_id"])
    assert session["payment_link_url"] in card.text
    mark = tg.mark()
    result = await xendit.complete(session["payment_session_id"], channel_code="QRIS")
    assert result.status == 200
    paid = await tg.wait_message(MERCHANT, contains="PAID", since=mark)
    assert paid.text is not None
    assert "Rp150.000" in paid.text
    assert "QRIS" in paid.text
    assert tg.calls_for("getUpdates") == []


async def test_stopping_leaves_the_webhook_set_for_other_instances(
    webhook_bot: Paybot, tg: FakeTelegram
) -> None:
    await webhook_bot.stop()
    assert tg.webhook is not None
    assert tg.webhook["url"] == f"{PUBLIC_URL}/webhooks/telegram"
    assert tg.calls_for("deleteWebhook") == []


async def test_polling_mode_has_no_telegram_webhook_route(paybot: Paybot, tg: FakeTelegram) -> None:
    secret = paybot.settings.effective_telegram_webhook_secret.get_secret_value()
    mark = tg.mark()
    status, _ = await post_update(paybot, telegram_update(tg, STRANGER, "/start"), secret=secret)
    assert status == 404
    assert tg.webhook is None
    # The update was never queued anywhere: the poller has nothing to answer either.
    assert tg.outbox[mark:] == []


# -- settings ------------------------------------------------------------------------------


def _settings(**values: Any) -> Any:
    return load_settings(
        _env_file=None,
        telegram_bot_token=BOT_TOKEN,
        xendit_secret_key=XENDIT_KEY,
        xendit_callback_token=CALLBACK_TOKEN,
        **values,
    )


@pytest.mark.parametrize("secret", ["has space", "dots.are.not.allowed", "é", "x" * 257, ""])
def test_an_invalid_webhook_secret_is_refused_without_printing_it(secret: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _settings(**WEBHOOK, telegram_webhook_secret=secret)
    assert "TELEGRAM_WEBHOOK_SECRET" in str(caught.value)
    if secret:
        assert secret not in str(caught.value)


def test_a_valid_webhook_secret_is_used_as_given() -> None:
    secret = "A-z_09" * 42 + "abcd"  # 256 characters
    settings = _settings(**WEBHOOK, telegram_webhook_secret=secret)
    assert settings.effective_telegram_webhook_secret.get_secret_value() == secret
    assert secret not in repr(settings)


def test_webhook_mode_needs_public_url() -> None:
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        _settings(telegram_mode="webhook")
