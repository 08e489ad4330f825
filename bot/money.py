"""Money: currencies, parsing what merchants type, formatting, minor units, words.

Amounts are always :class:`decimal.Decimal`, never ``float``. Nothing in this module talks
to Telegram or Xendit, and nothing in it produces user-facing English: problems are reported
as :class:`AmountProblem` values that the bot translates itself.

How :func:`parse_amount` reads numbers
--------------------------------------

* Case and spaces don't matter. Around the number may stand the currency's aliases, before
  or after (``Rp``, ``IDR``, ``RM``, ``S$``, ``₱``...), a minus sign (which makes it
  NOT_POSITIVE rather than NOT_A_NUMBER) and the Indonesian ``,-`` meaning "whole". Only
  ASCII digits count: ``١٢٣`` is not a number, and neither are ``1e5``, ``0x10`` or ``NaN``.
* ``.``, ``,`` and a space may group thousands: ``150.000``, ``1,500,000``, ``150 000``.
  A grouped number starts with a group of 1-3 digits (not starting with ``0``) followed by
  groups of exactly three digits; anything else (``1.50.000``) is not a number.
* When both ``.`` and ``,`` appear, the last one is the decimal separator and appears once:
  ``1.500,50`` and ``1,500.50`` are both 1500.50.
* A single ``.`` or ``,`` followed by 1, 2 or 4+ digits is a decimal separator (``12.5``).
* A single ``.`` or ``,`` followed by exactly three digits groups thousands when the
  currency has no decimals (``150.000`` is IDR 150000), when a multiplier follows
  (``1.250rb`` is 1,250 ribu = 1250000) and when ``,-`` follows; so ``1500.000`` and
  ``0,500jt`` are not numbers. Otherwise, for a currency with cents, it is ambiguous:
  ``1.500`` is MYR 1.50 or MYR 1500.00, while ``0.500`` can only be MYR 0.50.
* Multipliers: ``k``, ``rb``, ``ribu`` (thousand), ``jt``, ``juta`` (million), ``miliar``,
  ``milyar`` (billion). A bare ``m`` is ambiguous: million in English, *miliar* in
  Indonesian.
* Whenever a text has two readings, :class:`AmountError` with
  :attr:`AmountProblem.AMBIGUOUS` is raised and ``candidates`` holds the readings that are
  valid amounts, smallest first; there may be only one (SGD ``1.505`` cannot be 1.505, so
  the candidates are just 1505.00): the bot confirms instead of guessing. If no reading is
  valid, the problem of the smaller reading is raised.

How :func:`split_amount` finds the amount in ``/pay 2 juta nasi goreng``
-----------------------------------------------------------------------

The amount may span words (``Rp 150.000``, ``150 000``, ``2 juta``, ``25.000 ,-``); the rest
is the description. Every prefix of up to :data:`MAX_AMOUNT_WORDS` words that is a number is a
candidate. The longest is the main reading: if it is not a usable amount (too large, say),
that problem is raised rather than a shorter, smaller prefix being taken, and if the next
word only makes sense inside an amount (``000``, ``juta``, ``Rp``, ``,-``) the text is not a
number. A shorter prefix is another plausible reading when the word after it could start a
description and its amount is not implausibly small (``confirm_below``): MYR ``5 250 gram``
is RM5.00 of "250 gram" or RM5,250.00 of "gram". Several readings: the bot asks.
"""

from __future__ import annotations

import copy
import decimal
import enum
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from types import MappingProxyType

from babel import Locale
from babel.numbers import NumberPattern, format_currency

from bot.errors import PaybotError, Problem

__all__ = [
    "CURRENCIES",
    "MAX_AMOUNT",
    "AmountError",
    "AmountProblem",
    "AmountReading",
    "AmountSplit",
    "Currency",
    "UnknownCurrency",
    "amount_in_words",
    "format_amount",
    "from_minor_units",
    "get_currency",
    "json_number",
    "parse_amount",
    "split_amount",
    "to_minor_units",
]

MAX_AMOUNT = Decimal(10) ** 12
"""The absolute sanity cap for any currency: a larger amount is a typo, not a sale."""

