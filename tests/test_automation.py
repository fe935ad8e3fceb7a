"""Nightly operations: the live schedule, the bulk-file sensor, fetch freshness checks."""

from __future__ import annotations

import asyncio
import json
import shutil
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from dagster import (
    AssetKey,
    AssetMaterialization,
    AssetSpec,
    DagsterInstance,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    Definitions,
    FreshnessPolicy,
    TimestampMetadataValue,
    asset,
    build_schedule_context,
    build_sensor_context,
    define_asset_job,
    instance_for_test,
    validate_run_config,
)

# The freshness daemon's own evaluator of a policy, and its test helpers.
from dagster._core.definitions.freshness_evaluator import FRESHNESS_EVALUATORS_BY_POLICY_TYPE
from dagster._core.loader import LoadingContextForTest
from dagster._core.test_utils import freeze_time

from pipelines import automation
from pipelines.resources import SourcesResource, WarehouseResource
from scrapers import fpg, oprf2013, sonko
from scrapers.http import HttpClient
from scrapers.samples import FIXTURES_DIR
from scrapers.samples_server import serve_samples

REPO = Path(__file__).resolve().parent.parent
BULK_HOSTS = (fpg.HOST, oprf2013.HOST, sonko.FEDERAL_HOST)


# --- the schedule -------------------------------------------------------------------------


def test_nightly_schedule_is_build_all_at_three_moscow_time_stopped():
    schedule = automation.nightly_schedule
    assert schedule.name == "nightly_schedule"
    assert schedule.job_name == "build_all"
    assert schedule.cron_schedule == "0 3 * * *"
    assert schedule.execution_timezone == "Europe/Moscow"
    assert schedule.default_status == DefaultScheduleStatus.STOPPED


def test_nightly_schedule_runs_with_live_sources():
    when = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)  # 03:00 in Moscow
    data = automation.nightly_schedule.evaluate_tick(
        build_schedule_context(scheduled_execution_time=when))
    (request,) = data.run_requests
    assert request.run_config == {"resources": {"sources": {"config": {"mode": "live"}}}}


def test_schedule_run_config_is_valid_for_the_real_job():
    from pipelines.definitions import all_assets, build_job, make_resources

    defs = Definitions(
        assets=all_assets, jobs=[build_job], schedules=[automation.nightly_schedule],
        sensors=[automation.bulk_files_changed], resources=make_resources(),
    )
    defs.resolve_all_job_defs()
    resolved = validate_run_config(defs.resolve_job_def("build_all"), automation.LIVE_RUN_CONFIG)
    assert resolved["resources"]["sources"]["config"]["mode"] == "live"
    assert defs.resolve_schedule_def("nightly_schedule").job_name == "build_all"
    assert defs.resolve_sensor_def("bulk_files_changed").job_name == "build_all"


def test_run_config_overrides_the_bound_sources_resource(tmp_path):
    """The resources are bound in samples mode; the schedule's run config makes them live."""
    seen: list[tuple[str, bool]] = []

    @asset
    def probe(sources: SourcesResource) -> None:
        seen.append((sources.mode, sources.live))

    from pipelines.definitions import make_resources

    defs = Definitions(assets=[probe], jobs=[define_asset_job("build_all")],
                       resources=make_resources(warehouse_dir=str(tmp_path)))
    job = defs.resolve_job_def("build_all")
    with DagsterInstance.ephemeral() as instance:
        assert job.execute_in_process(instance=instance).success
        assert job.execute_in_process(instance=instance,
                                      run_config=automation.LIVE_RUN_CONFIG).success
    assert seen == [("samples", False), ("live", True)]


# --- the bulk-file sensor -----------------------------------------------------------------


@pytest.fixture
def bulk_samples(tmp_path: Path) -> Path:
    """A copy of the samples of the bulk files' hosts, to change files in."""
    root = tmp_path / "samples"
    for host in BULK_HOSTS:
        shutil.copytree(FIXTURES_DIR / host, root / host)
    return root


@pytest.fixture
def sensor_run(bulk_samples: Path, tmp_path: Path):
    """Evaluate the sensor against the copied samples; returns (tick data) for a cursor."""
    warehouse = WarehouseResource(warehouse_dir=str(tmp_path / "warehouse"))
    with serve_samples(bulk_samples) as host_map:
        sensor_def = automation.build_bulk_files_sensor(host_map=host_map, min_interval=0.0)

        def tick(cursor: str | None):
            context = build_sensor_context(cursor=cursor, resources={"warehouse": warehouse})
            return sensor_def.evaluate_tick(context)

        tick.store = warehouse.raw_store()
        tick.host_map = host_map
        yield tick


def _bulk_file(root: Path) -> Path:
    return root / fpg.HOST / "upload" / "opendata" / "projects.xlsx"


