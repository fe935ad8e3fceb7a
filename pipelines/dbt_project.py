"""The dbt project, and nothing else: preparing the manifest never imports asset code.

Importing this module runs no dbt command. The manifest the definitions load is prepared
by `socfund build` (`prepare_manifest`, when it is older than the models), by
`make manifest`, and under `dagster dev` by dagster-dbt's `prepare_if_dev` (with the `dbt`
found on PATH, which `make dagster` puts first).
"""

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from pipelines.paths import DBT_PROJECT_DIR, dbt_input_files

# Warnings are errors: a misspelt config key fails the parse instead of being ignored.
PARSE_ARGS = ("--warn-error", "parse", "--quiet")

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR,
                         prepare_project_cli_args=list(PARSE_ARGS))


def dbt_executable() -> str:
    """The dbt installed beside this Python (the venv need not be activated)."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def manifest_is_stale() -> bool:
    """No manifest, or one older than a file of the dbt project it describes."""
    manifest = dbt_project.manifest_path
    return not manifest.exists() or manifest.stat().st_mtime < max(
        (f.stat().st_mtime for f in dbt_input_files()), default=0.0)


def prepare_manifest() -> bool:
    """Parse the dbt project when its manifest is stale; True when it parsed.

    A manifest older than the models would run yesterday's graph. Two processes preparing
    at once (two builds, a build and `dagster dev`) take turns; the second finds the
    manifest fresh and parses nothing.
    """
    manifest = dbt_project.manifest_path
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with open(manifest.with_name(manifest.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not manifest_is_stale():
            return False
        env = {**os.environ, "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
               "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        subprocess.run([dbt_executable(), *PARSE_ARGS], cwd=DBT_PROJECT_DIR, env=env,
                       check=True)
    return True


# Under `dagster dev` only, dagster-dbt's documented preparation keeps the manifest up with
# the models as they are edited. Every run and step process loads these definitions again,
# so it parses only when something changed.
if dbt_project.preparer.using_dagster_dev() and manifest_is_stale():
    dbt_project.prepare_if_dev()
