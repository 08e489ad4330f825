"""Turns links and notifications into what the merchant reads: text plus buttons.

Pure presentation: no Telegram, no HTTP. The Telegram layer sends a :class:`Reply` as an
HTML message with an inline keyboard.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime

from bot import i18n
from bot.channels import groups_of, label_of
from bot.errors import Problem
from bot.group import Connected
from bot.money import (
    AmountError,
    AmountProblem,
    Currency,
    amount_in_words,
    format_amount,
    from_minor_units,
    get_currency,
)
from bot.payments import CancelOutcome, Failure, LinkNotCreated
from bot.shop_settings import Zone, zone_label
from storage import (
    AnnounceTo,
    DaySummary,
    Link,
    LinkStatus,
    Member,
    MemberTotals,
    Notification,
    NotificationKind,
    Role,
    Shop,
)


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

    def fits(self, limit: int | None = None) -> bool:
        """Whether Telegram takes this text (``limit``: a caption's, say; else a message's)."""
        return telegram_length(self.text) <= (TEXT_LIMIT if limit is None else limit)


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the outbox worker does: send ``reply``, or edit message ``edit_message_id``."""

    reply: Reply
    edit_message_id: int | None = None


def _t(language: str, key: str, /, **values: object) -> str:
    return i18n.text(language, key, **values)


# -- Telegram's limits -----------------------------------------------------------------------

#: Characters in a message, a media caption, and a callback answer (toast); bytes of a
#: button's callback data. Telegram counts UTF-16 code units (an emoji can be two).
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
TOAST_LIMIT = 200
CALLBACK_DATA_LIMIT = 64
#: A description in a list or summary line, escaped (one line each, many per message).
LIST_DESCRIPTION = 48
#: Whatever a user typed that a reply quotes back (an amount, a reference, an expiry).
ECHO_LIMIT = 64
ELLIPSIS = "…"


def telegram_length(text: str) -> int:
    """Length as Telegram counts it. Counted on the HTML as sent, tags and entities
    included: never less than what Telegram counts after parsing it."""
    return len(text.encode("utf-16-le")) // 2


def clip(text: str, limit: int) -> str:
    """``text`` HTML-escaped, in at most ``limit`` (UTF-16 units): shortened with "…" when
    longer. Shortened before escaping, so a cut never falls inside ``&amp;`` and the like."""
    escaped = html.escape(text)
    if telegram_length(escaped) <= limit:
        return escaped
    room = limit - telegram_length(ELLIPSIS)
    if room <= 0:
        return ""
    used = kept = 0
    for char in text:
        size = telegram_length(html.escape(char))
        if used + size > room:
            break
        used += size
        kept += 1
    return html.escape(text[:kept].rstrip()) + ELLIPSIS


def clip_plain(text: str, limit: int) -> str:
    """Plain ``text`` (no markup) in at most ``limit`` UTF-16 units, with "…" if cut."""
    if telegram_length(text) <= limit:
        return text
    room = limit - telegram_length(ELLIPSIS)
    kept = text.encode("utf-16-le")[: 2 * max(room, 0)].decode("utf-16-le", errors="ignore")
    return kept.rstrip() + ELLIPSIS


def echo(text: str) -> str:
    """What a user typed, quoted back in a reply: escaped and kept short."""
    return clip(text, ECHO_LIMIT)


