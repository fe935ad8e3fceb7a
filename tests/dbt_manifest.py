"""The dbt manifest the tests of the dbt project read, prepared as `socfund build` does."""

from __future__ import annotations

import json
from typing import Any

from pipelines.dbt_project import dbt_project, prepare_manifest

PUBLIC_SCHEMA = "main"


def load_manifest() -> dict[str, Any]:
    """dbt_project/target/manifest.json, parsed first (warnings as errors) when stale."""
    prepare_manifest()
    return json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))


def models(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The project's models by name."""
    return {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}


def public_models(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The models built into the public schema (dim_*, fact_*, bridge_*, mart_*)."""
    return {name: n for name, n in models(manifest).items() if n["schema"] == PUBLIC_SCHEMA}


def column_tests(manifest: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    """(model unique_id, column) → the names of the generic tests on that column."""
    out: dict[tuple[str, str], set[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or not node.get("column_name"):
            continue
        meta = node.get("test_metadata") or {}
        out.setdefault((node["attached_node"], node["column_name"]), set()).add(
            meta.get("name", node["name"]))
    return out
