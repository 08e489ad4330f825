"""How PTB runs our handlers: many updates at once, and a way to know when all are handled."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram.ext import SimpleUpdateProcessor


class TrackedUpdateProcessor(SimpleUpdateProcessor):
    """PTB's own concurrent processing (``concurrent_updates``), counting the updates in hand.

    A handler may go on after its reply: ``/pay`` answers as soon as the link exists and
    stores the card's message id after. :meth:`wait_idle` waits until that is done too.
    """

    __slots__ = ("_idle", "_in_hand")

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._in_hand = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        self._in_hand += 1
        self._idle.clear()
        try:
            await coroutine
        finally:
            self._in_hand -= 1
            if self._in_hand == 0:
                self._idle.set()

    async def wait_idle(self) -> None:
        """Return once every update that has reached a handler has been handled."""
        await self._idle.wait()
