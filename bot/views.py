"""Turns links and notifications into what the merchant reads: text plus buttons.

Pure presentation: no Telegram, no HTTP. The Telegram layer sends a :class:`Reply` as an
HTML message with an inline keyboard of URL buttons.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from bot import i18n
from bot.money import (
    AmountError,
    AmountProblem,
    Currency,
    format_amount,
    from_minor_units,
    get_currency,
)
from storage import Link, Notification, NotificationKind


@dataclass(frozen=True, slots=True)
class UrlButton:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Reply:
    """A message for a chat: Telegram-HTML text and rows of URL buttons."""

    text: str
    buttons: tuple[tuple[UrlButton, ...], ...] = field(default=())


def format_time(moment: datetime, tz: ZoneInfo, language: str) -> str:
    """``24 Nov 2026, 17.20 WIB`` in the merchant's time zone and language."""
    local = moment.astimezone(tz)
    locale = i18n.LOCALES.get(language, "en")  # type: ignore[call-overload]
    formatted: str = format_datetime(local, "d MMM y, HH:mm", locale=locale)
    return f"{formatted} {local.tzname()}"


def link_amount(link: Link) -> str:
    currency = get_currency(link.currency)
    return format_amount(from_minor_units(link.amount_minor, currency), currency)


def _description_line(language: str, description: str | None) -> str:
    if not description:
        return ""
    return i18n.text(language, "description_line", description=html.escape(description))


def link_created(link: Link, tz: ZoneInfo) -> Reply:
    lang = link.language
    assert link.link_url is not None
    assert link.expires_at is not None
    return Reply(
        text=i18n.text(
            lang,
            "link_created",
            amount=link_amount(link),
            description_line=_description_line(lang, link.description),
            ref=link.short_ref,
            expires=format_time(link.expires_at, tz, lang),
            url=html.escape(link.link_url),
        ),
        buttons=((UrlButton(i18n.text(lang, "button_open"), link.link_url),),),
    )


def notification(note: Notification, tz: ZoneInfo) -> Reply:
    link = note.link
    lang = link.language
    common = {
        "amount": link_amount(link),
        "description_line": _description_line(lang, link.description),
        "ref": link.short_ref,
    }
    if note.kind is NotificationKind.PAID:
        channel = (
            i18n.text(lang, "paid_channel", channel=html.escape(link.payment_channel))
            if link.payment_channel
            else ""
        )
        return Reply(
            i18n.text(
                lang,
                "paid",
                time=format_time(link.paid_at or link.updated_at, tz, lang),
                channel_line=channel,
                **common,
            )
        )
    return Reply(
        i18n.text(
            lang,
            "expired",
            time=format_time(_expired_at(link), tz, lang),
            **common,
        )
    )


def _expired_at(link: Link) -> datetime:
    """When the link stopped being payable: its expiry, or earlier if Xendit said so sooner."""
    if link.expires_at is None:
        return link.updated_at
    return min(link.expires_at, link.updated_at)


def amount_problem(language: str, error: AmountError, currency: Currency, maximum: Decimal) -> str:
    """Explain a bad amount and repeat the usage."""
    shown = html.escape(error.text.strip())
    reason = error.reason
    if reason is AmountProblem.MISSING:
        problem = i18n.text(language, "amount_missing")
    elif reason is AmountProblem.NOT_POSITIVE:
        problem = i18n.text(language, "amount_not_positive")
    elif reason is AmountProblem.TOO_MANY_DECIMALS:
        problem = i18n.text(
            language, "amount_too_many_decimals", currency=currency.code, text=shown
        )
    elif reason is AmountProblem.TOO_LARGE:
        problem = i18n.text(language, "amount_too_large", max=format_amount(maximum, currency))
    elif reason is AmountProblem.AMBIGUOUS:
        options = [format_amount(c, currency) for c in error.candidates]
        if len(options) == 1:
            problem = i18n.text(language, "amount_unclear", text=shown, option=options[0])
        else:
            problem = i18n.text(
                language,
                "amount_ambiguous",
                text=shown,
                options=i18n.text(language, "or").join(options),
            )
    else:
        problem = i18n.text(language, "amount_not_a_number", text=shown)
    return f"{problem}\n\n{i18n.text(language, 'usage')}"
