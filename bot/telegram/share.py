"""Sharing a link with the customer through Telegram's inline mode.

The card's *Share in Telegram* button (``switch_inline_query`` with the link's reference)
lets the merchant pick the customer's chat; the inline result is the customer's message with a
*Pay* button. Only the merchant who made a link can share it.
"""

from __future__ import annotations

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot import i18n, views
from bot.payments import PaymentService
from bot.telegram.common import People
from storage import Link


class ShareInline:
    def __init__(self, payments: PaymentService, people: People) -> None:
        self._payments = payments
        self._people = people

    async def inline_query(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer ``@bot REF`` (or an empty query) with the merchant's waiting links."""
        query = update.inline_query
        if query is None:
            return
        merchant = await self._people.merchant(update)
        if merchant is None:
            return
        links = await self._payments.shareable_links(merchant, query.query.strip())
        results = [self._article(link) for link in links if link.link_url is not None]
        await query.answer(results, cache_time=0, is_personal=True)

    def _article(self, link: Link) -> InlineQueryResultArticle:
        assert link.link_url is not None
        amount = views.link_amount(link)
        return InlineQueryResultArticle(
            id=link.short_ref,
            title=i18n.text(link.language, "inline_title", amount=amount),
            description=link.description or link.short_ref,
            # Sent as HTML (said here, not left to the bot's default): the description is
            # the merchant's text and must show as typed.
            input_message_content=InputTextMessageContent(
                views.shared_message(link), parse_mode=ParseMode.HTML
            ),
            reply_markup=InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            i18n.text(link.language, "inline_pay_button", amount=amount),
                            url=link.link_url,
                        )
                    ]
                ]
            ),
        )
