"""Every `raw.*` and `quarantine.*` table of three builds, value for value and type for type,
against the golden files recorded from the row-wise load path before the columnar one
replaced it (issue #15): the fixtures (`--samples tests/fixtures`), the real documents of
samples/ (the offline default) and a slice of the bench corpus (scale 0.01, rebuilt with
`--from-raw` on top of the fixtures' raw store, as `python -m bench.generate` does).

`tests/golden/loads/<build>/<schema>.<table>.parquet` holds a table's rows (zstd) and
`types.json` every table's columns with their DuckDB types, in order. The release's CSV
writer is held to the bytes of the writer before it on the fixtures' build. Left out of the rows,
because they differ from one run to the next:
- `_fetched_at` of every loaded and quarantined row: the clock when the build fetched the
  document. Instead every row's `_fetched_at` must be the fetch time the raw store's
  manifest gives for that document (`test_fetch_time_is_the_manifests`), and its type is
  still compared;
- `raw.fetch_log.fetched_at` (the same clock) and `.last_modified` (the served file's mtime
  in the checkout).

To record them again (only when a change of output is meant, and said so in the commit):

    .venv/bin/python -m tests.test_golden_loads --write fixtures=WH real=WH bench=WH
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import pytest

from pipelines.duckdb_config import connect, quote_ident
from pipelines.publish import tables

GOLDEN = Path(__file__).resolve().parent / "golden" / "loads"
BUILDS = ("fixtures", "real", "bench")
BENCH_SCALE = 0.01
BENCH_SEED = 20260301
SCHEMAS = ("raw", "quarantine")
# Columns whose values differ between two runs of the same build (see the docstring).
VOLATILE = {"_fetched_at"}
VOLATILE_BY_TABLE = {"raw.fetch_log": {"fetched_at", "last_modified"}}
SHOWN_ROWS = 5


# --- reading a store ------------------------------------------------------------------------


def store_tables(con) -> dict[str, list[tuple[str, str]]]:
    """`schema.table` → its (column, DuckDB type) pairs in order, every raw and quarantine
    table of the store."""
    rows = con.execute(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema IN ('raw', 'quarantine') "
        "ORDER BY table_schema, table_name, ordinal_position").fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for schema, table, column, kind in rows:
        tables.setdefault(f"{schema}.{table}", []).append((column, kind))
    return tables


def compared_columns(name: str, columns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    volatile = VOLATILE | VOLATILE_BY_TABLE.get(name, set())
    return [(c, t) for c, t in columns if c not in volatile]


def _relation(name: str) -> str:
    schema, table = name.split(".", 1)
    return f"{quote_ident(schema)}.{quote_ident(table)}"


def _select(columns: list[tuple[str, str]], relation: str, *, cast: bool) -> str:
    """The compared columns of a relation; JSON as its text (a JSON value compares as the
    text the store holds, which is what the exports carry), the golden side cast back to
    the store's types (Parquet keeps them, but not every one under the same name)."""
    items = []
    for column, kind in columns:
        q = quote_ident(column)
        if kind == "JSON":
            items.append(f"CAST({q} AS VARCHAR) AS {q}")
        elif cast:
            items.append(f"CAST({q} AS {kind}) AS {q}")
        else:
            items.append(q)
    return f"SELECT {', '.join(items) or '1'} FROM {relation}"


# --- recording ------------------------------------------------------------------------------


def write_golden(store_db: Path, out: Path) -> dict[str, int]:
    """Write one build's golden files; return the rows of each table."""
    from scrapers.files import write_text_atomic

    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.parquet"):
        old.unlink()
    con = connect(store_db, read_only=True)
    try:
        tables = store_tables(con)
        counts = {}
        for name, columns in tables.items():
            kept = compared_columns(name, columns)
            order = ", ".join(str(i + 1) for i in range(len(kept))) or "1"
            con.execute(
                f"COPY ({_select(kept, _relation(name), cast=False)} ORDER BY {order}) "
                "TO ? (FORMAT parquet, COMPRESSION zstd)", [str(out / f"{name}.parquet")])
            counts[name] = con.execute(f"SELECT count(*) FROM {_relation(name)}").fetchone()[0]
    finally:
        con.close()
    types = {name: [[c, t] for c, t in columns] for name, columns in tables.items()}
    write_text_atomic(out / "types.json",
                      json.dumps({"tables": types, "rows": counts}, ensure_ascii=False,
                                 indent=1) + "\n")
    return counts


