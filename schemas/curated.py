"""Curated figures from reports and presentations: `raw.curated__figures`.

One row per figure, each with its provenance (SOURCES.md §3c, §4, §5). The
vocabularies below are the meaning of the columns; `scrapers.curated` reads
the files and this model says what a usable figure is:

- `figure_id` is unique and stable (lower-case ASCII, digits, `-`, `_`, `.`);
- `value` is present and not negative; `document` and `locator` are present and
  the row names a `source_url` or a `source_file`: a figure without provenance
  is not loaded;
- `funding_kind`, `indicator`, `unit` and every `flag` come from the lists of
  `schemas.vocabularies.funding`;
  money indicators are in money units, counts in count units;
- `amount` is `value` × the unit's scale (тыс. руб. ×1000), exactly (`schemas.money`),
  `amount_rub` the same for rubles and empty otherwise, `currency` the unit's currency;
- a figure is dated by `year`, or by `period_start`–`period_end` (years), or is
  flagged `year_not_stated`; never two of them;
- a Russian figure has a two-digit subject code (`59` Пермский край), a
  Kyrgyz one the code `KG` (the country has no subject codes of ours yet);
- within one programme and year, a `competition_fund` whose `contribution` rows
  do not add up to it must flag all of them `parts_do_not_add_up`: both figures
  are kept as published, and the disagreement is visible.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.base import Entity, money_field, typed_field
from schemas.money import PRINTED_FIGURES, MoneyError, checked_money
from schemas.vocabularies.funding import (
    FLAG_SEPARATOR,
    FLAGS,
    FUNDING_KINDS,
    INDICATORS,
    MONEY_INDICATORS,
    MONEY_KINDS,
    UNITS,
)

FIGURE_ID = r"^[a-z0-9][a-z0-9._-]*$"
_SUBJECT_CODE = re.compile(r"^\d{2}$")


def flags_of(value: Any) -> list[str]:
    """`parts_do_not_add_up; year_inferred` -> both names; empty -> []."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    return [f.strip() for f in str(value).split(FLAG_SEPARATOR) if f.strip()]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


def _cellwise(df: pd.DataFrame, ok: pd.Series, columns: tuple[str, ...]) -> pd.DataFrame:
    """A row-wise result reported on the named columns only, so a failure says which.

    The checks using it are declared with `ignore_na=False`: pandera otherwise
    counts an empty cell as passing, and an empty cell is what most of them look
    for. `figure_id` is always among the columns reported: pandera leaves empty
    cells out of a failure's description, and a failure made only of empty cells
    would otherwise reach the quarantine with no reason attached.
    """
    result = pd.DataFrame(True, index=df.index, columns=df.columns)
    for column in ("figure_id", *columns):
        result[column] = ok
    return result


def _row_ok(df: pd.DataFrame, test) -> pd.Series:
    return pd.Series([bool(test(row)) for row in df.to_dict("records")], index=df.index)


def _amount_matches_unit(row: dict) -> bool:
    currency, scale = UNITS.get(row["unit"], (None, None))
    value = row["value"]
    if scale is None or _missing(value):
        return all(_missing(row[c]) for c in ("amount", "amount_rub", "currency"))
    try:
        expected = checked_money(value * scale, PRINTED_FIGURES)
    except MoneyError:
        return False  # the parser refused the amount with the reason; nothing to compare
    amount_rub = row["amount_rub"]
    return (
        row["amount"] == expected
        and row["currency"] == currency
        and (amount_rub == expected if currency == "RUB" else _missing(amount_rub))
    )


def _unit_fits_indicator(row: dict) -> bool:
    money_unit = UNITS.get(row["unit"], (None, None))[1] is not None
    if row["indicator"] in MONEY_INDICATORS:
        return money_unit and row["funding_kind"] in MONEY_KINDS
    return not money_unit


def _dated_once(row: dict) -> bool:
    has_year = not _missing(row["year"])
    has_period = not (_missing(row["period_start"]) and _missing(row["period_end"]))
    undated = "year_not_stated" in flags_of(row["flag"])
    if has_period and (_missing(row["period_start"]) or _missing(row["period_end"])
                       or row["period_start"] > row["period_end"]):
        return False
    return has_year + has_period + undated == 1


def _region_fits_country(row: dict) -> bool:
    code, country = row["region_code"], row["country"]
    if _missing(code):
        return True
    if country == "RU":
        return bool(_SUBJECT_CODE.match(code))
    return code == country


def _parts_flagged(df: pd.DataFrame) -> pd.Series:
    """Every row of a fund whose parts disagree with it carries `parts_do_not_add_up`."""
    ok = pd.Series(True, index=df.index)
    money = df[df["indicator"].isin(["competition_fund", "contribution"])]
    for _, group in money.groupby(["programme", "year"], dropna=False):
        funds = group[group["indicator"] == "competition_fund"]
        parts = group[group["indicator"] == "contribution"]
        if len(funds) != 1 or parts.empty or any(_missing(a) for a in group["amount"]):
            continue
        if sum(parts["amount"], Decimal(0)) == funds["amount"].iloc[0]:
            continue
        for index, flag in group["flag"].items():
            if "parts_do_not_add_up" not in flags_of(flag):
                ok[index] = False
    return ok


