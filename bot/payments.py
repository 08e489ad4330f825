"""The payment service: make links, take Xendit's webhooks. Knows nothing of Telegram or HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import NoReturn

from pydantic import ValidationError

from bot.checks import truth_of
from bot.errors import PaybotError, Problem
from bot.ingest import GroupCommit, Surge
from bot.money import (
    Currency,
    from_minor_units,
    get_currency,
    parse_amount,
    split_amount,
    to_minor_units,
)
from bot.ratelimit import SlidingWindow
from bot.xendit import (
    CreateSession,
    PaymentWebhookData,
    Session,
    SessionWebhookData,
    WebhookEnvelope,
    XenditAuthError,
    XenditClient,
    XenditError,
    XenditInvalidState,
    XenditRateLimited,
    XenditRequestRejected,
    XenditTimeout,
    XenditUnavailable,
)
from storage import (
    STORAGE_ERRORS,
    CheckOutcome,
    DuplicateReference,
    EventOutcome,
    Events,
    Link,
    Links,
    LinkStatus,
    NewLink,
    Notification,
    Role,
    Scope,
    SessionEvent,
    Shop,
    Shops,
    utcnow,
)

log = logging.getLogger(__name__)

#: Readable on a phone, no look-alike characters (0/O, 1/I/L).
_REF_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_REF_LENGTH = 8
MAX_DESCRIPTION = 1000


#: A second "new link, same amount" for the same old link within this many seconds is a
#: double tap: it gets the link the first one made.
REISSUE_ONCE_WITHIN = 60.0

#: Shows a link to the merchant (its card) and returns the card's message id, if it has one.
ShowLink = Callable[[Link], Awaitable[int | None]]
#: Sends a notification just queued and claimed (a link's card) at once; True if it went.
DeliverNow = Callable[[Notification], Awaitable[bool]]

#: Shows the readings of an unclear ``/pay`` (one draft each) in one message, to pick one;
#: returns the message id, if it has one.
AskReading = Callable[[Sequence[Link]], Awaitable[int | None]]


def new_short_ref() -> str:
    return "".join(secrets.choice(_REF_ALPHABET) for _ in range(_REF_LENGTH))


@dataclass(frozen=True, slots=True)
class Merchant:
    """A member of a shop acting in a chat: who asked, for which shop, and where to answer."""

    user_id: int
    chat_id: int
    language: str
    shop: Shop
    role: Role
    name: str | None = None  # who made a link (announcements name them)

    @property
    def is_owner(self) -> bool:
        return self.role is Role.OWNER

    @property
    def scope(self) -> Scope:
        """The links this member sees and acts on: the shop's (owners) or their own."""
        return Scope(self.shop.id, None if self.is_owner else self.user_id)

    def may_act_on(self, link: Link) -> bool:
        return link.shop_id == self.shop.id and (self.is_owner or link.user_id == self.user_id)


@dataclass(frozen=True, slots=True)
class AmountRules:
    """How a shop's amounts are read: its currency, the ceiling, and when to ask first."""

    currency: Currency
    max_amount: Decimal
    confirm_above: Decimal | None
    #: Below this an amount is confirmed too: far less than a shop charges.
    confirm_below: Decimal | None

    def needs_confirmation(self, amount: Decimal) -> bool:
        """Whether an amount is far outside a shop's sales: large, or unusually small."""
        above, below = self.confirm_above, self.confirm_below
        return (above is not None and amount > above) or (below is not None and amount < below)


@dataclass(frozen=True, slots=True)
class PaymentPolicy:
    """What holds for every shop of the deployment."""

    #: The largest amount ``/pay`` takes, per currency (``MAX_AMOUNT`` or its default).
    max_amounts: Mapping[str, Decimal]
    #: ``{PUBLIC_URL}``: links send the customer back to ``{PUBLIC_URL}/r/<token>/done`` after
    #: paying, to ``{PUBLIC_URL}/r/<token>`` otherwise.
    public_url: str | None = None
    create_attempts: int = 3
    max_retry_wait: float = 5.0


class DescriptionTooLong(Problem, ValueError):
    key = "description_too_long"

    def __init__(self, maximum: int) -> None:
        super().__init__(maximum)
        self.maximum = maximum

    @property
    def params(self) -> Mapping[str, object]:
        return {"max": self.maximum}


