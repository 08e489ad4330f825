"""Only the shop acts on the shop's links: one access guard for every kind of update."""

from __future__ import annotations

import json

from bot.app import Paybot
from storage import LinkStatus
from tests.conftest import MERCHANT, STRANGER
from tests.fakes import FakeTelegram, FakeXendit
from tests.fakes.telegram import Sent
from tests.test_core_flow import repo_of, say
from tests.test_merchant import press, ref_of

GROUP = -4001  # a group where MERCHANT takes payments and STRANGER is a member


def refused(tg: FakeTelegram, callback_id: str) -> bool:
    answer = tg.answered_callbacks[callback_id]
    return "team only" in answer.get("text", "") and answer.get("show_alert") == "true"


def edits_of(tg: FakeTelegram, message: Sent) -> int:
    stored = tg.chat_message(message.chat_id, message.message_id)
    assert stored is not None
    return stored.edit_count


async def test_a_stranger_in_the_group_cannot_touch_the_merchants_card(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await repo_of(paybot).connect(GROUP)
    card = await say(tg, "/pay 150000 kopi susu", chat_id=GROUP, user_id=MERCHANT)
    ref = ref_of(card)
    mark = tg.mark()
    for data in (f"cancel:{ref}", f"qr:{ref}", f"reissue:{ref}", "links:a:0", "links:u:0"):
        callback = await press(tg, card, data, user_id=STRANGER)
        assert refused(tg, callback), (data, tg.answered_callbacks[callback])
    assert tg.outbox[mark:] == []  # no QR, no new card, no list of links, no edit
    # Commands: a refusal that shows nothing of the shop.
    commands = (
        "/links",
        "/unpaid",
        f"/cancel {ref}",
        f"/status {ref}",
        "/today",
        "/export",
        "/pay 5000",
        f"/links@{tg.bot_username}",
    )
    for command in commands:
        reply = await say(tg, command, chat_id=GROUP, user_id=STRANGER)
        assert "team only" in (reply.text or ""), command
        assert ref not in (reply.text or ""), command
        assert "150.000" not in (reply.text or ""), command
        assert tg.buttons(reply) == []
    # Inline mode: nothing to share.
    for text in (ref, ""):
        query_id = tg.push_inline_query(STRANGER, text)
        await tg.wait_for(lambda q=query_id: q in tg.inline_answers)  # type: ignore[misc]
        assert json.loads(tg.inline_answers[query_id]["results"]) == []
    # A command for another bot in the group is not ours to answer; /start stays open (it
    # says how to join).
    mark = tg.mark()
    tg.push_message(GROUP, "/links@some_other_bot", user_id=STRANGER)
    start = await say(tg, "/start", chat_id=GROUP, user_id=STRANGER)
    assert "ask the shop's owner for an invite link" in (start.text or "")
    assert tg.outbox[mark:] == [start]

    assert edits_of(tg, card) == 0
    assert not any(r.path.endswith("/cancel") for r in xendit.requests)
    assert len(xendit.created()) == 1
    link = await repo_of(paybot).get_link_by_ref(ref)
    assert link is not None
    assert link.status is LinkStatus.ACTIVE


async def test_a_stranger_cannot_discard_or_confirm_the_merchants_draft(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await repo_of(paybot).connect(GROUP)
    draft = await say(tg, "/pay 25jt laptop", chat_id=GROUP, user_id=MERCHANT)
    assert "Make a link for Rp25.000.000?" in (draft.text or "")
    ref = ref_of(draft)
    mark = tg.mark()
    for data in (f"discard:{ref}", f"confirm:{ref}"):
        callback = await press(tg, draft, data, user_id=STRANGER)
        assert refused(tg, callback), data
    assert tg.outbox[mark:] == []
    assert edits_of(tg, draft) == 0
    assert xendit.requests == []
    link = await repo_of(paybot).get_link_by_ref(ref)
    assert link is not None
    assert link.status is LinkStatus.DRAFT
    # The merchant still can.
    await press(tg, draft, f"confirm:{ref}")
    assert len(xendit.created()) == 1


async def test_malformed_buttons_get_a_polite_answer(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    card = await say(tg, "/pay 150000 kopi susu")
    forged = (
        "lang:zz",
        "links:a:99999999999999999999",
        "links:x:0",
        "links:a:-1",
        "nonsense",
        "zap:ABC",
        "cancel:",
        "cancel:" + "A" * 60,
        "qr:abc def",
    )
    for data in forged:
        callback = await press(tg, card, data)
        text = tg.answered_callbacks[callback].get("text", "")
        assert "no longer valid" in text, (data, text)
    for data in forged[1:4]:  # a stranger's forged data is refused first
        callback = await press(tg, card, data, user_id=STRANGER)
        assert "team only" in tg.answered_callbacks[callback].get("text", "")
    assert edits_of(tg, card) == 0
    assert not any(r.path.endswith("/cancel") for r in xendit.requests)
    assert not [m for m in tg.messages(MERCHANT) if "went wrong" in (m.text or "")]
