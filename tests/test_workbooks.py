"""Reading spreadsheets (scrapers.workbooks): what comes back is what python-calamine reads,
cell for cell and type for type, whichever way the workbook was read (an XLSX by calamine
to Arrow with its texts marked, or by python-calamine; an XLS in a capped child answering
in Arrow IPC). The bombs are in test_faults."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from datetime import date, datetime, time

import pyarrow as pa
import pytest
from python_calamine import CalamineWorkbook

from scrapers import workbooks
from scrapers.workbooks import _READER, MAX_CELLS, _read_in_child, read_sheets
from tests.conftest import REAL
from tests.test_treasury import _book  # a workbook of named sheets, by openpyxl


def _calamine(body: bytes) -> list[tuple[str, list[list[object]], list]]:
    """The independent view: calamine in this process, as the parsers used it before."""
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(body))
    out = []
    for name in workbook.sheet_names:
        sheet = workbook.get_sheet_by_name(name)
        out.append((name, sheet.to_python(skip_empty_area=False),
                    list(sheet.merged_cell_ranges or [])))
    return out


def _typed(rows: list[list[object]]) -> list[list[tuple[type, object]]]:
    return [[(type(cell), cell) for cell in row] for row in rows]


def test_values_equal_across_types_keep_their_own_type():
    # True == 1 == 1.0 in Python: the child's per-column encoding must not merge them.
    rows = [["флаг", "число"], [True, 1], [1, True], [1.0, 0], [False, False], [0, "0"],
            [None, "1"], ["", 1.5], [date(2020, 1, 1), datetime(2020, 1, 1, 12, 30)]]
    body = _book(("Лист1", rows))
    (sheet,) = read_sheets(body, "test.xlsx")
    ((_, expected, _),) = _calamine(body)
    assert _typed(sheet.rows) == _typed(expected)
    assert any(t is bool for row in _typed(sheet.rows) for t, _ in row)


def test_sheets_columns_and_head_agree_with_the_rows():
    body = _book(("Первый", [["a", "b", "c"], [1, None, "x"], ["a", 2.5, "x"]]),
                 ("Пустой", []), ("Третий", [[None, "только второй столбец"]]))
    sheets = read_sheets(body, "test.xlsx")
    expected = _calamine(body)
    assert [s.name for s in sheets] == [name for name, _, _ in expected]
    for sheet, (_, rows, _) in zip(sheets, expected, strict=True):
        assert _typed(sheet.rows) == _typed(rows)
        assert sheet.height == len(rows)
        assert _typed(sheet.head(2)) == _typed(rows[:2])
        for j in range(sheet.width):
            distinct, codes = sheet.column_codes(j)
            assert len(codes) == sheet.height
            assert len(set(map(repr, distinct))) == len(distinct)
            assert sheet.column(j) == [row[j] for row in rows]
    assert sheets[1].rows == [] and sheets[1].width == 0


@pytest.mark.parametrize("name", ["sonko_registry_smolensk_2012.xls",
                                  "sonko_registry_smolensk_2015.xls"])
def test_a_real_xls_with_merged_cells_reads_as_calamine_reads_it(name):
    body = (REAL / name).read_bytes()
    sheets = read_sheets(body, name)
    expected = _calamine(body)
    assert len(sheets) == len(expected)
    for sheet, (sheet_name, rows, merged) in zip(sheets, expected, strict=True):
        assert sheet.name == sheet_name
        assert _typed(sheet.rows) == _typed(rows)
        assert sheet.merged == merged
    assert any(s.merged for s in sheets)


def test_an_unreadable_sheet_is_named_when_its_cells_are_asked_for():
    body = _book(("Первый", [[1, 2]]), ("Второй", [[3]]))
    # The second sheet points into a shared-strings table that does not exist.
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(body)) as src, zipfile.ZipFile(broken, "w") as dst:
        for member in src.infolist():
            data = src.read(member.filename)
            if member.filename == "xl/worksheets/sheet2.xml":
                data = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                        b'2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>99</v></c>'
                        b"</row></sheetData></worksheet>")
            dst.writestr(member, data)
    first, second = read_sheets(broken.getvalue(), "https://example.test/two.xlsx")
    assert first.rows == [[1.0, 2.0]]
    with pytest.raises(ValueError, match=r"^https://example\.test/two\.xlsx: sheet 'Второй' "
                                         r"is not readable: .*shared strings"):
        second.rows  # noqa: B018 - the property read is the test


def test_bytes_that_are_not_a_workbook_are_refused_naming_the_file():
    with pytest.raises(ValueError, match=r"^https://example\.test/page\.xlsx: not a readable "
                                         r"XLSX file"):
        read_sheets(b"<html>404</html>", "https://example.test/page.xlsx", "XLSX")


def _only_marked(monkeypatch) -> None:
    """Fail the test if the workbook is handed to python-calamine instead."""
    def refused(*args, **kwargs):
        raise AssertionError("read by python-calamine, not by the marked reader")
    monkeypatch.setattr(workbooks, "_read_calamine", refused)


def test_texts_numbers_and_dates_read_once_as_text_come_back_as_calamine_gives_them(
        monkeypatch):
    # Texts that look like numbers, dates or the mark itself; numbers whole and not; dates;
    # an empty text; the first column empty (calamine starts at B).
    rows = [[None, "заголовок", "1234", 1234, 1234.5],
            [None, "2020-01-02 00:00:00", date(2020, 1, 2), date(1999, 12, 31), 0.25],
            [None, "\ue000начало", "", "1899-12-31 12:30:00", -0.0],
            [None, "true", "  пробелы  ", 12345678901234.0, "NA"],
            [None, None, None, None, 123456.123456],
            # Numbers with more digits than calamine's text form keeps, put back as written;
            # a moment and a time of day (day fractions of many digits).
            [None, 1 / 3, 1e-06, datetime(2020, 1, 2, 3, 4, 5), time(12, 30)]]
    body = _book(("Лист1", rows))
    _only_marked(monkeypatch)
    (sheet,) = read_sheets(body, "test.xlsx")
    ((_, expected, merged),) = _calamine(body)
    assert _typed(sheet.rows) == _typed(expected)
    assert sheet.merged == merged


def test_a_workbook_the_marking_does_not_cover_is_read_by_python_calamine(monkeypatch):
    # A boolean; an error value.
    for cell in (True, "#N/A"):
        body = _book(("Лист1", [["значение", cell]]))
        with monkeypatch.context() as m:
            _only_marked(m)
            with pytest.raises(AssertionError, match="python-calamine"):
                read_sheets(body, "test.xlsx")
        (sheet,) = read_sheets(body, "test.xlsx")
        assert _typed(sheet.rows) == _typed(_calamine(body)[0][1])


def test_merged_ranges_of_an_xlsx_are_calamines(monkeypatch):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet["A1"], sheet["B2"] = "x", "объединено"
    sheet.merge_cells("B2:C3")
    sheet.merge_cells("A5:A9")
    out = io.BytesIO()
    book.save(out)
    _only_marked(monkeypatch)
    (read,) = read_sheets(out.getvalue(), "test.xlsx")
    ((_, rows, merged),) = _calamine(out.getvalue())
    assert read.merged == merged == [((4, 0), (8, 0)), ((1, 1), (2, 2))]
    assert _typed(read.rows) == _typed(rows)


def test_the_childs_answer_is_arrow_data_and_keeps_every_type_apart():
    # The child reads an XLSX as well as an XLS: True, 1 and 1.0 in one column stay apart.
    rows = [["флаг", 1.5], [True, 1], [1, True], [1.0, date(2020, 1, 2)],
            [datetime(2020, 1, 1, 12, 30), time(1, 2, 3)]]
    body = _book(("Лист1", rows))
    done = subprocess.run([sys.executable, "-I", "-c", _READER, str(MAX_CELLS)], input=body,
                          capture_output=True, check=True)
    table = pa.ipc.open_stream(done.stdout).read_all()  # an Arrow stream, nothing to unpickle
    assert table.column_names[:2] == ["kind", "sheet"]
    (sheet,) = _read_in_child(body, "test.xlsx", "XLSX")
    ((_, expected, _),) = _calamine(body)
    assert _typed(sheet.rows) == _typed(expected)


def test_a_workbook_whose_styles_part_is_cut_off_is_refused_naming_the_file():
    """A download cut inside `xl/styles.xml` (seen in the damaged-document property test):
    calamine cannot open the workbook at all; that is a reason naming the file, not a
    crash with calamine's own exception type."""
    from scrapers.samples import FIXTURES_DIR

    source = FIXTURES_DIR / "treasury.socfund.invalid/0503317/2015/stavropolskij-kraj.xlsx"
    damaged = io.BytesIO()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(damaged, "w") as out:
        for member in original.infolist():
            data = original.read(member)
            out.writestr(member, data[:20] if member.filename == "xl/styles.xml" else data)
    with pytest.raises(ValueError, match=r"damaged\.xlsx: not a readable XLSX file"):
        read_sheets(damaged.getvalue(), "https://example.invalid/damaged.xlsx", "XLSX")


