"""The public tables a release exports: what they are (the DuckDB catalogue and the dbt
docs), and their CSV and Parquet files with spreadsheet-safe text."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.duckdb_config import quote_ident
from pipelines.illustrative import COLUMN as ILLUSTRATIVE
from pipelines.illustrative import COLUMN_DESCRIPTION as ILLUSTRATIVE_DESCRIPTION
from pipelines.publish.dbt_docs import DbtDocs, ModelDoc

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = ";"
CSV_NEWLINE = "\r\n"
UTF8_BOM = b"\xef\xbb\xbf"

_LIST_TYPE = re.compile(r"\[\d*\]$")


# ------------------------------------------------------------------ spreadsheet safety


def neutralise(text: str) -> str:
    """Prefix `'` to text a spreadsheet would read as a formula (see `pipelines.publish`)."""
    if text and text[0] in FORMULA_TRIGGERS:
        return "'" + text
    return text


# A trigger as the first character, captured (RE2 reads `\x{3d}` as `=`).
_TRIGGER_PATTERN = "^([" + "".join(f"\\x{{{ord(c):02x}}}" for c in FORMULA_TRIGGERS) + "])"
_NEUTRALISED = "'\\1"  # the apostrophe, then the captured character


def neutralise_sql(expr: str) -> str:
    """The same rule as `neutralise`, as a DuckDB expression over a VARCHAR `expr`.

    One anchored regular expression rather than a CASE over the first character: it
    gives up at the first byte of the many values it leaves alone, and costs a fraction
    of the CASE in an export.
    """
    return f"regexp_replace({expr}, {sql_str(_TRIGGER_PATTERN)}, {sql_str(_NEUTRALISED)})"


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
    # How the change feed matches rows across releases: the columns of the table's
    # `release_key` unique test (dbt_docs.ModelDoc.release_key).
    row_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    upstream: tuple[str, ...] = ()
    model_path: str = ""
    files: tuple[str, ...] = ()

    @property
    def illustrative(self) -> bool:
        """Its rows come from invented documents: its first column says so."""
        return bool(self.columns) and self.columns[0].name == ILLUSTRATIVE


@dataclass
class ReleaseFile:
    """One entry of a release's manifest.json."""

    path: str  # relative to the release folder, with `/`
    format: str
    description: str
    table: str | None = None
    rows: int | None = None


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


def sql_str(text: str) -> str:
    """A constant of this package, or a table's own name, as a SQL string literal.

    Paths and values from the data are never written into SQL: they are parameters.
    """
    return "'" + text.replace("'", "''") + "'"


def _export_expr(name: str, duckdb_type: str) -> str:
    """A column as the CSV and XLSX carry it (lists joined, timestamps ISO, text neutralised)."""
    col = quote_ident(name)
    t = duckdb_type.upper()
    if _LIST_TYPE.search(t):
        expr = neutralise_sql(f"array_to_string({col}, {sql_str(LIST_SEPARATOR)})")
    elif t == "TIMESTAMP WITH TIME ZONE":
        expr = f"strftime(timezone('UTC', {col}), '%Y-%m-%dT%H:%M:%S.%fZ')"
    elif t.startswith("TIMESTAMP"):
        expr = f"strftime({col}::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%f')"
    elif table_schema_type(t) == "string":
        expr = neutralise_sql(f"CAST({col} AS VARCHAR)")
    else:
        expr = col
    return f"{expr} AS {col}"


def export_select(relation: str, columns: Sequence[Column]) -> str:
    """The SELECT whose rows the CSV and XLSX files of a table hold."""
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
    # An illustrative build's marker column comes first in every file, whatever its place.
    columns = sorted(columns, key=lambda column: column[0] != ILLUSTRATIVE)
    names = [c for c, _ in columns]
    fks = tuple(ForeignKey(col, target, fld) for col, target, fld in doc.relationships
                if target in exported and col in names)
    pk = _primary_key(names, doc)
    cols = []
    for col, dtype in columns:
        if col == ILLUSTRATIVE:
            cols.append(illustrative_column(dtype))
            continue
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
    row_key = doc.release_key if set(doc.release_key) <= set(names) else ()
    return Table(name=name, relation=relation, description=doc.description,
                 columns=tuple(cols), rows=rows, primary_key=pk, row_key=tuple(row_key),
                 foreign_keys=fks, upstream=doc.upstream, model_path=doc.path,
                 files=(f"csv/{name}.csv", f"parquet/{name}.parquet", f"xlsx/{name}.xlsx"))


def illustrative_column(duckdb_type: str = "BOOLEAN") -> Column:
    """The column an illustrative build puts first in every table and file."""
    return Column(name=ILLUSTRATIVE, duckdb_type=duckdb_type, kind="boolean",
                  description=ILLUSTRATIVE_DESCRIPTION, required=True)


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


# ------------------------------------------------------------------ quarantine


