"""Every user-facing string, in English and Bahasa Indonesia.

Texts are Telegram HTML. Placeholders are filled by :func:`text`; callers escape anything a
user typed (``html.escape``) before passing it in. A test fails when a key exists in one
language and not the other, or when their placeholders differ.
"""

from __future__ import annotations

from typing import Final, Literal

Language = Literal["en", "id"]
LANGUAGES: Final[tuple[Language, ...]] = ("en", "id")
DEFAULT_LANGUAGE: Final[Language] = "en"

CATALOG: Final[dict[Language, dict[str, str]]] = {
    "en": {
        # /start and /help
        "start": (
            "👋 <b>Hi {name}!</b> I make payment links for your shop.\n\n"
            "Send <code>/pay 150000 kopi susu</code> and I reply with a link to forward to "
            "your customer. They pay by QRIS, e-wallet, bank transfer or card, and I tell you "
            "here the moment the money arrives.\n\n"
            "{usage}\n\n"
            "Your Telegram ID: <code>{user_id}</code>"
        ),
        "usage": (
            "<b>How to use /pay</b>\n"
            "<code>/pay &lt;amount&gt; [description]</code>\n"
            "Examples: <code>/pay 150000 kopi susu</code>, <code>/pay 150.000</code>, "
            "<code>/pay Rp25.000 nasi goreng</code>"
        ),
        "cmd_start": "What this bot does",
        "cmd_help": "How to take a payment",
        "cmd_pay": "Make a payment link: /pay 150000 kopi susu",
        # /pay problems
        "amount_missing": "Please tell me the amount.",
        "amount_not_a_number": "“{text}” is not an amount I understand.",
        "amount_not_positive": "The amount must be more than zero.",
        "amount_too_many_decimals": "{currency} amounts can't have those decimals: “{text}”.",
        "amount_too_large": "That's more than the {max} a single link may ask for.",
        "amount_ambiguous": "“{text}” could mean {options}. Please type the full number.",
        "amount_unclear": (
            "“{text}” is unclear: did you mean {option}? Please type the full number."
        ),
        "or": " or ",
        "description_too_long": "The description is too long (at most {max} characters).",
        "not_allowed": (
            "Sorry, you are not allowed to make payment links with this bot.\n"
            "Your Telegram ID is <code>{user_id}</code>: send it to the person who runs the "
            "bot so they can add you."
        ),
        # the link
        "link_created": (
            "💳 <b>Payment link: {amount}</b>\n"
            "{description_line}"
            "Ref: <code>{ref}</code>\n"
            "Expires: {expires}\n\n"
            "{url}\n\n"
            "Forward the link to your customer. I'll tell you here when it's paid."
        ),
        "button_open": "Open payment page",
        # Xendit trouble
        "xendit_auth": (
            "⚠️ Xendit refused this bot's API key, so no link was made. The person who runs "
            "the bot needs to check XENDIT_SECRET_KEY (it needs Money-in write permission)."
        ),
        "xendit_rejected": "⚠️ Xendit refused the payment link: {message}",
        "xendit_unavailable": (
            "⚠️ Xendit is not answering right now, so no link was made. Please try again in a "
            "minute."
        ),
        "xendit_rate_limited": (
            "⚠️ Xendit is busy right now, so no link was made. Please try again in a minute."
        ),
        "xendit_unknown_outcome": (
            "⚠️ Xendit took too long to answer. The link may or may not have been made; I won't "
            "use it. Please send /pay again for a fresh link."
        ),
        "internal_error": ("😕 Something went wrong on my side. No money moved. Please try again."),
        # notifications
        "paid": (
            "✅ <b>PAID {amount}</b>\n"
            "{description_line}"
            "Ref: <code>{ref}</code>\n"
            "Paid at {time}{channel_line}"
        ),
        "paid_channel": " via {channel}",
        "expired": (
            "⌛ <b>Expired, not paid: {amount}</b>\n"
            "{description_line}"
            "Ref: <code>{ref}</code>\n"
            "The link expired at {time}. Send /pay again for a new one."
        ),
        "description_line": "{description}\n",
    },
    "id": {
        "start": (
            "👋 <b>Halo {name}!</b> Saya membuat link pembayaran untuk toko Anda.\n\n"
            "Kirim <code>/pay 150000 kopi susu</code> dan saya balas dengan link untuk "
            "diteruskan ke pelanggan. Mereka bayar lewat QRIS, e-wallet, transfer bank atau "
            "kartu, dan saya kabari Anda di sini begitu uangnya masuk.\n\n"
            "{usage}\n\n"
            "ID Telegram Anda: <code>{user_id}</code>"
        ),
        "usage": (
            "<b>Cara memakai /pay</b>\n"
            "<code>/pay &lt;jumlah&gt; [keterangan]</code>\n"
            "Contoh: <code>/pay 150000 kopi susu</code>, <code>/pay 150.000</code>, "
            "<code>/pay Rp25.000 nasi goreng</code>"
        ),
        "cmd_start": "Apa yang bisa dilakukan bot ini",
        "cmd_help": "Cara menerima pembayaran",
        "cmd_pay": "Buat link pembayaran: /pay 150000 kopi susu",
        "amount_missing": "Mohon tulis jumlahnya.",
        "amount_not_a_number": "“{text}” bukan jumlah yang saya pahami.",
        "amount_not_positive": "Jumlahnya harus lebih dari nol.",
        "amount_too_many_decimals": "Jumlah {currency} tidak boleh memakai desimal itu: “{text}”.",
        "amount_too_large": "Itu melebihi batas {max} untuk satu link.",
        "amount_ambiguous": "“{text}” bisa berarti {options}. Mohon tulis angka lengkapnya.",
        "amount_unclear": (
            "“{text}” kurang jelas: maksudnya {option}? Mohon tulis angka lengkapnya."
        ),
        "or": " atau ",
        "description_too_long": "Keterangannya terlalu panjang (maksimal {max} karakter).",
        "not_allowed": (
            "Maaf, Anda belum diizinkan membuat link pembayaran dengan bot ini.\n"
            "ID Telegram Anda <code>{user_id}</code>: kirimkan ke pengelola bot agar Anda "
            "ditambahkan."
        ),
        "link_created": (
            "💳 <b>Link pembayaran: {amount}</b>\n"
            "{description_line}"
            "Ref: <code>{ref}</code>\n"
            "Berlaku sampai: {expires}\n\n"
            "{url}\n\n"
            "Teruskan link ini ke pelanggan. Saya kabari di sini begitu dibayar."
        ),
        "button_open": "Buka halaman pembayaran",
        "xendit_auth": (
            "⚠️ Xendit menolak API key bot ini, jadi link belum dibuat. Pengelola bot perlu "
            "memeriksa XENDIT_SECRET_KEY (perlu izin Money-in write)."
        ),
        "xendit_rejected": "⚠️ Xendit menolak link pembayaran: {message}",
        "xendit_unavailable": (
            "⚠️ Xendit sedang tidak menjawab, jadi link belum dibuat. Silakan coba lagi "
            "sebentar lagi."
        ),
        "xendit_rate_limited": (
            "⚠️ Xendit sedang sibuk, jadi link belum dibuat. Silakan coba lagi sebentar lagi."
        ),
        "xendit_unknown_outcome": (
            "⚠️ Xendit terlalu lama menjawab. Link mungkin sudah atau belum dibuat; saya tidak "
            "akan memakainya. Silakan kirim /pay lagi untuk link baru."
        ),
        "internal_error": (
            "😕 Ada yang salah di sisi saya. Tidak ada uang yang berpindah. Silakan coba lagi."
        ),
        "paid": (
            "✅ <b>LUNAS {amount}</b>\n"
            "{description_line}"
            "Ref: <code>{ref}</code>\n"
            "Dibayar {time}{channel_line}"
        ),
        "paid_channel": " lewat {channel}",
        "expired": (
            "⌛ <b>Kedaluwarsa, belum dibayar: {amount}</b>\n"
            "{description_line}"
            "Ref: <code>{ref}</code>\n"
            "Link kedaluwarsa {time}. Kirim /pay lagi untuk link baru."
        ),
        "description_line": "{description}\n",
    },
}

#: Babel locale used for dates and numbers in each language.
LOCALES: Final[dict[Language, str]] = {"en": "en", "id": "id"}


def language_for(code: str | None) -> Language:
    """Pick our language from a Telegram ``language_code`` such as ``id`` or ``en-US``."""
    if code and code.split("-")[0].lower() in ("id", "in", "ms", "jv", "su"):
        return "id"
    return DEFAULT_LANGUAGE


def text(language: str, key: str, /, **values: object) -> str:
    """The string ``key`` in ``language`` (English when the language is unknown), filled in."""
    table = CATALOG.get(language, CATALOG[DEFAULT_LANGUAGE])  # type: ignore[call-overload]
    template: str = table[key]
    return template.format(**values) if values else template
