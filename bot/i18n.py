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
            "/team: your team · /invite: invite someone (owners)\n"
            "/settings: the shop's settings · /connect in a group: the shop's group (owners)\n"
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
        "customer_message_shop": (
            "Hello from {shop}! Please pay {amount} for {description} here: {url}"
        ),
        "customer_message_shop_plain": "Hello from {shop}! Please pay {amount} here: {url}",
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
        "waiting_for_claim": (
            "This bot is waiting to be claimed by the person who runs it. They find the claim "
            "link in the bot's log, or print it with <code>python -m bot claim</code>, and "
            "open it here. Then they can invite you."
        ),
        "role_owner": "owner",
        "role_staff": "staff",
        "claimed_owner": (
            "🎉 <b>You are the owner of {shop} now.</b>\n\n"
            "Make a payment link with <code>/pay 150000 kopi susu</code>.\n"
            "Invite your team with /invite (staff) or <code>/invite owner</code> (a co-owner): "
            "each invite is a link that works once. /team shows your team and /settings the "
            "shop's settings. /help lists everything."
        ),
        "joined_staff": (
            "👋 <b>Welcome to {shop}!</b> You joined as staff.\n\n"
            "What you can do now:\n"
            "<code>/pay 150000 kopi susu</code>: make a payment link\n"
            "/links and /unpaid: your own links\n"
            "/status <code>REF</code>, /cancel <code>REF</code>: one of your links\n"
            "/today: what your links took today\n"
            "/help lists everything."
        ),
        "joined_owner": (
            "👋 <b>Welcome to {shop}!</b> You joined as an owner.\n\n"
            "Make a payment link with <code>/pay 150000 kopi susu</code>. You see every link "
            "of the shop (/links, /today, /export), the team (/team, /invite) and the shop's "
            "settings (/settings). /help lists everything."
        ),
        "member_joined": "👤 {name} joined {shop} as {role}.",
        "already_member": "You are already in {shop} as {role}. /help shows what you can do.",
        "invite_expired": (
            "⌛ This invite has expired: invites work for 24 hours. Ask the shop's owner for a "
            "new invite."
        ),
        "invite_used": (
            "This invite has been used already: each invite works once. Ask the shop's owner "
            "for a new invite."
        ),
        "invite_unknown": (
            "I don't know this invite link. Check that it was copied whole, or ask the shop's "
            "owner for a new invite."
        ),
        "shop_claimed": (
            "{shop} has been claimed already: it has an owner. To join the team, ask them for "
            "an invite link."
        ),
        "invite_usage": (
            "Send /invite to invite a staff member, or <code>/invite owner</code> to invite a "
            "co-owner."
        ),
        "invite_private": (
            "Please send /invite to me in our private chat: anyone who sees an invite link can "
            "use it."
        ),
        "invite_link": (
            "✉️ <b>An invite to {shop}</b>, as {role}:\n\n"
            "{link}\n\n"
            "It works once, until {expires}. Send it to the one person you mean: opening it "
            "adds them to the team."
        ),
        "invite_share_text": "Join {shop} to take payments with me",
        "button_share_invite": "Send the invite",
        "team_title": "👥 <b>The team of {shop}</b>\nPaid today, {day}:",
        "team_line": "{icon} {name}{you} · {role}: {count} paid · {total}",
        "team_you": " (you)",
        "team_hint": (
            "Add people with /invite or <code>/invite owner</code>. A removed member's links "
            "stay with the shop."
        ),
        "button_make_owner": "Make {name} owner",
        "button_make_staff": "Make {name} staff",
        "button_remove": "Remove {name}",
        "team_confirm_remove": (
            "Remove <b>{name}</b> from {shop}? They can no longer make or manage links. "
            "Their links stay with the shop."
        ),
        "button_remove_yes": "Yes, remove",
        "button_keep": "No",
        "team_last_owner": ("A shop needs at least one owner: make someone else an owner first."),
        "team_not_member": "That person is no longer in the team.",
        "team_removed": "{name} was removed from the team.",
        "team_role_changed": "{name} is now {role}.",
        "you_were_removed": (
            "You were removed from {shop}. Your links stay with the shop. To come back, ask an "
            "owner for a new invite."
        ),
        "you_left": "You left {shop}.",
        "you_are_owner_now": (
            "👑 You are now an owner of {shop}: you see every link of the shop, and /team, "
            "/invite and /settings are yours too."
        ),
        "you_are_staff_now": (
            "You are now staff in {shop}: you make links and see your own (/links, /today)."
        ),
        "today_members": "<b>By member</b>",
        "today_member_line": "• {name}: {count} · {total}",
        "cmd_invite": "Invite someone to the team (owners)",
        "cmd_team": "The team and what each took today (owners)",
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
        "cmd_settings": "The shop's settings (owners)",
        "settings": (
            "⚙️ <b>Settings of {name}</b>\n\n"
            "Name: <b>{name}</b>\n"
            "Links expire after: {expiry}\n"
            "Ask to check amounts above: {above}\n"
            "Ask to check amounts below: {below}\n"
            "Time zone: {timezone}\n"
            "Payment channels: {channels}\n"
            "Payments announced to: {announce}\n\n"
            "Tap a setting to change it. A change counts from the next link on."
        ),
        "settings_saved": "✅ Saved.",
        "settings_off": "never (off)",
        "settings_all_channels": "all that your Xendit account has",
        "settings_minutes": "{n} minutes",
        "settings_one_hour": "1 hour",
        "settings_hours": "{n} hours",
        "settings_days": "{n} days",
        "settings_button_name": "Name",
        "settings_button_expiry": "Link expiry",
        "settings_button_above": "Large amounts",
        "settings_button_below": "Small amounts",
        "settings_button_timezone": "Time zone",
        "settings_button_channels": "Payment channels",
        "settings_button_announce": "Announcements",
        "settings_button_back": "◀ Back",
        "settings_button_off": "Off: never ask",
        "settings_button_all": "All channels",
        "settings_button_clear": "Clear",
        "settings_button_done": "Done",
        "settings_name_prompt": (
            "Send the shop's new name in reply to this message (at most 64 characters). "
            "Customers see it on the payment page and in the messages you share with them."
        ),
        "settings_name_placeholder": "The shop's name",
        "settings_expiry_explain": (
            "⏱ <b>Link expiry</b>\n"
            "How long a new link can be paid. After that the customer needs a new link. "
            "<code>exp:2h</code> in /pay sets it for one link.\n\n"
            "Now: {value}"
        ),
        "settings_above_explain": (
            "🔍 <b>Large amounts</b>\n"
            "Above this amount I show it in words and ask before making the link, to catch an "
            "extra zero. At most {max}, the most one link may ask for.\n\n"
            "Now: {value}"
        ),
        "settings_below_explain": (
            "🔍 <b>Small amounts</b>\n"
            "Below this amount I ask before making the link, to catch a missing zero or "
            "“rb”. It stays below the large-amount threshold.\n\n"
            "Now: {value}"
        ),
        "settings_timezone_explain": (
            "🕒 <b>Time zone</b>\n"
            "The times on cards and payments, and when a day starts for /today and /export."
            "\n\nNow: {value}"
        ),
        "settings_channels_explain": (
            "💳 <b>Payment channels</b>\n"
            "What customers can pay with on the payment page. Tick the ones to offer, then "
            "tap Done. Only channels active on your Xendit account work; “All channels” "
            "offers every one it has.\n\n"
            "Now: {value}"
        ),
        "settings_announce_explain": (
            "📣 <b>Where payments are announced</b>\n"
            "The member who made the link hears it in the chat where they made it; the "
            "shop's group hears it there, for the whole team.\n"
            "{group_note}\n\n"
            "Now: {value}"
        ),
        "settings_group_connected": "The shop's group is connected.",
        "settings_group_none": (
            "No group is connected yet (an owner sends /connect in the group). Until one is, "
            "“the shop's group” means the chat the link was made in."
        ),
        "settings_announce_member": "The member who made the link",
        "settings_announce_group": "The shop's group",
        "settings_announce_both": "Both",
        "settings_group_qr": "QR codes",
        "settings_group_ewallet": "E-wallets",
        "settings_group_va": "Virtual accounts (bank transfer)",
        "settings_group_dd": "Direct debit",
        "settings_group_cards": "Cards",
        "settings_group_retail": "Retail outlets",
        "settings_group_paylater": "Pay later",
        "settings_refused": "That setting can't be saved. Nothing changed.",
        "settings_name_empty": (
            "The name can't be empty. Nothing changed: tap Name in /settings to try again."
        ),
        "settings_name_too_long": (
            "That name has {length} characters; a shop's name can have at most {max}. "
            "Nothing changed: tap Name in /settings to try again."
        ),
        "settings_name_one_line": (
            "The name must be one line, without special characters. Nothing changed: tap "
            "Name in /settings to try again."
        ),
        "settings_expiry_range": "A link can expire after 15 minutes to 30 days. Nothing changed.",
        "settings_threshold_too_large": (
            "That is more than one link may ask for, so I would never ask. Nothing changed."
        ),
        "settings_thresholds_cross": (
            "The small-amount threshold must stay below the large-amount one. Nothing changed."
        ),
        "settings_not_a_choice": (
            "That choice isn't offered for this shop (an old button?). Nothing changed."
        ),
        "settings_no_channels": "Tick at least one channel, or choose “All channels”.",
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
            "/team: tim Anda · /invite: undang orang (pemilik)\n"
            "/settings: pengaturan toko · /connect di grup: grup toko (pemilik)\n"
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
        "customer_message_shop": (
            "Halo dari {shop}! Silakan bayar {amount} untuk {description} di sini: {url}"
        ),
        "customer_message_shop_plain": "Halo dari {shop}! Silakan bayar {amount} di sini: {url}",
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
        "waiting_for_claim": (
            "Bot ini menunggu diklaim oleh orang yang menjalankannya. Link klaim ada di log "
            "bot, atau dicetak dengan <code>python -m bot claim</code>, lalu dibuka di sini. "
            "Setelah itu mereka bisa mengundang Anda."
        ),
        "role_owner": "pemilik",
        "role_staff": "staf",
        "claimed_owner": (
            "🎉 <b>Sekarang Anda pemilik {shop}.</b>\n\n"
            "Buat link pembayaran dengan <code>/pay 150000 kopi susu</code>.\n"
            "Undang tim Anda dengan /invite (staf) atau <code>/invite owner</code> (sesama "
            "pemilik): setiap undangan adalah link yang berlaku sekali. /team menampilkan tim "
            "Anda dan /settings pengaturan toko. /help berisi semua perintah."
        ),
        "joined_staff": (
            "👋 <b>Selamat datang di {shop}!</b> Anda bergabung sebagai staf.\n\n"
            "Yang bisa Anda lakukan sekarang:\n"
            "<code>/pay 150000 kopi susu</code>: buat link pembayaran\n"
            "/links dan /unpaid: link Anda sendiri\n"
            "/status <code>REF</code>, /cancel <code>REF</code>: salah satu link Anda\n"
            "/today: pemasukan link Anda hari ini\n"
            "/help berisi semua perintah."
        ),
        "joined_owner": (
            "👋 <b>Selamat datang di {shop}!</b> Anda bergabung sebagai pemilik.\n\n"
            "Buat link pembayaran dengan <code>/pay 150000 kopi susu</code>. Anda melihat "
            "semua link toko (/links, /today, /export), tim (/team, /invite) dan pengaturan "
            "toko (/settings). /help berisi semua perintah."
        ),
        "member_joined": "👤 {name} bergabung dengan {shop} sebagai {role}.",
        "already_member": (
            "Anda sudah ada di {shop} sebagai {role}. /help menampilkan yang bisa Anda lakukan."
        ),
        "invite_expired": (
            "⌛ Undangan ini sudah kedaluwarsa: undangan berlaku 24 jam. Minta undangan baru "
            "kepada pemilik toko."
        ),
        "invite_used": (
            "Undangan ini sudah dipakai: setiap undangan berlaku sekali. Minta undangan baru "
            "kepada pemilik toko."
        ),
        "invite_unknown": (
            "Saya tidak mengenal link undangan ini. Periksa apakah linknya tersalin utuh, atau "
            "minta undangan baru kepada pemilik toko."
        ),
        "shop_claimed": (
            "{shop} sudah diklaim: toko ini sudah punya pemilik. Untuk bergabung, minta link "
            "undangan kepada mereka."
        ),
        "invite_usage": (
            "Kirim /invite untuk mengundang staf, atau <code>/invite owner</code> untuk "
            "mengundang sesama pemilik."
        ),
        "invite_private": (
            "Mohon kirim /invite di chat pribadi dengan saya: siapa pun yang melihat link "
            "undangan bisa memakainya."
        ),
        "invite_link": (
            "✉️ <b>Undangan ke {shop}</b>, sebagai {role}:\n\n"
            "{link}\n\n"
            "Berlaku sekali, sampai {expires}. Kirim ke satu orang yang Anda maksud: begitu "
            "dibuka, ia masuk ke tim."
        ),
        "invite_share_text": "Bergabunglah dengan {shop} untuk menerima pembayaran bersama saya",
        "button_share_invite": "Kirim undangan",
        "team_title": "👥 <b>Tim {shop}</b>\nDibayar hari ini, {day}:",
        "team_line": "{icon} {name}{you} · {role}: {count} dibayar · {total}",
        "team_you": " (Anda)",
        "team_hint": (
            "Tambah orang dengan /invite atau <code>/invite owner</code>. Link anggota yang "
            "dikeluarkan tetap milik toko."
        ),
        "button_make_owner": "Jadikan {name} pemilik",
        "button_make_staff": "Jadikan {name} staf",
        "button_remove": "Keluarkan {name}",
        "team_confirm_remove": (
            "Keluarkan <b>{name}</b> dari {shop}? Ia tidak bisa lagi membuat atau mengelola "
            "link. Linknya tetap milik toko."
        ),
        "button_remove_yes": "Ya, keluarkan",
        "button_keep": "Tidak",
        "team_last_owner": (
            "Toko perlu setidaknya satu pemilik: jadikan orang lain pemilik terlebih dahulu."
        ),
        "team_not_member": "Orang itu sudah tidak ada di tim.",
        "team_removed": "{name} sudah dikeluarkan dari tim.",
        "team_role_changed": "{name} sekarang {role}.",
        "you_were_removed": (
            "Anda dikeluarkan dari {shop}. Link Anda tetap milik toko. Untuk kembali, minta "
            "undangan baru kepada pemilik."
        ),
        "you_left": "Anda keluar dari {shop}.",
        "you_are_owner_now": (
            "👑 Sekarang Anda pemilik {shop}: Anda melihat semua link toko, dan bisa memakai "
            "/team, /invite dan /settings."
        ),
        "you_are_staff_now": (
            "Sekarang Anda staf di {shop}: Anda membuat link dan melihat link Anda sendiri "
            "(/links, /today)."
        ),
        "today_members": "<b>Per anggota</b>",
        "today_member_line": "• {name}: {count} · {total}",
        "cmd_invite": "Undang orang ke tim (pemilik)",
        "cmd_team": "Tim dan pemasukan masing-masing hari ini (pemilik)",
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
        "cmd_settings": "Pengaturan toko (pemilik)",
        "settings": (
            "⚙️ <b>Pengaturan {name}</b>\n\n"
            "Nama: <b>{name}</b>\n"
            "Link berlaku selama: {expiry}\n"
            "Minta cek jumlah di atas: {above}\n"
            "Minta cek jumlah di bawah: {below}\n"
            "Zona waktu: {timezone}\n"
            "Channel pembayaran: {channels}\n"
            "Pembayaran diumumkan ke: {announce}\n\n"
            "Ketuk pengaturan untuk mengubahnya. Perubahan berlaku mulai link berikutnya."
        ),
        "settings_saved": "✅ Tersimpan.",
        "settings_off": "tidak pernah (mati)",
        "settings_all_channels": "semua yang dimiliki akun Xendit Anda",
        "settings_minutes": "{n} menit",
        "settings_one_hour": "1 jam",
        "settings_hours": "{n} jam",
        "settings_days": "{n} hari",
        "settings_button_name": "Nama",
        "settings_button_expiry": "Masa berlaku link",
        "settings_button_above": "Jumlah besar",
        "settings_button_below": "Jumlah kecil",
        "settings_button_timezone": "Zona waktu",
        "settings_button_channels": "Channel pembayaran",
        "settings_button_announce": "Pengumuman",
        "settings_button_back": "◀ Kembali",
        "settings_button_off": "Mati: jangan tanya",
        "settings_button_all": "Semua channel",
        "settings_button_clear": "Kosongkan",
        "settings_button_done": "Selesai",
        "settings_name_prompt": (
            "Kirim nama baru toko sebagai balasan pesan ini (maksimal 64 karakter). "
            "Pelanggan melihatnya di halaman pembayaran dan di pesan yang Anda bagikan."
        ),
        "settings_name_placeholder": "Nama toko",
        "settings_expiry_explain": (
            "⏱ <b>Masa berlaku link</b>\n"
            "Berapa lama link baru bisa dibayar. Setelah itu pelanggan perlu link baru. "
            "<code>exp:2h</code> di /pay mengaturnya untuk satu link.\n\n"
            "Sekarang: {value}"
        ),
        "settings_above_explain": (
            "🔍 <b>Jumlah besar</b>\n"
            "Di atas jumlah ini saya tulis jumlahnya dengan kata dan bertanya dulu sebelum "
            "membuat link, agar nol berlebih ketahuan. Maksimal {max}, batas satu link.\n\n"
            "Sekarang: {value}"
        ),
        "settings_below_explain": (
            "🔍 <b>Jumlah kecil</b>\n"
            "Di bawah jumlah ini saya bertanya dulu sebelum membuat link, agar nol atau "
            "“rb” yang terlewat ketahuan. Harus di bawah batas jumlah besar.\n\n"
            "Sekarang: {value}"
        ),
        "settings_timezone_explain": (
            "🕒 <b>Zona waktu</b>\n"
            "Waktu di kartu dan pembayaran, dan kapan hari dimulai untuk /today dan /export."
            "\n\nSekarang: {value}"
        ),
        "settings_channels_explain": (
            "💳 <b>Channel pembayaran</b>\n"
            "Cara bayar yang bisa dipilih pelanggan di halaman pembayaran. Centang yang "
            "ditawarkan, lalu ketuk Selesai. Hanya channel yang aktif di akun Xendit Anda yang "
            "berfungsi; “Semua channel” menawarkan semuanya.\n\n"
            "Sekarang: {value}"
        ),
        "settings_announce_explain": (
            "📣 <b>Ke mana pembayaran diumumkan</b>\n"
            "Anggota yang membuat link mendapat kabar di chat tempat link dibuat; grup toko "
            "mendapat kabar di grup, untuk seluruh tim.\n"
            "{group_note}\n\n"
            "Sekarang: {value}"
        ),
        "settings_group_connected": "Grup toko sudah terhubung.",
        "settings_group_none": (
            "Belum ada grup yang terhubung (pemilik mengirim /connect di grup). Sampai ada, "
            "“grup toko” berarti chat tempat link dibuat."
        ),
        "settings_announce_member": "Anggota yang membuat link",
        "settings_announce_group": "Grup toko",
        "settings_announce_both": "Keduanya",
        "settings_group_qr": "Kode QR",
        "settings_group_ewallet": "E-wallet",
        "settings_group_va": "Virtual account (transfer bank)",
        "settings_group_dd": "Direct debit",
        "settings_group_cards": "Kartu",
        "settings_group_retail": "Gerai retail",
        "settings_group_paylater": "Paylater",
        "settings_refused": "Pengaturan itu tidak bisa disimpan. Tidak ada yang berubah.",
        "settings_name_empty": (
            "Nama tidak boleh kosong. Tidak ada yang berubah: ketuk Nama di /settings untuk "
            "mencoba lagi."
        ),
        "settings_name_too_long": (
            "Nama itu {length} karakter; nama toko maksimal {max} karakter. Tidak ada yang "
            "berubah: ketuk Nama di /settings untuk mencoba lagi."
        ),
        "settings_name_one_line": (
            "Nama harus satu baris, tanpa karakter khusus. Tidak ada yang berubah: ketuk Nama "
            "di /settings untuk mencoba lagi."
        ),
        "settings_expiry_range": (
            "Link bisa berlaku 15 menit sampai 30 hari. Tidak ada yang berubah."
        ),
        "settings_threshold_too_large": (
            "Itu melebihi batas satu link, jadi saya tidak akan pernah bertanya. Tidak ada "
            "yang berubah."
        ),
        "settings_thresholds_cross": (
            "Batas jumlah kecil harus di bawah batas jumlah besar. Tidak ada yang berubah."
        ),
        "settings_not_a_choice": (
            "Pilihan itu tidak tersedia untuk toko ini (tombol lama?). Tidak ada yang berubah."
        ),
        "settings_no_channels": "Centang minimal satu channel, atau pilih “Semua channel”.",
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
