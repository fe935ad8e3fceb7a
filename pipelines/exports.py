"""Publish a dated release of the warehouse for people to download.

`export_release` copies the published DuckDB file, reads everything from that copy (so
every file of a release describes the same data), and writes `<exports_dir>/<YYYY-MM-DD>/`:

```
csv/<table>.csv             every public table (schema main): UTF-8 with BOM, comma, CRLF,
                            RFC 4180 quoting, ISO dates, dot decimals, lists joined with `;`
parquet/<table>.parquet     the same tables as stored (zstd), values untouched
xlsx/<table>.xlsx           the same tables for spreadsheets; text cells typed as text
quarantine/records.csv      every quarantined record, its `table` and its reasons
360giving/grants.json       fact_grant in the 360Giving Data Standard 1.4 (package JSON)
360giving/grants.csv        the same grants, flat, with the standard's column titles
datapackage.json            Frictionless Data Package describing every CSV
data-dictionary.md|.html    every table and column: description, type, rules, source
socfund.duckdb              the warehouse, read-only snapshot
CHANGES.md                  rows added / changed / removed per table since the last release
CITATION.cff  LICENSE.md    how to cite; the licence and each source's terms as known
manifest.json               [{path, format, table, rows, bytes, sha256, description}]
SHA256SUMS                  `sha256sum -c` checks every file above
```

and then points `<exports_dir>/latest` (a one-line text file) at it. The release is written
aside and renamed into place, so a reader never sees half a release.

Spreadsheet safety (CSV and XLSX): a text cell whose first character is `=`, `+`, `-`, `@`,
a tab or a carriage return gets a leading apostrophe (`'`), so Excel and LibreOffice show
it as text instead of evaluating it as a formula ("CSV injection"). Only text cells are
touched: numbers, negative ones included, are written as numbers. Parquet, the DuckDB file
and the 360Giving JSON keep values exactly as they are.
"""

from __future__ import annotations

import csv
import hashlib
import html
import itertools
import json
import multiprocessing
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import duckdb

from pipelines.duckdb_config import connect, quote_ident
from schemas.identifiers import is_valid_inn, is_valid_ogrn
from scrapers.files import write_text_atomic

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = ";"
CSV_NEWLINE = "\r\n"
UTF8_BOM = b"\xef\xbb\xbf"

# Rows a worksheet holds, the header row included (Excel and LibreOffice alike).
XLSX_MAX_ROWS = 1_048_576
EXPORT_WORKERS_ENV = "SOCFUND_EXPORT_WORKERS"

# Our own 360Giving identifier prefix: 360Giving assigns `360G-<publisher>` prefixes to
# registered publishers; socfund is not registered, so this one is ours and documented here
# and in the package description. Grant ids are `360G-socfund-<grant_id>`.
GRANT_ID_PREFIX = "360G-socfund"
GIVING_VERSION = "1.4"

PUBLISHER = "socfund"
LICENCE_ID = "CC-BY-4.0"
LICENCE_TITLE = "Creative Commons Attribution 4.0 International"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
SHARE_ALIKE_ID = "CC-BY-SA-4.0"
SHARE_ALIKE_URL = "https://creativecommons.org/licenses/by-sa/4.0/"

# dim_region is built from the seed `regions`, adapted from HFLabs «Регионы России»
# (CC BY-SA 4.0): share-alike obliges us to pass it on under the same licence.
SHARE_ALIKE_TABLES = {
    "dim_region": "adapted from HFLabs «Регионы России» (github.com/hflabs/region), CC BY-SA 4.0",
}

UNKNOWN_TERMS = ("not known to us: we have found no statement of terms of reuse; the data are "
                 "published openly by the source")


@dataclass(frozen=True)
class SourceInfo:
    key: str
    title: str
    url: str | None
    terms: str
    where: str = "live source not yet configured"


SOURCES: tuple[SourceInfo, ...] = (
    SourceInfo("fpg", "Фонд президентских грантов (Presidential Grants Fund): project list, "
               "project cards and the open-data projects file",
               "https://президентскиегранты.рф/public/open-data", UNKNOWN_TERMS),
    SourceInfo("oprf2013", "Presidential grants of 2013 through six operators: consolidated "
               "winners list", "https://grants.oprf.ru/grants2013/oprf_grants_2013.csv",
               UNKNOWN_TERMS + " (a historical file; no live copy is known)"),
    SourceInfo("sonko", "Registries of support to socially oriented NGOs: federal registry "
               "(Минэкономразвития) and regional registries",
               "https://data.economy.gov.ru/files/sonko_organizations.xlsx", UNKNOWN_TERMS),
    SourceInfo("ebudget", "Электронный бюджет: registry of subsidy agreements, non-profit "
               "recipients", "https://budget.gov.ru/epbs/registry/grants/data", UNKNOWN_TERMS),
    SourceInfo("treasury", "Federal Treasury budget execution reports, form 0503317, expense "
               "type 630", None, UNKNOWN_TERMS),
    SourceInfo("municipal", "Municipal grant competition results", None, UNKNOWN_TERMS),
    SourceInfo("curated", "Figures from published reports and presentations, one per row "
               "with its document, curated by socfund", None,
               "our curation is CC BY 4.0; each figure is quoted from the document its row "
               "names, whose own terms apply to the document", where="shipped with socfund"),
)

REFERENCE_TERMS: tuple[tuple[str, str], ...] = (
    ("HFLabs «Регионы России» (github.com/hflabs/region) — region codes, OKATO, OKTMO, "
     "ISO 3166-2, federal districts (seeds `regions`, `region_names`)", "CC BY-SA 4.0"),
    ("HFLabs «Города России» (github.com/hflabs/city) — city to region (seed "
     "`region_cities`)", "CC BY-SA 4.0"),
    ("World Bank, consumer price inflation FP.CPI.TOTL.ZG (seed `price_index`, where "
     "present)", "CC BY 4.0"),
    ("Official region names: Конституция Российской Федерации, ст. 65", "official document, "
     "not an object of copyright (ГК РФ ст. 1259 п. 6)"),
)

DUCKDB_FILE_NAME = "socfund.duckdb"
LATEST_FILE_NAME = "latest"
_RELEASE_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LIST_TYPE = re.compile(r"\[\d*\]$")
_REF = re.compile(r"""ref\(\s*['"]([^'"]+)['"]\s*\)""")


# ------------------------------------------------------------------ spreadsheet safety


def neutralise(text: str) -> str:
    """Prefix `'` to text a spreadsheet would read as a formula (see the module docstring)."""
    if text and text[0] in FORMULA_TRIGGERS:
        return "'" + text
    return text


def _neutralise_sql(expr: str) -> str:
    """The same rule as `neutralise`, as a DuckDB expression over a VARCHAR `expr`."""
    triggers = ", ".join(f"chr({ord(c)})" for c in FORMULA_TRIGGERS)
    return f"(CASE WHEN left({expr}, 1) IN ({triggers}) THEN '''' || {expr} ELSE {expr} END)"


# ------------------------------------------------------------------ the dbt manifest


@dataclass
class ModelDoc:
    """What the dbt manifest says about one relation: descriptions, tests, lineage."""

    unique_id: str
    name: str
    schema: str
    description: str = ""
    path: str = ""
    columns: dict[str, dict] = field(default_factory=dict)
    not_null: set[str] = field(default_factory=set)
    unique: set[str] = field(default_factory=set)
    accepted_values: dict[str, list] = field(default_factory=dict)
    relationships: list[tuple[str, str, str]] = field(default_factory=list)
    combinations: list[tuple[str, ...]] = field(default_factory=list)
    upstream: tuple[str, ...] = ()


@dataclass
class DbtDocs:
    models: dict[str, ModelDoc]  # keyed by "<schema>.<relation name>"
    by_id: dict[str, ModelDoc]
    parents: dict[str, list[str]]
    names: dict[str, str]  # dbt name (as `ref()` uses it) -> unique id

    def get(self, schema: str, name: str) -> ModelDoc | None:
        return self.models.get(f"{schema}.{name}")


