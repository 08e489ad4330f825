"""An in-process fake of Xendit's Payment Sessions API (and its webhooks), for tests.

It serves ``POST /sessions``, ``GET /sessions/{id}`` and ``POST /sessions/{id}/cancel`` on
127.0.0.1 (ephemeral port) the way ``/work/shared/docs/xendit-payment-sessions.md``
describes them: HTTP Basic auth with the secret key, request bodies validated against
``Payment_Session_CreateSessionRequestPublicSchema`` (the project's copy of Xendit's OpenAPI
schemas, ``xendit_schemas.json``) plus the
documented business rules, and errors shaped ``{"error_code", "message", "errors"?}``.
It can also play Xendit's side of webhooks (``payment.capture``,
``payment_session.completed`` / ``.expired``) towards the bot's webhook endpoint.

Typical use::

    async with FakeXendit(webhook_url=f"{bot_web}/xendit/webhook") as xnd:
        ...  # point the bot's Xendit client at xnd.url with xnd.secret_key
        session = xnd.session_by_reference(ref)
        await xnd.complete(session["payment_session_id"])
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import functools
import json
import math
import os
import re
import secrets
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import EllipsisType
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from bot.sandbox.common import LocalServer, Signal

__all__ = [
    "SPEC_ENV_VAR",
    "FakeXendit",
    "Recorded",
    "SchemaError",
    "WebhookResult",
    "load_spec",
    "project_schemas",
    "schema_errors",
    "spec_path",
]

JSONDict = dict[str, Any]
T = TypeVar("T")

SPEC_ENV_VAR = "XENDIT_OPENAPI_SPEC"
CREATE_SCHEMA = "Payment_Session_CreateSessionRequestPublicSchema"
SESSION_SCHEMA = "Payment_Session_StandardSessionResponsePublicSchema"
PAYMENT_SCHEMA = "Payments_API_PaymentSchema"

#: Currency -> the country it must be paired with (USD: any country).
CURRENCY_COUNTRY: dict[str, str] = {
    "IDR": "ID",
    "PHP": "PH",
    "VND": "VN",
    "THB": "TH",
    "SGD": "SG",
    "MYR": "MY",
}
#: Decimal places allowed per currency.
CURRENCY_DECIMALS: dict[str, int] = {
    "IDR": 0,
    "PHP": 0,
    "VND": 0,
    "THB": 0,
    "SGD": 2,
    "MYR": 2,
    "USD": 2,
}

_SERVER_ERROR = (
    "Something unexpected happened. We are investigating this issue. Please try again later."
)
_DEFAULT_FAIL_BODIES: dict[int, JSONDict] = {
    400: {"error_code": "API_VALIDATION_ERROR", "message": "Invalid request"},
    401: {"error_code": "INVALID_API_KEY", "message": "API key is not authorized for this API"},
    403: {
        "error_code": "REQUEST_FORBIDDEN_ERROR",
        "message": "The API key is forbidden to perform this request",
    },
    404: {"error_code": "SESSION_NOT_FOUND", "message": "Session not found"},
    409: {
        "error_code": "DUPLICATE_ERROR",
        "message": "The reference_id entered has been used before. Please enter a unique "
        "reference_id",
    },
    422: {
        "error_code": "INVALID_SESSION_STATUS",
        "message": "Session status is COMPLETED, expecting ACTIVE",
    },
    429: {
        "error_code": "RATE_LIMIT_EXCEEDED",
        "message": "You have exceeded the rate limit. Please try again later.",
    },
}

#: Keys of a session that appear in webhook ``data`` (the webhook schema plus the
#: amount/currency/country/allow_save_payment_method seen in the documented examples;
#: ``metadata``, ``capture_method``, ``channel_properties``... are NOT sent).
_WEBHOOK_KEYS = (
    "payment_session_id",
    "created",
    "updated",
    "reference_id",
    "customer_id",
    "session_type",
    "allow_save_payment_method",
    "currency",
    "amount",
    "country",
    "mode",
    "expires_at",
    "locale",
    "description",
    "items",
    "success_return_url",
    "cancel_return_url",
    "status",
    "payment_link_url",
    "payment_token_id",
    "payment_request_id",
    "payment_id",
    "business_id",
    "components_sdk_key",
    "components_configuration",
)
_PAYMENT_KEYS = ("payment_token_id", "payment_request_id", "payment_id")


# --------------------------------------------------------------------------- OpenAPI spec


#: The schemas the fake checks requests and answers against: the project's own copy of the
#: parts of Xendit's published OpenAPI document it uses (session create request, session,
#: payment), so the tests need nothing outside the repository. ``tests/test_fakes.py``
#: checks the copy against Xendit's file where that file is available (:func:`spec_path`).
PROJECT_SCHEMAS = Path(__file__).with_name("xendit_schemas.json")


def spec_path() -> Path:
    """Xendit's published OpenAPI file: ``$XENDIT_OPENAPI_SPEC``, else
    ``<repo>/../shared/specs/xendit-payments-openapi.yaml`` (it may not exist)."""
    override = os.environ.get(SPEC_ENV_VAR)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / "shared/specs/xendit-payments-openapi.yaml"


def spec_available() -> bool:
    """Whether requests can be checked against the schemas here: the validator (a
    development dependency) is installed."""
    try:
        import openapi_schema_validator  # noqa: F401
    except ImportError:
        return False
    return True


def load_spec() -> JSONDict:
    """Xendit's published OpenAPI document (:func:`spec_path`), parsed."""
    import yaml

    with spec_path().open(encoding="utf-8") as fh:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        spec = yaml.load(fh, Loader=loader)  # noqa: S506 - a SafeLoader
    if not isinstance(spec, dict) or "components" not in spec:
        raise ValueError(f"{spec_path()} is not an OpenAPI document with components")
    return cast(JSONDict, spec)


