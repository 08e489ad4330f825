"""Chats change; the links follow: supergroups, merchants who come back, edits, double taps."""

from __future__ import annotations

from bot.app import Paybot
from storage import LinkStatus, NotificationStatus
from tests.conftest import MERCHANT, STRANGER, handled
from tests.fakes import FakeTelegram, FakeXendit
from tests.fakes.telegram import Sent, StoredMessage
from tests.test_core_flow import make_link, repo_of, say
from tests.test_merchant import card_becomes, press, ref_of, session_id_of

GROUP = -4002
SUPERGROUP = -1_000_000_004_002


async def both_answered(tg: FakeTelegram, card: Sent | StoredMessage, data: str) -> None:
    """Two presses of the same button, back to back (a double tap)."""
    first = tg.push_callback(card.chat_id, card.message_id, data, user_id=MERCHANT)
    second = tg.push_callback(card.chat_id, card.message_id, data, user_id=MERCHANT)
    await tg.wait_for(lambda: {first, second} <= tg.answered_callbacks.keys())
    await handled()


def typed_message(tg: FakeTelegram, text: str) -> StoredMessage:
    [typed] = [m for m in tg.history(MERCHANT) if not m.from_bot and m.text == text]
    return typed


def went_wrong(tg: FakeTelegram, chat_id: int = MERCHANT) -> list[str]:
    texts = [m.text or "" for m in tg.messages(chat_id)]
    texts += [a.get("text", "") for a in tg.answered_callbacks.values()]
    return [t for t in texts if "went wrong" in t]


# -- a group becomes a supergroup ------------------------------------------------------------


