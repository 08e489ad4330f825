"""Typed rows and values the repository takes and returns."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class LinkStatus(enum.StrEnum):
    """A payment link's life. Only forward moves are allowed (see :data:`FINAL`)."""

    PENDING = "PENDING"  # stored, Xendit not yet answered
    ACTIVE = "ACTIVE"  # Xendit made the session; waiting for the customer
    COMPLETED = "COMPLETED"  # paid
    EXPIRED = "EXPIRED"
    CANCELED = "CANCELED"
    FAILED = "FAILED"  # Xendit refused or could not be reached; no session exists


class NotificationKind(enum.StrEnum):
    PAID = "PAID"
    EXPIRED = "EXPIRED"


class NotificationStatus(enum.StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"  # permanently undeliverable (bot blocked, chat gone)


class EventOutcome(enum.StrEnum):
    """What storing a webhook event did."""

    APPLIED = "applied"  # the link moved and a notification was queued
    NO_CHANGE = "no_change"  # recorded; the link was already past this state
    DUPLICATE = "duplicate"  # the same event for the same session came before
    UNKNOWN_SESSION = "unknown_session"  # no link of ours has this session


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


@dataclass(frozen=True, slots=True)
class SessionEvent:
    """A verified ``payment_session.*`` webhook reduced to what storage needs."""

    event: str
    session_id: str
    reference_id: str
    new_status: LinkStatus
    occurred_at: datetime
    payment_id: str | None
    payload: str


@dataclass(frozen=True, slots=True)
class Notification:
    id: int
    kind: NotificationKind
    chat_id: int
    attempts: int
    link: Link
