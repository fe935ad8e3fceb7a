"""XLSX files of a release: text typed as text, no formula cells, written in worker
processes beside the rest of the release."""

from __future__ import annotations

import multiprocessing
import os
import re
import zipfile
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from xlsxwriter.utility import xl_col_to_name

from pipelines.duckdb_config import connect, export_memory_limit, quote_ident
from pipelines.illustrative import WARNING_EN, WARNING_RU
from pipelines.publish.markup import render
from pipelines.publish.tables import (
    Column,
    ReleaseFile,
    Table,
    export_select,
    neutralise,
    neutralise_sql,
    sql_str,
    table_schema_type,
)

# Rows a worksheet holds, the header row included (Excel and LibreOffice alike).
XLSX_MAX_ROWS = 1_048_576
EXPORT_WORKERS_ENV = "SOCFUND_EXPORT_WORKERS"


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
    sheet `about` describes the columns.

    The cells are the ones xlsxwriter writes (the reference `tests/test_xlsx_writer.py` holds
    it to, six times slower: cell by cell in Python), but each row's XML is made by DuckDB
    in one query and only joined and compressed here; a sheet's rows are streamed, never
    all held at once.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    sheets = max(1, -(-table.rows // rows_per_sheet))
    names = _sheet_names(table.name, sheets)
    styles = _Styles(table.columns)
    # A sheet past 2 GB of XML needs the ZIP64 extension (some 65 bytes a cell; zipfile
    # refuses to close a member that outgrows its header, so a miss fails loudly).
    big = table.rows * max(1, len(table.columns)) > 10_000_000
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED,
                         compresslevel=_COMPRESSLEVEL) as book:
        for part, xml in _package_parts(names, styles):
            book.writestr(part, xml)
        result = con.execute(_rows_sql(table, styles, rows_per_sheet))
        left = table.rows
        for i, _name in enumerate(names):
            count = min(left, rows_per_sheet)
            left -= count
            with book.open(f"xl/worksheets/sheet{i + 1}.xml", "w", force_zip64=big) as out:
                out.write(_sheet_head(table.columns, styles, count, first=i == 0))
                out.write(_header_row(table.columns))
                while count > 0:
                    batch = result.fetchmany(min(count, _BATCH))
                    if not batch:
                        break
                    count -= len(batch)
                    out.write("".join(row for (row,) in batch).encode())
                out.write(_SHEET_TAIL)
        while result.fetchmany(_BATCH):  # a result must be read to its end
            pass
        book.writestr(f"xl/worksheets/sheet{len(names) + 1}.xml",
                      _about_sheet(_about_lines(table, names, rows_per_sheet)))
    return names


# zlib level 3: the sheets compress some four times faster than at the default 6, into
# files a sixth larger (fact_application: 51 MB rather than 43; level 1 gives 58 MB).
_COMPRESSLEVEL = 3
_BATCH = 2_000
# Cell formats (cellXfs) every workbook has, by index; decimal formats follow.
_HEADER, _TEXT, _DATE, _WRAP = 1, 2, 3, 4


class _Styles:
    """styles.xml of a table's workbook (`templates/xlsx/styles.xml.j2`): the header, text,
    date and wrapped-text formats and one `0.00…` format per decimal scale, with the index a
    cell names them by."""

    def __init__(self, columns: Sequence[Column]):
        scales = sorted({s for c in columns if (s := _decimal_scale(c))})
        self.number = {s: 5 + i for i, s in enumerate(scales)}
        self.xml = render("xlsx/styles.xml.j2", scales=len(scales),
                          formats=["@", "yyyy-mm-dd", *("0." + "0" * s for s in scales)])


def _decimal_scale(column: Column) -> int:
    if column.schema_type != "number":
        return 0
    scale = re.search(r"DECIMAL\(\d+,\s*(\d+)\)", column.duckdb_type.upper())
    return int(scale.group(1)) if scale else 0


def _package_parts(names: list[str], styles: _Styles) -> list[tuple[str, str]]:
    """Every part of the workbook but its worksheets."""
    from xlsxwriter.theme import THEME_XML_2007

    titles = [*names, "about"]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [("[Content_Types].xml", render("xlsx/content_types.xml.j2", sheets=len(titles))),
            ("_rels/.rels", render("xlsx/root.rels.j2")),
            ("docProps/app.xml", render("xlsx/app.xml.j2", titles=titles)),
            ("docProps/core.xml", render("xlsx/core.xml.j2", now=now)),
            ("xl/workbook.xml", render("xlsx/workbook.xml.j2", titles=titles)),
            ("xl/_rels/workbook.xml.rels", render("xlsx/workbook.rels.j2", sheets=len(titles))),
            ("xl/styles.xml", styles.xml), ("xl/theme/theme1.xml", THEME_XML_2007)]


def _col_width(width: float) -> str:
    # Excel's character widths, as xlsxwriter converts them (7-pixel digits, 5 of padding).
    return repr(int((width * 7 + 5) / 7 * 256) / 256)


def _sheet_head(columns: Sequence[Column], styles: _Styles, rows: int, *,
                first: bool) -> bytes:
    last = xl_col_to_name(max(len(columns), 1) - 1)
    widths = [(_col_width(min(max(len(col.name) + 2, 12), 60)),
               _TEXT if col.schema_type == "string" else None) for col in columns]
    return render("xlsx/sheet_head.xml.j2", dimension=f"A1:{last}{rows + 1}", frozen=True,
                  first=first, columns=widths).encode()


def _header_row(columns: Sequence[Column]) -> bytes:
    return render("xlsx/header_row.xml.j2", cells=[
        _text_cell(f"{xl_col_to_name(c)}1", _HEADER, col.name)
        for c, col in enumerate(columns)]).encode()


def _about_sheet(lines: list[tuple[str, str, str]]) -> str:
    intro = lines.index(("column", "type", "description"))
    rows = [[_text_cell(f"{xl_col_to_name(c)}{r + 1}", _HEADER if r in (0, intro) else _WRAP,
                        neutralise(text)) for c, text in enumerate(line)]
            for r, line in enumerate(lines)]
    return render("xlsx/about.xml.j2", dimension=f"A1:C{len(lines)}", frozen=False,
                  columns=[(_col_width(w), None) for w in (28, 18, 90)], rows=rows)


_SHEET_TAIL = render("xlsx/sheet_tail.xml.j2").encode()


# ------------------------------------------------------------------ cell XML
#
# Text is written as xlsxwriter writes an inline string: cut to 32 767 UTF-16 units, `_xHHHH_`
# for control characters (and `_x005F` before text that reads like one), `xml:space=
# "preserve"` for leading or trailing white space (Python's `\s`, after that escaping), and
# `&`, `<`, `>` as entities. The Python functions serve the header and `about` cells; the SQL
# ones every data cell, by the same rules. One difference: xlsxwriter writes text shaped like
# its rich-string markup (`<r>…</r>`) unescaped, and a reader finds it empty; here it is text.

_XLS_STRMAX = 32_767
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_LOOKS_ESCAPED = re.compile(r"(_x[0-9a-fA-F]{4}_)")
# Python's `\s` less the characters escaped before the test.
_SPACE = (" \t\n\x85\xa0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B))
          + "\u2028\u2029\u202f\u205f\u3000")


def _escape_control(text: str) -> str:
    text = _LOOKS_ESCAPED.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)
    return text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")