def read_dbt_docs(manifest_path: Path) -> DbtDocs:
    """Descriptions, tests (unique, not_null, accepted_values, relationships, unique
    combinations; error severity, no `where`) and lineage from a parsed dbt manifest."""
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    by_id: dict[str, ModelDoc] = {}
    names: dict[str, str] = {}
    for uid, node in [*manifest.get("nodes", {}).items(), *manifest.get("sources", {}).items()]:
        kind = node.get("resource_type")
        if kind not in ("model", "seed", "snapshot", "source"):
            continue
        relation = node.get("identifier") if kind == "source" else node.get("alias")
        doc = ModelDoc(
            unique_id=uid, name=relation or node["name"], schema=node.get("schema", ""),
            description=_clean(node.get("description")),
            path=node.get("original_file_path", ""),
            columns={name: {"description": _clean(col.get("description")),
                            "meta": col.get("meta") or {}}
                     for name, col in (node.get("columns") or {}).items()},
        )
        by_id[uid] = doc
        if kind != "source":
            names[node["name"]] = uid
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") == "test":
            _attach_test(node, by_id, names)
    parents = manifest.get("parent_map", {})
    for uid, doc in by_id.items():
        doc.upstream = tuple(sorted(_upstream(uid, parents, by_id)))
    models = {f"{d.schema}.{d.name}": d for d in by_id.values()}
    return DbtDocs(models=models, by_id=by_id, parents=parents, names=names)


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _attach_test(node: dict, by_id: dict[str, ModelDoc], names: dict[str, str]) -> None:
    meta = node.get("test_metadata") or {}
    doc = by_id.get(node.get("attached_node") or "")
    config = node.get("config") or {}
    if doc is None or not meta:
        return
    if str(config.get("severity", "error")).lower() != "error" or config.get("where"):
        return
    kwargs = meta.get("kwargs") or {}
    args = {**(kwargs.get("arguments") or {}), **kwargs}
    column = node.get("column_name") or args.get("column_name")
    test = meta.get("name")
    if test == "not_null" and column:
        doc.not_null.add(column)
    elif test == "unique" and column:
        doc.unique.add(column)
    elif test == "accepted_values" and column and args.get("values"):
        doc.accepted_values[column] = list(args["values"])
    elif test == "relationships" and column:
        match = _REF.search(str(args.get("to", "")))
        target = by_id.get(names.get(match.group(1), "")) if match else None
        if target is not None and args.get("field"):
            doc.relationships.append((column, target.name, str(args["field"])))
    elif test == "unique_combination" and args.get("columns"):
        doc.combinations.append(tuple(args["columns"]))


def _upstream(uid: str, parents: dict[str, list[str]], by_id: dict[str, ModelDoc]) -> set[str]:
    """Raw tables and seeds a relation is built from, as `schema.name`."""
    found: set[str] = set()
    seen: set[str] = set()
    stack = list(parents.get(uid, []))
    while stack:
        parent = stack.pop()
        if parent in seen:
            continue
        seen.add(parent)
        if parent.startswith(("source.", "seed.")) and parent in by_id:
            found.add(f"{by_id[parent].schema}.{by_id[parent].name}")
        else:
            stack.extend(parents.get(parent, []))
    return found


# ------------------------------------------------------------------ what gets exported


@dataclass(frozen=True)
class Column:
    name: str
    duckdb_type: str
    description: str = ""
    label: str = ""
    required: bool = False
    unique: bool = False
    enum: tuple[str, ...] = ()
    references: tuple[str, str] | None = None
    origin: tuple[str, ...] = ()
    kind: str = ""  # Table Schema type, for columns that are not DuckDB's

    @property
    def is_list(self) -> bool:
        return bool(_LIST_TYPE.search(self.duckdb_type))

    @property
    def schema_type(self) -> str:
        return self.kind or table_schema_type(self.duckdb_type)


@dataclass(frozen=True)
class ForeignKey:
    column: str
    table: str
    field: str


@dataclass(frozen=True)
class Table:
    name: str
    relation: str  # SQL to select from, e.g. wh.main."fact_grant"
    description: str
    columns: tuple[Column, ...]
    rows: int
    primary_key: tuple[str, ...] = ()
    row_key: tuple[str, ...] = ()  # how CHANGES.md matches rows: the primary key, else a
    foreign_keys: tuple[ForeignKey, ...] = ()  # unique combination of columns
    upstream: tuple[str, ...] = ()
    model_path: str = ""
    files: tuple[str, ...] = ()


def table_schema_type(duckdb_type: str) -> str:
    """Frictionless Table Schema type of a DuckDB column type as the CSV writes it."""
    t = duckdb_type.upper()
    if _LIST_TYPE.search(t):
        return "string"
    if t == "BOOLEAN":
        return "boolean"
    if t in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
             "UINTEGER", "UBIGINT", "UHUGEINT"}:
        return "integer"
    if t.startswith("DECIMAL") or t in {"DOUBLE", "FLOAT", "REAL"}:
        return "number"
    if t == "DATE":
        return "date"
    if t.startswith("TIMESTAMP"):
        return "datetime"
    if t == "TIME":
        return "time"
    return "string"


def _sql_str(text: str) -> str:
    """A constant of this module, or a table's own name, as a SQL string literal.

    Paths and values from the data are never written into SQL: they are parameters.
    """
    return "'" + text.replace("'", "''") + "'"


def _export_expr(name: str, duckdb_type: str) -> str:
    """A column as the CSV and XLSX carry it (lists joined, timestamps ISO, text neutralised)."""
    col = quote_ident(name)
    t = duckdb_type.upper()
    if _LIST_TYPE.search(t):
        expr = _neutralise_sql(f"array_to_string({col}, {_sql_str(LIST_SEPARATOR)})")
    elif t == "TIMESTAMP WITH TIME ZONE":
        expr = f"strftime(timezone('UTC', {col}), '%Y-%m-%dT%H:%M:%S.%fZ')"
    elif t.startswith("TIMESTAMP"):
        expr = f"strftime({col}::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%f')"
    elif table_schema_type(t) == "string":
        expr = _neutralise_sql(f"CAST({col} AS VARCHAR)")
    else:
        expr = col
    return f"{expr} AS {col}"


def _export_select(relation: str, columns: Sequence[Column]) -> str:
    return f"SELECT {', '.join(_export_expr(c.name, c.duckdb_type) for c in columns)} " \
           f"FROM {relation}"


def _catalogue(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[tuple[str, str]]]:
    rows = con.execute(
        "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = 'wh' ORDER BY schema_name, table_name, column_index").fetchall()
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, dtype in rows:
        out.setdefault((schema, table), []).append((column, dtype))
    return out


def describe_public_tables(con: duckdb.DuckDBPyConnection, docs: DbtDocs) -> list[Table]:
    """Every relation of schema `main` in the attached warehouse `wh`, with its dbt docs."""
    catalogue = _catalogue(con)
    names = sorted(t for (schema, t) in catalogue if schema == "main")
    tables = []
    for name in names:
        doc = docs.get("main", name)
        relation = f"wh.main.{quote_ident(name)}"
        (rows,) = con.execute(f"SELECT count(*) FROM {relation}").fetchone()
        columns = catalogue[("main", name)]
        tables.append(_table(name, relation, columns, rows, doc, docs, catalogue, set(names)))
    return tables


