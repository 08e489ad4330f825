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
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """Feeds items to ``write(batch) -> results`` (same length, same order) in batches."""

    def __init__(
        self, write: Callable[[Sequence[T]], Awaitable[Sequence[R]]], *, max_batch: int = 256
    ) -> None:
        self._write = write
        self._max_batch = max_batch
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._ready = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0  # how many transactions were written (for benchmarks)

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        self._ready.set()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_forever(), name="group-commit")
        return await future

    async def close(self) -> None:
        """Write what is pending, then stop."""
        if self._writer is None:
            return
        while self._pending:
            self._ready.set()
            await asyncio.sleep(0)
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer

    async def _write_forever(self) -> None:
        while True:
            await self._ready.wait()
            batch, self._pending = (
                self._pending[: self._max_batch],
                self._pending[self._max_batch :],
            )
            if not self._pending:
                self._ready.clear()
            if not batch:
                continue
            items = [item for item, _ in batch]
            try:
                results = await self._write(items)
            except Exception as exc:
                log.exception("group commit of %d item(s) failed", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            self.batches += 1
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