# Exact arithmetic: precision large enough never to round, inexact results are errors.
_EXACT = decimal.Context(
    prec=decimal.MAX_PREC,
    traps=[decimal.InvalidOperation, decimal.Inexact, decimal.DivisionByZero],
)


@dataclass(frozen=True, slots=True)
class Currency:
    """A currency the bot can ask for.

    ``decimals`` is what Xendit accepts, which is not always ISO 4217's: IDR has two
    decimals in ISO but Xendit takes whole rupiah. ``aliases`` are what people type next
    to an amount (lowercase): symbols, the ISO code and the currency's name.
    """

    code: str
    country: str
    decimals: int
    locale: str
    aliases: tuple[str, ...]

    @property
    def minor_unit(self) -> Decimal:
        """The smallest amount: ``Decimal("1")`` for IDR, ``Decimal("0.01")`` for SGD."""
        return Decimal(1).scaleb(-self.decimals)


CURRENCIES: Mapping[str, Currency] = MappingProxyType(
    {
        currency.code: currency
        for currency in (
            Currency("IDR", "ID", 0, "id_ID", ("rp", "rp.", "idr", "rupiah")),
            Currency("PHP", "PH", 0, "en_PH", ("₱", "p", "php", "peso", "pesos")),
            Currency("THB", "TH", 0, "th_TH", ("฿", "thb", "baht", "บาท")),
            Currency("VND", "VN", 0, "vi_VN", ("₫", "đ", "vnd", "vnđ", "dong", "đồng")),
            Currency("MYR", "MY", 2, "ms_MY", ("rm", "myr", "ringgit")),
            Currency("SGD", "SG", 2, "en_SG", ("s$", "$", "sgd", "dollar", "dollars")),
        )
    }
)


class UnknownCurrency(PaybotError, ValueError):
    """The currency code is not one the bot supports."""

    def __init__(self, code: str) -> None:
        super().__init__(f"unknown currency {code!r}; supported: {', '.join(CURRENCIES)}")
        self.code = code


def get_currency(code: str) -> Currency:
    """Look up a currency by ISO code, ignoring case and surrounding spaces."""
    try:
        return CURRENCIES[code.strip().upper()]
    except KeyError:
        raise UnknownCurrency(code) from None


# --- Parsing -----------------------------------------------------------------------------


class AmountProblem(enum.Enum):
    """Why a text is not an amount. The values are stable, machine-readable keys."""

    MISSING = "missing"
    NOT_A_NUMBER = "not_a_number"
    NOT_POSITIVE = "not_positive"
    TOO_MANY_DECIMALS = "too_many_decimals"
    TOO_LARGE = "too_large"
    AMBIGUOUS = "ambiguous"


class AmountError(Problem, ValueError):
    """A text the merchant typed is not a usable amount.

    ``reason`` says why, ``text`` is what was typed and, for ``AMBIGUOUS``, ``candidates``
    are the valid amounts it could mean, smallest first. Worded by
    :func:`bot.views.amount_problem`: the reason picks the message.
    """

    def __init__(
        self, reason: AmountProblem, text: str, candidates: tuple[Decimal, ...] = ()
    ) -> None:
        super().__init__(reason, text, candidates)
        self.reason = reason
        self.text = text
        self.candidates = candidates

    def __str__(self) -> str:
        return repr(self)

    def __repr__(self) -> str:
        candidates = f", candidates={self.candidates!r}" if self.candidates else ""
        return f"AmountError({self.reason}, text={self.text!r}{candidates})"


_MULTIPLIERS: Mapping[str, tuple[int, ...]] = {
    # word: the powers of ten it may mean; two powers make the amount ambiguous.
    "k": (3,),
    "rb": (3,),
    "ribu": (3,),
    "jt": (6,),
    "juta": (6,),
    "miliar": (9,),
    "milyar": (9,),
    "m": (6, 9),
}
_DASHES = str.maketrans({"\u2212": "-", "\u2013": "-"})  # minus sign, en dash