def _fit_description(
    language: str, description: str | None, render: Callable[[str], str], limit: int
) -> str:
    """``render(description_line)`` with the longest description that keeps it within
    ``limit``: the rest of the text is fixed, so the description gives way."""
    if not description:
        return render("")
    line = _t(language, "description_line", description=html.escape(description))
    text = render(line)
    if telegram_length(text) <= limit:
        return text
    fixed = telegram_length(render("")) + telegram_length(
        _t(language, "description_line", description="")
    )
    room = limit - fixed
    if room < 2 * len(ELLIPSIS):
        return render("")
    return render(_t(language, "description_line", description=clip(description, room)))


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
            _described(link, key, words=html.escape(words)),
            (
                (
                    Button(_t(lang, "button_confirm"), callback=f"confirm:{ref}"),
                    Button(_t(lang, "button_discard"), callback=f"discard:{ref}"),
                ),
            ),
        )
    if link.status is LinkStatus.COMPLETED:
        return Reply(
            _described(
                link,
                "card_paid",
                time=format_time(link.paid_at or link.updated_at, tz, lang),
                channel_line=_channel_line(link),
            )
        )
    if link.status is LinkStatus.EXPIRED:
        return Reply(
            _described(link, "card_expired", time=format_time(_expired_at(link), tz, lang)),
            ((Button(_t(lang, "button_reissue"), callback=f"reissue:{ref}"),),),
        )
    if link.status is LinkStatus.CANCELED:
        return Reply(
            _described(link, "card_canceled"),
            ((Button(_t(lang, "button_reissue"), callback=f"reissue:{ref}"),),),
        )
    if link.status is LinkStatus.PENDING and link.session_id is None:
        # Made, or being made, at Xendit without an answer yet: never "no link was made".
        return Reply(_described(link, "card_unknown"))
    if link.status is LinkStatus.FAILED or link.link_url is None:
        return Reply(_described(link, "card_failed"))
    expires = format_time(link.expires_at, tz, lang) if link.expires_at else "—"
    return Reply(
        _described(link, "card_waiting", expires=expires, url=html.escape(link.link_url)),
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


def _described(link: Link, key: str, *, limit: int = TEXT_LIMIT, **values: object) -> str:
    """The text ``key`` about ``link`` (its amount, reference and description), within
    ``limit``: a long description is shortened to fit, never the rest."""
    lang = link.language

    def render(description_line: str) -> str:
        return _t(
            lang,
            key,
            amount=link_amount(link),
            ref=link.short_ref,
            description_line=description_line,
            **values,
        )

    return _fit_description(lang, link.description, render, limit)


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
                description=clip(draft.description, _CHOICE_DESCRIPTION),
            )
            label = _t(
                language,
                "button_choice",
                amount=amount,
                description=clip_plain(draft.description, _BUTTON_DESCRIPTION),
            )
        else:
            described, label = _t(language, "choice_no_description"), amount
        words = html.escape(amount_in_words(value, currency, language))
        lines.append(_t(language, "choice_line", amount=amount, words=words, description=described))
        buttons.append((Button(label, callback=f"confirm:{draft.short_ref}"),))
    buttons.append(
        (Button(_t(language, "button_discard_all"), callback=f"discard:{drafts[0].short_ref}"),)
    )
    shown = clip(" ".join(typed.split()), _CHOICE_DESCRIPTION)
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
    key, shop = _customer_key(link)
    if link.description:
        return _t(
            link.language,
            key,
            amount=amount,
            description=link.description,
            url=link.link_url,
            shop=shop,
        )
    return _t(link.language, f"{key}_plain", amount=amount, url=link.link_url, shop=shop)


def _customer_key(link: Link) -> tuple[str, str]:
    """The customer's message names the shop, as it was named when the link was made (a
    link made before shops had names: a greeting without one)."""
    if link.merchant_name:
        return "customer_message_shop", link.merchant_name
    return "customer_message", ""


def shared_message(link: Link) -> str:
    """:func:`customer_message` as Telegram HTML, for the inline share (sent as HTML):
    what the merchant typed shows literally, and a long description is shortened to fit."""
    assert link.link_url is not None
    lang = link.language
    amount = html.escape(link_amount(link))
    url = html.escape(link.link_url)
    key, shop_name = _customer_key(link)
    shop = html.escape(shop_name)
    if not link.description:
        return _t(lang, f"{key}_plain", amount=amount, url=url, shop=shop)

    def render(description: str) -> str:
        return _t(lang, key, amount=amount, description=description, url=url, shop=shop)

    text = render(html.escape(link.description))
    if telegram_length(text) <= TEXT_LIMIT:
        return text
    return render(clip(link.description, TEXT_LIMIT - telegram_length(render(""))))


def whatsapp_url(link: Link, amount: str | None = None) -> str:
    return "https://wa.me/?text=" + quote(customer_message(link, amount), safe="")


def qr_caption(link: Link) -> str:
    return _described(link, "qr_caption", limit=CAPTION_LIMIT)


# -- notifications ---------------------------------------------------------------------------


def notification(note: Notification, tz: ZoneInfo) -> Delivery:
    link = note.link
    lang = link.language
    if note.kind is NotificationKind.CARD:
        # No card yet (a new link's): sending it makes it the card; else the card is edited.
        return Delivery(card(link, tz), edit_message_id=link.card_message_id)
    if note.kind is NotificationKind.PAID:
        by = _paid_by(note)
        text = _described(
            link,
            "paid",
            limit=TEXT_LIMIT - telegram_length(by),
            time=format_time(link.paid_at or link.updated_at, tz, lang),
            channel_line=_channel_line(link),
        )
        return Delivery(Reply(text + by))
    return Delivery(
        Reply(_described(link, "expired", time=format_time(_expired_at(link), tz, lang)))
    )


