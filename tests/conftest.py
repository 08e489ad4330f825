"""Shared fixtures: the fakes on 127.0.0.1, settings pointing at them, and the real bot."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.app import Paybot
from bot.config import Settings, load_settings
from bot.xendit import XenditClient
from tests.fakes import FakeTelegram, FakeXendit

os.environ["PTB_TIMEDELTA"] = "true"

BOT_TOKEN = "123456:TEST-TOKEN"
XENDIT_KEY = "xnd_development_fake_secret"
CALLBACK_TOKEN = "fake-callback-token"
MERCHANT = 1001  # in ALLOWED_USER_IDS
STRANGER = 2002  # not allowed

StartBot = Callable[..., Awaitable[Paybot]]


@pytest_asyncio.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=BOT_TOKEN) as fake:
        yield fake


@pytest_asyncio.fixture
async def xendit() -> AsyncIterator[FakeXendit]:
    async with FakeXendit(secret_key=XENDIT_KEY, callback_token=CALLBACK_TOKEN) as fake:
        yield fake


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'paybot.db'}"


@pytest.fixture
def make_settings(
    tg: FakeTelegram, xendit: FakeXendit, database_url: str
) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "_env_file": None,
            "telegram_bot_token": BOT_TOKEN,
            "xendit_secret_key": XENDIT_KEY,
            "xendit_callback_token": CALLBACK_TOKEN,
            "database_url": database_url,
            "host": "127.0.0.1",
            "port": 0,
            "telegram_api_url": tg.url,
            "xendit_api_url": xendit.url,
            "allowed_user_ids": str(MERCHANT),
            "xendit_timeout": 2.0,
        }
        values.update(overrides)
        return load_settings(**values)

    return make


@pytest_asyncio.fixture
async def start_bot(
    make_settings: Callable[..., Settings], xendit: FakeXendit
) -> AsyncIterator[StartBot]:
    """Start the whole app exactly as ``python -m bot`` does; stopped at the end of the test."""
    running: list[Paybot] = []

    async def start(*, xendit_client: XenditClient | None = None, **overrides: Any) -> Paybot:
        app = Paybot(make_settings(**overrides), xendit=xendit_client)
        await app.start()
        running.append(app)
        xendit.webhook_url = f"{app.url}/webhooks/xendit"
        return app

    yield start
    for app in running:
        await app.stop()


@pytest_asyncio.fixture
async def paybot(start_bot: StartBot) -> Paybot:
    return await start_bot()
