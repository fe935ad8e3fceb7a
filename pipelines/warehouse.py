"""Building the warehouse: the fetch log, the dbt models (built aside), and the swap.

The published `warehouse/socfund.duckdb` is never written in place. dbt builds a
copy under `warehouse/.build/`; only when every model and every error-severity
test passed is the copy moved over the published file (an atomic rename), so a
reader never sees a half-built warehouse and a failed night leaves yesterday's.
"""


import json
import os
import shutil
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from pipelines.dbt_project import dbt_project
from pipelines.exports import export_release
from pipelines.paths import WarehousePaths
from pipelines.resources import SourcesResource, WarehouseResource
from pipelines.site import build_site
from pipelines.store import replace_fetch_log, store_writer, table_counts


def fetch_log_asset(fetch_keys: list[AssetKey]):
    """`raw/fetch_log`, after every fetch asset: the log of every request, as a table."""

    @asset(key=AssetKey(["raw", "fetch_log"]), deps=fetch_keys, group_name="raw",
           description="Every HTTP request of every night: url, time, status, SHA-256, bytes, "
           "ETag.")
    def fetch_log(context: AssetExecutionContext,
                  warehouse: WarehouseResource) -> MaterializeResult:
        rows = [r.__dict__ for r in warehouse.raw_store().read_log()]
        with store_writer(warehouse.paths()) as con:
            n = replace_fetch_log(con, rows)
        return MaterializeResult(metadata={"dagster/row_count": n})

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


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project,
            dagster_dbt_translator=SocfundTranslator())
def socfund_dbt(context: AssetExecutionContext, dbt: DbtCliResource,
                warehouse: WarehouseResource, sources: SourcesResource):
    paths = warehouse.paths()
    prepare_build(paths)
    # dbt runs as a subprocess that inherits this environment; profiles.yml reads both.
    os.environ["SOCFUND_BUILD_DB"] = str(paths.build_db)
    os.environ["SOCFUND_STORE_DB"] = str(paths.store_db)
    args = ["build", "--vars", json.dumps({"live": sources.live})]
    yield from dbt.cli(args, context=context).stream()


def publish(paths: WarehousePaths) -> None:
    """Move the aside build over the published file in one rename."""
    con = duckdb.connect(str(paths.build_db))
    try:
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(paths.build_db, paths.published_db)


@asset(key=AssetKey(["warehouse", "published"]), deps=[socfund_dbt], group_name="publish",
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
