"""What both stand-in servers share: waking waiters, and ``async with`` start/stop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any, Self

from aiohttp import web


class Signal:
    """Wake-up for waiters; ``fire()`` may be called from sync code on the loop thread."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait_until(self, predicate: Callable[[], Any], within: float) -> tuple[bool, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            event = self._event  # take it before evaluating, so no fire() is missed
            result = predicate()
            if result is not None and result is not False:
                return True, result
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False, None
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                continue


class LocalServer:
    """``async with Server() as server:`` starts it, and stops it on the way out."""

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


@contextlib.asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 at a free port for the ``async with`` block; gives its base
    URL (``http://127.0.0.1:<port>``). For one-off servers in tests and benchmarks."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
