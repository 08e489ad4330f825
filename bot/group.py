"""The shop's group: the one group where the shop's members take payments together and where
payments are announced. Knows nothing of Telegram."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.team import OwnersOnly, Team
from storage import Member, Shop, Shops

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Connected:
    """What ``/connect`` did: the shop now, and the group it had before (None: none, or
    this one already)."""

    shop: Shop
    replaced: int | None = None
    already: bool = False


class ShopGroup:
    """Connects a group to the shop (owners only, through :class:`Team`), and lets it go
    when the bot is no longer in it."""

    def __init__(self, team: Team, shops: Shops) -> None:
        self._team = team
        self._shops = shops

    async def connect(self, shop: Shop, by: Member, chat_id: int) -> Connected:
        """Make ``chat_id`` the shop's group; it replaces any other."""
        if not by.is_owner:
            raise OwnersOnly()
        before = shop.group_chat_id
        if before == chat_id:
            return Connected(shop, already=True)
        connected = await self._team.connect_group(shop, by, chat_id)
        log.info(
            "shop %s: group %d connected by %d%s",
            shop.id,
            chat_id,
            by.user_id,
            f" (replacing {before})" if before is not None else "",
        )
        return Connected(connected, replaced=before)

    async def disconnect(self, shop: Shop, by: Member) -> Shop:
        """The shop has no group any more."""
        disconnected = await self._team.disconnect_group(shop, by)
        if shop.group_chat_id is not None:
            log.info(
                "shop %s: group %d disconnected by %d", shop.id, shop.group_chat_id, by.user_id
            )
        return disconnected

    async def bot_removed(self, chat_id: int) -> Shop | None:
        """The bot was removed from (or left) ``chat_id``: if it was a shop's group, the shop
        has none now (it can no longer be heard there). The shop, or None."""
        shop = await self._team.shop_of_group(chat_id)
        if shop is None:
            return None
        # Whoever removed the bot (a group admin need not be a member): no owner check.
        shop = await self._shops.connect_group(shop.id, None)
        log.warning("shop %s: the bot was removed from its group %d, now none", shop.id, chat_id)
        return shop