class FigureModel(pa.DataFrameModel):
    figure_id: Series[str] = pa.Field(nullable=False, unique=True, str_matches=FIGURE_ID)
    programme: Series[str] = pa.Field(nullable=False)
    edition: Series[str] = pa.Field(nullable=True)
    municipality: Series[str] = pa.Field(nullable=True)
    region_code: Series[str] = pa.Field(nullable=True)
    country: Series[str] = pa.Field(nullable=False, str_matches=r"^[A-Z]{2}$")
    year: Series[object] = typed_field("INTEGER")
    period_start: Series[object] = typed_field("INTEGER")
    period_end: Series[object] = typed_field("INTEGER")
    as_of: Series[object] = typed_field("DATE")
    funding_kind: Series[str] = pa.Field(nullable=False)
    indicator: Series[str] = pa.Field(nullable=False)
    party: Series[str] = pa.Field(nullable=True)
    value: Series[object] = typed_field("DECIMAL(18,3)", nullable=False)
    unit: Series[str] = pa.Field(nullable=False)
    amount: Series[object] = money_field()
    amount_rub: Series[object] = money_field()
    currency: Series[str] = pa.Field(nullable=True)
    value_text: Series[str] = pa.Field(nullable=False)
    document: Series[str] = pa.Field(nullable=False)
    document_date: Series[object] = typed_field("DATE")
    source_url: Series[str] = pa.Field(nullable=True)
    source_file: Series[str] = pa.Field(nullable=True)
    locator: Series[str] = pa.Field(nullable=False)
    note: Series[str] = pa.Field(nullable=True)
    flag: Series[str] = pa.Field(nullable=True)
    # Columns of a file beyond those named here, as a JSON object (header -> value).
    extra_columns: Series[object] = typed_field("JSON")

    @pa.check("funding_kind", element_wise=True)
    def funding_kind_known(cls, value) -> bool:
        return value in FUNDING_KINDS

    @pa.check("indicator", element_wise=True)
    def indicator_known(cls, value) -> bool:
        return value in INDICATORS

    @pa.check("unit", element_wise=True)
    def unit_known(cls, value) -> bool:
        return value in UNITS

    @pa.check("flag", element_wise=True)
    def flags_known(cls, value) -> bool:
        names = flags_of(value)
        return bool(names) and all(n in FLAGS for n in names)

    @pa.check("value", element_wise=True)
    def value_not_negative_three_places(cls, value) -> bool:
        # DECIMAL(18,3): `17,990 тыс.руб.` needs three places; a fourth would not load.
        return isinstance(value, Decimal) and value >= 0 and value.as_tuple().exponent >= -3

    @pa.check("amount", "amount_rub", element_wise=True)
    def amount_not_negative(cls, value) -> bool:
        return value >= 0

    @pa.check("year", "period_start", "period_end", element_wise=True)
    def year_plausible(cls, value) -> bool:
        return isinstance(value, int) and 1990 <= value <= 2100

    @pa.dataframe_check(ignore_na=False)
    def amount_is_value_times_unit_scale(cls, df: pd.DataFrame) -> pd.DataFrame:
        return _cellwise(df, _row_ok(df, _amount_matches_unit),
                         ("value", "unit", "amount", "amount_rub", "currency"))

    @pa.dataframe_check(ignore_na=False)
    def unit_fits_indicator(cls, df: pd.DataFrame) -> pd.DataFrame:
        return _cellwise(df, _row_ok(df, _unit_fits_indicator),
                         ("funding_kind", "indicator", "unit"))

    @pa.dataframe_check(ignore_na=False)
    def dated_by_year_or_period_or_flag(cls, df: pd.DataFrame) -> pd.DataFrame:
        return _cellwise(df, _row_ok(df, _dated_once), ("year", "period_start", "period_end"))

    @pa.dataframe_check(ignore_na=False)
    def source_named(cls, df: pd.DataFrame) -> pd.DataFrame:
        ok = df["source_url"].notna() | df["source_file"].notna()
        return _cellwise(df, ok, ("source_url", "source_file"))

    @pa.dataframe_check(ignore_na=False)
    def region_code_fits_country(cls, df: pd.DataFrame) -> pd.DataFrame:
        return _cellwise(df, _row_ok(df, _region_fits_country), ("region_code", "country"))

    @pa.dataframe_check(ignore_na=False)
    def parts_that_disagree_are_flagged(cls, df: pd.DataFrame) -> pd.DataFrame:
        return _cellwise(df, _parts_flagged(df), ("indicator", "flag"))


FIGURES = Entity("curated", "figures", FigureModel, key=("figure_id",))
