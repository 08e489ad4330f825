"""Confirm with Xendit before telling anyone anything, and reconcile what webhooks missed.

A webhook only queues a *check*; the :class:`SessionChecker` reads the session back with
``GET /sessions/{id}`` (authenticated with our secret key) and applies what Xendit says.
So a forged webhook, even with a leaked callback token, cannot make the bot say "paid". A
completion the GET does not show yet is read again for a while (:class:`RecheckPolicy`):
Xendit's API may lag its own webhook.
Reconciliation queues the same checks for links that stayed ACTIVE too long, so a payment
whose webhook never came is found and told exactly as a webhook would have it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.background import BackgroundWorker, seconds_until
from bot.ingest import Surge
from bot.money import get_currency, to_minor_units
from bot.notifications import RetryPolicy
from bot.ratelimit import SlidingWindow
from bot.xendit import (
    Session,
    XenditClient,
    XenditError,
    XenditNotFound,
    XenditRateLimited,
)
from storage import COMPLETION, Check, CheckOutcome, Events, LinkStatus, SessionTruth, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReconcilePolicy:
    """When ACTIVE links are re-read from Xendit without a webhook."""

    interval: timedelta = timedelta(minutes=5)  # how often to look for stale links
    grace: timedelta = timedelta(minutes=5)  # past expires_at before a check
    max_age: timedelta = timedelta(hours=1)  # ACTIVE this long without news: check
    recheck: timedelta = timedelta(minutes=15)  # do not re-read one link more often


@dataclass(frozen=True, slots=True)
class RecheckPolicy:
    """When a completion webhook whose session Xendit's GET does not show COMPLETED yet is
    read again: ``first``, doubling each time up to ``cap``, until ``window`` has passed since
    the webhook (5 s, 10 s, 20 s ... 5 min, 5 min: the last read is at least 15 min after).

    Xendit's API can lag its webhook; giving up at the first "ACTIVE" would leave the
    merchant waiting for reconciliation, an hour later. A forged webhook costs a few GETs.
    """

    first: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(minutes=5)
    window: timedelta = timedelta(minutes=15)

    def next_at(self, attempts: int, since: datetime, now: datetime) -> datetime | None:
        """When to read again after the ``attempts``-th read (None: stop, the window is over)."""
        if now - since >= self.window:
            return None
        # The exponent is bounded: attempts also count failed GETs, and timedelta overflows.
        delay: timedelta = self.first * 2 ** min(max(0, attempts - 1), 20)
        return now + min(self.cap, delay)


def truth_of(session: Session) -> SessionTruth:
    """Xendit's session as storage compares it with a link (amounts in minor units)."""
    try:
        amount_minor = to_minor_units(session.amount, get_currency(session.currency))
    except ValueError:
        amount_minor = -1  # an amount no link of ours can have: reported as a mismatch
    return SessionTruth(
        session_id=session.payment_session_id,
        reference_id=session.reference_id,
        status=session.status,
        amount_minor=amount_minor,
        currency=session.currency,
        payment_id=session.payment_id,
        updated_at=session.updated or utcnow(),
        link_url=session.payment_link_url,
        expires_at=session.expires_at,
    )


