"""Validation sends failing records to quarantine with every reason; loads replace, never append."""

from __future__ import annotations

import gc
import json
from datetime import date
from decimal import Decimal

import duckdb
import pandera.pandas as pa
import polars as pl
import pyarrow
import pytest
from pandera.typing import Series

from pipelines.paths import WarehousePaths
from pipelines.store import (
    _json_default,
    _one_thread,
    replace_entity,
    store_writer,
    to_json,
)
from schemas.base import (
    Entity,
    ValidatedFrame,
    arrow_type,
    inn_ogrn_flags,
    money_field,
    non_negative,
    typed_field,
    validate,
)
from schemas.records import cycles_not_collected, with_lineage


class _Model(pa.DataFrameModel):
    native_id: Series[str] = pa.Field(nullable=False)
    amount: Series[object] = money_field()
    starts: Series[object] = typed_field("DATE")
    inn: Series[str] = pa.Field(nullable=True)
    inn_valid: Series[object] = typed_field("BOOLEAN")
    ogrn: Series[str] = pa.Field(nullable=True)
    ogrn_valid: Series[object] = typed_field("BOOLEAN")

    @pa.check("amount", element_wise=True)
    def amount_non_negative(cls, v) -> bool:
        return non_negative(v)


ENTITY = Entity("demo", "things", _Model, prepare=inn_ogrn_flags, key=("native_id",))


def _rec(i, **kw):
    base = {"native_id": f"n{i}", "amount": Decimal("10.00"), "starts": None, "inn": None,
            "ogrn": None, "_row": i}
    base.update(kw)
    return base


def test_columns_come_from_the_model():
    cols = ENTITY.columns()
    assert cols["amount"] == "DECIMAL(18,2)"
    assert cols["starts"] == "DATE"
    assert cols["native_id"] == "VARCHAR"


def test_every_reason_is_kept():
    bad = _rec(2, native_id=None, amount=Decimal("-5"))
    bad["_errors"] = ["starts: not a date: '31.02.2020'"]
    result = validate([_rec(1), bad], ENTITY)
    assert [r["native_id"] for r in result.valid] == ["n1"]
    (q,) = result.quarantined
    assert q.row == 2
    assert any("native_id" in r for r in q.reasons)
    assert any("amount" in r and "-5" in r for r in q.reasons)
    assert "starts: not a date: '31.02.2020'" in q.reasons
    assert result.parsed == 2


def test_invalid_identifier_is_a_flag_not_a_failure():
    result = validate([_rec(1, inn="7707083890", ogrn="1095200000224")], ENTITY)
    (rec,) = result.valid
    assert rec["inn_valid"] is False and rec["ogrn_valid"] is True


def test_load_replaces_rows_and_reconciles(tmp_path):
    paths = WarehousePaths(tmp_path)
    lineage = {"_source": "demo", "_parser_version": "demo/1"}
    batch = [_rec(1, _source_url="u", _raw_sha256="s", _fetched_at="2026-01-01T00:00:00+00:00"),
             _rec(2, amount=Decimal("-1"))]
    for _ in range(2):  # a repeated run gives the same counts
        with store_writer(paths) as con:
            counts = replace_entity(con, ENTITY, validate(batch, ENTITY), lineage)
        assert (counts.parsed, counts.loaded, counts.quarantined) == (2, 1, 1)
        assert counts.reconciles
    con = duckdb.connect(str(paths.store_db), read_only=True)
    assert con.execute("select count(*) from raw.demo__things").fetchone()[0] == 1
    row = con.execute("select amount, _source, _row, _source_url from raw.demo__things").fetchone()
    assert row == (Decimal("10.00"), "demo", 1, "u")
    reasons, record = con.execute("select reasons, record from quarantine.demo__things").fetchone()
    assert any("amount" in r for r in reasons)
    assert '"native_id": "n2"' in record
    con.close()


def _frame_batch(fetched_at: list[str | None]) -> ValidatedFrame:
    """A validated frame of ENTITY's columns with these fetch times, one row each."""
    n = len(fetched_at)
    columns = {name: pyarrow.nulls(n, arrow_type(duck)) for name, duck in ENTITY.columns().items()}
    columns["native_id"] = pyarrow.array([f"n{i}" for i in range(n)])
    columns["_row"] = pyarrow.array(range(n), pyarrow.int32())
    columns["_fetched_at"] = pyarrow.array(fetched_at, pyarrow.string())
    return ValidatedFrame(pyarrow.table(columns))