def summary(notes: Sequence[Notification], tz: ZoneInfo) -> Delivery:
    """Several payments (or expiries) for one chat in one message: a flash sale.

    Each description is shortened to a line's worth; how many notes one message can carry
    is the worker's choice (:meth:`Reply.fits`)."""
    first = notes[0].link
    lang = first.language
    paid = notes[0].kind is NotificationKind.PAID
    total = sum(note.link.amount_minor for note in notes)
    lines = []
    for note in notes:
        link = note.link
        by = _summary_by(note, lang) if paid else ""
        lines.append(
            f"• <b>{link_amount(link)}</b>{_list_description(link)} · "
            f"<code>{link.short_ref}</code>{by}"
        )
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


def _list_description(link: Link) -> str:
    """`` · description``, shortened for a line in a list or summary; "" without one."""
    if not link.description:
        return ""
    return f" · {clip(link.description, LIST_DESCRIPTION)}"


# -- problems and outcomes -------------------------------------------------------------------

#: What the merchant reads when Xendit made no link.
FAILURE_KEYS = {
    Failure.AUTH: "xendit_auth",
    Failure.REJECTED: "xendit_rejected",
    Failure.UNAVAILABLE: "xendit_unavailable",
    Failure.RATE_LIMITED: "xendit_rate_limited",
    Failure.UNKNOWN_OUTCOME: "xendit_unknown_outcome",
}
#: Xendit's explanation in a reply: long enough to help, short of Telegram's limit.
XENDIT_DETAIL_LIMIT = 500

#: What the merchant reads after /cancel or the card's cancel button.
CANCEL_KEYS = {
    CancelOutcome.CANCELED: "canceled",
    CancelOutcome.ALREADY_PAID: "cancel_too_late_paid",
    CancelOutcome.ALREADY_CLOSED: "cancel_too_late_closed",
    CancelOutcome.NOT_YET: "cancel_not_yet",
}


def problem(language: str, error: Problem, currency: Currency, maximum: Decimal) -> str:
    """What the user reads about a problem; what they typed is escaped and kept short."""
    if isinstance(error, AmountError):
        return amount_problem(language, error, currency, maximum)
    if isinstance(error, LinkNotCreated):
        detail = clip(error.detail, XENDIT_DETAIL_LIMIT)
        return _t(language, FAILURE_KEYS[error.failure], message=detail)
    values = {name: echo(v) if isinstance(v, str) else v for name, v in error.params.items()}
    return _t(language, error.key, **values)


def cancel_outcome(language: str, outcome: CancelOutcome, link: Link) -> str:
    return _t(language, CANCEL_KEYS[outcome], ref=link.short_ref)


def amount_problem(language: str, error: AmountError, currency: Currency, maximum: Decimal) -> str:
    """Explain a bad amount and repeat the usage."""
    shown = echo(error.text.strip())
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
    """One page of /links or /unpaid: up to ``page_size`` links, fewer if that many would
    not fit in one message (the next page then starts where this one stopped)."""
    title = _t(language, "unpaid_title" if waiting_only else "links_title", total=total)
    if not page:
        empty = _t(language, "unpaid_empty" if waiting_only else "links_empty")
        return Reply(f"{title}\n\n{empty}")
    hint = _t(language, "links_hint")
    entries = []
    for link in page:
        when = format_time(link.created_at, tz, language)
        entries.append(
            f"{STATUS_ICON[link.status]} <b>{link_amount(link)}</b>{_list_description(link)}\n"
            f"    <code>{link.short_ref}</code> · {when}"
        )
    text = ""
    shown = len(entries)
    while shown > 0:
        text = "\n".join([title, "", *entries[:shown], "", hint])
        if telegram_length(text) <= TEXT_LIMIT or shown == 1:
            break
        shown -= 1
    kind = "u" if waiting_only else "a"
    nav: list[Button] = []
    if offset > 0:
        nav.append(
            Button(
                _t(language, "button_newer"), callback=f"links:{kind}:{max(0, offset - page_size)}"
            )
        )
    if offset + shown < total:
        nav.append(Button(_t(language, "button_older"), callback=f"links:{kind}:{offset + shown}"))
    return Reply(text, (tuple(nav),) if nav else ())


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


# -- the team: claim, invites, /team ------------------------------------------------------------

