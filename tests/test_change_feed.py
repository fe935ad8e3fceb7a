"""The change feed: a second release after a changed document names exactly the rows that
changed, by each table's key, with the changed columns' old and new values.

The session's fixture build is copied (its release is the first); then one document of a
copy of `tests/fixtures` is edited — one amount changed, one row removed — and the copied
warehouse is rebuilt from it as the next day's release. The key declarations are checked on
the dbt manifest alone.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.duckdb_config import quote_ident
from pipelines.publish.changes import ADDED, CHANGED, REMOVED, release_changes
from pipelines.publish.dbt_docs import read_dbt_docs
from pipelines.publish.release import read_latest
from pipelines.publish.tables import FORMULA_TRIGGERS, neutralise
from scrapers.samples import FIXTURES_DIR

OPRF = Path("grants.oprf.ru/grants2013/oprf_grants_2013.csv")
# The row of application 11 (ИПГО) is given another amount; the row of application 23 goes.
AMOUNT_BEFORE = "ИПГО,2,1.027704567813E12,1200000,11,"
AMOUNT_AFTER = "ИПГО,2,1.027704567813E12,1250000,11,"
REMOVED_ROW = ",ИПГО,4,1.117400030175E12,480000,23,"
CHANGED_GRANT, REMOVED_GRANT = "oprf2013:ИПГО:11", "oprf2013:ИПГО:23"
# Tables no row of the edited document reaches.
UNTOUCHED = ("dim_region", "dim_programme", "fact_application", "fact_outcome")


def manifest_path() -> Path:
    from pipelines.dbt_project import dbt_project

    return Path(dbt_project.manifest_path)


def edit_document(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(AMOUNT_BEFORE) == 1
    text = text.replace(AMOUNT_BEFORE, AMOUNT_AFTER)
    lines = text.split("\n")
    (gone,) = [line for line in lines if REMOVED_ROW in line]
    lines.remove(gone)
    path.write_text("\n".join(lines), encoding="utf-8")


@pytest.fixture(scope="module")
def builds(fixture_build, tmp_path_factory) -> dict:
    """The session's fixture build copied (its release is the first), then rebuilt from a
    copy of the fixtures with one document edited, as a release of the next day."""
    from pipelines import warehouse

    root = tmp_path_factory.mktemp("feed")
    wh = root / "warehouse"
    shutil.copytree(fixture_build, wh, symlinks=True)
    first = read_latest(wh / "exports")
    assert first is not None
    samples = root / "samples"
    shutil.copytree(FIXTURES_DIR, samples)  # the links into samples/ are copied as files
    document = samples / OPRF
    before = hashlib.sha256(document.read_bytes()).hexdigest()
    edit_document(document)
    second = date.fromisoformat(first.name) + timedelta(days=1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(warehouse, "today_in_moscow", lambda: second)
        assert main(["build", "--warehouse", str(wh), "--samples", str(samples),
                     "--log-level", "WARNING"]) == 0
    exports = wh / "exports"
    return {"first": first, "second": exports / second.isoformat(), "exports": exports,
            "site": wh / "site", "sha_before": before,
            "sha_after": hashlib.sha256(document.read_bytes()).hexdigest()}


def rows_of(path: Path, sql: str = "SELECT * FROM read_parquet(?)") -> list[dict]:
    con = duckdb.connect()
    try:
        result = con.execute(sql, [str(path)])
        names = [d[0] for d in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    finally:
        con.close()


def public_tables(release: Path) -> list[str]:
    return sorted(p.stem for p in (release / "parquet").glob("*.parquet"))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


# ------------------------------------------------------------------ the key declarations


def test_every_public_table_declares_one_key_its_unique_test_holds():
    docs = read_dbt_docs(manifest_path())
    public = {name: doc for name, doc in docs.models.items() if name.startswith("main.")}
    assert len(public) >= 14
    for name, doc in public.items():
        assert len(doc.release_keys) == 1, f"{name}: mark one unique test release_key"
        key = doc.release_key
        assert set(key) <= set(doc.columns), (name, key)
        assert key in [(c,) for c in doc.unique] + doc.combinations, (name, key)
    assert public["main.fact_grant"].release_key == ("grant_id",)
    assert public["main.mart_region_year"].release_key == ("region_code", "year")


def test_a_table_with_no_marked_unique_test_has_no_key(tmp_path):
    manifest = json.loads(manifest_path().read_text(encoding="utf-8"))
    for node in manifest["nodes"].values():
        if node.get("resource_type") == "test":
            node["config"].pop("meta", None)
    unmarked = tmp_path / "manifest.json"
    unmarked.write_text(json.dumps(manifest), encoding="utf-8")
    docs = read_dbt_docs(unmarked)
    assert docs.get("main", "fact_grant").release_key == ()
    assert "grant_id" in docs.get("main", "fact_grant").unique, "the unique test stays"


# ------------------------------------------------------------------ the first release


def test_the_first_release_says_it_has_nothing_to_compare_with(builds):
    first = builds["first"]
    text = (first / "CHANGES.md").read_text(encoding="utf-8")
    assert "First release: there is no earlier release" in text
    assert "no change feed" in text
    assert not (first / "changes").exists()
    entries = json.loads((first / "manifest.json").read_text(encoding="utf-8"))
    assert not [e for e in entries if e["path"].startswith("changes/")]


# ------------------------------------------------------------------ the second release


def test_the_feed_names_exactly_the_edited_rows(builds):
    first, second = builds["first"], builds["second"]
    assert read_latest(builds["exports"]) == second
    before = {r["grant_id"]: r for r in rows_of(first / "parquet/fact_grant.parquet")}
    document = {g for g, r in before.items() if r["raw_sha256"] == builds["sha_before"]}
    assert {CHANGED_GRANT, REMOVED_GRANT} <= document
    feed = rows_of(second / "changes/fact_grant.parquet")
    assert [r for r in feed if r["change"] == ADDED] == []
    (removed,) = [r for r in feed if r["change"] == REMOVED]
    assert removed["grant_id"] == REMOVED_GRANT and removed["new_value"] is None
    assert json.loads(removed["old_value"])["amount_awarded"] == 480000
    changed = {(r["grant_id"], r["column"], r["old_value"], r["new_value"])
               for r in feed if r["change"] == CHANGED}
    # Every other row of the edited document now comes from other bytes: its lineage changed.
    lineage = {(g, "raw_sha256", builds["sha_before"], builds["sha_after"])
               for g in document - {REMOVED_GRANT}}
    assert changed == {(CHANGED_GRANT, "amount_awarded", "1200000.00", "1250000.00")} | lineage
    # The organisations: one received less, one is gone; a rebuild renames none of the others.
    kept = before[CHANGED_GRANT]["organisation_key"]
    gone = before[REMOVED_GRANT]["organisation_key"]
    organisations = {(r["organisation_key"], r["change"], r["column"], r["new_value"] is None)
                     for r in rows_of(second / "changes/dim_organisation.parquet")}
    assert organisations == {
        (kept, CHANGED, "amount_awarded", False), (gone, REMOVED, None, True)}


def test_the_feed_of_every_table_is_the_difference_of_the_two_releases(builds):
    first, second = builds["first"], builds["second"]
    assert public_tables(first) == public_tables(second)
    keys = {t: d.release_key for t in public_tables(second)
            if (d := read_dbt_docs(manifest_path()).get("main", t))}
    for table in public_tables(second):
        key = keys[table]
        old = {tuple(r[k] for k in key): r for r in rows_of(first / f"parquet/{table}.parquet")}
        new = {tuple(r[k] for k in key): r for r in rows_of(second / f"parquet/{table}.parquet")}
        expected = {(k, ADDED, None) for k in new.keys() - old.keys()} | \
            {(k, REMOVED, None) for k in old.keys() - new.keys()} | \
            {(k, CHANGED, c) for k in new.keys() & old.keys() for c in new[k]
             if c not in key and c in old[k] and new[k][c] != old[k][c]}
        feed = rows_of(second / f"changes/{table}.parquet")
        got = {(tuple(r[k] for k in key), r["change"], r["column"]) for r in feed}
        assert len(got) == len(feed), table
        assert got == expected, table
    for table in UNTOUCHED:
        assert rows_of(second / f"changes/{table}.parquet") == [], table


def test_changes_md_counts_each_table_and_names_the_most_changed_columns(builds):
    second = builds["second"]
    text = (second / "CHANGES.md").read_text(encoding="utf-8")
    assert f"Compared with release {builds['first'].name}" in text
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and cells[0] not in ("table", "---"):
            rows[cells[0]] = cells
    assert set(rows) == set(public_tables(second))
    # | table | key | rows | added | changed | removed | most changed columns | notes |
    document = [r for r in rows_of(builds["first"] / "parquet/fact_grant.parquet")
                if r["raw_sha256"] == builds["sha_before"]]
    grant = rows["fact_grant"]
    assert grant[1] == "grant_id"
    assert grant[3:6] == ["0", str(len(document) - 1), "1"]
    assert grant[6] == f"raw_sha256 ({len(document) - 1}), amount_awarded (1)"
    for table in UNTOUCHED:
        assert rows[table][3:7] == ["0", "0", "0", "—"], rows[table]
    assert rows["mart_region_year"][1] == "region_code, year"


def test_the_feed_csv_follows_the_release_csv_rules(builds):
    second = builds["second"]
    for parquet in sorted((second / "changes").glob("*.parquet")):
        path = parquet.with_suffix(".csv")
        data = path.read_bytes()
        assert data.startswith(b"\xef\xbb\xbf"), path.name
        assert b"\n" not in data.replace(b"\r\n", b""), path.name
        stored = rows_of(parquet)
        with path.open(encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f))
        names = [r["column_name"] for r in rows_of(parquet, "DESCRIBE SELECT * FROM "
                                                           "read_parquet(?)")]
        assert header == names and names[0] == "illustrative", path.name
        written = read_csv(path)
        assert len(written) == len(stored), path.name
        for cells, values in zip(written, stored, strict=True):
            assert cells["illustrative"] == "true", "a fixture release says so first"
            for name, value in values.items():
                if isinstance(value, str):
                    assert cells[name] == neutralise(value), (path.name, name)
                    assert not cells[name].startswith(FORMULA_TRIGGERS), (path.name, name)
    grants = read_csv(second / "changes/fact_grant.csv")
    assert {r["grant_id"] for r in grants} >= {CHANGED_GRANT, REMOVED_GRANT}
    assert list(grants[0])[:3] == ["illustrative", "grant_id", "change"]


def test_the_feed_is_listed_in_the_manifest_checksums_and_datapackage(builds):
    from frictionless import validate

    second = builds["second"]
    feed_files = {p.relative_to(second).as_posix() for p in (second / "changes").iterdir()}
    assert len(feed_files) == 2 * len(public_tables(second))
    entries = {e["path"]: e for e in
               json.loads((second / "manifest.json").read_text(encoding="utf-8"))}
    assert feed_files <= set(entries)
    assert entries["changes/fact_grant.csv"]["rows"] == len(
        rows_of(second / "changes/fact_grant.parquet"))
    sums = {line.split("  ", 1)[1]
            for line in (second / "SHA256SUMS").read_text(encoding="utf-8").splitlines()}
    assert feed_files <= sums
    package = json.loads((second / "datapackage.json").read_text(encoding="utf-8"))
    resources = {r["path"]: r for r in package["resources"]}
    assert {f for f in feed_files if f.endswith(".csv")} <= set(resources)
    feed = resources["changes/fact_grant.csv"]
    assert feed["$schema"] == "https://datapackage.org/profiles/2.0/dataresource.json"
    assert feed["type"] == "table"
    assert [f["name"] for f in feed["schema"]["fields"]] == [
        "illustrative", "grant_id", "change", "column", "old_value", "new_value"]
    report = validate(str(second / "datapackage.json"))
    assert report.valid, report.flatten(["resourcePath", "rowNumber", "type", "note"])


def test_the_datapackage_is_v2(builds):
    package = json.loads((builds["second"] / "datapackage.json").read_text(encoding="utf-8"))
    assert package["$schema"] == "https://datapackage.org/profiles/2.0/datapackage.json"
    assert package["contributors"] == [{"title": "socfund contributors", "roles": ["creator"]}]
    for resource in package["resources"]:
        assert resource["$schema"] == "https://datapackage.org/profiles/2.0/dataresource.json"
        assert resource["type"] == "table" and "profile" not in resource, resource["name"]
        for fk in resource["schema"].get("foreignKeys", []):
            # v2: a reference to the resource itself names no resource
            assert fk["reference"].get("resource", "x") not in ("", resource["name"])
    region = {r["name"]: r for r in package["resources"]}["dim_region"]["schema"]
    assert {"fields": ["parent_region_code"], "reference": {"fields": ["region_code"]}} in \
        region["foreignKeys"]


def test_the_page_links_the_latest_changes(builds):
    page = (builds["site"] / "index.html").read_text(encoding="utf-8")
    assert f"{builds['second'].name}/CHANGES.md" in page


def _bench_shaped_table(con: duckdb.DuckDBPyConnection, rows: int) -> None:
    """A table of `rows` rows with fact_application's mix of 39 columns: text, money,
    dates, flags, numbers."""
    columns = ["'fpg:' || i AS application_id", "i % 97 AS contest", "2017 + i % 8 AS year"]
    columns += [f"'текст ' || (i % {7 + n}) AS text_{n}" for n in range(14)]
    columns += [f"((i % {1000 + n}) * 1000)::DECIMAL(18,2) AS amount_{n}" for n in range(8)]
    columns += [f"DATE '2017-01-01' + (i % {300 + n})::INTEGER AS date_{n}" for n in range(5)]
    columns += [f"i % {2 + n} = 0 AS flag_{n}" for n in range(8)]
    columns += ["['a', 'b'] AS tags"]
    con.execute(f"CREATE TABLE t AS SELECT {', '.join(columns)} FROM range(?) r(i)", [rows])


def test_the_feed_of_a_wide_table_counts_every_kind_of_change_exactly(tmp_path):
    """A table shaped like fact_application (39 columns), with about a tenth of the rows
    changed, removed or added: the feed's counts are exact. (Its speed at the bench's
    190 000 rows is measured by `make bench`, not here.)"""
    from pipelines.publish.tables import Column, Table, write_parquet

    n = 20_000
    con = duckdb.connect()
    _bench_shaped_table(con, n)
    previous = tmp_path / "2026-01-01"
    write_parquet(con, "t", previous / "parquet" / "fact_application.parquet")
    con.execute("UPDATE t SET amount_3 = amount_3 + 1, text_5 = '=x' WHERE contest = 1")
    con.execute("DELETE FROM t WHERE contest = 2")
    con.execute("INSERT INTO t BY NAME SELECT 'fpg:new' || i AS application_id "
                "FROM range(1000) r(i)")
    (changed,) = con.execute("SELECT count(*) FROM t WHERE contest = 1").fetchone()
    (removed,) = con.execute("SELECT count(*) FROM range(?) r(i) WHERE i % 97 = 2",
                             [n]).fetchone()
    columns = tuple(Column(name, dtype) for name, dtype in con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 't' "
        "ORDER BY column_index").fetchall())
    assert len(columns) == 39
    table = Table(name="fact_application", relation=quote_ident("t"), description="",
                  columns=columns, rows=n, row_key=("application_id",))
    out = release_changes(con, [table], previous, tmp_path / "release")
    (result,) = out.tables
    assert (result.added, result.changed, result.removed) == (1000, changed, removed)
    assert dict(result.top_columns) == {"amount_3": changed, "text_5": changed}
    assert read_csv(tmp_path / "release/changes/fact_application.csv")[0]["change"]
