"""Shops, their members and their one-time codes (invites and the claim link)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, Select, and_, func, select, text, update

from storage.common import insert, utcnow
from storage.database import Database
from storage.models import (
    AnnounceTo,
    InviteOutcome,
    LinkStatus,
    Member,
    MemberTotals,
    Redeemed,
    Role,
    Shop,
)
from storage.tables import invites, links, members, shops


@dataclass(frozen=True, slots=True)
class ShopSeed:
    """A new shop's settings (from the environment, on first start)."""

    name: str
    currency: str
    country: str
    timezone: str
    link_expiry: timedelta
    confirm_above_minor: int | None
    confirm_below_minor: int | None


class TeamChange(StrEnum):
    """What removing a member or changing a role did."""

    DONE = "done"
    UNCHANGED = "unchanged"  # they had that role already, or were removed already
    LAST_OWNER = "last_owner"  # refused: a shop keeps at least one owner
    NOT_A_MEMBER = "not_a_member"


def shop_of(row: Row[Any]) -> Shop:
    m = row._mapping
    channels = m["payment_channels"]
    return Shop(
        id=m["id"],
        name=m["name"],
        currency=m["currency"],
        country=m["country"],
        timezone=m["timezone"],
        link_expiry=timedelta(seconds=m["link_expiry_seconds"]),
        confirm_above_minor=m["confirm_above_minor"],
        confirm_below_minor=m["confirm_below_minor"],
        payment_channels=tuple(channels.split(",")) if channels else (),
        announce_to=AnnounceTo(m["announce_to"]) if m["announce_to"] else None,
        group_chat_id=m["group_chat_id"],
    )


def member_of(row: Row[Any]) -> Member:
    m = row._mapping
    return Member(
        shop_id=m["shop_id"],
        user_id=m["user_id"],
        role=Role(m["role"]),
        name=m["name"],
        active=m["removed_at"] is None,
        source=m["source"],
    )


def _seed_values(seed: ShopSeed) -> dict[str, Any]:
    return {
        "name": seed.name[:64],
        "currency": seed.currency,
        "country": seed.country,
        "timezone": seed.timezone,
        "link_expiry_seconds": int(seed.link_expiry.total_seconds()),
        "confirm_above_minor": seed.confirm_above_minor,
        "confirm_below_minor": seed.confirm_below_minor,
        "seeded": True,
    }


def _shop(conn: Connection, shop_id: int) -> Shop | None:
    row = conn.execute(select(shops).where(shops.c.id == shop_id)).first()
    return shop_of(row) if row is not None else None


def _member(conn: Connection, shop_id: int, user_id: int) -> Member | None:
    """A member of the shop, removed ones included."""
    row = conn.execute(
        select(members).where(and_(members.c.shop_id == shop_id, members.c.user_id == user_id))
    ).first()
    return member_of(row) if row is not None else None


def _active_members(shop_id: int) -> Select[Any]:
    """The shop's active members: owners first, then by when they joined."""
    return (
        select(members)
        .where(and_(members.c.shop_id == shop_id, members.c.removed_at.is_(None)))
        .order_by((members.c.role != Role.OWNER.value), members.c.added_at, members.c.user_id)
    )


def announce_chats(conn: Connection, shop_id: int, origin_chat_id: int) -> list[int]:
    """Where a payment of the shop's link made in ``origin_chat_id`` is announced, in the
    caller's transaction (see :meth:`Shop.announce_chats`)."""
    shop = _shop(conn, shop_id)
    return shop.announce_chats(origin_chat_id) if shop is not None else [origin_chat_id]


#: Values ``/settings`` may change, with the column each is stored in.
SETTABLE = frozenset(
    {
        "name",
        "timezone",
        "link_expiry",
        "confirm_above_minor",
        "confirm_below_minor",
        "payment_channels",
        "announce_to",
    }
)


