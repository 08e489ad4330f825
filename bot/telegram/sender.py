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
from bot.views import Button, Delivery, Reply


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


class TelegramSender:
    """Delivers the outbox: new messages, and edits of a link's payment card."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def deliver(self, chat_id: int, delivery: Delivery) -> int | None:
        """Send or edit; the id of the message sent or edited."""
        reply = delivery.reply
        try:
            if delivery.edit_message_id is None:
                sent = await self._bot.send_message(
                    chat_id, reply.text, parse_mode=ParseMode.HTML, reply_markup=keyboard(reply)
                )
                return sent.message_id
            await self._bot.edit_message_text(
                reply.text,
                chat_id=chat_id,
                message_id=delivery.edit_message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(reply),
            )
            return delivery.edit_message_id
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
            if "not modified" in exc.message.lower():
                return delivery.edit_message_id  # the card already shows this: done
            # "chat not found", "message to edit not found" and the like: any 400 is final,
            # the same request would be refused again.
            raise DeliveryError(str(exc), permanent=True) from exc
        except TelegramError as exc:  # NetworkError, TimedOut, 5xx
            raise DeliveryError(str(exc)) from exc
