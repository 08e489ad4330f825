"""Telegram users' own settings: the language each one chose."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, select

from storage.common import insert, utcnow
from storage.database import Database
from storage.tables import users


class Users:
    """Each user's chosen language."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._clock = clock

    async def get_language(self, user_id: int) -> str | None:
        def read(conn: Connection) -> str | None:
            value = conn.scalar(select(users.c.language).where(users.c.user_id == user_id))
            return str(value) if value is not None else None

        return await self._db.read(read)

    async def set_language(self, user_id: int, language: str) -> None:
        now = self._clock()
        stmt = insert(self._db.dialect, users).values(
            user_id=user_id, language=language, updated_at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[users.c.user_id], set_={"language": language, "updated_at": now}
        )

        def write(conn: Connection) -> None:
            conn.execute(stmt)

        await self._db.transaction(write)
