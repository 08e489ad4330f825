"""Typed rows and values the repository takes and returns."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


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


class Role(enum.StrEnum):
    """What a member of a shop may do."""

    OWNER = "owner"  # every link of the shop, settings, team, invites, export
    STAFF = "staff"  # makes links, acts on their own


class AnnounceTo(enum.StrEnum):
    """Where a payment is announced (``shops.announce_to``; unset: :attr:`BOTH` when the shop
    has a group, else :attr:`MEMBER`)."""

    MEMBER = "member"  # the chat the link was made in
    GROUP = "group"  # the shop's group
    BOTH = "both"


@dataclass(frozen=True, slots=True)
class Shop:
    """A shop and its settings. Amount thresholds are in minor units; None turns one off."""

    id: int
    name: str
    currency: str
    country: str
    timezone: str
    link_expiry: timedelta
    confirm_above_minor: int | None
    confirm_below_minor: int | None
    #: Xendit's ``allowed_payment_channels``; empty: every channel the account has.
    payment_channels: tuple[str, ...] = ()
    announce_to: AnnounceTo | None = None
    group_chat_id: int | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def effective_announce_to(self) -> AnnounceTo:
        if self.announce_to is not None:
            return self.announce_to
        return AnnounceTo.BOTH if self.group_chat_id is not None else AnnounceTo.MEMBER

    def announce_chats(self, origin_chat_id: int) -> list[int]:
        """The chats a payment of a link made in ``origin_chat_id`` is announced in, each once.
        With no group connected, "the group" falls back to the chat the link was made in."""
        where = self.effective_announce_to
        chats: list[int] = []
        if where in (AnnounceTo.MEMBER, AnnounceTo.BOTH) or self.group_chat_id is None:
            chats.append(origin_chat_id)
        group = self.group_chat_id
        if (
            where in (AnnounceTo.GROUP, AnnounceTo.BOTH)
            and group is not None
            and group not in chats
        ):
            chats.append(group)
        return chats


@dataclass(frozen=True, slots=True)
class Member:
    """A person of a shop. A removed member (``active`` False) keeps their name for the
    shop's records and acts on nothing."""

    shop_id: int
    user_id: int
    role: Role
    name: str
    active: bool = True
    source: str = "invite"  # env (ALLOWED_USER_IDS), claim or invite

    @property
    def is_owner(self) -> bool:
        return self.active and self.role is Role.OWNER


@dataclass(frozen=True, slots=True)
class Scope:
    """Which links a member sees: the whole shop's (owners) or their own (staff)."""

    shop_id: int
    user_id: int | None = None  # None: every member's


@dataclass(frozen=True, slots=True)
class MemberTotals:
    """A member and what they took in a period (for /team and /today)."""

    member: Member
    paid_count: int
    paid_minor: int


class InviteOutcome(enum.StrEnum):
    """What opening an invite (or the claim link) did."""

    JOINED = "joined"
    ALREADY_MEMBER = "already_member"  # nothing changed (their role stays)
    EXPIRED = "expired"
    USED = "used"
    UNKNOWN = "unknown"  # no such code (mistyped, or from another deployment)
    CLAIMED = "claimed"  # a claim code, but the shop has an owner already


@dataclass(frozen=True, slots=True)
class Redeemed:
    outcome: InviteOutcome
    member: Member | None = None
    shop: Shop | None = None
    owners: tuple[Member, ...] = field(default=())


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
    shop_id: int = field(kw_only=True)
    member_name: str | None = field(default=None, kw_only=True)


@dataclass(frozen=True, slots=True)
class Link:
    id: int
    shop_id: int
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
    #: The member who made it, as they were named then (announcements say who).
    member_name: str | None = None

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