def _table(name: str, relation: str, columns: list[tuple[str, str]], rows: int,
           doc: ModelDoc | None, docs: DbtDocs,
           catalogue: dict[tuple[str, str], list[tuple[str, str]]],
           exported: set[str]) -> Table:
    doc = doc or ModelDoc(unique_id="", name=name, schema="main")
    names = [c for c, _ in columns]
    fks = tuple(ForeignKey(col, target, fld) for col, target, fld in doc.relationships
                if target in exported and col in names)
    pk = _primary_key(names, doc)
    cols = []
    for col, dtype in columns:
        info = doc.columns.get(col, {})
        fk = next((f for f in fks if f.column == col), None)
        cols.append(Column(
            name=col, duckdb_type=dtype, description=info.get("description", ""),
            label=str((info.get("meta") or {}).get("label_ru", "")),
            required=col in doc.not_null, unique=col in doc.unique,
            enum=tuple(str(v) for v in doc.accepted_values.get(col, ()))
            if table_schema_type(dtype) == "string" else (),
            references=(fk.table, fk.field) if fk else None,
            origin=_column_origin(doc.unique_id, col, docs, catalogue),
        ))
    row_key = pk or next((c for c in doc.combinations if set(c) <= set(names)), ())
    return Table(name=name, relation=relation, description=doc.description,
                 columns=tuple(cols), rows=rows, primary_key=pk, row_key=tuple(row_key),
                 foreign_keys=fks, upstream=doc.upstream, model_path=doc.path,
                 files=(f"csv/{name}.csv", f"parquet/{name}.parquet", f"xlsx/{name}.xlsx"))


def _primary_key(names: list[str], doc: ModelDoc) -> tuple[str, ...]:
    """A column tested unique and not null, else a tested unique combination of not-null
    columns; none otherwise (a key with nulls is not a primary key)."""
    for name in names:
        if name in doc.unique and name in doc.not_null:
            return (name,)
    for combination in doc.combinations:
        if all(c in doc.not_null for c in combination) and set(combination) <= set(names):
            return combination
    return ()


def _column_origin(uid: str, column: str, docs: DbtDocs,
                   catalogue: dict[tuple[str, str], list[tuple[str, str]]],
                   limit: int = 6) -> tuple[str, ...]:
    """Where a column's values come from: raw tables or seeds reached by following a column
    of the same name up the dbt lineage, or the model where it is first derived."""
    if not uid:
        return ()
    found: list[str] = []
    seen: set[str] = set()

    def has(node_id: str) -> bool:
        doc = docs.by_id.get(node_id)
        cols = catalogue.get((doc.schema, doc.name), []) if doc else []
        return any(c == column for c, _ in cols)

    def walk(node_id: str) -> None:
        if node_id in seen:
            return
        seen.add(node_id)
        doc = docs.by_id[node_id]
        if node_id.startswith(("source.", "seed.")):
            found.append(f"{doc.schema}.{doc.name}.{column}")
            return
        parents = [p for p in docs.parents.get(node_id, []) if p in docs.by_id and has(p)]
        if not parents:
            found.append(f"derived in {doc.name}")
        for parent in parents:
            walk(parent)

    if uid in docs.by_id:
        walk(uid)
    unique = list(dict.fromkeys(found))
    return tuple(unique[:limit]) + (("…",) if len(unique) > limit else ())


# ------------------------------------------------------------------ files of a release


@dataclass
class ReleaseFile:
    path: str  # relative to the release folder, with `/`
    format: str
    description: str
    table: str | None = None
    rows: int | None = None


def write_csv(con: duckdb.DuckDBPyConnection, sql: str, path: Path) -> None:
    """Write a query's rows as CSV: UTF-8 with BOM, comma, CRLF, RFC 4180 quoting."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = path.with_name(path.name + ".body")
    con.execute(f"COPY ({sql}) TO ? "
                "(FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"', "
                f"NEW_LINE {_sql_str(CSV_NEWLINE)})", [str(body)])
    with path.open("wb") as out, body.open("rb") as src:
        out.write(UTF8_BOM)
        shutil.copyfileobj(src, out, 1 << 20)
    body.unlink()


def write_parquet(con: duckdb.DuckDBPyConnection, relation: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY (SELECT * FROM {relation}) TO ? (FORMAT parquet, COMPRESSION zstd)",
                [str(path)])


def _sheet_names(table: str, sheets: int) -> list[str]:
    base = table[:25]
    return [base if i == 0 else f"{base} ({i + 1})" for i in range(sheets)]


def write_xlsx(con: duckdb.DuckDBPyConnection, table: Table, path: Path, *,
               rows_per_sheet: int = XLSX_MAX_ROWS - 1) -> list[str]:
    """Write a table as XLSX and return the names of its data sheets.

    Text cells are strings typed `@` (text), so ИНН and codes keep their leading zeros;
    numbers are numbers, dates dates; booleans are the text `true` / `false`, as in the CSV
    (LibreOffice would save logical cells as `=TRUE()` formulas, and a release has no formula
    cells at all). Rows past `rows_per_sheet` continue on `<table> (2)`, `(3)`, …; a last
    sheet `about` describes the columns."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    sheets = max(1, -(-table.rows // rows_per_sheet))
    names = _sheet_names(table.name, sheets)
    workbook = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
        "strings_to_urls": False, "nan_inf_to_errors": True,
    })
    try:
        fmt = {
            "header": workbook.add_format({"bold": True, "num_format": "@"}),
            "text": workbook.add_format({"num_format": "@"}),
            "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
            "wrap": workbook.add_format({"num_format": "@", "text_wrap": True,
                                         "valign": "top"}),
        }
        writers = [_cell_writer(c, workbook, fmt) for c in table.columns]
        result = con.execute(_export_select(table.relation, table.columns))
        rows = _fetch(result)  # streamed: a sheet's rows are never all held at once
        for name in names:
            sheet = workbook.add_worksheet(name)
            _xlsx_header(sheet, table.columns, fmt)
            for r, row in enumerate(itertools.islice(rows, rows_per_sheet), start=1):
                for c, (value, write) in enumerate(zip(row, writers, strict=True)):
                    if value is not None:
                        write(sheet, r, c, value)
        for _ in rows:  # a result must be read to its end before the next query
            pass
        _xlsx_about(workbook.add_worksheet("about"), table, names, rows_per_sheet, fmt)
    finally:
        workbook.close()
    return names


def _fetch(result: duckdb.DuckDBPyConnection, size: int = 10_000) -> Iterator[tuple]:
    while True:
        rows = result.fetchmany(size)
        if not rows:
            return
        yield from rows


def _xlsx_header(sheet: Any, columns: Sequence[Column], fmt: dict) -> None:
    for c, column in enumerate(columns):
        sheet.write_string(0, c, column.name, fmt["header"])
        width = min(max(len(column.name) + 2, 12), 60)
        kind = column.schema_type
        sheet.set_column(c, c, width, fmt["text"] if kind == "string" else None)
    sheet.freeze_panes(1, 0)


def _cell_writer(column: Column, workbook: Any, fmt: dict):
    kind = column.schema_type
    if kind == "number":
        scale = re.search(r"DECIMAL\(\d+,\s*(\d+)\)", column.duckdb_type.upper())
        num = workbook.add_format({"num_format": "0." + "0" * int(scale.group(1))}
                                  if scale and int(scale.group(1)) else {})
        return lambda s, r, c, v: s.write_number(r, c, float(v), num)
    if kind == "integer":
        return lambda s, r, c, v: s.write_number(r, c, v)
    if kind == "boolean":
        # As text, like the CSV: LibreOffice saves logical cells as `=TRUE()` formulas.
        return lambda s, r, c, v: s.write_string(r, c, "true" if v else "false", fmt["text"])
    if kind == "date":
        def write_date(s, r, c, v):
            # Spreadsheets count days from 1900: earlier dates are written as ISO text.
            if v.year < 1900:
                s.write_string(r, c, v.isoformat(), fmt["text"])
            else:
                s.write_datetime(r, c, v, fmt["date"])
        return write_date
    return lambda s, r, c, v: s.write_string(r, c, neutralise(str(v)), fmt["text"])


