"""PTB's ``AIORateLimiter`` with a sliding window for the bot-wide limit."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import AIORateLimiter

from bot.ratelimit import SlidingWindow

JSONDict = dict[str, Any]
Callback = Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]]


class WindowRateLimiter(AIORateLimiter):
    """At most ``per_second`` messages to chats in any second, the 20-a-minute limit for
    groups, and ``max_retries`` retries after a 429, as :class:`AIORateLimiter` does.

    AIORateLimiter's bot-wide limit is a leaky bucket, taken before it waits out a 429: with
    a bucket of 30 up to 60 go in one second, and after any 429 (a merchant's second /pay
    within a second) everything queued meanwhile goes at once. Measured (notify_burst.py):
    bucket 30, 47 and 249 429s; bucket 5 at 24/s, 24-28 429s (each pausing every reply for a
    second) and 20 /pays at once answered in 0.7 s instead of 0.25 s. This window, taken
    after the wait, sends the 20 at once and never more than ``per_second`` in any second.
    """

    def __init__(self, per_second: int = 30, *, max_retries: int = 3) -> None:
        super().__init__(overall_max_rate=0, overall_time_period=0, max_retries=max_retries)
        self.window = SlidingWindow(per_second, 1.0)

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        if data.get("chat_id") is None or data.get("allow_paid_broadcast"):
            paced = callback  # not a message to a chat, or paid broadcast (its own limit)
        else:

            async def paced(*a: Any, **kw: Any) -> bool | JSONDict | list[JSONDict]:
                async with self.window:
                    return await callback(*a, **kw)

        return await super().process_request(paced, args, kwargs, endpoint, data, rate_limit_args)
