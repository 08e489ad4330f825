"""Typed rows and values the repository takes and returns."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class LinkStatus(enum.StrEnum):
    """A payment link's life. Only forward moves are allowed (see :data:`FINAL`)."""

    DRAFT = "DRAFT"  # a large amount waiting for the merchant's confirmation
    PENDING = "PENDING"  # stored; Xendit not yet answered, or its answer never came
    ACTIVE = "ACTIVE"  # Xendit made the session; waiting for the customer
    COMPLETED = "COMPLETED"  # paid
    EXPIRED = "EXPIRED"
    CANCELED = "CANCELED"
    FAILED = "FAILED"  # Xendit refused or could not be reached; no session exists


class NotificationKind(enum.StrEnum):
    PAID = "PAID"  # the short "paid" message that makes the phone ring
    EXPIRED = "EXPIRED"
    CARD = "CARD"  # the link's payment card: sent when it has none yet, else edited


class NotificationStatus(enum.StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"  # permanently undeliverable (bot blocked, chat gone)


class EventOutcome(enum.StrEnum):
    """What storing a webhook event did."""

    ACCEPTED = "accepted"  # recorded; Xendit will be asked to confirm it
    RECORDED = "recorded"  # recorded (payment events: nothing to confirm)
    DUPLICATE = "duplicate"  # the same event for the same session came before
    UNKNOWN_SESSION = "unknown_session"  # no link of ours has this session


class CheckOutcome(enum.StrEnum):
    """What Xendit's answer to ``GET /sessions/{id}`` did to a link."""

    PAID = "paid"  # now COMPLETED; "paid" queued
    EXPIRED = "expired"  # now EXPIRED; "expired" queued
    CANCELED = "canceled"  # now CANCELED
    FOUND = "found"  # a session we had not heard of (its create timed out): now ACTIVE
    UNCHANGED = "unchanged"  # Xendit agrees with what we had (or the link is past that state)
    MISMATCH = "mismatch"  # Xendit's session is not this link's (amount/currency/reference)


@dataclass(frozen=True, slots=True)
class DaySummary:
    paid_count: int
    paid_minor: int
    waiting_count: int
    waiting_minor: int


@dataclass(frozen=True, slots=True)
class NewLink:
    short_ref: str
    reference_id: str
    chat_id: int
    user_id: int
    language: str
    amount_minor: int
    currency: str
    description: str | None
    draft: bool = False
    return_token: str | None = None
    merchant_name: str | None = None


@dataclass(frozen=True, slots=True)
class Link:
    id: int
    short_ref: str
    reference_id: str
    chat_id: int
    user_id: int
    language: str
    amount_minor: int
    currency: str
    description: str | None
    status: LinkStatus
    session_id: str | None
    link_url: str | None
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    paid_at: datetime | None
    payment_id: str | None
    payment_channel: str | None
    failure: str | None
    card_message_id: int | None = None
    return_token: str | None = None
    merchant_name: str | None = None
    last_checked_at: datetime | None = None

    @property
    def waiting(self) -> bool:
        return self.status in (LinkStatus.ACTIVE, LinkStatus.PENDING)

    @property
    def closed(self) -> bool:
        """Expired or cancelled: can be re-issued."""
        return self.status in (LinkStatus.EXPIRED, LinkStatus.CANCELED)


@dataclass(frozen=True, slots=True)
class SessionEvent:
    """A ``payment_session.*`` webhook (token verified) reduced to what storage needs."""

    event: str
    session_id: str
    reference_id: str
    payload: str


@dataclass(frozen=True, slots=True)
class SessionTruth:
    """What Xendit's own API says of a session: the only thing that moves a link's status."""

    session_id: str
    reference_id: str
    status: str  # ACTIVE, COMPLETED, EXPIRED, CANCELED
    amount_minor: int
    currency: str
    payment_id: str | None
    updated_at: datetime
    #: For a link whose create went unanswered: what its card needs once the session is found.
    link_url: str | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Check:
    """A claimed session check."""

    link: Link
    session_id: str
    reason: str
    generation: int
    attempts: int
    queued_at: datetime  # when the newest news that queued it arrived


@dataclass(frozen=True, slots=True)
class Notification:
    id: int
    kind: NotificationKind
    chat_id: int
    attempts: int
    link: Link
    generation: int = 0
