"""Staff act on their own links only, through every command and button; owners on the whole
shop's; a removed member on nothing."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import pytest

from bot.app import Paybot
from storage import Link, LinkStatus, Role
from tests.conftest import MERCHANT, StartBot, handled
from tests.fakes import FakeTelegram, FakeXendit
from tests.fakes.telegram import Sent, StoredMessage
from tests.helpers import Store, eventually
from tests.test_core_flow import repo_of, say
from tests.test_merchant import ref_of, session_id_of

SARI, TONO = 3001, 3002
NAMES = {MERCHANT: "Budi", SARI: "Sari", TONO: "Tono"}
NOT_FOUND = "I can't find a link with reference"


async def as_(tg: FakeTelegram, user_id: int, text: str) -> Sent:
    """``user_id`` writes ``text`` in their private chat with the bot."""
    return await say(tg, text, chat_id=user_id, first_name=NAMES[user_id])


async def press_as(
    tg: FakeTelegram, user_id: int, message: Sent | StoredMessage, data: str
) -> dict[str, str]:
    """``user_id`` presses a button with ``data`` under ``message``; the bot's answer."""
    callback = tg.push_callback(
        message.chat_id, message.message_id, data, user_id=user_id, first_name=NAMES[user_id]
    )
    await tg.wait_for(lambda: callback in tg.answered_callbacks)
    await handled()
    return tg.answered_callbacks[callback]


async def inline_as(tg: FakeTelegram, user_id: int, query: str) -> list[dict[str, object]]:
    query_id = tg.push_inline_query(user_id, query, first_name=NAMES[user_id])
    await tg.wait_for(lambda: query_id in tg.inline_answers)
    await handled()
    results: list[dict[str, object]] = json.loads(tg.inline_answers[query_id]["results"])
    return results


@dataclass
class Links:
    """One member's links: a waiting one, a cancelled one and a draft (by reference)."""

    active: str
    active_amount: str
    closed: str
    closed_amount: str
    draft: str
    draft_amount: str

    @property
    def refs(self) -> tuple[str, str, str]:
        return self.active, self.closed, self.draft

    @property
    def amounts(self) -> tuple[str, str, str]:
        return self.active_amount, self.closed_amount, self.draft_amount


async def make_links(tg: FakeTelegram, user_id: int, base: int) -> Links:
    """``base`` (thousands) tells one member's amounts from another's."""
    active = await as_(tg, user_id, f"/pay {base}000 kopi")
    closed = await as_(tg, user_id, f"/pay {base + 1}000 teh")
    await as_(tg, user_id, f"/cancel {ref_of(closed)}")
    draft = await as_(tg, user_id, f"/pay {base // 10}jt laptop")
    assert "Make a link for" in (draft.text or "")
    return Links(
        active=ref_of(active),
        active_amount=f"Rp{base}.000",
        closed=ref_of(closed),
        closed_amount=f"Rp{base + 1}.000",
        draft=ref_of(draft),
        draft_amount=f"Rp{base // 10}.000.000",
    )


async def shop_links(store: Store) -> list[Link]:
    """Every link, as stored (to prove nothing changed)."""
    found = []
    for chat in (MERCHANT, SARI, TONO):
        found += await store.links_for_chat(chat, limit=100)
    return sorted(found, key=lambda link: link.id)


