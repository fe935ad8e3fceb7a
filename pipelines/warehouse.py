"""Building the warehouse: the fetch log, the dbt models (built aside), and the swap.

The published `warehouse/socfund.duckdb` is never written in place. dbt builds a
copy under `warehouse/.build/`; only when every model and every error-severity
test passed is the copy moved over the published file (an atomic rename), so a
reader never sees a half-built warehouse and a failed night leaves yesterday's.
"""


import hashlib
import json
import os
import shutil
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetKey,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from pipelines.dbt_project import dbt_project
from pipelines.duckdb_config import connect
from pipelines.exports import export_release
from pipelines.factory import STORE_POOL
from pipelines.faults import checkpoint
from pipelines.memory import release_memory
from pipelines.paths import DBT_PROJECT_DIR, WarehousePaths, dbt_input_files
from pipelines.resources import SourcesResource, WarehouseResource
from pipelines.site import build_site
from pipelines.store import (
    LoadCounts,
    last_load,
    replace_fetch_log,
    source_statuses,
    store_writer,
    table_counts,
)


def fetch_log_asset(fetch_keys: list[AssetKey]):
    """`raw/fetch_log`, after every fetch asset: the log of every request, as a table."""

    @asset(key=AssetKey(["raw", "fetch_log"]), deps=fetch_keys, group_name="raw",
           pool=STORE_POOL,
           description="Every HTTP request of every night: url, time, status, SHA-256, bytes, "
           "ETag.")
    def fetch_log(context: AssetExecutionContext,
                  warehouse: WarehouseResource) -> MaterializeResult:
        store = warehouse.raw_store()
        stat = store.log_path.stat() if store.log_path.exists() else None
        digest = f"{stat.st_size}:{stat.st_mtime_ns}" if stat else "empty"
        with store_writer(warehouse.paths()) as con:
            previous = last_load(con, "fetch_log")
            if previous is not None and previous.input_digest == digest:
                return MaterializeResult(metadata={"dagster/row_count": previous.counts.loaded,
                                                   "unchanged": True})
            rows = [r.__dict__ for r in store.read_log()]
            n = replace_fetch_log(con, rows, LoadCounts("fetch_log", len(rows), len(rows), 0),
                                  digest)
        return MaterializeResult(metadata={"dagster/row_count": n, "unchanged": False})

    return fetch_log


class SocfundTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: dict[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        return "warehouse"


def today_in_moscow() -> date:
    """Releases are dated in the sources' own time zone."""
    return datetime.now(ZoneInfo("Europe/Moscow")).date()


def prepare_build(paths: WarehousePaths) -> None:
    """Start the aside copy from the published warehouse (so a subset build keeps the rest)."""
    paths.build_dir.mkdir(parents=True, exist_ok=True)
    for leftover in (paths.build_db, paths.build_db.with_name(paths.build_db.name + ".wal")):
        leftover.unlink(missing_ok=True)
    if paths.published_db.exists():
        shutil.copy2(paths.published_db, paths.build_db)


def build_fingerprint(paths: WarehousePaths, live: bool) -> str:
    """What the published warehouse is a function of: the loaded inputs, dbt's code, vars.

    Each load's input digest stands for its rows (the loads record it in the same
    transaction as the rows); a source's failure state counts too, so a source
    turning stale or recovering is published. Request times do not count: a night
    that fetched only 304s builds nothing.
    """
    h = hashlib.sha256(f"live={live}\n".encode())
    with store_writer(paths) as con:
        for table in sorted(t for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw' "
                "AND table_name <> 'fetch_log'").fetchall()):
            previous = last_load(con, table)
            h.update(f"{table}:{previous.input_digest if previous else 'unrecorded'}\n".encode())
        for status in source_statuses(con):
            h.update(f"{status['source']}:{status['stage']}:{status['status']}:"
                     f"{status['error']}\n".encode())
    for f in dbt_input_files():
        h.update(f"{f.relative_to(DBT_PROJECT_DIR)}:".encode())
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def published_fingerprint(paths: WarehousePaths) -> str | None:
    if not paths.published_db.exists():
        return None
    try:
        con = connect(paths.published_db, read_only=True)
    except duckdb.Error:
        return None
    try:
        row = con.execute(
            "SELECT fingerprint FROM meta.build ORDER BY built_at DESC LIMIT 1").fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    return row[0] if row else None


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project,
            dagster_dbt_translator=SocfundTranslator())
