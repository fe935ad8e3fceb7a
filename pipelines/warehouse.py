"""Building the warehouse: the fetch log, the dbt models (built aside), and the swap.

The published `warehouse/socfund.duckdb` is never written in place. dbt builds a
copy under `warehouse/.build/`; only when every model and every error-severity
test passed is the copy moved over the published file (an atomic rename), so a
reader never sees a half-built warehouse and a failed night leaves yesterday's.
"""


import functools
import hashlib
import inspect
import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import duckdb
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    Executor,
    ExecutorDefinition,
    Failure,
    InitExecutorContext,
    MaterializeResult,
    MetadataValue,
    asset,
)
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from pipelines.buildlock import BuildBusy, build_lock
from pipelines.dbt_project import dbt_project
from pipelines.duckdb_config import connect, dbt_memory_limit
from pipelines.factory import STORE_POOL
from pipelines.faults import checkpoint
from pipelines.illustrative import kept_origin, mark_public_tables, record_build
from pipelines.inputs import dbt_digest
from pipelines.memory import release_memory
from pipelines.paths import WarehousePaths
from pipelines.publish.release import DUCKDB_FILE_NAME, export_release, read_latest
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

if TYPE_CHECKING:
    from dagster import DagsterEvent
    from dagster._core.execution.context.system import PlanOrchestrationContext
    from dagster._core.execution.plan.plan import ExecutionPlan
    from dagster._core.execution.retries import RetryMode
    from dagster._core.execution.step_dependency_config import StepDependencyConfig


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


def _run_started_by(tags: Mapping[str, str], run_id: str) -> str:
    if "dagster/schedule_name" in tags:
        how = f"schedule {tags['dagster/schedule_name']}"
    elif "dagster/sensor_name" in tags:
        how = f"sensor {tags['dagster/sensor_name']}"
    else:
        how = "launched from the UI or the API"
    return f"Dagster run {run_id[:8]}, {how}"


class BuildLockedExecutor(Executor):
    """Runs a whole Dagster run under the warehouse's build lock.

    The executor lives in the run's own process from the first step to the last, whether
    the steps run there or each in a process of its own (`--workers`, the multiprocess
    executor), and whoever launched the run (UI, schedule, sensor): the one place a lock
    can be held for the run. The steps that rewrite the aside copy check it again
    (`under_build_lock`)."""

    def __init__(self, inner: Executor) -> None:
        self._inner = inner

    @property
    def retries(self) -> "RetryMode":
        return self._inner.retries

    @property
    def step_dependency_config(self) -> "StepDependencyConfig":
        return self._inner.step_dependency_config

    def execute(self, plan_context: "PlanOrchestrationContext",
                execution_plan: "ExecutionPlan") -> Iterator["DagsterEvent"]:
        run = plan_context.dagster_run
        config = ((plan_context.run_config.get("resources") or {}).get("warehouse")
                  or {}).get("config") or {}
        # The run's warehouse as WarehouseResource resolves it: run config, else the default.
        paths = WarehouseResource(warehouse_dir=config.get("warehouse_dir") or "").paths()
        with build_lock(paths, _run_started_by(run.tags, run.run_id), run_id=run.run_id):
            yield from self._inner.execute(plan_context, execution_plan)


def build_locked(executor_def: ExecutorDefinition) -> ExecutorDefinition:
    """`executor_def` (same name, config and requirements) holding the build lock per run."""
    create_inner = executor_def.executor_creation_fn
    assert create_inner is not None

    def create(init_context: InitExecutorContext) -> Executor:
        return BuildLockedExecutor(create_inner(init_context))

    return ExecutorDefinition(name=executor_def.name, config_schema=executor_def.config_schema,
                              requirements=executor_def.get_requirements,
                              executor_creation_fn=create, description=executor_def.description)


