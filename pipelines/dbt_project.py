"""The dbt project, and nothing else: preparing the manifest never imports asset code."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from pipelines.paths import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

_PROJECT_FILES = ("dbt_project.yml", "models", "macros", "seeds", "tests")


def _newest_project_file(root: Path) -> float:
    newest = 0.0
    for name in _PROJECT_FILES:
        path = root / name
        paths = [path] if path.is_file() else path.rglob("*") if path.is_dir() else []
        for p in paths:
            newest = max(newest, p.stat().st_mtime)
    return newest


def dbt_executable() -> str:
    """The dbt installed beside this Python (the venv need not be activated)."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def parse_manifest() -> None:
    env = {**os.environ, "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    subprocess.run([dbt_executable(), "parse", "--quiet"], cwd=DBT_PROJECT_DIR, env=env,
                   check=True)


def manifest_is_stale() -> bool:
    manifest = dbt_project.manifest_path
    return not manifest.exists() or manifest.stat().st_mtime < _newest_project_file(
        DBT_PROJECT_DIR
    )


# A manifest older than the models it describes would run yesterday's graph: it is
# re-parsed when stale, by the dbt beside this Python (under `dagster dev` too, where
# dagster-dbt's own re-parse would look for `dbt` on PATH).
if manifest_is_stale():
    parse_manifest()
