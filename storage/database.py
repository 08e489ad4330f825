"""Engine creation and schema migration.

``DATABASE_URL`` is written the way operators know it (``sqlite:///paybot.db``,
``postgresql://user@host/db``); this module picks the driver for it: asyncpg for
PostgreSQL, the standard library's sqlite3 (on a thread of its own) for SQLite.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, text, update
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from storage.tables import heartbeat

MIGRATIONS = Path(__file__).with_name("migrations")
#: Key of the PostgreSQL advisory lock that serialises migrations (any constant of ours).
MIGRATION_LOCK = 0x7061_7962_6F74  # "paybot"
T = TypeVar("T")
log = logging.getLogger(__name__)

#: What a failing database raises (server down or refusing, connection lost, disk full):
#: callers outside ``storage`` catch these, not SQLAlchemy's or a driver's own classes.
STORAGE_ERRORS: tuple[type[Exception], ...] = (SQLAlchemyError, OSError)

_DRIVERS = {
    "sqlite": "sqlite+pysqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


def database_url_with_driver(url: str) -> str:
    """Return ``url`` with the driver this project uses for its backend: asyncpg for
    PostgreSQL (unless the URL names another), the standard library's sqlite3 for SQLite
    (always: :class:`Database` runs it on a thread of its own)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in _DRIVERS:
        raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")
    if "+" in parsed.drivername and backend != "sqlite":
        return parsed.render_as_string(hide_password=False)
    return parsed.set(drivername=_DRIVERS[backend]).render_as_string(hide_password=False)


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

    Everything reaches the database as a synchronous SQLAlchemy Core function
    ``work(connection)``, run in one transaction by :meth:`transaction` (or :meth:`read`).

    PostgreSQL: an async engine (asyncpg) and its pool; ``work`` runs through ``run_sync``.
    SQLite: a synchronous engine with ONE connection, used only by ONE thread of its own, to
    which each ``work`` goes whole (BEGIN to COMMIT: one hop). The async driver (aiosqlite)
    took ~4 hops to its thread per statement: CPU per /pay 6 -> 10.8 ms, /pay p50 5.6 ->
    10.0 ms. One thread owning the file also means one writer: no "database is locked".
    """

    def __init__(self, engine: AsyncEngine | Engine) -> None:
        self.engine = engine
        #: SQLite's own thread, the only one to touch its connection (made on first use).
        self._thread: ThreadPoolExecutor | None = None
        #: The SQLite file and its identity (device, inode) once open: see :meth:`ping`.
        self._sqlite_file: tuple[str, tuple[int, int] | None] | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def sync_engine(self) -> Engine:
        """The synchronous engine under it all (for events such as ``before_cursor_execute``)."""
        if isinstance(self.engine, AsyncEngine):
            return self.engine.sync_engine
        return self.engine

    @classmethod
    async def connect(cls, url: str, *, migrate: bool = True) -> Database:
        driver_url = make_url(database_url_with_driver(url))
        sqlite = driver_url.get_backend_name() == "sqlite"
        database = driver_url.database or ""
        engine: AsyncEngine | Engine
        if sqlite:
            if database and database != ":memory:":
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
            # One connection, only ever used on the database's own thread (see the class).
            engine = create_engine(
                driver_url,
                poolclass=StaticPool,
                connect_args={"check_same_thread": False},
            )
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_async_engine(driver_url, pool_size=10, max_overflow=10)
            event.listen(engine.sync_engine, "checkout", _closed_connections_are_replaced)
        db = cls(engine)
        if migrate:
            await db.migrate()
        if sqlite and database and database != ":memory:" and not database.startswith("file:"):
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
        await self.change_schema(_migrate)

    async def change_schema(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` (Alembic, handed the connection) in one transaction, as migrations must.

        SQLite: with foreign keys not enforced meanwhile, and checked before the commit.
        Alembic alters a SQLite table by copying it, dropping it and renaming the copy;
        dropping a table that other rows refer to (outbox, webhook events, checks refer to
        links) fails while they are enforced. SQLite's own procedure for altering a table
        turns them off the same way.
        """
        engine = self.engine
        if isinstance(engine, AsyncEngine):
            return await self.transaction(work)
        return await self._on_thread(_without_foreign_keys, engine, work)

    async def transaction(self, work: Callable[[Connection], T], *, repeatable: bool = False) -> T:
        """Run ``work(connection)`` (synchronous SQLAlchemy Core) in one transaction,
        committed when it returns, rolled back if it raises.

        ``repeatable=True`` says ``work`` may safely run twice (it writes nothing twice, the
        way webhook recording skips events it holds): if the server closes the connection
        under it (a restart, a fail-over; SQLAlchemy then discards the whole pool), it runs
        once more on a new connection instead of failing its caller.
        """
        engine = self.engine
        if not isinstance(engine, AsyncEngine):
            return await self._on_thread(_in_transaction, engine, work)
        try:
            async with engine.begin() as conn:
                return await conn.run_sync(work)
        except DBAPIError as exc:
            if not (repeatable and exc.connection_invalidated):
                raise
            log.warning("the database server closed a connection; writing again on a new one")
        async with engine.begin() as conn:
            return await conn.run_sync(work)

    async def read(self, work: Callable[[Connection], T]) -> T:
        """Run ``work(connection)`` to read: whatever it began is rolled back at the end."""
        engine = self.engine
        if not isinstance(engine, AsyncEngine):
            return await self._on_thread(_on_connection, engine, work)
        async with engine.connect() as conn:
            return await conn.run_sync(work)

    async def _on_thread(
        self, run: Callable[[Engine, Callable[[Connection], T]], T], *args: Any
    ) -> T:
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        return await asyncio.get_running_loop().run_in_executor(self._thread, run, *args)

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
        engine = self.engine
        if isinstance(engine, AsyncEngine):
            await engine.dispose()
            return
        thread, self._thread = self._thread, None
        if thread is None:  # never used, or closed already
            return
        try:
            # On the thread that owns the connection; then the thread ends.
            await asyncio.get_running_loop().run_in_executor(thread, engine.dispose)
        finally:
            thread.shutdown(wait=False)


def _in_transaction(engine: Engine, work: Callable[[Connection], T]) -> T:
    with engine.begin() as conn:
        return work(conn)


def _on_connection(engine: Engine, work: Callable[[Connection], T]) -> T:
    with engine.connect() as conn:
        return work(conn)


def _without_foreign_keys(engine: Engine, work: Callable[[Connection], T]) -> T:
    with engine.connect() as conn:
        # A PRAGMA outside a transaction: inside one, SQLite ignores this one.
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.commit()
        try:
            with conn.begin():
                # Python's sqlite3 begins a transaction before a write, not before DDL: a
                # migration failing half-way would leave the tables it had made so far.
                conn.exec_driver_sql("BEGIN")
                done = work(conn)
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"the schema change broke foreign keys: {broken[:5]}")
        finally:
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.commit()
        return done


def _migrate(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Instances starting together migrate one after the other (the lock is held until
        # this transaction ends); the later ones then find nothing to do.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    if _current_revision(connection) != head_revision():
        _upgrade_to_head(connection)


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
