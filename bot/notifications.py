"""The outbox worker: delivers queued "paid" / "expired" notifications to the merchant's chat.

Rows are claimed with a lease, sent, then marked sent. A crash between sending and marking
re-sends that one message after the lease runs out (at most one duplicate, never a loss).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from bot.background import BackgroundWorker, seconds_until
from bot.errors import PaybotError
from storage import Notification, NotificationKind, Outbox, utcnow

if TYPE_CHECKING:  # the views import the payment service, which imports this module
    from bot.views import Delivery

log = logging.getLogger(__name__)


#: How a delivery error starts when the chat cannot hear the bot (blocked it, removed it):
#: such failures are queued again when the chat writes to the bot (:meth:`chat_seen`).
UNREACHABLE = "chat unreachable"


class DeliveryError(PaybotError):
    """Sending failed. ``permanent`` means retrying cannot help (bot blocked, chat gone);
    ``migrated_to`` names the chat a group became (a supergroup with a new id)."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        migrated_to: int | None = None,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.migrated_to = migrated_to


class Sender(Protocol):
    """Where notifications go (in production :class:`bot.telegram.sender.TelegramSender`)."""

    async def deliver(self, chat_id: int, delivery: Delivery) -> int | None:
        """Send or edit; the message id of what was sent (None if unknown)."""
        ...


@dataclass(frozen=True, slots=True)
class Pacing:
    """Telegram's flood limits, kept on our side: about 1 message a second to one chat and
    20 a minute to a group (the bot-wide 30 a second is PTB's ``AIORateLimiter``'s job).
    A little slack keeps us clear of the edge."""

    private_interval: float = 1.05
    group_interval: float = 3.1

    def interval(self, chat_id: int) -> float:
        return self.group_interval if chat_id < 0 else self.private_interval


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base: float = 1.0
    cap: float = 300.0
    jitter: float = 0.2  # ±20 %

    def delay(self, attempts: int) -> float:
        raw = min(self.cap, self.base * 2 ** max(0, attempts - 1))
        return float(raw * random.uniform(1 - self.jitter, 1 + self.jitter))


