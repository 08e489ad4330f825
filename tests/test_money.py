"""Tests for bot.money: parsing, formatting, minor units, words and JSON numbers."""

from __future__ import annotations

import json
import pickle
from decimal import Decimal

import pytest

from bot.money import (
    CURRENCIES,
    MAX_AMOUNT,
    AmountError,
    AmountProblem,
    Currency,
    UnknownCurrency,
    amount_in_words,
    format_amount,
    from_minor_units,
    get_currency,
    json_number,
    parse_amount,
    split_amount,
    to_minor_units,
)

IDR = CURRENCIES["IDR"]
PHP = CURRENCIES["PHP"]
THB = CURRENCIES["THB"]
VND = CURRENCIES["VND"]
MYR = CURRENCIES["MYR"]
SGD = CURRENCIES["SGD"]

MISSING = AmountProblem.MISSING
NOT_A_NUMBER = AmountProblem.NOT_A_NUMBER
NOT_POSITIVE = AmountProblem.NOT_POSITIVE
TOO_MANY_DECIMALS = AmountProblem.TOO_MANY_DECIMALS
TOO_LARGE = AmountProblem.TOO_LARGE


# --- Currencies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "country", "decimals", "locale"),
    [
        ("IDR", "ID", 0, "id_ID"),
        ("PHP", "PH", 0, "en_PH"),
        ("THB", "TH", 0, "th_TH"),
        ("VND", "VN", 0, "vi_VN"),
        ("MYR", "MY", 2, "ms_MY"),
        ("SGD", "SG", 2, "en_SG"),
    ],
)
def test_currency_table(code: str, country: str, decimals: int, locale: str) -> None:
    currency = get_currency(code)
    assert (currency.code, currency.country, currency.decimals, currency.locale) == (
        code,
        country,
        decimals,
        locale,
    )
    assert get_currency(f" {code.lower()} ") is currency


def test_currencies_cover_exactly_the_supported_codes() -> None:
    assert set(CURRENCIES) == {"IDR", "PHP", "THB", "VND", "MYR", "SGD"}


def test_currency_is_frozen() -> None:
    with pytest.raises(AttributeError):
        IDR.decimals = 2  # type: ignore[misc]


def test_minor_unit() -> None:
    assert IDR.minor_unit == Decimal(1)
    assert SGD.minor_unit == Decimal("0.01")


def test_unknown_currency() -> None:
    with pytest.raises(UnknownCurrency) as caught:
        get_currency("USD")
    assert caught.value.code == "USD"
    assert isinstance(caught.value, ValueError)


