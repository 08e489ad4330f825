"""Chat commands. Each handler is small: read the update, call the service, send the reply."""

from __future__ import annotations

import html
import logging
from zoneinfo import ZoneInfo

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.ext import Application, BaseHandler, CommandHandler, ContextTypes

from bot import i18n, views
from bot.money import AmountError
from bot.payments import (
    DescriptionTooLong,
    LinkNotCreated,
    Merchant,
    NotAllowed,
    PaymentService,
)
from bot.telegram.sender import keyboard

log = logging.getLogger(__name__)


def _language(update: Update) -> str:
    user = update.effective_user
    return i18n.language_for(user.language_code if user else None)


class PaymentCommands:
    """/start, /help and /pay, bound to the services they need."""

    def __init__(self, payments: PaymentService, tz: ZoneInfo) -> None:
        self._payments = payments
        self._tz = tz

    def handlers(self) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
        return [
            CommandHandler("start", self.start),
            CommandHandler("help", self.start),
            CommandHandler("pay", self.pay),
        ]

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Say what the bot does, how to use /pay, and the user's numeric id."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        lang = _language(update)
        await message.reply_text(
            i18n.text(
                lang,
                "start",
                name=html.escape(user.first_name),
                usage=i18n.text(lang, "usage"),
                user_id=user.id,
            ),
            parse_mode=ParseMode.HTML,
        )

    async def pay(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/pay <amount> [description]: make a Xendit payment link and show it."""
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None:
            return
        lang = _language(update)
        args = context.args or []
        amount_text, description = (args[0] if args else ""), " ".join(args[1:])
        policy = self._payments.policy
        try:
            link = await self._payments.create_link(
                Merchant(user_id=user.id, chat_id=chat.id, language=lang), amount_text, description
            )
        except NotAllowed:
            reply = views.Reply(i18n.text(lang, "not_allowed", user_id=user.id))
        except AmountError as exc:
            reply = views.Reply(views.amount_problem(lang, exc, policy.currency, policy.max_amount))
        except DescriptionTooLong as exc:
            reply = views.Reply(i18n.text(lang, "description_too_long", max=exc.args[0]))
        except LinkNotCreated as exc:
            reply = views.Reply(i18n.text(lang, exc.failure.value, message=html.escape(exc.detail)))
        else:
            reply = views.link_created(link, self._tz)
        await message.reply_text(
            reply.text, parse_mode=ParseMode.HTML, reply_markup=keyboard(reply)
        )


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log any unexpected exception and tell the user something went wrong."""
    log.error("unhandled error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(
                update.effective_chat.id, i18n.text(_language(update), "internal_error")
            )
        except Exception:
            log.exception("could not tell the user about the error")


async def set_commands(application: Application) -> None:  # type: ignore[type-arg]
    """The command menu, in every language we speak (English is the default)."""
    for lang in i18n.LANGUAGES:
        commands = [
            BotCommand(name, i18n.text(lang, f"cmd_{name}")) for name in ("pay", "help", "start")
        ]
        await application.bot.set_my_commands(
            commands, language_code=None if lang == i18n.DEFAULT_LANGUAGE else lang
        )
