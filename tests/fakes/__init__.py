"""Test fakes for paybot: a fake Telegram Bot API server and a fake Xendit API server."""

from tests.fakes.telegram import Call, FakeTelegram, InlineButton, Sent, StoredMessage
from tests.fakes.xendit import FakeXendit, Recorded, WebhookResult

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
