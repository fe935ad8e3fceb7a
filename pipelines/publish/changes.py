"""The change feed: per public table, the rows added, removed and changed since the previous
release, matched by the table's key, and CHANGES.md summing them up.

A table's key is the columns of its unique test marked `meta: {release_key: true}` in the
dbt project (`dbt_docs.ModelDoc.release_key`), never a row position. The feed of a table
is one row per added or removed row (the whole row as JSON in `new_value` or `old_value`)
and one row per changed column of a changed row, with its old and new value as text:

```
<key columns> | change (added, removed, changed) | column | old_value | new_value
```

It is computed in DuckDB alone: a full outer join of the table with the previous release's
Parquet file on the key, each column compared with IS DISTINCT FROM, the differing columns
unnested into rows. A first release has nothing to compare with and no feed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from pipelines.duckdb_config import quote_ident
from pipelines.illustrative import COLUMN as ILLUSTRATIVE
from pipelines.publish.markup import render
from pipelines.publish.tables import (
    LIST_SEPARATOR,
    Column,
    ReleaseFile,
    Table,
    export_select,
    illustrative_column,
    sql_str,
    write_csv,
    write_parquet,
)

_RELEASE_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LIST_TYPE = re.compile(r"\[\d*\]$")

FEED_FOLDER = "changes"
ADDED, REMOVED, CHANGED = "added", "removed", "changed"
# How many of a table's most-changed columns CHANGES.md names.
TOP_COLUMNS = 3

_FEED_COLUMNS = (
    Column("change", "VARCHAR", required=True, enum=(ADDED, REMOVED, CHANGED),
           description="`added`: the row is new in this release; `removed`: it was in the "
                       "previous release and is not in this one; `changed`: one of its "
                       "columns differs (one feed row per changed column)."),
    Column("column", "VARCHAR",
           description="The column that changed (empty for an added or removed row)."),
    Column("old_value", "VARCHAR",
           description="Its value in the previous release, as text; for a removed row, the "
                       "whole row as JSON."),
    Column("new_value", "VARCHAR",
           description="Its value in this release, as text; for an added row, the whole "
                       "row as JSON."),
)


@dataclass(frozen=True)
class TableChanges:
    table: str
    key: tuple[str, ...]
    rows: int
    added: int | None
    changed: int | None
    removed: int | None
    note: str = ""
    # The most-changed columns and how many rows changed in each, most first.
    top_columns: tuple[tuple[str, int], ...] = ()
    feed: Table | None = None  # the feed rows, in a temporary table of the connection


@dataclass
class ReleaseChanges:
    tables: list[TableChanges]
    dropped: list[str]  # tables the previous release published and this one does not
    files: list[ReleaseFile] = field(default_factory=list)
    csvs: list[tuple[Table, str]] = field(default_factory=list)  # each feed and its CSV


def previous_release(exports_dir: Path, before: str) -> Path | None:
    """The latest dated release folder in `exports_dir` older than `before` (YYYY-MM-DD)."""
    if not exports_dir.is_dir():
        return None
    dated = sorted(p for p in exports_dir.iterdir()
                   if p.is_dir() and _RELEASE_NAME.match(p.name) and p.name < before
                   and (p / "parquet").is_dir())
    return dated[-1] if dated else None


# ------------------------------------------------------------------ the feed's SQL


def _ref(alias: str, column: str) -> str:
    return f"{alias}.{quote_ident(column)}"


def _as_text(alias: str, column: str, duckdb_type: str) -> str:
    """A value as the feed writes it: lists joined as the CSV joins them, else its text."""
    ref = _ref(alias, column)
    if _LIST_TYPE.search(duckdb_type.upper()):
        return f"array_to_string({ref}, {sql_str(LIST_SEPARATOR)})"
    return f"CAST({ref} AS VARCHAR)"


def _differs(column: str, new_type: str, old_type: str) -> str:
    if new_type == old_type:
        return f"({_ref('n', column)} IS DISTINCT FROM {_ref('o', column)})"
    return f"({_as_text('n', column, new_type)} IS DISTINCT FROM " \
           f"{_as_text('o', column, old_type)})"


def _matches(column: str, new_type: str, old_type: str) -> str:
    if new_type == old_type:
        return f"{_ref('n', column)} IS NOT DISTINCT FROM {_ref('o', column)}"
    return f"{_as_text('n', column, new_type)} IS NOT DISTINCT FROM " \
           f"{_as_text('o', column, old_type)}"


def _row_json(alias: str, columns: Sequence[str]) -> str:
    pairs = ", ".join(f"{sql_str(c)}, {_ref(alias, c)}" for c in columns)
    return f"CAST(json_object({pairs}) AS VARCHAR)"


def _entry(change: str, column: str | None, old: str, new: str) -> str:
    name = sql_str(column) if column is not None else "NULL::VARCHAR"
    return (f"{{'change': {sql_str(change)}, 'column': {name}, "
            f"'old_value': {old}, 'new_value': {new}}}")


def feed_sql(table: Table, old: str, old_types: dict[str, str]) -> str:
    """The SELECT of a table's feed rows against the previous release's relation `old`
    (whose columns and types are `old_types`), matching rows by `table.row_key`."""
    new_types = {c.name: c.duckdb_type for c in table.columns}
    common = [c.name for c in table.columns if c.name in old_types]
    key = list(table.row_key)
    values = [c for c in common if c not in key]
    on = " AND ".join(_matches(k, new_types[k], old_types[k]) for k in key)
    differs = [_differs(c, new_types[c], old_types[c]) for c in values]
    changed = ", ".join(
        f"CASE WHEN {d} THEN "
        f"{_entry(CHANGED, c, _as_text('o', c, old_types[c]), _as_text('n', c, new_types[c]))}"
        f" END" for c, d in zip(values, differs, strict=True))
    added = f"[{_entry(ADDED, None, 'NULL::VARCHAR', _row_json('n', list(new_types)))}]"
    removed = f"[{_entry(REMOVED, None, _row_json('o', list(old_types)), 'NULL::VARCHAR')}]"
    otherwise = f"ELSE [{changed}] " if changed else ""
    entries = (f"CASE WHEN o.__present IS NULL THEN {added} "
               f"WHEN n.__present IS NULL THEN {removed} {otherwise}END")
    keys = ", ".join(
        f"COALESCE({_ref('n', k)}, CAST({_ref('o', k)} AS {new_types[k]})) AS {quote_ident(k)}"
        for k in key)
    first = f"true AS {quote_ident(ILLUSTRATIVE)}, " if table.illustrative else ""
    out = ", ".join(quote_ident(k) for k in key)
    some_change = " OR ".join(["o.__present IS NULL", "n.__present IS NULL", *differs])
    return (
        f"SELECT {first}{out}, e.change AS change, e.column AS {quote_ident('column')}, "
        f"e.old_value AS old_value, e.new_value AS new_value FROM ("
        f"SELECT {keys}, unnest({entries}) AS e "
        f"FROM (SELECT true AS __present, * FROM {table.relation}) n "
        f"FULL OUTER JOIN (SELECT true AS __present, * FROM {old}) o ON {on} "
        f"WHERE {some_change}) WHERE e IS NOT NULL "
        f"ORDER BY {out}, change, {quote_ident('column')}")


def feed_relation(table: Table) -> str:
    return quote_ident(f"changes__{table.name}")


def _feed_table(table: Table, previous: Path, relation: str, rows: int) -> Table:
    by_name = {c.name: c for c in table.columns}
    key_columns = tuple(Column(k, by_name[k].duckdb_type, description=by_name[k].description,
                               label=by_name[k].label) for k in table.row_key)
    first = (illustrative_column(),) if table.illustrative else ()
    return Table(
        name=f"changes_{table.name}", relation=relation, rows=rows,
        columns=(*first, *key_columns, *_FEED_COLUMNS),
        description=f"Rows of {table.name} added, removed and changed since release "
                    f"{previous.name}, matched by its key ({', '.join(table.row_key)}).",
        row_key=table.row_key,
        files=(f"{FEED_FOLDER}/{table.name}.csv", f"{FEED_FOLDER}/{table.name}.parquet"))


def table_changes(con: duckdb.DuckDBPyConnection, table: Table,
                  previous: Path) -> TableChanges:
    """Rows added, changed and removed since the release `previous`, matched by the table's
    key. The feed rows are left in the temporary table `feed_relation(table)`."""
    old_file = previous / "parquet" / f"{table.name}.parquet"
    notes = []
    if old_file.exists():
        old = "read_parquet($old)"
        params = {"old": str(old_file)}
        old_types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {old}",
                                                     params).fetchall()}
    else:
        old, params = f"(SELECT * FROM {table.relation} WHERE false)", {}
        old_types = {c.name: c.duckdb_type for c in table.columns}
        notes.append("new table")
    new_names = [c.name for c in table.columns]
    if added_cols := [c for c in new_names if c not in old_types]:
        notes.append("columns added: " + ", ".join(added_cols))
    if dropped_cols := [c for c in old_types if c not in new_names]:
        notes.append("columns removed: " + ", ".join(dropped_cols))
    missing = [k for k in table.row_key if k not in old_types]
    if not table.row_key or missing:
        notes.append("not compared: " + (
            f"release {previous.name} lacks the key column(s) {', '.join(missing)}" if missing
            else "the table declares no key"))
        return TableChanges(table.name, table.row_key, table.rows, None, None, None,
                            "; ".join(notes))
    relation = feed_relation(table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {relation} AS "
                f"{feed_sql(table, old, old_types)}", params)
    # A changed row has a feed row per changed column: count its key once.
    key_row = f"row({', '.join(quote_ident(k) for k in table.row_key)})"
    counts = dict(con.execute(f"SELECT change, count(DISTINCT {key_row}) FROM {relation} "
                              "GROUP BY change").fetchall())
    top = con.execute(f"SELECT {quote_ident('column')}, count(*) AS n FROM {relation} "
                      "WHERE change = ? GROUP BY ALL ORDER BY n DESC, 1 LIMIT ?",
                      [CHANGED, TOP_COLUMNS]).fetchall()
    (rows,) = con.execute(f"SELECT count(*) FROM {relation}").fetchone()
    return TableChanges(table.name, table.row_key, table.rows, counts.get(ADDED, 0),
                        counts.get(CHANGED, 0), counts.get(REMOVED, 0), "; ".join(notes),
                        tuple(top), _feed_table(table, previous, relation, rows))


def write_feed(con: duckdb.DuckDBPyConnection, feed: Table, folder: Path,
               name: str) -> tuple[list[ReleaseFile], str]:
    """A feed's Parquet (values as computed) and CSV (the release's CSV rules)
    under `<folder>/changes/`; the files and the CSV's path."""
    csv_path, parquet_path = f"{FEED_FOLDER}/{name}.csv", f"{FEED_FOLDER}/{name}.parquet"
    write_parquet(con, feed.relation, folder / parquet_path, feed.columns)
    write_csv(con, export_select(feed.relation, feed.columns), folder / csv_path)
    con.execute(f"DROP TABLE {feed.relation}")
    # No `table`: the manifest's `table` names a public table, and a feed is not one.
    return ([ReleaseFile(csv_path, "csv", feed.description, None, feed.rows),
             ReleaseFile(parquet_path, "parquet", feed.description, None, feed.rows)],
            csv_path)


