"""Who may do what: one guard in front of every handler, and the answer to stale buttons.

The guard is a ``TypeHandler(Update, ...)`` in handler group -1 (python-telegram-bot's own
pattern): it runs before any handler of group 0 for every kind of update and raises
``ApplicationHandlerStop`` for a user who is not in ``ALLOWED_USER_IDS``, after a polite
refusal. Handlers behind it never check access themselves.

Open to everybody: ``/start`` and ``/help`` (they show the user's id, for the operator to allow
them) and ``/language`` with its buttons (a user's own setting).
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import i18n
from bot.languages import Languages
from bot.payments import PaymentService
from bot.telegram.common import toast

#: Commands anybody may use.
OPEN_COMMANDS = frozenset({"start", "help", "language", "bahasa"})
#: Callback data prefixes anybody may press (the /language buttons).
OPEN_CALLBACKS = ("lang:",)


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
    def __init__(self, payments: PaymentService, languages: Languages) -> None:
        self._payments = payments
        self._languages = languages

    async def check(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Let allowed merchants through; refuse anybody else, once, for every update kind."""
        user = update.effective_user
        if user is not None and self._payments.is_allowed(user.id):
            return
        if user is None:  # channel posts, polls: nothing of ours
            raise ApplicationHandlerStop
        message = update.message or update.edited_message
        command = command_of(message, context.bot.username)
        if command in OPEN_COMMANDS:
            return
        query = update.callback_query
        if query is not None and (query.data or "").startswith(OPEN_CALLBACKS):
            return
        language = await self._languages.of(user.id, user.language_code)
        refusal = i18n.text(language, "not_allowed", user_id=user.id)
        if query is not None:
            await query.answer(toast(refusal), show_alert=True)
        elif update.inline_query is not None:
            await update.inline_query.answer([], cache_time=0, is_personal=True)
        elif message is not None and command is not None:
            await message.reply_text(refusal, parse_mode=ParseMode.HTML, do_quote=False)
        raise ApplicationHandlerStop

    async def stale_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any button no other handler takes: an old keyboard, or data we never made."""
        query = update.callback_query
        if query is None:
            return
        user = query.from_user
        language = await self._languages.of(user.id, user.language_code)
        await query.answer(toast(i18n.text(language, "button_stale")))
