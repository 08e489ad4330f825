"""The composition root: builds every part from :class:`Settings` and runs them on one loop.

``python -m bot`` calls :func:`main`, which calls :func:`serve`; tests start the very same
:class:`Paybot` against the fakes. Every collaborator is made here and nowhere else.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, Defaults

from bot import views
from bot.checks import ReconcilePolicy, SessionChecker
from bot.config import ConfigError, Settings, load_settings
from bot.ingest import Surge
from bot.languages import Languages
from bot.logs import configure_logging
from bot.money import get_currency
from bot.notifications import NotificationWorker
from bot.payments import PaymentPolicy, PaymentService
from bot.ratelimit import SlidingWindow
from bot.reports import Reports
from bot.server import ConnectionGuard, OncePerInterval, log_resource_errors, raise_open_file_limit
from bot.telegram import handlers
from bot.telegram.access import AccessGuard
from bot.telegram.chats import ChatEvents
from bot.telegram.language import LanguageCommands
from bot.telegram.manage import ManageCommands
from bot.telegram.pay import PayCommands
from bot.telegram.ratelimit import WindowRateLimiter
from bot.telegram.request import AiohttpRequest
from bot.telegram.sender import TelegramSender
from bot.telegram.share import ShareInline
from bot.telegram.updates import TrackedUpdateProcessor
from bot.web import TelegramWebhook, build_web_app
from bot.xendit import XenditClient
from storage import Database, Events, Links, Outbox, Users, utcnow

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
        # aiohttp, not httpx, under PTB: a third of the CPU per call (bot/telegram/request.py).
        .request(AiohttpRequest(256))
        .get_updates_request(AiohttpRequest(1))
        .build()
    )


class Paybot:
    """The whole bot: Telegram, the HTTP server, the outbox worker, storage and Xendit."""

    def __init__(
        self,
        settings: Settings,
        *,
        xendit: XenditClient | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """``xendit`` replaces the client built from the settings (tests pass a stand-in);
        ``clock`` the wall clock of storage and the workers (tests move it on)."""
        self.settings = settings
        self._clock = clock
        self._ready = False
        self._stopped = False
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None
        self._undo_error_log: Callable[[], None] | None = None
        self.db: Database | None = None
        self.telegram: PTBApplication | None = None
        self.worker: NotificationWorker | None = None
        self.checker: SessionChecker | None = None
        self.payments: PaymentService | None = None
        self._xendit: XenditClient | None = xendit

    @property
    def url(self) -> str:
        """Where the HTTP server listens (the real port when ``PORT=0``)."""
        assert self._listener is not None, "not started"
        host, port = self._listener.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def start(self) -> None:
        s = self.settings
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        raise_open_file_limit()
        self._undo_error_log = log_resource_errors(
            asyncio.get_running_loop(), OncePerInterval(logging.getLogger("bot.server"))
        )
        self.db = await Database.connect(s.database_url)
        links = Links(self.db, clock=self._clock)
        events = Events(self.db, clock=self._clock)
        outbox = Outbox(self.db, clock=self._clock)
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
        self._xendit = self._xendit or XenditClient.create(
            api_url=str(s.xendit_api_url),
            secret_key=s.xendit_secret_key.get_secret_value(),
            timeout=s.xendit_timeout,
        )
        self.telegram = telegram = build_telegram(s)
        alone = s.telegram_mode == "polling" or self.db.dialect == "sqlite"
        idle_poll = ALONE_IDLE_POLL if alone else SHARED_IDLE_POLL
        self.worker = NotificationWorker(
            outbox,
            TelegramSender(telegram.bot),
            lambda note: views.notification(note, s.tz),
            lambda notes: views.summary(notes, s.tz),
            idle_poll=idle_poll,
            clock=self._clock,
        )
        surge = Surge()  # webhooks arriving faster than 100/s: checks wait for them
        self.checker = SessionChecker(
            events,
            self._xendit,
            surge=surge,
            on_notification_queued=self.worker.wake,
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
            self._xendit,
            PaymentPolicy(
                currency=get_currency(s.default_currency),
                max_amount=s.effective_max_amount,
                allowed_user_ids=s.allowed_user_ids,
                link_expiry=s.link_expiry,
                confirm_above=s.effective_confirm_above,
                confirm_below=s.effective_confirm_below,
                public_url=str(s.public_url) if s.public_url else None,
            ),
            on_check_queued=self.checker.wake,
            surge=surge,
            on_notification_queued=self.worker.wake,
            clock=self._clock,
            deliver_now=self.worker.deliver_now,
            # Its own window: Xendit counts requests per endpoint (GETs are the checker's).
            create_window=SlidingWindow(s.effective_xendit_rate_limit, 60.0),
        )

        languages = Languages(Users(self.db, clock=self._clock))
        handlers.register(
            telegram,
            chats=ChatEvents(self.worker),
            access=AccessGuard(payments, languages),
            pay=PayCommands(payments, languages, s.tz),
            manage=ManageCommands(payments, Reports(links, s.tz), languages, s.tz),
            share=ShareInline(payments, languages),
            language=LanguageCommands(languages),
            errors=handlers.ErrorReplies(languages, payments.policy),
        )

        await telegram.initialize()  # getMe: fails fast on a wrong token
        await handlers.set_commands(telegram)
        await telegram.start()
        webhook: TelegramWebhook | None = None
        if s.telegram_mode == "webhook":
            webhook = TelegramWebhook(
                telegram.bot, telegram.update_queue, s.effective_telegram_webhook_secret
            )
        else:
            assert telegram.updater is not None
            await telegram.updater.start_polling(allowed_updates=Update.ALL_TYPES)

        app = build_web_app(
            payments,
            callback_token=s.xendit_callback_token,
            health=self.health,
            telegram=webhook,
            tz=s.tz,
        )
        guard = ConnectionGuard(
            max_connections=s.http_max_connections, read_timeout=s.http_read_timeout
        )
        app.middlewares.append(guard.middleware)
        self._runner = web.AppRunner(
            app,
            shutdown_timeout=4.0,
            access_log=None,
            keepalive_timeout=s.http_read_timeout,
        )
        await self._runner.setup()
        assert self._runner.server is not None
        # Our own listener, not a TCPSite: connections go through the guard first.
        self._listener = await guard.listen(self._runner.server, s.host, s.port)
        if webhook is not None:
            # Only once our route is up: Telegram may POST the moment the webhook is set.
            # Every instance behind PUBLIC_URL sets the same URL and secret (idempotent).
            await telegram.bot.set_webhook(
                url=s.telegram_webhook_url,
                secret_token=s.effective_telegram_webhook_secret.get_secret_value(),
                allowed_updates=Update.ALL_TYPES,
            )
        self.worker.start()
        self.checker.start()
        _return_freed_memory()
        self._ready = True
        log.info("paybot is up: HTTP on %s, Telegram %s", self.url, s.telegram_mode)

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

    async def stop(self) -> None:
        """Stop taking webhooks, finish those in flight, stop polling, drain, close clients."""
        if self._stopped:
            return
        self._stopped = True
        self._ready = False
        if self._listener is not None:
            self._listener.close()  # no new connections
        if self._runner is not None:
            await self._runner.cleanup()  # in-flight webhooks finish (and are committed) here
        if self._listener is not None:
            await self._listener.wait_closed()
        if self.payments is not None:
            await self.payments.close()
        telegram = self.telegram
        # Webhook mode: the webhook is deliberately NOT deleted. Other instances behind the
        # same PUBLIC_URL keep serving it, and Telegram holds updates (retrying) while none is up.
        if telegram is not None and telegram.updater is not None and telegram.updater.running:
            await telegram.updater.stop()
        if telegram is not None and telegram.running:
            await telegram.stop()
        # Within Telegram's and the platform's patience: SIGTERM to exit in under 10 s.
        if self.checker is not None:
            await self.checker.stop(grace=2.0)
        if self.worker is not None:
            await self.worker.stop(grace=3.0)
        if telegram is not None:
            await telegram.shutdown()
        if self._xendit is not None:
            await self._xendit.aclose()
        if self.db is not None:
            await self.db.close()
        if self._undo_error_log is not None:
            self._undo_error_log()
        log.info("paybot stopped")


def _return_freed_memory() -> None:
    """Give the heap freed after start-up (imports, migrations) back to the OS (glibc)."""
    import contextlib
    import ctypes

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _leave_start_up_objects_out_of_collections() -> None:
    """Move what start-up made (modules, the app and its parts, about 140,000 objects) out of
    the garbage collector's reach (``gc.freeze``): they live as long as the process.

    Otherwise every full collection walks all of them, a pause of 50 ms or more on this
    machine, a few times a minute under load: a /pay that meets one waits for it. Objects
    made later are collected as usual.
    """
    gc.freeze()


async def serve(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Run until SIGTERM/SIGINT (or until ``stop`` is set), then shut down cleanly."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    bot = Paybot(settings)
    try:
        await bot.start()
        _leave_start_up_objects_out_of_collections()
        await stop.wait()
        log.info("shutting down")
    finally:
        await bot.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m bot`` (and ``python -m bot sandbox``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["sandbox"]:
        from bot.sandbox.run import main as sandbox_main

        return sandbox_main(args[1:])
    if args:
        print("usage: python -m bot [sandbox [--port PORT]]", file=sys.stderr)
        return 2
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"paybot: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings)
    try:
        asyncio.run(serve(settings))
    except Exception as exc:
        log.critical("paybot could not run: %s", exc, exc_info=settings.log_level == "DEBUG")
        return 1
    return 0