# --- a large sheet read in parts, side by side --------------------------------------------------

def _custom_sheet(rows_xml: str, tail: str = "") -> bytes:
    """A workbook (styles and all by openpyxl) whose one sheet is the given rows."""
    body = _book(("Лист1", [["x"]]))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(body)) as src, zipfile.ZipFile(out, "w") as dst:
        for member in src.infolist():
            data = src.read(member.filename)
            if member.filename == "xl/worksheets/sheet1.xml":
                data = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                        '2006/main"><dimension ref="A1:F60"/><sheetData>' + rows_xml
                        + "</sheetData>" + tail + "</worksheet>").encode()
            dst.writestr(member, data)
    return out.getvalue()


def _row(r: int, *cells: str) -> str:
    return f'<row r="{r}">' + "".join(cells) + "</row>"


def _text(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _number(ref: str, digits: str) -> str:
    return f'<c r="{ref}"><v>{digits}</v></c>'


def _read_in_parts(monkeypatch, body: bytes, parts: int = 2) -> dict[int, list]:
    """Read `body` cut into up to `parts` parts, at many piece sizes, each read checked
    against python-calamine; {row a part started at: the sheets of a read cut there}.

    (A piece so small that a cell's tag and its value fall in two pieces sends the read to
    python-calamine: only the reads by parts are recorded.)"""
    expected = _calamine(body)
    monkeypatch.setattr(workbooks, "_MIN_PART", 0)
    monkeypatch.setattr(workbooks, "_workers", lambda: parts)
    starts: list[list[int]] = []
    joined = workbooks._joined

    def recording(frames, rows):
        out = joined(frames, rows)
        starts.append(rows)
        return out

    monkeypatch.setattr(workbooks, "_joined", recording)
    cut_at: dict[int, list] = {}
    for chunk in range(64, len(body) * 4, 37):
        monkeypatch.setattr(workbooks, "_CHUNK", chunk)
        starts.clear()
        sheets = read_sheets(body, "test.xlsx")
        assert [(s.name, _typed(s.rows), s.merged) for s in sheets] == [
            (name, _typed(rows), merged) for name, rows, merged in expected]
        assert [s.height for s in sheets] == [len(rows) for _, rows, _ in expected]
        for rows in starts:
            for start in rows[1:]:
                cut_at[start] = sheets
    return cut_at


def test_a_part_may_begin_with_empty_and_styled_rows_and_another_column(monkeypatch):
    # Rows 21 and 22 hold no value (a styled empty cell, an empty row); the second part's
    # values begin further right (calamine starts each part at its own first column).
    rows = [_row(r, _text(f"B{r}", f"строка {r}"), _number(f"C{r}", str(r))) for r in range(1, 21)]
    rows += [_row(21, '<c r="A21" s="0"></c>', '<c r="B21" s="0"/>'), '<row r="22"/>']
    rows += [_row(r, _number(f"D{r}", str(r * 10)), _text(f"F{r}", "далее"))
             for r in range(23, 41)]
    cut_at = _read_in_parts(monkeypatch, _custom_sheet("".join(rows)))
    assert {20, 21} <= set(cut_at)  # a part beginning at row 21, and one at row 22


def test_a_merged_range_crossing_the_cut_and_a_number_put_back_in_the_second_part(
        monkeypatch):
    # A number with more digits than calamine's text form keeps, in the first and last rows.
    rows = [_row(r, _text(f"A{r}", "название"),
                 _number(f"B{r}", "1234.123456789123" if r in (5, 40) else f"{r}.5"))
            for r in range(1, 41)]
    body = _custom_sheet("".join(rows), '<mergeCells count="1"><mergeCell ref="A10:B30"/>'
                                        "</mergeCells>")
    cut_at = _read_in_parts(monkeypatch, body, parts=3)
    assert any(9 < start < 30 for start in cut_at)
    sheets = cut_at[max(cut_at)]
    assert sheets[0].merged == [((9, 0), (29, 1))]
    assert sheets[0].rows[39][1] == 1234.123456789123  # as written, in the last part


def test_rows_out_of_order_across_a_cut_are_read_by_python_calamine(monkeypatch):
    # Row 3 written again after row 30: calamine places it by its number, so the parts
    # cannot simply follow each other; the read falls back and the values stay calamine's.
    rows = [_row(r, _text(f"A{r}", f"т{r}"), _number(f"B{r}", str(r))) for r in range(1, 31)]
    rows.append(_row(3, _text("C3", "позже")))
    body = _custom_sheet("".join(rows))
    monkeypatch.setattr(workbooks, "_MIN_PART", 0)
    monkeypatch.setattr(workbooks, "_workers", lambda: 2)
    fell_back = 0
    read_calamine = workbooks._read_calamine

    def counting(*args):
        nonlocal fell_back
        fell_back += 1
        return read_calamine(*args)

    monkeypatch.setattr(workbooks, "_read_calamine", counting)
    ((_, expected, _),) = _calamine(body)
    for chunk in range(64, len(body) * 2, 41):
        monkeypatch.setattr(workbooks, "_CHUNK", chunk)
        (sheet,) = read_sheets(body, "test.xlsx")
        assert _typed(sheet.rows) == _typed(expected)
    assert fell_back
