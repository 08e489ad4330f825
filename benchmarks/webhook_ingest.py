"""Webhook ingestion: how many Xendit webhooks a second the bot acknowledges, each durable.

Think of Xendit re-delivering a day of webhooks at once after an outage. The whole bot runs
(against the fake Telegram and fake Xendit, as in the tests); a separate load process sends
``payment_session.completed`` webhooks for distinct links from 32 concurrent senders. A bare
aiohttp handler on the same machine, measured in the same run with the same load process, is
the ceiling. Afterwards the database must hold one event per acknowledged webhook.

    python benchmarks/webhook_ingest.py                 # SQLite
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python benchmarks/webhook_ingest.py
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "true")

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from bot.app import Paybot  # noqa: E402
from bot.config import load_settings  # noqa: E402
from storage import NewLink, Repository  # noqa: E402
from tests.fakes import FakeTelegram, FakeXendit  # noqa: E402

CONCURRENCY = 32
WEBHOOKS = int(os.environ.get("BENCH_WEBHOOKS", "6000"))
TOKEN = "fake-callback-token"


# -- the load process ------------------------------------------------------------------------


def _load(url: str, bodies: list[bytes], concurrency: int, out: Any) -> None:
    """Runs in its own process: POST every body, ``concurrency`` at a time."""

    async def main() -> None:
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        queue = list(reversed(bodies))
        connector = aiohttp.TCPConnector(limit=concurrency)
        headers = {"x-callback-token": TOKEN, "Content-Type": "application/json"}
        async with aiohttp.ClientSession(connector=connector) as http:

            async def sender() -> None:
                while queue:
                    body = queue.pop()
                    started = time.perf_counter()
                    async with http.post(url, data=body, headers=headers) as response:
                        await response.read()
                        statuses[response.status] = statuses.get(response.status, 0) + 1
                    latencies.append(time.perf_counter() - started)

            started = time.perf_counter()
            await asyncio.gather(*(sender() for _ in range(concurrency)))
            elapsed = time.perf_counter() - started
        out.send({"elapsed": elapsed, "latencies": latencies, "statuses": statuses})

    asyncio.run(main())


def run_load(url: str, bodies: list[bytes]) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_load, args=(url, bodies, CONCURRENCY, sender))
    process.start()
    result: dict[str, Any] = receiver.recv()
    process.join()
    return result


async def run_load_async(url: str, bodies: list[bytes]) -> dict[str, Any]:
    return await asyncio.get_running_loop().run_in_executor(None, run_load, url, bodies)


def summary(name: str, result: dict[str, Any]) -> float:
    latencies = sorted(result["latencies"])
    rate = len(latencies) / result["elapsed"]
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(
        f"{name:<28} {rate:8.0f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   "
        f"statuses {result['statuses']}"
    )
    return rate


# -- the ceiling -----------------------------------------------------------------------------


async def bare_ceiling(bodies: list[bytes]) -> float:
    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"received": True})

    app = web.Application()
    app.router.add_post("/webhooks/xendit", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        result = await run_load_async(f"http://127.0.0.1:{port}/webhooks/xendit", bodies)
    finally:
        await runner.cleanup()
    return summary("bare aiohttp handler", result)


# -- the bot ---------------------------------------------------------------------------------


def webhook_body(session_id: str, reference_id: str) -> bytes:
    now = "2026-11-24T10:00:00.000Z"
    return json.dumps(
        {
            "event": "payment_session.completed",
            "business_id": "6630a1b2c3d4e5f600000001",
            "created": now,
            "data": {
                "payment_session_id": session_id,
                "reference_id": reference_id,
                "status": "COMPLETED",
                "session_type": "PAY",
                "mode": "PAYMENT_LINK",
                "currency": "IDR",
                "amount": 150000,
                "country": "ID",
                "created": now,
                "updated": now,
                "payment_id": f"py-{uuid.uuid4()}",
            },
        }
    ).encode()


async def bot_rate(database_url: str, label: str) -> float:
    async with (
        FakeTelegram() as tg,
        FakeXendit(callback_token=TOKEN) as xendit,
    ):
        settings = load_settings(
            _env_file=None,
            telegram_bot_token=tg.token,
            xendit_secret_key=xendit.secret_key,
            xendit_callback_token=TOKEN,
            database_url=database_url,
            host="127.0.0.1",
            port=0,
            telegram_api_url=tg.url,
            xendit_api_url=xendit.url,
            allowed_user_ids="1001",
            log_level="WARNING",
            xendit_rate_limit=600,
        )
        app = Paybot(settings)
        await app.start()
        try:
            assert app.db is not None
            repo = Repository(app.db)
            bodies = []
            for n in range(WEBHOOKS):
                ref = f"B{n:07d}"
                link = await repo.create_link(
                    NewLink(ref, f"pb-{ref}", 1001, 1001, "en", 150000, "IDR", None)
                )
                sid = f"ps-{uuid.uuid4().hex[:24]}"
                await repo.activate_link(
                    link.id,
                    session_id=sid,
                    link_url="https://checkout.example/x",
                    expires_at=link.created_at.replace(year=2030),
                )
                bodies.append(webhook_body(sid, f"pb-{ref}"))
            result = await run_load_async(f"{app.url}/webhooks/xendit", bodies)
            rate = summary(f"paybot, {label}", result)
            stored = await repo.count_events()
            acked = result["statuses"].get(200, 0)
            assert app.payments is not None
            batches = app.payments._webhooks.batches
            print(
                f"{'':<28} acknowledged {acked}, stored {stored} "
                f"({'OK' if stored == acked else 'MISMATCH'}), {batches} transactions "
                f"(~{acked / max(batches, 1):.0f} webhooks per commit)"
            )
            if stored != acked:
                raise SystemExit("a webhook got 200 but is not stored")
            return rate
        finally:
            await app.stop()


async def main() -> None:
    import logging

    # The links are made straight in the database, so the stand-in Xendit does not know their
    # sessions: the confirmations that follow are refused and logged. Not what is measured.
    logging.getLogger("bot.checks").setLevel(logging.CRITICAL)
    print(f"{WEBHOOKS} webhooks, {CONCURRENCY} concurrent senders, {os.cpu_count()} cores")
    bodies = [webhook_body(f"ps-{n:024d}", f"ref-{n}") for n in range(WEBHOOKS)]
    ceiling = await bare_ceiling(bodies)
    with tempfile.TemporaryDirectory() as tmp:
        rate = await bot_rate(f"sqlite:///{tmp}/bench.db", "SQLite (synchronous=FULL)")
    print(f"{'':<28} {rate / ceiling:.0%} of the bare handler's rate")
    pg = os.environ.get("BENCH_DATABASE_URL")
    if pg:
        import asyncpg

        name = f"paybot_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(pg.replace("postgresql://", "postgres://", 1))
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            base = pg.rsplit("/", 1)[0]
            rate = await bot_rate(f"{base}/{name}", "PostgreSQL")
            print(f"{'':<28} {rate / ceiling:.0%} of the bare handler's rate")
        finally:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
