"""What an update says about its chat: it moved (a group became a supergroup), or it can hear
the bot again (a merchant who had blocked the bot writes to it)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot.notifications import NotificationWorker

log = logging.getLogger(__name__)


class ChatEvents:
    """Runs first for every update (handler group -2, before the access guard: a group's
    migration is news whoever upgraded it). Never stops an update, never fails one."""

    def __init__(self, worker: NotificationWorker) -> None:
        self._worker = worker

    async def seen(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat, message = update.effective_chat, update.effective_message
        if chat is None:
            return
        try:
            if message is not None and message.migrate_to_chat_id:
                await self._worker.chat_migrated(chat.id, message.migrate_to_chat_id)
            elif message is not None and message.migrate_from_chat_id:
                await self._worker.chat_migrated(message.migrate_from_chat_id, chat.id)
            else:
                await self._worker.chat_seen(chat.id)
        except Exception:  # the update itself must still be handled
            log.exception("could not take note of chat %d", chat.id)
