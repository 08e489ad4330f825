"""Which language each user reads: their choice (``/language``) or their Telegram language."""

from __future__ import annotations

from bot import i18n
from storage import Repository


class Languages:
    def __init__(self, repository: Repository) -> None:
        self._repo = repository

    async def of(self, user_id: int, telegram_code: str | None) -> str:
        chosen = await self._repo.get_language(user_id)
        if chosen in i18n.LANGUAGES:
            return chosen
        return i18n.language_for(telegram_code)

    async def choose(self, user_id: int, language: str) -> None:
        if language not in i18n.LANGUAGES:
            raise ValueError(f"unknown language {language!r}")
        await self._repo.set_language(user_id, language)
