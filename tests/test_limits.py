"""Telegram's limits and inert inputs: long or hostile descriptions never lose a payment
notification, never break a message, and show exactly as typed; CSV cells and secret headers
are inert too."""

from __future__ import annotations

import asyncio
import csv
import html
import io
import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.app import Paybot
from bot.notifications import NotificationWorker, Pacing
from bot.reports import inert_cell
from bot.views import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    Delivery,
    notification,
    summary,
    telegram_length,
)
from storage import (
    Database,
    NewLink,
    NotificationStatus,
    SessionTruth,
)
from tests.conftest import CALLBACK_TOKEN, MERCHANT, StartBot
from tests.fakes import FakeTelegram, FakeXendit
from tests.helpers import Store, eventually
from tests.test_core_flow import say
from tests.test_merchant import press, ref_of, session_id_of
from tests.test_reliability import idle, payments_told, repo_of
from tests.test_webhook_mode import SECRET, SECRET_HEADER, WEBHOOK

#: 1000 characters (the most /pay takes) that escape to far more than that, with a tag
#: left open: shortened or split carelessly, they break the HTML or the length limit.
HOSTILE = ("<b>kopi & roti " * 70)[:1000]


def longest_message(tg: FakeTelegram, since: int = 0) -> int:
    return max((telegram_length(s.text or "") for s in tg.outbox[since:]), default=0)


async def paid_rows_sent(app: Paybot, count: int) -> bool:
    rows = [r for r in await repo_of(app).notifications() if r.kind == "PAID"]
    return len(rows) == count and all(r.status == NotificationStatus.SENT for r in rows)


# -- Part A: nothing too long for Telegram, and no notification lost ---------------------------


