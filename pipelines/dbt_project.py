"""The dbt project, and nothing else: preparing the manifest never imports asset code."""

from __future__ import annotations

from dagster_dbt import DbtProject

from pipelines.paths import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()