# --- parse_amount: accepted ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [
        # Plain and grouped.
        ("150000", IDR, "150000"),
        ("150.000", IDR, "150000"),
        ("150,000", IDR, "150000"),
        ("1.500.000", IDR, "1500000"),
        ("1,500,000", IDR, "1500000"),
        ("150 000", IDR, "150000"),
        ("1 500 000", IDR, "1500000"),
        ("  150000  ", IDR, "150000"),
        ("0150000", IDR, "150000"),
        ("12.345", IDR, "12345"),
        # Currency prefixes and suffixes.
        ("Rp150.000", IDR, "150000"),
        ("Rp 150.000", IDR, "150000"),
        ("rp150000", IDR, "150000"),
        ("RP150000", IDR, "150000"),
        ("IDR 150000", IDR, "150000"),
        ("idr150000", IDR, "150000"),
        ("150000 IDR", IDR, "150000"),
        ("150000idr", IDR, "150000"),
        ("Rp. 150.000", IDR, "150000"),
        ("Rp.150.000", IDR, "150000"),
        ("150.000 rupiah", IDR, "150000"),
        ("Rp\u00a0150.000", IDR, "150000"),  # pasted with a no-break space
        # Indonesian price notation.
        ("150.000,-", IDR, "150000"),
        ("Rp 150.000,-", IDR, "150000"),
        ("Rp 150.000,00", IDR, "150000"),
        ("150000.00", IDR, "150000"),
        ("1.500.000,0", IDR, "1500000"),
        # English decimal point with grouping, for a zero-decimal currency.
        ("150,000.00", IDR, "150000"),
        # Multipliers.
        ("150rb", IDR, "150000"),
        ("150 rb", IDR, "150000"),
        ("150ribu", IDR, "150000"),
        ("150 RIBU", IDR, "150000"),
        ("150k", IDR, "150000"),
        ("150K", IDR, "150000"),
        ("Rp150rb", IDR, "150000"),
        ("rp 1,5 jt", IDR, "1500000"),
        ("1,5jt", IDR, "1500000"),
        ("1.5jt", IDR, "1500000"),
        ("2jt", IDR, "2000000"),
        ("2 juta", IDR, "2000000"),
        ("2JT", IDR, "2000000"),
        ("1,2345jt", IDR, "1234500"),
        ("1.250rb", IDR, "1250000"),  # a three-digit group before a multiplier is thousands
        ("1.500k", IDR, "1500000"),
        ("1 500 rb", IDR, "1500000"),
        ("2 miliar", IDR, "2000000000"),
        ("2milyar", IDR, "2000000000"),
        ("1.250,5rb", IDR, "1250500"),
        # The cap itself is allowed.
        ("1.000.000.000.000", IDR, "1000000000000"),
        ("1000000000000", IDR, "1000000000000"),
        # Other zero-decimal currencies.
        ("₱1,500", PHP, "1500"),
        ("PHP 1500", PHP, "1500"),
        ("php1,500.00", PHP, "1500"),
        ("P1,500", PHP, "1500"),
        ("1500 pesos", PHP, "1500"),
        ("₱ 2.5k", PHP, "2500"),
        ("฿500", THB, "500"),
        ("500 บาท", THB, "500"),
        ("THB 1,200", THB, "1200"),
        ("150.000đ", VND, "150000"),
        ("150.000 ₫", VND, "150000"),
        ("150k", VND, "150000"),
        ("150kđ", VND, "150000"),
        ("150.000 VND", VND, "150000"),
        # Currencies with cents.
        ("12.50", SGD, "12.50"),
        ("12.5", SGD, "12.50"),
        ("12,5", SGD, "12.50"),
        ("12", SGD, "12.00"),
        ("S$12.50", SGD, "12.50"),
        ("s$ 12.50", SGD, "12.50"),
        ("SGD 12.5", SGD, "12.50"),
        ("$12.50", SGD, "12.50"),
        ("12.50 dollars", SGD, "12.50"),
        ("12.5000", SGD, "12.50"),
        ("0.5", SGD, "0.50"),
        ("0.01", SGD, "0.01"),
        ("0.500", SGD, "0.50"),  # can't be grouping, so only the decimal reading
        ("1500.000", SGD, "1500.00"),
        ("1,500.50", SGD, "1500.50"),
        ("1.500,50", SGD, "1500.50"),
        ("1 500,50", SGD, "1500.50"),
        ("1,500,000", SGD, "1500000.00"),
        ("1.500.000,00", SGD, "1500000.00"),
        ("1.5k", SGD, "1500.00"),
        ("1,5k", SGD, "1500.00"),
        ("1,500k", SGD, "1500000.00"),
        ("0,0001k", SGD, "0.10"),
        ("1.2345k", SGD, "1234.50"),
        ("150.000,-", SGD, "150000.00"),  # ",-" says whole, so the group is thousands
        ("RM 12.50", MYR, "12.50"),
        ("RM12.50", MYR, "12.50"),
        ("rm12,50", MYR, "12.50"),
        ("12,50 RM", MYR, "12.50"),
        ("12.50rm", MYR, "12.50"),
        ("MYR 1,250.00", MYR, "1250.00"),
        ("150 myr", MYR, "150.00"),
        ("2 ringgit", MYR, "2.00"),
    ],
)
def test_parse_amount(text: str, currency: Currency, expected: str) -> None:
    result = parse_amount(text, currency)
    assert result == Decimal(expected)
    assert str(result) == expected  # quantized to the currency's decimals