async def a_team(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> tuple[Store, Links, Links, Links]:
    """The owner (MERCHANT) and two staff, Sari and Tono, each with links; Tono's waiting
    one paid. Returns when everything the payment set off is done."""
    store = repo_of(paybot)
    shop = await store.a_shop()
    for user_id in (SARI, TONO):
        await store.add_member(
            shop.id, user_id, role=Role.STAFF, name=NAMES[user_id], source="invite"
        )
    owner = await make_links(tg, MERCHANT, 150)
    sari = await make_links(tg, SARI, 130)
    tono = await make_links(tg, TONO, 170)
    paid = await as_(tg, TONO, "/pay 90000 paid one")
    await xendit.complete(session_id_of(xendit))
    await tg.wait_message(TONO, contains="PAID")

    async def settled() -> bool:
        link = await store.get_link_by_ref(ref_of(paid))
        done = await store.notifications()
        return (
            link is not None
            and link.status is LinkStatus.COMPLETED
            and await store.pending_checks() == 0
            and all(n.status != "PENDING" for n in done)
        )

    await eventually(settled)
    await handled()
    return store, owner, sari, tono


def shows_nothing_of(reply: Sent | StoredMessage | dict[str, str], *others: Links) -> None:
    text = reply.get("text", "") if isinstance(reply, dict) else reply.text
    for links in others:
        for amount in links.amounts:
            assert amount not in (text or ""), (amount, text)


async def test_staff_reach_only_their_own_links_through_every_command_and_button(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit, caplog: pytest.LogCaptureFixture
) -> None:
    store, owner, sari, tono = await a_team(paybot, tg, xendit)
    before = await shop_links(store)
    asked = len(xendit.requests)
    mark = tg.mark()

    # Commands naming another's link: "not found", as for a reference that does not exist.
    for other in (owner, tono):
        for ref in other.refs:
            for command in ("status", "cancel"):
                reply = await as_(tg, SARI, f"/{command} {ref}")
                assert NOT_FOUND in (reply.text or ""), (command, ref, reply.text)
                shows_nothing_of(reply, owner, tono)
                assert tg.buttons(reply) == []
    # Buttons naming another's link, pressed under Sari's own list: a toast, nothing else.
    mine = await as_(tg, SARI, "/links")
    shown = tg.mark()
    for other in (owner, tono):
        for data in (
            f"qr:{other.active}",
            f"cancel:{other.active}",
            f"reissue:{other.closed}",
            f"confirm:{other.draft}",
            f"discard:{other.draft}",
        ):
            answer = await press_as(tg, SARI, mine, data)
            assert NOT_FOUND in answer.get("text", ""), (data, answer)
            shows_nothing_of(answer, owner, tono)
    assert tg.outbox[shown:] == []  # no QR, no card, no edit
    # Lists and their pages: Sari's own links alone.
    for text in ("/links", "/unpaid"):
        reply = await as_(tg, SARI, text)
        assert sari.active in (reply.text or "")
        shows_nothing_of(reply, owner, tono)
        for other in (owner, tono):
            for ref in other.refs:
                assert ref not in (reply.text or "")
    for data in ("links:a:0", "links:u:0", "links:a:5"):
        await press_as(tg, SARI, mine, data)
        page = tg.chat_message(mine.chat_id, mine.message_id)
        assert page is not None
        shows_nothing_of(page, owner, tono)
        for other in (owner, tono):
            for ref in other.refs:
                assert ref not in (page.text or ""), data
    all_mine = await as_(tg, SARI, "/links")
    assert "Your links</b> (2)" in (all_mine.text or "")
    # Totals: hers alone (nothing paid; her one waiting link). Tono's payment is not hers.
    today = await as_(tg, SARI, "/today")
    assert "Paid: <b>0</b> · Rp0" in (today.text or "")
    assert "Still waiting: 1 · Rp130.000" in (today.text or "")
    # Export: owners only.
    export = await as_(tg, SARI, "/export")
    assert export.text == "Only the shop's owners can do that."
    assert not [s for s in tg.outbox[mark:] if s.method == "sendDocument"]
    # Inline sharing: another's reference finds nothing; an empty query her own alone.
    for other in (owner, tono):
        for ref in other.refs:
            assert await inline_as(tg, SARI, ref) == []
    assert [r["id"] for r in await inline_as(tg, SARI, "")] == [sari.active]

    # Nobody else heard of any of it; nothing was asked of Xendit; nothing changed.
    assert {s.chat_id for s in tg.outbox[mark:]} == {SARI}
    assert xendit.requests[asked:] == []
    assert await shop_links(store) == before
    # Each refusal was an answer, none a fault (an answer given twice is one).
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_the_owner_acts_on_every_members_links(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    store, owner, sari, tono = await a_team(paybot, tg, xendit)
    # Lists and totals: the whole shop's.
    listed = await as_(tg, MERCHANT, "/unpaid")
    for ref in (owner.active, sari.active, tono.active):
        assert ref in (listed.text or "")
    today = await as_(tg, MERCHANT, "/today")
    assert "Paid: <b>1</b> · Rp90.000" in (today.text or "")
    assert "Still waiting: 3 · Rp450.000" in (today.text or "")
    # /status of a staff link: its card, here (the live card stays in Sari's chat).
    status = await as_(tg, MERCHANT, f"/status {sari.active}")
    assert "Rp130.000" in (status.text or "")
    assert sari.active in (status.text or "")
    # Buttons on staff links, pressed under that card.
    mark = tg.mark()
    await press_as(tg, MERCHANT, status, f"qr:{sari.active}")
    qr = await tg.wait_message(MERCHANT, method="sendPhoto", since=mark)
    assert qr.filename == f"pay-{sari.active}.png"
    answer = await press_as(tg, MERCHANT, status, f"cancel:{sari.active}")
    assert "cancelled" in answer.get("text", "")
    await press_as(tg, MERCHANT, status, f"reissue:{tono.closed}")
    again = await tg.wait_message(MERCHANT, contains="Rp171.000", since=mark)
    assert again.chat_id == MERCHANT  # the new link is the presser's, made here
    await press_as(tg, MERCHANT, status, f"discard:{sari.draft}")
    await press_as(tg, MERCHANT, status, f"confirm:{tono.draft}")
    await eventually(lambda: _status_is(store, tono.draft, LinkStatus.ACTIVE))
    assert xendit.created()[-1]["amount"] == 17_000_000
    cancelled = await as_(tg, MERCHANT, f"/cancel {tono.active}")
    assert "is cancelled" in (cancelled.text or "")
    for ref, status_now in (
        (sari.active, LinkStatus.CANCELED),
        (sari.draft, LinkStatus.CANCELED),
        (tono.active, LinkStatus.CANCELED),
    ):
        link = await store.get_link_by_ref(ref)
        assert link is not None
        assert link.status is status_now, ref
    mark = tg.mark()
    tg.push_message(MERCHANT, "/export")
    export = await tg.wait_message(MERCHANT, method="sendDocument", since=mark)
    csv = (export.file or b"").decode()
    for ref in (owner.active, sari.active, tono.active):
        assert ref in csv


async def _status_is(store: Store, ref: str, status: LinkStatus) -> bool:
    link = await store.get_link_by_ref(ref)
    return link is not None and link.status is status


async def test_a_removed_member_can_do_nothing(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    first = await start_bot()
    store, owner, sari, tono = await a_team(first, tg, xendit)
    shop = await store.a_shop()
    await store.change_member(shop.id, SARI, remove=True)
    # Another instance (this one remembers who is who for a moment): as after a restart, or
    # on the instance next to the one where the owner removed her.
    await first.stop()
    await start_bot()
    before = await shop_links(store)
    asked = len(xendit.requests)
    mark = tg.mark()
    card = await store.get_link_by_ref(sari.active)
    assert card is not None
    assert card.card_message_id is not None
    for text in (
        "/links",
        "/unpaid",
        f"/status {sari.active}",
        f"/cancel {sari.active}",
        "/today",
        "/export",
        "/pay 5000",
    ):
        reply = await as_(tg, SARI, text)
        assert "team only" in (reply.text or ""), text
        shows_nothing_of(reply, owner, sari, tono)
        assert tg.buttons(reply) == []
    her_card = tg.chat_message(SARI, card.card_message_id)
    assert her_card is not None
    for data in (
        f"qr:{sari.active}",
        f"cancel:{sari.active}",
        f"reissue:{sari.closed}",
        f"confirm:{sari.draft}",
        f"discard:{sari.draft}",
        "links:a:0",
    ):
        answer = await press_as(tg, SARI, her_card, data)
        assert "team only" in answer.get("text", ""), data
    for query in (sari.active, ""):
        assert await inline_as(tg, SARI, query) == []
    assert all(s.method == "sendMessage" for s in tg.outbox[mark:])  # refusals alone
    assert xendit.requests[asked:] == []
    assert await shop_links(store) == before
