"""Municipal grant competitions, winners lists: `raw.municipal__winners`.

Columns are exactly the fields `scrapers.municipal.parse_winners` emits, plus
`inn_valid`. A winner needs a competition, an organisation and an amount that
is not negative; an amount that did not parse fails (its reason comes from the
parser). An ИНН whose check digit fails is loaded and flagged, not rejected:
the award is still published. A winners page has no id of its own for a row,
so the table has no key; a re-load replaces the source's rows.
"""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from schemas.base import Entity, money_field, non_negative, typed_field
from schemas.identifiers import is_valid_inn


class WinnerModel(pa.DataFrameModel):
    competition: Series[str] = pa.Field(nullable=False)
    year: Series[object] = typed_field("INTEGER")
    municipality: Series[str] = pa.Field(nullable=True)
    nomination: Series[str] = pa.Field(nullable=True)
    organisation_name: Series[str] = pa.Field(nullable=False)
    inn: Series[str] = pa.Field(nullable=True)
    inn_valid: Series[object] = typed_field("BOOLEAN")
    project_title: Series[str] = pa.Field(nullable=True)
    amount: Series[object] = money_field(nullable=False)
    currency: Series[str] = pa.Field(nullable=False, isin=["RUB"])

    @pa.check("amount", element_wise=True)
    def amount_not_negative(cls, value) -> bool:
        return non_negative(value)

    @pa.check("year", element_wise=True)
    def year_plausible(cls, value) -> bool:
        return isinstance(value, int) and 1990 <= value <= 2100


def inn_flag(record: dict) -> dict:
    """`inn_valid`: the check digit holds (None when the page gives no ИНН)."""
    inn = record.get("inn")
    record["inn_valid"] = None if inn is None else is_valid_inn(inn)
    return record


WINNERS = Entity("municipal", "winners", WinnerModel, prepare=inn_flag)
