"""Managing links: /links, /unpaid, /status, /cancel, /today, /export."""

from __future__ import annotations

import contextlib

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import i18n, views
from bot.payments import Merchant, PaymentService
from bot.reports import Reports, day_bounds, parse_period
from bot.team import OwnersOnly
from bot.telegram.common import People, answer, edit, toast
from bot.views import Reply
from bot.xendit import XenditError
from storage import utcnow

PAGE_SIZE = 5


class ManageCommands:
    def __init__(
        self,
        payments: PaymentService,
        reports: Reports,
        people: People,
    ) -> None:
        self._payments = payments
        self._reports = reports
        self._people = people

    async def _merchant(self, update: Update) -> Merchant | None:
        """The merchant asking (the access guard in front of every handler let them in)."""
        if update.effective_message is None:
            return None
        return await self._people.merchant(update)

    async def _page(self, merchant: Merchant, *, waiting_only: bool, offset: int) -> Reply:
        page, total = await self._payments.page_of_links(
            merchant, waiting_only=waiting_only, offset=offset, limit=PAGE_SIZE
        )
        return views.links_page(
            merchant.language,
            page,
            total=total,
            offset=offset,
            page_size=PAGE_SIZE,
            waiting_only=waiting_only,
            tz=merchant.shop.tz,
        )

    async def links(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/links: the chat's links, newest first, five a page."""
        merchant = await self._merchant(update)
        if merchant is not None and update.effective_message is not None:
            reply = await self._page(merchant, waiting_only=False, offset=0)
            await answer(update.effective_message, reply)

    async def unpaid(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/unpaid: the links still waiting for payment."""
        merchant = await self._merchant(update)
        if merchant is not None and update.effective_message is not None:
            reply = await self._page(merchant, waiting_only=True, offset=0)
            await answer(update.effective_message, reply)

    async def links_page(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The ◀ / ▶ buttons under /links and /unpaid."""
        query = update.callback_query
        merchant = await self._people.merchant(update)
        if query is None or query.data is None or merchant is None:
            return
        _, kind, offset = query.data.split(":")
        await query.answer()
        await edit(query, await self._page(merchant, waiting_only=kind == "u", offset=int(offset)))

    async def _with_ref(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, command: str
    ) -> tuple[Merchant, Message, str] | None:
        """An allowed merchant's ``/command REF``, or None after answering what is missing."""
        merchant = await self._merchant(update)
        message = update.effective_message
        if merchant is None or message is None:
            return None
        if not context.args:
            usage = i18n.text(merchant.language, "ref_usage", command=command)
            await answer(message, Reply(usage))
            return None
        return merchant, message, context.args[0]

    async def status(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/status REF: the link's card, refreshed from Xendit."""
        found = await self._with_ref(update, context, "status")
        if found is None:
            return
        merchant, message, ref = found
        try:
            link = await self._payments.refresh(merchant, ref)
        except XenditError:
            link = await self._payments.find_link(merchant, ref)  # show what we know
        rules = self._payments.rules(merchant.shop)
        sent = await answer(
            message,
            views.card(
                link,
                merchant.shop.tz,
                confirm_below=rules.confirm_below,
                confirm_above=rules.confirm_above,
            ),
        )
        if link.chat_id != merchant.chat_id:
            return  # an owner looking from another chat: the live card stays where it is
        await self._payments.set_card(link, sent.message_id)
        if link.card_message_id is not None and link.card_message_id != sent.message_id:
            # One live card per link: the old one points to the new one and loses its buttons.
            with contextlib.suppress(TelegramError):
                await context.bot.edit_message_text(
                    i18n.text(merchant.language, "card_moved", ref=link.short_ref),
                    chat_id=merchant.chat_id,
                    message_id=link.card_message_id,
                    reply_markup=None,
                )

    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/cancel REF: cancel a waiting link at Xendit."""
        found = await self._with_ref(update, context, "cancel")
        if found is None:
            return
        merchant, message, ref = found
        try:
            outcome, link = await self._payments.cancel(merchant, ref)
        except XenditError:
            await answer(message, Reply(i18n.text(merchant.language, "xendit_unreachable_now")))
            return
        await answer(message, Reply(views.cancel_outcome(merchant.language, outcome, link)))

    async def today(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/today: paid today (in the merchant's time zone) and what is still waiting."""
        merchant = await self._merchant(update)
        if merchant is None or update.effective_message is None:
            return
        tz = merchant.shop.tz
        day = self._reports.today(utcnow(), tz)
        summary = await self._reports.day(merchant.scope, day, tz)
        if merchant.is_owner:  # and what each member took; staff see their own only
            totals = await self._people.team.totals(merchant.shop, *day_bounds(day, tz))
            reply = views.today_by_member(
                merchant.language, day, summary, merchant.shop.currency, totals
            )
        else:
            reply = views.today(merchant.language, day, summary, merchant.shop.currency)
        await answer(update.effective_message, reply)

    async def export(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/export [from] [to]: a CSV of links and payments, sent as a document."""
        merchant = await self._merchant(update)
        message = update.effective_message
        if merchant is None or message is None:
            return
        if not merchant.is_owner:
            raise OwnersOnly()
        lang = merchant.language
        tz = merchant.shop.tz
        start, end = parse_period(list(context.args or []), self._reports.today(utcnow(), tz))
        links = await self._reports.links(merchant.scope, start, end, tz)
        if not links:
            await answer(
                message,
                Reply(
                    i18n.text(lang, "export_empty", start=start.isoformat(), end=end.isoformat())
                ),
            )
            return
        await message.reply_document(
            document=self._reports.csv(links, tz),
            filename=f"paybot-{start.isoformat()}-to-{end.isoformat()}.csv",
            caption=toast(
                i18n.text(
                    lang,
                    "export_caption",
                    start=start.isoformat(),
                    end=end.isoformat(),
                    count=len(links),
                )
            ),
            do_quote=False,
        )
