"""The real Dagster webserver and daemon over `pipelines.definitions`, as analysts run them.

Both are started from the virtualenv with a temporary DAGSTER_HOME holding
`ops/dagster.yaml` and a temporary warehouse (SOCFUND_WAREHOUSE_DIR). The GraphQL API
is asked for the asset graph, the schedule and the sensors, and a run of `build_all`
(offline: the default resources serve `samples/`) is launched through the run queue
and must publish a warehouse with grants in it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import requests

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MODULE = "pipelines.definitions"
LOCATION = MODULE
REPOSITORY = "__repository__"
STARTUP_TIMEOUT = 300
# An offline build takes one to two minutes on an idle two-core machine; each step of the
# multiprocess executor starts its own process, and the machine may be shared.
RUN_TIMEOUT = 1800
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}


@dataclass
class Servers:
    url: str
    warehouse: Path
    logs: dict[str, Path]
    processes: dict[str, subprocess.Popen]

    def tail(self, lines: int = 40) -> str:
        out = []
        for name, path in self.logs.items():
            text = path.read_text(encoding="utf-8", errors="replace").splitlines()
            out.append(f"--- last {lines} lines of the {name} log ({path}) ---")
            out.extend(text[-lines:])
        return "\n".join(out)

    def gql(self, query: str, variables: dict | None = None) -> dict:
        try:
            response = requests.post(f"{self.url}/graphql", timeout=120,
                                     json={"query": query, "variables": variables or {}})
        except requests.RequestException as exc:
            pytest.fail(f"GraphQL request failed: {exc}\n{self.tail()}")
        body = response.json() if response.headers.get("content-type", "").startswith(
            "application/json") else {}
        if response.status_code != 200 or body.get("errors"):
            pytest.fail(f"GraphQL answered {response.status_code}: "
                        f"{body.get('errors') or response.text[:2000]}\n{self.tail()}")
        return body["data"]

    def check_alive(self) -> None:
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                pytest.fail(f"dagster {name} exited with {proc.returncode}\n{self.tail()}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        # A session of its own, so teardown reaches the code servers, run workers and
        # dbt it starts, and nothing else.
        return subprocess.Popen(args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # whatever of the group is left
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


LOCATION_STATUS = """
{ workspaceOrError { __typename ... on Workspace { locationEntries {
    name loadStatus
    locationOrLoadError { __typename ... on PythonError { message stack } } } } } }
"""


def _wait_until_ready(servers: Servers) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        servers.check_alive()
        try:
            if requests.get(f"{servers.url}/server_info", timeout=5).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"no /server_info after {STARTUP_TIMEOUT} s\n{servers.tail()}")
        time.sleep(1)
    while True:
        servers.check_alive()
        entries = servers.gql(LOCATION_STATUS)["workspaceOrError"]["locationEntries"]
        entry = next((e for e in entries if e["name"] == LOCATION), None)
        if entry is None:
            pytest.fail(f"no code location {LOCATION} in {[e['name'] for e in entries]}")
        if entry["loadStatus"] == "LOADED":
            error = entry["locationOrLoadError"]
            if error and error["__typename"] == "PythonError":
                stack = "".join(error["stack"])
                pytest.fail(f"{LOCATION} failed to load: {error['message']}\n{stack}")
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{LOCATION} not loaded after {STARTUP_TIMEOUT} s\n{servers.tail()}")
        time.sleep(2)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    root = tmp_path_factory.mktemp("dagster")
    home, warehouse = root / "home", root / "warehouse"
    home.mkdir()
    warehouse.mkdir()
    shutil.copy(REPO / "ops" / "dagster.yaml", home / "dagster.yaml")
    # The venv first on PATH, as `make dagster` does: dagster-dbt looks for `dbt` there.
    env = {**os.environ, "DAGSTER_HOME": str(home), "SOCFUND_WAREHOUSE_DIR": str(warehouse),
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    port = _free_port()
    logs = {"webserver": root / "webserver.log", "daemon": root / "daemon.log"}
    processes: dict[str, subprocess.Popen] = {}
    # Both processes would create the fresh SQLite storage at once and race on its schema.
    subprocess.run([str(BIN / "dagster"), "instance", "migrate"], cwd=REPO, env=env,
                   check=True, capture_output=True)
    try:
        processes["webserver"] = _start([
            str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port), "-m", MODULE,
        ], env, logs["webserver"])
        processes["daemon"] = _start([
            str(BIN / "dagster-daemon"), "run", "-m", MODULE,
        ], env, logs["daemon"])
        started = Servers(f"http://127.0.0.1:{port}", warehouse, logs, processes)
        _wait_until_ready(started)
        yield started
    finally:
        for proc in processes.values():
            _stop(proc)


def _key(node: dict) -> str:
    return "/".join(node["path"])


ASSET_GRAPH = """
{ assetNodes {
    assetKey { path }
    dependencyKeys { path }
    internalFreshnessPolicy { __typename ... on TimeWindowFreshnessPolicy { failWindowSeconds } }
    assetChecksOrError { __typename ... on AssetChecks { checks { name } } } } }
