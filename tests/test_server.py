"""The HTTP server against idle, slow and too many clients, over real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import resource
from urllib.parse import urlsplit

import aiohttp
import pytest

from bot.app import Paybot
from bot.server import OncePerInterval, log_resource_errors, raise_open_file_limit
from tests.conftest import CALLBACK_TOKEN, StartBot


def address(app: Paybot) -> tuple[str, int]:
    parts = urlsplit(app.url)
    assert parts.hostname is not None
    assert parts.port is not None
    return parts.hostname, parts.port


async def closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Read until the server closes the connection; what it sent before."""
    received = b""
    try:
        while chunk := await reader.read(4096):
            received += chunk
    except ConnectionResetError:
        pass
    return received


async def healthz(app: Paybot) -> int:
    async with aiohttp.ClientSession() as http, http.get(f"{app.url}/healthz") as response:
        return response.status


async def test_a_client_trickling_its_headers_is_dropped(start_bot: StartBot) -> None:
    app = await start_bot(http_read_timeout=1.5)
    reader, writer = await asyncio.open_connection(*address(app))

    async def trickle() -> None:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        with contextlib.suppress(ConnectionError):
            while True:
                writer.write(b"X")  # a header byte a second: never a whole request
                await writer.drain()
                await asyncio.sleep(1)

    trickling = asyncio.create_task(trickle())
    try:
        async with asyncio.timeout(10):
            assert await closed_by_server(reader) == b""  # dropped, nothing answered
    finally:
        trickling.cancel()
        writer.close()
    assert await healthz(app) == 200


async def test_a_client_trickling_its_body_is_answered_408_and_dropped(
    start_bot: StartBot,
) -> None:
    app = await start_bot(http_read_timeout=1.5)
    reader, writer = await asyncio.open_connection(*address(app))
    writer.write(
        b"POST /webhooks/xendit HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"x-callback-token: " + CALLBACK_TOKEN.encode() + b"\r\nContent-Length: 100\r\n\r\n{"
    )

    async def trickle() -> None:
        with contextlib.suppress(ConnectionError):
            while True:
                await asyncio.sleep(1)  # the slow client itself: a body byte a second
                writer.write(b" ")
                await writer.drain()

    trickling = asyncio.create_task(trickle())
    try:
        async with asyncio.timeout(10):
            answer = await closed_by_server(reader)
    finally:
        trickling.cancel()
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert await healthz(app) == 200


async def test_idle_connections_beyond_the_cap_do_not_keep_healthz_out(
    start_bot: StartBot,
) -> None:
    """40 idle connections against a cap of 20 (and a read timeout far off): the longest
    idle are pushed out by the newer ones, and /healthz still gets in and is answered."""
    app = await start_bot(http_max_connections=20, http_read_timeout=60)
    idle = [await asyncio.open_connection(*address(app)) for _ in range(40)]
    try:
        assert await healthz(app) == 200
        async with asyncio.timeout(10):
            dropped = await asyncio.gather(*(closed_by_server(reader) for reader, _ in idle[:20]))
        assert dropped == [b""] * 20  # the 20 oldest: closed by the server
    finally:
        for _, writer in idle:
            writer.close()


def test_resource_errors_are_logged_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    report = OncePerInterval(logging.getLogger("test.server"), interval=60, clock=lambda: now[0])
    loop = asyncio.new_event_loop()
    try:
        undo = log_resource_errors(loop, report)
        emfile = OSError(errno.EMFILE, "Too many open files")
        with caplog.at_level(logging.ERROR, logger="test.server"):
            for _ in range(1000):  # a storm of refused accept()s within a second
                loop.call_exception_handler(
                    {"message": "socket.accept() out of system resource", "exception": emfile}
                )
            now[0] += 59.9
            loop.call_exception_handler({"message": "again", "exception": emfile})
            assert len(caplog.records) == 1
            now[0] += 0.2  # the next interval: one line, counting those held back
            loop.call_exception_handler({"message": "again", "exception": emfile})
        undo()
    finally:
        loop.close()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert "Too many open files" in lines[0]
    assert "1000 more like it" in lines[1]
    assert all(r.exc_info is None for r in caplog.records)  # no tracebacks


def test_the_open_file_limit_is_raised_to_the_hard_limit() -> None:
    soft = raise_open_file_limit()
    now, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert now == soft
    if hard != resource.RLIM_INFINITY:
        assert soft == hard
