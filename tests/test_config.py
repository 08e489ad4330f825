"""Settings: every variable read once, and one clear message naming all that are wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = {
    "TELEGRAM_BOT_TOKEN": "123:abc",
    "XENDIT_SECRET_KEY": "xnd_development_secret-value-123",
    "XENDIT_CALLBACK_TOKEN": "callback-secret-456",
}


def run_bot(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in REQUIRED}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        env={**clean, "PYTHONPATH": str(ROOT)},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_missing_settings_exit_at_once_naming_every_one(tmp_path: Path) -> None:
    result = run_bot({}, tmp_path)
    assert result.returncode == 2
    for name in REQUIRED:
        assert f"{name} is required but not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_settings_are_named_without_printing_secrets(tmp_path: Path) -> None:
    env = {**REQUIRED, "PORT": "eighty", "DEFAULT_CURRENCY": "EUR", "TIMEZONE": "Mars/Base"}
    env["TELEGRAM_BOT_TOKEN"] = "   "
    result = run_bot(env, tmp_path)
    assert result.returncode == 2
    for name in ("PORT", "DEFAULT_CURRENCY", "TIMEZONE", "TELEGRAM_BOT_TOKEN"):
        assert name in result.stderr
    for secret in ("xnd_development_secret-value-123", "callback-secret-456"):
        assert secret not in result.stderr


def test_dotenv_file_in_the_working_directory_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in REQUIRED:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".env").write_text(
        "\n".join(f"{k}={v}" for k, v in REQUIRED.items())
        + "\nALLOWED_USER_IDS=11, 22,33\nDEFAULT_CURRENCY=PHP\nLINK_EXPIRY=PT2H\n"
    )
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.allowed_user_ids == frozenset({11, 22, 33})
    assert settings.default_currency == "PHP"
    assert settings.link_expiry == timedelta(hours=2)
    assert settings.effective_max_amount == Decimal(5_000_000)
    assert settings.telegram_bot_token.get_secret_value() == "123:abc"
    assert "123:abc" not in repr(settings)


def test_defaults() -> None:
    settings = load_settings(_env_file=None, **{k.lower(): v for k, v in REQUIRED.items()})
    assert settings.database_url == "sqlite:///paybot.db"
    assert (settings.host, settings.port) == ("0.0.0.0", 8080)
    assert settings.telegram_mode == "polling"
    assert str(settings.telegram_api_url) == "https://api.telegram.org/"
    assert str(settings.xendit_api_url) == "https://api.xendit.co/"
    assert settings.allowed_user_ids == frozenset()
    assert settings.default_currency == "IDR"
    assert settings.public_url is None
    assert settings.link_expiry == timedelta(hours=24)


def test_webhook_mode_needs_a_public_url() -> None:
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        load_settings(
            _env_file=None, telegram_mode="webhook", **{k.lower(): v for k, v in REQUIRED.items()}
        )


@pytest.mark.parametrize(
    ("currency", "confirm_below", "expected"),
    [
        ("IDR", None, Decimal(1_000)),
        ("PHP", None, Decimal(20)),
        ("VND", None, Decimal(10_000)),
        ("MYR", None, Decimal(1)),
        ("IDR", "5000", Decimal(5_000)),
        ("IDR", "0", Decimal(0)),  # 0: the small-amount check is off
    ],
)
def test_confirm_below_defaults_per_currency_and_can_be_set(
    currency: str, confirm_below: str | None, expected: Decimal
) -> None:
    values = {k.lower(): v for k, v in REQUIRED.items()}
    if confirm_below is not None:
        values["confirm_below"] = confirm_below
    settings = load_settings(_env_file=None, default_currency=currency, **values)
    assert settings.effective_confirm_below == expected


def test_confirm_below_may_not_be_negative() -> None:
    with pytest.raises(ConfigError, match="CONFIRM_BELOW"):
        load_settings(
            _env_file=None, confirm_below="-1", **{k.lower(): v for k, v in REQUIRED.items()}
        )


def test_every_setting_is_documented_in_the_readme_and_the_env_example(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The operator learns every variable from the README's table and finds it in
    ``.env.example``, which loads as it is."""
    from bot.config import Settings

    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        variable = name.upper()
        assert f"`{variable}`" in readme, f"{variable} is not in the README"
        assert f"{variable}=" in example, f"{variable} is not in .env.example"
    settings = load_settings(_env_file=ROOT / ".env.example")
    assert settings.database_url == "sqlite:///paybot.db"
