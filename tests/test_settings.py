"""/settings end to end: an owner changes a setting with a tap, and the NEXT link obeys it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from bot.app import Paybot
from bot.channels import CATALOGUE
from bot.shop_settings import (
    NAME_MAX,
    NameEmpty,
    NameNotOneLine,
    NameTooLong,
    NoChannels,
    NotAChoice,
    ThresholdsCross,
    ThresholdTooLarge,
    above_choices,
    below_choices,
    check_channels,
    check_thresholds,
    check_zone,
    clean_name,
)
from storage import Role, Shop
from storage.tables import links, outbox
from tests.conftest import MERCHANT, StartBot, handled
from tests.fakes import FakeTelegram, FakeXendit
from tests.fakes.telegram import Sent, StoredMessage
from tests.helpers import Store, eventually
from tests.test_core_flow import repo_of, say
from tests.test_customer_pages import PUBLIC, get_page, return_path
from tests.test_merchant import labels, press, ref_of, session_id_of

STAFF = 3003
GROUP = -4003


def current(tg: FakeTelegram, message: Sent | StoredMessage) -> StoredMessage:
    """The message as the user sees it now (after the bot's edits)."""
    shown = tg.chat_message(message.chat_id, message.message_id)
    assert shown is not None
    return shown


def ticked(tg: FakeTelegram, message: Sent | StoredMessage) -> list[str]:
    return [label for label in labels(tg, current(tg, message)) if label.startswith("✅")]


async def shop_of(app: Paybot) -> Shop:
    return await repo_of(app).a_shop()


async def choose(tg: FakeTelegram, menu: Sent, *data: str) -> dict[str, str]:
    """Tap each button in turn on the settings message; the last tap's callback answer."""
    answer_id = ""
    for each in data:
        answer_id = await press(tg, menu, each)
    return tg.answered_callbacks[answer_id]


# -- payment channels ----------------------------------------------------------------------------


async def test_chosen_channels_are_what_the_next_link_offers(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    menu = await say(tg, "/settings")
    assert menu.text is not None
    assert "Payment channels: all that your Xendit account has" in menu.text
    assert labels(tg, menu) == [
        "Name",
        "Link expiry",
        "Large amounts",
        "Small amounts",
        "Time zone",
        "Announcements",
        "Payment channels",
    ]
    # With every channel offered, every one is ticked; the keyboard explains itself.
    await press(tg, menu, "set:ch")
    channels = current(tg, menu)
    assert "What customers can pay with on the payment page" in (channels.text or "")
    assert "✅ QRIS" in ticked(tg, menu)
    assert "✅ E-wallets" in ticked(tg, menu)
    assert {"All channels", "Clear", "◀ Back", "Done"} <= set(labels(tg, channels))
    for button in tg.buttons(channels):
        assert len((button.callback_data or "").encode()) <= 64
    # QRIS only: clear, tick QRIS, Done.
    answer = await choose(tg, menu, "set:ch0", "set:ch:QRIS")
    assert ticked(tg, menu) == ["✅ QRIS"]
    answer = await choose(tg, menu, "set:chd")
    assert answer["text"] == "✅ Saved."
    assert "Payment channels: QRIS\n" in (current(tg, menu).text or "")
    assert (await shop_of(paybot)).payment_channels == ("QRIS",)
    await say(tg, "/pay 150000 kopi")
    assert xendit.created()[-1]["allowed_payment_channels"] == ["QRIS"]

    # A group's button ticks all of it: QRIS and the e-wallets.
    await choose(tg, menu, "set:ch", "set:cg:ewallet", "set:chd")
    wallets = ["QRIS", "DANA", "OVO", "SHOPEEPAY", "LINKAJA", "ASTRAPAY"]
    assert (await shop_of(paybot)).payment_channels == tuple(wallets)
    await say(tg, "/pay 150000 kopi")
    assert xendit.created()[-1]["allowed_payment_channels"] == wallets

    # None at all is refused, and nothing changes.
    answer = await choose(tg, menu, "set:ch", "set:ch0", "set:chd")
    assert answer["text"] == "Tick at least one channel, or choose “All channels”."
    assert answer["show_alert"] == "true"
    assert (await shop_of(paybot)).payment_channels == tuple(wallets)

    # All channels: the field is left out, so Xendit offers every channel the account has.
    answer = await choose(tg, menu, "set:cha")
    assert answer["text"] == "✅ Saved."
    assert (await shop_of(paybot)).payment_channels == ()
    await say(tg, "/pay 150000 kopi")
    assert "allowed_payment_channels" not in xendit.created()[-1]


# -- the shop's name -----------------------------------------------------------------------------


async def rename(tg: FakeTelegram, name: str, *, language: str = "en") -> Sent:
    """Tap Name in /settings and reply to the prompt with ``name``; the bot's answer."""
    menu = await say(tg, "/settings", language_code=language)
    mark = tg.mark()
    await press(tg, menu, "set:name")
    prompt = await tg.wait_message(MERCHANT, since=mark)
    assert prompt.reply_markup is not None
    assert prompt.reply_markup.get("force_reply") is True
    return await say(tg, name, reply_to=prompt.message_id, language_code=language)


async def test_the_new_name_is_on_the_next_links_page_and_share_texts(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    app = await start_bot(public_url=PUBLIC)
    saved = await rename(tg, "  Toko Sari & Rasa  ")
    assert saved.text is not None
    assert saved.text.startswith("✅ Saved.\n\n⚙️ <b>Settings of Toko Sari &amp; Rasa</b>")
    assert (await shop_of(app)).name == "Toko Sari & Rasa"

    card = await say(tg, "/pay 150000 kopi susu")
    url = xendit.session_by_reference(xendit.created()[-1]["reference_id"])["payment_link_url"]
    row = await repo_of(app).get_link_by_reference(xendit.created()[-1]["reference_id"])
    assert row is not None
    assert row.merchant_name == "Toko Sari & Rasa"
    # The customer's return page names the shop.
    status, page, _ = await get_page(app, return_path(xendit))
    assert status == 200
    assert "Toko Sari &amp; Rasa" in page
    # So do the texts shared with the customer: WhatsApp (plain) and Telegram (HTML).
    whatsapp = next(b for b in tg.buttons(card) if b.text == "Share on WhatsApp")
    [text] = parse_qs(urlparse(whatsapp.url or "").query)["text"]
    assert text == f"Hello from Toko Sari & Rasa! Please pay Rp150.000 for kopi susu here: {url}"
    query_id = tg.push_inline_query(MERCHANT, ref_of(card))
    await tg.wait_for(lambda: query_id in tg.inline_answers)
    [result] = json.loads(tg.inline_answers[query_id]["results"])
    assert result["input_message_content"]["message_text"] == (
        f"Hello from Toko Sari &amp; Rasa! Please pay Rp150.000 for kopi susu here: {url}"
    )

    # An Indonesian owner's prompt is recognised as well.
    saved = await rename(tg, "Warung Bu Sari", language="id")
    assert (saved.text or "").startswith("✅ Tersimpan.")
    assert (await shop_of(app)).name == "Warung Bu Sari"
    await say(tg, "/pay 20000", language_code="id")
    status, page, _ = await get_page(app, return_path(xendit))
    assert "Warung Bu Sari" in page


async def test_a_name_too_long_empty_or_on_two_lines_is_refused_and_nothing_changes(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    before = (await shop_of(paybot)).name
    refused = await rename(tg, "x" * 65)
    assert refused.text == (
        "That name has 65 characters; a shop's name can have at most 64. "
        "Nothing changed: tap Name in /settings to try again."
    )
    assert (await shop_of(paybot)).name == before
    # Exactly 64 is fine.
    await rename(tg, "y" * 64)
    assert (await shop_of(paybot)).name == "y" * 64
    # A reply to another message of the bot is no name: the usual hint.
    other = await say(tg, "hello", reply_to=refused.message_id)
    assert (other.text or "").startswith("To make a payment link, send")
    assert (await shop_of(paybot)).name == "y" * 64


def test_names_are_one_stripped_line_of_at_most_64_characters() -> None:
    assert clean_name("  Kopi Kenangan  ") == "Kopi Kenangan"
    assert clean_name("É" * NAME_MAX) == "É" * NAME_MAX
    with pytest.raises(NameTooLong) as too_long:
        clean_name("a" * 65)
    assert too_long.value.params == {"length": 65, "max": 64}
    for empty in ("", "   "):
        with pytest.raises(NameEmpty):
            clean_name(empty)
    for odd in ("Toko\nSari", "Toko\tSari", "Toko\x00"):
        with pytest.raises(NameNotOneLine):
            clean_name(odd)


# -- link expiry ---------------------------------------------------------------------------------


async def test_the_chosen_expiry_is_the_next_links_expiry(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    now = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    xendit.now = lambda: now  # Xendit's clock and ours agree
    await start_bot(clock=lambda: now)
    menu = await say(tg, "/settings")
    assert "Links expire after: 24 hours" in (menu.text or "")
    await press(tg, menu, "set:exp")
    assert labels(tg, current(tg, menu)) == [
        "1 hour",
        "6 hours",
        "✅ 24 hours",
        "3 days",
        "7 days",
        "◀ Back",
    ]
    answer = await choose(tg, menu, "set:exp:259200")
    assert answer["text"] == "✅ Saved."
    assert "Links expire after: 3 days" in (current(tg, menu).text or "")
    await say(tg, "/pay 150000 kopi")
    assert xendit.created()[-1]["expires_at"] == "2026-11-27T03:00:00Z"
    # Outside 15 minutes to 30 days (a forged button): refused.
    answer = await choose(tg, menu, "set:exp:600")
    assert answer["text"] == "A link can expire after 15 minutes to 30 days. Nothing changed."
    await say(tg, "/pay 150000 kopi")
    assert xendit.created()[-1]["expires_at"] == "2026-11-27T03:00:00Z"


# -- when /pay asks first --------------------------------------------------------------------------


async def is_asked(tg: FakeTelegram, amount: str) -> bool:
    """Whether ``/pay amount`` asks to confirm (a draft) instead of making the link."""
    reply = await say(tg, f"/pay {amount} barang")
    assert reply.text is not None
    return reply.text.startswith("❓")


async def test_thresholds_decide_which_amounts_the_next_pay_asks_about(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    menu = await say(tg, "/settings")
    assert "Ask to check amounts above: Rp10.000.000" in (menu.text or "")
    assert not await is_asked(tg, "7500000")
    await press(tg, menu, "set:above")
    assert labels(tg, current(tg, menu)) == [
        "Rp1.000.000",
        "Rp5.000.000",
        "✅ Rp10.000.000",
        "Rp25.000.000",
        "Rp50.000.000",
        "Off: never ask",
        "◀ Back",
    ]
    assert "At most Rp100.000.000" in (current(tg, menu).text or "")
    await choose(tg, menu, "set:above:5000000")
    assert (await shop_of(paybot)).confirm_above_minor == 5_000_000
    assert await is_asked(tg, "7500000")
    await choose(tg, menu, "set:above", "set:above:off")
    assert "Ask to check amounts above: never (off)" in (current(tg, menu).text or "")
    assert not await is_asked(tg, "60000000")
    # Above the most a link may ask for: refused (a forged button).
    answer = await choose(tg, menu, "set:above:200000000")
    assert answer["show_alert"] == "true"
    assert (await shop_of(paybot)).confirm_above_minor is None

    # Small amounts: 2.000 is fine until the threshold goes to 5.000; off asks nothing.
    assert not await is_asked(tg, "2000")
    await choose(tg, menu, "set:below", "set:below:5000")
    assert (await shop_of(paybot)).confirm_below_minor == 5_000
    assert await is_asked(tg, "2000")
    await choose(tg, menu, "set:below", "set:below:off")
    assert not await is_asked(tg, "500")
    # The small threshold stays below the large one.
    await choose(tg, menu, "set:above", "set:above:1000000")
    answer = await choose(tg, menu, "set:below:5000000")
    assert answer["text"] == (
        "The small-amount threshold must stay below the large-amount one. Nothing changed."
    )
    assert (await shop_of(paybot)).confirm_below_minor is None


def test_threshold_rules_and_choices() -> None:
    check_thresholds(10_000_000, 1_000, 100_000_000)
    check_thresholds(None, None, 100_000_000)
    with pytest.raises(ThresholdsCross):
        check_thresholds(1_000, 1_000, 100_000_000)
    with pytest.raises(ThresholdTooLarge):
        check_thresholds(100_000_001, None, 100_000_000)
    # Minor units: SGD has cents.
    assert above_choices("SGD", Decimal(100_000)) == (
        100_000,
        500_000,
        1_000_000,
        2_500_000,
        5_000_000,
    )
    assert below_choices("SGD", Decimal(100_000)) == (50, 100, 500, 1_000)
    # Never above the ceiling a deployment set.
    assert above_choices("IDR", Decimal(20_000_000)) == (1_000_000, 5_000_000, 10_000_000)


# -- time zone -------------------------------------------------------------------------------


async def test_the_cards_times_are_in_the_chosen_time_zone(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    menu = await say(tg, "/settings")
    await press(tg, menu, "set:tz")
    assert labels(tg, current(tg, menu)) == [
        "✅ WIB (UTC+7): Jakarta, Sumatra, Java, West/Central Kalimantan",
        "WITA (UTC+8): Bali, Nusa Tenggara, Sulawesi, East Kalimantan",
        "WIT (UTC+9): Maluku, Papua",
        "◀ Back",
    ]
    await choose(tg, menu, "set:tz:Asia/Makassar")
    assert "Time zone: WITA (UTC+8)" in (current(tg, menu).text or "")
    assert (await shop_of(paybot)).timezone == "Asia/Makassar"
    card = await say(tg, "/pay 150000 kopi")
    assert card.text is not None
    assert " WITA\n" in card.text  # Expires: 25 Nov 2026, 11:00 WITA
    # A zone of another country is not offered: refused.
    answer = await choose(tg, menu, "set:tz:Asia/Manila")
    assert answer["show_alert"] == "true"
    assert (await shop_of(paybot)).timezone == "Asia/Makassar"


def test_only_the_countrys_zones_and_channels_are_accepted() -> None:
    shop = Shop(
        id=1,
        name="Toko",
        currency="IDR",
        country="ID",
        timezone="Asia/Jakarta",
        link_expiry=timedelta(hours=24),
        confirm_above_minor=None,
        confirm_below_minor=None,
    )
    assert check_zone(shop, "Asia/Jayapura") == "Asia/Jayapura"
    with pytest.raises(NotAChoice):
        check_zone(shop, "Europe/Paris")
    assert check_channels(shop, ["OVO", "QRIS", "OVO"]) == ("QRIS", "OVO")
    assert check_channels(shop, [c.code for c in CATALOGUE["ID"]]) == ()  # all: no list
    with pytest.raises(NoChannels):
        check_channels(shop, [])
    with pytest.raises(NotAChoice):
        check_channels(shop, ["GCASH"])  # the Philippines'
    for country, channels in CATALOGUE.items():
        codes = [c.code for c in channels]
        assert len(codes) == len(set(codes)), country
        assert all(len(f"set:ch:{code}".encode()) <= 64 for code in codes)


# -- where payments are announced ------------------------------------------------------------------


async def paid_chats(store: Store, reference_id: str) -> list[int]:
    """The chats a link's PAID was queued for, once it was."""
    query = (
        select(outbox.c.chat_id)
        .select_from(outbox.join(links, links.c.id == outbox.c.link_id))
        .where(links.c.reference_id == reference_id, outbox.c.kind == "PAID")
    )
    return sorted(await store._db.read(lambda conn: list(conn.scalars(query))))


async def pay_a_link(tg: FakeTelegram, xendit: FakeXendit, store: Store) -> list[int]:
    await say(tg, "/pay 150000 kopi")
    reference = xendit.created()[-1]["reference_id"]
    await xendit.complete(session_id_of(xendit))

    async def queued() -> bool:
        return bool(await paid_chats(store, reference))

    await eventually(queued)
    return await paid_chats(store, reference)


async def test_payments_are_announced_where_the_owner_chose(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    store = repo_of(paybot)
    await store.connect(GROUP)
    menu = await say(tg, "/settings")
    assert "Payments announced to: Both" in (menu.text or "")
    await press(tg, menu, "set:ann")
    assert "The shop's group is connected." in (current(tg, menu).text or "")
    # The member who made the link only: not the group, though it is connected.
    await choose(tg, menu, "set:ann:member")
    mark = tg.mark()
    assert await pay_a_link(tg, xendit, store) == [MERCHANT]
    await tg.wait_message(MERCHANT, contains="PAID", since=mark)
    # The group only.
    await choose(tg, menu, "set:ann", "set:ann:group")
    mark = tg.mark()
    assert await pay_a_link(tg, xendit, store) == [GROUP]
    await tg.wait_message(GROUP, contains="PAID", since=mark)
    await choose(tg, menu, "set:ann", "set:ann:both")
    assert await pay_a_link(tg, xendit, store) == sorted([MERCHANT, GROUP])


async def test_without_a_group_the_choice_says_where_group_announcements_go(
    paybot: Paybot, tg: FakeTelegram
) -> None:
    menu = await say(tg, "/settings")
    await press(tg, menu, "set:ann")
    assert "No group is connected yet" in (current(tg, menu).text or "")
    assert labels(tg, current(tg, menu)) == [
        "✅ The member who made the link",
        "The shop's group",
        "Both",
        "◀ Back",
    ]
    await press(tg, menu, "set:menu")
    assert (current(tg, menu).text or "").startswith("⚙️ <b>Settings of PayBot</b>")


# -- owners only ---------------------------------------------------------------------------------


async def test_staff_can_neither_open_settings_nor_press_their_buttons(
    paybot: Paybot, tg: FakeTelegram
) -> None:
    store = repo_of(paybot)
    shop = await store.connect(GROUP)
    await store.add_member(shop.id, STAFF, role=Role.STAFF, name="Sari", source="invite")
    refused = await say(tg, "/settings", chat_id=STAFF)
    assert refused.text == "Only the shop's owners can do that."
    # In the shop's group, under an owner's /settings: every button refuses them.
    menu = await say(tg, "/settings", chat_id=GROUP, user_id=MERCHANT)
    for data in ("set:exp", "set:exp:3600", "set:ch:QRIS", "set:cha", "set:name"):
        callback = await press(tg, menu, data, user_id=STAFF)
        answer = tg.answered_callbacks[callback]
        assert answer["text"] == "Only the shop's owners can do that.", data
        assert answer["show_alert"] == "true"
    await handled()
    assert current(tg, menu).text == menu.text  # untouched
    after = await store.a_shop()
    assert (after.name, after.link_expiry, after.payment_channels) == (
        shop.name,
        shop.link_expiry,
        shop.payment_channels,
    )