# --- parse_amount: rejected ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "problem"),
    [
        # Nothing there.
        (None, IDR, MISSING),
        ("", IDR, MISSING),
        ("   ", IDR, MISSING),
        ("Rp", IDR, MISSING),
        ("rp.", IDR, MISSING),
        ("SGD", SGD, MISSING),
        # Not numbers.
        ("abc", IDR, NOT_A_NUMBER),
        ("12abc", IDR, NOT_A_NUMBER),
        ("1..5", IDR, NOT_A_NUMBER),
        ("1.50.000", IDR, NOT_A_NUMBER),
        ("1,50,000", IDR, NOT_A_NUMBER),  # Indian lakh grouping is not supported
        ("0.500.000", IDR, NOT_A_NUMBER),
        ("1.500.000.5", IDR, NOT_A_NUMBER),
        ("1.500,000.5", IDR, NOT_A_NUMBER),
        ("1,500.000,5", IDR, NOT_A_NUMBER),
        ("1.500 000", IDR, NOT_A_NUMBER),
        ("1 500.000,5", IDR, NOT_A_NUMBER),
        ("12 50", IDR, NOT_A_NUMBER),
        ("1500.000", IDR, NOT_A_NUMBER),  # "." before three digits is grouping, badly placed
        ("0,500jt", IDR, NOT_A_NUMBER),
        ("--5", IDR, NOT_A_NUMBER),
        ("-Rp-5", IDR, NOT_A_NUMBER),
        ("-", IDR, NOT_A_NUMBER),
        ("+5", IDR, NOT_A_NUMBER),
        ("1e5", IDR, NOT_A_NUMBER),
        ("0x10", IDR, NOT_A_NUMBER),
        ("١٢٣", IDR, NOT_A_NUMBER),  # Arabic-Indic digits
        ("１５０", IDR, NOT_A_NUMBER),  # fullwidth digits
        ("NaN", IDR, NOT_A_NUMBER),
        ("nan", IDR, NOT_A_NUMBER),
        ("Infinity", IDR, NOT_A_NUMBER),
        ("-inf", IDR, NOT_A_NUMBER),
        (".5", SGD, NOT_A_NUMBER),
        ("5.", SGD, NOT_A_NUMBER),
        ("150rb,-", IDR, NOT_A_NUMBER),
        ("150 mn", IDR, NOT_A_NUMBER),
        ("150 mio", IDR, NOT_A_NUMBER),
        ("S$12.50", IDR, NOT_A_NUMBER),  # another currency's symbol
        ("Rp 150.000", SGD, NOT_A_NUMBER),
        ("150 000 000 idr usd", IDR, NOT_A_NUMBER),
        # Not positive.
        ("0", IDR, NOT_POSITIVE),
        ("0,00", IDR, NOT_POSITIVE),
        ("0k", IDR, NOT_POSITIVE),
        ("-5", IDR, NOT_POSITIVE),
        ("-150.000", IDR, NOT_POSITIVE),
        ("\u2212150.000", IDR, NOT_POSITIVE),  # a real minus sign
        ("Rp -150.000", IDR, NOT_POSITIVE),
        ("-Rp150.000", IDR, NOT_POSITIVE),
        ("-1.500", SGD, NOT_POSITIVE),
        ("-2m", IDR, NOT_POSITIVE),
        ("0.00", SGD, NOT_POSITIVE),
        # Decimals the currency can't have.
        ("150000.5", IDR, TOO_MANY_DECIMALS),
        ("150.000,50", IDR, TOO_MANY_DECIMALS),
        ("150,000.5", IDR, TOO_MANY_DECIMALS),
        ("0,0001k", IDR, TOO_MANY_DECIMALS),
        ("1,2345678jt", IDR, TOO_MANY_DECIMALS),
        ("12.5", PHP, TOO_MANY_DECIMALS),
        ("0.5", VND, TOO_MANY_DECIMALS),
        ("12.5050", SGD, TOO_MANY_DECIMALS),
        ("0.001", SGD, TOO_MANY_DECIMALS),
        ("1.2345", MYR, TOO_MANY_DECIMALS),
        # Too large.
        ("99999999999999999", IDR, TOO_LARGE),
        ("1000000000001", IDR, TOO_LARGE),
        ("1.000.000.000.001", IDR, TOO_LARGE),
        ("2000000jt", IDR, TOO_LARGE),
        ("5000000m", IDR, TOO_LARGE),
        ("9" * 60, IDR, TOO_LARGE),
        ("99999999999999999.5", IDR, TOO_LARGE),
        ("1000000000000.01", SGD, TOO_LARGE),
    ],
)
def test_parse_amount_problem(text: str | None, currency: Currency, problem: AmountProblem) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(text, currency)
    assert caught.value.reason is problem
    assert caught.value.text == (text or "")
    assert caught.value.candidates == ()


