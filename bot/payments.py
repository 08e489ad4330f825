"""The payment service: make links, take Xendit's webhooks. Knows nothing of Telegram or HTTP."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import ValidationError

from bot.money import Currency, parse_amount, to_minor_units
from bot.xendit import (
    CreateSession,
    PaymentWebhookData,
    Session,
    SessionWebhookData,
    WebhookEnvelope,
    XenditAuthError,
    XenditClient,
    XenditError,
    XenditRateLimited,
    XenditRequestRejected,
    XenditTimeout,
    XenditUnavailable,
)
from storage import EventOutcome, Link, NewLink, Repository, SessionEvent
from storage.repository import DuplicateReference, utcnow

log = logging.getLogger(__name__)

#: Readable on a phone, no look-alike characters (0/O, 1/I/L).
_REF_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_REF_LENGTH = 8
MAX_DESCRIPTION = 1000


def new_short_ref() -> str:
    return "".join(secrets.choice(_REF_ALPHABET) for _ in range(_REF_LENGTH))


@dataclass(frozen=True, slots=True)
class Merchant:
    """Who asked for a link and where to answer."""

    user_id: int
    chat_id: int
    language: str


@dataclass(frozen=True, slots=True)
class PaymentPolicy:
    currency: Currency
    max_amount: Decimal
    allowed_user_ids: frozenset[int]
    link_expiry: timedelta
    create_attempts: int = 3
    max_retry_wait: float = 5.0


class NotAllowed(Exception):
    def __init__(self, user_id: int) -> None:
        super().__init__(f"user {user_id} may not create links")
        self.user_id = user_id


class DescriptionTooLong(ValueError):
    pass


class Failure(StrEnum):
    """Why Xendit made no link, as the merchant will be told."""

    AUTH = "xendit_auth"
    REJECTED = "xendit_rejected"
    UNAVAILABLE = "xendit_unavailable"
    RATE_LIMITED = "xendit_rate_limited"
    UNKNOWN_OUTCOME = "xendit_unknown_outcome"


class LinkNotCreated(Exception):
    def __init__(self, failure: Failure, detail: str, link: Link) -> None:
        super().__init__(f"{failure.value}: {detail}")
        self.failure = failure
        self.detail = detail
        self.link = link


class WebhookRejected(ValueError):
    """The webhook is well-formed JSON but not a shape we can act on (answered 400)."""


class PaymentService:
    def __init__(
        self,
        repository: Repository,
        xendit: XenditClient,
        policy: PaymentPolicy,
        *,
        on_check_queued: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._repo = repository
        self._xendit = xendit
        self.policy = policy
        self._on_check_queued = on_check_queued
        self._clock = clock
        self._sleep = sleep

    def is_allowed(self, user_id: int) -> bool:
        return user_id in self.policy.allowed_user_ids

    def parse_amount(self, text: str) -> Decimal:
        """The amount the merchant typed; raises :class:`bot.money.AmountError`."""
        return parse_amount(text, self.policy.currency, max_amount=self.policy.max_amount)

    async def create_link(
        self, merchant: Merchant, amount_text: str, description: str | None
    ) -> Link:
        """Validate, store the link as pending, ask Xendit for a session, store the result."""
        if not self.is_allowed(merchant.user_id):
            raise NotAllowed(merchant.user_id)
        amount = self.parse_amount(amount_text)
        description = (description or "").strip() or None
        if description and len(description) > MAX_DESCRIPTION:
            raise DescriptionTooLong(MAX_DESCRIPTION)

        link = await self._store_pending(merchant, amount, description)
        request = CreateSession(
            reference_id=link.reference_id,
            amount=amount,
            currency=self.policy.currency.code,
            country=self.policy.currency.country,
            description=description,
            expires_at=self._clock() + self.policy.link_expiry,
            locale=merchant.language,
        )
        try:
            session = await self._create_with_retries(request)
        except XenditError as exc:
            failure = _failure_for(exc)
            log.warning("link %s not created: %s", link.short_ref, exc)
            failed = await self._repo.fail_link(link.id, f"{failure.value}: {exc}")
            raise LinkNotCreated(failure, exc.message, failed) from exc
        if session.payment_link_url is None:
            failed = await self._repo.fail_link(link.id, "no payment_link_url in the answer")
            raise LinkNotCreated(Failure.UNAVAILABLE, "no payment link in Xendit's answer", failed)
        created = await self._repo.activate_link(
            link.id,
            session_id=session.payment_session_id,
            link_url=session.payment_link_url,
            expires_at=session.expires_at,
        )
        log.info("link %s created: session %s", created.short_ref, created.session_id)
        return created

    async def _store_pending(
        self, merchant: Merchant, amount: Decimal, description: str | None
    ) -> Link:
        for _ in range(5):
            short_ref = new_short_ref()
            try:
                return await self._repo.create_link(
                    NewLink(
                        short_ref=short_ref,
                        reference_id=f"pb-{short_ref}-{secrets.token_hex(6)}",
                        chat_id=merchant.chat_id,
                        user_id=merchant.user_id,
                        language=merchant.language,
                        amount_minor=to_minor_units(amount, self.policy.currency),
                        currency=self.policy.currency.code,
                        description=description,
                    )
                )
            except DuplicateReference:
                continue
        raise RuntimeError("could not draw a unique reference in 5 tries")

    async def _create_with_retries(self, request: CreateSession) -> Session:
        """POST /sessions, retrying only what certainly made no session.

        A 429 or a connection that never opened is retried a few times. A timeout after the
        request was sent is not: there is no idempotency key for sessions, so a retry could
        make a second link for the same sale.
        """
        attempts = self.policy.create_attempts
        for attempt in range(1, attempts + 1):
            try:
                return await self._xendit.create_session(request)
            except XenditRateLimited as exc:
                if attempt == attempts:
                    raise
                wait = min(exc.retry_after or 1.0, self.policy.max_retry_wait)
            except XenditUnavailable as exc:
                if exc.status is not None or attempt == attempts:
                    raise  # a 5xx reached Xendit's servers: report it, do not guess
                wait = 0.2 * 2 ** (attempt - 1)
            log.info("retrying POST /sessions in %.1fs (attempt %d)", wait, attempt + 1)
            await self._sleep(wait)
        raise AssertionError("unreachable")

    # -- webhooks --------------------------------------------------------------------------

    async def handle_webhook(self, envelope: WebhookEnvelope, raw: str) -> EventOutcome | None:
        """Apply a verified webhook. None means an event type we do not act on."""
        event = envelope.event
        try:
            if event in ("payment_session.completed", "payment_session.expired"):
                data = SessionWebhookData.model_validate(envelope.data)
                outcome = await self._apply_session(event, data, raw)
            elif event.startswith("payment."):
                payment = PaymentWebhookData.model_validate(envelope.data)
                outcome = await self._repo.record_payment_event(
                    event=event,
                    payment_id=payment.payment_id,
                    channel_code=payment.channel_code,
                    payload=raw,
                )
            else:
                log.info("ignoring webhook event %r", event)
                return None
        except ValidationError as exc:
            raise WebhookRejected(_short_validation_message(exc)) from exc
        if outcome is EventOutcome.ACCEPTED:
            self._on_check_queued()
        return outcome

    async def _apply_session(self, event: str, data: SessionWebhookData, raw: str) -> EventOutcome:
        outcome, link = await self._repo.record_session_webhook(
            SessionEvent(
                event=event,
                session_id=data.payment_session_id,
                reference_id=data.reference_id,
                payload=raw,
            )
        )
        if outcome is EventOutcome.UNKNOWN_SESSION:
            log.warning(
                "webhook %s for unknown session %s (reference %s): ignored",
                event,
                data.payment_session_id,
                data.reference_id,
            )
        else:
            log.info(
                "webhook %s for link %s: %s",
                event,
                link.short_ref if link else "?",
                outcome.value,
            )
        return outcome


def _failure_for(exc: XenditError) -> Failure:
    if isinstance(exc, XenditAuthError):
        return Failure.AUTH
    if isinstance(exc, XenditRateLimited):
        return Failure.RATE_LIMITED
    if isinstance(exc, XenditTimeout):
        return Failure.UNKNOWN_OUTCOME
    if isinstance(exc, XenditRequestRejected):
        return Failure.REJECTED
    return Failure.UNAVAILABLE


def _short_validation_message(exc: ValidationError) -> str:
    first = exc.errors(include_input=False, include_url=False)[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"data.{where}: {first['msg']}"