def test_sensor_is_stopped_and_targets_build_all():
    assert automation.bulk_files_changed.name == "bulk_files_changed"
    assert automation.bulk_files_changed.job_name == "build_all"
    assert automation.bulk_files_changed.default_status == DefaultSensorStatus.STOPPED


def test_first_tick_records_a_baseline_and_launches_nothing(sensor_run):
    data = sensor_run(None)
    assert not data.run_requests
    assert data.skip_message.startswith("first check")
    cursor = json.loads(data.cursor)
    assert set(cursor) == {"fpg/projects_xlsx", "oprf2013/csv", "sonko/federal_xlsx"}
    xlsx = cursor["fpg/projects_xlsx"]
    assert xlsx["url"] == f"{fpg.BASE_URL}/upload/opendata/projects.xlsx"
    assert xlsx["etag"] and xlsx["last_modified"] and len(xlsx["sha256"]) == 64


def test_unchanged_files_skip_without_downloading(sensor_run):
    baseline = sensor_run(None).cursor
    data = sensor_run(baseline)
    assert not data.run_requests
    assert data.skip_message.startswith("unchanged: fpg/projects_xlsx, oprf2013/csv")
    assert json.loads(data.cursor) == json.loads(baseline)
    last_tick = sensor_run.store.read_log()[-4:]  # catalogue page + three bulk files
    assert [r.status for r in last_tick] == [304, 304, 304, 304]


def test_the_sensor_reads_the_kept_validators_not_the_fetch_log(sensor_run, monkeypatch):
    baseline = sensor_run(None).cursor
    assert (sensor_run.store.root / "fpg" / "validators.json").exists()

    def no_log(store):
        raise AssertionError("the fetch log was read")

    monkeypatch.setattr(type(sensor_run.store), "read_log", no_log)
    data = sensor_run(baseline)
    assert data.skip_message.startswith("unchanged:")
    assert json.loads(data.cursor) == json.loads(baseline)


def test_changed_file_requests_one_live_build(sensor_run, bulk_samples):
    baseline = sensor_run(None).cursor
    bulk = _bulk_file(bulk_samples)
    bulk.write_bytes(bulk.read_bytes() + b"\0")  # a new ETag and a new body

    data = sensor_run(baseline)
    (request,) = data.run_requests
    assert request.run_config == automation.LIVE_RUN_CONFIG
    assert request.tags["socfund/changed_files"] == "fpg/projects_xlsx"
    assert request.run_key.startswith("bulk-files:")
    before, after = json.loads(baseline), json.loads(data.cursor)
    assert after["fpg/projects_xlsx"]["etag"] != before["fpg/projects_xlsx"]["etag"]
    assert after["sonko/federal_xlsx"] == before["sonko/federal_xlsx"]

    # The next tick sees nothing new; the same change seen again keeps its run key,
    # which the daemon launches only once.
    assert not sensor_run(data.cursor).run_requests
    (again,) = sensor_run(baseline).run_requests
    assert again.run_key == request.run_key

    # The sensor's download is the build's: the fetch gets 304 and the new body.
    client = HttpClient(sensor_run.store, allowed_hosts={fpg.HOST},
                        host_map=sensor_run.host_map, min_interval=0.0)
    fetched = client.get(after["fpg/projects_xlsx"]["url"], source="fpg")
    assert fetched.not_modified
    assert fetched.body == bulk.read_bytes()


def test_another_change_gets_another_run_key(sensor_run, bulk_samples):
    cursor = sensor_run(None).cursor
    bulk = _bulk_file(bulk_samples)
    keys = []
    for suffix in (b"\1", b"\2"):
        bulk.write_bytes(bulk.read_bytes() + suffix)
        data = sensor_run(cursor)
        keys.append(data.run_requests[0].run_key)
        cursor = data.cursor
    assert keys[0] != keys[1]


def test_a_file_that_cannot_be_fetched_is_named_and_keeps_its_version(sensor_run, bulk_samples):
    baseline = sensor_run(None).cursor
    (bulk_samples / oprf2013.HOST / "grants2013" / "oprf_grants_2013.csv").unlink()
    data = sensor_run(baseline)
    assert not data.run_requests
    assert "oprf2013/csv not checked" in data.skip_message
    assert "HTTP 404" in data.skip_message
    assert json.loads(data.cursor)["oprf2013/csv"] == json.loads(baseline)["oprf2013/csv"]


def test_only_a_new_body_is_a_change():
    seen = {"a": {"url": "u1", "etag": '"1"', "sha256": "x"},
            "b": {"url": "u2", "etag": '"2"', "sha256": "y"}}
    now = {"a": {"url": "u1-moved", "etag": '"9"', "sha256": "x"},  # same bytes elsewhere
           "b": {"url": "u2", "etag": '"3"', "sha256": "z"},
           "c": {"url": "u3", "etag": '"4"', "sha256": "w"}}  # newly configured: a baseline
    assert automation.changed_files(seen, now) == ["b"]


# --- fetch freshness ----------------------------------------------------------------------

