"""The dbt project module: importing it runs no dbt; builds reach dbt through its vars.

The import is watched in a fresh interpreter over a copy of the dbt project, so a stale or
missing manifest can be arranged without touching the checkout's own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from argparse import Namespace
from pathlib import Path

import pytest

from pipelines.duckdb_config import DEFAULT_DBT_MEMORY_LIMIT, dbt_memory_limit
from pipelines.paths import DBT_PROJECT_DIR, WarehousePaths
from pipelines.warehouse import dbt_build_args

REPO = Path(__file__).resolve().parent.parent

# Imports the definitions over the dbt project copy given as argv[1], recording every
# process started; prints what was started and the import's error, if any.
WATCHED_IMPORT = """
import json, subprocess, sys
from pathlib import Path

started = []


class Watched(subprocess.Popen):
    def __init__(self, args, *rest, **kwargs):
        started.append([str(a) for a in ([args] if isinstance(args, (str, Path)) else args)])
        super().__init__(args, *rest, **kwargs)


subprocess.Popen = Watched
import pipelines.paths

pipelines.paths.DBT_PROJECT_DIR = Path(sys.argv[1])
error = ""
try:
    import pipelines.definitions
except Exception as exc:
    error = f"{type(exc).__name__}: {exc}"
print(json.dumps({"started": started, "error": error}))
"""


def _project_copy(tmp_path: Path, manifest: bool) -> Path:
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project,
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    if manifest:
        (project / "target").mkdir()
        shutil.copy2(DBT_PROJECT_DIR / "target" / "manifest.json", project / "target")
    return project


def _import_definitions(project: Path, dagster_dev: bool = False) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_IS_DEV_CLI"}
    # The venv first on PATH, as `make dagster` does: dagster-dbt looks for `dbt` there.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    if dagster_dev:
        env["DAGSTER_IS_DEV_CLI"] = "1"
    done = subprocess.run([sys.executable, "-c", WATCHED_IMPORT, str(project)], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _dbt_runs(started: list[list[str]]) -> list[list[str]]:
    return [args for args in started if any(Path(a).name == "dbt" for a in args)]


def _make_stale(project: Path) -> Path:
    model = next((project / "models").rglob("*.sql"))
    later = time.time() + 3600
    os.utime(model, (later, later))
    return project / "target" / "manifest.json"


def test_importing_the_definitions_over_a_stale_manifest_runs_no_dbt(tmp_path):
    project = _project_copy(tmp_path, manifest=True)
    manifest = _make_stale(project)
    before = manifest.stat().st_mtime_ns
    seen = _import_definitions(project)
    assert seen["error"] == ""
    assert _dbt_runs(seen["started"]) == []
    assert manifest.stat().st_mtime_ns == before


def test_importing_the_definitions_without_a_manifest_runs_no_dbt(tmp_path):
    project = _project_copy(tmp_path, manifest=False)
    seen = _import_definitions(project)
    assert _dbt_runs(seen["started"]) == []
    assert str(project / "target" / "manifest.json") in seen["error"]
    assert not (project / "target" / "manifest.json").exists()


@pytest.mark.timeout(600)
def test_under_dagster_dev_a_stale_manifest_is_prepared(tmp_path):
    project = _project_copy(tmp_path, manifest=True)
    manifest = _make_stale(project)
    before = manifest.stat().st_mtime_ns
    seen = _import_definitions(project, dagster_dev=True)
    assert seen["error"] == ""
    parses = [args for args in _dbt_runs(seen["started"]) if "parse" in args]
    assert len(parses) == 1 and "--warn-error" in parses[0]
    assert manifest.stat().st_mtime_ns > before


def test_the_dbt_build_reaches_the_warehouse_through_dbt_vars(tmp_path, monkeypatch):
    """profiles.yml, rendered as dbt renders it, points at the paths the vars carry, even
    with the variables for running dbt by hand set to other files."""
    from dbt.config.runtime import load_profile
    from dbt.flags import set_from_args
    from dbt_common.context import set_invocation_context

    paths = WarehousePaths(tmp_path / "warehouse")
    before = dict(os.environ)
    args = dbt_build_args(paths, live=True)
    assert dict(os.environ) == before
    assert args[:2] == ["build", "--vars"]
    dbt_vars = json.loads(args[2])
    assert dbt_vars["live"] is True

    set_invocation_context({"SOCFUND_BUILD_DB": "/elsewhere/build.duckdb",
                            "SOCFUND_STORE_DB": "/elsewhere/store.duckdb"})
    set_from_args(Namespace(profiles_dir=str(DBT_PROJECT_DIR)), None)
    profile = load_profile(str(DBT_PROJECT_DIR), dbt_vars)
    assert profile.credentials.path == str(paths.build_db)
    (store,) = profile.credentials.attach
    assert (store.path, store.alias, store.read_only) == (str(paths.store_db), "store", True)


@pytest.mark.parametrize("setting", ["", "750MB"])
def test_dbt_takes_its_own_memory_limit(setting, monkeypatch):
    """dbt's DuckDB takes `SOCFUND_DBT_MEMORY_LIMIT` (default the one duckdb_config names),
    not the limit of the socfund process's own connections, which runs beside it."""
    from dbt.config.runtime import load_profile
    from dbt.flags import set_from_args
    from dbt_common.context import set_invocation_context

    environment = {"SOCFUND_DUCKDB_MEMORY_LIMIT": "3GB"}
    if setting:
        environment["SOCFUND_DBT_MEMORY_LIMIT"] = setting
    set_invocation_context(environment)
    set_from_args(Namespace(profiles_dir=str(DBT_PROJECT_DIR)), None)
    profile = load_profile(str(DBT_PROJECT_DIR), {})
    assert profile.credentials.settings["memory_limit"] == (setting or DEFAULT_DBT_MEMORY_LIMIT)
    monkeypatch.setenv("SOCFUND_DBT_MEMORY_LIMIT", setting or "")
    assert dbt_memory_limit() == (setting or DEFAULT_DBT_MEMORY_LIMIT)
    monkeypatch.setenv("SOCFUND_DBT_MEMORY_LIMIT", "lots")
    with pytest.raises(ValueError, match="SOCFUND_DBT_MEMORY_LIMIT='lots'"):
        dbt_memory_limit()
