"""PTB's ``AIORateLimiter`` with a sliding window for the bot-wide limit."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram._utils.types import JSONDict
from telegram.ext import AIORateLimiter

from bot.ratelimit import SlidingWindow

Callback = Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]]


class WindowRateLimiter(AIORateLimiter):
    """At most ``per_second`` messages to chats in any second, the 20-a-minute limit for
    groups, and ``max_retries`` retries after a 429, as :class:`AIORateLimiter` does.

    AIORateLimiter's bot-wide limit is a leaky bucket: spread evenly (one every 1/30 s), 20
    merchants who type /pay at once get their replies over two thirds of a second; with a
    bucket of 30, up to 60 can go in one second. A sliding window sends the 20 at once and
    never more than ``per_second`` in any second.
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
