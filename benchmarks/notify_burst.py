"""1,000 payments completed at once across 100 chats: how fast does the outbox drain?

Runs the real bot in-process (``bot.app.Paybot``) against the fake Telegram with its flood
limits on (1 message a second per chat, 30 a second overall) and the fake Xendit, over real
HTTP on 127.0.0.1. It makes 10 links in each of 100 chats through ``/pay``, then fires the
1,000 completions (``payment.capture`` + ``payment_session.completed`` webhooks, 32 at a time)
and measures until every payment has been told to its merchant ("PAID" messages, or summaries
of several for one chat) and every PAID row of the outbox is marked sent.

    python benchmarks/notify_burst.py               # about 1.5-2 minutes
    python benchmarks/notify_burst.py --wait-cards  # also wait for the 1,000 card edits

Exit status 1 when a payment was not told, or told twice.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "true")

from bot.app import Paybot  # noqa: E402
from bot.config import load_settings  # noqa: E402
from storage import NotificationKind, NotificationStatus  # noqa: E402
from tests.fakes import FakeTelegram, FakeXendit, Sent, WebhookResult  # noqa: E402
from tests.helpers import Store  # noqa: E402

BOT_TOKEN = "123456:BENCH-TOKEN"
XENDIT_KEY = "xnd_development_bench_secret"
CALLBACK_TOKEN = "bench-callback-token"

CHATS = tuple(range(5001, 5101))  # 100 private chats, each its own merchant
LINKS_PER_CHAT = 10
TOTAL = len(CHATS) * LINKS_PER_CHAT
CONCURRENCY = 32  # webhooks in flight at once, as Xendit's delivery would have them
SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})  # flood-limited

_REF = re.compile(r"Ref: <code>([A-Z0-9]+)</code>")
#: One line of a summary of several payments for one chat ("✅ 7 payments received: …").
_SUMMARY_LINE = re.compile(r"^• .*<code>([A-Z0-9]+)</code>$", re.MULTILINE)


class TimedXendit(FakeXendit):
    """The fake Xendit, timing how long the bot takes to acknowledge each webhook."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acks: list[tuple[str, float, int]] = []  # (event, seconds, status)

    async def send_webhook(self, payload: Any, **kwargs: Any) -> WebhookResult:
        started = time.perf_counter()
        result = await super().send_webhook(payload, **kwargs)
        self.acks.append((result.event or "?", time.perf_counter() - started, result.status))
        return result


class OutboxScan:
    """Reads the fake's outbox incrementally (a full rescan per event would cost O(n²))."""

    def __init__(self, tg: FakeTelegram, since: int, marker: str) -> None:
        self._tg = tg
        self._pos = since
        self._marker = marker
        self.found: list[Sent] = []

    def scan(self) -> int:
        outbox = self._tg.outbox
        while self._pos < len(outbox):
            message = outbox[self._pos]
            self._pos += 1
            if message.method == "sendMessage" and self._marker in (message.text or ""):
                self.found.append(message)
        return len(self.found)


def told_paid(message: Sent) -> list[str]:
    """References a message tells the merchant are paid: one "PAID" message, or a summary."""
    text = message.text or ""
    if "PAID" in text:
        return [ref_of(message)]
    if "payments received" in text:
        return _SUMMARY_LINE.findall(text)
    return []


class PaidScan:
    """Every payment the merchants were told of, read incrementally from the fake's outbox."""

    def __init__(self, tg: FakeTelegram, since: int) -> None:
        self._tg = tg
        self._pos = since
        self.messages: list[tuple[Sent, list[str]]] = []  # each message and the refs it told
        self.told: Counter[str] = Counter()

    def scan(self) -> int:
        """How many distinct references have been told so far."""
        outbox = self._tg.outbox
        while self._pos < len(outbox):
            message = outbox[self._pos]
            self._pos += 1
            refs = told_paid(message) if message.method == "sendMessage" else []
            if refs:
                self.messages.append((message, refs))
                self.told.update(refs)
        return len(self.told)


