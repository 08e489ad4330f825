"""The sliding window that keeps us under Telegram's and Xendit's request limits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from bot.ingest import Surge
from bot.ratelimit import SlidingWindow


async def _run(
    window: SlidingWindow,
    count: int,
    duration: float,
    clock: Callable[[], float] = time.monotonic,
) -> list[tuple[float, float]]:
    """Start ``count`` requests at once; each holds its place for ``duration`` seconds.
    The spans are read from ``clock`` (the window's)."""
    spans: list[tuple[float, float]] = []

    async def request() -> None:
        async with window:
            started = clock()
            await asyncio.sleep(duration)
            spans.append((started, clock()))

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


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def _until(condition: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Wait (a real ``timeout`` at most) until ``condition()`` holds."""
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - the window has no event to wait on
            await asyncio.sleep(0.001)


async def test_a_burst_up_to_the_limit_goes_at_once() -> None:
    clock = _Clock()  # stopped: a request that had to wait for the window would never start
    window = SlidingWindow(5, 0.3, clock=clock)
    spans = await _run(window, 5, 0.0, clock)
    assert [start for start, _ in spans] == [100.0] * 5


async def test_more_than_the_limit_waits_for_the_window_to_move() -> None:
    clock = _Clock()  # moved on by the test; the waiting requests look again by themselves
    window = SlidingWindow(5, 0.3, clock=clock)
    spans: list[tuple[float, float]] = []

    async def request() -> None:
        async with window:
            spans.append((clock(), clock()))

    requests = asyncio.gather(*(request() for _ in range(12)))
    try:
        await _until(lambda: len(spans) >= 5)
        for _ in range(20):  # a window letting a sixth in would have done so by now
            await asyncio.sleep(0)
        assert len(spans) == 5  # the clock stands still: the sixth waits for the window
        clock.now = 100.3  # the first five leave the window...
        await _until(lambda: len(spans) >= 10)  # ...and five more get in, at that moment
    finally:
        clock.now = 100.6  # and the last two (also when an assertion above failed)
        await asyncio.wait_for(requests, 5)
    # Three windows for twelve requests, each let in as soon as the window allowed it.
    assert [start for start, _ in spans] == [100.0] * 5 + [100.3] * 5 + [100.6] * 2
    _never_more_than_the_limit(spans, window)


async def test_requests_in_flight_hold_their_place() -> None:
    window = SlidingWindow(2, 0.2)
    spans = await _run(window, 4, 0.15)
    _never_more_than_the_limit(spans, window)
    # The third starts a period after the first *finished*, not after it started.
    assert spans[2][0] >= spans[0][1] + 0.2 - 0.005


async def test_a_failed_request_still_counts() -> None:
    clock = _Clock()
    window = SlidingWindow(1, 0.2, clock=clock)
    with pytest.raises(RuntimeError):
        async with window:
            raise RuntimeError("the request failed")

    async def next_request() -> float:
        async with window:
            return clock()

    waiting = asyncio.create_task(next_request())
    for _ in range(20):
        await asyncio.sleep(0)
    assert not waiting.done()  # the failed one holds the only place for a period
    clock.now += 0.2
    assert await asyncio.wait_for(waiting, 5) == 100.2


def test_a_window_needs_a_limit_and_a_period() -> None:
    with pytest.raises(ValueError, match="limit >= 1"):
        SlidingWindow(0, 1.0)
    with pytest.raises(ValueError, match="period > 0"):
        SlidingWindow(1, 0.0)


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


def _surging(clock: _Clock) -> Surge:
    """A surge on ``clock``: it goes on for as long as the clock stands still."""
    surge = Surge(100, window=0.05, clock=clock)
    for _ in range(10):
        surge.arrived()
    assert surge.surging
    return surge


async def test_checks_wait_for_a_surge_at_most_a_second() -> None:
    clock = _Clock()
    surge = _surging(clock)
    passed = asyncio.create_task(surge.passed(at_most=60.0))
    for _ in range(20):
        await asyncio.sleep(0)
    assert not passed.done()  # the surge goes on: the check waits
    clock.now += 0.15  # the surge's windows pass...
    await asyncio.wait_for(passed, 5)  # ...and the wait ends (long before its 60 s)

    quiet = asyncio.create_task(Surge(100, window=0.05).passed(at_most=1.0))
    await asyncio.sleep(0)  # one step: no surge, nothing to wait for
    assert quiet.done()


async def test_a_surge_that_goes_on_lets_checks_through_after_at_most() -> None:
    clock = _Clock()
    surge = _surging(clock)  # the clock stands still: the surge never ends
    looks = 0

    class Counted(Surge):
        @property
        def surging(self) -> bool:
            nonlocal looks
            looks += 1
            return super().surging

    surge.__class__ = Counted
    begin = time.monotonic()
    await asyncio.wait_for(surge.passed(at_most=0.2), 5)
    assert time.monotonic() - begin >= 0.19  # a lower bound: sleeps never end early
    assert looks == round(0.2 / 0.05)  # a look a window: at_most, not longer
    assert surge.surging  # let through after at_most, though the surge goes on


async def test_checks_let_through_during_a_surge_take_turns() -> None:
    """Once the wait is over and webhooks still pour in, the checks let through run one at a
    time (they share the database with the webhooks); in ordinary traffic they run together."""

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

    # Already pouring when the checks come, and pouring on: the clock stands still.
    assert await holders(_surging(_Clock())) == 1
    assert await holders(Surge(100, window=0.05)) == 5
