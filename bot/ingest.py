"""Group commit: many concurrent callers, one transaction for all of them.

Each caller awaits its own result, and gets it only after the transaction holding its item has
committed: so a webhook's ``200`` still means "durable", but a burst of webhooks costs one
commit (one fsync) per batch instead of one per request. Batching is natural, with no timer:
while one batch is being written the next one gathers, so a lone request is written at once
and a burst is written in large batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """Feeds items to ``write(batch) -> results`` (same length, same order) in batches, one
    batch at a time.

    One at a time, on PostgreSQL too: a second batch in flight would share the process's
    time with the first, and measured, two writers acknowledged fewer webhooks a second than
    one with its larger batches (see the README's benchmark notes).
    """

    def __init__(
        self, write: Callable[[Sequence[T]], Awaitable[Sequence[R]]], *, max_batch: int = 256
    ) -> None:
        self._write = write
        self._max_batch = max_batch
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._ready = asyncio.Event()
        self._closing = False
        self._dispatcher: asyncio.Task[None] | None = None
        self.batches = 0  # how many transactions were written (for benchmarks)

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        self._ready.set()
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._dispatch(), name="group-commit")
        return await future

    async def close(self) -> None:
        """Write what is pending, then stop."""
        if self._dispatcher is None or self._dispatcher.done():
            return
        self._closing = True
        self._ready.set()
        await asyncio.wait({self._dispatcher})

    async def _dispatch(self) -> None:
        while True:
            await self._ready.wait()
            # What arrives while this batch is written gathers into the next one.
            batch, self._pending = (
                self._pending[: self._max_batch],
                self._pending[self._max_batch :],
            )
            if not self._pending:
                self._ready.clear()
            if batch:
                await self._write_batch(batch)
            if self._closing and not self._pending:
                return

    async def _write_batch(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._write([item for item, _ in batch])
        except Exception as exc:
            log.exception("group commit of %d item(s) failed", len(batch))
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self.batches += 1
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


class Surge:
    """Whether webhooks are pouring in (Xendit re-delivering after an outage, say).

    While they are, the session checker waits (a second at most per check) before each
    GET, and the checks let through while it goes on run one at a time: acknowledging
    webhooks comes first, and confirming them is only a moment behind. In ordinary traffic the
    threshold is never reached and nothing waits.
    """

    def __init__(
        self,
        per_second: int = 100,
        *,
        window: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limit = max(1, int(per_second * window))
        self._window = window
        self._clock = clock
        self._bucket_start = clock()
        self._count = 0
        self._previous = 0
        self._turns = asyncio.Lock()

    def arrived(self) -> None:
        self._roll()
        self._count += 1

    @property
    def surging(self) -> bool:
        self._roll()
        return max(self._count, self._previous) >= self._limit

    async def passed(self, at_most: float = 1.0) -> None:
        """Return when the surge is over, or after ``at_most`` seconds."""
        for _ in range(max(1, round(at_most / self._window))):
            if not self.surging:
                return
            await asyncio.sleep(self._window)

    @contextlib.asynccontextmanager
    async def turn(self, at_most: float = 1.0) -> AsyncIterator[None]:
        """Wait for the surge to pass, ``at_most`` seconds. If it still goes on, take turns:
        one holder at a time, so that the checks let through together do not all reach the
        database (one connection, with SQLite) just when the webhooks need it."""
        await self.passed(at_most)
        if not self.surging:
            yield
            return
        async with self._turns:
            yield

    def _roll(self) -> None:
        now = self._clock()
        elapsed = now - self._bucket_start
        if elapsed < self._window:
            return
        self._previous = self._count if elapsed < 2 * self._window else 0
        self._count = 0
        self._bucket_start = now
