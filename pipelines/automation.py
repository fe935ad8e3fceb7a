"""Nightly operations: the 03:00 live build, a sensor on the bulk files, fetch freshness.

- `nightly_schedule` runs the job `build_all` every night at 03:00 Moscow time with live
  sources. It is stopped until someone starts it (`dagster schedule start nightly_schedule`
  or the toggle in the UI): a checkout must never reach the real sites by itself.
- `bulk_files_changed` checks the single-file sources (the ФПГ projects XLSX, the 2013
  operators CSV, the federal СО НКО registry) and requests a live `build_all` when one of
  them changed. Also stopped until started.
- `fetch_freshness_checks` fail when a source's `fetch/<source>` asset has not been
  updated for 36 hours; `fetch_freshness_sensor` evaluates them (running by default: it
  only reads the instance and launches check runs, never a fetch).

Nothing here reads the environment or the network at import time.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from dagster import (
    AssetChecksDefinition,
    AssetKey,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleDefinition,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    SupersessionWarning,
    build_last_update_freshness_checks,
    build_sensor_for_freshness_checks,
    sensor,
)

from pipelines.resources import WarehouseResource
from scrapers import fpg, oprf2013, sonko
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
    """A source published as one file: where it is, and which source's raw store keeps it.

    `find_url`, when given, reads the file's address from the page at `url` (the ФПГ
    catalogue links its projects XLSX under a name that may change).
    """

    name: str
    source: str
    host: str
    url: str
    find_url: Callable[[bytes, str], str] | None = None


# Treasury reports and the regional СО НКО registries are one file per region and year on
# hosts not yet configured live, and ebudget is a paged API: none of them is one bulk file.
BULK_FILES: tuple[BulkFile, ...] = (
    BulkFile("fpg/projects_xlsx", "fpg", fpg.HOST, fpg.OPEN_DATA_URL, fpg.find_bulk_url),
    BulkFile("oprf2013/csv", "oprf2013", oprf2013.HOST, oprf2013.CSV_URL),
    BulkFile("sonko/federal_xlsx", "sonko", sonko.FEDERAL_HOST, sonko.FEDERAL_URL),
)

BULK_CHECK_INTERVAL_SECONDS = 3600


def check_bulk_files(
    client: HttpClient, store: RawStore, files: Sequence[BulkFile] = BULK_FILES
) -> tuple[dict[str, dict], dict[str, str]]:
    """The current version of each bulk file, and why any could not be checked.

    Each file is fetched with a conditional GET from the raw store's fetch log: an
    unchanged file answers 304 and costs no download; a changed one is downloaded and
    kept, so the build it triggers gets 304 and reuses that body. A version is the URL,
    the validators and the SHA-256 of the body the raw store now holds for the URL.
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
    latest = store.last_success()
    versions = {
        name: {"url": url, "etag": latest[url].etag,
               "last_modified": latest[url].last_modified, "sha256": latest[url].sha256}
        for name, url in urls.items()
    }
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
        client = HttpClient(store, allowed_hosts=hosts, host_map=host_map,
                            min_interval=min_interval, retries=1)
        try:
            current, errors = check_bulk_files(client, store, files)
        finally:
            client.session.close()
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


# --- freshness ----------------------------------------------------------------------------

FETCH_FRESHNESS = timedelta(hours=36)


def fetch_freshness_checks(fetch_keys: Sequence[AssetKey]) -> list[AssetChecksDefinition]:
    """A `freshness_check` on every `fetch/<source>`: fails 36 hours after its last update.

    The last update is the latest materialization, or its `dagster/last_updated_timestamp`
    metadata when set (a fetch that fell back to an older good copy says when that was).
    36 hours: one missed night fails, a night that ran late does not.
    """
    with _superseded_quietly():
        return list(build_last_update_freshness_checks(assets=list(fetch_keys),
                                                       lower_bound_delta=FETCH_FRESHNESS))


def fetch_freshness_sensor(checks: Sequence[AssetChecksDefinition]) -> SensorDefinition:
    """Evaluates the freshness checks: a fetch that stops updating fails without a run."""
    with _superseded_quietly():
        return build_sensor_for_freshness_checks(
            freshness_checks=checks,
            name="fetch_freshness_sensor",
            minimum_interval_seconds=600,
            default_status=DefaultSensorStatus.RUNNING,
        )


@contextmanager
def _superseded_quietly() -> Iterator[None]:
    """Dagster 1.13 marks these builders superseded by a `FreshnessPolicy` on each asset.
    They are kept because they honour `dagster/last_updated_timestamp` and live here, in
    one place, without touching any source module's asset definitions."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SupersessionWarning)
        yield
