"""Loads straight from Parquet files (`replace_entity_files`, the ФПГ cards' load)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from pipelines.duckdb_config import connect
from pipelines.paths import WarehousePaths
from pipelines.store import (
    entity_batches,
    last_load,
    memory_at_most,
    replace_entity_batches,
    replace_entity_files,
    store_writer,
)
from schemas.base import validate
from tests.test_validation_store import ENTITY, _rec

LINEAGE = {"_source": "demo", "_parser_version": "demo/1"}


def _contest_files(folder: Path) -> tuple[list, list, list[Path], list[Path]]:
    """Two contests' validated and quarantined rows, as Arrow tables and as Parquet files
    written the way the cards' steps write them (the second contest quarantines nothing)."""
    contests = [
        [_rec(1, _source_url="u1", _raw_sha256="s1", _fetched_at="2026-01-01T10:00:00+03:00",
              starts=date(2025, 2, 3), inn="7707083893"),
         _rec(2, amount=Decimal("-1"), _source_url="u2"),
         _rec(3, amount=Decimal("12345.67"), _fetched_at="2026-01-02 08:00:00")],
        [_rec(4, _source_url="u4", ogrn="1027700132195"), _rec(5, amount=None)],
    ]
    valid, held, valid_files, held_files = [], [], [], []
    for n, records in enumerate(contests):
        v, q = entity_batches(ENTITY, validate(records, ENTITY), LINEAGE)
        valid.append(v)
        held.append(q)
        for table, files, name in ((v, valid_files, f"c{n}.parquet"),
                                   (q, held_files, f"c{n}.quarantine.parquet")):
            pq.write_table(table, folder / name)
            files.append(folder / name)
    return valid, held, valid_files, held_files


def _rows(db: Path) -> tuple[list, list]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        # In the order the rows went in: the files' order, then each file's.
        return (con.execute("SELECT * FROM raw.demo__things ORDER BY rowid").fetchall(),
                con.execute("SELECT * FROM quarantine.demo__things ORDER BY rowid").fetchall())
    finally:
        con.close()


def test_files_load_the_same_rows_and_counts_as_their_arrow_batches(tmp_path):
    valid, held, valid_files, held_files = _contest_files(tmp_path)
    from_batches, from_files = WarehousePaths(tmp_path / "a"), WarehousePaths(tmp_path / "b")
    with store_writer(from_batches) as con:
        expected = replace_entity_batches(con, ENTITY, valid, held, parsed=5, input_digest="d1")
    with store_writer(from_files) as con:
        counts = replace_entity_files(con, ENTITY, valid_files, held_files, parsed=5,
                                      input_digest="d1", memory_limit="256MB")
        assert last_load(con, ENTITY.table).counts == counts
        assert last_load(con, ENTITY.table).input_digest == "d1"
    assert (counts.loaded, counts.quarantined) == (4, 1)
    assert counts == expected
    raw, quarantined = _rows(from_files.store_db)
    assert [r[0] for r in raw] == ["n1", "n3", "n4", "n5"]
    assert (raw, quarantined) == _rows(from_batches.store_db)


def test_a_file_load_that_fails_leaves_the_rows_digest_and_memory_limit(tmp_path):
    _, _, valid_files, held_files = _contest_files(tmp_path)
    paths = WarehousePaths(tmp_path / "wh")
    with store_writer(paths) as con:
        replace_entity_files(con, ENTITY, valid_files, held_files, parsed=5, input_digest="d1")
        limit = _limit(con)
        with pytest.raises(duckdb.IOException):
            replace_entity_files(con, ENTITY, [*valid_files, tmp_path / "missing.parquet"],
                                 held_files, parsed=9, input_digest="d2",
                                 memory_limit="256MB")
        assert abs(_limit(con) - limit) < 2**20  # put back, as DuckDB prints it to 0.1 MiB
        assert last_load(con, ENTITY.table).input_digest == "d1"
        assert con.execute("SELECT count(*) FROM raw.demo__things").fetchone()[0] == 4
        assert con.execute("SELECT count(*) FROM quarantine.demo__things").fetchone()[0] == 1


def _limit(con: duckdb.DuckDBPyConnection) -> int:
    """DuckDB's memory limit in bytes."""
    return con.execute(
        "SELECT parse_formatted_bytes(current_setting('memory_limit'))").fetchone()[0]


def test_memory_at_most_lowers_the_limit_inside_and_never_raises_it():
    con = connect(limit="1GB")
    try:
        with memory_at_most(con, "256MB"):
            assert abs(_limit(con) - 256 * 10**6) < 2**20
        assert abs(_limit(con) - 10**9) < 2**20
        with memory_at_most(con, None):
            assert abs(_limit(con) - 10**9) < 2**20
    finally:
        con.close()
    con = connect(limit="128MB")
    try:
        with memory_at_most(con, "256MB"):
            assert abs(_limit(con) - 128 * 10**6) < 2**20
    finally:
        con.close()