# --- comparing ------------------------------------------------------------------------------


def golden_types(build: str) -> dict:
    return json.loads((GOLDEN / build / "types.json").read_text(encoding="utf-8"))


def differences(con, build: str, name: str, columns: list[tuple[str, str]]) -> list[str]:
    """What differs between a store table and its golden file: rows missing from the store,
    rows the golden file lacks (a multiset: a row twice is not a row once)."""
    kept = compared_columns(name, columns)
    live = _select(kept, _relation(name), cast=False)
    golden = _select(kept, "read_parquet(?)", cast=True)
    path = str(GOLDEN / build / f"{name}.parquet")
    found = []
    for label, sql in (("in the golden file, not in the store", f"({golden}) EXCEPT ALL ({live})"),
                       ("in the store, not in the golden file", f"({live}) EXCEPT ALL ({golden})")):
        (n,) = con.execute(f"SELECT count(*) FROM ({sql})", [path]).fetchone()
        if n:
            rows = con.execute(f"SELECT * FROM ({sql}) LIMIT {SHOWN_ROWS}", [path]).fetchall()
            shown = "\n    ".join(repr(dict(zip([c for c, _ in kept], r, strict=True)))
                                  for r in rows)
            found.append(f"{name}: {n} rows {label}, first:\n    {shown}")
    return found


def compare_build(store_db: Path, build: str) -> list[str]:
    expected = golden_types(build)
    con = connect(store_db, read_only=True)
    try:
        tables = store_tables(con)
        problems = []
        missing = sorted(set(expected["tables"]) - set(tables))
        extra = sorted(set(tables) - set(expected["tables"]))
        if missing or extra:
            problems.append(f"tables missing from the store: {missing}; not in the golden "
                            f"files: {extra}")
        for name in sorted(set(tables) & set(expected["tables"])):
            want = [tuple(c) for c in expected["tables"][name]]
            if tables[name] != want:
                problems.append(f"{name}: columns and types differ:\n    golden {want}\n"
                                f"    store  {tables[name]}")
                continue
            problems.extend(differences(con, build, name, tables[name]))
    finally:
        con.close()
    return problems


def manifest_fetch_times(raw: Path) -> list[tuple[str, str, str]]:
    """(url, sha256, fetched_at) of every document a manifest of the raw store names."""
    docs = []
    for path in sorted(raw.rglob("*.json")):
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(manifest, dict) and isinstance(manifest.get("documents"), list):
            docs.extend((d["url"], d["sha256"], d["fetched_at"]) for d in manifest["documents"]
                        if {"url", "sha256", "fetched_at"} <= set(d))
    return docs


def fetch_times_not_the_manifests(warehouse: Path) -> dict[str, int]:
    """Rows per table whose `_fetched_at` is not a fetch time the manifests give for its
    document (`_source_url`, `_raw_sha256`)."""
    con = connect(warehouse / "store.duckdb", read_only=True)
    try:
        con.execute("CREATE TEMP TABLE docs (url VARCHAR, sha256 VARCHAR, "
                    "fetched_at TIMESTAMPTZ)")
        con.executemany("INSERT INTO docs VALUES (?, ?, CAST(? AS TIMESTAMPTZ))",
                        manifest_fetch_times(warehouse / "raw"))
        wrong = {}
        for name, columns in store_tables(con).items():
            if "_fetched_at" not in {c for c, _ in columns}:
                continue
            (n,) = con.execute(
                f"SELECT count(*) FROM {_relation(name)} t WHERE NOT EXISTS (SELECT 1 FROM "
                "temp.docs d WHERE d.url = t._source_url AND d.sha256 = t._raw_sha256 "
                "AND d.fetched_at = t._fetched_at)").fetchone()
            if n:
                wrong[name] = n
    finally:
        con.close()
    return wrong


