"""/settings: the shop's owners change its settings with buttons; the name by a reply.

Nothing is kept between taps: each button says what it does (``set:exp:86400``), the channel
keyboard being ticked is read back from the message itself, and the name prompt is known by
its text. So any instance can take the next tap or the reply.
"""

from __future__ import annotations

from datetime import timedelta

from telegram import CallbackQuery, ForceReply, InlineKeyboardMarkup, Message, Update
from telegram.ext import ContextTypes, filters

from bot import i18n, views
from bot.channels import ChannelGroup, channels_of
from bot.payments import Merchant
from bot.shop_settings import EXPIRY_CHOICES, ShopSettings, zones_of
from bot.team import OwnersOnly
from bot.telegram.common import People, answer, edit, toast
from bot.views import Reply
from storage import AnnounceTo, Shop

#: Callback data patterns (each at most 64 bytes: the longest channel code is 27 characters).
OPEN = r"^set:(menu|name|exp|above|below|tz|ch|ann)$"
EXPIRY = r"^set:exp:\d{3,7}$"
THRESHOLD = r"^set:(above|below):(\d{1,15}|off)$"
ZONE = r"^set:tz:[A-Za-z]{1,20}/[A-Za-z_]{1,30}$"
CHANNEL = r"^set:ch:[A-Z0-9_]{1,40}$"
CHANNEL_GROUP = f"^set:cg:({'|'.join(g.value for g in ChannelGroup)})$"
CHANNELS_ALL = r"^set:cha$"
CHANNELS_CLEAR = r"^set:ch0$"
CHANNELS_DONE = r"^set:chd$"
ANNOUNCE = f"^set:ann:({'|'.join(a.value for a in AnnounceTo)})$"

#: The name prompt, in every language: a reply to it is the shop's new name.
NAME_PROMPTS = frozenset(i18n.text(lang, "settings_name_prompt") for lang in i18n.LANGUAGES)


class _ReplyToNamePrompt(filters.MessageFilter):
    """A message replying to the bot's own name prompt (in any language)."""

    def filter(self, message: Message) -> bool:
        prompt = message.reply_to_message
        if prompt is None or prompt.from_user is None or not prompt.from_user.is_bot:
            return False
        try:
            ours = prompt.from_user.id == message.get_bot().id
        except RuntimeError:  # no bot attached: not an update we received
            return False
        return ours and (prompt.text or "").strip() in NAME_PROMPTS


NAME_REPLY = _ReplyToNamePrompt(name="reply to the name prompt")


