"""The catalog: every key in both languages, with the same placeholders."""

from __future__ import annotations

import string

import pytest

from bot import i18n


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_key_exists_in_every_language() -> None:
    keys = {lang: set(table) for lang, table in i18n.CATALOG.items()}
    assert keys["en"] == keys["id"], {
        "only in en": keys["en"] - keys["id"],
        "only in id": keys["id"] - keys["en"],
    }


@pytest.mark.parametrize("key", sorted(i18n.CATALOG["en"]))
def test_placeholders_match_across_languages(key: str) -> None:
    assert placeholders(i18n.CATALOG["en"][key]) == placeholders(i18n.CATALOG["id"][key])


@pytest.mark.parametrize(
    ("code", "language"),
    [("id", "id"), ("id-ID", "id"), ("en", "en"), ("en-US", "en"), (None, "en"), ("fr", "en")],
)
def test_language_from_telegram_code(code: str | None, language: str) -> None:
    assert i18n.language_for(code) == language


def test_unknown_language_falls_back_to_english() -> None:
    assert i18n.text("fr", "amount_missing") == i18n.CATALOG["en"]["amount_missing"]
