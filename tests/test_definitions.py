"""The Dagster definitions load, and the asset graph matches its stored snapshot.

A renamed asset, a moved group or a lost dependency fails here. After an intended
change, regenerate with `SOCFUND_UPDATE_SNAPSHOTS=1 pytest tests/test_definitions.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pipelines.definitions import defs

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.json"


def _graph() -> dict:
    graph = defs.resolve_asset_graph()
    out = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        out[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(p.to_user_string() for p in node.parent_keys),
            "checks": sorted(c.name for c in node.check_keys),
        }
    return out


def test_definitions_load_with_jobs_and_resources():
    assert defs.resolve_job_def("build_all") is not None
    assert {"warehouse", "sources", "dbt"} <= set(defs.resources)


def test_asset_graph_matches_snapshot():
    current = _graph()
    if os.environ.get("SOCFUND_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(current, ensure_ascii=False, indent=1) + "\n",
                            encoding="utf-8")
    assert SNAPSHOT.exists(), f"no snapshot at {SNAPSHOT}: run with SOCFUND_UPDATE_SNAPSHOTS=1"
    assert current == json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def test_every_load_asset_has_the_reconciliation_check():
    graph = _graph()
    loads = [k for k in graph if k.startswith("raw/") and k != "raw/fetch_log"]
    assert loads, "no load assets found"
    for key in loads:
        assert "parsed_equals_loaded_plus_quarantined" in graph[key]["checks"], key


def test_dbt_sources_are_the_load_assets():
    graph = _graph()
    for model in ("stg_fpg__applications", "stg_fpg__cards", "stg_oprf2013__grants"):
        (key,) = [k for k in graph if k.endswith("/" + model)]
        assert any(dep.startswith("raw/") for dep in graph[key]["deps"]), model
