"""A small client for Xendit's Payment Sessions API and the models of its webhooks.

Three endpoints (``POST /sessions``, ``GET /sessions/{id}``, ``POST /sessions/{id}/cancel``)
over one shared :class:`httpx.AsyncClient`. Errors are precise exception types so the caller
can tell the merchant exactly what happened; none of them carries the secret key.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.errors import PaybotError
from bot.money import json_number

log = logging.getLogger(__name__)

SessionStatus = Literal["ACTIVE", "COMPLETED", "EXPIRED", "CANCELED"]


# -- errors ---------------------------------------------------------------------------------


class XenditError(PaybotError):
    """Base class. ``status`` is the HTTP status (None when no answer came)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_code = error_code

    def __str__(self) -> str:
        parts = [self.message]
        if self.error_code:
            parts.insert(0, f"{self.error_code}:")
        if self.status:
            parts.insert(0, f"HTTP {self.status}")
        return " ".join(parts)


class XenditAuthError(XenditError):
    """401/403: the secret key is wrong or lacks the Money-in write permission."""


class XenditRequestRejected(XenditError):
    """4xx: Xendit refused the request; ``message`` is Xendit's own explanation."""


class XenditNotFound(XenditRequestRejected):
    """404: no such session for this account."""


class XenditInvalidState(XenditRequestRejected):
    """422 (or the older 403 ``INELIGIBLE_SESSION_REQUEST``): e.g. cancelling a paid session."""


