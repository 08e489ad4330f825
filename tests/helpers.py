"""Storage for the tests: every store behind one object, and the reads only tests make."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, select

from storage import (
    Database,
    Events,
    Link,
    Links,
    NotificationStatus,
    Outbox,
    Shop,
    Shops,
    ShopSeed,
    Users,
    utcnow,
)
from storage.common import link_of
from storage.tables import links, outbox, session_checks, shops, webhook_events

#: A shop as a first start with the default settings makes it.
TEST_SHOP = ShopSeed(
    name="Warung Test",
    currency="IDR",
    country="ID",
    timezone="Asia/Jakarta",
    link_expiry=timedelta(hours=24),
    confirm_above_minor=10_000_000,
    confirm_below_minor=1_000,
)


class Store(Links, Events, Outbox, Users, Shops):
    """The bot's stores in one, so a test reaches any of them as ``store.<method>``. The
    stores share their constructor and their state (the database and the clock)."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._clock = clock

    async def a_shop(self) -> Shop:
        """The database's shop (the bot's, or :data:`TEST_SHOP` in a bare database)."""
        return await self.ensure_shop(TEST_SHOP)

    async def new_shop(self) -> Shop:
        """Another shop with :data:`TEST_SHOP`'s settings (a deployment makes one)."""
        now = self._clock()
        values = {
            "name": TEST_SHOP.name,
            "currency": TEST_SHOP.currency,
            "country": TEST_SHOP.country,
            "timezone": TEST_SHOP.timezone,
            "link_expiry_seconds": int(TEST_SHOP.link_expiry.total_seconds()),
            "confirm_above_minor": TEST_SHOP.confirm_above_minor,
            "confirm_below_minor": TEST_SHOP.confirm_below_minor,
            "created_at": now,
            "updated_at": now,
        }
        shop_id = await self._db.transaction(
            lambda conn: conn.execute(
                shops.insert().values(**values).returning(shops.c.id)
            ).scalar_one()
        )
        shop = await self.get(shop_id)
        assert shop is not None
        return shop

    async def count_shops(self) -> int:
        query = select(func.count()).select_from(shops)
        return int(await self._db.read(lambda conn: conn.scalar(query)) or 0)

    async def connect(self, chat_id: int) -> Shop:
        """Make ``chat_id`` the shop's group, as an owner's /connect there does."""
        shop = await self.a_shop()
        return await self.connect_group(shop.id, chat_id)

    async def _link_where(self, *where: Any) -> Link | None:
        query = select(links).where(*where)
        row = await self._db.read(lambda conn: conn.execute(query).first())
        return link_of(row) if row is not None else None

    async def get_link_by_session(self, session_id: str) -> Link | None:
        return await self._link_where(links.c.session_id == session_id)

    async def get_link_by_reference(self, reference_id: str) -> Link | None:
        return await self._link_where(links.c.reference_id == reference_id)

    async def links_for_chat(self, chat_id: int, *, limit: int = 10) -> list[Link]:
        """The chat's links, newest first."""
        query = (
            select(links)
            .where(links.c.chat_id == chat_id)
            .order_by(links.c.created_at.desc(), links.c.id.desc())
            .limit(limit)
        )
        return await self._db.read(lambda conn: [link_of(row) for row in conn.execute(query)])

    async def count_events(self) -> int:
        query = select(func.count()).select_from(webhook_events)
        return int(await self._db.read(lambda conn: conn.scalar(query)) or 0)

    async def pending_checks(self) -> int:
        query = select(func.count()).select_from(session_checks)
        return int(await self._db.read(lambda conn: conn.scalar(query)) or 0)

    async def notifications(
        self, *, status: NotificationStatus | None = None
    ) -> Sequence[Row[Any]]:
        """Outbox rows, in the order they were queued."""
        query = select(outbox).order_by(outbox.c.id)
        if status is not None:
            query = query.where(outbox.c.status == status.value)
        return await self._db.read(lambda conn: conn.execute(query).all())


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float = 30.0, every: float = 0.05
) -> None:
    """Wait until ``check()`` is true, polling: a database row has no event to wait on."""
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 - see above
            await asyncio.sleep(every)
