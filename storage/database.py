"""Engine creation and schema migration.

``DATABASE_URL`` is written the way operators know it (``sqlite:///paybot.db``,
``postgresql://user@host/db``); this module picks the async driver for it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

MIGRATIONS = Path(__file__).with_name("migrations")

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


def database_url_for_async(url: str) -> str:
    """Return ``url`` with the async driver this project uses for its backend."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")
    if "+" in parsed.drivername:
        return parsed.render_as_string(hide_password=False)
    return parsed.set(drivername=_ASYNC_DRIVERS[backend]).render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class Database:
    """Owns the engine. ``await Database.connect(url)`` also migrates the schema to head."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @classmethod
    async def connect(cls, url: str, *, migrate: bool = True) -> Database:
        async_url = make_url(database_url_for_async(url))
        kwargs: dict[str, Any] = {}
        if async_url.get_backend_name() == "sqlite":
            # SQLite allows one writer at a time. One shared connection serialises every
            # transaction on this process's loop instead of failing with "database is locked".
            kwargs["poolclass"] = AsyncAdaptedQueuePool
            kwargs["pool_size"] = 1
            kwargs["max_overflow"] = 0
            kwargs["pool_timeout"] = 60
            database = async_url.database or ""
            if database and database != ":memory:":
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
        else:
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 10
            kwargs["pool_pre_ping"] = True
        engine = create_async_engine(async_url, **kwargs)
        if async_url.get_backend_name() == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        db = cls(engine)
        if migrate:
            await db.migrate()
        return db

    async def migrate(self) -> None:
        """Apply every Alembic migration not yet applied (``alembic upgrade head``)."""
        async with self.engine.begin() as connection:
            await connection.run_sync(_upgrade_to_head)

    async def ping(self) -> bool:
        from sqlalchemy import text

        try:
            async with asyncio.timeout(2):
                async with self.engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def close(self) -> None:
        await self.engine.dispose()


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade_to_head(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")