#: A member's name in a line of /team or /today, and on a button.
MEMBER_NAME = 40
BUTTON_NAME = 20


def role_name(language: str, role: Role) -> str:
    return _t(language, "role_owner" if role is Role.OWNER else "role_staff")


def share_url(url: str, text: str) -> str:
    """Telegram's share dialog: pick a chat, and ``text`` with ``url`` is sent there."""
    return f"https://t.me/share/url?url={quote(url, safe='')}&text={quote(text, safe='')}"


def invite(language: str, shop: Shop, role: Role, link: str, expires: datetime) -> Reply:
    """A new invite: the link, until when it works, and a button to send it to someone."""
    text = _t(
        language,
        "invite_link",
        shop=html.escape(shop.name),
        role=role_name(language, role),
        link=html.escape(link),
        expires=format_time(expires, shop.tz, language),
    )
    invitation = _t(language, "invite_share_text", shop=shop.name)
    return Reply(
        text, ((Button(_t(language, "button_share_invite"), url=share_url(link, invitation)),),)
    )


def team(
    language: str, shop: Shop, day: date, totals: Sequence[MemberTotals], viewer_id: int
) -> Reply:
    """/team: each member, their role and what they took today; buttons to remove them or
    change their role (the data names the member: ``team:rm:<user_id>``, at most 35 bytes)."""
    title = _t(language, "team_title", shop=html.escape(shop.name), day=format_day(day, language))
    lines: list[str] = []
    buttons: list[tuple[Button, ...]] = []
    for entry in totals:
        member = entry.member
        name = clip(member.name, MEMBER_NAME)
        lines.append(
            _t(
                language,
                "team_line",
                icon="👑" if member.is_owner else "👤",
                name=name,
                you=_t(language, "team_you") if member.user_id == viewer_id else "",
                role=role_name(language, member.role),
                count=entry.paid_count,
                total=minor_amount(entry.paid_minor, shop.currency),
            )
        )
        short = clip_plain(member.name, BUTTON_NAME)
        other = "s" if member.is_owner else "o"
        buttons.append(
            (
                Button(
                    _t(
                        language,
                        "button_make_staff" if member.is_owner else "button_make_owner",
                        name=short,
                    ),
                    callback=f"team:role:{member.user_id}:{other}",
                ),
                Button(
                    _t(language, "button_remove", name=short),
                    callback=f"team:rm:{member.user_id}",
                ),
            )
        )
    hint = _t(language, "team_hint")
    shown = len(lines)
    while True:
        text = "\n".join([title, "", *lines[:shown], "", hint])
        if telegram_length(text) <= TEXT_LIMIT or shown <= 1:
            break
        shown -= 1
    # Telegram takes at most 100 buttons under a message.
    return Reply(text, tuple(buttons[: min(shown, 50)]))


def confirm_remove(language: str, shop: Shop, member: Member) -> Reply:
    """Removing a member is asked first: Yes removes, No goes back to the list."""
    return Reply(
        _t(
            language,
            "team_confirm_remove",
            name=clip(member.name, MEMBER_NAME),
            shop=html.escape(shop.name),
        ),
        (
            (
                Button(_t(language, "button_remove_yes"), callback=f"team:rmok:{member.user_id}"),
                Button(_t(language, "button_keep"), callback="team:list"),
            ),
        ),
    )


def today_by_member(
    language: str,
    day: date,
    summary: DaySummary,
    currency_code: str,
    totals: Sequence[MemberTotals],
) -> Reply:
    """An owner's /today: the shop's day, then what each member took (with a team of more
    than one: a lone owner's line would repeat the total)."""
    reply = today(language, day, summary, currency_code)
    if len(totals) < 2:
        return reply
    lines = [
        _t(
            language,
            "today_member_line",
            name=clip(entry.member.name, MEMBER_NAME),
            count=entry.paid_count,
            total=minor_amount(entry.paid_minor, currency_code),
        )
        for entry in totals
    ]
    shown = len(lines)
    while True:
        text = "\n".join([reply.text, "", _t(language, "today_members"), *lines[:shown]])
        if telegram_length(text) <= TEXT_LIMIT or shown <= 1:
            return Reply(text)
        shown -= 1


# -- end of the team
#
#
# -- the shop's group -----------------------------------------------------------------------------

#: The offer's button (``group:`` buttons pass the access guard in a group not yet the shop's).
CONNECT_GROUP = "group:connect"
#: A member's name in an announcement: Telegram names run to 64 + 64 characters.
MAKER_NAME_LIMIT = 64
#: ... and in a summary's line, one of many.
MAKER_LINE_LIMIT = 32