class SettingsCommands:
    """``/settings`` and its buttons. Every handler is for owners; staff get
    :class:`OwnersOnly` (said as an alert for a button)."""

    def __init__(self, settings: ShopSettings, people: People) -> None:
        self._settings = settings
        self._people = people

    async def _owner(self, update: Update) -> Merchant | None:
        """The owner asking; raises :class:`OwnersOnly` for staff (strangers never get here:
        the access guard stopped them)."""
        merchant = await self._people.merchant(update)
        if merchant is not None and not merchant.is_owner:
            raise OwnersOnly()
        return merchant

    async def show(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/settings: the shop's settings and a button for each."""
        merchant = await self._owner(update)
        if merchant is not None and update.effective_message is not None:
            await answer(
                update.effective_message, views.settings_menu(merchant.language, merchant.shop)
            )

    async def open(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A setting's button: the message becomes its choices, with a Back button."""
        query, merchant = update.callback_query, await self._owner(update)
        if query is None or query.data is None or merchant is None:
            return
        which = query.data.removeprefix("set:")
        lang, shop = merchant.language, merchant.shop
        if which == "name":
            await self._ask_name(query, merchant)
            return
        await query.answer()
        reply: Reply
        if which == "exp":
            reply = views.settings_expiry(lang, shop, EXPIRY_CHOICES)
        elif which in ("above", "below"):
            choices = (
                self._settings.above_choices(shop)
                if which == "above"
                else self._settings.below_choices(shop)
            )
            reply = views.settings_threshold(
                lang, shop, which, choices, self._settings.max_amount(shop)
            )
        elif which == "tz":
            reply = views.settings_timezone(lang, shop, zones_of(shop.country))
        elif which == "ch":
            every = [c.code for c in channels_of(shop.country)]
            reply = views.settings_channels(lang, shop, shop.payment_channels or every)
        elif which == "ann":
            reply = views.settings_announce(lang, shop)
        else:
            reply = views.settings_menu(lang, shop)
        await edit(query, reply)

    async def _ask_name(self, query: CallbackQuery, merchant: Merchant) -> None:
        await query.answer()
        if query.message is None:
            return
        # ForceReply: the owner's app opens a reply to the prompt, which is how the reply is
        # recognised (NAME_REPLY), whichever instance receives it.
        await query.get_bot().send_message(
            query.message.chat.id,
            i18n.text(merchant.language, "settings_name_prompt"),
            reply_markup=ForceReply(
                input_field_placeholder=i18n.text(merchant.language, "settings_name_placeholder")
            ),
        )

    async def name_reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The reply to the name prompt: the shop's new name, checked and saved."""
        message, merchant = update.effective_message, await self._owner(update)
        if message is None or merchant is None or message.text is None:
            return
        shop = await self._settings.rename(merchant, message.text)
        self._people.forget()  # who-is-who holds the shop: the next link sees the new name
        menu = views.settings_menu(merchant.language, shop)
        saved = i18n.text(merchant.language, "settings_saved")
        await answer(message, Reply(f"{saved}\n\n{menu.text}", menu.buttons))

    async def choose_expiry(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``set:exp:SECONDS``: how long new links can be paid."""
        query, merchant = update.callback_query, await self._owner(update)
        if query is None or query.data is None or merchant is None:
            return
        seconds = int(query.data.rsplit(":", 1)[1])
        shop = await self._settings.set_expiry(merchant, timedelta(seconds=seconds))
        await self._saved(query, merchant, shop)

    async def choose_threshold(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``set:above:MINOR`` / ``set:below:MINOR`` (or ``off``): when /pay asks first."""
        query, merchant = update.callback_query, await self._owner(update)
        if query is None or query.data is None or merchant is None:
            return
        _, which, value = query.data.split(":")
        minor = None if value == "off" else int(value)
        if which == "above":
            shop = await self._settings.set_confirm_above(merchant, minor)
        else:
            shop = await self._settings.set_confirm_below(merchant, minor)
        await self._saved(query, merchant, shop)

    async def choose_zone(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``set:tz:Area/City``: the shop's time zone."""
        query, merchant = update.callback_query, await self._owner(update)
        if query is None or query.data is None or merchant is None:
            return
        shop = await self._settings.set_timezone(merchant, query.data.removeprefix("set:tz:"))
        await self._saved(query, merchant, shop)

    async def choose_announce(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``set:ann:member|group|both``: where payments are announced."""
        query, merchant = update.callback_query, await self._owner(update)
        if query is None or query.data is None or merchant is None:
            return
        where = AnnounceTo(query.data.removeprefix("set:ann:"))
        shop = await self._settings.set_announce_to(merchant, where)
        await self._saved(query, merchant, shop)

    async def toggle_channel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``set:ch:CODE``: tick or untick one channel (saved with Done)."""
        query, merchant = update.callback_query, await self._owner(update)
        if query is None or query.data is None or merchant is None:
            return
        code = query.data.removeprefix("set:ch:")
        ticked = set(_ticked(query))
        ticked.symmetric_difference_update({code})
        await self._show_channels(query, merchant, ticked)

    async def toggle_group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``set:cg:GROUP``: tick every channel of a group, or untick them if all were."""
        query, merchant = update.callback_query, await self._owner(update)
        if query is None or query.data is None or merchant is None:
            return
        group = ChannelGroup(query.data.removeprefix("set:cg:"))
        members = {c.code for c in channels_of(merchant.shop.country) if c.group is group}
        ticked = set(_ticked(query))
        if members <= ticked:
            ticked -= members
        else:
            ticked |= members
        await self._show_channels(query, merchant, ticked)

    async def clear_channels(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``set:ch0``: untick every channel, to tick the few wanted."""
        query, merchant = update.callback_query, await self._owner(update)
        if query is not None and merchant is not None:
            await self._show_channels(query, merchant, set())

    async def all_channels(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``set:cha``: offer every channel the Xendit account has (saved at once)."""
        query, merchant = update.callback_query, await self._owner(update)
        if query is None or merchant is None:
            return
        shop = await self._settings.set_channels(merchant, None)
        await self._saved(query, merchant, shop)

    async def channels_done(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``set:chd``: save the ticked channels (at least one)."""
        query, merchant = update.callback_query, await self._owner(update)
        if query is None or merchant is None:
            return
        shop = await self._settings.set_channels(merchant, _ticked(query))
        await self._saved(query, merchant, shop)

    async def _show_channels(
        self, query: CallbackQuery, merchant: Merchant, ticked: set[str]
    ) -> None:
        await query.answer()
        await edit(query, views.settings_channels(merchant.language, merchant.shop, ticked))

    async def _saved(self, query: CallbackQuery, merchant: Merchant, shop: Shop) -> None:
        """After a change: seen at once, said in a toast, and the settings shown again."""
        self._people.forget()  # who-is-who holds the shop (MEMBER_CACHE_SECONDS)
        await query.answer(toast(i18n.text(merchant.language, "settings_saved")))
        await edit(query, views.settings_menu(merchant.language, shop))


def _ticked(query: CallbackQuery) -> list[str]:
    """The channels ticked on the keyboard the tap came from."""
    message = query.message
    markup = getattr(message, "reply_markup", None)
    if not isinstance(markup, InlineKeyboardMarkup):
        return []
    return views.ticked_channels(
        [
            [(button.text, _data(button.callback_data)) for button in row]
            for row in markup.inline_keyboard
        ]
    )


def _data(value: object) -> str | None:
    return value if isinstance(value, str) else None
