"""Who may do what: one guard in front of every handler, and the answer to stale buttons.

The guard is a ``TypeHandler(Update, ...)`` in handler group -1 (python-telegram-bot's own
pattern): it runs before any handler of group 0 for every kind of update and raises
``ApplicationHandlerStop`` after a polite refusal for anybody who is not an active member of
the shop, and for members in a group that is not the shop's. Handlers behind it never check
membership again; what a member's role allows is the services' business (owners act on the
shop's links, staff on their own).

Open to everybody: ``/start`` (also how invites and the claim link arrive), ``/help`` and
``/language`` with its buttons (a user's own setting). In a group that is not the shop's,
members may also ``/connect`` it (owners, also with the button offering it) or ask
``/disconnect``. The bot's own membership changes (``my_chat_member``) pass for everybody:
their handler looks at who made them.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import i18n
from bot.telegram.common import People, toast

#: Commands anybody may use.
OPEN_COMMANDS = frozenset({"start", "help", "language", "bahasa"})
#: Commands a member may use in a group that is not (yet) the shop's.
GROUP_SETUP_COMMANDS = frozenset({"connect", "disconnect"})
#: Callback data prefixes anybody may press (the /language buttons).
OPEN_CALLBACKS = ("lang:",)
#: Callback data prefixes a member may press in a group that is not (yet) the shop's (the
#: offer to connect it).
GROUP_CALLBACKS = ("group:",)
#: Commands of ours that a refusal answers in a group even when not addressed ``/x@bot`` (a
#: group may have other bots, whose commands are not ours to refuse).
OUR_COMMANDS = frozenset(
    {"pay", "links", "unpaid", "status", "cancel", "today", "export", "settings", "team"}
    | {"invite", "connect", "disconnect"}
)


def command_of(message: Message | None, bot_username: str | None) -> str | None:
    """The command a message starts with (``/links@paybot x`` -> ``links``), None for text or
    for a command addressed to another bot."""
    if message is None or not message.text or not message.text.startswith("/"):
        return None
    word = message.text.split(maxsplit=1)[0][1:]
    name, _, to = word.partition("@")
    if to and bot_username is not None and to.lower() != bot_username.lower():
        return None
    return name.lower()


class AccessGuard:
    def __init__(self, people: People) -> None:
        self._people = people

    async def check(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Let the shop's members through, in private and in the shop's group; refuse
        anybody else, once, for every update kind."""
        user, chat = update.effective_user, update.effective_chat
        if user is None:  # channel posts, polls: nothing of ours
            raise ApplicationHandlerStop
        message = update.message or update.edited_message
        command = command_of(message, context.bot.username)
        query = update.callback_query
        open_button = query is not None and (query.data or "").startswith(OPEN_CALLBACKS)
        if command in OPEN_COMMANDS or open_button:
            return
        if update.my_chat_member is not None:
            # The bot added to or removed from a chat: its handler looks at who did it (the
            # admin who removes the bot from the shop's group need not be a member).
            return
        found = await self._people.membership(user.id)
        if found is not None:
            shop, member = found
            if await self._people.team.rename(member, user.full_name):
                self._people.forget(user.id)
            if chat is None or chat.type == ChatType.PRIVATE or chat.id == shop.group_chat_id:
                return
            setup_button = query is not None and (query.data or "").startswith(GROUP_CALLBACKS)
            if command in GROUP_SETUP_COMMANDS or setup_button:
                return
            if (command is not None or query is not None) and await self._now_shop_group(
                user.id, chat.id
            ):
                return
            # A group that is not the shop's: members act in it once an owner connects it.
            await self._refuse(update, message, command, "group_not_connected")
            raise ApplicationHandlerStop
        await self._refuse(update, message, command, "not_allowed")
        raise ApplicationHandlerStop

    async def _now_shop_group(self, user_id: int, chat_id: int) -> bool:
        """Whether the chat is the shop's group after all: what is remembered of the member
        may predate the group's move to a supergroup, or a /connect on another instance."""
        self._people.forget(user_id)
        found = await self._people.membership(user_id)
        return found is not None and found[0].group_chat_id == chat_id

    async def _refuse(
        self, update: Update, message: Message | None, command: str | None, key: str
    ) -> None:
        user = update.effective_user
        assert user is not None
        language = await self._people.language(update)
        refusal = i18n.text(language, key, user_id=user.id)
        query = update.callback_query
        if query is not None:
            await query.answer(toast(refusal), show_alert=True)
        elif update.inline_query is not None:
            await update.inline_query.answer([], cache_time=0, is_personal=True)
        elif message is not None and command is not None and self._ours(message, command):
            await message.reply_text(refusal, parse_mode=ParseMode.HTML, do_quote=False)

    @staticmethod
    def _ours(message: Message, command: str) -> bool:
        """A command for this bot: in a private chat any, in a group one of ours or one
        addressed to us."""
        if message.chat.type == ChatType.PRIVATE or command in OUR_COMMANDS:
            return True
        return "@" in (message.text or "").split(maxsplit=1)[0]

    async def stale_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any button no other handler takes: an old keyboard, or data we never made."""
        query = update.callback_query
        if query is None:
            return
        language = await self._people.language(update)
        await query.answer(toast(i18n.text(language, "button_stale")))
