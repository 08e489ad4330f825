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
from sqlalchemy import distinct, func, select  # noqa: E402

from benchmarks.deployed import bot_process  # noqa: E402
from bot.sandbox.common import serving  # noqa: E402
from storage import Database, Links, NewLink, Shops  # noqa: E402
from storage.tables import webhook_events  # noqa: E402
from tests.fakes import FakeTelegram, FakeXendit  # noqa: E402
from tests.helpers import TEST_SHOP  # noqa: E402

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
    async with serving(app) as url:
        result = await run_load_async(f"{url}/webhooks/xendit", bodies)
    return summary("bare aiohttp handler", result)


# -- the bot ---------------------------------------------------------------------------------


async def make_paid_links(database_url: str, xendit: FakeXendit) -> list[bytes]:
    """WEBHOOKS links, each with a session the stand-in Xendit knows and reports paid (so
    the confirmations the bot makes while it takes the webhooks succeed, as they would after
    an outage), and the ``payment_session.completed`` webhook for each."""
    auth = {"Authorization": aiohttp.encode_basic_auth(xendit.secret_key)}
    sessions: list[tuple[str, str]] = []
    async with aiohttp.ClientSession(headers=auth) as http:
        semaphore = asyncio.Semaphore(32)

        async def create(n: int) -> None:
            reference = f"pb-B{n:07d}"
            body = {
                "reference_id": reference,
                "session_type": "PAY",
                "mode": "PAYMENT_LINK",
                "amount": 150000,
                "currency": "IDR",
                "country": "ID",
                "allow_save_payment_method": "DISABLED",
            }
            async with semaphore, http.post(f"{xendit.url}/sessions", json=body) as response:
                session = await response.json()
            sessions.append((reference, session["payment_session_id"]))

        await asyncio.gather(*(create(n) for n in range(WEBHOOKS)))
    db = await Database.connect(database_url)
    repo = Links(db)
    bodies = []
    try:
        shop = await Shops(db).ensure_shop(TEST_SHOP)
        for reference, session_id in sorted(sessions):
            link = await repo.create_link(
                NewLink(
                    reference[3:],
                    reference,
                    1001,
                    1001,
                    "en",
                    150000,
                    "IDR",
                    None,
                    shop_id=shop.id,
                )
            )
            await repo.activate_link(
                link.id,
                session_id=session_id,
                link_url=f"{xendit.checkout_base}/{session_id}",
                expires_at=link.created_at.replace(year=2030),
            )
            await xendit.complete(session_id, send_capture=False, send_session_event=False)
            event = xendit.build_session_event("payment_session.completed", session_id)
            bodies.append(json.dumps(event).encode())
    finally:
        await db.close()
    return bodies


async def bot_rate(database_url: str, label: str) -> float:
    """The bot as deployed (``python -m bot``, its own process); the stand-ins run here."""
    async with FakeTelegram() as tg, FakeXendit(callback_token=TOKEN) as xendit:
        bodies = await make_paid_links(database_url, xendit)
        async with bot_process(
            tg, xendit, database_url=database_url, allowed_user_ids="1001"
        ) as bot:
            result = await run_load_async(f"{bot.url}/webhooks/xendit", bodies)
        rate = summary(f"paybot, {label}", result)
        db = await Database.connect(database_url)
        try:
            stored, commits = await stored_events(db)
        finally:
            await db.close()
        acked = result["statuses"].get(200, 0)
        print(
            f"{'':<28} acknowledged {acked}, stored {stored} "
            f"({'OK' if stored == acked else 'MISMATCH'}), {commits} transactions "
            f"(~{acked / max(commits, 1):.0f} webhooks per commit); "
            f"GET /sessions meanwhile: {len(xendit.requests_to('GET'))}"
        )
        if stored != acked:
            raise SystemExit("a webhook got 200 but is not stored")
        return rate


async def stored_events(db: Database) -> tuple[int, int]:
    """Webhook events stored, and in how many transactions (one timestamp per batch)."""
    query = select(func.count(), func.count(distinct(webhook_events.c.received_at)))
    row = await db.read(lambda conn: conn.execute(query).one())
    return int(row[0]), int(row[1])


async def main() -> None:
    print(f"{WEBHOOKS} webhooks, {CONCURRENCY} concurrent senders, {os.cpu_count()} cores")
    # Bodies the size of a session webhook (about 900 bytes); the bare handler only reads them.
    bodies = [
        json.dumps({"event": "payment_session.completed", "n": n, "pad": "x" * 850}).encode()
        for n in range(WEBHOOKS)
    ]
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
