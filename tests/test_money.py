"""The one money reader (`schemas.money`): every way the sources write an amount, each
source's convention for a comma or dot before three digits, and the hostile numbers that
must be refused with a reason — never rounded, cut short or read as the digits they start
with — by the reader and by every loader that uses it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from schemas.base import validate
from schemas.curated import FIGURES
from schemas.money import (
    MAX_MONEY,
    OPERATOR_LISTS,
    PRINTED_FIGURES,
    RUSSIAN,
    Money,
    MoneyError,
    checked_money,
    leading_number,
    read_money,
)
from schemas.oprf2013 import GRANTS
from scrapers import curated, oprf2013
from scrapers.values import parse_money, set_converted

# Bounded: a shared two-core machine.
BOUNDED = settings(max_examples=200, deadline=2000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("942.916", "942916"),  # a dot between thousands (НБФ 2007)
        ("2 млн. 263,800", "2263800"),  # a comma between thousands (НБФ 2008)
        ("4,010,905", "4010905"),
        ("1\u00a0 079.500", "1079500"),
        ("1 млн. 300 тыс.", "1300000"),
        ("1 млн. 290 тыс. 560", "1290560"),
        ("1млн. 20 тыс. 320", "1020320"),
        ("2,5 млн.", "2500000"),
        ("85 тыс.", "85000"),
        ("482 тыс", "482000"),
        ("600\u00a0 тыс.", "600000"),
        ("600 000р.", "600000"),
        ("2 000 000,0═", "2000000"),  # a box-drawing character after the amount (Госклуб)
        ("2   000 000,0═", "2000000"),
        ("350   000,00", "350000"),  # runs of spaces (НБФ 2009)
        ("400 \t\t\t000,00", "400000"),  # tabs inside the number («Знание» 2007)
        ("1 \t\t\t500 000,00", "1500000"),
        ("10\u00a0027\u00a0500,00", "10027500"),
        ("1\u202f500\u202f000 руб.", "1500000"),
        ("3 000 000 ₽", "3000000"),
        ("17380000", "17380000"),
    ],
)
def test_operator_lists_convention(text, expected):
    money = read_money(text, OPERATOR_LISTS)
    assert money == Money(Decimal(expected).quantize(Decimal("0.01")), text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 000.50", "1000.50"),  # not 1000
        ("2.5", "2.50"),  # not 2
        ("1 000,50", "1000.50"),
        ("1 515 679,40 ₽", "1515679.40"),
        ("-1 234,56 руб.", "-1234.56"),
        ("9 484 487,00", "9484487.00"),
        ("1 млн. 300 тыс.", "1300000.00"),
        ("85 тыс.", "85000.00"),
        ("600 000р.", "600000.00"),
    ],
)
def test_russian_convention_reads_exactly(text, expected):
    amount = read_money(text).amount
    assert amount == Decimal(expected)
    assert amount.as_tuple().exponent == -2


def test_printed_figures_read_a_comma_before_three_digits_as_decimals():
    # Seed 003: `155, 990 тыс.руб.` is 155,990 thousand rubles, a space after the comma.
    assert leading_number("155, 990 тыс.руб.", PRINTED_FIGURES) == (Decimal("155.990"),
                                                                    " тыс.руб.")
    assert leading_number("20, 0", PRINTED_FIGURES) == (Decimal("20.0"), "")
    assert leading_number("269 000 человек – участников", PRINTED_FIGURES)[0] == 269000
    assert leading_number("около ста", PRINTED_FIGURES) is None
    # The same text in the operators' lists groups thousands.
    assert read_money("155,990", OPERATOR_LISTS).amount == Decimal("155990.00")


def test_number_cells_read_exactly_with_their_text():
    assert read_money(1500000.0) == Money(Decimal("1500000.00"), "1500000")
    assert read_money(0.1 + 0.2).amount == Decimal("0.30")  # a double's noise, not kopecks
    assert read_money(850000) == Money(Decimal("850000.00"), "850000")
    assert read_money(Decimal("2.5")).amount == Decimal("2.50")
    assert read_money(None) == read_money("  \t") == Money(None, None)


@pytest.mark.parametrize(
    ("cell", "convention", "reason"),
    [
        ("1e309", RUSSIAN, "exponent notation"),
        ("1E+5", OPERATOR_LISTS, "exponent notation"),
        ("NaN", RUSSIAN, "not a number"),
        ("∞", RUSSIAN, "not a number"),
        ("inf", OPERATOR_LISTS, "not a number"),
        ("-inf", RUSSIAN, "not a number"),
        (float("nan"), RUSSIAN, "not a finite number"),
        (float("inf"), RUSSIAN, "not a finite number"),
        (Decimal("NaN"), RUSSIAN, "not a finite number"),
        ("9" * 40, RUSSIAN, "out of range"),
        ("1" + "0" * 16, OPERATOR_LISTS, "out of range"),
        (10**40, RUSSIAN, "out of range"),
        (1e300, RUSSIAN, "out of range"),
        ("сто тысяч", RUSSIAN, "not a number"),
        ("сто тысяч", OPERATOR_LISTS, "not a number"),
        ("много", RUSSIAN, "not a number"),
        ("1,234", RUSSIAN, "could be a decimal mark or a thousands separator"),
        ("0,001", RUSSIAN, "could be"),
        ("1,2345", RUSSIAN, "more than two decimal places"),
        (1234.567, RUSSIAN, "more than two decimal places"),
        ("1,2345", PRINTED_FIGURES, "more than two decimal places"),
        ("-5", OPERATOR_LISTS, "a negative amount"),
        ("373,5", OPERATOR_LISTS, "a fraction of a ruble"),
        ("1,5 млн. 300 тыс.", OPERATOR_LISTS, "a fraction before another part"),
        ("1 млн. 2 000 тыс.", OPERATOR_LISTS, "decreasing units"),
        ("тыс. 300", OPERATOR_LISTS, "a scale word without a number"),
        ("1.234.5", OPERATOR_LISTS, "the same mark groups and divides"),
        ("12 34", RUSSIAN, "grouped irregularly"),
        ("1.500.000", RUSSIAN, "not a number"),
        ("1 500 000 долларов", RUSSIAN, "not a number"),
        (True, RUSSIAN, "not a number"),
    ],
)
def test_what_cannot_be_read_unambiguously_is_refused_with_the_reason(cell, convention,
                                                                        reason):
    with pytest.raises(MoneyError, match=reason):
        read_money(cell, convention)


def test_money_error_is_a_value_error_and_set_converted_quarantines_it():
    assert issubclass(MoneyError, ValueError)
    for hostile in ("1e309", "NaN", "∞", "9" * 40, "сто тысяч"):
        record: dict = {}
        set_converted(record, "amount", parse_money, hostile)
        assert record["amount"] is None
        assert record["_errors"][0].startswith("amount: ")


def test_checked_money_refuses_rather_than_rounds():
    assert checked_money(Decimal("155.990") * 1000) == Decimal("155990.00")
    with pytest.raises(MoneyError, match="more than two decimal places"):
        checked_money(Decimal("0.001"))


# --- every loader quarantines a hostile amount -------------------------------------------------

_CURATED_HEADER = ("figure_id,programme,country,year,funding_kind,indicator,value_text,unit,"
                   "document,source_file,locator\n")


def _curated(value_text: str, unit: str = "руб.") -> dict:
    row = f't-1,П,RU,2004,business,funds,"{value_text}",{unit},Д,f.txt,слайд 1\n'
    (record,) = curated.parse_curated((_CURATED_HEADER + row).encode(), url="test://f.csv")
    return record


def test_curated_reads_decimals_exactly_where_it_truncated_before():
    # Before the one reader: `2.5` read 2, `1 000.50` read 1000 and `1e309` read 1.
    assert _curated("2.5")["amount_rub"] == Decimal("2.50")
    assert _curated("1 000.50")["amount_rub"] == Decimal("1000.50")
    assert _curated("155, 990 тыс.руб.", "тыс. руб.")["amount_rub"] == Decimal("155990.00")


@pytest.mark.parametrize("hostile", ["1e309", "NaN", "∞", "9" * 40, "сто тысяч", "2.5.1",
                                     "0,001"])
def test_curated_quarantines_hostile_numbers_with_a_reason(hostile):
    record = _curated(hostile)
    assert record["amount_rub"] is None
    (quarantined,) = validate([record], FIGURES).quarantined
    assert any(r.startswith(("value:", "amount:")) for r in quarantined.reasons), \
        quarantined.reasons


@pytest.mark.parametrize("hostile", ["1e309", "NaN", "∞", "9" * 40, "сто тысяч", "1,234"])
def test_oprf2013_quarantines_hostile_amounts_with_a_reason(hostile):
    header = "filename,operator,N,ogrn,summ,req_num,org_name,project_name,region,city,fedokrug\n"
    row = f'f,ИПГО,1,1027700000001,"{hostile}",5,Организация,Проект,,,\n'
    records = oprf2013.parse_csv((header + row).encode(), url="test://oprf.csv")
    (quarantined,) = validate(records, GRANTS).quarantined
    assert any(r.startswith("amount: ") for r in quarantined.reasons)


# --- properties: a well-formed number reads to its value; anything else is a MoneyError ------

WHOLE = st.integers(min_value=0, max_value=10**15)
SPACES = st.sampled_from([" ", "\u00a0", "\u202f", "  ", " \t\t\t", "\t"])


def _grouped(integer: int, separator: str) -> str:
    digits = str(integer)
    groups = []
    while digits:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    return separator.join(groups)


@BOUNDED
@given(st.decimals(min_value=-MAX_MONEY + 1, max_value=MAX_MONEY - 1, places=2), SPACES,
       st.sampled_from([",", "."]), st.sampled_from(["", " ₽", " руб.", "р."]))
def test_russian_numbers_read_to_their_value(value, space, mark, suffix):
    sign = "-" if value < 0 else ""
    integer, _, kopecks = f"{abs(value):.2f}".partition(".")
    text = f"{sign}{_grouped(int(integer), space)}{mark}{kopecks}{suffix}"
    assert read_money(text).amount == value


@BOUNDED
@given(WHOLE, st.sampled_from([" ", ".", ",", "\u00a0", "  "]),
       st.sampled_from(["", ",00", ",0", ",0═", " руб.", "р."]))
def test_operator_list_numbers_read_to_their_value(value, separator, tail):
    assume(not (separator == "," and tail.startswith(",")))  # one mark cannot do both
    text = _grouped(value, separator) + tail
    assert read_money(text, OPERATOR_LISTS).amount == value


@BOUNDED
@given(st.integers(0, 9999), st.integers(0, 999), st.integers(0, 999),
       st.sampled_from(["млн.", "млн", "миллиона"]), st.sampled_from(["тыс.", "тыс", "тысяч"]))
def test_operator_list_scale_words_add_up(millions, thousands, units, million, thousand):
    text = f"{millions} {million} {thousands} {thousand} {units}"
    expected = millions * 10**6 + thousands * 10**3 + units
    if millions == 0 or thousands == 0:
        return  # a part of nought is not how the lists write an amount
    assert read_money(text, OPERATOR_LISTS).amount == expected


@BOUNDED
@given(st.integers(0, 10**9), st.integers(0, 999), st.booleans(), st.sampled_from(
    [" тыс.руб.", "", " человек"]))
def test_printed_figures_read_to_their_value(whole, fraction, spaced, tail):
    text = f"{_grouped(whole, ' ')},{' ' if spaced else ''}{fraction:03d}{tail}"
    number, rest = leading_number(text, PRINTED_FIGURES)
    assert number == Decimal(f"{whole}.{fraction:03d}")
    assert rest == tail


CONVENTIONS = st.sampled_from([RUSSIAN, OPERATOR_LISTS, PRINTED_FIGURES])
CELLS = st.one_of(
    st.text(max_size=60),
    st.text(alphabet="0123456789 ,.-+eE\u00a0\t═₽рубтысмлн", max_size=60),
    st.builds(lambda d, e: d + e, st.text(alphabet="0123456789", min_size=1, max_size=80),
              st.sampled_from(["", "e309", "E+99999999", ",5", ".000", " тыс.", " млн."])),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.none(),
    st.booleans(),
)


@BOUNDED
@given(CELLS, CONVENTIONS)
def test_any_cell_is_an_exact_amount_or_a_money_error(cell, convention):
    try:
        money = read_money(cell, convention)
    except MoneyError as exc:
        assert str(exc)
        return
    if money.amount is not None:
        assert abs(money.amount) < MAX_MONEY
        assert money.amount.as_tuple().exponent == -2
        assert convention.negative or money.amount >= 0


@BOUNDED
@given(st.text(max_size=60), CONVENTIONS)
def test_leading_number_is_a_number_none_or_a_money_error(text, convention):
    try:
        found = leading_number(text, convention)
    except MoneyError:
        return
    assert found is None or isinstance(found[0], Decimal)