def test_max_amount() -> None:
    limit = Decimal(100_000)
    assert parse_amount("100.000", IDR, max_amount=limit) == limit
    with pytest.raises(AmountError) as caught:
        parse_amount("100.001", IDR, max_amount=limit)
    assert caught.value.reason is TOO_LARGE
    with pytest.raises(AmountError) as caught:
        parse_amount("1000.01", SGD, max_amount=Decimal(1000))
    assert caught.value.reason is TOO_LARGE


def test_too_many_decimals_is_exact_even_with_very_long_input() -> None:
    # 30 decimals would round away under Decimal's default 28-digit context.
    with pytest.raises(AmountError) as caught:
        parse_amount("1." + "0" * 29 + "1k", IDR)
    assert caught.value.reason is TOO_MANY_DECIMALS


# --- parse_amount: ambiguous -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "max_amount", "candidates"),
    [
        # "m" is million in English, miliar (billion) in Indonesian.
        ("2m", IDR, None, ("2000000", "2000000000")),
        ("2M", IDR, None, ("2000000", "2000000000")),
        ("1,5 m", IDR, None, ("1500000", "1500000000")),
        ("150m", MYR, None, ("150000000.00", "150000000000.00")),
        # Only the readings that are valid amounts are offered.
        ("2000m", IDR, None, ("2000000000",)),
        ("2m", IDR, Decimal(100_000_000), ("2000000",)),
        # One separator and three digits, in a currency with cents.
        ("1.500", SGD, None, ("1.50", "1500.00")),
        ("1,500", SGD, None, ("1.50", "1500.00")),
        ("1.500", MYR, None, ("1.50", "1500.00")),
        ("RM 1,500", MYR, None, ("1.50", "1500.00")),
        ("1,500", SGD, Decimal(1000), ("1.50",)),
        ("1,505", SGD, None, ("1505.00",)),
        ("12.345", SGD, None, ("12345.00",)),
    ],
)
def test_parse_amount_ambiguous(
    text: str, currency: Currency, max_amount: Decimal | None, candidates: tuple[str, ...]
) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(text, currency, max_amount=max_amount)
    assert caught.value.reason is AmountProblem.AMBIGUOUS
    assert caught.value.text == text
    assert tuple(str(candidate) for candidate in caught.value.candidates) == candidates


def test_amount_error_is_a_value_error_with_a_debug_repr() -> None:
    with pytest.raises(ValueError, match="AMBIGUOUS") as caught:
        parse_amount("1.500", SGD)
    error = caught.value
    assert isinstance(error, AmountError)
    assert repr(error) == (
        "AmountError(AmountProblem.AMBIGUOUS, text='1.500', "
        "candidates=(Decimal('1.50'), Decimal('1500.00')))"
    )
    copied = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert (copied.reason, copied.text, copied.candidates) == (
        error.reason,
        error.text,
        error.candidates,
    )


