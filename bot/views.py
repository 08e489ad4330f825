"""Turns links and notifications into what the merchant reads: text plus buttons.

Pure presentation: no Telegram, no HTTP. The Telegram layer sends a :class:`Reply` as an
HTML message with an inline keyboard.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime

from bot import i18n
from bot.money import (
    AmountError,
    AmountProblem,
    Currency,
    amount_in_words,
    format_amount,
    from_minor_units,
    get_currency,
)
from storage import DaySummary, Link, LinkStatus, Notification, NotificationKind


@dataclass(frozen=True, slots=True)
class Button:
    """One inline button: opens ``url``, sends ``callback`` data, or starts inline sharing."""

    label: str
    url: str | None = None
    callback: str | None = None
    switch_inline: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """A message for a chat: Telegram-HTML text and rows of buttons."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the outbox worker does: send ``reply``, or edit message ``edit_message_id``."""

    reply: Reply
    edit_message_id: int | None = None


def _t(language: str, key: str, /, **values: object) -> str:
    return i18n.text(language, key, **values)


def format_time(moment: datetime, tz: ZoneInfo, language: str) -> str:
    """``24 Nov 2026, 17:20 WIB`` in the merchant's time zone and language."""
    local = moment.astimezone(tz)
    formatted: str = format_datetime(local, "d MMM y, HH:mm", locale=_locale(language))
    return f"{formatted} {local.tzname()}"


def format_day(day: date, language: str) -> str:
    formatted: str = format_date(day, "EEEE, d MMMM y", locale=_locale(language))
    return formatted


def _locale(language: str) -> str:
    return i18n.LOCALES.get(language, "en")  # type: ignore[call-overload, no-any-return]


def link_amount(link: Link) -> str:
    currency = get_currency(link.currency)
    return format_amount(from_minor_units(link.amount_minor, currency), currency)


def minor_amount(minor: int, currency_code: str) -> str:
    currency = get_currency(currency_code)
    return format_amount(from_minor_units(minor, currency), currency)


def _description_line(language: str, description: str | None) -> str:
    if not description:
        return ""
    return _t(language, "description_line", description=html.escape(description))


def _expired_at(link: Link) -> datetime:
    """When the link stopped being payable: its expiry, or earlier if Xendit said so sooner."""
    if link.expires_at is None:
        return link.updated_at
    return min(link.expires_at, link.updated_at)


# -- the payment card ------------------------------------------------------------------------


def card(
    link: Link,
    tz: ZoneInfo,
    *,
    confirm_below: Decimal | None = None,
    confirm_above: Decimal | None = None,
) -> Reply:
    """The card that answers ``/pay`` and edits itself as the link's state changes.

    A draft's card says why it asks: an amount below ``confirm_below`` is unusually small,
    one above ``confirm_above`` (or any, when neither is given) large; one in between is a
    reading the merchant picked among several.
    """
    lang = link.language
    amount = link_amount(link)
    common = {
        "amount": amount,
        "description_line": _description_line(lang, link.description),
        "ref": link.short_ref,
    }
    ref = link.short_ref
    if link.status is LinkStatus.DRAFT:
        currency = get_currency(link.currency)
        value = from_minor_units(link.amount_minor, currency)
        words = amount_in_words(value, currency, lang)
        if confirm_below is not None and value < confirm_below:
            key = "card_confirm_small"
        elif confirm_above is not None and value <= confirm_above:
            key = "card_confirm_check"
        else:
            key = "card_confirm"
        return Reply(
            _t(lang, key, words=html.escape(words), **common),
            (
                (
                    Button(_t(lang, "button_confirm"), callback=f"confirm:{ref}"),
                    Button(_t(lang, "button_discard"), callback=f"discard:{ref}"),
                ),
            ),
        )
    if link.status is LinkStatus.COMPLETED:
        return Reply(
            _t(
                lang,
                "card_paid",
                time=format_time(link.paid_at or link.updated_at, tz, lang),
                channel_line=_channel_line(link),
                **common,
            )
        )
    if link.status is LinkStatus.EXPIRED:
        return Reply(
            _t(lang, "card_expired", time=format_time(_expired_at(link), tz, lang), **common),
            ((Button(_t(lang, "button_reissue"), callback=f"reissue:{ref}"),),),
        )
    if link.status is LinkStatus.CANCELED:
        return Reply(
            _t(lang, "card_canceled", **common),
            ((Button(_t(lang, "button_reissue"), callback=f"reissue:{ref}"),),),
        )
    if link.status is LinkStatus.FAILED or link.link_url is None:
        return Reply(_t(lang, "card_failed", **common))
    expires = format_time(link.expires_at, tz, lang) if link.expires_at else "—"
    return Reply(
        _t(lang, "card_waiting", expires=expires, url=html.escape(link.link_url), **common),
        (
            (Button(_t(lang, "button_open"), url=link.link_url),),
            (
                Button(_t(lang, "button_qr"), callback=f"qr:{ref}"),
                Button(_t(lang, "button_share"), switch_inline=ref),
            ),
            (
                Button(_t(lang, "button_whatsapp"), url=whatsapp_url(link, amount)),
                Button(_t(lang, "button_cancel"), callback=f"cancel:{ref}"),
            ),
        ),
    )