def group_offer(language: str, shop_name: str) -> Reply:
    """Said in a group an owner just added the bot to: make it the shop's?"""
    return Reply(
        _t(language, "group_offer", shop=clip(shop_name, ECHO_LIMIT)),
        ((Button(_t(language, "button_connect_group"), callback=CONNECT_GROUP),),),
    )


def group_connected(language: str, connected: Connected) -> Reply:
    """What being the shop's group means, now that it is."""
    shop = connected.shop
    name = clip(shop.name, ECHO_LIMIT)
    if connected.already:
        return Reply(_t(language, "group_already", shop=name))
    here = shop.effective_announce_to in (AnnounceTo.GROUP, AnnounceTo.BOTH)
    return Reply(
        _t(
            language,
            "group_connected",
            shop=name,
            announce=_t(language, "group_announce_here" if here else "group_announce_elsewhere"),
            replaced=_t(language, "group_replaced") if connected.replaced is not None else "",
        )
    )


def _maker(note: Notification, limit: int) -> str | None:
    """Who made the link, escaped, when the announcement is seen by others than its maker:
    in a group, or in a chat other than the one it was made in."""
    name = note.link.member_name
    if not name or (note.chat_id > 0 and note.chat_id == note.link.chat_id):
        return None
    return clip(name, limit)


def _paid_by(note: Notification) -> str:
    """The "paid" message's last line naming who made the link ("" when not wanted)."""
    name = _maker(note, MAKER_NAME_LIMIT)
    return "" if name is None else "\n" + _t(note.link.language, "paid_by", name=name)


def _summary_by(note: Notification, language: str) -> str:
    """`` · by Sari`` at the end of a summary's line (in the summary's language)."""
    name = _maker(note, MAKER_LINE_LIMIT)
    return "" if name is None else _t(language, "summary_by", name=name)


# -- end of the shop's group
#
#
# -- /settings ------------------------------------------------------------------------------------

#: A ticked and an unticked channel (the channel keyboard holds the choice being made).
TICKED = "✅"
UNTICKED = "⬜"
_PARTLY = "➖"


def settings_menu(language: str, shop: Shop) -> Reply:
    """The shop's settings as they are, a button for each."""

    def t(key: str) -> str:
        return _t(language, key)

    text = _t(
        language,
        "settings",
        name=html.escape(shop.name),
        expiry=duration(language, shop.link_expiry),
        above=_threshold(language, shop.confirm_above_minor, shop.currency),
        below=_threshold(language, shop.confirm_below_minor, shop.currency),
        timezone=html.escape(zone_label(shop.timezone)),
        channels=_channels_value(language, shop),
        announce=_announce_value(language, shop.effective_announce_to),
    )
    return Reply(
        text,
        (
            (
                Button(t("settings_button_name"), callback="set:name"),
                Button(t("settings_button_expiry"), callback="set:exp"),
            ),
            (
                Button(t("settings_button_above"), callback="set:above"),
                Button(t("settings_button_below"), callback="set:below"),
            ),
            (
                Button(t("settings_button_timezone"), callback="set:tz"),
                Button(t("settings_button_announce"), callback="set:ann"),
            ),
            (Button(t("settings_button_channels"), callback="set:ch"),),
        ),
    )