# --- the builds -----------------------------------------------------------------------------


def _build(argv: list[str]) -> None:
    from pipelines.cli import main

    assert main(["build", *argv]) == 0


@pytest.fixture(scope="module")
def fixtures_build(tmp_path_factory) -> Path:
    from scrapers.samples import FIXTURES_DIR

    warehouse = tmp_path_factory.mktemp("golden_fixtures")
    _build(["--warehouse", str(warehouse), "--samples", str(FIXTURES_DIR)])
    return warehouse


@pytest.fixture(scope="module")
def real_build(tmp_path_factory) -> Path:
    warehouse = tmp_path_factory.mktemp("golden_real")
    _build(["--warehouse", str(warehouse)])
    return warehouse


@pytest.fixture(scope="module")
def bench_build(fixtures_build, tmp_path_factory) -> Path:
    """The fixtures' raw store (what `bench.generate` builds first), the corpus slice
    written over it, then `socfund build --from-raw`."""
    from bench import generate

    warehouse = tmp_path_factory.mktemp("golden_bench")
    shutil.copytree(fixtures_build / "raw", warehouse / "raw")
    generate.generate(warehouse, seed=BENCH_SEED, scale=BENCH_SCALE, workers=1, base=False)
    _build(["--from-raw", "--warehouse", str(warehouse)])
    return warehouse


def _built(request, build: str) -> Path:
    """The build's warehouse; each test builds (once) only what it compares, so no test's
    setup holds more than one build."""
    return request.getfixturevalue(f"{build}_build")


@pytest.mark.parametrize("build", BUILDS)
def test_raw_and_quarantine_tables_are_the_golden_ones(request, build):
    problems = compare_build(_built(request, build) / "store.duckdb", build)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("build", BUILDS)
def test_fetch_time_is_the_manifests(request, build):
    assert fetch_times_not_the_manifests(_built(request, build)) == {}


def test_golden_files_hold_rows_and_quarantined_reasons():
    """The golden files are no empty shell: each build has loaded rows, quarantined rows
    with their reasons, and the bench slice the corpus's thousands."""
    for build in BUILDS:
        rows = golden_types(build)["rows"]
        assert sum(n for t, n in rows.items() if t.startswith("raw.")) > 0
        if build != "real":
            assert sum(n for t, n in rows.items() if t.startswith("quarantine.")) > 0
    bench = golden_types("bench")["rows"]
    assert bench["raw.fpg__applications"] + bench["quarantine.fpg__applications"] >= 1900
    assert bench["raw.sonko__federal"] + bench["quarantine.sonko__federal"] >= 1110
    # 2 000 agreements, of which the registry keeps those whose recipient is a nonprofit.
    assert bench["raw.ebudget__agreements"] + bench["quarantine.ebudget__agreements"] >= 1000


# --- the CSV export, byte for byte as the writer before it -----------------------------------


def _old_neutralise_sql(expr: str) -> str:
    """The guard of the writer before #15, kept here as the reference."""
    triggers = ", ".join(f"chr({ord(c)})" for c in tables.FORMULA_TRIGGERS)
    return f"(CASE WHEN left({expr}, 1) IN ({triggers}) THEN '''' || {expr} ELSE {expr} END)"


def _old_write_csv(con, sql: str, path: Path) -> None:
    """The writer before #15: COPY with a header to a body file, then the BOM and the body."""
    body = path.with_name(path.name + ".body")
    con.execute(f"COPY ({sql}) TO ? "
                "(FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"', "
                f"NEW_LINE {tables.sql_str(tables.CSV_NEWLINE)})", [str(body)])
    path.write_bytes(tables.UTF8_BOM + body.read_bytes())
    body.unlink()


