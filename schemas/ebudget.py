"""Электронный бюджет subsidy agreements: `raw.ebudget__agreements`, `raw.ebudget__periods`.

Columns are exactly the fields `scrapers.ebudget` emits, plus the recipient's
identifier flags. Period rows never overlap: a year's money is in its months or in
one row for the year, never both, so any sum of `amount` over a year counts it once
(`origin` says which kind of row each is). An agreement needs an id and a parsable,
non-negative amount, and does not end before it starts; a period needs its
agreement, a period code and a non-negative amount. A recipient ИНН or ОГРН whose
check digit fails is a flag (`recipient_inn_valid`, `recipient_ogrn_valid`), not a
failure: the money is real. No uniqueness is enforced: a registry that changes while
it is paged through can show an agreement on two pages, and the staging model
deduplicates by `agreement_id` rather than quarantine both copies.
"""

from __future__ import annotations

from typing import ClassVar

import pandas as pd
import pandera.pandas as pa
import pandera.polars as pap
import polars as pl
from pandera.api.polars.types import PolarsData
from pandera.typing import Series

from schemas.base import Entity, inn_ogrn_flags_frame, money_field, non_negative, typed_field
from schemas.identifiers import is_valid_inn, is_valid_ogrn
from schemas.vocabularies.budgets import BUDGET_LEVELS

PERIOD_CODE = r"^(-1|\d{8})$"
# What a period row stands for; the parser names them (`scrapers.ebudget.ORIGINS`).
PERIOD_ORIGINS = frozenset({"facts_month", "facts_year", "facts_later_years",
                            "plans_normalized"})


def _start_not_after_end(df: pd.DataFrame) -> pd.DataFrame:
    """Cell-wise, so a failure names the two dates and nothing else of the record."""
    start, end = df["start_date"], df["end_date"]
    both = start.notna() & end.notna()
    ok = pd.Series(True, index=df.index)
    ok[both] = [s <= e for s, e in zip(start[both], end[both], strict=True)]
    result = pd.DataFrame(True, index=df.index, columns=df.columns)
    result["start_date"] = ok
    result["end_date"] = ok
    return result


