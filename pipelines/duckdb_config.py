"""DuckDB's memory limit and thread count: one setting for every connection socfund opens.

`SOCFUND_DUCKDB_MEMORY_LIMIT` (default `1GB`) and `SOCFUND_DUCKDB_THREADS` (default 2)
are read when a connection is opened, never at import, so a test or the benchmark can
set them per run. dbt's connection (`dbt_project/profiles.yml`) reads the same threads and
its own memory limit, `SOCFUND_DBT_MEMORY_LIMIT` (default `600MB`): dbt runs as a child of
the `socfund` process, which still holds its imports and the memory its parses left (some
650 MB at full scale), and the two together stay within 1.5 GB. Past its limit DuckDB
spills to disk: the full-scale dbt build took 51.8 s at 600 MB against 48.2 s at 1 GB and
peaked at 785 MB against 1 043 MB. The release's connections (the `socfund` process's and
each XLSX worker's) take `SOCFUND_EXPORT_MEMORY_LIMIT` (default `400MB`): they run side by
side on top of what the `socfund` process holds. Left to itself DuckDB takes 80 % of the
machine's memory and every core, which on a shared machine starves the rest of a night's
work.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb

MEMORY_LIMIT_ENV = "SOCFUND_DUCKDB_MEMORY_LIMIT"
DBT_MEMORY_LIMIT_ENV = "SOCFUND_DBT_MEMORY_LIMIT"
EXPORT_MEMORY_LIMIT_ENV = "SOCFUND_EXPORT_MEMORY_LIMIT"
THREADS_ENV = "SOCFUND_DUCKDB_THREADS"
DEFAULT_MEMORY_LIMIT = "1GB"
DEFAULT_DBT_MEMORY_LIMIT = "600MB"  # also written in dbt_project/profiles.yml
DEFAULT_EXPORT_MEMORY_LIMIT = "400MB"
DEFAULT_THREADS = 2
_MEMORY = re.compile(r"^\d+(?:\.\d+)?\s*(?:[KMGT]i?B|B)$", re.IGNORECASE)


def memory_limit(variable: str = MEMORY_LIMIT_ENV, default: str = DEFAULT_MEMORY_LIMIT) -> str:
    value = os.environ.get(variable, "").strip() or default
    if not _MEMORY.match(value):
        raise ValueError(f"{variable}={value!r}: expected a size such as 1GB or 512MB")
    return value


def dbt_memory_limit() -> str:
    """The memory limit dbt's DuckDB connection takes (checked before dbt starts)."""
    return memory_limit(DBT_MEMORY_LIMIT_ENV, DEFAULT_DBT_MEMORY_LIMIT)


def export_memory_limit() -> str:
    """The memory limit of each connection writing a release (the `socfund` process's and
    every XLSX worker's), checked before the release starts."""
    return memory_limit(EXPORT_MEMORY_LIMIT_ENV, DEFAULT_EXPORT_MEMORY_LIMIT)


def threads() -> int:
    value = os.environ.get(THREADS_ENV, "").strip() or str(DEFAULT_THREADS)
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{THREADS_ENV}={value!r}: expected a positive whole number")
    return int(value)


def quote_ident(name: str) -> str:
    """A table, schema or column name quoted for SQL: the one quoter socfund uses.

    Values never go into SQL text; they are parameters. Names do, and quoted this way
    any name, even one with a quote or a space in it, stays one identifier.
    """
    return '"' + name.replace('"', '""') + '"'


def duckdb_config(limit: str | None = None) -> dict[str, str]:
    """The settings for `duckdb.connect(..., config=...)` (`limit`: other than the usual)."""
    return {"memory_limit": limit or memory_limit(), "threads": str(threads())}


def connect(database: str | Path = ":memory:", *, read_only: bool = False,
            limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """`duckdb.connect` with socfund's memory limit (or `limit`) and thread count."""
    return duckdb.connect(str(database), read_only=read_only, config=duckdb_config(limit))
