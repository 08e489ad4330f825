"""``python -m bot sandbox``: the real bot against local stand-ins, in a browser.

No tokens, no accounts, no network: a stand-in Telegram Bot API and a stand-in Xendit run on
127.0.0.1, the bot keeps its data in a temporary SQLite file, and one address shows the
shop's chats (its owner's, a cashier's, its group) beside the customer's phone. The owner is
in ``ALLOWED_USER_IDS``; the cashier joins the way a real one does, through an invite link.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import tempfile
from pathlib import Path

from aiohttp import web

from bot.app import Paybot
from bot.config import load_settings
from bot.sandbox.telegram import FakeTelegram
from bot.sandbox.ui import MERCHANT_ID, SandboxUI
from bot.sandbox.xendit import FakeXendit

log = logging.getLogger(__name__)


class Sandbox:
    """Everything the sandbox runs; ``url`` is the one address to open."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 8000) -> None:
        self._host, self._port = host, port
        self._tmp = tempfile.TemporaryDirectory(prefix="paybot-sandbox-")
        self.telegram = FakeTelegram(token="424242:SANDBOX", bot_username="paybot_sandbox_bot")
        self.xendit = FakeXendit(
            secret_key="xnd_development_sandbox",
            callback_token="sandbox-callback-token",
            validate_schemas=None,
        )
        # The sandbox's return page is on http://127.0.0.1 (real Xendit requires https).
        self.xendit.allow_http_return_urls = True
        self.bot: Paybot | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        await self.telegram.start()
        await self.xendit.start()
        ui = SandboxUI(self.telegram, self.xendit, bot_url=lambda: self._bot().url)
        self._runner = web.AppRunner(ui.app(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        # Payment links and the customer's return page live at this one address too.
        self.xendit.checkout_base = f"{self.url}/checkout"
        settings = load_settings(
            sandbox=True,
            _env_file=None,
            telegram_bot_token=self.telegram.token,
            xendit_secret_key=self.xendit.secret_key,
            xendit_callback_token=self.xendit.callback_token,
            database_url=f"sqlite:///{Path(self._tmp.name) / 'sandbox.db'}",
            host="127.0.0.1",
            port=0,
            public_url=self.url,
            telegram_api_url=self.telegram.url,
            xendit_api_url=self.xendit.url,
            allowed_user_ids=str(MERCHANT_ID),
            shop_name="Warung Sari",
            xendit_rate_limit=6000,
        )
        self.bot = Paybot(settings)
        await self.bot.start()
        self.xendit.webhook_url = f"{self.bot.url}/webhooks/xendit"

    def _bot(self) -> Paybot:
        assert self.bot is not None, "sandbox not started"
        return self.bot

    async def stop(self) -> None:
        if self.bot is not None:
            await self.bot.stop()
        if self._runner is not None:
            await self._runner.cleanup()
        await self.xendit.stop()
        await self.telegram.stop()
        self._tmp.cleanup()


async def serve_sandbox(host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    sandbox = Sandbox(host=host, port=port)
    try:
        await sandbox.start()
        print(f"paybot sandbox: open {sandbox.url} in a browser (Ctrl+C to stop)", flush=True)
        await stop.wait()
    finally:
        with contextlib.suppress(Exception):
            await sandbox.stop()
