"""Registries of support to socially oriented NGOs: `raw.sonko__registry2011`, `raw.sonko__federal`.

Columns are exactly the fields `scrapers.sonko` emits, plus the identifier flags
`inn_valid` and `ogrn_valid`.

The 2011-template registries (`registry2011`): a record is keyed by the year
the registry is about and its record number, which restarts every year; a key
that occurs twice in a file quarantines every record that has it, since nothing
says which is right. A record needs its number, the organisation's name and an
amount (not negative). An ИНН or ОГРН whose check digit fails is a flag, not a
failure: the real Smolensk files carry ИНН `673004802` (9 digits),
`67300072640`, `67300121151` (11), `25760723` (8) and ОГРН `1076700006484`,
none repairable, and the support they record was still given. A record noting
that the organisation did not sign the agreement stays in the table with
`not_carried_out` true: the support was decided (and is in the registry's
totals) but not paid.

The federal registry (`federal`): one row per decision, so an ИНН repeats and
there is no key; a row needs an ИНН and the organisation's full name. Every row of
a file carries the registry's date from its title (`snapshot_date`).

`extra_columns` holds, as JSON text, the cells of columns a file has beyond those
the parser reads, so nothing the source adds is lost unseen.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pandera.polars as pap
import polars as pl
from pandera.typing import Series

from schemas.base import (
    Entity,
    inn_ogrn_flags,
    inn_ogrn_flags_frame,
    money_field,
    non_negative,
    typed_field,
)
from schemas.vocabularies.budgets import REGISTRY_BUDGET_LEVELS

KEY = ("registry_year", "record_number")


def _key_unique(df: pd.DataFrame) -> pd.DataFrame:
    """Cell-wise: every copy of a repeated (registry_year, record_number) fails.

    Record numbers restart each year, so the pair is the key. Failing on the two
    key cells (not the whole row) makes the reason name the year and the number.
    """
    repeated = df.duplicated(list(KEY), keep=False) & df[list(KEY)].notna().all(axis=1)
    result = pd.DataFrame(True, index=df.index, columns=df.columns)
    for column in KEY:
        result[column] = ~repeated
    return result


class Registry2011Model(pa.DataFrameModel):
    record_number: Series[str] = pa.Field(nullable=False)
    included_on: Series[object] = typed_field("DATE")
    decision_date: Series[object] = typed_field("DATE")
    decision_text: Series[str] = pa.Field(nullable=True)
    organisation_name: Series[str] = pa.Field(nullable=False)
    address: Series[str] = pa.Field(nullable=True)
    ogrn: Series[str] = pa.Field(nullable=True)
    inn: Series[str] = pa.Field(nullable=True)
    activities: Series[str] = pa.Field(nullable=True)
    support_form: Series[str] = pa.Field(nullable=True)
    budget_level: Series[str] = pa.Field(nullable=True, isin=sorted(REGISTRY_BUDGET_LEVELS))
    amount: Series[object] = money_field(nullable=False)
    support_term: Series[str] = pa.Field(nullable=True)
    term_year: Series[object] = typed_field("INTEGER")
    violations: Series[str] = pa.Field(nullable=True)
    not_carried_out: Series[object] = typed_field("BOOLEAN", nullable=False)
    authority: Series[str] = pa.Field(nullable=True)
    registry_year: Series[object] = typed_field("INTEGER", nullable=False)
    # Columns the template does not name, as a JSON object (header -> value).
    extra_columns: Series[object] = typed_field("JSON")
    inn_valid: Series[object] = typed_field("BOOLEAN")
    ogrn_valid: Series[object] = typed_field("BOOLEAN")

    @pa.check("amount", element_wise=True)
    def amount_not_negative(cls, value) -> bool:
        return non_negative(value)

    @pa.check("registry_year", "term_year", element_wise=True)
    def year_plausible(cls, value) -> bool:
        # The template dates from 2011; a term may name the year before its registry.
        return isinstance(value, int) and 2000 <= value <= 2100

    @pa.dataframe_check
    def key_unique_in_file(cls, df: pd.DataFrame) -> pd.DataFrame:
        return _key_unique(df)

    @pa.check("not_carried_out", element_wise=True)
    def not_carried_out_is_bool(cls, value) -> bool:
        return isinstance(value, bool)


class FederalModel(pa.DataFrameModel):
    inn: Series[str] = pa.Field(nullable=False)
    full_name: Series[str] = pa.Field(nullable=False)
    short_name: Series[str] = pa.Field(nullable=True)
    address: Series[str] = pa.Field(nullable=True)
    ogrn: Series[str] = pa.Field(nullable=True)
    legal_form: Series[str] = pa.Field(nullable=True)
    okved: Series[str] = pa.Field(nullable=True)
    sonko_status: Series[str] = pa.Field(nullable=True)
    nko_status: Series[str] = pa.Field(nullable=True)
    inclusion_criterion: Series[str] = pa.Field(nullable=True)
    authority: Series[str] = pa.Field(nullable=True)
    decision_date: Series[object] = typed_field("DATE")
    included_on: Series[object] = typed_field("DATE")
    # The registry's date as its title states it (`по состоянию на 24.02.2026`): the same
    # for every row of a file; None when the title gives none.
    snapshot_date: Series[object] = typed_field("DATE")
    # Columns the registry adds beyond its 13, as a JSON object (header -> value).
    extra_columns: Series[object] = typed_field("JSON")
    inn_valid: Series[object] = typed_field("BOOLEAN")
    ogrn_valid: Series[object] = typed_field("BOOLEAN")


class FederalFrameModel(pap.DataFrameModel):
    """`FederalModel` over the columns `scrapers.sonko.parse_federal` returns: the same
    fields, nullability and DuckDB types (DATE as Date, JSON as its text)."""

    inn: pl.String = pap.Field(nullable=False)
    full_name: pl.String = pap.Field(nullable=False)
    short_name: pl.String = pap.Field(nullable=True)
    address: pl.String = pap.Field(nullable=True)
    ogrn: pl.String = pap.Field(nullable=True)
    legal_form: pl.String = pap.Field(nullable=True)
    okved: pl.String = pap.Field(nullable=True)
    sonko_status: pl.String = pap.Field(nullable=True)
    nko_status: pl.String = pap.Field(nullable=True)
    inclusion_criterion: pl.String = pap.Field(nullable=True)
    authority: pl.String = pap.Field(nullable=True)
    decision_date: pl.Date = pap.Field(nullable=True)
    included_on: pl.Date = pap.Field(nullable=True)
    snapshot_date: pl.Date = pap.Field(nullable=True)
    extra_columns: pl.String = pap.Field(nullable=True)
    inn_valid: pl.Boolean = pap.Field(nullable=True)
    ogrn_valid: pl.Boolean = pap.Field(nullable=True)


REGISTRY2011 = Entity(
    "sonko", "registry2011", Registry2011Model, prepare=inn_ogrn_flags,
    key=KEY,
)
FEDERAL = Entity("sonko", "federal", FederalModel, prepare=inn_ogrn_flags,
                 frame_model=FederalFrameModel, prepare_frame=inn_ogrn_flags_frame)