def _text_cell(ref: str, style: int, text: str) -> tuple[str, int, str, bool]:
    """(reference, format, text, keeps spaces) of a header or `about` cell, for the
    `text_cell` macro of `templates/xlsx/cells.xml.j2` (which escapes `&<>`)."""
    text = _escape_control(text[:_XLS_STRMAX] if len(text) > _XLS_STRMAX // 2 else text)
    return (ref, style, text, bool(text) and (text[0] in _SPACE or text[-1] in _SPACE))


def _re2_class(chars: str) -> str:
    return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in chars) + "]"


# Control characters, and text that reads like their escapes, are rare: a row is escaped
# only when its XML has some (the markup itself has none).
_SQL_NEEDS_CONTROL = sql_str(r"[\x00-\x08\x0b-\x1f\x{fffe}\x{ffff}]|_x[0-9a-fA-F]{4}_")
_SQL_SPACE = "(" + ", ".join(str(ord(c)) for c in _SPACE) + ")"


def _sql_escape_control(expr: str) -> str:
    out = f"regexp_replace({expr}, {sql_str('(_x[0-9a-fA-F]{4}_)')}, '_x005F\\1', 'g')"
    for code in [*range(0x00, 0x09), *range(0x0B, 0x20), 0xFFFE, 0xFFFF]:
        out = f"replace({out}, chr({code}), '_x{code:04X}_')"
    return out


