"""Shared fixtures: the fakes on 127.0.0.1, settings pointing at them, and the real bot."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

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

#: A PostgreSQL database the tests may create databases next to, e.g.
#: ``postgresql://postgres@127.0.0.1:5432/test``. Unset: the PostgreSQL runs are skipped.
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
_NO_POSTGRES = "TEST_DATABASE_URL is not set (PostgreSQL tests skipped)"

StartBot = Callable[..., Awaitable[Paybot]]


@pytest_asyncio.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=BOT_TOKEN) as fake:
        yield fake


@pytest_asyncio.fixture
async def xendit() -> AsyncIterator[FakeXendit]:
    async with FakeXendit(secret_key=XENDIT_KEY, callback_token=CALLBACK_TOKEN) as fake:
        yield fake


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """A new, empty database on the ``TEST_DATABASE_URL`` server, dropped afterwards.

    ``CREATE DATABASE paybot_t_<hex>`` from ``template0`` (about 50 ms) gives every test the
    same blank start the SQLite file gives, whatever an earlier test left behind.
    """
    if not TEST_DATABASE_URL:
        pytest.skip(_NO_POSTGRES)
    admin_url = make_url(TEST_DATABASE_URL).set(drivername="postgresql")
    name = f"paybot_t_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(admin_url.render_as_string(hide_password=False))
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    finally:
        await admin.close()
    try:
        yield make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(admin_url.render_as_string(hide_password=False))
        try:
            # FORCE: a test that failed half-way may still hold connections.
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest_asyncio.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql", marks=pytest.mark.skipif(not TEST_DATABASE_URL, reason=_NO_POSTGRES)
        ),
    ]
)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Every test that touches the database runs on SQLite, and also on PostgreSQL when
    ``TEST_DATABASE_URL`` names one (each test in a fresh database of its own)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'paybot.db'}"
        return
    async with fresh_postgres_database() as url:
        yield url


@pytest_asyncio.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for PostgreSQL-only tests (skipped without one)."""
    async with fresh_postgres_database() as url:
        yield url


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


#: The apps the running test has started (see :func:`handled`).
STARTED: list[Paybot] = []


async def handled() -> None:
    """Wait until the test's apps have finished handling what they have answered: a /pay
    reply comes as soon as the link exists, and the card's message id is stored after."""
    async with asyncio.timeout(10):
        for app in STARTED:
            await app.updates_handled()


@pytest_asyncio.fixture
async def start_bot(
    make_settings: Callable[..., Settings], xendit: FakeXendit
) -> AsyncIterator[StartBot]:
    """Start the whole app exactly as ``python -m bot`` does; stopped at the end of the test."""
    running: list[Paybot] = []

    async def start(
        *,
        xendit_client: XenditClient | None = None,
        clock: Callable[[], datetime] | None = None,
        **overrides: Any,
    ) -> Paybot:
        extra: dict[str, Any] = {} if clock is None else {"clock": clock}
        app = Paybot(make_settings(**overrides), xendit=xendit_client, **extra)
        await app.start()
        running.append(app)
        STARTED.append(app)
        xendit.webhook_url = f"{app.url}/webhooks/xendit"
        return app

    yield start
    for app in running:
        STARTED.remove(app)
        await app.stop()


@pytest_asyncio.fixture
async def paybot(start_bot: StartBot) -> Paybot:
    return await start_bot()
