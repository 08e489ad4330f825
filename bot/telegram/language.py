"""/language: English or Bahasa Indonesia, remembered per user."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import i18n
from bot.languages import Languages
from bot.telegram.common import answer, edit
from bot.views import Button, Reply


class LanguageCommands:
    def __init__(self, languages: Languages) -> None:
        self._languages = languages

    async def choose(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Offer the languages as buttons."""
        user = update.effective_user
        if user is None or update.effective_message is None:
            return
        language = await self._languages.of(user.id, user.language_code)
        buttons = tuple(
            Button(name, callback=f"lang:{code}") for code, name in i18n.LANGUAGE_NAMES.items()
        )
        await answer(
            update.effective_message,
            Reply(i18n.text(language, "language_prompt"), (buttons,)),
        )

    async def chosen(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A language button: remember it, and say so in that language."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        language = query.data.removeprefix("lang:")
        await self._languages.choose(query.from_user.id, language)
        await query.answer()
        await edit(query, Reply(i18n.text(language, "language_set")))
