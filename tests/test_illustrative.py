"""A build from invented documents says so on every row and at the top of every file; a build
from real documents says nothing of the kind.

One build from `tests/fixtures` (its `ILLUSTRATIVE` file makes it illustrative) and one
from the default `samples/` (real documents) for the module; a third rebuilds the first's
raw store with `--from-raw`.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pyarrow.parquet as pq

from pipelines.cli import main
from pipelines.duckdb_config import quote_ident
from pipelines.illustrative import (
    COLUMN_DESCRIPTION,
    MARKER,
    PAGE_WARNING_RU,
    BuildOrigin,
    fetched_from,
    kept_origin,
    read_build,
)
from pipelines.publish.release import read_latest
from scrapers.samples import FIXTURES_DIR, SAMPLES_DIR


def _public_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [t for (t,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' "
        "ORDER BY 1").fetchall()]


def _marked_columns(db: Path) -> dict[str, tuple[int, int, bool]]:
    """Per public table: rows, rows marked true, whether the column is NOT NULL; only the
    tables that have the column."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for table in _public_tables(con):
            has = con.execute(
                "SELECT NOT is_nullable FROM duckdb_columns() WHERE schema_name = 'main' "
                "AND table_name = ? AND column_name = 'illustrative'", [table]).fetchall()
            if has:
                rows, marked = con.execute(
                    f"SELECT count(*), count(*) FILTER (WHERE illustrative) "
                    f"FROM main.{quote_ident(table)}").fetchone()
                out[table] = (rows, marked, has[0][0])
        return out
    finally:
        con.close()


def _build_row(db: Path) -> BuildOrigin:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return read_build(con)
    finally:
        con.close()


def _release(warehouse: Path) -> Path:
    release = read_latest(warehouse / "exports")
    assert release is not None and release.is_dir()
    return release


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


# ------------------------------------------------------------------ the provenance


def test_a_folder_with_the_marker_file_is_illustrative(tmp_path):
    assert (FIXTURES_DIR / MARKER).is_file()
    assert not (SAMPLES_DIR / MARKER).exists()
    assert fetched_from(False, FIXTURES_DIR)["illustrative"] is True
    assert fetched_from(False, SAMPLES_DIR)["illustrative"] is False
    assert fetched_from(True, FIXTURES_DIR) == {"mode": "live"}


def test_the_raw_store_is_illustrative_when_any_manifest_says_so(tmp_path):
    def manifest(source: str, origin: dict | None) -> None:
        (tmp_path / source).mkdir()
        body = {"source": source, "documents": []}
        if origin is not None:
            body["fetched_from"] = origin
        (tmp_path / source / "manifest.json").write_text(json.dumps(body), encoding="utf-8")

    manifest("old", None)  # fetched before fetches recorded their origin
    manifest("real", fetched_from(False, SAMPLES_DIR))
    assert kept_origin(tmp_path) == BuildOrigin(False, str(SAMPLES_DIR.resolve()))
    # A source whose fetch failed keeps documents of an earlier, illustrative fetch.
    manifest("kept", fetched_from(False, FIXTURES_DIR))
    origin = kept_origin(tmp_path)
    assert origin.illustrative
    assert origin.samples_dir == "; ".join(sorted([str(FIXTURES_DIR.resolve()),
                                                   str(SAMPLES_DIR.resolve())]))
    assert kept_origin(tmp_path / "none") == BuildOrigin()


# ------------------------------------------------------------------ a fixture build


def test_every_public_table_of_a_fixture_build_is_marked_on_every_row(fixture_build):
    db = fixture_build / "socfund.duckdb"
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = _public_tables(con)
    finally:
        con.close()
    marked = _marked_columns(db)
    assert len(tables) >= 9 and sorted(marked) == tables
    for table, (rows, true_rows, not_null) in marked.items():
        assert true_rows == rows, table
        assert not_null, table
    assert marked["fact_grant"][0] > 0
    origin = _build_row(db)
    assert origin.illustrative
    assert origin.samples_dir == str(FIXTURES_DIR.resolve())


def test_every_csv_of_a_fixture_release_starts_with_the_marker_true_on_every_row(
        fixture_build):
    release = _release(fixture_build)
    files = [*sorted((release / "csv").glob("*.csv")), release / "quarantine" / "records.csv",
             release / "360giving" / "grants.csv"]
    assert len(files) >= 11
    for path in files:
        header, *rows = _csv_rows(path)
        assert header[0] == "illustrative", path.name
        assert all(row[0] == "true" for row in rows), path.name
    assert len(_csv_rows(release / "csv" / "fact_grant.csv")) > 1