def test_problem_values_are_stable_keys() -> None:
    assert [problem.value for problem in AmountProblem] == [
        "missing",
        "not_a_number",
        "not_positive",
        "too_many_decimals",
        "too_large",
        "ambiguous",
    ]


# --- format_amount ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        ("150000", IDR, None, "Rp150.000"),
        ("1500000", IDR, None, "Rp1.500.000"),
        ("150000", IDR, "id", "Rp150.000"),
        # CLDR's en_ID keeps Indonesian separators; en/en_US show the ISO code.
        ("150000", IDR, "en_ID", "Rp150.000"),
        ("150000", IDR, "en", "IDR150,000"),
        ("150000", IDR, "en_US", "IDR150,000"),
        ("1500", PHP, None, "₱1,500"),
        ("500", THB, None, "฿500"),
        ("1500", THB, None, "฿1,500"),
        # vi_VN puts a no-break space (U+00A0) between the number and the symbol.
        ("150000", VND, None, "150.000\u00a0₫"),
        ("12.50", MYR, None, "RM12.50"),
        ("12.5", MYR, None, "RM12.50"),
        ("12", MYR, None, "RM12.00"),
        ("1250", MYR, None, "RM1,250.00"),
        ("12.50", MYR, "id_ID", "MYR12,50"),
        ("12.50", SGD, None, "$12.50"),
        ("1500", SGD, None, "$1,500.00"),
        ("0.05", SGD, None, "$0.05"),
        ("12.50", SGD, "en_US", "SGD12.50"),
    ],
)
def test_format_amount(amount: str, currency: Currency, locale: str | None, expected: str) -> None:
    assert format_amount(Decimal(amount), currency, locale) == expected


@pytest.mark.parametrize(
    ("amount", "currency"), [("150000.5", IDR), ("12.505", SGD), ("NaN", IDR), ("Infinity", SGD)]
)
def test_format_amount_refuses_amounts_the_currency_cannot_hold(
    amount: str, currency: Currency
) -> None:
    with pytest.raises(ValueError, match="minor units"):
        format_amount(Decimal(amount), currency)


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("150000", IDR),
        ("1500", PHP),
        ("500", THB),
        ("150000", VND),
        ("12.50", MYR),
        ("12.50", SGD),
        ("1500.00", SGD),
        ("1234567.89", MYR),
    ],
)
def test_formatted_amounts_parse_back(amount: str, currency: Currency) -> None:
    assert parse_amount(format_amount(Decimal(amount), currency), currency) == Decimal(amount)


# --- Minor units -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("150000", IDR, 150000),
        ("1", IDR, 1),
        ("1500", PHP, 1500),
        ("150000", VND, 150000),
        ("12.50", SGD, 1250),
        ("12.5", SGD, 1250),
        ("0.01", MYR, 1),
        ("1000000000000.00", SGD, 100000000000000),
        ("123456789012345678901234567890.12", SGD, 12345678901234567890123456789012),
    ],
)
def test_minor_units_round_trip(amount: str, currency: Currency, minor: int) -> None:
    assert to_minor_units(Decimal(amount), currency) == minor
    back = from_minor_units(minor, currency)
    assert back == Decimal(amount)
    assert back.as_tuple().exponent == -currency.decimals


def test_from_minor_units_keeps_the_currency_decimals() -> None:
    assert str(from_minor_units(1250, SGD)) == "12.50"
    assert str(from_minor_units(150000, IDR)) == "150000"


@pytest.mark.parametrize(("amount", "currency"), [("12.505", SGD), ("0.5", IDR), ("NaN", IDR)])
def test_to_minor_units_refuses_fractions_of_a_minor_unit(amount: str, currency: Currency) -> None:
    with pytest.raises(ValueError, match="minor units"):
        to_minor_units(Decimal(amount), currency)


