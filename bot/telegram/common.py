"""What every handler needs: who is asking, in which language, and how to answer."""

from __future__ import annotations

import time

from telegram import Bot, CallbackQuery, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.languages import Languages
from bot.payments import Merchant
from bot.team import Team
from bot.telegram.sender import keyboard, plain_text
from bot.views import TOAST_LIMIT, Reply, clip_plain
from storage import Member, Shop

#: How long who-is-who is remembered in memory. A change made here is seen at once (the
#: entry is dropped); one made on another instance within this time.
MEMBER_CACHE_SECONDS = 2.0


class People:
    """Who is behind an update: their language, and the shop and role they act with.

    The access guard and then the handler each ask for the same update; the answer is kept
    for a moment so that costs one database read, not two.
    """

    def __init__(self, languages: Languages, team: Team) -> None:
        self.languages = languages
        self.team = team
        self._members: dict[int, tuple[float, tuple[Shop, Member] | None]] = {}

    async def language(self, update: Update) -> str:
        user = update.effective_user
        if user is None:
            return "en"
        return await self.languages.of(user.id, user.language_code)

    async def membership(self, user_id: int) -> tuple[Shop, Member] | None:
        now = time.monotonic()
        cached = self._members.get(user_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        found = await self.team.member_for(user_id)
        if len(self._members) > 10_000:
            self._members.clear()
        self._members[user_id] = (now + MEMBER_CACHE_SECONDS, found)
        return found

    def forget(self, *user_ids: int) -> None:
        """Drop what is remembered of users whose membership just changed (or everybody's:
        a shop's settings changed)."""
        if not user_ids:
            self._members.clear()
        for user_id in user_ids:
            self._members.pop(user_id, None)

    async def merchant(self, update: Update) -> Merchant | None:
        """The member acting in the update's chat (a private chat for inline queries);
        None for anybody who is not an active member of a shop."""
        user = update.effective_user
        if user is None:
            return None
        found = await self.membership(user.id)
        if found is None:
            return None
        shop, member = found
        chat = update.effective_chat
        return Merchant(
            user_id=user.id,
            chat_id=chat.id if chat is not None else user.id,
            language=await self.language(update),
            shop=shop,
            role=member.role,
            name=user.full_name or member.name,
        )


async def answer(message: Message, reply: Reply) -> Message:
    """Reply in the message's chat with an HTML text and its buttons."""
    return await message.reply_text(
        reply.text, parse_mode=ParseMode.HTML, reply_markup=keyboard(reply), do_quote=False
    )


async def edit(query: CallbackQuery, reply: Reply) -> None:
    """Turn the message a button belongs to into ``reply``."""
    if query.message is None:
        return
    try:
        await query.edit_message_text(
            reply.text, parse_mode=ParseMode.HTML, reply_markup=keyboard(reply)
        )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise  # a second tap that changes nothing is fine; anything else is not


async def send(bot: Bot, chat_id: int, reply: Reply) -> Message:
    return await bot.send_message(
        chat_id, reply.text, parse_mode=ParseMode.HTML, reply_markup=keyboard(reply)
    )


def toast(html_text: str) -> str:
    """A callback answer is plain text of at most 200 characters."""
    return clip_plain(plain_text(html_text), TOAST_LIMIT)