def _xlsx_about(sheet: Any, table: Table, names: list[str], rows_per_sheet: int,
                fmt: dict) -> None:
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 18)
    sheet.set_column(2, 2, 90)
    intro = [
        (table.name, "", table.description),
        ("rows", "", f"{table.rows}"),
        ("sheets", "", ", ".join(names) + (
            f" (a sheet holds {rows_per_sheet} rows under its header)" if len(names) > 1
            else "")),
        ("text cells", "", "Text starting with = + - @ tab or carriage return is prefixed "
                           "with ' so it is never run as a formula."),
        ("", "", ""),
    ]
    lines = [*intro, ("column", "type", "description"),
             *[(c.name, c.duckdb_type, c.description) for c in table.columns]]
    for r, line in enumerate(lines):
        style = fmt["header"] if r in (0, len(intro)) else fmt["wrap"]
        for c, text in enumerate(line):
            sheet.write_string(r, c, neutralise(text), style)


# ------------------------------------------------------------------ quarantine


def _quarantine_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'wh' "
                       "AND schema_name = 'quarantine' ORDER BY table_name").fetchall()
    return [r[0] for r in rows]


def quarantine_table(con: duckdb.DuckDBPyConnection) -> Table:
    """Every quarantine table's records in one relation, with a `table` column first."""
    names = _quarantine_tables(con)
    if names:
        sql = " UNION ALL BY NAME ".join(
            f"SELECT {_sql_str(n)} AS \"table\", * FROM wh.quarantine.{quote_ident(n)}"
            for n in names)
    else:
        sql = "SELECT NULL::VARCHAR AS \"table\" WHERE false"
    relation = f"({sql})"
    described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    (rows,) = con.execute(f"SELECT count(*) FROM {relation}").fetchone()
    notes = {
        "table": "The raw table the record was meant for (`raw.<source>__<entity>`).",
        "_source": "Source.", "_source_url": "URL of the document the record was read from.",
        "_raw_sha256": "SHA-256 of the kept bytes of that document.",
        "_fetched_at": "When the document was fetched (UTC).",
        "_parser_version": "Version of the parser that read it.",
        "_row": "Row or position of the record in the document, as a person would find it.",
        "record": "The record as parsed (JSON).",
        "reasons": "Every reason the record failed validation.",
    }
    columns = tuple(Column(name=n, duckdb_type=t, description=notes.get(n, ""),
                           required=n in ("table", "reasons"))
                    for n, t, *_ in described)
    return Table(name="quarantine", relation=relation, rows=rows, columns=columns,
                 description="Records that failed validation, kept with every reason; they "
                             "are not in the public tables.",
                 upstream=tuple(f"quarantine.{n}" for n in names),
                 files=("quarantine/records.csv",))


# ------------------------------------------------------------------ 360Giving

NO_AWARD_DATE = "without an award date"
NO_RECIPIENT_ID = "without a recipient ИНН or ОГРН that passes its check digits"
NOT_CARRIED_OUT = "decided but not carried out"

GIVING_FLAT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("Identifier", "string", f"`{GRANT_ID_PREFIX}-<grant_id>` (fact_grant.grant_id)."),
    ("Title", "string", "Project title, else the form of support and the recipient."),
    ("Description", "string", "Title, programme, direction, form of support and status."),
    ("Currency", "string", "ISO 4217 code of the amounts."),
    ("Amount Applied For", "number", "Amount requested (fact_grant.amount_requested)."),
    ("Amount Awarded", "number", "Amount awarded (fact_grant.amount_awarded)."),
    ("Amount Disbursed", "number", "Transferred so far (fact_grant.amount_transferred)."),
    ("Award Date", "date", "Date of the decision (fact_grant.decision_date)."),
    ("Planned Dates:Start Date", "date", "Project start."),
    ("Planned Dates:End Date", "date", "Project end."),
    ("Recipient Org:Identifier", "string",
     "`RU-INN-<ИНН>`, else `RU-OGRN-<ОГРН>`; either passes its check digits."),
    ("Recipient Org:Name", "string", "Recipient as reported."),
    ("Recipient Org:County", "string", "Recipient's region (360Giving `addressRegion`)."),
    ("Funding Org:Identifier", "string",
     f"socfund's id for the funder: `{GRANT_ID_PREFIX}-funder-<source>-<8 hex of SHA-256 "
     "of its name>`."),
    ("Funding Org:Name", "string", "Funder (dim_programme.funder)."),
    ("Grant Programme:Code", "string", "Contest, operator or authority (programme_id)."),
    ("Grant Programme:Title", "string", "Its name."),
    ("Beneficiary Location:Name", "string", "The recipient's region."),
    ("Beneficiary Location:Country Code", "string", "ISO 3166-1 alpha-2, where known."),
    ("Beneficiary Location:Geographic Code", "string",
     "ISO 3166-2 code where assigned, else the subject code (dim_region.region_code)."),
    ("Beneficiary Location:Geographic Code Type", "string",
     "`ISO 3166-2` or `RU subject code (ИНН digits 1-2)`."),
    ("Data Source", "string", "URL of the source document."),
)

_GIVING_SQL = """
SELECT g.grant_id, g.source, g.title, g.recipient_name, o.name AS organisation_name,
       g.inn, g.inn_valid, g.ogrn, g.ogrn_valid, g.amount_requested, g.amount_awarded,
       g.amount_transferred, g.currency, g.decision_date, g.start_date, g.end_date,
       g.carried_out, g.support_form, g.status, g.year, g.source_url, g.region_method,
       p.programme_id, p.name AS programme_name, p.funder,
       d.programme_id AS direction_id, d.name AS direction_name,
       r.region_code, r.name AS region_name, r.kind AS region_kind, r.iso_3166_2
FROM wh.main.fact_grant AS g
LEFT JOIN wh.main.dim_programme AS p ON p.programme_id = g.programme_id
LEFT JOIN wh.main.dim_programme AS d ON d.programme_id = g.direction_programme_id
LEFT JOIN wh.main.dim_region AS r ON r.region_code = g.region_code
LEFT JOIN wh.main.dim_organisation AS o ON o.organisation_key = g.organisation_key
ORDER BY g.grant_id
"""


def to_uri(url: str) -> str:
    """An IRI (Cyrillic host or path) as an ASCII URI: IDNA host, percent-encoded path."""
    parts = urlsplit(url)
    host = parts.hostname.encode("idna").decode("ascii") if parts.hostname else ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, quote(parts.path, safe="/%:@!$&'()*+,;=-._~"),
                       quote(parts.query, safe="=&%:@/?+,;-._~"), quote(parts.fragment)))


def recipient_org_id(inn: str | None, inn_valid: bool | None, ogrn: str | None,
                     ogrn_valid: bool | None) -> str | None:
    """`RU-INN-<ИНН>` for a valid ИНН, else `RU-OGRN-<ОГРН>` for a valid ОГРН (org-id.guide
    lists); None when neither passes its check digits."""
    if inn_valid and is_valid_inn(inn):
        return f"RU-INN-{inn}"
    if ogrn_valid and is_valid_ogrn(ogrn):
        return f"RU-OGRN-{ogrn}"
    return None


def funder_org_id(source: str, funder: str) -> str:
    """Our own id for a funding organisation (we know no registered identifier for them):
    `360G-socfund-funder-<source>-<first 8 hex of SHA-256 of the funder's name>`."""
    digest = hashlib.sha256(funder.encode("utf-8")).hexdigest()[:8]
    return f"{GRANT_ID_PREFIX}-funder-{source}-{digest}"


def _json_number(value: Decimal | float | int) -> int | float:
    number = Decimal(value)
    return int(number) if number == number.to_integral_value() else float(number)


