"""Sends a :class:`bot.views.Reply` with PTB, mapping Telegram's errors for the worker."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)

from bot.notifications import UNREACHABLE, DeliveryError
from bot.views import TEXT_LIMIT, Button, Delivery, Reply, clip_plain

#: 400s that mean the chat itself is gone: no other form of the message can get through.
_CHAT_GONE = (
    "chat not found",
    "peer_id_invalid",
    "user is deactivated",
    "bot was blocked",
    "bot was kicked",
    "chat was deactivated",
    "chat is deactivated",
)
#: 400s of an edit whose message is gone or not ours: the card cannot be edited, ever.
_MESSAGE_GONE = (
    "message to edit not found",
    "message can't be edited",
    "message_id_invalid",
)
_TAG = re.compile(r"<[^>]*>")


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The reply's buttons as an inline keyboard (None when there are none)."""
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup([[_button(b) for b in row] for row in reply.buttons])


def _button(button: Button) -> InlineKeyboardButton:
    if button.url is not None:
        return InlineKeyboardButton(button.label, url=button.url)
    if button.switch_inline is not None:
        return InlineKeyboardButton(button.label, switch_inline_query=button.switch_inline)
    return InlineKeyboardButton(button.label, callback_data=button.callback)


def plain_text(html_text: str) -> str:
    """Telegram HTML as the plain text it shows: tags dropped, entities decoded."""
    return html.unescape(_TAG.sub("", html_text))


def _is_any(message: str, needles: tuple[str, ...]) -> bool:
    lowered = message.lower()
    return any(needle in lowered for needle in needles)


class TelegramSender:
    """Delivers the outbox: new messages, and edits of a link's payment card."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def deliver(self, chat_id: int, delivery: Delivery) -> int | None:
        """Send (or edit) the delivery's message; the id of the message sent or edited.

        A 400 other than a vanished chat (too long, HTML Telegram cannot parse, a button it
        refuses) never drops it: the same words go again as plain text, then without
        buttons; still refused, it is retried later."""
        reply = delivery.reply
        plain = clip_plain(plain_text(reply.text), TEXT_LIMIT)
        attempts: list[tuple[str, ParseMode | None, InlineKeyboardMarkup | None]] = [
            (reply.text, ParseMode.HTML, keyboard(reply)),
            (plain, None, keyboard(reply)),
        ]
        if reply.buttons:
            attempts.append((plain, None, None))
        for number, (text, parse_mode, markup) in enumerate(attempts, start=1):
            try:
                return await self._send(chat_id, delivery, text, parse_mode, markup)
            except RetryAfter as exc:
                wait = exc.retry_after
                seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
                raise DeliveryError(str(exc), retry_after=seconds) from exc
            except Forbidden as exc:  # blocked, kicked: until the chat writes to us again
                raise DeliveryError(f"{UNREACHABLE}: {exc}", permanent=True) from exc
            except ChatMigrated as exc:  # a group became a supergroup: its messages follow it
                raise DeliveryError(
                    f"chat migrated to {exc.new_chat_id}", migrated_to=int(exc.new_chat_id)
                ) from exc
            except InvalidToken as exc:
                raise DeliveryError(str(exc)) from exc
            except BadRequest as exc:
                if "not modified" in exc.message.lower():
                    return delivery.edit_message_id  # the card already shows this: done
                if _is_any(exc.message, _CHAT_GONE):  # until the chat writes to us again
                    raise DeliveryError(f"{UNREACHABLE}: {exc}", permanent=True) from exc
                if delivery.edit_message_id is not None and _is_any(exc.message, _MESSAGE_GONE):
                    raise DeliveryError(str(exc), permanent=True) from exc
                if number == len(attempts):
                    # Even the plainest form was refused: keep it, and try again later.
                    raise DeliveryError(str(exc)) from exc
            except TelegramError as exc:  # NetworkError, TimedOut, 5xx
                raise DeliveryError(str(exc)) from exc
        raise AssertionError("the last attempt returns or raises")

    async def _send(
        self,
        chat_id: int,
        delivery: Delivery,
        text: str,
        parse_mode: ParseMode | None,
        markup: InlineKeyboardMarkup | None,
    ) -> int:
        # parse_mode=None, given explicitly, overrides the bot's default (HTML): plain text.
        if delivery.edit_message_id is None:
            sent = await self._bot.send_message(
                chat_id, text, parse_mode=parse_mode, reply_markup=markup
            )
            return sent.message_id
        await self._bot.edit_message_text(
            text,
            chat_id=chat_id,
            message_id=delivery.edit_message_id,
            parse_mode=parse_mode,
            reply_markup=markup,
        )
        return delivery.edit_message_id
