"""The machinery the outbox worker and the session checker share: tasks that loop until told
to stop, can be woken at once, report when they are idle, and stop gracefully."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from datetime import datetime
from typing import Any


def seconds_until(due: datetime, now: datetime, *, at_most: float) -> float:
    """How long a worker sleeps before work due at ``due``: until then, but at least 5 ms
    (work already due is looked at again soon, not in a busy loop) and at most ``at_most``
    (its look for work nobody woke it for)."""
    return min(max((due - now).total_seconds(), 0.005), at_most)


class BackgroundWorker:
    def __init__(self) -> None:
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._stopping = False
        self._stop_requested = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def wake(self) -> None:
        """Something was queued: look now instead of at the next poll."""
        self._idle.clear()
        self._wakeup.set()

    async def wait_idle(self) -> None:
        """Return once nothing is left to do (for tests and benchmarks)."""
        await self._idle.wait()

    def _spawn(self, *loops: tuple[str, Coroutine[Any, Any, None]]) -> None:
        self._tasks = [asyncio.create_task(coro, name=name) for name, coro in loops]

    async def stop(self, grace: float = 5.0) -> None:
        """Let each task finish what it is doing (up to ``grace`` seconds), then stop."""
        self._stopping = True
        self._stop_requested.set()
        self._wakeup.set()
        for task in self._tasks:
            try:
                await asyncio.wait_for(asyncio.shield(task), grace)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
