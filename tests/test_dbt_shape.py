"""The dbt project keeps its layers and rules in one place each (read from the manifest).

Staging reads only its source and the seeds; every staging model names its grain key;
the lineage columns, grant ids and the budget basis precedence are each written once;
public tables have enforced contracts with money as DECIMAL(18,2).
"""

from __future__ import annotations

import pytest

from schemas.vocabularies.statuses import KNOWN_STATUSES
from tests.dbt_manifest import column_tests, load_manifest, models, public_models

MONEY = {"amount", "amount_requested", "amount_awarded", "amount_transferred", "total_cost",
         "cofinancing", "amount_real", "budget_federal", "budget_regional", "budget_municipal",
         "budget_total", "business", "attracted_by_executors", "foreign_donor",
         "attracted_total", "budget_funding"}
LINEAGE_BY_HAND = ("_source_url as", "_raw_sha256 as", "_row as")


@pytest.fixture(scope="module")
def manifest() -> dict:
    return load_manifest()


def _staging(manifest: dict) -> dict[str, dict]:
    return {name: n for name, n in models(manifest).items() if name.startswith("stg_")}


def _macros(manifest: dict, node: dict) -> set[str]:
    """The macros a node uses, and the macros those use."""
    seen: set[str] = set()
    todo = list(node["depends_on"]["macros"])
    while todo:
        uid = todo.pop()
        if uid not in seen:
            seen.add(uid)
            todo.extend(manifest["macros"].get(uid, {}).get("depends_on", {}).get("macros", []))
    return {uid.rsplit(".", 1)[-1] for uid in seen}


def test_staging_reads_only_sources_seeds_and_reference_staging(manifest):
    staging = _staging(manifest)
    assert {"stg_reference__region_names", "stg_reference__region_cities",
            "stg_reference__region_subject_codes"} <= set(staging)
    for name, node in staging.items():
        for dep in node["depends_on"]["nodes"]:
            kind, _, dep_name = dep.split(".", 2)
            reference = dep_name.startswith("stg_reference__") and kind == "model"
            if name.startswith("stg_reference__"):
                assert kind == "seed", f"{name} reads {dep}: reference staging reads seeds only"
            else:
                assert kind in ("source", "seed") or reference, f"{name} reads {dep}"


def test_every_staging_model_exposes_its_grain_key(manifest):
    tests = column_tests(manifest)
    for name, node in _staging(manifest).items():
        keys = [c for c, spec in node["columns"].items()
                if spec["description"].startswith("Grain key")]
        assert len(keys) == 1, f"{name}: one column described as its grain key, not {keys}"
        assert {"unique", "not_null"} <= tests.get((node["unique_id"], keys[0]), set()), (
            f"{name}.{keys[0]} is its grain key: it needs unique and not_null")


def test_lineage_columns_come_from_one_macro(manifest):
    for name, node in _staging(manifest).items():
        if not any(d.startswith("source.") for d in node["depends_on"]["nodes"]):
            continue
        assert "lineage_columns" in _macros(manifest, node), name
        written = [s for s in LINEAGE_BY_HAND if s in node["raw_code"]]
        assert not written, f"{name} renames lineage by hand: {written}"


def test_grant_ids_are_built_by_one_macro(manifest):
    every = models(manifest)
    for name in ("fact_grant", "fact_outcome", "int_grant_geography"):
        assert "grant_id" in _macros(manifest, every[name]), name
    # The registry decisions' native id is the staging grain key, read by both places
    # that need it rather than spelt out again.
    for name in ("fact_grant", "int_organisation_mentions"):
        code = every[name]["raw_code"]
        assert "decision_key" in code and "registry_region_code ||" not in code, name


def test_budget_basis_precedence_lives_in_one_macro(manifest):
    every = models(manifest)
    for name in ("mart_budget_vs_attracted", "mart_programme_year", "mart_funder_year"):
        assert "budget_bases" in _macros(manifest, every[name]), name
        # the choice itself (a window over the precedence) is not written again
        assert "row_number" not in every[name]["raw_code"].lower(), name


def test_public_models_have_enforced_contracts_with_money_as_decimal(manifest):
    money_seen = set()
    for name, node in public_models(manifest).items():
        assert node["config"]["contract"]["enforced"], name
        for column, spec in node["columns"].items():
            assert spec["data_type"], f"{name}.{column} has no data_type"
            if column in MONEY:
                money_seen.add(column)
                assert spec["data_type"] == "decimal(18,2)", f"{name}.{column}"
    assert money_seen == MONEY


def test_the_status_values_tested_are_the_known_statuses(manifest):
    (values,) = [n["test_metadata"]["kwargs"]["values"] for n in manifest["nodes"].values()
                 if n["resource_type"] == "test" and n.get("column_name") == "status"
                 and n["attached_node"] == "model.socfund.fact_application"
                 and n.get("test_metadata", {}).get("name") == "accepted_values"]
    assert set(values) == set(KNOWN_STATUSES)


def test_the_funders_mart_is_checked_against_the_page_rule(manifest):
    (test,) = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"
               and n["name"] == "assert_mart_funder_year_matches_page_query"]
    assert set(test["depends_on"]["nodes"]) == {
        "model.socfund.mart_funder_year", "model.socfund.fact_funding",
        "model.socfund.dim_programme"}
