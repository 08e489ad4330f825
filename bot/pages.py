"""The customer's return page: plain HTML from our own records, readable on a cheap phone.

No external assets and no JavaScript: a small inline stylesheet, and a ``<meta refresh>``
while the payment is still being confirmed. It shows the merchant's name, the amount,
description, reference and state, and nothing else of the merchant's business.
"""

from __future__ import annotations

import html
from zoneinfo import ZoneInfo

from bot import i18n
from bot.views import format_time, link_amount
from storage import Link, LinkStatus

REFRESH_SECONDS = 5

_STYLE = """
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
sans-serif;background:#f4f5f7;color:#1d1f23}main{max-width:28rem;margin:0 auto;padding:1.25rem}
.card{background:#fff;border-radius:14px;padding:1.5rem 1.25rem;box-shadow:0 1px 3px #0002}
.icon{font-size:3rem;line-height:1}.state{font-size:1.35rem;font-weight:700;margin:.5rem 0 0}
.amount{font-size:2rem;font-weight:800;margin:.25rem 0 1rem;word-break:break-word}
dl{margin:0;display:grid;grid-template-columns:auto 1fr;gap:.25rem .75rem}dt{color:#5b616e}
dd{margin:0;word-break:break-word}.pay{display:block;margin:1.25rem 0 0;padding:.9rem;
text-align:center;background:#0b6bcb;color:#fff;border-radius:10px;text-decoration:none;
font-weight:700}.note{color:#5b616e;font-size:.9rem;margin:1rem 0 0}
.paid .state{color:#137333}.expired .state,.canceled .state{color:#8a4b00}
"""


def page_language(accept_language: str | None) -> str:
    """The first language we speak in an ``Accept-Language`` header (by q), else English."""
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        code = tag.split("-")[0].lower()
        if code in ("id", "in"):
            choices.append((quality, index, "id"))
        elif code == "en":
            choices.append((quality, index, "en"))
    if not choices:
        return i18n.DEFAULT_LANGUAGE
    choices.sort(key=lambda c: (-c[0], c[1]))
    return choices[0][2]


def _document(language: str, title: str, body: str, *, refresh: bool = False) -> str:
    meta_refresh = f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">' if refresh else ""
    return (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"{meta_refresh}<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def return_page(link: Link, language: str, tz: ZoneInfo, *, just_paid: bool = False) -> str:
    """What the customer sees after Xendit's checkout: the truth from our own records.

    ``just_paid``: Xendit's success redirect brought them (``/r/<token>/done``). Until we know
    the payment, they see "confirming", never a Pay button (they could pay twice), nor "paid".
    """

    def t(key: str, **values: object) -> str:
        return i18n.text(language, key, **values)

    amount = link_amount(link)
    rows = []
    if link.merchant_name:
        rows.append((t("page_merchant"), html.escape(link.merchant_name)))
    if link.description:
        rows.append((t("page_description"), html.escape(link.description)))
    rows.append((t("page_reference"), f"<code>{link.short_ref}</code>"))

    pay_button = ""
    refresh = False
    if link.status is LinkStatus.COMPLETED:
        css, icon, state = "paid", "✅", t("page_paid")
        when = link.paid_at or link.updated_at
        rows.append((t("page_paid_at"), format_time(when, tz, language)))
        note = t("page_paid_note")
    elif link.status is LinkStatus.EXPIRED:
        css, icon, state, note = "expired", "⌛", t("page_expired"), t("page_closed_note")
    elif link.status is LinkStatus.CANCELED:
        css, icon, state, note = "canceled", "🚫", t("page_canceled"), t("page_closed_note")
    elif link.status is LinkStatus.FAILED or link.link_url is None:
        css, icon, state, note = "canceled", "⚠️", t("page_unavailable"), t("page_closed_note")
    elif just_paid:
        css, icon, state = "waiting", "⏳", t("page_confirming")
        note = t("page_confirming_note", seconds=REFRESH_SECONDS)
        refresh = True
    else:
        css, icon, state = "waiting", "⏳", t("page_waiting")
        note = t("page_waiting_note", seconds=REFRESH_SECONDS)
        refresh = True
        if link.expires_at is not None:
            rows.append((t("page_expires"), format_time(link.expires_at, tz, language)))
        pay_button = (
            f'<a class="pay" href="{html.escape(link.link_url, quote=True)}">'
            f"{html.escape(t('page_pay', amount=amount))}</a>"
        )
    details = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    body = (
        f'<div class="card {css}"><div class="icon" aria-hidden="true">{icon}</div>'
        f'<p class="state">{html.escape(state)}</p><p class="amount">{html.escape(amount)}</p>'
        f'<dl>{details}</dl>{pay_button}<p class="note">{html.escape(note)}</p></div>'
    )
    return _document(language, f"{state} · {amount}", body, refresh=refresh)


def not_found_page(language: str) -> str:
    body = (
        f'<div class="card"><p class="state">{html.escape(i18n.text(language, "page_not_found"))}'
        f'</p><p class="note">{html.escape(i18n.text(language, "page_not_found_note"))}</p></div>'
    )
    return _document(language, i18n.text(language, "page_not_found"), body)
