"""The shop's group: the bot added to or removed from a group, /connect and /disconnect, and
the button that connects a group the bot was just added to."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot import i18n, views
from bot.group import ShopGroup
from bot.team import OwnersOnly
from bot.telegram.common import People, answer, edit, send, toast
from bot.views import Reply
from storage import Member, Shop

log = logging.getLogger(__name__)

#: Chat kinds that can be the shop's group.
GROUPS = (ChatType.GROUP, ChatType.SUPERGROUP)
#: The bot's statuses in a chat it can read and write.
PRESENT = (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER)


class GroupCommands:
    """Handlers of the shop's group. The access guard lets members through in any group for
    these (a group becomes the shop's here), and ``my_chat_member`` updates from anybody:
    who is asking is checked here."""

    def __init__(self, group: ShopGroup, people: People) -> None:
        self._group = group
        self._people = people

    async def _member(self, user_id: int) -> tuple[Shop, Member] | None:
        """Who is asking, fresh from the database: the shop's group is about to change."""
        self._people.forget(user_id)
        return await self._people.membership(user_id)

    async def bot_membership(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The bot was added to a group (an owner is offered to connect it) or removed from
        one (the shop's group is disconnected: nothing can be said there any more)."""
        change, user = update.my_chat_member, update.effective_user
        if change is None or user is None or change.chat.type not in GROUPS:
            return
        was_in = change.old_chat_member.status in PRESENT
        is_in = change.new_chat_member.status in PRESENT
        chat_id = change.chat.id
        if was_in and not is_in:
            if await self._group.bot_removed(chat_id) is not None:
                self._people.forget()
            return
        if is_in and not was_in:
            found = await self._member(user.id)
            if found is None:
                # A stranger's group: not ours to speak in.
                log.info("added to group %d by %d, who is not a member of a shop", chat_id, user.id)
                return
            shop, member = found
            if shop.group_chat_id == chat_id:
                return
            lang = await self._people.language(update)
            if member.is_owner:
                reply = views.group_offer(lang, shop.name)
            else:
                reply = Reply(i18n.text(lang, "group_not_connected"))
            await send(context.bot, chat_id, reply)

    async def connect(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/connect in a group: it becomes the shop's group (owners only)."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        found = await self._member(user.id)
        if found is None:
            return  # the guard let only members through; removed since
        shop, member = found
        if not member.is_owner:
            raise OwnersOnly()
        lang = await self._people.language(update)
        if message.chat.type not in GROUPS:
            await answer(message, Reply(i18n.text(lang, "group_connect_here")))
            return
        connected = await self._group.connect(shop, member, message.chat.id)
        self._people.forget()
        await answer(message, views.group_connected(lang, connected))

    async def connect_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The offer's button: as /connect, in place of the offer."""
        query, user = update.callback_query, update.effective_user
        if query is None or user is None or query.message is None:
            return
        found = await self._member(user.id)
        if found is None:
            await query.answer()
            return
        shop, member = found
        if query.message.chat.type not in GROUPS:  # only ever sent in a group
            lang = await self._people.language(update)
            await query.answer(toast(i18n.text(lang, "button_stale")))
            return
        connected = await self._group.connect(shop, member, query.message.chat.id)
        self._people.forget()
        await query.answer()
        await edit(query, views.group_connected(await self._people.language(update), connected))

    async def disconnect(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/disconnect in the shop's group or a private chat: the shop has no group any more."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        found = await self._member(user.id)
        if found is None:
            return
        shop, member = found
        if not member.is_owner:
            raise OwnersOnly()
        lang = await self._people.language(update)
        chat = message.chat
        if chat.type != ChatType.PRIVATE and chat.id != shop.group_chat_id:
            await answer(message, Reply(i18n.text(lang, "group_not_this")))
            return
        if shop.group_chat_id is None:
            await answer(message, Reply(i18n.text(lang, "group_none")))
            return
        await self._group.disconnect(shop, member)
        self._people.forget()
        await answer(message, Reply(i18n.text(lang, "group_disconnected")))
