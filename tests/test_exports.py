"""Exports: a dated release that researchers, journalists and validators can all open.

The warehouse is built once for the module; the test-only rows (text that a spreadsheet
would run as a formula, a leading-zero ИНН, negative numbers) go into a COPY of it.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import re
import shutil
import stat
import subprocess
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from pipelines import registry
from pipelines.duckdb_config import EXPORT_MEMORY_LIMIT_ENV, connect
from pipelines.duckdb_config import quote_ident as ident
from pipelines.publish import release as release_module
from pipelines.publish import xlsx as xlsx_module
from pipelines.publish.datapackage import table_resource
from pipelines.publish.dbt_docs import read_dbt_docs
from pipelines.publish.dictionary import dictionary_html, dictionary_markdown
from pipelines.publish.giving import GRANT_ID_PREFIX, giving_package, write_giving
from pipelines.publish.legal import citation_cff
from pipelines.publish.release import export_release, read_latest
from pipelines.publish.sources import source_keys_with_rows
from pipelines.publish.tables import (
    FORMULA_TRIGGERS,
    Column,
    Table,
    describe_public_tables,
    neutralise,
)
from pipelines.publish.xlsx import EXPORT_WORKERS_ENV, export_workers, write_xlsx
from schemas.identifiers import is_valid_inn, is_valid_ogrn
from tests.conftest import SHARED, query

SPECS = SHARED / "data" / "specs"
GIVING_SCHEMA_URLS = (
    "https://raw.githubusercontent.com/ThreeSixtyGiving/standard/1.4.2/schema/"
    "360-giving-schema.json",
    "https://raw.githubusercontent.com/ThreeSixtyGiving/standard/1.4.3/schema/"
    "360-giving-schema.json",
)
FIRST = date(2026, 1, 15)
SECOND = date(2026, 1, 16)

# Test-only organisations: every formula trigger, a leading-zero ИНН, a negative count.
TEST_INN = "0105012349"
INJECTED = {
    "test:eq": '=HYPERLINK("http://example.invalid/","нажми")',
    "test:plus": "+7 (495) 000-00-00",
    "test:minus": "-2+3",
    "test:at": "@SUM(A1:A2)",
    "test:tab": "\t=1+1",
    "test:cr": "\r=1+1",
}


def manifest_path() -> Path:
    from pipelines.dbt_project import dbt_project

    return Path(dbt_project.manifest_path)


# A value of each kind for the test rows' columns the dbt tests hold not null.
_NOT_NULL_FILL = {"BOOLEAN": "false", "VARCHAR": "'test'", "VARCHAR[]": "[]"}


def add_test_rows(db: Path) -> None:
    """Put the test-only rows into `db` (a copy of the warehouse, never the real one); they
    keep every not-null rule of dim_organisation, as the datapackage declares them."""
    not_null = read_dbt_docs(manifest_path()).get("main", "dim_organisation").not_null
    con = duckdb.connect(str(db))
    try:
        for i, (key, name) in enumerate(INJECTED.items()):
            con.execute(
                "INSERT INTO main.dim_organisation BY NAME SELECT ? AS organisation_key, "
                "'name_region' AS match_method, ? AS name, ? AS inn, ['test'] AS sources, "
                "-3 AS mentions", [key, name, TEST_INN if i == 0 else None])
        for column, dtype in con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'main' "
                "AND table_name = 'dim_organisation'").fetchall():
            if column in not_null:
                fill = _NOT_NULL_FILL.get(dtype, "0")
                con.execute(f"UPDATE main.dim_organisation SET {ident(column)} = {fill} "
                            f"WHERE {ident(column)} IS NULL AND organisation_key LIKE 'test:%'")
        con.execute("UPDATE main.mart_region_year SET cofinancing = -1.50 WHERE (region_code, "
                    "year) = (SELECT (region_code, year) FROM main.mart_region_year "
                    "WHERE region_code IS NOT NULL ORDER BY region_code, year LIMIT 1)")
    finally:
        con.close()


def cell_text(value):
    """A cell's text with OOXML escapes (`_x000D_` for a carriage return) decoded, as Excel
    and LibreOffice show it; openpyxl leaves them in inline strings."""
    if not isinstance(value, str):
        return value
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), value)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def warehouse(fixture_build) -> Path:
    return fixture_build / "socfund.duckdb"


@pytest.fixture(scope="module")
def poisoned(warehouse, tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("poisoned") / "socfund.duckdb"
    shutil.copyfile(warehouse, copy)
    add_test_rows(copy)
    return copy


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("exports")


@pytest.fixture(scope="module")
def release(poisoned, exports) -> Path:
    return export_release(poisoned, exports, release_date=FIRST, manifest_path=manifest_path())


@pytest.fixture(scope="module")
def public_tables(poisoned) -> list[str]:
    return [r[0] for r in query(poisoned, "SELECT table_name FROM information_schema.tables "
                                          "WHERE table_schema = 'main' ORDER BY 1")]


# ------------------------------------------------------------------ layout


def test_release_folder_holds_every_file_and_latest_names_it(release, exports, public_tables):
    assert release == exports / "2026-01-15"
    assert read_latest(exports) == release
    assert (exports / "latest").read_text(encoding="utf-8").strip() == "2026-01-15"
    for name in ("datapackage.json", "data-dictionary.md", "data-dictionary.html",
                 "360giving/grants.json", "360giving/grants.csv", "quarantine/records.csv",
                 "socfund.duckdb", "CHANGES.md", "CITATION.cff", "LICENSE.md",
                 "manifest.json", "SHA256SUMS"):
        assert (release / name).is_file(), name
    assert len(public_tables) >= 9
    for table in public_tables:
        for kind in ("csv", "parquet", "xlsx"):
            assert (release / kind / f"{table}.{kind}").is_file(), (table, kind)
    assert not [p for p in exports.iterdir() if p.name.startswith(".")], "staging left behind"


def test_duckdb_snapshot_is_read_only_and_whole(release, poisoned):
    snapshot = release / "socfund.duckdb"
    assert not snapshot.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    sql = "SELECT count(*) FROM main.fact_grant"
    assert query(snapshot, sql) == query(poisoned, sql)
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        with pytest.raises(duckdb.Error):
            con.execute("CREATE TABLE main.x AS SELECT 1")
    finally:
        con.close()


# ------------------------------------------------------------------ CSV and XLSX


def test_csv_files_start_with_a_bom_and_use_crlf(release):
    for path in [*release.glob("csv/*.csv"), release / "quarantine/records.csv",
                 release / "360giving/grants.csv"]:
        head = path.read_bytes()[:4096]
        assert head.startswith(b"\xef\xbb\xbf"), path.name
        assert b"\r\n" in head and b"\n" not in head.replace(b"\r\n", b""), path.name


def test_leading_zeros_kept_in_csv_and_xlsx(release, poisoned):
    zeros = {r[0] for r in query(poisoned, "SELECT inn FROM main.dim_organisation "
                                           "WHERE inn LIKE '0%'")}
    assert TEST_INN in zeros and len(zeros) > 1, "the sample data has leading-zero ИНН too"
    rows = read_csv(release / "csv/dim_organisation.csv")
    assert zeros <= {r["inn"] for r in rows}
    codes = {r[0] for r in query(poisoned, "SELECT region_code FROM main.dim_region "
                                           "WHERE region_code LIKE '0%'")}
    assert codes and codes <= {r["region_code"] for r in read_csv(release / "csv/dim_region.csv")}

    sheet = openpyxl.load_workbook(release / "xlsx/dim_organisation.xlsx")["dim_organisation"]
    header = [c.value for c in sheet[1]]
    inn = header.index("inn")
    cells = [row[inn] for row in sheet.iter_rows(min_row=2) if row[inn].value]
    assert zeros <= {c.value for c in cells}
    assert all(c.data_type == "s" and c.number_format == "@" for c in cells)


def test_injection_neutralised_in_csv(release):
    rows = {r["organisation_key"]: r for r in read_csv(release / "csv/dim_organisation.csv")}
    for key, name in INJECTED.items():
        assert rows[key]["name"] == "'" + name
        assert rows[key]["mentions"] == "-3", "a negative number stays a number"
    mart = read_csv(release / "csv/mart_region_year.csv")
    assert "-1.50" in {r["cofinancing"] for r in mart}
    package = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    for resource in package["resources"]:
        text = [f["name"] for f in resource["schema"]["fields"] if f["type"] == "string"]
        for row in read_csv(release / resource["path"]):
            for name in text:
                assert not row[name].startswith(FORMULA_TRIGGERS), (resource["name"], name)


def test_injection_neutralised_in_xlsx(release):
    book = openpyxl.load_workbook(release / "xlsx/dim_organisation.xlsx")
    sheet = book["dim_organisation"]
    header = [c.value for c in sheet[1]]
    key, name, mentions = (header.index(c) for c in ("organisation_key", "name", "mentions"))
    seen = {}
    for row in sheet.iter_rows(min_row=2):
        if row[key].value in INJECTED:
            seen[row[key].value] = row
    assert set(seen) == set(INJECTED)
    for k, row in seen.items():
        assert cell_text(row[name].value) == "'" + INJECTED[k] and row[name].data_type == "s"
        assert row[mentions].value == -3 and row[mentions].data_type == "n"
    for path in release.glob("xlsx/*.xlsx"):
        for ws in openpyxl.load_workbook(path).worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (path.name, ws.title, cell.coordinate)
                    if isinstance(cell.value, str):
                        assert not cell_text(cell.value).startswith(FORMULA_TRIGGERS), (
                            path.name, cell.coordinate)


def test_negative_decimals_are_numbers_in_xlsx(release):
    sheet = openpyxl.load_workbook(release / "xlsx/mart_region_year.xlsx")["mart_region_year"]
    col = [c.value for c in sheet[1]].index("cofinancing")
    values = [row[col].value for row in sheet.iter_rows(min_row=2)]
    assert -1.5 in values


@pytest.mark.parametrize(("text", "expected"), [
    ("=1+1", "'=1+1"), ("+7 495", "'+7 495"), ("-5", "'-5"), ("@A1", "'@A1"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("Москва", "Москва"), ("", ""), ("a=b", "a=b"),
    ("'=x", "'=x"),
])
def test_neutralise_rule(text, expected):
    assert neutralise(text) == expected


def test_parquet_csv_and_warehouse_row_counts_agree(release, poisoned, public_tables):
    manifest = {e["path"]: e for e in json.loads((release / "manifest.json").read_text())}
    for table in public_tables:
        (in_db,) = query(poisoned, f"SELECT count(*) FROM main.{ident(table)}")[0]
        in_csv = len(read_csv(release / "csv" / f"{table}.csv"))
        (in_parquet,) = query(poisoned, "SELECT count(*) FROM read_parquet(?)",
                              [str(release / "parquet" / f"{table}.parquet")])[0]
        assert in_csv == in_parquet == in_db, table
        assert manifest[f"csv/{table}.csv"]["rows"] == in_db
    quarantine = [r[0] for r in query(poisoned, "SELECT table_name FROM duckdb_tables() "
                                                "WHERE schema_name = 'quarantine'")]
    quarantined = sum(query(poisoned, f"SELECT count(*) FROM quarantine.{ident(t)}")[0][0]
                      for t in quarantine)
    records = read_csv(release / "quarantine/records.csv")
    assert len(records) == quarantined > 0
    assert all(r["reasons"] and r["table"] for r in records)
    assert "oprf2013__grants" in {r["table"] for r in records}


def test_parquet_is_zstd(release):
    con = duckdb.connect()
    try:
        codecs = {r[0] for r in con.execute(
            "SELECT DISTINCT compression FROM parquet_metadata(?)",
            [str(release / "parquet/fact_grant.parquet")]).fetchall()}
    finally:
        con.close()
    assert codecs == {"ZSTD"}


def test_xlsx_continues_on_new_sheets_past_the_row_limit(poisoned, tmp_path):
    docs = read_dbt_docs(manifest_path())
    con = duckdb.connect()
    try:
        con.execute("ATTACH ? AS wh (READ_ONLY)", [str(poisoned)])
        table = next(t for t in describe_public_tables(con, docs) if t.name == "fact_grant")
        # A limit that the table's rows fill two sheets and part of a third.
        per_sheet = -(-table.rows // 3) + 1
        names = write_xlsx(con, table, tmp_path / "g.xlsx", rows_per_sheet=per_sheet)
    finally:
        con.close()
    assert names == ["fact_grant", "fact_grant (2)", "fact_grant (3)"]
    book = openpyxl.load_workbook(tmp_path / "g.xlsx")
    counts = [book[n].max_row - 1 for n in names]
    assert counts[:2] == [per_sheet, per_sheet] and 0 < counts[2] < per_sheet
    assert sum(counts) == table.rows


# ------------------------------------------------------------------ datapackage


def test_datapackage_validates_with_frictionless(release):
    from frictionless import validate

    report = validate(str(release / "datapackage.json"))
    assert report.valid, report.flatten(["resourcePath", "rowNumber", "type", "note"])
    package = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    paths = {r["path"] for r in package["resources"]}
    on_disk = {p.relative_to(release).as_posix() for p in release.rglob("*.csv")}
    assert paths == on_disk
    assert package["licenses"][0]["name"] == "CC-BY-4.0"


def test_datapackage_keys_types_and_descriptions_come_from_dbt(release):
    docs = read_dbt_docs(manifest_path()).get("main", "fact_grant")
    package = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    resources = {r["name"]: r for r in package["resources"]}
    grant = resources["fact_grant"]
    assert grant["schema"]["primaryKey"] == ["grant_id"]
    assert {"fields": ["organisation_key"], "reference": {
        "resource": "dim_organisation", "fields": ["organisation_key"]}} in \
        grant["schema"]["foreignKeys"]
    fields = {f["name"]: f for f in grant["schema"]["fields"]}
    assert fields["amount_awarded"]["type"] == "number"
    assert fields["year"]["type"] == "integer"
    assert fields["decision_date"]["type"] == "date"
    assert fields["inn"]["type"] == "string"
    assert fields["inn_valid"]["type"] == "boolean"
    assert fields["amount_awarded"]["description"] == \
        docs.columns["amount_awarded"]["description"] != ""
    assert fields["grant_id"]["constraints"] == {"required": True, "unique": True}
    assert grant["description"] == docs.description != ""
    assert any(s["title"].startswith("fpg:") for s in grant["sources"])
    region = resources["dim_region"]["schema"]
    assert {"fields": ["parent_region_code"],
            "reference": {"fields": ["region_code"]}} in region["foreignKeys"]  # v2: itself
    assert resources["dim_region"]["licenses"][0]["name"] == "CC-BY-SA-4.0"
    lists = {f["name"]: f for f in resources["mart_region_year"]["schema"]["fields"]}
    assert lists["sources"]["type"] == "string" and "`;`" in lists["sources"]["description"]
    # a mart keyed by a nullable combination has no primary key, but CHANGES.md uses it
    assert "primaryKey" not in resources["mart_region_year"]["schema"]


def test_a_required_list_column_is_not_required_in_the_csv():
    # An empty list and a null are both an empty cell in the CSV.
    table = Table(name="t", relation="", description="", rows=1,
                  columns=(Column("items", "VARCHAR[]", required=True),
                           Column("name", "VARCHAR", required=True)))
    resource = table_resource(table, "csv/t.csv", "0" * 64, 0, [])
    fields = {f["name"]: f for f in resource["schema"]["fields"]}
    assert "constraints" not in fields["items"]
    assert fields["items"]["description"] == ("A list, items joined with `;`. An empty cell is "
                                              "an empty list.")
    assert fields["name"]["constraints"] == {"required": True}


def test_frictionless_catches_a_broken_foreign_key(release, tmp_path):
    from frictionless import validate

    broken = tmp_path / "broken"
    shutil.copytree(release, broken, ignore=shutil.ignore_patterns("*.duckdb", "*.xlsx"))
    path = broken / "csv/fact_grant.csv"
    text = path.read_text(encoding="utf-8-sig")
    key = read_csv(path)[0]["organisation_key"]
    path.write_text(text.replace(f",{key},", ",inn:nowhere,", 1), encoding="utf-8-sig")
    package = json.loads((broken / "datapackage.json").read_text(encoding="utf-8"))
    for r in package["resources"]:
        del r["hash"], r["bytes"]
    (broken / "datapackage.json").write_text(json.dumps(package, ensure_ascii=False))
    report = validate(str(broken / "datapackage.json"))
    assert not report.valid
    assert "foreign-key" in {e[0] for e in report.flatten(["type"])}


# ------------------------------------------------------------------ 360Giving


def giving_validator() -> Draft202012Validator:
    grant = json.loads((SPECS / "360-giving-schema.json").read_text(encoding="utf-8"))
    package = json.loads((SPECS / "360-giving-package-schema.json").read_text(encoding="utf-8"))
    resource = DRAFT202012.create_resource(grant)
    registry = Registry().with_resources([(url, resource) for url in GIVING_SCHEMA_URLS])
    return Draft202012Validator(package, registry=registry,
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_360giving_package_validates_offline(release):
    package = json.loads((release / "360giving/grants.json").read_text(encoding="utf-8"))
    errors = [f"{list(e.absolute_path)}: {e.message}"
              for e in giving_validator().iter_errors(package)]
    assert not errors, errors[:5]
    assert package["grants"]


def test_360giving_validator_rejects_a_bad_award_date(release):
    package = json.loads((release / "360giving/grants.json").read_text(encoding="utf-8"))
    package["grants"][0]["awardDate"] = "15.06.2020"
    assert list(giving_validator().iter_errors(package))


@pytest.mark.parametrize("emptied", [False, True], ids=["grants", "no-grants"])
def test_360giving_package_is_written_one_grant_at_a_time_as_json_dumps_writes_it_whole(
        release, tmp_path, emptied):
    # The streamed package must be byte for byte the package built in memory and dumped.
    snapshot = tmp_path / "snapshot.duckdb"
    shutil.copyfile(release / "socfund.duckdb", snapshot)
    snapshot.chmod(0o644)
    con = connect()
    try:
        con.execute("ATTACH ? AS wh", [str(snapshot)])
        if emptied:
            con.execute("DELETE FROM wh.main.fact_grant")
        released = date.fromisoformat(release.name)
        files, flat = write_giving(con, tmp_path / "out", released)
        package = giving_package(con, released)
    finally:
        con.close()
    written = (tmp_path / "out" / "360giving" / "grants.json").read_text(encoding="utf-8")
    assert written == json.dumps(package, ensure_ascii=False, indent=2) + "\n"
    assert bool(package["grants"]) is not emptied
    assert files[0].rows == len(package["grants"]) == flat.rows
    assert package["description"] in flat.description
    assert not list((tmp_path / "out" / "360giving").glob("tmp*"))  # the scratch file is gone


def test_360giving_grants_have_known_recipients_and_count_the_left_out(release, poisoned):
    package = json.loads((release / "360giving/grants.json").read_text(encoding="utf-8"))
    (undated,) = query(poisoned, "SELECT count(*) FROM main.fact_grant "
                                 "WHERE decision_date IS NULL AND carried_out IS NOT false")[0]
    (oprf,) = query(poisoned, "SELECT count(*) FROM main.fact_grant "
                              "WHERE source = 'oprf2013'")[0]
    assert undated >= oprf > 0
    assert f"{undated} without an award date" in package["description"]
    assert f"oprf2013: {oprf}" in package["description"]
    ids = [g["id"] for g in package["grants"]]
    assert len(ids) == len(set(ids))
    assert all(i.startswith(f"{GRANT_ID_PREFIX}-") for i in ids)
    assert not [i for i in ids if ":oprf2013:" in i or i.startswith(f"{GRANT_ID_PREFIX}-oprf")]
    for g in package["grants"]:
        (org,) = g["recipientOrganization"]
        scheme, _, number = org["id"].rpartition("-")
        assert (scheme == "RU-INN" and is_valid_inn(number)) or (
            scheme == "RU-OGRN" and is_valid_ogrn(number)), org["id"]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", g["awardDate"])
        assert g["fundingOrganization"][0]["name"]
    (dated,) = query(poisoned, "SELECT count(*) FROM main.fact_grant WHERE decision_date IS "
                               "NOT NULL AND carried_out IS NOT false AND (inn_valid OR "
                               "ogrn_valid)")[0]
    assert len(package["grants"]) == dated
    flat = read_csv(release / "360giving/grants.csv")
    assert [r["Identifier"] for r in flat] == ids
    assert all(r["Award Date"] and r["Recipient Org:Identifier"] for r in flat)


# ------------------------------------------------------------------ CHANGES, checksums, docs


def test_first_release_says_so(release):
    text = (release / "CHANGES.md").read_text(encoding="utf-8")
    assert "First release" in text


def changes_rows(text: str) -> dict[str, list[str]]:
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 6 and cells[0] not in ("table", "---"):
            rows[cells[0]] = cells
    return rows


def test_changes_after_a_second_release_count_one_changed_row(release, poisoned, exports,
                                                               tmp_path, public_tables):
    second_db = tmp_path / "socfund.duckdb"
    shutil.copyfile(poisoned, second_db)
    con = duckdb.connect(str(second_db))
    try:
        (grant_id,) = con.execute("SELECT min(grant_id) FROM main.fact_grant").fetchone()
        con.execute("UPDATE main.fact_grant SET title = title || ' (исправлено)' "
                    "WHERE grant_id = ?", [grant_id])
    finally:
        con.close()
    second = export_release(second_db, exports, release_date=SECOND,
                            manifest_path=manifest_path())
    assert read_latest(exports) == second
    text = (second / "CHANGES.md").read_text(encoding="utf-8")
    assert "Compared with release 2026-01-15" in text
    rows = changes_rows(text)
    # | table | key | rows | added | changed | removed | notes |
    assert rows["fact_grant"][1] == "grant_id"
    assert rows["fact_grant"][3:6] == ["0", "1", "0"]
    assert set(public_tables) <= set(rows)
    for table in public_tables:
        if table != "fact_grant":
            assert rows[table][3:6] == ["0", "0", "0"], (table, rows[table])
    assert rows["mart_region_year"][1] == "region_code, year"


def test_sha256sums_verify_every_file(release):
    listed = {}
    for line in (release / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, path = line.split("  ", 1)
        listed[path] = digest
    on_disk = {p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()}
    assert set(listed) == on_disk - {"SHA256SUMS"}
    for path, digest in listed.items():
        assert hashlib.sha256((release / path).read_bytes()).hexdigest() == digest, path
    if shutil.which("sha256sum"):
        out = subprocess.run(["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=release,
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr


def test_manifest_lists_downloads_with_sizes_and_hashes(release):
    entries = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    assert {"path", "format", "table", "rows", "bytes", "sha256", "description"} <= set(
        entries[0])
    on_disk = {p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()}
    assert {e["path"] for e in entries} == on_disk - {"SHA256SUMS", "manifest.json"}
    for e in entries:
        data = (release / e["path"]).read_bytes()
        assert e["bytes"] == len(data) and e["sha256"] == hashlib.sha256(data).hexdigest()
        assert e["description"]


def test_data_dictionary_documents_every_table_and_column(release, poisoned, public_tables):
    md = (release / "data-dictionary.md").read_text(encoding="utf-8")
    page = (release / "data-dictionary.html").read_text(encoding="utf-8")
    for table in public_tables:
        assert f"## {table}" in md and f'id="{table}"' in page
        for (column,) in query(poisoned, "SELECT column_name FROM information_schema.columns "
                                         "WHERE table_schema = 'main' AND table_name = ?",
                               [table]):
            assert f"| `{column}` |" in md, (table, column)
            assert f"<td><code>{column}</code>" in page, (table, column)
    docs = read_dbt_docs(manifest_path()).get("main", "fact_grant")
    assert docs.description in md and docs.columns["amount_awarded"]["description"] in md
    assert re.search(r"\| `raw\.fpg__\w+\.inn`", md), "column sources traced to raw tables"
    assert "## quarantine" in md and "## 360giving-grants" in md
    assert not re.search(r"<(script|link|img|iframe)\b", page, re.I)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page, re.I)


def test_licence_and_citation(release):
    licence = (release / "LICENSE.md").read_text(encoding="utf-8")
    assert "CC-BY-4.0" in licence and "CC BY-SA 4.0" in licence
    assert "not known" in licence
    assert "| `curated` | Figures from published reports" in licence
    assert "| shipped with socfund |" in licence
    citation = yaml.safe_load((release / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["cff-version"] == "1.2.0" and citation["license"] == "CC-BY-4.0"
    assert citation["version"] == "2026-01-15" and citation["authors"]


def test_citation_is_yaml_with_every_field():
    text = citation_cff(FIRST)
    assert yaml.safe_load(text) == {
        "cff-version": "1.2.0",
        "message": "If you use these data, please cite them as below.",
        "type": "dataset",
        "title": "socfund: social-sector funding in Russia, release 2026-01-15",
        "version": "2026-01-15",
        "date-released": "2026-01-15",
        "license": "CC-BY-4.0",
        "authors": [{"name": "socfund contributors"}],
        "abstract": "An open-data warehouse of social-sector funding in Russia and its "
                    "neighbours: grant registries, budget reports and competition results, "
                    "validated, with every rejected record kept in a quarantine with its "
                    "reasons.",
        "keywords": ["grants", "non-profit organisations", "Russia", "open data", "360Giving"],
    }
    # A date written bare would load as a date, not the string CFF asks for.
    assert "version: '2026-01-15'" in text and "date-released: '2026-01-15'" in text


def raw_source_keys(db: Path) -> set[str]:
    """Sources with rows in the warehouse's raw tables (`raw.<source>__<entity>`)."""
    keys = set()
    for (table,) in query(db, "SELECT table_name FROM duckdb_tables() "
                              "WHERE schema_name = 'raw'"):
        if "__" in table and query(db, f"SELECT count(*) FROM raw.{ident(table)}")[0][0]:
            keys.add(table.split("__", 1)[0])
    return keys


