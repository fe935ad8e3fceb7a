"""The whole asset graph: `dagster dev -m pipelines.definitions`."""

from __future__ import annotations

from dagster import AssetSelection, Definitions, define_asset_job
from dagster_dbt import DbtCliResource

from pipelines import (
    curated,
    ebudget,
    fpg,
    municipal,
    oprf2013,
    practice,
    sonko,
    treasury,
    warehouse,
)
from pipelines.dbt_project import dbt_executable, dbt_project
from pipelines.resources import SourcesResource, WarehouseResource

source_assets = [*fpg.assets, *oprf2013.assets, *sonko.assets, *ebudget.assets,
                 *treasury.assets, *municipal.assets, *curated.assets, *practice.assets]
fetch_keys = [key for a in source_assets for key in a.keys if key.path[0] == "fetch"]
all_assets = [
    *source_assets,
    warehouse.fetch_log_asset(fetch_keys),
    warehouse.socfund_dbt,
    warehouse.published_warehouse,
    warehouse.exports,
    warehouse.site,
]

build_job = define_asset_job(
    "build_all",
    selection=AssetSelection.all(),
    description="Fetch every source, validate and load, build the warehouse aside, swap it in.",
)


def make_resources(*, live: bool = False, warehouse_dir: str = "", samples_dir: str = "") -> dict:
    return {
        "warehouse": WarehouseResource(warehouse_dir=warehouse_dir),
        "sources": SourcesResource(mode="live" if live else "samples", samples_dir=samples_dir),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    }


defs = Definitions(assets=all_assets, jobs=[build_job], resources=make_resources())