def under_build_lock(compute: Callable) -> Callable:
    """An asset's compute run under the build lock: that of this process or this run, or
    its own for the step when nobody holds it (a run started from Python). Another build
    holding it fails the step in one line."""

    def lock(context: AssetExecutionContext, kwargs: dict):
        paths = kwargs["warehouse"].paths()
        return build_lock(paths, f"Dagster run {context.run_id[:8]}, step {compute.__name__}",
                          run_id=context.run_id)

    if inspect.isgeneratorfunction(compute):
        @functools.wraps(compute)
        def locked_events(context: AssetExecutionContext, *args: Any, **kwargs: Any) -> Iterator:
            try:
                with lock(context, kwargs):
                    yield from compute(context, *args, **kwargs)
            except BuildBusy as busy:
                raise Failure(description=str(busy)) from None
        return locked_events

    @functools.wraps(compute)
    def locked(context: AssetExecutionContext, *args: Any, **kwargs: Any) -> Any:
        try:
            with lock(context, kwargs):
                return compute(context, *args, **kwargs)
        except BuildBusy as busy:
            raise Failure(description=str(busy)) from None
    return locked


def prepare_build(paths: WarehousePaths) -> None:
    """Start the aside copy from the published warehouse (so a subset build keeps the rest).

    Deletes and rewrites `.build/`: only under the build lock (`under_build_lock`)."""
    paths.build_dir.mkdir(parents=True, exist_ok=True)
    for leftover in (paths.build_db, paths.build_db.with_name(paths.build_db.name + ".wal")):
        leftover.unlink(missing_ok=True)
    if paths.published_db.exists():
        shutil.copy2(paths.published_db, paths.build_db)


def build_fingerprint(paths: WarehousePaths, live: bool) -> str:
    """What the published warehouse is a function of: the loaded inputs, dbt's code, vars.

    Each load's input digest (`pipelines.inputs`) stands for its rows (the loads record
    it in `meta.loads` in the same transaction as the rows); a source's failure state
    counts too, so a source turning stale or recovering is published. Request times do
    not count: a night that fetched only 304s builds nothing.
    """
    h = hashlib.sha256(f"live={live}\n".encode())
    # A build from the same documents marked illustrative or not is another warehouse.
    h.update(f"illustrative={kept_origin(paths.raw_dir).illustrative}\n".encode())
    with store_writer(paths) as con:
        for table in sorted(t for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw' "
                "AND table_name <> 'fetch_log'").fetchall()):
            previous = last_load(con, table)
            h.update(f"{table}:{previous.input_digest if previous else 'unrecorded'}\n".encode())
        for status in source_statuses(con):
            h.update(f"{status['source']}:{status['stage']}:{status['status']}:"
                     f"{status['error']}\n".encode())
    h.update(f"dbt:{dbt_digest()}\n".encode())
    return h.hexdigest()


def published_fingerprint(paths: WarehousePaths) -> str | None:
    return _fingerprint_of(paths.published_db)


def released_fingerprint(paths: WarehousePaths) -> str | None:
    """The fingerprint of the warehouse the latest release and the page were made from;
    None when either is missing or the page is older than the release (a night that
    failed after the swap, before its release or page was written)."""
    latest = read_latest(paths.exports_dir)
    page = paths.site_dir / "index.html"
    if latest is None or not page.is_file():
        return None
    manifest = latest / "manifest.json"
    if not manifest.is_file() or page.stat().st_mtime < manifest.stat().st_mtime:
        return None
    return _fingerprint_of(latest / DUCKDB_FILE_NAME)


def _fingerprint_of(db: Path) -> str | None:
    if not db.exists():
        return None
    try:
        con = connect(db, read_only=True)
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


def dbt_build_args(paths: WarehousePaths, live: bool) -> list[str]:
    """`dbt build` into this warehouse's aside copy, reading its store.

    The paths travel as dbt vars (profiles.yml reads them), never through this process's
    environment: a run changes nothing that other steps or runs in the process inherit.
    """
    dbt_vars = {"live": live, "build_db": str(paths.build_db), "store_db": str(paths.store_db)}
    return ["build", "--vars", json.dumps(dbt_vars)]


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project,
            dagster_dbt_translator=SocfundTranslator())
