"""Staying under a limit of "N requests in any T seconds" without giving away the burst:
Telegram's 30 messages a second (bot/telegram/ratelimit.py) and Xendit's 600 requests a minute
per endpoint live (60 in test mode). N go at once, then one more each time the oldest of the
last N leaves the window.

A request holds its place from when it starts until ``period`` seconds after it *finished*:
the server saw it somewhere in between, so however the network delays requests, the server
never counts more than N in any ``period``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from types import TracebackType


class SlidingWindow:
    """``async with window:`` waits until fewer than ``limit`` requests are in flight or
    finished within the last ``period`` seconds.

    Not aiolimiter: its leaky bucket lets 2N through in some window, or spaces every request.
    """

    def __init__(
        self, limit: int, period: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("a window needs limit >= 1 and period > 0")
        self.limit = limit
        self.period = period
        self._clock = clock
        self._finished: deque[float] = deque()  # when recent requests finished, oldest first
        self._in_flight = 0
        self._changed = asyncio.Condition()

    def _wait_needed(self) -> float | None:
        """None if a request may start now, else how long until one may (0: when one ends)."""
        horizon = self._clock() - self.period
        while self._finished and self._finished[0] <= horizon:
            self._finished.popleft()
        if self._in_flight + len(self._finished) < self.limit:
            return None
        if not self._finished:
            return 0.0  # all places are held by requests still running
        return self._finished[0] - horizon

    async def __aenter__(self) -> None:
        async with self._changed:
            while (wait := self._wait_needed()) is not None:
                if wait == 0.0:
                    await self._changed.wait()
                else:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), wait)
            self._in_flight += 1

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        async with self._changed:
            self._in_flight -= 1
            self._finished.append(self._clock())
            self._changed.notify_all()
