"""Sends a :class:`bot.views.Reply` with PTB, mapping Telegram's errors for the worker."""

from __future__ import annotations

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

from bot.notifications import DeliveryError
from bot.views import Reply


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, url=b.url) for b in row] for row in reply.buttons]
    )


class TelegramSender:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(self, chat_id: int, reply: Reply) -> None:
        try:
            await self._bot.send_message(
                chat_id,
                reply.text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(reply),
            )
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            raise DeliveryError(str(exc), retry_after=seconds) from exc
        except Forbidden as exc:
            raise DeliveryError(str(exc), permanent=True) from exc
        except ChatMigrated as exc:
            raise DeliveryError(f"chat migrated to {exc.new_chat_id}", permanent=True) from exc
        except InvalidToken as exc:
            raise DeliveryError(str(exc)) from exc
        except BadRequest as exc:
            # "chat not found" and the like, but any 400 is final: the same request would
            # be refused again.
            raise DeliveryError(str(exc), permanent=True) from exc
        except TelegramError as exc:  # NetworkError, TimedOut, 5xx
            raise DeliveryError(str(exc)) from exc
