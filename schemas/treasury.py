"""Treasury budget execution, form 0503317, expense type 630: `raw.treasury__0503317`.

One row per ВР-630 line of a region's report × budget column. Columns are
exactly the fields `scrapers.treasury` emits. A row needs its region, year,
budget and КБК; `approved` and `executed` are rubles, not negative (a negative
figure is a correction the form should not show on this line, so it is
quarantined for a person to look at, not loaded).
"""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from schemas.base import Entity, money_field, non_negative, typed_field
from schemas.vocabularies.budgets import BUDGET_NAMES, UNIT_MULTIPLIERS


class ExecutionModel(pa.DataFrameModel):
    sheet: Series[str] = pa.Field(nullable=True)
    region_name: Series[str] = pa.Field(nullable=False)
    year: Series[object] = typed_field("INTEGER", nullable=False)
    report_date: Series[object] = typed_field("DATE")
    budget: Series[str] = pa.Field(nullable=False, isin=BUDGET_NAMES)
    kbk: Series[str] = pa.Field(nullable=False)
    line_code: Series[str] = pa.Field(nullable=True)
    line_name: Series[str] = pa.Field(nullable=True)
    unit_multiplier: Series[object] = typed_field("INTEGER", nullable=False)
    approved: Series[object] = money_field()
    executed: Series[object] = money_field()

    @pa.check("approved", "executed", element_wise=True)
    def amount_not_negative(cls, value) -> bool:
        return non_negative(value)

    @pa.check("year", element_wise=True)
    def year_plausible(cls, value) -> bool:
        return isinstance(value, int) and 2000 <= value <= 2100

    @pa.check("unit_multiplier", element_wise=True)
    def known_unit(cls, value) -> bool:
        return value in UNIT_MULTIPLIERS


EXECUTION = Entity(
    "treasury", "0503317", ExecutionModel,
    key=("region_name", "report_date", "budget", "kbk", "line_code"),
)
