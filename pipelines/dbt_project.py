"""The dbt project, and nothing else: preparing the manifest never imports asset code."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from pipelines.paths import DBT_PROJECT_DIR, dbt_input_files

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


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
    return not manifest.exists() or manifest.stat().st_mtime < max(
        (f.stat().st_mtime for f in dbt_input_files()), default=0.0)


# A manifest older than the models it describes would run yesterday's graph: it is
# re-parsed when stale, by the dbt beside this Python (under `dagster dev` too, where
# dagster-dbt's own re-parse would look for `dbt` on PATH).
if manifest_is_stale():
    parse_manifest()