class Failure(StrEnum):
    """Why Xendit made no link."""

    AUTH = "auth"
    REJECTED = "rejected"
    UNAVAILABLE = "unavailable"
    RATE_LIMITED = "rate_limited"
    UNKNOWN_OUTCOME = "unknown_outcome"


class LinkNotCreated(Problem):
    """Xendit made no link; ``detail`` is its explanation (:data:`bot.views.FAILURE_KEYS`
    says which message the merchant reads)."""

    def __init__(self, failure: Failure, detail: str, link: Link) -> None:
        super().__init__(f"{failure.value}: {detail}")
        self.failure = failure
        self.detail = detail
        self.link = link


class LinkNotSaved(Problem):
    """The database failed, so the link could not be stored (and nothing was shown)."""

    key = "not_saved"


class LinkNotFound(Problem, LookupError):
    """No link with that reference in this chat."""

    key = "ref_not_found"

    def __init__(self, ref: str) -> None:
        super().__init__(ref)
        self.ref = ref

    @property
    def params(self) -> Mapping[str, object]:
        return {"ref": self.ref}


class CancelOutcome(StrEnum):
    CANCELED = "canceled"
    ALREADY_PAID = "already_paid"
    ALREADY_CLOSED = "already_closed"
    NOT_YET = "not_yet"  # its create went unanswered: no session known to cancel


class WebhookRejected(PaybotError, ValueError):
    """The webhook is well-formed JSON but not a shape we can act on (answered 400)."""


class WebhookNotStored(PaybotError):
    """The database failed while storing a webhook: not acknowledged, so Xendit sends it
    again (answered 503)."""