class XenditRateLimited(XenditError):
    """429: too many requests. ``retry_after`` comes from the ``Rate-Limit-Reset`` header."""

    def __init__(self, message: str, *, retry_after: float | None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class XenditUnavailable(XenditError):
    """5xx, or the connection could not be made. Nothing was done on Xendit's side."""


class XenditTimeout(XenditError):
    """The request was sent but no answer came in time: it may or may not have taken effect."""


# -- models ---------------------------------------------------------------------------------


class Session(BaseModel):
    """A Payment Session as Xendit returns it (the fields paybot uses; others are kept)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    payment_session_id: str = Field(min_length=1, max_length=64)
    reference_id: str
    status: SessionStatus
    amount: Decimal
    currency: str
    country: str | None = None
    expires_at: datetime
    created: datetime | None = None
    updated: datetime | None = None
    payment_link_url: str | None = None
    description: str | None = None
    payment_id: str | None = None
    payment_request_id: str | None = None
    business_id: str | None = None


class CreateSession(BaseModel):
    """The body of ``POST /sessions`` for a one-time payment link."""

    model_config = ConfigDict(frozen=True)

    reference_id: str = Field(min_length=1, max_length=64)
    amount: Decimal = Field(gt=0)
    currency: str
    country: str
    description: str | None = Field(default=None, min_length=1, max_length=1000)
    expires_at: datetime | None = None
    locale: str | None = None
    success_return_url: str | None = None
    cancel_return_url: str | None = None
    #: The channels offered on Xendit's page; empty: every channel the account has.
    allowed_payment_channels: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "reference_id": self.reference_id,
            "session_type": "PAY",
            "mode": "PAYMENT_LINK",
            "amount": json_number(self.amount),
            "currency": self.currency,
            "country": self.country,
            "allow_save_payment_method": "DISABLED",
            "capture_method": "AUTOMATIC",
        }
        if self.description:
            body["description"] = self.description
        if self.expires_at is not None:
            body["expires_at"] = self.expires_at.isoformat().replace("+00:00", "Z")
        if self.locale:
            body["locale"] = self.locale
        if self.success_return_url:
            body["success_return_url"] = self.success_return_url
        if self.cancel_return_url:
            body["cancel_return_url"] = self.cancel_return_url
        if self.allowed_payment_channels:
            body["allowed_payment_channels"] = list(self.allowed_payment_channels)
        return body


class WebhookEnvelope(BaseModel):
    """Every Xendit webhook: ``event``, ``business_id``, ``created``, ``data``."""

    model_config = ConfigDict(extra="allow")

    event: str = Field(min_length=1, max_length=64)
    business_id: str
    created: datetime
    data: dict[str, Any]


class SessionWebhookData(BaseModel):
    """``data`` of ``payment_session.completed`` / ``payment_session.expired``."""

    model_config = ConfigDict(extra="allow")

    payment_session_id: str = Field(min_length=1, max_length=64)
    reference_id: str = Field(min_length=1, max_length=64)
    status: SessionStatus
    updated: datetime | None = None
    payment_id: str | None = Field(default=None, max_length=64)
    amount: Decimal | None = None
    currency: str | None = None


class PaymentWebhookData(BaseModel):
    """``data`` of ``payment.capture`` / ``payment.failure`` / ``payment.authorization``."""

    model_config = ConfigDict(extra="allow")

    payment_id: str = Field(min_length=1, max_length=64)
    status: str
    channel_code: str | None = None
    payment_request_id: str | None = None
    reference_id: str | None = None


# -- client ---------------------------------------------------------------------------------


class XenditClient:
    """Calls Xendit with the shared ``http`` client (base URL, Basic auth and timeouts set)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    @classmethod
    def create(
        cls,
        *,
        api_url: str,
        secret_key: str,
        timeout: float = 15.0,
    ) -> XenditClient:
        http = httpx.AsyncClient(
            base_url=api_url.rstrip("/"),
            # Basic auth: the secret key is the username, the password is empty.
            auth=httpx.BasicAuth(secret_key, ""),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            headers={"Accept": "application/json", "User-Agent": "paybot/0.1"},
        )
        return cls(http)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def create_session(self, request: CreateSession) -> Session:
        return await self._call("POST", "/sessions", json_body=request.to_json())

    async def get_session(self, session_id: str) -> Session:
        return await self._call("GET", f"/sessions/{session_id}")

    async def cancel_session(self, session_id: str) -> Session:
        return await self._call("POST", f"/sessions/{session_id}/cancel")

    async def _call(
        self, method: str, path: str, *, json_body: dict[str, Any] | None = None
    ) -> Session:
        try:
            response = await self._http.request(method, path, json=json_body)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # Never sent: Xendit certainly did nothing, so trying again is safe.
            raise XenditUnavailable(f"could not connect to Xendit ({type(exc).__name__})") from exc
        except httpx.TimeoutException as exc:
            # From here on the request went out: whether Xendit made anything is unknown.
            raise XenditTimeout(f"Xendit did not answer in time ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise XenditTimeout(f"the connection to Xendit broke ({type(exc).__name__})") from exc
        if response.is_success:
            try:
                return Session.model_validate_json(response.content)
            except ValidationError as exc:
                raise XenditError(
                    "Xendit answered with an unexpected body", status=response.status_code
                ) from exc
        raise _error_from(response)


def _error_from(response: httpx.Response) -> XenditError:
    status = response.status_code
    error_code: str | None = None
    message = response.reason_phrase or "error"
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict):
        error_code = str(body.get("error_code") or "") or None
        message = str(body.get("message") or message)
    kwargs: dict[str, Any] = {"status": status, "error_code": error_code}
    if status in (401, 403) and error_code != "INELIGIBLE_SESSION_REQUEST":
        return XenditAuthError(message, **kwargs)
    if status == 404:
        return XenditNotFound(message, **kwargs)
    if status == 422 or error_code in ("INVALID_SESSION_STATUS", "INELIGIBLE_SESSION_REQUEST"):
        return XenditInvalidState(message, **kwargs)
    if status == 429:
        return XenditRateLimited(message, retry_after=_reset_seconds(response), **kwargs)
    if status >= 500:
        return XenditUnavailable(message, **kwargs)
    return XenditRequestRejected(message, **kwargs)


def _reset_seconds(response: httpx.Response) -> float | None:
    for header in ("Rate-Limit-Reset", "Retry-After"):
        value = response.headers.get(header)
        if value:
            try:
                return max(0.0, float(value))
            except ValueError:
                continue
    return None
