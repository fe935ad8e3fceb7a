"""Column-wise parsing of the bulk sources: the same values as the row-wise helpers, typed.

The twins in `scrapers.columns` must give exactly what `scrapers.values` gives, on the white
space Python knows and polars' `\\s` does not (U+001C–U+001F), on U+FEFF, and on digits that
are not ASCII (left to the helper); the frames of the federal registry and the Электронный
бюджет agreements carry the Arrow types of their DuckDB columns.
"""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from schemas import ebudget as ebudget_schema
from schemas import sonko as sonko_schema
from schemas.base import inn_ogrn_flags, inn_ogrn_flags_frame, validate, validate_frame
from scrapers import ebudget, sonko
from scrapers.columns import (
    blank_column,
    clean_text_column,
    convert_column,
    identifier_column,
    records_of,
    text_twin,
)
from scrapers.samples import FIXTURES_DIR, sample_path
from scrapers.values import clean_text, parse_identifier

TEXTS = ["", " ", "  a  b ", "\ufeffАНО\u00a0«Мир»\ufeff", "a\x1cb", "\x1d\x1e\x1f", "a\u2028b",
         "\u3000x\u205f", "x\u200by", "1 234", " 7700000000 ", "٣٤", "1.0E12", "12,5", "77-00",
         "\t\n\r\x0b\x0c\x85", "a\u180eb", "ОГРН 1027700000000"]
EVERY_SPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())


def test_clean_text_twin_is_clean_text():
    texts = [*TEXTS, EVERY_SPACE, f"a{EVERY_SPACE}b{EVERY_SPACE}"]
    got = clean_text_column(pl.Series(texts, dtype=pl.String)).to_list()
    assert got == [clean_text(t) for t in texts]


def test_clean_text_twin_rewrites_every_untidy_text_and_keeps_the_tidy_ones():
    """Each kind of white space alone inside a text, at either end, or two together: the
    twin rewrites what `clean_text` changes, and the input column is left as it was."""
    texts = [t for c in (*EVERY_SPACE, "\ufeff", "\u200b")
             for t in (f"a{c}b", f"{c}a", f"a{c}", f"a {c}b", "a b c")]
    column = pl.Series(texts, dtype=pl.String)
    got = clean_text_column(column).to_list()
    assert got == [clean_text(t) for t in texts]
    assert column.to_list() == texts


def test_blank_twin_is_strip():
    texts = [*TEXTS, EVERY_SPACE, "\ufeff", None]
    got = blank_column(pl.Series(texts, dtype=pl.String)).to_list()
    assert got == [t is None or not t.strip() for t in texts]


def test_identifier_twin_decides_only_what_it_reads_exactly():
    values, decided = identifier_column(pl.Series([*TEXTS, None], dtype=pl.String))
    for text, value, done in zip([*TEXTS, None], values.to_list(), decided.to_list(),
                                 strict=True):
        if done:
            assert value == parse_identifier(text), text
    assert decided.to_list()[-1] is False  # a null stands for a cell that is not text
    assert dict(zip(TEXTS, decided.to_list(), strict=False))["٣٤"] is False


def test_convert_column_asks_the_helper_for_what_the_twin_leaves():
    values = ["  a ", 12.0, None, True, "b\x1c", 7]
    got = convert_column(values, clean_text, pl.String, text_twin)
    assert got.to_list() == [clean_text(v) for v in values]
    ids = ["1 027 700 000 000", 1.0270000e12, "1.0E3", "x"]
    got = convert_column(ids, parse_identifier, pl.String, identifier_column)
    assert got.to_list() == [parse_identifier(v) for v in ids]


def test_records_of_leave_out_empty_errors():
    frame = pl.DataFrame({"a": [1, 2], "_errors": [["x: bad"], []]},
                         schema={"a": pl.Int64, "_errors": pl.List(pl.String)})
    assert records_of(frame) == [{"a": 1, "_errors": ["x: bad"]}, {"a": 2}]


@pytest.fixture(scope="module")
def federal() -> pl.DataFrame:
    body = sample_path(sonko.FEDERAL_URL, FIXTURES_DIR).read_bytes()
    return sonko.parse_federal(body, url=sonko.FEDERAL_URL)


def test_federal_frame_types_are_the_tables(federal):
    types = sonko_schema.FEDERAL.columns()
    arrow = {"VARCHAR": pl.String, "DATE": pl.Date, "JSON": pl.String}
    for name, dtype in federal.schema.items():
        if name in types:
            assert dtype == arrow[types[name]], name
    assert federal.schema["_row"] == pl.Int64
    assert federal.schema["_errors"] == pl.List(pl.String)
    assert set(types) - set(federal.columns) == {"inn_valid", "ogrn_valid"}


