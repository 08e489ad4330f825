"""The bot as deployed (``python -m bot``, its own process) against the stand-ins, for the
benchmarks that measure it from outside."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bot.sandbox.telegram import FakeTelegram
from bot.sandbox.xendit import FakeXendit

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class BotProcess:
    process: asyncio.subprocess.Process
    url: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_healthy(url: str) -> None:
    async with aiohttp.ClientSession() as http, asyncio.timeout(30):
        while True:
            try:
                async with http.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)


@asynccontextmanager
async def bot_process(
    tg: FakeTelegram,
    xendit: FakeXendit,
    *,
    database_url: str,
    allowed_user_ids: str,
    cwd: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> AsyncIterator[BotProcess]:
    """Start ``python -m bot`` on a free port, wait until it is healthy; SIGTERM it after.

    It uses Xendit's live rate limit (600 a minute) although the stand-in's key is a test key.
    """
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "XENDIT_"))
    }
    env.update(
        {
            "TELEGRAM_BOT_TOKEN": tg.token,
            "XENDIT_SECRET_KEY": xendit.secret_key,
            "XENDIT_CALLBACK_TOKEN": xendit.callback_token,
            "TELEGRAM_API_URL": tg.url,
            "XENDIT_API_URL": xendit.url,
            "DATABASE_URL": database_url,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "ALLOWED_USER_IDS": allowed_user_ids,
            "XENDIT_RATE_LIMIT": "600",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
            **(extra_env or {}),
        }
    )
    # -P: the current directory does not come first on sys.path, so the bot is the code
    # beside this file (PYTHONPATH), even when run from another checkout's directory.
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-P",
        "-m",
        "bot",
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy(url)
        yield BotProcess(process, url)
    finally:
        process.terminate()
        await process.wait()