def _alternatives(words: Iterable[str]) -> str:
    # Longest first, so that "rp." wins over "rp" and "miliar" over "m".
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


@cache
def _amount_pattern(currency: Currency) -> re.Pattern[str]:
    aliases = _alternatives(currency.aliases)
    return re.compile(
        rf"""
        (?P<sign>-)? [ ]?
        (?: (?:{aliases}) [ ]? (?P<sign_after_symbol>-)? [ ]? )?
        (?P<number> [0-9]+ (?: [., ][0-9]+ )* )
        (?: [ ]? (?P<whole>,-) | [ ]? (?P<multiplier>{_alternatives(_MULTIPLIERS)}) )?
        (?: [ ]? (?:{aliases}) )?
        """,
        re.VERBOSE,
    )


def parse_amount(
    text: str | None, currency: Currency, *, max_amount: Decimal | None = None
) -> Decimal:
    """Read an amount the way people type it: ``Rp150.000``, ``150rb``, ``1,5jt``, ``12,50 RM``.

    Returns the amount quantized to the currency's decimals (``Decimal("150000")``,
    ``Decimal("12.50")``). Raises :class:`AmountError`; see the module docstring for the
    rules on separators, multipliers and ambiguity.
    """
    original = text or ""
    body = unicodedata.normalize("NFC", " ".join(original.split())).casefold().translate(_DASHES)
    if not body or body in currency.aliases:
        raise AmountError(AmountProblem.MISSING, original)

    match = _amount_pattern(currency).fullmatch(body)
    if match is None or (match["sign"] and match["sign_after_symbol"]):
        raise AmountError(AmountProblem.NOT_A_NUMBER, original)

    powers = _MULTIPLIERS[match["multiplier"]] if match["multiplier"] else (0,)
    numbers = _read_number(
        match["number"],
        group_three_digits=currency.decimals == 0 or bool(match["multiplier"] or match["whole"]),
    )
    if numbers is None:
        raise AmountError(AmountProblem.NOT_A_NUMBER, original)

    sign = "-" if match["sign"] or match["sign_after_symbol"] else ""
    readings = [Decimal(f"{sign}{number}e{power}") for number in numbers for power in powers]
    if len(readings) == 1:
        return _checked(readings[0], currency, max_amount, original)

    valid: list[Decimal] = []
    first_error: AmountError | None = None
    for reading in sorted(readings):
        try:
            valid.append(_checked(reading, currency, max_amount, original))
        except AmountError as error:
            first_error = first_error or error
    if not valid:
        assert first_error is not None
        raise first_error
    raise AmountError(AmountProblem.AMBIGUOUS, original, tuple(valid))


MAX_AMOUNT_WORDS = 6
"""The most words one amount may span: ``Rp 1 500 000 ,-`` is five."""


@dataclass(frozen=True, slots=True)
class AmountReading:
    """One way to read a ``/pay`` text: ``amount`` from ``amount_text``, then ``description``."""

    amount: Decimal
    amount_text: str
    description: str


@dataclass(frozen=True, slots=True)
class AmountSplit:
    """The readings of a ``/pay`` text, smallest amount first.

    ``sure`` is True when there is exactly one reading and nothing about it was a guess;
    otherwise the merchant must pick one (even a single reading of ``2m``, which can only be
    Rp2.000.000 because Rp2.000.000.000 is over the maximum, is confirmed, not assumed).
    """

    readings: tuple[AmountReading, ...]
    sure: bool