def duration(language: str, span: timedelta) -> str:
    """``24 hours``, ``3 days``, ``90 minutes``: a link's lifetime, as people say it."""
    minutes = int(span.total_seconds()) // 60
    if minutes % (24 * 60) == 0 and minutes >= 2 * 24 * 60:
        return _t(language, "settings_days", n=minutes // (24 * 60))
    if minutes == 60:
        return _t(language, "settings_one_hour")
    if minutes % 60 == 0:
        return _t(language, "settings_hours", n=minutes // 60)
    return _t(language, "settings_minutes", n=minutes)


def _threshold(language: str, minor: int | None, currency: str) -> str:
    return _t(language, "settings_off") if minor is None else minor_amount(minor, currency)


def _channels_value(language: str, shop: Shop) -> str:
    if not shop.payment_channels:
        return _t(language, "settings_all_channels")
    return html.escape(", ".join(label_of(shop.country, c) for c in shop.payment_channels))


def _announce_value(language: str, where: AnnounceTo) -> str:
    return _t(language, f"settings_announce_{where.value}")


def _back(language: str) -> tuple[Button, ...]:
    return (Button(_t(language, "settings_button_back"), callback="set:menu"),)


def _chosen(label: str, chosen: bool) -> str:
    return f"{TICKED} {label}" if chosen else label


def settings_expiry(language: str, shop: Shop, choices: Sequence[timedelta]) -> Reply:
    text = _t(language, "settings_expiry_explain", value=duration(language, shop.link_expiry))
    buttons = [
        Button(
            _chosen(duration(language, span), span == shop.link_expiry),
            callback=f"set:exp:{int(span.total_seconds())}",
        )
        for span in choices
    ]
    return Reply(text, (*_rows(buttons, 3), _back(language)))


def settings_threshold(
    language: str, shop: Shop, which: str, choices: Sequence[int], max_amount: Decimal
) -> Reply:
    """The large-amount (``which`` "above") or small-amount ("below") threshold's choices."""
    current = shop.confirm_above_minor if which == "above" else shop.confirm_below_minor
    text = _t(
        language,
        f"settings_{which}_explain",
        value=_threshold(language, current, shop.currency),
        max=format_amount(max_amount, get_currency(shop.currency)),
    )
    buttons = [
        Button(
            _chosen(minor_amount(minor, shop.currency), minor == current),
            callback=f"set:{which}:{minor}",
        )
        for minor in choices
    ]
    off = Button(
        _chosen(_t(language, "settings_button_off"), current is None), callback=f"set:{which}:off"
    )
    return Reply(text, (*_rows(buttons, 3), (off,), _back(language)))


def settings_timezone(language: str, shop: Shop, zones: Sequence[Zone]) -> Reply:
    text = _t(language, "settings_timezone_explain", value=html.escape(zone_label(shop.timezone)))
    rows = tuple(
        (Button(_chosen(zone.label, zone.name == shop.timezone), callback=f"set:tz:{zone.name}"),)
        for zone in zones
    )
    return Reply(text, (*rows, _back(language)))


def settings_announce(language: str, shop: Shop) -> Reply:
    note = "settings_group_connected" if shop.group_chat_id is not None else "settings_group_none"
    where = shop.effective_announce_to
    text = _t(
        language,
        "settings_announce_explain",
        group_note=_t(language, note),
        value=_announce_value(language, where),
    )
    rows = tuple(
        (
            Button(
                _chosen(_announce_value(language, choice), choice is where),
                callback=f"set:ann:{choice.value}",
            ),
        )
        for choice in AnnounceTo
    )
    return Reply(text, (*rows, _back(language)))


def settings_channels(language: str, shop: Shop, ticked: Collection[str]) -> Reply:
    """The channel keyboard: ``ticked`` is the choice being made (not saved until Done); a
    group of several channels has a button that ticks or unticks all of them."""
    text = _t(language, "settings_channels_explain", value=_channels_value(language, shop))
    rows: list[tuple[Button, ...]] = []
    for group, members in groups_of(shop.country):
        if len(members) > 1:
            count = sum(1 for c in members if c.code in ticked)
            mark = TICKED if count == len(members) else UNTICKED if count == 0 else _PARTLY
            label = f"{mark} {_t(language, f'settings_group_{group.value}')}"
            rows.append((Button(label, callback=f"set:cg:{group.value}"),))
        buttons = [
            Button(
                f"{TICKED if c.code in ticked else UNTICKED} {c.label}", callback=f"set:ch:{c.code}"
            )
            for c in members
        ]
        rows.extend(_rows(buttons, 3))
    rows.append(
        (
            Button(_t(language, "settings_button_all"), callback="set:cha"),
            Button(_t(language, "settings_button_clear"), callback="set:ch0"),
        )
    )
    rows.append(
        (
            Button(_t(language, "settings_button_back"), callback="set:menu"),
            Button(_t(language, "settings_button_done"), callback="set:chd"),
        )
    )
    return Reply(text, tuple(rows))


def ticked_channels(keyboard: Sequence[Sequence[tuple[str, str | None]]]) -> list[str]:
    """The channels ticked on a channel keyboard, from its buttons' (label, data): the
    message itself holds the choice in progress, so any instance can take the next tap."""
    prefix = "set:ch:"
    return [
        data.removeprefix(prefix)
        for row in keyboard
        for label, data in row
        if data is not None and data.startswith(prefix) and label.startswith(TICKED)
    ]


def _rows(buttons: Sequence[Button], width: int) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(buttons[i : i + width]) for i in range(0, len(buttons), width))


# -- end of /settings