def test_every_parquet_and_xlsx_of_a_fixture_release_starts_with_the_marker(fixture_build):
    release = _release(fixture_build)
    for path in sorted((release / "parquet").glob("*.parquet")):
        table = pq.read_table(path)
        assert table.column_names[0] == "illustrative", path.name
        assert all(table.column(0).to_pylist()), path.name
    books = sorted((release / "xlsx").glob("*.xlsx"))
    assert books
    for path in books:
        book = openpyxl.load_workbook(path, read_only=True)
        try:
            data = book[book.sheetnames[0]]
            column = [row[0] for row in data.iter_rows(min_col=1, max_col=1, values_only=True)]
            assert column[0] == "illustrative", path.name
            assert all(v == "true" for v in column[1:]), path.name
            about = next(book["about"].iter_rows(max_row=1, values_only=True))
            assert about[0] == "ILLUSTRATIVE", path.name
            assert "Демонстрационная сборка" in about[2] and "invented" in about[2]
        finally:
            book.close()


def test_the_datapackage_dictionary_and_readme_of_a_fixture_release_say_so(fixture_build):
    release = _release(fixture_build)
    package = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    assert package["title"].startswith("ILLUSTRATIVE —")
    first_sentence = package["description"].split(". ")[0]
    assert "invented documents" in first_sentence and "demonstration" in first_sentence
    for resource in package["resources"]:
        field = resource["schema"]["fields"][0]
        assert field["name"] == "illustrative", resource["name"]
        assert field["type"] == "boolean"
        assert field["description"] == COLUMN_DESCRIPTION
    dictionary = (release / "data-dictionary.md").read_text(encoding="utf-8")
    assert COLUMN_DESCRIPTION in dictionary
    assert "ILLUSTRATIVE" in dictionary.split("## Tables")[0]
    readme = (release / "README.md").read_text(encoding="utf-8")
    first_line = readme.splitlines()[0]
    assert first_line.startswith("**ILLUSTRATIVE") and "invented" in first_line
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    assert "README.md" in {entry["path"] for entry in manifest}


def test_the_page_of_a_fixture_build_opens_with_the_banner(fixture_build):
    page = (fixture_build / "site" / "index.html").read_text(encoding="utf-8")
    assert PAGE_WARNING_RU in page
    body = page.split("<body>", 1)[1]
    assert body.index('class="illustrative"') < body.index("<header")


def test_a_rebuild_from_the_raw_store_of_a_fixture_build_stays_illustrative(
        fixture_build, tmp_path):
    warehouse = tmp_path / "from_raw"
    shutil.copytree(fixture_build, warehouse, symlinks=True,
                    ignore=shutil.ignore_patterns("socfund.duckdb", ".last-good-build",
                                                  "exports", "site", ".build"))
    assert main(["build", "--warehouse", str(warehouse), "--from-raw"]) == 0
    db = warehouse / "socfund.duckdb"
    marked = _marked_columns(db)
    assert marked and all(rows == true_rows for rows, true_rows, _ in marked.values())
    assert _build_row(db).illustrative
    assert PAGE_WARNING_RU in (warehouse / "site" / "index.html").read_text(encoding="utf-8")


# ------------------------------------------------------------------ a real build


def test_a_real_build_has_no_marker_column_and_records_it_is_not_illustrative(real_build):
    db = real_build / "socfund.duckdb"
    assert _marked_columns(db) == {}
    origin = _build_row(db)
    assert origin == BuildOrigin(False, str(SAMPLES_DIR.resolve()))


def test_a_real_release_and_page_carry_no_warning(real_build):
    release = _release(real_build)
    for path in sorted((release / "csv").glob("*.csv")):
        assert _csv_rows(path)[0][0] != "illustrative", path.name
    package = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    assert "ILLUSTRATIVE" not in package["title"] + package["description"]
    assert all(r["schema"]["fields"][0]["name"] != "illustrative"
               for r in package["resources"])
    readme = (release / "README.md").read_text(encoding="utf-8")
    assert readme.splitlines()[0] == f"# socfund release {release.name}"
    assert "ILLUSTRATIVE" not in readme
    assert "`csv/fact_grant.csv`" in readme and "`SHA256SUMS`" in readme
    page = (real_build / "site" / "index.html").read_text(encoding="utf-8")
    assert "Демонстрационная сборка" not in page
    assert 'class="illustrative"' not in page