def split_amount(
    words: Iterable[str],
    currency: Currency,
    *,
    max_amount: Decimal | None = None,
    confirm_below: Decimal | None = None,
) -> AmountSplit:
    """Find the amount at the start of ``words`` (the /pay text split on spaces).

    Raises :class:`AmountError` when no prefix is an amount (with the first word's problem),
    when the longest numeric prefix is not a usable amount, or when the word after it can
    only belong to an amount. See the module docstring for the rules.
    """
    typed = [word for word in words if word]
    if not typed:
        raise AmountError(AmountProblem.MISSING, "")
    numbers: list[tuple[int, tuple[Decimal, ...], bool]] = []  # (words, amounts, unclear)
    usable_error: AmountError | None = None
    for count in range(1, min(len(typed), MAX_AMOUNT_WORDS) + 1):
        text = " ".join(typed[:count])
        try:
            numbers.append((count, (parse_amount(text, currency, max_amount=max_amount),), False))
        except AmountError as error:
            if error.reason is AmountProblem.AMBIGUOUS:
                numbers.append((count, error.candidates, True))
            elif error.reason not in (AmountProblem.NOT_A_NUMBER, AmountProblem.MISSING):
                numbers.append((count, (), False))  # a number, but not a usable amount
                usable_error = error
    if not numbers:
        parse_amount(typed[0], currency, max_amount=max_amount)  # raises the first word's problem
        raise AssertionError("a word parsed alone but not as a prefix")  # pragma: no cover
    longest, amounts, unclear = numbers[-1]
    if not amounts:
        assert usable_error is not None
        raise usable_error
    if longest < len(typed) and _only_in_amounts(typed[longest], currency):
        raise AmountError(AmountProblem.NOT_A_NUMBER, " ".join(typed[: longest + 1]))

    readings = [_reading(typed, longest, amount) for amount in amounts]
    for count, shorter, shorter_unclear in numbers[:-1]:
        if _only_in_amounts(typed[count], currency):
            continue
        plausible = [a for a in shorter if confirm_below is None or a >= confirm_below]
        readings += [_reading(typed, count, amount) for amount in plausible]
        unclear = unclear or (bool(plausible) and shorter_unclear)
    readings.sort(key=lambda reading: (reading.amount, -len(reading.amount_text)))
    return AmountSplit(tuple(readings), sure=len(readings) == 1 and not unclear)


def _reading(typed: list[str], count: int, amount: Decimal) -> AmountReading:
    return AmountReading(amount, " ".join(typed[:count]), " ".join(typed[count:]))


_LEADING_ZERO_GROUP = re.compile(r"0[0-9]{2}(?![0-9])")


def _only_in_amounts(word: str, currency: Currency) -> bool:
    """Whether ``word`` only makes sense as part of an amount: a multiplier, the currency's
    alias, ``,-``, or a three-digit group starting with ``0`` (``000``, ``050rb``)."""
    folded = unicodedata.normalize("NFC", word).casefold()
    return (
        folded in _MULTIPLIERS
        or folded in currency.aliases
        or folded.startswith(",-")
        or _LEADING_ZERO_GROUP.match(folded) is not None
    )


def _read_number(number: str, *, group_three_digits: bool) -> list[str] | None:
    """The plain decimal strings ``number`` can mean (one or two), or None if none.

    ``number`` is digits separated by single ``.``, ``,`` or spaces.
    """
    separators = re.sub("[0-9]", "", number)
    if not separators:
        return [number]
    last = separators[-1]
    head, _, tail = number.rpartition(last)

    if len(set(separators)) == 1 and (last == " " or len(separators) > 1):
        # "1.500.000", "150 000": only thousands grouping repeats.
        return [number.replace(last, "")] if _is_grouped(number, last) else None

    if len(separators) == 1:
        # "12.50", "1.5", "150.000", "1.500": one separator, which may be either.
        decimal_reading = f"{head}.{tail}"
        if len(tail) != 3:
            return [decimal_reading]
        grouped = [head + tail] if _is_grouped(number, last) else []
        if group_three_digits:
            return grouped or None
        return [decimal_reading, *grouped]

    # Two kinds: "1.500,50", "1,500.50", "1 500,50". The last one is the decimal separator.
    if last == " " or len(set(separators)) > 2 or separators.count(last) > 1:
        return None
    grouping = separators[0]
    if not _is_grouped(head, grouping):
        return None
    return [f"{head.replace(grouping, '')}.{tail}"]


def _is_grouped(number: str, separator: str) -> bool:
    first, *rest = number.split(separator)
    return (
        1 <= len(first) <= 3
        and not first.startswith("0")
        and all(len(group) == 3 for group in rest)
    )


