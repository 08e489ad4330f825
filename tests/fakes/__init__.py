"""Test fakes for paybot: the fake Telegram Bot API and fake Xendit servers.

They live in :mod:`bot.sandbox` (one implementation for the tests and for
``python -m bot sandbox``); this package keeps the tests' import paths.
"""

from bot.sandbox.telegram import Call, FakeTelegram, InlineButton, Sent, StoredMessage
from bot.sandbox.xendit import FakeXendit, Recorded, WebhookResult

__all__ = [
    "Call",
    "FakeTelegram",
    "FakeXendit",
    "InlineButton",
    "Recorded",
    "Sent",
    "StoredMessage",
    "WebhookResult",
]
