"""Every chat handler, registered in one visible block, plus the error handler and the menu."""

from __future__ import annotations

import logging
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import i18n
from bot.languages import Languages
from bot.telegram.access import AccessGuard
from bot.telegram.chats import ChatEvents
from bot.telegram.language import LanguageCommands
from bot.telegram.manage import ManageCommands
from bot.telegram.pay import PayCommands
from bot.telegram.share import ShareInline

log = logging.getLogger(__name__)

#: The handler group that notes what updates say about their chats: first of all.
CHATS_GROUP = -2
#: The handler group of the access guard: before the handlers (group 0).
ACCESS_GROUP = -1

#: The command menu, in this order.
MENU = ("pay", "links", "unpaid", "today", "status", "cancel", "export", "language", "help")


def register(
    application: Application[Any, Any, Any, Any, Any, Any],
    *,
    chats: ChatEvents,
    access: AccessGuard,
    pay: PayCommands,
    manage: ManageCommands,
    share: ShareInline,
    language: LanguageCommands,
) -> None:
    # Group -2, first for every update: chats that moved (group -> supergroup) or can hear
    # us again (a merchant who blocked the bot is back) get their notifications.
    application.add_handler(TypeHandler(Update, chats.seen), group=CHATS_GROUP)
    # Group -1, before every handler and for every kind of update: strangers are refused
    # here (ApplicationHandlerStop), so no handler below checks access again.
    application.add_handler(TypeHandler(Update, access.check), group=ACCESS_GROUP)
    handlers: list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]] = [
        # Edits act on nothing (CommandHandler would run an edited /pay again: a second link).
        MessageHandler(filters.UpdateType.EDITED_MESSAGE, pay.edited),
        *pay.handlers(),  # /start /help /pay, card buttons
        *manage.handlers(),  # /links /unpaid /status /cancel /today /export
        *share.handlers(),  # inline mode: share a link with the customer
        *language.handlers(),  # /language
        # Last: any button nobody above took (old keyboards, forged or malformed data).
        CallbackQueryHandler(access.stale_button),
        # Last: new text or a command nobody above took gets a hint pointing to /help (not
        # what the merchant shares through inline mode: that is a message via this bot).
        MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT & ~filters.VIA_BOT, pay.unknown),
    ]
    application.add_handlers(handlers)
    application.add_error_handler(on_error)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log any unexpected exception and tell the user something went wrong."""
    log.error("unhandled error while handling an update", exc_info=context.error)
    if not isinstance(update, Update):
        return
    language = i18n.language_for(
        update.effective_user.language_code if update.effective_user else None
    )
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(
                i18n.text(language, "internal_error"), show_alert=True
            )
        elif update.effective_chat is not None:
            await context.bot.send_message(
                update.effective_chat.id, i18n.text(language, "internal_error")
            )
    except Exception:
        log.exception("could not tell the user about the error")


async def set_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The command menu, in every language we speak (English is the default)."""
    for lang in i18n.LANGUAGES:
        commands = [BotCommand(name, i18n.text(lang, f"cmd_{name}")) for name in MENU]
        await application.bot.set_my_commands(
            commands, language_code=None if lang == i18n.DEFAULT_LANGUAGE else lang
        )


__all__ = ["Languages", "on_error", "register", "set_commands"]
