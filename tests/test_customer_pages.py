"""The customer's return page: our own records, never the redirect, on a cheap phone."""

from __future__ import annotations

import re

import aiohttp
import pytest

from bot.app import Paybot
from bot.config import ConfigError, load_settings
from bot.pages import page_language
from tests.conftest import MERCHANT, StartBot
from tests.fakes import FakeTelegram, FakeXendit
from tests.test_core_flow import say

PUBLIC = "https://pay.example.com"


async def get_page(app: Paybot, path: str, language: str = "en") -> tuple[int, str, dict[str, str]]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{app.url}{path}", headers={"Accept-Language": language}) as response,
    ):
        return response.status, await response.text(), dict(response.headers)


def return_path(xendit: FakeXendit, index: int = -1, *, paid: bool = False) -> str:
    """Where Xendit sends the customer back: after paying (``paid``), or otherwise."""
    url = xendit.created()[index]["success_return_url" if paid else "cancel_return_url"]
    assert url.startswith(f"{PUBLIC}/r/")
    return url.removeprefix(PUBLIC)


async def test_links_send_the_customer_back_to_an_unguessable_page_per_link(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await start_bot(public_url=PUBLIC)
    await say(tg, "/pay 150000 kopi")
    await say(tg, "/pay 150000 kopi")
    first, second = xendit.created()
    # One page per link; the customer who has paid lands on its own path (no Pay button).
    assert first["success_return_url"] == first["cancel_return_url"] + "/done"
    tokens = [body["cancel_return_url"].rsplit("/", 1)[1] for body in (first, second)]
    assert tokens[0] != tokens[1]
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token)  # 24 random bytes


