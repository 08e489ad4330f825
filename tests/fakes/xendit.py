"""Re-export of :mod:`bot.sandbox.xendit` (the fake Xendit API)."""

from bot.sandbox.xendit import *  # noqa: F403
from bot.sandbox.xendit import CREATE_SCHEMA, PAYMENT_SCHEMA, SESSION_SCHEMA
from bot.sandbox.xendit import __all__ as _all

__all__ = [*_all, "CREATE_SCHEMA", "PAYMENT_SCHEMA", "SESSION_SCHEMA"]
