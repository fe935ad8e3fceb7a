"""Property tests of the value parsers: any input, and every way the sources write a value.

What `scrapers.values` promises: `parse_decimal`, `parse_money` and `parse_date` return a
value or None, or raise ValueError (which `set_converted` turns into a quarantine reason);
`parse_identifier`, `parse_inn_cell` and `clean_text` never raise. Anything else escaping
(decimal.InvalidOperation, TypeError) would stop a whole load on one cell.

test_values.py holds the worked examples, the no-break-space round trip of a non-negative
amount and the no-crash property over short text; these add every other written form,
native cell types and inputs built to reach the deep paths (long digit runs, exponents).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scrapers import fpg, sonko
from scrapers.values import (
    MAX_MONEY,
    clean_text,
    parse_date,
    parse_decimal,
    parse_identifier,
    parse_inn_cell,
    parse_money,
)
from tests.sample_makers.identifiers import inn10, ogrn13

# A loaded two-core machine: no deadline, a modest number of examples.
PROPERTY = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

# --- no input crashes them ---------------------------------------------------------------------

_NUMBERISH = st.text(alphabet="0123456789 ,.+-eE\u00a0\u202f₽руб", max_size=60)
_LONG_NUMBERS = st.builds(
    lambda digits, exp, sign: f"{sign}{digits}{exp}",
    st.text(alphabet="0123456789", min_size=1, max_size=400),
    st.sampled_from(["", "E+99999999", "e5000", ".0", ",5", "E12", "E+30"]),
    st.sampled_from(["", "-", "+"]),
)
ANY_CELL = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**60), max_value=10**60),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.decimals(min_value=Decimal("-1e40"), max_value=Decimal("1e40")),
    st.dates(),
    st.datetimes(),
    st.text(),
    _NUMBERISH,
    _LONG_NUMBERS,
)


@PROPERTY
@given(ANY_CELL)
def test_value_parsers_return_a_value_or_raise_value_error(cell):
    for parse in (parse_decimal, parse_money, parse_date):
        try:
            parse(cell)
        except ValueError:
            pass


@PROPERTY
@given(ANY_CELL, st.one_of(st.none(), st.text(alphabet="0123456789", min_size=13,
                                              max_size=15)))
def test_identifier_and_text_parsers_never_raise(cell, ogrn):
    identifier = parse_identifier(cell)
    assert identifier is None or isinstance(identifier, str)
    inn = parse_inn_cell(cell, ogrn)
    assert inn is None or isinstance(inn, str)
    text = clean_text(cell)
    assert text is None or (text == text.strip() and "  " not in text)
    assert clean_text(text) == text


@PROPERTY
@given(ANY_CELL)
def test_an_accepted_amount_fits_the_warehouse(cell):
    try:
        amount = parse_money(cell)
    except ValueError:
        return
    if amount is not None:
        assert abs(amount) < MAX_MONEY
        assert amount.as_tuple().exponent == -2  # DECIMAL(18,2): two places, always


# --- money round-trips in every form the sources write it ---------------------------------------

AMOUNTS = st.decimals(min_value=-MAX_MONEY + Decimal("0.01"),
                      max_value=MAX_MONEY - Decimal("0.01"), places=2)
THOUSANDS = st.sampled_from([" ", "\u00a0", "\u202f", "\u2009", "\u2007", ""])
SUFFIXES = st.sampled_from(["", " ₽", "₽", " руб.", " руб", " рублей", " р.", " РУБ."])


def _grouped(integer: str, separator: str) -> str:
    groups = []
    while integer:
        groups.insert(0, integer[-3:])
        integer = integer[:-3]
    return separator.join(groups)


def _russian(value: Decimal, separator: str, suffix: str, decimal_mark: str,
             drop_zero_kopecks: bool) -> str:
    """`-1 234 567,89 ₽`: a sign, grouped thousands, a decimal mark, kopecks, a unit."""
    sign = "-" if value < 0 else ""
    integer, _, kopecks = f"{abs(value):.2f}".partition(".")
    text = sign + _grouped(integer, separator)
    if not (drop_zero_kopecks and kopecks == "00"):
        text += decimal_mark + kopecks
    return text + suffix


@PROPERTY
@given(AMOUNTS, THOUSANDS, SUFFIXES, st.sampled_from([",", "."]), st.booleans(),
       st.sampled_from(["", " ", "\u00a0", "\n"]))
def test_money_round_trips_through_every_written_form(value, separator, suffix, mark,
                                                      drop_zero_kopecks, padding):
    text = padding + _russian(value, separator, suffix, mark, drop_zero_kopecks) + padding
    assert parse_money(text) == value


@PROPERTY
@given(AMOUNTS)
def test_money_round_trips_through_native_cells(value):
    assert parse_money(value) == value
    if value == value.to_integral_value():
        assert parse_money(int(value)) == value
    # A spreadsheet's float holds up to 15 significant digits exactly.
    if len(value.normalize().as_tuple().digits) <= 15:
        assert parse_money(float(value)) == value


@PROPERTY
@given(st.decimals(min_value=MAX_MONEY, max_value=Decimal("1e30"), places=2), st.booleans())
def test_money_the_warehouse_cannot_hold_is_refused_with_a_reason(value, negative):
    value = -value if negative else value
    for cell in (value, _russian(value, " ", " ₽", ",", False)):
        try:
            parse_money(cell)
        except ValueError as exc:
            assert "out of range" in str(exc)
        else:
            raise AssertionError(f"{cell!r} was accepted")


@PROPERTY
@given(st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=4,
                   allow_nan=False, allow_infinity=False),
       THOUSANDS)
def test_decimal_round_trips_with_a_decimal_comma(value, separator):
    sign = "-" if value < 0 else ""
    integer, _, fraction = f"{abs(value):.4f}".partition(".")
    assert parse_decimal(f"{sign}{_grouped(integer, separator)},{fraction}") == value


# --- dates ---------------------------------------------------------------------------------------

DATES = st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31))


@PROPERTY
@given(DATES, st.booleans(), st.sampled_from(["", " г.", " г", "г."]))
def test_date_round_trips_as_day_month_year(day, zero_padded, suffix):
    text = (day.strftime("%d.%m.") if zero_padded else f"{day.day}.{day.month}.")
    assert parse_date(f"{text}{day.year:04d}{suffix}") == day


@PROPERTY
@given(DATES, st.sampled_from(["", "T00:00:00", "T00:00:00.000Z", " 12:30:00",
                               "T23:59:59+03:00"]))
def test_date_round_trips_as_iso(day, time_part):
    assert parse_date(f"{day.year:04d}-{day.month:02d}-{day.day:02d}{time_part}") == day


@PROPERTY
@given(st.datetimes(min_value=datetime(1000, 1, 1)))
def test_date_round_trips_as_native_cells(moment):
    assert parse_date(moment) == moment.date()
    assert parse_date(moment.date()) == moment.date()


@PROPERTY
@given(st.integers(1, 31), st.integers(1, 12), st.integers(1000, 9999))
def test_impossible_dates_are_refused(day, month, year):
    text = f"{day:02d}.{month:02d}.{year}"
    try:
        real = date(year, month, day)
    except ValueError:
        real = None
    if real is None:
        try:
            parse_date(text)
        except ValueError as exc:
            assert "not a date" in str(exc)
        else:
            raise AssertionError(f"{text} was accepted")
    else:
        assert parse_date(text) == real


EXCEL_EPOCH = date(1899, 12, 30)
EXCEL_DATES = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@PROPERTY
@given(EXCEL_DATES, st.booleans())
def test_excel_day_numbers_round_trip_in_date_columns(day, as_float):
    # A date cell whose format was lost reads as its Excel day number.
    serial = (day - EXCEL_EPOCH).days
    cell = float(serial) if as_float else serial
    assert fpg._excel_date(cell) == day
    assert sonko._date_cell(cell) == day


@PROPERTY
@given(st.one_of(st.integers(-(10**9), 36525), st.integers(73416, 10**9),
                 st.floats(36526.01, 73414.99).filter(lambda f: not f.is_integer())))
def test_numbers_outside_the_excel_date_range_are_not_dates(cell):
    for parse in (fpg._excel_date, sonko._date_cell):
        try:
            parse(cell)
        except ValueError as exc:
            assert "not a date" in str(exc)
        else:
            raise AssertionError(f"{cell!r} was read as a date")


# --- identifiers ---------------------------------------------------------------------------------

IDENTIFIERS = st.one_of(
    st.text(alphabet="0123456789", min_size=10, max_size=10),  # ИНН of an organisation
    st.text(alphabet="0123456789", min_size=12, max_size=12),  # ИНН of a person
    st.text(alphabet="0123456789", min_size=13, max_size=13),  # ОГРН
    st.text(alphabet="0123456789", min_size=15, max_size=15),  # ОГРНИП
)


def _e_notation(digits: str, mark: str, e: str) -> str:
    """`1.0267E12`: how a spreadsheet shows a long number in a narrow column."""
    mantissa = digits.lstrip("0")
    rest = mantissa[1:].rstrip("0")
    return mantissa[0] + (mark + rest if rest else "") + e + str(len(mantissa) - 1)


@PROPERTY
@given(IDENTIFIERS, st.sampled_from(["", " ", "\u00a0", "\t"]))
def test_identifier_written_as_text_keeps_every_digit(digits, padding):
    assert parse_identifier(padding + digits + padding) == digits


@PROPERTY
@given(IDENTIFIERS.filter(lambda d: d[0] != "0"), st.sampled_from([".", ","]),
       st.sampled_from(["E", "e", "E+", "e+"]))
def test_identifier_stored_as_a_number_gets_its_digits_back(digits, mark, e):
    assert parse_identifier(int(digits)) == digits
    assert parse_identifier(float(digits)) == digits  # 15 digits at most: exact in a float
    assert parse_identifier(f"{int(digits)}.0") == digits
    assert parse_identifier(_e_notation(digits, mark, e)) == digits


def _inn12(first10: str) -> str:
    weights_a = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
    weights_b = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
    first = sum(w * int(d) for w, d in zip(weights_a, first10, strict=True)) % 11 % 10
    eleven = first10 + str(first)
    return eleven + str(sum(w * int(d) for w, d in zip(weights_b, eleven, strict=True)) % 11 % 10)


SUBJECTS = st.integers(1, 9).map(lambda n: f"0{n}")  # subject codes 01-09: a leading zero


@PROPERTY
@given(SUBJECTS, st.text(alphabet="0123456789", min_size=8, max_size=8),
       st.text(alphabet="0123456789", min_size=7, max_size=7), st.booleans(), st.booleans())
def test_inn_that_lost_its_leading_zero_to_a_number_cell_gets_it_back(subject, inn_rest,
                                                                     ogrn_rest, person,
                                                                     as_float):
    inn = _inn12(subject + inn_rest) if person else inn10(subject + inn_rest[:7])
    ogrn = ogrn13(f"102{subject}{ogrn_rest}")
    cell = float(int(inn)) if as_float else int(inn)
    assert parse_inn_cell(cell, ogrn) == inn
    assert parse_inn_cell(inn, ogrn) == inn  # text keeps its zero by itself


@PROPERTY
@given(SUBJECTS, st.integers(10, 99), st.text(alphabet="0123456789", min_size=8, max_size=8),
       st.text(alphabet="0123456789", min_size=7, max_size=7))
def test_lost_zero_is_not_put_back_when_the_ogrn_names_another_region(subject, other, inn_rest,
                                                                     ogrn_rest):
    inn = inn10(subject + inn_rest[:7])
    ogrn = ogrn13(f"102{other}{ogrn_rest}")
    assert parse_inn_cell(int(inn), ogrn) == inn[1:]  # kept as reported, for the schema


@PROPERTY
@given(st.text(alphabet="0123456789", min_size=1, max_size=30),
       st.integers(21, 10**8))
def test_huge_exponents_are_kept_as_text_not_expanded(digits, exponent):
    text = f"{digits}E+{exponent}"
    assert parse_identifier(text) == text