def test_from_minor_units_wants_an_int() -> None:
    with pytest.raises(TypeError):
        from_minor_units(12.5, SGD)  # type: ignore[arg-type]


# --- Words -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "indonesian", "english"),
    [
        (0, "nol", "zero"),
        (1, "satu", "one"),
        (10, "sepuluh", "ten"),
        (11, "sebelas", "eleven"),
        (15, "lima belas", "fifteen"),
        (21, "dua puluh satu", "twenty-one"),
        (100, "seratus", "one hundred"),
        (101, "seratus satu", "one hundred one"),
        (999, "sembilan ratus sembilan puluh sembilan", "nine hundred ninety-nine"),
        (1000, "seribu", "one thousand"),
        (1100, "seribu seratus", "one thousand one hundred"),
        (2000, "dua ribu", "two thousand"),
        (10000, "sepuluh ribu", "ten thousand"),
        (11000, "sebelas ribu", "eleven thousand"),
        (101000, "seratus satu ribu", "one hundred one thousand"),
        (150000, "seratus lima puluh ribu", "one hundred fifty thousand"),
        (1000000, "satu juta", "one million"),
        (2500000, "dua juta lima ratus ribu", "two million five hundred thousand"),
        (10500000, "sepuluh juta lima ratus ribu", "ten million five hundred thousand"),
        (1000000000, "satu miliar", "one billion"),
        (1000001000, "satu miliar seribu", "one billion one thousand"),
        (1000000000000, "satu triliun", "one trillion"),
    ],
)
def test_amount_in_words(amount: int, indonesian: str, english: str) -> None:
    assert amount_in_words(Decimal(amount), IDR, "id") == f"{indonesian} rupiah"
    assert amount_in_words(Decimal(amount), IDR, "en") == f"{english} rupiah"


@pytest.mark.parametrize(
    ("amount", "currency", "language", "expected"),
    [
        ("12.50", MYR, "id", "dua belas ringgit lima puluh sen"),
        ("12.50", MYR, "en", "twelve ringgit and fifty sen"),
        ("12.00", MYR, "en", "twelve ringgit"),
        ("1.01", SGD, "en", "one dollar and one cent"),
        ("2.50", SGD, "en", "two dollars and fifty cents"),
        ("2.50", SGD, "id", "dua dolar lima puluh sen"),
        ("0.50", SGD, "en", "fifty cents"),
        ("1", PHP, "en", "one peso"),
        ("1500", PHP, "en", "one thousand five hundred pesos"),
        ("500", THB, "id", "lima ratus baht"),
        ("150000", VND, "en", "one hundred fifty thousand dong"),
    ],
)
def test_amount_in_words_per_currency(
    amount: str, currency: Currency, language: str, expected: str
) -> None:
    assert amount_in_words(Decimal(amount), currency, language) == expected


@pytest.mark.parametrize(
    ("amount", "currency", "language"),
    [
        ("1", IDR, "th"),
        ("-1", IDR, "en"),
        ("0.5", IDR, "id"),
        ("12.505", SGD, "en"),
        ("1000000000000000", IDR, "en"),
    ],
)
def test_amount_in_words_refuses(amount: str, currency: Currency, language: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        amount_in_words(Decimal(amount), currency, language)


# --- json_number -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected", "kind"),
    [
        ("150000", 150000, int),
        ("150000.00", 150000, int),
        ("12.50", 12.5, float),
        ("0.01", 0.01, float),
        ("0.10", 0.1, float),
        ("9999999999999.99", 9999999999999.99, float),
        ("1000000000000", 1000000000000, int),
    ],
)
def test_json_number(amount: str, expected: float, kind: type) -> None:
    number = json_number(Decimal(amount))
    assert number == expected
    assert type(number) is kind
    assert Decimal(json.dumps(number)) == Decimal(amount)


