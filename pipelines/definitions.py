"""The whole asset graph: `dagster dev -m pipelines.definitions`."""

from __future__ import annotations

from dagster import AssetSelection, Definitions, define_asset_job, multi_or_in_process_executor
from dagster_dbt import DbtCliResource

from pipelines import automation, curated, ebudget, fpg, quality, registry, sonko, warehouse
from pipelines.dbt_project import dbt_executable, dbt_project
from pipelines.factory import source_assets as assets_of
from pipelines.resources import SourcesResource, WarehouseResource

# The sources whose fetch is code of their own; every other declared source fetches the
# documents its declaration lists.
OWN_FETCH = {"fpg": fpg.fetch_lists, "ebudget": ebudget.fetch_pages,
             "curated": curated.keep_files, "sonko": sonko.fetch_registries}

source_assets = [
    *(a for s in registry.SOURCES for a in assets_of(s, OWN_FETCH.get(s.key))),
    *fpg.card_assets,
]
fetch_keys = [key for a in source_assets for key in a.keys if key.path[0] == "fetch"]
load_keys = [key for a in source_assets for key in a.keys if key.path[0] == "raw"]
all_assets = [
    *automation.with_fetch_freshness(source_assets),
    # The card steps fetch too: the log is read after them.
    warehouse.fetch_log_asset([*fetch_keys, *(k for a in source_assets for k in a.keys
                                             if k.path[0] == "parsed")]),
    warehouse.sources_health_asset([*fetch_keys, *load_keys]),
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


def make_resources(*, live: bool = False, mode: str = "", warehouse_dir: str = "",
                   samples_dir: str = "") -> dict:
    """`mode`: samples (offline default), live, or raw (rebuild from the raw store)."""
    return {
        "warehouse": WarehouseResource(warehouse_dir=warehouse_dir),
        "sources": SourcesResource(mode=mode or ("live" if live else "samples"),
                                   samples_dir=samples_dir),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    }


defs = Definitions(
    assets=all_assets,
    asset_checks=[quality.quality_thresholds],
    jobs=[build_job],
    schedules=[automation.nightly_schedule],
    sensors=[automation.bulk_files_changed],
    resources=make_resources(),
    # Every run, whichever job, selection or launcher, holds the warehouse's build lock.
    executor=warehouse.build_locked(multi_or_in_process_executor),
)


def build_all_job():
    """`build_all`, resolved, for `reconstructable` (the multiprocess executor re-imports it)."""
    return defs.resolve_job_def(build_job.name)
