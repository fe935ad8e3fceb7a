"""Every dbt model is described, and so is every column of every public table.

Reads the manifest `make test` parses first (`dbt --warn-error parse`); an undescribed
public column fails here, in CI, before anyone reads the data dictionary.
"""

from __future__ import annotations

import pytest

from tests.dbt_manifest import load_manifest, models, public_models


@pytest.fixture(scope="module")
def manifest() -> dict:
    return load_manifest()


def test_every_model_has_a_description(manifest):
    undescribed = sorted(name for name, node in models(manifest).items()
                         if not node["description"].strip())
    assert not undescribed, f"models with no description: {undescribed}"


def test_every_public_column_has_a_description(manifest):
    public = public_models(manifest)
    assert {"fact_grant", "fact_application", "mart_funder_year"} <= set(public)
    undescribed = [f"{name}.{column}" for name, node in sorted(public.items())
                   for column, spec in node["columns"].items() if not spec["description"].strip()]
    assert not undescribed, f"public columns with no description: {undescribed}"


def test_every_source_table_has_a_description(manifest):
    undescribed = sorted(n["name"] for n in manifest["sources"].values()
                         if not n["description"].strip())
    assert not undescribed, f"source tables with no description: {undescribed}"