NIGHT = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)  # 03:00 in Moscow


@pytest.fixture(scope="module")
def fetch_keys() -> list[AssetKey]:
    from pipelines.definitions import fetch_keys

    return fetch_keys


def test_every_fetch_asset_has_the_36_hour_freshness_policy_and_nothing_else(fetch_keys):
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    policies = {key: graph.get(key).freshness_policy for key in graph.get_all_asset_keys()}
    assert AssetKey(["fetch", "fpg"]) in fetch_keys
    assert {key for key, policy in policies.items() if policy is not None} == set(fetch_keys)
    expected = FreshnessPolicy.time_window(fail_window=timedelta(hours=36))
    assert all(policies[key] == expected for key in fetch_keys)
    assert automation.FETCH_FRESHNESS == timedelta(hours=36)
    # Freshness is the assets' own policy now: no freshness checks, no sensor running them.
    assert not any("freshness" in check.name for key in fetch_keys
                   for check in graph.get(key).check_keys)
    assert "fetch_freshness_sensor" not in {s.name for s in defs.sensors}


def test_the_freshness_policy_is_set_without_a_warning():
    from pipelines.definitions import source_assets

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a superseded or preview API would raise here
        assets = automation.with_fetch_freshness(source_assets)
    assert [a.keys for a in assets] == [a.keys for a in source_assets]


def _freshness(instance: DagsterInstance, keys: list[AssetKey]) -> dict[AssetKey, str]:
    """Each asset's freshness as the daemon's evaluator of its policy finds it now."""
    graph = Definitions(assets=automation.with_fetch_freshness(
        [AssetSpec(key) for key in keys])).resolve_asset_graph()

    async def states() -> dict[AssetKey, str]:
        context = LoadingContextForTest(instance)
        out = {}
        for key in keys:
            node = graph.get(key)
            evaluator = FRESHNESS_EVALUATORS_BY_POLICY_TYPE[type(node.freshness_policy)]()
            out[key] = (await evaluator.evaluate_freshness(context, node)).value
        return out

    return asyncio.run(states())


def _report_fetch(instance: DagsterInstance, key: AssetKey, at: datetime,
                  last_good: datetime | None = None) -> None:
    metadata = ({} if last_good is None else
                {"dagster/last_updated_timestamp": TimestampMetadataValue(last_good.timestamp())})
    with freeze_time(at):
        instance.report_runless_asset_event(AssetMaterialization(asset_key=key,
                                                                 metadata=metadata))


def test_freshness_fails_36_hours_after_the_last_fetch(fetch_keys):
    fpg_key, oprf_key, sonko_key = (AssetKey(["fetch", s]) for s in ("fpg", "oprf2013",
                                                                     "sonko"))
    with DagsterInstance.ephemeral() as instance:
        _report_fetch(instance, fpg_key, NIGHT)
        _report_fetch(instance, oprf_key, NIGHT)
        # The next night ran six hours late: still fresh.
        with freeze_time(NIGHT + timedelta(hours=30)):
            assert _freshness(instance, [fpg_key, oprf_key]) == {fpg_key: "PASS",
                                                                 oprf_key: "PASS"}
        _report_fetch(instance, oprf_key, NIGHT + timedelta(hours=30))
        # fpg missed a night: failing 36 hours after its last fetch, until it fetches again.
        with freeze_time(NIGHT + timedelta(hours=37)):
            assert _freshness(instance, [fpg_key, oprf_key, sonko_key]) == {
                fpg_key: "FAIL", oprf_key: "PASS", sonko_key: "UNKNOWN"}  # never fetched
        _report_fetch(instance, fpg_key, NIGHT + timedelta(hours=48))
        with freeze_time(NIGHT + timedelta(hours=49)):
            assert _freshness(instance, [fpg_key])[fpg_key] == "PASS"


def test_a_failed_fetch_counts_as_an_update_its_checks_fail_instead(fetch_keys):
    """The policy reads the latest materialization, not `dagster/last_updated_timestamp`:
    a fetch that failed and kept two-day-old documents leaves the asset fresh. Its
    `fetched` check and the `stale_sources` check (test_operations) report the failure."""
    fpg_key = AssetKey(["fetch", "fpg"])
    with DagsterInstance.ephemeral() as instance:
        _report_fetch(instance, fpg_key, NIGHT + timedelta(hours=48),
                      last_good=NIGHT)
        with freeze_time(NIGHT + timedelta(hours=49)):
            assert _freshness(instance, [fpg_key])[fpg_key] == "PASS"


def test_the_instance_socfund_ships_evaluates_freshness_policies():
    overrides = yaml.safe_load((REPO / "ops" / "dagster.yaml").read_text(encoding="utf-8"))
    with instance_for_test(overrides=overrides) as instance:
        assert instance.freshness_enabled
        assert "FRESHNESS_DAEMON" in instance.get_required_daemon_types()