async def test_a_group_that_becomes_a_supergroup_keeps_its_links(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await repo_of(paybot).connect(GROUP)
    card = await say(tg, "/pay 150000 kopi susu", chat_id=GROUP, user_id=MERCHANT)
    ref = ref_of(card)
    sid = session_id_of(xendit)
    # Whoever upgrades the group (here: not the merchant) sends both service messages.
    tg.push_chat_migration(GROUP, SUPERGROUP, user_id=STRANGER)
    await say(tg, "/start", chat_id=SUPERGROUP, user_id=MERCHANT)  # after them
    links = await say(tg, "/links", chat_id=SUPERGROUP, user_id=MERCHANT)
    assert "Your links</b> (1)" in (links.text or "")
    assert ref in (links.text or "")
    status = await say(tg, f"/cancel {ref}", chat_id=SUPERGROUP, user_id=MERCHANT)
    assert "is cancelled" in (status.text or "")
    link = await repo_of(paybot).get_link_by_session(sid)
    assert link is not None
    assert link.chat_id == SUPERGROUP
    assert link.status is LinkStatus.CANCELED
    assert link.card_message_id is None  # the card stayed in the old group
    assert (await repo_of(paybot).a_shop()).group_chat_id == SUPERGROUP  # still the shop's
    # Nothing was sent to the old id, and no message of the new chat was edited.
    assert not [c for c in tg.calls if c.params.get("chat_id") == str(GROUP) and c.status != 200]
    assert not [m for m in tg.outbox if m.chat_id == SUPERGROUP and m.method != "sendMessage"]


async def test_a_payment_announced_to_a_migrated_group_reaches_the_supergroup(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await repo_of(paybot).connect(GROUP)
    card = await say(tg, "/pay 150000 kopi susu", chat_id=GROUP, user_id=MERCHANT)
    sid = session_id_of(xendit)
    tg.migrated_chats[GROUP] = SUPERGROUP  # the bot never saw the service messages
    await xendit.complete(sid)
    paid = await tg.wait_message(SUPERGROUP, contains="PAID", timeout=10)
    assert ref_of(paid) == ref_of(card)
    assert any(c.status == 400 and c.params.get("chat_id") == str(GROUP) for c in tg.calls)
    repo = repo_of(paybot)
    assert paybot.worker is not None
    await paybot.worker.wait_idle()
    rows = {r.kind: r for r in await repo.notifications()}
    assert rows["PAID"].status == NotificationStatus.SENT
    assert rows["PAID"].chat_id == SUPERGROUP
    assert rows["CARD"].status == NotificationStatus.FAILED  # its card is in the old group
    link = await repo.get_link_by_session(sid)
    assert link is not None
    assert link.chat_id == SUPERGROUP
    assert [m.method for m in tg.outbox if m.chat_id == SUPERGROUP] == ["sendMessage"]
    links = await say(tg, "/links", chat_id=SUPERGROUP, user_id=MERCHANT)
    assert ref_of(card) in (links.text or "")
    assert (await repo.a_shop()).group_chat_id == SUPERGROUP  # the group stays the shop's


# -- a merchant who blocked the bot comes back -----------------------------------------------


async def test_a_merchant_who_blocked_the_bot_gets_missed_payments_on_return(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    _, sid = await make_link(tg, xendit)
    tg.blocked_chats.add(MERCHANT)
    await xendit.complete(sid)
    repo = repo_of(paybot)
    assert paybot.worker is not None
    await tg.wait_for(lambda: any(c.status == 403 for c in tg.calls), timeout=5)
    await paybot.worker.wait_idle()
    [failed] = [r for r in await repo.notifications() if r.kind == "PAID"]
    assert failed.status == NotificationStatus.FAILED
    assert not [m for m in tg.messages(MERCHANT) if "PAID" in (m.text or "")]
    # Unblocked; any update from the chat will do.
    tg.blocked_chats.discard(MERCHANT)
    mark = tg.mark()
    tg.push_message(MERCHANT, "hello again")
    paid = await tg.wait_message(MERCHANT, contains="PAID", since=mark, timeout=10)
    assert "Rp150.000" in (paid.text or "")
    await paybot.worker.wait_idle()
    [row] = [r for r in await repo.notifications() if r.kind == "PAID"]
    assert row.status == NotificationStatus.SENT
    # Once: another message sends nothing again.
    mark = tg.mark()
    await say(tg, "/help")
    await paybot.worker.wait_idle()
    assert [m for m in tg.outbox[mark:] if "PAID" in (m.text or "")] == []


# -- an edited /pay --------------------------------------------------------------------------


async def test_an_edited_pay_makes_no_second_link_and_says_why(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await say(tg, "/pay 150000 kopi susu")
    typed = typed_message(tg, "/pay 150000 kopi susu")
    mark = tg.mark()
    tg.push_edited_message(MERCHANT, typed.message_id, "/pay 200000 kopi susu")
    reply = await tg.wait_message(MERCHANT, since=mark)
    await handled()
    assert "doesn't change its link" in (reply.text or "")
    assert "/cancel" in (reply.text or "")
    assert len(xendit.created()) == 1
    assert tg.outbox[mark:] == [reply]
    # Any other edit does nothing at all.
    await say(tg, "/links")
    mark = tg.mark()
    tg.push_edited_message(MERCHANT, typed_message(tg, "/links").message_id, "/unpaid")
    help_ = await say(tg, "/help")  # a marker, answered after the edit was handled
    assert tg.outbox[mark:] == [help_]


# -- double taps -----------------------------------------------------------------------------


async def test_double_taps_on_card_buttons_act_once(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    xendit.delay = 0.2  # Xendit takes its time: the second tap comes while the first waits
    card = await say(tg, "/pay 150000 kopi susu")
    sid = session_id_of(xendit)
    await both_answered(tg, card, f"cancel:{ref_of(card)}")
    cancels = [r for r in xendit.requests if r.path == f"/sessions/{sid}/cancel"]
    assert len(cancels) == 1
    cancelled = await card_becomes(tg, card, "Cancelled: Rp150.000")
    mark = tg.mark()
    await both_answered(tg, cancelled, f"reissue:{ref_of(card)}")
    assert len(xendit.created()) == 2
    new_cards = [m for m in tg.outbox[mark:] if "Payment link: Rp150.000" in (m.text or "")]
    assert len(new_cards) == 1
    # Confirm and discard of large amounts too.
    draft = await say(tg, "/pay 25jt laptop")
    await both_answered(tg, draft, f"confirm:{ref_of(draft)}")
    assert len(xendit.created()) == 3
    await card_becomes(tg, draft, "Payment link: Rp25.000.000")
    other = await say(tg, "/pay 12jt motor")
    await both_answered(tg, other, f"discard:{ref_of(other)}")
    await card_becomes(tg, other, "no link was made")
    await press(tg, other, f"confirm:{ref_of(other)}")  # a stale tap on the discarded draft
    assert len(xendit.created()) == 3
    assert not went_wrong(tg)