def _export_both(con, name: str, relation: str, columns, folder: Path,
                 monkeypatch) -> tuple[bytes, bytes]:
    new = tables.export_select(relation, columns)
    with monkeypatch.context() as m:
        m.setattr(tables, "neutralise_sql", _old_neutralise_sql)
        old = tables.export_select(relation, columns)
    tables.write_csv(con, new, folder / f"{name}.new.csv")
    _old_write_csv(con, old, folder / f"{name}.old.csv")
    return (folder / f"{name}.new.csv").read_bytes(), (folder / f"{name}.old.csv").read_bytes()


TRICKY = """CREATE TEMP TABLE tricky AS SELECT * FROM (VALUES
    (1, '=SUM(A1)', ['+7 495', 'a'], TIMESTAMPTZ '2026-03-01 02:00:00+03',
     12.50::DECIMAL(18,2), -3, 'line' || chr(10) || 'break, "quoted"', 'ж=ok', 1.5::DOUBLE),
    (2, '', [], NULL, NULL, NULL, chr(9) || 'tab', '-minus', -0.25::DOUBLE),
    (3, NULL, NULL, TIMESTAMPTZ '2026-12-31 23:59:59.5+00', -0.01::DECIMAL(18,2),
     0, chr(13) || 'cr', '@at', NULL),
    (4, ' =space', ['=x', NULL], NULL, 0::DECIMAL(18,2), 7, '''quote', '"=q"', 1e20::DOUBLE)
    ) AS v(n, "text, with comma", list, "when", amount, "int", "line", "other", "double")"""


def test_csv_export_is_byte_for_byte_the_old_writers(fixtures_build, tmp_path, monkeypatch):
    """Every public table and the quarantine of the fixtures' build, and a table of the
    values that try the rules (formula triggers, quotes, line breaks, lists, time stamps,
    decimals, nulls, no rows), written by both writers."""
    con = connect()
    try:
        con.execute("ATTACH ? AS wh (READ_ONLY)", [str(fixtures_build / "socfund.duckdb")])
        catalogue = tables._catalogue(con)
        exported = [(t, f"wh.main.{quote_ident(t)}",
                     [tables.Column(c, d) for c, d in catalogue[(schema, t)]])
                    for (schema, t) in sorted(catalogue) if schema == "main"]
        quarantine = tables.quarantine_table(con)
        exported.append(("quarantine", quarantine.relation, list(quarantine.columns)))
        con.execute(TRICKY)
        con.execute("CREATE TEMP TABLE empty AS SELECT * FROM tricky WHERE false")
        for name in ("tricky", "empty"):
            exported.append((name, f"temp.{name}",
                             [tables.Column(n, t) for n, t, *_ in
                              con.execute(f"DESCRIBE temp.{name}").fetchall()]))
        for name, relation, columns in exported:
            new, old = _export_both(con, name, relation, columns, tmp_path, monkeypatch)
            assert new == old, f"{name}: the CSV differs from the old writer's"
    finally:
        con.close()
    assert len(exported) >= 10
    tricky = (tmp_path / "tricky.new.csv").read_bytes()
    assert tricky.startswith(tables.UTF8_BOM) and tricky.endswith(b"\r\n")
    assert b"'=SUM(A1)" in tricky and b"'+7 495;a" in tricky and b"'-minus" in tricky
    assert (tmp_path / "empty.new.csv").read_bytes().count(b"\r\n") == 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tests.test_golden_loads",
                                     description="record the golden files of the loads")
    parser.add_argument("--write", nargs="+", metavar="BUILD=WAREHOUSE", required=True)
    args = parser.parse_args(argv)
    for item in args.write:
        build, _, warehouse = item.partition("=")
        if build not in BUILDS or not warehouse:
            parser.error(f"expected BUILD=WAREHOUSE with BUILD one of {BUILDS}: {item}")
        counts = write_golden(Path(warehouse) / "store.duckdb", GOLDEN / build)
        print(f"{build}: {len(counts)} tables, {sum(counts.values())} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