@functools.cache
def project_schemas() -> JSONDict:
    """The project's copy of Xendit's schemas (:data:`PROJECT_SCHEMAS`), read once."""
    return cast(JSONDict, json.loads(PROJECT_SCHEMAS.read_text(encoding="utf-8")))


@functools.cache
def _validator(schema_name: str) -> Any:
    from openapi_schema_validator import OAS30Validator, oas30_format_checker

    components = project_schemas()["components"]
    if schema_name not in components["schemas"]:
        raise KeyError(f"schema {schema_name!r} not in {PROJECT_SCHEMAS}")
    root = {"$ref": f"#/components/schemas/{schema_name}", "components": components}
    return OAS30Validator(root, format_checker=oas30_format_checker)


@dataclass(frozen=True)
class SchemaError:
    message: str
    path: str  # JSON pointer under /body, e.g. "/body/session_type"


def schema_errors(schema_name: str, instance: Any, *, prefix: str = "/body") -> list[SchemaError]:
    """Validate ``instance`` against ``#/components/schemas/<schema_name>`` (OAS 3.0 rules).

    Messages follow Xendit's (AJV) style: ``must have required property 'mode'``.  One error
    per path (nullable violations are reported once).
    """
    validator = _validator(schema_name)
    found: list[SchemaError] = []
    seen: set[str] = set()
    errors = sorted(
        validator.iter_errors(instance),
        key=lambda e: ([str(p) for p in e.absolute_path], str(e.validator)),
    )
    for err in errors:
        parts = [str(p) for p in err.absolute_path]
        kind = str(err.validator)
        if kind == "required":
            match = re.match(r"^'(.+)' is a required property$", err.message)
            prop = match.group(1) if match else str(err.message)
            parts.append(prop)
            message = f"must have required property '{prop}'"
        elif kind == "enum":
            allowed = ", ".join(str(v) for v in err.validator_value)
            message = f"must be equal to one of the allowed values: {allowed}"
        elif kind == "type" or err.message.endswith("for not nullable"):
            message = f"must be {err.validator_value}" if kind == "type" else "must not be null"
        elif kind == "minimum":
            message = f"must be >= {err.validator_value}"
        elif kind == "minLength":
            message = f"must NOT have fewer than {err.validator_value} characters"
        elif kind == "maxLength":
            message = f"must NOT have more than {err.validator_value} characters"
        elif kind == "format":
            message = f'must match format "{err.validator_value}"'
        else:
            message = err.message
        path = prefix + "".join(f"/{p}" for p in parts)
        if path in seen:
            continue
        seen.add(path)
        found.append(SchemaError(message=message, path=path))
    return found


# --------------------------------------------------------------------------- records