class AgreementModel(pa.DataFrameModel):
    agreement_id: Series[str] = pa.Field(nullable=False)
    reg_num: Series[str] = pa.Field(nullable=True)
    agreement_number: Series[str] = pa.Field(nullable=True)
    agreement_date: Series[object] = typed_field("DATE")
    start_date: Series[object] = typed_field("DATE")
    end_date: Series[object] = typed_field("DATE")
    amount: Series[object] = money_field(nullable=False)
    currency: Series[str] = pa.Field(nullable=True)
    grantor_inn: Series[str] = pa.Field(nullable=True)
    grantor_name: Series[str] = pa.Field(nullable=True)
    budget_level: Series[str] = pa.Field(nullable=True, isin=sorted(BUDGET_LEVELS))
    budget_code: Series[str] = pa.Field(nullable=True)
    purpose: Series[str] = pa.Field(nullable=True)
    kbk: Series[object] = typed_field("VARCHAR[]", nullable=False)
    amendment_count: Series[object] = typed_field("INTEGER", nullable=False)
    recipient_count: Series[object] = typed_field("INTEGER", nullable=False)
    recipient_name: Series[str] = pa.Field(nullable=True)
    recipient_short_name: Series[str] = pa.Field(nullable=True)
    recipient_inn: Series[str] = pa.Field(nullable=True)
    recipient_kpp: Series[str] = pa.Field(nullable=True)
    recipient_ogrn: Series[str] = pa.Field(nullable=True)
    recipient_okopf: Series[str] = pa.Field(nullable=True)
    recipient_region_code: Series[str] = pa.Field(nullable=True)
    recipient_region_name: Series[str] = pa.Field(nullable=True)
    recipient_oktmo: Series[str] = pa.Field(nullable=True)
    is_nonprofit: Series[object] = typed_field("BOOLEAN")
    repaired: Series[object] = typed_field("BOOLEAN", nullable=False)
    recipient_inn_valid: Series[object] = typed_field("BOOLEAN")
    recipient_ogrn_valid: Series[object] = typed_field("BOOLEAN")

    @pa.check("amount", element_wise=True)
    def amount_not_negative(cls, value) -> bool:
        return non_negative(value)

    @pa.check("kbk", element_wise=True)
    def kbk_list_of_texts(cls, value) -> bool:
        return isinstance(value, list) and all(isinstance(k, str) and k for k in value)

    @pa.check("amendment_count", "recipient_count", element_wise=True)
    def count_not_negative(cls, value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0

    @pa.check("is_nonprofit", "repaired", element_wise=True)
    def is_bool(cls, value) -> bool:
        return isinstance(value, bool)

    @pa.dataframe_check
    def start_date_not_after_end_date(cls, df: pd.DataFrame) -> pd.DataFrame:
        return _start_not_after_end(df)


class PeriodModel(pa.DataFrameModel):
    agreement_id: Series[str] = pa.Field(nullable=False)
    kbk: Series[str] = pa.Field(nullable=True)
    period_code: Series[str] = pa.Field(nullable=False, str_matches=PERIOD_CODE)
    year: Series[object] = typed_field("INTEGER")
    month: Series[object] = typed_field("INTEGER")
    amount: Series[object] = money_field(nullable=False)
    # What the row stands for: a month, a year not broken down by month, the later years
    # (`-1`), or a year's total from `plansNormalized` (`scrapers.ebudget.ORIGINS`); None
    # only on a row whose period code does not parse, which fails on that.
    origin: Series[str] = pa.Field(nullable=True, isin=sorted(PERIOD_ORIGINS))

    @pa.check("amount", element_wise=True)
    def amount_not_negative(cls, value) -> bool:
        return non_negative(value)

    @pa.check("year", element_wise=True)
    def year_plausible(cls, value) -> bool:
        return isinstance(value, int) and 2000 <= value <= 2100

    @pa.check("month", element_wise=True)
    def month_of_year(cls, value) -> bool:
        return isinstance(value, int) and 1 <= value <= 12


# --- the polars twins, for the columns `scrapers.ebudget` returns ------------------------------


def _passes(data: PolarsData, rule: pl.Expr) -> pl.LazyFrame:
    """An element-wise check as an expression: an empty cell is left to `nullable`."""
    return data.lazyframe.select(pl.col(data.key).is_null() | rule)


class AgreementFrameModel(pap.DataFrameModel):
    """`AgreementModel` over columns: the same fields, DuckDB types, checks and check names."""

    agreement_id: pl.String = pap.Field(nullable=False)
    reg_num: pl.String = pap.Field(nullable=True)
    agreement_number: pl.String = pap.Field(nullable=True)
    agreement_date: pl.Date = pap.Field(nullable=True)
    start_date: pl.Date = pap.Field(nullable=True)
    end_date: pl.Date = pap.Field(nullable=True)
    amount: pl.Decimal(18, 2) = pap.Field(nullable=False)
    currency: pl.String = pap.Field(nullable=True)
    grantor_inn: pl.String = pap.Field(nullable=True)
    grantor_name: pl.String = pap.Field(nullable=True)
    budget_level: pl.String = pap.Field(nullable=True, isin=sorted(BUDGET_LEVELS))
    budget_code: pl.String = pap.Field(nullable=True)
    purpose: pl.String = pap.Field(nullable=True)
    kbk: pl.List(pl.String) = pap.Field(nullable=False)
    amendment_count: pl.Int32 = pap.Field(nullable=False)
    recipient_count: pl.Int32 = pap.Field(nullable=False)
    recipient_name: pl.String = pap.Field(nullable=True)
    recipient_short_name: pl.String = pap.Field(nullable=True)
    recipient_inn: pl.String = pap.Field(nullable=True)
    recipient_kpp: pl.String = pap.Field(nullable=True)
    recipient_ogrn: pl.String = pap.Field(nullable=True)
    recipient_okopf: pl.String = pap.Field(nullable=True)
    recipient_region_code: pl.String = pap.Field(nullable=True)
    recipient_region_name: pl.String = pap.Field(nullable=True)
    recipient_oktmo: pl.String = pap.Field(nullable=True)
    is_nonprofit: pl.Boolean = pap.Field(nullable=True)
    repaired: pl.Boolean = pap.Field(nullable=False)
    recipient_inn_valid: pl.Boolean = pap.Field(nullable=True)
    recipient_ogrn_valid: pl.Boolean = pap.Field(nullable=True)

    class Config:
        # The fields a check across fields compares, named in its reason.
        metadata: ClassVar[dict] = {
            "record_fields": {"start_date_not_after_end_date": ("start_date", "end_date")}}

    @pap.check("amount")
    def amount_not_negative(cls, data: PolarsData) -> pl.LazyFrame:
        return _passes(data, pl.col(data.key) >= 0)

    @pap.check("kbk")
    def kbk_list_of_texts(cls, data: PolarsData) -> pl.LazyFrame:
        texts = pl.element().is_not_null() & (pl.element().str.len_bytes() > 0)
        return _passes(data, pl.col(data.key).list.eval(texts).list.all())

    @pap.check("amendment_count", "recipient_count")
    def count_not_negative(cls, data: PolarsData) -> pl.LazyFrame:
        return _passes(data, pl.col(data.key) >= 0)

    @pap.check("is_nonprofit", "repaired")
    def is_bool(cls, data: PolarsData) -> pl.LazyFrame:
        # The column is Boolean: every value there is a bool; the check stays for its name.
        return _passes(data, pl.col(data.key).is_in([True, False]))

    @pap.dataframe_check
    def start_date_not_after_end_date(cls, data: PolarsData) -> pl.LazyFrame:
        start, end = pl.col("start_date"), pl.col("end_date")
        return data.lazyframe.select(start.is_null() | end.is_null() | (start <= end))


class PeriodFrameModel(pap.DataFrameModel):
    """`PeriodModel` over columns: the same fields, DuckDB types, checks and check names."""

    agreement_id: pl.String = pap.Field(nullable=False)
    kbk: pl.String = pap.Field(nullable=True)
    period_code: pl.String = pap.Field(nullable=False, str_matches=PERIOD_CODE)
    year: pl.Int32 = pap.Field(nullable=True)
    month: pl.Int32 = pap.Field(nullable=True)
    amount: pl.Decimal(18, 2) = pap.Field(nullable=False)
    origin: pl.String = pap.Field(nullable=True, isin=sorted(PERIOD_ORIGINS))

    @pap.check("amount")
    def amount_not_negative(cls, data: PolarsData) -> pl.LazyFrame:
        return _passes(data, pl.col(data.key) >= 0)

    @pap.check("year")
    def year_plausible(cls, data: PolarsData) -> pl.LazyFrame:
        return _passes(data, pl.col(data.key).is_between(2000, 2100))

    @pap.check("month")
    def month_of_year(cls, data: PolarsData) -> pl.LazyFrame:
        return _passes(data, pl.col(data.key).is_between(1, 12))


def recipient_flags_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """`recipient_flags` column-wise."""
    flags = inn_ogrn_flags_frame(frame.select(inn="recipient_inn", ogrn="recipient_ogrn"))
    return frame.with_columns(recipient_inn_valid=flags["inn_valid"],
                              recipient_ogrn_valid=flags["ogrn_valid"])


def recipient_flags(record: dict) -> dict:
    """`recipient_inn_valid` / `recipient_ogrn_valid`: the check digit holds (None when absent)."""
    inn, ogrn = record.get("recipient_inn"), record.get("recipient_ogrn")
    record["recipient_inn_valid"] = None if inn is None else is_valid_inn(inn)
    record["recipient_ogrn_valid"] = None if ogrn is None else is_valid_ogrn(ogrn)
    return record


AGREEMENTS = Entity(
    "ebudget", "agreements", AgreementModel, prepare=recipient_flags,
    key=("agreement_id", "recipient_inn"),
    frame_model=AgreementFrameModel, prepare_frame=recipient_flags_frame,
)
PERIODS = Entity("ebudget", "periods", PeriodModel, key=("agreement_id", "kbk", "period_code"),
                 frame_model=PeriodFrameModel)
