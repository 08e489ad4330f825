"""The HTTP server: Xendit webhooks and health. Routes are thin; the service does the work."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web
from pydantic import SecretStr, ValidationError

from bot import pages
from bot.payments import PaymentService, WebhookNotStored, WebhookRejected
from bot.xendit import WebhookEnvelope

log = logging.getLogger(__name__)

MAX_WEBHOOK_BYTES = 64 * 1024

HealthCheck = Callable[[], Awaitable[dict[str, Any]]]


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


def _too_large() -> web.Response:
    return _error(413, "body_too_large", f"bodies above {MAX_WEBHOOK_BYTES} bytes are refused")


def secret_matches(given: str | None, expected: bytes) -> bool:
    """Whether a secret header holds ``expected``, in constant time. aiohttp hands over bytes
    that are not UTF-8 as lone surrogates; encoding them back the same way (not strictly,
    which raises) makes such a header simply wrong: 401, not 500."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected)


class XenditWebhook:
    """``POST /webhooks/xendit``: verify, parse, store in one transaction, then answer 200."""

    def __init__(self, payments: PaymentService, callback_token: SecretStr) -> None:
        self._payments = payments
        self._token = callback_token.get_secret_value().encode()

    async def handle(self, request: web.Request) -> web.Response:
        if not secret_matches(request.headers.get("x-callback-token"), self._token):
            log.warning("webhook refused: bad x-callback-token from %s", request.remote)
            return _error(401, "invalid_callback_token", "missing or wrong x-callback-token")
        if request.content_length is not None and request.content_length > MAX_WEBHOOK_BYTES:
            return _too_large()
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _too_large()
        try:
            envelope = WebhookEnvelope.model_validate_json(raw)
        except ValidationError as exc:
            first = exc.errors(include_input=False, include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            return _error(400, "malformed_webhook", f"{where}: {first['msg']}")
        try:
            outcome = await self._payments.handle_webhook(envelope, raw.decode("utf-8"))
        except WebhookRejected as exc:
            return _error(400, "malformed_webhook", str(exc))
        except WebhookNotStored:
            return _error(503, "not_stored", "the webhook could not be stored; send it again")
        return web.json_response(
            {"received": True, "outcome": outcome.value if outcome else "ignored"}
        )


def build_web_app(
    payments: PaymentService,
    *,
    callback_token: SecretStr,
    health: HealthCheck,
    routes: Iterable[web.RouteDef] = (),
) -> web.Application:
    """The aiohttp application. One more route per feature, registered here; ``routes`` are
    the composition root's own (Telegram's webhook, in webhook mode only)."""

    async def healthz(_request: web.Request) -> web.Response:
        report = await health()
        return web.json_response(report, status=200 if report.get("status") == "ok" else 503)

    app = web.Application(client_max_size=MAX_WEBHOOK_BYTES)
    app.router.add_post("/webhooks/xendit", XenditWebhook(payments, callback_token).handle)
    app.router.add_routes(routes)
    app.router.add_get("/healthz", healthz)
    page = CustomerPage(payments)
    app.router.add_get("/r/{token}", page.handle)  # cancel return URL, and older links' only one
    app.router.add_get("/r/{token}/done", page.handle_done)  # success return URL
    return app


class CustomerPage:
    """``GET /r/<token>``: where Xendit sends the customer back. Our records, never the
    redirect itself, say whether the payment is done. ``/r/<token>/done`` (after paying)
    only hides the Pay button while we wait for the confirmation."""

    def __init__(self, payments: PaymentService) -> None:
        self._payments = payments

    async def handle(self, request: web.Request) -> web.Response:
        return await self._page(request, just_paid=False)

    async def handle_done(self, request: web.Request) -> web.Response:
        return await self._page(request, just_paid=True)

    async def _page(self, request: web.Request, *, just_paid: bool) -> web.Response:
        language = pages.page_language(request.headers.get("Accept-Language"))
        found = await self._payments.customer_link(request.match_info["token"])
        headers = {
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        }
        if found is None:
            return web.Response(
                text=pages.not_found_page(language),
                status=404,
                content_type="text/html",
                headers=headers,
            )
        link, shop = found
        return web.Response(
            text=pages.return_page(link, language, shop.tz, just_paid=just_paid),
            content_type="text/html",
            headers=headers,
        )