def _checked(amount: Decimal, currency: Currency, max_amount: Decimal | None, text: str) -> Decimal:
    if amount <= 0:
        raise AmountError(AmountProblem.NOT_POSITIVE, text)
    if amount > MAX_AMOUNT or (max_amount is not None and amount > max_amount):
        raise AmountError(AmountProblem.TOO_LARGE, text)
    if not _fits(amount, currency):
        raise AmountError(AmountProblem.TOO_MANY_DECIMALS, text)
    return amount.quantize(currency.minor_unit, context=_EXACT)


def _fits(amount: Decimal, currency: Currency) -> bool:
    """Whether ``amount`` is a finite whole number of the currency's minor units."""
    if not amount.is_finite():
        return False
    minor = amount.scaleb(currency.decimals, context=_EXACT)
    return minor == minor.to_integral_value()


def _require_fits(amount: Decimal, currency: Currency) -> None:
    if not _fits(amount, currency):
        raise ValueError(
            f"{amount!r} is not a whole number of {currency.code} minor units "
            f"({currency.decimals} decimals)"
        )


# --- Formatting and storage --------------------------------------------------------------


def format_amount(amount: Decimal, currency: Currency, locale: str | None = None) -> str:
    """Format with the locale's CLDR currency pattern: ``Rp150.000``, ``$12.50``.

    Shows exactly the currency's decimals as defined here (IDR, PHP, THB and VND none; MYR
    and SGD two), not CLDR's (which gives IDR two). ``locale`` defaults to the currency's
    own; whatever spacing CLDR uses (``150.000\\xa0₫`` in vi_VN) is kept.
    Raises :class:`ValueError` for an amount the currency can't represent.
    """
    _require_fits(amount, currency)
    babel_locale, pattern = _currency_pattern(locale or currency.locale, currency.decimals)
    return format_currency(
        amount, currency.code, format=pattern, locale=babel_locale, currency_digits=False
    )


@cache
def _currency_pattern(locale: str, decimals: int) -> tuple[Locale, NumberPattern]:
    """The locale and its currency pattern with ``decimals`` fixed, parsed once: every card
    and summary shows amounts, and parsing them took as long as formatting."""
    babel_locale = Locale.parse(locale)
    pattern = copy.copy(babel_locale.currency_formats["standard"])
    pattern.frac_prec = (decimals, decimals)
    return babel_locale, pattern


def to_minor_units(amount: Decimal, currency: Currency) -> int:
    """IDR 150000 → 150000, SGD 12.50 → 1250. Raises :class:`ValueError` for SGD 12.505."""
    _require_fits(amount, currency)
    return int(amount.scaleb(currency.decimals, context=_EXACT))


def from_minor_units(minor: int, currency: Currency) -> Decimal:
    """150000 → IDR ``Decimal("150000")``, 1250 → SGD ``Decimal("12.50")``."""
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise TypeError(f"minor units must be an int, not {type(minor).__name__}")
    return Decimal(minor).scaleb(-currency.decimals, context=_EXACT)


def json_number(amount: Decimal) -> int | float:
    """The amount as a JSON number for Xendit's request body.

    Xendit wants a JSON number, not a string, and the json module only writes ``int`` and
    ``float``. Whole amounts become ``int``. Others become the ``float`` whose ``repr``
    reads back as the same decimal, which holds for every amount with at most two decimals
    below 10^13 (fewer than 16 significant digits); anything else raises
    :class:`ValueError` rather than send a rounded amount.
    """
    if not amount.is_finite():
        raise ValueError(f"{amount!r} is not a finite amount")
    if amount == amount.to_integral_value():
        return int(amount)
    number = float(amount)
    if Decimal(repr(number)) != amount:
        raise ValueError(f"{amount!r} does not survive the trip through a float")
    return number


# --- Words -------------------------------------------------------------------------------

