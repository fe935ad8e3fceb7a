"""The XLSX writer: each row's XML made by DuckDB, held to the cells xlsxwriter writes.

`_write_xlsx_cell_by_cell` (at the end) is the xlsxwriter path the release used to take;
every file is read back with openpyxl and compared cell by cell (value, type, number
format) with it.
"""

from __future__ import annotations

import itertools
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest

from pipelines.duckdb_config import connect
from pipelines.publish import xlsx
from pipelines.publish.dbt_docs import read_dbt_docs
from pipelines.publish.tables import (
    Column,
    Table,
    describe_public_tables,
    export_select,
    fetch_rows,
    neutralise,
)
from pipelines.publish.xlsx import write_xlsx
from tests.test_exports import manifest_path

# Text a spreadsheet or an XML reader could get wrong, one row each.
EDGE_TEXTS = [
    "0105012349",  # leading zero: stays text
    '=HYPERLINK("http://example.invalid/","x")', "+7 495", "-2+3", "@SUM(A1:A2)",
    "\t=1+1", "\r=1+1",
    "a\x00b\x01c\x08d\x0be\x0cf\x1fg", "line\nbreak\ttab", "_x0041_ reads like an escape",
    "\ufffe\uffff", "<r>rich?</r>", "A & B <c> \"q\" 'a'", " leading", "trailing ",
    "\xa0nbsp\xa0", "\u3000ideographic", "trailing escape \x1f", "", "ИНН 7707083893",
    "emoji \U0001F600", "x" * 40_000, "я" * 20_000 + "\U0001F600" * 10,
]


def _cells(path: Path) -> list[tuple]:
    """Every sheet of a workbook as openpyxl reads it: name, frozen panes and each cell."""
    book = openpyxl.load_workbook(path)
    out = []
    for sheet in book:
        out.append((sheet.title, sheet.freeze_panes, sheet.max_row, sheet.max_column))
        out += [(sheet.title, cell.coordinate, cell.value, cell.data_type, cell.number_format)
                for row in sheet.iter_rows() for cell in row]
    book.close()
    return out


def _both(con: duckdb.DuckDBPyConnection, table: Table, folder: Path,
          rows_per_sheet: int | None = None) -> tuple[list[str], list[tuple], list[tuple]]:
    options = {} if rows_per_sheet is None else {"rows_per_sheet": rows_per_sheet}
    old_names = _write_xlsx_cell_by_cell(con, table, folder / "old.xlsx", **options)
    names = write_xlsx(con, table, folder / "new.xlsx", **options)
    assert names == old_names
    return names, _cells(folder / "old.xlsx"), _cells(folder / "new.xlsx")


@pytest.fixture(scope="module")
def fixture_tables(fixture_build) -> tuple[duckdb.DuckDBPyConnection, list[Table]]:
    con = connect()
    con.execute("ATTACH ? AS wh (READ_ONLY)", [str(fixture_build / "socfund.duckdb")])
    yield con, describe_public_tables(con, read_dbt_docs(manifest_path()))
    con.close()


def test_every_public_table_has_the_cells_xlsxwriter_wrote(fixture_tables, tmp_path):
    con, tables = fixture_tables
    assert len(tables) > 5
    for table in tables:
        names, old, new = _both(con, table, tmp_path)
        assert new == old, table.name
        header = [c[2] for c in new if c[0] == names[0] and c[1].endswith("1")
                  and c[1][:-1].isalpha()]
        assert header == [c.name for c in table.columns]
        assert [c[0] for c in new if len(c) == 4] == [*names, "about"]


