"""The sliding window that keeps us under Telegram's and Xendit's request limits."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest

from bot.ingest import Surge
from bot.ratelimit import SlidingWindow


async def _run(window: SlidingWindow, count: int, duration: float) -> list[tuple[float, float]]:
    """Start ``count`` requests at once; each holds its place for ``duration`` seconds."""
    spans: list[tuple[float, float]] = []

    async def request() -> None:
        async with window:
            started = time.monotonic()
            await asyncio.sleep(duration)
            spans.append((started, time.monotonic()))

    await asyncio.wait_for(asyncio.gather(*(request() for _ in range(count))), 10)
    return sorted(spans)


def _never_more_than_the_limit(spans: list[tuple[float, float]], window: SlidingWindow) -> None:
    """Wherever the server saw each request (between its start and end), no period holds
    more than ``limit`` of them: each request starts a period after the one ``limit``
    places before it ended."""
    for index in range(window.limit, len(spans)):
        started = spans[index][0]
        earlier_end = spans[index - window.limit][1]
        assert started >= earlier_end + window.period - 0.005, (index, spans)


async def test_a_burst_up_to_the_limit_goes_at_once() -> None:
    window = SlidingWindow(5, 0.3)
    begin = time.monotonic()
    spans = await _run(window, 5, 0.0)
    assert spans[-1][0] - begin < 0.05


async def test_more_than_the_limit_waits_for_the_window_to_move() -> None:
    window = SlidingWindow(5, 0.3)
    begin = time.monotonic()
    spans = await _run(window, 12, 0.0)
    _never_more_than_the_limit(spans, window)
    assert all(start - begin < 0.05 for start, _ in spans[:5])
    assert spans[5][0] - begin >= 0.29  # the sixth waited for the first to leave the window
    # ...but no longer than it had to: three windows for twelve requests, with some slack.
    assert spans[-1][0] - begin < 0.6 + 0.25


async def test_requests_in_flight_hold_their_place() -> None:
    window = SlidingWindow(2, 0.2)
    spans = await _run(window, 4, 0.15)
    _never_more_than_the_limit(spans, window)
    # The third starts a period after the first *finished*, not after it started.
    assert spans[2][0] >= spans[0][1] + 0.2 - 0.005


async def test_a_failed_request_still_counts() -> None:
    window = SlidingWindow(1, 0.2)
    with pytest.raises(RuntimeError):
        async with window:
            raise RuntimeError("the request failed")
    begin = time.monotonic()
    async with window:
        pass
    assert time.monotonic() - begin >= 0.19


def test_a_window_needs_a_limit_and_a_period() -> None:
    with pytest.raises(ValueError, match="limit >= 1"):
        SlidingWindow(0, 1.0)
    with pytest.raises(ValueError, match="period > 0"):
        SlidingWindow(1, 0.0)


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_surge_is_webhooks_faster_than_the_threshold() -> None:
    clock = _Clock()
    surge = Surge(100, window=0.25, clock=clock)  # 25 in a quarter second
    for _ in range(24):
        surge.arrived()
        clock.now += 0.01
    assert not surge.surging  # 24 in 0.24 s: ordinary traffic
    surge.arrived()
    assert surge.surging
    clock.now += 0.1  # the next window: the one before still counts
    assert surge.surging
    clock.now += 0.3  # a whole quiet window after it: over
    assert not surge.surging


def test_ordinary_traffic_is_never_a_surge() -> None:
    clock = _Clock()
    surge = Surge(100, window=0.25, clock=clock)
    for _ in range(1_000):  # 20 a second for 50 seconds
        surge.arrived()
        clock.now += 0.05
        assert not surge.surging


async def test_checks_wait_for_a_surge_at_most_a_second() -> None:
    surge = Surge(100, window=0.05)
    for _ in range(10):
        surge.arrived()
    begin = time.monotonic()
    await surge.passed(at_most=0.2)  # the surge ends once its windows pass
    waited = time.monotonic() - begin
    assert 0.04 <= waited <= 0.2 + 0.1

    quiet = Surge(100, window=0.05)
    begin = time.monotonic()
    await quiet.passed(at_most=1.0)
    assert time.monotonic() - begin < 0.01


@contextlib.asynccontextmanager
async def pouring(surge: Surge) -> AsyncIterator[None]:
    """Webhooks arriving at 1,000 a second for as long as the block runs."""
    stop = asyncio.Event()

    async def keep_pouring() -> None:
        while not stop.is_set():
            surge.arrived()
            await asyncio.sleep(0.001)

    task = asyncio.create_task(keep_pouring())
    try:
        yield
    finally:
        stop.set()
        await task


async def test_a_surge_that_goes_on_lets_checks_through_after_at_most() -> None:
    surge = Surge(100, window=0.05)
    async with pouring(surge):
        for _ in range(1_000):
            if surge.surging:
                break
            await asyncio.sleep(0.001)
        assert surge.surging
        begin = time.monotonic()
        await surge.passed(at_most=0.2)
        waited = time.monotonic() - begin
        assert 0.19 <= waited <= 0.35


async def test_checks_let_through_during_a_surge_take_turns() -> None:
    """Once the wait is over and webhooks still pour in, the checks let through run one at a
    time (they share the database with the webhooks); in ordinary traffic they run together."""
    surge = Surge(100, window=0.05)

    async def holders(surge: Surge) -> int:
        inside = most = 0

        async def hold() -> None:
            nonlocal inside, most
            async with surge.turn(at_most=0.1):
                inside += 1
                most = max(most, inside)
                await asyncio.sleep(0.02)
                inside -= 1

        await asyncio.gather(*(hold() for _ in range(5)))
        return most

    for _ in range(10):  # already pouring when the checks come
        surge.arrived()
    async with pouring(surge):
        assert await holders(surge) == 1
    assert await holders(Surge(100, window=0.05)) == 5
