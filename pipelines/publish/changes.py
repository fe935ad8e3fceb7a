"""CHANGES.md: rows added, changed and removed per table since the previous release."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from pipelines.duckdb_config import quote_ident
from pipelines.publish.markup import render
from pipelines.publish.tables import Table

_RELEASE_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class TableChanges:
    table: str
    key: tuple[str, ...]
    rows: int
    added: int | None
    changed: int | None
    removed: int | None
    note: str = ""


def previous_release(exports_dir: Path, before: str) -> Path | None:
    """The latest dated release folder in `exports_dir` older than `before` (YYYY-MM-DD)."""
    if not exports_dir.is_dir():
        return None
    dated = sorted(p for p in exports_dir.iterdir()
                   if p.is_dir() and _RELEASE_NAME.match(p.name) and p.name < before
                   and (p / "parquet").is_dir())
    return dated[-1] if dated else None


def table_changes(con: duckdb.DuckDBPyConnection, table: Table,
                  previous: Path) -> TableChanges:
    """Rows added, changed and removed since `previous`, matching rows by the table's key
    (values compared as text, nulls equal to nulls)."""
    old_file = previous / "parquet" / f"{table.name}.parquet"
    if not old_file.exists():
        return TableChanges(table.name, table.row_key, table.rows, table.rows, 0, 0,
                            "new table")
    old = "read_parquet($old)"
    params = {"old": str(old_file)}
    old_cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {old}", params).fetchall()]
    new_cols = [c.name for c in table.columns]
    common = [c for c in new_cols if c in old_cols]
    notes = []
    if added_cols := [c for c in new_cols if c not in old_cols]:
        notes.append("columns added: " + ", ".join(added_cols))
    if dropped_cols := [c for c in old_cols if c not in new_cols]:
        notes.append("columns removed: " + ", ".join(dropped_cols))
    key = [k for k in table.row_key if k in common]

    def txt(alias: str, col: str) -> str:
        return f"CAST({alias}.{quote_ident(col)} AS VARCHAR)"

    if not key:
        cols = ", ".join(txt("t", c) for c in common)
        (added,) = con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM {table.relation} t "
                               f"EXCEPT ALL SELECT {cols} FROM {old} t)", params).fetchone()
        (removed,) = con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM {old} t "
                                 f"EXCEPT ALL SELECT {cols} FROM {table.relation} t)",
                                 params).fetchone()
        notes.append("no key: rows compared whole, a changed row counts as removed and added")
        return TableChanges(table.name, (), table.rows, added, None, removed, "; ".join(notes))
    on = " AND ".join(f"{txt('n', k)} IS NOT DISTINCT FROM {txt('o', k)}" for k in key)
    differs = " OR ".join(f"{txt('n', c)} IS DISTINCT FROM {txt('o', c)}"
                          for c in common if c not in key) or "false"
    (added,) = con.execute(f"SELECT count(*) FROM {table.relation} n "
                           f"ANTI JOIN {old} o ON {on}", params).fetchone()
    (removed,) = con.execute(f"SELECT count(*) FROM {old} o "
                             f"ANTI JOIN {table.relation} n ON {on}", params).fetchone()
    (changed,) = con.execute(f"SELECT count(*) FROM {table.relation} n "
                             f"JOIN {old} o ON {on} WHERE {differs}", params).fetchone()
    return TableChanges(table.name, tuple(key), table.rows, added, changed, removed,
                        "; ".join(notes))


def release_changes(con: duckdb.DuckDBPyConnection, tables: Sequence[Table],
                    previous: Path | None) -> tuple[list[TableChanges], list[str]]:
    """Each table's changes since `previous` (counts unknown for a first release), and the
    tables `previous` published that are gone."""
    if previous is None:
        return [TableChanges(t.name, t.row_key, t.rows, None, None, None) for t in tables], []
    changes = [table_changes(con, t, previous) for t in tables]
    names = {t.name for t in tables}
    dropped = sorted(p.stem for p in (previous / "parquet").glob("*.parquet")
                     if p.stem not in names)
    return changes, dropped


def _count(n: int | None) -> str:
    return "—" if n is None else str(n)


def changes_markdown(release_date: date, changes: Sequence[TableChanges],
                     previous: Path | None, dropped: Sequence[str] = ()) -> str:
    return render("release/changes.md.j2", release_date=release_date.isoformat(),
                  changes=changes, previous=previous.name if previous else None,
                  dropped=dropped, count=_count)
