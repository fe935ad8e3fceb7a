"""Indicators written in the text of best-practice pages: `raw.practice__indicators`.

Columns are exactly the fields `scrapers.practice.parse_page` emits (SOURCES.md §5).
A usable indicator has a value that is not negative (with at most three decimals,
DECIMAL(18,3)), the number as printed, the sentence it came from, a unit from
`UNITS` and an indicator of the controlled list (`dbt_project/seeds/indicators.csv`)
or `other`. A range («от 10 до 15») keeps its upper bound in `value_max`, which
may not be below `value`. An indicator of the list is in that indicator's unit: a
percentage is never `participants`, a count never `growth_percent`.

A page has no id for a sentence's figure, so the table has no key; a re-load
replaces the source's rows.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.base import Entity, typed_field
from schemas.vocabularies.indicators import (
    OTHER,
    QUALIFIERS,
    UNITS,
    indicator_unit,
    known_indicator,
)

VALUE_TYPE = "DECIMAL(18,3)"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


def _three_places(value: Any) -> bool:
    return isinstance(value, Decimal) and value.is_finite() and value.as_tuple().exponent >= -3


class IndicatorModel(pa.DataFrameModel):
    page_title: Series[str] = pa.Field(nullable=True)
    published_on: Series[object] = typed_field("DATE")
    region_text: Series[str] = pa.Field(nullable=True)
    value: Series[object] = typed_field(VALUE_TYPE, nullable=False)
    value_max: Series[object] = typed_field(VALUE_TYPE)
    value_text: Series[str] = pa.Field(nullable=False)
    qualifier: Series[str] = pa.Field(nullable=True, isin=sorted(QUALIFIERS))
    noun: Series[str] = pa.Field(nullable=True)
    noun_lemma: Series[str] = pa.Field(nullable=True)
    indicator: Series[str] = pa.Field(nullable=False)
    unit: Series[str] = pa.Field(nullable=False, isin=sorted(UNITS))
    sentence: Series[str] = pa.Field(nullable=False)

    @pa.check("value", "value_max", element_wise=True)
    def value_not_negative_three_places(cls, value) -> bool:
        return _three_places(value) and value >= 0

    @pa.check("indicator", element_wise=True)
    def indicator_in_controlled_list(cls, value) -> bool:
        return known_indicator(value)

    @pa.check("sentence", "value_text", element_wise=True)
    def text_not_blank(cls, value) -> bool:
        return isinstance(value, str) and bool(value.strip())

    @pa.dataframe_check(ignore_na=False)
    def range_upper_not_below_value(cls, df: pd.DataFrame) -> pd.Series:
        return pd.Series(
            [_missing(high) or _missing(low) or high >= low
             for low, high in zip(df["value"], df["value_max"], strict=True)],
            index=df.index,
        )

    @pa.dataframe_check(ignore_na=False)
    def unit_fits_indicator(cls, df: pd.DataFrame) -> pd.Series:
        return pd.Series(
            [code == OTHER or not known_indicator(code) or indicator_unit(code) == unit
             for code, unit in zip(df["indicator"], df["unit"], strict=True)],
            index=df.index,
        )


INDICATORS = Entity("practice", "indicators", IndicatorModel)