#: How much of a description the question shows per reading: the message stays well under
#: Telegram's 4096 characters however long the descriptions, and a button stays readable.
_CHOICE_DESCRIPTION = 200
_BUTTON_DESCRIPTION = 30


def choose_reading(language: str, typed: str, drafts: Sequence[Link]) -> Reply:
    """Ask which reading of an unclear ``/pay`` was meant: one button per draft.

    Each button confirms its draft (``confirm:REF``); the service then discards the others.
    "None of these" discards them all.
    """
    lines = []
    buttons: list[tuple[Button, ...]] = []
    for draft in drafts:
        currency = get_currency(draft.currency)
        value = from_minor_units(draft.amount_minor, currency)
        amount = format_amount(value, currency)
        if draft.description:
            described = _t(
                language,
                "choice_description",
                description=html.escape(_shortened(draft.description, _CHOICE_DESCRIPTION)),
            )
            label = _t(
                language,
                "button_choice",
                amount=amount,
                description=_shortened(draft.description, _BUTTON_DESCRIPTION),
            )
        else:
            described, label = _t(language, "choice_no_description"), amount
        words = html.escape(amount_in_words(value, currency, language))
        lines.append(_t(language, "choice_line", amount=amount, words=words, description=described))
        buttons.append((Button(label, callback=f"confirm:{draft.short_ref}"),))
    buttons.append(
        (Button(_t(language, "button_discard_all"), callback=f"discard:{drafts[0].short_ref}"),)
    )
    shown = html.escape(_shortened(" ".join(typed.split()), _CHOICE_DESCRIPTION))
    if len(drafts) == 1:
        text = _t(
            language,
            "choose_amount_one",
            text=shown,
            amount=link_amount(drafts[0]),
            readings="\n".join(lines),
        )
    else:
        text = _t(language, "choose_amount", text=shown, readings="\n".join(lines))
    return Reply(text, tuple(buttons))


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _channel_line(link: Link) -> str:
    if not link.payment_channel:
        return ""
    channel = link.payment_channel.replace("_", " ")
    return _t(link.language, "paid_channel", channel=html.escape(channel))


def customer_message(link: Link, amount: str | None = None) -> str:
    """Plain text the merchant forwards to the customer (WhatsApp, Telegram inline).
    ``amount``: the link's amount already formatted, if the caller has it."""
    assert link.link_url is not None
    amount = amount or link_amount(link)
    if link.description:
        return _t(
            link.language,
            "customer_message",
            amount=amount,
            description=link.description,
            url=link.link_url,
        )
    return _t(link.language, "customer_message_plain", amount=amount, url=link.link_url)


def whatsapp_url(link: Link, amount: str | None = None) -> str:
    return "https://wa.me/?text=" + quote(customer_message(link, amount), safe="")


def qr_caption(link: Link) -> str:
    return _t(
        link.language,
        "qr_caption",
        amount=link_amount(link),
        description_line=_description_line(link.language, link.description),
        ref=link.short_ref,
    )


# -- notifications ---------------------------------------------------------------------------


def notification(note: Notification, tz: ZoneInfo) -> Delivery:
    link = note.link
    lang = link.language
    if note.kind is NotificationKind.CARD:
        assert link.card_message_id is not None
        return Delivery(card(link, tz), edit_message_id=link.card_message_id)
    common = {
        "amount": link_amount(link),
        "description_line": _description_line(lang, link.description),
        "ref": link.short_ref,
    }
    if note.kind is NotificationKind.PAID:
        return Delivery(
            Reply(
                _t(
                    lang,
                    "paid",
                    time=format_time(link.paid_at or link.updated_at, tz, lang),
                    channel_line=_channel_line(link),
                    **common,
                )
            )
        )
    return Delivery(
        Reply(_t(lang, "expired", time=format_time(_expired_at(link), tz, lang), **common))
    )