"""


def test_asset_graph(servers: Servers):
    nodes = servers.gql(ASSET_GRAPH)["assetNodes"]
    deps = {_key(n["assetKey"]): {_key(d) for d in n["dependencyKeys"]} for n in nodes}
    for key in ("fetch/fpg", "raw/fpg__applications", "main/fact_grant", "warehouse/published"):
        assert key in deps, f"{key} missing from the asset graph served by the webserver"
    assert "fetch/fpg" in deps["raw/fpg__applications"]
    assert "raw/fpg__applications" in deps["staging/stg_fpg__applications"]
    assert "main/fact_grant" in deps["warehouse/published"]
    checks = {_key(n["assetKey"]): {c["name"] for c in n["assetChecksOrError"].get("checks", [])}
              for n in nodes}
    assert "stale_sources" in checks["warehouse/sources_health"]
    policies = {_key(n["assetKey"]): n["internalFreshnessPolicy"] for n in nodes}
    fetches = [key for key in deps if key.startswith("fetch/")]
    assert fetches
    for key in fetches:
        assert policies[key] == {"__typename": "TimeWindowFreshnessPolicy",
                                 "failWindowSeconds": 36 * 3600}, (
            f"{key} has no 36-hour freshness policy: wire pipelines.automation into {MODULE}")
    assert policies["warehouse/published"] is None


INSTIGATORS = """
{ repositoriesOrError { __typename ... on RepositoryConnection { nodes {
    name location { name }
    schedules { name cronSchedule executionTimezone pipelineName scheduleState { status } }
    sensors { name minIntervalSeconds sensorState { status }
              targets { pipelineName } } } } } }
"""

SCHEDULE_DRY_RUN = """
mutation($selector: ScheduleSelector!, $timestamp: Float) {
  scheduleDryRun(selectorData: $selector, timestamp: $timestamp) {
    __typename
    ... on DryRunInstigationTick { evaluationResult {
        skipReason runRequests { runConfigYaml jobName } } }
    ... on PythonError { message } } }
"""


def test_schedule_and_sensors(servers: Servers):
    data = servers.gql(INSTIGATORS)["repositoriesOrError"]
    (repo,) = [r for r in data["nodes"] if r["location"]["name"] == LOCATION]
    schedules = {s["name"]: s for s in repo["schedules"]}
    assert "nightly_schedule" in schedules, (
        f"no nightly_schedule in {MODULE}: wire pipelines.automation into its Definitions")
    nightly = schedules["nightly_schedule"]
    assert nightly["cronSchedule"] == "0 3 * * *"
    assert nightly["executionTimezone"] == "Europe/Moscow"
    assert nightly["pipelineName"] == "build_all"
    assert nightly["scheduleState"]["status"] == "STOPPED"

    sensors = {s["name"]: s for s in repo["sensors"]}
    # Freshness is the assets' policy, evaluated by the daemon: no sensor of its own.
    assert set(sensors) == {"bulk_files_changed"}
    assert sensors["bulk_files_changed"]["sensorState"]["status"] == "STOPPED"
    assert [t["pipelineName"] for t in sensors["bulk_files_changed"]["targets"]] == ["build_all"]

    selector = {"repositoryLocationName": LOCATION, "repositoryName": repo["name"],
                "scheduleName": "nightly_schedule"}
    tick = servers.gql(SCHEDULE_DRY_RUN, {"selector": selector, "timestamp": time.time()})
    tick = tick["scheduleDryRun"]
    assert tick["__typename"] == "DryRunInstigationTick", tick
    (request,) = tick["evaluationResult"]["runRequests"]
    assert "mode: live" in request["runConfigYaml"]


LAUNCH = """
mutation($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message stack }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidSubsetError { message }
    ... on PipelineNotFoundError { message } } }
