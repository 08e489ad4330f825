"""Group commit (bot/ingest.py): batches, results to the right callers, one batch at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from bot.ingest import GroupCommit


class GatedWriter:
    """A ``write(batch)`` that holds every batch until the test opens its gate."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.gates: list[asyncio.Event] = []
        self._arrived = asyncio.Condition()

    async def write(self, batch: Sequence[int]) -> list[str]:
        gate = asyncio.Event()
        self.batches.append(list(batch))
        self.gates.append(gate)
        async with self._arrived:
            self._arrived.notify_all()
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await gate.wait()
        finally:
            self.in_flight -= 1
        return [f"stored {item}" for item in batch]

    async def started(self, count: int) -> None:
        async with asyncio.timeout(2), self._arrived:
            await self._arrived.wait_for(lambda: len(self.batches) >= count)

    def open(self, index: int) -> None:
        self.gates[index].set()


async def test_what_arrives_meanwhile_is_one_batch_and_each_caller_gets_its_own() -> None:
    writer = GatedWriter()
    commit: GroupCommit[int, str] = GroupCommit(writer.write)
    first = asyncio.create_task(commit.submit(0))
    await writer.started(1)
    rest = [asyncio.create_task(commit.submit(n)) for n in range(1, 6)]
    for _ in range(5):
        await asyncio.sleep(0)
    assert writer.batches == [[0]]  # one writer: the others wait for it

    writer.open(0)
    assert await first == "stored 0"
    await writer.started(2)
    assert writer.batches[1] == [1, 2, 3, 4, 5]
    writer.open(1)
    assert await asyncio.gather(*rest) == [f"stored {n}" for n in range(1, 6)]
    assert writer.most_in_flight == 1
    assert commit.batches == 2


async def test_a_failed_batch_fails_its_own_callers_only() -> None:
    async def write(batch: Sequence[int]) -> list[int]:
        if 13 in batch:
            raise RuntimeError("disk full")
        return [item * 2 for item in batch]

    commit: GroupCommit[int, int] = GroupCommit(write)
    with pytest.raises(RuntimeError, match="disk full"):
        await commit.submit(13)
    assert await commit.submit(4) == 8


async def test_close_writes_the_batch_in_flight_and_what_waits_behind_it() -> None:
    writer = GatedWriter()
    commit: GroupCommit[int, str] = GroupCommit(writer.write)
    submitted = asyncio.create_task(commit.submit(7))
    await writer.started(1)
    waiting = asyncio.create_task(commit.submit(8))
    for _ in range(5):
        await asyncio.sleep(0)
    closing = asyncio.create_task(commit.close())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not closing.done()  # a batch is still being written
    writer.open(0)
    await writer.started(2)  # and the one that gathered behind it is written too
    assert writer.batches[1] == [8]
    assert not closing.done()
    writer.open(1)
    await asyncio.wait_for(closing, 2)
    assert await submitted == "stored 7"
    assert await waiting == "stored 8"


async def test_close_with_nothing_to_write_returns_at_once() -> None:
    writer = GatedWriter()
    commit: GroupCommit[int, str] = GroupCommit(writer.write)
    await asyncio.wait_for(commit.close(), 1)  # never used
    writer_task = asyncio.create_task(commit.submit(1))
    await writer.started(1)
    writer.open(0)
    assert await writer_task == "stored 1"
    await asyncio.wait_for(commit.close(), 1)  # used, idle
    assert writer.batches == [[1]]