@pytest.mark.parametrize("amount", ["0.1000000000000000055511151231257827", "NaN", "Infinity"])
def test_json_number_refuses_what_a_float_cannot_carry(amount: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        json_number(Decimal(amount))


def test_json_number_round_trips_every_cent_up_to_the_cap() -> None:
    for cents in (1, 99, 12345, 10**14 - 1, MAX_AMOUNT * 100 + 1):
        amount = Decimal(int(cents)).scaleb(-2)
        assert Decimal(repr(json_number(amount))) == amount


# --- Splitting /pay's words into amount and description -----------------------------------

#: The bot's defaults: CONFIRM_BELOW per currency, and the maximum for IDR.
_SMALL = {"IDR": Decimal(1000), "PHP": Decimal(20), "MYR": Decimal(1), "SGD": Decimal(1)}


def _readings(text: str, currency: Currency) -> list[tuple[str, str]]:
    split = split_amount(
        text.split(), currency, max_amount=Decimal(10**9), confirm_below=_SMALL[currency.code]
    )
    return [(str(r.amount), r.description) for r in split.readings]


@pytest.mark.parametrize(
    ("text", "currency", "amount", "description", "amount_text"),
    [
        ("150000 kopi susu", IDR, "150000", "kopi susu", "150000"),
        ("150rb", IDR, "150000", "", "150rb"),
        ("1,5jt sepatu", IDR, "1500000", "sepatu", "1,5jt"),
        ("Rp25.000 nasi goreng", IDR, "25000", "nasi goreng", "Rp25.000"),
        ("Rp 150.000 kopi", IDR, "150000", "kopi", "Rp 150.000"),
        ("2 juta nasi", IDR, "2000000", "nasi", "2 juta"),
        ("150 000 es teh", IDR, "150000", "es teh", "150 000"),
        ("150 ribu kopi", IDR, "150000", "kopi", "150 ribu"),
        ("1 500 000 kopi", IDR, "1500000", "kopi", "1 500 000"),
        ("25.000,- kopi", IDR, "25000", "kopi", "25.000,-"),
        ("25.000 ,- kopi", IDR, "25000", "kopi", "25.000 ,-"),
        ("IDR 50000 teh", IDR, "50000", "teh", "IDR 50000"),
        ("50000 rupiah teh", IDR, "50000", "teh", "50000 rupiah"),
        ("Rp 1 500 000 ,- kulkas", IDR, "1500000", "kulkas", "Rp 1 500 000 ,-"),
        ("150rb kopi susu 10 gelas", IDR, "150000", "kopi susu 10 gelas", "150rb"),
        ("150000 10 gelas", IDR, "150000", "10 gelas", "150000"),
        ("10 k es", IDR, "10000", "es", "10 k"),
        # A shorter reading that is implausibly small is not offered.
        ("50 250 gram kopi", IDR, "50250", "gram kopi", "50 250"),
        # The one reading may itself be small: the bot then confirms it (CONFIRM_BELOW).
        ("2 kopi", IDR, "2", "kopi", "2"),
        ("₱ 500 halo-halo", PHP, "500", "halo-halo", "₱ 500"),
        ("RM 12.50 teh tarik", MYR, "12.50", "teh tarik", "RM 12.50"),
        ("S$ 15 kaya toast", SGD, "15.00", "kaya toast", "S$ 15"),
    ],
)
def test_split_amount_sure(
    text: str, currency: Currency, amount: str, description: str, amount_text: str
) -> None:
    split = split_amount(
        text.split(), currency, max_amount=Decimal(10**9), confirm_below=_SMALL[currency.code]
    )
    assert split.sure
    [reading] = split.readings
    assert (reading.amount, reading.description, reading.amount_text) == (
        Decimal(amount),
        description,
        amount_text,
    )


@pytest.mark.parametrize(
    ("text", "currency", "readings"),
    [
        # Two splits: the 250 may be grams or part of the price.
        ("5 250 gram kopi", MYR, [("5.00", "250 gram kopi"), ("5250.00", "gram kopi")]),
        ("RM5 250 gram", MYR, [("5.00", "250 gram"), ("5250.00", "gram")]),
        ("25 200 ml", PHP, [("25", "200 ml"), ("25200", "ml")]),
        ("S$ 1 200 kopi", SGD, [("1.00", "200 kopi"), ("1200.00", "kopi")]),
        # In one word: thousands or cents; million or miliar.
        ("1.500 kopi", MYR, [("1.50", "kopi"), ("1500.00", "kopi")]),
        ("1m", IDR, [("1000000", ""), ("1000000000", "")]),
        ("1 m laptop", IDR, [("1000000", "laptop"), ("1000000000", "laptop")]),
    ],
)
def test_split_amount_asks_when_two_readings_are_plausible(
    text: str, currency: Currency, readings: list[tuple[str, str]]
) -> None:
    split = split_amount(
        text.split(), currency, max_amount=Decimal(10**9), confirm_below=_SMALL[currency.code]
    )
    assert not split.sure
    assert [(str(r.amount), r.description) for r in split.readings] == readings


def test_split_amount_confirms_a_single_reading_that_was_a_guess() -> None:
    # "2m" is 2 million or 2 miliar, and 2 miliar is over the maximum: one reading, not sure.
    split = split_amount(["2m", "motor"], IDR, max_amount=Decimal(10**8))
    assert not split.sure
    assert [(r.amount, r.description) for r in split.readings] == [(Decimal(2_000_000), "motor")]


@pytest.mark.parametrize(
    ("text", "currency", "problem", "shown"),
    [
        ("", IDR, MISSING, ""),
        ("Rp", IDR, MISSING, "Rp"),
        ("Rp kopi", IDR, MISSING, "Rp"),
        ("kopi 150000", IDR, NOT_A_NUMBER, "kopi"),
        ("abc", IDR, NOT_A_NUMBER, "abc"),
        ("0 kopi", IDR, NOT_POSITIVE, "0"),
        ("-5000 kopi", IDR, NOT_POSITIVE, "-5000"),
        ("150000.5 kopi", IDR, TOO_MANY_DECIMALS, "150000.5"),
        # The longest number is too large: not a shorter, smaller prefix instead.
        ("1 000 000 000 000 kopi", IDR, TOO_LARGE, "1 000 000 000 000"),
        ("150000 juta kopi", IDR, TOO_LARGE, "150000 juta"),
        # The next word only makes sense inside an amount: not a description.
        ("1.000.000 000 kopi", IDR, NOT_A_NUMBER, "1.000.000 000"),
        ("2 juta juta", IDR, NOT_A_NUMBER, "2 juta juta"),
        ("150rb rb kopi", IDR, NOT_A_NUMBER, "150rb rb"),
        ("150 000 Rp Rp", IDR, NOT_A_NUMBER, "150 000 Rp Rp"),
    ],
)
def test_split_amount_problems(
    text: str, currency: Currency, problem: AmountProblem, shown: str
) -> None:
    with pytest.raises(AmountError) as caught:
        split_amount(text.split(), currency, max_amount=Decimal(10**9), confirm_below=Decimal(1000))
    assert caught.value.reason is problem
    assert caught.value.text == shown


def test_split_amount_without_a_small_threshold_offers_every_split() -> None:
    assert [
        (r.amount, r.description) for r in split_amount(["5", "250", "gram"], IDR).readings
    ] == [(Decimal(5), "250 gram"), (Decimal(5250), "gram")]


def test_split_amount_reads_at_most_six_words() -> None:
    # Seven digit groups: the longest prefix tried is six words, which is too large, and that
    # is the answer (never a shorter, smaller prefix).
    with pytest.raises(AmountError) as caught:
        split_amount(["1", "000", "000", "000", "000", "000", "000"], IDR)
    assert caught.value.reason is TOO_LARGE
    assert caught.value.text == "1 000 000 000 000 000"
