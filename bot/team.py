"""The shop and its people: claiming the bot, invites, roles, the shop's group.

Knows nothing of Telegram: deep links are made by the handlers from the codes made here.
Codes are random, shown once, and stored only as their SHA-256.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from bot.errors import Problem
from storage import (
    STORAGE_ERRORS,
    InviteOutcome,
    Member,
    MemberTotals,
    Redeemed,
    Role,
    Shop,
    Shops,
    ShopSeed,
    TeamChange,
    utcnow,
)

log = logging.getLogger(__name__)

#: Deep-link payloads: ``/start claim_<code>`` and ``/start join_<code>``.
CLAIM = "claim"
JOIN = "join"
#: How long an invite can be opened.
INVITE_VALID = timedelta(hours=24)


class OwnersOnly(Problem):
    """Only the shop's owners may do this."""

    key = "owners_only"


def new_code() -> str:
    """A code for a deep link: 22 URL-safe characters (Telegram allows 64 in ``start``)."""
    return secrets.token_urlsafe(16)


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def deep_link(bot_username: str, kind: str, code: str) -> str:
    """``https://t.me/<bot>?start=<kind>_<code>``: opens the bot and sends ``/start``."""
    return f"https://t.me/{bot_username}?start={kind}_{code}"


def parse_start(payload: str) -> tuple[str, str] | None:
    """``claim_<code>`` or ``join_<code>`` -> (kind, code); None for anything else."""
    kind, sep, code = payload.partition("_")
    if not sep or kind not in (CLAIM, JOIN) or not 10 <= len(code) <= 60:
        return None
    return kind, code


class Team:
    """Who belongs to which shop, in which role."""

    def __init__(self, shops: Shops, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._shops = shops
        self._clock = clock
        self._shop_id: int | None = None  # the deployment's shop, once set up

    async def set_up(self, seed: ShopSeed, allowed_user_ids: Iterable[int]) -> tuple[Shop, bool]:
        """At start: the shop exists (made from ``seed`` the first time) and the users of
        ``ALLOWED_USER_IDS``, if any, are its owners. True when the shop has no owner yet
        (it waits to be claimed)."""
        shop = await self._shops.ensure_shop(seed)
        self._shop_id = shop.id
        listed = list(allowed_user_ids)
        if listed:
            added, removed = await self._shops.sync_env_owners(shop.id, listed)
            if added:
                log.info("owners from ALLOWED_USER_IDS: %s", ", ".join(map(str, added)))
            if removed:
                log.warning(
                    "no longer in ALLOWED_USER_IDS, removed from the shop: %s",
                    ", ".join(map(str, removed)),
                )
        return shop, not await self._shops.has_owner(shop.id)

    async def waiting_for_claim(self) -> bool:
        """Whether the deployment's shop still has no owner (nobody opened a claim link)."""
        return self._shop_id is not None and not await self._shops.has_owner(self._shop_id)

    async def new_claim_code(self, shop: Shop) -> str:
        """A one-time code whose opener becomes the owner, while the shop has none."""
        code = new_code()
        await self._shops.create_code(
            shop.id, code_hash(code), kind=CLAIM, role=Role.OWNER, created_by=None, expires_at=None
        )
        return code

    async def member_for(self, user_id: int) -> tuple[Shop, Member] | None:
        """The shop a user acts for and who they are in it; None for strangers."""
        return await self._shops.membership(user_id)

    async def shop_of_group(self, chat_id: int) -> Shop | None:
        return await self._shops.shop_of_group(chat_id)

    async def invite(self, shop: Shop, by: Member, role: Role) -> str:
        """A one-time code to join ``shop`` as ``role``, valid for :data:`INVITE_VALID`."""
        if not by.is_owner:
            raise OwnersOnly()
        code = new_code()
        await self._shops.create_code(
            shop.id,
            code_hash(code),
            kind=JOIN,
            role=role,
            created_by=by.user_id,
            expires_at=self._clock() + INVITE_VALID,
        )
        return code

    async def redeem(self, kind: str, code: str, user_id: int, name: str) -> Redeemed:
        """Open a claim or invite link: join once, or learn why not."""
        redeemed = await self._shops.redeem(code_hash(code), kind, user_id, name)
        if redeemed.outcome is InviteOutcome.JOINED and redeemed.member is not None:
            log.info(
                "user %s joined shop %s as %s (%s link)",
                user_id,
                redeemed.member.shop_id,
                redeemed.member.role.value,
                kind,
            )
        return redeemed

    async def members(self, shop: Shop) -> list[Member]:
        return await self._shops.members(shop.id)

    async def totals(self, shop: Shop, start: datetime, end: datetime) -> list[MemberTotals]:
        """Each member and what they took between ``start`` and ``end``."""
        return await self._shops.member_totals(shop.id, start, end)

    async def member(self, shop: Shop, user_id: int) -> Member | None:
        return await self._shops.member(shop.id, user_id)

    async def change(
        self, shop: Shop, by: Member, user_id: int, *, role: Role | None = None
    ) -> TeamChange:
        """An owner gives a member another role (``role``) or removes them (None)."""
        if not by.is_owner:
            raise OwnersOnly()
        change = await self._shops.change_member(shop.id, user_id, role=role, remove=role is None)
        if change is TeamChange.DONE:
            what = f"now {role.value}" if role is not None else "removed"
            log.info("shop %s: member %s %s by %s", shop.id, user_id, what, by.user_id)
        return change

    async def rename(self, member: Member, name: str) -> bool:
        """Keep the member's name as Telegram shows it; True if it changed. Only a nicety: a
        database that cannot take it now is no reason to refuse what the member asked for."""
        if not name or name[:128] == member.name:
            return False
        try:
            await self._shops.rename_member(member.shop_id, member.user_id, name)
        except STORAGE_ERRORS as exc:
            log.warning("could not store the new name of member %s: %s", member.user_id, exc)
            return False
        return True

    async def connect_group(self, shop: Shop, by: Member, chat_id: int) -> Shop:
        if not by.is_owner:
            raise OwnersOnly()
        return await self._shops.connect_group(shop.id, chat_id)

    async def disconnect_group(self, shop: Shop, by: Member) -> Shop:
        if not by.is_owner:
            raise OwnersOnly()
        return await self._shops.connect_group(shop.id, None)
