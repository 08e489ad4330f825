"""Re-export of :mod:`bot.sandbox.telegram` (the fake Telegram Bot API)."""

from bot.sandbox.telegram import *  # noqa: F403
from bot.sandbox.telegram import __all__ as __all__
