"""/pay latency with 20 merchants typing at once, a flash sale for one chat, and memory.

The bot runs as its own process (``python -m bot``, exactly as deployed) against the stand-in
Telegram and Xendit in this process, which answer at once. Figures:

- the bot's own added time for /pay: the reply's arrival at Telegram (the stand-in's
  sendMessage handler starting) minus the moment Telegram handed the update to the bot (the
  getUpdates answer written to the bot's connection), less the time the Xendit stand-in took to
  answer POST /sessions (from the request's arrival to its answer being ready: the issue asks
  for the bot's time "with Xendit answering at once"). The round trip to Xendit stays in.
  p50/p99 while 20 merchants type at once: each types a /pay (2 to 5 seconds on a phone),
  sends it, waits for the link, and types the next, 15 times. The raw figure (the stand-in's
  time not taken off) is printed beside it;
- the same when all 20 messages arrive in the same millisecond (5 rounds): not how people
  type, but the worst case; the replies then queue behind each other for the one CPU core
  Python runs the bot on;
- 200 completions for ONE chat: the time until the merchant has been told of all of them,
  at Xendit's standard live limit of 600 requests a minute (the stand-in enforces it: every
  payment is confirmed with GET /sessions/{id} before the merchant is told);
- the process's resident memory idle, and after the load;
- beside each typing load, the disk's fsync stalls meanwhile (a probe writes and fsyncs a
  file next to the database every 20 ms): a commit waits out a stall, and every /pay behind
  it waits too, so a bad p99 with a stall is the disk's, not the bot's;
- the 20 merchants again with the bot in webhook mode (``TELEGRAM_MODE=webhook``, as several
  instances behind one address run): the update is POSTed to the bot as Telegram does, and the
  time counts from the moment the POST's body is written to the bot's connection (as in
  polling mode from the moment the getUpdates answer is).

    python benchmarks/pay_and_memory.py
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from benchmarks.deployed import bot_process  # noqa: E402
from bot.sandbox.telegram import FakeTelegram  # noqa: E402
from bot.sandbox.xendit import FakeXendit  # noqa: E402

MERCHANTS = 20
PAYS_EACH = 15
TYPING = (2.0, 5.0)  # seconds to type a /pay on a phone
SAME_INSTANT_ROUNDS = 5
FLASH_SALE = 200
DISK_STALL = 0.02  # seconds: an fsync longer than this is counted as the disk stalling


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * fraction) - 1)]


def xendit_time(xendit: FakeXendit, reply_text: str | None) -> float:
    """How long the Xendit stand-in took to answer the POST /sessions behind a card."""
    match = re.search(r"Ref: <code>([A-Z0-9]+)</code>", reply_text or "")
    assert match, reply_text
    prefix = f"pb-{match[1]}-"
    [request] = [
        r
        for r in xendit.requests
        if r.method == "POST"
        and r.path == "/sessions"
        and str((r.json or {}).get("reference_id", "")).startswith(prefix)
    ]
    assert request.answered_at is not None
    return request.answered_at - request.at


@contextmanager
def disk_stalls(directory: str) -> Iterator[list[float]]:
    """Watch the disk under the bot's database: fsync a 4 KB write every ``DISK_STALL``
    seconds, as a commit does, and collect how long each fsync took that took longer.

    A stall of the disk holds every commit behind it, and so every /pay waiting for one; on a
    shared VM they come and go. Printed beside the latencies, they tell the disk's share of
    a bad p99 from the bot's.
    """
    stalls: list[float] = []
    done = threading.Event()

    def watch() -> None:
        with open(os.path.join(directory, "disk-probe"), "wb") as probe:
            while not done.wait(DISK_STALL):
                probe.write(b"x" * 4096)
                probe.flush()
                started = time.perf_counter()
                os.fsync(probe.fileno())
                took = time.perf_counter() - started
                if took > DISK_STALL:
                    stalls.append(took)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield stalls
    finally:
        done.set()
        watcher.join()


def stalls_text(stalls: list[float]) -> str:
    limit = f"{DISK_STALL * 1000:.0f} ms"
    if not stalls:
        return f"no fsync of the disk took over {limit} meanwhile"
    return (
        f"the disk stalled meanwhile: {len(stalls)} fsync(s) over {limit}, "
        f"the longest {max(stalls) * 1000:.0f} ms"
    )


#: One /pay: (reply's arrival minus the update's delivery, the same less the Xendit
#: stand-in's own time to answer).
Timing = tuple[float, float]


def figures(timings: list[Timing]) -> str:
    raw = [t[0] for t in timings]
    net = [t[1] for t in timings]
    return (
        f"p50 {statistics.median(net) * 1000:.1f} ms, "
        f"p99 {percentile(net, 0.99) * 1000:.1f} ms, max {max(net) * 1000:.1f} ms "
        f"(with the Xendit stand-in's own time: p50 {statistics.median(raw) * 1000:.1f} ms, "
        f"p99 {percentile(raw, 0.99) * 1000:.1f} ms)"
    )


async def webhook_mode(tg: FakeTelegram, xendit: FakeXendit, merchants: list[int]) -> None:
    """The 20 merchants typing, with Telegram POSTing each update to the bot."""
    secret = "bench-secret"
    tmp = tempfile.mkdtemp(prefix="paybot-bench-")
    env = {
        "TELEGRAM_MODE": "webhook",
        "PUBLIC_URL": "https://paybot.example.com",
        "TELEGRAM_WEBHOOK_SECRET": secret,
    }
    body_sent: dict[int, float] = {}  # update id -> when the POST's body went to the socket

    async def on_chunk_sent(
        _session: aiohttp.ClientSession,
        context: Any,
        _params: aiohttp.TraceRequestChunkSentParams,
    ) -> None:
        body_sent[context.trace_request_ctx["update_id"]] = tg.clock()  # just before the write

    tracing = aiohttp.TraceConfig()
    tracing.on_request_chunk_sent.append(on_chunk_sent)
    async with (
        bot_process(
            tg,
            xendit,
            database_url=f"sqlite:///{tmp}/paybot.db",
            allowed_user_ids=",".join(map(str, merchants)),
            cwd=tmp,
            extra_env=env,
        ) as bot,
        aiohttp.ClientSession(trace_configs=[tracing]) as http,
    ):
        headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret}
        rng = random.Random(6)
        added: list[Timing] = []

        async def pay(chat: int, text: str) -> Timing:
            mark = tg.mark()
            update_id = tg.push_message(chat, text)
            [update] = [u for u in tg.updates if u["update_id"] == update_id]
            tg.updates.remove(update)  # Telegram POSTs it instead of handing it to getUpdates
            body = json.dumps(update).encode()
            url = f"{bot.url}/webhooks/telegram"
            context = {"update_id": update_id}
            async with http.post(
                url, data=body, headers=headers, trace_request_ctx=context
            ) as response:
                assert response.status == 200, response.status
            reply = await tg.wait_message(chat, since=mark, timeout=30)
            raw = reply.at - body_sent[update_id]
            return raw, raw - xendit_time(xendit, reply.text)

        for chat in merchants:
            await pay(chat, "/pay 1000 warm-up")

        async def merchant(chat: int) -> None:
            for n in range(PAYS_EACH):
                await asyncio.sleep(rng.uniform(*TYPING))
                added.append(await pay(chat, f"/pay {30_000 + n} item {n}"))

        with disk_stalls(tmp) as stalls:
            await asyncio.gather(*(merchant(chat) for chat in merchants))
        print(
            f"/pay in webhook mode, {MERCHANTS} merchants typing at once: "
            f"{len(added)} links; bot's added time {figures(added)}; {stalls_text(stalls)}"
        )


async def main() -> None:
    merchants = list(range(7001, 7001 + MERCHANTS))
    flash_chat = 7999
    # Xendit "answers at once": no schema validation in the stand-in (the tests do that).
    async with FakeTelegram() as tg, FakeXendit(validate_schemas=False) as xendit:
        tmp = tempfile.mkdtemp(prefix="paybot-bench-")
        async with bot_process(
            tg,
            xendit,
            database_url=f"sqlite:///{tmp}/paybot.db",
            allowed_user_ids=",".join(map(str, [*merchants, flash_chat])),
            cwd=tmp,
        ) as bot:
            url = bot.url
            xendit.webhook_url = f"{url}/webhooks/xendit"
            await asyncio.sleep(2)
            idle = rss_mb(bot.process.pid)

            # -- 20 merchants typing /pay at once -----------------------------------------
            added: list[Timing] = []
            rng = random.Random(5)

            async def pay(chat: int, text: str) -> Timing:
                mark = tg.mark()
                update_id = tg.push_message(chat, text)
                reply = await tg.wait_message(chat, since=mark, timeout=30)
                raw = reply.at - tg.delivered_at[update_id]
                return raw, raw - xendit_time(xendit, reply.text)

            for chat in merchants:  # first connections and imports
                await pay(chat, "/pay 1000 warm-up")

            async def merchant(chat: int) -> None:
                for n in range(PAYS_EACH):
                    await asyncio.sleep(rng.uniform(*TYPING))
                    added.append(await pay(chat, f"/pay {10_000 + n} item {n}"))

            started = time.perf_counter()
            cpu_before = cpu_seconds(bot.process.pid)
            with disk_stalls(tmp) as stalls:
                await asyncio.gather(*(merchant(chat) for chat in merchants))
            elapsed = time.perf_counter() - started
            total = MERCHANTS * PAYS_EACH
            cpu = cpu_seconds(bot.process.pid) - cpu_before
            print(
                f"/pay, {MERCHANTS} merchants typing at once: {total} links in {elapsed:.1f} s; "
                f"bot's added time {figures(added)}; the bot's CPU {cpu / total * 1000:.2f} ms "
                f"per /pay (all its work in that time, over the links made); {stalls_text(stalls)}"
            )

            same: list[Timing] = []
            for n in range(SAME_INSTANT_ROUNDS):
                same += await asyncio.gather(
                    *(pay(chat, f"/pay {20_000 + n} rush {n}") for chat in merchants)
                )
                await asyncio.sleep(1.5)
            print(
                f"/pay, all {MERCHANTS} in the same millisecond ({SAME_INSTANT_ROUNDS} rounds): "
                f"{figures(same)}"
            )

            # -- a flash sale: 200 completions for one chat --------------------------------
            for n in range(FLASH_SALE):
                mark = tg.mark()
                tg.push_message(flash_chat, f"/pay {5_000 + n} flash {n}")
                await tg.wait_message(flash_chat, since=mark, timeout=30)
            flash_sessions = [
                s["payment_session_id"]
                for s in xendit.sessions.values()
                if str(s.get("description", "")).startswith("flash ")
            ]
            mark = tg.mark()
            before_429 = tg.too_many_requests
            tg.flood_limits = True
            xendit.rate_limit_per_minute = 600
            started = time.perf_counter()
            semaphore = asyncio.Semaphore(32)

            async def complete(sid: str) -> None:
                async with semaphore:
                    await xendit.complete(sid, send_capture=False)

            await asyncio.gather(*(complete(sid) for sid in flash_sessions))

            def told() -> int:
                count = 0
                for message in tg.outbox[mark:]:
                    if message.chat_id != flash_chat or message.method != "sendMessage":
                        continue
                    summary = re.search(r"(\d+) payments received", message.text or "")
                    count += int(summary[1]) if summary else int("PAID" in (message.text or ""))
                return count

            await tg.wait_for(lambda: told() >= FLASH_SALE, timeout=60)
            flash_seconds = time.perf_counter() - started
            messages = len(
                [
                    m
                    for m in tg.outbox[mark:]
                    if m.chat_id == flash_chat and m.method == "sendMessage"
                ]
            )
            print(
                f"flash sale, {FLASH_SALE} completions for one chat: merchant told of all "
                f"{told()} in {flash_seconds:.1f} s, in {messages} messages; "
                f"429s: Telegram {tg.too_many_requests - before_429}, "
                f"Xendit {xendit.rate_limited}"
            )
            loaded = rss_mb(bot.process.pid)
            print(
                f"memory (RSS of python -m bot): idle {idle:.1f} MB, after the load {loaded:.1f} MB"
            )
        xendit.rate_limit_per_minute = None
        await webhook_mode(tg, xendit, merchants)


if __name__ == "__main__":
    asyncio.run(main())
