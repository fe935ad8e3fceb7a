"""The release's Frictionless Data Package (Data Package v2): every CSV with its Table
Schema, keys, licence and sources.

The package and each resource name the v2 profile in `$schema` (v2 replaced v1's `profile`:
a tabular resource says `"type": "table"`); a foreign key to its own resource leaves out
`reference.resource`, as v2 reads a self-reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from pipelines.publish.legal import (
    LICENCE_ID,
    LICENCE_TITLE,
    LICENCE_URL,
    PUBLISHER,
    SHARE_ALIKE_ID,
    SHARE_ALIKE_TABLES,
    SHARE_ALIKE_URL,
)
from pipelines.publish.sources import source_title, source_uri
from pipelines.publish.tables import CSV_NEWLINE, LIST_SEPARATOR, Column, Table, neutralise
from pipelines.registry import Source

PACKAGE_PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
RESOURCE_PROFILE = "https://datapackage.org/profiles/2.0/dataresource.json"


def source_descriptor(source: Source) -> dict:
    out = {"title": source_title(source)}
    uri = source_uri(source)
    if uri:
        out["path"] = uri
    return out


def _source_key(upstream: str) -> str:
    return upstream.split(".", 1)[-1].split("__", 1)[0]


def _sources_of(table: Table, sources: Sequence[Source]) -> list[dict]:
    """The sources a table is built from (its dbt lineage), of those the release holds."""
    keys = {_source_key(u) for u in table.upstream if u.startswith(("raw.", "quarantine."))}
    out = [source_descriptor(s) for s in sources if s.key in keys]
    if any(u.startswith("main.") for u in table.upstream):
        out.append({"title": "socfund tables: " + ", ".join(
            sorted(u for u in table.upstream if u.startswith("main.")))})
    if any(u.startswith("reference.") for u in table.upstream):
        out.append({"title": "socfund reference seeds: " + ", ".join(
            sorted(u for u in table.upstream if u.startswith("reference.")))})
    return out


def _field(column: Column) -> dict:
    out: dict[str, Any] = {"name": column.name, "type": column.schema_type}
    if column.label:
        out["title"] = column.label
    description = column.description
    if column.is_list:
        description = (description + " " if description else "") + \
            f"A list, items joined with `{LIST_SEPARATOR}`."
        if column.required:
            description += " An empty cell is an empty list."
    if description:
        out["description"] = description
    constraints: dict[str, Any] = {}
    # An empty list is written as an empty cell, which a CSV reader takes for null: a list
    # column is never `required` in the CSV, whatever the warehouse's not-null test says.
    if column.required and not column.is_list:
        constraints["required"] = True
    if column.unique:
        constraints["unique"] = True
    if column.enum:
        constraints["enum"] = [neutralise(v) for v in column.enum]
    if constraints:
        out["constraints"] = constraints
    return out


def table_resource(table: Table, path: str, digest: str, size: int,
                   sources: Sequence[Source]) -> dict:
    """A tabular data resource for one CSV of the release; `sources` are the release's."""
    schema: dict[str, Any] = {"fields": [_field(c) for c in table.columns],
                              "missingValues": [""]}
    if table.primary_key:
        schema["primaryKey"] = list(table.primary_key)
    if table.foreign_keys:
        schema["foreignKeys"] = [
            {"fields": [fk.column],
             "reference": ({} if fk.table == table.name else {"resource": fk.table})
             | {"fields": [fk.field]}}
            for fk in table.foreign_keys]
    resource: dict[str, Any] = {
        "$schema": RESOURCE_PROFILE, "name": table.name, "path": path, "type": "table",
        "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
        "bytes": size, "hash": f"sha256:{digest}",
        "dialect": {"delimiter": ",", "quoteChar": '"', "doubleQuote": True,
                    "lineTerminator": CSV_NEWLINE, "header": True},
        "schema": schema,
    }
    if table.description:
        resource["description"] = table.description
    described = _sources_of(table, sources)
    if described:
        resource["sources"] = described
    licence = SHARE_ALIKE_TABLES.get(table.name)
    if licence:
        resource["licenses"] = [{"name": SHARE_ALIKE_ID, "path": SHARE_ALIKE_URL,
                                 "title": f"CC BY-SA 4.0: {licence}"}]
    return resource


ILLUSTRATIVE_TITLE = "ILLUSTRATIVE — "
ILLUSTRATIVE_DESCRIPTION = (
    "Every row of this release is data of invented documents (tests/fixtures), made up for "
    "demonstration: no organisation, grant or amount in it is real; the first column of "
    "every file, `illustrative`, is true on every row. ")


def datapackage(release_date: date, resources: list[dict], sources: Sequence[Source],
                illustrative: bool = False) -> dict:
    """The package: its resources, and `sources` — the declared sources the release holds
    rows of (`pipelines.publish.sources.published_sources`). An illustrative release's
    title and description begin by saying its rows are invented."""
    return {
        "$schema": PACKAGE_PROFILE,
        "name": "socfund",
        "title": (ILLUSTRATIVE_TITLE if illustrative else "")
        + "socfund: social-sector funding in Russia and its neighbours",
        "description": (ILLUSTRATIVE_DESCRIPTION if illustrative else "")
        + "Who gave how much money to which non-profit, for what, where and in "
          "which year: grant registries, budget reports and competition results, "
          "validated and modelled. CSV files: UTF-8 with BOM, comma, CRLF; text "
          "cells starting with = + - @ tab or CR are prefixed with '; lists are "
          f"joined with `{LIST_SEPARATOR}`. See data-dictionary.md.",
        "version": release_date.isoformat(),
        "created": f"{release_date.isoformat()}T00:00:00Z",
        "licenses": [{"name": LICENCE_ID, "path": LICENCE_URL, "title": LICENCE_TITLE}],
        "contributors": [{"title": f"{PUBLISHER} contributors", "roles": ["creator"]}],
        "sources": [source_descriptor(s) for s in sources],
        "resources": resources,
    }
