"""Engine creation and schema migration.

``DATABASE_URL`` is written the way operators know it (``sqlite:///paybot.db``,
``postgresql://user@host/db``); this module picks the async driver for it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, text, update
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, StaticPool

from storage.tables import heartbeat

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
    """Owns the engine. ``await Database.connect(url)`` also migrates the schema to head.

    Everything reaches the database through :meth:`transaction`, :meth:`autocommit`,
    :meth:`connection` or :meth:`begin`. On PostgreSQL each takes a connection from the
    engine's pool. On SQLite, which takes one writer at a time, the process keeps one
    connection and lends it to one user at a time (:class:`_OneSQLiteConnection`).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        #: The SQLite file and its identity (device, inode) once open: see :meth:`ping`.
        self._sqlite_file: tuple[str, tuple[int, int] | None] | None = None
        self._sqlite = _OneSQLiteConnection(engine) if engine.dialect.name == "sqlite" else None
        # The same pool; its connections are handed out in autocommit mode.
        self._autocommit_engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @classmethod
    async def connect(cls, url: str, *, migrate: bool = True) -> Database:
        async_url = make_url(database_url_for_async(url))
        kwargs: dict[str, Any] = {}
        if async_url.get_backend_name() == "sqlite":
            # One connection, kept by _OneSQLiteConnection: the pool is never asked for two.
            kwargs["poolclass"] = AsyncAdaptedQueuePool
            kwargs["pool_size"] = 1
            kwargs["max_overflow"] = 0
            database = async_url.database or ""
            if database and database != ":memory:":
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
        else:
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 10
        engine = create_async_engine(async_url, **kwargs)
        if async_url.get_backend_name() == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            event.listen(engine.sync_engine, "checkout", _closed_connections_are_replaced)
        db = cls(engine)
        if migrate:
            await db.migrate()
        if async_url.get_backend_name() == "sqlite":
            database = async_url.database or ""
            if database and database != ":memory:" and not database.startswith("file:"):
                try:
                    db._sqlite_file = (database, _identity(database))
                except FileNotFoundError:  # not made yet (migrate=False): on first ping
                    db._sqlite_file = (database, None)
        return db

    async def migrate(self) -> None:
        """Apply every Alembic migration not yet applied (``alembic upgrade head``).

        When the schema is already current (every start but the first after an upgrade),
        Alembic is not even imported: a smaller idle process.
        """
        async with self.begin() as connection:
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
        if self._sqlite is not None:
            return await self._sqlite.transaction(work)
        return await self._run_on_server(self.engine, work, repeatable=repeatable)

    async def autocommit(self, work: Callable[[Connection], T], *, repeatable: bool = False) -> T:
        """Run ``work(connection)`` where, on PostgreSQL, each statement commits by itself.

        For work that writes in one statement: it then costs no ``BEGIN`` and no ``COMMIT``,
        each a round trip to the server, and the statement is durable when it returns. On
        SQLite the whole of ``work`` is one transaction, as with :meth:`transaction`: there
        the commit costs an fsync, not a round trip, and one for all of ``work`` is cheaper.
        ``repeatable`` is as for :meth:`transaction`.
        """
        if self._sqlite is not None:
            return await self._sqlite.transaction(work)
        return await self._run_on_server(self._autocommit_engine, work, repeatable=repeatable)

    @staticmethod
    async def _run_on_server(
        engine: AsyncEngine, work: Callable[[Connection], T], *, repeatable: bool
    ) -> T:
        try:
            async with engine.begin() as conn:
                return await conn.run_sync(work)
        except DBAPIError as exc:
            if not (repeatable and exc.connection_invalidated):
                raise
            log.warning("the database server closed a connection; writing again on a new one")
        async with engine.begin() as conn:
            return await conn.run_sync(work)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        """A connection for the block, to read: what it began is rolled back at the end."""
        if self._sqlite is None:
            async with self.engine.connect() as conn:
                yield conn
        else:
            async with self._sqlite.lend() as conn:
                yield conn

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A connection in one transaction, committed at the end of the block, or rolled
        back if the block raises."""
        if self._sqlite is None:
            async with self.engine.begin() as conn:
                yield conn
        else:
            async with self._sqlite.lend() as conn, conn.begin():
                yield conn

    async def ping(self) -> bool:
        """True when the database takes writes: one committed beat in ``heartbeat``.

        A ``SELECT`` succeeds on a read-only or full disk and on a read-only PostgreSQL; a
        committed write does not. SQLite keeps writing to a file deleted (or replaced) under
        it, into an inode nobody will ever read again, and to a file made read-only after it
        was opened: the file at the path must still be the one open, and writable.
        """
        try:
            async with asyncio.timeout(2):
                if self._sqlite_file is not None:
                    path, opened = self._sqlite_file
                    if opened is None:
                        opened = _identity(path)
                        self._sqlite_file = (path, opened)
                    if _identity(path) != opened or not _writable(path):
                        return False
                return await self.transaction(_beat)
        except Exception:
            return False

    async def close(self) -> None:
        if self._sqlite is not None:
            await self._sqlite.close()
        await self.engine.dispose()


class _OneSQLiteConnection:
    """The process's one SQLite connection, lent to one user at a time.

    SQLite takes one writer at a time, so one connection serves all the process's work, in
    turn, rather than several failing with "database is locked". It is kept for the
    process's life instead of being taken from the pool and given back for each use: with
    the code gone cold between two merchants' messages, the pool's checkout and check-in
    (each through SQLAlchemy's greenlet bridge) cost a /pay more CPU than the statements of
    its two transactions.

    :meth:`transaction` runs a whole transaction in aiosqlite's thread, on a synchronous
    SQLAlchemy connection over aiosqlite's own sqlite3 connection: one trip to that thread
    per transaction, instead of one per statement.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._lock = asyncio.Lock()
        self._connection: AsyncConnection | None = None
        self._driver: Any = None  # the aiosqlite.Connection under it
        self._sync: Connection | None = None  # over the driver's sqlite3 connection

    @asynccontextmanager
    async def lend(self) -> AsyncIterator[AsyncConnection]:
        """The connection, for this block alone; what the block left open is rolled back."""
        async with self._lock:
            conn = await self._open()
            try:
                yield conn
            finally:
                if not (conn.invalidated or conn.closed):  # else _open replaces it
                    if conn.in_transaction():
                        await conn.rollback()
                    if self._driver.in_transaction:
                        await self._driver.rollback()  # begun behind SQLAlchemy's back

    async def transaction(self, work: Callable[[Connection], T]) -> T:
        async with self._lock:
            await self._open()
            sync = self._sync
            assert sync is not None

            def run() -> T:
                with sync.begin():
                    return work(sync)

            result: T = await self._driver._execute(run)
            return result

    async def _open(self) -> AsyncConnection:
        conn = self._connection
        if conn is None or conn.closed or conn.invalidated:
            if conn is not None:
                await conn.close()  # an invalidated one goes back to the pool, which drops it
            conn = await self._engine.connect()
            raw = await conn.get_raw_connection()
            self._connection, self._driver, self._sync = conn, raw.driver_connection, None
        if self._sync is None or self._sync.closed or self._sync.invalidated:
            self._sync = await self._driver._execute(self._sync_over, self._driver._conn)
        return conn

    @staticmethod
    def _sync_over(sqlite_connection: Any) -> Connection:
        """A synchronous SQLAlchemy connection over aiosqlite's own sqlite3 connection; made
        in aiosqlite's thread and used only there."""
        engine = create_engine(
            "sqlite://",
            creator=lambda: sqlite_connection,
            poolclass=StaticPool,
            pool_reset_on_return=None,  # never given back; begin() ends each transaction
        )
        return engine.connect()

    async def close(self) -> None:
        async with self._lock:
            if self._connection is not None:
                await self._connection.close()
            self._connection = self._driver = self._sync = None


def _identity(path: str) -> tuple[int, int]:
    found = os.stat(path)
    return found.st_dev, found.st_ino


def _writable(path: str) -> bool:
    """Writable by this process. Root may write any file, so there a file with no write
    permission bit at all (``chmod a-w``) counts as made read-only on purpose."""
    if os.geteuid() == 0:
        return bool(os.stat(path).st_mode & 0o222)
    return os.access(path, os.W_OK)


def _beat(connection: Connection) -> bool:
    done = connection.execute(update(heartbeat).values(beats=heartbeat.c.beats + 1))
    return bool(done.rowcount == 1)


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
