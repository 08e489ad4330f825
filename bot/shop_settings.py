"""A shop's settings (``/settings``): the choices offered, their validation, and saving them.

Knows nothing of Telegram. Every value is checked here before it is stored, so a forged
button or an odd reply cannot store what the buttons would never offer. Amount thresholds
are kept in minor units, as the shop's row stores them.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from bot.channels import channels_of, in_catalogue_order
from bot.config import DEFAULT_CONFIRM_ABOVE, DEFAULT_CONFIRM_BELOW
from bot.errors import Problem
from bot.money import get_currency, to_minor_units
from bot.payments import Merchant
from bot.team import OwnersOnly
from storage import AnnounceTo, Shop, Shops

log = logging.getLogger(__name__)

#: A shop's name: shown to customers on the return page and in the texts shared with them.
NAME_MAX = 64
#: The link expiry a shop may choose (the same bounds as ``/pay … exp:``).
EXPIRY_MIN = timedelta(minutes=15)
EXPIRY_MAX = timedelta(days=30)
EXPIRY_CHOICES: tuple[timedelta, ...] = (
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(hours=24),
    timedelta(days=3),
    timedelta(days=7),
)
#: The thresholds offered, as multiples of the currency's default (bot.config): the same
#: sense of "large" and "small" in every currency.
_ABOVE_FACTORS = (Decimal("0.1"), Decimal("0.5"), Decimal(1), Decimal("2.5"), Decimal(5))
_BELOW_FACTORS = (Decimal("0.5"), Decimal(1), Decimal(5), Decimal(10))


@dataclass(frozen=True, slots=True)
class Zone:
    """A time zone a shop may pick: its IANA name and how people there call it."""

    name: str
    label: str


#: The time zones of each country a shop can be in.
TIME_ZONES: Mapping[str, tuple[Zone, ...]] = {
    "ID": (
        Zone("Asia/Jakarta", "WIB (UTC+7): Jakarta, Sumatra, Java, West/Central Kalimantan"),
        Zone("Asia/Makassar", "WITA (UTC+8): Bali, Nusa Tenggara, Sulawesi, East Kalimantan"),
        Zone("Asia/Jayapura", "WIT (UTC+9): Maluku, Papua"),
    ),
    "PH": (Zone("Asia/Manila", "PHT (UTC+8): Manila"),),
    "TH": (Zone("Asia/Bangkok", "ICT (UTC+7): Bangkok"),),
    "VN": (Zone("Asia/Ho_Chi_Minh", "ICT (UTC+7): Ho Chi Minh City, Hanoi"),),
    "MY": (Zone("Asia/Kuala_Lumpur", "MYT (UTC+8): Kuala Lumpur"),),
    "SG": (Zone("Asia/Singapore", "SGT (UTC+8): Singapore"),),
}


# -- problems ----------------------------------------------------------------------------------


class SettingRefused(Problem):
    """A value /settings does not store; the user reads why (``key``) and nothing changed."""

    key = "settings_refused"


class NameEmpty(SettingRefused):
    key = "settings_name_empty"


class NameTooLong(SettingRefused):
    key = "settings_name_too_long"

    def __init__(self, length: int) -> None:
        super().__init__(f"{length} characters")
        self.length = length

    @property
    def params(self) -> Mapping[str, object]:
        return {"length": self.length, "max": NAME_MAX}


class NameNotOneLine(SettingRefused):
    """Line breaks and other control characters: the name goes on one line of a page."""

    key = "settings_name_one_line"


class ExpiryOutOfRange(SettingRefused):
    key = "settings_expiry_range"


class ThresholdTooLarge(SettingRefused):
    """Above the most one link may ask for: the question would never be asked."""

    key = "settings_threshold_too_large"


class ThresholdsCross(SettingRefused):
    """The small-amount threshold must stay below the large-amount one."""

    key = "settings_thresholds_cross"


class NotAChoice(SettingRefused):
    """A time zone, channel or place not offered for this shop (an old or forged button)."""

    key = "settings_not_a_choice"


class NoChannels(SettingRefused):
    key = "settings_no_channels"


# -- the choices --------------------------------------------------------------------------------


def clean_name(text: str) -> str:
    """The shop's name as typed, stripped; raises a :class:`SettingRefused` if unusable."""
    name = text.strip()
    if not name:
        raise NameEmpty("empty")
    if any(unicodedata.category(char) == "Cc" for char in name):
        raise NameNotOneLine("control characters")
    if len(name) > NAME_MAX:
        raise NameTooLong(len(name))
    return name


def check_expiry(expiry: timedelta) -> timedelta:
    if not EXPIRY_MIN <= expiry <= EXPIRY_MAX:
        raise ExpiryOutOfRange(str(expiry))
    return expiry


def above_choices(currency_code: str, max_amount: Decimal) -> tuple[int, ...]:
    """Large-amount thresholds offered, in minor units (each at most ``max_amount``)."""
    return _choices(currency_code, DEFAULT_CONFIRM_ABOVE, _ABOVE_FACTORS, max_amount)