def test_datapackage_and_licence_name_every_source_with_rows(release, poisoned):
    with_rows = raw_source_keys(poisoned)
    facts = {r[0] for r in query(poisoned, "SELECT source FROM main.fact_grant UNION "
                                           "SELECT source FROM main.fact_outcome")}
    # the two sources the release once left out have rows in the facts
    assert {"practice", "programme"} <= facts <= with_rows
    assert with_rows <= {s.key for s in registry.SOURCES}, "every raw table is declared"
    package = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    titles = [s["title"] for s in package["sources"]]
    assert titles == [f"{s.key}: {s.title_en}" for s in registry.SOURCES if s.key in with_rows]
    licence = (release / "LICENSE.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `(\w+)` \|", licence, re.M))
    assert listed == with_rows
    for key in with_rows:
        source = registry.source(key)
        assert f"| `{key}` | {source.title_en} |" in licence
    outcome = next(r for r in package["resources"] if r["name"] == "fact_outcome")
    assert {"practice", "programme"} <= {s["title"].split(":")[0] for s in outcome["sources"]}


def test_a_source_without_rows_is_not_named(tmp_path):
    db = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(db))
    try:
        con.execute("CREATE SCHEMA raw")
        con.execute("CREATE TABLE raw.fpg__cards (x INTEGER)")
        con.execute("CREATE TABLE raw.sonko__federal AS SELECT 1 AS x")
        con.execute("CREATE TABLE raw.fetch_log AS SELECT 1 AS x")
    finally:
        con.close()
    con = duckdb.connect()
    try:
        con.execute("ATTACH ? AS wh (READ_ONLY)", [str(db)])
        assert source_keys_with_rows(con) == {"sonko"}
    finally:
        con.close()


