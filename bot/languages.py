"""Which language each user reads: their choice (``/language``) or their Telegram language."""

from __future__ import annotations

import time

from bot import i18n
from storage import Users

#: How long a user's stored choice is remembered in memory (other instances see a change
#: within this time).
CACHE_SECONDS = 60.0


class Languages:
    def __init__(self, users: Users) -> None:
        self._users = users
        self._cache: dict[int, tuple[float, str | None]] = {}

    async def of(self, user_id: int, telegram_code: str | None) -> str:
        chosen = await self._chosen(user_id)
        if chosen in i18n.LANGUAGES:
            return chosen
        return i18n.language_for(telegram_code)

    async def _chosen(self, user_id: int) -> str | None:
        now = time.monotonic()
        cached = self._cache.get(user_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        chosen = await self._users.get_language(user_id)
        if len(self._cache) > 50_000:
            self._cache.clear()
        self._cache[user_id] = (now + CACHE_SECONDS, chosen)
        return chosen

    async def choose(self, user_id: int, language: str) -> None:
        if language not in i18n.LANGUAGES:
            raise ValueError(f"unknown language {language!r}")
        await self._users.set_language(user_id, language)
        self._cache[user_id] = (time.monotonic() + CACHE_SECONDS, language)
