"""The merchant's experience end to end: the card, its buttons, managing links, language."""

from __future__ import annotations

import csv
import io
import logging
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest

from bot.app import Paybot
from storage import LinkStatus
from tests.conftest import MERCHANT, STRANGER, StartBot, handled
from tests.fakes import FakeTelegram, FakeXendit
from tests.fakes.telegram import Sent, StoredMessage
from tests.helpers import Store
from tests.test_core_flow import say


def repo_of(app: Paybot) -> Store:
    assert app.db is not None
    return Store(app.db)


def ref_of(card: Sent | StoredMessage) -> str:
    assert card.text is not None
    return card.text.split("Ref: <code>")[1][:8]


def session_id_of(xendit: FakeXendit) -> str:
    return str(
        xendit.session_by_reference(xendit.created()[-1]["reference_id"])["payment_session_id"]
    )


async def press(
    tg: FakeTelegram, message: Sent | StoredMessage, data: str, *, user_id: int = MERCHANT
) -> str:
    """Press an inline button; wait until the bot answered the callback and is done with it."""
    callback_id = tg.push_callback(message.chat_id, message.message_id, data, user_id=user_id)
    await tg.wait_for(lambda: callback_id in tg.answered_callbacks)
    await handled()
    return callback_id


async def card_becomes(
    tg: FakeTelegram, card: Sent, contains: str, within: float = 5.0
) -> StoredMessage:
    def edited() -> StoredMessage | None:
        current = tg.chat_message(card.chat_id, card.message_id)
        return current if current and current.text and contains in current.text else None

    return await tg.wait_for(edited, timeout=within)


def labels(tg: FakeTelegram, message: Sent | StoredMessage) -> list[str]:
    return [b.text for b in tg.buttons(message)]


# -- the card --------------------------------------------------------------------------------


