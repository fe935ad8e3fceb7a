"""The measured stages and their baselines, each run as its own process by `bench.run`.

    .venv/bin/python -m bench.stages STAGE --warehouse DIR --scratch DIR --out RESULT.json

Each stage reads the corpus from the warehouse's raw store exactly as the pipeline
does, does its work, and writes what it did (items, counts, a breakdown of its own
time) to `--out`; `bench.run` measures the process from the outside.

- `cards`: every ФПГ card of every contest manifest: `scrapers.fpg.parse_card` and
  the card schema, contest by contest on every core (as the partitioned load runs).
  `cards-baseline`: `lxml.html.fromstring` alone over the same pages, one process.
- `xlsx`: the bulk projects file: `parse_xlsx` (columns), the applications schema's polars
  twin (`validate_frame`), and the load into a scratch store from Arrow.
  `xlsx-baseline`: python-calamine reading the sheet. `xlsx-reference`: the imports every
  path that validates with pandera and loads DuckDB makes (pandera.polars, polars, DuckDB)
  and fastexcel's read of the sheet to Arrow, nothing else (so `federal-reference`, and
  `ebudget-reference` with the baseline's `json.loads` of the pages).
- `federal`: the federal СО НКО registry XLSX: `scrapers.sonko.parse_federal`, the
  registry's schema, the load. `federal-baseline`: python-calamine reading every sheet.
- `ebudget`: the Электронный бюджет pages: `parse_agreements` and
  `parse_agreement_periods` over every page, as their load steps parse them
  (`pipelines.parsing.parse_documents`: this process and a helper), their schemas, the load
  of both tables. `ebudget-baseline`: `json.loads` of the same pages, one process.
- The parsers give records or columns (`schemas.base.validate` / `validate_frame`); the
  stages take either, as `pipelines.parsing` and `pipelines.loading` do.
- `csv`: the release's CSV of every public table and of the quarantine, written by
  `pipelines.publish.tables`. `csv-baseline`: DuckDB `COPY … (FORMAT csv)` of the same tables.
- `aggregate`: a researcher's sum by region and year over `fact_grant`, read-only,
  the median of several runs.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from collections.abc import Callable
from multiprocessing import get_context
from pathlib import Path

AGGREGATE_SQL = """
SELECT region_code, year, sum(amount_awarded) AS amount_awarded, count(*) AS grants
FROM main.fact_grant
GROUP BY ALL
"""
AGGREGATE_RUNS = 7
# The corpus's bulk file has its header in row 5 (title rows above it), as our sample.
BULK_HEADER_ROW = 5
# The corpus's federal registry: a title in row 1, the headers in row 2.
FEDERAL_HEADER_ROW = 2


class Timer:
    """Seconds spent per named step inside a stage, for the breakdown in the results."""

    def __init__(self) -> None:
        self.steps: dict[str, float] = {}

    def __call__(self, name: str):
        timer = self

        class _Step:
            def __enter__(self):
                self.started = time.perf_counter()

            def __exit__(self, *exc):
                timer.steps[name] = timer.steps.get(name, 0.0) + time.perf_counter() \
                    - self.started

        return _Step()

    def rounded(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in self.steps.items()}


def _store(warehouse: Path):
    from scrapers.rawstore import RawStore

    return RawStore(warehouse / "raw")


def card_manifests(warehouse: Path) -> list[dict]:
    folder = warehouse / "raw" / "fpg" / "cards"
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def _only(warehouse: Path, source: str, kind: str) -> dict:
    """The one document of a kind in a source's manifest (read as plain JSON, so a stage
    imports only what it measures)."""
    manifest = json.loads((warehouse / "raw" / source / "manifest.json").read_text("utf-8"))
    docs = [d for d in manifest["documents"] if d["kind"] == kind]
    if len(docs) != 1:
        raise SystemExit(f"bench: expected one {source} {kind} document, found {len(docs)}")
    return docs[0]


# --- cards ----------------------------------------------------------------------------------


def _parse_contest(args: tuple[str, dict]) -> dict:
    """Read, parse and validate one contest's cards, as the pipeline's per-contest step
    does (`pipelines.parsing.parse_documents`: lineage on every record)."""
    from schemas import fpg as schema
    from schemas.base import validate
    from scrapers import fpg

    warehouse, manifest = args
    store = _store(Path(warehouse))
    timer = Timer()
    records: list[dict] = []
    for doc in manifest["documents"]:
        with timer("read"):
            body = store.get("fpg", doc["sha256"])
        with timer("parse"):
            parsed = fpg.parse_card(body, url=doc["url"])
        for record in parsed:
            record.update({"_source_url": doc["url"], "_raw_sha256": doc["sha256"],
                           "_fetched_at": doc["fetched_at"]})
            records.append(record)
    with timer("validate"):
        validated = validate(records, schema.CARDS)
    return {"cards": len(manifest["documents"]), "valid": len(validated.valid),
            "quarantined": len(validated.quarantined), "steps": timer.steps}


def stage_cards(warehouse: Path, scratch: Path, workers: int) -> dict:
    manifests = card_manifests(warehouse)
    # Largest contests first, so the cores finish together.
    jobs = sorted(((str(warehouse), m) for m in manifests),
                  key=lambda job: -len(job[1]["documents"]))
    if workers > 1:
        with get_context("fork").Pool(workers) as pool:
            parts = pool.map(_parse_contest, jobs, chunksize=1)
    else:
        parts = [_parse_contest(job) for job in jobs]
    steps: dict[str, float] = {}
    for part in parts:
        for name, seconds in part["steps"].items():
            steps[name] = round(steps.get(name, 0.0) + seconds, 3)
    return {
        "items": sum(p["cards"] for p in parts), "unit": "pages",
        "valid": sum(p["valid"] for p in parts),
        "quarantined": sum(p["quarantined"] for p in parts),
        "contests": len(manifests), "workers": workers, "cpu_seconds_by_step": steps,
    }


def stage_cards_baseline(warehouse: Path, scratch: Path, workers: int) -> dict:
    import lxml.html

    store = _store(warehouse)
    timer = Timer()
    pages = 0
    for manifest in card_manifests(warehouse):
        for doc in manifest["documents"]:
            with timer("read"):
                body = store.get("fpg", doc["sha256"])
            with timer("parse"):
                lxml.html.fromstring(body)
            pages += 1
    return {"items": pages, "unit": "pages", "workers": 1, "seconds_by_step": timer.rounded()}


# --- the bulk XLSX --------------------------------------------------------------------------


def stage_xlsx(warehouse: Path, scratch: Path, workers: int) -> dict:
    from schemas import fpg as schema
    from scrapers import fpg

    doc = _only(warehouse, "fpg", "xlsx")
    timer = Timer()
    with timer("read"):
        body = _store(warehouse).get("fpg", doc["sha256"])
    with timer("parse"):
        frame = _with_lineage(fpg.parse_xlsx(body, url=doc["url"]), doc)
    with timer("validate"):
        validated = _validate(frame, schema.APPLICATIONS)
    with timer("load"):
        (counts,) = _load_into(scratch / "xlsx-store",
                               [(schema.APPLICATIONS, validated, "fpg", fpg.PARSER_VERSION)])
    return {"items": counts.parsed, "unit": "rows", "loaded": counts.loaded,
            "quarantined": counts.quarantined, "xlsx_bytes": len(body),
            "seconds_by_step": timer.rounded()}


def stage_xlsx_baseline(warehouse: Path, scratch: Path, workers: int) -> dict:
    from python_calamine import CalamineWorkbook

    doc = _only(warehouse, "fpg", "xlsx")
    timer = Timer()
    with timer("read"):
        body = _store(warehouse).get("fpg", doc["sha256"])
    with timer("calamine"):
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(body))
        rows = workbook.get_sheet_by_name(workbook.sheet_names[0]).to_python(
            skip_empty_area=False)
    return {"items": len(rows) - BULK_HEADER_ROW, "unit": "rows",
            "seconds_by_step": timer.rounded()}


# --- the references: the imports and one bare read, nothing else -----------------------------
#
# A stage validates every record with pandera and loads DuckDB from Arrow, so whatever else
# it does it imports those libraries and reads its input. Each reference does only that
# (the XLSX with fastexcel, calamine straight to Arrow in one thread; the pages with the
# baseline's `json.loads`): its wall time against the baseline's shows how much of a target
# those two alone take on this machine, and so what is left for the checks, the conversion,
# the validation and the load.


def _reference_imports() -> None:
    """What every path that validates with pandera and loads DuckDB imports."""
    import duckdb  # noqa: F401
    import pandera.polars  # noqa: F401
    import polars  # noqa: F401


def _fastexcel_rows(body: bytes) -> int:
    """Rows of every sheet read to Arrow by fastexcel, every row as data."""
    import fastexcel

    reader = fastexcel.read_excel(body)
    return sum(reader.load_sheet(name, header_row=None).to_arrow().num_rows
               for name in reader.sheet_names)


def _xlsx_reference(warehouse: Path, source: str, kind: str, header_row: int) -> dict:
    doc = _only(warehouse, source, kind)
    timer = Timer()
    with timer("imports"):
        _reference_imports()
    with timer("read"):
        body = _store(warehouse).get(source, doc["sha256"])
    with timer("fastexcel"):
        rows = _fastexcel_rows(body)
    return {"items": rows - header_row, "unit": "rows", "seconds_by_step": timer.rounded()}


def stage_xlsx_reference(warehouse: Path, scratch: Path, workers: int) -> dict:
    return _xlsx_reference(warehouse, "fpg", "xlsx", BULK_HEADER_ROW)


def stage_federal_reference(warehouse: Path, scratch: Path, workers: int) -> dict:
    return _xlsx_reference(warehouse, "sonko", "federal", FEDERAL_HEADER_ROW)


def stage_ebudget_reference(warehouse: Path, scratch: Path, workers: int) -> dict:
    timer = Timer()
    with timer("imports"):
        _reference_imports()
    result = stage_ebudget_baseline(warehouse, scratch, workers)
    return {**result, "seconds_by_step": {**timer.rounded(), **result["seconds_by_step"]}}


# --- the loading path, whichever shape a parser gives ---------------------------------------


def _documents(warehouse: Path, source: str, kind: str) -> list[dict]:
    manifest = json.loads((warehouse / "raw" / source / "manifest.json").read_text("utf-8"))
    docs = [d for d in manifest["documents"] if d["kind"] == kind]
    if not docs:
        raise SystemExit(f"bench: no {source} {kind} document in the corpus")
    return docs


def _with_lineage(parsed, doc: dict):
    """A parser's output with its document's lineage, as `pipelines.parsing` adds it."""
    from schemas.records import with_lineage

    return with_lineage(parsed, {"_source_url": doc["url"], "_raw_sha256": doc["sha256"],
                                 "_fetched_at": doc["fetched_at"]})


def _validate(parsed, entity):
    from schemas.base import validate_parsed

    return validate_parsed(parsed, entity)


def _load_into(store: Path, loads: list[tuple]) -> list:
    """Replace each entity's tables in a fresh scratch store, as a load step does:
    (entity, validated, source, parser version) → the counts of each."""
    import shutil

    from pipelines.paths import WarehousePaths
    from pipelines.store import replace_entity, store_writer

    shutil.rmtree(store, ignore_errors=True)
    with store_writer(WarehousePaths(store)) as con:
        return [replace_entity(con, entity, validated,
                               {"_source": source, "_parser_version": version})
                for entity, validated, source, version in loads]


def _shape(parsed) -> str:
    return "records" if isinstance(parsed, list) else "columns"


# --- the federal СО НКО registry ------------------------------------------------------------


def stage_federal(warehouse: Path, scratch: Path, workers: int) -> dict:
    from schemas import sonko as schema
    from scrapers import sonko

    doc = _only(warehouse, "sonko", "federal")
    timer = Timer()
    with timer("read"):
        body = _store(warehouse).get("sonko", doc["sha256"])
    with timer("parse"):
        parsed = _with_lineage(sonko.parse_federal(body, url=doc["url"]), doc)
    with timer("validate"):
        validated = _validate(parsed, schema.FEDERAL)
    with timer("load"):
        (counts,) = _load_into(scratch / "federal-store",
                               [(schema.FEDERAL, validated, "sonko", sonko.PARSER_VERSION)])
    return {"items": counts.parsed, "unit": "rows", "loaded": counts.loaded,
            "quarantined": counts.quarantined, "xlsx_bytes": len(body),
            "parser_gives": _shape(parsed), "seconds_by_step": timer.rounded()}


def stage_federal_baseline(warehouse: Path, scratch: Path, workers: int) -> dict:
    from python_calamine import CalamineWorkbook

    doc = _only(warehouse, "sonko", "federal")
    timer = Timer()
    with timer("read"):
        body = _store(warehouse).get("sonko", doc["sha256"])
    with timer("calamine"):
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(body))
        # Every sheet, as the parser reads every sheet before it parses one.
        rows = [workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
                for name in workbook.sheet_names]
    return {"items": sum(len(r) for r in rows) - FEDERAL_HEADER_ROW, "unit": "rows",
            "sheets": len(rows), "seconds_by_step": timer.rounded()}


# --- the Электронный бюджет pages -----------------------------------------------------------


def stage_ebudget(warehouse: Path, scratch: Path, workers: int) -> dict:
    """Both tables the pages load (agreements and their payment periods), each as its own
    load step does it: parse every page kept in the raw store (in as many processes as
    the step uses, `pipelines.parsing.parse_workers`), validate, load."""
    from pipelines.parsing import Document, parse_documents, parse_workers
    from schemas import ebudget as schema
    from scrapers import ebudget

    docs = [Document(**d) for d in _documents(warehouse, "ebudget", "page")]
    store = _store(warehouse)
    processes = parse_workers()
    timer = Timer()
    loads, shapes = [], {}
    # As `pipelines.registry` declares them (parsed in parallel, the other table handed back);
    # not read from there, which would import every source's parser into the measure.
    for parse, entity, kept in ((ebudget.parse_agreements, schema.AGREEMENTS,
                                 ebudget.KEPT_AGREEMENTS),
                                (ebudget.parse_agreement_periods, schema.PERIODS,
                                 ebudget.KEPT_PERIODS)):
        with timer(f"parse {entity.name}"):
            parsed, _ = parse_documents(store, "ebudget", docs, parse, workers=processes,
                                        kept=kept)
        shapes[entity.name] = _shape(parsed)
        with timer(f"validate {entity.name}"):
            loads.append((entity, _validate(parsed, entity), "ebudget", ebudget.PARSER_VERSION))
        del parsed
    with timer("load"):
        counts = _load_into(scratch / "ebudget-store", loads)
    return {"items": len(docs), "unit": "pages", "processes": processes,
            "rows": {c.table: {"parsed": c.parsed, "loaded": c.loaded,
                               "quarantined": c.quarantined} for c in counts},
            "parser_gives": shapes, "seconds_by_step": timer.rounded()}


def stage_ebudget_baseline(warehouse: Path, scratch: Path, workers: int) -> dict:
    docs = _documents(warehouse, "ebudget", "page")
    from scrapers import ebudget

    store = _store(warehouse)
    timer = Timer()
    agreements = repaired = 0
    for doc in docs:
        with timer("read"):
            body = store.get("ebudget", doc["sha256"])
        with timer("json.loads"):
            try:
                agreements += len(json.loads(body).get("data") or ())
            except ValueError:
                # A page the portal served with unescaped quotes (every 40th in the corpus):
                # the least any reader does is mend it and decode it once.
                text, _ = ebudget.repair_quotes(body.decode("utf-8"))
                agreements += len(json.loads(text).get("data") or ())
                repaired += 1
    return {"items": len(docs), "unit": "pages", "agreements": agreements,
            "repaired_pages": repaired,
            "seconds_by_step": timer.rounded()}


# --- CSV exports ----------------------------------------------------------------------------


def _published(warehouse: Path) -> Path:
    db = warehouse / "socfund.duckdb"
    if not db.exists():
        raise SystemExit(f"bench: no published warehouse at {db}; the rebuild stage makes it")
    return db


def _export_tables(con):
    """The tables a release exports as CSV: every public table, and the quarantine."""
    from pipelines.paths import DBT_PROJECT_DIR
    from pipelines.publish.dbt_docs import read_dbt_docs
    from pipelines.publish.tables import describe_public_tables, quarantine_table

    # The manifest `make manifest` parsed: nothing is re-parsed inside the measured process.
    docs = read_dbt_docs(DBT_PROJECT_DIR / "target" / "manifest.json")
    return [*describe_public_tables(con, docs), quarantine_table(con)]


def _copy_relations(con) -> list[tuple[str, str, int]]:
    """(name, relation, rows) of the same tables, found in the catalogue alone."""
    names = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'wh' "
        "AND schema_name = 'main' ORDER BY 1").fetchall()]
    quarantined = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'wh' "
        "AND schema_name = 'quarantine' ORDER BY 1").fetchall()]
    relations = [(n, f'wh.main."{n}"') for n in names]
    if quarantined:
        relations.append(("quarantine", "(" + " UNION ALL BY NAME ".join(
            f"SELECT '{n}' AS \"table\", * FROM wh.quarantine.\"{n}\"" for n in quarantined)
            + ")"))
    return [(n, r, con.execute(f"SELECT count(*) FROM {r}").fetchone()[0])
            for n, r in relations]


def stage_csv(warehouse: Path, scratch: Path, workers: int) -> dict:
    from pipelines.duckdb_config import connect
    from pipelines.publish.tables import export_select, write_csv

    folder = scratch / "csv"
    folder.mkdir(parents=True, exist_ok=True)
    con = connect()
    try:
        con.execute("ATTACH ? AS wh (READ_ONLY)", [str(_published(warehouse))])
        tables = _export_tables(con)
        started = time.perf_counter()
        for table in tables:
            write_csv(con, export_select(table.relation, table.columns),
                      folder / f"{table.name}.csv")
        seconds = time.perf_counter() - started
    finally:
        con.close()
    return {"items": sum(t.rows for t in tables), "unit": "rows", "tables": len(tables),
            "csv_bytes": sum(p.stat().st_size for p in folder.glob("*.csv")),
            "seconds_writing": round(seconds, 3)}


def stage_csv_baseline(warehouse: Path, scratch: Path, workers: int) -> dict:
    from pipelines.duckdb_config import connect

    folder = scratch / "csv-copy"
    folder.mkdir(parents=True, exist_ok=True)
    con = connect()
    try:
        con.execute("ATTACH ? AS wh (READ_ONLY)", [str(_published(warehouse))])
        tables = _copy_relations(con)
        started = time.perf_counter()
        for name, relation, _ in tables:
            con.execute(f"COPY (SELECT * FROM {relation}) TO ? (FORMAT csv, HEADER true)",
                        [str(folder / f"{name}.csv")])
        seconds = time.perf_counter() - started
    finally:
        con.close()
    return {"items": sum(rows for *_, rows in tables), "unit": "rows", "tables": len(tables),
            "csv_bytes": sum(p.stat().st_size for p in folder.glob("*.csv")),
            "seconds_writing": round(seconds, 3)}


# --- a researcher's query -------------------------------------------------------------------


def stage_aggregate(warehouse: Path, scratch: Path, workers: int) -> dict:
    from pipelines.duckdb_config import connect

    con = connect(_published(warehouse), read_only=True)
    try:
        (grants,) = con.execute("SELECT count(*) FROM main.fact_grant").fetchone()
        timings = []
        for _ in range(AGGREGATE_RUNS):
            started = time.perf_counter()
            groups = len(con.execute(AGGREGATE_SQL).fetchall())
            timings.append(time.perf_counter() - started)
    finally:
        con.close()
    return {"items": grants, "unit": "grants", "groups": groups, "runs": AGGREGATE_RUNS,
            "median_ms": round(statistics.median(timings) * 1000, 2),
            "runs_ms": [round(t * 1000, 2) for t in timings], "sql": AGGREGATE_SQL.strip()}


STAGES: dict[str, Callable[[Path, Path, int], dict]] = {
    "cards": stage_cards,
    "cards-baseline": stage_cards_baseline,
    "xlsx": stage_xlsx,
    "xlsx-baseline": stage_xlsx_baseline,
    "xlsx-reference": stage_xlsx_reference,
    "federal": stage_federal,
    "federal-baseline": stage_federal_baseline,
    "federal-reference": stage_federal_reference,
    "ebudget": stage_ebudget,
    "ebudget-baseline": stage_ebudget_baseline,
    "ebudget-reference": stage_ebudget_reference,
    "csv": stage_csv,
    "csv-baseline": stage_csv_baseline,
    "aggregate": stage_aggregate,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.stages")
    parser.add_argument("stage", choices=sorted(STAGES))
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--scratch", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    args.scratch.mkdir(parents=True, exist_ok=True)
    result = STAGES[args.stage](args.warehouse.resolve(), args.scratch.resolve(), args.workers)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