class PaymentService:
    def __init__(
        self,
        links: Links,
        events: Events,
        shops: Shops,
        xendit: XenditClient,
        policy: PaymentPolicy,
        *,
        on_check_queued: Callable[[], None] = lambda: None,
        on_notification_queued: Callable[[], None] = lambda: None,
        deliver_now: DeliverNow | None = None,
        create_window: SlidingWindow | None = None,
        surge: Surge | None = None,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._links = links
        self._events = events
        self._shops = shops
        self._surge = surge
        self._xendit = xendit
        self.policy = policy
        self._on_check_queued = on_check_queued
        self._on_notification_queued = on_notification_queued
        self._deliver_now = deliver_now
        #: POST /sessions under Xendit's per-endpoint limit: a burst of /pay waits its turn
        #: here instead of being refused with a 429.
        self.create_window = create_window
        self._clock = clock
        self._sleep = sleep
        # Concurrent webhooks are written in one transaction per batch (group commit).
        self._webhooks: GroupCommit[SessionEvent, tuple[EventOutcome, str | None]] = GroupCommit(
            events.record_session_webhooks
        )
        # Per-link expiry asked for with a draft, until it is confirmed (lost on restart:
        # the default expiry is used then).
        self._expiries: dict[int, timedelta | None] = {}
        # Double taps: what changes a link (cancel, reissue) runs once at a time per link,
        # in this process; a reissue remembers what it made for a while.
        self._link_locks = _KeyedLocks()
        self._reissued: dict[int, tuple[float, int]] = {}  # old id -> (until, new id)

    async def close(self) -> None:
        """Finish writing webhooks already received."""
        await self._webhooks.close()

    def rules(self, shop: Shop) -> AmountRules:
        """The shop's amount rules, from its settings (changed in /settings) and the policy."""
        currency = get_currency(shop.currency)

        def amount(minor: int | None) -> Decimal | None:
            return None if minor is None else from_minor_units(minor, currency)

        return AmountRules(
            currency=currency,
            max_amount=self.policy.max_amounts[currency.code],
            confirm_above=amount(shop.confirm_above_minor),
            confirm_below=amount(shop.confirm_below_minor),
        )

    def parse_amount(self, shop: Shop, text: str) -> Decimal:
        """The amount the merchant typed; raises :class:`bot.money.AmountError`."""
        rules = self.rules(shop)
        return parse_amount(text, rules.currency, max_amount=rules.max_amount)

    async def create_link(
        self,
        merchant: Merchant,
        amount_text: str,
        description: str | None,
        *,
        show: ShowLink,
        expiry: timedelta | None = None,
    ) -> Link:
        """Validate, store the link, ask Xendit for a session, store it, send the card.

        Store before show: the row is committed before anything is asked of Xendit (the
        database failing is :class:`LinkNotSaved`, and Xendit hears nothing), and the session
        together with the queued card the moment Xendit answers. The card then goes out at
        once through the outbox; a crash or a Telegram outage delays it, never loses it.

        An amount above ``confirm_above`` or below ``confirm_below`` is stored as a DRAFT and
        not sent anywhere until the merchant confirms it (:meth:`confirm_draft`); ``show`` then
        shows the draft.
        """
        amount = self.parse_amount(merchant.shop, amount_text)
        return await self._create(merchant, amount, _description(description), show, expiry)

    async def create_link_from_text(
        self,
        merchant: Merchant,
        text: str,
        *,
        show: ShowLink,
        ask: AskReading,
        expiry: timedelta | None = None,
    ) -> list[Link]:
        """``/pay``'s text: an amount, which may span words (``Rp 150.000``, ``2 juta``), then
        the description (see :func:`bot.money.split_amount`).

        One sure reading is made as by :meth:`create_link`. Otherwise every reading is stored
        as a DRAFT and ``ask`` shows them in one message, on which each draft's card message
        is recorded: confirming one (:meth:`confirm_draft`) discards the others. Nothing is
        sent to Xendit before the merchant has picked.
        """
        rules = self.rules(merchant.shop)
        split = split_amount(
            text.split(),
            rules.currency,
            max_amount=rules.max_amount,
            confirm_below=rules.confirm_below,
        )
        descriptions = [_description(reading.description) for reading in split.readings]
        if split.sure:
            amount = split.readings[0].amount
            return [await self._create(merchant, amount, descriptions[0], show, expiry)]
        drafts = [
            await self._store_new(merchant, reading.amount, description, draft=True)
            for reading, description in zip(split.readings, descriptions, strict=True)
        ]
        for draft in drafts:
            self._expiries[draft.id] = expiry
        card = await ask(drafts)
        if card is None:
            return drafts
        for draft in drafts:
            await self._links.set_card_message(draft.id, card)
        return [replace(draft, card_message_id=card) for draft in drafts]

    async def _create(
        self,
        merchant: Merchant,
        amount: Decimal,
        description: str | None,
        show: ShowLink,
        expiry: timedelta | None,
    ) -> Link:
        if not self.rules(merchant.shop).needs_confirmation(amount):
            return await self._store_and_open(merchant, amount, description, expiry)
        link = await self._store_new(merchant, amount, description, draft=True)
        self._expiries[link.id] = expiry
        card = await show(link)
        if card is None:
            return link
        await self._links.set_card_message(link.id, card)
        return replace(link, card_message_id=card)

    async def confirm_draft(self, merchant: Merchant, short_ref: str) -> tuple[Link, bool]:
        """The merchant confirmed a draft: make its session now (once). Its card, the draft's
        message, becomes the link's through the outbox; the other readings on the same card
        are discarded in the same transaction. True when this call made it.

        A second tap (or a tap on another reading after one was picked) finds nothing to do:
        the link is returned as it is, with False.
        """
        link = await self.find_link(merchant, short_ref)
        settled = await self._links.settle_drafts(link.id, confirm=True)
        if not settled:  # already confirmed or discarded
            return await self._links.get_link(link.id) or link, False
        for other in settled:
            if other != link.id:
                self._expiries.pop(other, None)
        fresh = await self._links.get_link(link.id)
        assert fresh is not None
        expiry = self._expiries.pop(link.id, None)
        return await self._open_session(fresh, merchant.shop, expiry), True

    async def discard_draft(self, merchant: Merchant, short_ref: str) -> Link:
        """No link: discard the draft and the other readings on its card."""
        link = await self.find_link(merchant, short_ref)
        for discarded in await self._links.settle_drafts(link.id, confirm=False):
            self._expiries.pop(discarded, None)
        fresh = await self._links.get_link(link.id)
        assert fresh is not None
        return fresh

    async def reissue(self, merchant: Merchant, short_ref: str) -> Link:
        """A new link with the same amount and description as an expired or cancelled one;
        its card goes to the chat as a new /pay's does. The new link is the presser's."""
        old = await self.find_link(merchant, short_ref)
        async with self._link_locks.hold(old.id):
            now = time.monotonic()
            made = self._reissued.get(old.id)
            if made is not None and made[0] > now:
                again = await self._links.get_link(made[1])
                if again is not None:
                    return again  # a double tap: shown once, by the first
            currency = get_currency(old.currency)
            amount = from_minor_units(old.amount_minor, currency)
            link = await self._store_and_open(merchant, amount, old.description, None)
            if len(self._reissued) > 10_000:
                self._reissued = {k: v for k, v in self._reissued.items() if v[0] > now}
            self._reissued[old.id] = (time.monotonic() + REISSUE_ONCE_WITHIN, link.id)
            return link

    async def find_link(self, merchant: Merchant, short_ref: str) -> Link:
        """A link the merchant may act on: any of the shop's for an owner, their own for
        staff. Anything else is "not found", so a reference says nothing of others' links."""
        link = await self._links.get_link_by_ref(short_ref.strip().upper())
        if link is None or not merchant.may_act_on(link):
            raise LinkNotFound(short_ref)
        return link

    async def page_of_links(
        self, merchant: Merchant, *, waiting_only: bool, offset: int, limit: int
    ) -> tuple[list[Link], int]:
        return await self._links.page_of_links(
            merchant.scope, waiting_only=waiting_only, offset=offset, limit=limit
        )

    async def shareable_links(self, merchant: Merchant, query: str) -> list[Link]:
        """The member's own waiting links for inline sharing: the one named, or the newest."""
        if query:
            link = await self._links.get_link_by_ref(query.split()[0].upper())
            found = [link] if link is not None else []
        else:
            found = await self._links.links_of_user(merchant.user_id, limit=10)
        return [
            link
            for link in found
            if link.shop_id == merchant.shop.id
            and link.user_id == merchant.user_id
            and link.waiting
        ]

    async def customer_link(self, token: str) -> tuple[Link, Shop] | None:
        """The link behind a return-page token. A waiting link is also queued for a check
        with Xendit (at most every 30 s), so a customer who has just paid sees "paid" as soon
        as Xendit confirms it, even if its webhook is late."""
        if not 20 <= len(token) <= 64:
            return None
        link = await self._links.get_link_by_return_token(token)
        if link is None or link.status is LinkStatus.DRAFT:
            return None
        recently = self._clock() - timedelta(seconds=30)
        if (
            link.status is LinkStatus.ACTIVE
            and link.session_id is not None
            and (link.last_checked_at is None or link.last_checked_at < recently)
        ):
            await self._events.request_check(link.id, link.session_id, reason="return_page")
            self._on_check_queued()
        shop = await self._shops.get(link.shop_id)
        return (link, shop) if shop is not None else None

    async def set_card(self, link: Link, message_id: int) -> None:
        await self._links.set_card_message(link.id, message_id)

    async def refresh(self, merchant: Merchant, short_ref: str) -> Link:
        """Re-read a link's session from Xendit and apply it (as a webhook would)."""
        link = await self.find_link(merchant, short_ref)
        if link.session_id is None:
            return link
        session = await self._xendit.get_session(link.session_id)
        return await self._apply(link, session)

    async def cancel(self, merchant: Merchant, short_ref: str) -> tuple[CancelOutcome, Link]:
        """Cancel a waiting link at Xendit. If Xendit says it is too late, show the truth."""
        link = await self.find_link(merchant, short_ref)
        async with self._link_locks.hold(link.id):
            link = await self.find_link(merchant, short_ref)  # as a tap before left it
            if link.session_id is None and link.status is LinkStatus.PENDING:
                return CancelOutcome.NOT_YET, link  # cancellable once a webhook names its session
            if link.session_id is None or not link.waiting:
                return _cancel_outcome(link), link
            try:
                session = await self._xendit.cancel_session(link.session_id)
            except XenditInvalidState:
                session = await self._xendit.get_session(link.session_id)
            link = await self._apply(link, session)
            return _cancel_outcome(link), link

    async def _apply(self, link: Link, session: Session) -> Link:
        outcome, updated = await self._events.apply_session_truth(link.id, truth_of(session))
        if outcome is not CheckOutcome.UNCHANGED:
            self._on_notification_queued()
        return updated

    async def _store_and_open(
        self,
        merchant: Merchant,
        amount: Decimal,
        description: str | None,
        expiry: timedelta | None,
    ) -> Link:
        """Store a new link (committed, with the ``reference_id`` Xendit will be sent), then
        ask Xendit for its session. A webhook or check naming that reference finds the row
        whatever becomes of the request."""
        link = await self._store_new(merchant, amount, description, draft=False)
        return await self._open_session(link, merchant.shop, expiry)

    async def _open_session(self, link: Link, shop: Shop, expiry: timedelta | None) -> Link:
        """Ask Xendit for the session of a link already stored; store it; send the card."""
        try:
            session = await self._create_with_retries(self._session_request(link, shop, expiry))
        except XenditTimeout as exc:
            return await self._outcome_unknown(link, exc)
        except XenditError as exc:
            await self._failed(link, exc)
        return await self._activate(link, session)

    def _session_request(
        self, link: Link | NewLink, shop: Shop, expiry: timedelta | None
    ) -> CreateSession:
        currency = get_currency(link.currency)
        return CreateSession(
            reference_id=link.reference_id,
            amount=from_minor_units(link.amount_minor, currency),
            currency=currency.code,
            country=currency.country,
            description=link.description,
            expires_at=self._clock() + (expiry or shop.link_expiry),
            locale=link.language,
            # Different pages: one who has paid must not be shown a Pay button again.
            success_return_url=self._return_url(link, "/done"),
            cancel_return_url=self._return_url(link),
            allowed_payment_channels=shop.payment_channels,
        )

    async def _failed(self, link: Link, exc: XenditError) -> NoReturn:
        failure = _failure_for(exc)
        log.warning("link %s not created: %s", link.short_ref, exc)
        failed = await self._links.fail_link(link.id, _failure_note(failure, exc))
        raise LinkNotCreated(failure, exc.message, failed) from exc

    async def _outcome_unknown(self, link: Link, exc: XenditTimeout) -> Link:
        """The request reached Xendit but no answer came: the session may exist. Not FAILED
        (that would deny a payable link): PENDING, and its card says so. A later webhook for
        its reference makes it ACTIVE (or paid, expired) and the card shows it."""
        log.warning(
            "link %s: Xendit did not answer, the session may exist: %s", link.short_ref, exc
        )
        try:
            unknown, card = await self._links.mark_outcome_unknown(
                link.id, _failure_note(Failure.UNKNOWN_OUTCOME, exc)
            )
        except STORAGE_ERRORS as store_exc:
            raise LinkNotSaved(link.short_ref) from store_exc
        await self._send_card(card)
        return unknown

    async def _activate(self, link: Link, session: Session) -> Link:
        """Store the session Xendit made and queue its card in one transaction, then send
        the card at once (the outbox worker does, later, if that fails)."""
        if session.payment_link_url is None:
            failed = await self._links.fail_link(link.id, "no payment_link_url in the answer")
            raise LinkNotCreated(Failure.UNAVAILABLE, "no payment link in Xendit's answer", failed)
        try:
            # Shielded: the session exists now, so it is stored even if the handler is
            # cancelled (shutdown) while the commit is on its way.
            created, card = await asyncio.shield(
                self._links.open_link(
                    link.id,
                    session_id=session.payment_session_id,
                    link_url=session.payment_link_url,
                    expires_at=session.expires_at,
                )
            )
        except STORAGE_ERRORS as exc:
            await self._withdraw(link, session, exc)
        log.info("link %s created: session %s", created.short_ref, created.session_id)
        await self._send_card(card)
        return created

    async def _withdraw(self, link: Link, session: Session, exc: BaseException) -> NoReturn:
        """Xendit made a session the database could not store: cancel it, so no link exists
        that the bot does not know of, and tell the merchant nothing was saved."""
        log.error(
            "link %s: session %s made but not stored (%s); cancelling it",
            link.short_ref,
            session.payment_session_id,
            exc,
        )
        try:
            await self._xendit.cancel_session(session.payment_session_id)
        except XenditError as cancel_exc:
            # Its row (PENDING, with the reference) stays: a webhook still finds it.
            log.error("could not cancel session %s: %s", session.payment_session_id, cancel_exc)
        else:
            with contextlib.suppress(*STORAGE_ERRORS):
                await self._links.fail_link(link.id, "not stored; cancelled at Xendit")
        raise LinkNotSaved(link.short_ref) from exc

    async def _send_card(self, card: Notification | None) -> None:
        """Send a card just queued: the outbox row is stored, so a failure only delays it."""
        if card is None:
            return  # someone else holds it and sends it
        if self._deliver_now is None:
            self._on_notification_queued()
            return
        await self._deliver_now(card)

    def _return_url(self, link: Link | NewLink, suffix: str = "") -> str | None:
        if self.policy.public_url is None or link.return_token is None:
            return None
        return f"{self.policy.public_url.rstrip('/')}/r/{link.return_token}{suffix}"

    async def _store_new(
        self, merchant: Merchant, amount: Decimal, description: str | None, *, draft: bool
    ) -> Link:
        for _ in range(5):
            try:
                return await self._links.create_link(
                    self._new_link(merchant, amount, description, draft=draft)
                )
            except DuplicateReference:
                continue  # two links drew the same short reference: draw again
            except STORAGE_ERRORS as exc:
                log.error("link not stored, the database failed: %s", exc)
                raise LinkNotSaved(merchant.chat_id) from exc
        raise RuntimeError("could not draw a unique reference in 5 tries")

    def _new_link(
        self, merchant: Merchant, amount: Decimal, description: str | None, *, draft: bool
    ) -> NewLink:
        """A new link's row, with fresh random references."""
        short_ref = new_short_ref()
        currency = get_currency(merchant.shop.currency)
        return NewLink(
            shop_id=merchant.shop.id,
            member_name=(merchant.name or "")[:128] or None,
            short_ref=short_ref,
            reference_id=f"pb-{short_ref}-{secrets.token_hex(6)}",
            chat_id=merchant.chat_id,
            user_id=merchant.user_id,
            language=merchant.language,
            amount_minor=to_minor_units(amount, currency),
            currency=currency.code,
            description=description,
            draft=draft,
            return_token=secrets.token_urlsafe(24),
            # The shop's name as it is now: what the customer's pages show.
            merchant_name=merchant.shop.name[:128] or None,
        )

    async def _create_with_retries(self, request: CreateSession) -> Session:
        """POST /sessions, retrying only what certainly made no session.

        A 429 or a connection that never opened is retried a few times. A timeout after the
        request was sent is not: there is no idempotency key for sessions, so a retry could
        make a second link for the same sale.
        """
        attempts = self.policy.create_attempts
        for attempt in range(1, attempts + 1):
            try:
                if self.create_window is None:
                    return await self._xendit.create_session(request)
                async with self.create_window:
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
        if self._surge is not None:
            self._surge.arrived()
        event = envelope.event
        try:
            if event in ("payment_session.completed", "payment_session.expired"):
                data = SessionWebhookData.model_validate(envelope.data)
                outcome = await self._apply_session(event, data, raw)
            elif event.startswith("payment."):
                payment = PaymentWebhookData.model_validate(envelope.data)
                outcome = await self._events.record_payment_event(
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
        except STORAGE_ERRORS as exc:
            log.error("webhook %s not stored, the database failed: %s", event, exc)
            raise WebhookNotStored(event) from exc
        if outcome is EventOutcome.ACCEPTED or (
            # A duplicate may have queued a check again (see record_session_webhooks).
            outcome is EventOutcome.DUPLICATE and event.startswith("payment_session.")
        ):
            self._on_check_queued()
        return outcome

    async def _apply_session(self, event: str, data: SessionWebhookData, raw: str) -> EventOutcome:
        outcome, short_ref = await self._webhooks.submit(
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
                short_ref,
                outcome.value,
            )
        return outcome


class _KeyedLocks:
    """One lock per key, dropped once nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: int) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


def _description(text: str | None) -> str | None:
    description = (text or "").strip() or None
    if description and len(description) > MAX_DESCRIPTION:
        raise DescriptionTooLong(MAX_DESCRIPTION)
    return description


def _cancel_outcome(link: Link) -> CancelOutcome:
    if link.status is LinkStatus.COMPLETED:
        return CancelOutcome.ALREADY_PAID
    if link.status is LinkStatus.CANCELED:
        return CancelOutcome.CANCELED
    return CancelOutcome.ALREADY_CLOSED


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


def _failure_note(failure: Failure, exc: XenditError) -> str:
    """What a link's ``failure`` column says: ``xendit_auth: HTTP 401 ...``."""
    return f"xendit_{failure.value}: {exc}"


def _short_validation_message(exc: ValidationError) -> str:
    first = exc.errors(include_input=False, include_url=False)[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"data.{where}: {first['msg']}"