class NotificationWorker(BackgroundWorker):
    """Runs until stopped; wakes at once when a webhook queues something (see :meth:`wake`).

    Otherwise it sleeps until the next notification it knows of is due, and at most
    ``idle_poll`` seconds: then it looks for work nobody woke it for.
    """

    def __init__(
        self,
        outbox: Outbox,
        sender: Sender,
        render: Callable[[Notification, ZoneInfo], Delivery],
        summarise: Callable[[list[Notification], ZoneInfo], Delivery],
        zone_of: Callable[[int], Awaitable[ZoneInfo]],
        *,
        retry: RetryPolicy | None = None,
        pacing: Pacing | None = None,
        batch_size: int = 500,
        max_summary: int = 40,
        idle_poll: float = 1.0,
        lease: timedelta = timedelta(seconds=60),
        clock: Callable[[], datetime] = utcnow,
        refresh_unreachable: float = 60.0,
    ) -> None:
        super().__init__()
        self._outbox = outbox
        self._sender = sender
        self._render = render
        self._summarise = summarise
        #: A shop's time zone, by shop id: notifications show times in it.
        self._zone_of = zone_of
        self._retry = retry or RetryPolicy()
        self._pacing = pacing or Pacing()
        self._batch_size = batch_size
        self._max_summary = max_summary
        self._next_slot: dict[int, float] = {}  # chat id -> time.monotonic() it may get more
        self._idle_poll = idle_poll
        self._lease = lease
        self._clock = clock
        # Chats with notifications FAILED because they could not hear us (blocked the bot):
        # read from the database at most every ``refresh_unreachable`` seconds (other
        # instances fail deliveries too), and kept up to date by this worker in between.
        self._unreachable: set[int] = set()
        self._unreachable_read_at: float | None = None
        self._unreachable_added: set[int] | None = None  # while a read is under way
        self._refresh_unreachable = refresh_unreachable

    def start(self) -> None:
        self._spawn(("notification-worker", self._run()))

    async def _run(self) -> None:
        while not self._stopping:
            try:
                worked = await self.deliver_due()
            except Exception:
                log.exception("notification worker failed; retrying")
                worked = False
            if worked or self._stopping:
                self._idle.clear()
                continue
            self._wakeup.clear()
            wait = await self._until_next_due()
            if wait is None:
                self._idle.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), wait or self._idle_poll)

    async def _until_next_due(self) -> float | None:
        """Seconds until the next deferred or retried notification (at most a poll); None
        when nothing is pending at all."""
        due = await self._outbox.next_notification_due()
        if due is None:
            return None
        return seconds_until(due, self._clock(), at_most=self._idle_poll)

    async def deliver_due(self) -> bool:
        """Send what is due now, one message per chat at a time. True when anything was due.

        Chats are served concurrently. When several "paid" (or "expired") notifications wait
        for the same chat, as in a flash sale, they go out as one summary message instead of
        a minute of one-a-second messages. A chat whose next slot (per-chat pacing) has not
        come yet gets its notifications back for that slot.
        """
        batch = await self._outbox.claim_notifications(limit=self._batch_size, lease=self._lease)
        if not batch:
            return False
        self._idle.clear()
        now = time.monotonic()
        by_chat: dict[int, list[Notification]] = {}
        for note in batch:
            by_chat.setdefault(note.chat_id, []).append(note)
        sending: list[list[Notification]] = []
        deferred: dict[float, list[int]] = {}
        for chat_id, notes in by_chat.items():
            slot = self._next_slot.get(chat_id, 0.0)
            group: list[Notification] = []
            if not self._stopping and slot <= now:
                coalescable = _coalescable(notes, self._max_summary)
                tz = await self._zone_of(coalescable[0].link.shop_id)
                group = self._fitting(coalescable, tz)
                sending.append(group)
                self._next_slot[chat_id] = now + self._pacing.interval(chat_id)
            chosen = {note.id for note in group}
            rest = [note.id for note in notes if note.id not in chosen]
            if rest:
                deferred.setdefault(max(slot - now, 0.0), []).extend(rest)
        for wait, ids in deferred.items():
            await self._outbox.defer(ids, at=self._clock() + timedelta(seconds=wait))
        await asyncio.gather(*(self._deliver(group) for group in sending))
        self._forget_old_slots(now)
        return True

    def _fitting(self, group: list[Notification], tz: ZoneInfo) -> list[Notification]:
        """The longest start of ``group`` whose summary fits in one Telegram message; the
        rest waits for the chat's next slot. (Long descriptions are shortened in a summary,
        but a line full of ``&`` still escapes to five times its length.)"""
        if len(group) <= 1 or self._summarise(group, tz).reply.fits():
            return group
        fits, too_many = 1, len(group)  # one note is its own message, made to fit
        while too_many - fits > 1:
            middle = (fits + too_many) // 2
            if self._summarise(group[:middle], tz).reply.fits():
                fits = middle
            else:
                too_many = middle
        return group[:fits]

    def _restart_slot(self, chat_id: int) -> None:
        """Count the chat's pause from when Telegram took the message: the bot-wide limiter
        may have held it back, and the gap to the next one must not shrink because of that."""
        self._next_slot[chat_id] = time.monotonic() + self._pacing.interval(chat_id)

    def _forget_old_slots(self, now: float) -> None:
        if len(self._next_slot) > 10_000:
            self._next_slot = {c: t for c, t in self._next_slot.items() if t > now}

    # -- chats that come back, chats that move ---------------------------------------------

    async def chat_seen(self, chat_id: int) -> None:
        """The chat sent us something: it can hear us. If notifications to it failed because
        it could not (the merchant had blocked the bot), send them now.

        Called for every update, so cheap: a look in a set, and a database read at most
        every ``refresh_unreachable`` seconds (by one caller; the others go on meanwhile).
        """
        now = time.monotonic()
        read_at = self._unreachable_read_at
        if self._unreachable_added is None and (
            read_at is None or now - read_at >= self._refresh_unreachable
        ):
            self._unreachable_added = set()
            try:
                found = await self._outbox.chats_with_failures(error_prefix=UNREACHABLE)
                self._unreachable = found | self._unreachable_added
                self._unreachable_read_at = now
            finally:
                self._unreachable_added = None
        if chat_id not in self._unreachable:
            return
        self._unreachable.discard(chat_id)
        queued = await self._outbox.requeue_failed(chat_id)
        if queued:
            log.info("chat %d is back: %d notification(s) queued again", chat_id, queued)
            self.wake()

    async def chat_migrated(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: its links and notifications move to the new id, and
        what could not be sent to the old one is sent to the new one."""
        moved, queued = await self._outbox.move_chat(old_chat_id, new_chat_id)
        if old_chat_id in self._unreachable:
            self._unreachable.discard(old_chat_id)
            self._note_unreachable(new_chat_id)
        if moved or queued:
            log.info(
                "chat %d became %d: %d link(s) moved, %d notification(s) queued again",
                old_chat_id,
                new_chat_id,
                moved,
                queued,
            )
        if queued:
            self.wake()

    def _note_unreachable(self, chat_id: int) -> None:
        self._unreachable.add(chat_id)
        if self._unreachable_added is not None:
            self._unreachable_added.add(chat_id)

    async def deliver_now(self, note: Notification) -> bool:
        """Send a notification its caller has just queued and claimed (a new link's card,
        which answers the merchant's /pay): at once, not on the worker's next round. True
        when it went out; otherwise it is rescheduled, and the worker is woken for it."""
        sent = await self._deliver([note])
        if not sent:
            self.wake()
        return sent

    async def _deliver(self, group: list[Notification]) -> bool:
        first = group[0]
        ids = [note.id for note in group]
        tz = await self._zone_of(first.link.shop_id)
        delivery = self._render(first, tz) if len(group) == 1 else self._summarise(group, tz)
        try:
            message_id = await self._sender.deliver(first.chat_id, delivery)
        except DeliveryError as exc:
            self._restart_slot(first.chat_id)
            if exc.migrated_to is not None:
                await self.chat_migrated(first.chat_id, exc.migrated_to)
                return False
            if exc.permanent:
                log.error(
                    "notification(s) %s to chat %d failed for good: %s", ids, first.chat_id, exc
                )
                await self._outbox.mark_failed(ids, error=str(exc))
                if str(exc).startswith(UNREACHABLE):
                    self._note_unreachable(first.chat_id)
                return False
            wait = (
                exc.retry_after
                if exc.retry_after is not None
                else self._retry.delay(first.attempts)
            )
            log.warning(
                "notification(s) %s to chat %d failed (%s); retry in %.1fs",
                ids,
                first.chat_id,
                exc,
                wait,
            )
            await self._outbox.reschedule(
                ids, at=self._clock() + timedelta(seconds=wait), error=str(exc)
            )
            return False
        self._restart_slot(first.chat_id)
        card = first.kind is NotificationKind.CARD
        if card and delivery.edit_message_id is None and message_id is not None:
            await self._outbox.card_sent(first, message_id)  # a new card: edits go to it
        else:
            await self._outbox.mark_sent(ids, generation=first.generation if card else None)
        log.info(
            "%d notification(s) (%s) delivered to chat %d",
            len(ids),
            first.kind.value,
            first.chat_id,
        )
        return True


def _coalescable(notes: list[Notification], most: int) -> list[Notification]:
    """What one message can carry: the first note, plus (for "paid" and "expired") every
    other note of the same kind waiting for that chat, up to ``most``. Card edits go one
    by one: each edits its own message."""
    first = notes[0]
    if first.kind is NotificationKind.CARD:
        return [first]
    return [note for note in notes if note.kind is first.kind][:most]