def _sql_truncate(expr: str) -> str:
    # Code points above U+FFFF count twice; a text that has them is cut a little short.
    # Its length in bytes bounds its length in characters, and costs nothing.
    astral = (f"length(regexp_replace(left({expr}, {_XLS_STRMAX}), "
              f"'[^\\x{{10000}}-\\x{{10ffff}}]', '', 'g'))")
    return (f"CASE WHEN strlen({expr}) <= {_XLS_STRMAX // 2} THEN {expr} "
            f"WHEN length({expr}) <= {_XLS_STRMAX // 2} THEN {expr} "
            f"ELSE left({expr}, {_XLS_STRMAX} - {astral}) END")


def _sql_text_cell(ref: str, text: str) -> str:
    space = (f"CASE WHEN unicode({text}) IN {_SQL_SPACE} "
             f"OR unicode(right({text}, 1)) IN {_SQL_SPACE} "
             "THEN ' xml:space=\"preserve\"' ELSE '' END")
    escaped = f"replace(replace(replace({text}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')"
    return (f"{ref} s=\"{_TEXT}\" t=\"inlineStr\"><is><t' || {space} || '>' || "
            f"{escaped} || '</t></is></c>'")


def _rows_sql(table: Table, styles: _Styles, rows_per_sheet: int) -> str:
    """One VARCHAR per row: the row's `<row>` element, its NULL cells left out."""
    values: list[str] = []
    cells: list[str] = []
    escaped_cells: list[str] = []
    for c, column in enumerate(table.columns):
        col = quote_ident(column.name)
        ref = f"'<c r=\"{xl_col_to_name(c)}' || _r || '\""
        kind = column.schema_type
        if kind in ("number", "integer"):
            values.append(f"CAST({col} AS DOUBLE) AS _v{c}")
            style = f' s="{styles.number[s]}"' if (s := _decimal_scale(column)) else ""
            number = (f"{ref}{style}><v>' || format('{{:.16G}}', _v{c}) || '</v></c>'")
            # Not-a-number and infinities as the error values xlsxwriter gives them, but
            # without its formula: a release has no formula cells.
            error = (f"{ref}{style} t=\"e\"><v>' || CASE WHEN isnan(_v{c}) THEN '#NUM!' "
                     "ELSE '#DIV/0!' END || '</v></c>'")
            cells.append(f"CASE WHEN isfinite(_v{c}) THEN {number} "
                         f"WHEN _v{c} IS NOT NULL THEN {error} END"
                         if column.duckdb_type.upper() in ("DOUBLE", "FLOAT", "REAL")
                         else number)
        elif kind == "boolean":
            values.append(f"{col} AS _v{c}")
            text = f"{ref} s=\"{_TEXT}\" t=\"inlineStr\"><is><t>"
            cells.append(f"CASE WHEN _v{c} THEN {text}true</t></is></c>' "
                         f"WHEN NOT _v{c} THEN {text}false</t></is></c>' END")
        elif kind == "date":
            values.append(f"{col} AS _v{c}")
            days = f"(_v{c} - DATE '1899-12-31')"
            # Spreadsheets count days from 1900 (and count a 29 February 1900): earlier
            # dates are ISO text.
            cells.append(
                f"CASE WHEN year(_v{c}) < 1900 THEN {ref} s=\"{_TEXT}\" t=\"inlineStr\"><is>"
                f"<t>' || strftime(_v{c}, '%Y-%m-%d') || '</t></is></c>' "
                f"ELSE {ref} s=\"{_DATE}\"><v>' || ({days} + CAST({days} > 59 AS INTEGER)) "
                "|| '</v></c>' END")
        else:
            values.append(f"{_sql_truncate(_text_sql(col, column))} AS _v{c}")
            cells.append(_sql_text_cell(ref, f"_v{c}"))
            escaped_cells.append(_sql_text_cell(ref, _sql_escape_control(f"_v{c}")))
            continue
        escaped_cells.append(cells[-1])
    row_in_sheet = f"CAST((row_number() OVER () - 1) % {rows_per_sheet} + 2 AS VARCHAR)"
    plain = f"concat({', '.join(cells)})" if cells else "''"
    escaped = f"concat({', '.join(escaped_cells)})" if cells else "''"
    row = (f"CASE WHEN regexp_matches(_c, {_SQL_NEEDS_CONTROL}) THEN {escaped} ELSE _c END")
    return (f"SELECT CASE WHEN _c = '' THEN '' ELSE '<row r=\"' || _r || '\">' || {row} || "
            f"'</row>' END FROM (SELECT *, {plain} AS _c FROM (SELECT {row_in_sheet} AS _r, "
            f"{', '.join(values) or '1'} FROM ({export_select(table.relation, table.columns)})))")


