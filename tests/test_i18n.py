"""The catalog: every key in both languages, with the same placeholders; the messages the
views pick for outcomes and problems exist and take what they are given."""

from __future__ import annotations

import string

import pytest

from bot import i18n, views
from bot.config import ConfigError
from bot.errors import PaybotError, Problem
from bot.money import AmountError, UnknownCurrency
from bot.notifications import DeliveryError
from bot.payments import (
    CancelOutcome,
    DescriptionTooLong,
    Failure,
    LinkNotCreated,
    LinkNotFound,
    LinkNotSaved,
    WebhookNotStored,
    WebhookRejected,
)
from bot.reports import PeriodError
from bot.team import OwnersOnly
from bot.telegram.pay import BadExpiry
from bot.xendit import XenditError, XenditTimeout


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


def test_every_outcome_and_failure_has_its_message() -> None:
    assert set(views.CANCEL_KEYS) == set(CancelOutcome)
    assert set(views.FAILURE_KEYS) == set(Failure)
    for key in [*views.CANCEL_KEYS.values(), *views.FAILURE_KEYS.values()]:
        assert key in i18n.CATALOG["en"], key
        assert placeholders(i18n.CATALOG["en"][key]) <= {"ref", "message"}, key


@pytest.mark.parametrize(
    ("problem", "placeholder"),
    [
        (OwnersOnly(), set()),
        (DescriptionTooLong(1000), {"max"}),
        (LinkNotSaved("AB12"), set()),
        (LinkNotFound("AB12"), {"ref"}),
        (PeriodError("the end is before the start"), set()),
        (BadExpiry("exp:9y"), {"text"}),
    ],
)
def test_a_problem_names_its_message_and_fills_it(problem: Problem, placeholder: set[str]) -> None:
    assert placeholders(i18n.CATALOG["en"][problem.key]) == placeholder == set(problem.params)


def test_one_exception_tree() -> None:
    for error in (OwnersOnly, DescriptionTooLong, LinkNotCreated, LinkNotSaved, LinkNotFound):
        assert issubclass(error, Problem)
    for error in (AmountError, PeriodError, BadExpiry):
        assert issubclass(error, Problem)
        assert issubclass(error, ValueError)
    assert issubclass(LinkNotFound, LookupError)
    for error in (
        WebhookRejected,
        WebhookNotStored,
        UnknownCurrency,
        XenditError,
        XenditTimeout,
        ConfigError,
        DeliveryError,
    ):
        assert issubclass(error, PaybotError)
        assert not issubclass(error, Problem)
    assert issubclass(Problem, PaybotError)
