"""A night that fails leaves yesterday's warehouse intact; an unknown region name is an
error offline and a warning (row kept, region unknown) on a live night."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import openpyxl

from pipelines.cli import main
from pipelines.paths import DBT_PROJECT_DIR
from scrapers import fpg
from scrapers.samples import FIXTURES_DIR, sample_relpath

UNKNOWN = "Неведомая область"


def _samples_with_unknown_region(root: Path) -> Path:
    samples = root / "samples"
    shutil.copytree(FIXTURES_DIR, samples)
    xlsx = samples / sample_relpath(fpg.BASE_URL + "/upload/opendata/projects.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.read_bytes()))
    sheet = book.active
    carded = {
        item["application_number"]
        for page in (1, 2, 3)
        for item in fpg.parse_list((samples / sample_relpath(fpg.list_page_url(page))).read_bytes())
    }

    def key(value: object) -> str:  # the sample's headers break lines and spaces oddly
        return " ".join(str(value).split()).lower()

    header = next(row for row in sheet.iter_rows()
                  if any(c.value and key(c.value) == "регион" for c in row))
    columns = {key(c.value): c.column for c in header if c.value}
    number_col, region_col = columns["номер заявки"], columns["регион"]
    # A row without a card: its region can come from the bulk file alone.
    target = next(r for r in range(header[0].row + 1, sheet.max_row + 1)
                  if sheet.cell(r, number_col).value
                  and str(sheet.cell(r, number_col).value).strip() not in carded)
    sheet.cell(row=target, column=region_col, value=UNKNOWN)
    book.save(xlsx)
    return samples


def _dbt_test(build_db: Path, store_db: Path, live: bool) -> subprocess.CompletedProcess:
    env = {**os.environ, "SOCFUND_BUILD_DB": str(build_db), "SOCFUND_STORE_DB": str(store_db),
           "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)}
    dbt = Path(sys.executable).parent / "dbt"
    vars_ = '{"live": true}' if live else '{"live": false}'
    return subprocess.run(
        [str(dbt), "test", "--select", "fact_application", "--vars", vars_],
        cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, timeout=600,
    )


def test_unknown_region_fails_offline_keeps_yesterday_and_warns_live(tmp_path):
    warehouse = tmp_path / "warehouse"
    # Libraries set variables of their own once, when imported (pandera: SPARK_LOCAL_IP);
    # the build itself must set none.
    import pipelines.definitions  # noqa: F401

    environment = dict(os.environ)
    assert main(["build", "--warehouse", str(warehouse), "--samples", str(FIXTURES_DIR)]) == 0
    # dbt got the warehouse's paths as vars: the run changed nothing in the environment.
    assert dict(os.environ) == environment
    published = warehouse / "socfund.duckdb"
    before = published.read_bytes()

    samples = _samples_with_unknown_region(tmp_path)
    assert main(["build", "--warehouse", str(warehouse), "--samples", str(samples)]) == 1

    # Yesterday's warehouse is untouched, byte for byte, and still readable.
    assert published.read_bytes() == before
    con = duckdb.connect(str(published), read_only=True)
    assert con.execute("select count(*) from fact_application "
                       "where region_reported = ?", [UNKNOWN]).fetchone()[0] == 0
    con.close()

    # The build left aside has the row, with the region unknown and flagged.
    build_db = warehouse / ".build" / "socfund.duckdb"
    con = duckdb.connect(str(build_db), read_only=True)
    row = con.execute("select region_code, region_method from fact_application "
                      "where region_reported = ?", [UNKNOWN]).fetchone()
    con.close()
    assert row == (None, "unknown_name")

    offline = _dbt_test(build_db, warehouse / "store.duckdb", live=False)
    assert offline.returncode == 1 and "region_resolved" in offline.stdout
    live = _dbt_test(build_db, warehouse / "store.duckdb", live=True)
    assert live.returncode == 0, live.stdout[-2000:]
    assert "WARN" in live.stdout and "region_resolved" in live.stdout
