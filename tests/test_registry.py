"""The source registry: every source declared once, and everything that names a source agrees.

The registry is the one place a source's facts are written; these tests fail when a raw
table, a dbt source, a parse kind or a bulk file exists without its declaration.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from pipelines import registry
from pipelines.automation import BULK_FILES
from pipelines.definitions import defs
from tests.conftest import REPO

SOURCES_YML = REPO / "dbt_project" / "models" / "staging" / "_sources.yml"
# Tables of the raw schema that no parser fills: the log of every request.
UNPARSED_RAW_TABLES = {"fetch_log"}


def _dbt_raw_tables() -> set[str]:
    doc = yaml.safe_load(SOURCES_YML.read_text(encoding="utf-8"))
    (raw,) = [s for s in doc["sources"] if s["name"] == "raw"]
    return {t["name"] for t in raw["tables"]}


def test_dbt_sources_name_exactly_the_declared_tables():
    assert _dbt_raw_tables() - UNPARSED_RAW_TABLES == set(registry.declared_tables())


def test_every_declared_entity_has_a_load_asset():
    raw_assets = {key.path[1] for key in defs.resolve_asset_graph().get_all_asset_keys()
                  if key.path[0] == "raw"}
    assert raw_assets - UNPARSED_RAW_TABLES == set(registry.declared_tables())
    fetch_assets = {key.path[1] for key in defs.resolve_asset_graph().get_all_asset_keys()
                    if key.path[0] == "fetch"}
    assert fetch_assets == {s.key for s in registry.SOURCES}


def test_every_source_declares_what_the_release_and_page_show():
    for s in registry.SOURCES:
        assert s.key and s.title_ru and s.title_en and s.terms, s.key
        assert s.status in {registry.LIVE, registry.NOT_CONFIGURED, registry.SHIPPED}, s.key
        assert s.entities, s.key
        assert (s.status == registry.LIVE) == bool(s.addresses), s.key
        for decl in s.entities:
            assert decl.entity.source == s.key
            assert decl.description


def test_declared_hosts_cover_every_declared_document_and_bulk_file():
    from urllib.parse import urlsplit

    for s in registry.SOURCES:
        for _, url in s.documents:
            assert urlsplit(url).hostname in s.hosts, (s.key, url)
        for bulk in s.bulk_files:
            assert urlsplit(bulk.url).hostname in s.hosts, (s.key, bulk.url)


def test_the_sensor_checks_exactly_the_declared_bulk_files():
    assert [(b.name, b.source, b.url) for b in BULK_FILES] == [
        (f.name, s.key, f.url) for s, f in registry.bulk_files()]


def test_parse_kinds_and_tables_are_unique():
    kinds = [d.cli_name for s in registry.SOURCES for d in s.entities]
    tables = [d.table for s in registry.SOURCES for d in s.entities]
    assert len(kinds) == len(set(kinds))
    assert len(tables) == len(set(tables))


def test_an_unknown_source_is_named_in_the_error():
    try:
        registry.source("nosuch")
    except KeyError as exc:
        assert "nosuch" in str(exc) and "fpg" in str(exc)
    else:
        raise AssertionError("an undeclared source was found")


def raw_tables_without_declaration(db: Path) -> set[str]:
    """The `raw.*` tables of a built store or warehouse that no source declares."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = {t for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw'").fetchall()}
    finally:
        con.close()
    return tables - UNPARSED_RAW_TABLES - set(registry.declared_tables())


def test_an_undeclared_raw_table_is_found(tmp_path):
    import duckdb

    db = tmp_path / "store.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE TABLE raw.fpg__applications (x INTEGER)")
    con.execute("CREATE TABLE raw.fetch_log (x INTEGER)")
    con.execute("CREATE TABLE raw.newsource__things (x INTEGER)")
    con.close()
    assert raw_tables_without_declaration(db) == {"newsource__things"}
