"""The declared sources a release holds rows of, as the release names them.

Every fact about a source (key, titles, address, terms, status) is read from its
declaration in `pipelines.registry`; this module only decides which of them a release
names: those with rows in the warehouse it was written from. A declared source without
rows (not fetched yet, or nothing published) is left out: the release holds nothing of
it. A raw table no source declares is not named either: `pipelines.registry`'s own test
fails on it.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

import duckdb

from pipelines import registry
from pipelines.duckdb_config import quote_ident
from pipelines.registry import Source


def to_uri(url: str) -> str:
    """An IRI (Cyrillic host or path) as an ASCII URI: IDNA host, percent-encoded path."""
    parts = urlsplit(url)
    host = parts.hostname.encode("idna").decode("ascii") if parts.hostname else ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, quote(parts.path, safe="/%:@!$&'()*+,;=-._~"),
                       quote(parts.query, safe="=&%:@/?+,;-._~"), quote(parts.fragment)))


def source_keys_with_rows(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Keys of the sources whose declared raw tables hold at least one row in the attached
    warehouse `wh`."""
    declared = registry.declared_tables()
    raw = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'wh' "
        "AND schema_name = 'raw' ORDER BY table_name").fetchall()]
    keys = set()
    for table in raw:
        decl = declared.get(table)
        if decl is None or decl.entity.source in keys:
            continue
        (found,) = con.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM wh.raw.{quote_ident(table)} LIMIT 1)"
        ).fetchone()
        if found:
            keys.add(decl.entity.source)
    return keys


def published_sources(con: duckdb.DuckDBPyConnection) -> list[Source]:
    """The declared sources with rows in the attached warehouse `wh`, in display order."""
    keys = source_keys_with_rows(con)
    return [s for s in registry.SOURCES if s.key in keys]


def source_title(source: Source) -> str:
    """How a release titles a source: its key and its English title."""
    return f"{source.key}: {source.title_en}"


def source_uri(source: Source) -> str | None:
    """The address a reader is sent to first, as an ASCII URI; None where none is known."""
    return to_uri(source.url) if source.url else None


_WHERE_WITHOUT_ADDRESS = {
    registry.NOT_CONFIGURED: "live source not yet configured",
}


def source_where(source: Source) -> str:
    """Where a reader finds a source: its address, else what its status says."""
    return source_uri(source) or _WHERE_WITHOUT_ADDRESS.get(source.status, source.status)
