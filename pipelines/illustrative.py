"""Illustrative builds: a warehouse built from invented documents says so on every row.

A samples folder holding a file `ILLUSTRATIVE` (`tests/fixtures/`) is made of documents
socfund invented in the shape of the live sources. Each fetch records in its source's
manifest where its documents came from (`fetched_from`), so a rebuild from the raw store
(`socfund build --from-raw`) knows what it re-parses: a build is illustrative when a
manifest it parses says its documents came from such a folder.

An illustrative build gives every public table (schema `main`) a column `illustrative`,
true on every row, after the dbt build and its tests and before the swap; every build
records in `meta.build` whether it is one and which samples folder it read. The release
files and the page read `meta.build` and say so at their top.

No Dagster here: the release's worker processes import this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.duckdb_config import quote_ident

MARKER = "ILLUSTRATIVE"
COLUMN = "illustrative"
COLUMN_DESCRIPTION = ("true: this row comes from invented documents (tests/fixtures), not "
                      "from a real source")
# COMMENT ON takes no parameters: the description, a constant, as a SQL string literal.
_DESCRIPTION_LITERAL = "'" + COLUMN_DESCRIPTION.replace("'", "''") + "'"
WARNING_EN = ("ILLUSTRATIVE: this build was made from tests/fixtures, documents invented "
              "for tests and demonstration; take none of its rows for a real grant, "
              "organisation or amount.")
WARNING_RU = ("Демонстрационная сборка: все данные этой сборки выдуманы для примера "
              "(tests/fixtures), это не реальные гранты.")
PAGE_WARNING_RU = ("Демонстрационная сборка: все данные на этой странице выдуманы для примера "
                   "(tests/fixtures), это не реальные гранты.")


def folder_is_illustrative(folder: Path) -> bool:
    """The samples folder holds invented documents: it says so in a file `ILLUSTRATIVE`."""
    return (Path(folder) / MARKER).is_file()


def fetched_from(live: bool, samples_root: Path) -> dict:
    """What a fetch records in its manifest: the live sites, or which samples folder."""
    if live:
        return {"mode": "live"}
    return {"mode": "samples", "samples_dir": str(Path(samples_root).resolve()),
            "illustrative": folder_is_illustrative(samples_root)}


@dataclass(frozen=True)
class BuildOrigin:
    """What a build's documents were fetched from."""

    illustrative: bool = False
    samples_dir: str | None = None  # the samples folders read, `; `-joined; None: live only


def kept_origin(raw_dir: Path) -> BuildOrigin:
    """What the documents kept in the raw store came from, by their sources' manifests.

    Illustrative when any manifest says its documents came from an illustrative folder: a
    source whose fetch failed keeps its earlier documents, and they are parsed as well.
    A manifest written before fetches recorded their origin counts as not illustrative.
    """
    illustrative = False
    folders: set[str] = set()
    for manifest in sorted(Path(raw_dir).glob("*/manifest.json")):
        try:
            origin = json.loads(manifest.read_text(encoding="utf-8")).get("fetched_from")
        except (OSError, ValueError):
            continue
        if not isinstance(origin, dict) or origin.get("mode") != "samples":
            continue
        illustrative = illustrative or bool(origin.get("illustrative"))
        if origin.get("samples_dir"):
            folders.add(str(origin["samples_dir"]))
    return BuildOrigin(illustrative, "; ".join(sorted(folders)) or None)


def mark_public_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Give every public table of the connected warehouse the column `illustrative`, true
    and not null on every row; return the tables marked."""
    tables = [t for (t,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' ORDER BY table_name").fetchall()]
    column = quote_ident(COLUMN)
    for table in tables:
        relation = f"main.{quote_ident(table)}"
        con.execute(f"ALTER TABLE {relation} ADD COLUMN IF NOT EXISTS {column} "
                    f"BOOLEAN DEFAULT true")
        con.execute(f"ALTER TABLE {relation} ALTER COLUMN {column} SET NOT NULL")
        con.execute(f"COMMENT ON COLUMN {relation}.{column} IS {_DESCRIPTION_LITERAL}")
    return tables


def record_build(con: duckdb.DuckDBPyConnection, fingerprint: str, origin: BuildOrigin) -> None:
    """Add this build's row to `meta.build`: fingerprint, time, illustrative, samples folder."""
    con.execute("CREATE SCHEMA IF NOT EXISTS meta")
    con.execute("CREATE TABLE IF NOT EXISTS meta.build "
                "(fingerprint VARCHAR, built_at TIMESTAMPTZ)")
    # A warehouse built before builds recorded their origin gains the columns.
    con.execute("ALTER TABLE meta.build ADD COLUMN IF NOT EXISTS illustrative BOOLEAN")
    con.execute("ALTER TABLE meta.build ADD COLUMN IF NOT EXISTS samples_dir VARCHAR")
    con.execute("INSERT INTO meta.build (fingerprint, built_at, illustrative, samples_dir) "
                "VALUES (?, now(), ?, ?)", [fingerprint, origin.illustrative, origin.samples_dir])


def read_build(con: duckdb.DuckDBPyConnection, database: str = "") -> BuildOrigin:
    """The latest build's origin in `meta.build` of `database` (default: the connected one);
    not illustrative when no build recorded one."""
    db = database or con.execute("SELECT current_database()").fetchone()[0]
    columns = {c for (c,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = ? "
        "AND schema_name = 'meta' AND table_name = 'build'", [db]).fetchall()}
    if not {"built_at", "illustrative", "samples_dir"} <= columns:
        return BuildOrigin()
    row = con.execute(
        f"SELECT illustrative, samples_dir FROM {quote_ident(db)}.meta.build "
        "ORDER BY built_at DESC LIMIT 1").fetchone()
    if row is None:
        return BuildOrigin()
    return BuildOrigin(bool(row[0]), row[1])