@dataclass
class Recorded:
    """One HTTP request received by the fake."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any | None
    at: float
    #: HTTP status the fake answered (0 while still being handled).
    status: int = 0
    #: Raw request body.
    body: bytes = b""
    #: What the fake answered (JSON body), once answered.
    response: Any = None
    #: ``clock()`` when the fake had its answer ready (``at`` is when the request had arrived).
    answered_at: float | None = None

    def header(self, name: str) -> str | None:
        lower = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lower:
                return value
        return None


@dataclass
class WebhookResult:
    """Outcome of one webhook delivery attempt (``status == 0``: no HTTP answer)."""

    status: int
    body: str
    json: Any | None
    event: str | None = None
    payload: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class _QueuedFailure:
    status: int
    times: int
    path_prefix: str
    method: str | None
    body: JSONDict | str
    headers: dict[str, str]


def _take_queued(queue: list[_QueuedFailure], method: str, path: str) -> _QueuedFailure | None:
    """The first queued fault matching the request, used once (gone once its times are up)."""
    for fault in queue:
        if path.startswith(fault.path_prefix) and fault.method in (None, method):
            fault.times -= 1
            if fault.times <= 0:
                queue.remove(fault)
            return fault
    return None


class _XenditError(Exception):
    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        *,
        errors: list[JSONDict] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: JSONDict = {"error_code": error_code, "message": message}
        if errors is not None:
            self.body["errors"] = errors
        self.headers = headers or {}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


_SESSION_PATH = re.compile(r"^/sessions/(?P<id>[^/]+)$")
_CANCEL_PATH = re.compile(r"^/sessions/(?P<id>[^/]+)/cancel$")
_CHECKOUT_PATH = re.compile(r"^/checkout/(?P<id>[^/]+)$")


# --------------------------------------------------------------------------- the fake


class FakeXendit(LocalServer):
    """Fake Xendit Payment Sessions API.  See the module docstring."""

    def __init__(
        self,
        secret_key: str = "xnd_development_fake_secret",
        callback_token: str = "fake-callback-token",
        *,
        webhook_url: str | None = None,
        business_id: str = "6630a1b2c3d4e5f600000001",
        validate_schemas: bool | None = True,
    ) -> None:
        """``validate_schemas``: check requests against Xendit's schemas (True: the validator
        must be installed, as in the tests; None: when it is, as in the sandbox)."""
        self.validate_schemas = spec_available() if validate_schemas is None else validate_schemas
        self.secret_key = secret_key
        self.callback_token = callback_token
        self.webhook_url = webhook_url
        self.business_id = business_id

        # recordings / state
        self.requests: list[Recorded] = []
        self.sessions: dict[str, JSONDict] = {}
        self.duplicate_references: list[str] = []
        self.webhook_log: list[WebhookResult] = []
        self.get_overrides: dict[str, JSONDict] = {}
        self._created_bodies: list[JSONDict] = []

        # behaviour knobs
        self.delay: float = 0.0
        self.rate_limit_per_minute: int | None = None
        self.rate_limited: int = 0
        self.allow_http_return_urls: bool = False
        self.min_expiry: timedelta = timedelta(minutes=10)
        self.max_expiry: timedelta = timedelta(days=60)
        self.default_expiry: timedelta = timedelta(minutes=30)
        self.webhook_timeout: float = 10.0
        #: ``type`` of payment.* webhook data.  The documented examples say SINGLE_PAYMENT;
        #: the schema's enum (Payments_API_PaymentRequestType) says PAY/PAY_AND_SAVE/...
        self.payment_type: str = "SINGLE_PAYMENT"
        self.now: Callable[[], datetime] = _utcnow
        self.clock: Callable[[], float] = time.monotonic

        self._checkout_base: str | None = None
        self._failures: list[_QueuedFailure] = []
        self._drops: list[_QueuedFailure] = []
        self._rate_windows: dict[str, deque[float]] = {}
        self._signal = Signal()
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self._url: str | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """API root, e.g. ``http://127.0.0.1:5555`` (what the bot uses instead of api.xendit.co)."""
        if self._url is None:
            raise RuntimeError("FakeXendit is not started")
        return self._url

    @property
    def checkout_base(self) -> str:
        """``payment_link_url`` = ``{checkout_base}/{payment_session_id}``."""
        return self._checkout_base if self._checkout_base is not None else f"{self.url}/checkout"

    @checkout_base.setter
    def checkout_base(self, value: str | None) -> None:
        self._checkout_base = value.rstrip("/") if value else None

    async def start(self) -> None:
        if self._runner is not None:
            return
        if self.validate_schemas:
            _validator(CREATE_SCHEMA)  # fail fast (and once) without the validator
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        self._client = aiohttp.ClientSession()

    async def stop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    # ------------------------------------------------------------------ fault switches

    def fail(
        self,
        status: int,
        *,
        times: int = 1,
        path_prefix: str = "/sessions",
        method: str | None = None,
        body: JSONDict | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with a canned error (FIFO queue).

        The default body is the documented error for ``status`` (5xx: SERVER_ERROR; 429:
        RATE_LIMIT_EXCEEDED with Rate-Limit-* headers).  A ``str`` body is sent as text/html.
        Failed requests create nothing.
        """
        default_headers: dict[str, str] = {}
        if status == 429:
            default_headers = {
                "Rate-Limit-Limit": "60",
                "Rate-Limit-Remaining": "0",
                "Rate-Limit-Reset": "1.0",
            }
        if body is None:
            body = copy.deepcopy(
                _DEFAULT_FAIL_BODIES.get(
                    status, {"error_code": "SERVER_ERROR", "message": _SERVER_ERROR}
                )
            )
        self._failures.append(
            _QueuedFailure(
                status=status,
                times=times,
                path_prefix=path_prefix,
                method=method.upper() if method else None,
                body=body,
                headers={**default_headers, **(headers or {})},
            )
        )

    def drop(
        self, *, times: int = 1, path_prefix: str = "/sessions", method: str | None = None
    ) -> None:
        """Carry out the next ``times`` matching requests, then break their connections
        instead of answering: the session is made, but the caller never hears of it."""
        self._drops.append(
            _QueuedFailure(
                status=0,
                times=times,
                path_prefix=path_prefix,
                method=method.upper() if method else None,
                body="",
                headers={},
            )
        )

    # ------------------------------------------------------------------ inspection

    def created(self) -> list[JSONDict]:
        """JSON bodies of the accepted ``POST /sessions`` requests, in order."""
        return [copy.deepcopy(b) for b in self._created_bodies]

    def session_by_reference(self, reference_id: str) -> JSONDict:
        """The latest session created with ``reference_id`` (KeyError if none)."""
        for session in reversed(list(self.sessions.values())):
            if session.get("reference_id") == reference_id:
                return session
        raise KeyError(f"no session with reference_id {reference_id!r}")

    def requests_to(self, method: str, path_prefix: str = "/sessions") -> list[Recorded]:
        return [
            r
            for r in self.requests
            if r.method == method.upper() and r.path.startswith(path_prefix)
        ]

    async def wait_for(
        self,
        predicate: Callable[[], T | bool | None],
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the fake's API
    ) -> T:
        """Wait until ``predicate()`` is not None/False; re-evaluated after every request
        and every webhook delivery.  Raises AssertionError on timeout."""
        done, value = await self._signal.wait_until(predicate, timeout)
        if not done:
            recent = "\n".join(f"  {r.method} {r.path} -> {r.status}" for r in self.requests[-15:])
            raise AssertionError(
                f"FakeXendit.wait_for: condition not met within {timeout}s\n"
                f"recent requests:\n{recent or '  (none)'}"
            )
        return cast(T, value)

    # ------------------------------------------------------------------ webhooks

    def build_session_event(self, event: str, session_id: str) -> JSONDict:
        """A ``payment_session.*`` webhook envelope for the session's current state."""
        session = self._get_session(session_id)
        data: JSONDict = {}
        for key in _WEBHOOK_KEYS:
            if key not in session:
                continue
            value = session[key]
            if value is None and (
                key == "items" or (key in _PAYMENT_KEYS and session["status"] != "COMPLETED")
            ):
                continue
            data[key] = copy.deepcopy(value)
        return {
            "event": event,
            "business_id": self.business_id,
            "created": _iso(self.now()),
            "data": data,
        }

    def build_payment_event(
        self,
        event: str,
        session_id: str,
        *,
        channel_code: str = "QRIS",
        status: str = "SUCCEEDED",
        failure_code: str | None = None,
        payment_id: str | None = None,
        payment_request_id: str | None = None,
    ) -> JSONDict:
        """A ``payment.*`` webhook envelope (data per ``Payments_API_PaymentSchema``)."""
        session = self._get_session(session_id)
        now = _iso(self.now())
        data: JSONDict = {
            "payment_id": payment_id or session.get("payment_id") or f"py-{uuid.uuid4()}",
            "business_id": self.business_id,
            "status": status,
            "payment_request_id": payment_request_id
            or session.get("payment_request_id")
            or f"pr-{uuid.uuid4()}",
            "request_amount": session["amount"],
            "channel_code": channel_code,
            "country": session["country"],
            "currency": session["currency"],
            "reference_id": session["reference_id"],
            "type": self.payment_type,
            "capture_method": session.get("capture_method") or "AUTOMATIC",
            "created": now,
            "updated": now,
        }
        if session.get("customer_id"):
            data["customer_id"] = session["customer_id"]
        if session.get("payment_token_id"):
            data["payment_token_id"] = session["payment_token_id"]
        if session.get("description"):
            data["description"] = session["description"]
        if status == "SUCCEEDED":
            data["captures"] = [
                {
                    "capture_id": f"cap-{uuid.uuid4()}",
                    "capture_amount": session["amount"],
                    "capture_timestamp": now,
                }
            ]
        if failure_code is not None:
            data["failure_code"] = failure_code
        return {"event": event, "business_id": self.business_id, "created": now, "data": data}

    async def complete(
        self,
        session_id: str,
        *,
        channel_code: str = "QRIS",
        send_capture: bool = True,
        send_session_event: bool = True,
    ) -> WebhookResult:
        """The payer pays: session -> COMPLETED, then ``payment.capture`` (if asked) and
        ``payment_session.completed`` (if asked) are POSTed to ``webhook_url``.

        Returns the last delivery's result (``status == 0, error == "not sent"`` if both
        sends are off).  Calling it again re-uses the same payment ids (like a redelivery).
        """
        session = self._get_session(session_id)
        if not session.get("payment_id"):
            session["payment_id"] = f"py-{uuid.uuid4()}"
            session["payment_request_id"] = f"pr-{uuid.uuid4()}"
            if session.get("session_type") == "SAVE" or session.get(
                "allow_save_payment_method"
            ) in ("OPTIONAL", "FORCED"):
                session["payment_token_id"] = f"pt-{uuid.uuid4()}"
        session["status"] = "COMPLETED"
        session["updated"] = _iso(self.now())
        self._signal.fire()
        result = WebhookResult(status=0, body="", json=None, error="not sent")
        if send_capture:
            result = await self.send_webhook(
                self.build_payment_event("payment.capture", session_id, channel_code=channel_code)
            )
        if send_session_event:
            result = await self.send_webhook(
                self.build_session_event("payment_session.completed", session_id)
            )
        return result

    async def fail_payment(
        self,
        session_id: str,
        *,
        channel_code: str = "QRIS",
        failure_code: str = "USER_DECLINED_PAYMENT",
    ) -> WebhookResult:
        """A failed attempt: ``payment.failure`` is sent; the session stays as it is."""
        return await self.send_webhook(
            self.build_payment_event(
                "payment.failure",
                session_id,
                channel_code=channel_code,
                status="FAILED",
                failure_code=failure_code,
                payment_id=f"py-{uuid.uuid4()}",
                payment_request_id=f"pr-{uuid.uuid4()}",
            )
        )

    async def expire(self, session_id: str) -> WebhookResult:
        """Session -> EXPIRED and ``payment_session.expired`` is sent."""
        session = self._get_session(session_id)
        session["status"] = "EXPIRED"
        session["updated"] = _iso(self.now())
        self._signal.fire()
        return await self.send_webhook(
            self.build_session_event("payment_session.expired", session_id)
        )

    async def send_webhook(
        self,
        payload: JSONDict | bytes | str,
        *,
        token: str | EllipsisType | None = ...,
        headers: dict[str, str] | None = None,
        url: str | None = None,
    ) -> WebhookResult:
        """POST ``payload`` to ``url`` (default ``webhook_url``) the way Xendit does.

        ``token=...`` sends ``x-callback-token: <callback_token>``, ``None`` sends no token
        header, a string sends that string.  ``headers`` are added last (and can override).
        Connection errors give ``status == 0`` with ``error`` set.
        """
        target = url or self.webhook_url
        if not target:
            raise RuntimeError("FakeXendit.webhook_url is not set")
        if self._client is None:
            raise RuntimeError("FakeXendit is not started")
        if isinstance(payload, dict):
            data = json.dumps(payload).encode()
            event = payload.get("event")
        else:
            data = payload.encode() if isinstance(payload, str) else payload
            event = None
        send_headers = {"Content-Type": "application/json"}
        if token is ...:
            send_headers["x-callback-token"] = self.callback_token
        elif token is not None:
            send_headers["x-callback-token"] = token
        send_headers.update(headers or {})
        try:
            async with self._client.post(
                target,
                data=data,
                headers=send_headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as response:
                text = await response.text()
                try:
                    parsed: Any = json.loads(text) if text else None
                except ValueError:
                    parsed = None
                result = WebhookResult(
                    status=response.status,
                    body=text,
                    json=parsed,
                    event=str(event) if event is not None else None,
                    payload=payload,
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            result = WebhookResult(
                status=0,
                body="",
                json=None,
                event=str(event) if event is not None else None,
                payload=payload,
                error=f"{type(exc).__name__}: {exc}",
            )
        self.webhook_log.append(result)
        self._signal.fire()
        return result

    # ------------------------------------------------------------------ HTTP plumbing

    def _get_session(self, session_id: str) -> JSONDict:
        try:
            return self.sessions[session_id]
        except KeyError:
            raise KeyError(f"FakeXendit has no session {session_id!r}") from None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        parsed: Any = None
        bad_json = False
        if raw:
            try:
                parsed = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                bad_json = True
        record = Recorded(
            method=request.method,
            path=request.path,
            headers=dict(request.headers),
            json=parsed,
            at=self.clock(),
            body=raw,
        )
        self.requests.append(record)
        self._signal.fire()

        checkout = _CHECKOUT_PATH.match(request.path)
        if checkout and request.method in ("GET", "HEAD"):
            record.status = 200
            self._signal.fire()
            return self._checkout_page(checkout.group("id"))

        headers: dict[str, str] = {}
        try:
            failure = self._take_failure(request.method, request.path)
            if failure is not None:
                status, fail_body, fail_headers = failure
                headers.update(fail_headers)
                if isinstance(fail_body, str):
                    response: web.Response = web.Response(
                        status=status, text=fail_body, content_type="text/html", headers=headers
                    )
                else:
                    response = web.json_response(fail_body, status=status, headers=headers)
                record.response = fail_body
            else:
                self._check_auth(request)
                endpoint, session_id = self._route(request.method, request.path)
                headers.update(self._rate_limit(endpoint))
                if endpoint == "create":
                    status, body = self._create(parsed, bad_json)
                elif endpoint == "get":
                    status, body = 200, self._get(session_id)
                else:
                    status, body = 200, self._cancel(session_id)
                record.response = body
                response = web.json_response(body, status=status, headers=headers)
        except _XenditError as err:
            record.response = err.body
            status = err.status
            response = web.json_response(
                err.body, status=status, headers={**headers, **err.headers}
            )
        if self.delay > 0:
            await asyncio.sleep(self.delay)
        if self._take_drop(request.method, request.path):
            record.status = 0
            self._signal.fire()
            assert request.transport is not None
            request.transport.abort()
            return response  # never reaches the caller
        record.status = status
        record.answered_at = self.clock()
        self._signal.fire()
        return response

    def _take_drop(self, method: str, path: str) -> bool:
        return _take_queued(self._drops, method, path) is not None

    def _take_failure(
        self, method: str, path: str
    ) -> tuple[int, JSONDict | str, dict[str, str]] | None:
        failure = _take_queued(self._failures, method, path)
        if failure is None:
            return None
        return failure.status, copy.deepcopy(failure.body), dict(failure.headers)

    def _check_auth(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        ok = False
        if scheme.lower() == "basic" and encoded:
            try:
                decoded = base64.b64decode(encoded.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            user, sep, password = decoded.partition(":")
            ok = bool(sep) and password == "" and secrets.compare_digest(user, self.secret_key)
        if not ok:
            raise _XenditError(401, "INVALID_API_KEY", "API key is not authorized for this API")

    def _route(self, method: str, path: str) -> tuple[str, str]:
        if path == "/sessions" and method == "POST":
            return "create", ""
        match = _SESSION_PATH.match(path)
        if match and method == "GET":
            return "get", match.group("id")
        match = _CANCEL_PATH.match(path)
        if match and method == "POST":
            return "cancel", match.group("id")
        raise _XenditError(404, "NOT_FOUND", f"{method} {path} is not a known endpoint")

    def _rate_limit(self, endpoint: str) -> dict[str, str]:
        limit = self.rate_limit_per_minute
        if limit is None:
            return {}
        now = self.clock()
        window = self._rate_windows.setdefault(endpoint, deque())
        while window and window[0] <= now - 60.0:
            window.popleft()
        if len(window) >= limit:
            self.rate_limited += 1
            reset = window[len(window) - limit] + 60.0 - now
            raise _XenditError(
                429,
                "RATE_LIMIT_EXCEEDED",
                "You have exceeded the rate limit. Please try again later.",
                headers={
                    "Rate-Limit-Limit": str(limit),
                    "Rate-Limit-Remaining": "0",
                    "Rate-Limit-Reset": f"{max(reset, 0.01):.2f}",
                },
            )
        window.append(now)
        reset = window[0] + 60.0 - now
        return {
            "Rate-Limit-Limit": str(limit),
            "Rate-Limit-Remaining": str(max(0, limit - len(window))),
            "Rate-Limit-Reset": f"{max(reset, 0.0):.2f}",
        }

    def _checkout_page(self, session_id: str) -> web.Response:
        session = self.sessions.get(session_id)
        if session is None:
            return web.Response(
                status=404, text="<h1>Link not found</h1>", content_type="text/html"
            )
        return web.Response(
            text=(
                f"<html><body><h1>Fake Xendit checkout</h1><p>{session_id}</p>"
                f"<p>{session['currency']} {session['amount']}</p>"
                f"<p>status: {session['status']}</p></body></html>"
            ),
            content_type="text/html",
        )

    # ------------------------------------------------------------------ endpoints

    def _create(self, body: Any, bad_json: bool) -> tuple[int, JSONDict]:
        if bad_json or not isinstance(body, dict):
            raise _XenditError(
                400,
                "API_VALIDATION_ERROR",
                "request/body must be object",
                errors=[{"message": "must be object", "path": "/body"}],
            )
        errors = schema_errors(CREATE_SCHEMA, body) if self.validate_schemas else []
        if errors:
            first = errors[0]
            where = first.path
            if first.message.startswith("must have required property"):
                where = where.rsplit("/", 1)[0]
            raise _XenditError(
                400,
                "API_VALIDATION_ERROR",
                f"request{where} {first.message}",
                errors=[{"message": e.message, "path": e.path} for e in errors],
            )
        self._check_business_rules(body)

        now = self.now()
        session_type = body["session_type"]
        session_id = "ps-" + secrets.token_hex(12)
        if "expires_at" in body:
            expires_at = _iso(_parse_datetime(body["expires_at"]) or now)
        else:
            expires_at = _iso(now + self.default_expiry)
        customer_id = body.get("customer_id")
        if customer_id is None and body.get("customer") is not None:
            customer_id = f"cust-{uuid.uuid4()}"
        session: JSONDict = {
            "payment_session_id": session_id,
            "created": _iso(now),
            "updated": _iso(now),
            "status": "ACTIVE",
            "reference_id": body["reference_id"],
            "currency": body["currency"],
            "amount": body["amount"],
            "country": body["country"],
            "customer_id": customer_id,
            "expires_at": expires_at,
            "session_type": session_type,
            "mode": body["mode"],
            "locale": body.get("locale", "en"),
            "business_id": self.business_id,
        }
        for key in (
            "allow_save_payment_method",
            "capture_method",
            "channel_properties",
            "allowed_payment_channels",
            "description",
            "success_return_url",
            "cancel_return_url",
        ):
            if key in body:
                session[key] = copy.deepcopy(body[key])
        session["metadata"] = copy.deepcopy(body.get("metadata"))
        session["items"] = copy.deepcopy(body.get("items"))
        if body["mode"] == "COMPONENTS":
            session["payment_link_url"] = None
            session["components_sdk_key"] = "session-" + secrets.token_urlsafe(24)
        else:
            session["payment_link_url"] = f"{self.checkout_base}/{session_id}"
        session["payment_token_id"] = None
        session["payment_id"] = None
        session["payment_request_id"] = None

        if any(s.get("reference_id") == body["reference_id"] for s in self.sessions.values()):
            self.duplicate_references.append(body["reference_id"])
        self.sessions[session_id] = session
        self._created_bodies.append(copy.deepcopy(body))
        return 201, copy.deepcopy(session)

    def _check_business_rules(self, body: JSONDict) -> None:
        session_type = body["session_type"]
        currency = body["currency"]
        country = body["country"]
        amount = body["amount"]

        if session_type == "SAVE" and amount != 0:
            raise _XenditError(400, "INVALID_AMOUNT", "Amount must be 0 for SAVE session type")
        if session_type != "SAVE" and amount <= 0:
            raise _XenditError(400, "INVALID_AMOUNT", "Amount must be greater than zero")
        if not _has_decimals_at_most(amount, CURRENCY_DECIMALS.get(currency, 2)):
            raise _XenditError(
                400,
                "INVALID_AMOUNT",
                "Amount must respect the decimal places allowed for the given currency",
            )
        expected_country = CURRENCY_COUNTRY.get(currency)
        if expected_country is not None and expected_country != country:
            message = f"currency {currency} is not supported for country {country}"
            raise _XenditError(
                400,
                "API_VALIDATION_ERROR",
                message,
                errors=[{"message": message, "path": "/body/currency"}],
            )
        customer_id = body.get("customer_id")
        if customer_id is not None and not str(customer_id).startswith("cust-"):
            raise _XenditError(400, "INVALID_CUSTOMER_ID", 'Customer ID must start with "cust-"')
        needs_customer = session_type == "SAVE" or body.get("allow_save_payment_method") in (
            "OPTIONAL",
            "FORCED",
        )
        if needs_customer and customer_id is None and body.get("customer") is None:
            raise _XenditError(
                400, "MISSING_CUSTOMER", "Customer object or customer_id is required"
            )
        if session_type != "PAY" and "capture_method" in body:
            raise _XenditError(
                400,
                "DISALLOWED_CAPTURE_METHOD",
                f"Capture method is not supported for session type {session_type}",
            )
        if session_type != "PAY" and body.get("items"):
            raise _XenditError(
                400, "ITEMS_NOT_SUPPORTED", "Items are allowed for session type PAY only"
            )
        metadata = body.get("metadata")
        if isinstance(metadata, dict):
            self._check_metadata(metadata)
        if "expires_at" in body:
            expires = _parse_datetime(body["expires_at"])
            if expires is None:
                message = 'must match format "date-time"'
                raise _XenditError(
                    400,
                    "API_VALIDATION_ERROR",
                    f"request/body/expires_at {message}",
                    errors=[{"message": message, "path": "/body/expires_at"}],
                )
            now = self.now()
            if expires < now + self.min_expiry:
                raise _XenditError(
                    400,
                    "INVALID_EXPIRY_DATE",
                    "expires_at must be at least 10 minutes in the future",
                )
            if expires > now + self.max_expiry:
                raise _XenditError(
                    400,
                    "INVALID_EXPIRY_DATE",
                    "expires_at must not exceed the maximum allowed expiry duration",
                )
        for key in ("success_return_url", "cancel_return_url"):
            if key in body and not self._valid_return_url(str(body[key])):
                raise _XenditError(400, "INVALID_URL", "Please provide a valid HTTPS URL")

    @staticmethod
    def _check_metadata(metadata: JSONDict) -> None:
        # The stricter of the two documented limits (INVALID_METADATA's own text).
        if len(metadata) > 20:
            raise _XenditError(400, "INVALID_METADATA", "Metadata must have a maximum of 20 keys")
        for key, value in metadata.items():
            if len(key) > 40:
                raise _XenditError(
                    400, "INVALID_METADATA", "Metadata key must have at most 40 characters"
                )
            if not isinstance(value, str):
                raise _XenditError(400, "INVALID_METADATA", "Metadata value must be a string")
            if len(value) > 80:
                raise _XenditError(
                    400, "INVALID_METADATA", "Metadata value must have at most 80 characters"
                )

    def _valid_return_url(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
        except ValueError:
            return False
        schemes = ("https", "http") if self.allow_http_return_urls else ("https",)
        return parts.scheme in schemes and bool(parts.hostname)

    def _get(self, session_id: str) -> JSONDict:
        session = self.sessions.get(session_id)
        if session is None:
            raise _XenditError(404, "SESSION_NOT_FOUND", "Session not found")
        body = copy.deepcopy(session)
        body.update(copy.deepcopy(self.get_overrides.get(session_id, {})))
        return body

    def _cancel(self, session_id: str) -> JSONDict:
        session = self.sessions.get(session_id)
        if session is None:
            raise _XenditError(404, "SESSION_NOT_FOUND", "Session not found")
        if session["status"] != "ACTIVE":
            raise _XenditError(
                422,
                "INVALID_SESSION_STATUS",
                f"Session status is {session['status']}, expecting ACTIVE",
            )
        session["status"] = "CANCELED"
        session["updated"] = _iso(self.now())
        return copy.deepcopy(session)


# --------------------------------------------------------------------------- helpers


def _parse_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _has_decimals_at_most(amount: Any, places: int) -> bool:
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        return False
    if isinstance(amount, float) and not math.isfinite(amount):
        return False
    try:
        value = Decimal(repr(amount)) if isinstance(amount, float) else Decimal(amount)
    except InvalidOperation:
        return False
    scaled = value.scaleb(places)
    return scaled == scaled.to_integral_value()
