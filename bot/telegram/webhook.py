"""``POST /webhooks/telegram`` (``TELEGRAM_MODE=webhook`` only): Telegram's updates into PTB."""

from __future__ import annotations

import asyncio
import json
import logging

from aiohttp import web
from pydantic import SecretStr
from telegram import Bot, Update

from bot.web import secret_matches

log = logging.getLogger(__name__)

PATH = "/webhooks/telegram"
#: A Telegram update carries at most a few messages of 4096 characters; 1 MiB is ample.
MAX_UPDATE_BYTES = 1024 * 1024


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


class TelegramWebhook:
    """Check Telegram's secret header, queue the update for PTB's handlers and answer 200 at
    once.

    The handlers run on the Application's own consumer task, so a slow ``/pay`` never keeps
    Telegram waiting (it would resend the update after a timeout).
    """

    def __init__(self, bot: Bot, update_queue: asyncio.Queue[object], secret: SecretStr) -> None:
        self._bot = bot
        self._queue = update_queue
        self._secret = secret.get_secret_value().encode()

    def route(self) -> web.RouteDef:
        return web.post(PATH, self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        if not secret_matches(given, self._secret):
            log.warning("Telegram update refused: bad secret token from %s", request.remote)
            return _error(
                401, "invalid_secret_token", "missing or wrong X-Telegram-Bot-Api-Secret-Token"
            )
        if request.content_length is not None and request.content_length > MAX_UPDATE_BYTES:
            return _error(413, "body_too_large", "update too large")
        # Read the stream ourselves: updates may be larger than the app-wide body limit.
        body = bytearray()
        async for chunk in request.content.iter_any():
            body += chunk
            if len(body) > MAX_UPDATE_BYTES:
                return _error(413, "body_too_large", "update too large")
        try:
            data = json.loads(body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an Update object")
            update = Update.de_json(data, self._bot)
        except Exception as exc:  # JSON or PTB's parsing: either way the body is not an Update
            return _error(400, "malformed_update", f"not a Telegram Update ({type(exc).__name__})")
        await self._queue.put(update)
        return web.Response(status=200)
