"""Programme cards of foundations: `raw.programme__cards` and `raw.programme__indicators`.

`CARDS` columns are exactly the fields `scrapers.programme_card.parse_card` emits
(SOURCES.md §5, seed 000). A usable card names its programme; its years, where
given, are plausible and the start is not after the end (a card whose years do
not parse fails with the parser's reason). `regions` and `target_groups` are
lists of names as written, empty when the card names none: a region is resolved
in staging, never here.

`INDICATORS` holds the indicators read from the cards' text
(`parse_card_indicators`); they have the practice pages' columns and checks
(`schemas.practice.IndicatorModel`), in a table of their own.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.base import Entity, typed_field
from schemas.practice import IndicatorModel


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


def _names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


class CardModel(pa.DataFrameModel):
    programme: Series[str] = pa.Field(nullable=False)
    funder: Series[str] = pa.Field(nullable=True)
    goal: Series[str] = pa.Field(nullable=True)
    year_start: Series[object] = typed_field("INTEGER")
    year_end: Series[object] = typed_field("INTEGER")
    regions: Series[object] = typed_field("VARCHAR[]", nullable=False)
    target_groups: Series[object] = typed_field("VARCHAR[]", nullable=False)

    @pa.check("programme", element_wise=True)
    def programme_not_blank(cls, value) -> bool:
        return isinstance(value, str) and bool(value.strip())

    @pa.check("year_start", "year_end", element_wise=True)
    def year_plausible(cls, value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and 1990 <= value <= 2100

    @pa.check("regions", "target_groups", element_wise=True)
    def list_of_names(cls, value) -> bool:
        return _names(value)

    @pa.dataframe_check(ignore_na=False)
    def start_not_after_end(cls, df: pd.DataFrame) -> pd.Series:
        return pd.Series(
            [_missing(start) or _missing(end) or start <= end
             for start, end in zip(df["year_start"], df["year_end"], strict=True)],
            index=df.index,
        )


CARDS = Entity("programme", "cards", CardModel)
INDICATORS = Entity("programme", "indicators", IndicatorModel)
