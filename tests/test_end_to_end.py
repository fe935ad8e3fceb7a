"""Build the whole warehouse from samples through a real local HTTP server, and check it."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from scrapers import oprf2013
from scrapers.samples import SAMPLES_DIR, sample_relpath
from tests.conftest import REAL


def _query(db: Path, sql: str, params=None):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    warehouse = tmp_path_factory.mktemp("warehouse")
    assert main(["build", "--warehouse", str(warehouse)]) == 0
    return warehouse


def test_published_warehouse_has_every_public_table(built):
    db = built / "socfund.duckdb"
    tables = {r[0] for r in _query(db, "select table_name from information_schema.tables "
                                       "where table_schema = 'main'")}
    assert {"dim_region", "dim_programme", "dim_organisation", "fact_application",
            "fact_grant", "mart_region_year"} <= tables
    assert not (built / ".build" / "socfund.duckdb").exists()


def test_only_public_tables_in_main(built):
    db = built / "socfund.duckdb"
    schemas = {r[0] for r in _query(
        db, "select distinct table_schema from information_schema.tables")}
    assert schemas <= {"main", "raw", "quarantine", "staging", "intermediate", "reference"}
    main_tables = {r[0] for r in _query(db, "select table_name from information_schema.tables "
                                            "where table_schema = 'main'")}
    assert all(t.startswith(("dim_", "fact_", "mart_")) for t in main_tables), main_tables


def test_counts_reconcile_from_source_to_mart(built):
    db = built / "socfund.duckdb"
    (grants, awarded) = _query(db, "select count(*), sum(amount_awarded) from fact_grant")[0]
    (mart_grants, mart_awarded) = _query(
        db, "select sum(grants), sum(amount_awarded) from mart_region_year")[0]
    assert grants > 0 and mart_grants == grants and mart_awarded == awarded
    (raw_oprf,) = _query(db, "select count(*) from raw.oprf2013__grants")[0]
    (fact_oprf,) = _query(db, "select count(*) from fact_grant where source = 'oprf2013'")[0]
    assert fact_oprf == raw_oprf
    (applications,) = _query(db, "select count(*) from fact_application")[0]
    (bulk,) = _query(db, "select count(distinct application_number) from raw.fpg__applications")[0]
    assert applications >= bulk


def test_quarantine_holds_the_broken_sample_rows_with_reasons(built):
    db = built / "socfund.duckdb"
    rows = _query(db, "select _row, reasons, record from quarantine.oprf2013__grants")
    assert rows, "the 2013 sample has a row whose amount does not parse"
    assert all(reasons for _, reasons, _ in rows)
    rows = _query(db, "select reasons from quarantine.fpg__applications")
    assert rows and all(r[0] for r in rows)


def test_fetch_log_records_every_document(built):
    db = built / "socfund.duckdb"
    (n, with_sha) = _query(db, "select count(*), count(sha256) from raw.fetch_log")[0]
    assert n > 0 and with_sha == n
    for (sha,) in _query(db, "select distinct _raw_sha256 from raw.fpg__cards"):
        assert (built / "raw" / "fpg" / sha).exists()


def test_every_record_has_a_region(built):
    db = built / "socfund.duckdb"
    assert _query(db, "select count(*) from fact_grant where region_code is null")[0][0] == 0
    assert _query(db, "select count(*) from fact_application where region_code is null")[0][0] == 0


def test_second_build_gives_the_same_counts(built):
    db = built / "socfund.duckdb"
    sql = ("select schema_name || '.' || table_name from duckdb_tables() "
           "where schema_name in ('raw', 'quarantine', 'main') and table_name <> 'fetch_log' "
           "order by 1")
    before = {t: _query(db, f"select count(*) from {t}")[0][0] for (t,) in _query(db, sql)}
    (requests_before,) = _query(db, "select count(*) from raw.fetch_log")[0]
    assert main(["build", "--warehouse", str(built)]) == 0
    after = {t: _query(db, f"select count(*) from {t}")[0][0] for (t,) in _query(db, sql)}
    assert after == before  # loads replace, they never append
    # The log is a log: the second night's requests are added, each answered 304
    # (conditional GET against the ETags the first night kept).
    new = _query(db, "select status, not_modified from raw.fetch_log "
                     "order by fetched_at, url offset ?", [requests_before])
    assert len(new) == requests_before
    assert all(status == 304 and not_modified for status, not_modified in new)


def test_real_2013_file_through_the_whole_pipeline(tmp_path):
    """The real 2013 file, served where the sample sits: 1 087 grants, all with a region."""
    samples = tmp_path / "samples"
    shutil.copytree(SAMPLES_DIR, samples)
    target = samples / sample_relpath(oprf2013.CSV_URL)
    shutil.copyfile(REAL / "oprf_grants_2013.csv", target)
    warehouse = tmp_path / "warehouse"
    assert main(["build", "--warehouse", str(warehouse), "--samples", str(samples)]) == 0
    db = warehouse / "socfund.duckdb"
    n, total, no_region, invalid = _query(
        db,
        "select count(*), sum(amount_awarded), count(*) filter (where region_code is null), "
        "count(*) filter (where not ogrn_valid) from fact_grant where source = 'oprf2013'",
    )[0]
    assert (n, total, no_region, invalid) == (1087, Decimal("2175799999.00"), 0, 6)
    methods = dict(_query(db, "select region_method, count(*) from fact_grant "
                              "where source = 'oprf2013' group by 1"))
    assert methods["source_region"] == 1087 - 547
    assert methods["city"] + methods["ogrn_prefix"] == 547
