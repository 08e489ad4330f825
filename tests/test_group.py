"""The shop's group: the bot added to a group, /connect and /disconnect, payments announced
there naming who made the link, who may press what there, and bursts within its limits."""

from __future__ import annotations

import asyncio
import re

import httpx
from telegram import (
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    Update,
)

from bot.app import Paybot
from storage import LinkStatus, NotificationStatus, Role, Shop
from tests.conftest import MERCHANT, STRANGER, StartBot, handled
from tests.fakes import FakeTelegram, FakeXendit
from tests.fakes.telegram import Sent
from tests.helpers import Store, eventually
from tests.test_core_flow import repo_of, say
from tests.test_merchant import card_becomes, press, ref_of, session_id_of

GROUP = -4010
OTHER_GROUP = -4011
SUPERGROUP = -1_000_000_004_010
STAFF = 3003
#: Telegram names users by their first name; the guard keeps members' names up to date, and
#: a link records its maker's. Sari's has a character that must be escaped.
SARI = "Sari <3"
SARI_SHOWN = "Sari &lt;3"
OWNER_NAME = "Budi"  # the fake's default first name

NOT_CONNECTED = "This group is not the shop's group"
OWNERS_ONLY = "Only the shop's owners can do that."
TEAM_ONLY = "team only"


async def add_staff(app: Paybot) -> None:
    store = repo_of(app)
    shop = await store.a_shop()
    await store.add_member(shop.id, STAFF, role=Role.STAFF, name="Sari", source="invite")


async def as_staff(tg: FakeTelegram, text: str, *, chat_id: int = STAFF) -> Sent:
    return await say(tg, text, chat_id=chat_id, user_id=STAFF, first_name=SARI)


async def shop_of(app: Paybot) -> Shop:
    return await repo_of(app).a_shop()


async def connect(tg: FakeTelegram, chat_id: int = GROUP) -> Sent:
    reply = await say(tg, "/connect", chat_id=chat_id, user_id=MERCHANT)
    assert "This group is now the shop's group" in (reply.text or ""), reply.text
    return reply


def paid_texts(tg: FakeTelegram, chat_id: int, since: int = 0) -> list[str]:
    """The chat's announcements of payments: single ones and summaries."""
    return [
        m.text or ""
        for m in tg.outbox[since:]
        if m.chat_id == chat_id
        and m.method == "sendMessage"
        and ("PAID" in (m.text or "") or "payments received" in (m.text or ""))
    ]


def refs_in(texts: list[str]) -> list[str]:
    return [ref for text in texts for ref in re.findall(r"<code>([A-Z0-9]{8})</code>", text)]


def toast_of(tg: FakeTelegram, callback_id: str) -> tuple[str, bool]:
    answer = tg.answered_callbacks[callback_id]
    return answer.get("text", ""), answer.get("show_alert") == "true"


async def idle(app: Paybot) -> None:
    await handled()
    assert app.worker is not None
    await app.worker.wait_idle()


# -- the bot added to a group, and removed -----------------------------------------------------


async def test_the_fake_tells_of_the_bots_membership_as_telegram_does(tg: FakeTelegram) -> None:
    shapes = {
        "member": ChatMemberMember,
        "administrator": ChatMemberAdministrator,
        "left": ChatMemberLeft,
        "kicked": ChatMemberBanned,
    }
    for status, kind in shapes.items():
        tg.push_my_chat_member(GROUP, status, user_id=MERCHANT)
        update = Update.de_json(tg.updates[-1], None)
        change = update.my_chat_member
        assert change is not None
        assert isinstance(change.new_chat_member, kind)
        assert change.new_chat_member.user.id == tg.bot_id
        assert change.from_user.id == MERCHANT
        assert change.chat.type == "group"
        assert update.effective_user is not None
        assert update.effective_user.id == MERCHANT
    # Removed, the bot can no longer write there; added again, it can.
    async with httpx.AsyncClient(base_url=f"{tg.url}/bot{tg.token}") as api:
        refused = await api.post("/sendMessage", data={"chat_id": GROUP, "text": "hi"})
        assert refused.status_code == 403
        assert "kicked" in refused.json()["description"]
        tg.push_my_chat_member(GROUP, "member", user_id=MERCHANT, old_status="kicked")
        sent = await api.post("/sendMessage", data={"chat_id": GROUP, "text": "hi"})
        assert sent.status_code == 200