async def test_without_public_url_no_return_url_is_sent(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    await say(tg, "/pay 150000")
    assert "success_return_url" not in xendit.created()[-1]


async def test_waiting_page_offers_the_pay_button_and_refreshes_itself(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    app = await start_bot(public_url=PUBLIC)
    await say(tg, "/pay 150000 kopi susu")
    session = xendit.session_by_reference(xendit.created()[-1]["reference_id"])
    status, page, headers = await get_page(app, return_path(xendit))
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert "Waiting for payment" in page
    assert "Rp150.000" in page
    assert "kopi susu" in page
    assert "PayBot" in page  # the shop's name: SHOP_NAME unset, the bot's own name
    assert f'href="{session["payment_link_url"]}"' in page
    assert '<meta http-equiv="refresh"' in page
    # Small, self-contained, readable without JavaScript.
    assert len(page.encode()) < 10_000
    assert "<script" not in page
    assert not re.search(r'(src|href)="https?://(?!127\.0\.0\.1)', page)
    assert "default-src 'none'" in headers["Content-Security-Policy"]


async def test_the_redirect_itself_is_never_proof(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    app = await start_bot(public_url=PUBLIC)
    await say(tg, "/pay 150000 kopi")
    # Whatever the path or query string claims, the page says what our records say.
    for path in (return_path(xendit), return_path(xendit, paid=True)):
        _, page, _ = await get_page(app, f"{path}?status=COMPLETED&paid=true")
        assert "Payment received" not in page
        assert '<meta http-equiv="refresh"' in page


async def test_a_customer_who_just_paid_sees_it_once_xendit_confirms(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    app = await start_bot(public_url=PUBLIC)
    await say(tg, "/pay 150000 kopi")
    sid = xendit.session_by_reference(xendit.created()[-1]["reference_id"])["payment_session_id"]
    xendit.sessions[sid]["status"] = "COMPLETED"  # paid; the webhook is late
    _, page, _ = await get_page(app, return_path(xendit, paid=True))
    assert "Confirming your payment…" in page
    # Loading the page asked Xendit (not the redirect) for the truth...
    await xendit.wait_for(
        lambda: any(r.method == "GET" and r.path == f"/sessions/{sid}" for r in xendit.requests)
    )
    await tg.wait_message(MERCHANT, contains="PAID")
    # ...so the next refresh shows it paid, and the merchant was told too.
    _, page, _ = await get_page(app, return_path(xendit, paid=True))
    assert "Payment received" in page
    assert '<meta http-equiv="refresh"' not in page


async def test_paid_page_in_indonesian(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    app = await start_bot(public_url=PUBLIC)
    await say(tg, "/pay 150000 kopi")
    sid = xendit.session_by_reference(xendit.created()[-1]["reference_id"])["payment_session_id"]
    await xendit.complete(sid)
    await tg.wait_message(MERCHANT, contains="PAID")
    _, page, _ = await get_page(app, return_path(xendit), language="id-ID,id;q=0.9,en;q=0.8")
    assert '<html lang="id">' in page
    assert "Pembayaran diterima" in page
    assert "Dibayar" in page
    assert "Rp150.000" in page
    assert 'class="pay"' not in page


async def test_back_from_paying_before_the_bot_knows_no_pay_button_and_no_paid_yet(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    app = await start_bot(public_url=PUBLIC)
    await say(tg, "/pay 150000 kopi susu")
    sid = xendit.session_by_reference(xendit.created()[-1]["reference_id"])["payment_session_id"]
    # Paid at Xendit; its webhook has not come and its API still says ACTIVE (it lags).
    xendit.sessions[sid]["status"] = "COMPLETED"
    xendit.get_overrides[sid] = {"status": "ACTIVE"}
    for language, confirming in (("en", "Confirming your payment…"), ("id", "Mengonfirmasi")):
        status, page, _ = await get_page(app, return_path(xendit, paid=True), language)
        assert status == 200
        assert confirming in page
        assert 'class="pay"' not in page  # no second payment
        assert "Rp150.000" in page
        assert "kopi susu" in page
        assert '<meta http-equiv="refresh"' in page
        assert "Payment received" not in page
        assert "Pembayaran diterima" not in page
    await xendit.wait_for(lambda: xendit.requests_to("GET", f"/sessions/{sid}"))
    _, page, _ = await get_page(app, return_path(xendit, paid=True))
    assert "Confirming your payment…" in page  # Xendit said ACTIVE: still not "paid"
    # The cancel return URL (and links made before it existed) still offers to pay.
    _, page, _ = await get_page(app, return_path(xendit))
    assert "Waiting for payment" in page
    assert 'class="pay"' in page
    # Xendit catches up and its webhook comes: now the page says so.
    del xendit.get_overrides[sid]
    await xendit.complete(sid)
    await tg.wait_message(MERCHANT, contains="PAID")
    _, page, _ = await get_page(app, return_path(xendit, paid=True))
    assert "Payment received" in page
    assert '<meta http-equiv="refresh"' not in page


async def test_back_from_paying_but_never_confirmed_shows_the_truth(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    app = await start_bot(public_url=PUBLIC)
    await say(tg, "/pay 150000 kopi")
    sid = xendit.session_by_reference(xendit.created()[-1]["reference_id"])["payment_session_id"]
    _, page, _ = await get_page(app, return_path(xendit, paid=True))
    assert "Confirming your payment…" in page
    await xendit.expire(sid)
    await tg.wait_message(MERCHANT, contains="Expired")
    _, page, _ = await get_page(app, return_path(xendit, paid=True))
    assert "This payment link has expired" in page
    assert "Nothing was charged" in page
    assert "Confirming" not in page
    assert '<meta http-equiv="refresh"' not in page


@pytest.mark.parametrize(
    ("ending", "expected"), [("expire", "has expired"), ("cancel", "cancelled")]
)
async def test_expired_and_cancelled_pages(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit, ending: str, expected: str
) -> None:
    app = await start_bot(public_url=PUBLIC)
    card = await say(tg, "/pay 150000 kopi")
    sid = xendit.session_by_reference(xendit.created()[-1]["reference_id"])["payment_session_id"]
    if ending == "expire":
        await xendit.expire(sid)
        await tg.wait_message(MERCHANT, contains="Expired")
    else:
        ref = (card.text or "").split("Ref: <code>")[1][:8]
        await say(tg, f"/cancel {ref}")
    _, page, _ = await get_page(app, return_path(xendit))
    assert expected in page
    assert 'class="pay"' not in page
    assert "Nothing was charged" in page


@pytest.mark.parametrize(
    "path",
    ["/r/not-a-real-token-at-all-000000000", "/r/x", "/r/not-a-real-token-at-all-000000000/done"],
)
async def test_unknown_token_is_a_plain_404(paybot: Paybot, path: str) -> None:
    status, page, _ = await get_page(paybot, path)
    assert status == 404
    assert "Page not found" in page
    assert "Rp" not in page


def test_public_url_must_be_https_outside_the_sandbox() -> None:
    secrets = {
        "telegram_bot_token": "1:x",
        "xendit_secret_key": "xnd_development_x",
        "xendit_callback_token": "t",
    }
    with pytest.raises(ConfigError, match="PUBLIC_URL: must be an https:// address"):
        load_settings(_env_file=None, public_url="http://shop.example.com", **secrets)
    settings = load_settings(
        _env_file=None, sandbox=True, public_url="http://127.0.0.1:8080", **secrets
    )
    assert str(settings.public_url) == "http://127.0.0.1:8080/"
    assert load_settings(_env_file=None, public_url=PUBLIC, **secrets).public_url is not None


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("id-ID,id;q=0.9,en-US;q=0.8", "id"),
        ("en-US,en;q=0.9,id;q=0.8", "en"),
        ("fr-FR,id;q=0.5", "id"),
        ("de-DE", "en"),
        (None, "en"),
        ("en;q=0.2,id;q=0.7", "id"),
    ],
)
def test_page_language_follows_the_browser(header: str | None, language: str) -> None:
    assert page_language(header) == language