class Shops:
    """Shops, members, invites: everything of who may act for which shop."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._clock = clock

    # -- the shop ----------------------------------------------------------------------------

    async def ensure_shop(self, seed: ShopSeed) -> Shop:
        """The deployment's shop: made from ``seed`` if there is none, or if an upgrade made
        it (its settings then come from ``seed`` too). Settings changed in the chat stay."""
        now = self._clock()

        def write(conn: Connection) -> Shop:
            if conn.dialect.name == "postgresql":
                # Instances starting together: one makes the shop, the others wait and find
                # it (SQLite has one writer already).
                conn.execute(text("SELECT pg_advisory_xact_lock(7101)"))
            row = conn.execute(select(shops).order_by(shops.c.id).limit(1)).first()
            if row is None:
                conn.execute(
                    shops.insert().values(**_seed_values(seed), created_at=now, updated_at=now)
                )
            elif not row._mapping["seeded"]:
                conn.execute(
                    update(shops)
                    .where(shops.c.id == row.id)
                    # The currency its links were made in stays (and its country with it).
                    .values(
                        {
                            **_seed_values(seed),
                            "currency": row.currency,
                            "country": row.country,
                            "updated_at": now,
                        }
                    )
                )
            return shop_of(conn.execute(select(shops).order_by(shops.c.id).limit(1)).one())

        return await self._db.transaction(write)

    async def get(self, shop_id: int) -> Shop | None:
        return await self._db.read(lambda conn: _shop(conn, shop_id))

    async def update(self, shop_id: int, changes: Mapping[str, Any]) -> Shop:
        """Change settings (names as in :data:`SETTABLE`; ``link_expiry`` a timedelta,
        ``payment_channels`` a sequence, empty for all; ``announce_to`` an AnnounceTo or
        None for the default)."""
        unknown = set(changes) - SETTABLE
        if unknown:
            raise ValueError(f"not a shop setting: {sorted(unknown)}")
        values: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "link_expiry":
                values["link_expiry_seconds"] = int(value.total_seconds())
            elif key == "payment_channels":
                values["payment_channels"] = ",".join(value) or None
            elif key == "announce_to":
                values["announce_to"] = value.value if value is not None else None
            else:
                values[key] = value
        values["updated_at"] = self._clock()

        def write(conn: Connection) -> Shop:
            conn.execute(update(shops).where(shops.c.id == shop_id).values(**values))
            shop = _shop(conn, shop_id)
            assert shop is not None
            return shop

        return await self._db.transaction(write)

    # -- the shop's group --------------------------------------------------------------------

    async def shop_of_group(self, chat_id: int) -> Shop | None:
        def read(conn: Connection) -> Shop | None:
            row = conn.execute(select(shops).where(shops.c.group_chat_id == chat_id)).first()
            return shop_of(row) if row is not None else None

        return await self._db.read(read)

    async def connect_group(self, shop_id: int, chat_id: int | None) -> Shop:
        """Make ``chat_id`` the shop's group (None: no group). A shop has one group; a group
        belongs to one shop (another shop's connection to it ends)."""
        now = self._clock()

        def write(conn: Connection) -> Shop:
            if chat_id is not None:
                conn.execute(
                    update(shops)
                    .where(and_(shops.c.group_chat_id == chat_id, shops.c.id != shop_id))
                    .values(group_chat_id=None, updated_at=now)
                )
            conn.execute(
                update(shops)
                .where(shops.c.id == shop_id)
                .values(group_chat_id=chat_id, updated_at=now)
            )
            shop = _shop(conn, shop_id)
            assert shop is not None
            return shop

        return await self._db.transaction(write)

    # -- members -----------------------------------------------------------------------------

    async def membership(self, user_id: int) -> tuple[Shop, Member] | None:
        """The shop a user acts for, and who they are in it (active members only)."""

        def read(conn: Connection) -> tuple[Shop, Member] | None:
            row = conn.execute(
                select(members)
                .where(and_(members.c.user_id == user_id, members.c.removed_at.is_(None)))
                .order_by(members.c.shop_id)
                .limit(1)
            ).first()
            if row is None:
                return None
            member = member_of(row)
            shop = _shop(conn, member.shop_id)
            assert shop is not None
            return shop, member

        return await self._db.read(read)

    async def member(self, shop_id: int, user_id: int) -> Member | None:
        """A member of the shop, removed ones included."""
        return await self._db.read(lambda conn: _member(conn, shop_id, user_id))

    async def members(self, shop_id: int) -> list[Member]:
        """The shop's active members: owners first, then by when they joined."""
        query = _active_members(shop_id)
        return await self._db.read(lambda conn: [member_of(r) for r in conn.execute(query)])

    async def member_totals(
        self, shop_id: int, start: datetime, end: datetime
    ) -> list[MemberTotals]:
        """Each active member with what their links took between ``start`` and ``end``."""
        paid = (
            select(
                links.c.user_id,
                func.count().label("n"),
                func.coalesce(func.sum(links.c.amount_minor), 0).label("total"),
            )
            .where(
                and_(
                    links.c.shop_id == shop_id,
                    links.c.status == LinkStatus.COMPLETED.value,
                    links.c.paid_at >= start,
                    links.c.paid_at < end,
                )
            )
            .group_by(links.c.user_id)
        )

        def read(conn: Connection) -> list[MemberTotals]:
            sums = {r.user_id: (int(r.n), int(r.total)) for r in conn.execute(paid)}
            rows = conn.execute(_active_members(shop_id))
            return [MemberTotals(member_of(r), *sums.get(r.user_id, (0, 0))) for r in rows]

        return await self._db.read(read)

    async def add_member(
        self, shop_id: int, user_id: int, *, role: Role, name: str, source: str
    ) -> Member:
        """Add a member, or bring a removed one back with ``role``."""
        now = self._clock()

        def write(conn: Connection) -> Member:
            return _upsert_member(
                conn, shop_id, user_id, role=role, name=name, source=source, now=now
            )

        return await self._db.transaction(write)

    async def rename_member(self, shop_id: int, user_id: int, name: str) -> None:
        """Keep a member's name as Telegram shows it now (for /team and announcements)."""

        def write(conn: Connection) -> None:
            conn.execute(
                update(members)
                .where(and_(members.c.shop_id == shop_id, members.c.user_id == user_id))
                .values(name=name[:128])
            )

        await self._db.transaction(write)

    async def sync_env_owners(
        self, shop_id: int, user_ids: Iterable[int]
    ) -> tuple[list[int], list[int]]:
        """``ALLOWED_USER_IDS``: each listed user is an owner; members who came from the list
        and are no longer on it are removed. Returns (added, removed) user ids."""
        listed = set(user_ids)
        now = self._clock()

        def write(conn: Connection) -> tuple[list[int], list[int]]:
            rows = {
                r.user_id: member_of(r)
                for r in conn.execute(select(members).where(members.c.shop_id == shop_id))
            }
            added = []
            for user_id in sorted(listed):
                member = rows.get(user_id)
                if member is None or not member.is_owner:
                    name = member.name if member is not None else f"User {user_id}"
                    _upsert_member(
                        conn, shop_id, user_id, role=Role.OWNER, name=name, source="env", now=now
                    )
                    added.append(user_id)
            gone = [
                m.user_id
                for m in rows.values()
                if m.source == "env" and m.active and m.user_id not in listed
            ]
            if gone:
                conn.execute(
                    update(members)
                    .where(and_(members.c.shop_id == shop_id, members.c.user_id.in_(gone)))
                    .values(removed_at=now)
                )
            return added, gone

        return await self._db.transaction(write)

    async def has_owner(self, shop_id: int) -> bool:
        def read(conn: Connection) -> bool:
            return _owner_count(conn, shop_id) > 0

        return await self._db.read(read)

    async def change_member(
        self, shop_id: int, user_id: int, *, role: Role | None = None, remove: bool = False
    ) -> TeamChange:
        """Give a member another role, or remove them; never leaves the shop without an
        owner (checked in the same transaction, so two owners demoting each other at once
        cannot both succeed)."""
        now = self._clock()

        def write(conn: Connection) -> TeamChange:
            # Locks the shop's owner rows (PostgreSQL; SQLite has one writer).
            owners = _owners(conn, shop_id, lock=True)
            member = _member(conn, shop_id, user_id)
            if member is None or (not member.active and not remove):
                return TeamChange.NOT_A_MEMBER
            if remove and not member.active:
                return TeamChange.UNCHANGED
            if not remove and member.role is role:
                return TeamChange.UNCHANGED
            if member.is_owner and len(owners) <= 1:
                return TeamChange.LAST_OWNER
            values: dict[str, Any] = {"removed_at": now} if remove else {}
            if role is not None and not remove:
                values["role"] = role.value
            conn.execute(
                update(members)
                .where(and_(members.c.shop_id == shop_id, members.c.user_id == user_id))
                .values(**values)
            )
            return TeamChange.DONE

        return await self._db.transaction(write)

    # -- invites and the claim link ------------------------------------------------------------

    async def create_code(
        self,
        shop_id: int,
        code_hash: str,
        *,
        kind: str,
        role: Role,
        created_by: int | None,
        expires_at: datetime | None,
    ) -> None:
        now = self._clock()

        def write(conn: Connection) -> None:
            conn.execute(
                invites.insert().values(
                    code_hash=code_hash,
                    shop_id=shop_id,
                    kind=kind,
                    role=role.value,
                    created_by=created_by,
                    created_at=now,
                    expires_at=expires_at,
                )
            )

        await self._db.transaction(write)

    async def redeem(self, code_hash: str, kind: str, user_id: int, name: str) -> Redeemed:
        """Use a one-time code: its user joins the shop with the code's role, once.

        A claim code works only while the shop has no owner. The code is locked while it
        is read, so two people opening the same link at once cannot both join.
        """
        now = self._clock()

        def write(conn: Connection) -> Redeemed:
            row = conn.execute(
                select(invites)
                .where(and_(invites.c.code_hash == code_hash, invites.c.kind == kind))
                .with_for_update()
            ).first()
            if row is None:
                return Redeemed(InviteOutcome.UNKNOWN)
            shop = _shop(conn, row.shop_id)
            assert shop is not None
            existing = _member(conn, shop.id, user_id)
            if existing is not None and existing.active:
                return Redeemed(InviteOutcome.ALREADY_MEMBER, existing, shop)
            if row.used_at is not None:
                return Redeemed(InviteOutcome.USED, shop=shop)
            if row.expires_at is not None and row.expires_at <= now:
                return Redeemed(InviteOutcome.EXPIRED, shop=shop)
            if kind == "claim" and _owner_count(conn, shop.id) > 0:
                return Redeemed(InviteOutcome.CLAIMED, shop=shop)
            owners = tuple(_owners(conn, shop.id))
            conn.execute(
                update(invites)
                .where(invites.c.code_hash == code_hash)
                .values(used_by=user_id, used_at=now)
            )
            joined = _upsert_member(
                conn,
                shop.id,
                user_id,
                role=Role(row.role),
                name=name,
                source="invite" if kind == "join" else kind,
                now=now,
            )
            return Redeemed(InviteOutcome.JOINED, joined, shop, owners)

        return await self._db.transaction(write)


def _upsert_member(
    conn: Connection,
    shop_id: int,
    user_id: int,
    *,
    role: Role,
    name: str,
    source: str,
    now: datetime,
) -> Member:
    """Add a member, or bring a removed one back, in the caller's transaction."""
    stmt = insert(conn.dialect.name, members).values(
        shop_id=shop_id,
        user_id=user_id,
        role=role.value,
        name=name[:128],
        source=source,
        added_at=now,
        removed_at=None,
    )
    upsert = stmt.on_conflict_do_update(
        index_elements=[members.c.shop_id, members.c.user_id],
        set_={
            "role": role.value,
            "name": stmt.excluded.name,
            "source": source,
            "added_at": now,
            "removed_at": None,
        },
    )
    return member_of(conn.execute(upsert.returning(members)).one())


def _owners(conn: Connection, shop_id: int, *, lock: bool = False) -> list[Member]:
    """The shop's active owners; ``lock``: their rows stay locked until the transaction ends."""
    query = select(members).where(
        and_(
            members.c.shop_id == shop_id,
            members.c.role == Role.OWNER.value,
            members.c.removed_at.is_(None),
        )
    )
    return [member_of(r) for r in conn.execute(query.with_for_update() if lock else query)]


def _owner_count(conn: Connection, shop_id: int) -> int:
    return len(_owners(conn, shop_id))