def test_rows_past_the_sheet_limit_continue_on_numbered_sheets(fixture_tables, tmp_path):
    con, tables = fixture_tables
    table = max(tables, key=lambda t: t.rows)
    per_sheet = -(-table.rows // 3) + 1
    names, old, new = _both(con, table, tmp_path, rows_per_sheet=per_sheet)
    assert names == [table.name[:25], f"{table.name[:25]} (2)", f"{table.name[:25]} (3)"]
    assert new == old
    book = openpyxl.load_workbook(tmp_path / "new.xlsx", read_only=True)
    counts = [len(list(book[n].iter_rows())) - 1 for n in names]
    book.close()
    assert counts[:2] == [per_sheet, per_sheet] and sum(counts) == table.rows


@pytest.fixture(scope="module")
def edge(tmp_path_factory) -> tuple[duckdb.DuckDBPyConnection, Table]:
    """A table of every column kind with the awkward values each can hold, NULLs included."""
    db = tmp_path_factory.mktemp("edge") / "edge.duckdb"
    con = duckdb.connect(str(db))
    con.execute(
        "CREATE TABLE main.edge (id INTEGER, text VARCHAR, list VARCHAR[], flag BOOLEAN, "
        "big BIGINT, amount DECIMAL(18,2), share DECIMAL(5,3), ratio DOUBLE, day DATE, "
        "stamp TIMESTAMP, stamp_tz TIMESTAMPTZ, clock TIME, code UUID)")
    values = [
        [0, None, None, None, None, None, None, None, None, None, None, None, None],
        [1, "plain", ["a", "=b"], True, 12_345_678_901_234_567, "-1.50", "0.125", 0.1 + 0.2,
         "1899-12-31", "2024-01-02 03:04:05.678", "2024-01-02 03:04:05+03", "01:02:03.5",
         "6f1c6e3e-0a0b-4c5d-8e9f-000000000001"],
        [2, None, ["-x"], False, -7, "0", "-0.001", 1e-5, "1900-01-01", "0990-06-01 00:00:00",
         None, "23:59:59", None],
        [3, None, [], None, 0, "9999999999999999.99", None, 1e20, "1900-02-28", None, None,
         "00:00:00", None],
        [4, None, None, True, None, None, None, -0.0, "1900-03-01", None, None, None, None],
        [5, None, None, None, None, None, None, 123456.789, "2024-02-29", None, None, None,
         None],
    ]
    values += [[6 + i, text] + [None] * 11 for i, text in enumerate(EDGE_TEXTS)]
    con.executemany("INSERT INTO main.edge VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    values)
    con.close()
    reader = connect()
    reader.execute("ATTACH ? AS wh (READ_ONLY)", [str(db)])
    columns = tuple(Column(name=n, duckdb_type=t) for n, t in reader.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = 'wh' "
        "ORDER BY column_index").fetchall())
    (rows,) = reader.execute("SELECT count(*) FROM wh.main.edge").fetchone()
    yield reader, Table(name="edge", relation="wh.main.edge", description="Awkward values & "
                        "<markup>", columns=columns, rows=rows)
    reader.close()


def test_awkward_values_are_written_as_xlsxwriter_wrote_them(edge, tmp_path):
    con, table = edge
    _, old, new = _both(con, table, tmp_path)
    rich = f"B{8 + EDGE_TEXTS.index('<r>rich?</r>')}"
    # xlsxwriter writes text shaped like its rich-string markup unescaped (openpyxl reads
    # it empty): the one cell where the files differ, and the new one keeps the text.
    assert [(o, n) for o, n in zip(old, new, strict=True) if o != n] == [
        (("edge", rich, "", "s", "@"), ("edge", rich, "<r>rich?</r>", "s", "@"))]
    cells = {c[1]: c[2:] for c in new if c[0] == "edge" and len(c) == 5}
    assert cells["B8"] == ("0105012349", "s", "@")  # leading zeros, typed text
    assert cells[f"B{8 + EDGE_TEXTS.index(EDGE_TEXTS[1])}"][0].startswith("'=HYPERLINK")
    assert cells[f"B{8 + EDGE_TEXTS.index(chr(13) + '=1+1')}"][0] == "'_x000D_=1+1"
    assert cells["B2"] == (None, "n", "General")  # a NULL is no cell
    assert cells["D3"] == ("true", "s", "@") and cells["D4"] == ("false", "s", "@")
    assert cells["I3"] == ("1899-12-31", "s", "@")  # before the spreadsheet epoch: text
    assert cells["I6"][0].isoformat() == "1900-03-01T00:00:00"
    assert cells["F3"] == (-1.5, "n", "0.00") and cells["G3"][2] == "0.000"
    assert cells["E3"][0] == 12_345_678_901_234_570  # 16 digits, as xlsxwriter keeps them
    assert cells["H3"][0] == 0.3
    assert len(cells[f"B{8 + EDGE_TEXTS.index('x' * 40_000)}"][0]) == 32_767


def test_control_characters_and_spaces_are_escaped_and_kept(edge, tmp_path):
    con, table = edge
    write_xlsx(con, table, tmp_path / "e.xlsx")
    with zipfile.ZipFile(tmp_path / "e.xlsx") as book:
        xml = book.read("xl/worksheets/sheet1.xml").decode()
        assert book.testzip() is None
    assert "<t>a_x0000_b_x0001_c_x0008_d_x000B_e_x000C_f_x001F_g</t>" in xml
    assert "<t>_x005F_x0041_ reads like an escape</t>" in xml
    assert "<t>_xFFFE__xFFFF_</t>" in xml
    assert "<t>&lt;r&gt;rich?&lt;/r&gt;</t>" in xml
    assert "<t>A &amp; B &lt;c&gt; \"q\" 'a'</t>" in xml
    assert '<t xml:space="preserve"> leading</t>' in xml
    assert '<t xml:space="preserve">\xa0nbsp\xa0</t>' in xml
    assert "<t>trailing escape _x001F_</t>" in xml
    assert "<f>" not in xml


def test_not_a_number_and_infinities_are_error_values_not_formulas(tmp_path):
    con = connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES ('nan'::DOUBLE), ('inf'::DOUBLE), "
                "('-inf'::DOUBLE), (1.5::DOUBLE)) v(x)")
    table = Table(name="t", relation="t", description="", rows=4,
                  columns=(Column(name="x", duckdb_type="DOUBLE"),))
    write_xlsx(con, table, tmp_path / "n.xlsx")
    con.close()
    with zipfile.ZipFile(tmp_path / "n.xlsx") as book:
        assert "<f>" not in book.read("xl/worksheets/sheet1.xml").decode()
    sheet = openpyxl.load_workbook(tmp_path / "n.xlsx")["t"]
    assert [(c.value, c.data_type) for (c,) in sheet.iter_rows(min_row=2)] == [
        ("#NUM!", "e"), ("#DIV/0!", "e"), ("#DIV/0!", "e"), (1.5, "n")]


def test_an_empty_table_has_its_header_and_about(edge, tmp_path):
    con, table = edge
    empty = Table(name="edge", relation="(SELECT * FROM wh.main.edge WHERE false)",
                  description="", columns=table.columns, rows=0)
    names, old, new = _both(con, empty, tmp_path)
    assert names == ["edge"] and new == old


# --- the reference: the release's XLSX as xlsxwriter wrote it before, cell by cell ---------


def _write_xlsx_cell_by_cell(con: duckdb.DuckDBPyConnection, table: Table, path: Path, *,
               rows_per_sheet: int = xlsx.XLSX_MAX_ROWS - 1) -> list[str]:
    """`write_xlsx` as xlsxwriter writes it, cell by cell in Python: the reference the
    tests hold `write_xlsx` to."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    sheets = max(1, -(-table.rows // rows_per_sheet))
    names = xlsx._sheet_names(table.name, sheets)
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
    lines = xlsx._about_lines(table, names, rows_per_sheet)
    intro = lines.index(("column", "type", "description"))
    for r, line in enumerate(lines):
        style = fmt["header"] if r in (0, intro) else fmt["wrap"]
        for c, text in enumerate(line):
            sheet.write_string(r, c, neutralise(text), style)