async def test_the_card_has_every_button_a_merchant_needs(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    card = await say(tg, "/pay 150rb kopi susu")
    session = xendit.session_by_reference(xendit.created()[-1]["reference_id"])
    ref = ref_of(card)
    assert card.text is not None
    assert "Payment link: Rp150.000" in card.text
    assert "waiting" in card.text
    buttons = {b.text: b for b in tg.buttons(card)}
    assert buttons["Open payment page"].url == session["payment_link_url"]
    assert buttons["QR code"].callback_data == f"qr:{ref}"
    assert buttons["Share in Telegram"].switch_inline_query == ref
    assert buttons["Cancel link"].callback_data == f"cancel:{ref}"
    whatsapp = urlparse(buttons["Share on WhatsApp"].url or "")
    assert (whatsapp.scheme, whatsapp.netloc, whatsapp.path) == ("https", "wa.me", "/")
    [text] = parse_qs(whatsapp.query)["text"]
    url = session["payment_link_url"]
    assert text == f"Hello from PayBot! Please pay Rp150.000 for kopi susu here: {url}"


async def test_paid_rings_the_phone_and_the_card_edits_itself(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    card = await say(tg, "/pay 150000 kopi susu")
    await xendit.complete(session_id_of(xendit), channel_code="DANA")
    paid = await tg.wait_message(MERCHANT, contains="PAID")
    assert paid.message_id != card.message_id  # a new message, so the phone notifies
    edited = await card_becomes(tg, card, "Paid: Rp150.000")
    assert edited.text is not None
    assert "via DANA" in edited.text
    assert "Paid at" in edited.text
    assert tg.buttons(edited) == []  # nothing left to press on a paid link


async def test_expired_card_offers_a_new_link_with_the_same_amount(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    card = await say(tg, "/pay 75.000 es teh")
    await xendit.expire(session_id_of(xendit))
    expired = await card_becomes(tg, card, "Expired, not paid: Rp75.000")
    assert labels(tg, expired) == ["New link, same amount"]
    mark = tg.mark()
    await press(tg, expired, f"reissue:{ref_of(card)}")
    fresh = await tg.wait_message(MERCHANT, contains="Payment link: Rp75.000", since=mark)
    assert fresh.text is not None
    assert "es teh" in fresh.text
    assert ref_of(fresh) != ref_of(card)
    bodies = xendit.created()
    assert len(bodies) == 2
    assert bodies[1]["amount"] == 75000
    assert bodies[1]["description"] == "es teh"
    assert bodies[1]["reference_id"] != bodies[0]["reference_id"]


async def test_qr_button_sends_a_png_for_the_counter(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    card = await say(tg, "/pay 25000 bakso")
    mark = tg.mark()
    await press(tg, card, f"qr:{ref_of(card)}")
    photo = await tg.wait_message(MERCHANT, method="sendPhoto", since=mark)
    assert photo.file is not None
    assert photo.file.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(photo.file) > 500
    assert photo.text is not None
    assert "Scan to pay <b>Rp25.000</b>" in photo.text
    assert "bakso" in photo.text


async def test_share_in_telegram_answers_the_inline_query_with_a_pay_button(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    import json

    card = await say(tg, "/pay 150000 kopi susu")
    url = xendit.session_by_reference(xendit.created()[-1]["reference_id"])["payment_link_url"]
    query_id = tg.push_inline_query(MERCHANT, ref_of(card))
    await tg.wait_for(lambda: query_id in tg.inline_answers)
    [result] = json.loads(tg.inline_answers[query_id]["results"])
    assert result["input_message_content"]["message_text"] == (
        f"Hello from PayBot! Please pay Rp150.000 for kopi susu here: {url}"
    )
    [[pay]] = result["reply_markup"]["inline_keyboard"]
    assert pay == {"text": "Pay Rp150.000", "url": url}
    # Nobody else can share the merchant's link.
    other = tg.push_inline_query(STRANGER, ref_of(card))
    await tg.wait_for(lambda: other in tg.inline_answers)
    assert json.loads(tg.inline_answers[other]["results"]) == []


async def test_cancel_button_cancels_at_xendit_and_the_card_says_so(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    card = await say(tg, "/pay 150000")
    sid = session_id_of(xendit)
    await press(tg, card, f"cancel:{ref_of(card)}")
    assert any(r.method == "POST" and r.path == f"/sessions/{sid}/cancel" for r in xendit.requests)
    assert xendit.sessions[sid]["status"] == "CANCELED"
    cancelled = await card_becomes(tg, card, "Cancelled: Rp150.000")
    assert labels(tg, cancelled) == ["New link, same amount"]
    link = await repo_of(paybot).get_link_by_session(sid)
    assert link is not None
    assert link.status is LinkStatus.CANCELED


async def test_cancel_too_late_shows_the_truth(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    card = await say(tg, "/pay 150000")
    sid = session_id_of(xendit)
    xendit.sessions[sid]["status"] = "COMPLETED"  # paid; its webhook is still on the way
    reply = await say(tg, f"/cancel {ref_of(card)}")
    assert reply.text is not None
    assert "Too late to cancel" in reply.text
    assert "already paid" in reply.text
    cancel = [r for r in xendit.requests if r.path == f"/sessions/{sid}/cancel"]
    assert [r.status for r in cancel] == [422]
    await tg.wait_message(MERCHANT, contains="PAID")
    await card_becomes(tg, card, "Paid: Rp150.000")


async def test_a_stranger_cannot_cancel(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    card = await say(tg, "/pay 150000")
    callback = await press(tg, card, f"cancel:{ref_of(card)}", user_id=STRANGER)
    assert "team only" in tg.answered_callbacks[callback]["text"]
    assert not any(r.path.endswith("/cancel") for r in xendit.requests)


# -- large amounts ---------------------------------------------------------------------------


async def test_a_large_amount_asks_first_in_words(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    card = await say(tg, "/pay 25jt laptop")
    assert card.text is not None
    assert "Make a link for Rp25.000.000?" in card.text
    assert "twenty-five million rupiah" in card.text
    assert labels(tg, card) == ["Yes, make the link", "No"]
    assert xendit.requests == []
    await press(tg, card, f"confirm:{ref_of(card)}")
    waiting = await card_becomes(tg, card, "Payment link: Rp25.000.000")
    assert labels(tg, waiting)[0] == "Open payment page"
    [body] = xendit.created()
    assert body["amount"] == 25_000_000
    assert body["description"] == "laptop"
    # A second tap changes nothing: still one session.
    await press(tg, card, f"confirm:{ref_of(card)}")
    assert len(xendit.created()) == 1


async def test_a_large_amount_can_be_dropped(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    card = await say(
        tg,
        "/pay 250000000",
    )
    assert card.text is not None
    assert "more than the" in card.text  # above the maximum: refused outright
    card = await say(tg, "/pay 12.000.000 motor")
    await press(tg, card, f"discard:{ref_of(card)}")
    dropped = await card_becomes(tg, card, "no link was made")
    assert tg.buttons(dropped) == []
    assert xendit.requests == []


async def test_confirmation_threshold_is_configurable(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await start_bot(confirm_above="100000")
    card = await say(tg, "/pay 150000")
    assert card.text is not None
    assert "Make a link for Rp150.000?" in card.text
    assert xendit.requests == []


# -- amounts and expiry ----------------------------------------------------------------------


async def test_shorthand_amounts_reach_xendit_exactly(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    for typed, expected in [("1,5jt", 1_500_000), ("150rb", 150_000), ("2k", 2_000)]:
        card = await say(tg, f"/pay {typed}")
        assert card.text is not None
        assert xendit.created()[-1]["amount"] == expected


async def test_link_expiry_default_and_per_link_override(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    def expiry_of_last() -> timedelta:
        body = xendit.created()[-1]
        expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
        return expires - datetime.now(UTC)

    await say(tg, "/pay 10000 teh")
    assert timedelta(hours=23, minutes=58) < expiry_of_last() <= timedelta(hours=24)
    card = await say(tg, "/pay 10000 teh manis exp:2h")
    assert timedelta(hours=1, minutes=58) < expiry_of_last() <= timedelta(hours=2)
    assert card.text is not None
    assert "teh manis" in card.text
    assert "exp:" not in xendit.created()[-1]["description"]
    bad = await say(tg, "/pay 10000 teh exp:5m")
    assert bad.text is not None
    assert "is not an expiry I understand" in bad.text
    assert len(xendit.created()) == 2


# -- managing links --------------------------------------------------------------------------


async def test_links_are_paged_newest_first(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    for n in range(7):
        await say(tg, f"/pay {10_000 + n}")
    first = await say(tg, "/links")
    assert first.text is not None
    assert "Your links</b> (7)" in first.text
    assert first.text.index("Rp10.006") < first.text.index("Rp10.002")
    assert "Rp10.001" not in first.text
    assert labels(tg, first) == ["Older ▶"]
    await press(tg, first, "links:a:5")
    second = await card_becomes(tg, first, "Rp10.000")
    assert "Rp10.001" in (second.text or "")
    assert "Rp10.006" not in (second.text or "")
    assert labels(tg, second) == ["◀ Newer"]


async def test_unpaid_lists_only_waiting_links(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await say(tg, "/pay 11000 paid one")
    await xendit.complete(session_id_of(xendit))
    await tg.wait_message(MERCHANT, contains="PAID")
    await say(tg, "/pay 22000 still waiting")
    unpaid = await say(tg, "/unpaid")
    assert unpaid.text is not None
    assert "Waiting for payment</b> (1)" in unpaid.text
    assert "Rp22.000" in unpaid.text
    assert "Rp11.000" not in unpaid.text


async def test_status_refreshes_from_xendit(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    card = await say(tg, "/pay 150000 kopi")
    xendit.sessions[session_id_of(xendit)]["status"] = "EXPIRED"  # no webhook came
    mark = tg.mark()
    tg.push_message(MERCHANT, f"/status {ref_of(card).lower()}")
    status = await tg.wait_message(MERCHANT, contains="Expired, not paid: Rp150.000", since=mark)
    assert tg.buttons(status)[0].text == "New link, same amount"  # the fresh card
    # It was applied as a webhook would be: the short "expired" message too, and the old card.
    await tg.wait_message(MERCHANT, contains="The link expired at", since=mark)
    moved = await card_becomes(tg, card, "is further down")
    assert tg.buttons(moved) == []
    missing = await say(tg, "/status NOPE1234")
    assert missing.text is not None
    assert "can't find a link with reference <code>NOPE1234</code>" in missing.text
    usage = await say(tg, "/status")
    assert "/status K7F3QX9A" in (usage.text or "")


async def test_a_problem_is_answered_and_logged_without_a_traceback(
    paybot: Paybot, tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    """What the user got wrong is no fault of the bot: told to them, noted in one line."""
    with caplog.at_level(logging.INFO, logger="bot.telegram.handlers"):
        missing = await say(tg, "/cancel <b>NOPE</b>")
    assert "can't find a link with reference <code>&lt;b&gt;NOPE&lt;/b&gt;</code>" in (
        missing.text or ""
    )
    noted = [r for r in caplog.records if r.name == "bot.telegram.handlers"]
    assert [(r.levelno, r.exc_info) for r in noted] == [(logging.INFO, None)]
    assert "LinkNotFound" in noted[0].getMessage()


async def test_today_counts_what_was_paid_and_what_waits(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await say(tg, "/pay 150000 kopi")
    await xendit.complete(session_id_of(xendit))
    await tg.wait_message(MERCHANT, contains="PAID")
    await say(tg, "/pay 50000 roti")
    await say(tg, "/pay 25000 teh")
    today = await say(tg, "/today")
    assert today.text is not None
    assert "Paid: <b>1</b> · Rp150.000" in today.text
    assert "Still waiting: 2 · Rp75.000" in today.text


async def test_export_sends_a_csv_document(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await say(tg, "/pay 150000 kopi, susu")
    await xendit.complete(session_id_of(xendit), channel_code="OVO")
    await tg.wait_message(MERCHANT, contains="PAID")
    await say(tg, "/pay 20000")
    mark = tg.mark()
    tg.push_message(MERCHANT, "/export")
    document = await tg.wait_message(MERCHANT, method="sendDocument", since=mark)
    assert document.filename is not None
    # This month so far: a clean name, and a caption that is one sentence of its own.
    assert re.fullmatch(r"paybot-\d{4}-\d\d-01-to-\d{4}-\d\d-\d\d\.csv", document.filename)
    assert re.fullmatch(
        r"Your links and payments from \d{4}-\d\d-01 to \d{4}-\d\d-\d\d: 2 in total\.",
        document.text or "",
    )
    assert document.file is not None
    rows = list(csv.DictReader(io.StringIO(document.file.decode("utf-8-sig"))))
    assert [r["amount"] for r in rows] == ["150000", "20000"]
    assert rows[0]["status"] == "COMPLETED"
    assert rows[0]["description"] == "kopi, susu"
    assert rows[0]["channel"] == "OVO"
    assert rows[1]["status"] == "ACTIVE"
    mark = tg.mark()
    tg.push_message(MERCHANT, "/export 2000-01-01 2100-12-31", language_code="id")
    document = await tg.wait_message(MERCHANT, method="sendDocument", since=mark)
    assert document.filename == "paybot-2000-01-01-to-2100-12-31.csv"
    assert document.text == (
        "Link dan pembayaran Anda dari 2000-01-01 sampai 2100-12-31: total 2 link."
    )
    bad = await say(tg, "/export yesterday")
    assert "/export [from] [to]" in (bad.text or "")
    empty = await say(tg, "/export 2020-01-01 2020-01-31")
    assert "No links between 2020-01-01 and 2020-01-31" in (empty.text or "")


async def test_management_commands_refuse_strangers(paybot: Paybot, tg: FakeTelegram) -> None:
    for command in ("/links", "/unpaid", "/today", "/export", "/status ABC", "/cancel ABC"):
        reply = await say(tg, command, chat_id=STRANGER)
        assert "team only" in (reply.text or ""), command


# -- language --------------------------------------------------------------------------------


async def test_language_is_chosen_and_remembered(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    prompt = await say(tg, "/language")
    assert labels(tg, prompt) == ["English", "Bahasa Indonesia"]
    await press(tg, prompt, "lang:id")
    await card_becomes(tg, prompt, "Bahasa Indonesia")
    card = await say(tg, "/pay 150000 kopi")  # Telegram still says "en"
    assert card.text is not None
    assert "Link pembayaran: Rp150.000" in card.text
    assert labels(tg, card)[0] == "Buka halaman pembayaran"
    await xendit.complete(session_id_of(xendit))
    paid = await tg.wait_message(MERCHANT, contains="LUNAS")
    assert "Dibayar" in (paid.text or "")
    assert xendit.created()[-1]["locale"] == "id"


async def test_indonesian_users_get_indonesian_from_the_start(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    card = await say(tg, "/pay 150rb", language_code="id")
    assert "Link pembayaran" in (card.text or "")
    assert "Kode QR" in labels(tg, card)