def below_choices(currency_code: str, max_amount: Decimal) -> tuple[int, ...]:
    """Small-amount thresholds offered, in minor units."""
    return _choices(currency_code, DEFAULT_CONFIRM_BELOW, _BELOW_FACTORS, max_amount)


def _choices(
    code: str,
    defaults: Mapping[str, Decimal],
    factors: Sequence[Decimal],
    max_amount: Decimal,
) -> tuple[int, ...]:
    currency = get_currency(code)
    amounts = (defaults[currency.code] * f for f in factors)
    return tuple(
        to_minor_units(a.quantize(currency.minor_unit), currency)
        for a in amounts
        if a <= max_amount
    )


def check_thresholds(above_minor: int | None, below_minor: int | None, max_minor: int) -> None:
    """Both thresholds together: the small one below the large one, the large one at most
    the most a link may ask for. None: that question is never asked."""
    if above_minor is not None and not 0 < above_minor <= max_minor:
        raise ThresholdTooLarge(str(above_minor))
    if below_minor is not None and below_minor <= 0:
        raise NotAChoice(str(below_minor))
    if above_minor is not None and below_minor is not None and below_minor >= above_minor:
        raise ThresholdsCross(f"{below_minor} >= {above_minor}")


def zones_of(country: str) -> tuple[Zone, ...]:
    return TIME_ZONES.get(country.upper(), ())


def zone_label(name: str) -> str:
    for zones in TIME_ZONES.values():
        for zone in zones:
            if zone.name == name:
                return zone.label
    return name


def check_zone(shop: Shop, name: str) -> str:
    if name not in {zone.name for zone in zones_of(shop.country)}:
        raise NotAChoice(name)
    return name


def check_channels(shop: Shop, codes: Sequence[str]) -> tuple[str, ...]:
    """A non-empty set of the country's channels, in catalogue order. Every channel of the
    catalogue chosen: () (all, including any Xendit adds later)."""
    if not codes:
        raise NoChannels("empty")
    offered = [c.code for c in channels_of(shop.country)]
    unknown = [code for code in codes if code not in offered]
    if unknown:
        raise NotAChoice(", ".join(unknown))
    chosen = in_catalogue_order(shop.country, codes)
    return () if len(chosen) == len(offered) else chosen


def check_announce_to(shop: Shop, where: AnnounceTo) -> AnnounceTo:
    """Any place may be chosen: without a connected group, "the group" is the chat the link
    was made in until one is connected (:meth:`Shop.announce_chats`)."""
    return AnnounceTo(where)


# -- saving -----------------------------------------------------------------------------------


class ShopSettings:
    """Changes a shop's settings for its owners; each change is seen by the next link."""

    def __init__(self, shops: Shops, max_amounts: Mapping[str, Decimal]) -> None:
        self._shops = shops
        self._max_amounts = max_amounts

    def max_amount(self, shop: Shop) -> Decimal:
        return self._max_amounts[shop.currency]

    def above_choices(self, shop: Shop) -> tuple[int, ...]:
        return above_choices(shop.currency, self.max_amount(shop))

    def below_choices(self, shop: Shop) -> tuple[int, ...]:
        return below_choices(shop.currency, self.max_amount(shop))

    async def rename(self, by: Merchant, text: str) -> Shop:
        _owner(by)
        return await self._save(by, {"name": clean_name(text)})

    async def set_expiry(self, by: Merchant, expiry: timedelta) -> Shop:
        _owner(by)
        return await self._save(by, {"link_expiry": check_expiry(expiry)})

    async def set_confirm_above(self, by: Merchant, minor: int | None) -> Shop:
        _owner(by)
        shop = by.shop
        max_minor = to_minor_units(self.max_amount(shop), get_currency(shop.currency))
        check_thresholds(minor, shop.confirm_below_minor, max_minor)
        return await self._save(by, {"confirm_above_minor": minor})

    async def set_confirm_below(self, by: Merchant, minor: int | None) -> Shop:
        _owner(by)
        shop = by.shop
        max_minor = to_minor_units(self.max_amount(shop), get_currency(shop.currency))
        check_thresholds(shop.confirm_above_minor, minor, max_minor)
        return await self._save(by, {"confirm_below_minor": minor})

    async def set_timezone(self, by: Merchant, name: str) -> Shop:
        _owner(by)
        return await self._save(by, {"timezone": check_zone(by.shop, name)})

    async def set_channels(self, by: Merchant, codes: Sequence[str] | None) -> Shop:
        """``codes``: the channels to offer; None: every channel the account has."""
        _owner(by)
        chosen = () if codes is None else check_channels(by.shop, codes)
        return await self._save(by, {"payment_channels": chosen})

    async def set_announce_to(self, by: Merchant, where: AnnounceTo) -> Shop:
        _owner(by)
        return await self._save(by, {"announce_to": check_announce_to(by.shop, where)})

    async def _save(self, by: Merchant, changes: Mapping[str, Any]) -> Shop:
        shop = await self._shops.update(by.shop.id, changes)
        log.info("shop %s: %s changed by %s", shop.id, ", ".join(changes), by.user_id)
        return shop


def _owner(by: Merchant) -> None:
    """Only owners change settings; checked before the value, so staff learn only that."""
    if not by.is_owner:
        raise OwnersOnly()