def release_changes(con: duckdb.DuckDBPyConnection, tables: Sequence[Table],
                    previous: Path | None, folder: Path | None = None) -> ReleaseChanges:
    """Each table's changes since `previous` (none known for a first release), the tables
    `previous` published that are gone, and, given the release `folder`, the feed files
    written into it."""
    if previous is None:
        return ReleaseChanges(
            [TableChanges(t.name, t.row_key, t.rows, None, None, None) for t in tables], [])
    names = {t.name for t in tables}
    dropped = sorted(p.stem for p in (previous / "parquet").glob("*.parquet")
                     if p.stem not in names)
    out = ReleaseChanges([], dropped)
    for t in tables:
        change = table_changes(con, t, previous)
        out.tables.append(change)
        if change.feed is not None and folder is not None:
            files, csv_path = write_feed(con, change.feed, folder, t.name)
            out.files += files
            out.csvs.append((change.feed, csv_path))
    return out


def _count(n: int | None) -> str:
    return "—" if n is None else str(n)


def changes_markdown(release_date: date, changes: ReleaseChanges,
                     previous: Path | None) -> str:
    return render("release/changes.md.j2", release_date=release_date.isoformat(),
                  changes=changes.tables, previous=previous.name if previous else None,
                  dropped=changes.dropped, count=_count, folder=FEED_FOLDER)
