"""The data dictionary: every table and column of a release, built once as data and
rendered to Markdown and to HTML by the templates `release/dictionary.md.j2` and
`release/dictionary.html.j2`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from pipelines.illustrative import WARNING_EN
from pipelines.publish.legal import SHARE_ALIKE_TABLES
from pipelines.publish.markup import render
from pipelines.publish.tables import LIST_SEPARATOR, Column, Table
from pipelines.publish.xlsx import XLSX_MAX_ROWS


@dataclass(frozen=True)
class Rule:
    """A rule a column keeps: `text`, then `codes` (values or a column, each shown as code)."""

    text: str
    codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Origin:
    """Where a column's values come from: a raw or reference column (`code`), or the model
    where it is derived."""

    text: str
    code: bool


@dataclass(frozen=True)
class ColumnEntry:
    name: str
    label: str
    type: str
    description: str
    rules: tuple[Rule, ...]
    origins: tuple[Origin, ...]


@dataclass(frozen=True)
class TableEntry:
    name: str
    description: str
    rows: int
    files: tuple[str, ...]
    primary_key: tuple[str, ...]
    row_key: tuple[str, ...]
    upstream: tuple[str, ...]
    model_path: str
    share_alike: str | None  # why the table is CC BY-SA 4.0, if it is
    columns: tuple[ColumnEntry, ...]


NO_DESCRIPTION = "(no description)"


def _rules(column: Column, table: Table) -> tuple[Rule, ...]:
    rules = []
    if column.name in table.primary_key:
        rules.append(Rule("primary key" if len(table.primary_key) == 1 else
                          "part of the primary key"))
    if column.required:
        rules.append(Rule("not null"))
    if column.unique:
        rules.append(Rule("unique"))
    if column.enum:
        rules.append(Rule("one of: ", column.enum))
    if column.references:
        rules.append(Rule("→ ", (f"{column.references[0]}.{column.references[1]}",)))
    return tuple(rules)


def _type_label(column: Column) -> str:
    """DuckDB type · Table Schema type (the CSV's), or the latter alone."""
    if column.duckdb_type:
        return f"{column.duckdb_type} · {column.schema_type}"
    return column.schema_type


def dictionary_entries(tables: Sequence[Table]) -> list[TableEntry]:
    """What the dictionary says of each table, in order."""
    return [TableEntry(
        name=t.name, description=t.description or NO_DESCRIPTION, rows=t.rows, files=t.files,
        primary_key=t.primary_key, row_key=t.row_key, upstream=t.upstream,
        model_path=t.model_path, share_alike=SHARE_ALIKE_TABLES.get(t.name),
        columns=tuple(ColumnEntry(
            name=c.name, label=c.label, type=_type_label(c),
            description=c.description or NO_DESCRIPTION, rules=_rules(c, t),
            origins=tuple(Origin(o, code=not o.startswith("derived")) for o in c.origin))
            for c in t.columns),
    ) for t in tables]


def _context(tables: Sequence[Table], release_date: date, illustrative: bool) -> dict:
    return {"tables": dictionary_entries(tables), "release_date": release_date.isoformat(),
            "list_separator": LIST_SEPARATOR, "sheet_rows": f"{XLSX_MAX_ROWS - 1:,}",
            "illustrative": illustrative, "illustrative_warning": WARNING_EN}


def dictionary_markdown(tables: Sequence[Table], release_date: date,
                        illustrative: bool = False) -> str:
    return render("release/dictionary.md.j2", **_context(tables, release_date, illustrative))


def dictionary_html(tables: Sequence[Table], release_date: date,
                    illustrative: bool = False) -> str:
    """The data dictionary as one HTML page with its style inline: no external CSS or JS."""
    return render("release/dictionary.html.j2",
                  **_context(tables, release_date, illustrative))