def giving_grant(row: dict) -> tuple[dict | None, str | None]:
    """One fact_grant row (joined with its programme, region and organisation) as a
    360Giving grant, or None and the reason it is left out."""
    if row["carried_out"] is False:
        return None, NOT_CARRIED_OUT
    if row["decision_date"] is None:
        return None, NO_AWARD_DATE
    org_id = recipient_org_id(row["inn"], row["inn_valid"], row["ogrn"], row["ogrn_valid"])
    if org_id is None:
        return None, NO_RECIPIENT_ID
    recipient_name = row["recipient_name"] or row["organisation_name"] or org_id
    support = row["support_form"] or "грант"
    title = row["title"] or f"{support.capitalize()}: {recipient_name}"
    description = " · ".join(str(x) for x in (
        row["title"], row["programme_name"], row["direction_name"], row["support_form"],
        row["status"]) if x)
    funder = row["funder"] or row["programme_name"] or row["source"]
    grant: dict[str, Any] = {
        "id": f"{GRANT_ID_PREFIX}-{row['grant_id']}",
        "title": title,
        "description": description or title,
        "currency": row["currency"] or "RUB",
        "amountAwarded": _json_number(row["amount_awarded"]),
        "awardDate": row["decision_date"].isoformat(),
        "recipientOrganization": [{"id": org_id, "name": recipient_name}],
        "fundingOrganization": [{"id": funder_org_id(row["source"], funder), "name": funder}],
    }
    if row["region_name"]:
        grant["recipientOrganization"][0]["addressRegion"] = row["region_name"]
    if row["amount_requested"] is not None:
        grant["amountAppliedFor"] = _json_number(row["amount_requested"])
    if row["amount_transferred"] is not None:
        grant["amountDisbursed"] = _json_number(row["amount_transferred"])
    if row["start_date"] is not None:
        planned = {"startDate": row["start_date"].isoformat()}
        if row["end_date"] is not None:
            planned["endDate"] = row["end_date"].isoformat()
        grant["plannedDates"] = [planned]
    location = _giving_location(row)
    if location:
        grant["beneficiaryLocation"] = [location]
    programmes = [{"code": code, "title": title} for code, title in (
        (row["programme_id"], row["programme_name"]),
        (row["direction_id"], row["direction_name"])) if code]
    if programmes:
        grant["grantProgramme"] = programmes
    if row["source_url"]:
        grant["dataSource"] = to_uri(row["source_url"])
    return grant, None


def _giving_location(row: dict) -> dict | None:
    if not row["region_code"]:
        return None
    location: dict[str, Any] = {"id": row["region_code"], "name": row["region_name"],
                                "description": "The recipient's region "
                                               f"(found by {row['region_method']})."}
    if row["region_kind"] == "country":
        location["countryCode"] = row["region_code"]
    elif row["iso_3166_2"]:
        location["countryCode"] = row["iso_3166_2"][:2]
        location["geoCode"] = row["iso_3166_2"]
        location["geoCodeType"] = "ISO 3166-2"
    else:
        location["geoCode"] = row["region_code"]
        location["geoCodeType"] = "RU subject code (ИНН digits 1-2)"
    return location


def giving_package(con: duckdb.DuckDBPyConnection, release_date: date) -> dict:
    """fact_grant as a 360Giving package; grants left out are counted in its description."""
    result = con.execute(_GIVING_SQL)
    names = [d[0] for d in result.description]
    grants, left_out, left_by_source, total = [], {}, {}, 0
    for values in _fetch(result):
        total += 1
        row = dict(zip(names, values, strict=True))
        grant, reason = giving_grant(row)
        if grant is not None:
            grants.append(grant)
            continue
        left_out[reason] = left_out.get(reason, 0) + 1
        per = left_by_source.setdefault(reason, {})
        per[row["source"]] = per.get(row["source"], 0) + 1
    reasons = []
    for reason, why in ((NO_AWARD_DATE, "the source publishes no decision date; the 2013 "
                                        "operators' list has none"),
                        (NO_RECIPIENT_ID, "a recipient 360Giving can identify needs one"),
                        (NOT_CARRIED_OUT, "the agreement was not signed")):
        n = left_out.get(reason, 0)
        by = ", ".join(f"{s}: {k}" for s, k in sorted(left_by_source.get(reason, {}).items()))
        reasons.append(f"{n} {reason}" + (f" ({by}; {why})" if n else ""))
    description = (
        f"Grants and support decisions from socfund's fact_grant, release {release_date}: "
        f"{len(grants)} of {total} grants are published here, those with an award date and a "
        f"recipient identified by a valid ИНН (RU-INN-…) or ОГРН (RU-OGRN-…). Left out: "
        + "; ".join(reasons) + ". Grant ids are `" + GRANT_ID_PREFIX + "-<grant_id>`, "
        "socfund's own prefix (not registered with 360Giving); funders carry socfund ids "
        "too. Amounts are in the currency given, rubles unless stated.")
    return {
        "version": GIVING_VERSION,
        "title": f"socfund grants {release_date}",
        "description": description,
        "identifier": f"socfund-grants-{release_date}",
        "issued": release_date.isoformat(),
        "publisher": {"name": PUBLISHER},
        "license": LICENCE_URL,
        "grants": grants,
    }


def giving_flat_rows(grants: Iterable[dict]) -> Iterator[list[Any]]:
    """360Giving grants as rows under `GIVING_FLAT_COLUMNS` (first organisation, location,
    programme and planned dates of each)."""
    for g in grants:
        rec = g["recipientOrganization"][0]
        fund = g["fundingOrganization"][0]
        prog = (g.get("grantProgramme") or [{}])[0]
        loc = (g.get("beneficiaryLocation") or [{}])[0]
        dates = (g.get("plannedDates") or [{}])[0]
        yield [g["id"], g["title"], g["description"], g["currency"],
               g.get("amountAppliedFor"), g["amountAwarded"], g.get("amountDisbursed"),
               g["awardDate"], dates.get("startDate"), dates.get("endDate"),
               rec["id"], rec["name"], rec.get("addressRegion"), fund["id"], fund["name"],
               prog.get("code"), prog.get("title"), loc.get("name"), loc.get("countryCode"),
               loc.get("geoCode"), loc.get("geoCodeType"), g.get("dataSource")]


def write_rows_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Rows from Python as the same CSV the tables get (BOM, CRLF, RFC 4180, text
    neutralised, numbers as numbers). Returns the number of rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, lineterminator=CSV_NEWLINE)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else neutralise(v) if isinstance(v, str) else v
                             for v in row])
            n += 1
    return n


# ------------------------------------------------------------------ datapackage


def _source_key(upstream: str) -> str:
    return upstream.split(".", 1)[-1].split("__", 1)[0]


def _sources_of(table: Table) -> list[dict]:
    keys = {_source_key(u) for u in table.upstream if u.startswith(("raw.", "quarantine."))}
    out = [_source_descriptor(s) for s in SOURCES if s.key in keys]
    if any(u.startswith("main.") for u in table.upstream):
        out.append({"title": "socfund tables: " + ", ".join(
            sorted(u for u in table.upstream if u.startswith("main.")))})
    if any(u.startswith("reference.") for u in table.upstream):
        out.append({"title": "socfund reference seeds: " + ", ".join(
            sorted(u for u in table.upstream if u.startswith("reference.")))})
    return out


def _source_descriptor(source: SourceInfo) -> dict:
    out = {"title": f"{source.key}: {source.title}"}
    if source.url:
        out["path"] = to_uri(source.url)
    return out


def _field(column: Column) -> dict:
    out: dict[str, Any] = {"name": column.name, "type": column.schema_type}
    if column.label:
        out["title"] = column.label
    description = column.description
    if column.is_list:
        description = (description + " " if description else "") + \
            f"A list, items joined with `{LIST_SEPARATOR}`."
    if description:
        out["description"] = description
    constraints: dict[str, Any] = {}
    if column.required:
        constraints["required"] = True
    if column.unique:
        constraints["unique"] = True
    if column.enum:
        constraints["enum"] = [neutralise(v) for v in column.enum]
    if constraints:
        out["constraints"] = constraints
    return out