_QUARANTINE_NOTES = {
    "table": "The raw table the record was meant for (`raw.<source>__<entity>`).",
    "_source": "Source.", "_source_url": "URL of the document the record was read from.",
    "_raw_sha256": "SHA-256 of the kept bytes of that document.",
    "_fetched_at": "When the document was fetched (UTC).",
    "_parser_version": "Version of the parser that read it.",
    "_row": "Row or position of the record in the document, as a person would find it.",
    "record": "The record as parsed (JSON).",
    "reasons": "Every reason the record failed validation.",
}


def _quarantine_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'wh' "
                       "AND schema_name = 'quarantine' ORDER BY table_name").fetchall()
    return [r[0] for r in rows]


def quarantine_table(con: duckdb.DuckDBPyConnection, illustrative: bool = False) -> Table:
    """Every quarantine table's records in one relation, with a `table` column first (after
    `illustrative`, true on every row, in an illustrative build)."""
    names = _quarantine_tables(con)
    if names:
        sql = " UNION ALL BY NAME ".join(
            f"SELECT {sql_str(n)} AS \"table\", * FROM wh.quarantine.{quote_ident(n)}"
            for n in names)
    else:
        sql = "SELECT NULL::VARCHAR AS \"table\" WHERE false"
    if illustrative:
        sql = f"SELECT true AS {quote_ident(ILLUSTRATIVE)}, * FROM ({sql})"
    relation = f"({sql})"
    described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    (rows,) = con.execute(f"SELECT count(*) FROM {relation}").fetchone()
    columns = tuple(illustrative_column(t) if n == ILLUSTRATIVE else
                    Column(name=n, duckdb_type=t, description=_QUARANTINE_NOTES.get(n, ""),
                           required=n in ("table", "reasons"))
                    for n, t, *_ in described)
    return Table(name="quarantine", relation=relation, rows=rows, columns=columns,
                 description="Records that failed validation, kept with every reason; they "
                             "are not in the public tables.",
                 upstream=tuple(f"quarantine.{n}" for n in names),
                 files=("quarantine/records.csv",))


# ------------------------------------------------------------------ CSV and Parquet


_CSV_OPTIONS = (f"FORMAT csv, DELIMITER ',', QUOTE '\"', ESCAPE '\"', "
                f"NEW_LINE {sql_str(CSV_NEWLINE)}")


def write_csv(con: duckdb.DuckDBPyConnection, sql: str, path: Path) -> None:
    """Write a query's rows as CSV: UTF-8 with BOM, comma, CRLF, RFC 4180 quoting.

    DuckDB writes the file in one pass: the BOM and the header line (as DuckDB writes it,
    from the same query without rows) go first as COPY's prefix, and the suffix stands in
    for the line end COPY leaves off the last row.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    head = path.with_name(path.name + ".header")
    con.execute(f"COPY (SELECT * FROM ({sql}) LIMIT 0) TO ? ({_CSV_OPTIONS}, HEADER true)",
                [str(head)])
    prefix = UTF8_BOM + head.read_bytes()
    head.unlink()
    (rows,) = con.execute(
        f"COPY ({sql}) TO ? ({_CSV_OPTIONS}, HEADER false, "
        f"PREFIX {sql_str(prefix.decode('utf-8'))}, SUFFIX {sql_str(CSV_NEWLINE)})",
        [str(path)]).fetchone()
    if rows == 0:
        # Without rows COPY writes the suffix after the header's own line end.
        path.write_bytes(prefix)


def write_parquet(con: duckdb.DuckDBPyConnection, relation: str, path: Path,
                  columns: Sequence[Column] = ()) -> None:
    """The relation's values as stored, in the order of `columns` (default: its own)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    select = ", ".join(quote_ident(c.name) for c in columns) or "*"
    con.execute(f"COPY (SELECT {select} FROM {relation}) TO ? "
                "(FORMAT parquet, COMPRESSION zstd)", [str(path)])


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


def fetch_rows(result: duckdb.DuckDBPyConnection, size: int = 10_000) -> Iterator[tuple]:
    """A query's rows a batch at a time: a large result is never held whole."""
    while True:
        rows = result.fetchmany(size)
        if not rows:
            return
        yield from rows


def write_table_files(con: duckdb.DuckDBPyConnection, folder: Path, tables: Sequence[Table]
                      ) -> tuple[list[ReleaseFile], list[tuple[Table, str]]]:
    """Each table's CSV and Parquet (the XLSX files come from `pipelines.publish.xlsx`), and
    each table with the path of its CSV."""
    files: list[ReleaseFile] = []
    csvs: list[tuple[Table, str]] = []
    for t in tables:
        about = t.description or t.name
        csv_path = f"csv/{t.name}.csv"
        write_csv(con, export_select(t.relation, t.columns), folder / csv_path)
        write_parquet(con, t.relation, folder / "parquet" / f"{t.name}.parquet", t.columns)
        files += [ReleaseFile(csv_path, "csv", about, t.name, t.rows),
                  ReleaseFile(f"parquet/{t.name}.parquet", "parquet", about, t.name, t.rows)]
        csvs.append((t, csv_path))
    return files, csvs