# (language, currency code) → (singular, plural), for the main unit and for cents.
_UNIT_NAMES: Mapping[tuple[str, str], tuple[str, str]] = {
    ("en", "IDR"): ("rupiah", "rupiah"),
    ("en", "PHP"): ("peso", "pesos"),
    ("en", "THB"): ("baht", "baht"),
    ("en", "VND"): ("dong", "dong"),
    ("en", "MYR"): ("ringgit", "ringgit"),
    ("en", "SGD"): ("dollar", "dollars"),
    ("id", "IDR"): ("rupiah", "rupiah"),
    ("id", "PHP"): ("peso", "peso"),
    ("id", "THB"): ("baht", "baht"),
    ("id", "VND"): ("dong", "dong"),
    ("id", "MYR"): ("ringgit", "ringgit"),
    ("id", "SGD"): ("dolar", "dolar"),
}
_MINOR_UNIT_NAMES: Mapping[tuple[str, str], tuple[str, str]] = {
    ("en", "MYR"): ("sen", "sen"),
    ("en", "SGD"): ("cent", "cents"),
    ("id", "MYR"): ("sen", "sen"),
    ("id", "SGD"): ("sen", "sen"),
}

_Speller = Callable[[int], str]

_ID_DIGITS = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan")
_ID_SCALES = ((10**12, "triliun"), (10**9, "miliar"), (10**6, "juta"), (10**3, "ribu"))

# fmt: off
_EN_SMALL = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
# fmt: on
_EN_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (10**3, "thousand"))

_WORDS_LIMIT = 10**15


def amount_in_words(amount: Decimal, currency: Currency, language: str) -> str:
    """Spell an amount out for a fat-finger check, in ``"en"`` or ``"id"``.

    ``sepuluh juta lima ratus ribu rupiah``, ``twelve ringgit and fifty sen``,
    ``dua belas ringgit lima puluh sen``. Raises :class:`ValueError` for a negative amount,
    one the currency can't represent, one of 10^15 or more, or another language.
    """
    if language not in ("en", "id"):
        raise ValueError(f"no number words for language {language!r}; use 'en' or 'id'")
    _require_fits(amount, currency)
    if amount < 0 or amount >= _WORDS_LIMIT:
        raise ValueError(f"{amount!r} is outside 0 .. 10^15 for words")
    spell = _indonesian if language == "id" else _english
    whole = int(amount)
    cents = to_minor_units(amount - whole, currency)

    parts = []
    if whole or not cents:
        one, many = _UNIT_NAMES[language, currency.code]
        parts.append(f"{spell(whole)} {one if whole == 1 else many}")
    if cents:
        one, many = _MINOR_UNIT_NAMES[language, currency.code]
        parts.append(f"{spell(cents)} {one if cents == 1 else many}")
    return (" and " if language == "en" else " ").join(parts)


def _indonesian(n: int) -> str:
    if n < 10:
        return _ID_DIGITS[n]
    if n < 20:
        special = {10: "sepuluh", 11: "sebelas"}
        return special.get(n) or f"{_ID_DIGITS[n - 10]} belas"
    if n < 100:
        return _then(f"{_ID_DIGITS[n // 10]} puluh", n % 10, _indonesian)
    if n < 1000:
        hundreds = "seratus" if n < 200 else f"{_ID_DIGITS[n // 100]} ratus"
        return _then(hundreds, n % 100, _indonesian)
    if n < 2000:
        return _then("seribu", n % 1000, _indonesian)
    return _scaled(n, _ID_SCALES, _indonesian)


def _english(n: int) -> str:
    if n < 20:
        return _EN_SMALL[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _EN_TENS[tens] + (f"-{_EN_SMALL[ones]}" if ones else "")
    if n < 1000:
        return _then(f"{_EN_SMALL[n // 100]} hundred", n % 100, _english)
    return _scaled(n, _EN_SCALES, _english)


def _scaled(n: int, scales: tuple[tuple[int, str], ...], spell: _Speller) -> str:
    for size, name in scales:
        if n >= size:
            return _then(f"{spell(n // size)} {name}", n % size, spell)
    raise AssertionError(f"{n} is below every scale")  # pragma: no cover


def _then(head: str, rest: int, spell: _Speller) -> str:
    return f"{head} {spell(rest)}" if rest else head
