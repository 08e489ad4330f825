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
            "{commands}\n\n"
            "Your Telegram ID: <code>{user_id}</code>"
        ),
        "usage": (
            "<b>How to use /pay</b>\n"
            "<code>/pay &lt;amount&gt; [description]</code>\n"
            "Examples: <code>/pay 150000 kopi susu</code>, <code>/pay 150rb</code>, "
            "<code>/pay 1,5jt sepatu</code>, <code>/pay Rp25.000 nasi goreng</code>, "
            "<code>/pay Rp 150.000 kopi</code>, <code>/pay 2 juta nasi</code>\n"
            "Add <code>exp:2h</code> (or <code>exp:30m</code>, <code>exp:3d</code>) for a "
            "different expiry."
        ),
        "commands_help": (
            "<b>Other commands</b>\n"
            "/links: your recent links · /unpaid: links still waiting\n"
            "/status <code>REF</code>: one link, fresh from Xendit · /cancel <code>REF</code>\n"
            "/today: what came in today · /export: a CSV for bookkeeping\n"
            "/language: English or Bahasa Indonesia"
        ),
        "cmd_start": "What this bot does",
        "cmd_help": "How to take a payment",
        "cmd_pay": "Make a payment link: /pay 150000 kopi susu",
        "cmd_links": "Your recent links",
        "cmd_unpaid": "Links still waiting for payment",
        "cmd_status": "One link, fresh from Xendit: /status REF",
        "cmd_cancel": "Cancel a waiting link: /cancel REF",
        "cmd_today": "Today's payments",
        "cmd_export": "CSV of links and payments: /export 2026-11-01 2026-11-30",
        "cmd_language": "English / Bahasa Indonesia",
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
        "bad_expiry": (
            "“{text}” is not an expiry I understand. Use e.g. <code>exp:30m</code>, "
            "<code>exp:2h</code> or <code>exp:3d</code> (15 minutes to 30 days)."
        ),
        "not_allowed": (
            "Sorry, this bot takes payments for a shop's team only.\n"
            "To join, ask the shop's owner for an invite link and open it."
        ),
        "group_not_connected": (
            "This group is not the shop's group, so I don't act here. An owner can make it "
            "the shop's group with /connect."
        ),
        "owners_only": "Only the shop's owners can do that.",
        "button_stale": "This button is no longer valid.",
        "unknown_command": "I don't know /{command}. Send /help to see what I can do.",
        "unknown_text": (
            "To make a payment link, send <code>/pay 150000 kopi susu</code>. /help lists "
            "everything I can do."
        ),
        "pay_edited": (
            "✏️ Editing a /pay message doesn't change its link. Send a new /pay instead, and "
            "/cancel <code>REF</code> the old link if the customer shouldn't pay it."
        ),
        # amounts to check or to pick
        "card_confirm_small": (
            "❓ <b>Make a link for {amount}?</b>\n"
            "That is <i>{words}</i>.\n"
            "{description_line}"
            "Ref: <code>{ref}</code>\n\n"
            "That's an unusually small amount: please check no zeros or “rb” are missing."
        ),
        "card_confirm_check": (
            "❓ <b>Make a link for {amount}?</b>\n"
            "That is <i>{words}</i>.\n"
            "{description_line}"
            "Ref: <code>{ref}</code>\n\n"
            "Please check the amount."
        ),
        "choose_amount": (
            "❓ <b>Which amount did you mean?</b>\n"
            "I can read “{text}” more than one way:\n\n"
            "{readings}\n\n"
            "Tap the right one; no link is made until you do."
        ),
        "choose_amount_one": (
            "❓ <b>“{text}” is unclear: did you mean {amount}?</b>\n\n"
            "{readings}\n\n"
            "Tap it to make the link, or type the full number."
        ),
        "choice_line": "• <b>{amount}</b> (<i>{words}</i>){description}",
        "choice_description": " for “{description}”",
        "choice_no_description": ", no description",
        "button_choice": "{amount} · {description}",
        "button_discard_all": "None of these",
        # the payment card
        "card_waiting": (
            "💳 <b>Payment link: {amount}</b> · waiting\n"
            "{description_line}"
            "Ref: <code>{ref}</code>\n"
            "Expires: {expires}\n\n"
            "{url}\n\n"
            "Forward the link, share it, or show the QR code. I'll tell you here when it's paid."
        ),
        "card_paid": (
            "✅ <b>Paid: {amount}</b>\n"
            "{description_line}"
            "Ref: <code>{ref}</code>\n"
            "Paid at {time}{channel_line}"
        ),
        "card_expired": (
            "⌛ <b>Expired, not paid: {amount}</b>\n"
            "{description_line}"
            "Ref: <code>{ref}</code>\n"
            "Expired at {time}."
        ),
        "card_canceled": (
            "🚫 <b>Cancelled: {amount}</b>\n{description_line}Ref: <code>{ref}</code>"
        ),
        "card_failed": (
            "⚠️ <b>No link was made: {amount}</b>\n{description_line}Ref: <code>{ref}</code>"
        ),
        "card_unknown": (
            "⏳ <b>Link not confirmed yet: {amount}</b>\n"
            "{description_line}"
            "Ref: <code>{ref}</code>\n\n"
            "Xendit did not answer in time, so the link may or may not exist. I'll check and "
            "show it here as soon as Xendit tells me. If your customer is waiting, send /pay "
            "again for a fresh link."
        ),
        "card_confirm": (
            "❓ <b>Make a link for {amount}?</b>\n"
            "That is <i>{words}</i>.\n"
            "{description_line}"
            "Ref: <code>{ref}</code>\n\n"
            "It's a large amount, so please check the zeros."
        ),
        "button_open": "Open payment page",
        "button_qr": "QR code",
        "button_share": "Share in Telegram",
        "button_whatsapp": "Share on WhatsApp",
        "button_cancel": "Cancel link",
        "button_reissue": "New link, same amount",
        "button_confirm": "Yes, make the link",
        "button_discard": "No",
        "draft_discarded": "OK, no link was made.",
        "card_moved": "↓ The card of <code>{ref}</code> is further down.",
        "customer_message": "Hello! Please pay {amount} for {description} here: {url}",
        "customer_message_plain": "Hello! Please pay {amount} here: {url}",
        "qr_caption": ("Scan to pay <b>{amount}</b>\n{description_line}Ref: <code>{ref}</code>"),
        "inline_title": "Send the payment link for {amount}",
        "inline_pay_button": "Pay {amount}",
        "inline_nothing": "No waiting links to share",
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
        "internal_error": "😕 Something went wrong on my side. No money moved. Please try again.",
        "not_saved": (
            "⚠️ I could not save the link on my side, so there is no link to send. Please try "
            "again in a minute."
        ),
        # managing links
        "ref_usage": "Please add the link's reference, e.g. <code>/{command} K7F3QX9A</code>.",
        "ref_not_found": "I can't find a link with reference <code>{ref}</code> in this chat.",
        "canceled": "🚫 Link <code>{ref}</code> is cancelled. The customer can no longer pay it.",
        "cancel_too_late_paid": "✅ Too late to cancel <code>{ref}</code>: it is already paid.",
        "cancel_too_late_closed": "Link <code>{ref}</code> had already ended; nothing to cancel.",
        "cancel_not_yet": (
            "⏳ Xendit has not told me yet whether link <code>{ref}</code> exists, so I cannot "
            "cancel it yet. Nobody was sent it. I'll show it here when Xendit tells me, and "
            "you can cancel it then."
        ),
        "xendit_unreachable_now": (
            "⚠️ Xendit is not answering right now. Nothing changed; please try again soon."
        ),
        "links_title": "<b>Your links</b> ({total})",
        "unpaid_title": "<b>Waiting for payment</b> ({total})",
        "links_empty": "No links yet. Make one with /pay.",
        "unpaid_empty": "Nothing is waiting. 🎉",
        "links_hint": "Tap a reference to copy it; /status REF shows the card.",
        "button_newer": "◀ Newer",
        "button_older": "Older ▶",
        "today": (
            "📅 <b>{day}</b>\n"
            "Paid: <b>{paid_count}</b> · {paid_total}\n"
            "Still waiting: {waiting_count} · {waiting_total}"
        ),
        "export_usage": (
            "Usage: <code>/export [from] [to]</code> with dates like <code>2026-11-01</code>. "
            "Without dates: this month so far."
        ),
        "export_caption": "Your links and payments from {start} to {end}: {count} in total.",
        "export_empty": "No links between {start} and {end}.",
        "language_prompt": "Choose your language:",
        "language_set": "OK, I'll speak English.",
        # notifications
        "paid": (
            "✅ <b>PAID {amount}</b>\n"
            "{description_line}"
            "Ref: <code>{ref}</code>\n"
            "Paid at {time}{channel_line}"
        ),
        "paid_channel": " via {channel}",
        "paid_summary": "✅ <b>{count} payments received: {total}</b>\n{lines}",
        "expired_summary": "⌛ <b>{count} links expired unpaid: {total}</b>\n{lines}",
        "expired": (
            "⌛ <b>Expired, not paid: {amount}</b>\n"
            "{description_line}"
            "Ref: <code>{ref}</code>\n"
            "The link expired at {time}."
        ),
        "description_line": "{description}\n",
        # the customer's return page (plain text: the page escapes it)
        "page_paid": "Payment received",
        "page_paid_note": "Thank you! The shop has been told. You can close this page.",
        "page_waiting": "Waiting for payment",
        "page_waiting_note": (
            "If you have just paid, it is being confirmed: this page updates itself every "
            "{seconds} seconds."
        ),
        "page_confirming": "Confirming your payment…",
        "page_confirming_note": (
            "We are checking your payment with the payment provider. Please don't pay again: "
            "this page updates itself every {seconds} seconds."
        ),
        "page_expired": "This payment link has expired",
        "page_canceled": "This payment link was cancelled",
        "page_unavailable": "This payment link is not available",
        "page_closed_note": "Nothing was charged through this link. Ask the shop for a new one.",
        "page_pay": "Pay {amount}",
        "page_merchant": "Shop",
        "page_description": "For",
        "page_reference": "Reference",
        "page_paid_at": "Paid at",
        "page_expires": "Pay before",
        "page_not_found": "Page not found",
        "page_not_found_note": "This address is not a payment of ours. Check the link.",
        # -- the team: claim, invites, /team (bot/telegram/team.py)
        # -- end of the team
        #
        #
        # -- the shop's group: /connect, /disconnect (bot/telegram/group.py)
        "group_offer": (
            "👋 Hello! Shall I make this group the shop's group ({shop})?\n\n"
            "Then the shop's members can make payment links here with /pay, and payments are "
            "announced here. Tap the button, or send /connect."
        ),
        "button_connect_group": "Connect this group",
        "group_connected": (
            "✅ <b>This group is now the shop's group</b> ({shop}).\n\n"
            "• The shop's members can make payment links here with /pay.\n"
            "{announce}\n"
            "• Owners can change where payments are announced in /settings; /disconnect "
            "undoes this.{replaced}"
        ),
        "group_announce_here": (
            "• Every payment of the shop is announced here, naming who made the link."
        ),
        "group_announce_elsewhere": (
            "• Payments are announced in the chat each link was made in, not here (see /settings)."
        ),
        "group_replaced": "\n\nIt replaces the shop's previous group, where I no longer act.",
        "group_already": (
            "✅ This group is already the shop's group ({shop}). /disconnect undoes that."
        ),
        "group_connect_here": (
            "Send /connect in the group that should be the shop's group (add me to it first). "
            "The shop's members can then make payment links there, and payments are announced "
            "there."
        ),
        "group_disconnected": (
            "🔌 The shop's group is disconnected: I no longer act or announce payments there. "
            "An owner can /connect a group again."
        ),
        "group_none": (
            "The shop has no group. Send /connect in a group to make it the shop's group."
        ),
        "group_not_this": (
            "This group is not the shop's group: there is nothing to disconnect here."
        ),
        "paid_by": "Link by {name}",
        "summary_by": " · by {name}",
        # -- end of the shop's group
        #
        #
        # -- /settings (bot/telegram/settings.py)
        # -- end of /settings
    },
    "id": {
        "start": (
            "👋 <b>Halo {name}!</b> Saya membuat link pembayaran untuk toko Anda.\n\n"
            "Kirim <code>/pay 150000 kopi susu</code> dan saya balas dengan link untuk "
            "diteruskan ke pelanggan. Mereka bayar lewat QRIS, e-wallet, transfer bank atau "
            "kartu, dan saya kabari Anda di sini begitu uangnya masuk.\n\n"
            "{usage}\n\n"
            "{commands}\n\n"
            "ID Telegram Anda: <code>{user_id}</code>"
        ),
        "usage": (
            "<b>Cara memakai /pay</b>\n"
            "<code>/pay &lt;jumlah&gt; [keterangan]</code>\n"
            "Contoh: <code>/pay 150000 kopi susu</code>, <code>/pay 150rb</code>, "
            "<code>/pay 1,5jt sepatu</code>, <code>/pay Rp25.000 nasi goreng</code>, "
            "<code>/pay Rp 150.000 kopi</code>, <code>/pay 2 juta nasi</code>\n"
            "Tambahkan <code>exp:2h</code> (atau <code>exp:30m</code>, <code>exp:3d</code>) "
            "untuk masa berlaku lain."
        ),
        "commands_help": (
            "<b>Perintah lain</b>\n"
            "/links: link terakhir · /unpaid: link yang belum dibayar\n"
            "/status <code>REF</code>: satu link, langsung dari Xendit · "
            "/cancel <code>REF</code>\n"
            "/today: pemasukan hari ini · /export: CSV untuk pembukuan\n"
            "/language: English atau Bahasa Indonesia"
        ),
        "cmd_start": "Apa yang bisa dilakukan bot ini",
        "cmd_help": "Cara menerima pembayaran",
        "cmd_pay": "Buat link pembayaran: /pay 150000 kopi susu",
        "cmd_links": "Link terakhir Anda",
        "cmd_unpaid": "Link yang belum dibayar",
        "cmd_status": "Satu link, langsung dari Xendit: /status REF",
        "cmd_cancel": "Batalkan link: /cancel REF",
        "cmd_today": "Pembayaran hari ini",
        "cmd_export": "CSV link dan pembayaran: /export 2026-11-01 2026-11-30",
        "cmd_language": "Bahasa Indonesia / English",
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
        "bad_expiry": (
            "“{text}” bukan masa berlaku yang saya pahami. Contoh: <code>exp:30m</code>, "
            "<code>exp:2h</code> atau <code>exp:3d</code> (15 menit sampai 30 hari)."
        ),
        "not_allowed": (
            "Maaf, bot ini hanya menerima pembayaran untuk tim sebuah toko.\n"
            "Untuk bergabung, minta link undangan kepada pemilik toko lalu buka link itu."
        ),
        "group_not_connected": (
            "Grup ini bukan grup toko, jadi saya tidak bertindak di sini. Pemilik dapat "
            "menjadikannya grup toko dengan /connect."
        ),
        "owners_only": "Hanya pemilik toko yang dapat melakukannya.",
        "button_stale": "Tombol ini sudah tidak berlaku.",
        "unknown_command": "Saya tidak mengenal /{command}. Kirim /help untuk melihat perintah.",
        "unknown_text": (
            "Untuk membuat link pembayaran, kirim <code>/pay 150000 kopi susu</code>. /help "
            "berisi semua yang bisa saya lakukan."
        ),
        "pay_edited": (
            "✏️ Mengedit pesan /pay tidak mengubah linknya. Kirim /pay baru, lalu "
            "/cancel <code>REF</code> link lama jika pelanggan tidak perlu membayarnya."
        ),
        "card_confirm_small": (
            "❓ <b>Buat link untuk {amount}?</b>\n"
            "Yaitu <i>{words}</i>.\n"
            "{description_line}"
            "Ref: <code>{ref}</code>\n\n"
            "Jumlahnya sangat kecil: mohon periksa apakah ada nol atau “rb” yang terlewat."
        ),
        "card_confirm_check": (
            "❓ <b>Buat link untuk {amount}?</b>\n"
            "Yaitu <i>{words}</i>.\n"
            "{description_line}"
            "Ref: <code>{ref}</code>\n\n"
            "Mohon periksa jumlahnya."
        ),
        "choose_amount": (
            "❓ <b>Jumlah mana yang Anda maksud?</b>\n"
            "“{text}” bisa dibaca lebih dari satu cara:\n\n"
            "{readings}\n\n"
            "Ketuk yang benar; link belum dibuat sebelum Anda memilih."
        ),
        "choose_amount_one": (
            "❓ <b>“{text}” kurang jelas: maksudnya {amount}?</b>\n\n"
            "{readings}\n\n"
            "Ketuk untuk membuat linknya, atau tulis angka lengkapnya."
        ),
        "choice_line": "• <b>{amount}</b> (<i>{words}</i>){description}",
        "choice_description": " untuk “{description}”",
        "choice_no_description": ", tanpa keterangan",
        "button_choice": "{amount} · {description}",
        "button_discard_all": "Tidak ada yang benar",
        "card_waiting": (
            "💳 <b>Link pembayaran: {amount}</b> · menunggu\n"
            "{description_line}"
            "Ref: <code>{ref}</code>\n"
            "Berlaku sampai: {expires}\n\n"
            "{url}\n\n"
            "Teruskan linknya, bagikan, atau tunjukkan kode QR. Saya kabari di sini begitu "
            "dibayar."
        ),
        "card_paid": (
            "✅ <b>Lunas: {amount}</b>\n"
            "{description_line}"
            "Ref: <code>{ref}</code>\n"
            "Dibayar {time}{channel_line}"
        ),
        "card_expired": (
            "⌛ <b>Kedaluwarsa, belum dibayar: {amount}</b>\n"
            "{description_line}"
            "Ref: <code>{ref}</code>\n"
            "Kedaluwarsa {time}."
        ),
        "card_canceled": (
            "🚫 <b>Dibatalkan: {amount}</b>\n{description_line}Ref: <code>{ref}</code>"
        ),
        "card_failed": (
            "⚠️ <b>Link tidak dibuat: {amount}</b>\n{description_line}Ref: <code>{ref}</code>"
        ),
        "card_unknown": (
            "⏳ <b>Link belum pasti: {amount}</b>\n"
            "{description_line}"
            "Ref: <code>{ref}</code>\n\n"
            "Xendit tidak menjawab tepat waktu, jadi link ini mungkin sudah atau belum dibuat. "
            "Saya akan memeriksanya dan menampilkannya di sini begitu Xendit memberi kabar. "
            "Jika pelanggan menunggu, kirim /pay lagi untuk link baru."
        ),
        "card_confirm": (
            "❓ <b>Buat link untuk {amount}?</b>\n"
            "Yaitu <i>{words}</i>.\n"
            "{description_line}"
            "Ref: <code>{ref}</code>\n\n"
            "Jumlahnya besar, mohon periksa nolnya."
        ),
        "button_open": "Buka halaman pembayaran",
        "button_qr": "Kode QR",
        "button_share": "Bagikan di Telegram",
        "button_whatsapp": "Bagikan ke WhatsApp",
        "button_cancel": "Batalkan link",
        "button_reissue": "Link baru, jumlah sama",
        "button_confirm": "Ya, buat linknya",
        "button_discard": "Tidak",
        "draft_discarded": "Baik, link tidak dibuat.",
        "card_moved": "↓ Kartu <code>{ref}</code> ada di bawah.",
        "customer_message": "Halo! Silakan bayar {amount} untuk {description} di sini: {url}",
        "customer_message_plain": "Halo! Silakan bayar {amount} di sini: {url}",
        "qr_caption": (
            "Pindai untuk membayar <b>{amount}</b>\n{description_line}Ref: <code>{ref}</code>"
        ),
        "inline_title": "Kirim link pembayaran {amount}",
        "inline_pay_button": "Bayar {amount}",
        "inline_nothing": "Tidak ada link yang menunggu untuk dibagikan",
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
        "not_saved": (
            "⚠️ Saya tidak bisa menyimpan link ini, jadi tidak ada link untuk dikirim. Silakan "
            "coba lagi sebentar lagi."
        ),
        "ref_usage": "Mohon tambahkan referensi link, misalnya <code>/{command} K7F3QX9A</code>.",
        "ref_not_found": "Saya tidak menemukan link dengan referensi <code>{ref}</code> di sini.",
        "canceled": (
            "🚫 Link <code>{ref}</code> dibatalkan. Pelanggan tidak bisa membayarnya lagi."
        ),
        "cancel_too_late_paid": (
            "✅ Sudah terlambat membatalkan <code>{ref}</code>: link ini sudah dibayar."
        ),
        "cancel_too_late_closed": (
            "Link <code>{ref}</code> sudah berakhir; tidak ada yang perlu dibatalkan."
        ),
        "cancel_not_yet": (
            "⏳ Xendit belum memberi tahu apakah link <code>{ref}</code> ada, jadi saya belum "
            "bisa membatalkannya. Link ini belum dikirim ke siapa pun. Saya akan "
            "menampilkannya di sini begitu Xendit memberi kabar, lalu Anda bisa membatalkannya."
        ),
        "xendit_unreachable_now": (
            "⚠️ Xendit sedang tidak menjawab. Tidak ada yang berubah; silakan coba lagi nanti."
        ),
        "links_title": "<b>Link Anda</b> ({total})",
        "unpaid_title": "<b>Menunggu pembayaran</b> ({total})",
        "links_empty": "Belum ada link. Buat dengan /pay.",
        "unpaid_empty": "Tidak ada yang menunggu. 🎉",
        "links_hint": "Ketuk referensi untuk menyalin; /status REF menampilkan kartunya.",
        "button_newer": "◀ Lebih baru",
        "button_older": "Lebih lama ▶",
        "today": (
            "📅 <b>{day}</b>\n"
            "Dibayar: <b>{paid_count}</b> · {paid_total}\n"
            "Masih menunggu: {waiting_count} · {waiting_total}"
        ),
        "export_usage": (
            "Cara pakai: <code>/export [dari] [sampai]</code> dengan tanggal seperti "
            "<code>2026-11-01</code>. Tanpa tanggal: bulan ini sampai hari ini."
        ),
        "export_caption": "Link dan pembayaran Anda dari {start} sampai {end}: total {count} link.",
        "export_empty": "Tidak ada link antara {start} dan {end}.",
        "language_prompt": "Pilih bahasa:",
        "language_set": "Baik, saya akan memakai Bahasa Indonesia.",
        "paid": (
            "✅ <b>LUNAS {amount}</b>\n"
            "{description_line}"
            "Ref: <code>{ref}</code>\n"
            "Dibayar {time}{channel_line}"
        ),
        "paid_channel": " lewat {channel}",
        "paid_summary": "✅ <b>{count} pembayaran masuk: {total}</b>\n{lines}",
        "expired_summary": "⌛ <b>{count} link kedaluwarsa belum dibayar: {total}</b>\n{lines}",
        "expired": (
            "⌛ <b>Kedaluwarsa, belum dibayar: {amount}</b>\n"
            "{description_line}"
            "Ref: <code>{ref}</code>\n"
            "Link kedaluwarsa {time}."
        ),
        "description_line": "{description}\n",
        "page_paid": "Pembayaran diterima",
        "page_paid_note": "Terima kasih! Toko sudah diberi tahu. Halaman ini boleh ditutup.",
        "page_waiting": "Menunggu pembayaran",
        "page_waiting_note": (
            "Jika Anda baru saja membayar, pembayaran sedang dikonfirmasi: halaman ini "
            "diperbarui sendiri setiap {seconds} detik."
        ),
        "page_confirming": "Mengonfirmasi pembayaran Anda…",
        "page_confirming_note": (
            "Kami sedang memeriksa pembayaran Anda dengan penyedia pembayaran. Mohon jangan "
            "membayar lagi: halaman ini diperbarui sendiri setiap {seconds} detik."
        ),
        "page_expired": "Link pembayaran ini sudah kedaluwarsa",
        "page_canceled": "Link pembayaran ini dibatalkan",
        "page_unavailable": "Link pembayaran ini tidak tersedia",
        "page_closed_note": "Tidak ada tagihan lewat link ini. Minta link baru ke toko.",
        "page_pay": "Bayar {amount}",
        "page_merchant": "Toko",
        "page_description": "Untuk",
        "page_reference": "Referensi",
        "page_paid_at": "Dibayar",
        "page_expires": "Bayar sebelum",
        "page_not_found": "Halaman tidak ditemukan",
        "page_not_found_note": "Alamat ini bukan pembayaran kami. Periksa linknya.",
        # -- the team: claim, invites, /team (bot/telegram/team.py)
        # -- end of the team
        #
        #
        # -- the shop's group: /connect, /disconnect (bot/telegram/group.py)
        "group_offer": (
            "👋 Halo! Jadikan grup ini grup toko ({shop})?\n\n"
            "Anggota toko lalu dapat membuat link pembayaran di sini dengan /pay, dan pembayaran "
            "diumumkan di sini. Ketuk tombolnya, atau kirim /connect."
        ),
        "button_connect_group": "Hubungkan grup ini",
        "group_connected": (
            "✅ <b>Grup ini sekarang grup toko</b> ({shop}).\n\n"
            "• Anggota toko dapat membuat link pembayaran di sini dengan /pay.\n"
            "{announce}\n"
            "• Pemilik dapat mengubah tempat pembayaran diumumkan di /settings; /disconnect "
            "membatalkannya.{replaced}"
        ),
        "group_announce_here": (
            "• Setiap pembayaran toko diumumkan di sini, dengan nama pembuat link-nya."
        ),
        "group_announce_elsewhere": (
            "• Pembayaran diumumkan di chat tempat link dibuat, bukan di sini (lihat /settings)."
        ),
        "group_replaced": (
            "\n\nGrup ini menggantikan grup toko sebelumnya, tempat saya tidak lagi bertindak."
        ),
        "group_already": (
            "✅ Grup ini sudah menjadi grup toko ({shop}). /disconnect membatalkannya."
        ),
        "group_connect_here": (
            "Kirim /connect di grup yang akan menjadi grup toko (tambahkan saya ke grup itu "
            "dulu). Anggota toko lalu dapat membuat link pembayaran di sana, dan pembayaran "
            "diumumkan di sana."
        ),
        "group_disconnected": (
            "🔌 Grup toko sudah diputus: saya tidak lagi bertindak atau mengumumkan pembayaran di "
            "sana. Pemilik dapat /connect grup lagi."
        ),
        "group_none": (
            "Toko belum punya grup. Kirim /connect di sebuah grup untuk menjadikannya grup toko."
        ),
        "group_not_this": "Grup ini bukan grup toko: tidak ada yang perlu diputus di sini.",
        "paid_by": "Link oleh {name}",
        "summary_by": " · oleh {name}",
        # -- end of the shop's group
        #
        #
        # -- /settings (bot/telegram/settings.py)
        # -- end of /settings
    },
}

#: Names of the languages, each in itself (for the /language buttons).
LANGUAGE_NAMES: Final[dict[Language, str]] = {"en": "English", "id": "Bahasa Indonesia"}

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
