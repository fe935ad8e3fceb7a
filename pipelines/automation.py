"""Nightly operations: the 03:00 live build, a sensor on the bulk files, fetch freshness.

- `nightly_schedule` runs the job `build_all` every night at 03:00 Moscow time with live
  sources. It is stopped until someone starts it (`dagster schedule start nightly_schedule`
  or the toggle in the UI): a checkout must never reach the real sites by itself.
- `bulk_files_changed` checks the single-file sources (the ФПГ projects XLSX, the 2013
  operators CSV, the federal СО НКО registry) and requests a live `build_all` when one of
  them changed. Also stopped until started.
- `with_fetch_freshness` gives every `fetch/<source>` asset the freshness policy
  `FETCH_FRESHNESS_POLICY`: it fails when the asset has not been materialized for 36
  hours. The daemon evaluates it; nothing launches a run for it.

Nothing here reads the environment or the network at import time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from dagster import (
    AssetsDefinition,
    AssetSpec,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    FreshnessPolicy,
    RunRequest,
    ScheduleDefinition,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    map_asset_specs,
    sensor,
)

from pipelines import registry
from pipelines.resources import WarehouseResource
from scrapers.http import FetchError, HttpClient
from scrapers.rawstore import RawStore

BUILD_JOB = "build_all"

# Run config replaces the bound config of `sources` as a whole: fields left out take the
# class defaults, which are what `make_resources(live=True)` binds anyway.
LIVE_RUN_CONFIG: dict = {"resources": {"sources": {"config": {"mode": "live"}}}}

nightly_schedule = ScheduleDefinition(
    name="nightly_schedule",
    job_name=BUILD_JOB,
    cron_schedule="0 3 * * *",
    execution_timezone="Europe/Moscow",
    run_config=LIVE_RUN_CONFIG,
    tags={"socfund/trigger": "nightly_schedule"},
    default_status=DefaultScheduleStatus.STOPPED,
    description="Every night at 03:00 Moscow time: fetch every source live, validate, load, "
    "build the warehouse aside and swap it in. Stopped until started.",
)


# --- bulk files ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkFile:
    """A declared bulk file as the sensor checks it: which source's raw store keeps it.

    `find_url`, when given, reads the file's address from the page at `url` (the ФПГ
    catalogue links its projects XLSX under a name that may change).
    """

    name: str
    source: str
    url: str
    find_url: Callable[[bytes, str], str] | None = None

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""


# The sources' declarations name their bulk files (pipelines.registry): treasury reports
# and regional registries are one file per region and year, ebudget a paged API.
BULK_FILES: tuple[BulkFile, ...] = tuple(
    BulkFile(f.name, s.key, f.url, f.find_url) for s, f in registry.bulk_files())

BULK_CHECK_INTERVAL_SECONDS = 3600


def check_bulk_files(
    client: HttpClient, store: RawStore, files: Sequence[BulkFile] = BULK_FILES
) -> tuple[dict[str, dict], dict[str, str]]:
    """The current version of each bulk file, and why any could not be checked.

    Each file is fetched with a conditional GET from the validators the raw store keeps
    for its source: an unchanged file answers 304 and costs no download; a changed one
    is downloaded and kept, so the build it triggers gets 304 and reuses that body. A
    version is the URL, the validators and the SHA-256 of the body the raw store now
    holds for the URL.
    """
    urls: dict[str, str] = {}
    errors: dict[str, str] = {}
    for bulk in files:
        try:
            url = bulk.url
            if bulk.find_url is not None:
                page = client.get(bulk.url, source=bulk.source)
                url = bulk.find_url(page.body, bulk.url)
            client.get(url, source=bulk.source)
        except (FetchError, ValueError) as exc:
            errors[bulk.name] = str(exc)
            continue
        urls[bulk.name] = url
    client.save_validators()
    versions = {}
    for bulk in files:
        if bulk.name in urls:
            kept = store.validators(bulk.source)[urls[bulk.name]]
            versions[bulk.name] = {"url": urls[bulk.name], "etag": kept.etag,
                                   "last_modified": kept.last_modified, "sha256": kept.sha256}
    return versions, errors


def changed_files(previous: Mapping[str, dict], current: Mapping[str, dict]) -> list[str]:
    """Files whose content differs from the version seen before.

    Content, not validators: a file re-dated or moved to a new address with the same
    bytes needs no build. A file never seen before is a baseline, not a change.
    """
    return sorted(name for name, version in current.items()
                  if name in previous and previous[name].get("sha256") != version["sha256"])


def bulk_run_key(changed: Mapping[str, dict]) -> str:
    """The same new versions always give the same key, so one change launches one run."""
    canonical = json.dumps(changed, sort_keys=True, ensure_ascii=False)
    return "bulk-files:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:24]


def _skip_reason(first: bool, checked: Sequence[str], errors: Mapping[str, str]) -> SkipReason:
    names = ", ".join(sorted(checked)) or "nothing"
    head = (f"first check: baseline recorded for {names}; a change from now on requests a "
            "live build" if first else f"unchanged: {names}")
    tail = [f"{name} not checked: {error}" for name, error in sorted(errors.items())]
    return SkipReason("; ".join([head, *tail]))


def build_bulk_files_sensor(
    *,
    name: str = "bulk_files_changed",
    files: Sequence[BulkFile] = BULK_FILES,
    host_map: dict[str, str] | None = None,
    min_interval: float = 1.0,
    minimum_interval_seconds: int = BULK_CHECK_INTERVAL_SECONDS,
) -> SensorDefinition:
    """A sensor requesting a live `build_all` when a bulk file's content changed.

    The cursor holds the last seen version per file (JSON). The first tick, with no
    cursor, only records the versions: turning the sensor on, or resetting its cursor,
    must not start a live build by itself — the nightly schedule does the regular ones.
    `host_map` points the client at a loopback server (tests); without it, the real hosts.
    """
    hosts = {bulk.host for bulk in files}

    @sensor(
        name=name,
        job_name=BUILD_JOB,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=DefaultSensorStatus.STOPPED,
        description="Checks the bulk files (ФПГ projects XLSX, 2013 operators CSV, federal "
        "СО НКО registry) with conditional GETs; a changed file requests a live build_all. "
        "The first tick records a baseline and launches nothing.",
    )
    def _bulk_files_sensor(context: SensorEvaluationContext, warehouse: WarehouseResource):
        store = warehouse.raw_store()
        with HttpClient(store, allowed_hosts=hosts, host_map=host_map,
                        min_interval=min_interval, retries=1) as client:
            current, errors = check_bulk_files(client, store, files)
        for file_name, error in sorted(errors.items()):
            context.log.warning(f"{file_name}: {error}")
        previous: dict[str, dict] = json.loads(context.cursor) if context.cursor else {}
        context.update_cursor(json.dumps({**previous, **current}, sort_keys=True,
                                         ensure_ascii=False))
        changed = changed_files(previous, current)
        if not changed:
            return _skip_reason(not previous, list(current), errors)
        new_versions = {file_name: current[file_name] for file_name in changed}
        return RunRequest(
            run_key=bulk_run_key(new_versions),
            run_config=LIVE_RUN_CONFIG,
            tags={"socfund/trigger": name, "socfund/changed_files": ",".join(changed)},
        )

    return _bulk_files_sensor


bulk_files_changed = build_bulk_files_sensor()


# --- freshness ---------------------------------------------------------------------------

FETCH_FRESHNESS = timedelta(hours=36)
# 36 hours: one missed night fails, a night that ran late does not.
FETCH_FRESHNESS_POLICY = FreshnessPolicy.time_window(fail_window=FETCH_FRESHNESS)


def with_fetch_freshness(assets: Sequence[AssetsDefinition]) -> list[AssetsDefinition]:
    """The assets, every `fetch/<source>` among them with `FETCH_FRESHNESS_POLICY`.

    The policy is evaluated by the Dagster daemon from the asset's latest materialization.
    A fetch that failed and kept its last good documents still materializes (its `fetched`
    check and the `stale_sources` check fail instead), so the policy fails when a night's
    fetch did not run at all: the schedule was off or its daemon down, the run failed or
    was stuck before the fetches.
    """
    return list(map_asset_specs(_fetch_freshness, assets))


def _fetch_freshness(spec: AssetSpec) -> AssetSpec:
    if spec.key.path[0] != "fetch":
        return spec
    return spec.replace_attributes(freshness_policy=FETCH_FRESHNESS_POLICY)
