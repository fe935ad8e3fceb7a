"""Presidential grants through operators 2007–2012: `raw.operators__winners`, `__allocations`.

`winners` holds one record per grant listed by an operator (`scrapers.operators`), keyed by
its document and row (`record_key`): «Сопротивление» 2009 is listed in two copies, and
both are loaded, each record naming its `copy`; the one list is made in dbt by the rule
of `scrapers.operators.merge_copies`. An amount the money reader could not read
quarantines its record with the reader's reason; an amount the list leaves empty (НБФ
2007 gives none for 128 of its 412 grants) is loaded empty. An ИНН that fails its check
digits is loaded and flagged (`inn_valid`), like the 2013 file's ОГРН.

`allocations` holds one record per operator and year of the programme's budget workbook:
what the operator received, with the year's budget and the decree that set it.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.base import Entity, money_field, typed_field
from schemas.identifiers import is_valid_inn
from schemas.vocabularies.operators import OPERATORS

APPLICATION_NUMBER = r"^\d+(?:-\d+)?$"
FEDERAL_DISTRICTS = frozenset({"ЦФО", "СЗФО", "ЮФО", "СКФО", "ПФО", "УФО", "СФО", "ДФО"})


class WinnerModel(pa.DataFrameModel):
    record_key: Series[str] = pa.Field(nullable=False, unique=True)
    operator: Series[str] = pa.Field(nullable=False)
    operator_key: Series[str] = pa.Field(nullable=False, isin=sorted(OPERATORS))
    year: Series[object] = typed_field("INTEGER", nullable=False)
    copy: Series[str] = pa.Field(nullable=False)
    sheet: Series[str] = pa.Field(nullable=True)
    row_number: Series[object] = typed_field("INTEGER")
    application_number: Series[str] = pa.Field(nullable=True, str_matches=APPLICATION_NUMBER)
    grant_key: Series[str] = pa.Field(nullable=True)
    organisation_name: Series[str] = pa.Field(nullable=False)
    inn: Series[str] = pa.Field(nullable=True)
    inn_valid: Series[object] = typed_field("BOOLEAN")
    title: Series[str] = pa.Field(nullable=True)
    region: Series[str] = pa.Field(nullable=True)
    city: Series[str] = pa.Field(nullable=True)
    federal_district: Series[str] = pa.Field(nullable=True, isin=sorted(FEDERAL_DISTRICTS))
    place: Series[str] = pa.Field(nullable=True)
    territory: Series[str] = pa.Field(nullable=True)
    amount: Series[object] = money_field()
    amount_text: Series[str] = pa.Field(nullable=True)
    # Rows of a workbook that only continued this record's name or project (`52,53`).
    continued_rows: Series[str] = pa.Field(nullable=True)

    @pa.check("year", element_wise=True)
    def year_of_the_lists(cls, value) -> bool:
        return isinstance(value, int) and 2007 <= value <= 2012

    @pa.check("amount", element_wise=True)
    def amount_positive(cls, value) -> bool:
        return value > 0

    @pa.dataframe_check(ignore_na=False)
    def written_amount_is_read(cls, df: pd.DataFrame) -> pd.Series:
        """An amount written in the list is an amount loaded: never dropped in silence."""
        return df["amount_text"].isna() | df["amount"].notna()


class AllocationModel(pa.DataFrameModel):
    allocation_key: Series[str] = pa.Field(nullable=False, unique=True)
    operator: Series[str] = pa.Field(nullable=False)
    operator_key: Series[str] = pa.Field(nullable=False, isin=sorted(OPERATORS))
    operator_as_written: Series[str] = pa.Field(nullable=False)
    operator_website: Series[str] = pa.Field(nullable=True)
    theme: Series[str] = pa.Field(nullable=True)
    year: Series[object] = typed_field("INTEGER", nullable=False)
    amount: Series[object] = money_field(nullable=False)
    amount_text: Series[str] = pa.Field(nullable=False)
    programme_budget: Series[object] = money_field()
    programme_budget_text: Series[str] = pa.Field(nullable=True)
    decree: Series[str] = pa.Field(nullable=True)
    decree_url: Series[str] = pa.Field(nullable=True, str_matches=r"^https?://\S+$")

    @pa.check("year", element_wise=True)
    def year_of_the_budget(cls, value) -> bool:
        return isinstance(value, int) and 2009 <= value <= 2013

    @pa.check("amount", "programme_budget", element_wise=True)
    def amount_positive(cls, value) -> bool:
        return value > 0


def inn_flag(record: dict) -> dict:
    """`inn_valid`: the check digits hold (None when the list gives no ИНН)."""
    inn = record.get("inn")
    record["inn_valid"] = None if inn is None else is_valid_inn(inn)
    return record


WINNERS = Entity("operators", "winners", WinnerModel, prepare=inn_flag, key=("record_key",))
ALLOCATIONS = Entity("operators", "allocations", AllocationModel, key=("allocation_key",))
