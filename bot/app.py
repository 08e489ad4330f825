"""The composition root: builds every part from :class:`Settings` and runs them on one loop.

``python -m bot`` (:mod:`bot.cli`) calls :func:`serve`; tests start the very same
:class:`Paybot` against the fakes. Every collaborator is made here and nowhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from telegram import Bot, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, Defaults

from bot import views
from bot.checks import ReconcilePolicy, SessionChecker
from bot.config import DEFAULT_MAX_AMOUNT, Settings
from bot.group import ShopGroup
from bot.ingest import Surge
from bot.languages import Languages
from bot.money import get_currency, to_minor_units
from bot.notifications import NotificationWorker
from bot.payments import PaymentPolicy, PaymentService
from bot.ratelimit import SlidingWindow
from bot.reports import Reports
from bot.server import ConnectionGuard, OncePerInterval, log_resource_errors, raise_open_file_limit
from bot.shop_settings import ShopSettings
from bot.team import CLAIM, Team, deep_link
from bot.telegram import handlers
from bot.telegram.access import AccessGuard
from bot.telegram.chats import ChatEvents
from bot.telegram.common import People
from bot.telegram.group import GroupCommands
from bot.telegram.language import LanguageCommands
from bot.telegram.manage import ManageCommands
from bot.telegram.pay import PayCommands
from bot.telegram.ratelimit import WindowRateLimiter
from bot.telegram.sender import TelegramSender
from bot.telegram.settings import SettingsCommands
from bot.telegram.share import ShareInline
from bot.telegram.team import TeamCommands
from bot.telegram.updates import TrackedUpdateProcessor
from bot.telegram.webhook import TelegramWebhook
from bot.web import build_web_app
from bot.xendit import XenditClient
from storage import Database, Events, Links, Outbox, Shop, Shops, ShopSeed, Users, utcnow

log = logging.getLogger(__name__)

PTBApplication = Application[Any, Any, Any, Any, Any, Any]

#: How often the background workers look for work nobody woke them for, when nothing they
#: know of is due sooner. Instances sharing one PostgreSQL database behind one address look
#: every second: another instance may have queued work and stopped before doing it. A bot
#: alone on its database (polling, since Telegram lets one process poll a bot; or SQLite)
#: queued everything itself and woke its workers when it did, so the look is only a safety
#: net, and an idle bot does not query its database every second.
SHARED_IDLE_POLL = 1.0
ALONE_IDLE_POLL = 60.0


def build_telegram(settings: Settings) -> PTBApplication:
    """The PTB application, pointed at ``TELEGRAM_API_URL`` (Telegram, or a fake in tests).

    In webhook mode it has no Updater: updates come in through ``POST /webhooks/telegram``
    on our own HTTP server, never from ``getUpdates``.
    """
    api = str(settings.telegram_api_url).rstrip("/")
    builder = ApplicationBuilder()
    if settings.telegram_mode == "webhook":
        builder = builder.updater(None)
    return (
        builder.token(settings.telegram_bot_token.get_secret_value())
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                tzinfo=settings.tz,
            )
        )
        # At most 30 messages in any second for the bot, 20 a minute per group.
        .rate_limiter(WindowRateLimiter(30, max_retries=3))
        .concurrent_updates(TrackedUpdateProcessor(256))
        # PTB's HTTPXRequest: 256 connections for calls, 1 for getUpdates; 5 s timeouts.
        .connection_pool_size(256)
        .get_updates_connection_pool_size(1)
        .build()
    )


class Paybot:
    """The whole bot: Telegram, the HTTP server, the outbox worker, storage and Xendit.

    ``start`` makes and starts the parts in order, registering each one's stop or close on one
    exit stack where it is made; ``stop`` unwinds the stack in reverse: the HTTP server first
    (in-flight webhooks finish), then polling, the workers, and the clients and database last.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        xendit: XenditClient | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """``xendit`` replaces the client built from the settings (tests pass a stand-in; it
        is closed on stop all the same); ``clock`` the wall clock of storage and the workers
        (tests move it on)."""
        self.settings = settings
        self._clock = clock
        self._xendit_given = xendit
        self._ready = False
        self._stack = contextlib.AsyncExitStack()
        self._listener: asyncio.Server | None = None
        self.db: Database | None = None
        self.telegram: PTBApplication | None = None
        self.worker: NotificationWorker | None = None
        self.checker: SessionChecker | None = None
        self.payments: PaymentService | None = None
        self.team: Team | None = None
        #: The link whose opener becomes the shop's owner, while it has none.
        self.claim_link: str | None = None

    @property
    def url(self) -> str:
        """Where the HTTP server listens (the real port when ``PORT=0``)."""
        assert self._listener is not None, "not started"
        host, port = self._listener.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def __aenter__(self) -> Paybot:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start every part; if one fails, what was started is stopped again."""
        async with contextlib.AsyncExitStack() as stack:
            await self._start(stack)
            self._stack = stack.pop_all()
        self._ready = True
        log.info("paybot is up: HTTP on %s, Telegram %s", self.url, self.settings.telegram_mode)

    async def stop(self) -> None:
        """Stop taking webhooks, finish those in flight, stop polling, drain, close clients."""
        self._ready = False
        stack, self._stack = self._stack, contextlib.AsyncExitStack()
        await stack.aclose()
        log.info("paybot stopped")

    async def _start(self, stack: contextlib.AsyncExitStack) -> None:
        s = self.settings
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        raise_open_file_limit()
        stack.callback(
            log_resource_errors(
                asyncio.get_running_loop(), OncePerInterval(logging.getLogger("bot.server"))
            )
        )
        self.db = db = await Database.connect(s.database_url)
        stack.push_async_callback(db.close)
        links = Links(db, clock=self._clock)
        events = Events(db, clock=self._clock)
        outbox = Outbox(db, clock=self._clock)
        shops = Shops(db, clock=self._clock)
        if s.telegram_mode == "polling":
            # Telegram lets one process poll a bot: whatever is still claimed was claimed by
            # a process that is gone. Take it up now rather than after its lease.
            checks, notes = await events.release_claims(), await outbox.release_claims()
            if checks or notes:
                log.warning(
                    "released %d check(s) and %d notification(s) a previous run had claimed",
                    checks,
                    notes,
                )
        xendit = self._xendit_given or XenditClient.create(
            api_url=str(s.xendit_api_url),
            secret_key=s.xendit_secret_key.get_secret_value(),
            timeout=s.xendit_timeout,
        )
        stack.push_async_callback(xendit.aclose)
        self.telegram = telegram = build_telegram(s)
        alone = s.telegram_mode == "polling" or db.dialect == "sqlite"
        idle_poll = ALONE_IDLE_POLL if alone else SHARED_IDLE_POLL

        async def zone_of(shop_id: int) -> ZoneInfo:
            shop = await shops.get(shop_id)
            return shop.tz if shop is not None else s.tz

        self.worker = worker = NotificationWorker(
            outbox,
            TelegramSender(telegram.bot),
            views.notification,
            views.summary,
            zone_of,
            idle_poll=idle_poll,
            clock=self._clock,
        )
        surge = Surge()  # webhooks arriving faster than 100/s: checks wait for them
        self.checker = checker = SessionChecker(
            events,
            xendit,
            surge=surge,
            on_notification_queued=worker.wake,
            idle_poll=idle_poll,
            requests_per_minute=s.effective_xendit_rate_limit,
            reconcile=ReconcilePolicy(
                interval=s.reconcile_interval,
                grace=s.reconcile_grace,
                max_age=s.reconcile_after,
                recheck=max(s.reconcile_interval, timedelta(minutes=1)),
            ),
            clock=self._clock,
        )
        self.payments = payments = PaymentService(
            links,
            events,
            shops,
            xendit,
            PaymentPolicy(
                max_amounts={
                    **DEFAULT_MAX_AMOUNT,
                    s.default_currency: s.effective_max_amount,
                },
                public_url=str(s.public_url) if s.public_url else None,
            ),
            on_check_queued=checker.wake,
            surge=surge,
            on_notification_queued=worker.wake,
            clock=self._clock,
            deliver_now=worker.deliver_now,
            # Its own window: Xendit counts requests per endpoint (GETs are the checker's).
            create_window=SlidingWindow(s.effective_xendit_rate_limit, 60.0),
        )
        stack.push_async_callback(payments.close)  # webhooks received are written

        languages = Languages(Users(db, clock=self._clock))
        self.team = team = Team(shops, clock=self._clock)
        people = People(languages, team)
        handlers.register(
            telegram,
            chats=ChatEvents(worker),
            access=AccessGuard(people),
            pay=PayCommands(payments, people),
            manage=ManageCommands(payments, Reports(links), people),
            share=ShareInline(payments, people),
            language=LanguageCommands(languages),
            errors=handlers.ErrorReplies(people, payments),
            team=TeamCommands(people, clock=self._clock),
            settings=SettingsCommands(ShopSettings(shops, payments.policy.max_amounts), people),
            group=GroupCommands(ShopGroup(team, shops), people),
        )

        await telegram.initialize()  # getMe: fails fast on a wrong token
        stack.push_async_callback(telegram.shutdown)
        await self._set_up_shop(team, telegram.bot.first_name, telegram.bot.username)
        await handlers.set_commands(telegram)
        # Within Telegram's and the platform's patience: SIGTERM to exit in under 10 s.
        worker.start()
        stack.push_async_callback(worker.stop, grace=3.0)
        checker.start()
        stack.push_async_callback(checker.stop, grace=2.0)
        await telegram.start()
        stack.push_async_callback(telegram.stop)
        routes: list[web.RouteDef] = []
        if s.telegram_mode == "webhook":
            webhook = TelegramWebhook(
                telegram.bot, telegram.update_queue, s.effective_telegram_webhook_secret
            )
            routes.append(webhook.route())
        else:
            assert telegram.updater is not None
            await telegram.updater.start_polling(allowed_updates=Update.ALL_TYPES)
            stack.push_async_callback(telegram.updater.stop)

        app = build_web_app(
            payments,
            callback_token=s.xendit_callback_token,
            health=self.health,
            routes=routes,
        )
        guard = ConnectionGuard(
            max_connections=s.http_max_connections, read_timeout=s.http_read_timeout
        )
        app.middlewares.append(guard.middleware)
        runner = web.AppRunner(
            app,
            shutdown_timeout=4.0,
            access_log=None,
            keepalive_timeout=s.http_read_timeout,
        )
        await runner.setup()
        # In-flight requests finish here (webhooks committed), then every connection closes.
        stack.push_async_callback(runner.cleanup)
        assert runner.server is not None
        # Our own listener, not a TCPSite: connections go through the guard first.
        self._listener = listener = await guard.listen(runner.server, s.host, s.port)
        stack.callback(listener.close)  # the first thing stop does: no new connections
        if s.telegram_mode == "webhook":
            # Only once our route is up: Telegram may POST the moment the webhook is set.
            # Every instance behind PUBLIC_URL sets the same URL and secret (idempotent). It
            # is deliberately not deleted on stop: other instances behind the same PUBLIC_URL
            # keep serving it, and Telegram holds updates (retrying) while none is up.
            await telegram.bot.set_webhook(
                url=s.telegram_webhook_url,
                secret_token=s.effective_telegram_webhook_secret.get_secret_value(),
                allowed_updates=Update.ALL_TYPES,
            )

    async def _set_up_shop(self, team: Team, bot_name: str, bot_username: str) -> None:
        """The shop exists, ``ALLOWED_USER_IDS`` are its owners; with no owner, a claim link
        is logged (one line), for the operator to open."""
        s = self.settings
        shop, unclaimed = await team.set_up(shop_seed(s, bot_name), s.allowed_user_ids)
        if unclaimed:
            code = await team.new_claim_code(shop)
            self.claim_link = deep_link(bot_username, CLAIM, code)
            log.warning(
                "the shop has no owner yet: open %s in Telegram to claim it", self.claim_link
            )

    async def health(self) -> dict[str, Any]:
        database_ok = self.db is not None and await self.db.ping()
        ok = self._ready and database_ok
        return {
            "status": "ok" if ok else "starting" if not self._ready else "degraded",
            "telegram": self.settings.telegram_mode,
            # Down, read-only, full, or its file deleted: it cannot store what /pay makes.
            "database": "ok" if database_ok else "unwritable",
        }

    async def updates_handled(self) -> None:
        """Wait until every Telegram update that has reached a handler has been handled."""
        if self.telegram is not None:
            processor = self.telegram.update_processor
            assert isinstance(processor, TrackedUpdateProcessor)
            await processor.wait_idle()


def shop_seed(settings: Settings, bot_name: str) -> ShopSeed:
    """The shop a first start makes: from the settings, named after the bot unless
    ``SHOP_NAME`` says otherwise."""
    currency = get_currency(settings.default_currency)
    below = settings.effective_confirm_below
    return ShopSeed(
        name=(settings.shop_name or bot_name)[:64],
        currency=currency.code,
        country=currency.country,
        timezone=settings.timezone,
        link_expiry=settings.link_expiry,
        confirm_above_minor=to_minor_units(settings.effective_confirm_above, currency),
        confirm_below_minor=to_minor_units(below, currency) if below > 0 else None,
    )


async def claim_link(settings: Settings) -> tuple[Shop, str | None]:
    """``python -m bot claim``: the shop (made as a first start makes it) and a new link whose
    opener becomes its owner; None instead of a link when the shop has an owner already."""
    api = str(settings.telegram_api_url).rstrip("/")
    # Entering the context runs getMe: the bot's name (a new shop's) and username (the link's).
    async with Bot(settings.telegram_bot_token.get_secret_value(), base_url=f"{api}/bot") as bot:
        bot_name, bot_username = bot.first_name, bot.username
    db = await Database.connect(settings.database_url)
    try:
        team = Team(Shops(db))
        shop, unclaimed = await team.set_up(
            shop_seed(settings, bot_name), settings.allowed_user_ids
        )
        if not unclaimed:
            return shop, None
        return shop, deep_link(bot_username, CLAIM, await team.new_claim_code(shop))
    finally:
        await db.close()


async def serve(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Run until SIGTERM/SIGINT (or until ``stop`` is set), then shut down cleanly."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with Paybot(settings):
        await stop.wait()
        log.info("shutting down")
