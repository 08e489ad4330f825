"""A real headless Chromium drives the sandbox and the customer pages, as a person would.

Uses Debian's ``chromium`` (installed by ``.ci/run``) through Playwright; no browser is
downloaded. Screenshots of every page go to the test's temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.sandbox.run import Sandbox

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 375, "height": 740}


if CHROMIUM is None and os.environ.get("PAYBOT_REQUIRE_BROWSER"):
    raise RuntimeError("PAYBOT_REQUIRE_BROWSER is set but Debian's chromium is not installed")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"
)


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    running = Sandbox(port=0)
    await running.start()
    yield running
    await running.stop()


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        await chromium.close()


async def no_sideways_scroll(page: Any) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    viewport = await page.evaluate("window.innerWidth")
    assert width <= viewport, f"the page is {width}px wide on a {viewport}px screen"


async def test_merchant_makes_a_link_customer_pays_everyone_sees_paid(
    sandbox: Sandbox, browser: Any, tmp_path: Path
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 860})
    await page.goto(sandbox.url)
    await page.fill("#text", "/pay 150000 kopi susu")
    await page.press("#text", "Enter")
    card = page.locator(".msg.bot", has_text="Payment link: Rp150.000")
    await card.wait_for()
    await page.screenshot(path=tmp_path / "1-link.png")

    await card.get_by_text("Open payment page").click()
    customer = page.frame_locator("#customer")
    await customer.get_by_text("Pay IDR 150.000").wait_for()
    await customer.get_by_label("DANA").check()
    await page.screenshot(path=tmp_path / "2-checkout.png")
    await customer.get_by_text("Pay IDR 150.000").click()

    # The customer lands on the return page, which shows the truth once Xendit confirms.
    await customer.get_by_text("Payment received").wait_for(timeout=15_000)
    await customer.get_by_text("Rp150.000").first.wait_for()
    # The merchant's phone rings with "PAID", and the card has edited itself.
    await page.locator(".msg.bot", has_text="PAID Rp150.000").wait_for()
    await page.locator(".msg.bot", has_text="Paid: Rp150.000").wait_for()
    paid_card = page.locator(".msg.bot", has_text="Paid: Rp150.000")
    assert "via DANA" in await paid_card.inner_text()
    await page.screenshot(path=tmp_path / "3-paid.png")
    for name in ("1-link.png", "2-checkout.png", "3-paid.png"):
        assert (tmp_path / name).stat().st_size > 10_000


async def test_card_buttons_qr_cancel_and_reissue(
    sandbox: Sandbox, browser: Any, tmp_path: Path
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 860})
    await page.goto(sandbox.url)
    await page.fill("#text", "/pay 45000 nasi goreng")
    await page.press("#text", "Enter")
    card = page.locator(".msg.bot", has_text="Payment link: Rp45.000")
    await card.wait_for()

    await card.get_by_role("button", name="QR code").click()
    qr = page.locator(".msg.bot img[alt='QR code']")
    await qr.wait_for()
    assert await qr.evaluate("img => img.complete && img.naturalWidth > 200")

    await card.get_by_role("button", name="Share in Telegram").click()
    shared = page.frame_locator("#customer")
    greeting = "Hello from Warung Sari! Please pay Rp45.000 for nasi goreng"
    await shared.get_by_text(greeting).wait_for()
    await shared.get_by_text("Pay Rp45.000").wait_for()

    await card.get_by_role("button", name="Cancel link").click()
    cancelled = page.locator(".msg.bot", has_text="Cancelled: Rp45.000")
    await cancelled.wait_for()
    await cancelled.get_by_role("button", name="New link, same amount").click()
    await page.locator(".msg.bot", has_text="Payment link: Rp45.000").wait_for()
    await page.screenshot(path=tmp_path / "buttons.png")
    refs = re.findall(r"Ref: ([A-Z0-9]{8})", await page.locator("#chat").inner_text())
    assert len(set(refs)) == 2  # the cancelled link and its new one


async def test_expired_link_and_phone_widths(
    sandbox: Sandbox, browser: Any, tmp_path: Path
) -> None:
    page = await browser.new_page(viewport=PHONE, is_mobile=True)
    await page.goto(sandbox.url)
    await no_sideways_scroll(page)
    await page.fill("#text", "/pay 20000 es teh")
    await page.press("#text", "Enter")
    card = page.locator(".msg.bot", has_text="Payment link: Rp20.000")
    await card.wait_for()
    await no_sideways_scroll(page)
    await page.screenshot(path=tmp_path / "sandbox-phone.png", full_page=True)

    # The customer, on a phone, opens the link and lets it expire.
    href = await card.get_by_text("Open payment page").get_attribute("href")
    customer = await browser.new_page(viewport=PHONE, is_mobile=True)
    await customer.goto(href)
    await no_sideways_scroll(customer)
    await customer.get_by_text("Let it expire").click()
    await customer.get_by_text("This payment link has expired").wait_for(timeout=15_000)
    await no_sideways_scroll(customer)
    await customer.screenshot(path=tmp_path / "return-expired-phone.png", full_page=True)
    await page.locator(".msg.bot", has_text="Expired, not paid: Rp20.000").first.wait_for()


async def test_on_a_phone_the_customer_pays_and_is_never_offered_to_pay_again(
    sandbox: Sandbox, browser: Any, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    page = await browser.new_page(viewport=PHONE, is_mobile=True)
    await page.goto(sandbox.url)
    await page.fill("#text", "/pay 30000 kopi")
    await page.press("#text", "Enter")
    card = page.locator(".msg.bot", has_text="Payment link: Rp30.000")
    await card.wait_for()
    customer_pane = page.locator("#customer-pane")
    await expect(customer_pane).not_to_be_in_viewport()
    # The panes are stacked on a phone: tapping the button brings the customer's phone up.
    await card.get_by_text("Open payment page").click()
    customer = page.frame_locator("#customer")
    await customer.get_by_text("Pay IDR 30.000").wait_for()
    await expect(customer_pane).to_be_in_viewport(ratio=0.9)
    await no_sideways_scroll(page)
    await page.screenshot(path=tmp_path / "checkout-phone.png")

    # Paid, but Xendit's API lags its webhook: the bot cannot confirm it yet.
    [body] = sandbox.xendit.created()
    sid = sandbox.xendit.session_by_reference(body["reference_id"])["payment_session_id"]
    sandbox.xendit.get_overrides[sid] = {"status": "ACTIVE"}
    await customer.get_by_text("Pay IDR 30.000").click()
    await customer.get_by_text("Confirming your payment…").wait_for()
    await expect(customer.locator("a.pay")).to_have_count(0)
    await expect(customer.get_by_text("Payment received")).to_have_count(0)
    await page.screenshot(path=tmp_path / "confirming-phone.png")
    # Xendit catches up and sends its webhook again: the page refreshes itself into "paid".
    del sandbox.xendit.get_overrides[sid]
    await sandbox.xendit.complete(sid)
    await customer.get_by_text("Payment received").wait_for(timeout=15_000)
    await page.screenshot(path=tmp_path / "paid-phone.png")
    # And back in the chat, the merchant has been told.
    await page.get_by_text("Back to the chat").click()
    await page.locator(".msg.bot", has_text="PAID Rp30.000").wait_for()
    await expect(page.locator("#merchant")).to_be_in_viewport()


async def test_return_page_in_indonesian_on_a_phone_waits_then_refreshes(
    sandbox: Sandbox, browser: Any, tmp_path: Path
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 860})
    await page.goto(sandbox.url)
    await page.fill("#text", "/pay 75000 roti")
    await page.press("#text", "Enter")
    await page.locator(".msg.bot", has_text="Payment link: Rp75.000").wait_for()
    [body] = sandbox.xendit.created()
    context = await browser.new_context(viewport=PHONE, is_mobile=True, locale="id-ID")
    customer = await context.new_page()
    await customer.goto(body["cancel_return_url"])  # back from checkout without paying
    await customer.get_by_text("Menunggu pembayaran").wait_for()
    assert (
        await customer.locator("a.pay").get_attribute("href")
        == (sandbox.xendit.session_by_reference(body["reference_id"])["payment_link_url"])
    )
    await no_sideways_scroll(customer)
    await customer.screenshot(path=tmp_path / "return-waiting-id.png", full_page=True)
    # Paid elsewhere: the page refreshes itself (no JavaScript needed) and says so.
    sid = sandbox.xendit.session_by_reference(body["reference_id"])["payment_session_id"]
    await sandbox.xendit.complete(sid)
    await customer.get_by_text("Pembayaran diterima").wait_for(timeout=15_000)
    await customer.screenshot(path=tmp_path / "return-paid-id.png", full_page=True)
    await context.close()


async def test_switching_between_the_owner_and_the_shops_group_on_a_phone(
    sandbox: Sandbox, browser: Any, tmp_path: Path
) -> None:
    """The chats of the switcher are separate chats, each with its own people and buttons."""
    from playwright.async_api import expect

    page = await browser.new_page(viewport=PHONE, is_mobile=True)
    await page.goto(sandbox.url)
    tabs = page.get_by_role("tab")
    await expect(tabs).to_have_count(3)
    await expect(page.get_by_role("tab", name="Sari owner")).to_have_attribute(
        "aria-selected", "true"
    )
    await expect(page.get_by_label("Typing as")).to_be_hidden()  # the group's only
    await no_sideways_scroll(page)
    await page.fill("#text", "/pay 15000 teh manis")
    await page.press("#text", "Enter")
    card = page.locator(".msg.bot", has_text="Payment link: Rp15.000")
    await card.wait_for()

    # The group: nothing reaches the bot before it is added (Telegram tells it nothing).
    await page.get_by_role("tab", name="Warung Sari team").click()
    await expect(page.locator("#chat-title")).to_have_text("Warung Sari team (group)")
    await expect(page.locator("#chat .msg")).to_have_count(0)
    await expect(page.locator("#text")).to_be_disabled()
    await expect(page.get_by_text("/connect").first).to_be_visible()
    await no_sideways_scroll(page)
    await page.screenshot(path=tmp_path / "group-before.png")
    await page.get_by_role("button", name="Add the bot to this group").click()
    await expect(page.locator("#text")).to_be_enabled()
    await page.get_by_text("The bot is in this group").wait_for()
    # Sari owns the shop: the bot offers to connect the group.
    await page.locator(".msg.bot", has_text="Shall I make this group the shop's group").wait_for()
    # A group that is not (yet) the shop's: the bot says what /connect would do.
    await page.fill("#text", "/pay 20000 kopi")
    await page.press("#text", "Enter")
    refusal = page.locator(".msg.bot", has_text="This group is not the shop's group")
    await refusal.wait_for()
    await expect(refusal).to_contain_text("/connect")
    mine = page.locator(".msg.me", has_text="/pay 20000 kopi")
    await expect(mine.locator(".from")).to_have_text("Sari")
    # Tono types in the group too: he is not in the team, so the bot turns him away.
    await page.get_by_label("Typing as").select_option(label="Tono (cashier)")
    await page.fill("#text", "/pay 1000 es")
    await page.press("#text", "Enter")
    await expect(page.locator(".msg.me", has_text="/pay 1000 es").locator(".from")).to_have_text(
        "Tono"
    )
    await page.locator(".msg.bot", has_text="for a shop's team only").wait_for()
    await no_sideways_scroll(page)
    await page.screenshot(path=tmp_path / "group-after.png", full_page=True)
    # What the bot was told when Sari added it: Telegram's ChatMemberUpdated.
    delivered = [u for c in sandbox.telegram.calls_for("getUpdates") if c.ok for u in c.response]
    [added] = [u["my_chat_member"] for u in delivered if "my_chat_member" in u]
    assert added["chat"] == {
        "id": -1001234567890,
        "type": "supergroup",
        "title": "Warung Sari team",
    }
    assert added["from"]["id"] == 1001
    assert added["new_chat_member"]["status"] == "member"

    # Back in Sari's chat: her card is there, nothing of the group's, and its buttons work.
    await page.get_by_role("tab", name="Sari owner").click()
    await card.wait_for()
    await expect(page.locator("#chat")).not_to_contain_text("/pay 20000 kopi")
    await card.get_by_role("button", name="QR code").click()
    qr = page.locator(".msg.bot img[alt='QR code']")
    await qr.wait_for()
    await expect(qr).to_have_js_property("complete", True)
    assert await qr.evaluate("img => img.naturalWidth > 200")
    # Tono's own chat: only what he says there.
    await page.get_by_role("tab", name="Tono cashier").click()
    await expect(page.locator("#chat .msg")).to_have_count(0)
    await page.fill("#text", "/start")
    await page.press("#text", "Enter")
    await page.locator(".msg.bot", has_text="for a shop's team only").wait_for()
    await no_sideways_scroll(page)
    await page.screenshot(path=tmp_path / "cashier-before-invite.png")


async def invite_tono(page: Any, tmp_path: Path) -> Any:
    """Sari sends /invite, shares the link, Tono taps it and makes a link; his card."""
    from playwright.async_api import expect

    # Sari invites a cashier: a one-time link to the bot, and a button to send it on.
    await page.fill("#text", "/invite")
    await page.press("#text", "Enter")
    invite = page.locator(".msg.bot", has_text="?start=join_")
    await invite.wait_for(timeout=10_000)
    link = invite.locator("a[data-start^='join_']")
    payload = await link.get_attribute("data-start")
    assert payload is not None
    assert await link.get_attribute("href") == f"https://t.me/paybot_sandbox_bot?start={payload}"
    await invite.locator("button[data-sheet]").click()  # "Send the invite": t.me/share/url
    sheet = page.locator("#sheet")
    await expect(sheet).to_be_visible()
    await expect(sheet).to_contain_text(f"?start={payload}")
    await no_sideways_scroll(page)
    await page.screenshot(path=tmp_path / "invite-shared.png")

    # Tono taps the link he was sent: Telegram sends "/start join_..." from him, to the bot.
    await sheet.locator("a[data-start]").click()
    tono = sheet.get_by_role("button", name="Open as Tono (cashier)")
    await expect(tono).to_have_class("main")  # the one not in the team yet comes first
    await page.screenshot(path=tmp_path / "who-taps.png")
    await tono.click()
    await expect(sheet).to_be_hidden()
    await expect(page.get_by_role("tab", name="Tono cashier")).to_have_attribute(
        "aria-selected", "true"
    )
    await page.locator(".msg.me", has_text=f"/start {payload}").wait_for()
    await page.locator(".msg.bot", has_text="Welcome to").wait_for()
    await page.fill("#text", "/pay 25000 es teh")
    await page.press("#text", "Enter")
    card = page.locator(".msg.bot", has_text="Payment link: Rp25.000")
    await card.wait_for()
    await no_sideways_scroll(page)
    await page.screenshot(path=tmp_path / "cashier-card.png")
    return card


async def test_owner_invites_a_cashier_who_opens_the_link_and_makes_a_payment_link(
    sandbox: Sandbox, browser: Any, tmp_path: Path
) -> None:
    page = await browser.new_page(viewport=PHONE, is_mobile=True)
    await page.goto(sandbox.url)
    await invite_tono(page, tmp_path)
    # Sari, in her own chat, was told that Tono joined; her chat is hers alone.
    await page.get_by_role("tab", name="Sari owner").click()
    await page.locator(".msg.bot", has_text="Tono joined").wait_for()
    assert "es teh" not in await page.locator("#chat").inner_text()


async def test_a_cashiers_payment_is_announced_in_the_shops_group(
    sandbox: Sandbox, browser: Any, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    page = await browser.new_page(viewport=PHONE, is_mobile=True)
    await page.goto(sandbox.url)
    card = await invite_tono(page, tmp_path)

    # Sari adds the bot to the shop's group and connects it.
    await page.get_by_role("tab", name="Warung Sari team").click()
    await page.get_by_role("button", name="Add the bot to this group").click()
    offer = page.locator(".msg.bot", has_text="Connect this group")
    await offer.get_by_role("button", name="Connect this group").click()
    await page.locator(".msg.bot", has_text="This group is now the shop's group").wait_for()

    # Tono's customer pays: the group hears of it, with who made the link.
    await page.get_by_role("tab", name="Tono cashier").click()
    await card.get_by_text("Open payment page").click()
    customer = page.frame_locator("#customer")
    await customer.get_by_text("Pay IDR 25.000").click()
    await customer.get_by_text("Payment received").wait_for(timeout=15_000)
    await page.get_by_text("Back to the chat").click()
    await page.get_by_role("tab", name="Warung Sari team").click()
    announced = page.locator(".msg.bot", has_text="Rp25.000")
    await announced.wait_for(timeout=10_000)
    await expect(announced).to_contain_text("Tono")
    await no_sideways_scroll(page)
    await page.screenshot(path=tmp_path / "group-paid.png", full_page=True)
