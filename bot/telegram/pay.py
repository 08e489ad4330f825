"""/start, /help, /pay, the buttons of the payment card, and the hint for anything else."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import partial

from telegram import Bot, CallbackQuery, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot import i18n, views
from bot.errors import Problem
from bot.payments import Merchant, PaymentService
from bot.qr import qr_png
from bot.telegram.access import command_of
from bot.telegram.common import People, answer, edit, send, toast
from bot.views import Reply
from storage import Link, LinkStatus

log = logging.getLogger(__name__)

_EXPIRY = re.compile(r"^(?:exp|expires?|exp\.)[:=](\d{1,4})\s*([mhd])$", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


class BadExpiry(Problem, ValueError):
    """``exp:`` not as ``exp:<number><m|h|d>``, or outside 15 minutes to 30 days."""

    key = "bad_expiry"

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    @property
    def params(self) -> Mapping[str, object]:
        return {"text": self.text}


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

    def __init__(self, payments: PaymentService, people: People) -> None:
        self._payments = payments
        self._people = people

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Say what the bot does and how to use /pay; a stranger learns how to join."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        lang = await self._people.language(update)
        if await self._people.merchant(update) is None:
            # Before anybody claimed the shop, nobody can invite: say who can fix that.
            key = "waiting_for_claim" if await self._people.team.waiting_for_claim() else None
            await answer(message, Reply(i18n.text(lang, key or "not_allowed", user_id=user.id)))
            return
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
        if message is None or user is None:
            return
        lang = await self._people.language(update)
        parts = [i18n.text(lang, "usage"), i18n.text(lang, "commands_help")]
        if await self._people.merchant(update) is None:
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
        merchant = await self._people.merchant(update)
        if merchant is not None:
            await answer(message, Reply(i18n.text(merchant.language, key, **values)))

    async def pay(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/pay <amount> [description] [exp:2h]: make a payment link and show its card."""
        message = update.effective_message
        merchant = await self._people.merchant(update)
        if message is None or merchant is None:
            return
        lang = merchant.language
        text, expiry = split_pay_args(list(context.args or []))

        async def ask(drafts: Sequence[Link]) -> int:
            # The readings of an unclear amount, in one message, to pick one.
            return (await answer(message, views.choose_reading(lang, text, drafts))).message_id

        await self._payments.create_link_from_text(
            merchant,
            text,
            expiry=expiry,
            show=partial(self._send_card, message.get_bot(), merchant),
            ask=ask,
        )

    async def edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An edited message acts on nothing; an edited /pay says how to change a link."""
        message = update.edited_message
        merchant = await self._people.merchant(update)
        if message is None or merchant is None:
            return
        if command_of(message, context.bot.username) == "pay":
            await answer(message, Reply(i18n.text(merchant.language, "pay_edited")))

    async def _send_card(self, bot: Bot, merchant: Merchant, link: Link) -> int:
        """Send a draft's card (a link's own card goes through the outbox)."""
        return (await send(bot, merchant.chat_id, self._card(merchant, link))).message_id

    def _card(self, merchant: Merchant, link: Link) -> Reply:
        rules = self._payments.rules(merchant.shop)
        return views.card(
            link,
            merchant.shop.tz,
            confirm_below=rules.confirm_below,
            confirm_above=rules.confirm_above,
        )

    async def _button(self, update: Update) -> tuple[CallbackQuery, Merchant, str] | None:
        """A card button's query, who pressed it and the link's reference (``action:REF``)."""
        query = update.callback_query
        merchant = await self._people.merchant(update)
        if query is None or query.data is None or merchant is None:
            return None
        return query, merchant, query.data.partition(":")[2]

    async def qr(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The card's QR button: the payment link as a QR code, for the customer to scan."""
        pressed = await self._button(update)
        if pressed is None:
            return
        query, merchant, ref = pressed
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

    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The card's cancel button: cancel the link at Xendit; a toast says how it went."""
        pressed = await self._button(update)
        if pressed is None:
            return
        query, merchant, ref = pressed
        outcome, link = await self._payments.cancel(merchant, ref)
        await query.answer(toast(views.cancel_outcome(merchant.language, outcome, link)))

    async def reissue(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The card's new-link button: the same amount again; its card comes as /pay's."""
        pressed = await self._button(update)
        if pressed is None:
            return
        query, merchant, ref = pressed
        # A link they may not act on is "not found", told in this query's answer (so first).
        await self._payments.find_link(merchant, ref)
        await query.answer()
        await self._payments.reissue(merchant, ref)

    async def confirm(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Yes under a draft (an unusual amount, or one reading of an unclear one): make it."""
        pressed = await self._button(update)
        if pressed is None:
            return
        query, merchant, ref = pressed
        # A draft they may not act on is "not found", told in this query's answer (so first).
        await self._payments.find_link(merchant, ref)
        await query.answer()
        # The draft's message is the link's card: the outbox edits it into the live card.
        link, made = await self._payments.confirm_draft(merchant, ref)
        discarded = link.status is LinkStatus.CANCELED and link.session_id is None
        if not made and link.status is not LinkStatus.PENDING and not discarded:
            # A second tap after the link was made: show it as it is. While the first tap is
            # still making it (PENDING), the first tap will. A discarded draft (another
            # reading was picked, or "No") leaves the message to the tap that settled it.
            await edit(query, self._card(merchant, link))

    async def discard(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """No under a draft: no link."""
        pressed = await self._button(update)
        if pressed is None:
            return
        query, merchant, ref = pressed
        await self._payments.discard_draft(merchant, ref)
        await query.answer()
        await edit(query, Reply(i18n.text(merchant.language, "draft_discarded")))
