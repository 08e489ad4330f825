"""Configuration: environment variables (and a ``.env`` file) read once into :class:`Settings`."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import PaybotError

CurrencyCode = Literal["IDR", "PHP", "THB", "VND", "MYR", "SGD"]

#: Upper bound of ``/pay`` per currency when ``MAX_AMOUNT`` is not set: well above a small
#: shop's sale, well below a typo with three extra zeros.
DEFAULT_MAX_AMOUNT: dict[str, Decimal] = {
    "IDR": Decimal(100_000_000),
    "PHP": Decimal(5_000_000),
    "THB": Decimal(3_000_000),
    "VND": Decimal(2_000_000_000),
    "MYR": Decimal(500_000),
    "SGD": Decimal(100_000),
}


#: Above this, ``/pay`` shows the amount in words and asks to confirm (``CONFIRM_ABOVE``).
DEFAULT_CONFIRM_ABOVE: dict[str, Decimal] = {
    "IDR": Decimal(10_000_000),
    "PHP": Decimal(500_000),
    "THB": Decimal(300_000),
    "VND": Decimal(200_000_000),
    "MYR": Decimal(50_000),
    "SGD": Decimal(10_000),
}

#: Below this, ``/pay`` shows the amount in words and asks to confirm (``CONFIRM_BELOW``): less
#: than the cheapest thing a shop sells (a sachet, a parking ticket; roughly US$0.05-0.40), so
#: far more likely a dropped ``rb``/``000`` than a price.
DEFAULT_CONFIRM_BELOW: dict[str, Decimal] = {
    "IDR": Decimal(1_000),
    "PHP": Decimal(20),
    "THB": Decimal(20),
    "VND": Decimal(10_000),
    "MYR": Decimal(1),
    "SGD": Decimal(1),
}


_TELEGRAM_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class ConfigError(PaybotError):
    """Settings are missing or invalid. The message names every variable, never a value."""


class Settings(BaseSettings):
    """Everything the process reads from its environment. Names are the upper-case field names."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    telegram_bot_token: SecretStr
    xendit_secret_key: SecretStr
    xendit_callback_token: SecretStr

    database_url: str = "sqlite:///paybot.db"
    host: str = "0.0.0.0"  # noqa: S104 - a server in a container listens on every interface
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: AnyHttpUrl | None = None
    telegram_mode: Literal["polling", "webhook"] = "polling"
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_url: AnyHttpUrl = AnyHttpUrl("https://api.telegram.org")
    xendit_api_url: AnyHttpUrl = AnyHttpUrl("https://api.xendit.co")
    allowed_user_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    #: The shop's name on first start (then changed with /settings); unset: the bot's name.
    shop_name: str | None = Field(default=None, max_length=64)
    default_currency: CurrencyCode = "IDR"

    max_amount: Decimal | None = Field(default=None, gt=0)
    confirm_above: Decimal | None = Field(default=None, gt=0)
    confirm_below: Decimal | None = Field(default=None, ge=0)
    link_expiry: timedelta = timedelta(hours=24)
    timezone: str = "Asia/Jakarta"
    xendit_timeout: float = Field(default=15.0, gt=0)
    xendit_rate_limit: int | None = Field(default=None, ge=1)
    reconcile_interval: timedelta = timedelta(minutes=5)
    reconcile_grace: timedelta = timedelta(minutes=5)
    reconcile_after: timedelta = timedelta(hours=1)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Well under a 1,024 descriptor limit: Telegram, Xendit and the database need some too.
    http_max_connections: int = Field(default=500, ge=1)
    http_read_timeout: float = Field(default=10.0, gt=0)  # seconds for headers, and for a body

    @field_validator("allowed_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",")]
            return frozenset(int(p) for p in parts if p)
        return value

    @field_validator("telegram_bot_token", "xendit_secret_key", "xendit_callback_token")
    @classmethod
    def _not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("shop_name")
    @classmethod
    def _shop_name(cls, value: str | None) -> str | None:
        return (value or "").strip() or None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not an IANA time zone such as Asia/Jakarta") from None
        return value

    @field_validator("link_expiry")
    @classmethod
    def _expiry_in_range(cls, value: timedelta) -> timedelta:
        # Xendit: at least 10 minutes in the future; we keep a margin for the request itself.
        if value < timedelta(minutes=15):
            raise ValueError("must be at least 15 minutes")
        if value > timedelta(days=30):
            raise ValueError("must be at most 30 days")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _telegram_secret_charset(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's rule for setWebhook's secret_token.
        if value is not None and not _TELEGRAM_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _webhook_needs_public_url(self) -> Settings:
        if self.telegram_mode == "webhook" and self.public_url is None:
            raise ValueError("TELEGRAM_MODE=webhook needs PUBLIC_URL")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def telegram_webhook_url(self) -> str:
        """Where Telegram POSTs updates in webhook mode: ``{PUBLIC_URL}/webhooks/telegram``."""
        assert self.public_url is not None, "webhook mode needs PUBLIC_URL"
        return str(self.public_url).rstrip("/") + "/webhooks/telegram"

    @property
    def effective_telegram_webhook_secret(self) -> SecretStr:
        """``TELEGRAM_WEBHOOK_SECRET``, or one derived from the bot token when unset: the same
        on every instance with that token, and 64 hex characters (valid for Telegram)."""
        if self.telegram_webhook_secret is not None:
            return self.telegram_webhook_secret
        token = self.telegram_bot_token.get_secret_value().encode()
        return SecretStr(hashlib.sha256(b"paybot telegram webhook\x00" + token).hexdigest())

    @property
    def effective_xendit_rate_limit(self) -> int:
        """Requests per minute to one Xendit endpoint: 60 in test mode, 600 live (Xendit's
        published limits), unless ``XENDIT_RATE_LIMIT`` says otherwise."""
        if self.xendit_rate_limit is not None:
            return self.xendit_rate_limit
        test_mode = self.xendit_secret_key.get_secret_value().startswith("xnd_development_")
        return 60 if test_mode else 600

    @property
    def effective_confirm_above(self) -> Decimal:
        return self.confirm_above or DEFAULT_CONFIRM_ABOVE[self.default_currency]

    @property
    def effective_confirm_below(self) -> Decimal:
        """``CONFIRM_BELOW``, or the currency's default; ``0`` turns the check off."""
        if self.confirm_below is not None:
            return self.confirm_below
        return DEFAULT_CONFIRM_BELOW[self.default_currency]

    @property
    def effective_max_amount(self) -> Decimal:
        return self.max_amount or DEFAULT_MAX_AMOUNT[self.default_currency]


def load_settings(*, sandbox: bool = False, **overrides: Any) -> Settings:
    """Read the settings, turning pydantic's error into one message that names each variable.

    The message never contains an input value, so a secret typed into the wrong variable
    cannot leak into a log.
    """
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems: list[str] = []
        for error in exc.errors(include_input=False, include_url=False):
            name = "_".join(str(part) for part in error["loc"] if isinstance(part, str)).upper()
            if error["type"] == "missing":
                problems.append(f"{name} is required but not set")
            else:
                message = str(error["msg"]).removeprefix("Value error, ")
                problems.append(f"{name or 'settings'}: {message}" if name else message)
        raise ConfigError("Invalid configuration:\n  - " + "\n  - ".join(problems)) from None
    if not sandbox and settings.public_url is not None and settings.public_url.scheme != "https":
        # Customers are sent back here from Xendit, and Telegram posts updates here: https only
        # (the sandbox, which runs on this machine alone, may use http).
        raise ConfigError("Invalid configuration:\n  - PUBLIC_URL: must be an https:// address")
    return settings