def test_dictionary_escapes_html_and_markdown_table_cells():
    text = "Pipe | and <script>alert(1)</script> & `code` <b>"
    table = Table(name="t", relation="", description=text, rows=1, primary_key=("a",),
                  columns=(Column("a", "VARCHAR", description=text, label="<i>",
                                  required=True, enum=("x|y", "<z>")),))
    page = dictionary_html([table], FIRST)
    assert "<script>" not in page and "<b>" not in page and "<i>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; <code>code</code> &lt;b&gt;" in page
    assert "one of: <code>x|y</code>, <code>&lt;z&gt;</code>" in page
    md = dictionary_markdown([table], FIRST)
    row = next(line for line in md.splitlines() if line.startswith("| `a`"))
    assert row == ("| `a` (<i>) | VARCHAR · string | Pipe \\| and <script>alert(1)</script> & "
                   "`code` <b> | primary key; not null; one of: `x\\|y`, `<z>` |  |")
    assert f"\n{text}\n" in md, "a description outside a table is Markdown as written"


def test_a_release_of_the_same_date_replaces_the_old_one(poisoned, tmp_path):
    exports = tmp_path / "exports"
    first = export_release(poisoned, exports, release_date=FIRST, manifest_path=manifest_path())
    (first / "stale.txt").write_text("from the first run")
    again = export_release(poisoned, exports, release_date=FIRST, manifest_path=manifest_path())
    assert again == first and not (again / "stale.txt").exists()
    assert sorted(p.name for p in exports.iterdir()) == ["2026-01-15", "latest"]