def test_federal_frame_rows_are_the_records(federal):
    records = records_of(federal)
    assert [r["_row"] for r in records] == list(range(21, 41))
    (bad,) = [r for r in records if "_errors" in r]
    assert bad["_errors"] == ["decision_date: not a date: '31.02.2023'"]
    assert {r["snapshot_date"] for r in records} == {date(2024, 1, 15)}
    assert {r["inn"] for r in records if r["ogrn"] == "1020599034565"} == {"0534567815"}


def test_federal_flags_column_wise_are_the_record_flags(federal):
    flagged = inn_ogrn_flags_frame(federal)
    rows = [inn_ogrn_flags(r) for r in records_of(federal)]
    assert flagged.select("inn_valid", "ogrn_valid").to_dicts() == [
        {"inn_valid": r["inn_valid"], "ogrn_valid": r["ogrn_valid"]} for r in rows]
    assert flagged["inn_valid"].to_list().count(False) == 1  # row 33, `6967812346`


def test_federal_frame_model_is_the_model(federal):
    model = sonko_schema.FederalFrameModel.to_schema().columns
    assert list(model) == list(sonko_schema.FEDERAL.columns())
    assert {n for n, c in model.items() if not c.nullable} == {"inn", "full_name"}
    flagged = inn_ogrn_flags_frame(federal).drop("_row", "_errors")
    sonko_schema.FederalFrameModel.validate(flagged.filter(pl.col("inn").is_not_null()))
    assert sonko_schema.FEDERAL.frame_model is sonko_schema.FederalFrameModel
    assert_frame_path_is_the_row_path(federal, sonko_schema.FEDERAL, valid=19)


def assert_frame_path_is_the_row_path(frame: pl.DataFrame, entity, *, valid: int) -> None:
    """The frame validated as columns keeps and quarantines exactly what its records
    validated one by one do: the same rows, values and reasons."""
    rows = validate(records_of(frame), entity)
    columns = validate_frame(frame, entity)
    assert len(rows.valid) == columns.valid.num_rows == valid
    assert [sorted(r.items()) for r in columns.valid.to_pylist()] == [
        sorted((k, v) for k, v in r.items() if k != "_errors") for r in rows.valid]
    assert [(q.row, q.record, q.reasons, q.meta) for q in columns.quarantined] == [
        (q.row, q.record, q.reasons, q.meta) for q in rows.quarantined]


@pytest.fixture(scope="module")
def agreements() -> pl.DataFrame:
    path = next((FIXTURES_DIR / "budget.gov.ru/epbs/registry/grants").glob("data@pageNum=1*"))
    return ebudget.parse_agreements(path.read_bytes(), url="https://budget.gov.ru/page1",
                                    include_all=True)


def test_agreements_frame_types(agreements):
    schema = agreements.schema
    assert schema["amount"] == pl.Decimal(18, 2)
    assert schema["kbk"] == pl.List(pl.String)
    assert schema["agreement_date"] == pl.Date
    assert schema["amendment_count"] == schema["recipient_count"] == pl.Int32
    assert schema["is_nonprofit"] == schema["repaired"] == pl.Boolean
    assert agreements["amount"][0] == Decimal("500000.00")


def test_agreements_frame_path_is_the_row_path(agreements):
    records = records_of(agreements)
    assert [k for k in records[0] if not k.startswith("_")][:3] == [
        "agreement_id", "reg_num", "agreement_number"]
    assert ebudget_schema.AGREEMENTS.frame_model is ebudget_schema.AgreementFrameModel
    assert_frame_path_is_the_row_path(agreements, ebudget_schema.AGREEMENTS, valid=5)


def test_periods_frame_types_and_path():
    path = next((FIXTURES_DIR / "budget.gov.ru/epbs/registry/grants").glob("data@pageNum=1*"))
    periods = ebudget.parse_agreement_periods(path.read_bytes(), url="https://budget.gov.ru/p1",
                                              include_all=True)
    schema = periods.schema
    assert schema["amount"] == pl.Decimal(18, 2)
    assert schema["year"] == schema["month"] == pl.Int32
    assert schema["_errors"] == pl.List(pl.String)
    assert set(ebudget_schema.PERIODS.columns()) == {
        c for c in periods.columns if not c.startswith("_")}
    assert_frame_path_is_the_row_path(periods, ebudget_schema.PERIODS, valid=len(periods))