def socfund_dbt(context: AssetExecutionContext, dbt: DbtCliResource,
                warehouse: WarehouseResource, sources: SourcesResource):
    paths = warehouse.paths()
    fingerprint = build_fingerprint(paths, sources.live)
    if context.is_subset is False and published_fingerprint(paths) == fingerprint:
        # Nothing dbt reads changed: no build, and so no swap, exports or page either.
        context.log.info(f"nothing changed since the published build ({fingerprint[:12]}); "
                         f"dbt, the swap, the exports and the page are skipped")
        return
    prepare_build(paths)
    before, after = release_memory()  # dbt's DuckDB takes its own gigabyte beside this one
    context.log.info(f"released memory before dbt: {before} MB resident, now {after} MB")
    # dbt runs as a subprocess that inherits this environment; profiles.yml reads both.
    os.environ["SOCFUND_BUILD_DB"] = str(paths.build_db)
    os.environ["SOCFUND_STORE_DB"] = str(paths.store_db)
    args = ["build", "--vars", json.dumps({"live": sources.live})]
    for n, event in enumerate(dbt.cli(args, context=context).stream()):
        yield event
        if n == 0:
            checkpoint("dbt")
    con = connect(paths.build_db)
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS meta")
        con.execute("CREATE TABLE IF NOT EXISTS meta.build "
                    "(fingerprint VARCHAR, built_at TIMESTAMPTZ)")
        con.execute("INSERT INTO meta.build VALUES (?, now())", [fingerprint])
    finally:
        con.close()


def publish(paths: WarehousePaths) -> None:
    """Move the aside build over the published file in one rename."""
    con = connect(paths.build_db)
    try:
        con.execute("CHECKPOINT")
    finally:
        con.close()
    checkpoint("swap")
    os.replace(paths.build_db, paths.published_db)


@asset(key=AssetKey(["warehouse", "published"]), deps=[socfund_dbt], group_name="publish",
       pool=STORE_POOL,
       description="Swap the warehouse built aside into warehouse/socfund.duckdb.")
def published_warehouse(context: AssetExecutionContext,
                        warehouse: WarehouseResource) -> MaterializeResult:
    paths = warehouse.paths()
    if not paths.build_db.exists():
        raise FileNotFoundError(f"no warehouse built at {paths.build_db}")
    publish(paths)
    counts = table_counts(paths.published_db, ["main"])
    context.log.info(f"published {paths.published_db}")
    return MaterializeResult(metadata={
        "path": str(paths.published_db),
        **{f"rows.{table}": n for _, table, n in counts},
    })


@asset(key=AssetKey(["warehouse", "exports"]), deps=[published_warehouse], group_name="publish",
       description="A dated release: CSV, Parquet and XLSX of every public table, datapackage, "
       "data dictionary, 360Giving grants, quarantine, a snapshot, CHANGES.md, SHA256SUMS.")
def exports(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    paths = warehouse.paths()
    before, after = release_memory()  # the XLSX workers and DuckDB's exports come next
    context.log.info(f"released memory before the exports: {before} MB resident, now {after} MB")
    release = export_release(paths.published_db, paths.exports_dir, release_date=today_in_moscow(),
                             manifest_path=dbt_project.manifest_path)
    files = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    context.log.info(f"release written to {release}")
    return MaterializeResult(metadata={"release": str(release), "files": len(files)})


@asset(key=AssetKey(["warehouse", "site"]), deps=[exports], group_name="publish",
       description="The static page: refresh times, downloads with sizes and checksums, charts, "
       "the data dictionary, example SQL and an organisation search.")
def site(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    paths = warehouse.paths()
    index = build_site(paths.published_db, paths.exports_dir, paths.site_dir,
                       built_at=datetime.now(UTC))
    context.log.info(f"page written to {index}")
    return MaterializeResult(metadata={"page": str(index)})


def sources_health_asset(source_keys: list[AssetKey]):
    """`warehouse/sources_health`: fails the run, after the loads, naming every stale source."""

    @asset(key=AssetKey(["warehouse", "sources_health"]), deps=source_keys, group_name="publish",
           description="Every source's state this night; fails (the run fails) when a source "
           "could not be fetched or parsed and its last good data was kept.")
    def sources_health(context: AssetExecutionContext,
                       warehouse: WarehouseResource) -> MaterializeResult:
        with store_writer(warehouse.paths()) as con:
            statuses = source_statuses(con)
        failed = [s for s in statuses if s["status"] == "failed"]

        def when(s: dict) -> str:
            at = s["succeeded_at"]
            return f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if at else "never"

        table = "\n".join(
            f"| {s['source']} | {s['stage']} | {s['status']} | "
            f"{when(s)} | {(s['error'] or '').replace('|', '/')[:200]} |"
            for s in statuses)
        report = ("| source | stage | status | last success | error |\n|---|---|---|---|---|\n"
                  + table)
        if failed:
            raise Failure(
                description="stale sources (last good data kept): " + "; ".join(
                    f"{s['source']} {s['stage']}: {s['error']} (last success {when(s)})"
                    for s in failed),
                metadata={"stale": len(failed), "sources": MetadataValue.md(report)},
            )
        return MaterializeResult(metadata={"stale": 0, "sources": MetadataValue.md(report)})

    return sources_health
