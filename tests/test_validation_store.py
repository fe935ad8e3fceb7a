"""Validation sends failing records to quarantine with every reason; loads replace, never append."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pandera.pandas as pa
from pandera.typing import Series

from pipelines.paths import WarehousePaths
from pipelines.store import replace_entity, store_writer
from schemas.base import Entity, inn_ogrn_flags, money_field, non_negative, typed_field, validate


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