# ------------------------------------------------------------------ XLSX in worker processes


def _xlsx_cells(folder: Path) -> dict[str, list[tuple]]:
    out = {}
    for path in sorted((folder / "xlsx").glob("*.xlsx")):
        book = openpyxl.load_workbook(path, read_only=True)
        out[path.name] = [(ws.title, row) for ws in book for row in ws.iter_rows(values_only=True)]
        book.close()
    return out


def test_xlsx_files_written_by_worker_processes_match_one_process(release, poisoned, tmp_path,
                                                                  monkeypatch):
    assert export_workers() >= 1
    monkeypatch.setenv(EXPORT_WORKERS_ENV, "1")
    single = export_release(poisoned, tmp_path / "one", release_date=FIRST,
                            manifest_path=manifest_path())
    # `release` was written with the default: one worker process per core.
    monkeypatch.delenv(EXPORT_WORKERS_ENV)
    assert _xlsx_cells(single) == _xlsx_cells(release)
    manifest = {e["path"]: e for e in json.loads((release / "manifest.json").read_text())}
    for path in (release / "xlsx").glob("*.xlsx"):
        assert manifest[f"xlsx/{path.name}"]["sha256"] == hashlib.sha256(
            path.read_bytes()).hexdigest()


def test_a_failing_xlsx_worker_names_its_file_and_leaves_no_release(poisoned, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setenv(EXPORT_WORKERS_ENV, "2")
    # A table only the exporting connection can see (a temporary view): its CSV and Parquet
    # are written, but a worker, reading the snapshot on its own, cannot find it.
    real = release_module.describe_public_tables

    def with_a_ghost(con, docs):
        tables = real(con, docs)
        con.execute(f"CREATE TEMP VIEW no_such AS SELECT * FROM {tables[0].relation}")
        return [*tables, dataclasses.replace(tables[0], name="ghost", relation="no_such")]

    monkeypatch.setattr(release_module, "describe_public_tables", with_a_ghost)
    with pytest.raises(RuntimeError, match=r"^export: xlsx/ghost\.xlsx: .*no_such"):
        export_release(poisoned, tmp_path / "exports", release_date=FIRST,
                       manifest_path=manifest_path())
    assert [p.name for p in (tmp_path / "exports").iterdir()] == []


def test_every_connection_writing_a_release_takes_the_export_memory_limit(
        poisoned, tmp_path, monkeypatch):
    """The release's own connection and the XLSX writers' (here all in this process: one
    export worker is this process alone) take `SOCFUND_EXPORT_MEMORY_LIMIT`."""
    seen: list[str] = []
    real = xlsx_module.connect

    def recording(*args, **kwargs):
        con = real(*args, **kwargs)
        seen.append(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])
        return con

    monkeypatch.setenv(EXPORT_WORKERS_ENV, "1")
    monkeypatch.setenv(EXPORT_MEMORY_LIMIT_ENV, "300MB")
    monkeypatch.setattr(release_module, "connect", recording)
    monkeypatch.setattr(xlsx_module, "connect", recording)
    export_release(poisoned, tmp_path / "exports", release_date=FIRST,
                   manifest_path=manifest_path())
    # 300 MB as DuckDB shows it: the release's connection, then one per XLSX file.
    assert set(seen) == {"286.1 MiB"}
    assert len(seen) > 1


def test_a_bad_export_memory_limit_stops_the_release_before_anything_is_written(
        poisoned, tmp_path, monkeypatch):
    monkeypatch.setenv(EXPORT_MEMORY_LIMIT_ENV, "lots")
    with pytest.raises(ValueError, match="SOCFUND_EXPORT_MEMORY_LIMIT='lots'"):
        export_release(poisoned, tmp_path / "exports", release_date=FIRST,
                       manifest_path=manifest_path())
    assert not (tmp_path / "exports").exists()


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_export_workers_setting_is_checked(monkeypatch, value):
    monkeypatch.setenv(EXPORT_WORKERS_ENV, value)
    with pytest.raises(ValueError, match=EXPORT_WORKERS_ENV):
        export_workers()