def table_resource(table: Table, path: str, digest: str, size: int) -> dict:
    schema: dict[str, Any] = {"fields": [_field(c) for c in table.columns],
                              "missingValues": [""]}
    if table.primary_key:
        schema["primaryKey"] = list(table.primary_key)
    if table.foreign_keys:
        schema["foreignKeys"] = [
            {"fields": [fk.column],
             "reference": {"resource": "" if fk.table == table.name else fk.table,
                           "fields": [fk.field]}}
            for fk in table.foreign_keys]
    resource: dict[str, Any] = {
        "name": table.name, "path": path, "profile": "tabular-data-resource",
        "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
        "bytes": size, "hash": f"sha256:{digest}",
        "dialect": {"delimiter": ",", "quoteChar": '"', "doubleQuote": True,
                    "lineTerminator": CSV_NEWLINE, "header": True},
        "schema": schema,
    }
    if table.description:
        resource["description"] = table.description
    sources = _sources_of(table)
    if sources:
        resource["sources"] = sources
    licence = SHARE_ALIKE_TABLES.get(table.name)
    if licence:
        resource["licenses"] = [{"name": SHARE_ALIKE_ID, "path": SHARE_ALIKE_URL,
                                 "title": f"CC BY-SA 4.0: {licence}"}]
    return resource


def datapackage(release_date: date, resources: list[dict]) -> dict:
    return {
        "name": "socfund",
        "title": "socfund: social-sector funding in Russia and its neighbours",
        "description": "Who gave how much money to which non-profit, for what, where and in "
                       "which year: grant registries, budget reports and competition results, "
                       "validated and modelled. CSV files: UTF-8 with BOM, comma, CRLF; text "
                       "cells starting with = + - @ tab or CR are prefixed with '; lists are "
                       f"joined with `{LIST_SEPARATOR}`. See data-dictionary.md.",
        "version": release_date.isoformat(),
        "created": f"{release_date.isoformat()}T00:00:00Z",
        "licenses": [{"name": LICENCE_ID, "path": LICENCE_URL, "title": LICENCE_TITLE}],
        "sources": [_source_descriptor(s) for s in SOURCES],
        "resources": resources,
    }


# ------------------------------------------------------------------ data dictionary


def _rules(column: Column, table: Table) -> list[str]:
    rules = []
    if column.name in table.primary_key:
        rules.append("primary key" if len(table.primary_key) == 1 else
                     "part of the primary key")
    if column.required:
        rules.append("not null")
    if column.unique:
        rules.append("unique")
    if column.enum:
        rules.append("one of: " + ", ".join(f"`{v}`" for v in column.enum))
    if column.references:
        rules.append(f"→ `{column.references[0]}.{column.references[1]}`")
    return rules


def _dictionary_intro(release_date: date) -> list[str]:
    return [
        f"Release {release_date.isoformat()}. Tables of schema `main`, each as "
        "`csv/<table>.csv`, `parquet/<table>.parquet` and `xlsx/<table>.xlsx`; the "
        "warehouse itself as `socfund.duckdb`.",
        "CSV: UTF-8 with a byte-order mark, comma, CRLF, RFC 4180 quoting; dates "
        "`YYYY-MM-DD`, timestamps ISO 8601 in UTC, decimal point `.`; identifiers (ИНН, ОГРН, "
        "КПП, OKATO, OKTMO, region codes, application numbers) are text and keep leading "
        f"zeros; lists are joined with `{LIST_SEPARATOR}`; an empty cell is null.",
        "Spreadsheet safety: a text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage "
        "return is written with a leading apostrophe in CSV and XLSX files, so it is never "
        "run as a formula. Numbers, negative ones included, stay numbers. Parquet and DuckDB "
        "keep the values as they are.",
        "XLSX: text cells are typed text (`@`), so codes keep their zeros when edited; "
        "booleans are the text `true` / `false` as in the CSV, so no cell is a formula; a "
        f"sheet holds {XLSX_MAX_ROWS - 1:,} rows under its header and larger tables continue on "
        "sheets `<table> (2)`, `(3)`, …; the sheet `about` describes the columns. A cell holds "
        "at most 32 767 characters: longer text is cut in XLSX only.",
        "Source of a column: the raw table or reference seed its values come from, "
        "following the column through the dbt models, or the model where it is derived.",
    ]


def dictionary_markdown(tables: Sequence[Table], release_date: date) -> str:
    out = ["# socfund data dictionary", ""]
    for para in _dictionary_intro(release_date):
        out += [para, ""]
    out += ["## Tables", ""]
    out += [f"- [`{t.name}`](#{t.name}) — {t.rows} rows" for t in tables]
    out.append("")
    for t in tables:
        out += [f"## {t.name}", "", t.description or "(no description)", ""]
        out.append(f"- rows: {t.rows}")
        if t.files:
            out.append("- files: " + ", ".join(f"`{f}`" for f in t.files))
        if t.primary_key:
            out.append(f"- primary key: `{', '.join(t.primary_key)}`")
        elif t.row_key:
            out.append(f"- unique combination: `{', '.join(t.row_key)}`")
        if t.upstream:
            out.append("- built from: " + ", ".join(f"`{u}`" for u in t.upstream))
        if t.model_path:
            out.append(f"- dbt model: `{t.model_path}`")
        if t.name in SHARE_ALIKE_TABLES:
            out.append(f"- licence: CC BY-SA 4.0 ({SHARE_ALIKE_TABLES[t.name]})")
        out += ["", "| column | type | description | rules | source |",
                "|---|---|---|---|---|"]
        for c in t.columns:
            cells = [f"`{c.name}`" + (f" ({c.label})" if c.label else ""),
                     _type_label(c),
                     c.description or "(no description)", "; ".join(_rules(c, t)),
                     ", ".join(f"`{o}`" if not o.startswith("derived") else o
                               for o in c.origin)]
            out.append("| " + " | ".join(_md_cell(x) for x in cells) + " |")
        out.append("")
    return "\n".join(out)


def _type_label(column: Column) -> str:
    """DuckDB type · Table Schema type (the CSV's), or the latter alone."""
    if column.duckdb_type:
        return f"{column.duckdb_type} · {column.schema_type}"
    return column.schema_type


def _md_cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


