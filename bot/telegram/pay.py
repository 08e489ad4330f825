"""/start, /help, /pay, the buttons of the payment card, and the hint for anything else."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence
from datetime import timedelta
from functools import partial
from zoneinfo import ZoneInfo

from telegram import Bot, Update
from telegram.constants import ChatType
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes

from bot import i18n, views
from bot.languages import Languages
from bot.money import AmountError
from bot.payments import (
    DescriptionTooLong,
    LinkNotCreated,
    LinkNotFound,
    LinkNotSaved,
    Merchant,
    NotAllowed,
    PaymentService,
)
from bot.qr import qr_png
from bot.telegram.access import command_of
from bot.telegram.common import answer, edit, merchant_of, send, toast
from bot.views import Reply
from storage import Link, LinkStatus

log = logging.getLogger(__name__)

_EXPIRY = re.compile(r"^(?:exp|expires?|exp\.)[:=](\d{1,4})\s*([mhd])$", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


class BadExpiry(ValueError):
    pass


def split_pay_args(args: list[str]) -> tuple[str, timedelta | None]:
    """``/pay 150 ribu kopi susu exp:2h`` -> ("150 ribu kopi susu", 2 hours).

    Where the amount ends and the description starts is the payment service's business
    (:func:`bot.money.split_amount`): an amount may span words.
    """
    expiry: timedelta | None = None
    rest: list[str] = []
    for word in args:
        if word.lower().startswith(("exp:", "exp=", "expires:", "expire:")):
            match = _EXPIRY.match(word)
            if match is None:
                raise BadExpiry(word)
            expiry = timedelta(**{_UNITS[match[2].lower()]: int(match[1])})
            if not timedelta(minutes=15) <= expiry <= timedelta(days=30):
                raise BadExpiry(word)
        else:
            rest.append(word)
    return " ".join(rest), expiry


class PayCommands:
    """Taking a payment: the commands and the card's buttons."""

    def __init__(self, payments: PaymentService, languages: Languages, tz: ZoneInfo) -> None:
        self._payments = payments
        self._languages = languages
        self._tz = tz

    def handlers(self) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
        return [
            CommandHandler("start", self.start),
            CommandHandler("help", self.help),
            CommandHandler("pay", self.pay),
            CallbackQueryHandler(
                self.card_button, pattern=r"^(qr|cancel|reissue|confirm|discard):[A-Z0-9]{1,16}$"
            ),
        ]

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Say what the bot does, how to use /pay, and the user's numeric id."""
        message, user = update.effective_message, update.effective_user
        merchant = await merchant_of(update, self._languages)
        if message is None or user is None or merchant is None:
            return
        lang = merchant.language
        await answer(
            message,
            Reply(
                i18n.text(
                    lang,
                    "start",
                    name=html.escape(user.first_name),
                    usage=i18n.text(lang, "usage"),
                    commands=i18n.text(lang, "commands_help"),
                    user_id=user.id,
                )
            ),
        )

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The command list: how to use /pay, then the others. Strangers also get their id."""
        message, user = update.effective_message, update.effective_user
        merchant = await merchant_of(update, self._languages)
        if message is None or user is None or merchant is None:
            return
        lang = merchant.language
        parts = [i18n.text(lang, "usage"), i18n.text(lang, "commands_help")]
        if not self._payments.is_allowed(user.id):
            parts.append(i18n.text(lang, "not_allowed", user_id=user.id))
        await answer(message, Reply("\n\n".join(parts)))

    async def unknown(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Text or a command no handler took: a one-line pointer to /help. In groups only a
        command addressed to us (``/x@ourbot``): the rest of a group's talk is not for us."""
        message = update.message
        if message is None or message.text is None:
            return
        private = message.chat.type == ChatType.PRIVATE
        if message.text.startswith("/"):
            command = command_of(message, context.bot.username)
            if command is None:
                return  # another bot's command
            addressed = "@" in message.text.split(maxsplit=1)[0]
            if not (private or addressed):
                return
            key, values = "unknown_command", {"command": views.echo(command)}
        elif private:
            key, values = "unknown_text", {}
        else:
            return
        merchant = await merchant_of(update, self._languages)
        if merchant is not None:
            await answer(message, Reply(i18n.text(merchant.language, key, **values)))

    async def pay(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/pay <amount> [description] [exp:2h]: make a payment link and show its card."""
        message = update.effective_message
        merchant = await merchant_of(update, self._languages)
        if message is None or merchant is None:
            return
        lang = merchant.language
        try:
            text, expiry = split_pay_args(list(context.args or []))
        except BadExpiry as exc:
            await answer(message, Reply(i18n.text(lang, "bad_expiry", text=views.echo(str(exc)))))
            return

        async def ask(drafts: Sequence[Link]) -> int:
            # The readings of an unclear amount, in one message, to pick one.
            return (await answer(message, views.choose_reading(lang, text, drafts))).message_id

        try:
            await self._payments.create_link_from_text(
                merchant,
                text,
                expiry=expiry,
                show=partial(self._send_card, message.get_bot(), message.chat_id),
                ask=ask,
            )
        except (NotAllowed, AmountError, DescriptionTooLong, LinkNotCreated, LinkNotSaved) as exc:
            await answer(message, self._problem(merchant, exc))

    async def edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An edited message acts on nothing; an edited /pay says how to change a link."""
        message = update.edited_message
        merchant = await merchant_of(update, self._languages)
        if message is None or merchant is None:
            return
        if command_of(message, context.bot.username) == "pay":
            await answer(message, Reply(i18n.text(merchant.language, "pay_edited")))

    async def _send_card(self, bot: Bot, chat_id: int, link: Link) -> int:
        """Send a draft's card (a link's own card goes through the outbox)."""
        return (await send(bot, chat_id, self._card(link))).message_id

    def _card(self, link: Link) -> Reply:
        policy = self._payments.policy
        return views.card(
            link, self._tz, confirm_below=policy.confirm_below, confirm_above=policy.confirm_above
        )

    def _problem(self, merchant: Merchant, exc: Exception) -> Reply:
        lang = merchant.language
        policy = self._payments.policy
        if isinstance(exc, NotAllowed):
            return Reply(i18n.text(lang, "not_allowed", user_id=merchant.user_id))
        if isinstance(exc, AmountError):
            return Reply(views.amount_problem(lang, exc, policy.currency, policy.max_amount))
        if isinstance(exc, DescriptionTooLong):
            return Reply(i18n.text(lang, "description_too_long", max=exc.args[0]))
        if isinstance(exc, LinkNotSaved):
            return Reply(i18n.text(lang, "not_saved"))
        assert isinstance(exc, LinkNotCreated)
        # Xendit's explanation: keep a long one from taking the reply over Telegram's limit.
        detail = views.clip(exc.detail, 500)
        return Reply(i18n.text(lang, exc.failure.value, message=detail))

    async def card_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """QR, cancel, re-issue, and confirm/discard of a large amount."""
        query = update.callback_query
        merchant = await merchant_of(update, self._languages)
        if query is None or query.data is None or merchant is None:
            return
        action, _, ref = query.data.partition(":")
        lang = merchant.language
        try:
            if action == "qr":
                await self._send_qr(update, context, merchant, ref)
            elif action == "cancel":
                outcome, link = await self._payments.cancel(merchant, ref)
                await query.answer(toast(i18n.text(lang, outcome.value, ref=link.short_ref)))
            elif action == "reissue":
                await query.answer()
                await self._payments.reissue(merchant, ref)
            elif action == "confirm":
                await self._confirm(update, merchant, ref)
            elif action == "discard":
                await self._payments.discard_draft(merchant, ref)
                await query.answer()
                await edit(query, Reply(i18n.text(lang, "draft_discarded")))
        except LinkNotFound:
            await query.answer(toast(i18n.text(lang, "ref_not_found", ref=views.echo(ref))))
        except NotAllowed:
            await query.answer(
                toast(i18n.text(lang, "not_allowed", user_id=merchant.user_id)), show_alert=True
            )
        except (LinkNotCreated, LinkNotSaved, AmountError, DescriptionTooLong) as exc:
            await query.answer()
            problem = self._problem(merchant, exc)
            if action == "confirm":
                await edit(query, problem)
            elif query.message is not None:
                await send(context.bot, query.message.chat.id, problem)

    async def _confirm(self, update: Update, merchant: Merchant, ref: str) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        # The draft's message is the link's card: the outbox edits it into the live card.
        link, made = await self._payments.confirm_draft(merchant, ref)
        discarded = link.status is LinkStatus.CANCELED and link.session_id is None
        if not made and link.status is not LinkStatus.PENDING and not discarded:
            # A second tap after the link was made: show it as it is. While the first tap is
            # still making it (PENDING), the first tap will. A discarded draft (another
            # reading was picked, or "No") leaves the message to the tap that settled it.
            await edit(query, self._card(link))

    async def _send_qr(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, merchant: Merchant, ref: str
    ) -> None:
        query = update.callback_query
        assert query is not None
        link = await self._payments.find_link(merchant, ref)
        await query.answer()
        if link.link_url is None or query.message is None:
            return
        await context.bot.send_photo(
            query.message.chat.id,
            photo=qr_png(link.link_url),
            filename=f"pay-{link.short_ref}.png",
            caption=views.qr_caption(link),
        )
