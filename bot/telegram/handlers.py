"""Every chat handler, registered in one visible block, plus the error handler and the menu."""

from __future__ import annotations

import logging
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import i18n, views
from bot.errors import Problem
from bot.money import get_currency
from bot.payments import LinkNotFound, PaymentService
from bot.shop_settings import SettingRefused
from bot.team import OwnersOnly
from bot.telegram import settings as settings_handlers
from bot.telegram.access import AccessGuard
from bot.telegram.chats import ChatEvents
from bot.telegram.common import People, answer, edit, send, toast
from bot.telegram.group import GroupCommands
from bot.telegram.language import LanguageCommands
from bot.telegram.manage import ManageCommands
from bot.telegram.pay import PayCommands
from bot.telegram.settings import SettingsCommands
from bot.telegram.share import ShareInline
from bot.telegram.team import START_WITH_CODE, USER_ID, TeamCommands
from bot.views import Reply

log = logging.getLogger(__name__)

#: The handler group that notes what updates say about their chats: first of all.
CHATS_GROUP = -2
#: The handler group of the access guard: before the handlers (group 0).
ACCESS_GROUP = -1

#: The command menu, in this order.
MENU = (
    "pay",
    "links",
    "unpaid",
    "today",
    "status",
    "cancel",
    "export",
    "team",
    "invite",
    "settings",
    "language",
    "help",
)


#: Card buttons: ``action:REF``.
CARD_REF = r":[A-Z0-9]{1,16}$"


def register(
    application: Application[Any, Any, Any, Any, Any, Any],
    *,
    chats: ChatEvents,
    access: AccessGuard,
    pay: PayCommands,
    manage: ManageCommands,
    share: ShareInline,
    language: LanguageCommands,
    errors: ErrorReplies,
    team: TeamCommands,
    settings: SettingsCommands,
    group: GroupCommands,
) -> None:
    """Every handler of the bot, in the order python-telegram-bot tries them."""
    # Group -2, first for every update: chats that moved (group -> supergroup) or can hear
    # us again (a merchant who blocked the bot is back) get their notifications.
    application.add_handler(TypeHandler(Update, chats.seen), group=CHATS_GROUP)
    # Group -1, before every handler and for every kind of update: strangers are refused
    # here (ApplicationHandlerStop), so no handler below checks access again.
    application.add_handler(TypeHandler(Update, access.check), group=ACCESS_GROUP)

    # Group 0: the first handler that takes an update handles it.
    application.add_handlers(
        [
            # Edits act on nothing (CommandHandler would run an edited /pay again: a second
            # link), so this comes before every command.
            MessageHandler(filters.UpdateType.EDITED_MESSAGE, pay.edited),
            # Taking a payment: /start /help /pay and the card's buttons.
            # -- the team (bot/telegram/team.py): claim and invite links, /invite, /team
            # An opened claim or invite link (``/start claim_<code>``), before the plain /start.
            CommandHandler("start", team.start_with_code, filters=START_WITH_CODE),
            CommandHandler("invite", team.invite),
            CommandHandler("team", team.team),
            CallbackQueryHandler(team.list_again, pattern=r"^team:list$"),
            CallbackQueryHandler(team.ask_remove, pattern=rf"^team:rm:{USER_ID}$"),
            CallbackQueryHandler(team.remove, pattern=rf"^team:rmok:{USER_ID}$"),
            CallbackQueryHandler(team.set_role, pattern=rf"^team:role:{USER_ID}:[os]$"),
            # -- end of the team
            CommandHandler("start", pay.start),
            CommandHandler("help", pay.help),
            CommandHandler("pay", pay.pay),
            CallbackQueryHandler(pay.qr, pattern="^qr" + CARD_REF),
            CallbackQueryHandler(pay.cancel, pattern="^cancel" + CARD_REF),
            CallbackQueryHandler(pay.reissue, pattern="^reissue" + CARD_REF),
            CallbackQueryHandler(pay.confirm, pattern="^confirm" + CARD_REF),
            CallbackQueryHandler(pay.discard, pattern="^discard" + CARD_REF),
            # Managing links.
            CommandHandler("links", manage.links),
            CommandHandler("unpaid", manage.unpaid),
            CallbackQueryHandler(manage.links_page, pattern=r"^links:[au]:\d{1,6}$"),
            CommandHandler("status", manage.status),
            CommandHandler("cancel", manage.cancel),
            CommandHandler("today", manage.today),
            CommandHandler("export", manage.export),
            # -- the shop's group (bot/telegram/group.py): /connect, /disconnect
            ChatMemberHandler(group.bot_membership, ChatMemberHandler.MY_CHAT_MEMBER),
            CommandHandler("connect", group.connect),
            CommandHandler("disconnect", group.disconnect),
            CallbackQueryHandler(group.connect_button, pattern=f"^{views.CONNECT_GROUP}$"),
            # -- end of the shop's group
            #
            # -- /settings (bot/telegram/settings.py)
            CommandHandler("settings", settings.show),
            CallbackQueryHandler(settings.open, pattern=settings_handlers.OPEN),
            CallbackQueryHandler(settings.choose_expiry, pattern=settings_handlers.EXPIRY),
            CallbackQueryHandler(settings.choose_threshold, pattern=settings_handlers.THRESHOLD),
            CallbackQueryHandler(settings.choose_zone, pattern=settings_handlers.ZONE),
            CallbackQueryHandler(settings.choose_announce, pattern=settings_handlers.ANNOUNCE),
            CallbackQueryHandler(settings.toggle_channel, pattern=settings_handlers.CHANNEL),
            CallbackQueryHandler(settings.toggle_group, pattern=settings_handlers.CHANNEL_GROUP),
            CallbackQueryHandler(settings.clear_channels, pattern=settings_handlers.CHANNELS_CLEAR),
            CallbackQueryHandler(settings.all_channels, pattern=settings_handlers.CHANNELS_ALL),
            CallbackQueryHandler(settings.channels_done, pattern=settings_handlers.CHANNELS_DONE),
            # The reply to the name prompt: before the catch-all below takes any text.
            MessageHandler(
                filters.UpdateType.MESSAGE
                & filters.TEXT
                & ~filters.COMMAND
                & settings_handlers.NAME_REPLY,
                settings.name_reply,
            ),
            # -- end of /settings
            # Inline mode: share a link with the customer.
            InlineQueryHandler(share.inline_query),
            # The user's language.
            CommandHandler(["language", "bahasa"], language.choose),
            CallbackQueryHandler(language.chosen, pattern=f"^lang:({'|'.join(i18n.LANGUAGES)})$"),
            # Last: any button nobody above took (old keyboards, forged or malformed data).
            CallbackQueryHandler(access.stale_button),
            # Last: new text or a command nobody above took gets a hint pointing to /help
            # (not what the merchant shares through inline mode: a message via this bot).
            MessageHandler(
                filters.UpdateType.MESSAGE & filters.TEXT & ~filters.VIA_BOT, pay.unknown
            ),
        ]
    )
    application.add_error_handler(errors.on_error)