"""

FRESHNESS = """
query($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) {
    __typename ... on AssetNode { freshnessStatusInfo { freshnessStatus } } } }
"""
# The daemon's freshness loop runs every 30 seconds.
FRESHNESS_TIMEOUT = 300

RUN_STATUS = """
query($runId: ID!) { runOrError(runId: $runId) { __typename ... on Run { status } } }
"""

RUN_FAILURES = """
query($runId: ID!) { logsForRun(runId: $runId) { __typename ... on EventConnection {
    events { __typename
      ... on ExecutionStepFailureEvent { stepKey error { message } }
      ... on RunFailureEvent { message }
      ... on EngineEvent { message error { message } } } } } }
"""


def _failure_summary(servers: Servers, run_id: str) -> str:
    events = servers.gql(RUN_FAILURES, {"runId": run_id})["logsForRun"].get("events", [])
    lines = []
    for event in events:
        error = (event.get("error") or {}).get("message")
        if event["__typename"] == "ExecutionStepFailureEvent":
            lines.append(f"step {event['stepKey']} failed: {error}")
        elif event["__typename"] == "RunFailureEvent" or error:
            lines.append(f"{event['__typename']}: {event.get('message')} {error or ''}")
    return "\n".join(lines[-20:])


@pytest.mark.timeout(STARTUP_TIMEOUT + RUN_TIMEOUT + FRESHNESS_TIMEOUT + 120)
def test_build_all_through_the_run_queue(servers: Servers):
    data = servers.gql(INSTIGATORS)["repositoriesOrError"]
    (repo,) = [r for r in data["nodes"] if r["location"]["name"] == LOCATION]
    params = {"selector": {"repositoryLocationName": LOCATION, "repositoryName": repo["name"],
                           "jobName": "build_all"},
              # Every step in the run's own process, as an analyst may pick in the
              # launchpad: on the small offline corpus a process per step costs more
              # than it saves (the multiprocess path is exercised by `--workers`).
              "runConfigData": {"execution": {"config": {"in_process": {}}}},
              "mode": "default"}
    launched = servers.gql(LAUNCH, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", json.dumps(launched, indent=1)
    run_id = launched["run"]["runId"]
    assert launched["run"]["status"] == "QUEUED", launched  # the daemon's queue starts it

    deadline, status, seen = time.monotonic() + RUN_TIMEOUT, "", []
    while time.monotonic() < deadline:
        servers.check_alive()
        status = servers.gql(RUN_STATUS, {"runId": run_id})["runOrError"]["status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        if status in TERMINAL:
            break
        time.sleep(3)
    assert status == "SUCCESS", (
        f"run {run_id} of build_all ended {status or 'nowhere'} (statuses {seen}) after "
        f"launching through the queue\n{_failure_summary(servers, run_id)}\n{servers.tail()}")

    published = servers.warehouse / "socfund.duckdb"
    assert published.exists(), f"no published warehouse at {published}\n{servers.tail()}"
    con = duckdb.connect(str(published), read_only=True)
    try:
        grants = con.execute("SELECT count(*) FROM main.fact_grant").fetchone()[0]
    finally:
        con.close()
    assert grants > 0

    # The daemon evaluates the fetches' freshness policy: just fetched, so fresh.
    deadline, freshness = time.monotonic() + FRESHNESS_TIMEOUT, None
    while time.monotonic() < deadline:
        node = servers.gql(FRESHNESS, {"key": {"path": ["fetch", "fpg"]}})["assetNodeOrError"]
        freshness = (node.get("freshnessStatusInfo") or {}).get("freshnessStatus")
        if freshness == "HEALTHY":
            break
        time.sleep(5)
    assert freshness == "HEALTHY", f"fetch/fpg freshness {freshness}\n{servers.tail()}"