class SessionChecker(BackgroundWorker):
    """Runs queued checks under Xendit's rate limit and periodically queues reconciliation.

    Woken when a check is queued (:meth:`wake`); otherwise it sleeps until the next queued
    check is due, and at most ``idle_poll`` seconds: then it looks for checks nobody woke it
    for.
    """

    def __init__(
        self,
        events: Events,
        xendit: XenditClient,
        *,
        on_notification_queued: Callable[[], None],
        requests_per_minute: int = 600,
        reconcile: ReconcilePolicy | None = None,
        recheck: RecheckPolicy | None = None,
        retry: RetryPolicy | None = None,
        idle_poll: float = 1.0,
        concurrency: int = 16,
        surge: Surge | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """``concurrency``: GETs in flight at once. Xendit answers in a tenth of a second or
        more, so one at a time would take half a minute to confirm a flash sale of 200."""
        super().__init__()
        self._events = events
        self._xendit = xendit
        self._notify = on_notification_queued
        # Xendit counts requests per minute: a flash sale may use the whole minute at once.
        self._limiter = SlidingWindow(requests_per_minute, 60.0)
        self._reconcile = reconcile or ReconcilePolicy()
        self._recheck = recheck or RecheckPolicy()
        self._retry = retry or RetryPolicy(base=2.0, cap=600.0)
        self._idle_poll = idle_poll
        self._concurrency = max(1, concurrency)
        self._surge = surge
        self._clock = clock
        self._paused_until = 0.0  # time.monotonic() until which Xendit asked us to wait

    def start(self) -> None:
        self._spawn(
            ("session-checker", self._run()),
            ("reconciliation", self._reconcile_forever()),
        )

    # -- reconciliation ------------------------------------------------------------------

    async def reconcile_now(self) -> int:
        """Queue checks for stale ACTIVE links. Returns how many were queued."""
        now = self._clock()
        policy = self._reconcile
        queued = await self._events.enqueue_stale_checks(
            expired_before=now - policy.grace,
            created_before=now - policy.max_age,
            checked_before=now - policy.recheck,
        )
        if queued:
            log.info("reconciliation: %d link(s) to re-read from Xendit", queued)
            self.wake()
        return queued

    async def _reconcile_forever(self) -> None:
        interval = self._reconcile.interval.total_seconds()
        while not self._stopping:
            try:
                await self.reconcile_now()
            except Exception:
                log.exception("reconciliation pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_requested.wait(), interval)

    # -- checks --------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:
            try:
                worked = await self.run_due()
            except Exception:
                log.exception("session checker failed; retrying")
                worked = False
            if worked or self._stopping:
                continue
            self._idle.set()
            self._wakeup.clear()
            wait = await self._until_next_due()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), wait)

    async def _until_next_due(self) -> float:
        """Seconds until the next queued check is due, or until the next look for checks
        nobody woke this worker for (``idle_poll``), whichever comes first."""
        due = await self._events.next_check_due()
        if due is None:
            return self._idle_poll
        return seconds_until(due, self._clock(), at_most=self._idle_poll)

    async def run_due(self) -> bool:
        """Run the checks due now, several at once. True when any was run."""
        batch = await self._events.claim_checks(limit=2 * self._concurrency)
        if not batch:
            return False
        self._idle.clear()
        todo = iter(batch)
        unstarted: list[Check] = []

        async def lane() -> None:
            for check in todo:  # one iterator shared by the lanes: each check runs once
                if self._stopping:
                    unstarted.append(check)
                else:
                    await self._run_check(check)

        async with asyncio.TaskGroup() as lanes:
            for _ in range(min(self._concurrency, len(batch))):
                lanes.create_task(lane())
        if unstarted:
            # Hand back what this batch will not run: a new process takes it up at once
            # instead of after the lease.
            await self._events.release_checks(unstarted)
        return True

    async def _run_check(self, check: Check) -> None:
        pause = self._paused_until - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)
        # Webhooks pouring in: acknowledge them first.
        turn = self._surge.turn() if self._surge is not None else contextlib.nullcontext()
        async with turn:
            await self._confirm(check)

    async def _confirm(self, check: Check) -> None:
        """Read the session from Xendit and apply it."""
        try:
            async with self._limiter:
                session = await self._xendit.get_session(check.session_id)
        except XenditRateLimited as exc:
            wait = exc.retry_after if exc.retry_after is not None else 60.0
            self._paused_until = time.monotonic() + wait
            log.warning("Xendit rate limit: pausing checks for %.1fs", wait)
            await self._events.retry_check(
                check, at=self._clock() + timedelta(seconds=wait), error=str(exc)
            )
            return
        except XenditNotFound:
            log.error(
                "session %s of link %s is unknown to Xendit (%s): not applied",
                check.session_id,
                check.link.short_ref,
                check.reason,
            )
            await self._events.finish_check(check)
            return
        except XenditError as exc:
            wait = self._retry.delay(check.attempts)
            log.warning(
                "cannot confirm session %s with Xendit (%s); retry in %.0fs",
                check.session_id,
                exc,
                wait,
            )
            await self._events.retry_check(
                check, at=self._clock() + timedelta(seconds=wait), error=str(exc)
            )
            return

        truth = truth_of(session)
        outcome, link = await self._events.apply_session_truth(check.link.id, truth)
        again_at: datetime | None = None
        if outcome is CheckOutcome.MISMATCH:
            log.error(
                "session %s does not match link %s (reference/amount/currency differ): "
                "nothing told to the merchant",
                truth.session_id,
                link.short_ref,
            )
        elif check.reason == COMPLETION and link.status is not LinkStatus.COMPLETED:
            # Not paid yet by Xendit's API is not "never paid": its API may lag the webhook.
            again_at = self._recheck.next_at(check.attempts, check.queued_at, self._clock())
            log.warning(
                "a webhook said session %s of link %s was paid but Xendit says %s: not telling "
                "the merchant it is paid; %s",
                truth.session_id,
                link.short_ref,
                truth.status,
                f"reading it again at {again_at:%H:%M:%S}" if again_at else "no more re-reads",
            )
        else:
            log.info("link %s: %s (%s)", link.short_ref, outcome.value, check.reason)
        if outcome in (CheckOutcome.PAID, CheckOutcome.EXPIRED, CheckOutcome.FOUND):
            self._notify()
        await self._events.finish_check(check, again_at=again_at)