@pytest.mark.parametrize("fetched_at", [
    ["2026-03-01T16:35:01+00:00", "2026-03-01T19:35:01+03:00", None,
     "2026-03-01T16:35:01.250000+00:00", "2026-03-01T16:35:01+00:00"],
    # One without its offset: DuckDB reads it in the session's time zone.
    ["2026-03-01T16:35:01+00:00", "2026-03-01 16:35:01"],
])
def test_fetch_times_of_a_frame_load_as_duckdb_reads_their_text(tmp_path, fetched_at):
    paths = WarehousePaths(tmp_path)
    lineage = {"_source": "demo", "_parser_version": "demo/1"}
    with store_writer(paths) as con:
        replace_entity(con, ENTITY, _frame_batch(fetched_at), lineage)
        stored = con.execute("SELECT _fetched_at FROM raw.demo__things ORDER BY _row").fetchall()
        read = [con.execute("SELECT CAST(? AS TIMESTAMPTZ)", [text]).fetchall()[0]
                for text in fetched_at]
        assert stored == read
        (kind,) = con.execute(
            "SELECT data_type FROM information_schema.columns WHERE table_schema = 'raw' "
            "AND table_name = 'demo__things' AND column_name = '_fetched_at'").fetchone()
        assert kind == "TIMESTAMP WITH TIME ZONE"


def test_a_small_batch_goes_in_on_one_thread_and_gives_the_threads_back(tmp_path):
    """A batch under one row group is inserted on one thread (faster, see `_one_thread`);
    the connection keeps its threads after the load, and after a load that failed."""
    paths = WarehousePaths(tmp_path)
    lineage = {"_source": "demo", "_parser_version": "demo/1"}
    with store_writer(paths) as con:
        con.execute("SET threads = 2")
        for wanted, inside in ((True, 1), (False, 2)):
            with _one_thread(con, wanted):
                assert con.execute("SELECT current_setting('threads')").fetchone()[0] == inside
        with pytest.raises(RuntimeError), _one_thread(con, True):
            raise RuntimeError("an insert failing")
        assert con.execute("SELECT current_setting('threads')").fetchone()[0] == 2
        replace_entity(con, ENTITY, _frame_batch(["2026-03-01T16:35:01+00:00"] * 3), lineage)
        assert con.execute("SELECT current_setting('threads')").fetchone()[0] == 2
        assert con.execute("SELECT count(*) FROM raw.demo__things").fetchone()[0] == 3
        with pytest.raises(duckdb.ConversionException):
            replace_entity(con, ENTITY, _frame_batch(["not a time"]), lineage)
        assert con.execute("SELECT current_setting('threads')").fetchone()[0] == 2
        # The failed load left the rows before it.
        assert con.execute("SELECT count(*) FROM raw.demo__things").fetchone()[0] == 3


def test_quarantined_record_json_is_json_dumps():
    record = {"name": "Фонд \"Добро\"\n\t\x01", "amount": Decimal("12.50"),
              "whole": Decimal("7.00"), "day": date(2026, 3, 1), "codes": ("a", "b"),
              "none": None, "flag": True, "share": 0.1}
    assert to_json(record) == json.dumps(record, ensure_ascii=False, default=_json_default)
    assert to_json(record).startswith('{"name": "Фонд \\"Добро\\"\\n\\t\\u0001"')


def test_lineage_columns_follow_the_frame_and_replace_their_namesakes():
    lineage = {"_source_url": "u", "_raw_sha256": "s", "_fetched_at": "t"}
    frame = pl.DataFrame({"native_id": ["a", "b"], "_row": [1, 2]})
    got = with_lineage(frame, lineage)
    assert got.columns == ["native_id", "_row", *lineage]
    assert got.schema["_fetched_at"] == pl.String
    assert got.select(*lineage).rows() == [("u", "s", "t")] * 2
    assert with_lineage(frame.clear(), lineage).columns == got.columns
    again = with_lineage(got, {**lineage, "_fetched_at": "t2"})
    assert again.columns == got.columns
    assert again["_fetched_at"].to_list() == ["t2", "t2"]


@pytest.mark.parametrize("enabled", [True, False])
def test_cycles_not_collected_resumes_the_collector_as_it_was(enabled):
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        with pytest.raises(KeyError), cycles_not_collected():
            assert not gc.isenabled()
            raise KeyError("x")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
