"""A shop with a team: the claim link, invites, staff and owners, /team, ``python -m bot claim``.

All through the real bot and the fakes: what each person reads, the buttons they get, what is
stored.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pytest

from bot import cli
from bot.app import Paybot
from bot.team import CLAIM, deep_link
from bot.views import format_time
from storage import Role
from tests.conftest import (
    BOT_TOKEN,
    CALLBACK_TOKEN,
    MERCHANT,
    STRANGER,
    XENDIT_KEY,
    StartBot,
    handled,
)
from tests.fakes import FakeTelegram, FakeXendit
from tests.fakes.telegram import Sent, StoredMessage
from tests.test_core_flow import repo_of, say
from tests.test_merchant import labels, press, ref_of, session_id_of

OWNER = MERCHANT  # an owner from ALLOWED_USER_IDS, named Budi
CLAIMER = 3001
STAFF = 3002  # named Siti
OTHER = 3003
SHOP = "PayBot"  # a new shop is named after the bot (SHOP_NAME unset)
GROUP = -4005

OWNERS_ONLY = "Only the shop's owners can do that."
TEAM_ONLY = "this bot takes payments for a shop's team only"


def link_in(message: Sent | StoredMessage, kind: str = "join") -> str:
    match = re.search(rf"https://t\.me/\w+\?start={kind}_[\w-]+", message.text or "")
    assert match is not None, message.text
    return match[0]


async def open_link(tg: FakeTelegram, link: str, user_id: int, first_name: str = "Siti") -> Sent:
    """The user opens the link: Telegram sends ``/start <payload>`` in their private chat."""
    payload = link.split("?start=", 1)[1]
    return await say(tg, f"/start {payload}", chat_id=user_id, first_name=first_name)


async def join(tg: FakeTelegram, user_id: int = STAFF, role: str = "") -> Sent:
    """The owner invites (``/invite [role]``) and ``user_id`` opens the invite."""
    invite = await say(tg, f"/invite {role}".strip(), chat_id=OWNER)
    return await open_link(tg, link_in(invite), user_id)


def current(tg: FakeTelegram, message: Sent) -> StoredMessage:
    stored = tg.chat_message(message.chat_id, message.message_id)
    assert stored is not None
    return stored


def callbacks(tg: FakeTelegram, message: Sent | StoredMessage) -> list[str | None]:
    return [b.callback_data for b in tg.buttons(message)]


async def pay_and_complete(tg: FakeTelegram, xendit: FakeXendit, text: str, user_id: int) -> str:
    card = await say(tg, text, chat_id=user_id)
    await xendit.complete(session_id_of(xendit))
    await tg.wait_message(user_id, contains="PAID")
    return ref_of(card)


# -- claiming the bot --------------------------------------------------------------------------


async def test_the_claim_link_makes_its_first_opener_the_owner(
    start_bot: StartBot, tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.app")
    app = await start_bot(allowed_user_ids="")
    link = app.claim_link
    assert link is not None
    assert link.startswith(f"https://t.me/{tg.bot_username}?start=claim_")
    logged = [r.getMessage() for r in caplog.records if "claim" in r.getMessage()]
    assert logged == [f"the shop has no owner yet: open {link} in Telegram to claim it"]

    # Before the claim, a stranger learns the bot waits for its operator.
    waiting = await say(tg, "/start", chat_id=STRANGER)
    assert "waiting to be claimed by the person who runs it" in (waiting.text or "")
    assert "<code>python -m bot claim</code>" in (waiting.text or "")

    claimed = await open_link(tg, link, CLAIMER, first_name="Ani")
    assert (claimed.text or "").startswith(f"🎉 <b>You are the owner of {SHOP} now.</b>")
    assert "/invite" in (claimed.text or "")
    assert "/settings" in (claimed.text or "")
    repo = repo_of(app)
    shop = await repo.a_shop()
    member = await repo.member(shop.id, CLAIMER)
    assert member is not None
    assert (member.role, member.active, member.name) == (Role.OWNER, True, "Ani")
    card = await say(tg, "/pay 150000 kopi", chat_id=CLAIMER)
    assert "Payment link: Rp150.000" in (card.text or "")

    # The same link again, or a new claim link: the shop is claimed.
    assert app.team is not None
    another = deep_link(tg.bot_username, CLAIM, await app.team.new_claim_code(shop))
    for opened in (link, another):
        late = await open_link(tg, opened, OTHER)
        assert late.text == (
            f"{SHOP} has been claimed already: it has an owner. To join the team, ask them for "
            "an invite link."
        )
    assert await repo.member(shop.id, OTHER) is None
    again = await open_link(tg, link, CLAIMER)
    assert again.text == f"You are already in {SHOP} as owner. /help shows what you can do."
    # From now on a stranger is told to ask the owner.
    refused = await say(tg, "/start", chat_id=STRANGER)
    assert TEAM_ONLY in (refused.text or "")
    assert "ask the shop's owner for an invite link" in (refused.text or "")


async def test_python_m_bot_claim_prints_the_claim_link(
    start_bot: StartBot,
    tg: FakeTelegram,
    xendit: FakeXendit,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setattr(cli, "configure_logging", lambda settings: None)  # pytest's logging
    for name, value in {
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "XENDIT_SECRET_KEY": XENDIT_KEY,
        "XENDIT_CALLBACK_TOKEN": CALLBACK_TOKEN,
        "DATABASE_URL": database_url,
        "TELEGRAM_API_URL": tg.url,
        "XENDIT_API_URL": xendit.url,
        "ALLOWED_USER_IDS": "",
    }.items():
        monkeypatch.setenv(name, value)
    # A fresh database: the shop is made, and a link printed. (``main`` runs its own loop.)
    assert await asyncio.to_thread(cli.main, ["claim"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"Open this link in Telegram to become the owner of {SHOP}:\n")
    link = re.findall(rf"https://t\.me/{tg.bot_username}\?start=claim_[\w-]+", printed)[0]
    assert [c.method for c in tg.calls] == ["getMe"]

    app = await start_bot(allowed_user_ids="")
    claimed = await open_link(tg, link, CLAIMER)
    assert f"You are the owner of {SHOP} now." in (claimed.text or "")
    await app.stop()

    assert await asyncio.to_thread(cli.main, ["claim"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"{SHOP} has an owner already. Owners add people with /invite")


# -- invites -----------------------------------------------------------------------------------


async def test_an_invite_adds_a_staff_member_once_and_tells_the_owners(
    start_bot: StartBot, tg: FakeTelegram
) -> None:
    now = datetime.now(UTC)
    app = await start_bot(clock=lambda: now)
    invite = await say(tg, "/invite")
    link = link_in(invite)
    expires = format_time(now + timedelta(hours=24), ZoneInfo("Asia/Jakarta"), "en")
    assert invite.text == (
        f"✉️ <b>An invite to {SHOP}</b>, as staff:\n\n{link}\n\nIt works once, until "
        f"{expires}. Send it to the one person you mean: opening it adds them to the team."
    )
    assert expires.endswith("WIB")
    [share] = tg.buttons(invite)
    assert share.text == "Send the invite"
    shared = urlparse(share.url or "")
    assert (shared.netloc, shared.path) == ("t.me", "/share/url")
    query = parse_qs(shared.query)
    assert query["url"] == [link]
    assert query["text"] == [f"Join {SHOP} to take payments with me"]

    joined = await open_link(tg, link, STAFF)
    assert (joined.text or "").startswith(
        f"👋 <b>Welcome to {SHOP}!</b> You joined as staff.\n\nWhat you can do now:"
    )
    assert "/links and /unpaid: your own links" in (joined.text or "")
    told = await tg.wait_message(OWNER, contains="joined")
    assert told.text == f"👤 Siti joined {SHOP} as staff."
    card = await say(tg, "/pay 50000 teh", chat_id=STAFF, first_name="Siti")
    assert "Payment link: Rp50.000" in (card.text or "")
    member = await repo_of(app).member((await repo_of(app).a_shop()).id, STAFF)
    assert member is not None
    assert member.role is Role.STAFF

    # Once only: the next person learns it was used.
    used = await open_link(tg, link, OTHER)
    assert used.text == (
        "This invite has been used already: each invite works once. Ask the shop's owner for "
        "a new invite."
    )
    refused = await say(tg, "/pay 5000", chat_id=OTHER)
    assert TEAM_ONLY in (refused.text or "")
    # A link that was never made, and one cut short.
    unknown = await say(tg, "/start join_AAAAAAAAAAAAAAAAAAAAAA", chat_id=OTHER)
    assert (unknown.text or "").startswith("I don't know this invite link.")
    cut = await say(tg, "/start join_abc", chat_id=OTHER)
    assert (cut.text or "").startswith("I don't know this invite link.")


async def test_an_invite_expires_after_24_hours(start_bot: StartBot, tg: FakeTelegram) -> None:
    now = [datetime.now(UTC)]
    app = await start_bot(clock=lambda: now[0])
    invite = await say(tg, "/invite")
    now[0] += timedelta(hours=24, seconds=1)
    expired = await open_link(tg, link_in(invite), STAFF)
    assert expired.text == (
        "⌛ This invite has expired: invites work for 24 hours. Ask the shop's owner for a "
        "new invite."
    )
    assert await repo_of(app).member((await repo_of(app).a_shop()).id, STAFF) is None
    refused = await say(tg, "/pay 5000", chat_id=STAFF, first_name="Siti")
    assert TEAM_ONLY in (refused.text or "")


async def test_an_owner_invite_makes_a_co_owner(paybot: Paybot, tg: FakeTelegram) -> None:
    invite = await say(tg, "/invite owner")
    assert f"<b>An invite to {SHOP}</b>, as owner:" in (invite.text or "")
    joined = await open_link(tg, link_in(invite), STAFF)
    assert (joined.text or "").startswith(f"👋 <b>Welcome to {SHOP}!</b> You joined as an owner.")
    told = await tg.wait_message(OWNER, contains="joined")
    assert told.text == f"👤 Siti joined {SHOP} as owner."
    team = await say(tg, "/team", chat_id=STAFF, first_name="Siti")
    assert "👑 Siti (you) · owner: 0 paid · Rp0" in (team.text or "")
    assert "👑 Budi · owner: 0 paid · Rp0" in (team.text or "")
    invited = await say(tg, "/invite", chat_id=STAFF, first_name="Siti")
    assert "as staff" in (invited.text or "")


async def test_invite_usage_and_where_it_is_shown(paybot: Paybot, tg: FakeTelegram) -> None:
    await repo_of(paybot).connect(GROUP)
    for text in ("/invite boss", "/invite owner now"):
        usage = await say(tg, text)
        assert usage.text == (
            "Send /invite to invite a staff member, or <code>/invite owner</code> to invite a "
            "co-owner."
        ), text
    # Not in a group, even the shop's: anybody there could open it.
    in_group = await say(tg, "/invite", chat_id=GROUP, user_id=OWNER)
    assert "private chat" in (in_group.text or "")
    assert "start=join_" not in (in_group.text or "")


async def test_staff_cannot_invite_or_manage_the_team(paybot: Paybot, tg: FakeTelegram) -> None:
    await join(tg)
    for command in ("/invite", "/invite owner", "/team", "/export"):
        reply = await say(tg, command, chat_id=STAFF, first_name="Siti")
        assert reply.text == OWNERS_ONLY, command
        assert tg.buttons(reply) == []
    # Nor press /team's buttons (forged: staff never get them).
    mark = tg.mark()
    for data in ("team:rm:1001", "team:rmok:1001", "team:role:1001:s", "team:role:3002:o"):
        callback = await press(
            tg, await say(tg, "/links", chat_id=STAFF, first_name="Siti"), data, user_id=STAFF
        )
        answer = tg.answered_callbacks[callback]
        assert (answer.get("text"), answer.get("show_alert")) == (OWNERS_ONLY, "true"), data
    assert not [m for m in tg.outbox[mark:] if m.chat_id == OWNER]
    shop = await repo_of(paybot).a_shop()
    members = {m.user_id: m.role for m in await repo_of(paybot).members(shop.id)}
    assert members == {OWNER: Role.OWNER, STAFF: Role.STAFF}


# -- what staff and owners see ---------------------------------------------------------------


async def test_staff_see_their_own_links_and_owners_see_everyones(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await join(tg)
    await pay_and_complete(tg, xendit, "/pay 150000 kopi", OWNER)
    await pay_and_complete(tg, xendit, "/pay 50000 teh", STAFF)
    await say(tg, "/pay 20000 roti", chat_id=STAFF, first_name="Siti")  # still waiting

    theirs = await say(tg, "/links", chat_id=STAFF, first_name="Siti")
    assert "<b>Your links</b> (2)" in (theirs.text or "")
    assert "Rp50.000" in (theirs.text or "")
    assert "Rp150.000" not in (theirs.text or "")
    everyone = await say(tg, "/links")
    assert "<b>Your links</b> (3)" in (everyone.text or "")
    for amount in ("Rp150.000", "Rp50.000", "Rp20.000"):
        assert amount in (everyone.text or "")

    today = await say(tg, "/today")
    assert "Paid: <b>2</b> · Rp200.000" in (today.text or "")
    assert (today.text or "").endswith(
        "\n\n<b>By member</b>\n• Budi: 1 · Rp150.000\n• Siti: 1 · Rp50.000"
    )
    own = await say(tg, "/today", chat_id=STAFF, first_name="Siti")
    assert "Paid: <b>1</b> · Rp50.000" in (own.text or "")
    assert "Still waiting: 1 · Rp20.000" in (own.text or "")
    assert "By member" not in (own.text or "")
    assert "Budi" not in (own.text or "")

    team = await say(tg, "/team")
    assert (team.text or "").startswith(f"👥 <b>The team of {SHOP}</b>\nPaid today, ")
    assert "👑 Budi (you) · owner: 1 paid · Rp150.000\n👤 Siti · staff: 1 paid · Rp50.000" in (
        team.text or ""
    )
    # Budi is the only owner: no buttons that could only be refused.
    assert labels(tg, team) == ["Make Siti owner", "Remove Siti"]
    assert callbacks(tg, team) == [f"team:role:{STAFF}:o", f"team:rm:{STAFF}"]
    export = await say(tg, "/export", chat_id=STAFF, first_name="Siti")
    assert export.text == OWNERS_ONLY


# -- /team: removing and changing roles --------------------------------------------------------


async def test_an_owner_removes_staff_after_confirming(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await join(tg)
    ref = ref_of(await say(tg, "/pay 50000 teh", chat_id=STAFF, first_name="Siti"))
    team = await say(tg, "/team")

    await press(tg, team, f"team:rm:{STAFF}")
    asked = current(tg, team)
    assert asked.text == (
        f"Remove <b>Siti</b> from {SHOP}? They can no longer make or manage links. Their links "
        "stay with the shop."
    )
    assert callbacks(tg, asked) == [f"team:rmok:{STAFF}", "team:list"]
    await press(tg, team, "team:list")  # No: back to the team, Siti still in it
    assert "👤 Siti" in (current(tg, team).text or "")

    await press(tg, team, f"team:rm:{STAFF}")
    mark = tg.mark()
    callback = await press(tg, team, f"team:rmok:{STAFF}")
    assert tg.answered_callbacks[callback]["text"] == "Siti was removed from the team."
    after = current(tg, team)
    assert "Siti" not in (after.text or "")
    assert callbacks(tg, after) == []  # the only owner is left: nothing to change
    told = await tg.wait_message(STAFF, since=mark)
    assert told.text == (
        f"You were removed from {SHOP}. Your links stay with the shop. To come back, ask an "
        "owner for a new invite."
    )
    shop = await repo_of(paybot).a_shop()
    member = await repo_of(paybot).member(shop.id, STAFF)
    assert member is not None
    assert not member.active

    # They act on nothing any more; their link stays the shop's.
    for command in ("/pay 5000", "/links", f"/status {ref}"):
        refused = await say(tg, command, chat_id=STAFF, first_name="Siti")
        assert TEAM_ONLY in (refused.text or ""), command
    links = await say(tg, "/links")
    assert ref in (links.text or "")
    status = await say(tg, f"/status {ref}")
    assert "Rp50.000" in (status.text or "")
    # The button pressed again (an old message): nothing left to remove.
    callback = await press(tg, team, f"team:rmok:{STAFF}")
    assert tg.answered_callbacks[callback]["text"] == "That person is no longer in the team."


async def test_roles_change_but_the_last_owner_stays(paybot: Paybot, tg: FakeTelegram) -> None:
    team = await say(tg, "/team")
    last_owner = "A shop needs at least one owner: make someone else an owner first."
    for data in (f"team:rmok:{OWNER}", f"team:role:{OWNER}:s"):
        callback = await press(tg, team, data)
        answer = tg.answered_callbacks[callback]
        assert (answer["text"], answer["show_alert"]) == (last_owner, "true"), data
    shop = await repo_of(paybot).a_shop()
    me = await repo_of(paybot).member(shop.id, OWNER)
    assert me is not None
    assert me.is_owner

    await join(tg)
    team = await say(tg, "/team")
    mark = tg.mark()
    callback = await press(tg, team, f"team:role:{STAFF}:o")
    assert tg.answered_callbacks[callback]["text"] == "Siti is now owner."
    assert "👑 Siti · owner" in (current(tg, team).text or "")
    told = await tg.wait_message(STAFF, since=mark)
    assert (told.text or "").startswith(f"👑 You are now an owner of {SHOP}")
    assert "👑 Siti (you)" in (
        (await say(tg, "/team", chat_id=STAFF, first_name="Siti")).text or ""
    )

    # Two owners: one may step down to staff, and then sees only their own.
    callback = await press(tg, team, f"team:role:{OWNER}:s")
    assert tg.answered_callbacks[callback]["text"] == "Budi is now staff."
    assert current(tg, team).text == (
        f"You are now staff in {SHOP}: you make links and see your own (/links, /today)."
    )
    assert tg.buttons(current(tg, team)) == []
    assert (await say(tg, "/team")).text == OWNERS_ONLY
    await handled()
