"""XLSX files of a release: text typed as text, no formula cells, written in worker
processes beside the rest of the release."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import re
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import duckdb

from pipelines.duckdb_config import connect
from pipelines.illustrative import WARNING_EN, WARNING_RU
from pipelines.publish.tables import (
    Column,
    ReleaseFile,
    Table,
    export_select,
    fetch_rows,
    neutralise,
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
        result = con.execute(export_select(table.relation, table.columns))
        rows = fetch_rows(result)  # streamed: a sheet's rows are never all held at once
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
    if table.illustrative:
        # The first thing the sheet says: its rows are invented.
        intro.insert(0, ("ILLUSTRATIVE", "", f"{WARNING_RU} {WARNING_EN}"))
    lines = [*intro, ("column", "type", "description"),
             *[(c.name, c.duckdb_type, c.description) for c in table.columns]]
    for r, line in enumerate(lines):
        style = fmt["header"] if r in (0, len(intro)) else fmt["wrap"]
        for c, text in enumerate(line):
            sheet.write_string(r, c, neutralise(text), style)


# ------------------------------------------------------------------ worker processes


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


class XlsxWriters:
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
