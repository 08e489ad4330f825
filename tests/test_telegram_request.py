"""The bot's Bot API requests (``bot.telegram.request.AiohttpRequest``) as they go on the wire:
JSON for calls without files, a multipart form with them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile

from bot.sandbox.common import serving
from bot.telegram.request import AiohttpRequest

TOKEN = "123:abc"


class Recorder:
    """A Bot API stand-in that keeps each request's content type and raw body."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, bytes]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(
            (request.match_info["method"], request.content_type, await request.read())
        )
        result: dict[str, Any] = {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 5, "type": "private"},
            "text": "ok",
        }
        if request.match_info["method"] == "getMe":
            result = {"id": 123, "is_bot": True, "first_name": "paybot", "username": "paybot"}
        return web.json_response({"ok": True, "result": result})


@pytest.fixture
async def api() -> AsyncIterator[tuple[Recorder, str]]:
    recorder = Recorder()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", recorder.handle)
    async with serving(app) as url:
        yield recorder, f"{url}/bot"


async def test_a_call_without_files_is_json_with_its_values_as_they_are(
    api: tuple[Recorder, str],
) -> None:
    recorder, base_url = api
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Pay", url="https://x.test/p?a=1&b=2")]])
    async with Bot(TOKEN, base_url=base_url, request=AiohttpRequest()) as bot:
        await bot.send_message(
            5,
            "💸 <b>Rp150.000</b> kopi & roti",
            parse_mode="HTML",
            reply_markup=keyboard,
            disable_notification=True,
        )
    method, content_type, body = recorder.requests[-1]
    assert (method, content_type) == ("sendMessage", "application/json")
    assert json.loads(body) == {
        "chat_id": 5,
        "text": "💸 <b>Rp150.000</b> kopi & roti",
        "parse_mode": "HTML",
        "disable_notification": True,
        "reply_markup": {"inline_keyboard": [[{"text": "Pay", "url": "https://x.test/p?a=1&b=2"}]]},
    }


async def test_a_call_with_a_file_is_a_multipart_form(api: tuple[Recorder, str]) -> None:
    recorder, base_url = api
    async with Bot(TOKEN, base_url=base_url, request=AiohttpRequest()) as bot:
        await bot.send_photo(5, InputFile(b"\x89PNG fake", filename="qr.png"), caption="QR")
    method, content_type, body = recorder.requests[-1]
    assert (method, content_type) == ("sendPhoto", "multipart/form-data")
    assert b"\x89PNG fake" in body
    assert b'name="caption"' in body