_HTML_STYLE = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:72rem;padding:0 1rem;color:#1b1b1b}
h1,h2{line-height:1.2}h2{margin-top:2.5rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;margin:1rem 0}
th,td{border:1px solid #d0d0d0;padding:.3rem .5rem;vertical-align:top;text-align:left}
th{background:#f1f1f1}code{background:#f4f4f4;padding:0 .2rem;border-radius:3px}
td:nth-child(2){white-space:nowrap}
"""


def _html_text(text: str) -> str:
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text, quote=False))


def dictionary_html(tables: Sequence[Table], release_date: date) -> str:
    """The data dictionary as one HTML page with its style inline: no external CSS or JS."""
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>socfund data dictionary {release_date.isoformat()}</title>",
           f"<style>{_HTML_STYLE}</style>", "</head>", "<body>",
           "<h1>socfund data dictionary</h1>"]
    out += [f"<p>{_html_text(p)}</p>" for p in _dictionary_intro(release_date)]
    out += ["<h2>Tables</h2>", "<ul>"]
    out += [f'<li><a href="#{html.escape(t.name)}"><code>{html.escape(t.name)}</code></a> — '
            f"{t.rows} rows</li>" for t in tables]
    out.append("</ul>")
    for t in tables:
        out += [f'<h2 id="{html.escape(t.name)}">{html.escape(t.name)}</h2>',
                f"<p>{_html_text(t.description or '(no description)')}</p>", "<ul>",
                f"<li>rows: {t.rows}</li>"]
        if t.files:
            out.append("<li>files: " + ", ".join(
                f"<code>{html.escape(f)}</code>" for f in t.files) + "</li>")
        if t.primary_key:
            out.append(f"<li>primary key: <code>{html.escape(', '.join(t.primary_key))}"
                       "</code></li>")
        elif t.row_key:
            out.append(f"<li>unique combination: <code>{html.escape(', '.join(t.row_key))}"
                       "</code></li>")
        if t.upstream:
            out.append("<li>built from: " + ", ".join(
                f"<code>{html.escape(u)}</code>" for u in t.upstream) + "</li>")
        if t.model_path:
            out.append(f"<li>dbt model: <code>{html.escape(t.model_path)}</code></li>")
        if t.name in SHARE_ALIKE_TABLES:
            out.append(f"<li>licence: CC BY-SA 4.0 "
                       f"({html.escape(SHARE_ALIKE_TABLES[t.name])})</li>")
        out += ["</ul>", "<table>", "<thead><tr><th>column</th><th>type</th><th>description"
                "</th><th>rules</th><th>source</th></tr></thead>", "<tbody>"]
        for c in t.columns:
            label = f" ({html.escape(c.label)})" if c.label else ""
            origin = ", ".join(html.escape(o) if o.startswith("derived")
                               else f"<code>{html.escape(o)}</code>" for o in c.origin)
            out.append(
                f"<tr><td><code>{html.escape(c.name)}</code>{label}</td>"
                f"<td>{html.escape(_type_label(c))}</td>"
                f"<td>{_html_text(c.description or '(no description)')}</td>"
                f"<td>{_html_text('; '.join(_rules(c, t)))}</td><td>{origin}</td></tr>")
        out += ["</tbody>", "</table>"]
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


# ------------------------------------------------------------------ CHANGES.md


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


def changes_markdown(release_date: date, changes: Sequence[TableChanges],
                     previous: Path | None, dropped: Sequence[str] = ()) -> str:
    out = [f"# Changes in release {release_date.isoformat()}", ""]
    if previous is None:
        out += ["First release: there is no earlier release in this folder to compare with.",
                "", "| table | rows |", "|---|---:|"]
        out += [f"| {c.table} | {c.rows} |" for c in changes]
        return "\n".join(out) + "\n"
    out += [f"Compared with release {previous.name}, row by row: rows are matched by each "
            "table's primary key (or the unique combination of columns its tests declare); "
            "a row is changed when any other column differs.", "",
            "| table | key | rows | added | changed | removed | notes |",
            "|---|---|---:|---:|---:|---:|---|"]

    def num(n: int | None) -> str:
        return "—" if n is None else str(n)

    for c in changes:
        out.append(f"| {c.table} | {', '.join(c.key) or '—'} | {c.rows} | {num(c.added)} | "
                   f"{num(c.changed)} | {num(c.removed)} | {_md_cell(c.note)} |")
    if dropped:
        out += ["", "Tables no longer published: " + ", ".join(dropped) + "."]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ licence and citation


def licence_markdown(release_date: date) -> str:
    out = [
        "# Licence", "",
        f"socfund release {release_date.isoformat()} — the tables, files and documentation "
        f"of this folder — is published under the [{LICENCE_TITLE}]({LICENCE_URL}) licence "
        f"(`{LICENCE_ID}`): you may share and adapt it for any purpose, giving credit to "
        "socfund and to the sources below, and saying what you changed.", "",
        "Exception (share-alike):", "",
    ]
    out += [f"- `{t}` — {why}; it is published under [CC BY-SA 4.0]({SHARE_ALIKE_URL}), and "
            "what you adapt from it must be too." for t, why in SHARE_ALIKE_TABLES.items()]
    out += ["", "## Sources and their terms, as far as we know them", "",
            "Terms we could not find are marked as not known; the licence above covers "
            "socfund's selection, validation, modelling and documentation, and makes no "
            "claim over what the sources publish.", "",
            "| source | what | where | terms of reuse |", "|---|---|---|---|"]
    for s in SOURCES:
        where = to_uri(s.url) if s.url else s.where
        out.append(f"| `{s.key}` | {_md_cell(s.title)} | {where} | {_md_cell(s.terms)} |")
    out += ["", "## Reference data", "", "| data | terms |", "|---|---|"]
    out += [f"| {_md_cell(what)} | {_md_cell(terms)} |" for what, terms in REFERENCE_TERMS]
    out += ["", "The 360Giving file follows the 360Giving Data Standard 1.4 (schema published "
            "by 360Giving under CC BY 4.0).", ""]
    return "\n".join(out)


def _yaml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def citation_cff(release_date: date) -> str:
    d = release_date.isoformat()
    return "\n".join([
        "cff-version: 1.2.0",
        'message: "If you use these data, please cite them as below."',
        "type: dataset",
        f"title: {_yaml_str(f'socfund: social-sector funding in Russia, release {d}')}",
        f"version: {_yaml_str(d)}",
        f"date-released: {_yaml_str(d)}",
        f"license: {LICENCE_ID}",
        "authors:",
        '  - name: "socfund contributors"',
        "abstract: " + _yaml_str(
            "An open-data warehouse of social-sector funding in Russia and its neighbours: "
            "grant registries, budget reports and competition results, validated, with "
            "every rejected record kept in a quarantine with its reasons."),
        "keywords:",
        '  - "grants"', '  - "non-profit organisations"', '  - "Russia"', '  - "open data"',
        '  - "360Giving"',
        "",
    ])


# ------------------------------------------------------------------ checksums and manifest


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _all_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def write_sha256sums(folder: Path) -> Path:
    """`SHA256SUMS` over every file of the folder, as `sha256sum -c` reads it."""
    target = folder / "SHA256SUMS"
    lines = [f"{sha256_file(folder / rel)}  {rel}" for rel in _all_files(folder)
             if rel != target.name]
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


# ------------------------------------------------------------------ the release


def _snapshot(db_path: Path, target: Path) -> None:
    """Copy the warehouse; fold a write-ahead log into the copy if one was left beside it."""
    shutil.copyfile(db_path, target)
    wal = db_path.with_name(db_path.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))
        con = connect(target)
        try:
            con.execute("CHECKPOINT")
        finally:
            con.close()


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _write_tables(con: duckdb.DuckDBPyConnection, folder: Path,
                  tables: Sequence[Table]) -> tuple[list[ReleaseFile], list[tuple[Table, str]]]:
    """Each table's CSV and Parquet (the XLSX files come from `_XlsxWriters`)."""
    files: list[ReleaseFile] = []
    csvs: list[tuple[Table, str]] = []
    for t in tables:
        about = t.description or t.name
        csv_path = f"csv/{t.name}.csv"
        write_csv(con, _export_select(t.relation, t.columns), folder / csv_path)
        write_parquet(con, t.relation, folder / "parquet" / f"{t.name}.parquet")
        files += [ReleaseFile(csv_path, "csv", about, t.name, t.rows),
                  ReleaseFile(f"parquet/{t.name}.parquet", "parquet", about, t.name, t.rows)]
        csvs.append((t, csv_path))
    return files, csvs


def export_workers() -> int:
    """How many processes write XLSX files at once: `SOCFUND_EXPORT_WORKERS`, else the cores
    (at most 4)."""
    value = os.environ.get(EXPORT_WORKERS_ENV, "").strip()
    if not value:
        return max(1, min(os.cpu_count() or 1, 4))
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{EXPORT_WORKERS_ENV}={value!r}: expected a positive whole number")
    return int(value)


def _xlsx_file(snapshot: str, table: Table, path: str) -> list[str]:
    """One table's XLSX from the release's snapshot, in a process of its own."""
    con = connect()
    try:
        con.execute("ATTACH ? AS wh (READ_ONLY)", [snapshot])
        return write_xlsx(con, table, Path(path))
    finally:
        con.close()


class _XlsxWriters:
    """The XLSX files of a release, written beside everything else.

    xlsxwriter writes cell by cell in Python (some three minutes for a full-size release
    on one core, most of an export), so the files are written by `workers` processes of
    their own, largest table first, while this process writes the CSV, Parquet and
    360Giving files. Each worker reads the release's read-only snapshot: DuckDB lets many
    readers open one file. One worker writes them here, in order.
    """

    def __init__(self, snapshot: Path, folder: Path, tables: Sequence[Table], workers: int):
        self.tables = list(tables)
        self.jobs = [(str(snapshot), t, str(folder / "xlsx" / f"{t.name}.xlsx"))
                     for t in self.tables]
        self.pool: ProcessPoolExecutor | None = None
        self.futures: dict[str, Future] = {}
        if workers > 1 and len(self.tables) > 1:
            self.pool = ProcessPoolExecutor(max_workers=workers,
                                            mp_context=multiprocessing.get_context("spawn"))
            for job in sorted(self.jobs, key=lambda job: -job[1].rows):
                self.futures[job[1].name] = self.pool.submit(_xlsx_file, *job)

    def files(self) -> list[ReleaseFile]:
        """Wait for every file; the first failure is raised, naming its table."""
        try:
            sheets = {}
            for job in self.jobs:
                name = job[1].name
                try:
                    sheets[name] = (self.futures[name].result() if self.pool is not None
                                    else _xlsx_file(*job))
                except Exception as exc:
                    raise RuntimeError(f"export: xlsx/{name}.xlsx: {exc}") from exc
        finally:
            self.close()
        files = []
        for t in self.tables:
            split = (f" Split over sheets {', '.join(sheets[t.name])}."
                     if len(sheets[t.name]) > 1 else "")
            files.append(ReleaseFile(f"xlsx/{t.name}.xlsx", "xlsx",
                                     (t.description or t.name) + split, t.name, t.rows))
        return files

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def _write_giving(con: duckdb.DuckDBPyConnection, folder: Path,
                  release_date: date) -> tuple[list[ReleaseFile], Table]:
    package = giving_package(con, release_date)
    _write_text(folder / "360giving" / "grants.json",
                json.dumps(package, ensure_ascii=False, indent=2) + "\n")
    n = write_rows_csv(folder / "360giving" / "grants.csv",
                       [name for name, *_ in GIVING_FLAT_COLUMNS],
                       giving_flat_rows(package["grants"]))
    flat = Table(
        name="360giving-grants", relation="", rows=n,
        description="Grants in the 360Giving Data Standard's flat layout (column titles of "
                    "its spreadsheet template). " + package["description"],
        columns=tuple(Column(name=name, duckdb_type="", kind=kind, description=about,
                             required=name in (
            "Identifier", "Title", "Description", "Currency", "Amount Awarded", "Award Date",
            "Recipient Org:Identifier", "Recipient Org:Name", "Funding Org:Identifier",
            "Funding Org:Name"), unique=name == "Identifier")
            for name, kind, about in GIVING_FLAT_COLUMNS),
        primary_key=("Identifier",), upstream=("main.fact_grant",),
        files=("360giving/grants.csv", "360giving/grants.json"))
    files = [ReleaseFile("360giving/grants.json", "json",
                         "360Giving package (Data Standard 1.4). " + package["description"],
                         "fact_grant", len(package["grants"])),
             ReleaseFile("360giving/grants.csv", "csv",
                         "The 360Giving grants, flat (one row per grant).", "fact_grant", n)]
    return files, flat


def _write_release(db_path: Path, folder: Path, *, release_date: date, manifest_path: Path,
                   previous: Path | None) -> None:
    snapshot = folder / DUCKDB_FILE_NAME
    _snapshot(db_path, snapshot)
    docs = read_dbt_docs(manifest_path)
    con = connect()
    xlsx: _XlsxWriters | None = None
    try:
        con.execute("ATTACH ? AS wh (READ_ONLY)", [str(snapshot)])
        tables = describe_public_tables(con, docs)
        xlsx = _XlsxWriters(snapshot, folder, tables, export_workers())
        files, csvs = _write_tables(con, folder, tables)

        quarantine = quarantine_table(con)
        write_csv(con, _export_select(quarantine.relation, quarantine.columns),
                  folder / "quarantine" / "records.csv")
        files.append(ReleaseFile("quarantine/records.csv", "csv", quarantine.description,
                                 "quarantine", quarantine.rows))

        giving_files, flat = _write_giving(con, folder, release_date)
        files += giving_files

        changes = [table_changes(con, t, previous) for t in tables] if previous else [
            TableChanges(t.name, t.row_key, t.rows, None, None, None) for t in tables]
        dropped = sorted(p.stem for p in (previous / "parquet").glob("*.parquet")
                         if p.stem not in {t.name for t in tables}) if previous else []
        files += xlsx.files()
    finally:
        if xlsx is not None:
            xlsx.close()
        con.close()

    resources = []
    for table, rel in [*csvs, (quarantine, "quarantine/records.csv")]:
        p = folder / rel
        resources.append(table_resource(table, rel, sha256_file(p), p.stat().st_size))
    p = folder / "360giving" / "grants.csv"
    resources.append(table_resource(flat, "360giving/grants.csv", sha256_file(p),
                                    p.stat().st_size))
    _write_text(folder / "datapackage.json",
                json.dumps(datapackage(release_date, resources), ensure_ascii=False,
                           indent=2) + "\n")
    documented = [*tables, quarantine, flat]
    _write_text(folder / "data-dictionary.md", dictionary_markdown(documented, release_date))
    _write_text(folder / "data-dictionary.html", dictionary_html(documented, release_date))
    _write_text(folder / "CHANGES.md",
                changes_markdown(release_date, changes, previous, dropped))
    _write_text(folder / "LICENSE.md", licence_markdown(release_date))
    _write_text(folder / "CITATION.cff", citation_cff(release_date))
    files += [
        ReleaseFile("datapackage.json", "json", "Frictionless Data Package: every CSV with its "
                    "Table Schema, keys, licence and sources."),
        ReleaseFile("data-dictionary.md", "markdown", "Data dictionary: every table and "
                    "column with description, type, rules and source."),
        ReleaseFile("data-dictionary.html", "html", "The data dictionary as one web page."),
        ReleaseFile(DUCKDB_FILE_NAME, "duckdb", "The whole warehouse (DuckDB, read-only "
                    "snapshot): public tables in schema main, raw, quarantine, reference."),
        ReleaseFile("CHANGES.md", "markdown", "Rows added, changed and removed per table "
                    "since the previous release."),
        ReleaseFile("LICENSE.md", "markdown", "Licence of the release and the sources' terms."),
        ReleaseFile("CITATION.cff", "cff", "How to cite this release."),
    ]
    os.chmod(snapshot, 0o444)
    entries = []
    for f in sorted(files, key=lambda f: f.path):
        p = folder / f.path
        entries.append({"path": f.path, "format": f.format, "table": f.table, "rows": f.rows,
                        "bytes": p.stat().st_size, "sha256": sha256_file(p),
                        "description": f.description})
    _write_text(folder / "manifest.json",
                json.dumps(entries, ensure_ascii=False, indent=2) + "\n")
    write_sha256sums(folder)


def _swap_in(staging: Path, final: Path) -> Path:
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}")
        final.rename(old)
    staging.rename(final)
    if old is not None:
        shutil.rmtree(old)
    return final


def _write_latest(exports_dir: Path, name: str) -> None:
    write_text_atomic(exports_dir / LATEST_FILE_NAME, name + "\n")


def export_release(db_path: Path, exports_dir: Path, *, release_date: date,
                   manifest_path: Path) -> Path:
    """Write the release `<exports_dir>/<release_date>/` from the warehouse `db_path` and the
    dbt manifest `manifest_path`, point `<exports_dir>/latest` at it, and return its path.
    A release of the same date is replaced; a failure leaves the folder as it was."""
    db_path, exports_dir = Path(db_path), Path(exports_dir)
    if not db_path.is_file():
        raise FileNotFoundError(f"export: no warehouse at {db_path}")
    exports_dir.mkdir(parents=True, exist_ok=True)
    name = release_date.isoformat()
    previous = previous_release(exports_dir, name)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.partial-", dir=exports_dir))
    try:
        os.chmod(staging, 0o755)
        _write_release(db_path, staging, release_date=release_date,
                       manifest_path=Path(manifest_path), previous=previous)
        final = _swap_in(staging, exports_dir / name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _write_latest(exports_dir, name)
    return final


def read_latest(exports_dir: Path) -> Path | None:
    """The release `latest` names, if any."""
    pointer = Path(exports_dir) / LATEST_FILE_NAME
    if not pointer.is_file():
        return None
    return Path(exports_dir) / pointer.read_text(encoding="utf-8").strip()

