"""Presidential Grants Fund (ФПГ): list-page entries, project cards, bulk applications.

Three tables: `raw.fpg__list_items` (one row per card link on a list page),
`raw.fpg__cards` (one row per project card) and `raw.fpg__applications` (one row
per application in the open-data file). Columns are exactly the fields
`scrapers.fpg` emits, plus the identifier flags.

Rules: an application number is required and shaped `17-1-010190`; amounts are
not negative; a project does not end before it starts; the status is one the
Fund uses. An ИНН or ОГРН whose check digit fails is not a failure: the record
is loaded and flagged (`inn_valid`, `ogrn_valid`), since the rest of the row is
still a published application.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

import pandas as pd
import pandera.pandas as pa
import pandera.polars as pap
import polars as pl
from pandera.api.polars.types import PolarsData
from pandera.typing import Series

from schemas.base import (
    Entity,
    each,
    inn_ogrn_flags,
    inn_ogrn_flags_frame,
    money_field,
    non_negative,
    typed_field,
)
from schemas.vocabularies.statuses import KNOWN_STATUSES, is_known_status

APPLICATION_NUMBER = r"^\d{2}-\d{1,2}-\d{4,6}$"
CARD_ID = r"^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$"


def _plausible_contest_year(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 2017 <= value <= 2100


def _is_text_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) and item for item in value)


def _start_not_after_end(df: pd.DataFrame) -> pd.DataFrame:
    """`start_date <= end_date` where both are known, as a cell-wise frame.

    A row-wise result would make pandera report every column of a failing row; a
    frame that is False in the two date cells only gives one reason naming both.
    """
    ok = pd.Series(
        [s is None or e is None or s != s or e != e or s <= e
         for s, e in zip(df["start_date"], df["end_date"], strict=True)],
        index=df.index, dtype=bool,
    )
    result = pd.DataFrame(True, index=df.index, columns=df.columns)
    result["start_date"] = ok
    result["end_date"] = ok
    return result


class ListItemModel(pa.DataFrameModel):
    card_url: Series[str] = pa.Field(nullable=False)
    card_id: Series[str] = pa.Field(nullable=False, str_matches=CARD_ID)
    application_number: Series[str] = pa.Field(nullable=False, str_matches=APPLICATION_NUMBER)
    title: Series[str] = pa.Field(nullable=False)
    contest: Series[str] = pa.Field(nullable=True)
    direction: Series[str] = pa.Field(nullable=True)
    amount_requested: Series[object] = money_field()
    amount_awarded: Series[object] = money_field()
    region: Series[str] = pa.Field(nullable=True)
    status: Series[str] = pa.Field(nullable=False)

    @pa.check("amount_requested", "amount_awarded", element_wise=True)
    def amount_not_negative(cls, value) -> bool:
        return non_negative(value)

    @pa.check("status", element_wise=True)
    def status_known(cls, value) -> bool:
        return is_known_status(value)


class CardModel(pa.DataFrameModel):
    card_id: Series[str] = pa.Field(nullable=True, str_matches=CARD_ID)
    application_number: Series[str] = pa.Field(
        nullable=False, unique=True, str_matches=APPLICATION_NUMBER
    )
    title: Series[str] = pa.Field(nullable=False)
    status: Series[str] = pa.Field(nullable=False)
    contest: Series[str] = pa.Field(nullable=True)
    contest_year: Series[object] = typed_field("INTEGER")
    direction: Series[str] = pa.Field(nullable=True)
    rating: Series[object] = typed_field("DECIMAL(5,2)")
    submitted_on: Series[object] = typed_field("DATE")
    start_date: Series[object] = typed_field("DATE")
    end_date: Series[object] = typed_field("DATE")
    organisation_name: Series[str] = pa.Field(nullable=True)
    inn: Series[str] = pa.Field(nullable=True)
    ogrn: Series[str] = pa.Field(nullable=True)
    amount_requested: Series[object] = money_field()
    amount_awarded: Series[object] = money_field()
    cofinancing: Series[object] = money_field()
    amount_transferred: Series[object] = money_field()
    total_cost: Series[object] = money_field()
    summary: Series[str] = pa.Field(nullable=True)
    aims: Series[str] = pa.Field(nullable=True)
    tasks: Series[object] = typed_field("VARCHAR[]")
    social_significance: Series[str] = pa.Field(nullable=True)
    geography: Series[object] = typed_field("VARCHAR[]")
    target_groups: Series[object] = typed_field("VARCHAR[]")
    address: Series[str] = pa.Field(nullable=True)
    website: Series[str] = pa.Field(nullable=True)
    inn_valid: Series[object] = typed_field("BOOLEAN")
    ogrn_valid: Series[object] = typed_field("BOOLEAN")

    @pa.check("amount_requested", "amount_awarded", "cofinancing", "amount_transferred",
              "total_cost", element_wise=True)
    def amount_not_negative(cls, value) -> bool:
        return non_negative(value)

    @pa.check("status", element_wise=True)
    def status_known(cls, value) -> bool:
        return is_known_status(value)

    @pa.check("contest_year", element_wise=True)
    def contest_year_plausible(cls, value) -> bool:
        return _plausible_contest_year(value)

    @pa.check("rating", element_wise=True)
    def rating_0_to_100_two_places(cls, value) -> bool:
        # DECIMAL(5,2) in DuckDB: a third decimal place would not load.
        return Decimal(0) <= value <= Decimal(100) and value.as_tuple().exponent >= -2

    @pa.check("tasks", "geography", "target_groups", element_wise=True)
    def list_of_texts(cls, value) -> bool:
        return _is_text_list(value)

    @pa.dataframe_check
    def start_date_not_after_end_date(cls, df: pd.DataFrame) -> pd.DataFrame:
        return _start_not_after_end(df)


class ApplicationModel(pa.DataFrameModel):
    application_number: Series[str] = pa.Field(
        nullable=False, unique=True, str_matches=APPLICATION_NUMBER
    )
    contest: Series[str] = pa.Field(nullable=False)
    contest_year: Series[object] = typed_field("INTEGER")
    organisation_name: Series[str] = pa.Field(nullable=True)
    ogrn: Series[str] = pa.Field(nullable=True)
    inn: Series[str] = pa.Field(nullable=True)
    region: Series[str] = pa.Field(nullable=True)
    title: Series[str] = pa.Field(nullable=True)
    direction: Series[str] = pa.Field(nullable=True)
    amount_requested: Series[object] = money_field()
    total_cost: Series[object] = money_field()
    start_date: Series[object] = typed_field("DATE")
    end_date: Series[object] = typed_field("DATE")
    status: Series[str] = pa.Field(nullable=False)
    decision_date: Series[object] = typed_field("DATE")
    amount_awarded: Series[object] = money_field()
    evaluation: Series[str] = pa.Field(nullable=True)
    violations: Series[str] = pa.Field(nullable=True)
    # Columns of the file its passport does not name, as a JSON object (header -> value).
    extra_columns: Series[object] = typed_field("JSON")
    inn_valid: Series[object] = typed_field("BOOLEAN")
    ogrn_valid: Series[object] = typed_field("BOOLEAN")

    # Vectorised (`each`): this table has some 190 000 rows a night.
    @pa.check("amount_requested", "total_cost", "amount_awarded")
    def amount_not_negative(cls, series: pd.Series) -> pd.Series:
        return each(series, non_negative)

    @pa.check("status")
    def status_known(cls, series: pd.Series) -> pd.Series:
        return each(series, is_known_status)

    @pa.check("contest_year")
    def contest_year_plausible(cls, series: pd.Series) -> pd.Series:
        return each(series, _plausible_contest_year)

    @pa.dataframe_check
    def start_date_not_after_end_date(cls, df: pd.DataFrame) -> pd.DataFrame:
        return _start_not_after_end(df)


# The white space `status_key` folds: Python's `\\s`, which holds four separators Rust's
# does not.
_STATUS_SPACE = r"[\s\x1c-\x1f]"


def _status_known(status: pl.Expr) -> pl.Expr:
    """`is_known_status` as an expression: spaces folded, lower case, ё as е."""
    key = (status.str.replace_all(_STATUS_SPACE + "+", " ")
           .str.strip_chars().str.to_lowercase().str.replace_all("ё", "е", literal=True))
    return status.is_null() | key.is_in(list(KNOWN_STATUSES))


class ApplicationFrameModel(pap.DataFrameModel):
    """`ApplicationModel` for a frame of columns: the same fields, checks and check names."""

    application_number: str = pap.Field(nullable=False, unique=True,
                                        str_matches=APPLICATION_NUMBER)
    contest: str = pap.Field(nullable=False)
    contest_year: pl.Int32 = pap.Field(nullable=True)
    organisation_name: str = pap.Field(nullable=True)
    ogrn: str = pap.Field(nullable=True)
    inn: str = pap.Field(nullable=True)
    region: str = pap.Field(nullable=True)
    title: str = pap.Field(nullable=True)
    direction: str = pap.Field(nullable=True)
    amount_requested: pl.Decimal(18, 2) = pap.Field(nullable=True)
    total_cost: pl.Decimal(18, 2) = pap.Field(nullable=True)
    start_date: pl.Date = pap.Field(nullable=True)
    end_date: pl.Date = pap.Field(nullable=True)
    status: str = pap.Field(nullable=False)
    decision_date: pl.Date = pap.Field(nullable=True)
    amount_awarded: pl.Decimal(18, 2) = pap.Field(nullable=True)
    evaluation: str = pap.Field(nullable=True)
    violations: str = pap.Field(nullable=True)
    extra_columns: str = pap.Field(nullable=True)
    inn_valid: pl.Boolean = pap.Field(nullable=True)
    ogrn_valid: pl.Boolean = pap.Field(nullable=True)

    class Config:
        # The fields a check across fields compares, named in its reason.
        metadata: ClassVar[dict] = {
            "record_fields": {"start_date_not_after_end_date": ("start_date", "end_date")}}

    @pap.check("amount_requested", "total_cost", "amount_awarded")
    def amount_not_negative(cls, data: PolarsData) -> pl.LazyFrame:
        value = pl.col(data.key)
        return data.lazyframe.select(value.is_null() | (value >= 0))

    @pap.check("status")
    def status_known(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(_status_known(pl.col(data.key)))

    @pap.check("contest_year")
    def contest_year_plausible(cls, data: PolarsData) -> pl.LazyFrame:
        year = pl.col(data.key)
        return data.lazyframe.select(year.is_null() | year.is_between(2017, 2100))

    @pap.dataframe_check
    def start_date_not_after_end_date(cls, data: PolarsData) -> pl.LazyFrame:
        start, end = pl.col("start_date"), pl.col("end_date")
        return data.lazyframe.select(start.is_null() | end.is_null() | (start <= end))


LIST_ITEMS = Entity("fpg", "list_items", ListItemModel)
CARDS = Entity("fpg", "cards", CardModel, prepare=inn_ogrn_flags, key=("application_number",))
APPLICATIONS = Entity(
    "fpg", "applications", ApplicationModel, prepare=inn_ogrn_flags, key=("application_number",),
    frame_model=ApplicationFrameModel, prepare_frame=inn_ogrn_flags_frame,
)
