"""Amounts the way merchants type them, end to end: what they see and what Xendit receives."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import Paybot
from storage import Database, LinkStatus, NewLink
from tests.conftest import MERCHANT, StartBot, handled
from tests.fakes import FakeTelegram, FakeXendit
from tests.fakes.telegram import Sent
from tests.helpers import Store
from tests.test_core_flow import say
from tests.test_merchant import card_becomes, labels, press, ref_of, repo_of


def callbacks(tg: FakeTelegram, message: Sent) -> dict[str, str]:
    """Button label -> callback data."""
    return {b.text: b.callback_data or "" for b in tg.buttons(message)}


# -- every form the README and /help show -----------------------------------------------------


@pytest.mark.parametrize(
    ("command", "amount", "description"),
    [
        # /help's examples (i18n "usage")
        ("/pay 150000 kopi susu", 150_000, "kopi susu"),
        ("/pay 150rb", 150_000, None),
        ("/pay 1,5jt sepatu", 1_500_000, "sepatu"),
        ("/pay Rp25.000 nasi goreng", 25_000, "nasi goreng"),
        ("/pay Rp 150.000 kopi", 150_000, "kopi"),
        ("/pay 2 juta nasi", 2_000_000, "nasi"),
        # the README's list of forms, and its day at the counter
        ("/pay 150 000 es teh", 150_000, "es teh"),
        ("/pay 150 ribu kopi", 150_000, "kopi"),
        ("/pay 25.000,- kopi", 25_000, "kopi"),
        ("/pay IDR 50000 teh", 50_000, "teh"),
        ("/pay 150.000", 150_000, None),
        ("/pay 150,000", 150_000, None),
        ("/pay 150k", 150_000, None),
        ("/pay 1.5jt", 1_500_000, None),
        ("/pay 150rb kopi susu 10 gelas", 150_000, "kopi susu 10 gelas"),
        ("/pay 45000 nasi goreng", 45_000, "nasi goreng"),
        # the expiry word is not part of the description, wherever it stands
        ("/pay 2 juta nasi exp:2h", 2_000_000, "nasi"),
        ("/pay Rp 150.000 exp:3d kopi", 150_000, "kopi"),
    ],
)
async def test_every_documented_form_makes_a_link_for_exactly_that_amount(
    paybot: Paybot,
    tg: FakeTelegram,
    xendit: FakeXendit,
    command: str,
    amount: int,
    description: str | None,
) -> None:
    card = await say(tg, command)
    assert card.text is not None
    assert "Payment link:" in card.text, card.text
    assert labels(tg, card)[0] == "Open payment page"
    [body] = xendit.created()
    assert body["amount"] == amount
    assert body.get("description") == description


# -- large and small amounts ---------------------------------------------------------------------


async def test_a_large_amount_over_several_words_asks_in_words_then_makes_it(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    card = await say(tg, "/pay 25 juta catering kantor")
    assert card.text is not None
    assert "Make a link for Rp25.000.000?" in card.text
    assert "twenty-five million rupiah" in card.text
    assert "large amount" in card.text
    assert xendit.requests == []
    await press(tg, card, f"confirm:{ref_of(card)}")
    await card_becomes(tg, card, "Payment link: Rp25.000.000")
    [body] = xendit.created()
    assert (body["amount"], body["description"]) == (25_000_000, "catering kantor")


async def test_an_unusually_small_amount_asks_in_words_then_makes_it(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    card = await say(tg, "/pay 150 kopi")  # 150rb meant, most likely
    assert card.text is not None
    assert "Make a link for Rp150?" in card.text
    assert "one hundred fifty rupiah" in card.text
    assert "unusually small" in card.text
    assert "large" not in card.text
    assert labels(tg, card) == ["Yes, make the link", "No"]
    assert xendit.requests == []
    await press(tg, card, f"confirm:{ref_of(card)}")
    await card_becomes(tg, card, "Payment link: Rp150<")
    [body] = xendit.created()
    assert (body["amount"], body["description"]) == (150, "kopi")
    await press(tg, card, f"confirm:{ref_of(card)}")  # a second tap makes nothing
    assert len(xendit.created()) == 1


async def test_an_unusually_small_amount_can_be_dropped_and_is_explained_in_indonesian(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    card = await say(tg, "/pay 5 parkir", language_code="id")
    assert card.text is not None
    assert "Buat link untuk Rp5?" in card.text
    assert "lima rupiah" in card.text
    assert "Jumlahnya sangat kecil" in card.text
    pressed = tg.push_callback(
        card.chat_id, card.message_id, f"discard:{ref_of(card)}", language_code="id"
    )
    await tg.wait_for(lambda: pressed in tg.answered_callbacks)
    await handled()
    dropped = await card_becomes(tg, card, "link tidak dibuat")
    assert tg.buttons(dropped) == []
    assert xendit.requests == []


async def test_the_small_amount_threshold_is_configurable_and_can_be_off(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await start_bot(confirm_below="0")
    card = await say(tg, "/pay 500 parkir")
    assert card.text is not None
    assert "Payment link: Rp500" in card.text
    assert xendit.created()[-1]["amount"] == 500


async def test_a_small_amount_in_another_currency_uses_its_own_threshold(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await start_bot(default_currency="PHP")
    small = await say(tg, "/pay ₱ 15 candy")
    assert small.text is not None
    assert "unusually small" in small.text
    card = await say(tg, "/pay ₱ 150 halo-halo")
    assert card.text is not None
    assert "Payment link:" in card.text
    [body] = xendit.created()
    assert (body["amount"], body["currency"], body["description"]) == (150, "PHP", "halo-halo")


# -- two plausible readings: the merchant picks ---------------------------------------------------


@pytest.mark.parametrize(
    ("pick", "amount", "description", "shown"),
    [
        ("RM5.00 · 250 gram kopi", 5, "250 gram kopi", "Payment link: RM5.00"),
        ("RM5,250.00 · gram kopi", 5250, "gram kopi", "Payment link: RM5,250.00"),
    ],
)
async def test_an_ambiguous_split_asks_and_the_reading_pressed_is_made(
    start_bot: StartBot,
    tg: FakeTelegram,
    xendit: FakeXendit,
    pick: str,
    amount: int,
    description: str,
    shown: str,
) -> None:
    app = await start_bot(default_currency="MYR")
    question = await say(tg, "/pay 5 250 gram kopi exp:3d")
    assert question.text is not None
    assert "Which amount did you mean?" in question.text
    assert "five ringgit" in question.text
    assert "five thousand two hundred fifty ringgit" in question.text
    assert "for “250 gram kopi”" in question.text
    buttons = callbacks(tg, question)
    assert list(buttons) == ["RM5.00 · 250 gram kopi", "RM5,250.00 · gram kopi", "None of these"]
    assert all(data.startswith("confirm:") for data in list(buttons.values())[:2])
    assert xendit.requests == []

    await press(tg, question, buttons[pick])
    card = await card_becomes(tg, question, shown)
    assert labels(tg, card)[0] == "Open payment page"
    [body] = xendit.created()
    assert (body["amount"], body["currency"], body["description"]) == (amount, "MYR", description)
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert timedelta(days=2, hours=23) < expires - datetime.now(UTC) <= timedelta(days=3)

    # A late tap on the other reading makes nothing and leaves the card as it is.
    other = next(data for label, data in buttons.items() if label not in (pick, "None of these"))
    await press(tg, question, other)
    assert len(xendit.created()) == 1
    now = tg.chat_message(question.chat_id, question.message_id)
    assert now is not None
    assert now.text is not None
    assert shown in now.text
    statuses = sorted(link.status.value for link in await repo_of(app).links_for_chat(MERCHANT))
    assert statuses == ["ACTIVE", "CANCELED"]


async def test_none_of_these_discards_every_reading(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    app = await start_bot(default_currency="MYR")
    question = await say(tg, "/pay 1.500 kopi")  # RM1.50 or RM1,500.00
    buttons = callbacks(tg, question)
    assert list(buttons) == ["RM1.50 · kopi", "RM1,500.00 · kopi", "None of these"]
    await press(tg, question, buttons["None of these"])
    dropped = await card_becomes(tg, question, "no link was made")
    assert tg.buttons(dropped) == []
    await press(tg, question, buttons["RM1.50 · kopi"])  # too late: nothing
    assert xendit.requests == []
    links = await repo_of(app).links_for_chat(MERCHANT)
    assert [link.status for link in links] == [LinkStatus.CANCELED] * 2


async def test_two_readings_tapped_at_once_make_one_link(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    app = await start_bot(default_currency="MYR")
    question = await say(tg, "/pay 5 250 gram kopi")
    first, second = list(callbacks(tg, question).values())[:2]
    ids = [
        tg.push_callback(question.chat_id, question.message_id, data) for data in (first, second)
    ]
    await tg.wait_for(lambda: all(i in tg.answered_callbacks for i in ids))
    await handled()
    [body] = xendit.created()
    assert (body["amount"], body["description"]) in [(5, "250 gram kopi"), (5250, "gram kopi")]
    statuses = sorted(link.status.value for link in await repo_of(app).links_for_chat(MERCHANT))
    assert statuses == ["ACTIVE", "CANCELED"]


async def test_a_word_ambiguity_asks_with_a_button_per_reading(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await start_bot(max_amount="1000000000")
    question = await say(tg, "/pay 1m laptop")  # million, or Indonesian miliar?
    assert question.text is not None
    assert "one million rupiah" in question.text
    assert "one billion rupiah" in question.text
    buttons = callbacks(tg, question)
    assert list(buttons) == ["Rp1.000.000 · laptop", "Rp1.000.000.000 · laptop", "None of these"]
    # The question showed it in words: pressing a large reading makes it, no second question.
    await press(tg, question, buttons["Rp1.000.000.000 · laptop"])
    await card_becomes(tg, question, "Payment link: Rp1.000.000.000")
    [body] = xendit.created()
    assert (body["amount"], body["description"]) == (1_000_000_000, "laptop")


async def test_the_question_is_asked_in_indonesian(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await start_bot(default_currency="MYR")
    question = await say(tg, "/pay 5 250 gram kopi", language_code="id")
    assert question.text is not None
    assert "Jumlah mana yang Anda maksud?" in question.text
    assert "lima ringgit" in question.text
    assert labels(tg, question)[-1] == "Tidak ada yang benar"


async def test_a_long_description_keeps_the_question_within_telegrams_limits(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await start_bot(default_currency="MYR")
    description = "gram " + "kopi luwak asli " * 60  # 965 characters, under MAX_DESCRIPTION
    question = await say(tg, f"/pay 5 250 {description}")
    assert question.text is not None
    assert len(question.text) < 4096
    buttons = callbacks(tg, question)
    assert all(len(label) <= 64 for label in buttons)
    assert all(len(data.encode()) <= 64 for data in buttons.values())
    await press(tg, question, list(buttons.values())[1])
    await card_becomes(tg, question, "Payment link: RM5,250.00")
    assert xendit.created()[-1]["description"] == " ".join(description.split())


# -- the drafts of one question, in the repository ----------------------------------------------


async def _question(repo: Store, chat_id: int, card: int, amounts: list[int]) -> list[int]:
    ids = []
    for n, amount in enumerate(amounts):
        ref = f"Q{card:03d}{n:02d}X"[:8].ljust(8, "X")
        link = await repo.create_link(
            NewLink(
                ref,
                f"pb-{ref}",
                chat_id,
                chat_id,
                "en",
                amount,
                "IDR",
                None,
                draft=True,
                shop_id=(await repo.a_shop()).id,
            )
        )
        await repo.set_card_message(link.id, card)
        ids.append(link.id)
    return ids


async def _status(repo: Store, link_id: int) -> LinkStatus:
    link = await repo.get_link(link_id)
    assert link is not None
    return link.status


async def test_settling_one_draft_settles_its_question_once(database_url: str) -> None:
    db = await Database.connect(database_url)
    try:
        repo = Store(db)
        first, second = await _question(repo, MERCHANT, 7, [5_000, 5_250_000])
        elsewhere = await _question(repo, MERCHANT, 8, [9_000])  # another question: untouched
        assert sorted(await repo.settle_drafts(second, confirm=True)) == [first, second]
        assert await repo.settle_drafts(first, confirm=True) == []  # too late
        assert await repo.settle_drafts(second, confirm=False) == []
        statuses = {i: await _status(repo, i) for i in [first, second, *elsewhere]}
        assert statuses == {
            first: LinkStatus.CANCELED,
            second: LinkStatus.PENDING,
            elsewhere[0]: LinkStatus.DRAFT,
        }
        assert await repo.settle_drafts(elsewhere[0], confirm=False) == elsewhere
        assert await _status(repo, elsewhere[0]) is LinkStatus.CANCELED
    finally:
        await db.close()


async def test_readings_settled_at_the_same_moment_confirm_exactly_one(database_url: str) -> None:
    """Two taps on two readings, on one instance or two: whichever transaction comes second
    finds the question settled (on PostgreSQL the rows are locked in id order)."""
    db = await Database.connect(database_url)
    try:
        repo = Store(db)
        for card in range(20):
            ids = await _question(repo, MERCHANT, 100 + card, [5_000, 5_250_000, 7_000])
            results = await asyncio.gather(
                *(repo.settle_drafts(i, confirm=True) for i in reversed(ids))
            )
            assert sum(1 for moved in results if moved) == 1
            statuses = [await _status(repo, i) for i in ids]
            assert sorted(s.value for s in statuses) == ["CANCELED", "CANCELED", "PENDING"]
    finally:
        await db.close()
