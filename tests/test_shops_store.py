"""The shops store on both backends: what must hold when several things happen at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from storage import Database, InviteOutcome, Role, Shops, TeamChange
from tests.helpers import TEST_SHOP, Store


async def test_instances_starting_together_make_one_shop(postgres_url: str) -> None:
    """Every instance makes sure the shop exists at start: together they make one. (Several
    instances need PostgreSQL; one SQLite process has one writer.)"""
    dbs = [await Database.connect(postgres_url) for _ in range(4)]
    try:
        made = await asyncio.gather(*(Shops(db).ensure_shop(TEST_SHOP) for db in dbs))
        assert len({shop.id for shop in made}) == 1
        assert await Store(dbs[0]).count_shops() == 1
    finally:
        for db in dbs:
            await db.close()


async def test_a_code_opened_by_two_people_at_once_lets_one_in(database_url: str) -> None:
    db = await Database.connect(database_url)
    try:
        store = Store(db)
        shop = await store.a_shop()
        await store.add_member(shop.id, 1, role=Role.OWNER, name="Owner", source="env")
        for n in range(10):
            code = f"code-{n:02d}"
            await store.create_code(
                shop.id,
                code,
                kind="join",
                role=Role.STAFF,
                created_by=1,
                expires_at=datetime.now(UTC) + timedelta(hours=1),
            )
            people = [100 + 2 * n, 101 + 2 * n]
            results = await asyncio.gather(
                *(store.redeem(code, "join", user, f"User {user}") for user in people)
            )
            outcomes = sorted(r.outcome.value for r in results)
            assert outcomes == sorted([InviteOutcome.JOINED.value, InviteOutcome.USED.value])
            joined = [r.member.user_id for r in results if r.member is not None]
            assert len(joined) == 1
            assert [m.user_id for m in await store.members(shop.id)].count(joined[0]) == 1
            loser = next(user for user in people if user not in joined)
            assert await store.membership(loser) is None
    finally:
        await db.close()


async def test_two_owners_demoting_each_other_at_once_leave_one_owner(database_url: str) -> None:
    """The owner count is read and changed in one locked transaction: two owners stepping
    down at the same moment cannot leave the shop with none."""
    db = await Database.connect(database_url)
    try:
        store = Store(db)
        for _ in range(10):
            shop = await store.new_shop()
            for user in (10, 11):
                await store.add_member(shop.id, user, role=Role.OWNER, name="O", source="claim")
            changes = await asyncio.gather(
                store.change_member(shop.id, 10, role=Role.STAFF),
                store.change_member(shop.id, 11, remove=True),
            )
            assert sorted(c.value for c in changes) == sorted(
                [TeamChange.DONE.value, TeamChange.LAST_OWNER.value]
            )
            owners = [m for m in await store.members(shop.id) if m.role is Role.OWNER]
            assert len(owners) == 1
    finally:
        await db.close()


async def test_a_claim_code_works_once_and_only_while_the_shop_has_no_owner(
    database_url: str,
) -> None:
    db = await Database.connect(database_url)
    try:
        store = Store(db)
        shop = await store.a_shop()
        for code in ("claim-a", "claim-b"):
            await store.create_code(
                shop.id, code, kind="claim", role=Role.OWNER, created_by=None, expires_at=None
            )
        # An invite code is not a claim code, and the reverse.
        assert (await store.redeem("claim-a", "join", 5, "X")).outcome is InviteOutcome.UNKNOWN
        first = await store.redeem("claim-a", "claim", 5, "First")
        assert first.outcome is InviteOutcome.JOINED
        assert first.member is not None
        assert first.member.is_owner
        assert (await store.redeem("claim-a", "claim", 6, "Y")).outcome is InviteOutcome.USED
        # Another claim code made before the claim: the shop has an owner now.
        assert (await store.redeem("claim-b", "claim", 6, "Y")).outcome is InviteOutcome.CLAIMED
        assert await store.membership(6) is None
    finally:
        await db.close()
