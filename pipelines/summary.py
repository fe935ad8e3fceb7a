"""What `socfund build` prints at the end: tables, row counts, quarantine, the sources that
only a live night fetches, where things are."""

from __future__ import annotations

import json
import shlex
import sys

from pipelines.paths import WarehousePaths
from pipelines.store import live_only_stages, table_counts

EXAMPLE_QUERY = (
    "SELECT region_name, year, grants, amount_awarded FROM mart_region_year "
    "ORDER BY amount_awarded DESC LIMIT 10;"
)


def print_summary(paths: WarehousePaths) -> None:
    counts = table_counts(paths.published_db, ["main", "raw", "quarantine"])
    width = max((len(f"{s}.{t}") for s, t, _ in counts), default=10)
    print()
    print("Published tables (schema main):")
    for schema, table, n in counts:
        if schema == "main":
            print(f"  {table:<{width}} {n:>8}")
    print("Validated source rows (schema raw) and quarantined rows (schema quarantine):")
    for schema, table, n in counts:
        if schema != "main":
            print(f"  {schema + '.' + table:<{width}} {n:>8}")
    live_only = live_only_line(paths)
    if live_only:
        print(live_only)
    print()
    print(f"Warehouse:  {paths.published_db}")
    print(f"Raw store:  {paths.raw_dir}  (bodies by SHA-256, fetch_log.jsonl)")
    latest = paths.exports_dir / "latest"
    if latest.exists():
        print(f"Exports:    {paths.exports_dir / latest.read_text(encoding='utf-8').strip()}")
    if (paths.site_dir / "index.html").exists():
        print(f"Page:       {paths.site_dir / 'index.html'}  (or `socfund serve`)")
    print("Try:")
    # JSON string literals are Python ones; shlex quotes the whole for the shell, so a
    # warehouse path holding a quote or a `$` is still one argument, never code.
    code = (f"import duckdb; print(duckdb.connect({json.dumps(str(paths.published_db))}, "
            f"read_only=True).sql({json.dumps(EXAMPLE_QUERY)}))")
    print(f"  {shlex.quote(sys.executable)} -c {shlex.quote(code)}")


def live_only_line(paths: WarehousePaths) -> str:
    """The sources (or parts of one) with no offline copy this build: fetched live only."""
    stages = live_only_stages(paths.store_db)
    whole = sorted({source for source, stage in stages if stage == "fetch"})
    parts = [f"{source} ({stage})" for source, stage in stages
             if stage != "fetch" and source not in whole]
    if not whole and not parts:
        return ""
    return ("Live only (no offline copy in the samples folder; `socfund build --live` fetches "
            "them): " + ", ".join([*whole, *parts]))
