from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scrapers.values import (
    clean_text,
    parse_date,
    parse_decimal,
    parse_identifier,
    parse_money,
    set_converted,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9 484 487,00", Decimal("9484487.00")),
        ("1\u00a0515\u00a0679,40 ₽", Decimal("1515679.40")),
        ("1\u202f500\u202f000", Decimal("1500000.00")),
        ("2 400 000 руб.", Decimal("2400000.00")),
        (850000, Decimal("850000.00")),
        (1500000.0, Decimal("1500000.00")),
        ("", None),
        (None, None),
    ],
)
def test_parse_money_russian_formats(text, expected):
    assert parse_money(text) == expected


@pytest.mark.parametrize("garbage", ["около миллиона", "1.500.000", "12,5,3", "1 500 000 долларов"])
def test_parse_money_rejects_text_that_is_not_an_amount(garbage):
    with pytest.raises(ValueError, match="not a number"):
        parse_money(garbage)


def test_parse_decimal_rating_with_decimal_comma():
    assert parse_decimal("77,00") == Decimal("77.00")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("02.10.2017", date(2017, 10, 2)), ("2020-04-09T00:00:00.000Z", date(2020, 4, 9)),
     ("19.05.2015 г.", date(2015, 5, 19)), ("", None)],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("bad", ["31.02.2020", "2020", "завтра"])
def test_parse_date_rejects(bad):
    with pytest.raises(ValueError, match="not a date"):
        parse_date(bad)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1.095200000224E12", "1095200000224"),
        ("1.0226000015E12", "1022600001500"),
        (1026700000810.0, "1026700000810"),
        ("1026700000810.0", "1026700000810"),
        ("6730048021 ", "6730048021"),
        ("0105012345", "0105012345"),
        ("нет", "нет"),
    ],
)
def test_parse_identifier_recovers_exact_digits(raw, expected):
    assert parse_identifier(raw) == expected


def test_clean_text_folds_every_space_kind():
    assert clean_text("  Первый\u00a0конкурс\u202f2017 \n г. ") == "Первый конкурс 2017 г."
    assert clean_text(" \u00a0 ") is None


def test_set_converted_keeps_the_reason():
    record: dict = {}
    set_converted(record, "amount", parse_money, "много")
    assert record["amount"] is None
    assert record["_errors"] == ["amount: not a number: 'много'"]


@given(st.decimals(min_value=0, max_value=10**15, places=2, allow_nan=False))
def test_money_round_trips_through_russian_format(value):
    integer, _, frac = f"{value:.2f}".partition(".")
    groups = []
    while integer:
        groups.insert(0, integer[-3:])
        integer = integer[:-3]
    text = "\u00a0".join(groups) + "," + frac + " ₽"
    assert parse_money(text) == value


@given(st.text(max_size=40))
def test_parsers_never_crash_on_any_text(text):
    for fn in (parse_money, parse_date, parse_decimal):
        try:
            fn(text)
        except ValueError:
            pass
    parse_identifier(text)
    clean_text(text)