def _text_sql(col: str, column: Column) -> str:
    """A text cell's value: `export_select` has already neutralised VARCHAR and list
    columns; timestamps (ISO text) and times are neutralised here, as `neutralise` did."""
    if table_schema_type(column.duckdb_type) == "string":
        return col
    if column.duckdb_type.upper() == "TIME":
        # As Python prints a time: microseconds only when there are some.
        day = f"(DATE '2000-01-01' + {col})"
        return (f"CASE WHEN microsecond({col}) % 1000000 = 0 THEN strftime({day}, '%H:%M:%S') "
                f"ELSE strftime({day}, '%H:%M:%S.%f') END")
    return neutralise_sql(f"CAST({col} AS VARCHAR)")


def _about_lines(table: Table, names: list[str], rows_per_sheet: int
                 ) -> list[tuple[str, str, str]]:
    """The `about` sheet: the table, its sheets and rows, then one line per column."""
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
    if table.illustrative:
        # The first thing the sheet says: its rows are invented.
        intro.insert(0, ("ILLUSTRATIVE", "", f"{WARNING_RU} {WARNING_EN}"))
    return [*intro, ("column", "type", "description"),
            *[(c.name, c.duckdb_type, c.description) for c in table.columns]]


# ------------------------------------------------------------------ worker processes


def export_workers() -> int:
    """How many processes write a release (the `socfund` process and its XLSX workers) and
    the site's organisation pages at once: `SOCFUND_EXPORT_WORKERS`, else the cores (at
    most 4)."""
    value = os.environ.get(EXPORT_WORKERS_ENV, "").strip()
    if not value:
        return max(1, min(os.cpu_count() or 1, 4))
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{EXPORT_WORKERS_ENV}={value!r}: expected a positive whole number")
    return int(value)


def _xlsx_file(snapshot: str, table: Table, path: str) -> list[str]:
    """One table's XLSX from the release's snapshot, in a process of its own."""
    con = connect(limit=export_memory_limit())
    try:
        con.execute("ATTACH ? AS wh (READ_ONLY)", [snapshot])
        return write_xlsx(con, table, Path(path))
    finally:
        con.close()


class XlsxWriters:
    """The XLSX files of a release, written beside everything else.

    The largest files take some seconds each (the cells' XML is made by DuckDB, but joined
    and compressed in Python), so they are written by `workers` processes of
    their own, largest table first, while this process writes the CSV, Parquet and
    360Giving files. Each worker reads the release's read-only snapshot: DuckDB lets many
    readers open one file. No worker: they are written here, in order, when asked for.
    """

    def __init__(self, snapshot: Path, folder: Path, tables: Sequence[Table], workers: int):
        self.tables = list(tables)
        self.jobs = [(str(snapshot), t, str(folder / "xlsx" / f"{t.name}.xlsx"))
                     for t in self.tables]
        self.pool: ProcessPoolExecutor | None = None
        self.futures: dict[str, Future] = {}
        if workers >= 1 and self.tables:
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