async def test_a_flash_sale_with_long_descriptions_reaches_the_merchant_whole(
    start_bot: StartBot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    """42 payments with 100-character descriptions at once: summaries that would be 6,000
    characters long. Every payment is told, in messages Telegram takes."""
    app = await start_bot(xendit_rate_limit=6000)
    sessions: list[str] = []
    refs: list[str] = []
    for n in range(42):
        description = f"pesanan {n:02d} " + "nasi goreng & es teh <manis> " * 4
        card = await say(tg, f"/pay {10_000 + n} {description[:100]}")
        refs.append(ref_of(card))
        sessions.append(session_id_of(xendit))
    mark = tg.mark()
    results = await asyncio.gather(*(xendit.complete(sid, send_capture=False) for sid in sessions))
    assert all(r.status == 200 for r in results)

    await tg.wait_for(lambda: payments_told(tg, mark, MERCHANT) >= 42, timeout=30)
    # Done once the PAID rows are marked sent; the 42 card edits behind them are paced a
    # second apart in this one chat and are not what this test is about.
    await eventually(lambda: paid_rows_sent(app, 42))
    told = [s for s in tg.outbox[mark:] if s.method == "sendMessage"]
    assert payments_told(tg, mark, MERCHANT) == 42
    for ref in refs:
        assert any(f"<code>{ref}</code>" in (s.text or "") for s in told), ref
    assert longest_message(tg, mark) <= TEXT_LIMIT
    assert [c for c in tg.calls[1:] if c.status == 400] == []  # nothing was refused
    # Shortened before escaping: no entity cut in half, the rest of the line intact.
    # (Which summary carries which payment depends on the order the checks finished in.)
    assert any("· pesanan 00 nasi goreng &amp; es teh &lt;manis… ·" in (s.text or "") for s in told)
    assert re.search(r"&[a-z]*…", "".join(s.text or "" for s in told)) is None
    assert await paid_rows_sent(app, 42)


async def test_a_1000_character_description_fits_card_lists_qr_and_notification(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    card = await say(tg, f"/pay 150000 {HOSTILE}")
    assert card.text is not None
    assert "Payment link: Rp150.000" in card.text
    assert "&lt;b&gt;kopi &amp; roti" in card.text  # literal, and no open <b> tag
    assert "<b>kopi" not in card.text
    assert telegram_length(card.text) <= TEXT_LIMIT
    ref = ref_of(card)
    assert f"Ref: <code>{ref}</code>" in card.text  # the description gave way, nothing else
    assert [c for c in tg.calls if c.status == 400] == []

    for command in ("/links", "/unpaid"):
        listed = await say(tg, command)
        assert listed.text is not None
        assert f"<code>{ref}</code>" in listed.text
        assert "&lt;b&gt;kopi &amp; roti" in listed.text
        assert telegram_length(listed.text) <= TEXT_LIMIT

    mark = tg.mark()
    await press(tg, card, f"qr:{ref}")
    photo = await tg.wait_message(MERCHANT, method="sendPhoto", since=mark)
    assert photo.text is not None
    assert f"<code>{ref}</code>" in photo.text
    assert telegram_length(photo.text) <= CAPTION_LIMIT

    mark = tg.mark()
    await xendit.complete(session_id_of(xendit))
    paid = await tg.wait_message(MERCHANT, contains="PAID", since=mark)
    assert paid.text is not None
    assert "&lt;b&gt;kopi &amp; roti" in paid.text
    assert telegram_length(paid.text) <= TEXT_LIMIT
    await idle(paybot)
    assert await paid_rows_sent(paybot, 1)
    assert [c for c in tg.calls if c.status == 400] == []


async def test_a_formatting_400_on_the_paid_message_still_tells_the_merchant(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    card = await say(tg, "/pay 150000 kopi & roti")
    tg.fail(
        "sendMessage",
        400,
        description='Bad Request: can\'t parse entities: Unsupported start tag "b" at byte 2',
    )
    mark = tg.mark()
    await xendit.complete(session_id_of(xendit))
    paid = await tg.wait_message(MERCHANT, contains="PAID", since=mark)
    await idle(paybot)
    refused = [c for c in tg.calls if c.method == "sendMessage" and c.status == 400]
    assert len(refused) == 1
    # The same words, as plain text: nothing left for Telegram to parse.
    assert "parse_mode" not in paid.params
    assert paid.text is not None
    assert "PAID Rp150.000" in paid.text
    assert "kopi & roti" in paid.text
    assert f"Ref: {ref_of(card)}" in paid.text
    assert await paid_rows_sent(paybot, 1)


async def test_an_unknown_400_is_retried_not_dropped(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    """A refusal neither the HTML nor the plain form gets past is not "chat gone": kept,
    and sent when Telegram takes it again."""
    await say(tg, "/pay 150000 kopi")
    tg.fail("sendMessage", 400, times=2, description="Bad Request: something new")
    mark = tg.mark()
    await xendit.complete(session_id_of(xendit))
    await tg.wait_message(MERCHANT, contains="PAID", since=mark, timeout=10)
    await idle(paybot)
    assert await paid_rows_sent(paybot, 1)


async def test_summaries_split_by_size(database_url: str) -> None:
    """Even with far more notes than fit, each summary the worker sends fits one message,
    and together they carry every note."""
    db = await Database.connect(database_url)
    sent: list[Delivery] = []

    class Recorder:
        async def deliver(self, chat_id: int, delivery: Delivery) -> None:
            sent.append(delivery)

    try:
        repo = Store(db)
        for n in range(90):
            ref = f"SPLIT{n:03d}"
            link = await repo.create_link(
                NewLink(
                    ref,
                    f"pb-{ref}",
                    MERCHANT,
                    MERCHANT,
                    "en",
                    10_000,
                    "IDR",
                    "&" * 1000,
                    shop_id=(await repo.a_shop()).id,
                )
            )
            sid = f"ps-split-{n:03d}-0000000000000000"
            await repo.activate_link(
                link.id,
                session_id=sid,
                link_url="https://pay.example/x",
                expires_at=datetime.now(UTC) + timedelta(hours=1),
            )
            truth = SessionTruth(
                sid, f"pb-{ref}", "COMPLETED", 10_000, "IDR", None, datetime.now(UTC)
            )
            await repo.apply_session_truth(link.id, truth)

        async def zone_of(shop_id: int) -> ZoneInfo:
            return ZoneInfo("Asia/Jakarta")

        worker = NotificationWorker(
            repo,
            Recorder(),
            notification,
            summary,
            zone_of,
            max_summary=1000,
            pacing=Pacing(private_interval=0.0),
        )
        while await worker.deliver_due():
            pass
    finally:
        await db.close()
    texts = [d.reply.text for d in sent]
    assert len(texts) >= 2
    assert all(telegram_length(t) <= TEXT_LIMIT for t in texts)
    refs = re.findall(r"<code>(SPLIT\d+)</code>", "".join(texts))
    assert sorted(refs) == [f"SPLIT{n:03d}" for n in range(90)]


# -- Part B: inert inputs ----------------------------------------------------------------------


async def test_html_in_a_description_shows_literally_everywhere(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    typed = "<b>kopi & roti <i>"
    shown = html.escape(typed)
    card = await say(tg, f"/pay 150000 {typed}")
    assert card.text is not None
    assert shown in card.text
    url = xendit.session_by_reference(xendit.created()[-1]["reference_id"])["payment_link_url"]

    query_id = tg.push_inline_query(MERCHANT, ref_of(card))
    await tg.wait_for(lambda: query_id in tg.inline_answers)
    [result] = json.loads(tg.inline_answers[query_id]["results"])
    content = result["input_message_content"]
    assert content["parse_mode"] == "HTML"
    assert (
        content["message_text"]
        == f"Hello from PayBot! Please pay Rp150.000 for {shown} here: {url}"
    )

    listed = await say(tg, "/links")
    assert shown in (listed.text or "")
    mark = tg.mark()
    await xendit.complete(session_id_of(xendit))
    paid = await tg.wait_message(MERCHANT, contains="PAID", since=mark)
    assert shown in (paid.text or "")


async def test_export_neutralises_spreadsheet_formulas(
    paybot: Paybot, tg: FakeTelegram, xendit: FakeXendit
) -> None:
    typed = ['=HYPERLINK("http://evil.example","klik")', "+62 811", "-5 diskon", "@kasir"]
    for n, description in enumerate(typed):
        await say(tg, f"/pay {10_000 + n} {description}")
    await say(tg, "/pay 20000 kopi = enak")
    mark = tg.mark()
    tg.push_message(MERCHANT, "/export")
    document = await tg.wait_message(MERCHANT, method="sendDocument", since=mark)
    found = tg.file_of(MERCHANT, document.message_id)
    assert found is not None
    rows = list(csv.DictReader(io.StringIO(found[0].decode("utf-8-sig"))))
    assert [r["description"] for r in rows] == [*("'" + t for t in typed), "kopi = enak"]
    assert [r["amount"] for r in rows] == ["10000", "10001", "10002", "10003", "20000"]


@pytest.mark.parametrize(
    ("cell", "inert"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("kopi = 1", "kopi = 1"),
        (" =1", " =1"),
        ("", ""),
        ("150000", "150000"),
    ],
)
def test_inert_cell(cell: str, inert: str) -> None:
    assert inert_cell(cell) == inert


async def raw_post(url: str, path: str, header: bytes) -> tuple[int, dict[str, str]]:
    """POST with a header line written byte for byte (an HTTP client would refuse 0xff)."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(
            b"POST " + path.encode() + b" HTTP/1.1\r\nHost: paybot\r\n"
            b"Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n"
            + header
            + b"\r\n\r\n{}"
        )
        await writer.drain()
        async with asyncio.timeout(10):
            response = await reader.read()
    finally:
        writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


async def test_a_callback_token_that_is_not_utf8_is_refused_with_401(paybot: Paybot) -> None:
    status, body = await raw_post(
        paybot.url, "/webhooks/xendit", b"x-callback-token: " + CALLBACK_TOKEN.encode() + b"\xff"
    )
    assert status == 401
    assert body["error"] == "invalid_callback_token"


async def test_a_telegram_secret_that_is_not_utf8_is_refused_with_401(
    start_bot: StartBot, tg: FakeTelegram
) -> None:
    app = await start_bot(**WEBHOOK, telegram_webhook_secret=SECRET)
    header = SECRET_HEADER.encode() + b": \xfe\xff" + SECRET.encode()
    status, body = await raw_post(app.url, "/webhooks/telegram", header)
    assert status == 401
    assert body["error"] == "invalid_secret_token"