class ErrorReplies:
    """The one place where a handler's exception becomes an answer. Handlers let a
    :class:`Problem` propagate: the user reads it in their words. Anything else is a fault:
    ``internal_error``, and a traceback in the log."""

    def __init__(self, people: People, payments: PaymentService) -> None:
        self._people = people
        self._payments = payments

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer a problem as the handler would have; log and apologise for anything else."""
        error = context.error
        if not isinstance(error, Problem):
            await on_error(update, context)
            return
        log.info("%s: %s", type(error).__name__, error)
        if not isinstance(update, Update):
            return
        try:
            await self._tell(update, context, error)
        except Exception:
            log.exception("could not tell the user about the problem")

    async def _tell(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, problem: Problem
    ) -> None:
        user, message, query = (
            update.effective_user,
            update.effective_message,
            update.callback_query,
        )
        if user is None:
            return
        language = await self._people.language(update)
        merchant = await self._people.merchant(update)
        if merchant is not None:
            rules = self._payments.rules(merchant.shop)
            currency, max_amount = rules.currency, rules.max_amount
        else:
            currency = get_currency("IDR")
            max_amount = self._payments.policy.max_amounts[currency.code]
        reply = Reply(views.problem(language, problem, currency, max_amount))
        if query is None:
            if message is not None:
                await answer(message, reply)
        elif isinstance(problem, (LinkNotFound, OwnersOnly, SettingRefused)):
            # About the button itself: a toast; a refusal stays until dismissed.
            await query.answer(
                toast(reply.text), show_alert=isinstance(problem, (OwnersOnly, SettingRefused))
            )
        else:
            # What the button did went wrong: said in the chat, under the card. A draft's
            # question (Yes) is settled by it: the answer takes the question's place.
            await query.answer()
            if (query.data or "").startswith("confirm:"):
                await edit(query, reply)
            elif query.message is not None:
                await send(context.bot, query.message.chat.id, reply)


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


__all__ = ["ErrorReplies", "on_error", "register", "set_commands"]