@under_build_lock
def socfund_dbt(context: AssetExecutionContext, dbt: DbtCliResource,
                warehouse: WarehouseResource, sources: SourcesResource):
    paths = warehouse.paths()
    fingerprint = build_fingerprint(paths, sources.live)
    if (context.is_subset is False and published_fingerprint(paths) == fingerprint
            and released_fingerprint(paths) == fingerprint):
        # Nothing dbt reads changed and the release and page of the published warehouse
        # were written: no build, and so no swap, exports or page either.
        context.log.info(f"nothing changed since the published build ({fingerprint[:12]}); "
                         f"dbt, the swap, the exports and the page are skipped")
        return
    limit = dbt_memory_limit()  # a bad setting stops here, named, not inside dbt
    prepare_build(paths)
    before, after = release_memory()  # dbt's DuckDB takes its own memory beside this one
    context.log.info(f"released memory before dbt: {before} MB resident, now {after} MB; "
                     f"dbt's DuckDB may take {limit}")
    for n, event in enumerate(dbt.cli(dbt_build_args(paths, sources.live),
                                      context=context).stream()):
        yield event
        if n == 0:
            checkpoint("dbt")
    # After dbt's contracts and tests, which know no `illustrative` column; before the swap.
    origin = kept_origin(paths.raw_dir)
    con = connect(paths.build_db)
    try:
        if origin.illustrative:
            marked = mark_public_tables(con)
            context.log.warning(f"illustrative build (documents from {origin.samples_dir}): "
                                f"{len(marked)} public tables marked `illustrative` on every row")
        record_build(con, fingerprint, origin)
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
@under_build_lock
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


STALE_SOURCES = "stale_sources"


def sources_health_asset(source_keys: list[AssetKey]):
    """`warehouse/sources_health`: every source's state, after the loads.

    Its check `stale_sources` (severity ERROR, blocking) fails naming every source whose
    fetch or load failed this night and whose last good data was kept: the step and so
    the run fail, and `socfund build` prints what the check says.
    """
    key = AssetKey(["warehouse", "sources_health"])

    @asset(key=key, deps=source_keys, group_name="publish",
           check_specs=[AssetCheckSpec(
               STALE_SOURCES, asset=key, blocking=True,
               description="No source failed this night: a failed one kept its last good "
               "data, marked stale (the run fails naming it).")],
           description="Every source's state this night: stage, status, last success, error.")
    def sources_health(context: AssetExecutionContext,
                       warehouse: WarehouseResource) -> MaterializeResult:
        with store_writer(warehouse.paths()) as con:
            statuses = source_statuses(con)
        failed = [s for s in statuses if s["status"] == "failed"]
        return MaterializeResult(
            metadata={"stale": len(failed),
                      "sources": MetadataValue.md(_sources_report(statuses))},
            check_results=[_stale_sources_verdict(failed)],
        )

    return sources_health


def _last_success(status: dict) -> str:
    at = status["succeeded_at"]
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if at else "never"


def _sources_report(statuses: list[dict]) -> str:
    rows = "\n".join(
        f"| {s['source']} | {s['stage']} | {s['status']} | "
        f"{_last_success(s)} | {(s['error'] or '').replace('|', '/')[:200]} |"
        for s in statuses)
    return "| source | stage | status | last success | error |\n|---|---|---|---|---|\n" + rows


def _stale_sources_verdict(failed: list[dict]) -> AssetCheckResult:
    if not failed:
        return AssetCheckResult(check_name=STALE_SOURCES, passed=True,
                                description="no stale source")
    return AssetCheckResult(
        check_name=STALE_SOURCES, passed=False, severity=AssetCheckSeverity.ERROR,
        description="stale sources (last good data kept): " + "; ".join(
            f"{s['source']} {s['stage']}: {s['error']} (last success {_last_success(s)})"
            for s in failed),
        metadata={"stale": len(failed),
                  "sources": ", ".join(f"{s['source']} {s['stage']}" for s in failed)},
    )
