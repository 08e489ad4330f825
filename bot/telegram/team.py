"""The team: claim and invite links (``/start claim_…``, ``/start join_…``), /invite, /team.

Who may do what is :class:`bot.team.Team`'s business (it raises :class:`OwnersOnly`); these
handlers turn its answers into messages. After any change of membership the member's cached
who-is-who is forgotten (:meth:`People.forget`), so this instance sees it at once.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import datetime

from telegram import Bot, CallbackQuery, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes, filters

from bot import i18n, views
from bot.payments import Merchant
from bot.reports import Reports, day_bounds
from bot.team import CLAIM, INVITE_VALID, JOIN, OwnersOnly, deep_link, parse_start
from bot.telegram.common import People, answer, edit, send, toast
from bot.views import Reply
from storage import InviteOutcome, Member, Redeemed, Role, Shop, TeamChange, utcnow

log = logging.getLogger(__name__)

#: ``/start claim_<code>`` or ``/start join_<code>`` in a private chat: an opened deep link.
START_WITH_CODE = filters.ChatType.PRIVATE & filters.Regex(rf"^/start(@\w+)?\s+({CLAIM}|{JOIN})_")
#: A Telegram user id in callback data (at most 52 bits: 16 digits).
USER_ID = r"\d{1,16}"

#: What a refused link says, by outcome (JOINED and ALREADY_MEMBER say more).
_REFUSALS = {
    InviteOutcome.EXPIRED: "invite_expired",
    InviteOutcome.USED: "invite_used",
    InviteOutcome.UNKNOWN: "invite_unknown",
    InviteOutcome.CLAIMED: "shop_claimed",
}


class TeamCommands:
    def __init__(self, people: People, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._people = people
        self._team = people.team
        self._clock = clock

    # -- claim and invite links ----------------------------------------------------------------

    async def start_with_code(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An opened claim or invite link: join the shop once, or learn why not."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        lang = await self._people.language(update)
        parsed = parse_start(context.args[0] if context.args else "")
        if parsed is None:
            await answer(message, Reply(i18n.text(lang, "invite_unknown")))
            return
        kind, code = parsed
        redeemed = await self._team.redeem(kind, code, user.id, user.full_name)
        self._people.forget(user.id)
        await answer(message, Reply(self._outcome(lang, kind, redeemed)))
        if redeemed.outcome is InviteOutcome.JOINED and redeemed.member is not None:
            assert redeemed.shop is not None
            for owner in redeemed.owners:
                if owner.user_id != user.id:
                    await self._tell(
                        context.bot,
                        owner.user_id,
                        "member_joined",
                        redeemed.shop,
                        name=html.escape(user.full_name),
                        role=redeemed.member.role,
                    )

    @staticmethod
    def _outcome(lang: str, kind: str, redeemed: Redeemed) -> str:
        shop = html.escape(redeemed.shop.name) if redeemed.shop is not None else ""
        outcome, member = redeemed.outcome, redeemed.member
        if outcome is InviteOutcome.JOINED and member is not None:
            if kind == CLAIM:
                key = "claimed_owner"
            else:
                key = "joined_owner" if member.is_owner else "joined_staff"
            return i18n.text(lang, key, shop=shop)
        if outcome is InviteOutcome.ALREADY_MEMBER and member is not None:
            return i18n.text(
                lang, "already_member", shop=shop, role=views.role_name(lang, member.role)
            )
        if kind == CLAIM and outcome is InviteOutcome.USED:
            # A claim link works once: whoever opened it first owns the shop now.
            outcome = InviteOutcome.CLAIMED
        return i18n.text(lang, _REFUSALS.get(outcome, "invite_unknown"), shop=shop)

    async def _tell(
        self,
        bot: Bot,
        user_id: int,
        key: str,
        shop: Shop,
        *,
        role: Role | None = None,
        **values: str,
    ) -> None:
        """Tell a member (in their private chat) what happened to the team. Only news: a
        message that cannot be sent (they blocked the bot) changes nothing."""
        lang = await self._people.languages.of(user_id, None)
        text = i18n.text(
            lang,
            key,
            shop=html.escape(shop.name),
            role=views.role_name(lang, role) if role is not None else "",
            **values,
        )
        try:
            await send(bot, user_id, Reply(text))
        except TelegramError as exc:
            log.warning("could not tell member %s about the team: %s", user_id, exc)

    # -- /invite -------------------------------------------------------------------------------

    async def invite(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/invite [owner]: a one-time link (24 h) that adds its opener to the team."""
        message = update.effective_message
        merchant, member = await self._owner(update)
        if message is None:
            return
        lang = merchant.language
        args = [a.lower() for a in context.args or []]
        roles = {(): Role.STAFF, ("staff",): Role.STAFF, ("owner",): Role.OWNER}
        role = roles.get(tuple(args))
        if role is None:
            await answer(message, Reply(i18n.text(lang, "invite_usage")))
            return
        if message.chat.type != ChatType.PRIVATE:
            await answer(message, Reply(i18n.text(lang, "invite_private")))
            return
        expires = self._clock() + INVITE_VALID
        code = await self._team.invite(merchant.shop, member, role)
        link = deep_link(context.bot.username, JOIN, code)
        await answer(message, views.invite(lang, merchant.shop, role, link, expires))

    # -- /team ---------------------------------------------------------------------------------

    async def team(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/team: the members, their roles and today's takings, with buttons to manage them."""
        message = update.effective_message
        merchant, _ = await self._owner(update)
        if message is not None:
            await answer(message, await self._list(merchant))

    async def list_again(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """No under "remove …?": back to the team."""
        query, merchant, _, _ = await self._pressed(update)
        await query.answer()
        await edit(query, await self._list(merchant))

    async def ask_remove(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A member's remove button: ask first."""
        query, merchant, _, user_id = await self._pressed(update)
        target = await self._team.member(merchant.shop, user_id)
        if target is None or not target.active:
            await query.answer(toast(i18n.text(merchant.language, "team_not_member")))
            await edit(query, await self._list(merchant))
            return
        await query.answer()
        await edit(query, views.confirm_remove(merchant.language, merchant.shop, target))

    async def remove(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Yes, remove: they act on nothing from now on; their links stay with the shop."""
        await self._change(update, context, None)

    async def set_role(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Make a member an owner (``:o``) or staff (``:s``)."""
        query = update.callback_query
        data = query.data if query is not None and query.data is not None else ""
        await self._change(update, context, Role.OWNER if data.endswith(":o") else Role.STAFF)

    async def _change(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, role: Role | None
    ) -> None:
        query, merchant, by, user_id = await self._pressed(update)
        lang = merchant.language
        target = await self._team.member(merchant.shop, user_id)
        change = await self._team.change(merchant.shop, by, user_id, role=role)
        if change is TeamChange.LAST_OWNER:
            await query.answer(toast(i18n.text(lang, "team_last_owner")), show_alert=True)
            await edit(query, await self._list(merchant))
            return
        if change is not TeamChange.DONE or target is None:
            # They had that role already (a second tap), or are gone (another owner's tap).
            had_it = change is TeamChange.UNCHANGED and role is not None and target is not None
            key = "team_role_changed" if had_it else "team_not_member"
            name = html.escape(target.name) if target is not None else ""
            shown = views.role_name(lang, role) if role is not None else ""
            await query.answer(toast(i18n.text(lang, key, name=name, role=shown)))
            await edit(query, await self._list(merchant))
            return
        self._people.forget(user_id)
        shop, name = merchant.shop, html.escape(target.name)
        if role is None:
            await query.answer(toast(i18n.text(lang, "team_removed", name=name)))
        else:
            shown = views.role_name(lang, role)
            await query.answer(toast(i18n.text(lang, "team_role_changed", name=name, role=shown)))
        news = {None: "you_were_removed", Role.OWNER: "you_are_owner_now"}.get(
            role, "you_are_staff_now"
        )
        if user_id == merchant.user_id:
            # Their own role: the list's buttons are no longer theirs to press.
            own = "you_left" if role is None else news
            await edit(query, Reply(i18n.text(lang, own, shop=html.escape(shop.name))))
            return
        await edit(query, await self._list(merchant))
        await self._tell(context.bot, user_id, news, shop)

    # -- helpers -------------------------------------------------------------------------------

    async def _owner(self, update: Update) -> tuple[Merchant, Member]:
        """The owner asking; anybody else is refused (the access guard let only members in)."""
        merchant = await self._people.merchant(update)
        found = await self._people.membership(merchant.user_id) if merchant is not None else None
        if merchant is None or found is None or not merchant.is_owner:
            raise OwnersOnly()
        return merchant, found[1]

    async def _pressed(self, update: Update) -> tuple[CallbackQuery, Merchant, Member, int]:
        """A /team button: its query, the owner who pressed it, and the member it names."""
        query = update.callback_query
        merchant, member = await self._owner(update)
        # The handlers' patterns: a button's data, ``team:<action>[:<user_id>[:<role>]]``.
        assert query is not None
        assert query.data is not None
        parts = query.data.split(":")
        return query, merchant, member, int(parts[2]) if len(parts) > 2 else 0

    async def _list(self, merchant: Merchant) -> Reply:
        shop = merchant.shop
        day = Reports.today(self._clock(), shop.tz)
        totals = await self._team.totals(shop, *day_bounds(day, shop.tz))
        return views.team(merchant.language, shop, day, totals, merchant.user_id)