@dataclass(frozen=True)
class TooMany:
    """429s the fake answered, by the limit that caused them."""

    per_chat: int
    overall: int

    @property
    def total(self) -> int:
        return self.per_chat + self.overall


def count_429s(tg: FakeTelegram, before: Counter[str]) -> TooMany:
    """The 429s the fake answered since ``before`` (a copy of ``tg.flood_limit_hits``), by
    the limit that caused them (a request over both limits counts for both)."""
    hits = tg.flood_limit_hits - before
    return TooMany(per_chat=hits["chat"], overall=hits["overall"])


def ref_of(message: Sent) -> str:
    match = _REF.search(message.text or "")
    return match.group(1) if match else "?"


def percentile(values: list[float], pct: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def timeline(told: Sequence[tuple[Sent, list[str]]], start: float, *, step: float) -> str:
    """How many payments were told in each ``step`` seconds since ``start``."""
    if not told:
        return "-"
    buckets: Counter[int] = Counter()
    for message, refs in told:
        buckets[int((message.at - start) // step)] += len(refs)
    return " ".join(str(buckets.get(i, 0)) for i in range(max(buckets) + 1))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def make_links(tg: FakeTelegram) -> tuple[list[Sent], float, TooMany, int]:
    """``/pay`` in every chat, one round per link: a round's 100 replies go out at the
    overall 30/s, so no chat ever gets two replies within a second.

    Returns (payment cards, seconds, 429s caused, error replies)."""
    started = time.monotonic()
    hits_before = tg.flood_limit_hits.copy()
    cards: list[Sent] = []
    errors = 0
    for n in range(LINKS_PER_CHAT):
        mark = tg.mark()
        for chat in CHATS:
            tg.push_message(chat, f"/pay {10_000 + 1_000 * n + chat % 1_000} barang {n + 1}")
        scan = OutboxScan(tg, mark, "Payment link")
        await tg.wait_for(lambda scan=scan: scan.scan() >= len(CHATS) or None, timeout=60)
        cards.extend(scan.found)
        errors += sum(
            1
            for m in tg.outbox[mark:]
            if m.method == "sendMessage" and "Payment link" not in (m.text or "")
        )
    return cards, time.monotonic() - started, count_429s(tg, hits_before), errors


async def complete_all(xendit: TimedXendit, session_ids: list[str]) -> float:
    """Every payment completes; at most ``CONCURRENCY`` deliveries in flight. Returns when the
    last webhook was acknowledged (time.monotonic())."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(session_id: str) -> None:
        async with gate:
            await xendit.complete(session_id, channel_code="QRIS")

    await asyncio.gather(*(one(sid) for sid in session_ids))
    return time.monotonic()


async def settle(repository: Store, kinds: set[str], within: float) -> list[Any]:
    """Outbox rows once none of ``kinds`` is still PENDING (polled: the database is shared)."""
    rows: list[Any] = []
    try:
        async with asyncio.timeout(within):
            while True:
                rows = list(await repository.notifications())
                if not any(
                    r.kind in kinds and r.status == NotificationStatus.PENDING.value for r in rows
                ):
                    return rows
                await asyncio.sleep(0.2)
    except TimeoutError:
        print(f"outbox: {sorted(kinds)} still pending {within:.0f}s after the burst")
    return rows


async def run(wait_cards: bool) -> int:
    with tempfile.TemporaryDirectory(prefix="paybot-bench-") as tmp:
        async with (
            FakeTelegram(token=BOT_TOKEN) as tg,
            TimedXendit(secret_key=XENDIT_KEY, callback_token=CALLBACK_TOKEN) as xendit,
        ):
            tg.flood_limits = True  # 1/s per chat, 30/s overall (the fake's defaults)
            settings = load_settings(
                _env_file=None,
                telegram_bot_token=BOT_TOKEN,
                xendit_secret_key=XENDIT_KEY,
                xendit_callback_token=CALLBACK_TOKEN,
                database_url=f"sqlite:///{Path(tmp) / 'paybot.db'}",
                host="127.0.0.1",
                port=0,
                telegram_api_url=tg.url,
                xendit_api_url=xendit.url,
                allowed_user_ids=",".join(str(c) for c in CHATS),
                xendit_rate_limit=100_000,  # one GET /sessions per completion
                log_level="WARNING",
            )
            bot = Paybot(settings)
            await bot.start()
            try:
                xendit.webhook_url = f"{bot.url}/webhooks/xendit"
                return await measure(bot, tg, xendit, wait_cards=wait_cards)
            finally:
                await bot.stop()


async def measure(bot: Paybot, tg: FakeTelegram, xendit: TimedXendit, *, wait_cards: bool) -> int:
    print(
        f"paybot notify burst: {TOTAL:,} completions across {len(CHATS)} chats "
        f"({LINKS_PER_CHAT} each); fake Telegram flood limits {tg.per_chat_per_second:g}/s "
        f"per chat, {tg.overall_per_second}/s overall; webhook concurrency {CONCURRENCY}"
    )

    # -- 1. the links, through /pay ---------------------------------------------------------
    cards, made_in, made_429, made_errors = await make_links(tg)
    session_ids: list[str] = []
    expected: dict[str, int] = {}  # ref -> chat
    checkout = f"{xendit.checkout_base}/"
    for card in cards:
        [url] = [b.url for b in tg.buttons(card) if b.url and b.url.startswith(checkout)]
        session_ids.append(url.removeprefix(checkout))
        expected[ref_of(card)] = card.chat_id
    print(
        f"\n1) links: {len(cards):,} /pay replies (payment cards) in {made_in:.1f}s "
        f"({len(cards) / made_in:.1f}/s). They go through PTB's AIORateLimiter only, not the "
        f"outbox.\n   429s caused: {made_429.total} ({made_429.overall} overall limit, "
        f"{made_429.per_chat} per-chat limit); error replies: {made_errors}"
    )
    if len(expected) != TOTAL:
        print(f"FAILED: {len(expected)} distinct links made, {TOTAL} wanted")
        return 1

    # -- 2. the burst --------------------------------------------------------------------
    mark = tg.mark()
    hits_at_burst = tg.flood_limit_hits.copy()
    paid = PaidScan(tg, mark)
    first_sent = time.monotonic()
    burst = asyncio.create_task(complete_all(xendit, session_ids))
    timed_out = False
    try:
        await tg.wait_for(lambda: paid.scan() >= TOTAL or None, timeout=120)
    except AssertionError:
        timed_out = True
    last_ack = await burst
    # Every PAID row sent (so a duplicate would have gone out by now); the card edits are
    # queued behind them and only waited for with --wait-cards.
    assert bot.db is not None
    kinds = {NotificationKind.PAID.value}
    if wait_cards:
        kinds.add(NotificationKind.CARD.value)
    outbox_rows = await settle(Store(bot.db), kinds, within=120)
    card_edits = [
        m for m in tg.outbox[mark:] if m.method == "editMessageText" and "Paid:" in (m.text or "")
    ]
    assert bot.worker is not None
    if wait_cards:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await bot.worker.wait_idle()
    paid.scan()

    # -- 3. the numbers ------------------------------------------------------------------
    counts = paid.told
    delivered = sum(1 for ref in expected if counts[ref] >= 1)
    duplicates = sum(n - 1 for ref, n in counts.items() if ref in expected and n > 1)
    strangers = sum(n for ref, n in counts.items() if ref not in expected)
    wrong_chat = sum(
        1 for m, refs in paid.messages for ref in refs if expected.get(ref, m.chat_id) != m.chat_id
    )
    singles = sum(1 for _, refs in paid.messages if len(refs) == 1)
    summaries = [len(refs) for _, refs in paid.messages if len(refs) > 1]
    told_at = [m.at for m, _ in paid.messages]
    delivery_429 = count_429s(tg, hits_at_burst)
    drain = (max(told_at) - first_sent) if told_at else float("nan")
    overall_bound = TOTAL / tg.overall_per_second
    chat_bound = (LINKS_PER_CHAT - 1) / tg.per_chat_per_second
    bound = max(overall_bound, chat_bound)
    gets = xendit.requests_to("GET", "/sessions/")
    confirmed_by = max(r.at for r in gets) - first_sent if gets else float("nan")
    acks = [seconds for _, seconds, _ in xendit.acks]
    session_acks = [s for event, s, _ in xendit.acks if event.startswith("payment_session.")]
    not_200 = Counter(status for _, _, status in xendit.acks if status != 200)
    rows_by = Counter((str(r.kind), str(r.status)) for r in outbox_rows)

    print(f"\n2) burst: {TOTAL:,} completions = {len(xendit.acks):,} webhooks")
    print(f"   delivered            {delivered:,} of {TOTAL:,} payments told to their merchant")
    print(
        f"   messages             {len(paid.messages):,}: {singles:,} single PAID, "
        f"{len(summaries):,} summaries of several"
        + (
            f" ({min(summaries)}-{max(summaries)} payments each, "
            f"{sum(summaries):,} payments in all)"
            if summaries
            else ""
        )
    )
    print(f"   duplicates           {duplicates}  (payments told more than once)")
    print(f"   unknown / wrong chat {strangers} / {wrong_chat}")
    print(
        f"   429s during delivery {delivery_429.total}  ({delivery_429.overall} overall limit, "
        f"{delivery_429.per_chat} per-chat limit)"
    )
    print(
        f"   time to drain        {drain:.2f}s  (first webhook sent -> last payment message)"
        + ("  [TIMED OUT]" if timed_out else "")
    )
    print(
        f"   lower bound          {bound:.2f}s  = max({TOTAL:,} / {tg.overall_per_second}/s "
        f"= {overall_bound:.1f}s, {LINKS_PER_CHAT} per chat at "
        f"{tg.per_chat_per_second:g}/s = {chat_bound:.1f}s)"
    )
    print(
        f"   drain / bound        {drain / bound:.2f}"
        + ("  (the bound assumes one message per payment)" if summaries else "")
    )
    print(f"   told per 5 s         {timeline(paid.messages, first_sent, step=5.0)}  (payments)")
    print(
        f"   webhook acks         p50 {ms(percentile(acks, 50))}, p99 {ms(percentile(acks, 99))},"
        f" max {ms(max(acks))} (all {len(acks):,}); payment_session.* only: p50 "
        f"{ms(percentile(session_acks, 50))}, p99 {ms(percentile(session_acks, 99))}"
    )
    print(
        f"   all webhooks acked   {last_ack - first_sent:.2f}s after the first"
        + (f"; non-200: {dict(not_200)}" if not_200 else "; all 200")
    )
    print(f"   all confirmed        {confirmed_by:.2f}s ({len(gets):,} GET /sessions/{{id}})")
    print(
        "   outbox rows          "
        + ", ".join(f"{kind} {status} {n:,}" for (kind, status), n in sorted(rows_by.items()))
    )
    last_card = max((m.at for m in card_edits), default=first_sent) - first_sent
    print(
        f"   cards edited to paid {len(card_edits):,} of {TOTAL:,}"
        + (f", the last {last_card:.2f}s after the first webhook" if card_edits else "")
        + ("" if wait_cards else " (not waited for; --wait-cards)")
    )

    ok = delivered == TOTAL and duplicates == 0 and strangers == 0 and wrong_chat == 0
    print("\nOK" if ok else "\nFAILED")
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--wait-cards",
        action="store_true",
        help="also wait until every payment card has been edited to paid",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    started = time.monotonic()
    code = asyncio.run(run(args.wait_cards))
    print(f"total runtime {time.monotonic() - started:.1f}s")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