async def test_an_owner_who_adds_the_bot_is_offered_to_connect_the_group(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await add_staff(paybot)
    tg.push_my_chat_member(GROUP, "member", user_id=MERCHANT)
    offer = await tg.wait_message(GROUP)
    assert "Shall I make this group the shop's group (PayBot)?" in (offer.text or "")
    assert "/connect" in (offer.text or "")
    [button] = tg.buttons(offer)
    assert (button.text, button.callback_data) == ("Connect this group", "group:connect")
    # Only an owner's press connects it.
    stranger = await press(tg, offer, "group:connect", user_id=STRANGER)
    assert TEAM_ONLY in toast_of(tg, stranger)[0]
    staff = await press(tg, offer, "group:connect", user_id=STAFF)
    assert toast_of(tg, staff) == (OWNERS_ONLY, True)
    assert (await shop_of(paybot)).group_chat_id is None
    await press(tg, offer, "group:connect")
    connected = await card_becomes(tg, offer, "This group is now the shop's group")
    assert tg.buttons(connected) == []
    assert (await shop_of(paybot)).group_chat_id == GROUP
    # Made an admin later: said once is enough.
    mark = tg.mark()
    tg.push_my_chat_member(GROUP, "administrator", old_status="member", user_id=MERCHANT)
    # A stranger's group: not a word. Staff's: an owner can connect it.
    tg.push_my_chat_member(-4099, "administrator", user_id=STRANGER)
    # (Updates are handled in the order they come: once this one is answered and the bot is
    # done, the ones before it are handled too.)
    tg.push_my_chat_member(OTHER_GROUP, "member", user_id=STAFF, first_name=SARI)
    staffs = await tg.wait_message(OTHER_GROUP, since=mark)
    await handled()
    assert NOT_CONNECTED in (staffs.text or "")
    assert "/connect" in (staffs.text or "")
    assert tg.outbox[mark:] == [staffs]

    # Removed from the shop's group by one of its admins, not a member: it is disconnected,
    # and a payment is then announced only where its link was made.
    tg.push_my_chat_member(GROUP, "kicked", user_id=STRANGER)

    async def disconnected() -> bool:
        return (await shop_of(paybot)).group_chat_id is None

    await eventually(disconnected)
    card = await say(tg, "/pay 150000 kopi susu")
    mark = tg.mark()
    await xendit.complete(session_id_of(xendit))
    await tg.wait_message(MERCHANT, contains="PAID", since=mark)
    await idle(paybot)
    assert [m.chat_id for m in tg.outbox[mark:] if m.method == "sendMessage"] == [MERCHANT]
    assert not [c for c in tg.calls if c.params.get("chat_id") == str(GROUP) and not c.ok]
    assert ref_of(card) in paid_texts(tg, MERCHANT)[0]


# -- /connect and /disconnect ------------------------------------------------------------------


async def test_an_unconnected_group_refuses_members_until_an_owner_connects_it(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await add_staff(paybot)
    for text in ("/pay 150000 kopi", "/links", "/today"):
        reply = await as_staff(tg, text, chat_id=GROUP)
        assert NOT_CONNECTED in (reply.text or ""), text
        reply = await say(tg, text, chat_id=GROUP, user_id=MERCHANT)
        assert NOT_CONNECTED in (reply.text or ""), text
    assert xendit.created() == []
    # Not staff, not strangers; in a private chat an owner learns where to send it.
    staff = await as_staff(tg, "/connect", chat_id=GROUP)
    assert staff.text == OWNERS_ONLY
    stranger = await say(tg, "/connect", chat_id=GROUP, user_id=STRANGER)
    assert TEAM_ONLY in (stranger.text or "")
    private = await say(tg, "/connect")
    assert "Send /connect in the group that should be the shop's group" in (private.text or "")
    assert (await shop_of(paybot)).group_chat_id is None

    connected = await connect(tg)
    text = connected.text or ""
    assert "can make payment links here with /pay" in text
    assert "Every payment of the shop is announced here, naming who made the link." in text
    assert "/settings" in text
    assert "replaces" not in text
    assert (await shop_of(paybot)).group_chat_id == GROUP
    # Members act there now (at once: nothing stale is remembered).
    card = await as_staff(tg, "/pay 150000 kopi susu", chat_id=GROUP)
    assert "Payment link: Rp150.000" in (card.text or "")
    again = await say(tg, "/connect", chat_id=GROUP, user_id=MERCHANT)
    assert "already the shop's group" in (again.text or "")

    # Another group replaces it.
    other = await say(tg, "/connect", chat_id=OTHER_GROUP, user_id=MERCHANT)
    assert "It replaces the shop's previous group" in (other.text or "")
    assert (await shop_of(paybot)).group_chat_id == OTHER_GROUP
    assert NOT_CONNECTED in ((await as_staff(tg, "/links", chat_id=GROUP)).text or "")

    # /disconnect: owners only; in the shop's group or a private chat.
    assert (await as_staff(tg, "/disconnect", chat_id=OTHER_GROUP)).text == OWNERS_ONLY
    assert (await as_staff(tg, "/disconnect")).text == OWNERS_ONLY
    elsewhere = await say(tg, "/disconnect", chat_id=GROUP, user_id=MERCHANT)
    assert "nothing to disconnect here" in (elsewhere.text or "")
    assert (await shop_of(paybot)).group_chat_id == OTHER_GROUP
    done = await say(tg, "/disconnect")
    assert "The shop's group is disconnected" in (done.text or "")
    assert (await shop_of(paybot)).group_chat_id is None
    assert NOT_CONNECTED in ((await as_staff(tg, "/links", chat_id=OTHER_GROUP)).text or "")
    none = await say(tg, "/disconnect")
    assert "The shop has no group" in (none.text or "")


async def test_connect_in_bahasa_indonesia(paybot: Paybot, tg: FakeTelegram) -> None:
    mark = tg.mark()
    tg.push_message(GROUP, "/connect", user_id=MERCHANT, language_code="id")
    reply = await tg.wait_message(GROUP, since=mark)
    assert "Grup ini sekarang grup toko" in (reply.text or "")


# -- announcements -----------------------------------------------------------------------------


async def test_a_payment_is_announced_in_the_group_naming_who_made_the_link(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await add_staff(paybot)
    await connect(tg)
    private = await as_staff(tg, "/pay 150000 kopi susu")
    private_sid = session_id_of(xendit)
    in_group = await as_staff(tg, "/pay 75000 teh", chat_id=GROUP)
    group_sid = session_id_of(xendit)

    # Made in Sari's private chat: announced there and in the group (announce: both).
    mark = tg.mark()
    await xendit.complete(private_sid)
    here = await tg.wait_message(GROUP, contains="PAID", since=mark)
    mine = await tg.wait_message(STAFF, contains="PAID", since=mark)
    assert ref_of(here) == ref_of(mine) == ref_of(private)
    assert (here.text or "").endswith(f"\nLink by {SARI_SHOWN}")
    assert "Link by" not in (mine.text or "")  # Sari knows she made it
    # Made in the group: announced there, once.
    await xendit.complete(group_sid)
    await tg.wait_message(GROUP, contains="Rp75.000", since=mark)
    await idle(paybot)
    assert refs_in(paid_texts(tg, GROUP, mark)) == [ref_of(private), ref_of(in_group)]
    assert refs_in(paid_texts(tg, STAFF, mark)) == [ref_of(private)]
    assert all(t.endswith(f"Link by {SARI_SHOWN}") for t in paid_texts(tg, GROUP, mark))
    rows = [r for r in await repo_of(paybot).notifications() if r.kind == "PAID"]
    assert sorted(r.chat_id for r in rows) == sorted([GROUP, STAFF, GROUP])
    assert all(r.status == NotificationStatus.SENT for r in rows)


async def test_disconnect_stops_the_groups_announcements(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await add_staff(paybot)
    await connect(tg)
    card = await as_staff(tg, "/pay 150000 kopi susu")
    sid = session_id_of(xendit)
    done = await say(tg, "/disconnect", chat_id=GROUP, user_id=MERCHANT)
    assert "The shop's group is disconnected" in (done.text or "")
    mark = tg.mark()
    await xendit.complete(sid)
    paid = await tg.wait_message(STAFF, contains="PAID", since=mark)
    await idle(paybot)
    assert ref_of(paid) == ref_of(card)
    assert paid_texts(tg, GROUP, mark) == []
    assert NOT_CONNECTED in ((await as_staff(tg, "/pay 5000", chat_id=GROUP)).text or "")


async def test_a_group_that_becomes_a_supergroup_stays_the_shops(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await add_staff(paybot)
    await connect(tg)
    await as_staff(tg, "/links", chat_id=GROUP)  # Sari is remembered with the old group
    tg.push_chat_migration(GROUP, SUPERGROUP, user_id=STRANGER)
    await say(tg, "/start", chat_id=SUPERGROUP, user_id=MERCHANT)  # after the migration
    card = await as_staff(tg, "/pay 150000 kopi susu", chat_id=SUPERGROUP)
    assert "Payment link: Rp150.000" in (card.text or "")
    assert (await shop_of(paybot)).group_chat_id == SUPERGROUP
    mark = tg.mark()
    await xendit.complete(session_id_of(xendit))
    paid = await tg.wait_message(SUPERGROUP, contains="PAID", since=mark)
    assert ref_of(paid) == ref_of(card)
    assert "Link by" in (paid.text or "")


# -- who may press what in the shop's group ----------------------------------------------------


async def test_in_the_shops_group_owners_act_on_every_card_and_staff_on_their_own(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await add_staff(paybot)
    await connect(tg)
    owners = await say(tg, "/pay 150000 kopi susu", chat_id=GROUP, user_id=MERCHANT)
    staffs = await as_staff(tg, "/pay 75000 teh", chat_id=GROUP)
    store: Store = repo_of(paybot)

    # A stranger in the group: neither card, nor commands.
    for card in (owners, staffs):
        callback = await press(tg, card, f"cancel:{ref_of(card)}", user_id=STRANGER)
        assert TEAM_ONLY in toast_of(tg, callback)[0]
    for command in ("/links", f"/status {ref_of(staffs)}", "/pay 5000"):
        reply = await say(tg, command, chat_id=GROUP, user_id=STRANGER)
        assert TEAM_ONLY in (reply.text or ""), command
        assert ref_of(staffs) not in (reply.text or "")
    assert len(xendit.created()) == 2

    # Staff cannot cancel the owner's card: to them it does not exist.
    callback = await press(tg, owners, f"cancel:{ref_of(owners)}", user_id=STAFF)
    text, _ = toast_of(tg, callback)
    assert f"can't find a link with reference {ref_of(owners)}" in text
    owners_link = await store.get_link_by_ref(ref_of(owners))
    assert owners_link is not None
    assert owners_link.status is LinkStatus.ACTIVE
    # The owner can cancel staff's.
    await press(tg, staffs, f"cancel:{ref_of(staffs)}")
    await card_becomes(tg, staffs, "Cancelled: Rp75.000")
    staffs_link = await store.get_link_by_ref(ref_of(staffs))
    assert staffs_link is not None
    assert staffs_link.status is LinkStatus.CANCELED
    assert [r.path for r in xendit.requests if r.path.endswith("/cancel")] == [
        f"/sessions/{staffs_link.session_id}/cancel"
    ]


# -- a burst of payments -----------------------------------------------------------------------


async def test_a_burst_of_payments_stays_within_the_groups_limit(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    # Each completion is confirmed with a GET first: a raised Xendit limit keeps that quick.
    app = await start_bot(xendit_rate_limit=6000)
    await add_staff(app)
    await connect(tg)
    made: dict[int, list[tuple[str, str]]] = {MERCHANT: [], STAFF: []}  # chat -> (ref, sid)
    for n in range(15):
        owners = await say(tg, f"/pay {10_000 + n} item {n}")
        made[MERCHANT].append((ref_of(owners), session_id_of(xendit)))
        staffs = await as_staff(tg, f"/pay {20_000 + n} item {n}")
        made[STAFF].append((ref_of(staffs), session_id_of(xendit)))
    refs = {chat: {ref for ref, _ in links} for chat, links in made.items()}
    everything = refs[MERCHANT] | refs[STAFF]
    assert len(everything) == 30

    tg.flood_limits = True  # the fake answers 429 past 20 messages a minute to a group
    mark = tg.mark()
    sids = [sid for links in made.values() for _, sid in links]
    results = await asyncio.gather(*(xendit.complete(sid, send_capture=False) for sid in sids))
    assert all(r.status == 200 for r in results)

    def told(chat_id: int) -> set[str]:
        return set(refs_in(paid_texts(tg, chat_id, mark)))

    await tg.wait_for(
        lambda: (
            told(GROUP) == everything
            and told(MERCHANT) == refs[MERCHANT]
            and told(STAFF) == refs[STAFF]
        ),
        timeout=60,
    )
    await idle(app)
    group_texts = paid_texts(tg, GROUP, mark)
    assert sorted(refs_in(group_texts)) == sorted(everything)  # each exactly once
    for chat in (MERCHANT, STAFF):
        assert sorted(refs_in(paid_texts(tg, chat, mark))) == sorted(refs[chat])
        assert not any("Link by" in t or " · by " in t for t in paid_texts(tg, chat, mark))

    # Every line in the group names who made its link.
    def maker(ref: str) -> str:
        return OWNER_NAME if ref in refs[MERCHANT] else SARI_SHOWN

    for text in group_texts:
        if text.startswith("✅ <b>PAID"):  # one payment
            [ref] = refs_in([text])
            assert text.endswith(f"\nLink by {maker(ref)}"), text
            continue
        for line in text.splitlines()[1:]:  # a summary: a line per payment
            [ref] = refs_in([line])
            assert line.endswith(f"</code> · by {maker(ref)}"), line
    # Telegram's limit, kept: at most 20 messages to the group in any minute, and no 429.
    sent = [m for m in tg.outbox[mark:] if m.chat_id == GROUP and m.method.startswith("send")]
    times = sorted(m.at for m in sent)
    assert all(sum(1 for t in times if start <= t < start + 60) <= 20 for start in times)
    assert tg.too_many_requests_by_chat.get(GROUP, 0) == 0
    assert tg.flood_limit_hits["group"] == 0
