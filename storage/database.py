"""Engine creation and schema migration.

``DATABASE_URL`` is written the way operators know it (``sqlite:///paybot.db``,
``postgresql://user@host/db``); this module picks the async driver for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, StaticPool

MIGRATIONS = Path(__file__).with_name("migrations")
#: Key of the PostgreSQL advisory lock that serialises migrations (any constant of ours).
MIGRATION_LOCK = 0x7061_7962_6F74  # "paybot"
T = TypeVar("T")
log = logging.getLogger(__name__)

#: What a failing database raises (server down or refusing, connection lost, disk full):
#: callers outside ``storage`` catch these, not SQLAlchemy's or a driver's own classes.
STORAGE_ERRORS: tuple[type[Exception], ...] = (SQLAlchemyError, OSError)

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
    # FULL: a commit survives a power cut, so a webhook's 200 really means "stored". Group
    # commit (bot/ingest.py) keeps the fsyncs few.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _roll_back_an_open_transaction(dbapi_connection: Any, _record: Any, state: Any) -> None:
    """SQLite's reset of a connection given back to the pool: roll back only a transaction
    that is still open.

    SQLAlchemy's own reset rolls back on every return, and through aiosqlite a rollback is a
    round trip to its thread: on the /pay path that was one more after each transaction, for
    nothing, since :meth:`Database.transaction` commits or rolls back in that thread, and a
    ``Connection`` that began a transaction ends it itself when closed
    (``transaction_was_reset``). Only a transaction opened some other way is left to end.
    """
    if state.transaction_was_reset or state.terminate_only or not state.asyncio_safe:
        return
    if dbapi_connection.driver_connection.in_transaction:
        dbapi_connection.rollback()


def _closed_connections_are_replaced(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Hand out no connection the server has closed (a restart, a fail-over, an idle
    timeout): the pool throws it away and opens another.

    SQLAlchemy's ``pool_pre_ping`` would ask the server on every checkout, three round trips
    with asyncpg (BEGIN, an empty query, ROLLBACK); more than a webhook batch's own work. A
    server that closes a connection says so, and asyncpg then knows it without asking.
    """
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the database server closed this connection")


class Database:
    """Owns the engine. ``await Database.connect(url)`` also migrates the schema to head."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # SQLite: a synchronous connection over aiosqlite's own (see _sync_connection_for).
        self._sync_connection: Connection | None = None
        self._sync_raw: Any = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def writers(self) -> int:
        """How many write transactions are worth running at once: SQLite takes one writer at
        a time; PostgreSQL takes several, and each spends most of its time waiting on the
        server, so a second one keeps this process busy meanwhile."""
        return 1 if self.dialect == "sqlite" else 2

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
            kwargs["pool_reset_on_return"] = None  # _roll_back_an_open_transaction does it
            database = async_url.database or ""
            if database and database != ":memory:":
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
        else:
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 10
        engine = create_async_engine(async_url, **kwargs)
        if async_url.get_backend_name() == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(engine.sync_engine, "reset", _roll_back_an_open_transaction)
        else:
            event.listen(engine.sync_engine, "checkout", _closed_connections_are_replaced)
        db = cls(engine)
        if migrate:
            await db.migrate()
        return db

    async def migrate(self) -> None:
        """Apply every Alembic migration not yet applied (``alembic upgrade head``).

        When the schema is already current (every start but the first after an upgrade),
        Alembic is not even imported: a smaller idle process.
        """
        async with self.engine.begin() as connection:
            if self.dialect == "postgresql":
                # Instances starting together migrate one after the other (the lock is held
                # until this transaction ends); the later ones then find nothing to do.
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                )
            current = await connection.run_sync(_current_revision)
            if current == head_revision():
                return
            await connection.run_sync(_upgrade_to_head)

    async def transaction(self, work: Callable[[Connection], T], *, repeatable: bool = False) -> T:
        """Run ``work(connection)`` (synchronous SQLAlchemy Core) in one transaction.

        On PostgreSQL this is ``AsyncConnection.run_sync``. On SQLite the whole function runs
        in aiosqlite's own thread on its connection: one thread hop for the transaction
        instead of several per statement, which under load is what limits throughput.

        ``repeatable=True`` says ``work`` may safely run twice (it writes nothing twice, the
        way webhook recording skips events it holds): if the server closes the connection
        under it (a restart, a fail-over; SQLAlchemy then discards the whole pool), it runs
        once more on a new connection instead of failing its caller.
        """
        if self.dialect != "sqlite":
            try:
                async with self.engine.begin() as conn:
                    return await conn.run_sync(work)
            except DBAPIError as exc:
                if not (repeatable and exc.connection_invalidated):
                    raise
                log.warning("the database server closed a connection; writing again on a new one")
            async with self.engine.begin() as conn:
                return await conn.run_sync(work)
        async with self.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection  # aiosqlite.Connection
            run_in_thread = getattr(driver, "_execute", None)
            sqlite_connection = getattr(driver, "_conn", None)
            if run_in_thread is None or sqlite_connection is None:  # pragma: no cover
                await conn.rollback()
                async with self.engine.begin() as fallback:
                    return await fallback.run_sync(work)

            def run() -> T:
                sync_conn = self._sync_connection_for(sqlite_connection)
                with sync_conn.begin():
                    return work(sync_conn)

            result: T = await run_in_thread(run)
            return result

    def _sync_connection_for(self, sqlite_connection: Any) -> Connection:
        """A synchronous SQLAlchemy connection over aiosqlite's own sqlite3 connection, made
        in aiosqlite's thread and used only there, kept for as long as that connection lives.

        Kept rather than taken from a pool and given back for each transaction: on this
        machine, with the code gone cold between two merchants' messages, the checkout and the
        check-in (with its reset) were a sixth of a transaction's CPU.
        """
        kept = self._sync_connection
        if (
            kept is None
            or kept.invalidated
            or kept.closed
            or self._sync_raw is not sqlite_connection
        ):
            engine = create_engine(
                "sqlite://",
                creator=lambda: sqlite_connection,
                poolclass=StaticPool,
                pool_reset_on_return=None,  # never given back; begin() ends each transaction
            )
            kept = self._sync_connection = engine.connect()
            self._sync_raw = sqlite_connection
        return kept

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
        self._sync_connection = self._sync_raw = None


def head_revision() -> str:
    """The newest migration's revision id. Migrations are named ``NNNN_what.py`` with
    revision ``NNNN``, each revising the one before, so the highest number is the head."""
    numbers = [p.name[:4] for p in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")]
    return max(numbers)


def _current_revision(connection: Connection) -> str | None:
    from sqlalchemy import inspect, text

    if not inspect(connection).has_table("alembic_version"):
        return None
    value = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return str(value) if value is not None else None


def alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade_to_head(connection: Connection) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), "head")