def summary(notes: Sequence[Notification], tz: ZoneInfo) -> Delivery:
    """Several payments (or expiries) for one chat in one message: a flash sale."""
    first = notes[0].link
    lang = first.language
    paid = notes[0].kind is NotificationKind.PAID
    total = sum(note.link.amount_minor for note in notes)
    lines = []
    for note in notes:
        link = note.link
        description = f" · {html.escape(link.description)}" if link.description else ""
        lines.append(f"• <b>{link_amount(link)}</b>{description} · <code>{link.short_ref}</code>")
    return Delivery(
        Reply(
            _t(
                lang,
                "paid_summary" if paid else "expired_summary",
                count=len(notes),
                total=minor_amount(total, first.currency),
                lines="\n".join(lines),
            )
        )
    )


# -- problems --------------------------------------------------------------------------------


def amount_problem(language: str, error: AmountError, currency: Currency, maximum: Decimal) -> str:
    """Explain a bad amount and repeat the usage."""
    shown = html.escape(error.text.strip())
    reason = error.reason
    if reason is AmountProblem.MISSING:
        problem = _t(language, "amount_missing")
    elif reason is AmountProblem.NOT_POSITIVE:
        problem = _t(language, "amount_not_positive")
    elif reason is AmountProblem.TOO_MANY_DECIMALS:
        problem = _t(language, "amount_too_many_decimals", currency=currency.code, text=shown)
    elif reason is AmountProblem.TOO_LARGE:
        problem = _t(language, "amount_too_large", max=format_amount(maximum, currency))
    elif reason is AmountProblem.AMBIGUOUS:
        options = [format_amount(c, currency) for c in error.candidates]
        if len(options) == 1:
            problem = _t(language, "amount_unclear", text=shown, option=options[0])
        else:
            problem = _t(
                language,
                "amount_ambiguous",
                text=shown,
                options=_t(language, "or").join(options),
            )
    else:
        problem = _t(language, "amount_not_a_number", text=shown)
    return f"{problem}\n\n{_t(language, 'usage')}"


# -- lists and reports -----------------------------------------------------------------------

STATUS_ICON = {
    LinkStatus.ACTIVE: "⏳",
    LinkStatus.PENDING: "⏳",
    LinkStatus.COMPLETED: "✅",
    LinkStatus.EXPIRED: "⌛",
    LinkStatus.CANCELED: "🚫",
    LinkStatus.FAILED: "⚠️",
    LinkStatus.DRAFT: "✏️",
}


def links_page(
    language: str,
    page: Sequence[Link],
    *,
    total: int,
    offset: int,
    page_size: int,
    waiting_only: bool,
    tz: ZoneInfo,
) -> Reply:
    title = _t(language, "unpaid_title" if waiting_only else "links_title", total=total)
    if not page:
        empty = _t(language, "unpaid_empty" if waiting_only else "links_empty")
        return Reply(f"{title}\n\n{empty}")
    lines = [title, ""]
    for link in page:
        when = format_time(link.created_at, tz, language)
        description = f" · {html.escape(link.description)}" if link.description else ""
        lines.append(
            f"{STATUS_ICON[link.status]} <b>{link_amount(link)}</b>{description}\n"
            f"    <code>{link.short_ref}</code> · {when}"
        )
    lines += ["", _t(language, "links_hint")]
    kind = "u" if waiting_only else "a"
    nav: list[Button] = []
    if offset > 0:
        nav.append(
            Button(
                _t(language, "button_newer"), callback=f"links:{kind}:{max(0, offset - page_size)}"
            )
        )
    if offset + page_size < total:
        nav.append(
            Button(_t(language, "button_older"), callback=f"links:{kind}:{offset + page_size}")
        )
    return Reply("\n".join(lines), (tuple(nav),) if nav else ())


def today(language: str, day: date, summary: DaySummary, currency_code: str) -> Reply:
    return Reply(
        _t(
            language,
            "today",
            day=format_day(day, language),
            paid_count=summary.paid_count,
            paid_total=minor_amount(summary.paid_minor, currency_code),
            waiting_count=summary.waiting_count,
            waiting_total=minor_amount(summary.waiting_minor, currency_code),
        )
    )
